/* Not deterministic: reads the WASI clock. */
#include <time.h>

long long now_ms(int x) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + x;
}
