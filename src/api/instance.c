/*
 * Instances: instantiation under the trap guard, calls by export name, and
 * rebuilding after a trap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/alloc.h"
#include "common/error.h"

void wudf_instance_config_init(const wudf_engine *engine,
                               wudf_instance_config *config) {
  memset(config, 0, sizeof *config);
  if (engine)
    config->limits = engine->config.limits;
  else
    wudf_limits_init(&config->limits);
}

static void set_opts(wudf_instance *inst) {
  const wudf_limits *l = &inst->config.limits;
  inst->opts.timeout_ms = l->timeout_ms;
  inst->opts.memory_cap_pages = l->memory_bytes >> 16;
  inst->opts.table_cap = l->table_elements;
  inst->opts.intr = &inst->intr;
}

/* Fills err for a guarded call that ended with a trap or error. */
wudf_status wudf_instance_report(const wudf_instance *inst, const char *what,
                                 const wudf_rt_outcome *o, wudf_error *err) {
  char extra[200] = "";
  if (o->detail[0])
    snprintf(extra, sizeof extra, " (%s)", o->detail);
  else if (o->grow_refused && o->status != WUDF_OK)
    snprintf(extra, sizeof extra,
             " (memory.grow was refused earlier at the %llu MiB limit)",
             (unsigned long long)(inst->config.limits.memory_bytes >> 20));
  if (o->status == WUDF_TRAP_EXIT) {
    wudf_fail(err, o->status, "%s: exited with code %d", what, o->exit_code);
    if (err) err->exit_code = o->exit_code;
  } else {
    wudf_fail(err, o->status, "%s: %s%s", what, wudf_status_str(o->status),
              extra);
  }
  wudf_error_set_module(err, inst->module->name);
  return o->status;
}

/* Memory 0 of the instance, for WASI: an imported memory's slot, or an
 * exported defined memory (whose address is known before instantiation). */
wasm_rt_memory_t *wudf_instance_memory0(const wudf_instance *inst) {
  const wudf_module *m = inst->module;
  for (uint32_t i = 0; i < m->info.nimports; i++)
    if (m->info.imports[i].kind == WUDF_EXTERN_MEMORY)
      return inst->imports->slot[m->shim.import_slot[i]].ptr;
  for (uint32_t i = 0; i < m->info.nexports; i++)
    if (m->info.exports[i].kind == WUDF_EXTERN_MEMORY &&
        m->info.exports[i].index == 0)
      return m->desc->exports[i].get(inst->storage);
  return NULL;
}

/* WASI reactors export `_initialize` (C constructors, libc set-up), which
 * must run once before any other export. */
static const wudf_shim_export *reactor_init(const wudf_module *m) {
  int64_t x = wudf_module_find_export(m, "_initialize", 11);
  if (x < 0 || m->info.exports[x].kind != WUDF_EXTERN_FUNC) return NULL;
  const wudf_wasm_functype *ft =
      wudf_wasm_func_type(&m->info, m->info.exports[x].index);
  return ft->nparams || ft->nresults ? NULL : &m->desc->exports[x];
}

static void instantiate_body(void *arg) {
  wudf_instance *inst = arg;
  const wudf_module *m = inst->module;
  m->desc->instantiate(inst->storage, inst->imports);
  const wudf_shim_export *init = reactor_init(m);
  if (init) init->invoke(inst->storage, NULL, NULL);
}

static void discard(wudf_instance *inst) {
  if (inst->live || inst->needs_rebuild)
    inst->module->desc->free_instance(inst->storage);
  memset(inst->storage, 0, inst->module->desc->instance_size);
  inst->live = false;
}

static wudf_status instantiate(wudf_instance *inst, wudf_error *err) {
  wudf_status st = wudf_link_resolve(inst, err);
  if (st != WUDF_OK) return st;
  inst->wasi.memory = wudf_instance_memory0(inst);
  wudf_rt_outcome o;
  st = wudf_rt_guarded(&inst->opts, instantiate_body, inst, &o);
  inst->needs_rebuild = false;
  if (st != WUDF_OK) {
    /* Free what the partial instantiation allocated. */
    inst->live = true;
    discard(inst);
    return wudf_instance_report(inst, "instantiating", &o, err);
  }
  inst->live = true;
  return WUDF_OK;
}

