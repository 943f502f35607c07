#!/usr/bin/env bash
# Library demo: compiles examples/adj_bal.c to WebAssembly, then runs its
# functions sandboxed through the wudf command: a normal call, captured
# output, a trap, and an infinite loop stopped by the time limit.
set -euo pipefail
build="${1:-build}"
wudf="$build/wudf"
here="$(cd "$(dirname "$0")" && pwd)"
out="$build/examples"
mkdir -p "$out"

exports=()
for f in calculate_adj_bal greet divide spin; do exports+=("-Wl,--export=$f"); done
clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
  "${exports[@]}" -o "$out/adj_bal.wasm" "$here/adj_bal.c"

run() {
  echo "\$ wudf $*"
  "$wudf" "$@" || echo "(exit status $?)"
  echo
}
run call "$out/adj_bal.wasm" calculate_adj_bal 12507 0.46
run call "$out/adj_bal.wasm" greet 21
run call "$out/adj_bal.wasm" divide 7 0
run call --timeout-ms 200 "$out/adj_bal.wasm" spin 1
