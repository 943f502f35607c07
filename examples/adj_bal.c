/* The seed's MAP function: a balance adjusted by a rate. */
#include <stdio.h>

float calculate_adj_bal(int balance, float rate) {
  return (balance * rate) + balance / 1000;
}

/* Prints to stdout: captured by the sandbox, not written to the host's. */
int greet(int n) {
  printf("hello from the sandbox, n = %d\n", n);
  return n * 2;
}

/* Traps: integer divide by zero when d == 0. */
int divide(int a, int d) {
  return a / d;
}

/* Never returns: stopped by the time limit. */
int spin(int n) {
  volatile int x = n;
  for (;;) x++;
  return x;
}
