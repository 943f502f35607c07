/* String columns in the three Arrow layouts wudf reads (utf8 "u",
 * large_utf8 "U", utf8_view "vu") give the same results; views outside
 * their buffers are refused; the host memory of a batch is charged to the
 * instance's budget and given back. The arrays here are built by hand, the
 * way an Arrow library lays them out, independently of wudf's builder. */
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
    "EXPORT(upper) uint64_t upper(const char *s, int32_t n) {\n"
    "  char *o = (char *)(uintptr_t)wudf_alloc((uint32_t)n);\n"
    "  for (int32_t i = 0; i < n; i++)\n"
    "    o[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];\n"
    "  return pack(o, (uint32_t)n);\n"
    "}\n"
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
    "EXPORT(str_len) int32_t str_len(const char *s, int32_t n) { return n; }\n"
    "EXPORT(concat) uint64_t concat(const char *a, int32_t an, const char *b,\n"
    "                               int32_t bn) {\n"
    "  char *o = (char *)(uintptr_t)wudf_alloc((uint32_t)(an + bn));\n"
    "  memcpy(o, a, (size_t)an);\n"
    "  memcpy(o + an, b, (size_t)bn);\n"
    "  return pack(o, (uint32_t)(an + bn));\n"
    "}\n"
    "EXPORT(plus1) int32_t plus1(int32_t x) { return x + 1; }\n";

static const char *const k_sigs[] = {
    "upper(utf8) -> utf8",        "domain(utf8) -> utf8",
    "twice(utf8) -> utf8",        "str_len(utf8) -> int32",
    "concat(utf8, utf8) -> utf8", "plus1(int32) -> int32",
};
#define NSIGS (sizeof k_sigs / sizeof k_sigs[0])

static wudf_engine *g_engine;
static wudf_module *g_module;

static wudf_module *udf_module(void) {
  if (g_module) return g_module;
  g_engine = test_engine(NULL, NULL);
  g_module = test_load_c_udfs(g_engine, k_udfs_c, k_sigs, NSIGS, "str.wasm");
  return g_module;
}

__attribute__((destructor)) static void free_module(void) {
  wudf_module_free(g_module);
  wudf_engine_free(g_engine);
}

static wudf_instance *new_instance(wudf_budget *budget) {
  wudf_module *m = udf_module();
  wudf_instance *inst = NULL;
  wudf_error err = {0};
  wudf_instance_config cfg;
  wudf_instance_config_init(g_engine, &cfg);
  cfg.budget = budget;
  if (m && wudf_instance_new(m, &cfg, &inst, &err))
    fprintf(stderr, "    instance: %s\n", err.message);
  return inst;
}

/* ---- Hand-built string columns ------------------------------------------ */

/* Rows (NULL: a NULL row) covering the edges of the view layout: empty,
 * 12 bytes (the most stored inline), 13 bytes (the fewest in a data
 * buffer), multi-byte UTF-8 on both sides of 12 bytes, and longer. */
static const char *const k_rows[] = {
    "ann@example.com",
    "",
    NULL,
    "abc@defg.hij",  /* 12 bytes */
    "abcd@efgh.ijk", /* 13 bytes */
    "jos\xc3\xa9@caf\xc3\xa9.fr",
    "\xc3\xa4\xc3\xb6@\xe4\xbe\x8b.jp", /* 12 bytes, multi-byte */
    "no-at-sign",
    "x@",
    "a-rather-long-address-with-many-characters@subdomain.example.org",
    NULL,
    "z@\xf0\x9f\x98\x80",
};
#define NROWS (sizeof k_rows / sizeof k_rows[0])

/* SKIP rows of junk come first: every column is a slice (offset SKIP). */
#define SKIP 3

typedef struct strcol {
  struct ArrowArray a;
  struct ArrowSchema s;
  const void *bufs[6];
  uint8_t *validity;
  void *values;     /* offsets (int32, int64) or views */
  uint8_t *data[2]; /* utf8/large: data[0]; views: two data buffers */
  int64_t sizes[2]; /* views: the data buffers' sizes */
} strcol;

static void release_array(struct ArrowArray *a) {
  a->release = NULL;
}
static void release_schema(struct ArrowSchema *s) {
  s->release = NULL;
}

static void strcol_free(strcol *c) {
  free(c->validity);
  free(c->values);
  free(c->data[0]);
  free(c->data[1]);
  memset(c, 0, sizeof *c);
}

