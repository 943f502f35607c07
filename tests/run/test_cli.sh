#!/usr/bin/env bash
# Tests of the wudf command's run, schema and bench subcommands, through the
# built binary. Expected values come from the seed report (its screenshot's
# figures) or from Debian's python3 (csv and struct modules), never from
# wudf itself.
#
#   tests/run/test_cli.sh [BUILD_DIR]         (default: build)
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
wudf="$build/wudf"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export WUDF_CACHE_DIR="$tmp/cache"
export WUDF_INCLUDE_DIR="$root/include"
acc="$root/examples/accounts"
data="$acc/accounts.csv"
passed=0
failed=0

ok() {
  printf 'ok   %s\n' "$1"
  passed=$((passed + 1))
}
fail() {
  printf 'FAIL %s: %s\n' "$1" "$2"
  failed=$((failed + 1))
}
# check NAME COMMAND...: passes when the command succeeds.
check() {
  local name="$1"
  shift
  if "$@"; then ok "$name"; else fail "$name" "$*"; fi
}
contains() { grep -qF -- "$2" "$1"; }

# ---- MAP: the seed's example ---------------------------------------------

"$wudf" run --data "$data" --udf "$acc/calculate_adj_bal.c" \
  --function calculate_adj_bal --columns balance,rate --map float \
  --limit 12 >"$tmp/seed.csv" 2>"$tmp/err"
# The seed report's screenshot, row by row.
cat >"$tmp/seed-want" <<'EOF'
5765.22
24320.34
10045.08
5176.2
6713.8496
25974.08
11831.141
53263.2
4493.13
13565.96
8790.96
52963.27
EOF
tail -n +2 "$tmp/seed.csv" | awk -F, '{print $NF}' >"$tmp/seed-got"
check seed_screenshot_values cmp -s "$tmp/seed-want" "$tmp/seed-got"

# Every row against python3, in float32 arithmetic (struct rounds).
"$wudf" run --data "$data" --udf "$acc/calculate_adj_bal.c" \
  --function calculate_adj_bal --columns balance,rate --map float \
  --output "$tmp/adj.csv" 2>"$tmp/err"
cat >"$tmp/adj.py" <<'EOF'
import csv, struct, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
src = list(csv.reader(open(sys.argv[1], newline="")))
out = list(csv.reader(open(sys.argv[2], newline="")))
assert out[0] == src[0] + ["calculate_adj_bal_RESULT"], out[0]
assert len(out) == len(src)
for s, o in zip(src[1:], out[1:]):
    b, r = int(s[4]), f32(float(s[5]))
    want = f32(f32(f32(float(b)) * r) + float(int(b / 1000)))
    assert o[:-1] == s, (s, o)
    assert f32(float(o[-1])) == want, (s, o, want)
EOF
check map_all_rows_python python3 "$tmp/adj.py" "$data" "$tmp/adj.csv"

# ---- FILTER and strings --------------------------------------------------

"$wudf" run --data "$data" --udf "$root/examples/udfs/is_rich.c" --function is_rich \
  --columns balance --filter >"$tmp/rich.csv" 2>"$tmp/err"
python3 - "$data" >"$tmp/rich-want.csv" <<'EOF'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(rows[0])
w.writerows(r for r in rows[1:] if int(r[4]) > 50000)
EOF
check filter_is_rich cmp -s "$tmp/rich.csv" "$tmp/rich-want.csv"

"$wudf" run --data "$data" --udf "$root/examples/udfs/email_domain.c" --function email_domain \
  --columns email --map string --name domain --format jsonl \
  >"$tmp/dom.jsonl" 2>"$tmp/err"
cat >"$tmp/dom.py" <<'EOF'
import csv, json, sys
src = list(csv.DictReader(open(sys.argv[1], newline="")))
got = [json.loads(l) for l in open(sys.argv[2])]
assert len(got) == len(src)
for s, g in zip(src, got):
    assert g["email"] == s["email"] and g["domain"] == s["email"].rsplit("@", 1)[1]
EOF
check map_string_jsonl python3 "$tmp/dom.py" "$data" "$tmp/dom.jsonl"

# ---- threads: same bytes whatever the count ------------------------------

python3 "$acc/generate.py" --rows 200000 --out "$tmp/big.csv"
for t in 1 2 4; do
  "$wudf" run --data "$tmp/big.csv" --udf "$root/examples/udfs/email_domain.c" \
    --function email_domain --columns email --map string --threads $t \
    --batch-rows 1000 >"$tmp/t$t.csv" 2>"$tmp/err"
