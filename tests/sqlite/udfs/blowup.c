/* Hostile: allocates until the memory limit stops it. */
#include <stdlib.h>

char *volatile sink;

int blowup(int n) {
  for (;;) {
    char *p = malloc(1 << 20);
    if (!p) __builtin_trap();
    p[4096] = (char)n;
    sink = p;
  }
}
