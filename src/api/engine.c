/* Engine: configuration, cache, toolchain, host-defined imports. */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/alloc.h"
#include "common/error.h"

#define MAX_HOST_FUNC_VALUES 16

void wudf_limits_init(wudf_limits *limits) {
  limits->memory_bytes = 256ull << 20;
  limits->table_elements = 1000000;
  limits->timeout_ms = 10000;
  limits->output_bytes = 64u << 10;
}

void wudf_engine_config_init(wudf_engine_config *config) {
  memset(config, 0, sizeof *config);
  config->compile_timeout_s = 120;
  config->max_module_bytes = 64ull << 20;
  config->max_functions = 50000;
  config->allow_wasi = true;
  wudf_limits_init(&config->limits);
}

static char *dup_or(const char *value, const char *dflt) {
  return wudf_strdup(value && *value ? value : dflt);
}

static wudf_status check_limits(const wudf_limits *l, wudf_error *err) {
  if (l->memory_bytes > (65535ull << 16))
    return wudf_fail(err, WUDF_ERR_ARG,
                     "memory limit of %llu bytes is above the 4 GiB - 64 KiB "
                     "that a 32-bit memory can use",
                     (unsigned long long)l->memory_bytes);
  return WUDF_OK;
}

wudf_status wudf_engine_new(const wudf_engine_config *config, wudf_engine **out,
                            wudf_error *err) {
  if (!out) return wudf_fail(err, WUDF_ERR_ARG, "out is NULL");
  *out = NULL;
  wudf_engine *e = wudf_calloc(1, sizeof *e);
  if (!e) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  int rc = pthread_mutex_init(&e->lock, NULL);
  if (rc != 0) {
    wudf_free(e);
    return wudf_fail(err, WUDF_ERR_SYSTEM, "engine: creating a lock: %s",
                     strerror(rc));
  }
  wudf_status st;
  if (config)
    e->config = *config;
  else
    wudf_engine_config_init(&e->config);
  if ((st = check_limits(&e->config.limits, err)) != WUDF_OK) goto fail;
  e->cc = dup_or(e->config.cc, "cc");
  e->wasm2c = dup_or(e->config.wasm2c, "wasm2c");
  if (!e->cc || !e->wasm2c) {
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
    goto fail;
  }
  e->config.cc = e->cc;
  e->config.wasm2c = e->wasm2c;
  if ((st = wudf_rt_init(err)) != WUDF_OK) goto fail;
  if ((st = wudf_cache_open(&e->cache, e->config.cache_dir, err)) != WUDF_OK)
    goto fail;
  e->config.cache_dir = e->cache.dir;
  st = wudf_toolchain_init(&e->toolchain, e->cc, e->wasm2c,
                           e->config.compile_timeout_s, err);
  if (st != WUDF_OK) goto fail;
  *out = e;
  return WUDF_OK;
fail:
  wudf_engine_free(e);
  return st;
}

static void host_item_free(wudf_host_item *it) {
  if (!it) return;
  if (it->kind == WUDF_EXTERN_MEMORY) wudf_rt_memory_delete(&it->memory);
  if (it->kind == WUDF_EXTERN_TABLE) wudf_rt_funcref_table_delete(&it->table);
  wudf_free(it->type.types);
  wudf_free(it->module_name);
  wudf_free(it->name);
  wudf_free(it);
}

void wudf_engine_free(wudf_engine *e) {
  if (!e) return;
  for (uint32_t i = 0; i < e->nitems; i++) host_item_free(e->items[i]);
  wudf_free(e->items);
  for (uint32_t i = 0; i < e->nregistered; i++)
    wudf_free(e->registered[i].name);
  wudf_free(e->registered);
  wudf_toolchain_reset(&e->toolchain);
  wudf_cache_reset(&e->cache);
  pthread_mutex_destroy(&e->lock);
  wudf_free(e->cc);
  wudf_free(e->wasm2c);
  wudf_free(e);
}

const char *wudf_engine_cache_dir(const wudf_engine *engine) {
  return engine ? engine->cache.dir : NULL;
}

/* Creates an item named module_name.name, refusing duplicates. */
static wudf_status new_item(wudf_engine *e, const char *module_name,
                            const char *name, wudf_extern_kind kind,
                            wudf_host_item **out, wudf_error *err) {
  if (!e || !module_name || !name)
    return wudf_fail(err, WUDF_ERR_ARG, "engine, module or name is NULL");
  for (uint32_t i = 0; i < e->nitems; i++)
    if (!strcmp(e->items[i]->module_name, module_name) &&
        !strcmp(e->items[i]->name, name))
      return wudf_fail(err, WUDF_ERR_ARG, "'%s'.'%s' is already defined",
                       module_name, name);
  wudf_host_item *it = wudf_calloc(1, sizeof *it);
  if (!it) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  it->module_name = wudf_strdup(module_name);
  it->name = wudf_strdup(name);
  it->kind = kind;
  if (!it->module_name || !it->name) goto nomem;
  if (e->nitems == e->items_cap) {
    uint32_t cap = e->items_cap ? e->items_cap * 2 : 16;
    wudf_host_item **items = wudf_realloc(e->items, cap * sizeof *items);
    if (!items) goto nomem;
    e->items = items;
    e->items_cap = cap;
  }
  *out = it;
  return WUDF_OK;
nomem:
  host_item_free(it);
  return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
}

