/*
 * Number text for the writer: integers, and the shortest decimal text that
 * reads back to the same float or double.
 *
 * Method. A value v = m * 2^q is read back from a decimal X exactly when X
 * lies inside v's rounding interval (half the gap to each neighbour; ends
 * included when m is even, as round-half-even then picks v). For a digit
 * count n the candidates are the two integers around v * 10^s (s chosen so
 * that they have n digits); both the candidates and the interval ends are
 * computed exactly with 128-bit integers, which holds whenever |s| <= 27
 * (5^27 fits in 64 bits) -- decimal exponents of about -11..41 for doubles.
 *   Doubles: at 15 digits at most one decimal lies inside the interval (they
 *   are more than 4 gaps apart), so if the nearest 15-digit decimal works,
 *   it with its trailing zeros dropped is the shortest text. Otherwise 16,
 *   then 17 digits, which always work. Floats: the same with 6, then 7..9.
 * Before that, a cheaper test catches short decimals such as 12345.67 (the
 * usual values in data): see shortest_fast().
 * Outside that range (subnormals, huge exponents) printf("%.*e") with 1, 2,
 * ... digits is checked with strtod/strtof; glibc prints exactly. (There a
 * 16-digit text may be missed when only a non-nearest one reads back, at a
 * power of two; 17 digits then come out. Correct, one digit longer.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv/csv_internal.h"

__extension__ typedef unsigned __int128 u128;

/* ---- Integers ----------------------------------------------------------- */

static const uint64_t pow10_u64[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

static const char digit_pairs[201] =
    "0001020304050607080910111213141516171819202122232425262728293031323334"
    "3536373839404142434445464748495051525354555657585960616263646566676869"
    "707172737475767778798081828384858687888990919293949596979899";

static void write2(char *p, uint32_t v) {
  p[0] = digit_pairs[2 * v];
  p[1] = digit_pairs[2 * v + 1];
}

/* Exactly 8 digits (leading zeros kept). */
static void write8(char *p, uint32_t v) {
  uint32_t hi = v / 10000, lo = v % 10000;
  write2(p, hi / 100);
  write2(p + 2, hi % 100);
  write2(p + 4, lo / 100);
  write2(p + 6, lo % 100);
}

/* v < 10^8 without leading zeros. */
static int write_small(char *p, uint32_t v) {
  int n = v < 10         ? 1
          : v < 100      ? 2
          : v < 1000     ? 3
          : v < 10000    ? 4
          : v < 100000   ? 5
          : v < 1000000  ? 6
          : v < 10000000 ? 7
                         : 8;
  int i = n;
  for (; v >= 100; v /= 100, i -= 2) write2(p + i - 2, v % 100);
  if (v >= 10)
    write2(p + i - 2, v);
  else
    p[i - 1] = (char)('0' + v);
  return n;
}

/* In 8-digit pieces, so that the work is in 32-bit arithmetic. */
int wudf_csv_u64_digits(uint64_t v, char *buf) {
  if (v < 100000000) return write_small(buf, (uint32_t)v);
  uint64_t hi = v / 100000000;
  uint32_t lo = (uint32_t)(v % 100000000);
  int n;
  if (hi < 100000000) {
    n = write_small(buf, (uint32_t)hi);
  } else {
    n = write_small(buf, (uint32_t)(hi / 100000000));
    write8(buf + n, (uint32_t)(hi % 100000000));
    n += 8;
  }
  write8(buf + n, lo);
  return n + 8;
}

int wudf_csv_format_int64(int64_t v, char *buf) {
  if (v >= 0) return wudf_csv_u64_digits((uint64_t)v, buf);
  buf[0] = '-';
  return 1 + wudf_csv_u64_digits(0 - (uint64_t)v, buf + 1);
}

/* ---- Exact scaling ------------------------------------------------------ */

static const uint64_t pow5[28] = {1ull,
                                  5ull,
                                  25ull,
                                  125ull,
                                  625ull,
                                  3125ull,
                                  15625ull,
                                  78125ull,
                                  390625ull,
                                  1953125ull,
                                  9765625ull,
                                  48828125ull,
                                  244140625ull,
                                  1220703125ull,
                                  6103515625ull,
                                  30517578125ull,
                                  152587890625ull,
                                  762939453125ull,
                                  3814697265625ull,
                                  19073486328125ull,
                                  95367431640625ull,
                                  476837158203125ull,
                                  2384185791015625ull,
                                  11920928955078125ull,
                                  59604644775390625ull,
                                  298023223876953125ull,
                                  1490116119384765625ull,
                                  7450580596923828125ull};

/* x << sh without losing bits. */
static bool shl(u128 x, int sh, u128 *out) {
  if (sh >= 128) {
    *out = 0;
    return x == 0;
  }
  if (sh > 0 && (x >> (128 - sh)) != 0) return false;
  *out = x << sh;
  return true;
}

/* floor and remainder of a fraction num / den. */
typedef struct quot {
  u128 q, r, den;
} quot;

static void divide(u128 num, u128 den, quot *out) {
  out->den = den;
  if ((den & (den - 1)) == 0) { /* a power of two: shifts */
    uint64_t lo = (uint64_t)den;
    int sh =
        lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(den >> 64));
    out->q = num >> sh;
    out->r = num & (den - 1);
  } else {
    out->q = num / den;
    out->r = num % den;
  }
}

