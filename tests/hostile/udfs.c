/*
 * Hostile UDFs in C, for tests/test_hostile.c. Compiled at test time with
 * clang-19 (wasm32-wasi, -O2, reactor). Each function tries to break out of
 * or exhaust the sandbox one way; `add` and `hello` are the benign calls
 * that must still work afterwards.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT(n) __attribute__((export_name(#n)))

/* --- benign ------------------------------------------------------------- */

EXPORT(add) int32_t add(int32_t a, int32_t b) {
  return a + b;
}

static const char k_hello[] = "hello";

/* hello(int64) -> utf8: a static string, whatever the argument. */
EXPORT(hello) uint64_t hello(int64_t x) {
  (void)x;
  return ((uint64_t)5 << 32) | (uint32_t)(uintptr_t)k_hello;
}

/* --- time --------------------------------------------------------------- */

EXPORT(spin_tight) int32_t spin_tight(int32_t x) {
  volatile int32_t v = x;
  for (;;) v++;
}

__attribute__((noinline)) static int32_t step(volatile int32_t *p) {
  return ++*p;
}

EXPORT(spin_calls) int32_t spin_calls(int32_t x) {
  volatile int32_t v = x;
  for (;;) step(&v);
}

/* --- stack -------------------------------------------------------------- */

static volatile int32_t g_one = 1;

/* Unbounded recursion on the native stack: no local lives in linear
 * memory, and the multiplication by a value the compiler cannot know keeps
 * the call from becoming a loop. */
EXPORT(recurse) int32_t recurse(int32_t n) {
  if (n == 0) return 0;
  return recurse(n - 1) * g_one + 1;
}

/* The same with a 64-byte array per call: clang keeps it on the C stack,
 * which lives in linear memory (64 KiB below the static data). That stack
 * overflows first, silently over the module's own data, then below
 * address 0, where the store wraps around to the top of the 32-bit space. */
EXPORT(recurse_shadow) int32_t recurse_shadow(int32_t n) {
  volatile char pad[64];
  pad[0] = (char)n;
  if (n == 0) return 0;
  return recurse_shadow(n - 1) * g_one + 1 + pad[0] - (char)n;
}

/* Unbounded recursion that enters the host (WASI fd_write) at every level:
 * the stack runs out either in the module or when entering the host, and
 * host code is never left half-way. */
EXPORT(recurse_write) int32_t recurse_write(int32_t n) {
  if (write(2, ".", 1) != 1) return -1;
  return recurse_write(n + 1) * g_one + 1;
}

/* --- memory ------------------------------------------------------------- */

/* memory.grow one page at a time until it is refused; returns the final
 * memory size in pages. */
EXPORT(grow_all) int32_t grow_all(void) {
  while (__builtin_wasm_memory_grow(0, 1) != (__SIZE_TYPE__)-1) {
  }
  return (int32_t)__builtin_wasm_memory_size(0);
}

EXPORT(grow_by) int32_t grow_by(int32_t pages) {
  return (int32_t)__builtin_wasm_memory_grow(0, (__SIZE_TYPE__)(uint32_t)pages);
}

/* Where the blocks go, so that the compiler cannot drop the calls (an
 * allocation nobody uses may be assumed to succeed, and the loop to run
 * forever). */
static void *volatile g_sink;

/* malloc 1 MiB blocks until malloc returns NULL; returns how many it got. */
EXPORT(malloc_all) int32_t malloc_all(void) {
  int32_t n = 0;
  while ((g_sink = malloc(1 << 20)) != NULL) n++;
  return n;
}

/* The same, then a trap: the message must say that memory ran out first. */
EXPORT(malloc_then_trap) int32_t malloc_then_trap(void) {
  while ((g_sink = malloc(1 << 20)) != NULL) {
  }
  __builtin_trap();
}

EXPORT(load_at) int32_t load_at(uint32_t addr) {
  return *(volatile int32_t *)(uintptr_t)addr;
}

EXPORT(store_at) void store_at(uint32_t addr, int32_t v) {
  *(volatile int32_t *)(uintptr_t)addr = v;
}

/* memcpy from a hostile address and length: bulk memory or a loop, the
 * copy must trap, not read the host's memory. */
EXPORT(copy_from) int32_t copy_from(uint32_t addr, uint32_t len) {
  static char buf[16];
  memcpy(buf, (const void *)(uintptr_t)addr, len);
  return buf[0];
}

/* --- control flow ------------------------------------------------------- */

EXPORT(unary) int32_t unary(int32_t x) {
  return x + 1;
}

/* A function pointer cast to the wrong type: call_indirect with a type
 * that does not match the table entry. */
EXPORT(call_wrong_type) int32_t call_wrong_type(int32_t x) {
  int32_t (*volatile fp)(int32_t, int32_t) =
      (int32_t(*)(int32_t, int32_t))(void *)unary;
  return fp(x, 1);
}

/* Calls through table slot `slot`: 0 is the null slot, large indices are
 * past the end of the table. */
EXPORT(call_slot) int32_t call_slot(int32_t slot) {
  int32_t (*volatile fp)(int32_t) = (int32_t(*)(int32_t))(uintptr_t)slot;
  return fp(1);
}

EXPORT(trap) void trap(void) {
  __builtin_trap();
}

EXPORT(do_abort) void do_abort(void) {
  abort();
}

/* --- arithmetic --------------------------------------------------------- */

EXPORT(div) int32_t div_(int32_t a, int32_t b) {
  return a / b;
}
EXPORT(rem) int32_t rem_(int32_t a, int32_t b) {
  return a % b;
}
EXPORT(div64) int64_t div64(int64_t a, int64_t b) {
  return a / b;
}

/* --- WASI --------------------------------------------------------------- */

EXPORT(exit_with) void exit_with(int32_t code) {
  exit(code);
}

/* Writes `kib` KiB to stdout (and one line to stderr). */
EXPORT(shout) int32_t shout(int32_t kib) {
  static char line[1024];
  memset(line, 'x', sizeof line - 1);
  line[sizeof line - 1] = '\n';
  for (int32_t i = 0; i < kib; i++) fwrite(line, 1, sizeof line, stdout);
  fflush(stdout);
  fputs("done\n", stderr);
  return kib;
}

/* --- string results ----------------------------------------------------- */

/* raw(int64) -> utf8: returns its argument as the (length << 32 | address)
 * pair, so the caller chooses where the result points. */
EXPORT(raw) uint64_t raw(int64_t packed) {
  return (uint64_t)packed;
}
