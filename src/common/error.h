/* Filling wudf_error from inside the library. */
#ifndef WUDF_COMMON_ERROR_H
#define WUDF_COMMON_ERROR_H

#include <stdarg.h>

#include "wudf.h"

/* Sets err->status and a printf-style message (if err is not NULL) and
 * returns `status`, so that callers can write `return wudf_fail(err, ...)`. */
wudf_status wudf_fail(wudf_error *err, wudf_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts "<prefix>: " in front of the message already in err (if any). */
void wudf_error_prefix(wudf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the module the error is about in err->module (NULL: none) and
 * rebuilds the message; the detail is left as it is. */
void wudf_error_set_module(wudf_error *err, const char *name);

/* Copies `value` (NULL: "") into a WUDF_ERROR_NAME_SIZE field of
 * wudf_error, truncating. */
void wudf_error_set_name(char *field, const char *value);

#endif
