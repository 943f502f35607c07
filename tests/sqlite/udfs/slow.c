/* Busy for about n million loop iterations, then returns. */
int slow(int n) {
  volatile int s = 0;
  for (int i = 0; i < n * 1000000; i++) s += i;
  return n;
}
