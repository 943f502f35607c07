/* MAP, string -> string: the domain of an account's e-mail address (what
 * follows the last '@'; "" when there is none). The result is a slice of
 * the input: no copy. */
#include "wudf_guest.h"

WUDF_UDF_DEF(email_domain, "email_domain(utf8) -> utf8")
wudf_string email_domain(const char *email, int32_t len) {
  wudf_str s = wudf_str_make(email, len);
  int32_t at = wudf_str_rfind(s, '@');
  if (at < 0) return wudf_string_empty();
  return wudf_str_result(wudf_str_from(s, at + 1));
}