/* m * 2^q * 10^s as a quotient; false if it does not fit in 128 bits. */
static bool scaled(u128 m, int q, int s, quot *out) {
  u128 num = m, den = 1;
  int t = q + s;
  if (s < -27 || s > 27) return false;
  if (s >= 0) {
    num = m * pow5[s]; /* m < 2^56, 5^27 < 2^63 */
  } else {
    den = pow5[-s];
  }
  if (t >= 0) {
    if (!shl(num, t, &num)) return false;
  } else if (!shl(den, -t, &den)) {
    return false;
  }
  divide(num, den, out);
  return true;
}

/* ---- Shortest digits ---------------------------------------------------- */

typedef struct binary {
  uint64_t m; /* > 0 */
  int q;
  bool lower_closer; /* the gap below v is half the gap above */
} binary;

/* v ≈ D * 10^-s. */
typedef struct decimal {
  uint64_t d;
  int s;
} decimal;

/* v * 10^s and the ends of v's rounding interval times 10^s, for the
 * largest digit count: floors (they fit in 64 bits) and what is left. */
typedef struct scaled_v {
  uint64_t x, lo, hi;
  int x_half; /* sign of (fraction of v * 10^s) - 1/2 */
  bool x_exact, lo_exact, hi_exact;
  int s;
} scaled_v;

/* floor(log10(2^e2)) for |e2| < 2600. */
static int floor_log10_pow2(int e2) {
  return (int)(((int64_t)e2 * 78913) >> 18);
}

static int cmp_u128(u128 a, u128 b) {
  return a < b ? -1 : a > b;
}

/* The usual case, s >= 0 and v * 10^s = m * 5^s / 2^sh: shifts only. */
static bool prepare_shift(const binary *v, int s, scaled_v *p) {
  int sh = -(v->q + s);
  if (s < 0 || s > 27 || sh <= 0 || sh + 2 >= 128) return false;
  u128 p5 = pow5[s], four = (u128)v->m * 4;
  u128 x = v->m * p5, lo = (four - (v->lower_closer ? 1 : 2)) * p5,
       hi = (four + 2) * p5;
  u128 half = (u128)1 << (sh - 1), mask = ((u128)1 << sh) - 1;
  u128 mask2 = ((u128)1 << (sh + 2)) - 1;
  p->x = (uint64_t)(x >> sh);
  p->x_half = cmp_u128(x & mask, half);
  p->x_exact = (x & mask) == 0;
  p->lo = (uint64_t)(lo >> (sh + 2));
  p->lo_exact = (lo & mask2) == 0;
  p->hi = (uint64_t)(hi >> (sh + 2));
  p->hi_exact = (hi & mask2) == 0;
  p->s = s;
  return true;
}

