/* Sees NULLs: each argument is followed by its is-null flag. */
#include "wudf_guest.h"

WUDF_UDF_DEF(coalesce2, "coalesce2(int32, int32) -> int32 nulls")
int32_t coalesce2(int32_t a, int32_t a_null, int32_t b, int32_t b_null) {
  if (!a_null) return a;
  return b_null ? -1 : b;
}
