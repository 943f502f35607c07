/* MAP and FILTER over Arrow columns: types, NULLs, strings, traps with row
 * numbers, refusals, threads. Expected values are computed here in plain C,
 * independently of wudf. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "harness.h"
#include "testutil.h"

static const char k_udfs_c[] =
    "#include <stdint.h>\n"
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
    "EXPORT(id_i32) int32_t id_i32(int32_t x) { return x - 7; }\n"
    "EXPORT(id_i64) int64_t id_i64(int64_t x) { return x * 2; }\n"
    "EXPORT(id_f32) float id_f32(float x) { return x + 0.5f; }\n"
    "EXPORT(id_f64) double id_f64(double x) { return x * 3; }\n"
    "EXPORT(not_b) int32_t not_b(int32_t x) { return !x; }\n"
    "EXPORT(nonzero) int32_t nonzero(int32_t x) {\n"
    "  if (x == 0) __builtin_trap();\n"
    "  return x;\n"
    "}\n"
    "EXPORT(div100) int32_t div100(int32_t x) { return 100 / x; }\n"
    "EXPORT(coalesce) int32_t coalesce(int32_t a, int32_t an, int32_t b,\n"
    "                                  int32_t bn) {\n"
    "  return !an ? a : !bn ? b : -1;\n"
    "}\n"
    "EXPORT(is_rich) int32_t is_rich(int32_t b) { return b > 50000; }\n"
    "EXPORT(sign) int32_t sign(int32_t b) { return b < 0 ? -1 : b > 0; }\n"
    "EXPORT(domain) uint64_t domain(const char *s, int32_t n) {\n"
    "  const char *at = memchr(s, '@', (size_t)n);\n"
    "  return at ? pack(at + 1, (uint32_t)(s + n - at - 1)) : pack(s, 0);\n"
    "}\n"
    "EXPORT(twice) uint64_t twice(const char *s, int32_t n) {\n"
    "  char *o = (char *)(uintptr_t)wudf_alloc(2u * (uint32_t)n);\n"
    "  memcpy(o, s, (size_t)n);\n"
    "  memcpy(o + n, s, (size_t)n);\n"
    "  return pack(o, 2u * (uint32_t)n);\n"
    "}\n"
    "EXPORT(bad_ptr) uint64_t bad_ptr(const char *s, int32_t n) {\n"
    "  return n == 3 ? ((uint64_t)16 << 32) | 0xfffffff0u : pack(s, n);\n"
    "}\n"
    "static const char junk[] = {(char)0xff, 'a'};\n"
    "EXPORT(bad_utf8) uint64_t bad_utf8(const char *s, int32_t n) {\n"
    "  return n == 3 ? pack(junk, 2) : pack(s, n);\n"
    "}\n"
    "EXPORT(str_len) int32_t str_len(const char *s, int32_t n) { return n; }\n"
    "EXPORT(concat) uint64_t concat(const char *a, int32_t an, const char *b,\n"
    "                               int32_t bn) {\n"
    "  char *o = (char *)(uintptr_t)wudf_alloc((uint32_t)(an + bn));\n"
    "  memcpy(o, a, (size_t)an);\n"
    "  memcpy(o + an, b, (size_t)bn);\n"
    "  return pack(o, (uint32_t)(an + bn));\n"
    "}\n";

static const char *const k_sigs[] = {
    "adj(int32, float32) -> float32",
    "id_i32(int32) -> int32",
    "id_i64(int64) -> int64",
    "id_f32(float32) -> float32",
    "id_f64(float64) -> float64",
    "not_b(bool) -> bool",
    "nonzero(int32) -> int32",
    "div100(int32) -> int32",
    "coalesce(int32, int32) -> int32 nulls",
    "is_rich(int32) -> bool",
    "sign(int32) -> int32",
    "domain(utf8) -> utf8",
    "twice(utf8) -> utf8",
    "bad_ptr(utf8) -> utf8",
    "bad_utf8(utf8) -> utf8",
    "str_len(utf8) -> int32",
    "concat(utf8, utf8) -> utf8",
};
#define NSIGS (sizeof k_sigs / sizeof k_sigs[0])

static wudf_engine *g_engine;
static wudf_module *g_module;

/* The module is compiled once for the whole file. */
static wudf_module *udf_module(void) {
  if (g_module) return g_module;
  g_engine = test_engine(NULL, NULL);
  g_module = test_load_c_udfs(g_engine, k_udfs_c, k_sigs, NSIGS, "udfs.wasm");
  return g_module;
}

