/*
 * wudf_guest.h — writing wudf UDFs in C or C++ (guest ABI v1).
 *
 * This header is for the code that runs *inside* the sandbox. The ABI it
 * implements (types, the `wudf.udfs` custom section, memory and NULL rules,
 * what the host checks) is specified in docs/abi.md.
 *
 *     #include "wudf_guest.h"
 *
 *     WUDF_UDF_DEF(email_domain, "email_domain(utf8) -> utf8")
 *     wudf_string email_domain(const char *s, int32_t len) {
 *       wudf_str v = wudf_str_make(s, len);
 *       int32_t at = wudf_str_rfind(v, '@');
 *       if (at < 0) return wudf_string_empty();
 *       return wudf_str_result(wudf_str_from(v, at + 1));
 *     }
 *
 * Build a WASI reactor (no main; `_initialize` runs once when the sandbox is
 * created):
 *
 *     clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *         -I<wudf>/include -o email_domain.wasm email_domain.c
 *
 * Compiled natively (any target but wasm), the same source builds into an
 * ordinary program or library: the marking macros expand to nothing and
 * wudf_string becomes a {pointer, length} struct. This is how benchmarks
 * compare a UDF with its sandboxed run.
 *
 * Marking UDFs (at file scope)
 *   WUDF_UDF_DEF(name, "sig")   directly before the definition of `name`:
 *                               records the signature and exports `name`.
 *   WUDF_UDF("sig");            records a signature only; the function must
 *                               then be exported by WUDF_EXPORT(name), by
 *                               __attribute__((export_name("name"))) or by
 *                               -Wl,--export=name. An unexported function is
 *                               not a UDF: the load fails naming it.
 *   WUDF_EXPORT(name)           exports the function that follows as `name`.
 * The signature text is `name(type, ...) -> type`, optionally followed by
 * `nulls`; see docs/abi.md. It must be a string literal without `"` or `\`.
 *
 * Types (parameters and results of the C function)
 *   int32 -> int32_t   int64 -> int64_t   float32 -> float   float64 -> double
 *   bool  -> bool (a result is true when non-zero)
 *   utf8 parameter -> two parameters: (const char *ptr, int32_t len); the
 *                     bytes are not NUL-terminated (UTF-8 as the caller's
 *                     column holds it; the host does not re-check input).
 *   utf8 result    -> wudf_string (below).
 *   With `nulls`, each parameter is followed by `int32_t is_null` (1: NULL;
 *   the value is then 0 or the empty string).
 *
 * The allocator (wudf_alloc_bytes, wudf_reset and the exported wudf_alloc
 * and wudf_reset the host calls) is defined in this header with weak
 * linkage: include the header from one file or from many, the module gets
 * one allocator. A strong definition of your own `wudf_alloc` / `wudf_reset`
 * (exported under those names) replaces it. Define WUDF_GUEST_NO_ALLOCATOR
 * before including the header to leave it out entirely (numeric-only
 * modules that want no extra exports).
 *
 * Besides <stdbool.h>, <stddef.h> and <stdint.h>, the header uses only
 * malloc and free (<stdlib.h>), for the arena. Built with -ffreestanding
 * (or with WUDF_GUEST_NO_LIBC defined) it uses no libc at all, and the
 * arena takes pages with memory.grow: modules may then be linked with
 * -nostdlib.
 */
#ifndef WUDF_GUEST_H
#define WUDF_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__wasm__) && !defined(__wasm32__)
#error "wudf guest ABI v1 is defined for wasm32 only"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define WUDF_GUEST_ABI_VERSION 1

/* ------------------------------------------------------------------------ */
/* Marking UDFs                                                             */
/* ------------------------------------------------------------------------ */

#ifdef __wasm__

#define WUDF_EXPORT(name) __attribute__((export_name(#name)))

/* Appends one line to the module's `wudf.udfs` custom section. wasm-ld
 * concatenates the section's contents from every object file. */
#define WUDF_UDF(sig)                                                \
  __asm__(".section .custom_section.wudf.udfs,\"\",@\n.ascii \"" sig \
          "\\n\"\n.text\n")

#define WUDF_UDF_DEF(name, sig) \
  WUDF_UDF(sig);                \
  WUDF_EXPORT(name)

#else /* native */

#define WUDF_EXPORT(name)
#ifdef __cplusplus
#define WUDF_UDF(sig) static_assert(true, sig)
#else
#define WUDF_UDF(sig) _Static_assert(1, sig)
#endif
#define WUDF_UDF_DEF(name, sig)

