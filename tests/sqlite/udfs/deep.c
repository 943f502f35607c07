/* Hostile: recursion without end. */
int deep(int n) {
  return n <= 0 ? 0 : 1 + deep(n - 1) + deep(n - 2) * 0;
}
