/*
 * Parsing CSV fields as numbers and bools, and the value kinds used by type
 * inference. Decimal text is read in one pass into a 19-digit mantissa and a
 * power of ten; when both are exact in binary (mantissa <= 2^53, |power| <=
 * 22; 2^24 and 10 for float) one IEEE multiplication or division gives the
 * correctly rounded result (Clinger's fast path). Everything else goes to
 * strtod/strtof, which round correctly.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "csv/csv_internal.h"

wudf_csv_num wudf_csv_parse_int64(const uint8_t *s, size_t n, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (n > 0 && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == n) return WUDF_CSV_NUM_SYNTAX;
  uint64_t v = 0;
  bool over = false;
  if (n - i <= 18) { /* 18 digits cannot overflow */
    for (; i < n; i++) {
      unsigned d = (unsigned)s[i] - '0';
      if (d > 9) return WUDF_CSV_NUM_SYNTAX;
      v = v * 10 + d;
    }
  } else {
    for (; i < n; i++) {
      unsigned d = (unsigned)s[i] - '0';
      if (d > 9) return WUDF_CSV_NUM_SYNTAX;
      if (v > (UINT64_MAX - d) / 10) over = true;
      v = v * 10 + d;
    }
  }
  uint64_t limit = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
  if (over || v > limit) return WUDF_CSV_NUM_RANGE;
  if (neg)
    *out = v == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)v;
  else
    *out = (int64_t)v;
  return WUDF_CSV_NUM_OK;
}

/* ---- Decimal text ------------------------------------------------------- */

typedef enum special { NUMBER, IS_NAN, IS_INF } special;

/* value = (-1)^neg * m * 10^exp10, exact unless `inexact` (digits past the
 * 19th that are not zero were dropped). */
typedef struct decimal {
  bool neg, inexact;
  special kind;
  uint64_t m;
  int exp10;
} decimal;

static bool equal_nocase(const uint8_t *s, size_t n, const char *word) {
  if (strlen(word) != n) return false;
  for (size_t i = 0; i < n; i++)
    if ((s[i] | 0x20) != (uint8_t)word[i]) return false;
  return true;
}

/* Digits of the mantissa from s[*i]; `frac` when after the point. */
static size_t mantissa_digits(const uint8_t *s, size_t n, size_t i, bool frac,
                              decimal *d, int *ndig) {
  for (; i < n; i++) {
    unsigned c = (unsigned)s[i] - '0';
    if (c > 9) break;
    if (d->m == 0 && c == 0) { /* leading zero */
      if (frac) d->exp10--;
    } else if (*ndig < 19) {
      d->m = d->m * 10 + c;
      (*ndig)++;
      if (frac) d->exp10--;
    } else {
      if (c) d->inexact = true;
      if (!frac) d->exp10++;
    }
  }
  return i;
}

/* [eE][+-]digits from s[i] to the end; the value saturates at +-100000. */
static bool exponent(const uint8_t *s, size_t n, size_t i, decimal *d) {
  if (i == n) return true;
  if ((s[i] | 0x20) != 'e' || ++i == n) return false;
  bool neg = false;
  if (s[i] == '+' || s[i] == '-') {
    neg = s[i] == '-';
    if (++i == n) return false;
  }
  long e = 0;
  for (; i < n; i++) {
    unsigned c = (unsigned)s[i] - '0';
    if (c > 9) return false;
    if (e < 100000) e = e * 10 + c;
  }
  d->exp10 += (int)(neg ? -e : e);
  return true;
}

static bool parse_decimal(const uint8_t *s, size_t n, decimal *d) {
  memset(d, 0, sizeof *d);
  size_t i = 0;
  if (n > 0 && (s[0] == '+' || s[0] == '-')) {
    d->neg = s[0] == '-';
    i = 1;
  }
  if (equal_nocase(s + i, n - i, "nan")) d->kind = IS_NAN;
  if (equal_nocase(s + i, n - i, "inf") ||
      equal_nocase(s + i, n - i, "infinity"))
    d->kind = IS_INF;
  if (d->kind != NUMBER) return true;
  int ndig = 0;
  size_t start = i;
  i = mantissa_digits(s, n, i, false, d, &ndig);
  size_t before = i - start, after = 0;
  if (i < n && s[i] == '.') {
    size_t j = mantissa_digits(s, n, i + 1, true, d, &ndig);
    after = j - (i + 1);
    i = j;
  }
  if (before == 0 && after == 0) return false;
  return exponent(s, n, i, d);
}

