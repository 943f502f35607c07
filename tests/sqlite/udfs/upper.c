/* utf8 -> utf8 with a new result from the batch arena. */
#include "wudf_guest.h"

WUDF_UDF_DEF(upper_ascii, "upper_ascii(utf8) -> utf8")
wudf_string upper_ascii(const char *s, int32_t len) {
  char *out = (char *)wudf_alloc_bytes((size_t)len);
  if (!out) __builtin_trap();
  for (int32_t i = 0; i < len; i++) {
    char c = s[i];
    out[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  return WUDF_STRING(out, len);
}
