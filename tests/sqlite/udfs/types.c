/* One function per type; each is defined on its own by name. */
#include <stdbool.h>
#include <stdint.h>

int32_t i32_add(int32_t a, int32_t b) {
  return a + b;
}
long long i64_add(long long a, long long b) {
  return a + b;
}
float f32_half(float x) {
  return x / 2;
}
double f64_mul(double a, double b) {
  return a * b;
}
bool is_pos(int x) {
  return x > 0;
}
