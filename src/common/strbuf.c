#include "common/strbuf.h"
#include "common/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wudf_strbuf_init(wudf_strbuf *sb) {
  memset(sb, 0, sizeof *sb);
}

void wudf_strbuf_reset(wudf_strbuf *sb) {
  wudf_free(sb->data);
  wudf_strbuf_init(sb);
}

static bool reserve(wudf_strbuf *sb, size_t extra) {
  if (sb->oom) return false;
  if (extra > SIZE_MAX - sb->len - 1) goto fail;
  size_t need = sb->len + extra + 1;
  if (need <= sb->cap) return true;
  size_t cap = sb->cap ? sb->cap : 256;
  while (cap < need) {
    if (cap > SIZE_MAX / 2) goto fail;
    cap *= 2;
  }
  char *p = wudf_realloc(sb->data, cap);
  if (!p) goto fail;
  sb->data = p;
  sb->cap = cap;
  return true;
fail:
  sb->oom = true;
  return false;
}

void wudf_strbuf_append(wudf_strbuf *sb, const char *s, size_t n) {
  if (!reserve(sb, n)) return;
  memcpy(sb->data + sb->len, s, n);
  sb->len += n;
  sb->data[sb->len] = '\0';
}

void wudf_strbuf_puts(wudf_strbuf *sb, const char *s) {
  wudf_strbuf_append(sb, s, strlen(s));
}

void wudf_strbuf_printf(wudf_strbuf *sb, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(sb, (size_t)n)) {
    sb->oom = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb->len += (size_t)n;
}

char *wudf_strbuf_take(wudf_strbuf *sb) {
  char *s = sb->oom ? NULL : sb->data;
  if (!s && !sb->oom) s = wudf_calloc(1, 1);
  if (sb->oom) wudf_free(sb->data);
  wudf_strbuf_init(sb);
  return s;
}
