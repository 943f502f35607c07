/* Compiling UDF sources (include/wudf_compile.h): signatures from the
 * source, MAP/FILTER of the results, C's libc, C++, WAT, .wasm pass-through,
 * hostile sources in the sandbox, diagnostics, limits, the cache, and
 * wudf_module_is_cached(). Expected values are computed here in plain C or
 * counted by hand from the sources below. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"
#include "wudf_compile.h"

/* The seed's function, exactly as written. */
static const char k_seed[] =
    "float calculate_adj_bal(int balance, float rate) { return (balance * "
    "rate) + balance / 1000; }\n";

/* Options for the tests: wudf_guest.h from the checkout (the tests run from
 * its root), a cache private to the run. */
static wudf_compile_options opts(const char *file_name) {
  static char cache[512];
  snprintf(cache, sizeof cache, "%s/compile-cache", test_tmpdir());
  wudf_compile_options o;
  wudf_compile_options_init(&o);
  o.include_dir = "include";
  o.cache_dir = cache;
  o.file_name = file_name;
  return o;
}

static wudf_compile_result *compile(const char *src, const char *name,
                                    wudf_status want, wudf_error *err) {
  wudf_compile_options o = opts(name);
  wudf_compile_result *r = NULL;
  wudf_status st = wudf_compile(src, strlen(src), &o, &r, err);
  if (st != want)
    fprintf(stderr, "    compile %s: %s (%s)\n", name, wudf_status_name(st),
            err->message);
  return st == want ? r : (wudf_compile_result_free(r), NULL);
}

static bool has_udf(const wudf_compile_result *r, const char *text) {
  for (uint32_t i = 0; i < wudf_compile_result_udf_count(r); i++) {
    wudf_udf_sig s;
    char buf[512];
    wudf_compile_result_udf(r, i, &s);
    wudf_udf_sig_format(&s, buf, sizeof buf);
    if (!strcmp(buf, text)) return true;
  }
  return false;
}

/* The first diagnostic of `severity` whose message contains `part`. */
static bool find_diag(const wudf_compile_result *r, wudf_severity severity,
                      const char *part, wudf_diagnostic *out) {
  for (uint32_t i = 0; i < wudf_compile_result_diagnostic_count(r); i++) {
    wudf_compile_result_diagnostic(r, i, out);
    if (out->severity == severity && strstr(out->message, part)) return true;
  }
  return false;
}

/* ---- running the results ------------------------------------------------ */

typedef struct cols {
  struct ArrowArray a[3];
  struct ArrowSchema s[3];
  const struct ArrowArray *ap[3];
  const struct ArrowSchema *sp[3];
  int n;
} cols;

static void add_col(cols *c, wudf_array_builder *b) {
  wudf_error err = {0};
  int i = c->n++;
  wudf_array_builder_finish(b, "c", &c->a[i], &c->s[i], &err);
  wudf_array_builder_free(b);
  c->ap[i] = &c->a[i];
  c->sp[i] = &c->s[i];
}

static void free_cols(cols *c) {
  for (int i = 0; i < c->n; i++) {
    c->a[i].release(&c->a[i]);
    c->s[i].release(&c->s[i]);
  }
  c->n = 0;
}

static wudf_array_builder *ints(const int32_t *v, int n) {
  wudf_array_builder *b = NULL;
  wudf_array_builder_new(WUDF_TYPE_INT32, n, &b, NULL);
  for (int i = 0; i < n; i++) wudf_array_builder_append_int(b, v[i]);
  return b;
}

static wudf_array_builder *strings(const char *const *v, int n) {
  wudf_array_builder *b = NULL;
  wudf_array_builder_new(WUDF_TYPE_UTF8, n, &b, NULL);
  for (int i = 0; i < n; i++)
    wudf_array_builder_append_string(b, v[i], strlen(v[i]));
  return b;
}

/* A module and an instance of a compile result; NULL on failure. */
typedef struct loaded {
  wudf_engine *e;
  wudf_module *m;
  wudf_instance *i;
} loaded;

static bool load(const wudf_compile_result *r, loaded *l) {
  wudf_error err = {0};
  size_t len;
  const uint8_t *wasm = wudf_compile_result_wasm(r, &len);
  memset(l, 0, sizeof *l);
  l->e = test_engine("compile-engine", NULL);
  if (l->e && wasm &&
      wudf_module_load(l->e, wasm, len, "compiled", &l->m, &err) == WUDF_OK &&
      wudf_instance_new(l->m, NULL, &l->i, &err) == WUDF_OK)
    return true;
  fprintf(stderr, "    load: %s\n", err.message);
  return false;
}

static void unload(loaded *l) {
  wudf_instance_free(l->i);
  wudf_module_free(l->m);
  wudf_engine_free(l->e);
}

static const char *str_at(const struct ArrowArray *a, int64_t i, int32_t *len) {
  const int32_t *o = a->buffers[1];
  *len = o[a->offset + i + 1] - o[a->offset + i];
  return (const char *)a->buffers[2] + o[a->offset + i];
}

