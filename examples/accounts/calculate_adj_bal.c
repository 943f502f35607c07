/* The seed report's MAP function, as written there: a balance adjusted by
 * a rate. Plain C, no wudf header: `wudf run` compiles it to WebAssembly
 * and takes its signature from the declaration,
 * calculate_adj_bal(int32, float32) -> float32. */
float calculate_adj_bal(int balance, float rate) {
  return (balance * rate) + balance / 1000;
}
