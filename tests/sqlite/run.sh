#!/bin/sh
# Tests of the SQLite extension: the C test program, then the sqlite3
# shell (.load) on tests/sqlite/shell.sql against shell.expected.
#     tests/sqlite/run.sh BUILD_DIR
set -eu
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
ext=$(cd "$build/ext/sqlite" && pwd)/wudf.so
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wudf-sqlite.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# Compiled modules are cached across runs, apart from the user's cache.
export WUDF_CACHE_DIR="${WUDF_SQLITE_TEST_CACHE:-$(cd "$build" && pwd)/tests/sqlite/cache}"
mkdir -p "$WUDF_CACHE_DIR" && chmod 700 "$WUDF_CACHE_DIR"

status=0
echo "== test_sqlite"
"$build/tests/sqlite/test_sqlite" "$ext" "$here/udfs" "$tmp" ${TEST_FILTER:-} || status=1

echo "== sqlite3 shell"
if ! command -v sqlite3 >/dev/null 2>&1; then
  echo "sqlite3 not found (scripts/install-deps.sh installs it)"
  exit 1
fi
cd "$here"
# An extension built with sanitizers (make asan) cannot be loaded into the
# shell, which is not built with them (and preloading their runtime would
# reach the tools wudf runs, under their memory limits): the C tests above
# cover it.
if ldd "$ext" 2>/dev/null | grep -q libasan; then
  echo "skip shell (extension built with sanitizers)"
  exit $status
fi
shell() {
  # Line-buffered stdout so that results and errors interleave in order.
  stdbuf -oL -eL sqlite3 -batch "$tmp/shell.db" \
    -cmd ".load ${ext%.so}" <"$1" >>"$tmp/shell.out" 2>&1 || true
}
: >"$tmp/shell.out"
shell shell.sql
shell shell_reopen.sql
if diff -u shell.expected "$tmp/shell.out"; then
  echo "ok   shell"
  echo "1 passed, 0 failed"
else
  echo "FAIL shell (diff above: expected, then got)"
  echo "0 passed, 1 failed"
  status=1
fi
exit $status