/* MAP of a utf8 -> utf8 or int32 -> utf8 UDF compared with `want`. */
static bool map_strings_equal(loaded *l, const char *udf, cols *c,
                              const char *const *want, int n) {
  struct ArrowArray out;
  wudf_error err = {0};
  if (wudf_instance_map(l->i, udf, c->ap, c->sp, (uint32_t)c->n, &out, NULL,
                        &err) != WUDF_OK) {
    fprintf(stderr, "    map %s: %s\n", udf, err.message);
    return false;
  }
  bool ok = out.length == n;
  for (int k = 0; ok && k < n; k++) {
    int32_t len;
    const char *s = str_at(&out, k, &len);
    ok = (size_t)len == strlen(want[k]) && !memcmp(s, want[k], (size_t)len);
    if (!ok)
      fprintf(stderr, "    row %d: \"%.*s\", expected \"%s\"\n", k, (int)len, s,
              want[k]);
  }
  out.release(&out);
  return ok;
}

/* ---- the seed's example -------------------------------------------------- */

TEST(compile_seed_example_signature_and_map) {
  wudf_error err = {0};
  wudf_compile_result *r = compile(k_seed, "adj_bal.c", WUDF_OK, &err);
  CHECK(r);
  CHECK_EQ_INT(wudf_compile_result_udf_count(r), 1);
  CHECK(has_udf(r, "calculate_adj_bal(int32, float32) -> float32"));
  CHECK_EQ_INT(wudf_compile_result_error_count(r), 0);
  loaded l;
  bool ok = load(r, &l);
  wudf_compile_result_free(r);
  CHECK(ok);
  int32_t bal[] = {5000, -2500, 1234567, 0, 999};
  float rate[] = {1.5f, 2.0f, 0.1f, 3.0f, 0.25f};
  cols c = {0};
  add_col(&c, ints(bal, 5));
  wudf_array_builder *rb = NULL;
  wudf_array_builder_new(WUDF_TYPE_FLOAT32, 5, &rb, NULL);
  for (int i = 0; i < 5; i++) wudf_array_builder_append_double(rb, rate[i]);
  add_col(&c, rb);
  struct ArrowArray out;
  wudf_status st = wudf_instance_map(l.i, "calculate_adj_bal", c.ap, c.sp, 2,
                                     &out, NULL, &err);
  bool same = st == WUDF_OK && out.length == 5;
  for (int i = 0; same && i < 5; i++) {
    float want = ((float)bal[i] * rate[i]) + (float)(bal[i] / 1000);
    same = ((const float *)out.buffers[1])[i] == want;
  }
  if (st == WUDF_OK) out.release(&out);
  free_cols(&c);
  unload(&l);
  CHECK_MSG(st == WUDF_OK, "map: %s", err.message);
  CHECK(same);
}

TEST(compile_filter_udf) {
  wudf_error err = {0};
  const char *src =
      "#include <stdbool.h>\n"
      "bool is_rich(int balance) { return balance > 50000; }\n";
  wudf_compile_result *r = compile(src, "is_rich.c", WUDF_OK, &err);
  CHECK(r);
  CHECK(has_udf(r, "is_rich(int32) -> bool"));
  loaded l;
  bool ok = load(r, &l);
  wudf_compile_result_free(r);
  CHECK(ok);
  int32_t bal[] = {100, 50001, 50000, 70000, -3};
  cols c = {0};
  add_col(&c, ints(bal, 5));
  struct ArrowArray sel;
  int64_t selected = -1;
  wudf_status st = wudf_instance_filter(l.i, "is_rich", c.ap, c.sp, 1, &sel,
                                        &selected, &err);
  uint8_t bits = st == WUDF_OK ? ((const uint8_t *)sel.buffers[1])[0] : 0;
  if (st == WUDF_OK) sel.release(&sel);
  free_cols(&c);
  unload(&l);
  CHECK_MSG(st == WUDF_OK, "filter: %s", err.message);
  CHECK_EQ_INT(selected, 2);
  CHECK_EQ_INT(bits & 0x1f, 0x0a); /* rows 1 and 3 */
}

/* ---- strings and libc ------------------------------------------------------
 */