/* Columns built with the builder; released at the end of each test. */
typedef struct cols {
  struct ArrowArray a[4];
  struct ArrowSchema s[4];
  const struct ArrowArray *ap[4];
  const struct ArrowSchema *sp[4];
  int n;
} cols;

static wudf_array_builder *builder(wudf_type t, int64_t cap) {
  wudf_array_builder *b = NULL;
  wudf_error err = {0};
  if (wudf_array_builder_new(t, cap, &b, &err))
    fprintf(stderr, "    builder: %s\n", err.message);
  return b;
}

static int add_col(cols *c, wudf_array_builder *b, const char *name) {
  wudf_error err = {0};
  int i = c->n;
  if (!b || wudf_array_builder_finish(b, name, &c->a[i], &c->s[i], &err)) {
    fprintf(stderr, "    finish: %s\n", err.message);
    wudf_array_builder_free(b);
    return -1;
  }
  wudf_array_builder_free(b);
  c->ap[i] = &c->a[i];
  c->sp[i] = &c->s[i];
  c->n++;
  return 0;
}

static void free_cols(cols *c) {
  for (int i = 0; i < c->n; i++) {
    c->a[i].release(&c->a[i]);
    c->s[i].release(&c->s[i]);
  }
  c->n = 0;
}

static bool is_valid(const struct ArrowArray *a, int64_t i) {
  const uint8_t *v = a->buffers[0];
  int64_t k = a->offset + i;
  return !v || ((v[k >> 3] >> (k & 7)) & 1);
}

static const char *str_at(const struct ArrowArray *a, int64_t i, int32_t *len) {
  const int32_t *o = a->buffers[1];
  *len = o[a->offset + i + 1] - o[a->offset + i];
  return (const char *)a->buffers[2] + o[a->offset + i];
}

static wudf_instance *new_instance(void) {
  wudf_module *m = udf_module();
  wudf_instance *inst = NULL;
  wudf_error err = {0};
  if (m && wudf_instance_new(m, NULL, &inst, &err))
    fprintf(stderr, "    instance: %s\n", err.message);
  return inst;
}

__attribute__((destructor)) static void free_module(void) {
  wudf_module_free(g_module);
  wudf_engine_free(g_engine);
}

TEST(batch_numeric_map_matches_native) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  enum { N = 5000 };
  cols c = {0};
  wudf_array_builder *b = builder(WUDF_TYPE_INT32, N),
                     *r = builder(WUDF_TYPE_FLOAT32, N);
  for (int i = 0; i < N; i++) {
    wudf_array_builder_append_int(b, (i * 7919) % 100000);
    wudf_array_builder_append_double(r, (float)(i % 100) / 100.0f);
  }
  add_col(&c, b, "balance");
  add_col(&c, r, "rate");
  struct ArrowArray out;
  struct ArrowSchema os;
  wudf_error err = {0};
  wudf_status st =
      wudf_instance_map(inst, "adj", c.ap, c.sp, 2, &out, &os, &err);
  int wrong = 0;
  if (st == WUDF_OK) {
    const float *v = out.buffers[1];
    for (int i = 0; i < N; i++) {
      int32_t bal = (i * 7919) % 100000;
      float rate = (float)(i % 100) / 100.0f;
      /* The seed's expression, with C's implicit conversions spelled out. */
      float want = ((float)bal * rate) + (float)(bal / 1000);
      if (v[i] != want) wrong++;
    }
  }
  bool schema_ok = st == WUDF_OK && !strcmp(os.format, "f") &&
                   !strcmp(os.name, "adj_RESULT") && out.length == N &&
                   out.null_count == 0;
  if (st == WUDF_OK) {
    out.release(&out);
    os.release(&os);
  }
  free_cols(&c);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK_EQ_INT(wrong, 0);
  CHECK(schema_ok);
}

