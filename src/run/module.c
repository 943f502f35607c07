/*
 * Loading a module for a run: modules whose wudf.udfs section declares the
 * UDF load as they are; for the others (foreign modules, hand-written WAT)
 * the signature is derived from the export's WebAssembly type and the
 * argument columns' types, then declared at load time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "load/derive.h"
#include "load/wasm_info.h"
#include "run/run_internal.h"

/* Whether the module's wudf.udfs section declares `function`. A section that
 * does not parse counts as declaring it: loading it reports the problem. */
static bool section_declares(const uint8_t *bytes, const wudf_wasm_info *info,
                             const char *function) {
  wudf_udf_sig *sigs;
  uint32_t n;
  if (wudf_module_section_udfs(info, bytes, &sigs, &n, NULL) != WUDF_OK)
    return true;
  bool found = false;
  for (uint32_t k = 0; k < n && !found; k++)
    found = !strcmp(sigs[k].name, function);
  wudf_free(sigs);
  return found;
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

/* The signature of `function`, derived from its export's type. */
static wudf_status derive_sig(const wudf_wasm_info *info, const char *function,
                              const wudf_type *cols, uint32_t ncols,
                              wudf_run_op op, wudf_type result,
                              wudf_udf_sig *sig, wudf_error *err) {
  const wudf_wasm_functype *ft = export_type(info, function);
  if (!ft)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND,
                     "the module exports no function '%s'", function);
  wudf_derive_opts o = {cols, ncols, op == WUDF_RUN_FILTER, &result};
  return wudf_udf_sig_derive(function, ft, &o, sig, err);
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
  wudf_status st = wudf_module_parse(engine, bytes, len, &info, err);
  if (st == WUDF_OK && !section_declares(bytes, &info, function)) {
    st = derive_sig(&info, function, col_types, ncols, op, result_type, &sig,
                    err);
    lo.udfs = &sig;
    lo.nudfs = 1;
  }
  if (st != WUDF_OK) {
    wudf_wasm_info_reset(&info);
    wudf_error_set_module(err, name ? name : "module");
    return st;
  }
  return wudf_module_load_parsed(engine, bytes, len, &info, &lo, out, err);
}