static void add_item(wudf_engine *e, wudf_host_item *it) {
  pthread_mutex_lock(&e->lock);
  e->items[e->nitems++] = it;
  pthread_mutex_unlock(&e->lock);
}

wudf_status wudf_engine_define_func(
    wudf_engine *e, const char *module_name, const char *name,
    const wudf_valtype *params, uint32_t nparams, const wudf_valtype *results,
    uint32_t nresults, wudf_host_func func, void *user, wudf_error *err) {
  if (!func || nparams > MAX_HOST_FUNC_VALUES ||
      nresults > MAX_HOST_FUNC_VALUES || (nparams && !params) ||
      (nresults && !results))
    return wudf_fail(err, WUDF_ERR_ARG,
                     "host function needs a callback and at most %d "
                     "parameters and results",
                     MAX_HOST_FUNC_VALUES);
  wudf_host_item *it;
  wudf_status st = new_item(e, module_name, name, WUDF_EXTERN_FUNC, &it, err);
  if (st != WUDF_OK) return st;
  it->type.types = wudf_malloc(nparams + nresults + 1u);
  if (!it->type.types) {
    host_item_free(it);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  it->type.nparams = nparams;
  it->type.nresults = nresults;
  for (uint32_t i = 0; i < nparams; i++)
    it->type.types[i] = wudf_valtype_to_wasm(params[i]);
  for (uint32_t i = 0; i < nresults; i++)
    it->type.types[nparams + i] = wudf_valtype_to_wasm(results[i]);
  it->fn = func;
  it->user = user;
  add_item(e, it);
  return WUDF_OK;
}

wudf_status wudf_engine_define_global(wudf_engine *e, const char *module_name,
                                      const char *name, wudf_val value,
                                      bool mutable_, wudf_error *err) {
  wudf_host_item *it;
  wudf_status st = new_item(e, module_name, name, WUDF_EXTERN_GLOBAL, &it, err);
  if (st != WUDF_OK) return st;
  it->valtype = wudf_valtype_to_wasm(value.type);
  it->mutable_ = mutable_;
  st = wudf_val_to_shim(&value, it->valtype, &it->value, err);
  if (st != WUDF_OK) {
    host_item_free(it);
    return st;
  }
  add_item(e, it);
  return WUDF_OK;
}

wudf_status wudf_engine_define_memory(wudf_engine *e, const char *module_name,
                                      const char *name, uint32_t min_pages,
                                      uint32_t max_pages, wudf_error *err) {
  wudf_host_item *it;
  wudf_status st = new_item(e, module_name, name, WUDF_EXTERN_MEMORY, &it, err);
  if (st != WUDF_OK) return st;
  it->limits = (wudf_wasm_limits){min_pages, max_pages, true};
  st = wudf_rt_memory_new(&it->memory, min_pages, max_pages, err);
  if (st != WUDF_OK) {
    host_item_free(it);
    return st;
  }
  add_item(e, it);
  return WUDF_OK;
}

wudf_status wudf_engine_define_table(wudf_engine *e, const char *module_name,
                                     const char *name, uint32_t min_elements,
                                     uint32_t max_elements, wudf_error *err) {
  wudf_host_item *it;
  wudf_status st = new_item(e, module_name, name, WUDF_EXTERN_TABLE, &it, err);
  if (st != WUDF_OK) return st;
  it->limits = (wudf_wasm_limits){min_elements, max_elements, true};
  it->valtype = WUDF_WASM_FUNCREF;
  st = wudf_rt_funcref_table_new(&it->table, min_elements, max_elements, err);
  if (st != WUDF_OK) {
    host_item_free(it);
    return st;
  }
  add_item(e, it);
  return WUDF_OK;
}

wudf_status wudf_engine_register_instance(wudf_engine *e, const char *as_name,
                                          wudf_instance *instance,
                                          wudf_error *err) {
  if (!e || !as_name || !instance)
    return wudf_fail(err, WUDF_ERR_ARG, "engine, name or instance is NULL");
  char *name = wudf_strdup(as_name);
  if (!name) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  pthread_mutex_lock(&e->lock);
  wudf_status st = WUDF_OK;
  uint32_t i = 0;
  while (i < e->nregistered && strcmp(e->registered[i].name, as_name)) i++;
  if (i < e->nregistered) { /* a later registration replaces the earlier */
    wudf_free(e->registered[i].name);
  } else if (e->nregistered == e->registered_cap) {
    uint32_t cap = e->registered_cap ? e->registered_cap * 2 : 8;
    wudf_registered *r = wudf_realloc(e->registered, cap * sizeof *r);
    if (!r) {
      st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
      goto out;
    }
    e->registered = r;
    e->registered_cap = cap;
  }
  e->registered[i] = (wudf_registered){name, instance};
  if (i == e->nregistered) e->nregistered++;
  name = NULL;
out:
  pthread_mutex_unlock(&e->lock);
  wudf_free(name);
  return st;
}