static const char *row_text(const char *const *rows, int64_t i) {
  return i < SKIP ? "junk" : rows[i - SKIP];
}

static void strcol_header(strcol *c, const char *format, int64_t n,
                          int64_t nbuf) {
  c->s.format = format;
  c->s.name = "email";
  c->s.flags = ARROW_FLAG_NULLABLE;
  c->s.release = release_schema;
  c->a.length = n;
  c->a.offset = SKIP;
  c->a.null_count = -1;
  c->a.n_buffers = nbuf;
  c->a.buffers = c->bufs;
  c->a.release = release_array;
  c->bufs[0] = c->validity;
  c->bufs[1] = c->values;
}

/* Validity of rows (the junk rows valid). */
static uint8_t *validity_of(const char *const *rows, int64_t n) {
  uint8_t *v = calloc((size_t)(n + SKIP) / 8 + 1, 1);
  for (int64_t i = 0; i < n + SKIP; i++)
    if (i < SKIP || rows[i - SKIP]) v[i >> 3] |= (uint8_t)(1u << (i & 7));
  return v;
}

/* "u" (wide = false) or "U" (wide): offsets start past 5 junk bytes. */
static void make_offsets(strcol *c, const char *const *rows, int64_t n,
                         bool wide) {
  size_t total = 5;
  for (int64_t i = 0; i < n + SKIP; i++) {
    const char *t = row_text(rows, i);
    total += t ? strlen(t) : 0;
  }
  c->validity = validity_of(rows, n);
  c->data[0] = malloc(total);
  c->values = malloc((size_t)(n + SKIP + 1) * 8);
  memcpy(c->data[0], "JUNK!", 5);
  int64_t at = 5;
  for (int64_t i = 0; i <= n + SKIP; i++) {
    if (wide)
      ((int64_t *)c->values)[i] = at;
    else
      ((int32_t *)c->values)[i] = (int32_t)at;
    const char *t = i < n + SKIP ? row_text(rows, i) : NULL;
    if (!t) continue; /* NULL rows hold no bytes */
    memcpy(c->data[0] + at, t, strlen(t));
    at += (int64_t)strlen(t);
  }
  strcol_header(c, wide ? "U" : "u", n, 3);
  c->bufs[2] = c->data[0];
}

/* "vu": rows of up to 12 bytes inline, longer ones in two data buffers in
 * turn, after 7 junk bytes; NULL rows have zeroed views. */
static void make_views(strcol *c, const char *const *rows, int64_t n) {
  size_t total = 7;
  for (int64_t i = 0; i < n + SKIP; i++) {
    const char *t = row_text(rows, i);
    total += t ? strlen(t) : 0;
  }
  c->validity = validity_of(rows, n);
  c->values = calloc((size_t)(n + SKIP), 16);
  for (int k = 0; k < 2; k++) {
    c->data[k] = malloc(total);
    memset(c->data[k], '#', 7);
    c->sizes[k] = 7;
  }
  for (int64_t i = 0; i < n + SKIP; i++) {
    const char *t = row_text(rows, i);
    if (!t) continue;
    uint8_t *v = (uint8_t *)c->values + i * 16;
    int32_t len = (int32_t)strlen(t), k = (int32_t)(i & 1);
    memcpy(v, &len, 4);
    if (len <= 12) {
      memcpy(v + 4, t, (size_t)len);
      continue;
    }
    int32_t at = (int32_t)c->sizes[k];
    memcpy(v + 4, t, 4); /* prefix */
    memcpy(v + 8, &k, 4);
    memcpy(v + 12, &at, 4);
    memcpy(c->data[k] + at, t, (size_t)len);
    c->sizes[k] += len;
  }
  strcol_header(c, "vu", n, 5);
  c->bufs[2] = c->data[0];
  c->bufs[3] = c->data[1];
  c->bufs[4] = c->sizes;
}

enum { LAYOUT_U, LAYOUT_LARGE, LAYOUT_VIEW, NLAYOUTS };
static const char *const k_layout_names[] = {"u", "U", "vu"};

static void make_layout(strcol *c, int layout, const char *const *rows,
                        int64_t n) {
  memset(c, 0, sizeof *c);
  if (layout == LAYOUT_VIEW)
    make_views(c, rows, n);
  else
    make_offsets(c, rows, n, layout == LAYOUT_LARGE);
}

