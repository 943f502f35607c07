/* Batches: the row of a trap (found by running
 * the chunk again), time limits and interrupts naming the chunk, UTF-8 of
 * string results checked per chunk, string results far larger than their
 * inputs, FILTER selections taken from the result bitmap, NULL slots of
 * fixed-width results, and the lazily armed call timer. Expected values are
 * computed here in plain C or written by hand. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "testutil.h"

static const char k_rows_c[] =
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
    "static volatile int32_t sink;\n"
    "static int32_t oob(void) {\n"
    "  return *(volatile int32_t *)(uintptr_t)0xfffffff0u;\n"
    "}\n"
    /* -1 unreachable, -2 divide by zero, -3 out of bounds. */
    "EXPORT(trap_on) int32_t trap_on(int32_t x) {\n"
    "  if (x == -1) __builtin_trap();\n"
    "  if (x == -2) return 7 / (x + 2 + sink);\n"
    "  if (x == -3) return oob();\n"
    "  return 3 * x + 1;\n"
    "}\n"
    "EXPORT(trap_bool) int32_t trap_bool(int32_t x) {\n"
    "  if (x < 0) __builtin_trap();\n"
    "  return x & 1;\n"
    "}\n"
    "EXPORT(str_trap) uint64_t str_trap(const char *s, int32_t n) {\n"
    "  if (n == 4 && !memcmp(s, \"boom\", 4)) __builtin_trap();\n"
    "  return pack(s, (uint32_t)n);\n"
    "}\n"
    "EXPORT(nz_or_null) int32_t nz_or_null(int32_t x, int32_t isnull) {\n"
    "  if (!isnull && x == 0) __builtin_trap();\n"
    "  return isnull ? -1 : x;\n"
    "}\n"
    "EXPORT(say) int32_t say(int32_t row, int32_t trap) {\n"
    "  printf(\"row %d\\n\", row);\n"
    "  fflush(stdout);\n"
    "  if (trap) __builtin_trap();\n"
    "  return row;\n"
    "}\n"
    /* State across calls: traps on the 5000th call of a phase-1 row. */
    "static int32_t calls;\n"
    "EXPORT(count_a) int32_t count_a(int32_t row, int32_t phase) {\n"
    "  (void)row;\n"
    "  calls++;\n"
    "  if (phase == 1 && calls == 5000) __builtin_trap();\n"
    "  return calls;\n"
    "}\n"
    "EXPORT(count_b) int32_t count_b(int32_t row, int32_t phase) {\n"
    "  (void)row;\n"
    "  calls++;\n"
    "  if (phase == 1 && calls == 5000) __builtin_trap();\n"
    "  if (phase == 1 && calls == 1500) return oob();\n"
    "  return calls;\n"
    "}\n"
    "EXPORT(count_say) int32_t count_say(int32_t row, int32_t phase) {\n"
    "  calls++;\n"
    "  printf(\"row %d\\n\", row);\n"
    "  fflush(stdout);\n"
    "  if (phase == 1 && calls == 5000) __builtin_trap();\n"
    "  return calls;\n"
    "}\n"
    "EXPORT(spin_if) int32_t spin_if(int32_t x) {\n"
    "  if (x)\n"
    "    for (;;) sink++;\n"
    "  return x + 1;\n"
    "}\n"
    "static char rep_buf[1 << 20];\n"
    "EXPORT(rep1000) uint64_t rep1000(const char *s, int32_t n) {\n"
    "  uint32_t len = (uint32_t)n * 1000u;\n"
    "  if (len > sizeof rep_buf) __builtin_trap();\n"
    "  for (uint32_t k = 0; k < 1000u; k++)\n"
    "    memcpy(rep_buf + k * (uint32_t)n, s, (size_t)n);\n"
    "  return pack(rep_buf, len);\n"
    "}\n"
    "static char pat[(1 << 20) + 4096];\n"
    "static int pat_ready;\n"
    "EXPORT(mib) uint64_t mib(int32_t x) {\n"
    "  if (!pat_ready) {\n"
    "    for (uint32_t j = 0; j < sizeof pat; j++) pat[j] = (char)('a' + j % "
    "23u);\n"
    "    pat_ready = 1;\n"
    "  }\n"
    "  return pack(pat + (uint32_t)x % 4096u, 1u << 20);\n"
    "}\n"
    "static const char lead2[] = {(char)0xe2, (char)0x82};\n"
    "static const char cont1[] = {(char)0xac};\n"
    "static const char lead_c3[] = {(char)0xc3};\n"
    "static const char cont_a9[] = {(char)0xa9};\n"
    "static const char ff[] = {(char)0xff};\n"
    "EXPORT(pick) uint64_t pick(int32_t code) {\n"
    "  switch (code) {\n"
    "    case 0: return pack(\"ok\", 2);\n"
    "    case 1: return pack(lead2, 2);\n"
    "    case 2: return pack(cont1, 1);\n"
    "    case 3: return pack(\"\", 0);\n"
    "    case 4: return ((uint64_t)16 << 32) | 0xfffffff0u;\n"
    "    case 5: return pack(\"\\xe2\\x82\\xac\", 3);\n"
    "    case 6: return pack(ff, 1);\n"
    "    case 7: return pack(lead_c3, 1);\n"
    "    case 8: return pack(cont_a9, 1);\n"
    "    case 10: return pack(\"a\", 1);\n"
    "    default: __builtin_trap();\n"
    "  }\n"
    "}\n"
    "EXPORT(pos) int32_t pos(int32_t x) { return x > 0; }\n"
    "EXPORT(both) int32_t both(int32_t a, int64_t b) {\n"
    "  return a > 0 && b % 3 != 0;\n"
    "}\n"
    "EXPORT(not_b) int32_t not_b(int32_t x) { return !x; }\n"
    "EXPORT(pos_or_null) int32_t pos_or_null(int32_t x, int32_t isnull) {\n"
    "  return isnull || x > 0;\n"
    "}\n"
    "EXPORT(sgn) int32_t sgn(int32_t x) { return x < 0 ? -1 : x > 0; }\n"
    "EXPORT(f_i32) int32_t f_i32(int32_t x) { return 2 * x + 1; }\n"
    "EXPORT(f_i64) int64_t f_i64(int32_t x) {\n"
    "  return (int64_t)x * 1000003 + 1;\n"
    "}\n"
    "EXPORT(f_f32) float f_f32(int32_t x) { return (float)x + 0.5f; }\n"
    "EXPORT(f_f64) double f_f64(int32_t x) { return x * 0.25 + 1; }\n";

static const char *const k_rows_sigs[] = {
    "trap_on(int32) -> int32",
    "trap_bool(int32) -> bool",
    "str_trap(utf8) -> utf8",
    "nz_or_null(int32) -> int32 nulls",
    "say(int32, int32) -> int32",
    "count_a(int32, int32) -> int32",
    "count_b(int32, int32) -> int32",
    "count_say(int32, int32) -> int32",
    "spin_if(int32) -> int32",
    "rep1000(utf8) -> utf8",
    "mib(int32) -> utf8",
    "pick(int32) -> utf8",
    "pos(int32) -> bool",
    "both(int32, int64) -> bool",
    "not_b(bool) -> bool",
    "pos_or_null(int32) -> bool nulls",
    "sgn(int32) -> int32",
    "f_i32(int32) -> int32",
    "f_i64(int32) -> int64",
    "f_f32(int32) -> float32",
    "f_f64(int32) -> float64",
};
#define NROWS_SIGS (sizeof k_rows_sigs / sizeof k_rows_sigs[0])

static wudf_engine *g_engine;
static wudf_module *g_module;

/* The module is compiled once for the whole file. */
static wudf_module *rows_module(void) {
  if (g_module) return g_module;
  if (!g_engine) g_engine = test_engine(NULL, NULL);
  if (g_engine)
    g_module = test_load_c_udfs(g_engine, k_rows_c, k_rows_sigs, NROWS_SIGS,
                                "rows.wasm");
  return g_module;
}

__attribute__((destructor)) static void free_rows_module(void) {
  wudf_module_free(g_module);
  wudf_engine_free(g_engine);
}

