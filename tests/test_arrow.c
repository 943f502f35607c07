/* Arrow C Data Interface: type formats, the array builder, fixed-width
 * outputs, schemas, the checks on caller arrays, and the UTF-8 validator.
 * Expected bytes are worked out by hand from the Arrow columnar format
 * (validity and bool bitmaps are LSB-first, utf8 offsets are int32); the
 * UTF-8 table was also checked against Python's strict utf-8 codec. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "batch/batch_internal.h"
#include "harness.h"
#include "wudf.h"

/* ---- helpers ------------------------------------------------------------ */

static void noop_release_array(struct ArrowArray *a) {
  a->release = NULL;
}

static void noop_release_schema(struct ArrowSchema *s) {
  s->release = NULL;
}

/* A hand-built column over caller buffers (not owned). */
typedef struct hand_col {
  struct ArrowArray a;
  struct ArrowSchema s;
  const void *bufs[5];
} hand_col;

static void hand_init(hand_col *h, const char *format, int64_t length,
                      const void *b0, const void *b1, const void *b2) {
  memset(h, 0, sizeof *h);
  h->bufs[0] = b0;
  h->bufs[1] = b1;
  h->bufs[2] = b2;
  h->a.length = length;
  h->a.n_buffers = strcmp(format, "u") == 0 || strcmp(format, "U") == 0 ? 3
                   : strcmp(format, "vu") == 0                          ? 3
                                                                        : 2;
  h->a.buffers = h->bufs;
  h->a.release = noop_release_array;
  h->s.format = format;
  h->s.name = "x";
  h->s.flags = ARROW_FLAG_NULLABLE;
  h->s.release = noop_release_schema;
}

static wudf_status hand_read(hand_col *h, wudf_column *c, wudf_error *err) {
  return wudf_column_from_arrow(&h->a, &h->s, 0, c, err);
}

static const uint8_t *buf_u8(const struct ArrowArray *a, int i) {
  return a->buffers[i];
}

static int32_t buf_i32(const struct ArrowArray *a, int i, int64_t row) {
  int32_t v;
  memcpy(&v, (const uint8_t *)a->buffers[i] + row * 4, 4);
  return v;
}

static wudf_status finish(wudf_array_builder *b, struct ArrowArray *a) {
  wudf_error err;
  wudf_error_init(&err);
  return wudf_array_builder_finish(b, NULL, a, NULL, &err);
}

/* ---- types -------------------------------------------------------------- */

TEST(arrow_type_names) {
  static const struct {
    wudf_type t;
    const char *name, *format;
  } table[] = {
      {WUDF_TYPE_INT32, "int32", "i"},     {WUDF_TYPE_INT64, "int64", "l"},
      {WUDF_TYPE_FLOAT32, "float32", "f"}, {WUDF_TYPE_FLOAT64, "float64", "g"},
      {WUDF_TYPE_BOOL, "bool", "b"},       {WUDF_TYPE_UTF8, "utf8", "u"},
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    CHECK(strcmp(wudf_type_str(table[i].t), table[i].name) == 0);
    CHECK(strcmp(wudf_type_arrow_format(table[i].t), table[i].format) == 0);
    wudf_type t;
    CHECK(wudf_type_from_arrow_format(table[i].format, &t));
    CHECK_EQ_INT(t, table[i].t);
  }
  const char *unsupported[] = {"tsu", "", "ii", "I", "z", "+s", "n", "vz", "v"};
  for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
    wudf_type t;
    CHECK(!wudf_type_from_arrow_format(unsupported[i], &t));
  }
  wudf_type t;
  CHECK(!wudf_type_from_arrow_format(NULL, &t));
  CHECK(strcmp(wudf_type_str((wudf_type)99), "unknown") == 0);
  CHECK(strcmp(wudf_type_arrow_format((wudf_type)99), "") == 0);
}

/* ---- builder: each type ------------------------------------------------- */

TEST(arrow_builder_int32_nulls_first) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT32, 4, &b, NULL), WUDF_OK,
               NULL);
  wudf_status st = wudf_array_builder_append_null(b);
  st |= wudf_array_builder_append_int(b, 1);
  st |= wudf_array_builder_append_int(b, -2);
  st |= wudf_array_builder_append_null(b);
  st |= wudf_array_builder_append_int(b, 3);
  struct ArrowArray a;
  if (st == WUDF_OK) st = finish(b, &a);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  /* rows valid: 0 1 1 0 1 -> 0b10110 */
  int ok = a.length == 5 && a.null_count == 2 && a.offset == 0 &&
           a.n_buffers == 2 && a.n_children == 0 && buf_u8(&a, 0)[0] == 0x16 &&
           buf_i32(&a, 1, 1) == 1 && buf_i32(&a, 1, 2) == -2 &&
           buf_i32(&a, 1, 4) == 3;
  a.release(&a);
  CHECK(ok);
  CHECK(a.release == NULL);
}

TEST(arrow_builder_null_last_and_none) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT32, 0, &b, NULL), WUDF_OK,
               NULL);
  struct ArrowArray a1, a2;
  wudf_status st = wudf_array_builder_append_int(b, 7);
  st |= wudf_array_builder_append_int(b, 8);
  st |= wudf_array_builder_append_null(b);
  st |= finish(b, &a1);
  /* The builder is reusable: the second array has no nulls. */
  st |= wudf_array_builder_append_int(b, 9);
  st |= finish(b, &a2);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  int ok1 = a1.length == 3 && a1.null_count == 1 && buf_u8(&a1, 0)[0] == 0x03 &&
            buf_i32(&a1, 1, 0) == 7 && buf_i32(&a1, 1, 1) == 8;
  int ok2 = a2.length == 1 && a2.null_count == 0 && a2.buffers[0] == NULL &&
            buf_i32(&a2, 1, 0) == 9;
  a1.release(&a1);
  a2.release(&a2);
  CHECK(ok1);
  CHECK(ok2);
}

