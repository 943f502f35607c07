/* Test runner: see harness.h. */
#include "harness.h"

#include "wudf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef struct test_case {
  const char *name, *file;
  test_fn fn;
} test_case;

static test_case g_tests[1024];
static int g_ntests;
static int g_current_failed;
static char g_tmpdir[256];

void test_register(const char *name, const char *file, test_fn fn) {
  if (g_ntests < (int)(sizeof g_tests / sizeof g_tests[0]))
    g_tests[g_ntests++] = (test_case){name, file, fn};
}

void test_fail_at(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "    %s:%d: ", file, line);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  g_current_failed = 1;
}

const char *test_tmpdir(void) {
  if (!g_tmpdir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(g_tmpdir, sizeof g_tmpdir, "%s/wudf-test-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(g_tmpdir)) {
      perror("mkdtemp");
      exit(2);
    }
  }
  return g_tmpdir;
}

static void remove_tmpdir(void) {
  if (!g_tmpdir[0]) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmpdir);
}

static int cmp_tests(const void *a, const void *b) {
  const test_case *x = a, *y = b;
  int c = strcmp(x->file, y->file);
  return c ? c : strcmp(x->name, y->name);
}

/* Entry points that children of test_run_child() re-enter (a name ending
 * in "_child_helper") are not tests of their own: they run only in such a
 * child, and are neither run nor counted otherwise. */
static int is_child_entry(const test_case *t) {
  static const char suffix[] = "_child_helper";
  size_t n = strlen(t->name), k = sizeof suffix - 1;
  return n >= k && strcmp(t->name + n - k, suffix) == 0;
}

int main(int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : NULL;
  int passed = 0, failed = 0;
  qsort(g_tests, (size_t)g_ntests, sizeof g_tests[0], cmp_tests);
  for (int i = 0; i < g_ntests; i++) {
    test_case *t = &g_tests[i];
    if (filter && !strstr(t->name, filter) && !strstr(t->file, filter))
      continue;
    if (is_child_entry(t) && !getenv("WUDF_TEST_CHILD")) continue;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    g_current_failed = 0;
    t->fn();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("%s %-40s %8.1f ms  (%s)\n", g_current_failed ? "FAIL" : "ok  ",
           t->name, ms, t->file);
    fflush(stdout);
    if (g_current_failed)
      failed++;
    else
      passed++;
  }
  remove_tmpdir();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

const char *test_err_message(const struct wudf_error *err) {
  return err ? err->message : "";
}
