/* The benchmark's UDFs compiled into one WebAssembly module together with a
 * loop over each, for `make bench`'s "V8, batch loop" rows: Node.js copies
 * a batch of columns into linear memory, calls the loop once, and copies
 * the result out. The UDF sources are the ones wudf runs (examples/udfs,
 * bench/udfs), included as they are. Not for wudf: a host-side benchmark
 * module, built by bench/run.sh with
 *
 *   clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *       -Iinclude -o v8_loops.wasm bench/v8_loops.c
 */
#include <stdlib.h>
#include <string.h>

#include "wudf_guest.h" /* first: the arena stays in (email_domain needs it) */

#include "../examples/udfs/calculate_adj_bal.c"
#include "../examples/udfs/email_domain.c"
#include "../examples/udfs/is_rich.c"
#include "udfs/add_two.c"

/* Memory for the host's input and output buffers (never freed: the host
 * allocates them once, for its largest batch). */
WUDF_EXPORT(bench_malloc) void *bench_malloc(int32_t size) {
  return malloc((size_t)size);
}

WUDF_EXPORT(adj_bal_loop)
void adj_bal_loop(const int32_t *balance, const float *rate, float *out,
                  int32_t n) {
  for (int32_t i = 0; i < n; i++)
    out[i] = calculate_adj_bal(balance[i], rate[i]);
}

/* A selection bitmap, as wudf_instance_filter() and the native side give;
 * branch-free, as the native side. */
WUDF_EXPORT(is_rich_loop)
void is_rich_loop(const int32_t *balance, uint8_t *bits, int32_t n) {
  memset(bits, 0, (size_t)(n + 7) / 8);
  for (int32_t i = 0; i < n; i++)
    bits[i >> 3] |= (uint8_t)((unsigned)is_rich(balance[i]) << (i & 7));
}

/* Arrow utf8 in (row i's bytes at data + offsets[i] - offsets[0]: the
 * offsets of a slice, the data from the slice's first byte), Arrow utf8 out
 * (offsets from 0); returns the bytes written. */
WUDF_EXPORT(email_domain_loop)
int32_t email_domain_loop(const int32_t *offsets, const char *data, int32_t n,
                          int32_t *out_offsets, char *out_data) {
  int32_t at = 0;
  for (int32_t i = 0; i < n; i++) {
    wudf_string s = email_domain(data + (offsets[i] - offsets[0]),
                                 offsets[i + 1] - offsets[i]);
    int32_t len = wudf_string_len(s);
    out_offsets[i] = at;
    memcpy(out_data + at, wudf_string_ptr(s), (size_t)len);
    at += len;
  }
  out_offsets[n] = at;
  return at;
}

WUDF_EXPORT(add_two_loop)
void add_two_loop(const int32_t *id, int32_t *out, int32_t n) {
  for (int32_t i = 0; i < n; i++) out[i] = add_two(id[i]);
}