TEST(arrow_builder_alternating_nulls) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT64, 2, &b, NULL), WUDF_OK,
               NULL);
  wudf_status st = WUDF_OK;
  for (int i = 0; i < 20; i++)
    st |= i % 2 ? wudf_array_builder_append_int(b, i)
                : wudf_array_builder_append_null(b);
  struct ArrowArray a;
  if (st == WUDF_OK) st = finish(b, &a);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  /* odd rows valid: 0xAA 0xAA, then rows 16..19 -> 0b1010 */
  const uint8_t *v = buf_u8(&a, 0);
  int ok = a.null_count == 10 && v[0] == 0xAA && v[1] == 0xAA && v[2] == 0x0A;
  int64_t x;
  memcpy(&x, (const uint8_t *)a.buffers[1] + 19 * 8, 8);
  ok = ok && x == 19;
  a.release(&a);
  CHECK(ok);
}

TEST(arrow_builder_int64_extremes) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT64, 3, &b, NULL), WUDF_OK,
               NULL);
  wudf_status st = wudf_array_builder_append_int(b, INT64_MIN);
  st |= wudf_array_builder_append_int(b, INT64_MAX);
  st |= wudf_array_builder_append_int(b, 0);
  struct ArrowArray a;
  if (st == WUDF_OK) st = finish(b, &a);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  int64_t v[3];
  memcpy(v, a.buffers[1], sizeof v);
  int ok = a.buffers[0] == NULL && a.null_count == 0 && v[0] == INT64_MIN &&
           v[1] == INT64_MAX && v[2] == 0;
  a.release(&a);
  CHECK(ok);
}

TEST(arrow_builder_floats) {
  wudf_array_builder *b32, *b64;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_FLOAT32, 1, &b32, NULL),
               WUDF_OK, NULL);
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_FLOAT64, 1, &b64, NULL),
               WUDF_OK, NULL);
  wudf_status st = wudf_array_builder_append_double(b32, 0.1);
  st |= wudf_array_builder_append_double(b32, 1.5);
  st |= wudf_array_builder_append_double(b64, 0.1);
  st |= wudf_array_builder_append_double(b64, -0.0);
  st |= wudf_array_builder_append_double(b64, NAN);
  struct ArrowArray a32, a64;
  st |= finish(b32, &a32);
  st |= finish(b64, &a64);
  wudf_array_builder_free(b32);
  wudf_array_builder_free(b64);
  CHECK_EQ_INT(st, WUDF_OK);
  uint32_t f[2];
  uint64_t d[3];
  memcpy(f, a32.buffers[1], sizeof f);
  memcpy(d, a64.buffers[1], sizeof d);
  a32.release(&a32);
  a64.release(&a64);
  /* IEEE 754 bit patterns: 0.1f, 1.5f, 0.1, -0.0 */
  CHECK_EQ_INT(f[0], 0x3DCCCCCDu);
  CHECK_EQ_INT(f[1], 0x3FC00000u);
  CHECK(d[0] == UINT64_C(0x3FB999999999999A));
  CHECK(d[1] == UINT64_C(0x8000000000000000));
  CHECK((d[2] & UINT64_C(0x7FF0000000000000)) == UINT64_C(0x7FF0000000000000) &&
        (d[2] & UINT64_C(0x000FFFFFFFFFFFFF)) != 0);
}

TEST(arrow_builder_bool_bitpacked) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_BOOL, 1, &b, NULL), WUDF_OK,
               NULL);
  const bool v[] = {true, false, true, true, false, false, false, true, true};
  wudf_status st = WUDF_OK;
  for (size_t i = 0; i < sizeof v; i++)
    st |= wudf_array_builder_append_bool(b, v[i]);
  struct ArrowArray a1, a2;
  st |= finish(b, &a1);
  st |= wudf_array_builder_append_bool(b, true);
  st |= wudf_array_builder_append_null(b);
  st |= wudf_array_builder_append_bool(b, true);
  st |= finish(b, &a2);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  /* rows 0..7: 1 0 1 1 0 0 0 1 -> 0b10001101 = 0x8D; row 8 -> 0x01 */
  int ok1 = a1.length == 9 && a1.buffers[0] == NULL &&
            buf_u8(&a1, 1)[0] == 0x8D && buf_u8(&a1, 1)[1] == 0x01;
  /* true, NULL, true: values 0b101, validity 0b101 */
  int ok2 = a2.length == 3 && a2.null_count == 1 && buf_u8(&a2, 1)[0] == 0x05 &&
            buf_u8(&a2, 0)[0] == 0x05;
  a1.release(&a1);
  a2.release(&a2);
  CHECK(ok1);
  CHECK(ok2);
}

TEST(arrow_builder_utf8) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_UTF8, 2, &b, NULL), WUDF_OK,
               NULL);
  wudf_status st = wudf_array_builder_append_string(b, "a", 1);
  st |= wudf_array_builder_append_string(b, "", 0);
  st |= wudf_array_builder_append_null(b);
  st |= wudf_array_builder_append_string(b, "h\xc3\xa9llo", 6);
  st |= wudf_array_builder_append_string(b, NULL, 0);
  struct ArrowArray a;
  if (st == WUDF_OK) st = finish(b, &a);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  const int32_t want[] = {0, 1, 1, 1, 7, 7};
  int ok = a.length == 5 && a.null_count == 1 && a.n_buffers == 3 &&
           buf_u8(&a, 0)[0] == 0x1B; /* rows 0 1 3 4 valid */
  for (int i = 0; i < 6; i++) ok = ok && buf_i32(&a, 1, i) == want[i];
  ok = ok && memcmp(a.buffers[2], "ah\xc3\xa9llo", 7) == 0;
  a.release(&a);
  CHECK(ok);
}

