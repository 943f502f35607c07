/*
 * Loading a module for a run: modules whose wudf.udfs section declares the
 * UDF load as they are; for the others (foreign modules, hand-written WAT)
 * the signature is derived from the export's WebAssembly type and the
 * argument columns' types, then declared at load time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/error.h"
#include "load/wasm_info.h"
#include "run/run_internal.h"

/* Whether the module's wudf.udfs section declares `function`. A section that
 * does not parse counts as declaring it: loading it reports the problem. */
static bool section_declares(const uint8_t *bytes, const wudf_wasm_info *info,
                             const char *function) {
  for (uint32_t i = 0; i < info->ncustoms; i++) {
    const wudf_wasm_custom *c = &info->customs[i];
    if (strcmp(c->name.str, "wudf.udfs") != 0) continue;
    wudf_udf_sig *sigs = NULL;
    uint32_t n = 0;
    if (wudf_udf_sigs_parse_section((const char *)bytes + c->offset, c->size,
                                    &sigs, &n, NULL) != WUDF_OK)
      return true;
    bool found = false;
    for (uint32_t k = 0; k < n && !found; k++)
      found = !strcmp(sigs[k].name, function);
    free(sigs);
    return found;
  }
  return false;
}

static const wudf_wasm_functype *export_type(const wudf_wasm_info *info,
                                             const char *function) {
  size_t len = strlen(function);
  for (uint32_t i = 0; i < info->nexports; i++) {
    const wudf_wasm_export *x = &info->exports[i];
    if (x->kind == WUDF_EXTERN_FUNC && x->name.len == len &&
        !memcmp(x->name.str, function, len))
      return wudf_wasm_func_type(info, x->index);
  }
  return NULL;
}

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

static wudf_status derive_result(const wudf_wasm_functype *ft, wudf_run_op op,
                                 wudf_type declared, wudf_udf_sig *sig,
                                 wudf_error *err) {
  if (ft->nresults != 1)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "export '%s' returns %u values; a UDF returns one",
                     sig->name, ft->nresults);
  uint8_t r = ft->types[ft->nparams];
  sig->result = op == WUDF_RUN_FILTER ? WUDF_TYPE_BOOL : declared;
  if (wasm_of_type(sig->result) == r) return WUDF_OK;
  if (op == WUDF_RUN_FILTER)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "FILTER needs a function returning bool or int32 (i32); "
                     "export '%s' returns %s",
                     sig->name, wudf_wasm_valtype_str(r));
  return wudf_fail(err, WUDF_ERR_TYPE,
                   "the declared result type %s needs a WebAssembly result "
                   "%s, but export '%s' returns %s",
                   wudf_type_str(declared),
                   wudf_wasm_valtype_str(wasm_of_type(declared)), sig->name,
                   wudf_wasm_valtype_str(r));
}

static wudf_status derive_sig(const wudf_wasm_info *info, const char *function,
                              const wudf_type *cols, uint32_t ncols,
                              wudf_run_op op, wudf_type result,
                              wudf_udf_sig *sig, wudf_error *err) {
  memset(sig, 0, sizeof *sig);
  if (strlen(function) >= sizeof sig->name)
    return wudf_fail(err, WUDF_ERR_ARG, "function name '%.40s...' too long",
                     function);
  snprintf(sig->name, sizeof sig->name, "%s", function);
  const wudf_wasm_functype *ft = export_type(info, function);
  if (!ft)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND,
                     "the module exports no function '%s'", function);
  uint32_t p = 0;
  wudf_status st = WUDF_OK;
  if (!cols) ncols = ft->nparams; /* one parameter per WebAssembly one */
  if (ncols > WUDF_MAX_UDF_PARAMS)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "%u arguments for '%s'; a UDF takes at most %d", ncols,
                     function, WUDF_MAX_UDF_PARAMS);
  for (uint32_t j = 0; st == WUDF_OK && j < ncols; j++) {
    wudf_type col = WUDF_TYPE_INT32;
    if (cols)
      col = cols[j];
    else if (!wudf_type_from_wasm(ft->types[j], &col))
      col = WUDF_TYPE_UTF8; /* refused by derive_param, with a message */
    st = derive_param(ft, &p, j, col, sig, err);
  }
  if (st == WUDF_OK && p != ft->nparams)
    st = wudf_fail(err, WUDF_ERR_TYPE,
                   "export '%s' takes %u WebAssembly parameters; the %u "
                   "column%s given fill %u",
                   function, ft->nparams, ncols, ncols == 1 ? "" : "s", p);
  sig->nparams = ncols;
  if (st == WUDF_OK) st = derive_result(ft, op, result, sig, err);
  return st;
}

wudf_status wudf_run_module_load(wudf_engine *engine, const void *bytes,
                                 size_t len, const char *name,
                                 const char *function,
                                 const wudf_type *col_types, uint32_t ncols,
                                 wudf_run_op op, wudf_type result_type,
                                 wudf_module **out, wudf_error *err) {
  if (!engine || !bytes || !function || !out)
    return wudf_fail(err, WUDF_ERR_ARG, "a required argument is NULL");
  wudf_load_options lo = {.name = name};
  wudf_wasm_info info;
  wudf_udf_sig sig;
  wudf_status st = wudf_wasm_parse(bytes, len, NULL, &info, err);
  if (st != WUDF_OK) {
    wudf_error_prefix(err, "%s", name ? name : "module");
    return st;
  }
  if (!section_declares(bytes, &info, function)) {
    st = derive_sig(&info, function, col_types, ncols, op, result_type, &sig,
                    err);
    if (st != WUDF_OK) wudf_error_prefix(err, "%s", name ? name : "module");
    lo.udfs = &sig;
    lo.nudfs = 1;
  }
  wudf_wasm_info_reset(&info);
  if (st != WUDF_OK) return st;
  return wudf_module_load_ex(engine, bytes, len, &lo, out, err);
}