#endif

/* Weak linkage: one definition per module whatever the number of files
 * including this header. */
#define WUDF_GUEST_WEAK __attribute__((weak))

/* ------------------------------------------------------------------------ */
/* String results                                                           */
/* ------------------------------------------------------------------------ */

/* A utf8 result: `len` bytes at `ptr`, which must lie in the module's
 * memory (inside the input string, a static buffer, memory from
 * wudf_alloc_bytes...) and stay unchanged until the function returns; the
 * host copies them out before the next call. In WebAssembly it is one i64:
 * (len << 32) | ptr. Natively it is a struct. Build it with WUDF_STRING(),
 * wudf_string_make() or wudf_string_empty(); read it with wudf_string_ptr()
 * and wudf_string_len(). */
#ifdef __wasm__
typedef uint64_t wudf_string;

static inline wudf_string wudf_string_make(const char *ptr, int32_t len) {
  return (uint64_t)(uint32_t)len << 32 | (uint32_t)(uintptr_t)ptr;
}
static inline const char *wudf_string_ptr(wudf_string s) {
  return (const char *)(uintptr_t)(uint32_t)s;
}
static inline int32_t wudf_string_len(wudf_string s) {
  return (int32_t)(uint32_t)(s >> 32);
}
#else
typedef struct wudf_string {
  const char *ptr;
  int32_t len;
} wudf_string;

static inline wudf_string wudf_string_make(const char *ptr, int32_t len) {
  wudf_string s;
  s.ptr = ptr;
  s.len = len;
  return s;
}
static inline const char *wudf_string_ptr(wudf_string s) {
  return s.ptr;
}
static inline int32_t wudf_string_len(wudf_string s) {
  return s.len;
}
#endif

#define WUDF_STRING(ptr, len) wudf_string_make((ptr), (len))

/* The empty string. */
static inline wudf_string wudf_string_empty(void) {
  return wudf_string_make("", 0);
}

/* ------------------------------------------------------------------------ */
/* String views                                                             */
/* ------------------------------------------------------------------------ */

/* A borrowed run of bytes. Offsets are byte offsets; the helpers clamp
 * out-of-range offsets instead of failing, so slicing never reads outside
 * the view. They do not know about UTF-8: slicing at a byte found with
 * wudf_str_find() of an ASCII character keeps the text valid UTF-8. */
typedef struct wudf_str {
  const char *ptr;
  int32_t len;
} wudf_str;

static inline wudf_str wudf_str_make(const char *ptr, int32_t len) {
  wudf_str s;
  s.ptr = ptr;
  s.len = len < 0 ? 0 : len;
  return s;
}

/* View of a NUL-terminated string. */
static inline wudf_str wudf_str_cstr(const char *cstr) {
  int32_t n = 0;
  while (cstr[n]) n++;
  return wudf_str_make(cstr, n);
}

static inline wudf_str wudf_str_of(wudf_string s) {
  return wudf_str_make(wudf_string_ptr(s), wudf_string_len(s));
}

/* The view as a UDF result. */
static inline wudf_string wudf_str_result(wudf_str s) {
  return wudf_string_make(s.ptr, s.len);
}

/* Offset of the first / last byte equal to `c`, or -1. */
static inline int32_t wudf_str_find(wudf_str s, char c) {
  for (int32_t i = 0; i < s.len; i++)
    if (s.ptr[i] == c) return i;
  return -1;
}
static inline int32_t wudf_str_rfind(wudf_str s, char c) {
  /* A pointer loop: in WebAssembly, an index loop costs an addition and a
   * wrap-around per byte in the generated code. */
  const char *p = s.ptr + s.len;
  while (p != s.ptr)
    if (*--p == c) return (int32_t)(p - s.ptr);
  return -1;
}

/* Bytes [from, to) of `s`, offsets clamped to [0, len]; empty if
 * to <= from. */
static inline wudf_str wudf_str_slice(wudf_str s, int32_t from, int32_t to) {
  if (from < 0) from = 0;
  if (to > s.len) to = s.len;
  if (to <= from)
    return wudf_str_make(s.ptr + (from < s.len ? from : s.len), 0);
  return wudf_str_make(s.ptr + from, to - from);
}

/* Bytes from `from` to the end / the first `n` bytes. */
static inline wudf_str wudf_str_from(wudf_str s, int32_t from) {
  return wudf_str_slice(s, from, s.len);
}
static inline wudf_str wudf_str_prefix(wudf_str s, int32_t n) {
  return wudf_str_slice(s, 0, n);
}