TEST(arrow_builder_empty_arrays) {
  for (int t = WUDF_TYPE_INT32; t <= WUDF_TYPE_UTF8; t++) {
    wudf_array_builder *b;
    CHECK_STATUS(wudf_array_builder_new((wudf_type)t, 0, &b, NULL), WUDF_OK,
                 NULL);
    struct ArrowArray a;
    struct ArrowSchema s;
    wudf_status st = wudf_array_builder_finish(b, "e", &a, &s, NULL);
    wudf_array_builder_free(b);
    CHECK_EQ_INT(st, WUDF_OK);
    int ok = a.length == 0 && a.null_count == 0 && a.buffers[0] == NULL &&
             a.buffers[1] != NULL &&
             a.n_buffers == (t == WUDF_TYPE_UTF8 ? 3 : 2);
    if (t == WUDF_TYPE_UTF8)
      ok = ok && buf_i32(&a, 1, 0) == 0 && a.buffers[2] != NULL;
    ok = ok && strcmp(s.format, wudf_type_arrow_format((wudf_type)t)) == 0 &&
         strcmp(s.name, "e") == 0;
    a.release(&a);
    s.release(&s);
    CHECK_MSG(ok, "empty array of type %s", wudf_type_str((wudf_type)t));
  }
}

/* ---- builder: growth and refusals --------------------------------------- */

TEST(arrow_builder_growth_int64) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT64, 1, &b, NULL), WUDF_OK,
               NULL);
  wudf_status st = WUDF_OK;
  for (int64_t i = 0; i < 10000 && st == WUDF_OK; i++)
    st = i % 7 == 6 ? wudf_array_builder_append_null(b)
                    : wudf_array_builder_append_int(b, i * 3);
  struct ArrowArray a;
  if (st == WUDF_OK) st = finish(b, &a);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  /* rows 6, 13, ..., 9995 are NULL: 1428 of them */
  int ok = a.length == 10000 && a.null_count == 1428;
  const uint8_t *bits = a.buffers[0];
  for (int64_t i = 0; ok && i < 10000; i++) {
    bool valid = (bits[i / 8] >> (i % 8)) & 1;
    int64_t v;
    memcpy(&v, (const uint8_t *)a.buffers[1] + i * 8, 8);
    ok = valid == (i % 7 != 6) && (!valid || v == i * 3);
  }
  a.release(&a);
  CHECK(ok);
}

TEST(arrow_builder_growth_utf8_bool) {
  wudf_array_builder *s, *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_UTF8, 1, &s, NULL), WUDF_OK,
               NULL);
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_BOOL, 1, &b, NULL), WUDF_OK,
               NULL);
  wudf_status st = WUDF_OK;
  for (int i = 0; i < 5000 && st == WUDF_OK; i++) {
    char text[16];
    int n = snprintf(text, sizeof text, "r%d", i);
    st = wudf_array_builder_append_string(s, text, (size_t)n);
    if (st == WUDF_OK) st = wudf_array_builder_append_bool(b, i % 3 == 0);
  }
  struct ArrowArray as, ab;
  struct ArrowSchema ss, sb;
  if (st == WUDF_OK) st = wudf_array_builder_finish(s, "s", &as, &ss, NULL);
  if (st == WUDF_OK) st = wudf_array_builder_finish(b, "b", &ab, &sb, NULL);
  wudf_array_builder_free(s);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  wudf_column cs, cb;
  st = wudf_column_from_arrow(&as, &ss, 0, &cs, NULL);
  if (st == WUDF_OK) st = wudf_column_from_arrow(&ab, &sb, 1, &cb, NULL);
  int ok = st == WUDF_OK;
  for (int i = 0; ok && i < 5000; i++) {
    char text[16];
    int n = snprintf(text, sizeof text, "r%d", i);
    size_t len;
    const uint8_t *p = wudf_column_utf8(&cs, i, &len);
    ok = len == (size_t)n && memcmp(p, text, len) == 0 &&
         wudf_column_bool(&cb, i) == (i % 3 == 0);
  }
  as.release(&as);
  ab.release(&ab);
  ss.release(&ss);
  sb.release(&sb);
  CHECK(ok);
}

TEST(arrow_builder_late_first_null) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_FLOAT64, 4, &b, NULL), WUDF_OK,
               NULL);
  wudf_status st = WUDF_OK;
  for (int i = 0; i < 20; i++) st |= wudf_array_builder_append_double(b, i);
  st |= wudf_array_builder_append_null(b);
  st |= wudf_array_builder_append_double(b, 21);
  struct ArrowArray a;
  if (st == WUDF_OK) st = finish(b, &a);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  /* rows 0..19 valid, 20 null, 21 valid: FF FF 0F->(rows 16..19) | row 21 */
  const uint8_t *v = a.buffers[0];
  int ok = a.null_count == 1 && v[0] == 0xFF && v[1] == 0xFF && v[2] == 0x2F;
  a.release(&a);
  CHECK(ok);
}

TEST(arrow_builder_int32_range) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT32, 1, &b, NULL), WUDF_OK,
               NULL);
  CHECK_STATUS(wudf_array_builder_append_int(b, INT32_MAX), WUDF_OK, NULL);
  CHECK_STATUS(wudf_array_builder_append_int(b, INT32_MIN), WUDF_OK, NULL);
  CHECK_STATUS(wudf_array_builder_append_int(b, (int64_t)INT32_MAX + 1),
               WUDF_ERR_TYPE, NULL);
  CHECK_STATUS(wudf_array_builder_append_int(b, (int64_t)INT32_MIN - 1),
               WUDF_ERR_TYPE, NULL);
  CHECK_STATUS(wudf_array_builder_append_int(b, INT64_MAX), WUDF_ERR_TYPE,
               NULL);
  struct ArrowArray a;
  wudf_status st = finish(b, &a);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  int ok = a.length == 2 && buf_i32(&a, 1, 0) == INT32_MAX &&
           buf_i32(&a, 1, 1) == INT32_MIN;
  a.release(&a);
  CHECK(ok);
}

