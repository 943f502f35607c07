/*
 * Tests of the SQLite extension from a C program (docs/sqlite.md).
 *
 *     test_sqlite EXTENSION.so UDF_DIR TMP_DIR [TEST_NAME]
 *
 * Each test opens its own database in TMP_DIR and loads the extension the
 * way an application does (sqlite3_load_extension). The UDF sources are in
 * tests/sqlite/udfs. Ends with "N passed, N failed".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *g_ext, *g_udfs, *g_tmp;
static int g_failed_checks;

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
              #cond);                                                    \
      g_failed_checks++;                                                 \
    }                                                                    \
  } while (0)

/* The first column of the first row of `sql` (or the error message) as
 * text, in a static buffer; *rc gets the statement's result code. */
typedef struct result {
  int rc;
  char text[4096];
} result;

static result run(sqlite3 *db, const char *fmt, ...) {
  result r = {SQLITE_OK, ""};
  va_list ap;
  va_start(ap, fmt);
  char *sql = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  sqlite3_stmt *st = NULL;
  r.rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  sqlite3_free(sql);
  if (r.rc == SQLITE_OK) {
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
      const unsigned char *t = sqlite3_column_text(st, 0);
      snprintf(r.text, sizeof r.text, "%s", t ? (const char *)t : "NULL");
      while ((s = sqlite3_step(st)) == SQLITE_ROW) {
      }
    }
    r.rc = s == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
    if (s != SQLITE_DONE)
      snprintf(r.text, sizeof r.text, "%s", sqlite3_errmsg(db));
  } else {
    snprintf(r.text, sizeof r.text, "%s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  return r;
}

static bool ok_eq(result r, const char *want) {
  if (r.rc == SQLITE_OK && strcmp(r.text, want) == 0) return true;
  fprintf(stderr, "  got rc %d '%s', want '%s'\n", r.rc, r.text, want);
  return false;
}

static bool err_has(result r, int rc, const char *part) {
  if (r.rc == rc && strstr(r.text, part)) return true;
  fprintf(stderr, "  got rc %d '%s', want rc %d with '%s'\n", r.rc, r.text, rc,
          part);
  return false;
}

static char *read_file(const char *name, int *len) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", g_udfs, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(1 << 20);
  size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  *len = (int)n;
  return buf;
}

/* wudf_define(name, <contents of file>, lang [, sig]); the result. */
static result define(sqlite3 *db, const char *name, const char *file,
                     const char *lang, const char *sig) {
  result r = {SQLITE_ERROR, "cannot read the source"};
  int len = 0;
  char *src = read_file(file, &len);
  if (!src) return r;
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db, "SELECT wudf_define(?1, ?2, ?3, ?4)", -1, &st, NULL);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, src, len, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, lang, -1, SQLITE_STATIC);
  if (sig) sqlite3_bind_text(st, 4, sig, -1, SQLITE_STATIC);
  int s = sqlite3_step(st);
  r.rc = s == SQLITE_ROW ? SQLITE_OK : sqlite3_extended_errcode(db);
  const char *t = s == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
                                  : sqlite3_errmsg(db);
  snprintf(r.text, sizeof r.text, "%s", t ? t : "NULL");
  sqlite3_finalize(st);
  free(src);
  return r;
}

static bool define_ok(sqlite3 *db, const char *name, const char *file) {
  result r = define(db, name, file, "c", NULL);
  if (r.rc != SQLITE_OK) fprintf(stderr, "  define %s: %s\n", name, r.text);
  return r.rc == SQLITE_OK;
}

