/* Charging host memory to a wudf_budget (include/wudf.h). */
#ifndef WUDF_COMMON_BUDGET_H
#define WUDF_COMMON_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "wudf.h"

/* Adds `bytes` to the budget's use; false (and nothing added) when that
 * would pass its limit. A NULL budget accepts everything. */
bool wudf_budget_charge(wudf_budget *budget, uint64_t bytes);
/* Takes back bytes charged earlier. Accepts NULL. */
void wudf_budget_credit(wudf_budget *budget, uint64_t bytes);
/* wudf_budget_charge(), failing with WUDF_ERR_HOST_MEMORY and a message
 * naming `what` and the figures. */
wudf_status wudf_budget_charge_or_fail(wudf_budget *budget, uint64_t bytes,
                                       const char *what, wudf_error *err);

#endif