TEST(arrow_builder_wrong_kind) {
  wudf_array_builder *b[6];
  for (int t = 0; t < 6; t++)
    CHECK_STATUS(wudf_array_builder_new((wudf_type)t, 0, &b[t], NULL), WUDF_OK,
                 NULL);
  /* Which append each type accepts: int, double, bool, string. */
  static const bool accepts[6][4] = {
      {1, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0},
      {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1},
  };
  int bad = -1;
  for (int t = 0; t < 6 && bad < 0; t++) {
    wudf_status got[4] = {
        wudf_array_builder_append_int(b[t], 1),
        wudf_array_builder_append_double(b[t], 1.0),
        wudf_array_builder_append_bool(b[t], true),
        wudf_array_builder_append_string(b[t], "x", 1),
    };
    for (int k = 0; k < 4; k++)
      if (got[k] != (accepts[t][k] ? WUDF_OK : WUDF_ERR_TYPE)) bad = t * 4 + k;
  }
  for (int t = 0; t < 6; t++) wudf_array_builder_free(b[t]);
  CHECK_MSG(bad < 0, "type %d, append kind %d", bad / 4, bad % 4);
}

TEST(arrow_builder_bad_arguments) {
  wudf_array_builder *b = NULL;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT32, -1, &b, &err),
               WUDF_ERR_ARG, &err);
  CHECK_STATUS(wudf_array_builder_new((wudf_type)42, 0, &b, &err), WUDF_ERR_ARG,
               &err);
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT32, 0, NULL, &err),
               WUDF_ERR_ARG, &err);
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_INT64, INT64_MAX, &b, &err),
               WUDF_ERR_NOMEM, &err);
  CHECK(b == NULL);
  CHECK_STATUS(wudf_array_builder_append_null(NULL), WUDF_ERR_ARG, NULL);
  CHECK_STATUS(wudf_array_builder_append_int(NULL, 1), WUDF_ERR_ARG, NULL);
  CHECK_STATUS(wudf_array_builder_append_string(NULL, "", 0), WUDF_ERR_ARG,
               NULL);
  struct ArrowArray a;
  CHECK_STATUS(wudf_array_builder_finish(NULL, NULL, &a, NULL, &err),
               WUDF_ERR_ARG, &err);
  wudf_array_builder_free(NULL);
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_UTF8, 0, &b, &err), WUDF_OK,
               &err);
  wudf_status st1 = wudf_array_builder_append_string(b, NULL, 3);
  wudf_status st2 = wudf_array_builder_append_string(b, "\xc0\x80", 2);
  wudf_status st3 = wudf_array_builder_append_string(b, "a\xed\xa0\x80", 4);
  wudf_status st4 = wudf_array_builder_finish(b, NULL, NULL, NULL, &err);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st1, WUDF_ERR_ARG);
  CHECK_EQ_INT(st2, WUDF_ERR_TYPE);
  CHECK_EQ_INT(st3, WUDF_ERR_TYPE);
  CHECK_EQ_INT(st4, WUDF_ERR_ARG);
}

/* The 2^31 - 1 byte limit of int32 offsets, lowered through the test hook. */
TEST(arrow_builder_string_limit_hook) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_UTF8, 0, &b, NULL), WUDF_OK,
               NULL);
  wudf_array_builder_set_max_data(b, 10);
  wudf_status st[6] = {
      wudf_array_builder_append_string(b, "abcdef", 6),
      wudf_array_builder_append_string(b, "ghij", 4),
      wudf_array_builder_append_string(b, "k", 1),
      wudf_array_builder_append_string(b, "", 0),
      wudf_array_builder_append_null(b),
  };
  struct ArrowArray a;
  st[5] = finish(b, &a);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st[0], WUDF_OK);
  CHECK_EQ_INT(st[1], WUDF_OK);
  CHECK_EQ_INT(st[2], WUDF_ERR_LIMIT);
  CHECK_EQ_INT(st[3], WUDF_OK);
  CHECK_EQ_INT(st[4], WUDF_OK);
  CHECK_EQ_INT(st[5], WUDF_OK);
  const int32_t want[] = {0, 6, 10, 10, 10};
  int ok = a.length == 4 && a.null_count == 1;
  for (int i = 0; i < 5; i++) ok = ok && buf_i32(&a, 1, i) == want[i];
  a.release(&a);
  CHECK(ok);
}

/* The real limit needs 3 GiB of memory: run with WUDF_TEST_BIG=1. */
TEST(arrow_builder_string_limit_2gib) {
  if (!getenv("WUDF_TEST_BIG")) return;
  size_t gib = (size_t)1 << 30;
  char *big = malloc(gib);
  CHECK(big != NULL);
  memset(big, 'a', gib);
  wudf_array_builder *b;
  wudf_status st = wudf_array_builder_new(WUDF_TYPE_UTF8, 4, &b, NULL);
  wudf_status st1 = wudf_array_builder_append_string(b, big, gib);
  wudf_status st2 = wudf_array_builder_append_string(b, big, gib - 1);
  wudf_status st3 = wudf_array_builder_append_string(b, "a", 1);
  wudf_status st4 = wudf_array_builder_append_string(b, "", 0);
  wudf_array_builder_free(b);
  free(big);
  CHECK_EQ_INT(st, WUDF_OK);
  CHECK_EQ_INT(st1, WUDF_OK);
  CHECK_EQ_INT(st2, WUDF_OK); /* total 2^31 - 1 = INT32_MAX */
  CHECK_EQ_INT(st3, WUDF_ERR_LIMIT);
  CHECK_EQ_INT(st4, WUDF_OK);
}

/* ---- release semantics -------------------------------------------------- */

TEST(arrow_release_and_move) {
  wudf_array_builder *b;
  CHECK_STATUS(wudf_array_builder_new(WUDF_TYPE_UTF8, 0, &b, NULL), WUDF_OK,
               NULL);
  wudf_status st = wudf_array_builder_append_string(b, "abc", 3);
  st |= wudf_array_builder_append_null(b);
  struct ArrowArray src;
  struct ArrowSchema ssrc;
  if (st == WUDF_OK) st = wudf_array_builder_finish(b, "n", &src, &ssrc, NULL);
  wudf_array_builder_free(b);
  CHECK_EQ_INT(st, WUDF_OK);
  /* Move: copy the structs and mark the sources released. */
  struct ArrowArray dst = src;
  struct ArrowSchema sdst = ssrc;
  src.release = NULL;
  ssrc.release = NULL;
  CHECK(dst.private_data != NULL && sdst.private_data != NULL);
  CHECK(sdst.flags == ARROW_FLAG_NULLABLE && sdst.n_children == 0 &&
        sdst.dictionary == NULL && sdst.metadata == NULL);
  dst.release(&dst);
  sdst.release(&sdst);
  CHECK(dst.release == NULL && sdst.release == NULL);
  CHECK(sdst.format == NULL && sdst.name == NULL);
}

