/* Host-memory budgets: an atomic counter with a ceiling. */
#include "common/budget.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"

struct wudf_budget {
  uint64_t limit;
  atomic_uint_least64_t used, peak;
};

wudf_status wudf_budget_new(uint64_t limit_bytes, wudf_budget **out,
                            wudf_error *err) {
  if (!out) return wudf_fail(err, WUDF_ERR_ARG, "budget: out is NULL");
  *out = NULL;
  wudf_budget *b = wudf_calloc(1, sizeof *b);
  if (!b) return wudf_fail(err, WUDF_ERR_NOMEM, "allocating a budget");
  b->limit = limit_bytes ? limit_bytes : UINT64_MAX;
  atomic_init(&b->used, 0);
  atomic_init(&b->peak, 0);
  *out = b;
  return WUDF_OK;
}

void wudf_budget_free(wudf_budget *budget) {
  wudf_free(budget);
}

uint64_t wudf_budget_limit(const wudf_budget *b) {
  return b ? b->limit : 0;
}

uint64_t wudf_budget_used(const wudf_budget *b) {
  return b ? atomic_load(&((wudf_budget *)b)->used) : 0;
}

uint64_t wudf_budget_peak(const wudf_budget *b) {
  return b ? atomic_load(&((wudf_budget *)b)->peak) : 0;
}

static void raise_peak(wudf_budget *b, uint64_t now) {
  uint64_t peak = atomic_load(&b->peak);
  while (now > peak && !atomic_compare_exchange_weak(&b->peak, &peak, now)) {
  }
}

bool wudf_budget_charge(wudf_budget *b, uint64_t bytes) {
  if (!b || bytes == 0) return true;
  uint64_t used = atomic_load(&b->used);
  for (;;) {
    if (bytes > b->limit || used > b->limit - bytes) return false;
    if (atomic_compare_exchange_weak(&b->used, &used, used + bytes)) break;
  }
  raise_peak(b, used + bytes);
  return true;
}

void wudf_budget_credit(wudf_budget *b, uint64_t bytes) {
  if (b && bytes) atomic_fetch_sub(&b->used, bytes);
}

wudf_status wudf_budget_charge_or_fail(wudf_budget *b, uint64_t bytes,
                                       const char *what, wudf_error *err) {
  if (wudf_budget_charge(b, bytes)) return WUDF_OK;
  return wudf_fail(err, WUDF_ERR_HOST_MEMORY,
                   "%s needs %llu bytes of host memory; %llu of the budget "
                   "of %llu are in use",
                   what, (unsigned long long)bytes,
                   (unsigned long long)wudf_budget_used(b),
                   (unsigned long long)b->limit);
}