/* ---- Comparing results -------------------------------------------------- */

static bool valid_at(const struct ArrowArray *a, int64_t i) {
  const uint8_t *v = a->buffers[0];
  int64_t k = a->offset + i;
  return !v || ((v[k >> 3] >> (k & 7)) & 1);
}

/* Same rows, NULLs and bytes (utf8) or values (int32). */
static bool same_result(const struct ArrowArray *x, const struct ArrowArray *y,
                        bool strings) {
  if (x->length != y->length || x->null_count != y->null_count) return false;
  for (int64_t i = 0; i < x->length; i++) {
    if (valid_at(x, i) != valid_at(y, i)) return false;
    if (!valid_at(x, i)) continue;
    if (!strings) {
      if (((const int32_t *)x->buffers[1])[i] !=
          ((const int32_t *)y->buffers[1])[i])
        return false;
      continue;
    }
    const int32_t *ox = x->buffers[1], *oy = y->buffers[1];
    int32_t nx = ox[i + 1] - ox[i], ny = oy[i + 1] - oy[i];
    if (nx != ny || memcmp((const char *)x->buffers[2] + ox[i],
                           (const char *)y->buffers[2] + oy[i], (size_t)nx))
      return false;
  }
  return true;
}

/* Row i of a utf8 result equals `want` (NULL: a NULL row). */
static bool row_is(const struct ArrowArray *r, int64_t i, const char *want) {
  if (!want) return !valid_at(r, i);
  const int32_t *o = r->buffers[1];
  size_t n = (size_t)(o[i + 1] - o[i]);
  return valid_at(r, i) && n == strlen(want) &&
         memcmp((const char *)r->buffers[2] + o[i], want, n) == 0;
}

static wudf_status map1(wudf_instance *inst, const char *udf, strcol *c,
                        struct ArrowArray *out, wudf_error *err) {
  const struct ArrowArray *a[] = {&c->a};
  const struct ArrowSchema *s[] = {&c->s};
  memset(out, 0, sizeof *out);
  return wudf_instance_map(inst, udf, a, s, 1, out, NULL, err);
}

/* ---- Tests --------------------------------------------------------------- */

/* upper, domain, twice and str_len over the same strings in the three
 * layouts (sliced, with NULLs, inline and buffer views) give the same
 * results, and upper's are right. */
TEST(strings_three_layouts_same_results) {
  wudf_instance *inst = new_instance(NULL);
  CHECK(inst);
  const char *udfs[] = {"upper", "domain", "twice", "str_len"};
  int wrong = 0;
  for (size_t u = 0; u < 4; u++) {
    struct ArrowArray r[NLAYOUTS];
    for (int l = 0; l < NLAYOUTS; l++) {
      strcol c;
      make_layout(&c, l, k_rows, NROWS);
      wudf_error err = {0};
      wudf_status st = map1(inst, udfs[u], &c, &r[l], &err);
      strcol_free(&c);
      CHECK_MSG(st == WUDF_OK, "%s over %s: %s", udfs[u], k_layout_names[l],
                err.message);
    }
    bool strings = u < 3;
    for (int l = 1; l < NLAYOUTS; l++)
      if (!same_result(&r[0], &r[l], strings)) {
        fprintf(stderr, "    %s: %s differs from u\n", udfs[u],
                k_layout_names[l]);
        wrong++;
      }
    if (u == 0) {
      wrong += !row_is(&r[0], 0, "ANN@EXAMPLE.COM");
      wrong += !row_is(&r[0], 1, "") || !row_is(&r[0], 2, NULL);
      wrong += !row_is(&r[0], 3, "ABC@DEFG.HIJ");
      wrong += !row_is(&r[0], 4, "ABCD@EFGH.IJK");
      wrong += !row_is(&r[0], 5, "JOS\xc3\xa9@CAF\xc3\xa9.FR");
    }
    for (int l = 0; l < NLAYOUTS; l++) r[l].release(&r[l]);
  }
  wudf_instance_free(inst);
  CHECK_EQ_INT(wrong, 0);
}

