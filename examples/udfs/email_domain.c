/* MAP, utf8 -> utf8: the domain of an e-mail address, i.e. what follows the
 * last '@' ("" if there is none). The result points into the input string:
 * no copy, no allocation. */
#include "wudf_guest.h"

WUDF_UDF_DEF(email_domain, "email_domain(utf8) -> utf8")
wudf_string email_domain(const char *email, int32_t len) {
  wudf_str s = wudf_str_make(email, len);
  int32_t at = wudf_str_rfind(s, '@');
  if (at < 0) return wudf_string_empty();
  return wudf_str_result(wudf_str_from(s, at + 1));
}
