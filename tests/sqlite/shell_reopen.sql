-- A second shell on the same database: the functions are back.
PRAGMA trusted_schema = OFF;
SELECT email_domain(email) FROM accounts WHERE id = 2;
SELECT wudf_config('timeout_ms');
SELECT * FROM domains;
SELECT wudf_undefine('spin');
SELECT name FROM wudf_functions ORDER BY name;