static bool prepare_general(const binary *v, int s, scaled_v *p) {
  quot x, lo, hi;
  u128 four = (u128)v->m * 4;
  if (!scaled(v->m, v->q, s, &x) ||
      !scaled(four - (v->lower_closer ? 1 : 2), v->q - 2, s, &lo) ||
      !scaled(four + 2, v->q - 2, s, &hi))
    return false;
  p->x = (uint64_t)x.q;
  p->lo = (uint64_t)lo.q;
  p->hi = (uint64_t)hi.q;
  p->x_half = cmp_u128(x.r, x.den - x.r);
  p->x_exact = x.r == 0;
  p->lo_exact = lo.r == 0;
  p->hi_exact = hi.r == 0;
  p->s = s;
  return true;
}

/* Fills *p for n digits; false beyond 128-bit arithmetic. */
static bool prepare(const binary *v, int n, scaled_v *p) {
  int e2 = 63 - __builtin_clzll(v->m) + v->q;
  int s = n - 1 - floor_log10_pow2(e2); /* log10 exact or one too low */
  for (int tries = 0; tries < 2; tries++, s--) {
    if (!prepare_shift(v, s, p) && !prepare_general(v, s, p)) return false;
    if (p->x < pow10_u64[n]) return true;
  }
  return false;
}

/* One digit count: floors and exactness at scale 10^-k of *p's. */
typedef struct level {
  uint64_t x, xr, pw, lo, hi;
  bool lo_exact, hi_exact;
} level;

/* The nearest decimal of this level that reads back to v, if any. */
static bool pick(const scaled_v *p, const level *l, bool inclusive,
                 decimal *out, int k) {
  int half = p->x_half;
  if (k > 0) {
    uint64_t h = l->pw / 2;
    half = l->xr > h ? 1 : l->xr < h ? -1 : p->x_exact ? 0 : 1;
  }
  bool up = half > 0 || (half == 0 && (l->x & 1));
  uint64_t c[2] = {up ? l->x + 1 : l->x, up ? l->x : l->x + 1};
  for (int i = 0; i < 2; i++) {
    bool above = c[i] > l->lo || (c[i] == l->lo && inclusive && l->lo_exact);
    bool below = c[i] < l->hi || (c[i] == l->hi && (inclusive || !l->hi_exact));
    if (above && below) {
      out->d = c[i];
      out->s = p->s - k;
      return true;
    }
  }
  return false;
}

/* False when the exact arithmetic cannot decide (then use printf). The
 * levels for fewer digits come from dividing the floors by 10: the floor
 * of a floor divided is the floor of the quotient. */
static bool shortest_exact(const binary *v, int nfirst, int nlast,
                           decimal *out) {
  scaled_v p;
  if (!prepare(v, nlast, &p)) return false;
  level lv[4];
  int kmax = nlast - nfirst; /* at most 3 */
  level l = {p.x, 0, 1, p.lo, p.hi, p.lo_exact, p.hi_exact};
  for (int k = 0; k <= kmax; k++) {
    lv[k] = l;
    uint64_t x10 = l.x / 10, lo10 = l.lo / 10, hi10 = l.hi / 10;
    l.xr += (l.x - x10 * 10) * l.pw;
    l.pw *= 10;
    l.x = x10;
    l.lo_exact = l.lo_exact && l.lo == lo10 * 10;
    l.hi_exact = l.hi_exact && l.hi == hi10 * 10;
    l.lo = lo10;
    l.hi = hi10;
  }
  bool inclusive = (v->m & 1) == 0;
  for (int k = kmax; k >= 0; k--)
    if (pick(&p, &lv[k], inclusive, out, k)) return true;
  return false;
}

