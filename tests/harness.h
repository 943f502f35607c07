/*
 * Minimal test harness. Each tests/test_*.c file is one topic; each TEST()
 * registers itself. The runner (tests/harness.c) runs every test, or those
 * whose name contains argv[1], and ends with "N passed, N failed".
 */
#ifndef WUDF_TEST_HARNESS_H
#define WUDF_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
struct wudf_error;
/* The message of an error report, or "" for NULL. */
const char *test_err_message(const struct wudf_error *err);
void test_register(const char *name, const char *file, test_fn fn);
void test_fail_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Temporary directory private to this run of the runner (created lazily). */
const char *test_tmpdir(void);

#define TEST(name)                                                 \
  static void test_##name(void);                                   \
  __attribute__((constructor)) static void test_reg_##name(void) { \
    test_register(#name, __FILE__, test_##name);                   \
  }                                                                \
  static void test_##name(void)

/* Each CHECK records a failure and returns from the test. */
#define CHECK(cond)                                                \
  do {                                                             \
    if (!(cond)) {                                                 \
      test_fail_at(__FILE__, __LINE__, "CHECK(%s) failed", #cond); \
      return;                                                      \
    }                                                              \
  } while (0)

#define CHECK_MSG(cond, ...)                         \
  do {                                               \
    if (!(cond)) {                                   \
      test_fail_at(__FILE__, __LINE__, __VA_ARGS__); \
      return;                                        \
    }                                                \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                    \
  do {                                                                        \
    long long va_ = (long long)(a), vb_ = (long long)(b);                     \
    if (va_ != vb_) {                                                         \
      test_fail_at(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, \
                   va_, #b, vb_);                                             \
      return;                                                                 \
    }                                                                         \
  } while (0)

#define CHECK_STATUS(expr, expected, errp)                                 \
  do {                                                                     \
    wudf_status st_ = (expr);                                              \
    if (st_ != (expected)) {                                               \
      test_fail_at(__FILE__, __LINE__, "%s returned %s (%s), expected %s", \
                   #expr, wudf_status_name(st_), test_err_message(errp),   \
                   wudf_status_name(expected));                            \
      return;                                                              \
    }                                                                      \
  } while (0)

#define CHECK_CONTAINS(haystack, needle)                                 \
  do {                                                                   \
    const char *h_ = (haystack), *n_ = (needle);                         \
    if (!h_ || !strstr(h_, n_)) {                                        \
      test_fail_at(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", \
                   h_ ? h_ : "(null)", n_);                              \
      return;                                                            \
    }                                                                    \
  } while (0)

#endif
