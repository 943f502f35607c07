#!/bin/sh
# Runs the pg_regress tests (sql/, expected/) against a private server:
# initdb in a temporary directory, a free port, Unix socket only; as the
# postgres user when run as root. Installs the extension first (PGXS
# `make install`, into the PostgreSQL that PG_CONFIG names).
#
#   ./test.sh [test ...]     default: every sql/*.sql
#   KEEP=1 ./test.sh         leave the server running and print how to reach it
set -eu
cd "$(dirname "$0")"

PG_CONFIG=${PG_CONFIG:-$(ls /usr/lib/postgresql/15/bin/pg_config 2>/dev/null || echo pg_config)}
BINDIR=$("$PG_CONFIG" --bindir)

make -s PG_CONFIG="$PG_CONFIG"
make -s PG_CONFIG="$PG_CONFIG" install >/dev/null

if [ "$(id -u)" -eq 0 ]; then
  as_pg() { su postgres -s /bin/sh -c "$*"; }
else
  as_pg() { sh -c "$*"; }
fi

tmp=$(mktemp -d /tmp/wudf-pg.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" -eq 0 ] && chown postgres "$tmp"

# A port nobody listens on (the server listens on its socket in $tmp only,
# but the port still names the socket and must not clash in pg_ctl output).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() {
  as_pg "'$BINDIR/pg_ctl' -D '$tmp/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}

as_pg "'$BINDIR/initdb' -D '$tmp/data' -U postgres -A trust --no-sync" >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log"; stop; exit 1; }
as_pg "'$BINDIR/pg_ctl' -D '$tmp/data' -l '$tmp/server.log' -w \
  -o \"-p $port -k $tmp -c listen_addresses='' -c fsync=off\" start" >/dev/null ||
  { cat "$tmp/server.log"; stop; exit 1; }

if [ "${KEEP:-0}" = 1 ]; then
  echo "server: psql -h $tmp -p $port -U postgres   (stop: pg_ctl -D $tmp/data stop)"
  exit 0
fi
trap stop EXIT INT TERM

tests=${*:-}
status=0
make -s PG_CONFIG="$PG_CONFIG" installcheck PGHOST="$tmp" PGPORT="$port" PGUSER=postgres \
  ${tests:+REGRESS="$tests"} || status=$?
if [ "$status" -ne 0 ]; then
  [ -f regression.diffs ] && cat regression.diffs
  echo "--- server log (last 40 lines)"
  tail -40 "$tmp/server.log"
fi
exit "$status"
