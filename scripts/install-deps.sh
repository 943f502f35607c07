#!/bin/sh
# Installs the Debian (bookworm) packages wudf needs to build and test.
# Idempotent: when every package is already installed it does nothing and
# touches no network. Runs apt-get as root, through sudo when not root, and
# otherwise prints the command to run. PostgreSQL 15 and its server headers
# are for ext/postgres (make postgres-test, make bench-postgres).
set -eu

PACKAGES="build-essential wabt clang-19 lld-19 wasi-libc
  libclang-rt-19-dev-wasm32 libc++-19-dev-wasm32 libc++abi-19-dev-wasm32
  libclang-rt-19-dev bubblewrap binaryen libjansson-dev clang-format python3
  libsqlite3-dev sqlite3 postgresql-15 postgresql-server-dev-15
  python3-venv python3-dev"

missing=""
for pkg in $PACKAGES; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing="$missing $pkg"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages already installed"
  exit 0
fi

echo "install-deps: missing:$missing"
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "install-deps: not root and no sudo; as root, run:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# $as_root and $missing are deliberately unquoted: empty / word lists.
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "install-deps: done"