wudf_status wudf_instance_new(wudf_module *module,
                              const wudf_instance_config *config,
                              wudf_instance **out, wudf_error *err) {
  if (!module || !out)
    return wudf_fail(err, WUDF_ERR_ARG, "module or out is NULL");
  *out = NULL;
  wudf_instance *inst = wudf_calloc(1, sizeof *inst);
  if (!inst) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  inst->module = module;
  if (config)
    inst->config = *config;
  else
    wudf_instance_config_init(module->engine, &inst->config);
  set_opts(inst);
  wudf_wasi_ctx_init(&inst->wasi, inst->config.limits.output_bytes);
  uint64_t size = module->desc->instance_size;
  inst->storage = size <= SIZE_MAX ? wudf_calloc(1, (size_t)size) : NULL;
  inst->imports =
      wudf_calloc(1, sizeof *inst->imports + (module->shim.nslots + 1u) *
                                                 sizeof inst->imports->slot[0]);
  wudf_status st = WUDF_OK;
  if (!inst->storage || !inst->imports)
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  if (st == WUDF_OK) {
    inst->imports->self = inst->imports;
    st = instantiate(inst, err);
  }
  if (st != WUDF_OK) {
    wudf_instance_free(inst);
    return st;
  }
  *out = inst;
  return WUDF_OK;
}

void wudf_instance_free(wudf_instance *inst) {
  if (!inst) return;
  /* A call a host function left by longjmp must not outlive its options. */
  wudf_rt_forget_call(&inst->opts);
  /* No stray timer signal on this thread after its last instance is gone. */
  wudf_rt_timer_quiesce();
  if (inst->storage) discard(inst);
  wudf_wasi_ctx_reset(&inst->wasi);
  wudf_free(inst->storage);
  wudf_free(inst->imports);
  wudf_free(inst);
}

/* A call in progress: what the guarded body needs. */
typedef struct call_frame {
  const wudf_shim_export *export;
  void *storage;
  const wudf_shim_val *args;
  wudf_shim_val *results;
} call_frame;

static void call_body(void *arg) {
  call_frame *f = arg;
  f->export->invoke(f->storage, f->args, f->results);
}

/* Checks that export `x` is a function taking nargs and giving nresults. */
static wudf_status check_func(const wudf_instance *inst, uint32_t x,
                              uint32_t nargs, uint32_t nresults,
                              wudf_error *err) {
  const wudf_module *m = inst->module;
  if (x >= m->info.nexports || m->info.exports[x].kind != WUDF_EXTERN_FUNC)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND, "%s: export %u is not a function",
                     m->name, x);
  const wudf_wasm_functype *ft =
      wudf_wasm_func_type(&m->info, m->info.exports[x].index);
  if (ft->nparams == nargs && ft->nresults == nresults) return WUDF_OK;
  char sig[256];
  wudf_functype_str(ft, sig, sizeof sig);
  return wudf_fail(err, WUDF_ERR_TYPE,
                   "%s: '%s' has type %s; called with %u arguments and %u "
                   "results",
                   m->name, m->info.exports[x].name.str, sig, nargs, nresults);
}

static wudf_status pack_args(const wudf_instance *inst,
                             const wudf_wasm_functype *ft, const char *name,
                             const wudf_val *args, wudf_shim_val *out,
                             wudf_error *err) {
  for (uint32_t i = 0; i < ft->nparams; i++) {
    wudf_status st = wudf_val_to_shim(&args[i], ft->types[i], &out[i], err);
    if (st != WUDF_OK) {
      wudf_error_prefix(err, "%s: '%s' argument %u", inst->module->name, name,
                        i + 1);
      return st;
    }
  }
  return WUDF_OK;
}

wudf_status wudf_instance_rebuild(wudf_instance *inst, wudf_error *err) {
  /* A call left by longjmp stopped anywhere: its state cannot be kept. */
  if (atomic_exchange(&inst->intr.abandoned, 0)) inst->needs_rebuild = true;
  if (!inst->needs_rebuild) return WUDF_OK;
  discard(inst);
  return instantiate(inst, err);
}

wudf_status wudf_instance_prepare(wudf_instance *inst, wudf_error *err) {
  wudf_status st = wudf_instance_rebuild(inst, err);
  if (st == WUDF_OK) wudf_wasi_ctx_clear_output(&inst->wasi);
  return st;
}

void wudf_instance_rewind_output(wudf_instance *inst, size_t len,
                                 bool truncated) {
  wudf_wasi_ctx *w = &inst->wasi;
  if (len > w->out_len) return;
  w->out_len = len;
  w->truncated = truncated;
  if (w->out) w->out[len] = '\0';
}

wudf_status wudf_instance_guarded(wudf_instance *inst, wudf_rt_body body,
                                  void *arg, wudf_rt_outcome *o) {
  wudf_status st = wudf_rt_guarded(&inst->opts, body, arg, o);
  if (st != WUDF_OK && !inst->config.keep_state_on_trap)
    inst->needs_rebuild = true;
  return st;
}

