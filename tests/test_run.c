/* wudf_run(): MAP and FILTER over CSV files. Expected values are computed
 * here in plain C from the input text (or by Debian's python3 csv module),
 * never by wudf. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"
#include "wudf_run.h"

static const char k_udfs_c[] =
    "#include <stdint.h>\n"
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "#define EXPORT(n) __attribute__((export_name(#n)))\n"
    "static uint32_t base, cur, end;\n"
    "EXPORT(wudf_reset) void wudf_reset(void) { cur = base; }\n"
    "EXPORT(wudf_alloc) uint32_t wudf_alloc(uint32_t n) {\n"
    "  if (!base) base = cur = end = __builtin_wasm_memory_size(0) * 65536u;\n"
    "  while (end - cur < n) {\n"
    "    uint32_t pages = (n - (end - cur) + 65535u) / 65536u;\n"
    "    if (__builtin_wasm_memory_grow(0, pages) == (__SIZE_TYPE__)-1)\n"
    "      return 0;\n"
    "    end = __builtin_wasm_memory_size(0) * 65536u;\n"
    "  }\n"
    "  uint32_t p = cur;\n"
    "  cur += (n + 7u) & ~7u;\n"
    "  return p;\n"
    "}\n"
    "static uint64_t pack(const char *p, uint32_t n) {\n"
    "  return ((uint64_t)n << 32) | (uint32_t)(uintptr_t)p;\n"
    "}\n"
    "EXPORT(adj) float adj(int32_t b, float r) { return (b * r) + b / 1000; }\n"
    "EXPORT(minus7) int32_t minus7(int32_t x) { return x - 7; }\n"
    "EXPORT(twice64) int64_t twice64(int64_t x) { return x * 2; }\n"
    "EXPORT(half32) float half32(float x) { return x / 2; }\n"
    "EXPORT(triple) double triple(double x) { return x * 3; }\n"
    "EXPORT(negate) int32_t negate(int32_t b) { return !b; }\n"
    "EXPORT(div100) int32_t div100(int32_t x) { return 100 / x; }\n"
    "EXPORT(is_rich) int32_t is_rich(int32_t b) { return b > 50000; }\n"
    "EXPORT(sign) int32_t sign(int32_t b) { return b < 0 ? -1 : b > 0; }\n"
    "EXPORT(coalesce) int32_t coalesce(int32_t a, int32_t an, int32_t b,\n"
    "                                  int32_t bn) {\n"
    "  return !an ? a : !bn ? b : -1;\n"
    "}\n"
    "EXPORT(domain) uint64_t domain(const char *s, int32_t n) {\n"
    "  const char *at = memchr(s, '@', (size_t)n);\n"
    "  return at ? pack(at + 1, (uint32_t)(s + n - at - 1)) : pack(s, 0);\n"
    "}\n"
    "EXPORT(str_len) int32_t str_len(const char *s, int32_t n) { return n; }\n"
    "EXPORT(spin) int32_t spin(int32_t x) {\n"
    "  volatile int32_t v = x;\n"
    "  for (;;) v++;\n"
    "  return v;\n"
    "}\n"
    "EXPORT(chatty) int32_t chatty(int32_t x) {\n"
    "  if (x % 1000 == 0) printf(\"seen %d\\n\", x);\n"
    "  return x;\n"
    "}\n";

static const char *const k_sigs[] = {
    "adj(int32, float32) -> float32", "minus7(int32) -> int32",
    "twice64(int64) -> int64",        "half32(float32) -> float32",
    "triple(float64) -> float64",     "negate(bool) -> bool",
    "div100(int32) -> int32",         "is_rich(int32) -> bool",
    "sign(int32) -> int32",           "coalesce(int32, int32) -> int32 nulls",
    "domain(utf8) -> utf8",           "str_len(utf8) -> int32",
    "spin(int32) -> int32",           "chatty(int32) -> int32",
};
#define NSIGS (sizeof k_sigs / sizeof k_sigs[0])

static wudf_engine *g_engine;
static wudf_module *g_module;

static wudf_module *udf_module(void) {
  if (g_module) return g_module;
  g_engine = test_engine(NULL, NULL);
  g_module = test_load_c_udfs(g_engine, k_udfs_c, k_sigs, NSIGS, "udfs.wasm");
  return g_module;
}

/* ---- files -------------------------------------------------------------- */

static void tmp_path(char *buf, size_t size, const char *name) {
  snprintf(buf, size, "%s/%s", test_tmpdir(), name);
}

static bool write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  fputs(text, f);
  return fclose(f) == 0;
}

/* The accounts-like input: id, balance (every 17th NULL), rate, flag, big
 * (beyond int32), email (every 13th without '@'). */