/* An instance with the given time limit, trap policy and output limit. */
static wudf_instance *instance_with(uint32_t timeout_ms, bool keep_state,
                                    uint32_t output_bytes) {
  wudf_module *m = rows_module();
  if (!m) return NULL;
  wudf_instance_config cfg;
  wudf_instance_config_init(g_engine, &cfg);
  cfg.limits.timeout_ms = timeout_ms;
  cfg.limits.output_bytes = output_bytes;
  cfg.keep_state_on_trap = keep_state;
  wudf_instance *inst = NULL;
  wudf_error err = {0};
  if (wudf_instance_new(m, &cfg, &inst, &err))
    fprintf(stderr, "    instance: %s\n", err.message);
  return inst;
}

static wudf_instance *plain_instance(void) {
  return instance_with(10000, false, 64 * 1024);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Sleeps `ms` milliseconds whatever signals arrive; returns how many times
 * nanosleep was interrupted. */
static int sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L}, rem;
  int interrupted = 0;
  while (nanosleep(&ts, &rem) != 0 && errno == EINTR) {
    interrupted++;
    ts = rem;
  }
  return interrupted;
}

/* Interrupts `inst` if a call meant to hit its time limit is still running
 * after 8 s, so that a broken timer fails the test instead of hanging it. */
typedef struct watchdog {
  wudf_instance *inst;
  atomic_int done;
  pthread_t thread;
  bool started;
} watchdog;

static void *watch(void *p) {
  watchdog *w = p;
  for (int i = 0; i < 800 && !atomic_load(&w->done); i++) sleep_ms(10);
  if (!atomic_load(&w->done)) wudf_instance_interrupt(w->inst);
  return NULL;
}

static void watchdog_start(watchdog *w, wudf_instance *inst) {
  w->inst = inst;
  atomic_init(&w->done, 0);
  w->started = pthread_create(&w->thread, NULL, watch, w) == 0;
}

static void watchdog_stop(watchdog *w) {
  atomic_store(&w->done, 1);
  if (w->started) pthread_join(w->thread, NULL);
}

/* ---- building columns ---------------------------------------------------- */

/* One column (array and schema), released by free_col(). */
typedef struct col {
  struct ArrowArray a;
  struct ArrowSchema s;
  bool live;
} col;

static void free_col(col *c) {
  if (!c->live) return;
  c->a.release(&c->a);
  c->s.release(&c->s);
  c->live = false;
}

/* Finishes the builder into *c, then hides its first `off` rows behind the
 * array's offset. */
static bool finish_col(col *c, wudf_array_builder *b, int64_t off, int64_t n,
                       const char *name) {
  wudf_error err = {0};
  memset(c, 0, sizeof *c);
  wudf_status st = b ? wudf_array_builder_finish(b, name, &c->a, &c->s, &err)
                     : WUDF_ERR_NOMEM;
  wudf_array_builder_free(b);
  if (st != WUDF_OK) {
    fprintf(stderr, "    finish: %s\n", err.message);
    return false;
  }
  c->live = true;
  c->a.offset = off;
  c->a.length = n;
  c->a.null_count = c->a.buffers[0] ? -1 : 0;
  return true;
}

static wudf_array_builder *builder(wudf_type t, int64_t cap) {
  wudf_array_builder *b = NULL;
  wudf_error err = {0};
  if (wudf_array_builder_new(t, cap, &b, &err))
    fprintf(stderr, "    builder: %s\n", err.message);
  return b;
}

/* NULL patterns of generated columns. */
enum { P_NONE, P_EVERY3, P_FIRST, P_LAST, P_ALL, P_HASH, P_COUNT };

static bool gen_null(int pattern, int64_t i, int64_t n) {
  switch (pattern) {
    case P_EVERY3:
      return i % 3 == 1;
    case P_FIRST:
      return i == 0;
    case P_LAST:
      return i == n - 1;
    case P_ALL:
      return true;
    case P_HASH:
      return ((uint64_t)i * 2654435761u >> 7) % 5 == 0;
    default:
      return false;
  }
}

/* Values in [-100, 100], zero included. */
static int32_t gen_int(int64_t i, int salt) {
  return (int32_t)((i * 7919 + salt * 31 + 13) % 201) - 100;
}

static bool gen_bool(int64_t i, int salt) {
  return (i * 5 + salt) % 7 < 3;
}

/* A generated int32, int64 or bool column of n rows behind `off` filler
 * rows (alternately NULL and a value that no expectation uses). */
static bool gen_col(col *c, wudf_type t, int64_t n, int64_t off, int pattern,
                    int salt) {
  wudf_array_builder *b = builder(t, n + off);
  for (int64_t j = 0; b && j < off; j++) {
    if (j % 2 == 0)
      wudf_array_builder_append_null(b);
    else if (t == WUDF_TYPE_BOOL)
      wudf_array_builder_append_bool(b, true);
    else
      wudf_array_builder_append_int(b, 999);
  }
  for (int64_t i = 0; b && i < n; i++) {
    if (gen_null(pattern, i, n))
      wudf_array_builder_append_null(b);
    else if (t == WUDF_TYPE_BOOL)
      wudf_array_builder_append_bool(b, gen_bool(i, salt));
    else if (t == WUDF_TYPE_INT64)
      wudf_array_builder_append_int(b, (int64_t)gen_int(i, salt) * 7 - 3);
    else
      wudf_array_builder_append_int(b, gen_int(i, salt));
  }
  return finish_col(c, b, off, n, "x");
}

/* An int32 column holding vals[0..n). */
static bool int_col(col *c, const int32_t *vals, int64_t n) {
  wudf_array_builder *b = builder(WUDF_TYPE_INT32, n);
  for (int64_t i = 0; b && i < n; i++)
    wudf_array_builder_append_int(b, vals[i]);
  return finish_col(c, b, 0, n, "x");
}

static bool bit_at(const void *bits, int64_t i) {
  return (((const uint8_t *)bits)[i >> 3] >> (i & 7)) & 1;
}

static bool row_valid(const struct ArrowArray *a, int64_t i) {
  return !a->buffers[0] || bit_at(a->buffers[0], a->offset + i);
}

static const char *utf8_at(const struct ArrowArray *a, int64_t i,
                           int32_t *len) {
  const int32_t *o = a->buffers[1];
  *len = o[a->offset + i + 1] - o[a->offset + i];
  return (const char *)a->buffers[2] + o[a->offset + i];
}

/* Runs MAP over one or two columns. */
static wudf_status map1(wudf_instance *inst, const char *udf, col *c0, col *c1,
                        struct ArrowArray *out, wudf_error *err) {
  const struct ArrowArray *a[2] = {&c0->a, c1 ? &c1->a : NULL};
  const struct ArrowSchema *s[2] = {&c0->s, c1 ? &c1->s : NULL};
  memset(out, 0, sizeof *out);
  return wudf_instance_map(inst, udf, a, s, c1 ? 2 : 1, out, NULL, err);
}

/* The UDF in err->udf, row, first_row and last_row all R, and the message
 * "...: udf: ... on row R" (the location formatted from the fields). */
static bool names_row(const wudf_error *err, const char *udf, int64_t row) {
  char want[200], prefix[200];
  snprintf(want, sizeof want, " on row %lld", (long long)row);
  snprintf(prefix, sizeof prefix, ": %s: ", udf);
  size_t n = strlen(err->message), w = strlen(want);
  if (err->row == row && err->first_row == row && err->last_row == row &&
      strcmp(err->udf, udf) == 0 && strstr(err->message, prefix) &&
      !strstr(err->detail, want) && n > w &&
      strcmp(err->message + n - w, want) == 0)
    return true;
  fprintf(stderr, "    want row %lld, got row %lld [%lld, %lld]: %s\n",
          (long long)row, (long long)err->row, (long long)err->first_row,
          (long long)err->last_row, err->message);
  return false;
}

/* The UDF in err->udf, the rows A to B, row -1, and the message ending
 * "on rows A to B". */
static bool names_rows(const wudf_error *err, const char *udf, int64_t first,
                       int64_t last) {
  char want[200];
  snprintf(want, sizeof want, " on rows %lld to %lld", (long long)first,
           (long long)last);
  size_t n = strlen(err->message), w = strlen(want);
  if (err->row == -1 && err->first_row == first && err->last_row == last &&
      strcmp(err->udf, udf) == 0 && n > w &&
      strcmp(err->message + n - w, want) == 0)
    return true;
  fprintf(stderr, "    want rows %lld to %lld, got row %lld [%lld, %lld]: %s\n",
          (long long)first, (long long)last, (long long)err->row,
          (long long)err->first_row, (long long)err->last_row, err->message);
  return false;
}

/* ---- 1. the row of a trap ------------------------------------------------ */

