#include "common/error.h"

#include <stdio.h>
#include <string.h>

wudf_status wudf_fail(wudf_error *err, wudf_status status, const char *fmt,
                      ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->status = status;
    err->exit_code = 0;
    err->row = err->first_row = err->last_row = -1;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return status;
}

void wudf_error_prefix(wudf_error *err, const char *fmt, ...) {
  if (!err) return;
  char prefix[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char old[WUDF_ERROR_MESSAGE_SIZE];
  memcpy(old, err->message, sizeof old);
  old[sizeof old - 1] = '\0';
  /* Prefix, then as much of the old message as fits. */
  size_t n = strlen(prefix), cap = sizeof err->message;
  if (n > cap - 3) n = cap - 3;
  memcpy(err->message, prefix, n);
  memcpy(err->message + n, ": ", 2);
  size_t rest = cap - n - 3, m = strlen(old);
  if (m > rest) m = rest;
  memcpy(err->message + n + 2, old, m);
  err->message[n + 2 + m] = '\0';
}

void wudf_error_init(wudf_error *err) {
  if (!err) return;
  memset(err, 0, sizeof *err);
  err->row = err->first_row = err->last_row = -1;
}