TEST(compile_string_udfs_with_libc) {
  const char *src =
      "#include <ctype.h>\n"
      "#include <math.h>\n"
      "#include <stdio.h>\n"
      "#include <stdlib.h>\n"
      "#include <string.h>\n"
      "#include \"wudf_guest.h\"\n"
      "\n"
      "wudf_string email_domain(const char *email, int32_t len) {\n"
      "  const char *at = memchr(email, '@', (size_t)len);\n"
      "  if (!at) return wudf_string_empty();\n"
      "  return wudf_string_make(at + 1, (int32_t)(email + len - at - 1));\n"
      "}\n"
      "int32_t vowels(const char *s, int32_t len) {\n"
      "  int32_t n = 0;\n"
      "  for (int32_t i = 0; i < len; i++)\n"
      "    n += strchr(\"aeiou\", tolower((unsigned char)s[i])) && s[i];\n"
      "  return n;\n"
      "}\n"
      "int32_t parse_plus_one(const char *s, int32_t len) {\n"
      "  char *copy = malloc((size_t)len + 1);\n"
      "  memcpy(copy, s, (size_t)len);\n"
      "  copy[len] = 0;\n"
      "  long v = strtol(copy, NULL, 10);\n"
      "  free(copy);\n"
      "  return (int32_t)v + 1;\n"
      "}\n"
      "wudf_string describe(int32_t x) {\n"
      "  static char buf[64];\n"
      "  int n = snprintf(buf, sizeof buf, \"<%d|%.2f>\", x, "
      "sqrt((double)x));\n"
      "  return wudf_string_make(buf, n);\n"
      "}\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "strings.c", WUDF_OK, &err);
  CHECK(r);
  CHECK(has_udf(r, "email_domain(utf8) -> utf8"));
  CHECK(has_udf(r, "vowels(utf8) -> int32"));
  CHECK(has_udf(r, "parse_plus_one(utf8) -> int32"));
  CHECK(has_udf(r, "describe(int32) -> utf8"));
  loaded l;
  bool ok = load(r, &l);
  wudf_compile_result_free(r);
  CHECK(ok);
  const char *emails[] = {"ann@example.org", "nobody", "x@y@z.com", "@"};
  const char *domains[] = {"example.org", "", "y@z.com", ""};
  cols c = {0};
  add_col(&c, strings(emails, 4));
  bool dom_ok = map_strings_equal(&l, "email_domain", &c, domains, 4);
  struct ArrowArray out;
  wudf_status st =
      wudf_instance_map(l.i, "vowels", c.ap, c.sp, 1, &out, NULL, &err);
  /* ann@example.org: a, e, a, e, o = 5; nobody: o, o = 2; x@y@z.com: o = 1 */
  int32_t want_v[] = {5, 2, 1, 0};
  bool v_ok = st == WUDF_OK;
  for (int i = 0; v_ok && i < 4; i++)
    v_ok = ((const int32_t *)out.buffers[1])[i] == want_v[i];
  if (st == WUDF_OK) out.release(&out);
  free_cols(&c);
  const char *nums[] = {"41", "-7", "1000000"};
  add_col(&c, strings(nums, 3));
  st =
      wudf_instance_map(l.i, "parse_plus_one", c.ap, c.sp, 1, &out, NULL, &err);
  bool p_ok = st == WUDF_OK && ((const int32_t *)out.buffers[1])[0] == 42 &&
              ((const int32_t *)out.buffers[1])[1] == -6 &&
              ((const int32_t *)out.buffers[1])[2] == 1000001;
  if (st == WUDF_OK) out.release(&out);
  free_cols(&c);
  int32_t xs[] = {16, 2};
  const char *described[] = {"<16|4.00>", "<2|1.41>"};
  add_col(&c, ints(xs, 2));
  bool d_ok = map_strings_equal(&l, "describe", &c, described, 2);
  free_cols(&c);
  unload(&l);
  CHECK(dom_ok);
  CHECK_MSG(v_ok, "vowels: %s", err.message);
  CHECK_MSG(p_ok, "parse_plus_one: %s", err.message);
  CHECK(d_ok);
}

/* A string parameter without including wudf_guest.h: the allocator the
 * host needs is linked in by the compiler. */
TEST(compile_string_parameter_without_guest_header) {
  const char *src =
      "#include <string.h>\n"
      "int is_gmail(const char *s, int len) {\n"
      "  return len >= 10 && !memcmp(s + len - 10, "
      "\"@gmail.com\", 10);\n"
      "}\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "gmail.c", WUDF_OK, &err);
  CHECK(r);
  CHECK(has_udf(r, "is_gmail(utf8) -> int32"));
  loaded l;
  bool ok = load(r, &l);
  wudf_compile_result_free(r);
  CHECK(ok);
  const char *v[] = {"a@gmail.com", "b@mail.com", "gmail.com"};
  cols c = {0};
  add_col(&c, strings(v, 3));
  struct ArrowArray sel;
  int64_t n = -1;
  wudf_status st =
      wudf_instance_filter(l.i, "is_gmail", c.ap, c.sp, 1, &sel, &n, &err);
  uint8_t bits = st == WUDF_OK ? ((const uint8_t *)sel.buffers[1])[0] : 0;
  if (st == WUDF_OK) sel.release(&sel);
  free_cols(&c);
  unload(&l);
  CHECK_MSG(st == WUDF_OK, "filter: %s", err.message);
  CHECK_EQ_INT(n, 1);
  CHECK_EQ_INT(bits & 7, 1);
}

/* ---- other languages -------------------------------------------------------
 */

TEST(compile_cxx_with_libcxx) {
  const char *src =
      "#include <algorithm>\n"
      "#include <string>\n"
      "#include <vector>\n"
      "extern \"C\" int count_upper(const char *s, int len) {\n"
      "  std::string t(s, len);\n"
      "  return (int)std::count_if(t.begin(), t.end(),\n"
      "                            [](char c) { return c >= 'A' && c <= 'Z'; "
      "});\n"
      "}\n"
      "template <typename T> T twice(T x) { return x + x; }\n"
      "int helper(int x) { return x; }\n"
      "extern \"C\" long long twice64(long long x) {\n"
      "  std::vector<long long> v{x, x};\n"
      "  return twice(v[0]) + 0 * v[1];\n"
      "}\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "udfs.cpp", WUDF_OK, &err);
  CHECK(r);
  CHECK_EQ_INT(wudf_compile_result_lang(r), WUDF_LANG_CXX);
  CHECK_EQ_INT(wudf_compile_result_udf_count(r), 2); /* helper: C++ linkage */
  CHECK(has_udf(r, "count_upper(utf8) -> int32"));
  CHECK(has_udf(r, "twice64(int64) -> int64"));
  loaded l;
  bool ok = load(r, &l);
  wudf_compile_result_free(r);
  CHECK(ok);
  wudf_val arg = test_i64(21), res;
  wudf_status st = wudf_instance_call(l.i, "twice64", &arg, 1, &res, 1, &err);
  const char *v[] = {"Hello World", "ABC", ""};
  cols c = {0};
  add_col(&c, strings(v, 3));
  struct ArrowArray out;
  wudf_status st2 =
      wudf_instance_map(l.i, "count_upper", c.ap, c.sp, 1, &out, NULL, &err);
  bool same = st2 == WUDF_OK && ((const int32_t *)out.buffers[1])[0] == 2 &&
              ((const int32_t *)out.buffers[1])[1] == 3 &&
              ((const int32_t *)out.buffers[1])[2] == 0;
  if (st2 == WUDF_OK) out.release(&out);
  free_cols(&c);
  unload(&l);
  CHECK_MSG(st == WUDF_OK, "call: %s", err.message);
  CHECK_EQ_INT(res.of.i64, 42);
  CHECK_MSG(same, "count_upper: %s", err.message);
}