/* trap_on over N rows, one trapping row at a time, in the first, middle and
 * last chunks and on their edges; some rows NULL. */
TEST(rows_trap_names_exact_row_in_every_chunk) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 200003 };
  int32_t *vals = malloc(N * sizeof *vals);
  CHECK(vals);
  const int64_t rows[] = {0, 7, 65535, 65536, 65539, 131071, 131072, N - 1};
  const int32_t kinds[] = {-1, -2, -3};
  const wudf_status want[] = {WUDF_TRAP_UNREACHABLE, WUDF_TRAP_DIV_BY_ZERO,
                              WUDF_TRAP_OOB};
  int bad = 0;
  for (size_t t = 0; t < sizeof rows / sizeof rows[0]; t++) {
    for (int64_t i = 0; i < N; i++) vals[i] = (int32_t)(i % 1000);
    vals[rows[t]] = kinds[t % 3];
    col c = {0};
    if (!int_col(&c, vals, N)) {
      bad++;
      break;
    }
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st = map1(inst, "trap_on", &c, NULL, &out, &err);
    free_col(&c);
    if (st != want[t % 3] || !names_row(&err, "trap_on", rows[t]) ||
        out.release != NULL) {
      fprintf(stderr, "    row %lld: %s\n", (long long)rows[t],
              wudf_status_name(st));
      bad++;
    }
  }
  /* The instance works again afterwards, over every chunk. */
  for (int64_t i = 0; i < N; i++) vals[i] = (int32_t)(i % 1000);
  col c = {0};
  bool built = int_col(&c, vals, N);
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = built ? map1(inst, "trap_on", &c, NULL, &out, &err) : 1;
  int64_t wrong = 0;
  for (int64_t i = 0; st == WUDF_OK && i < N; i++)
    wrong +=
        ((const int32_t *)out.buffers[1])[i] != 3 * (int32_t)(i % 1000) + 1;
  if (st == WUDF_OK) out.release(&out);
  free_col(&c);
  free(vals);
  wudf_instance_free(inst);
  CHECK_EQ_INT(bad, 0);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK_EQ_INT(wrong, 0);
}

/* NULL rows before the trap (the strict loop skips them). */
TEST(rows_trap_row_with_nulls_before_it) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 70000 };
  wudf_array_builder *b = builder(WUDF_TYPE_INT32, N);
  for (int64_t i = 0; b && i < N; i++) {
    if (i % 4 == 0 && i != 66001)
      wudf_array_builder_append_null(b);
    else
      wudf_array_builder_append_int(b, i == 66001 ? -1 : 5);
  }
  col c = {0};
  CHECK(finish_col(&c, b, 0, N, "x"));
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = map1(inst, "trap_on", &c, NULL, &out, &err);
  free_col(&c);
  wudf_instance_free(inst);
  CHECK_EQ_INT(st, WUDF_TRAP_UNREACHABLE);
  CHECK(names_row(&err, "trap_on", 66001));
  CHECK_CONTAINS(err.message, "unreachable");
}

/* The bool loop (eight rows per byte), a string loop (strings copied into
 * the rebuilt instance again) and a UDF that sees NULLs. */
TEST(rows_trap_row_in_bool_string_and_nulls_udfs) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 70013 };
  wudf_array_builder *ib = builder(WUDF_TYPE_INT32, N),
                     *sb = builder(WUDF_TYPE_UTF8, N),
                     *nb = builder(WUDF_TYPE_INT32, N);
  for (int64_t i = 0; ib && sb && nb && i < N; i++) {
    wudf_array_builder_append_int(ib, i == 70003 ? -1 : (int32_t)(i % 5));
    if (i == 70001)
      wudf_array_builder_append_string(sb, "boom", 4);
    else if (i % 9 == 2)
      wudf_array_builder_append_null(sb);
    else
      wudf_array_builder_append_string(sb, "bam", 3);
    if (i % 3 == 0)
      wudf_array_builder_append_null(nb);
    else
      wudf_array_builder_append_int(nb, i == 65540 ? 0 : 1);
  }
  col ci = {0}, cs = {0}, cn = {0};
  bool ok = finish_col(&ci, ib, 0, N, "i");
  ok = finish_col(&cs, sb, 0, N, "s") && ok;
  ok = finish_col(&cn, nb, 0, N, "n") && ok;
  struct ArrowArray out;
  wudf_error e1 = {0}, e2 = {0}, e3 = {0};
  wudf_status s1 = ok ? map1(inst, "trap_bool", &ci, NULL, &out, &e1) : 1;
  wudf_status s2 = ok ? map1(inst, "str_trap", &cs, NULL, &out, &e2) : 1;
  wudf_status s3 = ok ? map1(inst, "nz_or_null", &cn, NULL, &out, &e3) : 1;
  /* FILTER reports the row the same way. */
  int64_t selected = -1;
  wudf_error e4 = {0};
  const struct ArrowArray *a[1] = {&ci.a};
  const struct ArrowSchema *s[1] = {&ci.s};
  wudf_status s4 = ok ? wudf_instance_filter(inst, "trap_bool", a, s, 1, &out,
                                             &selected, &e4)
                      : 1;
  free_col(&ci);
  free_col(&cs);
  free_col(&cn);
  wudf_instance_free(inst);
  CHECK(ok);
  CHECK_EQ_INT(s1, WUDF_TRAP_UNREACHABLE);
  CHECK(names_row(&e1, "trap_bool", 70003));
  CHECK_EQ_INT(s2, WUDF_TRAP_UNREACHABLE);
  CHECK(names_row(&e2, "str_trap", 70001));
  CHECK_EQ_INT(s3, WUDF_TRAP_UNREACHABLE);
  CHECK(names_row(&e3, "nz_or_null", 65540));
  CHECK_EQ_INT(s4, WUDF_TRAP_UNREACHABLE);
  CHECK(names_row(&e4, "trap_bool", 70003));
  CHECK_EQ_INT(selected, -1);
}

/* A UDF with state across calls: the second batch traps on its row 1999
 * (the 5000th call), but on the rebuilt instance the count starts again and
 * the re-run does not trap. Only the chunk can be named. */
TEST(rows_stateful_udf_rerun_without_trap_names_chunk) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 3000 };
  int32_t *rows = malloc(N * sizeof *rows), *phase = malloc(N * sizeof *phase);
  CHECK(rows && phase);
  for (int i = 0; i < N; i++) rows[i] = i, phase[i] = 0;
  col cr = {0}, c0 = {0}, c1 = {0};
  bool ok = int_col(&cr, rows, N) && int_col(&c0, phase, N);
  for (int i = 0; i < N; i++) phase[i] = 1;
  ok = ok && int_col(&c1, phase, N);
  struct ArrowArray out;
  wudf_error e1 = {0}, e2 = {0};
  wudf_status s1 = ok ? map1(inst, "count_a", &cr, &c0, &out, &e1) : 1;
  int32_t last = s1 == WUDF_OK ? ((const int32_t *)out.buffers[1])[N - 1] : 0;
  if (s1 == WUDF_OK) out.release(&out);
  wudf_status s2 = ok ? map1(inst, "count_a", &cr, &c1, &out, &e2) : 1;
  free_col(&cr);
  free_col(&c0);
  free_col(&c1);
  free(rows);
  free(phase);
  wudf_instance_free(inst);
  CHECK_MSG(s1 == WUDF_OK, "%s", e1.message);
  CHECK_EQ_INT(last, N);
  CHECK_EQ_INT(s2, WUDF_TRAP_UNREACHABLE);
  CHECK(names_rows(&e2, "count_a", 0, N - 1));
}

/* The same, but the re-run traps another way (out of bounds on its 1500th
 * call): the first run's trap is reported, with the chunk. */
