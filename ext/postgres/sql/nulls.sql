-- STRICT: NULL in gives NULL out, and the function is not called.
CREATE FUNCTION trap_if_called(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
int trap_if_called(int x) { __builtin_trap(); }
$$;
SELECT trap_if_called(NULL) IS NULL AS is_null;

-- Not STRICT, but the source's signature has no is-null flags: a NULL
-- argument still gives NULL without a call.
CREATE FUNCTION lenient(integer, integer) RETURNS integer
LANGUAGE wasm_c AS $$
int lenient(int a, int b) { if (a == 0 && b == 0) __builtin_trap(); return a + b; }
$$;
SELECT lenient(1, 2), lenient(NULL, 0) IS NULL AS null_a, lenient(0, NULL) IS NULL AS null_b;

-- Not STRICT and the signature sees NULLs ("nulls"): each argument is
-- followed by its is-null flag.
CREATE FUNCTION coalesce2(integer, integer) RETURNS integer
LANGUAGE wasm_c AS $$
#include "wudf_guest.h"
WUDF_UDF("coalesce2(int32, int32) -> int32 nulls");
int coalesce2(int a, int a_null, int b, int b_null) {
  if (!a_null) return a;
  if (!b_null) return b;
  return -1;
}
$$;
SELECT coalesce2(1, 2), coalesce2(NULL, 2), coalesce2(NULL, NULL);

CREATE FUNCTION describe(text) RETURNS text
LANGUAGE wasm_c AS $$
#include "wudf_guest.h"
WUDF_UDF("describe(utf8) -> utf8 nulls");
wudf_string describe(const char *s, int32_t len, int is_null) {
  static const char none[] = "(null)", empty[] = "(empty)";
  if (is_null) return WUDF_STRING(none, 6);
  if (len == 0) return WUDF_STRING(empty, 7);
  return WUDF_STRING(s, len);
}
$$;
SELECT describe(NULL), describe(''), describe('x');

-- The same signature on a STRICT function: never called with NULL.
CREATE FUNCTION describe_strict(text) RETURNS text
LANGUAGE wasm_c STRICT AS $$
#include "wudf_guest.h"
WUDF_UDF("describe_strict(utf8) -> utf8 nulls");
wudf_string describe_strict(const char *s, int32_t len, int is_null) {
  if (is_null) __builtin_trap();
  return WUDF_STRING(s, len);
}
$$;
SELECT describe_strict(NULL) IS NULL AS is_null, describe_strict('y');

-- LANGUAGE wasm, not STRICT: the export takes the flags.
CREATE FUNCTION null_count(integer, integer) RETURNS integer
LANGUAGE wasm AS $$
(module
  (func (export "null_count") (param i32 i32 i32 i32) (result i32)
    (i32.add (local.get 1) (local.get 3))))
$$;
SELECT null_count(1, 2), null_count(NULL, 2), null_count(NULL, NULL);

SELECT count(*) FILTER (WHERE c = -1) AS both_null, count(*) AS all_rows
FROM (SELECT coalesce2(CASE WHEN g % 3 = 0 THEN NULL ELSE g END,
                       CASE WHEN g % 2 = 0 THEN NULL ELSE g END) AS c
      FROM generate_series(1, 600) g) s;