/* Two string parameters from columns of different layouts. */
TEST(strings_mixed_layouts_in_one_call) {
  wudf_instance *inst = new_instance(NULL);
  CHECK(inst);
  strcol u, v;
  make_layout(&u, LAYOUT_U, k_rows, NROWS);
  make_layout(&v, LAYOUT_VIEW, k_rows, NROWS);
  const struct ArrowArray *a[] = {&v.a, &u.a};
  const struct ArrowSchema *s[] = {&v.s, &u.s};
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = wudf_instance_map(inst, "concat", a, s, 2, &out, NULL, &err);
  strcol_free(&u);
  strcol_free(&v);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  int wrong = 0;
  for (int64_t i = 0; i < (int64_t)NROWS; i++) {
    char want[300];
    if (k_rows[i]) snprintf(want, sizeof want, "%s%s", k_rows[i], k_rows[i]);
    wrong += !row_is(&out, i, k_rows[i] ? want : NULL);
  }
  out.release(&out);
  CHECK_EQ_INT(wrong, 0);
}

/* More rows than one chunk: the conversion of each chunk is right. */
TEST(strings_layouts_across_chunks) {
  wudf_instance *inst = new_instance(NULL);
  CHECK(inst);
  enum { N = 150001 };
  const char **rows = malloc(N * sizeof *rows);
  CHECK(rows);
  for (int64_t i = 0; i < N; i++)
    rows[i] = i % 11 == 4 ? NULL : k_rows[(size_t)i % NROWS];
  struct ArrowArray r[NLAYOUTS];
  for (int l = 0; l < NLAYOUTS; l++) {
    strcol c;
    make_layout(&c, l, rows, N);
    wudf_error err = {0};
    wudf_status st = map1(inst, "upper", &c, &r[l], &err);
    strcol_free(&c);
    CHECK_MSG(st == WUDF_OK, "%s: %s", k_layout_names[l], err.message);
  }
  bool same =
      same_result(&r[0], &r[1], true) && same_result(&r[0], &r[2], true) &&
      row_is(&r[2], 149988, "ANN@EXAMPLE.COM") && row_is(&r[2], 4, NULL);
  for (int l = 0; l < NLAYOUTS; l++) r[l].release(&r[l]);
  free(rows);
  wudf_instance_free(inst);
  CHECK(same);
}

/* Invalid UTF-8 reaches the UDF as it is in every layout (as for utf8); a
 * string result that is not UTF-8 is refused on its row in all three. */
TEST(strings_invalid_utf8_same_in_every_layout) {
  wudf_instance *inst = new_instance(NULL);
  CHECK(inst);
  const char *rows[] = {"ok", "fine", "bad\xff", "a-longer-bad-one-\xc3"};
  int wrong = 0;
  for (int l = 0; l < NLAYOUTS; l++) {
    strcol c;
    make_layout(&c, l, rows, 4);
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st = map1(inst, "twice", &c, &out, &err);
    if (st != WUDF_ERR_TYPE || err.row != 2 || strcmp(err.udf, "twice") ||
        !strstr(err.message, "not valid UTF-8")) {
      fprintf(stderr, "    %s: %s row %lld: %s\n", k_layout_names[l],
              wudf_status_name(st), (long long)err.row, err.message);
      wrong++;
    }
    st = map1(inst, "str_len", &c, &out, &err);
    wrong += st != WUDF_OK;
    if (st == WUDF_OK) {
      wrong += ((const int32_t *)out.buffers[1])[2] != 4 ||
               ((const int32_t *)out.buffers[1])[3] != 18;
      out.release(&out);
    }
    strcol_free(&c);
  }
  wudf_instance_free(inst);
  CHECK_EQ_INT(wrong, 0);
}

/* A view whose bytes lie outside its data buffer, names a missing buffer,
 * or has a negative length: WUDF_ERR_MALFORMED naming the column, before
 * any row runs; a NULL row's view is not looked at. */