TEST(rows_stateful_udf_rerun_other_trap_names_chunk) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 3000 };
  int32_t *rows = malloc(N * sizeof *rows), *phase = malloc(N * sizeof *phase);
  CHECK(rows && phase);
  for (int i = 0; i < N; i++) rows[i] = i, phase[i] = 0;
  col cr = {0}, c0 = {0}, c1 = {0};
  bool ok = int_col(&cr, rows, N) && int_col(&c0, phase, N);
  for (int i = 0; i < N; i++) phase[i] = 1;
  ok = ok && int_col(&c1, phase, N);
  struct ArrowArray out;
  wudf_error e1 = {0}, e2 = {0};
  wudf_status s1 = ok ? map1(inst, "count_b", &cr, &c0, &out, &e1) : 1;
  if (s1 == WUDF_OK) out.release(&out);
  wudf_status s2 = ok ? map1(inst, "count_b", &cr, &c1, &out, &e2) : 1;
  free_col(&cr);
  free_col(&c0);
  free_col(&c1);
  free(rows);
  free(phase);
  wudf_instance_free(inst);
  CHECK_MSG(s1 == WUDF_OK, "%s", e1.message);
  CHECK_EQ_INT(s2, WUDF_TRAP_UNREACHABLE);
  CHECK(names_rows(&e2, "count_b", 0, N - 1));
  CHECK_CONTAINS(e2.message, "unreachable");
}

/* keep_state_on_trap: the loop tracks rows, so the first run names the row,
 * and the state is kept (no re-run added calls). */
TEST(rows_keep_state_names_exact_row_without_rerun) {
  wudf_instance *inst = instance_with(10000, true, 64 * 1024);
  CHECK(inst);
  enum { N = 3000 };
  int32_t *rows = malloc(N * sizeof *rows), *phase = malloc(N * sizeof *phase);
  CHECK(rows && phase);
  for (int i = 0; i < N; i++) rows[i] = i, phase[i] = 0;
  col cr = {0}, c0 = {0}, c1 = {0};
  bool ok = int_col(&cr, rows, N) && int_col(&c0, phase, N);
  for (int i = 0; i < N; i++) phase[i] = 1;
  ok = ok && int_col(&c1, phase, N);
  struct ArrowArray out;
  wudf_error e1 = {0}, e2 = {0}, e3 = {0};
  wudf_status s1 = ok ? map1(inst, "count_b", &cr, &c0, &out, &e1) : 1;
  if (s1 == WUDF_OK) out.release(&out);
  wudf_status s2 = ok ? map1(inst, "count_b", &cr, &c1, &out, &e2) : 1;
  /* calls is 5000 now; the next batch continues from there. */
  wudf_status s3 = ok ? map1(inst, "count_b", &cr, &c0, &out, &e3) : 1;
  int64_t wrong = 0;
  for (int i = 0; s3 == WUDF_OK && i < N; i++)
    wrong += ((const int32_t *)out.buffers[1])[i] != 5001 + i;
  if (s3 == WUDF_OK) out.release(&out);
  free_col(&cr);
  free_col(&c0);
  free_col(&c1);
  free(rows);
  free(phase);
  wudf_instance_free(inst);
  CHECK_MSG(s1 == WUDF_OK, "%s", e1.message);
  CHECK_EQ_INT(s2, WUDF_TRAP_UNREACHABLE);
  CHECK(names_row(&e2, "count_b", 1999));
  CHECK_MSG(s3 == WUDF_OK, "%s", e3.message);
  CHECK_EQ_INT(wrong, 0);
}

/* ---- time limits and interrupts name the chunk ------------------------- */

/* spin_if over n rows, spinning on row `spin`. */
static wudf_status spin_batch(wudf_instance *inst, int64_t n, int64_t spin,
                              wudf_error *err, double *ms) {
  int32_t *v = calloc((size_t)n, sizeof *v);
  if (!v) return WUDF_ERR_NOMEM;
  v[spin] = 1;
  col c = {0};
  wudf_status st = WUDF_ERR_NOMEM;
  if (int_col(&c, v, n)) {
    struct ArrowArray out;
    watchdog w;
    watchdog_start(&w, inst);
    double t0 = now_ms();
    st = map1(inst, "spin_if", &c, NULL, &out, err);
    *ms = now_ms() - t0;
    watchdog_stop(&w);
    if (st == WUDF_OK) out.release(&out);
    free_col(&c);
  }
  free(v);
  return st;
}

TEST(rows_timeout_names_the_chunk_not_a_row) {
  wudf_instance *inst = instance_with(200, false, 64 * 1024);
  CHECK(inst);
  wudf_error e1 = {0}, e2 = {0}, e3 = {0};
  double ms1 = 0, ms2 = 0;
  wudf_status s1 = spin_batch(inst, 100000, 70000, &e1, &ms1);
  wudf_status s2 = spin_batch(inst, 10, 5, &e2, &ms2);
  /* The instance works afterwards. */
  int32_t v[3] = {0, 0, 0};
  col c = {0};
  bool built = int_col(&c, v, 3);
  struct ArrowArray out;
  wudf_status s3 = built ? map1(inst, "spin_if", &c, NULL, &out, &e3) : 1;
  int32_t r0 = s3 == WUDF_OK ? ((const int32_t *)out.buffers[1])[0] : 0;
  if (s3 == WUDF_OK) out.release(&out);
  free_col(&c);
  wudf_instance_free(inst);
  CHECK_EQ_INT(s1, WUDF_TRAP_TIMEOUT);
  CHECK(names_rows(&e1, "spin_if", 65536, 99999));
  /* Not re-run: one time limit, not two (generous bound). */
  CHECK_MSG(ms1 >= 200 && ms1 < 5000, "took %.0f ms", ms1);
  CHECK_EQ_INT(s2, WUDF_TRAP_TIMEOUT);
  CHECK(names_rows(&e2, "spin_if", 0, 9));
  CHECK_MSG(ms2 >= 200 && ms2 < 5000, "took %.0f ms", ms2);
  CHECK_MSG(s3 == WUDF_OK, "%s", e3.message);
  CHECK_EQ_INT(r0, 1);
}

static void *interrupt_later(void *p) {
  sleep_ms(300);
  wudf_instance_interrupt(p);
  return NULL;
}

TEST(rows_interrupt_names_the_chunk_not_a_row) {
  /* The time limit only ends the test if the interrupt is lost. */
  wudf_instance *inst = instance_with(20000, false, 64 * 1024);
  CHECK(inst);
  pthread_t th;
  CHECK(pthread_create(&th, NULL, interrupt_later, inst) == 0);
  wudf_error err = {0};
  double ms = 0;
  wudf_status st = spin_batch(inst, 140000, 131075, &err, &ms);
  pthread_join(th, NULL);
  wudf_instance_free(inst);
  CHECK_EQ_INT(st, WUDF_TRAP_INTERRUPTED);
  CHECK(names_rows(&err, "spin_if", 131072, 139999));
}

/* With keep_state_on_trap the loop tracks rows: a time limit then may name
 * the exact row; either way the report must be consistent. */
TEST(rows_timeout_with_keep_state_is_consistent) {
  wudf_instance *inst = instance_with(200, true, 64 * 1024);
  CHECK(inst);
  wudf_error err = {0};
  double ms = 0;
  wudf_status st = spin_batch(inst, 100000, 70000, &err, &ms);
  wudf_instance_free(inst);
  CHECK_EQ_INT(st, WUDF_TRAP_TIMEOUT);
  if (err.row >= 0)
    CHECK(names_row(&err, "spin_if", 70000));
  else
    CHECK(names_rows(&err, "spin_if", 65536, 99999));
}

/* ---- output of a re-run chunk -------------------------------------------- */

/* "row 0\n" .. "row last\n" */
static char *lines_upto(int64_t last, size_t *len) {
  size_t cap = (size_t)(last + 1) * 16 + 1, n = 0;
  char *s = malloc(cap);
  for (int64_t i = 0; s && i <= last; i++)
    n += (size_t)snprintf(s + n, cap - n, "row %lld\n", (long long)i);
  *len = n;
  return s;
}

/* say() prints one line per row and traps on row `trap`. */
static wudf_status say_batch(wudf_instance *inst, int64_t n, int64_t trap,
                             wudf_error *err) {
  int32_t *rows = malloc((size_t)n * sizeof *rows);
  int32_t *traps = calloc((size_t)n, sizeof *traps);
  wudf_status st = WUDF_ERR_NOMEM;
  col cr = {0}, ct = {0};
  if (rows && traps) {
    for (int64_t i = 0; i < n; i++) rows[i] = (int32_t)i;
    traps[trap] = 1;
    bool ok = int_col(&cr, rows, n);
    if (ok && int_col(&ct, traps, n)) {
      struct ArrowArray out;
      st = map1(inst, "say", &cr, &ct, &out, err);
      if (st == WUDF_OK) out.release(&out);
      free_col(&ct);
    }
    if (ok) free_col(&cr);
  }
  free(rows);
  free(traps);
  return st;
}