TEST(arrow_schema_new) {
  struct ArrowSchema s;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_arrow_schema_new(WUDF_TYPE_UTF8, "col", true, &s, &err),
               WUDF_OK, &err);
  int ok = strcmp(s.format, "u") == 0 && strcmp(s.name, "col") == 0 &&
           s.flags == ARROW_FLAG_NULLABLE && s.n_children == 0;
  s.release(&s);
  CHECK(ok && s.release == NULL);
  CHECK_STATUS(wudf_arrow_schema_new(WUDF_TYPE_BOOL, NULL, false, &s, &err),
               WUDF_OK, &err);
  ok = strcmp(s.format, "b") == 0 && s.name == NULL && s.flags == 0;
  s.release(&s);
  CHECK(ok);
  CHECK_STATUS(wudf_arrow_schema_new((wudf_type)8, "x", true, &s, &err),
               WUDF_ERR_ARG, &err);
  CHECK_STATUS(wudf_arrow_schema_new(WUDF_TYPE_INT32, "x", true, NULL, &err),
               WUDF_ERR_ARG, &err);
}

/* ---- fixed-width outputs ------------------------------------------------ */

TEST(arrow_new_fixed_finish_nulls) {
  struct ArrowArray a, b, c, e;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_arrow_new_fixed(WUDF_TYPE_FLOAT64, 10, true, &a, &err),
               WUDF_OK, &err);
  CHECK_STATUS(wudf_arrow_new_fixed(WUDF_TYPE_INT32, 10, true, &b, &err),
               WUDF_OK, &err);
  CHECK_STATUS(wudf_arrow_new_fixed(WUDF_TYPE_BOOL, 12, false, &c, &err),
               WUDF_OK, &err);
  CHECK_STATUS(wudf_arrow_new_fixed(WUDF_TYPE_BOOL, 0, true, &e, &err), WUDF_OK,
               &err);
  /* Fresh arrays: zeroed values, all-zero validity, null_count unknown. */
  int ok = a.null_count == -1 && buf_u8(&a, 0)[0] == 0 &&
           buf_u8(&a, 0)[1] == 0 && c.buffers[0] == NULL && c.null_count == 0 &&
           c.n_buffers == 2 && e.buffers[1] != NULL;
  for (int i = 0; i < 10; i++) ok = ok && buf_i32(&b, 1, i) == 0;
  /* a: every row valid -> bitmap dropped. b: rows 3 and 9 NULL. */
  memset((void *)a.buffers[0], 0xFF, 2);
  uint8_t *bv = (uint8_t *)b.buffers[0];
  bv[0] = 0xF7;
  bv[1] = 0x01;
  ((uint8_t *)c.buffers[1])[1] = 0x08; /* row 11 true */
  wudf_arrow_finish_nulls(&a);
  wudf_arrow_finish_nulls(&b);
  wudf_arrow_finish_nulls(&c);
  wudf_arrow_finish_nulls(&e);
  ok = ok && a.null_count == 0 && a.buffers[0] == NULL;
  ok = ok && b.null_count == 2 && b.buffers[0] != NULL;
  ok = ok && c.null_count == 0 && e.null_count == 0 && e.buffers[0] == NULL;
  a.release(&a);
  b.release(&b);
  c.release(&c);
  e.release(&e);
  CHECK(ok);
  CHECK_STATUS(wudf_arrow_new_fixed(WUDF_TYPE_UTF8, 1, false, &a, &err),
               WUDF_ERR_ARG, &err);
  CHECK_STATUS(wudf_arrow_new_fixed(WUDF_TYPE_INT32, -1, false, &a, &err),
               WUDF_ERR_ARG, &err);
  CHECK_STATUS(
      wudf_arrow_new_fixed(WUDF_TYPE_INT64, INT64_MAX, false, &a, &err),
      WUDF_ERR_NOMEM, &err);
}

/* ---- reading columns ---------------------------------------------------- */

TEST(arrow_column_round_trip) {
  for (int t = WUDF_TYPE_INT32; t <= WUDF_TYPE_UTF8; t++) {
    wudf_array_builder *b;
    CHECK_STATUS(wudf_array_builder_new((wudf_type)t, 2, &b, NULL), WUDF_OK,
                 NULL);
    wudf_status st = WUDF_OK;
    for (int i = 0; i < 11; i++) {
      if (i % 4 == 1)
        st |= wudf_array_builder_append_null(b);
      else if (t <= WUDF_TYPE_INT64)
        st |= wudf_array_builder_append_int(b, i - 5);
      else if (t <= WUDF_TYPE_FLOAT64)
        st |= wudf_array_builder_append_double(b, i * 0.5);
      else if (t == WUDF_TYPE_BOOL)
        st |= wudf_array_builder_append_bool(b, i % 3 == 0);
      else
        st |= wudf_array_builder_append_string(b, "xyzxyzxyzxy", (size_t)i);
    }
    struct ArrowArray a;
    struct ArrowSchema s;
    if (st == WUDF_OK) st = wudf_array_builder_finish(b, "price", &a, &s, NULL);
    wudf_array_builder_free(b);
    CHECK_EQ_INT(st, WUDF_OK);
    wudf_column c;
    st = wudf_column_from_arrow(&a, &s, 4, &c, NULL);
    int ok = st == WUDF_OK && c.type == (wudf_type)t && c.length == 11 &&
             c.offset == 0 && c.validity != NULL &&
             strcmp(c.name, "price") == 0;
    for (int i = 0; ok && i < 11; i++) {
      ok = wudf_column_valid(&c, i) == (i % 4 != 1);
      if (!ok || i % 4 == 1) continue;
      size_t len;
      switch ((wudf_type)t) {
        case WUDF_TYPE_INT32:
          ok = wudf_column_int32(&c, i) == i - 5;
          break;
        case WUDF_TYPE_INT64:
          ok = wudf_column_int64(&c, i) == i - 5;
          break;
        case WUDF_TYPE_FLOAT32:
          ok = wudf_column_float32(&c, i) == (float)i * 0.5f;
          break;
        case WUDF_TYPE_FLOAT64:
          ok = wudf_column_float64(&c, i) == i * 0.5;
          break;
        case WUDF_TYPE_BOOL:
          ok = wudf_column_bool(&c, i) == (i % 3 == 0);
          break;
        case WUDF_TYPE_UTF8:
        case WUDF_TYPE_LARGE_UTF8:
        case WUDF_TYPE_UTF8_VIEW:
          ok = wudf_column_utf8(&c, i, &len) != NULL && len == (size_t)i;
          break;
      }
    }
    a.release(&a);
    s.release(&s);
    CHECK_MSG(ok, "round trip of %s", wudf_type_str((wudf_type)t));
  }
}

