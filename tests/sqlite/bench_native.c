/*
 * Bench only (wudf_bench.so, make bench-sqlite): calculate_adj_bal compiled
 * natively from the same source as the UDF and registered as a plain
 * SQLite function with the same flags, the baseline of the benchmark.
 */
#include "wudf_sqlite.h"

SQLITE_EXTENSION_INIT3

#include "../../examples/udfs/calculate_adj_bal.c"

static void native_adj_bal(sqlite3_context *ctx, int argc,
                           sqlite3_value **argv) {
  (void)argc;
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL ||
      sqlite3_value_type(argv[1]) == SQLITE_NULL)
    return;
  int balance = (int)sqlite3_value_int64(argv[0]);
  float rate = (float)sqlite3_value_double(argv[1]);
  sqlite3_result_double(ctx, calculate_adj_bal(balance, rate));
}

int wsq_bench_register(sqlite3 *db);

int wsq_bench_register(sqlite3 *db) {
  return sqlite3_create_function(
      db, "native_adj_bal", 2,
      SQLITE_UTF8 | SQLITE_DIRECTONLY | SQLITE_DETERMINISTIC, NULL,
      native_adj_bal, NULL, NULL);
}