static const char *accounts_csv(int64_t rows) {
  static char path[512];
  static int64_t made = -1;
  snprintf(path, sizeof path, "%s/accounts-%lld.csv", test_tmpdir(),
           (long long)rows);
  if (made == rows) return path;
  FILE *f = fopen(path, "w");
  if (!f) return NULL;
  fputs("id,balance,rate,flag,big,email\n", f);
  for (int64_t i = 0; i < rows; i++) {
    char bal[16] = "";
    if (i % 17 != 5)
      snprintf(bal, sizeof bal, "%lld", (long long)((i * 7919) % 100000));
    /* Rates 0.01 .. 0.99 in the writer's own (shortest) form. */
    long long k = (i * 37) % 99 + 1;
    char rate[8];
    snprintf(rate, sizeof rate, k % 10 ? "0.%02lld" : "0.%lld",
             k % 10 ? k : k / 10);
    fprintf(f, "%lld,%s,%s,%s,%lld,", (long long)i + 1, bal, rate,
            i % 3 ? "false" : "true", 3000000000LL + i);
    if (i % 13 == 4)
      fprintf(f, "nobody%lld\n", (long long)i);
    else
      fprintf(f, "user%lld@dom%lld.com\n", (long long)i, (long long)(i % 5));
  }
  made = rows;
  return fclose(f) == 0 ? path : NULL;
}

/* Splits an unquoted CSV line into at most `max` fields (in place). */
static int split(char *line, char **fields, int max) {
  int n = 0;
  for (char *s = line; n < max;) {
    fields[n++] = s;
    char *c = strchr(s, ',');
    if (!c) break;
    *c = '\0';
    s = c + 1;
  }
  return n;
}

/* Runs `o` (input, output set here) and returns the output text. */
static char *run_to_text(wudf_run_options *o, const char *input,
                         const char *out_name, wudf_status *st, wudf_error *err,
                         wudf_run_stats *stats) {
  char out[512];
  tmp_path(out, sizeof out, out_name);
  unlink(out);
  o->input_path = input;
  o->output_path = out;
  *st = wudf_run(o, stats, err);
  return *st == WUDF_OK ? (char *)test_read_file(out, NULL) : NULL;
}

static void base_options(wudf_run_options *o, const char *fn,
                         const char *const *cols, uint32_t n) {
  wudf_run_options_init(o);
  o->module = udf_module();
  o->function = fn;
  o->columns = cols;
  o->ncolumns = n;
  o->threads = 2;
  o->batch_rows = 100;
}

/* ---- MAP ---------------------------------------------------------------- */

/* Checks every data line: the input fields unchanged, then the result as
 * `check` expects from the input fields. */
typedef bool (*row_check)(char **in, const char *result);

static bool check_lines(char *text, const char *input, int64_t rows,
                        row_check check, int64_t *bad) {
  char *in_text = (char *)test_read_file(input, NULL);
  char *in_save = NULL, *out_save = NULL;
  char *in_line = strtok_r(in_text, "\n", &in_save);
  char *out_line = strtok_r(text, "\n", &out_save);
  int64_t n = 0;
  bool ok = in_line && out_line;
  for (; ok; n++) {
    in_line = strtok_r(NULL, "\n", &in_save);
    out_line = strtok_r(NULL, "\n", &out_save);
    if (!in_line || !out_line) {
      ok = !in_line && !out_line;
      break;
    }
    size_t len = strlen(in_line);
    char *f[8];
    ok = !strncmp(in_line, out_line, len) && out_line[len] == ',';
    const char *result = ok ? out_line + len + 1 : "";
    if (!ok)
      fprintf(stderr, "    input:  %s\n    output: %s\n", in_line, out_line);
    ok = ok && split(in_line, f, 8) == 6 && check(f, result);
    if (!ok) *bad = n + 2;
  }
  free(in_text);
  return ok && n == rows;
}

static bool check_adj(char **f, const char *result) {
  if (!*f[1]) return *result == '\0'; /* NULL balance: NULL result */
  int32_t b = (int32_t)strtol(f[1], NULL, 10);
  float r = strtof(f[2], NULL);
  float want = ((float)b * r) + (float)(b / 1000);
  char *end;
  float got = strtof(result, &end);
  return *end == '\0' && got == want;
}

TEST(run_map_seed_function) {
  const char *input = accounts_csv(1000);
  CHECK(input && udf_module());
  const char *cols[] = {"balance", "rate"};
  wudf_run_options o;
  base_options(&o, "adj", cols, 2);
  o.declared_result = true;
  o.result_type = WUDF_TYPE_FLOAT32;
  wudf_status st;
  wudf_error err = {0};
  wudf_run_stats stats;
  char *text = run_to_text(&o, input, "adj.csv", &st, &err, &stats);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK(text);
  CHECK(!strncmp(text, "id,balance,rate,flag,big,email,adj_RESULT\n", 42));
  int64_t bad = -1;
  bool ok = check_lines(text, input, 1000, check_adj, &bad);
  free(text);
  CHECK_MSG(ok, "line %lld of the output is wrong", (long long)bad);
  CHECK_EQ_INT(stats.rows_read, 1000);
  CHECK_EQ_INT(stats.rows_written, 1000);
  CHECK_EQ_INT(stats.batches, 10);
}