/* Every column type, each through a UDF whose result is computed here. */
TEST(batch_every_type) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  enum { N = 333 };
  struct {
    const char *udf;
    wudf_type in;
  } cases[] = {{"id_i32", WUDF_TYPE_INT32},   {"id_i64", WUDF_TYPE_INT64},
               {"id_f32", WUDF_TYPE_FLOAT32}, {"id_f64", WUDF_TYPE_FLOAT64},
               {"not_b", WUDF_TYPE_BOOL},     {"id_i64", WUDF_TYPE_INT32},
               {"id_f64", WUDF_TYPE_INT32},   {"id_f64", WUDF_TYPE_FLOAT32}};
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    cols c = {0};
    wudf_array_builder *b = builder(cases[k].in, 4);
    for (int i = 0; i < N; i++) {
      if (cases[k].in == WUDF_TYPE_BOOL)
        wudf_array_builder_append_bool(b, i % 3 == 0);
      else if (cases[k].in == WUDF_TYPE_FLOAT32 ||
               cases[k].in == WUDF_TYPE_FLOAT64)
        wudf_array_builder_append_double(b, i * 1.25 - 100);
      else
        wudf_array_builder_append_int(b, (int64_t)i * 1000003 - 100000000);
    }
    add_col(&c, b, "x");
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st =
        wudf_instance_map(inst, cases[k].udf, c.ap, c.sp, 1, &out, NULL, &err);
    int wrong = 0;
    for (int i = 0; st == WUDF_OK && i < N; i++) {
      int64_t xi = (int64_t)i * 1000003 - 100000000;
      double xf = i * 1.25 - 100;
      const void *v = out.buffers[1];
      switch (k) {
        case 0:
          wrong += ((const int32_t *)v)[i] != (int32_t)xi - 7;
          break;
        case 1:
          wrong += ((const int64_t *)v)[i] != xi * 2;
          break;
        case 2:
          wrong += ((const float *)v)[i] != (float)xf + 0.5f;
          break;
        case 3:
          wrong += ((const double *)v)[i] != xf * 3;
          break;
        case 4:
          wrong += (int)(((((const uint8_t *)v)[i >> 3] >> (i & 7)) & 1) !=
                         (i % 3 != 0));
          break;
        case 5:
          wrong += ((const int64_t *)v)[i] != (int64_t)(int32_t)xi * 2;
          break;
        case 6:
          wrong += ((const double *)v)[i] != (double)(int32_t)xi * 3;
          break;
        case 7:
          wrong += ((const double *)v)[i] != (double)(float)xf * 3;
          break;
      }
    }
    if (st == WUDF_OK) out.release(&out);
    free_cols(&c);
    CHECK_MSG(st == WUDF_OK, "case %zu: %s", k, err.message);
    CHECK_MSG(wrong == 0, "case %zu (%s): %d wrong", k, cases[k].udf, wrong);
  }
  wudf_instance_free(inst);
}

/* NULL in, NULL out, and the function is not called: `nonzero` traps on 0,
 * which is what NULL slots hold. */
TEST(batch_null_patterns) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  enum { N = 77 };
  const char *names[] = {"none", "all", "alternating", "first", "last"};
  for (int p = 0; p < 5; p++) {
    cols c = {0};
    wudf_array_builder *b = builder(WUDF_TYPE_INT32, N);
    bool null_at[N];
    for (int i = 0; i < N; i++) {
      null_at[i] = p == 1 || (p == 2 && i % 2) || (p == 3 && i == 0) ||
                   (p == 4 && i == N - 1);
      if (null_at[i])
        wudf_array_builder_append_null(b);
      else
        wudf_array_builder_append_int(b, i + 1);
    }
    add_col(&c, b, "x");
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st =
        wudf_instance_map(inst, "nonzero", c.ap, c.sp, 1, &out, NULL, &err);
    int wrong = 0, nulls = 0;
    for (int i = 0; st == WUDF_OK && i < N; i++) {
      nulls += null_at[i];
      if (is_valid(&out, i) == null_at[i]) wrong++;
      if (!null_at[i] && ((const int32_t *)out.buffers[1])[i] != i + 1) wrong++;
    }
    int64_t null_count = st == WUDF_OK ? out.null_count : -1;
    if (st == WUDF_OK) out.release(&out);
    free_cols(&c);
    CHECK_MSG(st == WUDF_OK, "%s: %s", names[p], err.message);
    CHECK_MSG(wrong == 0, "%s: %d wrong", names[p], wrong);
    CHECK_EQ_INT(null_count, nulls);
  }
  wudf_instance_free(inst);
}

