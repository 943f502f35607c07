/*
 * A module's UDFs: signatures from its `wudf.udfs` custom section and from
 * the load options, each checked against the type of the export it names.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "load/udfs_section.h"

#define NO_EXPORT UINT32_MAX

wudf_status wudf_module_section_udfs(const wudf_wasm_info *info,
                                     const uint8_t *bytes, wudf_udf_sig **sigs,
                                     uint32_t *n, wudf_error *err) {
  *sigs = NULL;
  *n = 0;
  for (uint32_t i = 0; i < info->ncustoms; i++) {
    const wudf_wasm_custom *c = &info->customs[i];
    if (!strcmp(c->name.str, WUDF_UDFS_SECTION))
      return wudf_udf_sigs_parse_section((const char *)bytes + c->offset,
                                         c->size, sigs, n, err);
  }
  return WUDF_OK;
}

/* Adds `sig`, replacing an earlier one of the same name. */
static wudf_status add_sig(wudf_module *m, const wudf_udf_sig *sig,
                           uint32_t *cap, wudf_error *err) {
  for (uint32_t i = 0; i < m->nudfs; i++)
    if (!strcmp(m->udfs[i].name, sig->name)) {
      m->udfs[i] = *sig;
      return WUDF_OK;
    }
  if (m->nudfs == *cap) {
    uint32_t n = *cap ? *cap * 2 : 8;
    wudf_udf_sig *p = wudf_realloc(m->udfs, n * sizeof *p);
    if (!p) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
    m->udfs = p;
    *cap = n;
  }
  m->udfs[m->nudfs++] = *sig;
  return WUDF_OK;
}

static wudf_status gather(wudf_module *m, const uint8_t *bytes,
                          const wudf_load_options *o, wudf_error *err) {
  uint32_t cap = 0, n;
  wudf_udf_sig *sigs;
  wudf_status st = wudf_module_section_udfs(&m->info, bytes, &sigs, &n, err);
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++)
    st = add_sig(m, &sigs[i], &cap, err);
  wudf_free(sigs);
  for (uint32_t i = 0; st == WUDF_OK && o && i < o->nudfs; i++)
    st = add_sig(m, &o->udfs[i], &cap, err);
  return st;
}

/* Finds function export `name`; NO_EXPORT if there is none. */
static uint32_t func_export(const wudf_module *m, const char *name) {
  int64_t x = wudf_module_find_export(m, name, (uint32_t)strlen(name));
  if (x < 0 || m->info.exports[x].kind != WUDF_EXTERN_FUNC) return NO_EXPORT;
  return (uint32_t)x;
}

static bool type_is(const wudf_wasm_functype *ft, const uint8_t *params,
                    uint32_t np, const uint8_t *results, uint32_t nr) {
  return ft->nparams == np && ft->nresults == nr &&
         (np == 0 || !memcmp(ft->types, params, np)) &&
         (nr == 0 || !memcmp(ft->types + np, results, nr));
}

static wudf_status check_sig(wudf_module *m, uint32_t k, wudf_error *err) {
  const wudf_udf_sig *sig = &m->udfs[k];
  char text[512], want[256], have[256];
  wudf_udf_sig_format(sig, text, sizeof text);
  uint32_t x = func_export(m, sig->name);
  if (x == NO_EXPORT)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "UDF %s: the module exports no function '%s'", text,
                     sig->name);
  uint8_t params[3 * WUDF_MAX_UDF_PARAMS], result;
  uint32_t np;
  wudf_udf_sig_wasm_type(sig, params, sizeof params, &np, &result);
  const wudf_wasm_functype *ft =
      wudf_wasm_func_type(&m->info, m->info.exports[x].index);
  m->udf_exports[k] = x;
  if (type_is(ft, params, np, &result, 1)) return WUDF_OK;
  wudf_wasm_functype need = {np, 1, NULL};
  uint8_t types[3 * WUDF_MAX_UDF_PARAMS + 1];
  memcpy(types, params, np);
  types[np] = result;
  need.types = types;
  wudf_functype_str(&need, want, sizeof want);
  wudf_functype_str(ft, have, sizeof have);
  return wudf_fail(err, WUDF_ERR_TYPE,
                   "UDF %s needs the WebAssembly type %s, but export '%s' "
                   "has type %s (see docs/abi.md)",
                   text, want, sig->name, have);
}

static bool uses_strings(const wudf_module *m, bool params_only) {
  for (uint32_t k = 0; k < m->nudfs; k++) {
    const wudf_udf_sig *s = &m->udfs[k];
    for (uint32_t j = 0; j < s->nparams; j++)
      if (s->params[j] == WUDF_TYPE_UTF8) return true;
    if (!params_only && s->result == WUDF_TYPE_UTF8) return true;
  }
  return false;
}

/* String UDFs need the module's memory and, for string arguments, its
 * allocator (docs/abi.md). */
static wudf_status check_string_abi(wudf_module *m, wudf_error *err) {
  static const uint8_t i32 = WUDF_WASM_I32;
  m->alloc_export = func_export(m, "wudf_alloc");
  m->reset_export = func_export(m, "wudf_reset");
  if (m->reset_export != NO_EXPORT &&
      !type_is(
          wudf_wasm_func_type(&m->info, m->info.exports[m->reset_export].index),
          NULL, 0, NULL, 0))
    m->reset_export = NO_EXPORT;
  if (!uses_strings(m, false)) return WUDF_OK;
  int64_t mem = wudf_module_find_export(m, "memory", 6);
  if (mem < 0 || m->info.exports[mem].kind != WUDF_EXTERN_MEMORY)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "UDFs with utf8 arguments or results need the module "
                     "to export its memory as 'memory'");
  if (!uses_strings(m, true)) return WUDF_OK;
  if (m->alloc_export == NO_EXPORT ||
      !type_is(
          wudf_wasm_func_type(&m->info, m->info.exports[m->alloc_export].index),
          &i32, 1, &i32, 1))
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "UDFs with utf8 arguments need the module to export "
                     "'wudf_alloc' of type (i32) -> (i32) (see docs/abi.md)");
  return WUDF_OK;
}

wudf_status wudf_module_collect_udfs(wudf_module *m, const uint8_t *bytes,
                                     const wudf_load_options *o,
                                     wudf_error *err) {
  m->alloc_export = m->reset_export = NO_EXPORT;
  wudf_status st = gather(m, bytes, o, err);
  if (st == WUDF_OK && m->nudfs) {
    m->udf_exports = wudf_calloc(m->nudfs, sizeof *m->udf_exports);
    if (!m->udf_exports) st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  for (uint32_t k = 0; st == WUDF_OK && k < m->nudfs; k++)
    st = check_sig(m, k, err);
  if (st == WUDF_OK) st = check_string_abi(m, err);
  return st;
}

uint32_t wudf_module_udf_count(const wudf_module *m) {
  return m ? m->nudfs : 0;
}

wudf_status wudf_module_udf(const wudf_module *m, uint32_t index,
                            wudf_udf_sig *sig) {
  if (!m || !sig || index >= m->nudfs) return WUDF_ERR_ARG;
  *sig = m->udfs[index];
  return WUDF_OK;
}

int64_t wudf_module_find_udf(const wudf_module *m, const char *name) {
  if (!m || !name) return -1;
  for (uint32_t k = 0; k < m->nudfs; k++)
    if (!strcmp(m->udfs[k].name, name)) return k;
  return -1;
}