/* strtod or strtof on a NUL-terminated copy of text already checked. */
static wudf_csv_num convert_copy(const uint8_t *s, size_t n, bool as_float,
                                 double *out) {
  char small[128], *text = small;
  if (n >= sizeof small) {
    text = wudf_malloc(n + 1);
    if (!text) return WUDF_CSV_NUM_NOMEM;
  }
  memcpy(text, s, n);
  text[n] = '\0';
  char *end;
  *out = as_float ? (double)strtof(text, &end) : strtod(text, &end);
  bool whole = end == text + n;
  if (text != small) wudf_free(text);
  return whole ? WUDF_CSV_NUM_OK : WUDF_CSV_NUM_SYNTAX;
}

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static double special_value(const decimal *d) {
  double v = d->kind == IS_NAN ? (double)NAN : (double)INFINITY;
  return d->neg ? -v : v;
}

wudf_csv_num wudf_csv_parse_double(const uint8_t *s, size_t n, double *out) {
  decimal d;
  if (!parse_decimal(s, n, &d)) return WUDF_CSV_NUM_SYNTAX;
  if (d.kind != NUMBER) {
    *out = special_value(&d);
    return WUDF_CSV_NUM_OK;
  }
  if (!d.inexact && d.m <= ((uint64_t)1 << 53) && d.exp10 >= -22 &&
      d.exp10 <= 22) {
    double v = (double)d.m;
    v = d.exp10 < 0 ? v / pow10_exact[-d.exp10] : v * pow10_exact[d.exp10];
    *out = d.neg ? -v : v;
    return WUDF_CSV_NUM_OK;
  }
  if (d.m == 0) { /* zero digits: any exponent */
    *out = d.neg ? -0.0 : 0.0;
    return WUDF_CSV_NUM_OK;
  }
  return convert_copy(s, n, false, out);
}

wudf_csv_num wudf_csv_parse_float(const uint8_t *s, size_t n, float *out) {
  static const float pow10f[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                   1e6f, 1e7f, 1e8f, 1e9f, 1e10f};
  decimal d;
  if (!parse_decimal(s, n, &d)) return WUDF_CSV_NUM_SYNTAX;
  if (d.kind != NUMBER) {
    *out = (float)special_value(&d);
    return WUDF_CSV_NUM_OK;
  }
  if (!d.inexact && d.m <= ((uint64_t)1 << 24) && d.exp10 >= -10 &&
      d.exp10 <= 10) {
    float v = (float)d.m;
    v = d.exp10 < 0 ? v / pow10f[-d.exp10] : v * pow10f[d.exp10];
    *out = d.neg ? -v : v;
    return WUDF_CSV_NUM_OK;
  }
  if (d.m == 0) {
    *out = d.neg ? -0.0f : 0.0f;
    return WUDF_CSV_NUM_OK;
  }
  double v;
  wudf_csv_num r = convert_copy(s, n, true, &v);
  *out = (float)v; /* exact: v came from strtof */
  return r;
}

bool wudf_csv_parse_bool(const uint8_t *s, size_t n, bool *out) {
  if (equal_nocase(s, n, "true")) {
    *out = true;
    return true;
  }
  if (equal_nocase(s, n, "false")) {
    *out = false;
    return true;
  }
  return false;
}

/* ---- Kinds for inference ------------------------------------------------ */

wudf_csv_kind wudf_csv_classify(const uint8_t *s, size_t n) {
  if (n == 0) return WUDF_CSV_KIND_NONE;
  int64_t i;
  wudf_csv_num r = wudf_csv_parse_int64(s, n, &i);
  if (r == WUDF_CSV_NUM_OK)
    return i >= INT32_MIN && i <= INT32_MAX ? WUDF_CSV_KIND_INT32
                                            : WUDF_CSV_KIND_INT64;
  if (r == WUDF_CSV_NUM_RANGE) return WUDF_CSV_KIND_FLOAT;
  decimal d;
  if (parse_decimal(s, n, &d)) return WUDF_CSV_KIND_FLOAT;
  bool b;
  if (wudf_csv_parse_bool(s, n, &b)) return WUDF_CSV_KIND_BOOL;
  return WUDF_CSV_KIND_TEXT;
}

wudf_csv_kind wudf_csv_kind_merge(wudf_csv_kind a, wudf_csv_kind b) {
  if (a == WUDF_CSV_KIND_NONE || a == b) return b;
  if (b == WUDF_CSV_KIND_NONE) return a;
  if (a >= WUDF_CSV_KIND_BOOL || b >= WUDF_CSV_KIND_BOOL)
    return WUDF_CSV_KIND_TEXT;
  return a > b ? a : b;
}
