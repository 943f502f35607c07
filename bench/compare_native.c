/* The native runs of bench/compare_mem.c (see compare_native.h). Compiled
 * twice: -O2 -DNATIVE_SET=native_o2 and -O3 -DNATIVE_SET=native_o3. */
#include <stdlib.h>
#include <string.h>

#include "compare_native.h"

#ifndef NATIVE_SET
#error "define NATIVE_SET (native_o2 or native_o3)"
#endif

/* The UDFs are compiled in this translation unit, where gcc may inline
 * them; wudf_guest.h turns the marking macros into nothing. Their names get
 * the set's suffix, so that both compilations link into one program. */
#define PASTE2(a, b) a##_##b
#define PASTE(a, b) PASTE2(a, b)
#define calculate_adj_bal PASTE(calculate_adj_bal, NATIVE_SET)
#define is_rich PASTE(is_rich, NATIVE_SET)
#define email_domain PASTE(email_domain, NATIVE_SET)
#define add_two PASTE(add_two, NATIVE_SET)

#include "wudf_guest.h"

#include "../examples/udfs/calculate_adj_bal.c"
#include "../examples/udfs/email_domain.c"
#include "../examples/udfs/is_rich.c"
#include "udfs/add_two.c"

static int native_adj_bal(const table *t, int64_t at, int64_t n, out_buf *o) {
  float *v = malloc((size_t)n * sizeof *v + 1);
  if (!v) return -1;
  for (int64_t i = 0; i < n; i++)
    v[i] = calculate_adj_bal(t->balance[at + i], t->rate[at + i]);
  o->values = v;
  return 0;
}

static int native_is_rich(const table *t, int64_t at, int64_t n, out_buf *o) {
  uint8_t *bits = calloc((size_t)(n + 7) / 8 + 1, 1);
  if (!bits) return -1;
  /* Branch-free: the data's balances are random, a branch would be
   * mispredicted on half the rows. */
  for (int64_t i = 0; i < n; i++)
    bits[i >> 3] |= (uint8_t)((unsigned)is_rich(t->balance[at + i]) << (i & 7));
  o->values = bits;
  return 0;
}

/* Into raw Arrow buffers: a domain is never longer than its address, so
 * the input's size bounds the output's. */
static int native_email_domain(const table *t, int64_t at, int64_t n,
                               out_buf *o) {
  const int32_t *off = t->email_off + at;
  int32_t *oo = malloc(((size_t)n + 1) * sizeof *oo);
  char *od = malloc((size_t)(off[n] - off[0]) + 1);
  if (!oo || !od) {
    free(oo);
    free(od);
    return -1;
  }
  int32_t w = 0;
  for (int64_t i = 0; i < n; i++) {
    wudf_string s = email_domain(t->email + off[i], off[i + 1] - off[i]);
    oo[i] = w;
    memcpy(od + w, wudf_string_ptr(s), (size_t)wudf_string_len(s));
    w += wudf_string_len(s);
  }
  oo[n] = w;
  o->values = oo;
  o->data = od;
  o->bytes = w;
  return 0;
}

static int native_add_two(const table *t, int64_t at, int64_t n, out_buf *o) {
  int32_t *v = malloc((size_t)n * sizeof *v + 1);
  if (!v) return -1;
  for (int64_t i = 0; i < n; i++) v[i] = add_two(t->id[at + i]);
  o->values = v;
  return 0;
}

const native_set NATIVE_SET = {native_adj_bal, native_is_rich,
                               native_email_domain, native_add_two};