static sqlite3 *open_flags(const char *name, int flags) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.db", g_tmp, name);
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
    fprintf(stderr, "  open %s: %s\n", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_enable_load_extension(db, 1);
  char *msg = NULL;
  if (sqlite3_load_extension(db, g_ext, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "  load %s: %s\n", g_ext, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

static sqlite3 *open_db(const char *name) {
  return open_flags(name, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}

static void remove_db(const char *name) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.db", g_tmp, name);
  unlink(path);
}

/* ---- Tests --------------------------------------------------------------- */

static void test_types(void) {
  remove_db("types");
  sqlite3 *db = open_db("types");
  if (!db) {
    g_failed_checks++;
    return;
  }
  const char *names[] = {"i32_add", "i64_add", "f32_half", "f64_mul", "is_pos"};
  for (int i = 0; i < 5; i++) CHECK(define_ok(db, names[i], "types.c"));
  for (int batch = 0; batch <= 1; batch++) {
    CHECK(ok_eq(run(db, "SELECT wudf_config('batch_path', %d)", batch),
                batch ? "1" : "0"));
    CHECK(ok_eq(run(db, "SELECT i32_add(40, 2)"), "42"));
    CHECK(ok_eq(run(db, "SELECT typeof(i32_add(40, 2))"), "integer"));
    CHECK(ok_eq(run(db, "SELECT i32_add(2147483647, 1)"), "-2147483648"));
    CHECK(ok_eq(run(db, "SELECT i64_add(9000000000, 1)"), "9000000001"));
    CHECK(ok_eq(run(db, "SELECT f32_half(3)"), "1.5"));
    CHECK(ok_eq(run(db, "SELECT typeof(f32_half(3))"), "real"));
    CHECK(ok_eq(run(db, "SELECT f64_mul(1.5, 4)"), "6.0"));
    CHECK(ok_eq(run(db, "SELECT f64_mul(0.1, 3)"), "0.3"));
    CHECK(ok_eq(run(db, "SELECT is_pos(5) || is_pos(-5)"), "10"));
    CHECK(ok_eq(run(db, "SELECT is_pos(1) IS TRUE"), "1"));
    CHECK(ok_eq(run(db,
                    "SELECT sum(i32_add(value, 1)) FROM (WITH RECURSIVE "
                    "c(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM "
                    "c WHERE value < 1000) SELECT value FROM c)"),
                "501500"));
  }
  /* No text or blob becomes a number; REAL is not truncated to INTEGER. */
  CHECK(err_has(run(db, "SELECT i32_add('40', 2)"), SQLITE_MISMATCH,
                "i32_add(): argument 1 is TEXT, expected int32"));
  CHECK(err_has(run(db, "SELECT i64_add(1, 2.5)"), SQLITE_MISMATCH,
                "i64_add(): argument 2 is REAL, expected int64"));
  CHECK(err_has(run(db, "SELECT f64_mul(x'00', 1)"), SQLITE_MISMATCH,
                "argument 1 is BLOB, expected float64"));
  CHECK(err_has(run(db, "SELECT i32_add(4294967296, 1)"), SQLITE_MISMATCH,
                "argument 1 (4294967296) is out of range for int32"));
  sqlite3_close(db);
}

static void test_strings(void) {
  remove_db("strings");
  sqlite3 *db = open_db("strings");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(ok_eq(define(db, "email_domain",
                     "../../../examples/udfs/email_domain.c", "c", NULL),
              "email_domain(utf8) -> utf8"));
  CHECK(define_ok(db, "upper_ascii", "upper.c"));
  CHECK(
      ok_eq(run(db, "SELECT email_domain('joe@example.com')"), "example.com"));
  CHECK(ok_eq(run(db, "SELECT email_domain('no at sign') = ''"), "1"));
  CHECK(ok_eq(run(db, "SELECT email_domain('') = ''"), "1"));
  CHECK(ok_eq(run(db, "SELECT email_domain('é@ünïcødé.fr')"), "ünïcødé.fr"));
  CHECK(ok_eq(run(db, "SELECT upper_ascii('héllo, world')"), "HéLLO, WORLD"));
  CHECK(ok_eq(run(db,
                  "SELECT length(upper_ascii(printf('%%.*c', 100000, "
                  "'a')))"),
              "100000"));
  CHECK(ok_eq(run(db,
                  "SELECT count(DISTINCT email_domain('u' || value || "
                  "'@d' || (value %% 7))) FROM (WITH RECURSIVE c(value) AS "
                  "(SELECT 1 UNION ALL SELECT value + 1 FROM c WHERE "
                  "value < 5000) SELECT value FROM c)"),
              "7"));
  CHECK(err_has(run(db, "SELECT email_domain(42)"), SQLITE_MISMATCH,
                "email_domain(): argument 1 is INTEGER, expected utf8"));
  /* A result longer than SQLite's length limit. */
  CHECK(ok_eq(run(db,
                  "CREATE TABLE big AS SELECT printf('%%.*c', 5000, 'a') "
                  "AS s"),
              ""));
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1000);
  CHECK(err_has(run(db, "SELECT upper_ascii(s) FROM big"), SQLITE_TOOBIG,
                "too big"));
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1000000000);
  CHECK(ok_eq(run(db, "SELECT length(upper_ascii(s)) FROM big"), "5000"));
  /* A result that is not UTF-8 is an error, not a corrupt TEXT value. */
  CHECK(define_ok(db, "bad_utf8", "bad_utf8.c"));
  CHECK(err_has(run(db, "SELECT bad_utf8(1)"), SQLITE_ERROR, "UTF-8"));
  CHECK(ok_eq(run(db, "SELECT email_domain('a@b')"), "b"));
  sqlite3_close(db);
}

static void test_nulls(void) {
  remove_db("nulls");
  sqlite3 *db = open_db("nulls");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "div0", "div0.c"));
  CHECK(define_ok(db, "coalesce2", "coalesce2.c"));
  CHECK(ok_eq(run(db,
                  "SELECT * FROM wudf_functions WHERE name = "
                  "'coalesce2'"),
              "coalesce2"));
  CHECK(ok_eq(run(db,
                  "SELECT signature FROM wudf_functions WHERE name = "
                  "'coalesce2'"),
              "coalesce2(int32, int32) -> int32 nulls"));
  /* Strict: not called (a call with b = 0 would trap). */
  CHECK(ok_eq(run(db, "SELECT div0(NULL, 0)"), "NULL"));
  CHECK(ok_eq(run(db, "SELECT div0(1, NULL)"), "NULL"));
  for (int batch = 0; batch <= 1; batch++) {
    run(db, "SELECT wudf_config('batch_path', %d)", batch);
    CHECK(ok_eq(run(db, "SELECT coalesce2(NULL, 7)"), "7"));
    CHECK(ok_eq(run(db, "SELECT coalesce2(3, NULL)"), "3"));
    CHECK(ok_eq(run(db, "SELECT coalesce2(NULL, NULL)"), "-1"));
  }
  sqlite3_close(db);
}