TEST(arrow_column_names) {
  int32_t v[1] = {5};
  hand_col h;
  wudf_column c;
  hand_init(&h, "i", 1, NULL, v, NULL);
  h.s.name = NULL;
  CHECK_STATUS(wudf_column_from_arrow(&h.a, &h.s, 2, &c, NULL), WUDF_OK, NULL);
  CHECK(strcmp(c.name, "column 3") == 0);
  h.s.name = "";
  CHECK_STATUS(wudf_column_from_arrow(&h.a, &h.s, 0, &c, NULL), WUDF_OK, NULL);
  CHECK(strcmp(c.name, "column 1") == 0);
  char longname[100];
  memset(longname, 'n', sizeof longname);
  longname[99] = '\0';
  h.s.name = longname;
  CHECK_STATUS(wudf_column_from_arrow(&h.a, &h.s, 0, &c, NULL), WUDF_OK, NULL);
  CHECK_EQ_INT(strlen(c.name), 63);
  /* 62 ASCII bytes then a 2-byte character: it does not fit, and is not cut. */
  memset(longname, 'n', 62);
  memcpy(longname + 62, "\xc3\xa9z", 4);
  CHECK_STATUS(wudf_column_from_arrow(&h.a, &h.s, 0, &c, NULL), WUDF_OK, NULL);
  CHECK_EQ_INT(strlen(c.name), 62);
  CHECK(c.validity == NULL && wudf_column_int32(&c, 0) == 5);
}

/* Expects refusal `status` with a message containing `needle`. */
static int refused(hand_col *h, wudf_status status, const char *needle) {
  wudf_error err;
  wudf_error_init(&err);
  wudf_column c;
  wudf_status st = hand_read(h, &c, &err);
  if (st == status && err.status == status && strstr(err.message, needle))
    return 1;
  fprintf(stderr, "    got %s \"%s\", expected %s with \"%s\"\n",
          wudf_status_name(st), err.message, wudf_status_name(status), needle);
  return 0;
}

TEST(arrow_column_refuses_schema_problems) {
  int32_t v[2] = {1, 2};
  hand_col h;
  wudf_column c;
  wudf_error err;
  wudf_error_init(&err);
  hand_init(&h, "i", 2, NULL, v, NULL);
  CHECK_STATUS(wudf_column_from_arrow(NULL, &h.s, 1, &c, &err), WUDF_ERR_ARG,
               &err);
  CHECK_CONTAINS(err.message, "column 2");
  CHECK_STATUS(wudf_column_from_arrow(&h.a, NULL, 1, &c, &err), WUDF_ERR_ARG,
               &err);
  h.s.release = NULL;
  CHECK(refused(&h, WUDF_ERR_ARG, "column 1: the schema is released"));
  hand_init(&h, "i", 2, NULL, v, NULL);
  h.a.release = NULL;
  CHECK(refused(&h, WUDF_ERR_ARG, "column 'x': the array is released"));
  hand_init(&h, "i", 2, NULL, v, NULL);
  h.s.format = NULL;
  CHECK(refused(&h, WUDF_ERR_ARG, "column 'x' has no Arrow format"));
  h.s.format = "tsu";
  CHECK(refused(&h, WUDF_ERR_TYPE, "column 'x' has Arrow type 'tsu'"));
  h.s.format = "Z";
  CHECK(refused(&h, WUDF_ERR_TYPE, "column 'x' has Arrow type 'Z'"));
  hand_init(&h, "i", 2, NULL, v, NULL);
  struct ArrowSchema dict = h.s;
  h.s.dictionary = &dict;
  CHECK(refused(&h, WUDF_ERR_TYPE, "column 'x' is dictionary-encoded"));
  hand_init(&h, "i", 2, NULL, v, NULL);
  struct ArrowSchema *kids[1] = {&dict};
  h.s.n_children = 1;
  h.s.children = kids;
  CHECK(refused(&h, WUDF_ERR_ARG, "column 'x': schema of type int32 has 1"));
}

TEST(arrow_column_refuses_array_problems) {
  int32_t v[4] = {1, 2, 3, 4};
  hand_col h;
  hand_init(&h, "i", 2, NULL, v, NULL);
  struct ArrowArray other = h.a;
  h.a.dictionary = &other;
  CHECK(refused(&h, WUDF_ERR_TYPE, "column 'x': the array has a dictionary"));
  hand_init(&h, "i", 2, NULL, v, NULL);
  struct ArrowArray *kids[1] = {&other};
  h.a.n_children = 1;
  h.a.children = kids;
  CHECK(refused(&h, WUDF_ERR_ARG, "array of type int32 has 1 children"));
  hand_init(&h, "i", -1, NULL, v, NULL);
  CHECK(refused(&h, WUDF_ERR_ARG, "column 'x': invalid length -1"));
  hand_init(&h, "i", 2, NULL, v, NULL);
  h.a.offset = -1;
  CHECK(refused(&h, WUDF_ERR_ARG, "offset -1"));
  h.a.offset = INT64_MAX;
  CHECK(refused(&h, WUDF_ERR_ARG, "invalid length"));
  hand_init(&h, "i", 2, NULL, v, NULL);
  h.a.n_buffers = 3;
  CHECK(refused(&h, WUDF_ERR_ARG, "has 3 buffers, expected 2"));
  hand_init(&h, "u", 0, NULL, NULL, NULL);
  h.a.n_buffers = 2;
  CHECK(refused(&h, WUDF_ERR_ARG,
                "array of type utf8 has 2 buffers, expected 3"));
  hand_init(&h, "b", 0, NULL, NULL, NULL);
  h.a.buffers = NULL;
  CHECK(refused(&h, WUDF_ERR_ARG, "column 'x': the buffers array is NULL"));
  hand_init(&h, "l", 3, NULL, NULL, NULL);
  CHECK(refused(&h, WUDF_ERR_ARG,
                "column 'x': the values buffer (buffers[1]) is NULL"));
  hand_init(&h, "l", 0, NULL, NULL, NULL);
  wudf_column c;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.length == 0 && c.validity == NULL);
}