/* ---- The short-decimal fast path ---------------------------------------- */

/* Whether the decimal whose correctly rounded double is q (known to be
 * within a few ulps of float a) rounds to a as a float. Rounding q to float
 * equals rounding the decimal itself unless q is exactly halfway between
 * two floats; that case is left to the exact path. */
static bool float_reads_back(double q, double a) {
  float fa = (float)a;
  if ((float)q != fa) return false;
  uint32_t bits;
  memcpy(&bits, &fa, 4);
  uint32_t up = bits + 1, down = bits - 1;
  float fu, fd;
  memcpy(&fu, &up, 4);
  memcpy(&fd, &down, 4);
  return q != (a + (double)fu) / 2 && q != (a + (double)fd) / 2;
}

static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Values in data are mostly short decimals (12345.67). With F fractional
 * digits, where 10^-F is at least 8 ulps of v (precision p bits, v in
 * [2^e2, 2^(e2+1))), at most one such decimal reads back to v, and it is
 * the nearest one, D / 10^F with D = round(v * 10^F): v * 10^F < 2^(p-2),
 * so the rounding error of the product cannot move D. Whether it reads
 * back is decided exactly by one IEEE division (both operands exact). With
 * its trailing zeros dropped, it is then the shortest text. */
static bool shortest_fast(double a, int e2, int p, decimal *out) {
  int f = floor_log10_pow2(p - 3 - e2);
  if (f < 0 || f > 22) return false;
  double y = a * pow10_exact[f];
  uint64_t d = (uint64_t)(y + 0.5);
  double back = (double)d / pow10_exact[f];
  if (p == 53 ? back != a : !float_reads_back(back, a)) return false;
  out->d = d;
  out->s = f;
  return true;
}

/* printf("%.*e") with growing precision until strtod/strtof reads it back.
 * Slow (up to 17 round trips), for the values shortest_exact() cannot do. */
static bool shortest_printf(double v, bool is_float, int nfirst, int nlast,
                            decimal *out) {
  for (int n = nfirst; n <= nlast; n++) {
    char text[64];
    snprintf(text, sizeof text, "%.*e", n - 1, v);
    bool same =
        is_float ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v;
    if (!same) continue;
    uint64_t d = 0;
    const char *p = text;
    for (; *p && *p != 'e'; p++)
      if (*p >= '0' && *p <= '9') d = d * 10 + (uint64_t)(*p - '0');
    if (*p != 'e') return false;
    out->d = d;
    out->s = n - 1 - atoi(p + 1);
    return true;
  }
  return false;
}

/* ---- Text --------------------------------------------------------------- */

static int write_exponent(char *p, int e) {
  int n = 0;
  p[n++] = 'e';
  p[n++] = e < 0 ? '-' : '+';
  if (e < 0) e = -e;
  if (e >= 100) p[n++] = (char)('0' + e / 100);
  p[n++] = (char)('0' + e / 10 % 10);
  p[n++] = (char)('0' + e % 10);
  return n;
}

/* Drops trailing zeros, in big steps first (constant divisors). */
static decimal strip_zeros(decimal dec) {
  while (dec.d != 0 && dec.d % 100000000 == 0) {
    dec.d /= 100000000;
    dec.s -= 8;
  }
  if (dec.d != 0 && dec.d % 10000 == 0) {
    dec.d /= 10000;
    dec.s -= 4;
  }
  if (dec.d != 0 && dec.d % 100 == 0) {
    dec.d /= 100;
    dec.s -= 2;
  }
  if (dec.d != 0 && dec.d % 10 == 0) {
    dec.d /= 10;
    dec.s -= 1;
  }
  return dec;
}

/* Writes (-1)^neg * dec into p (64 bytes); returns the length. Copies are
 * of fixed sizes (the buffers have room), which the compiler inlines. */