#define MAX_CALL_VALUES 64

wudf_status wudf_instance_call(wudf_instance *inst, const char *name,
                               const wudf_val *args, uint32_t nargs,
                               wudf_val *results, uint32_t nresults,
                               wudf_error *err) {
  if (!inst || !name)
    return wudf_fail(err, WUDF_ERR_ARG, "instance or name is NULL");
  const wudf_module *m = inst->module;
  int64_t x = wudf_module_find_export(m, name, (uint32_t)strlen(name));
  if (x < 0 || m->info.exports[x].kind != WUDF_EXTERN_FUNC)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND, "%s: no exported function '%s'",
                     m->name, name);
  return wudf_instance_call_export(inst, (uint32_t)x, args, nargs, results,
                                   nresults, err);
}

wudf_status wudf_instance_call_export(wudf_instance *inst, uint32_t x,
                                      const wudf_val *args, uint32_t nargs,
                                      wudf_val *results, uint32_t nresults,
                                      wudf_error *err) {
  if (!inst || (nargs && !args) || (nresults && !results))
    return wudf_fail(err, WUDF_ERR_ARG, "instance, args or results is NULL");
  if (nargs > MAX_CALL_VALUES || nresults > MAX_CALL_VALUES)
    return wudf_fail(err, WUDF_ERR_ARG, "at most %d arguments and results",
                     MAX_CALL_VALUES);
  wudf_status st = check_func(inst, x, nargs, nresults, err);
  if (st != WUDF_OK) return st;
  const wudf_module *m = inst->module;
  const char *name = m->info.exports[x].name.str;
  const wudf_wasm_functype *ft =
      wudf_wasm_func_type(&m->info, m->info.exports[x].index);
  wudf_shim_val a[MAX_CALL_VALUES], r[MAX_CALL_VALUES];
  if ((st = pack_args(inst, ft, name, args, a, err)) != WUDF_OK) return st;
  if ((st = wudf_instance_prepare(inst, err)) != WUDF_OK) return st;
  call_frame frame = {&m->desc->exports[x], inst->storage, a, r};
  wudf_rt_outcome o;
  st = wudf_instance_guarded(inst, call_body, &frame, &o);
  if (st != WUDF_OK) {
    char what[300];
    snprintf(what, sizeof what, "calling '%s'", name);
    wudf_instance_report(inst, what, &o, err);
    wudf_locate_trap(m, err);
    return st;
  }
  for (uint32_t i = 0; i < nresults; i++)
    wudf_val_from_shim(&r[i], ft->types[ft->nparams + i], &results[i]);
  return WUDF_OK;
}

wudf_module *wudf_instance_module(const wudf_instance *inst) {
  return inst ? inst->module : NULL;
}

wudf_status wudf_instance_get_global(wudf_instance *inst, const char *name,
                                     wudf_val *out, wudf_error *err) {
  if (!inst || !name || !out)
    return wudf_fail(err, WUDF_ERR_ARG, "instance, name or out is NULL");
  const wudf_module *m = inst->module;
  int64_t x = wudf_module_find_export(m, name, (uint32_t)strlen(name));
  if (x < 0 || m->info.exports[x].kind != WUDF_EXTERN_GLOBAL)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND, "%s: no exported global '%s'",
                     m->name, name);
  wudf_extern_info xi;
  wudf_module_export(m, (uint32_t)x, &xi);
  uint8_t type = wudf_valtype_to_wasm(xi.results[0]);
  wudf_shim_val v;
  memset(&v, 0, sizeof v);
  memcpy(&v, m->desc->exports[x].get(inst->storage), wudf_shim_val_size(type));
  wudf_val_from_shim(&v, type, out);
  return WUDF_OK;
}

void wudf_instance_interrupt(wudf_instance *inst) {
  if (inst) wudf_rt_request_interrupt(&inst->intr);
}

const char *wudf_instance_output(const wudf_instance *inst, size_t *len,
                                 bool *truncated) {
  if (len) *len = inst ? inst->wasi.out_len : 0;
  if (truncated) *truncated = inst && inst->wasi.truncated;
  return inst && inst->wasi.out ? inst->wasi.out : "";
}

void wudf_instance_clear_output(wudf_instance *inst) {
  if (inst) wudf_wasi_ctx_clear_output(&inst->wasi);
}

uint64_t wudf_instance_memory_size(const wudf_instance *inst) {
  if (!inst) return 0;
  const wasm_rt_memory_t *mem = wudf_instance_memory0(inst);
  return mem ? mem->size : 0;
}