TEST(compile_wat) {
  const char *src =
      "(module\n"
      "  (func (export \"add\") (param i32 i32) (result i32)\n"
      "    local.get 0 local.get 1 i32.add)\n"
      "  (func (export \"helper\") (param i32))\n"
      "  (@custom \"wudf.udfs\" \"is_big(int32) -> bool\\n\")\n"
      "  (func (export \"is_big\") (param i32) (result i32)\n"
      "    local.get 0 i32.const 100 i32.gt_s))\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "udfs.wat", WUDF_OK, &err);
  CHECK(r);
  CHECK_EQ_INT(wudf_compile_result_udf_count(r), 2);
  CHECK(has_udf(r, "add(int32, int32) -> int32"));
  CHECK(has_udf(r, "is_big(int32) -> bool")); /* not int32: the annotation */
  loaded l;
  bool ok = load(r, &l);
  wudf_compile_result_free(r);
  CHECK(ok);
  int32_t a[] = {1, 200, -5}, b[] = {2, 3, 5};
  cols c = {0};
  add_col(&c, ints(a, 3));
  add_col(&c, ints(b, 3));
  struct ArrowArray out;
  wudf_status st =
      wudf_instance_map(l.i, "add", c.ap, c.sp, 2, &out, NULL, &err);
  bool same = st == WUDF_OK && ((const int32_t *)out.buffers[1])[0] == 3 &&
              ((const int32_t *)out.buffers[1])[1] == 203 &&
              ((const int32_t *)out.buffers[1])[2] == 0;
  if (st == WUDF_OK) out.release(&out);
  free_cols(&c);
  unload(&l);
  CHECK_MSG(same, "add: %s", err.message);
}

TEST(compile_wat_syntax_error_position) {
  const char *src =
      "(module\n"
      "  (func (export \"f\") (result i32)\n"
      "    i32.const 1\n"
      "    i32.addd))\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "bad.wat", WUDF_ERR_COMPILE, &err);
  CHECK(r);
  wudf_diagnostic d;
  bool found = find_diag(r, WUDF_SEVERITY_ERROR, "i32.addd", &d);
  wudf_compile_result_free(r);
  CHECK(found);
  CHECK_EQ_INT(d.line, 4);
  CHECK_EQ_INT(d.column, 5);
}

TEST(compile_wasm_passes_through_unchanged) {
  wudf_error err = {0};
  wudf_compile_result *r = compile(k_seed, "seed.c", WUDF_OK, &err);
  CHECK(r);
  size_t len;
  const uint8_t *wasm = wudf_compile_result_wasm(r, &len);
  uint8_t *copy = malloc(len);
  memcpy(copy, wasm, len);
  wudf_compile_result_free(r);
  wudf_compile_options o = opts("seed.wasm");
  wudf_status st = wudf_compile((const char *)copy, len, &o, &r, &err);
  size_t len2 = 0;
  const uint8_t *wasm2 = wudf_compile_result_wasm(r, &len2);
  bool same = wasm2 && len2 == len && !memcmp(wasm2, copy, len);
  bool udf = has_udf(r, "calculate_adj_bal(int32, float32) -> float32");
  wudf_compile_result_free(r);
  const char junk[] = "not a module";
  o.file_name = "junk.wasm";
  wudf_status st2 = wudf_compile(junk, sizeof junk, &o, &r, &err);
  free(copy);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK(same);
  CHECK(udf);
  CHECK_EQ_INT(st2, WUDF_ERR_MALFORMED);
  CHECK(r == NULL);
}

/* ---- which functions
 * ---------------------------------------------------------- */