static void test_compile_errors(void) {
  remove_db("compile");
  sqlite3 *db = open_db("compile");
  if (!db) {
    g_failed_checks++;
    return;
  }
  result r = run(db,
                 "SELECT wudf_define('bad', 'int bad(int x) {\n"
                 "  return x +;\n}\n', 'c')");
  CHECK(err_has(r, SQLITE_ERROR, "wudf_define: bad: does not compile"));
  CHECK(err_has(r, SQLITE_ERROR, "bad.c:2:13: error: expected expression"));
  CHECK(err_has(r, SQLITE_ERROR, "  return x +;\n            ^"));
  r = run(db,
          "SELECT wudf_define('twice', '(module (func (export \"twice\") "
          "(param i32) (result i32) (i32.mul (local.get 0) (i32.const "
          "2)) (oops)))', 'wat')");
  CHECK(err_has(r, SQLITE_ERROR, "twice.wat:1:"));
  CHECK(err_has(run(db,
                    "SELECT wudf_define('f', 'int g(void) { return 1; }', "
                    "'c')"),
                SQLITE_ERROR, "does not compile"));
  CHECK(err_has(run(db, "SELECT wudf_define('f', 'x', 'cobol')"), SQLITE_ERROR,
                "unknown language 'cobol'"));
  CHECK(err_has(run(db, "SELECT wudf_define('1f', 'x', 'c')"), SQLITE_ERROR,
                "not a valid function name"));
  CHECK(err_has(run(db, "SELECT wudf_define('wudf_define', 'x', 'c')"),
                SQLITE_ERROR, "not a valid function name"));
  CHECK(err_has(run(db,
                    "SELECT wudf_define('f', x'0061736d01000000ff', "
                    "'wasm')"),
                SQLITE_ERROR, "wudf_define: f: "));
  CHECK(err_has(run(db, "SELECT wudf_define('f', x'00', 'wasm')"), SQLITE_ERROR,
                "wudf_define: f: "));
  /* Nothing was registered or stored by the failures. */
  CHECK(ok_eq(run(db, "SELECT count(*) FROM wudf_functions"), "0"));
  CHECK(
      err_has(run(db, "SELECT bad(1)"), SQLITE_ERROR, "no such function: bad"));
  sqlite3_close(db);
}

static void test_call_errors(void) {
  remove_db("callerr");
  sqlite3 *db = open_db("callerr");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "div0", "div0.c"));
  CHECK(err_has(run(db, "SELECT nosuch(1)"), SQLITE_ERROR,
                "no such function: nosuch"));
  CHECK(err_has(run(db, "SELECT div0(1)"), SQLITE_ERROR,
                "wrong number of arguments to function div0()"));
  CHECK(err_has(run(db, "SELECT div0(1, 2, 3)"), SQLITE_ERROR,
                "wrong number of arguments to function div0()"));
  CHECK(err_has(run(db, "SELECT wudf_config('nope')"), SQLITE_ERROR,
                "unknown setting 'nope'"));
  CHECK(err_has(run(db, "SELECT wudf_config('timeout_ms', 0)"), SQLITE_ERROR,
                "timeout_ms must be an integer from 1"));
  CHECK(err_has(run(db, "SELECT wudf_config('memory_limit_mb', 'x')"),
                SQLITE_ERROR, "memory_limit_mb must be an integer"));
  CHECK(err_has(run(db, "SELECT wudf_undefine('nosuch')"), SQLITE_ERROR,
                "no function named 'nosuch'"));
  /* NULLs and odd values where the extension's functions take text. */
  CHECK(err_has(run(db, "SELECT wudf_define(NULL, 'x', 'c')"), SQLITE_ERROR,
                "the name must be TEXT"));
  CHECK(err_has(run(db, "SELECT wudf_define('f', NULL, 'c')"), SQLITE_ERROR,
                "the source must be TEXT or a BLOB"));
  CHECK(err_has(run(db, "SELECT wudf_define('f', 'x', NULL)"), SQLITE_ERROR,
                "unknown language 'NULL'"));
  CHECK(err_has(run(db, "SELECT wudf_config(NULL, NULL)"), SQLITE_ERROR,
                "unknown setting 'NULL'"));
  CHECK(err_has(run(db, "SELECT wudf_undefine(NULL)"), SQLITE_ERROR,
                "no function named 'NULL'"));
  CHECK(err_has(run(db,
                    "SELECT wudf_define('f', zeroblob(100000000), "
                    "'wasm')"),
                SQLITE_ERROR, "the limit is"));
  /* SQLite's own functions (and other extensions') stay what they are. */
  CHECK(err_has(run(db,
                    "SELECT wudf_define('upper', 'int upper(int x) { "
                    "return x; }', 'c')"),
                SQLITE_ERROR, "upper() is already an SQL function"));
  CHECK(err_has(run(db, "SELECT wudf_define('sum', 'x', 'c')"), SQLITE_ERROR,
                "sum() is already an SQL function"));
  CHECK(err_has(run(db, "SELECT wudf_define('select', 'x', 'c')"), SQLITE_ERROR,
                "select() is already an SQL function"));
  /* No arguments, and the most there may be. */
  CHECK(ok_eq(run(db,
                  "SELECT wudf_define('seven', 'int seven(void) { "
                  "return 7; }', 'c')"),
              "seven() -> int32"));
  CHECK(ok_eq(run(db, "SELECT seven()"), "7"));
  CHECK(ok_eq(run(db,
                  "SELECT wudf_define('p16', 'int p16(int a, int b, int "
                  "c, int d, int e, int f, int g, int h, int i, int j, "
                  "int k, int l, int m, int n, int o, int p) { return a "
                  "+ p; }', 'c')"),
              "p16(int32, int32, int32, int32, int32, int32, int32, int32, "
              "int32, int32, int32, int32, int32, int32, int32, int32) -> "
              "int32"));
  CHECK(ok_eq(run(db,
                  "SELECT p16(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, "
                  "14, 15, 16)"),
              "17"));
  sqlite3_close(db);
}

