-- What CREATE FUNCTION refuses, each with its reason.
-- A compile error: the diagnostics give lines of the function's source.
CREATE FUNCTION broken(integer) RETURNS integer
LANGUAGE wasm_c AS $$
int broken(int x) {
  return x +
}
$$;

-- No function of that name in the source.
CREATE FUNCTION missing(integer) RETURNS integer
LANGUAGE wasm_c AS $$
int something_else(int x) { return x; }
$$;

-- The source's types do not match the SQL ones.
CREATE FUNCTION mismatch(integer) RETURNS integer
LANGUAGE wasm_c AS $$
double mismatch(double x) { return x; }
$$;
CREATE FUNCTION mismatch(integer, integer) RETURNS integer
LANGUAGE wasm_c AS $$
int mismatch(int x) { return x; }
$$;
CREATE FUNCTION mismatch(text) RETURNS integer
LANGUAGE wasm_c AS $$
int mismatch(int x) { return x; }
$$;

-- SQL types the languages do not take.
CREATE FUNCTION takes_numeric(numeric) RETURNS integer
LANGUAGE wasm_c AS $$ int takes_numeric(int x) { return x; } $$;
CREATE FUNCTION returns_set(integer) RETURNS SETOF integer
LANGUAGE wasm_c AS $$ int returns_set(int x) { return x; } $$;
CREATE PROCEDURE proc(integer)
LANGUAGE wasm_c AS $$ void proc(int x) { } $$;

-- Files and sockets: the compile sandbox has no such imports to offer,
-- and a module that imports them is refused at load.
CREATE FUNCTION read_passwd(integer) RETURNS integer
LANGUAGE wasm_c AS $$
#include <stdio.h>
int read_passwd(int x) {
  FILE *f = fopen("/etc/passwd", "r");
  return f ? fgetc(f) : -1;
}
$$;

-- The compiler sees no files of the server.
CREATE FUNCTION include_secret(integer) RETURNS integer
LANGUAGE wasm_c AS $$
#include "/etc/postgresql/15/main/pg_hba.conf"
int include_secret(int x) { return x; }
$$;

-- LANGUAGE wasm: not a module, bad hex, a wrong export type, bad WAT.
CREATE FUNCTION not_a_module(integer) RETURNS integer
LANGUAGE wasm AS '\x00010203';
CREATE FUNCTION bad_hex(integer) RETURNS integer
LANGUAGE wasm AS '\x0061736zz';
CREATE FUNCTION add_one(bigint) RETURNS bigint
LANGUAGE wasm STRICT AS '\x0061736d0100000001060160017f017f03020100070b01076164645f6f6e6500000a09010700200041016a0b';
CREATE FUNCTION bad_wat(integer) RETURNS integer
LANGUAGE wasm AS $$ (module (func (export "bad_wat") (param i32) (result i32) (i32.add))) $$;

-- Nothing above was created.
SELECT count(*) FROM pg_proc
WHERE proname IN ('broken', 'missing', 'mismatch', 'takes_numeric', 'returns_set',
                  'proc', 'read_passwd', 'include_secret', 'not_a_module',
                  'bad_hex', 'bad_wat')
   OR (proname = 'add_one' AND proargtypes[0] = 'bigint'::regtype);

-- check_function_bodies = off (pg_restore) skips the compile; types are
-- still checked.
SET check_function_bodies = off;
CREATE FUNCTION unchecked(integer) RETURNS integer
LANGUAGE wasm_c AS $$ this is not C $$;
CREATE FUNCTION unchecked_type(numeric) RETURNS integer
LANGUAGE wasm_c AS $$ this is not C $$;
RESET check_function_bodies;
SELECT unchecked(1);
DROP FUNCTION unchecked(integer);