done
check threads_identical cmp -s "$tmp/t1.csv" "$tmp/t2.csv"
check threads_identical_4 cmp -s "$tmp/t1.csv" "$tmp/t4.csv"
check threads_all_rows test "$(wc -l <"$tmp/t1.csv")" -eq 200001

# ---- schema ---------------------------------------------------------------

"$wudf" schema "$data" >"$tmp/schema" 2>&1
check schema_types bash -c "grep -qE '^balance +int32$' '$tmp/schema' &&
  grep -qE '^rate +float64$' '$tmp/schema' &&
  grep -qE '^email +utf8$' '$tmp/schema'"

# ---- refusals before any row ---------------------------------------------

# expect_error NAME EXPECTED-TEXT ARGS...: exit status 1, message on stderr.
expect_error() {
  local name="$1" text="$2"
  shift 2
  "$wudf" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq 1 ] && contains "$tmp/err" "$text"; then
    ok "$name"
  else
    fail "$name" "exit $rc, stderr: $(cat "$tmp/err")"
  fi
}
adj=(--data "$data" --udf "$acc/calculate_adj_bal.c" --function
  calculate_adj_bal)
expect_error missing_column "has no column 'balanse'" run "${adj[@]}" \
  --columns balanse,rate --map float
expect_error column_type "a utf8 column cannot be passed to parameter 1 (int32) of calculate_adj_bal(int32, float32) -> float32 (column 'email')" \
  run "${adj[@]}" --columns email,rate --map float
expect_error declared_type "declared result type is int32" run "${adj[@]}" \
  --columns balance,rate --map int
expect_error filter_type "FILTER needs a UDF returning bool or int32" \
  run "${adj[@]}" --columns balance,rate --filter
expect_error trap_line "inverse: integer divide by zero in inverse on line 13 of" run --data "$data" \
  --udf "$acc/inverse.c" --function inverse --columns balance --map int
check trap_kind contains "$tmp/err" "integer divide by zero"

# --on-error: the trapping row gets NULL (null) or is dropped (skip).
"$wudf" run --data "$data" --udf "$acc/inverse.c" --function inverse \
  --columns balance --map int --on-error null >"$tmp/null.csv" 2>"$tmp/err"
check on_error_null_row contains "$tmp/null.csv" \
  "12,Roosevelt,Petru,rpetrub@merriam-webster.com,59443,0.89,"
check on_error_null_count contains "$tmp/err" "1 row failed (--on-error null)"
"$wudf" run --data "$data" --udf "$acc/inverse.c" --function inverse \
  --columns balance --map int --on-error skip >"$tmp/skip.csv" 2>"$tmp/err"
check on_error_skip_rows test "$(wc -l <"$tmp/skip.csv")" = \
  "$(($(wc -l <"$data") - 1))"
"$wudf" run --data "$data" --udf "$acc/inverse.c" --function inverse \
  --columns balance --map int --on-error ignore >"$tmp/out" 2>"$tmp/err"
check on_error_bad_is_usage test $? -eq 2
check on_error_bad_named contains "$tmp/err" "--on-error (fail, null or skip)"

printf 'x,y\n1,2\n3,4,5\n' >"$tmp/bad.csv"
printf 'int id(int x) { return x; }\n' >"$tmp/id.c"
expect_error malformed_csv "line 3" run --data "$tmp/bad.csv" \
  --udf "$tmp/id.c" --function id --columns x --map int

# An existing output file is untouched by a failed run.
echo "OLD CONTENT" >"$tmp/keep.csv"
expect_error failed_run_output "integer divide by zero" run --data "$data" --udf "$acc/inverse.c" \
  --function inverse --columns balance --map int --output "$tmp/keep.csv"
check output_untouched bash -c "[ \"\$(cat '$tmp/keep.csv')\" = 'OLD CONTENT' ]"
check no_temp_files bash -c "[ -z \"\$(ls -A '$tmp' | grep '^\.keep')\" ]"

# ---- a foreign module: signature from --map and the columns --------------

cat >"$tmp/adj.wat" <<'EOF'
(module (func (export "adj") (param i32 f32) (result f32)
  local.get 0 f32.convert_i32_s local.get 1 f32.mul
  local.get 0 i32.const 1000 i32.div_s f32.convert_i32_s f32.add))