static void test_hostile(void) {
  remove_db("hostile");
  sqlite3 *db = open_db("hostile");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "spin", "spin.c"));
  CHECK(define_ok(db, "blowup", "blowup.c"));
  CHECK(define_ok(db, "deep", "deep.c"));
  CHECK(define_ok(db, "div0", "div0.c"));
  CHECK(ok_eq(run(db, "SELECT wudf_config('timeout_ms', 300)"), "300"));
  struct {
    const char *sql, *want;
  } cases[] = {
      {"SELECT spin(1)", "spin.c: calling 'spin': time limit exceeded"},
      {"SELECT blowup(1)", "blowup.c: calling 'blowup': "},
      {"SELECT deep(100000000)",
       "deep.c: calling 'deep': call stack exhausted"},
      {"SELECT div0(1, 0)", "div0.c: calling 'div0': integer divide by zero"},
  };
  for (int round = 0; round < 2; round++) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      CHECK(err_has(run(db, "%s", cases[i].sql), SQLITE_ERROR, cases[i].want));
      CHECK(ok_eq(run(db, "SELECT div0(84, 2)"), "42"));
      CHECK(ok_eq(run(db, "SELECT deep(10)"), "10"));
    }
  }
  CHECK(err_has(run(db, "SELECT blowup(1)"), SQLITE_ERROR,
                "memory.grow was refused earlier at the 64 MiB limit"));
  /* An error on one row stops the statement; the connection goes on. */
  CHECK(err_has(run(db, "SELECT div0(10, column1) FROM (VALUES (1), (0), (2))"),
                SQLITE_ERROR, "integer divide by zero"));
  CHECK(ok_eq(run(db, "SELECT sum(div0(10, column1)) FROM (VALUES (1), (5))"),
              "12"));
  sqlite3_close(db);
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int trap_many(sqlite3 *db, int n) {
  int traps = 0;
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db, "SELECT div0(?1, 0)", -1, &st, NULL);
  for (int i = 0; i < n; i++) {
    sqlite3_bind_int(st, 1, i);
    if (sqlite3_step(st) == SQLITE_ERROR) traps++;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  return traps;
}

static void test_many_traps(void) {
  remove_db("traps");
  sqlite3 *db = open_db("traps");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "div0", "div0.c"));
  CHECK(trap_many(db, 200) == 200);
  long before = rss_kib();
  CHECK(trap_many(db, 1000) == 1000);
  long after = rss_kib();
  fprintf(stderr, "  RSS after 200 traps %ld KiB, after 1,200 %ld KiB\n",
          before, after);
  CHECK(after - before < 4096);
  CHECK(ok_eq(run(db, "SELECT div0(9, 3)"), "3"));
  sqlite3_close(db);
}

static void test_reopen(void) {
  remove_db("reopen");
  sqlite3 *db = open_db("reopen");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "div0", "div0.c"));
  CHECK(define_ok(db, "coalesce2", "coalesce2.c"));
  CHECK(ok_eq(define(db, "count_vowels", "count_vowels.wat", "wat",
                     "count_vowels(utf8) -> int32"),
              "count_vowels(utf8) -> int32"));
  CHECK(ok_eq(run(db, "SELECT wudf_config('timeout_ms', 5000)"), "5000"));
  sqlite3_close(db);
  /* The stored wasm is what gets loaded: without the sources, the
   * functions still come back. */
  sqlite3_open(":memory:", &db);
  run(db, "ATTACH '%q/reopen.db' AS r", g_tmp);
  CHECK(ok_eq(run(db, "UPDATE r.wudf_functions_def SET source = NULL"), ""));
  CHECK(ok_eq(run(db,
                  "SELECT count(*) FROM r.wudf_functions_def WHERE "
                  "source IS NULL AND length(wasm) > 0"),
              "3"));
  sqlite3_close(db);
  db = open_db("reopen");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(ok_eq(run(db, "SELECT div0(10, 5)"), "2"));
  CHECK(ok_eq(run(db, "SELECT coalesce2(NULL, 5)"), "5"));
  CHECK(ok_eq(run(db, "SELECT count_vowels('Education')"), "5"));
  CHECK(ok_eq(run(db,
                  "SELECT group_concat(f, ' ') FROM (SELECT name || "
                  "':' || lang || ':' || deterministic AS f FROM "
                  "wudf_functions ORDER BY name)"),
              "coalesce2:c:1 count_vowels:wat:1 div0:c:1"));
  /* Limits are per connection: back to the defaults. */
  CHECK(ok_eq(run(db, "SELECT wudf_config('timeout_ms')"), "1000"));
  CHECK(ok_eq(run(db, "SELECT wudf_undefine('div0')"), "1"));
  CHECK(err_has(run(db, "SELECT div0(1, 1)"), SQLITE_ERROR,
                "div0(): not defined"));
  sqlite3_close(db);
  db = open_db("reopen");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(err_has(run(db, "SELECT div0(1, 1)"), SQLITE_ERROR,
                "no such function: div0"));
  CHECK(ok_eq(run(db, "SELECT count(*) FROM wudf_functions_def"), "2"));
  /* A stored definition named like a built-in is not registered: the
   * database cannot put its code behind upper(). */
  CHECK(ok_eq(run(db,
                  "INSERT INTO wudf_functions_def SELECT 'upper', lang, "
                  "NULL, wasm, 'upper(utf8) -> utf8' FROM "
                  "wudf_functions_def WHERE name = 'count_vowels'"),
              ""));
  sqlite3_close(db);
  db = open_db("reopen");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(ok_eq(run(db, "SELECT upper('abc')"), "ABC"));
  CHECK(ok_eq(run(db,
                  "SELECT count(*) FROM wudf_functions WHERE name = "
                  "'upper'"),
              "0"));
  /* A stored module that no longer loads: the function says why. */
  CHECK(ok_eq(run(db,
                  "UPDATE wudf_functions_def SET wasm = x'0061736d' "
                  "WHERE name = 'coalesce2' RETURNING 1"),
              "1"));
  sqlite3_close(db);
  db = open_db("reopen");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(err_has(run(db, "SELECT coalesce2(1, 2)"), SQLITE_ERROR,
                "coalesce2(): the stored definition could not be loaded"));
  CHECK(ok_eq(run(db,
                  "SELECT error IS NOT NULL FROM wudf_functions WHERE "
                  "name = 'coalesce2'"),
              "1"));
  CHECK(ok_eq(run(db, "SELECT count_vowels('aeiou')"), "5"));
  sqlite3_close(db);
}

