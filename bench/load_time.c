/*
 * Prints the time to load a module cold (validate + translate + compile,
 * empty cache) and warm (cache hit), as medians over several runs.
 *
 *   load_time MODULE.wasm [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wudf.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Loads `path` with an engine on cache `dir`; returns ms, or -1. */
static double timed_load(const char *dir, const char *path, int *cached) {
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = dir;
  wudf_engine *e;
  wudf_module *m = NULL;
  wudf_error err = {0};
  if (wudf_engine_new(&cfg, &e, &err)) {
    fprintf(stderr, "load_time: %s\n", err.message);
    return -1;
  }
  double t0 = now_ms();
  wudf_status st = wudf_module_load_file(e, path, &m, &err);
  double t = now_ms() - t0;
  if (st) fprintf(stderr, "load_time: %s\n", err.message);
  *cached = wudf_module_was_cached(m);
  wudf_module_free(m);
  wudf_engine_free(e);
  return st ? -1 : t;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: load_time MODULE.wasm [RUNS]\n");
    return 2;
  }
  int runs = argc > 2 ? atoi(argv[2]) : 7;
  if (runs < 1 || runs > 1000) runs = 7;
  char base[] = "/tmp/wudf-bench-XXXXXX", dir[64];
  if (!mkdtemp(base)) return 1;
  double cold[1000], warm[1000];
  int cached;
  for (int i = 0; i < runs; i++) {
    snprintf(dir, sizeof dir, "%s/c%d", base, i);
    if ((cold[i] = timed_load(dir, argv[1], &cached)) < 0 || cached) return 1;
  }
  for (int i = 0; i < runs; i++)
    if ((warm[i] = timed_load(dir, argv[1], &cached)) < 0 || !cached) return 1;
  /* median() sorts: the minimum is read after it. */
  double cold_median = median(cold, runs), warm_median = median(warm, runs);
  printf("module: %s\n", argv[1]);
  printf(
      "cold load (validate + translate + compile): median %.1f ms "
      "(min %.1f, %d runs)\n",
      cold_median, cold[0], runs);
  printf(
      "warm load (cache hit):                      median %.3f ms "
      "(min %.3f, %d runs)\n",
      warm_median, warm[0], runs);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  return system(cmd) == 0 ? 0 : 1;
}
