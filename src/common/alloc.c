/* The allocator hook. The allocator is fixed by the first allocation (or by
 * wudf_runtime_init), never changed after: a block must be released by the
 * allocator that made it. */
#include "common/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *libc_realloc(void *user, void *ptr, size_t size) {
  (void)user;
  if (size == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, size);
}

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool g_fixed;
/* Written once, under g_lock, before g_fixed is set. */
static wudf_realloc_fn g_fn = libc_realloc;
static void *g_user;

bool wudf_alloc_set(wudf_realloc_fn fn, void *user) {
  if (!fn) {
    fn = libc_realloc;
    user = NULL;
  }
  /* A mutex cannot fail here short of a corrupted one; then compare what
   * is there. */
  bool locked = pthread_mutex_lock(&g_lock) == 0;
  if (!atomic_load_explicit(&g_fixed, memory_order_acquire)) {
    g_fn = fn;
    g_user = user;
    atomic_store_explicit(&g_fixed, true, memory_order_release);
  }
  bool same = g_fn == fn && g_user == user;
  if (locked) (void)pthread_mutex_unlock(&g_lock);
  return same;
}

static void *call(void *ptr, size_t size) {
  if (!atomic_load_explicit(&g_fixed, memory_order_acquire))
    (void)wudf_alloc_set(NULL, NULL);
  return g_fn(g_user, ptr, size);
}

void *wudf_malloc(size_t size) {
  return call(NULL, size ? size : 1);
}

void *wudf_calloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  size_t total = n * size;
  void *p = wudf_malloc(total);
  if (p) memset(p, 0, total ? total : 1);
  return p;
}

void *wudf_realloc(void *ptr, size_t size) {
  return call(ptr, size ? size : 1);
}

void wudf_free(void *ptr) {
  if (ptr) (void)call(ptr, 0);
}

char *wudf_strndup(const char *s, size_t n) {
  if (!s) return NULL;
  size_t len = strnlen(s, n);
  char *p = wudf_malloc(len + 1);
  if (!p) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

char *wudf_strdup(const char *s) {
  return s ? wudf_strndup(s, strlen(s)) : NULL;
}

char *wudf_realpath(const char *path) {
  char *real = path ? realpath(path, NULL) : NULL;
  char *copy = wudf_strdup(real);
  free(real); /* realpath() allocates with the C library */
  return copy;
}

char *wudf_vasprintf(const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  char *s = n >= 0 ? wudf_malloc((size_t)n + 1) : NULL;
  if (s) vsnprintf(s, (size_t)n + 1, fmt, again);
  va_end(again);
  return s;
}