TEST(strings_view_outside_its_buffer_refused) {
  wudf_instance *inst = new_instance(NULL);
  CHECK(inst);
  int wrong = 0;
  for (int k = 0; k < 5; k++) {
    strcol c;
    make_layout(&c, LAYOUT_VIEW, k_rows, NROWS);
    uint8_t *v = (uint8_t *)c.values + (SKIP + 4) * 16; /* 13 bytes */
    int32_t x;
    if (k == 0) c.sizes[(SKIP + 4) & 1] -= 1;  /* buffer one byte short */
    if (k == 1) x = 2, memcpy(v + 8, &x, 4);   /* no buffer 2 */
    if (k == 2) x = -1, memcpy(v + 12, &x, 4); /* negative offset */
    if (k == 3) x = -5, memcpy(v, &x, 4);      /* negative length */
    if (k == 4) x = INT32_MAX, memcpy(v + 12, &x, 4); /* offset + length */
    struct ArrowArray out;
    wudf_error err = {0};
    wudf_status st = map1(inst, "upper", &c, &out, &err);
    if (st != WUDF_ERR_MALFORMED || err.column != 0 ||
        !strstr(err.message, "row 4")) {
      fprintf(stderr, "    case %d: %s: %s\n", k, wudf_status_name(st),
              err.message);
      wrong++;
    }
    if (st == WUDF_OK) out.release(&out);
    strcol_free(&c);
  }
  /* The same broken view on a NULL row is never read. */
  strcol c;
  make_layout(&c, LAYOUT_VIEW, k_rows, NROWS);
  uint8_t *v = (uint8_t *)c.values + (SKIP + 2) * 16; /* k_rows[2]: NULL */
  int32_t len = 40, idx = 9;
  memcpy(v, &len, 4);
  memcpy(v + 8, &idx, 4);
  struct ArrowArray out;
  wudf_error err = {0};
  wudf_status st = map1(inst, "upper", &c, &out, &err);
  strcol_free(&c);
  wudf_instance_free(inst);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  bool null2 = !valid_at(&out, 2);
  out.release(&out);
  CHECK(null2);
  CHECK_EQ_INT(wrong, 0);
}

/* wudf_module_check_udf() takes U and vu for utf8 parameters only;
 * signatures never name them. */
TEST(strings_check_udf_and_signatures) {
  wudf_module *m = udf_module();
  CHECK(m);
  const char *formats[] = {"u", "U", "vu"};
  for (int i = 0; i < 3; i++) {
    struct ArrowSchema s = {
        .format = formats[i], .name = "e", .release = release_schema};
    const struct ArrowSchema *sp[] = {&s};
    wudf_error err = {0};
    CHECK_STATUS(wudf_module_check_udf(m, "upper", sp, 1, &err), WUDF_OK, &err);
    CHECK_STATUS(wudf_module_check_udf(m, "plus1", sp, 1, &err), WUDF_ERR_TYPE,
                 &err);
    CHECK_EQ_INT(err.column, 0);
    CHECK(strcmp(err.column_name, "e") == 0);
    CHECK(strcmp(err.udf, "plus1") == 0);
  }
  const char *bad[] = {"f(large_utf8) -> int32", "f(utf8) -> utf8_view",
                       "f(int32) -> large_utf8"};
  for (int i = 0; i < 3; i++) {
    wudf_udf_sig sig;
    wudf_error err = {0};
    CHECK_STATUS(wudf_udf_sig_parse(bad[i], strlen(bad[i]), &sig, &err),
                 WUDF_ERR_ARG, &err);
  }
}

/* ---- Host-memory budget -------------------------------------------------- */

/* Rows of `len` bytes each, for results larger than their inputs. */
static const char **long_rows(int64_t n, size_t len) {
  char *text = malloc(len + 1);
  const char **rows = malloc((size_t)n * sizeof *rows);
  if (!text || !rows) {
    free(text);
    free(rows);
    return NULL;
  }
  memset(text, 'q', len);
  text[len] = '\0';
  for (int64_t i = 0; i < n; i++) rows[i] = text;
  return rows;
}

static void free_long_rows(const char **rows) {
  if (rows) free((void *)rows[0]);
  free(rows);
}

/* A MAP whose string results outgrow a small budget fails with
 * WUDF_ERR_HOST_MEMORY and gives every byte back; with room it succeeds,
 * the result holds its bytes until released, then the budget is back at 0.
 * Over each layout, so that conversions are counted too. */