TEST(rows_output_of_rerun_chunk_appears_once) {
  wudf_instance *inst = instance_with(10000, false, 4u << 20);
  CHECK(inst);
  const int64_t cases[][2] = {{100, 37}, {100, 0}, {100, 99}, {70010, 70000}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    wudf_error err = {0};
    wudf_status st = say_batch(inst, cases[k][0], cases[k][1], &err);
    size_t got_len = 0, want_len = 0;
    bool truncated = true;
    const char *got = wudf_instance_output(inst, &got_len, &truncated);
    char *want = lines_upto(cases[k][1], &want_len);
    bool same = want && got_len == want_len && !memcmp(got, want, want_len);
    if (!same)
      fprintf(stderr, "    case %zu: %zu bytes, want %zu; ends \"%.40s\"\n", k,
              got_len, want_len, got_len > 40 ? got + got_len - 40 : got);
    free(want);
    CHECK_EQ_INT(st, WUDF_TRAP_UNREACHABLE);
    CHECK(names_row(&err, "say", cases[k][1]));
    CHECK_MSG(same, "case %zu: output differs", k);
    CHECK(!truncated);
  }
  wudf_instance_free(inst);
}

/* An output limit reached by the first run is reached again by the re-run:
 * the output is the first bytes, once, and marked truncated. */
TEST(rows_output_of_rerun_chunk_truncated_once) {
  wudf_instance *inst = instance_with(10000, false, 100);
  CHECK(inst);
  wudf_error err = {0};
  wudf_status st = say_batch(inst, 1000, 500, &err);
  size_t got_len = 0, want_len = 0;
  bool truncated = false;
  const char *got = wudf_instance_output(inst, &got_len, &truncated);
  char *want = lines_upto(500, &want_len);
  bool same = want && got_len == 100 && !memcmp(got, want, 100);
  free(want);
  wudf_instance_free(inst);
  CHECK_EQ_INT(st, WUDF_TRAP_UNREACHABLE);
  CHECK(names_row(&err, "say", 500));
  CHECK(same);
  CHECK(truncated);
}

/* keep_state_on_trap: no re-run, the output is printed once anyway. */
TEST(rows_output_with_keep_state_appears_once) {
  wudf_instance *inst = instance_with(10000, true, 64 * 1024);
  CHECK(inst);
  wudf_error err = {0};
  wudf_status st = say_batch(inst, 300, 123, &err);
  size_t got_len = 0, want_len = 0;
  const char *got = wudf_instance_output(inst, &got_len, NULL);
  char *want = lines_upto(123, &want_len);
  bool same = want && got_len == want_len && !memcmp(got, want, want_len);
  free(want);
  wudf_instance_free(inst);
  CHECK_EQ_INT(st, WUDF_TRAP_UNREACHABLE);
  CHECK(names_row(&err, "say", 123));
  CHECK(same);
}

/* A stateful UDF whose re-run does not trap: no line appears twice, and the
 * lines of the rows the first run reached are there. */
TEST(rows_output_of_stateful_rerun_has_no_duplicates) {
  wudf_instance *inst = instance_with(10000, false, 1u << 20);
  CHECK(inst);
  enum { N = 3000 };
  int32_t *rows = malloc(N * sizeof *rows), *phase = malloc(N * sizeof *phase);
  CHECK(rows && phase);
  for (int i = 0; i < N; i++) rows[i] = i, phase[i] = 0;
  col cr = {0}, c0 = {0}, c1 = {0};
  bool ok = int_col(&cr, rows, N) && int_col(&c0, phase, N);
  for (int i = 0; i < N; i++) phase[i] = 1;
  ok = ok && int_col(&c1, phase, N);
  struct ArrowArray out;
  wudf_error e1 = {0}, e2 = {0};
  wudf_status s1 = ok ? map1(inst, "count_say", &cr, &c0, &out, &e1) : 1;
  if (s1 == WUDF_OK) out.release(&out);
  wudf_status s2 = ok ? map1(inst, "count_say", &cr, &c1, &out, &e2) : 1;
  size_t len = 0;
  const char *o = wudf_instance_output(inst, &len, NULL);
  int *seen = calloc(N, sizeof *seen);
  int malformed = 0;
  for (const char *p = o; seen && p < o + len;) {
    int r = -1, used = 0;
    if (sscanf(p, "row %d\n%n", &r, &used) != 1 || used == 0 || r < 0 ||
        r >= N) {
      malformed++;
      break;
    }
    seen[r]++;
    p += used;
  }
  int twice = 0, missing = 0;
  for (int i = 0; seen && i < N; i++) {
    twice += seen[i] > 1;
    missing += i < 2000 && seen[i] != 1;
  }
  free(seen);
  free_col(&cr);
  free_col(&c0);
  free_col(&c1);
  free(rows);
  free(phase);
  wudf_instance_free(inst);
  CHECK_MSG(s1 == WUDF_OK, "%s", e1.message);
  CHECK_EQ_INT(s2, WUDF_TRAP_UNREACHABLE);
  CHECK(names_rows(&e2, "count_say", 0, N - 1));
  CHECK_EQ_INT(malformed, 0);
  CHECK_EQ_INT(twice, 0);
  CHECK_EQ_INT(missing, 0);
}

/* ---- 2. UTF-8 of string results, checked per chunk ---------------------- */

/* pick(code): 0 "ok", 1 E2 82 (a cut euro sign), 2 AC (its last byte),
 * 3 "", 4 outside memory, 5 "€", 6 FF, 7 C3 (a cut e-acute), 8 A9, 9 trap,
 * 10 "a". */
static const char *const k_pick[] = {
    "ok", "\xe2\x82", "\xac", "", NULL, "\xe2\x82\xac", "\xff", "\xc3", "\xa9"};

typedef struct pick_case {
  int64_t n;
  int nset;
  int64_t at[3];
  int32_t code[3];
  int64_t null_row; /* -1: none */
  wudf_status want;
  int64_t row;
} pick_case;

/* Valid rows around the cases: "ok", "" and "€" in turn. */
static int32_t pick_default(int64_t i) {
  return i % 3 == 0 ? 0 : i % 3 == 1 ? 3 : 5;
}

static wudf_status run_pick(wudf_instance *inst, const pick_case *pc,
                            struct ArrowArray *out, wudf_error *err) {
  wudf_array_builder *b = builder(WUDF_TYPE_INT32, pc->n);
  for (int64_t i = 0; b && i < pc->n; i++) {
    int32_t code = pick_default(i);
    for (int k = 0; k < pc->nset; k++)
      if (pc->at[k] == i) code = pc->code[k];
    if (i == pc->null_row)
      wudf_array_builder_append_null(b);
    else
      wudf_array_builder_append_int(b, code);
  }
  col c = {0};
  if (!finish_col(&c, b, 0, pc->n, "code")) return WUDF_ERR_NOMEM;
  wudf_status st = map1(inst, "pick", &c, NULL, out, err);
  free_col(&c);
  return st;
}

TEST(rows_utf8_first_invalid_row_in_row_order) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  const wudf_status T = WUDF_ERR_TYPE, O = WUDF_TRAP_OOB;
  const pick_case cases[] = {
      /* a character cut between two rows: the bytes together are valid */
      {300, 2, {100, 101}, {1, 2}, -1, T, 100},
      {300, 2, {0, 1}, {1, 2}, -1, T, 0},
      {300, 2, {298, 299}, {1, 2}, -1, T, 298},
      {300, 2, {50, 51}, {7, 8}, -1, T, 50},
      {300, 3, {50, 51, 52}, {1, 3, 2}, -1, T, 50}, /* an empty row between */
      {300, 2, {50, 52}, {1, 2}, 51, T, 50},        /* a NULL row between */
      {300, 1, {299}, {1}, -1, T, 299},             /* cut at the end */
      {300, 1, {0}, {2}, -1, T, 0},                 /* starts mid-character */
      /* invalid, then outside memory later: the invalid row */
      {300, 2, {40, 60}, {6, 4}, -1, T, 40},
      {300, 3, {40, 41, 60}, {1, 2, 4}, -1, T, 40},
      /* outside memory, then invalid later: the outside row */
      {300, 2, {40, 60}, {4, 6}, -1, O, 40},
      /* two bad rows: the first */
      {300, 3, {100, 200, 201}, {6, 1, 2}, -1, T, 100},
      {300, 3, {100, 101, 200}, {1, 2, 6}, -1, T, 100},
      /* across the chunk edge, and in the second chunk */
      {70000, 2, {65535, 65536}, {1, 2}, -1, T, 65535},
      {70000, 2, {65536, 65537}, {1, 2}, -1, T, 65536},
      {70000, 2, {100, 65600}, {6, 4}, -1, T, 100},
      {70000, 2, {100, 65600}, {4, 6}, -1, O, 100},
      {70000, 2, {65600, 65700}, {6, 4}, -1, T, 65600},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st = run_pick(inst, &cases[k], &out, &err);
    if (st == WUDF_OK) out.release(&out);
    CHECK_MSG(st == cases[k].want, "case %zu: %s: %s", k, wudf_status_name(st),
              err.message);
    CHECK_MSG(names_row(&err, "pick", cases[k].row), "case %zu", k);
    CHECK_CONTAINS(err.message, cases[k].want == T
                                    ? "is not valid UTF-8"
                                    : "outside the module's memory");
    CHECK(out.release == NULL);
  }
  wudf_instance_free(inst);
}

