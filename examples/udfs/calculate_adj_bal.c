/* MAP, numeric: a balance adjusted by a rate (the seed's function). Plain C
 * functions with numeric types work as written; the header only records
 * the signature. Numeric-only modules need no batch arena: leaving it out
 * keeps malloc out of the module (smaller, faster to compile). */
#define WUDF_GUEST_NO_ALLOCATOR
#include "wudf_guest.h"

WUDF_UDF_DEF(calculate_adj_bal, "calculate_adj_bal(int32, float32) -> float32")
float calculate_adj_bal(int balance, float rate) {
  return ((float)balance * rate) + (float)(balance / 1000);
}