TEST(strings_budget_refuses_and_gives_back) {
  enum { N = 2000, LEN = 100 };
  const char **rows = long_rows(N, LEN);
  CHECK(rows);
  int wrong = 0;
  for (int l = 0; l < NLAYOUTS; l++) {
    wudf_budget *small = NULL, *big = NULL;
    wudf_error err = {0};
    /* Room for the inputs' worth of results but not for twice that. */
    CHECK_STATUS(wudf_budget_new(N * LEN + 60000, &small, &err), WUDF_OK, &err);
    CHECK_STATUS(wudf_budget_new(64u << 20, &big, &err), WUDF_OK, &err);
    wudf_instance *i1 = new_instance(small), *i2 = new_instance(big);
    CHECK(i1 && i2);
    strcol c;
    make_layout(&c, l, rows, N);
    struct ArrowArray out;
    wudf_status st = map1(i1, "twice", &c, &out, &err);
    if (st != WUDF_ERR_HOST_MEMORY || !strstr(err.message, "budget") ||
        strcmp(err.udf, "twice") || wudf_budget_used(small) != 0 ||
        wudf_budget_peak(small) == 0) {
      fprintf(stderr, "    %s small: %s (%s), used %llu\n", k_layout_names[l],
              wudf_status_name(st), err.message,
              (unsigned long long)wudf_budget_used(small));
      wrong++;
    }
    if (st == WUDF_OK) out.release(&out);
    st = map1(i2, "twice", &c, &out, &err);
    uint64_t held = wudf_budget_used(big);
    if (st != WUDF_OK || held < (uint64_t)N * LEN * 2) {
      fprintf(stderr, "    %s big: %s (%s), held %llu\n", k_layout_names[l],
              wudf_status_name(st), err.message, (unsigned long long)held);
      wrong++;
    }
    if (st == WUDF_OK) out.release(&out);
    wrong += wudf_budget_used(big) != 0;
    strcol_free(&c);
    wudf_instance_free(i1);
    wudf_instance_free(i2);
    wudf_budget_free(small);
    wudf_budget_free(big);
  }
  free_long_rows(rows);
  CHECK_EQ_INT(wrong, 0);
}

/* A budget too small for even the first allocation: refused before the
 * UDF runs, nothing held; fixed-width results (with NULLs) and FILTER
 * selections are charged and credited too. */
TEST(strings_budget_fixed_width_and_filter) {
  wudf_budget *tiny = NULL, *big = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_budget_new(16, &tiny, &err), WUDF_OK, &err);
  CHECK_STATUS(wudf_budget_new(1u << 20, &big, &err), WUDF_OK, &err);
  wudf_instance *i1 = new_instance(tiny), *i2 = new_instance(big);
  CHECK(i1 && i2);
  strcol c;
  make_layout(&c, LAYOUT_VIEW, k_rows, NROWS);
  struct ArrowArray out;
  wudf_status st1 = map1(i1, "upper", &c, &out, &err);
  bool refused = st1 == WUDF_ERR_HOST_MEMORY && err.row == -1 &&
                 wudf_budget_used(tiny) == 0;
  if (st1 == WUDF_OK) out.release(&out);
  wudf_status st2 = map1(i2, "str_len", &c, &out, &err);
  bool held = wudf_budget_used(big) >= NROWS * 4;
  if (st2 == WUDF_OK) out.release(&out);
  strcol_free(&c);
  bool back = wudf_budget_used(big) == 0;
  /* FILTER over an int32 column with a NULL. */
  wudf_array_builder *b = NULL;
  struct ArrowArray col, sel;
  struct ArrowSchema sch;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT32, 3, &b, &err), WUDF_OK,
               &err);
  wudf_array_builder_append_int(b, -1);
  wudf_array_builder_append_null(b);
  wudf_array_builder_append_int(b, 5);
  CHECK_STATUS(wudf_array_builder_finish(b, "x", &col, &sch, &err), WUDF_OK,
               &err);
  wudf_array_builder_free(b);
  const struct ArrowArray *ap[] = {&col};
  const struct ArrowSchema *sp[] = {&sch};
  int64_t selected = -1;
  wudf_status st3 =
      wudf_instance_filter(i2, "plus1", ap, sp, 1, &sel, &selected, &err);
  bool sel_held = wudf_budget_used(big) > 0;
  if (st3 == WUDF_OK) sel.release(&sel);
  bool sel_back = wudf_budget_used(big) == 0;
  col.release(&col);
  sch.release(&sch);
  wudf_instance_free(i1);
  wudf_instance_free(i2);
  wudf_budget_free(tiny);
  wudf_budget_free(big);
  CHECK_MSG(refused, "%s", wudf_status_name(st1));
  CHECK_EQ_INT(st2, WUDF_OK);
  CHECK(held);
  CHECK(back);
  CHECK_MSG(st3 == WUDF_OK, "%s", err.message);
  CHECK_EQ_INT(selected, 1);
  CHECK(sel_held);
  CHECK(sel_back);
}