/* Valid results (multi-byte characters, empty rows, NULLs) come out intact. */
TEST(rows_utf8_valid_results_intact) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  const pick_case pc = {70001, 0, {0}, {0}, 65536, WUDF_OK, -1};
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = run_pick(inst, &pc, &out, &err);
  int64_t wrong = 0;
  for (int64_t i = 0; st == WUDF_OK && i < pc.n; i++) {
    bool null = i == pc.null_row;
    int32_t len;
    const char *p = utf8_at(&out, i, &len);
    const char *want = k_pick[pick_default(i)];
    if (null)
      wrong += row_valid(&out, i) || len != 0;
    else
      wrong += !row_valid(&out, i) || len != (int32_t)strlen(want) ||
               memcmp(p, want, (size_t)len) != 0;
  }
  int64_t nulls = st == WUDF_OK ? out.null_count : -1;
  if (st == WUDF_OK) out.release(&out);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK_EQ_INT(wrong, 0);
  CHECK_EQ_INT(nulls, 1);
}

/* Row 5's result is not UTF-8 and row 10 traps: row 5 is the first bad row
 * (the check used to run right after each call, so it stopped there). */
TEST(rows_utf8_invalid_row_before_a_trapping_row) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  const pick_case pc = {300, 2, {5, 10}, {6, 9}, -1, WUDF_ERR_TYPE, 5};
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = run_pick(inst, &pc, &out, &err);
  if (st == WUDF_OK) out.release(&out);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_ERR_TYPE, "%s: %s", wudf_status_name(st), err.message);
  CHECK(names_row(&err, "pick", 5));
}

/* Rows that are all ASCII but one byte FF, at every position of the bytes
 * modulo 32 and near the end: "a" first when the position is odd, then
 * "ok" rows, the FF row, and "ok" rows to the end. */
TEST(rows_utf8_one_bad_byte_among_ascii) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  for (int64_t pos = 0; pos < 140; pos++) {
    int64_t n = pos < 100 ? 100 : 71;
    int64_t bad = pos % 2 ? 1 + (pos - 1) / 2 : pos / 2;
    if (bad >= n) continue;
    wudf_array_builder *b = builder(WUDF_TYPE_INT32, n);
    for (int64_t i = 0; b && i < n; i++)
      wudf_array_builder_append_int(b, i == bad                 ? 6
                                       : i == 0 && pos % 2 == 1 ? 10
                                                                : 0);
    col c = {0};
    CHECK(finish_col(&c, b, 0, n, "code"));
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st = map1(inst, "pick", &c, NULL, &out, &err);
    free_col(&c);
    if (st == WUDF_OK) out.release(&out);
    CHECK_MSG(st == WUDF_ERR_TYPE, "byte %lld: %s", (long long)pos,
              wudf_status_name(st));
    CHECK_MSG(names_row(&err, "pick", bad), "byte %lld", (long long)pos);
  }
  wudf_instance_free(inst);
}

/* The identity over strings of every length from 0 to 40 (the short ones
 * are copied without memcpy), ASCII and not; the results fill the first
 * buffer (the inputs' size) exactly. */
TEST(rows_string_results_every_short_length) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 1000 };
  static const char uni[] = "é€日";
  char *text[N];
  size_t total = 0;
  wudf_array_builder *b = builder(WUDF_TYPE_UTF8, N);
  for (int64_t i = 0; i < N; i++) {
    size_t len = (size_t)(i % 41);
    text[i] = malloc(len + 1);
    CHECK(text[i]);
    for (size_t k = 0; k < len; k++)
      text[i][k] = (char)('A' + (size_t)(i + (int64_t)k) % 26);
    /* Every fifth row ends in a multi-byte character. */
    if (i % 5 == 0 && len >= 3) memcpy(text[i] + len - 3, uni + 2, 3);
    text[i][len] = '\0';
    total += len;
    if (b) wudf_array_builder_append_string(b, text[i], len);
  }
  col c = {0};
  bool built = finish_col(&c, b, 0, N, "s");
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = built ? map1(inst, "str_trap", &c, NULL, &out, &err) : 1;
  int64_t wrong = 0;
  for (int64_t i = 0; st == WUDF_OK && i < N; i++) {
    int32_t len;
    const char *p = utf8_at(&out, i, &len);
    wrong +=
        len != (int32_t)strlen(text[i]) || memcmp(p, text[i], (size_t)len) != 0;
  }
  bool shape = st == WUDF_OK && out.offset == 0 &&
               ((const int32_t *)out.buffers[1])[0] == 0 &&
               ((const int32_t *)out.buffers[1])[N] == (int32_t)total;
  if (st == WUDF_OK) out.release(&out);
  free_col(&c);
  for (int i = 0; i < N; i++) free(text[i]);
  wudf_instance_free(inst);
  CHECK(built);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK_EQ_INT(wrong, 0);
  CHECK(shape);
  CHECK(total > 4096);
}

/* ---- string results much larger than the inputs ------------------------- */

static const char *const k_words[] = {
    "",
    "a",
    "héllo",
    "日本語",
    "€uro",
    "naïve",
    "café au lait",
    "x@y.z",
    "Grüße aus Köln",
    "ø",
    "0123456789abcdefghijklmnopqrstuvwxyz",
};
#define NWORDS (int64_t)(sizeof k_words / sizeof k_words[0])

static const char *word_of(int64_t i) {
  return k_words[(i * 7) % NWORDS];
}

TEST(rows_string_results_1000_times_the_input) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 4000, OFF = 5 };
  wudf_array_builder *b = builder(WUDF_TYPE_UTF8, N + OFF);
  for (int64_t j = 0; b && j < OFF; j++)
    wudf_array_builder_append_string(b, "filler", 6);
  for (int64_t i = 0; b && i < N; i++) {
    if (i % 11 == 4)
      wudf_array_builder_append_null(b);
    else
      wudf_array_builder_append_string(b, word_of(i), strlen(word_of(i)));
  }
  col c = {0};
  CHECK(finish_col(&c, b, OFF, N, "s"));
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = map1(inst, "rep1000", &c, NULL, &out, &err);
  int64_t wrong = 0, nulls = 0;
  for (int64_t i = 0; st == WUDF_OK && i < N; i++) {
    bool null = i % 11 == 4;
    nulls += null;
    int32_t len;
    const char *p = utf8_at(&out, i, &len);
    if (null) {
      wrong += row_valid(&out, i) || len != 0;
      continue;
    }
    size_t wl = strlen(word_of(i));
    bool ok = row_valid(&out, i) && len == (int32_t)(wl * 1000);
    for (size_t k = 0; ok && k < 1000; k++)
      ok = !memcmp(p + k * wl, word_of(i), wl);
    wrong += !ok;
  }
  int64_t got_nulls = st == WUDF_OK ? out.null_count : -1;
  int64_t got_len = st == WUDF_OK ? out.length : -1;
  if (st == WUDF_OK) out.release(&out);
  free_col(&c);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK_EQ_INT(got_len, N);
  CHECK_EQ_INT(wrong, 0);
  CHECK_EQ_INT(got_nulls, nulls);
}

/* Byte k of mib(x): the guest's pattern, 'a' + (x % 4096 + k) % 23. */
static bool mib_row_ok(const char *p, int32_t len, int32_t x) {
  if (len != 1 << 20) return false;
  uint32_t start = (uint32_t)x % 4096u;
  for (uint32_t k = 0; k < (1u << 20); k++)
    if (p[k] != (char)('a' + (start + k) % 23u)) return false;
  return true;
}

