/* Returns bytes that are not UTF-8. */
#include "wudf_guest.h"

static char bytes[2] = {(char)0xC3, (char)0x28};

WUDF_UDF_DEF(bad_utf8, "bad_utf8(int32) -> utf8")
wudf_string bad_utf8(int32_t n) {
  (void)n;
  return WUDF_STRING(bytes, 2);
}
