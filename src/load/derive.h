/*
 * The one rule for the UDF signature of an export that nothing declares
 * (a foreign module, hand-written WebAssembly text), used by `wudf compile`
 * (which writes it into the wudf.udfs section) and by `wudf run` (which
 * declares it at load time): each argument column, or without columns each
 * WebAssembly parameter, maps to its type (i32 -> int32, i64 -> int64,
 * f32 -> float32, f64 -> float64; a utf8 column takes two i32, a bool
 * column one i32), and the one result maps to the declared result type or,
 * undeclared, to its own.
 */
#ifndef WUDF_LOAD_DERIVE_H
#define WUDF_LOAD_DERIVE_H

#include <stdbool.h>

#include "load/wasm_info.h"
#include "wudf.h"

typedef struct wudf_derive_opts {
  const wudf_type *cols; /* the argument columns; NULL: one per parameter */
  uint32_t ncols;
  bool filter;             /* the result is a bool (i32) */
  const wudf_type *result; /* the declared result; NULL: the export's own */
} wudf_derive_opts;

/* Fills *sig for export `name` of type `ft`. WUDF_ERR_TYPE names the
 * parameter or result that does not fit; WUDF_ERR_ARG a name too long. */
wudf_status wudf_udf_sig_derive(const char *name, const wudf_wasm_functype *ft,
                                const wudf_derive_opts *opts, wudf_udf_sig *sig,
                                wudf_error *err);

#endif /* WUDF_LOAD_DERIVE_H */