static void test_directonly(void) {
  remove_db("direct");
  sqlite3 *db = open_db("direct");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "div0", "div0.c"));
  CHECK(ok_eq(run(db, "CREATE TABLE t(x INTEGER)"), ""));
  CHECK(ok_eq(run(db, "INSERT INTO t VALUES (10), (20)"), ""));
  CHECK(ok_eq(run(db, "CREATE VIEW v AS SELECT div0(x, 2) AS y FROM t"), ""));
  CHECK(ok_eq(run(db, "CREATE TABLE log(y)"), ""));
  CHECK(ok_eq(run(db,
                  "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO "
                  "log VALUES (div0(new.x, 2)); END"),
              ""));
  sqlite3_close(db);
  db = open_db("direct");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(ok_eq(run(db, "PRAGMA trusted_schema = OFF"), ""));
  CHECK(err_has(run(db, "SELECT * FROM v"), SQLITE_ERROR,
                "unsafe use of div0()"));
  CHECK(err_has(run(db, "INSERT INTO t VALUES (30)"), SQLITE_ERROR,
                "unsafe use of div0()"));
  /* The same function from top-level SQL works. */
  CHECK(ok_eq(run(db, "SELECT sum(div0(x, 2)) FROM t"), "15"));
  /* So do the extension's own functions, and not from a view. */
  CHECK(ok_eq(run(db,
                  "CREATE VIEW cfg AS SELECT wudf_config('timeout_ms', "
                  "1) AS c"),
              ""));
  CHECK(err_has(run(db, "SELECT * FROM cfg"), SQLITE_ERROR,
                "unsafe use of wudf_config()"));
  CHECK(ok_eq(run(db, "SELECT wudf_config('timeout_ms')"), "1000"));
  sqlite3_close(db);
}

static void test_deterministic(void) {
  remove_db("determ");
  sqlite3 *db = open_db("determ");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "div0", "div0.c"));
  CHECK(define_ok(db, "now_ms", "now_ms.c"));
  CHECK(ok_eq(run(db,
                  "SELECT group_concat(f) FROM (SELECT name || '=' || "
                  "deterministic AS f FROM wudf_functions ORDER BY name)"),
              "div0=1,now_ms=0"));
  CHECK(ok_eq(run(db, "CREATE TABLE t(x INTEGER)"), ""));
  CHECK(err_has(run(db, "CREATE INDEX bad ON t(now_ms(x))"), SQLITE_ERROR,
                "non-deterministic functions prohibited in index "
                "expressions"));
  CHECK(err_has(run(db, "CREATE TABLE g(x, y AS (now_ms(x)))"), SQLITE_ERROR,
                "non-deterministic functions prohibited in generated "
                "columns"));
  /* A deterministic function passes that check, and is then refused as
   * DIRECTONLY: wudf functions never run from a schema. */
  CHECK(err_has(run(db, "CREATE INDEX good ON t(div0(x, 1))"), SQLITE_ERROR,
                "unsafe use of div0()"));
  CHECK(err_has(run(db, "CREATE TABLE g(x, y AS (div0(x, 1)))"), SQLITE_ERROR,
                "unsafe use of div0()"));
  /* Deterministic with constant arguments: SQLite may evaluate it once per
   * statement. A clock is read on every row. */
  CHECK(ok_eq(run(db,
                  "SELECT count(DISTINCT div0(8, 2)) FROM (WITH "
                  "RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 "
                  "FROM c WHERE v < 100) SELECT v FROM c)"),
              "1"));
  sqlite3_close(db);
}