static inline bool wudf_str_eq(wudf_str a, wudf_str b) {
  if (a.len != b.len) return false;
  for (int32_t i = 0; i < a.len; i++)
    if (a.ptr[i] != b.ptr[i]) return false;
  return true;
}

static inline bool wudf_str_starts_with(wudf_str s, wudf_str prefix) {
  return prefix.len <= s.len &&
         wudf_str_eq(wudf_str_prefix(s, prefix.len), prefix);
}

static inline bool wudf_str_ends_with(wudf_str s, wudf_str suffix) {
  return suffix.len <= s.len &&
         wudf_str_eq(wudf_str_from(s, s.len - suffix.len), suffix);
}

/* ------------------------------------------------------------------------ */
/* Allocator                                                                */
/* ------------------------------------------------------------------------ */

#ifndef WUDF_GUEST_NO_ALLOCATOR

/* A bump allocator for memory that lives until the end of the batch:
 * wudf_alloc_bytes(n) returns n bytes aligned to 8, or NULL when memory
 * cannot grow (the module's memory cap; a UDF then usually traps with
 * __builtin_trap(), which the host reports with the row). The host calls
 * wudf_reset() before each batch, which frees everything at once; the
 * input strings of the batch are in this same arena. Nothing is freed
 * individually.
 *
 * Where its memory comes from:
 *   - with a hosted libc (WASI, or native): chunks from malloc. The arena
 *     grows geometrically; wudf_reset() frees all chunks but the last (the
 *     largest). It never takes pages behind malloc's back: wasi-libc's
 *     malloc (at least Debian's 2022 build) claims all of memory up to
 *     memory.size the first time it runs, pages grown before included;
 *   - freestanding (-ffreestanding, or WUDF_GUEST_NO_LIBC defined): pages
 *     from memory.grow, extended in place while nothing else grows memory.
 *     Do not combine this with a libc malloc in the same module. */
typedef struct wudf_guest_arena {
  uint64_t base, top, end; /* addresses; 64-bit so that 4 GiB fits */
  void *chunks;            /* malloc'd chunks, newest first, linked */
} wudf_guest_arena;

WUDF_GUEST_WEAK wudf_guest_arena wudf_guest_arena_;

void *wudf_guest_alloc_slow_(size_t n);

static inline void *wudf_alloc_bytes(size_t n) {
  wudf_guest_arena *a = &wudf_guest_arena_;
  /* Strictly less: an arena not yet set up (all zero) takes the slow path
   * even for n == 0, so the result is never NULL by accident. */
  if (n < a->end - a->top) {
    void *p = (void *)(uintptr_t)a->top;
    a->top += ((uint64_t)n + 7) & ~(uint64_t)7;
    return p;
  }
  return wudf_guest_alloc_slow_(n);
}

/* Takes `n` bytes from a region that holds at least n; bumps `top`. */
static inline void *wudf_guest_take_(wudf_guest_arena *a, size_t n) {
  void *p = (void *)(uintptr_t)a->top;
  uint64_t r = ((uint64_t)n + 7) & ~(uint64_t)7;
  a->top = r < a->end - a->top ? a->top + r : a->end;
  return p;
}

/* Bytes to add to the arena: at least n and 64 KiB, and `times` the
 * current region (1 when the new bytes extend it: its size doubles). */
static inline uint64_t wudf_guest_next_size_(const wudf_guest_arena *a,
                                             uint64_t n, uint64_t times) {
  uint64_t grown = (a->end - a->base) * times, want = n > grown ? n : grown;
  return want < 65536 ? 65536 : want;
}

#if defined(__wasm__) && (!__STDC_HOSTED__ || defined(WUDF_GUEST_NO_LIBC))

#define WUDF_GUEST_PAGE 65536u

/* Grows memory by at least `bytes`; returns the first new address and sets
 * *got to the bytes added, or returns UINT64_MAX. */
static inline uint64_t wudf_guest_grow_(uint64_t bytes, uint64_t *got) {
  uint64_t pages = bytes / WUDF_GUEST_PAGE + (bytes % WUDF_GUEST_PAGE != 0);
  if (pages > 65536) return UINT64_MAX;
  size_t old = __builtin_wasm_memory_grow(0, (size_t)pages);
  if (old == (size_t)-1) return UINT64_MAX;
  *got = pages * WUDF_GUEST_PAGE;
  return (uint64_t)old * WUDF_GUEST_PAGE;
}