static bool check_minus7(char **f, const char *r) {
  return atoll(f[0]) - 7 == atoll(r) && *r;
}
static bool check_twice64(char **f, const char *r) {
  return atoll(f[4]) * 2 == atoll(r);
}
static bool check_half32(char **f, const char *r) {
  return strtof(r, NULL) == strtof(f[2], NULL) / 2;
}
static bool check_triple(char **f, const char *r) {
  return strtod(r, NULL) == strtod(f[2], NULL) * 3;
}
static bool check_negate(char **f, const char *r) {
  return !strcmp(r, !strcmp(f[3], "true") ? "false" : "true");
}
static bool check_str_len(char **f, const char *r) {
  return (long long)strlen(f[5]) == atoll(r);
}
static bool check_domain(char **f, const char *r) {
  const char *at = strchr(f[5], '@');
  return !strcmp(r, at ? at + 1 : "\"\"");
}
static bool check_coalesce(char **f, const char *r) {
  long long want = *f[1] ? atoll(f[1]) : atoll(f[0]);
  return want == atoll(r);
}

typedef struct map_case {
  const char *fn;
  const char *cols[2];
  uint32_t ncols;
  wudf_type result;
  row_check check;
} map_case;

TEST(run_map_every_type) {
  const char *input = accounts_csv(1000);
  CHECK(input && udf_module());
  static const map_case cases[] = {
      {"minus7", {"id"}, 1, WUDF_TYPE_INT32, check_minus7},
      {"twice64", {"big"}, 1, WUDF_TYPE_INT64, check_twice64},
      {"half32", {"rate"}, 1, WUDF_TYPE_FLOAT32, check_half32},
      {"triple", {"rate"}, 1, WUDF_TYPE_FLOAT64, check_triple},
      {"negate", {"flag"}, 1, WUDF_TYPE_BOOL, check_negate},
      {"str_len", {"email"}, 1, WUDF_TYPE_INT32, check_str_len},
      {"domain", {"email"}, 1, WUDF_TYPE_UTF8, check_domain},
      {"coalesce", {"balance", "id"}, 2, WUDF_TYPE_INT32, check_coalesce},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const map_case *c = &cases[i];
    wudf_run_options o;
    base_options(&o, c->fn, c->cols, c->ncols);
    o.declared_result = true;
    o.result_type = c->result;
    o.result_name = "r";
    wudf_status st;
    wudf_error err = {0};
    char *text = run_to_text(&o, input, "types.csv", &st, &err, NULL);
    CHECK_MSG(st == WUDF_OK, "%s: %s", c->fn, err.message);
    CHECK_MSG(strstr(text, ",email,r\n") != NULL, "%s: header", c->fn);
    int64_t bad = -1;
    bool ok = check_lines(text, input, 1000, c->check, &bad);
    free(text);
    CHECK_MSG(ok, "%s: line %lld of the output is wrong", c->fn,
              (long long)bad);
  }
}

/* ---- FILTER -------------------------------------------------------------- */

