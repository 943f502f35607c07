#!/usr/bin/env bash
# Runs the WebAssembly spec test suite against wudf.
#
#   tests/spectest/run.sh BUILD_DIR TESTSUITE_DIR
#
# Converts each TESTSUITE_DIR/NAME.wast to BUILD_DIR/spectest-json/NAME/
# (only when the .json is missing or older than the .wast), runs
# BUILD_DIR/spectest on every script, two at a time, and prints one line per
# script and the totals. The simd_* scripts run in refusal mode: wudf cannot
# run SIMD and must refuse those modules cleanly. Logs of each script are in
# BUILD_DIR/spectest-logs/; compiled modules are cached in
# BUILD_DIR/spectest-cache, so a fresh build starts cold and reruns are fast.
# Exit status 0 only if nothing failed.
set -euo pipefail

SIMD_PATTERN='v128|\<[if](8|16|32|64)x(2|4|8|16)\.'

# One script: NAME MODE(plain|simd). Writes the log, exit status and time.
run_one() {
  local name=$1 mode=$2
  local json="$JSON_DIR/$name/$name.json" log="$LOG_DIR/$name.log"
  local start=$SECONDS rc=0
  local args=()
  if [ "$mode" = simd ]; then
    args=(--expect-unsupported --simd-free "$JSON_DIR/$name/simd-free.txt")
  fi
  timeout "${SPECTEST_TIMEOUT:-1800}" "$RUNNER" "${args[@]}" "$json" \
    >"$log" 2>&1 </dev/null || rc=$?
  echo "$rc" >"$LOG_DIR/$name.rc"
  echo $((SECONDS - start)) >"$LOG_DIR/$name.time"
}

if [ "${1:-}" = "--one" ]; then
  RUNNER=$2 JSON_DIR=$3 LOG_DIR=$4
  run_one "$5" "$6"
  exit 0
fi

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR TESTSUITE_DIR" >&2
  exit 2
fi
BUILD=$1
SUITE=$2

if [ ! -d "$SUITE" ]; then
  echo "SKIPPED: WebAssembly spec tests: directory $SUITE not found" \
    "(it lives beside the checkout as ../shared/wasm-testsuite)"
  exit 0
fi

BUILD=$(cd "$BUILD" && pwd)
RUNNER=$BUILD/spectest
JSON_DIR=$BUILD/spectest-json
LOG_DIR=$BUILD/spectest-logs
export WUDF_CACHE_DIR=$BUILD/spectest-cache
mkdir -p "$JSON_DIR" "$LOG_DIR"
[ -d "$WUDF_CACHE_DIR" ] || mkdir -m 700 "$WUDF_CACHE_DIR"
[ -x "$RUNNER" ] || { echo "error: $RUNNER not built" >&2; exit 2; }