TEST(compile_chosen_functions_and_source_signatures) {
  const char *src =
      "#include \"wudf_guest.h\"\n"
      "int a(int x) { return x; }\n"
      "int b(int x) { return -x; }\n"
      "WUDF_UDF_DEF(coalesce, \"coalesce(int32, int32) -> int32 nulls\")\n"
      "int32_t coalesce(int32_t x, int32_t xn, int32_t y, int32_t yn) {\n"
      "  (void)yn;\n"
      "  return xn ? y : x;\n"
      "}\n"
      "static int helper(void) { return 0; }\n"
      "int main(void) { return helper(); }\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "pick.c", WUDF_OK, &err);
  CHECK(r);
  /* The source's own line wins over the four int32 parameters; main and
   * static functions are not UDFs. */
  CHECK_EQ_INT(wudf_compile_result_udf_count(r), 3);
  CHECK(has_udf(r, "coalesce(int32, int32) -> int32 nulls"));
  CHECK(has_udf(r, "a(int32) -> int32"));
  wudf_compile_result_free(r);
  const char *only[] = {"b"};
  wudf_compile_options o = opts("pick.c");
  o.functions = only;
  o.nfunctions = 1;
  CHECK_STATUS(wudf_compile(src, strlen(src), &o, &r, &err), WUDF_OK, &err);
  CHECK_EQ_INT(wudf_compile_result_udf_count(r), 1);
  CHECK(has_udf(r, "b(int32) -> int32"));
  wudf_compile_result_free(r);
  const char *missing[] = {"nope"};
  o.functions = missing;
  CHECK_STATUS(wudf_compile(src, strlen(src), &o, &r, &err), WUDF_ERR_COMPILE,
               &err);
  CHECK_CONTAINS(err.message, "no function named 'nope'");
  wudf_compile_result_free(r);
}

/* ---- diagnostics
 * ---------------------------------------------------------------- */

TEST(compile_syntax_error_position_and_source_line) {
  const char *src =
      "#include <stdint.h>\n"
      "\n"
      "int32_t f(int32_t x) {\n"
      "  return x + 1\n"
      "}\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "syntax.c", WUDF_ERR_COMPILE, &err);
  CHECK(r);
  CHECK(wudf_compile_result_wasm(r, NULL) == NULL);
  CHECK_EQ_INT(wudf_compile_result_udf_count(r), 0);
  wudf_diagnostic d;
  bool found = find_diag(r, WUDF_SEVERITY_ERROR, "expected ';'", &d);
  char text[1024] = "", line[128] = "", file[64] = "";
  if (found) {
    wudf_diagnostic_format(&d, text, sizeof text);
    snprintf(line, sizeof line, "%s", d.source_line);
    snprintf(file, sizeof file, "%s", d.file);
  }
  wudf_compile_result_free(r);
  CHECK(found);
  /* clang reports the missing ';' right after "x + 1": line 4, column 15. */
  CHECK_EQ_INT(d.line, 4);
  CHECK_EQ_INT(d.column, 15);
  CHECK(!strcmp(file, "syntax.c"));
  CHECK(!strcmp(line, "  return x + 1"));
  CHECK_CONTAINS(err.message, "syntax.c:4:15: error: expected ';'");
  CHECK(!strcmp(text,
                "syntax.c:4:15: error: expected ';' after return "
                "statement\n  return x + 1\n              ^\n"));
}

TEST(compile_unsupported_parameter_type_at_its_line) {
  const char *src =
      "#include <stdint.h>\n"
      "int32_t ok(int32_t x) { return x; }\n"
      "\n"
      "int32_t first_char(char *p) { return p[0]; }\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "param.c", WUDF_ERR_COMPILE, &err);
  CHECK(r);
  wudf_diagnostic d;
  bool found = find_diag(r, WUDF_SEVERITY_ERROR, "first_char", &d);
  char msg[1024] = "";
  if (found) snprintf(msg, sizeof msg, "%s", d.message);
  wudf_compile_result_free(r);
  CHECK(found);
  CHECK_EQ_INT(d.line, 4);
  CHECK_EQ_INT(d.column, 9);
  CHECK_CONTAINS(msg, "'char *'");
  CHECK_CONTAINS(msg, "static");
}

TEST(compile_link_error_placed_at_the_symbol) {
  const char *src =
      "int g(int);\n"
      "int f(int x) { return g(x); }\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "link.c", WUDF_ERR_COMPILE, &err);
  CHECK(r);
  wudf_diagnostic d;
  bool found = find_diag(r, WUDF_SEVERITY_ERROR, "undefined symbol: g", &d);
  wudf_compile_result_free(r);
  CHECK(found);
  CHECK_EQ_INT(d.line, 1);
  CHECK_EQ_INT(d.column, 5);
}

TEST(compile_header_error_placed_at_the_include) {
  /* The macro breaks a typedef inside the sysroot's headers. */
  const char *src =
      "#define uint32_t float\n"
      "#include <stdint.h>\n"
      "int f(int x) { return x; }\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "hdr.c", WUDF_ERR_COMPILE, &err);
  CHECK(r);
  wudf_diagnostic d;
  bool found = find_diag(r, WUDF_SEVERITY_ERROR, "in /usr/include/", &d);
  uint32_t line = d.line;
  bool source = found && !strcmp(d.source_line, "#include <stdint.h>");
  wudf_compile_result_free(r);
  CHECK(found);
  CHECK_EQ_INT(line, 2);
  CHECK(source);
}

/* ---- hostile sources -------------------------------------------------------
 */

typedef struct canary {
  char secret[64];
  char tmp_path[512], tree_path[600], text_path[512];
} canary;

/* A secret in files in /tmp-like storage and in the checkout, and in the
 * environment. */