/* Lines of `input` (after the header) for which keep(fields) holds. */
static char *expected_filter(const char *input, bool (*keep)(char **)) {
  char *in = (char *)test_read_file(input, NULL);
  size_t cap = strlen(in) + 1, len = 0;
  char *out = calloc(1, cap);
  char *save = NULL;
  for (char *line = strtok_r(in, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char copy[256], *f[8];
    snprintf(copy, sizeof copy, "%s", line);
    if (len && !(split(copy, f, 8) == 6 && keep(f))) continue;
    len += (size_t)snprintf(out + len, cap - len, "%s\n", line);
  }
  free(in);
  return out;
}

static bool rich(char **f) {
  return *f[1] && atoll(f[1]) > 50000;
}
static bool nonzero(char **f) {
  return *f[1] && atoll(f[1]) != 0;
}

TEST(run_filter_bool_and_int) {
  const char *input = accounts_csv(1000);
  CHECK(input && udf_module());
  const char *cols[] = {"balance"};
  const char *fns[] = {"is_rich", "sign"};
  bool (*keeps[])(char **) = {rich, nonzero};
  for (int i = 0; i < 2; i++) {
    wudf_run_options o;
    base_options(&o, fns[i], cols, 1);
    o.op = WUDF_RUN_FILTER;
    wudf_status st;
    wudf_error err = {0};
    wudf_run_stats stats;
    char *text = run_to_text(&o, input, "filter.csv", &st, &err, &stats);
    CHECK_STATUS(st, WUDF_OK, &err);
    char *want = expected_filter(input, keeps[i]);
    bool same = text && !strcmp(text, want);
    free(text);
    free(want);
    CHECK_MSG(same, "%s: output differs from the expected rows", fns[i]);
    CHECK_EQ_INT(stats.rows_read, 1000);
    CHECK(stats.rows_written > 100 && stats.rows_written < 1000);
  }
}

TEST(run_limit) {
  const char *input = accounts_csv(1000);
  CHECK(input && udf_module());
  const char *cols[] = {"balance"};
  wudf_run_options o;
  base_options(&o, "is_rich", cols, 1);
  o.op = WUDF_RUN_FILTER;
  o.limit = 7;
  wudf_status st;
  wudf_error err = {0};
  wudf_run_stats stats;
  char *text = run_to_text(&o, input, "limit.csv", &st, &err, &stats);
  CHECK_STATUS(st, WUDF_OK, &err);
  char *want = expected_filter(input, rich);
  /* The header and the first 7 selected rows. */
  char *p = want;
  for (int i = 0; i < 8 && p; i++) p = strchr(p, '\n') + 1;
  *p = '\0';
  bool same = text && !strcmp(text, want);
  free(text);
  free(want);
  CHECK(same);
  CHECK_EQ_INT(stats.rows_written, 7);
  o.op = WUDF_RUN_MAP;
  o.limit = 0;
  text = run_to_text(&o, input, "limit0.csv", &st, &err, &stats);
  CHECK_STATUS(st, WUDF_OK, &err);
  same =
      text && !strcmp(text, "id,balance,rate,flag,big,email,is_rich_RESULT\n");
  free(text);
  CHECK(same);
}

/* ---- threads and memory ------------------------------------------------- */

TEST(run_threads_give_identical_output) {
  const char *input = accounts_csv(20000);
  CHECK(input && udf_module());
  const char *cols[] = {"email"};
  char *texts[3];
  uint32_t threads[3] = {1, 4, 0};
  for (int i = 0; i < 3; i++) {
    wudf_run_options o;
    base_options(&o, "domain", cols, 1);
    o.threads = threads[i];
    o.batch_rows = 64 + 37 * i;
    wudf_status st;
    wudf_error err = {0};
    texts[i] = run_to_text(&o, input, "threads.csv", &st, &err, NULL);
    CHECK_STATUS(st, WUDF_OK, &err);
  }
  bool same = !strcmp(texts[0], texts[1]) && !strcmp(texts[0], texts[2]);
  int64_t bad = -1;
  bool ok = check_lines(texts[0], input, 20000, check_domain, &bad);
  for (int i = 0; i < 3; i++) free(texts[i]);
  CHECK(same);
  CHECK_MSG(ok, "line %lld", (long long)bad);
}

static long status_kib(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, strlen(key))) v = atol(line + strlen(key));
  if (f) fclose(f);
  return v;
}

/* A run over `input` in a child; writes the growth of the peak resident
 * set (KiB) and the rows written to the pipe. */
static void bounded_child(int fd, const char *input) {
  wudf_run_options o;
  const char *cols[] = {"balance", "rate"};
  base_options(&o, "adj", cols, 2);
  o.batch_rows = 8192;
  o.threads = 2;
  o.output = fopen("/dev/null", "w");
  o.input_path = input;
  long before = status_kib("VmRSS:");
  FILE *clear = fopen("/proc/self/clear_refs", "w");
  if (clear) {
    fputs("5", clear); /* resets VmHWM to the current RSS */
    fclose(clear);
  }
  wudf_error err = {0};
  wudf_run_stats stats;
  wudf_status st = wudf_run(&o, &stats, &err);
  long r[2] = {st == WUDF_OK ? status_kib("VmHWM:") - before : -1,
               (long)stats.rows_written};
  if (st) fprintf(stderr, "    child: %s\n", err.message);
  if (write(fd, r, sizeof r) != sizeof r) _exit(1);
  _exit(0);
}

TEST(run_large_file_in_bounded_memory) {
  CHECK(udf_module());
  char path[512];
  tmp_path(path, sizeof path, "large.csv");
  FILE *f = fopen(path, "w");
  CHECK(f);
  /* ~256 MB: long rows (a padding column) keep the row count moderate. */
  char pad[201];
  memset(pad, 'x', 200);
  pad[200] = '\0';
  fputs("id,balance,rate,pad\n", f);
  for (long i = 0; i < 1200000; i++)
    fprintf(f, "%ld,%ld,0.%02ld,%s\n", i, (i * 7919) % 100000, i % 100, pad);
  CHECK(fclose(f) == 0);
  struct stat sb;
  CHECK(stat(path, &sb) == 0 && sb.st_size > 250L << 20);
  int fds[2];
  CHECK(pipe(fds) == 0);
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) bounded_child(fds[1], path);
  close(fds[1]);
  long r[2] = {-1, -1};
  ssize_t got = read(fds[0], r, sizeof r);
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  unlink(path);
  long growth = r[0];
  CHECK(got == sizeof r && growth >= 0);
  CHECK_EQ_INT(r[1], 1200000);
  printf("    peak RSS grew by %ld KiB over a %lld MiB file\n", growth,
         (long long)(sb.st_size >> 20));
