#!/bin/sh
# `make bench`: installs what the comparison needs (bench/install.sh),
# builds its programs and modules into BUILD/bench/, then runs
# bench/compare.py, which prints the tables and writes them into
# docs/performance.md. Expects `make all` and the example modules
# (BUILD/examples/udfs/*.wasm) to be built.
#
#   bench/run.sh BUILD [compare.py options...]
#
# e.g. a quick run: bench/run.sh build --sizes 100000 --runs 2 --no-doc
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:?usage: bench/run.sh BUILD [compare.py options]}
shift

./bench/install.sh

out="$BUILD/bench"
mkdir -p "$out/wasm"
# The modules wudf, V8 and the native side share.
for m in calculate_adj_bal email_domain is_rich; do
  cp "$BUILD/examples/udfs/$m.wasm" "$out/wasm/$m.wasm"
done
WASM_CC="clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor -Iinclude"
$WASM_CC -o "$out/wasm/add_two.wasm" bench/udfs/add_two.c
$WASM_CC -o "$out/wasm/v8_loops.wasm" bench/v8_loops.c

# The native side: the same C sources compiled by gcc into the harness, at
# -O2 (the baseline) and at -O3 (for reference: wudf's generated code is
# compiled at -O3).
CC_BENCH="${CC:-cc} -std=c11 -D_GNU_SOURCE -Iinclude -Isrc"
$CC_BENCH -O2 -DNATIVE_SET=native_o2 -c -o "$out/native_o2.o" \
  bench/compare_native.c
$CC_BENCH -O3 -DNATIVE_SET=native_o3 -c -o "$out/native_o3.o" \
  bench/compare_native.c
$CC_BENCH -O2 -o "$out/compare_mem" bench/compare_mem.c "$out/native_o2.o" \
  "$out/native_o3.o" "$BUILD/libwudf.a" -lm -lpthread -ldl -lrt

exec /usr/bin/python3 bench/compare.py --build "$BUILD" "$@"