static void test_redefine(void) {
  remove_db("redefine");
  sqlite3 *db = open_db("redefine");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(ok_eq(run(db,
                  "SELECT wudf_define('f', 'int f(int x) { return x + 1; "
                  "}', 'c')"),
              "f(int32) -> int32"));
  CHECK(ok_eq(run(db, "SELECT f(1)"), "2"));
  CHECK(ok_eq(run(db,
                  "SELECT wudf_define('f', 'int f(int x) { return x + 2; "
                  "}', 'c')"),
              "f(int32) -> int32"));
  CHECK(ok_eq(run(db, "SELECT f(1)"), "3"));
  CHECK(ok_eq(run(db,
                  "SELECT wudf_define('f', 'int f(int x, int y) { return "
                  "x * y; }', 'c')"),
              "f(int32, int32) -> int32"));
  CHECK(ok_eq(run(db, "SELECT f(6, 7)"), "42"));
  CHECK(err_has(run(db, "SELECT f(1)"), SQLITE_ERROR,
                "wrong number of arguments to function f(): it takes 2"));
  CHECK(ok_eq(run(db, "SELECT count(*) FROM wudf_functions_def"), "1"));
  /* Deterministic name, clock-reading code. */
  CHECK(err_has(run(db,
                    "SELECT wudf_define('f', '#include <time.h>\nint "
                    "f(int x, int y) { return (int)time(0) + x + y; }', "
                    "'c')"),
                SQLITE_ERROR, "is registered as deterministic"));
  CHECK(ok_eq(run(db, "SELECT f(6, 7)"), "42"));
  /* Case-insensitive, like SQL function names. */
  CHECK(ok_eq(run(db, "SELECT F(2, 3)"), "6"));
  CHECK(ok_eq(run(db, "SELECT wudf_undefine('F')"), "1"));
  CHECK(err_has(run(db, "SELECT f(2, 3)"), SQLITE_ERROR, "not defined"));
  CHECK(ok_eq(run(db, "SELECT count(*) FROM wudf_functions"), "0"));
  CHECK(ok_eq(run(db,
                  "SELECT wudf_define('f', 'int f(int x, int y) { return "
                  "x - y; }', 'c')"),
              "f(int32, int32) -> int32"));
  CHECK(ok_eq(run(db, "SELECT f(2, 3)"), "-1"));
  sqlite3_close(db);
}

static void test_wat_wasm(void) {
  remove_db("watwasm");
  sqlite3 *db = open_db("watwasm");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(ok_eq(run(db,
                  "SELECT wudf_define('twice', '(module (func (export "
                  "\"twice\") (param i64) (result i64) (i64.mul "
                  "(local.get 0) (i64.const 2))))', 'wat')"),
              "twice(int64) -> int64"));
  CHECK(ok_eq(run(db, "SELECT twice(21)"), "42"));
  CHECK(ok_eq(define(db, "count_vowels", "count_vowels.wat", "wat",
                     "count_vowels(utf8) -> int32"),
              "count_vowels(utf8) -> int32"));
  CHECK(ok_eq(run(db, "SELECT count_vowels('Sequoia')"), "5"));
  CHECK(err_has(define(db, "count_vowels", "count_vowels.wat", "wat",
                       "other(utf8) -> int32"),
                SQLITE_ERROR, "is for another function"));
  CHECK(err_has(define(db, "count_vowels", "count_vowels.wat", "wat",
                       "count_vowels(utf8 -> int32"),
                SQLITE_ERROR, "signature 'count_vowels(utf8 -> int32'"));
  sqlite3_close(db);
  /* The module bytes of one database defined in another, as 'wasm'. */
  remove_db("wasm2");
  sqlite3 *db2 = open_db("wasm2");
  if (!db2) {
    g_failed_checks++;
    return;
  }
  run(db2, "ATTACH '%q/watwasm.db' AS w", g_tmp);
  CHECK(ok_eq(run(db2,
                  "SELECT wudf_define('twice', (SELECT wasm FROM "
                  "w.wudf_functions_def WHERE name = 'twice'), 'wasm')"),
              "twice(int64) -> int64"));
  CHECK(ok_eq(run(db2, "SELECT twice(5)"), "10"));
  CHECK(err_has(run(db2,
                    "SELECT wudf_define('thrice', (SELECT wasm FROM "
                    "w.wudf_functions_def WHERE name = 'twice'), "
                    "'wasm')"),
                SQLITE_ERROR,
                "the module has no UDF named 'thrice' (its "
                "UDFs: twice"));
  CHECK(ok_eq(run(db2,
                  "SELECT lang || ' ' || (source IS NULL) FROM "
                  "main.wudf_functions_def"),
              "wasm 1"));
  sqlite3_close(db2);
}

static void test_memory_limit(void) {
  remove_db("memlimit");
  sqlite3 *db = open_db("memlimit");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "big", "big.c"));
  CHECK(ok_eq(run(db, "SELECT big(32)"), "1"));
  CHECK(ok_eq(run(db, "SELECT wudf_config('memory_limit_mb', 16)"), "16"));
  CHECK(err_has(run(db, "SELECT big(32)"), SQLITE_ERROR,
                "memory.grow was refused earlier at the 16 MiB limit"));
  CHECK(ok_eq(run(db, "SELECT big(4)"), "1"));
  CHECK(ok_eq(run(db, "SELECT wudf_config('memory_limit_mb', 128)"), "128"));
  CHECK(ok_eq(run(db, "SELECT big(100)"), "1"));
  sqlite3_close(db);
}