static int write_decimal(char *p, bool neg, decimal dec) {
  dec = strip_zeros(dec);
  char dig[40] = {0};
  int k = wudf_csv_u64_digits(dec.d, dig), n = 0;
  int e10 = k - 1 - dec.s;
  if (neg) p[n++] = '-';
  if (e10 < -4 || e10 >= 16) {
    p[n++] = dig[0];
    if (k > 1) {
      p[n++] = '.';
      memcpy(p + n, dig + 1, 20);
      n += k - 1;
    }
    return n + write_exponent(p + n, e10);
  }
  if (e10 < 0) {
    memcpy(p + n, "0.0000", 6);
    n += 1 - e10;
    memcpy(p + n, dig, 20);
    return n + k;
  }
  int whole = e10 + 1;
  memcpy(p + n, dig, 20);
  if (k <= whole) {
    memset(p + n + k, '0', 16);
    return n + whole;
  }
  p[n + whole] = '.';
  memcpy(p + n + whole + 1, dig + whole, 20);
  return n + k + 1;
}

/* Copies text (64 bytes readable) of length n into buf like snprintf. */
static int emit(const char *text, int n, char *buf, size_t size) {
  if (size >= 32) {
    memcpy(buf, text, 32);
    buf[n] = '\0';
  } else if (size > 0) {
    size_t m = (size_t)n < size - 1 ? (size_t)n : size - 1;
    memcpy(buf, text, m);
    buf[m] = '\0';
  }
  return n;
}

static int special(double v, char *buf, size_t size) {
  char text[64] = {0};
  const char *s = isnan(v)   ? "nan"
                  : isinf(v) ? (v < 0 ? "-inf" : "inf")
                             : (signbit(v) ? "-0" : "0");
  int n = (int)strlen(s);
  memcpy(text, s, (size_t)n);
  return emit(text, n, buf, size);
}

int wudf_format_double(double v, char *buf, size_t size) {
  if (!isfinite(v) || v == 0) return special(v, buf, size);
  uint64_t bits;
  memcpy(&bits, &v, 8);
  uint64_t frac = bits & ((1ull << 52) - 1);
  int exp = (int)((bits >> 52) & 0x7ff);
  binary b = {exp ? frac | (1ull << 52) : frac, exp ? exp - 1075 : -1074,
              frac == 0 && exp > 1};
  decimal dec = {0, 0};
  if (exp && shortest_fast(fabs(v), exp - 1023, 53, &dec)) {
    char text[64];
    return emit(text, write_decimal(text, bits >> 63, dec), buf, size);
  }
  if (!shortest_exact(&b, 15, 17, &dec) &&
      !shortest_printf(fabs(v), false, 1, 17, &dec))
    return special(NAN, buf, size); /* unreachable: 17 digits always work */
  char text[64];
  return emit(text, write_decimal(text, bits >> 63, dec), buf, size);
}

int wudf_format_float(float v, char *buf, size_t size) {
  if (!isfinite(v) || v == 0) return special((double)v, buf, size);
  uint32_t bits;
  memcpy(&bits, &v, 4);
  uint32_t frac = bits & ((1u << 23) - 1);
  int exp = (int)((bits >> 23) & 0xff);
  binary b = {exp ? frac | (1u << 23) : frac, exp ? exp - 150 : -149,
              frac == 0 && exp > 1};
  decimal dec = {0, 0};
  if (exp && shortest_fast(fabs((double)v), exp - 127, 24, &dec)) {
    char text[64];
    return emit(text, write_decimal(text, bits >> 31, dec), buf, size);
  }
  if (!shortest_exact(&b, 6, 9, &dec) &&
      !shortest_printf(fabs((double)v), true, 1, 9, &dec))
    return special(NAN, buf, size); /* unreachable: 9 digits always work */
  char text[64];
  return emit(text, write_decimal(text, bits >> 31, dec), buf, size);
}
