/*
 * make bench-sqlite: SELECT sum(calculate_adj_bal(balance, rate)) over an
 * in-memory table, with the function as a wudf UDF (direct calls, then
 * 1-row batches), as the same expression in SQL, and as the same C compiled
 * natively into the extension (wudf_bench.so only).
 *
 *     bench_sqlite WUDF_BENCH.so [ROWS [RUNS]]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) fprintf(stderr, "%s: %s\n", sql, msg ? msg : "?");
  sqlite3_free(msg);
  return rc;
}

static int fill(sqlite3 *db, long rows) {
  if (exec(db, "CREATE TABLE accounts(balance INTEGER, rate REAL)") ||
      exec(db, "BEGIN"))
    return 1;
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db, "INSERT INTO accounts VALUES (?1, ?2)", -1, &st, NULL);
  for (long i = 0; i < rows; i++) {
    sqlite3_bind_int(st, 1, (int)((i * 7919) % 100000));
    sqlite3_bind_double(st, 2, (double)(i % 100) / 100.0);
    if (sqlite3_step(st) != SQLITE_DONE) return 1;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  return exec(db, "COMMIT");
}

/* Best time of `runs` runs of `sql`, whose one value goes to *value. */
static double best_of(sqlite3 *db, const char *sql, int runs, double *value) {
  double best = 1e30;
  for (int r = 0; r < runs; r++) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
      fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
      return -1;
    }
    double t0 = now_s();
    int rc = sqlite3_step(st);
    double t = now_s() - t0;
    if (rc != SQLITE_ROW) {
      fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
      sqlite3_finalize(st);
      return -1;
    }
    *value = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    if (t < best) best = t;
  }
  return best;
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = calloc(1, 1 << 16);
  if (buf && fread(buf, 1, (1 << 16) - 1, f) == 0) buf[0] = '\0';
  fclose(f);
  return buf;
}

static int define(sqlite3 *db, const char *src_path) {
  char *src = read_file(src_path);
  if (!src) return fprintf(stderr, "cannot read %s\n", src_path), 1;
  char *sql =
      sqlite3_mprintf("SELECT wudf_define('calculate_adj_bal', %Q, 'c')", src);
  double t0 = now_s();
  int rc = exec(db, sql);
  printf("wudf_define (compile, or from the cache): %.0f ms\n",
         (now_s() - t0) * 1e3);
  sqlite3_free(sql);
  free(src);
  return rc;
}

typedef struct bench_query {
  const char *label, *setup, *sql;
} bench_query;

static const bench_query k_queries[] = {
    {"SQL expression", NULL,
     "SELECT sum(CAST(balance AS REAL) * rate + balance / 1000) FROM "
     "accounts"},
    {"native C function", NULL,
     "SELECT sum(native_adj_bal(balance, rate)) FROM accounts"},
    {"wudf UDF, direct call", "SELECT wudf_config('batch_path', 0)",
     "SELECT sum(calculate_adj_bal(balance, rate)) FROM accounts"},
    {"wudf UDF, 1-row batches", "SELECT wudf_config('batch_path', 1)",
     "SELECT sum(calculate_adj_bal(balance, rate)) FROM accounts"},
};
#define NQUERIES (sizeof k_queries / sizeof k_queries[0])

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s WUDF_BENCH.so [ROWS [RUNS]]\n", argv[0]);
    return 2;
  }
  long rows = argc > 2 ? atol(argv[2]) : 1000000;
  int runs = argc > 3 ? atoi(argv[3]) : 5;
  sqlite3 *db = NULL;
  sqlite3_open(":memory:", &db);
  sqlite3_enable_load_extension(db, 1);
  char *msg = NULL;
  if (sqlite3_load_extension(db, argv[1], "sqlite3_wudf_init", &msg) !=
      SQLITE_OK) {
    fprintf(stderr, "load %s: %s\n", argv[1], msg ? msg : "?");
    return 1;
  }
  if (fill(db, rows) || define(db, "examples/udfs/calculate_adj_bal.c"))
    return 1;
  printf("SQLite %s, %ld rows, best of %d runs\n\n", sqlite3_libversion(), rows,
         runs);
  double t[NQUERIES], v[NQUERIES];
  for (size_t i = 0; i < NQUERIES; i++) {
    if (k_queries[i].setup && exec(db, k_queries[i].setup)) return 1;
    t[i] = best_of(db, k_queries[i].sql, runs, &v[i]);
    if (t[i] < 0) return 1;
  }
  printf("%-26s %9s %8s %10s %9s  %s\n", "", "ms", "ns/row", "vs SQL",
         "vs native", "sum");
  for (size_t i = 0; i < NQUERIES; i++)
    printf("%-26s %9.1f %8.1f %9.2fx %8.2fx  %.6g\n", k_queries[i].label,
           t[i] * 1e3, t[i] * 1e9 / (double)rows, t[i] / t[0], t[i] / t[1],
           v[i]);
  sqlite3_close(db);
  return 0;
}
