/* The utf8 result of a MAP: buffers the generated batch loop fills in place
 * (see translate/shim_abi.h), checked for UTF-8 once per chunk rather than
 * once per row, and handed over as an Arrow array. */
#include <stdlib.h>

#include "api/execute.h"
#include "common/alloc.h"
#include "common/budget.h"
#include "common/error.h"

#define MIN_CAP 4096

wudf_status wudf_string_results_init(wudf_string_results *r, int64_t n,
                                     uint64_t expect, wudf_budget *budget,
                                     wudf_error *err) {
  memset(r, 0, sizeof *r);
  r->n = n;
  r->max = INT32_MAX;
  r->cap = expect < MIN_CAP ? MIN_CAP : expect > r->max ? r->max : expect;
  if (n < 0 || (uint64_t)n >= SIZE_MAX / sizeof *r->offsets)
    return wudf_fail(err, WUDF_ERR_NOMEM, "%lld rows are too many",
                     (long long)n);
  uint64_t bytes = ((uint64_t)n + 1) * sizeof *r->offsets + r->cap;
  wudf_status st = wudf_budget_charge_or_fail(
      budget, bytes, "storing the batch's string results", err);
  if (st != WUDF_OK) {
    r->cap = 0;
    return st;
  }
  r->budget = budget;
  r->charged = bytes;
  r->offsets = wudf_malloc(((size_t)n + 1) * sizeof *r->offsets);
  r->data = wudf_malloc((size_t)r->cap);
  if (!r->offsets || !r->data) {
    wudf_string_results_reset(r);
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "out of memory for the string results of %lld rows",
                     (long long)n);
  }
  r->offsets[0] = 0;
  return WUDF_OK;
}

wudf_status wudf_string_results_reserve(wudf_string_results *r, uint64_t need) {
  if (need <= r->cap) return WUDF_OK;
  if (need > r->max) return WUDF_ERR_LIMIT;
  uint64_t cap = r->cap * 2 > need ? r->cap * 2 : need;
  if (cap > r->max) cap = r->max;
  /* Only what the growth needs when doubling would pass the budget. */
  if (!wudf_budget_charge(r->budget, cap - r->cap)) {
    cap = need;
    if (!wudf_budget_charge(r->budget, cap - r->cap))
      return WUDF_ERR_HOST_MEMORY;
  }
  uint8_t *p = wudf_realloc(r->data, (size_t)cap);
  if (!p) {
    wudf_budget_credit(r->budget, cap - r->cap);
    return WUDF_ERR_NOMEM;
  }
  r->charged += cap - r->cap;
  r->data = p;
  r->cap = cap;
  return WUDF_OK;
}

static bool continuation(uint8_t c) {
  return (c & 0xc0) == 0x80;
}

/* Whether every row of [from, to) starts on a character: then, if all their
 * bytes together are valid UTF-8, so is each row's. */
static bool rows_start_on_characters(const wudf_string_results *r, int64_t from,
                                     int64_t to) {
  for (int64_t i = from; i < to; i++)
    if (r->offsets[i + 1] > r->offsets[i] &&
        continuation(r->data[r->offsets[i]]))
      return false;
  return true;
}

/* Whether all n bytes are ASCII: then every row is valid UTF-8. */
static bool all_ascii(const uint8_t *p, size_t n) {
  uint64_t acc = 0, w[4];
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    memcpy(w, p + i, 32);
    acc |= w[0] | w[1] | w[2] | w[3];
  }
  for (; i < n; i++) acc |= p[i];
  return !(acc & UINT64_C(0x8080808080808080));
}

int64_t wudf_string_results_first_invalid(const wudf_string_results *r,
                                          int64_t from, int64_t to) {
  if (from >= to) return -1;
  const uint8_t *d = r->data;
  size_t start = (size_t)r->offsets[from], end = (size_t)r->offsets[to];
  if (all_ascii(d + start, end - start)) return -1;
  if (wudf_utf8_valid(d + start, end - start) &&
      rows_start_on_characters(r, from, to))
    return -1;
  for (int64_t i = from; i < to; i++)
    if (!wudf_utf8_valid(d + r->offsets[i],
                         (size_t)(r->offsets[i + 1] - r->offsets[i])))
      return i;
  return -1; /* not reached: some row is invalid */
}

wudf_status wudf_string_results_finish(wudf_string_results *r,
                                       uint8_t *validity,
                                       uint64_t validity_charge,
                                       struct ArrowArray *out,
                                       wudf_error *err) {
  wudf_arrow_owner *o = wudf_arrow_owner_new();
  if (!o) {
    wudf_free(validity);
    wudf_budget_credit(r->budget, validity_charge);
    wudf_string_results_reset(r);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  int64_t nulls = validity ? r->n - wudf_bits_count(validity, 0, r->n) : 0;
  if (nulls == 0) {
    wudf_free(validity);
    validity = NULL;
    wudf_budget_credit(r->budget, validity_charge);
    validity_charge = 0;
  }
  wudf_arrow_adopt(o, out, r->n, nulls, 3, validity, r->offsets, r->data);
  uint64_t offsets_bytes = ((uint64_t)r->n + 1) * sizeof *r->offsets;
  wudf_arrow_hold_charge(out, 0, r->budget, validity_charge);
  wudf_arrow_hold_charge(out, 1, r->budget, offsets_bytes);
  wudf_arrow_hold_charge(out, 2, r->budget, r->charged - offsets_bytes);
  r->offsets = NULL;
  r->data = NULL;
  r->charged = 0;
  return WUDF_OK;
}

void wudf_string_results_reset(wudf_string_results *r) {
  wudf_free(r->offsets);
  wudf_free(r->data);
  wudf_budget_credit(r->budget, r->charged);
  r->charged = 0;
  r->offsets = NULL;
  r->data = NULL;
  r->cap = 0;
}