#if defined(__SANITIZE_ADDRESS__)
  /* ASan keeps up to 256 MiB of freed memory in quarantine: no bound. */
  return;
#endif
  /* 64 MiB: a quarter of the file; the run holds a few batches. */
  CHECK_MSG(growth < 64 * 1024, "peak RSS grew by %ld KiB for a %lld-byte file",
            growth, (long long)sb.st_size);
}

/* ---- checks before any row ---------------------------------------------- */

typedef struct refusal {
  const char *fn;
  const char *col;
  wudf_run_op op;
  bool declared;
  wudf_type result;
  wudf_status status;
  const char *message[3];
} refusal;

TEST(run_refuses_before_reading_rows) {
  const char *input = accounts_csv(1000);
  CHECK(input && udf_module());
  static const refusal cases[] = {
      {"minus7",
       "balanse",
       WUDF_RUN_MAP,
       false,
       WUDF_TYPE_INT32,
       WUDF_ERR_NOT_FOUND,
       {"no column 'balanse'", "id, balance, rate", ""}},
      {"minus7",
       "email",
       WUDF_RUN_MAP,
       false,
       WUDF_TYPE_INT32,
       WUDF_ERR_TYPE,
       {"a utf8 column", "parameter 1 (int32)", "(column 'email')"}},
      {"minus7",
       "flag",
       WUDF_RUN_MAP,
       false,
       WUDF_TYPE_INT32,
       WUDF_ERR_TYPE,
       {"a bool column", "parameter 1", "(column 'flag')"}},
      {"minus7",
       "id",
       WUDF_RUN_MAP,
       true,
       WUDF_TYPE_FLOAT32,
       WUDF_ERR_TYPE,
       {"declared result type is float32", "returns int32", ""}},
      {"half32",
       "rate",
       WUDF_RUN_FILTER,
       false,
       WUDF_TYPE_BOOL,
       WUDF_ERR_TYPE,
       {"FILTER needs a UDF returning bool or int32", "returns float32", ""}},
      {"nosuch",
       "id",
       WUDF_RUN_MAP,
       false,
       WUDF_TYPE_INT32,
       WUDF_ERR_NOT_FOUND,
       {"no UDF 'nosuch'", "", ""}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const refusal *c = &cases[i];
    const char *cols[] = {c->col};
    wudf_run_options o;
    base_options(&o, c->fn, cols, 1);
    o.op = c->op;
    o.declared_result = c->declared;
    o.result_type = c->result;
    wudf_status st;
    wudf_error err = {0};
    wudf_run_stats stats;
    char *text = run_to_text(&o, input, "refused.csv", &st, &err, &stats);
    free(text);
    CHECK_MSG(st == c->status, "case %zu: %s (%s)", i, wudf_status_name(st),
              err.message);
    for (int k = 0; k < 3; k++) CHECK_CONTAINS(err.message, c->message[k]);
    CHECK_EQ_INT(stats.rows_read, 0);
    char out[512];
    tmp_path(out, sizeof out, "refused.csv");
    CHECK(access(out, F_OK) != 0);
  }
}

TEST(run_refuses_result_name_taken) {
  const char *input = accounts_csv(1000);
  CHECK(input && udf_module());
  const char *cols[] = {"id"};
  wudf_run_options o;
  base_options(&o, "minus7", cols, 1);
  o.result_name = "rate";
  wudf_status st;
  wudf_error err = {0};
  free(run_to_text(&o, input, "taken.csv", &st, &err, NULL));
  CHECK_STATUS(st, WUDF_ERR_ARG, &err);
  CHECK_CONTAINS(err.message, "already has a column 'rate'");
}

/* ---- errors while running ------------------------------------------------ */

/* A file whose line `zero_line` holds a 0 in column x; other x are 1..9. */
static const char *zero_at(int64_t rows, int64_t zero_line) {
  static char path[512];
  tmp_path(path, sizeof path, "zero.csv");
  FILE *f = fopen(path, "w");
  if (!f) return NULL;
  fputs("x,name\n", f);
  for (int64_t line = 2; line < rows + 2; line++)
    fprintf(f, "%lld,\"n %lld\"\n", line == zero_line ? 0LL : 1 + line % 9,
            (long long)line);
  return fclose(f) == 0 ? path : NULL;
}

TEST(run_trap_names_function_kind_and_line) {
  const char *input = zero_at(5000, 3217);
  CHECK(input && udf_module());
  const char *cols[] = {"x"};
  uint32_t threads[] = {1, 4};
  for (int i = 0; i < 2; i++) {
    wudf_run_options o;
    base_options(&o, "div100", cols, 1);
    o.threads = threads[i];
    wudf_status st;
    wudf_error err = {0};
    wudf_run_stats stats;
    free(run_to_text(&o, input, "trap.csv", &st, &err, &stats));
    CHECK_STATUS(st, WUDF_TRAP_DIV_BY_ZERO, &err);
    CHECK_CONTAINS(err.message, "div100: ");
    CHECK_CONTAINS(err.message, "integer divide by zero");
    CHECK_CONTAINS(err.message, "line 3217 of ");
    CHECK_EQ_INT(stats.error_line, 3217);
    CHECK_EQ_INT(err.input_line, 3217);
    CHECK_EQ_INT(err.input_row, 3215);
    CHECK_CONTAINS(err.udf, "div100");
  }
}

TEST(run_malformed_csv_names_line) {
  char path[512];
  tmp_path(path, sizeof path, "bad.csv");
  FILE *f = fopen(path, "w");
  CHECK(f);
  fputs("x,y\n", f);
  for (int line = 2; line <= 20000; line++)
    fprintf(f, line == 15001 ? "%d,2,3\n" : "%d,2\n", line);
  CHECK(fclose(f) == 0);
  CHECK(udf_module());
  const char *cols[] = {"x"};
  wudf_run_options o;
  base_options(&o, "minus7", cols, 1);
  wudf_status st;
  wudf_error err = {0};
  wudf_run_stats stats;
  free(run_to_text(&o, path, "bad-out.csv", &st, &err, &stats));
  CHECK_STATUS(st, WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "line 15001");
  CHECK_EQ_INT(stats.error_line, 15001);
  CHECK_EQ_INT(err.input_line, 15001);
}

TEST(run_narrowing_out_of_range_names_line) {
  char path[512];
  tmp_path(path, sizeof path, "wide.csv");
  CHECK(write_text(path, "v\n1\n2\n3000000000\n4\n"));
  CHECK(udf_module());
  const char *cols[] = {"v"};
  wudf_run_options o;
  base_options(&o, "minus7", cols, 1);
  wudf_status st;
  wudf_error err = {0};
  wudf_run_stats stats;
  free(run_to_text(&o, path, "wide-out.csv", &st, &err, &stats));
  CHECK_STATUS(st, WUDF_ERR_TYPE, &err);
  CHECK_CONTAINS(err.message, "value 3000000000 does not fit parameter 1");
  CHECK_CONTAINS(err.message, "on line 4 of ");
  CHECK_EQ_INT(stats.error_line, 4);
  CHECK_EQ_INT(err.input_line, 4);
  CHECK_EQ_INT(err.input_row, 2);
  CHECK_CONTAINS(err.column_name, "v");
  /* In range, the same int64 column is narrowed and runs. */
  CHECK(write_text(path, "v\n1\n-2147483648\n2147483647\n4000000000000\n"));
  free(run_to_text(&o, path, "wide-out.csv", &st, &err, &stats));
  CHECK_STATUS(st, WUDF_ERR_TYPE, &err);
  CHECK(write_text(path, "v\n10\n20\n"));
  o.sample_rows = 1;
  char *text = run_to_text(&o, path, "wide-out.csv", &st, &err, &stats);
  CHECK_STATUS(st, WUDF_OK, &err);
  bool same = text && !strcmp(text, "v,minus7_RESULT\n10,3\n20,13\n");
  free(text);
  CHECK(same);
}

static int count_dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  if (d) closedir(d);
  return n;
}