TEST(arrow_column_null_counts) {
  int32_t v[4] = {1, 2, 3, 4};
  uint8_t bits_some[1] = {0x0D}; /* row 1 NULL */
  uint8_t bits_none[1] = {0x0F};
  hand_col h;
  wudf_column c;
  hand_init(&h, "i", 4, NULL, v, NULL);
  h.a.null_count = 2;
  CHECK(refused(&h, WUDF_ERR_ARG, "null_count is 2 but there is no validity"));
  h.a.null_count = -2;
  CHECK(refused(&h, WUDF_ERR_ARG, "null_count -2 is invalid"));
  h.a.null_count = 5;
  CHECK(refused(&h, WUDF_ERR_ARG, "null_count 5 is invalid for 4 rows"));
  /* Unknown count without a bitmap: no nulls. */
  h.a.null_count = -1;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.validity == NULL);
  /* Unknown count with a bitmap: counted. */
  hand_init(&h, "i", 4, bits_some, v, NULL);
  h.a.null_count = -1;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.validity == bits_some && !wudf_column_valid(&c, 1) &&
        wudf_column_valid(&c, 0) && wudf_column_valid(&c, 3));
  hand_init(&h, "i", 4, bits_none, v, NULL);
  h.a.null_count = -1;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.validity == NULL);
  /* null_count 0: the bitmap is ignored. */
  hand_init(&h, "i", 4, bits_some, v, NULL);
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.validity == NULL && wudf_column_valid(&c, 1));
  h.a.null_count = 1;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.validity == bits_some && !wudf_column_valid(&c, 1));
}

TEST(arrow_column_utf8_offsets) {
  const int32_t good[] = {0, 1, 3, 3};
  const int32_t dec[] = {0, 2, 1, 3};
  const int32_t neg[] = {-1, 0, 1, 3};
  const int32_t flat[] = {4, 4, 4};
  hand_col h;
  wudf_column c;
  hand_init(&h, "u", 3, NULL, good, "abc");
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  size_t len;
  const uint8_t *p = wudf_column_utf8(&c, 1, &len);
  CHECK(len == 2 && memcmp(p, "bc", 2) == 0);
  wudf_column_utf8(&c, 2, &len);
  CHECK(len == 0);
  hand_init(&h, "u", 3, NULL, dec, "abc");
  CHECK(
      refused(&h, WUDF_ERR_ARG, "column 'x': utf8 offsets decrease at row 1"));
  hand_init(&h, "u", 3, NULL, neg, "abc");
  CHECK(refused(&h, WUDF_ERR_ARG, "utf8 offset of row 0 is -1"));
  hand_init(&h, "u", 3, NULL, NULL, "abc");
  CHECK(refused(&h, WUDF_ERR_ARG, "values buffer"));
  hand_init(&h, "u", 3, NULL, good, NULL);
  CHECK(refused(&h, WUDF_ERR_ARG, "the utf8 data buffer (buffers[2]) is NULL"));
  /* No bytes in the rows used: a NULL data buffer is allowed. */
  hand_init(&h, "u", 2, NULL, flat, NULL);
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.data != NULL);
  wudf_column_utf8(&c, 1, &len);
  CHECK(len == 0);
  /* Only offsets[offset .. offset + length] are checked. */
  const int32_t sliced[] = {5, 0, 1, 3, 3, 2};
  hand_init(&h, "u", 3, NULL, sliced, "abc");
  h.a.offset = 1;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  p = wudf_column_utf8(&c, 0, &len);
  CHECK(len == 1 && p[0] == 'a');
  h.a.length = 4;
  CHECK(
      refused(&h, WUDF_ERR_ARG, "utf8 offsets decrease at row 3 (2 after 3)"));
}

/* large_utf8: int64 offsets, checked like utf8's, read past 2^31. */
TEST(arrow_column_large_utf8) {
  const int64_t good[] = {INT64_C(3), 4, 6, 6};
  const int64_t dec[] = {0, 2, 1, 3};
  hand_col h;
  wudf_column c;
  hand_init(&h, "U", 3, NULL, good, "xyzabc");
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK_EQ_INT(c.type, WUDF_TYPE_LARGE_UTF8);
  size_t len;
  const uint8_t *p = wudf_column_utf8(&c, 1, &len);
  CHECK(len == 2 && memcmp(p, "bc", 2) == 0);
  hand_init(&h, "U", 3, NULL, dec, "abc");
  CHECK(refused(&h, WUDF_ERR_ARG, "large_utf8 offsets decrease at row 1"));
  hand_init(&h, "U", 3, NULL, good, NULL);
  CHECK(refused(&h, WUDF_ERR_ARG, "large_utf8 data buffer"));
  h.bufs[2] = "xyzabc";
  h.a.n_buffers = 2;
  CHECK(refused(&h, WUDF_ERR_ARG, "has 2 buffers, expected 3"));
}

/* utf8_view: inline and buffer views, the sizes buffer last; views outside
 * their buffers are malformed. */
