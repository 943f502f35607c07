/* Helpers shared by the tests that run compiled modules. */
#ifndef WUDF_TEST_UTIL_H
#define WUDF_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "wudf.h"

/* Assembles WebAssembly text with Debian's wat2wasm (extra flags such as
 * "--enable-simd" may be given). Returns a malloc'd buffer or NULL. */
uint8_t *test_wat(const char *wat, const char *flags, size_t *len);

/* Compiles C source to a WASI reactor module with clang-19 (the module's
 * functions are exported with __attribute__((export_name))). Returns a
 * malloc'd buffer or NULL. */
uint8_t *test_c_to_wasm(const char *c_source, size_t *len);

/* The contents of a file, NUL-terminated (not counted in *len, which may be
 * NULL); malloc'd, or NULL. */
uint8_t *test_read_file(const char *path, size_t *len);

/* Compiles C source (test_c_to_wasm) and loads it with the UDF signatures
 * `sigs` (text form) declared; NULL (with the reason on stderr) on error. */
wudf_module *test_load_c_udfs(wudf_engine *e, const char *c_source,
                              const char *const *sigs, size_t nsigs,
                              const char *name);

/* An engine whose cache is `subdir` under the run's temporary directory
 * (NULL: a cache shared by the whole run, and by its test_run_child()
 * children). Uses `limits` when not NULL. */
wudf_engine *test_engine(const char *subdir, const wudf_limits *limits);

/* Runs the test named `helper` alone in a fresh process (this test binary
 * executed again), with test_child_mode() returning `mode` there; the
 * child shares the parent's module cache. Returns the child's wait status,
 * or -1. For tests that need a process whose runtime has not started (a
 * different timer signal or fault mode). */
int test_run_child(const char *helper, const char *mode);
/* In such a child, its mode; NULL in the test runner itself. */
const char *test_child_mode(void);

/* Loads WAT text into a module and an instance; NULL (and a failed check
 * message) on error. */
wudf_module *test_load_wat(wudf_engine *e, const char *wat, wudf_error *err);

static inline wudf_val test_i32(int32_t v) {
  wudf_val x = {WUDF_I32, {.i32 = v}};
  return x;
}
static inline wudf_val test_i64(int64_t v) {
  wudf_val x = {WUDF_I64, {.i64 = v}};
  return x;
}
static inline wudf_val test_f32(float v) {
  wudf_val x = {WUDF_F32, {.f32 = v}};
  return x;
}
static inline wudf_val test_f64(double v) {
  wudf_val x = {WUDF_F64, {.f64 = v}};
  return x;
}

#endif
