#!/bin/sh
# make bench-postgres: SELECT sum(calculate_adj_bal(balance, rate)) over
# ROWS rows (default 1,000,000; BENCH_ROWS="1000000 10000000" for more)
# with the UDF in wasm_c, as a plain SQL expression, an SQL function,
# PL/pgSQL and native C; then pgbench with 1, 2 and 8 clients calling the
# wasm_c function. Private server as in ../test.sh; best of RUNS runs.
set -eu
cd "$(dirname "$0")"

PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || echo pg_config)}
BINDIR=$("$PG_CONFIG" --bindir)
ROWS_LIST=${BENCH_ROWS:-1000000}
RUNS=${RUNS:-3}
PGBENCH_SECONDS=${PGBENCH_SECONDS:-10}

make -s -C .. PG_CONFIG="$PG_CONFIG" >/dev/null
make -s -C .. PG_CONFIG="$PG_CONFIG" install >/dev/null
make -s PG_CONFIG="$PG_CONFIG" >/dev/null
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

if [ "$(id -u)" -eq 0 ]; then
  as_pg() { su postgres -s /bin/sh -c "$*"; }
else
  as_pg() { sh -c "$*"; }
fi
tmp=$(mktemp -d /tmp/wudf-pgbench.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
stop() {
  as_pg "'$BINDIR/pg_ctl' -D '$tmp/data' -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap stop EXIT INT TERM
as_pg "'$BINDIR/initdb' -D '$tmp/data' -U postgres -A trust --no-sync" >"$tmp/initdb.log" 2>&1
as_pg "'$BINDIR/pg_ctl' -D '$tmp/data' -l '$tmp/server.log' -w \
  -o \"-p $port -k $tmp -c listen_addresses='' -c shared_buffers=512MB \
  -c max_parallel_workers_per_gather=0 -c jit=off\" start" >/dev/null

export PGHOST="$tmp" PGPORT="$port" PGUSER=postgres PGDATABASE=postgres
psql_q() { "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 "$@"; }

# Best wall time in ms of `query` over RUNS runs (after one warm-up run).
best_ms() {
  best=""
  i=0
  while [ "$i" -le "$RUNS" ]; do
    ms=$(printf '\\timing on\n%s;\n' "$1" | psql_q 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
    if [ "$i" -gt 0 ]; then
      best=$(python3 -c "import sys; a=sys.argv[1]; b=float(sys.argv[2]); print(b if a=='' else min(float(a), b))" "$best" "$ms")
    fi
    i=$((i + 1))
  done
  echo "$best"
}

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "server:  $("$BINDIR/postgres" --version), serial plans (max_parallel_workers_per_gather=0), jit off"

for rows in $ROWS_LIST; do
  psql_q -v rows="$rows" -f setup.sql >/dev/null
  echo
  echo "sum(calculate_adj_bal(balance, rate)) over $rows rows, best of $RUNS:"
  results=""
  for variant in \
    "native C function|SELECT sum(adj_bal_native(balance, rate)) FROM accounts" \
    "plain SQL expression|SELECT sum((balance::real * rate) + (balance / 1000)::real) FROM accounts" \
    "SQL function (inlined)|SELECT sum(adj_bal_sql(balance, rate)) FROM accounts" \
    "PL/pgSQL|SELECT sum(adj_bal_plpgsql(balance, rate)) FROM accounts" \
    "wasm_c|SELECT sum(calculate_adj_bal(balance, rate)) FROM accounts" \
    "count(*) only (scan cost)|SELECT count(*) FROM accounts"; do
    name=${variant%%|*}
    query=${variant#*|}
    results="$results$name|$(best_ms "$query")
"
  done
  printf '%s' "$results" | python3 -c '
import sys
rows = [l.rsplit("|", 1) for l in sys.stdin.read().splitlines() if l]
base = float(rows[0][1])
for name, ms in rows:
    ms = float(ms)
    print(f"  {name:28s} {ms:10.1f} ms   {ms / base:5.2f}x native C")'
  echo "  results agree: $(psql_q -At -c "SELECT sum(calculate_adj_bal(balance, rate)) = sum(adj_bal_native(balance, rate)) FROM accounts")"
done

echo
echo "pgbench, SELECT calculate_adj_bal(:bal, 0.46) per transaction, ${PGBENCH_SECONDS}s each:"
for c in 1 2 8; do
  j=$c
  [ "$j" -gt 2 ] && j=2
  tps=$("$BINDIR/pgbench" -n -c "$c" -j "$j" -T "$PGBENCH_SECONDS" -f pgbench.sql 2>&1 |
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
  echo "  $c client(s): $tps tps"
done
echo "pgbench, the same with adj_bal_native (baseline):"
sed 's/calculate_adj_bal/adj_bal_native/' pgbench.sql >"$tmp/native.sql"
chmod 644 "$tmp/native.sql"
for c in 1 2 8; do
  j=$c
  [ "$j" -gt 2 ] && j=2
  tps=$("$BINDIR/pgbench" -n -c "$c" -j "$j" -T "$PGBENCH_SECONDS" -f "$tmp/native.sql" 2>&1 |
    sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
  echo "  $c client(s): $tps tps"
done