TEST(arrow_column_utf8_view) {
  uint8_t views[3][16];
  memset(views, 0, sizeof views);
  int32_t n0 = 12, n1 = 13, n2 = 0, idx = 1, at = 2;
  memcpy(views[0], &n0, 4);
  memcpy(views[0] + 4, "twelve bytes", 12);
  memcpy(views[1], &n1, 4);
  memcpy(views[1] + 4, "thir", 4);
  memcpy(views[1] + 8, &idx, 4);
  memcpy(views[1] + 12, &at, 4);
  memcpy(views[2], &n2, 4);
  const char *data0 = "unused", *data1 = "..thirteen byte";
  int64_t sizes[2] = {6, 15};
  hand_col h;
  wudf_column c;
  hand_init(&h, "vu", 3, NULL, views, data0);
  h.bufs[3] = data1;
  h.bufs[4] = sizes;
  h.a.n_buffers = 5;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK_EQ_INT(c.type, WUDF_TYPE_UTF8_VIEW);
  size_t len;
  const uint8_t *p = wudf_column_utf8(&c, 0, &len);
  CHECK(len == 12 && memcmp(p, "twelve bytes", 12) == 0);
  p = wudf_column_utf8(&c, 1, &len);
  CHECK(len == 13 && memcmp(p, "thirteen byte", 13) == 0);
  wudf_column_utf8(&c, 2, &len);
  CHECK(len == 0);
  sizes[1] = 14;
  CHECK(refused(&h, WUDF_ERR_MALFORMED, "the view of row 1 (13 bytes"));
  sizes[1] = 15;
  h.a.n_buffers = 4; /* buffer 1 is now the sizes buffer's place */
  CHECK(refused(&h, WUDF_ERR_MALFORMED, "the view of row 1"));
  h.a.n_buffers = 2;
  CHECK(refused(&h, WUDF_ERR_ARG, "expected at least 3"));
}

TEST(arrow_column_slices) {
  /* int32 rows 10..50, row 1 NULL; the slice is rows 1..3. */
  const int32_t v[] = {10, 20, 30, 40, 50};
  const uint8_t valid[] = {0x1D};
  hand_col h;
  wudf_column c;
  hand_init(&h, "i", 3, valid, v, NULL);
  h.a.offset = 1;
  h.a.null_count = -1;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.validity != NULL && !wudf_column_valid(&c, 0));
  CHECK(wudf_column_valid(&c, 1) && wudf_column_int32(&c, 1) == 30);
  CHECK(wudf_column_valid(&c, 2) && wudf_column_int32(&c, 2) == 40);
  /* The same slice from offset 2 has no NULL: counted as none. */
  h.a.offset = 2;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(c.validity == NULL && wudf_column_int32(&c, 0) == 30);
  /* bool rows 0..15 = 0b10110100, 0b00001111; row 10 NULL. The slice
   * 5..10 starts mid-byte and crosses into the next one. */
  const uint8_t bits[] = {0xB4, 0x0F};
  const uint8_t bvalid[] = {0xFF, 0xFB};
  hand_init(&h, "b", 6, bvalid, bits, NULL);
  h.a.offset = 5;
  h.a.null_count = -1;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  const bool want[] = {true, false, true, true, true, true};
  for (int i = 0; i < 6; i++) CHECK(wudf_column_bool(&c, i) == want[i]);
  for (int i = 0; i < 5; i++) CHECK(wudf_column_valid(&c, i));
  CHECK(!wudf_column_valid(&c, 5));
  /* int64 slice, unaligned start not needed: offset applies in rows. */
  const int64_t w[] = {1, 2, 3};
  hand_init(&h, "l", 1, NULL, w, NULL);
  h.a.offset = 2;
  CHECK_STATUS(hand_read(&h, &c, NULL), WUDF_OK, NULL);
  CHECK(wudf_column_int64(&c, 0) == 3);
}

/* ---- UTF-8 -------------------------------------------------------------- */

TEST(arrow_utf8_validator) {
  static const struct {
    const char *s;
    size_t len;
    bool valid;
  } cases[] = {
      {"", 0, true},
      {"abc", 3, true},
      {"a\0b", 3, true},
      {"\xc2\x80", 2, true},                  /* U+0080 */
      {"\xdf\xbf", 2, true},                  /* U+07FF */
      {"\xe0\xa0\x80", 3, true},              /* U+0800 */
      {"\xed\x9f\xbf", 3, true},              /* U+D7FF */
      {"\xee\x80\x80", 3, true},              /* U+E000 */
      {"\xef\xbf\xbf", 3, true},              /* U+FFFF */
      {"\xf0\x90\x80\x80", 4, true},          /* U+10000 */
      {"\xf4\x8f\xbf\xbf", 4, true},          /* U+10FFFF */
      {"abcdefgh\xc3\xa9ijklmnop", 18, true}, /* past the 8-byte fast path */
      {"\x80", 1, false},                     /* lone continuation */
      {"\xc0\x80", 2, false},                 /* overlong NUL */
      {"\xc1\xbf", 2, false},                 /* overlong U+007F */
      {"\xe0\x80\x80", 3, false},             /* overlong */
      {"\xe0\x9f\xbf", 3, false},             /* overlong U+07FF */
      {"\xed\xa0\x80", 3, false},             /* surrogate U+D800 */
      {"\xed\xbf\xbf", 3, false},             /* surrogate U+DFFF */
      {"\xf0\x8f\xbf\xbf", 4, false},         /* overlong U+FFFF */
      {"\xf4\x90\x80\x80", 4, false},         /* U+110000 */
      {"\xf5\x80\x80\x80", 4, false},
      {"\xff", 1, false},
      {"\xc2", 1, false},     /* truncated */
      {"\xe2\x82", 2, false}, /* truncated */
      {"\xc2\x41", 2, false}, /* bad continuation */
      {"\xf0\x90\x80\x41", 4, false},
      {"abcdefgh\x80", 9, false},
      {"abcdefghijklmno\xf0\x90\x80", 18, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    CHECK_MSG(wudf_utf8_valid((const uint8_t *)cases[i].s, cases[i].len) ==
                  cases[i].valid,
              "case %zu", i);
}