/* 1 MiB per row from an int32 column (the first guess: 16 bytes a row):
 * over 1 GiB in all. */
TEST(rows_string_results_one_mib_per_row) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 1100 };
  int32_t *v = malloc(N * sizeof *v);
  CHECK(v);
  for (int i = 0; i < N; i++) v[i] = (i * 37) % 10007;
  col c = {0};
  bool built = int_col(&c, v, N);
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = built ? map1(inst, "mib", &c, NULL, &out, &err) : 1;
  int64_t wrong = 0;
  for (int64_t i = 0; st == WUDF_OK && i < N; i++) {
    int32_t len;
    const char *p = utf8_at(&out, i, &len);
    wrong += !mib_row_ok(p, len, v[i]);
  }
  if (st == WUDF_OK) out.release(&out);
  free_col(&c);
  free(v);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK_EQ_INT(wrong, 0);
}

/* Rows 0..2046 hold 2047 MiB; row 2047 would pass INT32_MAX bytes. */
TEST(rows_string_results_past_2_gib_name_the_row) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  enum { N = 2100 };
  int32_t *v = calloc(N, sizeof *v);
  CHECK(v);
  col c = {0};
  bool built = int_col(&c, v, N);
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = built ? map1(inst, "mib", &c, NULL, &out, &err) : 1;
  if (st == WUDF_OK) out.release(&out);
  free_col(&c);
  free(v);
  wudf_instance_free(inst);
  CHECK_EQ_INT(st, WUDF_ERR_LIMIT);
  CHECK(names_row(&err, "mib", 2047));
  CHECK_CONTAINS(err.message, "2 GiB");
}

/* ---- 3. FILTER selections ------------------------------------------------ */

static const int64_t k_lengths[] = {0,  1,  7,   8,    9,    63,
                                    64, 65, 127, 1000, 65613};
static const int64_t k_offsets[] = {0, 3, 13, 67};
#define NLEN (sizeof k_lengths / sizeof k_lengths[0])
#define NOFF (sizeof k_offsets / sizeof k_offsets[0])

/* Expected selection of row i: udf 0 pos, 1 both, 2 not_b, 3 pos_or_null,
 * 4 sgn (int32 result). */
static bool want_selected(int udf, int64_t i, int64_t n, int pattern) {
  bool null0 = gen_null(pattern, i, n);
  bool null1 = gen_null((pattern + 1) % P_COUNT, i, n);
  int32_t x = gen_int(i, 0);
  switch (udf) {
    case 0:
      return !null0 && x > 0;
    case 1: {
      int64_t y = (int64_t)gen_int(i, 1) * 7 - 3;
      return !null0 && !null1 && x > 0 && y % 3 != 0;
    }
    case 2:
      return !null0 && !gen_bool(i, 0);
    case 3:
      return null0 || x > 0;
    default:
      return !null0 && x != 0;
  }
}

static const char *const k_filter_udfs[] = {"pos", "both", "not_b",
                                            "pos_or_null", "sgn"};

/* One FILTER; returns the number of wrong rows (or -1 on failure). */
static int64_t check_filter(wudf_instance *inst, int udf, int64_t n,
                            int64_t off, int pattern) {
  col c0 = {0}, c1 = {0};
  wudf_type t0 = udf == 2 ? WUDF_TYPE_BOOL : WUDF_TYPE_INT32;
  if (!gen_col(&c0, t0, n, off, pattern, 0)) return -1;
  bool two = udf == 1;
  if (two &&
      !gen_col(&c1, WUDF_TYPE_INT64, n, off + 5, (pattern + 1) % P_COUNT, 1)) {
    free_col(&c0);
    return -1;
  }
  const struct ArrowArray *a[2] = {&c0.a, two ? &c1.a : NULL};
  const struct ArrowSchema *s[2] = {&c0.s, two ? &c1.s : NULL};
  struct ArrowArray sel;
  int64_t count = -1, want_count = 0, wrong = 0;
  wudf_error err = {0};
  wudf_status st = wudf_instance_filter(inst, k_filter_udfs[udf], a, s,
                                        two ? 2 : 1, &sel, &count, &err);
  free_col(&c0);
  if (two) free_col(&c1);
  if (st != WUDF_OK) {
    fprintf(stderr, "    %s: %s\n", k_filter_udfs[udf], err.message);
    return -1;
  }
  for (int64_t i = 0; i < n; i++) {
    bool w = want_selected(udf, i, n, pattern);
    want_count += w;
    wrong += bit_at(sel.buffers[1], sel.offset + i) != w;
  }
  bool shape = sel.length == n && sel.null_count == 0 &&
               (sel.buffers[0] == NULL) && sel.offset == 0 &&
               sel.n_buffers == 2;
  sel.release(&sel);
  if (wrong || count != want_count || !shape)
    fprintf(stderr,
            "    %s n=%lld off=%lld pattern=%d: %lld wrong, count %lld want "
            "%lld, shape %d\n",
            k_filter_udfs[udf], (long long)n, (long long)off, pattern,
            (long long)wrong, (long long)count, (long long)want_count, shape);
  return wrong + (count != want_count) + !shape;
}

TEST(rows_filter_selection_and_count) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  int64_t bad = 0;
  for (int udf = 0; udf < 5; udf++)
    for (size_t li = 0; li < NLEN; li++)
      for (size_t oi = 0; oi < NOFF; oi++)
        for (int p = 0; p < P_COUNT; p++) {
          int64_t r = check_filter(inst, udf, k_lengths[li], k_offsets[oi], p);
          bad += r != 0;
          if (bad > 5) break;
        }
  wudf_instance_free(inst);
  CHECK_EQ_INT(bad, 0);
}

/* ---- 4. NULL slots of fixed-width results -------------------------------- */

/* Leaves freed blocks of `bytes` bytes full of 0xa5, so that a result
 * buffer that is not written may show it. */
static void dirty_heap(size_t bytes) {
  void *p[4];
  for (int k = 0; k < 4; k++) {
    p[k] = malloc(bytes ? bytes : 1);
    if (p[k]) memset(p[k], 0xa5, bytes);
  }
  for (int k = 0; k < 4; k++) free(p[k]);
}

static const char *const k_fixed_udfs[] = {"f_i32", "f_i64", "f_f32", "f_f64",
                                           "pos"};

/* Whether row i of result `udf` (0..4) is the expected non-NULL value. */
static bool fixed_value_ok(int udf, const void *v, int64_t i) {
  int32_t x = gen_int(i, 0);
  switch (udf) {
    case 0:
      return ((const int32_t *)v)[i] == 2 * x + 1;
    case 1:
      return ((const int64_t *)v)[i] == (int64_t)x * 1000003 + 1;
    case 2:
      return ((const float *)v)[i] == (float)x + 0.5f;
    case 3:
      return ((const double *)v)[i] == x * 0.25 + 1;
    default:
      return bit_at(v, i) == (x > 0);
  }
}

/* Whether row i holds zero. */
static bool fixed_zero(int udf, const void *v, int64_t i) {
  switch (udf) {
    case 0:
      return ((const int32_t *)v)[i] == 0;
    case 1:
      return ((const int64_t *)v)[i] == 0;
    case 2:
      return ((const float *)v)[i] == 0 && !signbit(((const float *)v)[i]);
    case 3:
      return ((const double *)v)[i] == 0 && !signbit(((const double *)v)[i]);
    default:
      return !bit_at(v, i);
  }
}

static int64_t check_fixed(wudf_instance *inst, int udf, int64_t n, int64_t off,
                           int pattern) {
  col c = {0};
  if (!gen_col(&c, WUDF_TYPE_INT32, n, off, pattern, 0)) return -1;
  size_t width = udf == 1 || udf == 3 ? 8 : 4;
  dirty_heap(udf == 4 ? (size_t)(n + 7) / 8 : (size_t)n * width);
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = map1(inst, k_fixed_udfs[udf], &c, NULL, &out, &err);
  free_col(&c);
  if (st != WUDF_OK) {
    fprintf(stderr, "    %s: %s\n", k_fixed_udfs[udf], err.message);
    return -1;
  }
  int64_t wrong = 0, nulls = 0;
  for (int64_t i = 0; i < n; i++) {
    bool null = gen_null(pattern, i, n);
    nulls += null;
    if (row_valid(&out, i) == null) wrong++;
    wrong += null ? !fixed_zero(udf, out.buffers[1], i)
                  : !fixed_value_ok(udf, out.buffers[1], i);
  }
  bool counts = out.null_count == nulls && out.length == n && out.offset == 0 &&
                (nulls > 0 || out.buffers[0] == NULL);
  out.release(&out);
  if (wrong || !counts)
    fprintf(stderr, "    %s n=%lld off=%lld pattern=%d: %lld wrong%s\n",
            k_fixed_udfs[udf], (long long)n, (long long)off, pattern,
            (long long)wrong, counts ? "" : ", null_count/length wrong");
  return wrong + !counts;
}