static bool canary_make(canary *c) {
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  snprintf(c->secret, sizeof c->secret, "wudfsecret%08x%08x", (unsigned)rand(),
           (unsigned)rand());
  snprintf(c->tmp_path, sizeof c->tmp_path, "%s/canary.h", test_tmpdir());
  snprintf(c->text_path, sizeof c->text_path, "%s/canary.txt", test_tmpdir());
  char cwd[400];
  if (!getcwd(cwd, sizeof cwd)) return false;
  snprintf(c->tree_path, sizeof c->tree_path, "%s/.wudf-canary-%d.h", cwd,
           (int)getpid());
  const char *paths[] = {c->tmp_path, c->tree_path, c->text_path};
  for (int i = 0; i < 3; i++) {
    FILE *f = fopen(paths[i], "w");
    if (!f) return false;
    fprintf(f, i == 2 ? "%s\n" : "int %s = 1;\n", c->secret);
    fclose(f);
  }
  setenv("WUDF_TEST_CANARY", c->secret, 1);
  return true;
}

static void canary_remove(const canary *c) {
  unlink(c->tmp_path);
  unlink(c->tree_path);
  unlink(c->text_path);
  unsetenv("WUDF_TEST_CANARY");
}

/* The secret is nowhere in what the compile returned. */
static bool leaks(const canary *c, const wudf_compile_result *r,
                  const wudf_error *err) {
  if (strstr(err->message, c->secret)) return true;
  for (uint32_t i = 0; i < wudf_compile_result_diagnostic_count(r); i++) {
    wudf_diagnostic d;
    wudf_compile_result_diagnostic(r, i, &d);
    if (strstr(d.message, c->secret) || strstr(d.source_line, c->secret))
      return true;
  }
  size_t len;
  const uint8_t *w = wudf_compile_result_wasm(r, &len);
  return w && memmem(w, len, c->secret, strlen(c->secret));
}

/* Compiles `src` (a format with %s for `path`) as `name`, expecting
 * `want`; fails the test on a leak. */
static bool hostile(const canary *c, const char *fmt, const char *path,
                    const char *name, wudf_status want, bool *leaked) {
  char src[2048];
  snprintf(src, sizeof src, fmt, path);
  wudf_compile_options o = opts(name);
  o.no_cache = true;
  wudf_compile_result *r = NULL;
  wudf_error err = {0};
  wudf_status st = wudf_compile(src, strlen(src), &o, &r, &err);
  *leaked = leaks(c, r, &err);
  if (st != want)
    fprintf(stderr, "    %s: %s (%s)\n", name, wudf_status_name(st),
            err.message);
  wudf_compile_result_free(r);
  return st == want;
}

TEST(compile_hostile_sources_reveal_nothing) {
  canary c;
  CHECK(canary_make(&c));
  char rel[700];
  snprintf(rel, sizeof rel, "../../../../../../../..%s", c.tree_path);
  const struct {
    const char *fmt, *path, *name;
    wudf_status want;
  } cases[] = {
      {"#include \"%s\"\nint f(int x) { return x; }\n", c.tmp_path, "abs.c",
       WUDF_ERR_COMPILE},
      {"#include \"%s\"\nint f(int x) { return x; }\n", c.tree_path, "tree.c",
       WUDF_ERR_COMPILE},
      {"#include \"%s\"\nint f(int x) { return x; }\n", rel, "dotdot.c",
       WUDF_ERR_COMPILE},
      {"#include \"%s\"\nint f(int x) { return x; }\n", "/etc/passwd",
       "passwd.c", WUDF_ERR_COMPILE},
      {"#include \"%s\"\nint f(int x) { return x; }\n", "../../../etc/passwd",
       "passwd_rel.c", WUDF_ERR_COMPILE},
      {"#include \"%s\"\nint f(int x) { return x; }\n", "/proc/self/environ",
       "environ.c", WUDF_ERR_COMPILE},
      {"static const char d[] = {\n#embed \"%s\"\n, 0};\n"
       "int f(int i) { return d[i]; }\n",
       c.text_path, "embed.c", WUDF_ERR_COMPILE},
      {"#if __has_include(\"%s\")\nint leaked(void) { return 1; }\n#endif\n"
       "int f(int x) { return x; }\n",
       c.tmp_path, "probe.c", WUDF_OK},
      {"__asm__(\".section .custom_section.leak,\\\"\\\",@\\n"
       ".incbin \\\"%s\\\"\\n.text\\n\");\nint f(int x) { return x; }\n",
       c.text_path, "incbin.c", WUDF_ERR_COMPILE},
      /* File names the caller passes never reach the compiler. */
      {"int f(int x) { return x; }\n/* %s */\n", "", "-include/etc/passwd",
       WUDF_OK},
      {"int f(int x) { return x; }\n/* %s */\n", "", "@/etc/passwd", WUDF_OK},
  };
  bool all = true, leaked = false;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bool l = false;
    all &= hostile(&c, cases[i].fmt, cases[i].path, cases[i].name,
                   cases[i].want, &l);
    if (l) fprintf(stderr, "    %s leaked the secret\n", cases[i].name);
    leaked |= l;
  }
  /* The canary path itself as a caller-chosen file name. */
  char name[600];
  snprintf(name, sizeof name, "-include%s", c.tmp_path);
  bool l = false;
  all &= hostile(&c, "int f(int x) { return x; }\n/* %s */\n", "", name,
                 WUDF_OK, &l);
  leaked |= l;
  canary_remove(&c);
  CHECK(!leaked);
  CHECK(all);
}

