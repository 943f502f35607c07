/* FILTER: keeps the rows whose balance exceeds 50,000. */
#define WUDF_GUEST_NO_ALLOCATOR /* numeric only */
#include "wudf_guest.h"

WUDF_UDF_DEF(is_rich, "is_rich(int32) -> bool")
bool is_rich(int balance) {
  return balance > 50000;
}
