/* Allocates n MiB and touches it: fits under one memory limit, not another. */
#include <stdlib.h>
#include <string.h>

char *volatile keep;

int big(int n) {
  char *p = malloc((size_t)n << 20);
  if (!p) __builtin_trap();
  memset(p, 1, (size_t)n << 20);
  keep = p;
  int r = p[((size_t)n << 20) - 1];
  free(p);
  return r;
}