TEST(compile_has_include_sees_no_host_file) {
  const char *src =
      "#if __has_include(\"/etc/passwd\") || "
      "__has_include(</etc/hostname>)\n"
      "int leaked(void) { return 1; }\n"
      "#endif\n"
      "int f(int x) { return x; }\n";
  wudf_error err = {0};
  wudf_compile_result *r = compile(src, "probe2.c", WUDF_OK, &err);
  CHECK(r);
  bool only_f =
      wudf_compile_result_udf_count(r) == 1 && has_udf(r, "f(int32) -> int32");
  wudf_compile_result_free(r);
  CHECK(only_f);
}

/* ---- limits
 * ------------------------------------------------------------------ */

/* 10^9 tokens of preprocessing arithmetic: a long compile in little
 * memory. */
static const char k_slow[] =
    "#define X0 +1\n"
    "#define X1 X0 X0 X0 X0 X0 X0 X0 X0 X0 X0\n"
    "#define X2 X1 X1 X1 X1 X1 X1 X1 X1 X1 X1\n"
    "#define X3 X2 X2 X2 X2 X2 X2 X2 X2 X2 X2\n"
    "#define X4 X3 X3 X3 X3 X3 X3 X3 X3 X3 X3\n"
    "#define X5 X4 X4 X4 X4 X4 X4 X4 X4 X4 X4\n"
    "#define X6 X5 X5 X5 X5 X5 X5 X5 X5 X5 X5\n"
    "#define X7 X6 X6 X6 X6 X6 X6 X6 X6 X6 X6\n"
    "#define X8 X7 X7 X7 X7 X7 X7 X7 X7 X7 X7\n"
    "#define X9 X8 X8 X8 X8 X8 X8 X8 X8 X8 X8\n"
    "#if 0 X9\n"
    "#endif\n"
    "int f(int x) { return x; }\n";

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

TEST(compile_time_limit_stops_a_huge_macro_expansion) {
  wudf_compile_options o = opts("slow.c");
  o.no_cache = true;
  o.timeout_s = 2;
  wudf_compile_result *r = NULL;
  wudf_error err = {0};
  double t0 = seconds();
  wudf_status st = wudf_compile(k_slow, strlen(k_slow), &o, &r, &err);
  double took = seconds() - t0;
  CHECK_STATUS(st, WUDF_ERR_LIMIT, &err);
  CHECK(r == NULL);
  CHECK_CONTAINS(err.message, "time limit of 2 s");
  CHECK_MSG(took < 10, "took %.1f s", took);
}

TEST(compile_cpu_limit_stops_a_huge_macro_expansion) {
  wudf_compile_options o = opts("slow.c");
  o.no_cache = true;
  o.cpu_s = 1;
  wudf_compile_result *r = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_compile(k_slow, strlen(k_slow), &o, &r, &err),
               WUDF_ERR_LIMIT, &err);
  CHECK_CONTAINS(err.message, "CPU time limit of 1 s");
}

TEST(compile_memory_limit_stops_a_huge_initializer) {
  /* 10^8 array elements from a macro: the compiler's memory use grows
   * far beyond the limit within a fraction of a second. */
  const char *src =
      "#define X0 1,\n"
      "#define X1 X0 X0 X0 X0 X0 X0 X0 X0 X0 X0\n"
      "#define X2 X1 X1 X1 X1 X1 X1 X1 X1 X1 X1\n"
      "#define X3 X2 X2 X2 X2 X2 X2 X2 X2 X2 X2\n"
      "#define X4 X3 X3 X3 X3 X3 X3 X3 X3 X3 X3\n"
      "#define X5 X4 X4 X4 X4 X4 X4 X4 X4 X4 X4\n"
      "#define X6 X5 X5 X5 X5 X5 X5 X5 X5 X5 X5\n"
      "#define X7 X6 X6 X6 X6 X6 X6 X6 X6 X6 X6\n"
      "#define X8 X7 X7 X7 X7 X7 X7 X7 X7 X7 X7\n"
      "int a[] = { X8 };\n"
      "int f(int x) { return a[x]; }\n";
  wudf_compile_options o = opts("huge.c");
  o.no_cache = true;
  o.memory_bytes = UINT64_C(256) << 20;
  wudf_compile_result *r = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_compile(src, strlen(src), &o, &r, &err), WUDF_ERR_LIMIT,
               &err);
  CHECK(r == NULL);
  CHECK_CONTAINS(err.message, "memory limit of 256 MiB");
}

TEST(compile_infinite_template_is_stopped) {
  /* Each instantiation asks for the next one: clang's depth limit ends it
   * with an error at the line that recurses. */
  const char *src =
      "template <int N> struct Grow {\n"
      "  char big[1 << 20];\n"
      "  Grow<N + 1> next[2];\n"
      "};\n"
      "extern \"C\" int f(int x) { return sizeof(Grow<0>) + x; }\n";
  wudf_compile_options o = opts("grow.cpp");
  o.no_cache = true;
  o.timeout_s = 20;
  wudf_compile_result *r = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_compile(src, strlen(src), &o, &r, &err), WUDF_ERR_COMPILE,
               &err);
  wudf_diagnostic d;
  bool found = find_diag(r, WUDF_SEVERITY_ERROR, "recursive template", &d);
  wudf_compile_result_free(r);
  CHECK(found);
  CHECK_EQ_INT(d.line, 3);
}