EOF
"$wudf" run --data "$data" --udf "$tmp/adj.wat" --function adj \
  --columns balance,rate --map float --limit 12 >"$tmp/wat.csv" 2>"$tmp/err"
tail -n +2 "$tmp/wat.csv" | awk -F, '{print $NF}' >"$tmp/wat-got"
check wat_module cmp -s "$tmp/seed-want" "$tmp/wat-got"

# ---- one rule for signatures: `wudf compile` and `wudf run` agree ----------

# twice(i64) -> i64 and scale(i32, f32) -> f32: compiled, the signatures
# are written into the module; as a plain module (wat2wasm), `wudf run`
# derives them. Both must give the same table, types included.
cat >"$tmp/rule.wat" <<'EOF'
(module
  (func (export "twice") (param i64) (result i64)
    local.get 0 local.get 0 i64.add)
  (func (export "scale") (param i32 f32) (result f32)
    local.get 0 f32.convert_i32_s local.get 1 f32.mul))
EOF
"$wudf" compile -o "$tmp/rule-compiled.wasm" "$tmp/rule.wat" 2>"$tmp/err"
wat2wasm "$tmp/rule.wat" -o "$tmp/rule-plain.wasm"
for fn in "twice --columns balance --map bigint" \
  "scale --columns balance,rate --map float"; do
  for kind in compiled plain; do
    # shellcheck disable=SC2086
    "$wudf" run --data "$data" --udf "$tmp/rule-$kind.wasm" --function $fn \
      --format table --limit 5 >"$tmp/rule-$kind.out" 2>>"$tmp/err"
  done
  check "compile_and_run_agree_${fn%% *}" bash -c \
    "[ -s '$tmp/rule-compiled.out' ] && cmp -s '$tmp/rule-compiled.out' '$tmp/rule-plain.out'"
done

# ---- progress bar: on a terminal for a long run, never otherwise ----------

cat >"$tmp/spin.c" <<'EOF'
int spin(int x) {
  volatile int v = x;
  for (;;) v++;
  return v;
}
EOF
spin=(run --data "$data" --udf "$tmp/spin.c" --function spin --columns
  balance --map int --threads 1 --timeout 1.6 --output "$tmp/spin.csv")
if command -v script >/dev/null; then
  script -qec "$(printf '%q ' "$wudf" "${spin[@]}")" /dev/null \
    >"$tmp/pty" 2>&1 </dev/null
  check progress_on_terminal contains "$tmp/pty" "rows/s"
else
  echo "skip progress_on_terminal (no script(1))"
fi
"$wudf" "${spin[@]}" >"$tmp/out" 2>"$tmp/err"
check progress_never_off_terminal bash -c "! grep -q 'rows/s' '$tmp/err' &&
  grep -q 'time limit exceeded' '$tmp/err' && [ \$(wc -l <'$tmp/err') -eq 1 ]"

# ---- Ctrl-C cancels cleanly ----------------------------------------------

"$wudf" run --data "$data" --udf "$tmp/spin.c" --function spin \
  --columns balance --map int --timeout 20 --output "$tmp/cancel.csv" \
  2>"$tmp/err" &
pid=$!
sleep 1.5
kill -INT $pid
wait $pid
rc=$?
check sigint_cancels bash -c "[ $rc -eq 1 ] && grep -q cancelled '$tmp/err' &&
  [ ! -e '$tmp/cancel.csv' ]"

# ---- bench ------------------------------------------------------------------

"$wudf" bench --row-count 100000 --run-count 3 >"$tmp/bench" 2>&1
check bench_default bash -c "grep -qE '^sandboxed: 3 Runs of 100000: [0-9.]+/[0-9.]+/[0-9.]+ ms, [0-9]+ rows/s$' '$tmp/bench' &&
  grep -qE '^native: +3 Runs of 100000: ' '$tmp/bench' &&
  grep -q '^results: identical' '$tmp/bench' &&
  tail -1 '$tmp/bench' | grep -qE '^ratio \(sandboxed/native, avg\): [0-9]+\.[0-9]{2}$'"
# sizeof(long) is 4 in wasm32 and 8 natively: the comparison must notice.
printf 'int width(int x) { return x + (int)sizeof(long); }\n' >"$tmp/width.c"
"$wudf" bench --udf "$tmp/width.c" --function width --map int \
  --row-count 1000 --run-count 1 >"$tmp/bench" 2>&1
rc=$?
check bench_detects_difference bash -c "[ $rc -eq 1 ] &&
  grep -q '1000 rows differ' '$tmp/bench'"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