TEST(batch_udf_that_sees_nulls) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  cols c = {0};
  wudf_array_builder *a = builder(WUDF_TYPE_INT32, 4),
                     *b = builder(WUDF_TYPE_INT32, 4);
  /* rows: (1, 2) (NULL, 3) (4, NULL) (NULL, NULL) */
  wudf_array_builder_append_int(a, 1);
  wudf_array_builder_append_null(a);
  wudf_array_builder_append_int(a, 4);
  wudf_array_builder_append_null(a);
  wudf_array_builder_append_int(b, 2);
  wudf_array_builder_append_int(b, 3);
  wudf_array_builder_append_null(b);
  wudf_array_builder_append_null(b);
  add_col(&c, a, "a");
  add_col(&c, b, "b");
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st =
      wudf_instance_map(inst, "coalesce", c.ap, c.sp, 2, &out, NULL, &err);
  int32_t got[4] = {0};
  int64_t nulls = -1;
  if (st == WUDF_OK) {
    memcpy(got, out.buffers[1], sizeof got);
    nulls = out.null_count;
    out.release(&out);
  }
  free_cols(&c);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK(got[0] == 1 && got[1] == 3 && got[2] == 4 && got[3] == -1);
  CHECK_EQ_INT(nulls, 0);
}

TEST(batch_empty_one_and_large) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  int64_t sizes[] = {0, 1, 1000000};
  for (int s = 0; s < 3; s++) {
    cols c = {0};
    wudf_array_builder *b = builder(WUDF_TYPE_INT32, sizes[s]);
    for (int64_t i = 0; i < sizes[s]; i++)
      wudf_array_builder_append_int(b, (int32_t)(i % 1000) + 1);
    add_col(&c, b, "x");
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st =
        wudf_instance_map(inst, "div100", c.ap, c.sp, 1, &out, NULL, &err);
    int64_t wrong = 0, len = -1;
    for (int64_t i = 0; st == WUDF_OK && i < sizes[s]; i++)
      wrong += ((const int32_t *)out.buffers[1])[i] !=
               100 / ((int32_t)(i % 1000) + 1);
    if (st == WUDF_OK) {
      len = out.length;
      out.release(&out);
    }
    free_cols(&c);
    CHECK_MSG(st == WUDF_OK, "%lld rows: %s", (long long)sizes[s], err.message);
    CHECK_EQ_INT(len, sizes[s]);
    CHECK_EQ_INT(wrong, 0);
  }
  wudf_instance_free(inst);
}

/* A trap names the function, the kind and the row; the next batch works. */
TEST(batch_trap_reports_row) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  enum { N = 1000 };
  int rows[] = {0, 517, N - 1};
  for (int t = 0; t < 3; t++) {
    cols c = {0};
    wudf_array_builder *b = builder(WUDF_TYPE_INT32, N);
    for (int i = 0; i < N; i++)
      wudf_array_builder_append_int(b, i == rows[t] ? 0 : i + 1);
    add_col(&c, b, "x");
    struct ArrowArray out;
    memset(&out, 0, sizeof out);
    wudf_error err = {0};
    wudf_status st =
        wudf_instance_map(inst, "div100", c.ap, c.sp, 1, &out, NULL, &err);
    char want[64];
    snprintf(want, sizeof want, "on row %d", rows[t]);
    free_cols(&c);
    CHECK_EQ_INT(st, WUDF_TRAP_DIV_BY_ZERO);
    CHECK_EQ_INT(err.row, rows[t]);
    CHECK_CONTAINS(err.message, want);
    CHECK_CONTAINS(err.message, "div100");
    CHECK_CONTAINS(err.message, "divide by zero");
    CHECK(out.release == NULL);
  }
  cols c = {0};
  wudf_array_builder *b = builder(WUDF_TYPE_INT32, 1);
  wudf_array_builder_append_int(b, 5);
  add_col(&c, b, "x");
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st =
      wudf_instance_map(inst, "div100", c.ap, c.sp, 1, &out, NULL, &err);
  int32_t v = st == WUDF_OK ? ((const int32_t *)out.buffers[1])[0] : 0;
  if (st == WUDF_OK) out.release(&out);
  free_cols(&c);
  wudf_instance_free(inst);
  CHECK_EQ_INT(st, WUDF_OK);
  CHECK_EQ_INT(v, 20);
}

static const char *k_strings[] = {
    "ada@example.com", "",      "no-at-sign", "über@münchen.de", "@", "x@",
    "日本語@例え.jp",  "a@b@c",
};
#define NSTR (int)(sizeof k_strings / sizeof k_strings[0])

static void expect_domain(const char *s, const char **p, int32_t *n) {
  const char *at = strchr(s, '@');
  *p = at ? at + 1 : s;
  *n = at ? (int32_t)strlen(at + 1) : 0;
}

