/* `wudf bench`: the same UDF sandboxed and compiled natively, over the same
 * generated columns. */
#ifndef WUDF_CLI_BENCH_H
#define WUDF_CLI_BENCH_H

#include <stdint.h>

#include "wudf.h"

/* The generated data of one parameter, natively (arrays) and as Arrow. */
typedef struct bench_column {
  wudf_type type;
  struct ArrowArray array;   /* owned */
  struct ArrowSchema schema; /* owned */
  uint8_t *bytes;            /* bool: one byte per row, for the native loop */
} bench_column;

/* Native results: values (fixed width; bool as bytes) or, for utf8,
 * pointers and lengths. */
typedef struct bench_native_out {
  void *values;
  const char **ptrs;
  int32_t *lens;
} bench_native_out;

typedef struct bench_native bench_native;

/* Compiles `source` (C or C++) with gcc/g++ -O2 into a shared object
 * together with a generated loop calling `sig` over arrays, in a temporary
 * directory, and loads it. NULL (after a message) on failure. */
bench_native *bench_native_build(const char *source, const wudf_udf_sig *sig);

/* Runs the loop over `n` rows of `cols` into `out` (allocated by the
 * caller for n rows). */
void bench_native_run(bench_native *b, int64_t n, const bench_column *cols,
                      bench_native_out *out);

void bench_native_free(bench_native *b);

/* The directory holding wudf_guest.h: $WUDF_INCLUDE_DIR, else include/
 * next to the wudf binary's build directory. NULL if not found. */
const char *bench_include_dir(void);

#endif