typedef struct interrupter {
  sqlite3 *db;
  int after_ms;
  void (*interrupt)(sqlite3 *);
} interrupter;

static void *interrupt_later(void *arg) {
  interrupter *it = arg;
  struct timespec ts = {0, (long)it->after_ms * 1000000L};
  nanosleep(&ts, NULL);
  it->interrupt(it->db);
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static result run_interrupted(sqlite3 *db, int after_ms,
                              void (*interrupt)(sqlite3 *), const char *sql,
                              double *seconds) {
  interrupter it = {db, after_ms, interrupt};
  pthread_t th;
  double t0 = now_s();
  pthread_create(&th, NULL, interrupt_later, &it);
  result r = run(db, "%s", sql);
  *seconds = now_s() - t0;
  pthread_join(th, NULL);
  return r;
}

static void test_interrupt(void) {
  remove_db("interrupt");
  sqlite3 *db = open_db("interrupt");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "slow", "slow.c"));
  CHECK(define_ok(db, "spin", "spin.c"));
  double s = 0;
  /* Between rows: SQLite stops the statement at the next row. */
  result r =
      run_interrupted(db, 200, sqlite3_interrupt,
                      "SELECT sum(slow(20 + v - v)) FROM (WITH RECURSIVE c(v) "
                      "AS (SELECT 1 UNION ALL "
                      "SELECT v + 1 FROM c WHERE v < 100000) SELECT v FROM c)",
                      &s);
  CHECK(err_has(r, SQLITE_INTERRUPT, "interrupted"));
  CHECK(s < 1.5);
  fprintf(stderr, "  interrupted between rows after %.3f s\n", s);
  /* Inside one endless call: the call's time limit ends it. */
  CHECK(ok_eq(run(db, "SELECT wudf_config('timeout_ms', 700)"), "700"));
  r = run_interrupted(db, 100, sqlite3_interrupt, "SELECT spin(1)", &s);
  CHECK(err_has(r, SQLITE_ERROR, "time limit exceeded"));
  CHECK(s > 0.6 && s < 2.0);
  fprintf(stderr, "  sqlite3_interrupt inside a call: %.3f s\n", s);
  CHECK(ok_eq(run(db, "SELECT slow(1)"), "1"));
  /* The extension's own interrupt stops the call itself. */
  void *h = dlopen(g_ext, RTLD_NOW | RTLD_NOLOAD);
  void *sym = h ? dlsym(h, "sqlite3_wudf_interrupt") : NULL;
  void (*wudf_interrupt)(sqlite3 *) = NULL;
  memcpy(&wudf_interrupt, &sym, sizeof sym); /* ISO C: no cast */
  CHECK(wudf_interrupt != NULL);
  if (!wudf_interrupt) return;
  CHECK(ok_eq(run(db, "SELECT wudf_config('timeout_ms', 5000)"), "5000"));
  for (int i = 0; i < 3; i++) {
    r = run_interrupted(db, 100, wudf_interrupt, "SELECT spin(1)", &s);
    CHECK(err_has(r, SQLITE_INTERRUPT, "spin.c: calling 'spin': interrupted"));
    CHECK(s < 1.0);
    fprintf(stderr, "  sqlite3_wudf_interrupt inside a call: %.3f s\n", s);
    CHECK(ok_eq(run(db, "SELECT slow(1)"), "1"));
  }
  /* With no call running it does no more than sqlite3_interrupt(). */
  wudf_interrupt(db);
  CHECK(ok_eq(run(db, "SELECT slow(2)"), "2"));
  dlclose(h);
  sqlite3_close(db);
}

static void test_double_load(void) {
  remove_db("double");
  sqlite3 *db = open_db("double");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "div0", "div0.c"));
  char *msg = NULL;
  CHECK(sqlite3_load_extension(db, g_ext, NULL, &msg) == SQLITE_OK);
  sqlite3_free(msg);
  CHECK(ok_eq(run(db, "SELECT load_extension('%q')", g_ext), "NULL"));
  CHECK(ok_eq(run(db, "SELECT div0(8, 2)"), "4"));
  CHECK(ok_eq(run(db, "SELECT count(*) FROM wudf_functions"), "1"));
  sqlite3_close(db);
  /* Read-only database: the stored functions load; defining fails. */
  db = open_flags("double", SQLITE_OPEN_READONLY);
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(ok_eq(run(db, "SELECT div0(8, 2)"), "4"));
  CHECK(err_has(run(db,
                    "SELECT wudf_define('g', 'int g(int x) { return x; "
                    "}', 'c')"),
                SQLITE_READONLY, "wudf_functions_def"));
  CHECK(err_has(run(db, "SELECT g(1)"), SQLITE_ERROR, "g()"));
  sqlite3_close(db);
}

/* Random bytes after a valid header, and a valid module with bytes
 * changed: each definition fails with a message or works; never a crash. */
