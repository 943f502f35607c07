-- Hostile functions: each is stopped with an error and the session goes on.
CREATE FUNCTION spin(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
int spin(int x) { volatile int i = x; for (;;) i++; return i; }
$$;
CREATE FUNCTION ok(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$ int ok(int x) { return x + 1; } $$;

-- statement_timeout stops a loop ...
SET statement_timeout = '300ms';
SELECT spin(1);
RESET statement_timeout;
SELECT ok(1);

-- ... and so does the per-call limit, wudf.timeout_ms.
SET wudf.timeout_ms = 200;
SELECT spin(1);
RESET wudf.timeout_ms;
SELECT ok(2);

-- pg_cancel_backend from another session (which waits half a second).
SELECT dblink_connect('canceller',
  format('host=%s port=%s dbname=%s user=%s',
         current_setting('unix_socket_directories'), current_setting('port'),
         current_database(), current_user));
SELECT dblink_send_query('canceller',
  format('SELECT pg_cancel_backend(%s) FROM pg_sleep(0.5)', pg_backend_pid()));
SELECT spin(1);
SELECT * FROM dblink_get_result('canceller') AS t(cancelled boolean);
SELECT dblink_disconnect('canceller');
SELECT ok(3);

-- pg_terminate_backend ends the session running a loop, and only it.
SELECT dblink_connect('victim',
  format('host=%s port=%s dbname=%s user=%s',
         current_setting('unix_socket_directories'), current_setting('port'),
         current_database(), current_user));
SELECT dblink_send_query('victim', 'SELECT spin(7)');
DO $$
BEGIN
  FOR i IN 1 .. 100 LOOP
    EXIT WHEN EXISTS (SELECT FROM pg_stat_activity
                      WHERE query = 'SELECT spin(7)' AND state = 'active');
    PERFORM pg_sleep(0.05);
  END LOOP;
END
$$;
SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
WHERE query = 'SELECT spin(7)' AND state = 'active';
SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT spin(7)';
SELECT dblink_disconnect('victim');
SELECT ok(3);

-- Memory: the instance's memory is capped by wudf.memory_limit_mb.
SET wudf.memory_limit_mb = 16;
CREATE FUNCTION hog(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
#include <stdlib.h>
int hog(int mb) {
  int got = 0;
  for (int i = 0; i < mb; i++) {
    volatile char *p = malloc(1 << 20);
    if (!p) __builtin_trap();
    p[0] = 1;
    got++;
  }
  return got;
}
$$;
SELECT hog(4);
SELECT hog(64);
SELECT ok(4);
-- A text argument larger than the memory allowed.
CREATE FUNCTION text_len(text) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
int text_len(const char *s, int len) { return len; }
$$;
SELECT text_len(repeat('x', 1000));
SELECT text_len(repeat('x', 32 * 1024 * 1024));
RESET wudf.memory_limit_mb;
SELECT text_len(repeat('x', 32 * 1024 * 1024));

-- Deep recursion.
CREATE FUNCTION deep(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
int deep(int n);
static int (*volatile self)(int) = deep;
int deep(int n) { return n <= 0 ? 0 : 1 + self(n - 1); }
$$;
SELECT deep(1000);
SELECT deep(100000000);
SELECT ok(5);

-- Traps, each with its SQLSTATE.
CREATE FUNCTION divide(integer, integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$ int divide(int a, int b) { return a / b; } $$;
CREATE FUNCTION crash(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$ int crash(int x) { __builtin_trap(); } $$;
CREATE FUNCTION wild(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
int wild(int x) { return *(volatile int *)(0xfffffff0u + (unsigned)x); }
$$;
CREATE FUNCTION quit(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
#include <stdlib.h>
int quit(int code) { exit(code); }
$$;
\set VERBOSITY sqlstate
SELECT divide(1, 0);
SELECT divide(-2147483648, -1);
SELECT crash(0);
SELECT wild(4);
SELECT quit(3);
SELECT deep(100000000);
SET wudf.timeout_ms = 100;
SELECT spin(0);
RESET wudf.timeout_ms;
\set VERBOSITY default
SELECT divide(7, 2), crash(NULL), wild(NULL), quit(NULL);

-- 1,000 traps in a row, then 1,000 more: the backend's resident memory
-- does not grow with them.
CREATE FUNCTION rss_kb() RETURNS bigint LANGUAGE sql AS $$
  SELECT substring(pg_read_file('/proc/self/status') FROM 'VmRSS:\s+(\d+)')::bigint
$$;
CREATE FUNCTION trap_many(n integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  caught integer := 0;
BEGIN
  FOR i IN 1 .. n LOOP
    BEGIN
      PERFORM divide(i, 0);
    EXCEPTION WHEN division_by_zero THEN
      caught := caught + 1;
    END;
  END LOOP;
  RETURN caught;
END
$$;
SELECT trap_many(1000);
CREATE TEMP TABLE rss AS SELECT rss_kb() AS before;
SELECT trap_many(1000);
SELECT rss_kb() - before < 4096 AS no_leak FROM rss;
SELECT divide(10, 5);

-- statement_timeout also ends a CREATE FUNCTION whose compile outlasts it.
SET statement_timeout = '100ms';
CREATE FUNCTION never_created(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$ int never_created(int x) { return x * 31; } $$;
RESET statement_timeout;
SELECT count(*) FROM pg_proc WHERE proname = 'never_created';

-- PostgreSQL's own signal handling still works afterwards.
SET statement_timeout = '100ms';
SELECT pg_sleep(1);
RESET statement_timeout;
SELECT pg_reload_conf();
SELECT ok(6);
