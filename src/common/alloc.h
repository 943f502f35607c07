/* Every allocation libwudf makes goes through these, so that a host can
 * supply its allocator (wudf_runtime_config.realloc). Memory from them is
 * released with wudf_free(), never free(). */
#ifndef WUDF_COMMON_ALLOC_H
#define WUDF_COMMON_ALLOC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "wudf.h"

/* Like malloc, calloc and realloc; a size of 0 allocates 1 byte (never a
 * NULL success). wudf_calloc returns NULL when n * size overflows.
 * wudf_realloc leaves ptr untouched when it fails. Thread-safe. */
void *wudf_malloc(size_t size);
void *wudf_calloc(size_t n, size_t size);
void *wudf_realloc(void *ptr, size_t size);
/* Accepts NULL. */
void wudf_free(void *ptr);
/* Copies of a string (at most n bytes of it for strndup), NUL-terminated;
 * NULL when out of memory or s is NULL. */
char *wudf_strdup(const char *s);
char *wudf_strndup(const char *s, size_t n);

/* realpath(path, NULL) and vasprintf(), in memory from wudf_malloc(). */
char *wudf_realpath(const char *path);
char *wudf_vasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

/* Fixes the allocator: `fn` (NULL: the C library's) with `user`. The first
 * call, or the first allocation, decides; later calls return whether they
 * ask for the same allocator. Thread-safe. */
bool wudf_alloc_set(wudf_realloc_fn fn, void *user);

#endif
