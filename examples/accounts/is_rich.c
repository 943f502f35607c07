/* FILTER: keeps the accounts whose balance exceeds 50,000. */
#include "wudf_guest.h"

WUDF_UDF_DEF(is_rich, "is_rich(int32) -> bool")
bool is_rich(int32_t balance) {
  return balance > 50000;
}
