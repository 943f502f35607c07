/* MAP, utf8 -> utf8 with a new result: ASCII letters upper-cased into a
 * buffer from the batch arena (freed by the host's wudf_reset() before the
 * next batch). Other bytes, including UTF-8 sequences, are copied as they
 * are, so the result stays valid UTF-8. */
#include "wudf_guest.h"

WUDF_UDF_DEF(upper, "upper(utf8) -> utf8")
wudf_string upper(const char *s, int32_t len) {
  char *out = (char *)wudf_alloc_bytes((size_t)len);
  if (!out) __builtin_trap(); /* memory cap reached: the row fails */
  for (int32_t i = 0; i < len; i++) {
    char c = s[i];
    out[i] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  return WUDF_STRING(out, len);
}
