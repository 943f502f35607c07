/*
 * Asking whether a module's native code is in the engine's cache, without
 * building anything: the same steps as wudf_module_load_ex() up to the
 * cache key (parse, UDFs, shim), then the entry's file is looked at with
 * the cache's rules (translate/cache.h: <dir>/<key[0..1]>/<key>.so, a
 * regular file of ours that nobody else may write).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "common/error.h"

static int cmp_export_names(const void *x, const void *y, void *ctx) {
  const wudf_wasm_export *ex = ((const wudf_wasm_info *)ctx)->exports;
  const wudf_wasm_name *a = &ex[*(const uint32_t *)x].name;
  const wudf_wasm_name *b = &ex[*(const uint32_t *)y].name;
  uint32_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->str, b->str, n);
  return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* What module.c's parse() and index_exports() do before the UDFs are
 * collected. */
static wudf_status prepare(wudf_module *m, const void *bytes, size_t len,
                           wudf_error *err) {
  const wudf_engine_config *c = &m->engine->config;
  if (len > c->max_module_bytes)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "module is %zu bytes; the limit is %llu", len,
                     (unsigned long long)c->max_module_bytes);
  wudf_wasm_parse_limits limits = {
      .max_functions = c->max_functions,
      .max_table_elements = c->limits.table_elements,
      .max_memory_pages = c->limits.memory_bytes >> 16,
  };
  wudf_status st = wudf_wasm_parse(bytes, len, &limits, &m->info, err);
  if (st != WUDF_OK) return st;
  uint32_t n = m->info.nexports;
  m->exports_by_name = malloc((n ? n : 1) * sizeof *m->exports_by_name);
  if (!m->exports_by_name)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) m->exports_by_name[i] = i;
  qsort_r(m->exports_by_name, n, sizeof *m->exports_by_name, cmp_export_names,
          &m->info);
  return WUDF_OK;
}

static bool entry_present(const char *dir, const char *key) {
  char path[4096];
  int n = snprintf(path, sizeof path, "%s/%.2s/%s.so", dir, key, key);
  struct stat st;
  return n > 0 && (size_t)n < sizeof path && lstat(path, &st) == 0 &&
         S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
         !(st.st_mode & (S_IWGRP | S_IWOTH));
}

wudf_status wudf_module_is_cached(wudf_engine *engine, const void *bytes,
                                  size_t len, const wudf_load_options *options,
                                  bool *cached, wudf_error *err) {
  if (!engine || (!bytes && len) || !cached)
    return wudf_fail(err, WUDF_ERR_ARG, "engine, bytes or cached is NULL");
  *cached = false;
  wudf_module *m = calloc(1, sizeof *m);
  if (!m) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  m->engine = engine;
  wudf_status st = prepare(m, bytes, len, err);
  if (st == WUDF_OK) st = wudf_module_collect_udfs(m, bytes, options, err);
  if (st == WUDF_OK)
    st = wudf_shim_generate(&m->info, m->udfs, m->udf_exports, m->nudfs,
                            &m->shim, err);
  if (st == WUDF_OK) {
    wudf_build_input in = {
        .wasm = bytes,
        .wasm_len = len,
        .module_name = m->shim.module_name,
        .prelude = m->shim.prelude,
        .postlude = m->shim.postlude,
        .call_indirect_override = m->shim.call_indirect_override,
    };
    char key[65];
    wudf_toolchain_key(&engine->toolchain, &in, key);
    *cached = entry_present(engine->cache.dir, key);
  }
  const char *name = options && options->name ? options->name : "module";
  if (st != WUDF_OK) wudf_error_prefix(err, "%s", name);
  wudf_module_free(m);
  return st;
}
