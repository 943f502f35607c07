#!/usr/bin/env bash
# The main job: the seed report's example. Its MAP function,
# examples/accounts/calculate_adj_bal.c, is compiled to WebAssembly and run
# sandboxed over examples/accounts/accounts.csv by `wudf run`, which prints
# the table (the first rows are those of the seed report's screenshot).
# Then a FILTER, a string MAP, and what a bad function gets: a clear error
# naming the CSV line, and the host goes on.
#
#   examples/demo.sh [BUILD_DIR]      (make demo runs it after make all)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-build}" && pwd)"
wudf="$build/wudf"
cd "$root"
# The guest header for sources that include it, wherever the build is.
export WUDF_INCLUDE_DIR="$root/include"

acc=examples/accounts
data=$acc/accounts.csv

run() {
  echo "\$ wudf $*"
  "$wudf" "$@" 2>&1 || echo "(exit status $?)"
  echo
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Sources are compiled inside a bubblewrap sandbox. Where bubblewrap cannot
# create one (some containers), compile this demo's own, trusted sources
# without it, and say so.
if ! "$wudf" compile -o "$tmp/check.wasm" "$acc/calculate_adj_bal.c" \
  >/dev/null 2>"$tmp/compile.log"; then
  if grep -q WUDF_UNSANDBOXED_COMPILE "$tmp/compile.log"; then
    echo "(bubblewrap cannot create a sandbox here: the demo's own sources"
    echo " are compiled without it; see docs/compile.md)"
    echo
    export WUDF_UNSANDBOXED_COMPILE=1
  else
    cat "$tmp/compile.log" >&2
    exit 1
  fi
fi

echo "== The seed's example: MAP calculate_adj_bal over $data"
echo
cat "$acc/calculate_adj_bal.c"
echo
run schema "$data"
run run --data "$data" --udf "$acc/calculate_adj_bal.c" \
  --function calculate_adj_bal --columns balance,rate --map float \
  --format table --limit 12

echo "== FILTER: the accounts with a balance over 50,000"
echo
run run --data "$data" --udf "examples/udfs/is_rich.c" --function is_rich \
  --columns balance --filter --format table --limit 5

echo "== MAP over strings: the e-mail domain"
echo
run run --data "$data" --udf "examples/udfs/email_domain.c" --function email_domain \
  --columns email --map string --name domain --format table --limit 5

echo "== A function that traps, and a column of the wrong type"
echo
out="${build#"$root"/}/inverse.csv"
rm -f "$out"
cat "$acc/inverse.c"
echo
run run --data "$data" --udf "$acc/inverse.c" --function inverse \
  --columns balance --map int --output "$out"
[ -e "$out" ] || echo "(no $out was written)"
echo
run run --data "$data" --udf "$acc/calculate_adj_bal.c" \
  --function calculate_adj_bal --columns email,rate --map float
