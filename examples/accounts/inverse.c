/* A MAP that traps: integer division by zero on the account whose balance
 * is 59443 (Roosevelt Petru, line 13 of accounts.csv). `wudf run` stops,
 * names the function, the trap and the CSV line, and writes no output. */
int inverse(int balance) {
  return 1000000 / (balance - 59443);
}
