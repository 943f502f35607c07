/* Growable string. Out of memory is sticky: after a failed append the buffer
 * keeps `oom` set and ignores further appends, so callers check once at the
 * end. */
#ifndef WUDF_COMMON_STRBUF_H
#define WUDF_COMMON_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct wudf_strbuf {
  char *data; /* NUL-terminated when not NULL */
  size_t len, cap;
  bool oom;
} wudf_strbuf;

void wudf_strbuf_init(wudf_strbuf *sb);
void wudf_strbuf_reset(wudf_strbuf *sb);
void wudf_strbuf_append(wudf_strbuf *sb, const char *s, size_t n);
void wudf_strbuf_puts(wudf_strbuf *sb, const char *s);
void wudf_strbuf_printf(wudf_strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Returns the owned string (never NULL unless oom) and resets the buffer. */
char *wudf_strbuf_take(wudf_strbuf *sb);

#endif