TEST(run_failed_run_leaves_output_untouched) {
  const char *input = zero_at(50000, 40000);
  CHECK(input && udf_module());
  char dir[512], out[600];
  tmp_path(dir, sizeof dir, "outdir");
  mkdir(dir, 0700);
  snprintf(out, sizeof out, "%s/result.csv", dir);
  CHECK(write_text(out, "OLD CONTENT\n"));
  const char *cols[] = {"x"};
  wudf_run_options o;
  base_options(&o, "div100", cols, 1);
  o.input_path = input;
  o.output_path = out;
  wudf_error err = {0};
  CHECK_STATUS(wudf_run(&o, NULL, &err), WUDF_TRAP_DIV_BY_ZERO, &err);
  char *text = (char *)test_read_file(out, NULL);
  bool same = text && !strcmp(text, "OLD CONTENT\n");
  free(text);
  CHECK(same);
  CHECK_EQ_INT(count_dir_entries(dir), 1); /* no temporary file left */
  /* No file before: none after. */
  unlink(out);
  CHECK_STATUS(wudf_run(&o, NULL, &err), WUDF_TRAP_DIV_BY_ZERO, &err);
  CHECK_EQ_INT(count_dir_entries(dir), 0);
  /* A successful run replaces the file, keeping its mode. */
  CHECK(write_text(out, "OLD CONTENT\n"));
  CHECK(chmod(out, 0640) == 0);
  o.function = "minus7";
  CHECK_STATUS(wudf_run(&o, NULL, &err), WUDF_OK, &err);
  struct stat sb;
  CHECK(stat(out, &sb) == 0 && (sb.st_mode & 0777) == 0640);
  text = (char *)test_read_file(out, NULL);
  same = text && !strncmp(text, "x,name,minus7_RESULT\n", 21);
  free(text);
  CHECK(same);
  CHECK_EQ_INT(count_dir_entries(dir), 1);
}