TEST(batch_strings) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  cols c = {0};
  wudf_array_builder *b = builder(WUDF_TYPE_UTF8, 2);
  for (int i = 0; i < NSTR; i++)
    wudf_array_builder_append_string(b, k_strings[i], strlen(k_strings[i]));
  wudf_array_builder_append_null(b);
  add_col(&c, b, "email");
  struct ArrowArray dom, tw, len;
  wudf_error err = {0};
  wudf_status st1 =
      wudf_instance_map(inst, "domain", c.ap, c.sp, 1, &dom, NULL, &err);
  CHECK_MSG(st1 == WUDF_OK, "domain: %s", err.message);
  wudf_status st2 =
      wudf_instance_map(inst, "twice", c.ap, c.sp, 1, &tw, NULL, &err);
  CHECK_MSG(st2 == WUDF_OK, "twice: %s", err.message);
  wudf_status st3 =
      wudf_instance_map(inst, "str_len", c.ap, c.sp, 1, &len, NULL, &err);
  CHECK_MSG(st3 == WUDF_OK, "str_len: %s", err.message);
  int wrong = 0;
  for (int i = 0; i < NSTR; i++) {
    const char *wp, *gp;
    int32_t wn, gn;
    expect_domain(k_strings[i], &wp, &wn);
    gp = str_at(&dom, i, &gn);
    wrong += gn != wn || memcmp(gp, wp, (size_t)wn) != 0;
    gp = str_at(&tw, i, &gn);
    size_t n = strlen(k_strings[i]);
    wrong += gn != (int32_t)(2 * n) || memcmp(gp, k_strings[i], n) ||
             memcmp(gp + n, k_strings[i], n);
    wrong += ((const int32_t *)len.buffers[1])[i] != (int32_t)n;
  }
  bool null_last = !is_valid(&dom, NSTR) && !is_valid(&tw, NSTR) &&
                   !is_valid(&len, NSTR) && dom.null_count == 1;
  dom.release(&dom);
  tw.release(&tw);
  len.release(&len);
  free_cols(&c);
  wudf_instance_free(inst);
  CHECK_EQ_INT(wrong, 0);
  CHECK(null_last);
}

TEST(batch_long_strings_and_two_string_columns) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  size_t big = 3u << 20;
  char *s = malloc(big);
  CHECK(s);
  for (size_t i = 0; i < big; i++) s[i] = (char)('a' + i % 26);
  cols c = {0};
  wudf_array_builder *a = builder(WUDF_TYPE_UTF8, 2),
                     *b = builder(WUDF_TYPE_UTF8, 2);
  wudf_array_builder_append_string(a, s, big);
  wudf_array_builder_append_string(a, "x", 1);
  wudf_array_builder_append_string(b, "-tail", 5);
  wudf_array_builder_append_string(b, s, big);
  add_col(&c, a, "a");
  add_col(&c, b, "b");
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st =
      wudf_instance_map(inst, "concat", c.ap, c.sp, 2, &out, NULL, &err);
  bool ok = false;
  if (st == WUDF_OK) {
    int32_t n0, n1;
    const char *p0 = str_at(&out, 0, &n0), *p1 = str_at(&out, 1, &n1);
    ok = n0 == (int32_t)big + 5 && !memcmp(p0, s, big) &&
         !memcmp(p0 + big, "-tail", 5) && n1 == (int32_t)big + 1 &&
         p1[0] == 'x' && !memcmp(p1 + 1, s, big);
    out.release(&out);
  }
  free_cols(&c);
  free(s);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK(ok);
}

/* A string result pointing outside memory, or not UTF-8, is an error on its
 * row, never a read of host memory. */
TEST(batch_bad_string_results) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  const char *udfs[] = {"bad_ptr", "bad_utf8"};
  wudf_status want[] = {WUDF_TRAP_OOB, WUDF_ERR_TYPE};
  const char *text[] = {"outside the module's memory", "not valid UTF-8"};
  for (int k = 0; k < 2; k++) {
    cols c = {0};
    wudf_array_builder *b = builder(WUDF_TYPE_UTF8, 3);
    wudf_array_builder_append_string(b, "ok", 2);
    wudf_array_builder_append_string(b, "fine", 4);
    wudf_array_builder_append_string(b, "bad", 3);
    add_col(&c, b, "s");
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st =
        wudf_instance_map(inst, udfs[k], c.ap, c.sp, 1, &out, NULL, &err);
    free_cols(&c);
    CHECK_MSG(st == want[k], "%s: %s: %s", udfs[k], wudf_status_name(st),
              err.message);
    CHECK_EQ_INT(err.row, 2);
    CHECK_CONTAINS(err.message, text[k]);
  }
  wudf_instance_free(inst);
}

