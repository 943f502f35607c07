/* Hostile: never returns. */
int spin(int x) {
  volatile int y = x;
  while (y == x) {
  }
  return y;
}
