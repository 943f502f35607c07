-- A role without any privilege beyond its own schema creates and calls
-- functions in both languages (they are trusted).
CREATE ROLE wudf_tenant LOGIN;
CREATE SCHEMA tenant AUTHORIZATION wudf_tenant;
SET ROLE wudf_tenant;
SET search_path = tenant;
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;

CREATE FUNCTION tenant_sq(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$ int tenant_sq(int x) { return x * x; } $$;
CREATE FUNCTION tenant_inc(integer) RETURNS integer
LANGUAGE wasm STRICT AS $$
(module (func (export "tenant_inc") (param i32) (result i32)
  (i32.add (local.get 0) (i32.const 1))))
$$;
SELECT tenant_sq(12), tenant_inc(41);

-- Limits: the tenant may lower them, not raise them past the ceilings.
SET wudf.memory_limit_mb = 8;
SET wudf.max_memory_limit_mb = 1024;
SET wudf.max_timeout_ms = 0;
SET wudf.timeout_ms = 100000;
SHOW wudf.timeout_ms;
SHOW wudf.max_timeout_ms;
CREATE FUNCTION tenant_spin(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
int tenant_spin(int x) { volatile int i = x; for (;;) i++; return i; }
$$;
RESET ROLE;
SET wudf.max_timeout_ms = 300;
SET ROLE wudf_tenant;
-- 100 s asked, 300 ms given.
SELECT tenant_spin(0);
RESET wudf.timeout_ms;

-- A function that keeps state between calls: what the tenant's calls
-- leave in it is not seen by calls made under another role.
CREATE FUNCTION counter(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
static int calls;
int counter(int x) { return ++calls + x; }
$$;
SELECT counter(0), counter(0), counter(0);
RESET ROLE;
SELECT tenant.counter(100);
SET ROLE wudf_tenant;
SELECT counter(0);
RESET ROLE;
RESET search_path;
DROP SCHEMA tenant CASCADE;
DROP ROLE wudf_tenant;
