#!/usr/bin/env bash
# Builds every fuzz target (fuzz/fuzz_NAME.c) with clang-19's libFuzzer,
# ASan and UBSan, and runs each for SECONDS (default 60) from its committed
# seed corpus (fuzz/corpus/NAME/). New inputs go to build/fuzz/corpus-NAME;
# a crash stops the run and leaves its input in build/fuzz/.
#
#   fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=build/fuzz
mkdir -p "$out"
./scripts/embed-text.sh wudf_shim_abi_text < src/translate/shim_abi.h \
  > "$out/shim_abi_text.c"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -D_GNU_SOURCE -Iinclude -Isrc -Wno-overlength-strings)
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  name=${name#fuzz_}
  echo "== fuzz target $name: building"
  clang-19 "${flags[@]}" "$src" src/*/*.c "$out/shim_abi_text.c" \
    -o "$out/fuzz_$name" -lm -lpthread -ldl -lrt
  corpus="$out/corpus-$name"
  mkdir -p "$corpus"
  echo "== fuzz target $name: running for ${seconds}s"
  (cd "$out" && "./fuzz_$name" -max_total_time="$seconds" -print_final_stats=1 \
     "corpus-$name" "../../fuzz/corpus/$name") 2>&1 | grep -E 'stat::number_of_executed_units|Done|ERROR|SUMMARY' || true
  if ls "$out"/crash-* >/dev/null 2>&1; then
    echo "fuzz target $name: crash found: $(ls "$out"/crash-*)" >&2
    exit 1
  fi
done
echo "fuzz: all targets ran without a crash"