TEST(batch_filter) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  enum { N = 1003 };
  cols c = {0};
  wudf_array_builder *b = builder(WUDF_TYPE_INT32, N);
  int64_t want = 0;
  for (int i = 0; i < N; i++) {
    if (i % 10 == 3) {
      wudf_array_builder_append_null(b);
      continue;
    }
    int32_t bal = (i * 7919) % 100000 - 20000;
    wudf_array_builder_append_int(b, bal);
    want += bal > 50000;
  }
  add_col(&c, b, "balance");
  struct ArrowArray sel, sel2;
  int64_t n1 = -1, n2 = -1, want2 = 0;
  wudf_error err = {0};
  wudf_status st =
      wudf_instance_filter(inst, "is_rich", c.ap, c.sp, 1, &sel, &n1, &err);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  wudf_status st2 =
      wudf_instance_filter(inst, "sign", c.ap, c.sp, 1, &sel2, &n2, &err);
  CHECK_MSG(st2 == WUDF_OK, "%s", err.message);
  int wrong = 0;
  for (int i = 0; i < N; i++) {
    int32_t bal = (i * 7919) % 100000 - 20000;
    bool null = i % 10 == 3;
    bool k1 = (((const uint8_t *)sel.buffers[1])[i >> 3] >> (i & 7)) & 1;
    bool k2 = (((const uint8_t *)sel2.buffers[1])[i >> 3] >> (i & 7)) & 1;
    wrong += k1 != (!null && bal > 50000);
    wrong += k2 != (!null && bal != 0);
    want2 += !null && bal != 0;
  }
  bool no_nulls = sel.null_count == 0 && sel2.null_count == 0;
  sel.release(&sel);
  sel2.release(&sel2);
  wudf_status st3 =
      wudf_instance_filter(inst, "adj", c.ap, c.sp, 1, &sel, NULL, &err);
  free_cols(&c);
  wudf_instance_free(inst);
  CHECK_EQ_INT(wrong, 0);
  CHECK_EQ_INT(n1, want);
  CHECK_EQ_INT(n2, want2);
  CHECK(no_nulls);
  CHECK_EQ_INT(st3, WUDF_ERR_TYPE);
}

TEST(batch_refuses_mismatched_columns_before_running) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  cols c = {0};
  wudf_array_builder *b = builder(WUDF_TYPE_FLOAT64, 1),
                     *r = builder(WUDF_TYPE_FLOAT32, 1);
  wudf_array_builder_append_double(b, 1);
  wudf_array_builder_append_double(r, 1);
  add_col(&c, b, "balance");
  add_col(&c, r, "rate");
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st =
      wudf_instance_map(inst, "adj", c.ap, c.sp, 2, &out, NULL, &err);
  char msg[WUDF_ERROR_MESSAGE_SIZE];
  memcpy(msg, err.message, sizeof msg);
  wudf_status st_check =
      wudf_module_check_udf(udf_module(), "adj", c.sp, 2, &err);
  char msg2[WUDF_ERROR_MESSAGE_SIZE];
  memcpy(msg2, err.message, sizeof msg2);
  wudf_status st_count =
      wudf_instance_map(inst, "adj", c.ap, c.sp, 1, &out, NULL, &err);
  wudf_status st_nf =
      wudf_instance_map(inst, "nope", c.ap, c.sp, 1, &out, NULL, &err);
  free_cols(&c);
  wudf_instance_free(inst);
  CHECK_EQ_INT(st, WUDF_ERR_TYPE);
  CHECK_CONTAINS(msg, "adj: a float64 column cannot be passed");
  CHECK_CONTAINS(msg, "parameter 1 (int32)");
  CHECK_CONTAINS(msg, "(column 'balance')");
  CHECK_EQ_INT(st_check, WUDF_ERR_TYPE);
  CHECK_CONTAINS(msg2, "'balance'");
  CHECK_EQ_INT(err.column, -1); /* the last call: no such UDF */
  CHECK_EQ_INT(st_count, WUDF_ERR_TYPE);
  CHECK_EQ_INT(st_nf, WUDF_ERR_NOT_FOUND);
}