/* ---- the cache
 * ------------------------------------------------------------------ */

TEST(compile_cache_hit_keeps_module_and_warnings) {
  char src[256];
  snprintf(src, sizeof src, "int f(int x) { int unused_%d; return x; }\n",
           (int)getpid());
  wudf_error err = {0};
  wudf_compile_result *a = compile(src, "cached.c", WUDF_OK, &err);
  CHECK(a);
  double t0 = seconds();
  wudf_compile_result *b = compile(src, "cached.c", WUDF_OK, &err);
  double took = seconds() - t0;
  CHECK(b);
  size_t la, lb;
  const uint8_t *wa = wudf_compile_result_wasm(a, &la);
  const uint8_t *wb = wudf_compile_result_wasm(b, &lb);
  bool same = la == lb && !memcmp(wa, wb, la);
  bool first = wudf_compile_result_was_cached(a);
  bool second = wudf_compile_result_was_cached(b);
  wudf_diagnostic d;
  bool warned = find_diag(b, WUDF_SEVERITY_WARNING, "unused variable", &d);
  uint32_t na = wudf_compile_result_diagnostic_count(a);
  uint32_t nb = wudf_compile_result_diagnostic_count(b);
  wudf_compile_result_free(a);
  wudf_compile_result_free(b);
  CHECK(!first);
  CHECK(second);
  CHECK(same);
  CHECK(warned);
  CHECK_EQ_INT(d.line, 1);
  CHECK_EQ_INT(na, nb);
  CHECK_MSG(took < 0.5, "cached compile took %.3f s", took);
}

TEST(compile_unsandboxed_opt_out_gives_the_same_module) {
  wudf_compile_options o = opts("trusted.c");
  o.no_cache = true;
  wudf_compile_result *a = NULL, *b = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_compile(k_seed, strlen(k_seed), &o, &a, &err), WUDF_OK,
               &err);
  o.unsandboxed = true;
  wudf_status st = wudf_compile(k_seed, strlen(k_seed), &o, &b, &err);
  size_t la = 0, lb = 0;
  const uint8_t *wa = wudf_compile_result_wasm(a, &la);
  const uint8_t *wb = wudf_compile_result_wasm(b, &lb);
  bool same = wa && wb && la == lb && !memcmp(wa, wb, la);
  bool udf = has_udf(b, "calculate_adj_bal(int32, float32) -> float32");
  wudf_compile_result_free(a);
  wudf_compile_result_free(b);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK(udf);
  CHECK(same);
}

typedef struct job_arg {
  int k;
  bool ok;
} job_arg;

static void *compile_in_thread(void *p) {
  job_arg *a = p;
  char src[128], name[32], want[64];
  snprintf(src, sizeof src, "int t%d(int x) { return x + %d; }\n", a->k, a->k);
  snprintf(name, sizeof name, "t%d.c", a->k);
  snprintf(want, sizeof want, "t%d(int32) -> int32", a->k);
  wudf_compile_options o = opts(name);
  o.no_cache = true;
  wudf_compile_result *r = NULL;
  a->ok = wudf_compile(src, strlen(src), &o, &r, NULL) == WUDF_OK &&
          wudf_compile_result_udf_count(r) == 1 && has_udf(r, want);
  wudf_compile_result_free(r);
  return NULL;
}

TEST(compile_from_several_threads) {
  enum { N = 4 };
  pthread_t th[N];
  job_arg args[N];
  for (int i = 0; i < N; i++) {
    args[i] = (job_arg){i, false};
    pthread_create(&th[i], NULL, compile_in_thread, &args[i]);
  }
  for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < N; i++) CHECK_MSG(args[i].ok, "thread %d", i);
}

/* ---- wudf_module_is_cached ------------------------------------------------
 */

TEST(module_is_cached_before_and_after_load) {
  wudf_error err = {0};
  char src[160];
  snprintf(src, sizeof src, "int g%d(int x) { return x * %d; }\n",
           (int)getpid(), (int)getpid() % 1000 + 2);
  wudf_compile_result *r = compile(src, "q.c", WUDF_OK, &err);
  CHECK(r);
  size_t len;
  const uint8_t *wasm = wudf_compile_result_wasm(r, &len);
  wudf_engine *e = test_engine("is-cached", NULL);
  bool before = true, after = false;
  wudf_module *m = NULL;
  wudf_status s1 = wudf_module_is_cached(e, wasm, len, NULL, &before, &err);
  wudf_status s2 = wudf_module_load(e, wasm, len, "q", &m, &err);
  wudf_status s3 = wudf_module_is_cached(e, wasm, len, NULL, &after, &err);
  bool junk_cached = true;
  wudf_status s4 =
      wudf_module_is_cached(e, "nope", 4, NULL, &junk_cached, &err);
  wudf_module_free(m);
  wudf_engine_free(e);
  wudf_compile_result_free(r);
  CHECK_EQ_INT(s1, WUDF_OK);
  CHECK(!before);
  CHECK_EQ_INT(s2, WUDF_OK);
  CHECK_EQ_INT(s3, WUDF_OK);
  CHECK(after);
  CHECK_EQ_INT(s4, WUDF_ERR_MALFORMED);
  CHECK(!junk_cached);
}