static void test_garbage_modules(void) {
  remove_db("garbage");
  sqlite3 *db = open_db("garbage");
  if (!db) {
    g_failed_checks++;
    return;
  }
  unsigned seed = 12345;
  int refused = 0;
  for (int i = 0; i < 300; i++) {
    unsigned char buf[256] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    size_t n = 8 + (size_t)(rand_r(&seed) % 248);
    for (size_t k = 8; k < n; k++) buf[k] = (unsigned char)rand_r(&seed);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT wudf_define('g', ?1, 'wasm')", -1, &st,
                       NULL);
    sqlite3_bind_blob(st, 1, buf, (int)n, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ERROR &&
        strstr(sqlite3_errmsg(db), "wudf_define: g: "))
      refused++;
    sqlite3_finalize(st);
  }
  CHECK(refused == 300);
  CHECK(ok_eq(run(db,
                  "SELECT wudf_define('twice', '(module (func (export "
                  "\"twice\") (param i64) (result i64) (i64.mul "
                  "(local.get 0) (i64.const 2))))', 'wat')"),
              "twice(int64) -> int64"));
  unsigned char mod[4096];
  int len = 0;
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db, "SELECT wasm FROM wudf_functions_def", -1, &st, NULL);
  if (sqlite3_step(st) == SQLITE_ROW) {
    len = sqlite3_column_bytes(st, 0);
    if (len > (int)sizeof mod) len = 0;
    memcpy(mod, sqlite3_column_blob(st, 0), (size_t)len);
  }
  sqlite3_finalize(st);
  CHECK(len > 8);
  int worked = 0, failed = 0;
  for (int i = 0; i < 40 && len > 8; i++) {
    unsigned char m[4096];
    memcpy(m, mod, (size_t)len);
    m[8u + (unsigned)rand_r(&seed) % (unsigned)(len - 8)] =
        (unsigned char)rand_r(&seed);
    sqlite3_prepare_v2(db, "SELECT wudf_define('twice', ?1, 'wasm')", -1, &st,
                       NULL);
    sqlite3_bind_blob(st, 1, m, len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      worked++;
    else if (strstr(sqlite3_errmsg(db), "wudf_define: twice: "))
      failed++;
    else
      fprintf(stderr, "  unexpected: %s\n", sqlite3_errmsg(db));
    sqlite3_finalize(st);
  }
  CHECK(worked + failed == 40);
  fprintf(stderr,
          "  300 random modules refused; 40 mutated: %d loaded, %d "
          "refused\n",
          worked, failed);
  sqlite3_close(db);
}

/* Connections in threads of their own, calling and trapping at once. */
typedef struct worker {
  int index, ok, traps;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  sqlite3 *db = open_db("threads");
  if (!db) return NULL;
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt *st = NULL;
  sqlite3_prepare_v2(db, "SELECT div0(?1, ?2)", -1, &st, NULL);
  for (int i = 0; i < 2000; i++) {
    bool trap = i % 10 == w->index;
    sqlite3_bind_int(st, 1, i * 6);
    sqlite3_bind_int(st, 2, trap ? 0 : 3);
    int rc = sqlite3_step(st);
    if (trap && rc == SQLITE_ERROR) w->traps++;
    if (!trap && rc == SQLITE_ROW && sqlite3_column_int(st, 0) == i * 2)
      w->ok++;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return NULL;
}

static void test_threads(void) {
  remove_db("threads");
  sqlite3 *db = open_db("threads");
  if (!db) {
    g_failed_checks++;
    return;
  }
  CHECK(define_ok(db, "div0", "div0.c"));
  sqlite3_close(db);
  enum { N = 4 };
  pthread_t th[N];
  worker w[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker){i, 0, 0};
    pthread_create(&th[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < N; i++) {
    pthread_join(th[i], NULL);
    CHECK(w[i].ok == 1800);
    CHECK(w[i].traps == 200);
  }
}

typedef struct test_case {
  const char *name;
  void (*fn)(void);
} test_case;

static const test_case k_tests[] = {
    {"types", test_types},
    {"strings", test_strings},
    {"nulls", test_nulls},
    {"compile_errors", test_compile_errors},
    {"call_errors", test_call_errors},
    {"hostile", test_hostile},
    {"many_traps", test_many_traps},
    {"reopen", test_reopen},
    {"directonly", test_directonly},
    {"deterministic", test_deterministic},
    {"redefine", test_redefine},
    {"wat_wasm", test_wat_wasm},
    {"memory_limit", test_memory_limit},
    {"interrupt", test_interrupt},
    {"double_load", test_double_load},
    {"garbage_modules", test_garbage_modules},
    {"threads", test_threads},
};

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s EXTENSION UDF_DIR TMP_DIR [TEST]\n", argv[0]);
    return 2;
  }
  g_ext = argv[1], g_udfs = argv[2], g_tmp = argv[3];
  int passed = 0, failed = 0;
  for (size_t i = 0; i < sizeof k_tests / sizeof k_tests[0]; i++) {
    if (argc > 4 && strcmp(argv[4], k_tests[i].name) != 0) continue;
    int before = g_failed_checks;
    double t0 = now_s();
    k_tests[i].fn();
    bool ok = g_failed_checks == before;
    printf("%s %s (%.2f s)\n", ok ? "ok  " : "FAIL", k_tests[i].name,
           now_s() - t0);
    fflush(stdout);
    if (ok)
      passed++;
    else
      failed++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
