/*
 * The native side of bench/compare_mem.c: the benchmark's UDFs compiled by
 * gcc from the same C sources as the WebAssembly modules, with the loops
 * that run them over one batch of rows into a new output.
 * bench/compare_native.c is compiled twice, at -O2 (native_o2, the baseline
 * the targets are measured against) and at -O3 (native_o3, for reference:
 * wudf compiles its generated code at -O3).
 */
#ifndef WUDF_BENCH_COMPARE_NATIVE_H
#define WUDF_BENCH_COMPARE_NATIVE_H

#include <stdint.h>

/* The columns, read once from the CSV file. */
typedef struct table {
  int64_t rows, cap;
  int32_t *id, *balance;
  float *rate;
  int32_t *email_off; /* rows + 1 */
  char *email;
  int64_t email_bytes, email_cap;
} table;

/* One batch's result. */
typedef struct out_buf {
  void *values;  /* MAP values, FILTER bitmap, utf8 offsets */
  char *data;    /* utf8 data */
  int64_t bytes; /* utf8 data bytes */
} out_buf;

/* Runs a UDF over rows [at, at + n) into a new *o; -1 when out of memory. */
typedef int (*native_fn)(const table *t, int64_t at, int64_t n, out_buf *o);

typedef struct native_set {
  native_fn adj_bal, is_rich, email_domain, add_two;
} native_set;

extern const native_set native_o2, native_o3;

#endif
