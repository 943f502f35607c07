-- The extension from the sqlite3 shell (.load by run.sh). Errors are
-- printed in line with the results; shell.expected is the output.
.headers off
.mode list
SELECT wudf_define('email_domain', readfile('../../examples/udfs/email_domain.c'), 'c');
SELECT wudf_define('calculate_adj_bal', readfile('../../examples/udfs/calculate_adj_bal.c'), 'c');
SELECT wudf_define('div0', readfile('udfs/div0.c'), 'c');
SELECT wudf_define('spin', readfile('udfs/spin.c'), 'c');
SELECT wudf_define('count_vowels', readfile('udfs/count_vowels.wat'), 'wat', 'count_vowels(utf8) -> int32');
CREATE TABLE accounts(id INTEGER PRIMARY KEY, email TEXT, balance INTEGER, rate REAL);
INSERT INTO accounts VALUES (1, 'florette@example.com', 12507, 0.46),
  (2, 'stacy@mail.org', 59174, 0.41), (3, NULL, NULL, 0.64);
SELECT id, email_domain(email), round(calculate_adj_bal(balance, rate), 2) FROM accounts;
SELECT count_vowels(email) FROM accounts WHERE id = 1;
SELECT div0(1, 0);
SELECT div0(10, 3);
SELECT wudf_config('timeout_ms', 100);
SELECT spin(1);
SELECT email_domain('after@timeout.example');
SELECT email_domain(1);
SELECT calculate_adj_bal(1);
SELECT nosuch(1);
SELECT wudf_define('broken', 'int broken(int x) { return y; }', 'c');
SELECT name, signature, lang, deterministic FROM wudf_functions ORDER BY name;
CREATE VIEW domains AS SELECT email_domain(email) AS d FROM accounts;
