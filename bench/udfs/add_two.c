/* The other seed's UDF (spark-wasm-udf): `add_two(id, 2)`, the sum of two
 * integers called with the `id` column and the literal 2. `wudf run` passes
 * columns only, so the literal is written into the function; the work per
 * row is the same: one call, one addition. */
#define WUDF_GUEST_NO_ALLOCATOR /* numeric only */
#include "wudf_guest.h"

WUDF_UDF_DEF(add_two, "add_two(int32) -> int32")
int32_t add_two(int32_t id) {
  return id + 2;
}
