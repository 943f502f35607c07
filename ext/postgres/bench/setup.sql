-- make bench-postgres: the table and calculate_adj_bal four ways.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS wudf;
DROP TABLE IF EXISTS accounts;
CREATE TABLE accounts AS
  SELECT g AS id, (g::bigint * 7919 % 100000)::integer AS balance,
         ((g % 100) / 100.0)::real AS rate
  FROM generate_series(1, :rows) g;
VACUUM ANALYZE accounts;

CREATE OR REPLACE FUNCTION calculate_adj_bal(integer, real) RETURNS real
LANGUAGE wasm_c STRICT IMMUTABLE AS $$
float calculate_adj_bal(int balance, float rate) {
  return ((float)balance * rate) + (float)(balance / 1000);
}
$$;

CREATE OR REPLACE FUNCTION adj_bal_sql(balance integer, rate real) RETURNS real
LANGUAGE sql STRICT IMMUTABLE AS $$
  SELECT (balance::real * rate) + (balance / 1000)::real
$$;

CREATE OR REPLACE FUNCTION adj_bal_plpgsql(balance integer, rate real) RETURNS real
LANGUAGE plpgsql STRICT IMMUTABLE AS $$
BEGIN
  RETURN (balance::real * rate) + (balance / 1000)::real;
END
$$;

CREATE OR REPLACE FUNCTION adj_bal_native(integer, real) RETURNS real
AS '$libdir/adj_bal_native', 'adj_bal_native' LANGUAGE C STRICT IMMUTABLE;
