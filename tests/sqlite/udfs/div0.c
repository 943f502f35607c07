/* Traps with a divide by zero when b is 0. */
int div0(int a, int b) {
  return a / b;
}