TEST(rows_fixed_results_null_slots_are_zero) {
  wudf_instance *inst = plain_instance();
  CHECK(inst);
  int64_t bad = 0;
  for (int udf = 0; udf < 5; udf++)
    for (size_t li = 0; li < NLEN; li++)
      for (size_t oi = 0; oi < NOFF; oi += 3)
        for (int p = 0; p < P_COUNT; p++) {
          bad += check_fixed(inst, udf, k_lengths[li], k_offsets[oi], p) != 0;
          if (bad > 5) break;
        }
  wudf_instance_free(inst);
  CHECK_EQ_INT(bad, 0);
}

/* ---- 5. the lazily armed call timer -------------------------------------- */

static wudf_status call_spin(wudf_instance *inst, int32_t spin, int32_t *res,
                             wudf_error *err) {
  wudf_val a = test_i32(spin), r = test_i32(0);
  wudf_status st = wudf_instance_call(inst, "spin_if", &a, 1, &r, 1, err);
  *res = r.of.i32;
  return st;
}

/* `count` short calls; returns how many did not return 1. */
static int short_calls(wudf_instance *inst, int count) {
  int bad = 0;
  for (int i = 0; i < count; i++) {
    int32_t r = 0;
    wudf_error err = {0};
    if (call_spin(inst, 0, &r, &err) != WUDF_OK || r != 1) {
      if (bad == 0) fprintf(stderr, "    short call: %s\n", err.message);
      bad++;
    }
  }
  return bad;
}

/* A spinning call: its status, and how long it took in *ms. */
static wudf_status timed_spin(wudf_instance *inst, double *ms) {
  int32_t r;
  wudf_error err = {0};
  watchdog w;
  watchdog_start(&w, inst);
  double t0 = now_ms();
  wudf_status st = call_spin(inst, 1, &r, &err);
  *ms = now_ms() - t0;
  watchdog_stop(&w);
  return st;
}

/* Thousands of short calls, then a spinning one, three times. */
TEST(rows_timer_short_calls_then_spin_times_out) {
  wudf_instance *inst = instance_with(50, false, 64 * 1024);
  CHECK(inst);
  for (int round = 0; round < 3; round++) {
    int bad = short_calls(inst, 3000);
    double ms = 0;
    wudf_status st = timed_spin(inst, &ms);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(st, WUDF_TRAP_TIMEOUT);
    CHECK_MSG(ms >= 50 && ms < 5000, "round %d: %.0f ms", round, ms);
  }
  wudf_instance_free(inst);
}

/* Short calls for several time limits in a row: the timer fires during and
 * between them, and none of them is stopped. */
TEST(rows_timer_short_calls_across_many_limits_never_trap) {
  wudf_instance *inst = instance_with(50, false, 64 * 1024);
  CHECK(inst);
  int bad = 0, calls = 0;
  double t0 = now_ms();
  while (now_ms() - t0 < 400 && bad == 0) {
    bad += short_calls(inst, 100);
    calls += 100;
  }
  double ms = 0;
  wudf_status st = timed_spin(inst, &ms);
  wudf_instance_free(inst);
  CHECK_MSG(bad == 0, "%d of %d short calls failed", bad, calls);
  CHECK_EQ_INT(st, WUDF_TRAP_TIMEOUT);
  CHECK_MSG(ms >= 50 && ms < 5000, "%.0f ms", ms);
}

/* A short call, an idle sleep past the limit (the timer's signal may come
 * then), then a spin under a longer limit times out, and a short call
 * still succeeds. */
TEST(rows_timer_after_idle_sleep) {
  wudf_instance *a = instance_with(50, false, 64 * 1024),
                *b = instance_with(300, false, 64 * 1024);
  CHECK(a && b);
  int bad = short_calls(a, 1);
  sleep_ms(200);
  double ms = 0;
  wudf_status st = timed_spin(b, &ms);
  int bad2 = short_calls(b, 1);
  /* And the other order: sleep, short call, spin. */
  bad2 += short_calls(a, 1);
  sleep_ms(200);
  bad2 += short_calls(a, 1);
  double ms2 = 0;
  wudf_status st2 = timed_spin(a, &ms2);
  wudf_instance_free(a);
  wudf_instance_free(b);
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(st, WUDF_TRAP_TIMEOUT);
  CHECK_MSG(ms >= 300 && ms < 5000, "%.0f ms", ms);
  CHECK_EQ_INT(bad2, 0);
  CHECK_EQ_INT(st2, WUDF_TRAP_TIMEOUT);
  CHECK_MSG(ms2 >= 50 && ms2 < 5000, "%.0f ms", ms2);
}

/* The timer left running by calls with a 10 s limit expires after the
 * deadline of a 200 ms call: that call must still stop near 200 ms. */
TEST(rows_timer_shorter_limit_after_long_limit_calls) {
  wudf_instance *a = instance_with(10000, false, 64 * 1024),
                *b = instance_with(200, false, 64 * 1024);
  CHECK(a && b);
  int bad = short_calls(a, 3000);
  double ms = 0;
  wudf_status st = timed_spin(b, &ms);
  wudf_instance_free(a);
  wudf_instance_free(b);
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(st, WUDF_TRAP_TIMEOUT);
  CHECK_MSG(ms >= 200 && ms < 5000, "%.0f ms", ms);
}

/* The reverse: the timer left running by 50 ms calls fires early in a call
 * with a 1 s limit, which must go on until its own deadline. */
TEST(rows_timer_longer_limit_after_short_limit_calls) {
  wudf_instance *a = instance_with(50, false, 64 * 1024),
                *b = instance_with(1000, false, 64 * 1024);
  CHECK(a && b);
  int bad = short_calls(a, 3000);
  double ms = 0;
  wudf_status st = timed_spin(b, &ms);
  wudf_instance_free(a);
  wudf_instance_free(b);
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(st, WUDF_TRAP_TIMEOUT);
  CHECK_MSG(ms >= 1000 && ms < 6000, "%.0f ms", ms);
}

typedef struct timer_worker {
  uint32_t limit_ms;
  int bad;
  wudf_status st;
  double ms;
} timer_worker;

static void *timer_work(void *p) {
  timer_worker *w = p;
  wudf_instance *inst = instance_with(w->limit_ms, false, 64 * 1024);
  if (!inst) {
    w->bad = -1;
    return NULL;
  }
  for (int round = 0; round < 2; round++) {
    w->bad += short_calls(inst, 2000);
    sleep_ms(w->limit_ms * 2);
    w->bad += short_calls(inst, 2000);
    w->st = timed_spin(inst, &w->ms);
    if (w->st != WUDF_TRAP_TIMEOUT || w->ms < w->limit_ms || w->ms >= 5000)
      w->bad++;
  }
  wudf_instance_free(inst);
  return NULL;
}

/* Each thread has its own timer. */
TEST(rows_timer_per_thread) {
  CHECK(rows_module());
  timer_worker w[3] = {
      {50, 0, WUDF_OK, 0}, {120, 0, WUDF_OK, 0}, {80, 0, WUDF_OK, 0}};
  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    CHECK(pthread_create(&t[i], NULL, timer_work, &w[i]) == 0);
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 3; i++)
    CHECK_MSG(w[i].bad == 0, "thread %d (%u ms): %d bad, last %s in %.0f ms", i,
              w[i].limit_ms, w[i].bad, wudf_status_name(w[i].st), w[i].ms);
}

/* wudf_instance_free() stops the thread's timer: no signal interrupts a
 * sleep afterwards. */
TEST(rows_timer_stopped_by_instance_free) {
  wudf_instance *inst = instance_with(50, false, 64 * 1024);
  CHECK(inst);
  int bad = short_calls(inst, 10);
  wudf_instance_free(inst);
  int interrupted = sleep_ms(200);
  CHECK_EQ_INT(bad, 0);
  CHECK_EQ_INT(interrupted, 0);
}