TEST(batch_signature_must_match_export) {
  size_t len;
  uint8_t *bytes = test_wat(
      "(module (func (export \"f\") (param i64) (result f32) f32.const 0))",
      NULL, &len);
  CHECK(bytes);
  wudf_udf_sig sig;
  wudf_error err = {0};
  const char *text = "f(int32) -> float32";
  CHECK_STATUS(wudf_udf_sig_parse(text, strlen(text), &sig, &err), WUDF_OK,
               &err);
  wudf_engine *e = test_engine(NULL, NULL);
  wudf_module *m = NULL;
  wudf_load_options o = {.name = "f.wasm", .udfs = &sig, .nudfs = 1};
  wudf_status st = e ? wudf_module_load_ex(e, bytes, len, &o, &m, &err) : 1;
  wudf_module_free(m);
  wudf_engine_free(e);
  free(bytes);
  CHECK_EQ_INT(st, WUDF_ERR_TYPE);
  CHECK_CONTAINS(err.message, "(i32) -> (f32)");
  CHECK_CONTAINS(err.message, "(i64) -> (f32)");
}

/* Appends a custom section to a module (id 0, size, name, payload). */
static uint8_t *with_custom(const uint8_t *w, size_t len, const char *name,
                            const char *payload, size_t *out_len) {
  size_t nl = strlen(name), pl = strlen(payload), body = 1 + nl + pl;
  uint8_t *o = malloc(len + body + 8);
  if (!o || nl > 127 || body > 16383) return NULL;
  memcpy(o, w, len);
  size_t p = len;
  o[p++] = 0;
  o[p++] = (uint8_t)(0x80 | (body & 0x7f));
  o[p++] = (uint8_t)(body >> 7);
  o[p++] = (uint8_t)nl;
  memcpy(o + p, name, nl);
  memcpy(o + p + nl, payload, pl);
  *out_len = p + nl + pl;
  return o;
}

TEST(batch_signatures_from_custom_section) {
  size_t len, len2;
  uint8_t *w = test_wat(
      "(module (func (export \"inc\") (param i32) (result i32)\n"
      "  local.get 0 i32.const 1 i32.add))",
      NULL, &len);
  CHECK(w);
  uint8_t *w2 = with_custom(w, len, "wudf.udfs",
                            "# a comment\ninc(int32) -> int32\n", &len2);
  free(w);
  CHECK(w2);
  wudf_engine *e = test_engine(NULL, NULL);
  wudf_module *m = NULL;
  wudf_instance *inst = NULL;
  wudf_error err = {0};
  wudf_status st = e ? wudf_module_load(e, w2, len2, "inc.wasm", &m, &err) : 1;
  free(w2);
  wudf_udf_sig sig = {0};
  if (m) wudf_module_udf(m, 0, &sig);
  if (m) wudf_instance_new(m, NULL, &inst, &err);
  cols c = {0};
  wudf_array_builder *b = builder(WUDF_TYPE_INT32, 2);
  wudf_array_builder_append_int(b, 41);
  add_col(&c, b, "x");
  struct ArrowArray out;
  wudf_status st2 =
      inst ? wudf_instance_map(inst, "inc", c.ap, c.sp, 1, &out, NULL, &err)
           : 1;
  int32_t v = st2 == WUDF_OK ? ((const int32_t *)out.buffers[1])[0] : 0;
  if (st2 == WUDF_OK) out.release(&out);
  free_cols(&c);
  wudf_instance_free(inst);
  wudf_module_free(m);
  wudf_engine_free(e);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK(!strcmp(sig.name, "inc") && sig.nparams == 1);
  CHECK_EQ_INT(st2, WUDF_OK);
  CHECK_EQ_INT(v, 42);
}

/* Several threads, one instance each, map numbers and strings and trap. */
typedef struct bworker {
  int wrong, failed;
} bworker;

