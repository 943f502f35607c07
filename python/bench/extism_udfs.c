/* The benchmark's UDFs (the sources wudf runs, included as they are) as an
 * Extism plugin, for `make bench-python`. Extism calls exports of type
 * () -> i32 only; a plugin reads its input and writes its output through
 * Extism's kernel (imports from "extism:host/env"). This file speaks that
 * ABI directly, 8 bytes per kernel call as Extism's own PDKs do, without a
 * PDK. Not for wudf: a host-side benchmark module, built by
 * python/bench/bench.py with
 *
 *   clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *       -Iinclude -o extism_udfs.wasm python/bench/extism_udfs.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wudf_guest.h" /* first: the arena stays in (email_domain needs it) */

#include "../../bench/udfs/add_two.c"
#include "../../examples/udfs/calculate_adj_bal.c"
#include "../../examples/udfs/email_domain.c"
#include "../../examples/udfs/is_rich.c"

#define KERNEL(name) \
  __attribute__((import_module("extism:host/env"), import_name(#name)))

KERNEL(input_length) uint64_t ex_input_length(void);
KERNEL(input_load_u8) int32_t ex_input_load_u8(uint64_t offset);
KERNEL(input_load_u64) uint64_t ex_input_load_u64(uint64_t offset);
KERNEL(alloc) uint64_t ex_alloc(uint64_t size);
KERNEL(store_u8) void ex_store_u8(uint64_t offset, int32_t value);
KERNEL(store_u64) void ex_store_u64(uint64_t offset, uint64_t value);
KERNEL(output_set) void ex_output_set(uint64_t offset, uint64_t size);

/* Buffers reused across calls (grown, never freed). */
static uint8_t *in_buf, *out_buf;
static uint64_t in_cap, out_cap;

static uint8_t *grow(uint8_t **buf, uint64_t *cap, uint64_t n) {
  if (n > *cap) {
    uint8_t *p = realloc(*buf, (size_t)n);
    if (!p) __builtin_trap();
    *buf = p;
    *cap = n;
  }
  return *buf;
}

static uint8_t *read_input(uint64_t *len) {
  uint64_t n = ex_input_length();
  uint8_t *b = grow(&in_buf, &in_cap, n ? n : 1);
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = ex_input_load_u64(i);
    memcpy(b + i, &v, 8);
  }
  for (; i < n; i++) b[i] = (uint8_t)ex_input_load_u8(i);
  *len = n;
  return b;
}

static void write_output(const uint8_t *b, uint64_t n) {
  uint64_t off = ex_alloc(n);
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, b + i, 8);
    ex_store_u64(off + i, v);
  }
  for (; i < n; i++) ex_store_u8(off + i, b[i]);
  ex_output_set(off, n);
}

/* ---- one row per call ---------------------------------------------------- */

WUDF_EXPORT(adj_bal_row) int32_t adj_bal_row(void) {
  uint64_t n;
  uint8_t *in = read_input(&n);
  int32_t b;
  float r;
  memcpy(&b, in, 4);
  memcpy(&r, in + 4, 4);
  float out = calculate_adj_bal(b, r);
  write_output((const uint8_t *)&out, 4);
  return 0;
}

WUDF_EXPORT(is_rich_row) int32_t is_rich_row(void) {
  uint64_t n;
  uint8_t *in = read_input(&n);
  int32_t b;
  memcpy(&b, in, 4);
  uint8_t out = is_rich(b);
  write_output(&out, 1);
  return 0;
}

WUDF_EXPORT(add_two_row) int32_t add_two_row(void) {
  uint64_t n;
  uint8_t *in = read_input(&n);
  int32_t v;
  memcpy(&v, in, 4);
  int32_t out = add_two(v);
  write_output((const uint8_t *)&out, 4);
  return 0;
}

WUDF_EXPORT(email_domain_row) int32_t email_domain_row(void) {
  uint64_t n;
  uint8_t *in = read_input(&n);
  wudf_string s = email_domain((const char *)in, (int32_t)n);
  write_output((const uint8_t *)wudf_string_ptr(s),
               (uint64_t)wudf_string_len(s));
  return 0;
}

/* ---- one batch per call -------------------------------------------------- */

/* n int32 balances, then n float32 rates -> n float32 */
WUDF_EXPORT(adj_bal_batch) int32_t adj_bal_batch(void) {
  uint64_t len;
  uint8_t *in = read_input(&len);
  uint64_t n = len / 8;
  const int32_t *b = (const int32_t *)in;
  const float *r = (const float *)(in + 4 * n);
  float *out = (float *)grow(&out_buf, &out_cap, 4 * n + 1);
  for (uint64_t i = 0; i < n; i++) out[i] = calculate_adj_bal(b[i], r[i]);
  write_output((const uint8_t *)out, 4 * n);
  return 0;
}

/* n int32 -> n bytes 0/1 */
WUDF_EXPORT(is_rich_batch) int32_t is_rich_batch(void) {
  uint64_t len;
  uint8_t *in = read_input(&len);
  uint64_t n = len / 4;
  const int32_t *b = (const int32_t *)in;
  uint8_t *out = grow(&out_buf, &out_cap, n + 1);
  for (uint64_t i = 0; i < n; i++) out[i] = is_rich(b[i]);
  write_output(out, n);
  return 0;
}

/* n int32 -> n int32 */
WUDF_EXPORT(add_two_batch) int32_t add_two_batch(void) {
  uint64_t len;
  uint8_t *in = read_input(&len);
  uint64_t n = len / 4;
  const int32_t *v = (const int32_t *)in;
  int32_t *out = (int32_t *)grow(&out_buf, &out_cap, 4 * n + 1);
  for (uint64_t i = 0; i < n; i++) out[i] = add_two(v[i]);
  write_output((const uint8_t *)out, 4 * n);
  return 0;
}

/* int32 n, n + 1 int32 offsets from 0, the bytes -> n + 1 int32 offsets
 * from 0, the bytes (Arrow utf8 buffers) */
WUDF_EXPORT(email_domain_batch) int32_t email_domain_batch(void) {
  uint64_t len;
  uint8_t *in = read_input(&len);
  int32_t n;
  memcpy(&n, in, 4);
  const int32_t *offs = (const int32_t *)(in + 4);
  const char *data = (const char *)(in + 4 + 4 * ((uint64_t)n + 1));
  uint64_t cap = 4 * ((uint64_t)n + 1) + (uint64_t)offs[n] + 1;
  uint8_t *out = grow(&out_buf, &out_cap, cap);
  int32_t *oo = (int32_t *)out;
  char *od = (char *)(out + 4 * ((uint64_t)n + 1));
  int32_t at = 0;
  for (int32_t i = 0; i < n; i++) {
    wudf_string s = email_domain(data + offs[i], offs[i + 1] - offs[i]);
    int32_t l = wudf_string_len(s);
    oo[i] = at;
    memcpy(od + at, wudf_string_ptr(s), (size_t)l);
    at += l;
  }
  oo[n] = at;
  write_output(out, 4 * ((uint64_t)n + 1) + (uint64_t)at);
  return 0;
}