# Names (one a line) of the binary modules of a SIMD script that use no
# SIMD, according to wabt's disassembler; they must load and run normally.
list_simd_free() {
  local dir=$1 wasm text
  for wasm in "$dir"/*.wasm; do
    [ -e "$wasm" ] || continue
    # A module the disassembler cannot read is not known to be SIMD-free.
    text=$(wasm-objdump -x -d "$wasm" 2>/dev/null) || continue
    # Names (<f>, "f") may spell SIMD instructions; only the rest counts.
    # (No pipe into grep -q: under pipefail its early exit reads as false.)
    text=$(sed -E 's/<[^>]*>//g; s/"[^"]*"//g' <<<"$text")
    grep -Eq "$SIMD_PATTERN" <<<"$text" || basename "$wasm"
  done
  return 0
}

# Converts NAME.wast unless its JSON is up to date. Fails if wast2json does.
convert() {
  local wast=$1 name=$2
  local dir="$JSON_DIR/$name" json="$JSON_DIR/$name/$name.json"
  if [ ! -e "$json" ] || [ "$wast" -nt "$json" ]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    if ! wast2json "$wast" -o "$json" >"$dir/wast2json.log" 2>&1; then
      rm -f "$json"
      return 1
    fi
  fi
  if [[ $name == simd_* ]] && [ ! "$dir/simd-free.txt" -nt "$json" ]; then
    list_simd_free "$dir" >"$dir/simd-free.txt"
  fi
  return 0
}

plain=() simd=() broken=()
for wast in "$SUITE"/*.wast; do
  name=$(basename "$wast" .wast)
  if ! convert "$wast" "$name"; then
    broken+=("$name")
    continue
  fi
  rm -f "$LOG_DIR/$name.log" "$LOG_DIR/$name.rc" "$LOG_DIR/$name.time"
  if [[ $name == simd_* ]]; then simd+=("$name"); else plain+=("$name"); fi
done

echo "spec tests: ${#plain[@]} scripts, ${#simd[@]} SIMD scripts" \
  "(refusal mode), 2 at a time; logs in $LOG_DIR"
{
  for name in "${plain[@]}"; do echo "$name plain"; done
  for name in "${simd[@]}"; do echo "$name simd"; done
} | xargs -P 2 -L 1 "$0" --one "$RUNNER" "$JSON_DIR" "$LOG_DIR"

# Counts of a script whose runner died: every assertion of the script
# counts as failed.
count_commands() {
  local json=$1 types=$2
  grep -E "^ *\{\"type\": \"($types)\"" "$json" | grep -vc '"module_type": "text"' || true
}

a_pass=0 a_fail=0 a_skip=0 v_pass=0 v_fail=0 v_skip=0
m_pass=0 m_fail=0 s_pass=0 s_fail=0 sa_pass=0 sa_fail=0 bad=0

# Prints the first failures of a log, indented.
show_failures() {
  grep -E '^  line [0-9]+: ' "$1" | grep -v ': skipped: ' | head -n 5 \
    | sed 's/^/  /' || true
}

report() {
  local name=$1 mode=$2
  local json="$JSON_DIR/$name/$name.json" log="$LOG_DIR/$name.log"
  local rc time counts
  rc=$(cat "$LOG_DIR/$name.rc" 2>/dev/null || echo "?")
  time=$(cat "$LOG_DIR/$name.time" 2>/dev/null || echo "?")
  counts=$(grep -E '^counts: ' "$log" 2>/dev/null | tail -n 1 || true)
  if [ -z "$counts" ]; then
    local na nv
    na=$(count_commands "$json" 'assert_return|assert_trap|assert_exhaustion|action')
    nv=$(count_commands "$json" 'assert_invalid|assert_malformed|assert_unlinkable|assert_uninstantiable')
    echo "$name: CRASHED (exit status $rc after ${time}s); counting its" \
      "$na assertions and $nv validation assertions as failed"
    tail -n 5 "$log" 2>/dev/null | sed 's/^/    /' || true
    bad=$((bad + 1))
    if [ "$mode" = plain ]; then
      a_fail=$((a_fail + na)) v_fail=$((v_fail + nv))
    else
      s_fail=$((s_fail + 1))
    fi
    return
  fi
  local c
  read -r -a c <<<"${counts#counts: }"
  if [ "$mode" = plain ]; then
    a_pass=$((a_pass + c[0])) a_fail=$((a_fail + c[1])) a_skip=$((a_skip + c[2]))
    v_pass=$((v_pass + c[3])) v_fail=$((v_fail + c[4])) v_skip=$((v_skip + c[5]))
    m_pass=$((m_pass + c[6])) m_fail=$((m_fail + c[7]))
    echo "$name: ${c[0]} passed, ${c[1]} failed" \
      "(validation: ${c[3]} passed, ${c[4]} failed; ${time}s)"
  else
    s_pass=$((s_pass + c[9])) s_fail=$((s_fail + c[10]))
    sa_pass=$((sa_pass + c[0])) sa_fail=$((sa_fail + c[1] + c[4] + c[7]))
    local extra=""
    if [ $((c[0] + c[1] + c[6] + c[7])) -gt 0 ]; then
      extra="; SIMD-free modules: ${c[0]} assertions passed, $((c[1] + c[4] + c[7])) failed"
    fi
    echo "$name: ${c[9]} modules refused cleanly, ${c[10]} failed$extra (${time}s)"
  fi
  if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
    echo "  exit status $rc (a sanitizer report or a timeout?); see $log"
    tail -n 5 "$log" | sed 's/^/    /'
    bad=$((bad + 1))
  fi
  show_failures "$log"
}

for name in "${broken[@]}"; do
  echo "$name: wast2json failed; see $JSON_DIR/$name/wast2json.log"
  bad=$((bad + 1))
done
for name in "${plain[@]}"; do report "$name" plain; done
for name in "${simd[@]}"; do report "$name" simd; done

echo
if [ "$a_skip" -gt 0 ]; then
  echo "skipped: $a_skip assertion(s) (see 'skipped:' in the logs)"
fi
echo "modules: $m_pass instantiated or registered, $m_fail failed"
echo "$a_pass passed, $a_fail failed"
echo "validation: $v_pass passed, $v_fail failed" \
  "($v_skip text-format assert_malformed skipped: parsing text is wast2json's job)"
echo "simd: $s_pass modules refused cleanly, $s_fail failed" \
  "(SIMD-free modules in those scripts: $sa_pass assertions passed, $sa_fail failed)"

if [ $((a_fail + v_fail + m_fail + s_fail + sa_fail + bad)) -gt 0 ]; then
  exit 1
fi
exit 0
