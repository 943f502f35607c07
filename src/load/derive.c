/* Deriving a UDF signature from an export's WebAssembly type (derive.h). */
#include "load/derive.h"

#include <stdio.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/error.h"

/* The parameter for column j, starting at WebAssembly parameter *p. */
static wudf_status derive_param(const wudf_wasm_functype *ft, uint32_t *p,
                                uint32_t j, wudf_type col, wudf_udf_sig *sig,
                                wudf_error *err) {
  uint32_t need = col == WUDF_TYPE_UTF8 ? 2 : 1;
  if (*p + need > ft->nparams)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "export '%s' takes %u WebAssembly parameters, too few "
                     "for argument %u (%s)",
                     sig->name, ft->nparams, j + 1, wudf_type_str(col));
  const uint8_t *w = ft->types + *p;
  wudf_type t;
  bool ok = wudf_type_from_wasm(w[0], &t);
  if (col == WUDF_TYPE_UTF8) {
    ok = w[0] == WUDF_WASM_I32 && w[1] == WUDF_WASM_I32;
    t = WUDF_TYPE_UTF8;
  } else if (col == WUDF_TYPE_BOOL && w[0] == WUDF_WASM_I32) {
    t = WUDF_TYPE_BOOL;
  }
  if (!ok)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "argument %u (%s) of '%s' cannot be passed as WebAssembly "
                     "parameter %u (%s)%s",
                     j + 1, wudf_type_str(col), sig->name, *p + 1,
                     wudf_wasm_valtype_str(w[0]),
                     col == WUDF_TYPE_UTF8 ? ": a string takes two i32" : "");
  sig->params[j] = t;
  *p += need;
  return WUDF_OK;
}

static uint8_t wasm_of_type(wudf_type t) {
  switch (t) {
    case WUDF_TYPE_INT64:
    case WUDF_TYPE_UTF8:
      return WUDF_WASM_I64;
    case WUDF_TYPE_FLOAT32:
      return WUDF_WASM_F32;
    case WUDF_TYPE_FLOAT64:
      return WUDF_WASM_F64;
    default:
      return WUDF_WASM_I32;
  }
}

static wudf_status derive_result(const wudf_wasm_functype *ft,
                                 const wudf_derive_opts *o, wudf_udf_sig *sig,
                                 wudf_error *err) {
  if (ft->nresults != 1)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "export '%s' returns %u values; a UDF returns one",
                     sig->name, ft->nresults);
  uint8_t r = ft->types[ft->nparams];
  if (!o->filter && !o->result) {
    if (wudf_type_from_wasm(r, &sig->result)) return WUDF_OK;
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "export '%s' returns %s, which is no UDF result type",
                     sig->name, wudf_wasm_valtype_str(r));
  }
  sig->result = o->filter ? WUDF_TYPE_BOOL : *o->result;
  if (wasm_of_type(sig->result) == r) return WUDF_OK;
  if (o->filter)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "FILTER needs a function returning bool or int32 (i32); "
                     "export '%s' returns %s",
                     sig->name, wudf_wasm_valtype_str(r));
  return wudf_fail(err, WUDF_ERR_TYPE,
                   "the declared result type %s needs a WebAssembly result "
                   "%s, but export '%s' returns %s",
                   wudf_type_str(*o->result),
                   wudf_wasm_valtype_str(wasm_of_type(*o->result)), sig->name,
                   wudf_wasm_valtype_str(r));
}

static wudf_status derive_params(const wudf_wasm_functype *ft,
                                 const wudf_derive_opts *o, wudf_udf_sig *sig,
                                 wudf_error *err) {
  uint32_t ncols = o->cols ? o->ncols : ft->nparams, p = 0;
  if (ncols > WUDF_MAX_UDF_PARAMS)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "%u arguments for '%s'; a UDF takes at most %d", ncols,
                     sig->name, WUDF_MAX_UDF_PARAMS);
  wudf_status st = WUDF_OK;
  for (uint32_t j = 0; st == WUDF_OK && j < ncols; j++) {
    wudf_type col = WUDF_TYPE_INT32;
    if (o->cols)
      col = o->cols[j];
    else if (!wudf_type_from_wasm(ft->types[j], &col))
      col = WUDF_TYPE_UTF8; /* refused by derive_param, with a message */
    st = derive_param(ft, &p, j, col, sig, err);
  }
  if (st == WUDF_OK && p != ft->nparams)
    st = wudf_fail(err, WUDF_ERR_TYPE,
                   "export '%s' takes %u WebAssembly parameters; the %u "
                   "column%s given fill %u",
                   sig->name, ft->nparams, ncols, ncols == 1 ? "" : "s", p);
  sig->nparams = ncols;
  return st;
}

wudf_status wudf_udf_sig_derive(const char *name, const wudf_wasm_functype *ft,
                                const wudf_derive_opts *opts, wudf_udf_sig *sig,
                                wudf_error *err) {
  memset(sig, 0, sizeof *sig);
  if (!name || !ft || !opts)
    return wudf_fail(err, WUDF_ERR_ARG, "name, type or options is NULL");
  if (strlen(name) >= sizeof sig->name)
    return wudf_fail(err, WUDF_ERR_ARG, "function name '%.40s...' too long",
                     name);
  snprintf(sig->name, sizeof sig->name, "%s", name);
  wudf_status st = derive_params(ft, opts, sig, err);
  if (st == WUDF_OK) st = derive_result(ft, opts, sig, err);
  return st;
}