static bool cancel_soon(void *user, const wudf_run_progress *p) {
  int *calls = user;
  ++*calls;
  return p->done || *calls < 3; /* cancels on the third call */
}

TEST(run_cancel_and_timeout) {
  const char *input = accounts_csv(20000);
  CHECK(input && udf_module());
  char out[512];
  tmp_path(out, sizeof out, "cancel.csv");
  unlink(out);
  /* A spinning UDF: the cancel stops it long before the time limit (a
   * backstop, so that a broken cancel fails instead of hanging). */
  const char *cols[] = {"id"};
  wudf_instance_config cfg;
  wudf_instance_config_init(g_engine, &cfg);
  cfg.limits.timeout_ms = 20000;
  wudf_run_options o;
  base_options(&o, "spin", cols, 1);
  o.input_path = input;
  o.output_path = out;
  o.instance_config = &cfg;
  int calls = 0;
  o.progress = cancel_soon;
  o.progress_user = &calls;
  o.progress_ms = 20;
  wudf_error err = {0};
  CHECK_STATUS(wudf_run(&o, NULL, &err), WUDF_ERR_CANCELLED, &err);
  CHECK_CONTAINS(err.message, "cancelled");
  CHECK(calls >= 2);
  CHECK(access(out, F_OK) != 0);
  /* The time limit applies to each batch. */
  cfg.limits.timeout_ms = 100;
  o.progress = NULL;
  wudf_run_stats stats;
  CHECK_STATUS(wudf_run(&o, &stats, &err), WUDF_TRAP_TIMEOUT, &err);
  CHECK_CONTAINS(err.message, "spin: ");
  /* A time limit does not say which row was running: the batch's lines. */
  CHECK_CONTAINS(err.message, "on lines 2 to ");
  CHECK(access(out, F_OK) != 0);
}

static void collect_output(void *user, int64_t first_line, const char *text,
                           size_t len, bool truncated) {
  char *buf = user;
  size_t n = strlen(buf);
  (void)truncated;
  snprintf(buf + n, 4096 - n, "[%lld]%.*s", (long long)first_line, (int)len,
           text);
}

TEST(run_guest_output_in_order) {
  const char *input = accounts_csv(20000);
  CHECK(input && udf_module());
  const char *cols[] = {"id"};
  wudf_run_options o;
  base_options(&o, "chatty", cols, 1);
  o.threads = 3;
  o.batch_rows = 2500;
  o.output = fopen("/dev/null", "w");
  o.input_path = input;
  char got[4096] = "";
  o.guest_output = collect_output;
  o.guest_output_user = got;
  wudf_error err = {0};
  wudf_status st = wudf_run(&o, NULL, &err);
  fclose(o.output);
  CHECK_STATUS(st, WUDF_OK, &err);
  /* Batches start on lines 2, 2502, ...; ids 1000, 2000, ... print. */
  char want[4096] = "";
  for (int b = 0; b < 8; b++) {
    size_t n = strlen(want);
    snprintf(want + n, sizeof want - n, "[%d]", 2 + 2500 * b);
    for (int id = 2500 * b + 1; id <= 2500 * (b + 1); id++)
      if (id % 1000 == 0) {
        n = strlen(want);
        snprintf(want + n, sizeof want - n, "seen %d\n", id);
      }
  }
  CHECK_MSG(!strcmp(got, want), "got:\n%s\nwant:\n%s", got, want);
}

/* ---- foreign modules ----------------------------------------------------- */