WUDF_GUEST_WEAK void *wudf_guest_alloc_slow_(size_t n) {
  wudf_guest_arena *a = &wudf_guest_arena_;
  uint64_t avail = a->end - a->top, got = 0;
  if (a->base && n <= avail) return wudf_guest_take_(a, n);
  /* If nothing grew memory since the arena did, new pages extend it. */
  uint64_t mem = (uint64_t)__builtin_wasm_memory_size(0) * WUDF_GUEST_PAGE;
  uint64_t need = a->base && a->end == mem ? n - avail : n;
  uint64_t start = wudf_guest_grow_(wudf_guest_next_size_(a, need, 1), &got);
  if (start == UINT64_MAX) start = wudf_guest_grow_(need, &got);
  if (start == UINT64_MAX) return NULL;
  if (start != a->end) a->base = a->top = start;
  a->end = start + got;
  return wudf_guest_take_(a, n);
}

static inline void wudf_guest_reset_(void) {
  wudf_guest_arena_.top = wudf_guest_arena_.base;
}

#else /* chunks from malloc */

#include <stdlib.h>

/* Header of a malloc'd chunk; its `size` bytes follow, 8-aligned. */
typedef struct wudf_guest_chunk {
  struct wudf_guest_chunk *prev; /* older chunk, or NULL */
  uint64_t size;
} wudf_guest_chunk;

/* Makes `c` (newest) the arena's empty current region. */
static inline void wudf_guest_use_(wudf_guest_arena *a, wudf_guest_chunk *c) {
  a->chunks = c;
  a->base = a->top = c ? (uint64_t)(uintptr_t)(c + 1) : 0;
  a->end = c ? a->base + c->size : 0;
}

/* A chunk of `size` bytes, or NULL. */
static inline wudf_guest_chunk *wudf_guest_chunk_new_(uint64_t size) {
  if (size > SIZE_MAX - sizeof(wudf_guest_chunk)) return NULL;
  wudf_guest_chunk *c =
      (wudf_guest_chunk *)malloc(sizeof(wudf_guest_chunk) + (size_t)size);
  if (c) c->size = size;
  return c;
}

WUDF_GUEST_WEAK void *wudf_guest_alloc_slow_(size_t n) {
  wudf_guest_arena *a = &wudf_guest_arena_;
  wudf_guest_chunk *cur = (wudf_guest_chunk *)a->chunks;
  if (a->base && n <= a->end - a->top) return wudf_guest_take_(a, n);
  uint64_t want = wudf_guest_next_size_(a, n, 2); /* replaces the region */
  if (a->base && a->top == a->base) { /* holds nothing: free it first */
    a->chunks = cur->prev;
    free(cur);
  }
  a->base = a->top = a->end = 0; /* older chunks stay as they are */
  wudf_guest_chunk *c = wudf_guest_chunk_new_(want);
  if (!c && want > n) c = wudf_guest_chunk_new_(n); /* just enough */
  if (!c) return NULL;
  c->prev = (wudf_guest_chunk *)a->chunks;
  wudf_guest_use_(a, c);
  return wudf_guest_take_(a, n);
}

/* Frees every chunk but the newest (the largest) and empties it. */
static inline void wudf_guest_reset_(void) {
  wudf_guest_arena *a = &wudf_guest_arena_;
  wudf_guest_chunk *last = (wudf_guest_chunk *)a->chunks;
  if (!last) return;
  while (last->prev) {
    wudf_guest_chunk *old = last->prev;
    last->prev = old->prev;
    free(old);
  }
  wudf_guest_use_(a, last);
}

#endif

void wudf_reset(void);

#ifdef __wasm__
int32_t wudf_alloc(int32_t size);

/* Exported for the host: frees everything wudf_alloc_bytes() returned. */
WUDF_GUEST_WEAK WUDF_EXPORT(wudf_reset) void wudf_reset(void) {
  wudf_guest_reset_();
}

/* Exported for the host: `size` bytes for the batch's input strings; 0 if
 * memory cannot grow (or size < 0). */
WUDF_GUEST_WEAK WUDF_EXPORT(wudf_alloc) int32_t wudf_alloc(int32_t size) {
  if (size < 0) return 0;
  return (int32_t)(uintptr_t)wudf_alloc_bytes((size_t)size);
}
#else
/* Native: frees everything wudf_alloc_bytes() returned. */
WUDF_GUEST_WEAK void wudf_reset(void) {
  wudf_guest_reset_();
}
#endif

#endif /* WUDF_GUEST_NO_ALLOCATOR */

#ifdef __cplusplus
}
#endif

#endif /* WUDF_GUEST_H */
