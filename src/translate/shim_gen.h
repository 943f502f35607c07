/*
 * Generation of the trusted C shim compiled with wasm2c's output (see
 * shim_abi.h for what the shim provides).
 */
#ifndef WUDF_TRANSLATE_SHIM_GEN_H
#define WUDF_TRANSLATE_SHIM_GEN_H

#include "common/strbuf.h"
#include "load/wasm_info.h"

typedef struct wudf_shim_source {
  char module_name[32]; /* the --module-name given to wasm2c */
  char *prelude;        /* owned: C text before the wasm2c output */
  char *postlude;       /* owned: C text after it */
  const char *call_indirect_override; /* static text */
  uint32_t nslots;                    /* distinct (module, name) imports */
  uint32_t *import_slot; /* owned: slot of each import of the module */
  bool conflict;         /* an import name appears twice with different types */
  /* Defined function i is named <func_prefix><i> in the name section given
   * to wasm2c (wudf_shim_rename_functions), so the shim can take its
   * address: wasm2c calls it w2c_<func_prefix><i>. */
  char func_prefix[16];
} wudf_shim_source;

/* Generates the shim for a module that wudf_wasm_parse() accepted.
 * Refuses (WUDF_ERR_UNSUPPORTED) a module that imports the same name twice
 * with different types, which wasm2c 1.0.32 cannot translate; then only
 * `conflict` and the import slots are filled, so that imports can still be
 * checked (an unprovided import is the more useful error). */
/* `udfs` (with the export index of each in `udf_exports`) get a batch loop
 * each; their types have been checked against the exports. */
wudf_status wudf_shim_generate(const wudf_wasm_info *info,
                               const wudf_udf_sig *udfs,
                               const uint32_t *udf_exports, uint32_t nudfs,
                               wudf_shim_source *out, wudf_error *err);

void wudf_shim_source_reset(wudf_shim_source *src);

/* Picks src->func_prefix: one that no import or export name starts with
 * (shim_names.c). */
void wudf_shim_choose_func_prefix(const wudf_wasm_info *info,
                                  wudf_shim_source *src);

/* The module as wasm2c is given it: `bytes` with every `name` section
 * replaced by one that names defined function i <src->func_prefix><i>.
 * *out is owned by the caller (free()). WUDF_ERR_NOMEM, or WUDF_ERR_LIMIT
 * when the result would pass 4 GiB. */
wudf_status wudf_shim_rename_functions(const uint8_t *bytes, size_t len,
                                       const wudf_wasm_info *info,
                                       const wudf_shim_source *src,
                                       uint8_t **out, size_t *out_len,
                                       wudf_error *err);

/* Appends `name` mangled as wasm2c 1.0.32 mangles module, import and export
 * names in C identifiers: [A-Za-z0-9_] as is except 'Z', every other byte
 * as 'Z' followed by two upper-case hex digits. */
void wudf_shim_mangle(wudf_strbuf *sb, const char *name, uint32_t len);

/* The text of shim_abi.h (generated at build time). */
extern const char wudf_shim_abi_text[];

#endif
