-- Every SQL type the languages take, in both directions.
CREATE FUNCTION calculate_adj_bal(integer, real) RETURNS real
LANGUAGE wasm_c STRICT AS $$
float calculate_adj_bal(int balance, float rate) {
  return ((float)balance * rate) + (float)(balance / 1000);
}
$$;
SELECT calculate_adj_bal(12507, 0.46), calculate_adj_bal(59174, 0.41);

CREATE FUNCTION half_short(smallint) RETURNS smallint
LANGUAGE wasm_c STRICT AS $$
int half_short(int x) { return x / 2; }
$$;
SELECT half_short(32767::smallint), half_short((-32768)::smallint);

-- int2 results out of range are an error, not a wrap.
CREATE FUNCTION widen_short(smallint) RETURNS smallint
LANGUAGE wasm_c STRICT AS $$
int widen_short(int x) { return x * 4; }
$$;
SELECT widen_short(1000::smallint);
SELECT widen_short(10000::smallint);

CREATE FUNCTION add_big(bigint, bigint) RETURNS bigint
LANGUAGE wasm_c STRICT AS $$
long long add_big(long long a, long long b) { return a + b; }
$$;
SELECT add_big(9000000000000000000, 223372036854775807);

CREATE FUNCTION fahrenheit(double precision) RETURNS double precision
LANGUAGE wasm_c STRICT AS $$
double fahrenheit(double c) { return c * 1.8 + 32.0; }
$$;
SELECT fahrenheit(100), fahrenheit(-40), fahrenheit('NaN');

CREATE FUNCTION is_rich(integer) RETURNS boolean
LANGUAGE wasm_c STRICT AS $$
#include <stdbool.h>
bool is_rich(int balance) { return balance > 50000; }
$$;
SELECT balance, is_rich(balance) FROM (VALUES (10), (50001)) v(balance);

CREATE FUNCTION negate(boolean) RETURNS boolean
LANGUAGE wasm_c STRICT AS $$
#include <stdbool.h>
bool negate(bool b) { return !b; }
$$;
SELECT negate(true), negate(false);

-- text in, text out (a slice of the input)
CREATE FUNCTION email_domain(text) RETURNS text
LANGUAGE wasm_c STRICT AS $$
#include "wudf_guest.h"
wudf_string email_domain(const char *email, int32_t len) {
  wudf_str s = wudf_str_make(email, len);
  int32_t at = wudf_str_rfind(s, '@');
  if (at < 0) return wudf_string_empty();
  return wudf_str_result(wudf_str_from(s, at + 1));
}
$$;
SELECT email_domain('florette@example.com'), email_domain('no at sign'),
       email_domain('añejo@café.example');

-- text out from a new string; varchar in
CREATE FUNCTION shout(varchar) RETURNS text
LANGUAGE wasm_c STRICT AS $$
#include "wudf_guest.h"
wudf_string shout(const char *s, int32_t len) {
  char *out = (char *)wudf_alloc_bytes((size_t)len + 1);
  if (!out) __builtin_trap();
  for (int32_t i = 0; i < len; i++)
    out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
  out[len] = '!';
  return WUDF_STRING(out, len + 1);
}
$$;
SELECT shout('hello'::varchar), shout(''), length(shout(repeat('ab', 50000)));

-- text in, numbers out; numbers in, text out
CREATE FUNCTION count_char(text, integer) RETURNS bigint
LANGUAGE wasm_c STRICT AS $$
long long count_char(const char *s, int len, int c) {
  long long n = 0;
  for (int i = 0; i < len; i++) n += s[i] == c;
  return n;
}
$$;
SELECT count_char('banana', ascii('a'));

CREATE FUNCTION sign_word(real) RETURNS text
LANGUAGE wasm_c STRICT AS $$
#include "wudf_guest.h"
wudf_string sign_word(float x) {
  static const char pos[] = "positive", neg[] = "negative", zero[] = "zero";
  if (x > 0) return WUDF_STRING(pos, 8);
  if (x < 0) return WUDF_STRING(neg, 8);
  return WUDF_STRING(zero, 4);
}
$$;
SELECT sign_word(2.5), sign_word(-1), sign_word(0);

-- the UDF named in the source when it is not the SQL name
CREATE FUNCTION triple(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
// wudf-symbol: times_three
int times_three(int x) { return 3 * x; }
$$;
SELECT triple(14);

-- CREATE OR REPLACE takes effect in the same session
CREATE OR REPLACE FUNCTION triple(integer) RETURNS integer
LANGUAGE wasm_c STRICT AS $$
int triple(int x) { return x + x + x + 1000; }
$$;
SELECT triple(14);

-- LANGUAGE wasm: a module as bytea hex ...
CREATE FUNCTION add_one(integer) RETURNS integer
LANGUAGE wasm STRICT AS '\x0061736d0100000001060160017f017f03020100070b01076164645f6f6e6500000a09010700200041016a0b';
SELECT add_one(41), add_one(2147483647);

-- ... or as WebAssembly text
CREATE FUNCTION mul_add(double precision, double precision) RETURNS double precision
LANGUAGE wasm STRICT AS $$
(module
  (func (export "mul_add") (param $a f64) (param $b f64) (result f64)
    (f64.add (f64.mul (local.get $a) (local.get $b)) (f64.const 1))))
$$;
SELECT mul_add(6, 7);

CREATE FUNCTION is_even(bigint) RETURNS boolean
LANGUAGE wasm STRICT AS $$
(module
  (func (export "is_even") (param $x i64) (result i32)
    (i64.eqz (i64.rem_u (local.get $x) (i64.const 2)))))
$$;
SELECT is_even(10), is_even(7);

-- over many rows
SELECT sum(calculate_adj_bal(g, 0.5)::float8) FROM generate_series(1, 10000) g;
SELECT count(*) FROM generate_series(1, 10000) g WHERE is_rich(g * 10);