static void *batch_work(void *p) {
  bworker *w = p;
  wudf_instance *inst = new_instance();
  if (!inst) {
    w->failed++;
    return NULL;
  }
  for (int it = 0; it < 40; it++) {
    cols c = {0};
    wudf_array_builder *b = builder(WUDF_TYPE_INT32, 100),
                       *s = builder(WUDF_TYPE_UTF8, 100);
    for (int i = 0; i < 100; i++) {
      wudf_array_builder_append_int(b, it % 4 == 0 && i == 50 ? 0 : i + 1);
      wudf_array_builder_append_string(s, k_strings[i % NSTR],
                                       strlen(k_strings[i % NSTR]));
    }
    add_col(&c, b, "x");
    add_col(&c, s, "s");
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st =
        wudf_instance_map(inst, "div100", c.ap, c.sp, 1, &out, NULL, &err);
    if (it % 4 == 0) {
      w->wrong += st != WUDF_TRAP_DIV_BY_ZERO || err.row != 50;
    } else {
      w->wrong += st != WUDF_OK;
      for (int i = 0; st == WUDF_OK && i < 100; i++)
        w->wrong += ((const int32_t *)out.buffers[1])[i] != 100 / (i + 1);
      if (st == WUDF_OK) out.release(&out);
    }
    st = wudf_instance_map(inst, "domain", c.ap + 1, c.sp + 1, 1, &out, NULL,
                           &err);
    w->wrong += st != WUDF_OK;
    for (int i = 0; st == WUDF_OK && i < 100; i++) {
      const char *wp, *gp;
      int32_t wn, gn;
      expect_domain(k_strings[i % NSTR], &wp, &wn);
      gp = str_at(&out, i, &gn);
      w->wrong += gn != wn || memcmp(gp, wp, (size_t)wn) != 0;
    }
    if (st == WUDF_OK) out.release(&out);
    free_cols(&c);
  }
  wudf_instance_free(inst);
  return NULL;
}

TEST(batch_many_threads) {
  CHECK(udf_module());
  enum { N = 6 };
  pthread_t t[N];
  bworker w[N];
  memset(w, 0, sizeof w);
  for (int i = 0; i < N; i++) pthread_create(&t[i], NULL, batch_work, &w[i]);
  int wrong = 0, failed = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    wrong += w[i].wrong;
    failed += w[i].failed;
  }
  CHECK_EQ_INT(failed, 0);
  CHECK_EQ_INT(wrong, 0);
}

/* Batches larger than one internal chunk: rows, NULLs, bool bits, string
 * results and a trap's row number stay right across chunk boundaries. */
TEST(batch_spans_chunks) {
  wudf_instance *inst = new_instance();
  CHECK(inst);
  enum { N = 200003 };
  cols c = {0};
  wudf_array_builder *b = builder(WUDF_TYPE_INT32, N),
                     *s = builder(WUDF_TYPE_UTF8, N);
  for (int i = 0; i < N; i++) {
    if (i % 7 == 3) {
      wudf_array_builder_append_null(b);
      wudf_array_builder_append_null(s);
    } else {
      wudf_array_builder_append_int(b, (i * 7919) % 100000);
      wudf_array_builder_append_string(s, k_strings[i % NSTR],
                                       strlen(k_strings[i % NSTR]));
    }
  }
  add_col(&c, b, "balance");
  add_col(&c, s, "email");
  struct ArrowArray rich, dom;
  wudf_error err = {0};
  wudf_status st1 =
      wudf_instance_map(inst, "is_rich", c.ap, c.sp, 1, &rich, NULL, &err);
  CHECK_MSG(st1 == WUDF_OK, "%s", err.message);
  wudf_status st2 = wudf_instance_map(inst, "domain", c.ap + 1, c.sp + 1, 1,
                                      &dom, NULL, &err);
  CHECK_MSG(st2 == WUDF_OK, "%s", err.message);
  int wrong = 0;
  for (int i = 0; i < N; i++) {
    bool null = i % 7 == 3;
    wrong += is_valid(&rich, i) == null || is_valid(&dom, i) == null;
    if (null) continue;
    bool bit = (((const uint8_t *)rich.buffers[1])[i >> 3] >> (i & 7)) & 1;
    wrong += bit != ((i * 7919) % 100000 > 50000);
    const char *wp, *gp;
    int32_t wn, gn;
    expect_domain(k_strings[i % NSTR], &wp, &wn);
    gp = str_at(&dom, i, &gn);
    wrong += gn != wn || memcmp(gp, wp, (size_t)wn) != 0;
  }
  rich.release(&rich);
  dom.release(&dom);
  free_cols(&c);
  /* A trap in a later chunk reports its row in the whole batch. */
  b = builder(WUDF_TYPE_INT32, N);
  for (int i = 0; i < N; i++)
    wudf_array_builder_append_int(b, i == 150001 ? 0 : 1);
  add_col(&c, b, "x");
  struct ArrowArray out;
  wudf_status st3 =
      wudf_instance_map(inst, "div100", c.ap, c.sp, 1, &out, NULL, &err);
  free_cols(&c);
  wudf_instance_free(inst);
  CHECK_EQ_INT(wrong, 0);
  CHECK_EQ_INT(st3, WUDF_TRAP_DIV_BY_ZERO);
  CHECK_EQ_INT(err.row, 150001);
}