TEST(run_module_load_derives_signatures) {
  CHECK(udf_module());
  size_t len;
  uint8_t *wasm = test_wat(
      "(module (func (export \"adj\") (param i32 f32) (result f32)\n"
      "  local.get 0 f32.convert_i32_s local.get 1 f32.mul\n"
      "  local.get 0 i32.const 1000 i32.div_s f32.convert_i32_s f32.add)\n"
      " (func (export \"odd\") (param i32) (result i32)\n"
      "  local.get 0 i32.const 1 i32.and))",
      NULL, &len);
  CHECK(wasm);
  wudf_type cols[] = {WUDF_TYPE_INT32, WUDF_TYPE_FLOAT64};
  wudf_module *m = NULL;
  wudf_error err = {0};
  wudf_status st =
      wudf_run_module_load(g_engine, wasm, len, "adj.wat", "adj", cols, 2,
                           WUDF_RUN_MAP, WUDF_TYPE_FLOAT32, &m, &err);
  CHECK_STATUS(st, WUDF_OK, &err);
  wudf_udf_sig sig;
  char text[256];
  CHECK(wudf_module_udf(m, (uint32_t)wudf_module_find_udf(m, "adj"), &sig) ==
        WUDF_OK);
  wudf_udf_sig_format(&sig, text, sizeof text);
  wudf_module_free(m);
  CHECK_CONTAINS(text, "adj(int32, float32) -> float32");
  /* The declared result must fit the export's. */
  st = wudf_run_module_load(g_engine, wasm, len, "adj.wat", "adj", cols, 2,
                            WUDF_RUN_MAP, WUDF_TYPE_INT32, &m, &err);
  CHECK_STATUS(st, WUDF_ERR_TYPE, &err);
  CHECK_CONTAINS(err.message, "declared result type int32");
  /* FILTER: an i32 result is a bool; a utf8 column needs two i32. */
  wudf_type one[] = {WUDF_TYPE_INT32}, str[] = {WUDF_TYPE_UTF8};
  st = wudf_run_module_load(g_engine, wasm, len, "m.wat", "odd", one, 1,
                            WUDF_RUN_FILTER, WUDF_TYPE_BOOL, &m, &err);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK(wudf_module_udf(m, (uint32_t)wudf_module_find_udf(m, "odd"), &sig) ==
        WUDF_OK);
  wudf_module_free(m);
  CHECK_EQ_INT(sig.result, WUDF_TYPE_BOOL);
  st = wudf_run_module_load(g_engine, wasm, len, "m.wat", "odd", str, 1,
                            WUDF_RUN_FILTER, WUDF_TYPE_BOOL, &m, &err);
  CHECK_STATUS(st, WUDF_ERR_TYPE, &err);
  st = wudf_run_module_load(g_engine, wasm, len, "m.wat", "none", one, 1,
                            WUDF_RUN_MAP, WUDF_TYPE_INT32, &m, &err);
  CHECK_STATUS(st, WUDF_ERR_NOT_FOUND, &err);
  /* Without column types, the WebAssembly types decide. */
  st = wudf_run_module_load(g_engine, wasm, len, "adj.wat", "adj", NULL, 0,
                            WUDF_RUN_MAP, WUDF_TYPE_FLOAT32, &m, &err);
  CHECK_STATUS(st, WUDF_OK, &err);
  wudf_module_free(m);
  free(wasm);
}

/* ---- strings, checked by python3's csv module --------------------------- */

static const char k_check_py[] =
    "import csv, sys\n"
    "src, out = sys.argv[1], sys.argv[2]\n"
    "rows = list(csv.reader(open(src, newline='')))\n"
    "got = list(csv.reader(open(out, newline='')))\n"
    "want = [rows[0] + ['d']]\n"
    "for r in rows[1:]:\n"
    "    e = r[1]\n"
    "    d = e.split('@', 1)[1] if '@' in e else ''\n"
    "    want.append(r + [d if e != '' else ''])\n"
    "sys.exit(0 if got == want else 1)\n";

TEST(run_strings_checked_by_python_csv) {
  CHECK(udf_module());
  char in[512], out[512], py[512], cmd[2000];
  tmp_path(in, sizeof in, "strings.csv");
  tmp_path(out, sizeof out, "strings-out.csv");
  tmp_path(py, sizeof py, "check.py");
  CHECK(write_text(py, k_check_py));
  CHECK(write_text(in,
                   "id,email\n"
                   "1,plain@example.com\n"
                   "2,\"with,comma@b.org\"\n"
                   "3,\"quote\"\"d@c@d.net\"\n"
                   "4,no-at-sign\n"
                   "5,\n"
                   "6,\"ünïcödé@dömäin.de\"\n"
                   "7,\" spaced @ x \"\n"
                   "8,\"multi\nline@z.io\"\n"
                   "9,trailing@\n"));
  const char *cols[] = {"email"};
  wudf_run_options o;
  base_options(&o, "domain", cols, 1);
  o.result_name = "d";
  o.batch_rows = 3;
  o.input_path = in;
  o.output_path = out;
  wudf_error err = {0};
  CHECK_STATUS(wudf_run(&o, NULL, &err), WUDF_OK, &err);
  snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s'", py, in, out);
  CHECK_MSG(system(cmd) == 0, "python3 finds the output wrong: %s", out);
}
