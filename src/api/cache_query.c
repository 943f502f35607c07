/*
 * Asking whether a module's native code is in the engine's cache, without
 * building anything: the same steps as wudf_module_load_ex() up to the cache
 * key (wudf_module_prepare), then the entry is looked at (wudf_cache_has).
 */
#include <stdlib.h>

#include "api/api_internal.h"
#include "common/alloc.h"
#include "common/error.h"

wudf_status wudf_module_is_cached(wudf_engine *engine, const void *bytes,
                                  size_t len, const wudf_load_options *options,
                                  bool *cached, wudf_error *err) {
  if (!engine || (!bytes && len) || !cached)
    return wudf_fail(err, WUDF_ERR_ARG, "engine, bytes or cached is NULL");
  *cached = false;
  wudf_module *m = wudf_calloc(1, sizeof *m);
  if (!m) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  m->engine = engine;
  wudf_status st = wudf_module_prepare(m, bytes, len, options, NULL, err);
  if (st == WUDF_OK) {
    wudf_build_input in;
    wudf_module_build_input(m, bytes, len, &in);
    *cached = wudf_cache_has(&engine->cache, &engine->toolchain, &in);
  }
  wudf_module_free(m);
  return st;
}
