/*
 * Resolving a module's imports against what the engine provides: instances
 * registered by name, host-defined items, and the WASI subset. Anything else
 * is refused, naming each import.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/error.h"
#include "common/strbuf.h"

/* What one import resolves to. */
typedef struct link_target {
  wudf_shim_import slot;
  /* Type of what is provided, for the check. */
  wudf_extern_kind kind;
  const wudf_wasm_functype *functype;
  wudf_wasm_functype wasi_type; /* storage for a WASI signature */
  uint8_t wasi_types[16];
  wudf_wasm_globaltype global;
  uint8_t table_elem;
  uint64_t current; /* memories, tables: current size */
  wudf_wasm_limits limits;
} link_target;

static const wudf_registered *find_registered(const wudf_engine *e,
                                              const wudf_wasm_name *module) {
  for (uint32_t i = 0; i < e->nregistered; i++)
    if (strlen(e->registered[i].name) == module->len &&
        !memcmp(e->registered[i].name, module->str, module->len))
      return &e->registered[i];
  return NULL;
}

static const wudf_host_item *find_item(const wudf_engine *e,
                                       const wudf_wasm_import *im) {
  for (uint32_t i = 0; i < e->nitems; i++) {
    const wudf_host_item *it = e->items[i];
    if (!strcmp(it->module_name, im->module.str) &&
        !strcmp(it->name, im->name.str))
      return it;
  }
  return NULL;
}

static const wudf_wasm_limits *memory_limits(const wudf_wasm_info *info,
                                             uint32_t index) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < info->nimports; i++)
    if (info->imports[i].kind == WUDF_EXTERN_MEMORY && n++ == index)
      return &info->imports[i].u.memory;
  index -= info->nmemory_imports;
  return index < info->nmemories ? &info->memories[index] : NULL;
}

static const wudf_wasm_tabletype *table_type(const wudf_wasm_info *info,
                                             uint32_t index) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < info->nimports; i++)
    if (info->imports[i].kind == WUDF_EXTERN_TABLE && n++ == index)
      return &info->imports[i].u.table;
  index -= info->ntable_imports;
  return index < info->ntables ? &info->tables[index] : NULL;
}

static const wudf_wasm_globaltype *global_type(const wudf_wasm_info *info,
                                               uint32_t index) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < info->nimports; i++)
    if (info->imports[i].kind == WUDF_EXTERN_GLOBAL && n++ == index)
      return &info->imports[i].u.global;
  index -= info->nglobal_imports;
  return index < info->nglobals ? &info->globals[index] : NULL;
}

/* An export of a registered instance. `storage` may be NULL when only
 * checking at load time; then sizes are not known and the slot is empty. */
static bool from_instance(const wudf_instance *inst, const wudf_wasm_import *im,
                          link_target *t) {
  const wudf_module *m = inst->module;
  int64_t x = wudf_module_find_export(m, im->name.str, im->name.len);
  if (x < 0) return false;
  const wudf_wasm_export *ex = &m->info.exports[x];
  const wudf_shim_export *sx = &m->desc->exports[x];
  t->kind = ex->kind;
  if (ex->kind == WUDF_EXTERN_FUNC) {
    t->functype = wudf_wasm_func_type(&m->info, ex->index);
    t->slot.fn = sx->fn;
    t->slot.ctx = inst->storage;
    return true;
  }
  t->slot.ptr = sx->get(inst->storage);
  if (ex->kind == WUDF_EXTERN_GLOBAL) {
    t->global = *global_type(&m->info, ex->index);
  } else if (ex->kind == WUDF_EXTERN_MEMORY) {
    t->limits = *memory_limits(&m->info, ex->index);
    t->current = t->slot.ptr ? ((wasm_rt_memory_t *)t->slot.ptr)->pages : 0;
  } else {
    const wudf_wasm_tabletype *tt = table_type(&m->info, ex->index);
    t->limits = tt->limits;
    t->table_elem = tt->elem;
    t->current =
        t->slot.ptr ? ((wasm_rt_funcref_table_t *)t->slot.ptr)->size : 0;
  }
  return true;
}

/* Calls a host-defined function with values converted both ways. */
static void host_generic(void *ctx, const wudf_shim_val *a, wudf_shim_val *r) {
  const wudf_host_item *it = ctx;
  wudf_val args[16], results[16];
  const uint8_t *types = it->type.types;
  for (uint32_t i = 0; i < it->type.nparams; i++)
    wudf_val_from_shim(&a[i], types[i], &args[i]);
  for (uint32_t i = 0; i < it->type.nresults; i++) {
    memset(&results[i], 0, sizeof results[i]);
    wudf_valtype_from_wasm(types[it->type.nparams + i], &results[i].type);
  }
  wudf_rt_host_enter();
  wudf_status st = it->fn(it->user, args, results);
  wudf_rt_host_leave();
  if (st != WUDF_OK) wudf_rt_trap(st);
  for (uint32_t i = 0; i < it->type.nresults; i++) {
    uint8_t t = types[it->type.nparams + i];
    if (wudf_val_to_shim(&results[i], t, &r[i], NULL) != WUDF_OK)
      wudf_rt_trap(WUDF_ERR_TYPE);
  }
}

static void from_item(const wudf_host_item *it, link_target *t) {
  t->kind = it->kind;
  switch (it->kind) {
    case WUDF_EXTERN_FUNC:
      t->functype = &it->type;
      t->slot.generic = host_generic;
      t->slot.ctx = (void *)it;
      break;
    case WUDF_EXTERN_GLOBAL:
      t->global = (wudf_wasm_globaltype){it->valtype, it->mutable_};
      t->slot.ptr = (void *)&it->value;
      break;
    case WUDF_EXTERN_MEMORY:
      t->limits = it->limits;
      t->current = it->memory.pages;
      t->slot.ptr = (void *)&it->memory;
      break;
    case WUDF_EXTERN_TABLE:
      t->limits = it->limits;
      t->table_elem = WUDF_WASM_FUNCREF;
      t->current = it->table.size;
      t->slot.ptr = (void *)&it->table;
      break;
  }
}

static uint8_t wasi_letter_type(char c) {
  switch (c) {
    case 'i':
      return WUDF_WASM_I32;
    case 'j':
      return WUDF_WASM_I64;
    case 'f':
      return WUDF_WASM_F32;
    default:
      return WUDF_WASM_F64;
  }
}

static bool from_wasi(const wudf_wasm_import *im, wudf_wasi_ctx *ctx,
                      link_target *t) {
  const wudf_wasi_func *f = wudf_wasi_lookup(im->name.str);
  if (!f || strlen(im->name.str) != im->name.len) return false;
  size_t np = strlen(f->params), nr = strlen(f->results);
  if (np + nr > sizeof t->wasi_types) return false;
  for (size_t i = 0; i < np; i++)
    t->wasi_types[i] = wasi_letter_type(f->params[i]);
  for (size_t i = 0; i < nr; i++)
    t->wasi_types[np + i] = wasi_letter_type(f->results[i]);
  t->wasi_type =
      (wudf_wasm_functype){(uint32_t)np, (uint32_t)nr, t->wasi_types};
  t->functype = &t->wasi_type;
  t->kind = WUDF_EXTERN_FUNC;
  t->slot.fn = f->fn;
  t->slot.ctx = ctx;
  return true;
}

/* Finds what `im` resolves to; false if nothing provides it. */
static bool lookup(const wudf_engine *e, const wudf_wasm_import *im,
                   wudf_wasi_ctx *wasi, link_target *t) {
  memset(t, 0, sizeof *t);
  const wudf_registered *r = find_registered(e, &im->module);
  if (r) return from_instance(r->instance, im, t);
  const wudf_host_item *it = find_item(e, im);
  if (it) {
    from_item(it, t);
    return true;
  }
  if (e->config.allow_wasi && !strcmp(im->module.str, WUDF_WASI_MODULE))
    return from_wasi(im, wasi, t);
  return false;
}

static const char *kind_str(wudf_extern_kind k) {
  static const char *names[] = {"function", "table", "memory", "global"};
  return names[k];
}

static bool limits_match(const wudf_wasm_limits *need, uint64_t current,
                         const wudf_wasm_limits *have) {
  if (current < need->min) return false;
  if (!need->has_max) return true;
  return have->has_max && have->max <= need->max;
}

/* Checks the provided type against the import's; fills `why` if not. */
static bool type_matches(const wudf_wasm_info *info, const wudf_wasm_import *im,
                         const link_target *t, char *why, size_t size) {
  if (t->kind != im->kind) {
    snprintf(why, size, "is a %s, not a %s", kind_str(t->kind),
             kind_str(im->kind));
    return false;
  }
  if (im->kind == WUDF_EXTERN_FUNC) {
    const wudf_wasm_functype *need = &info->types[im->u.type_index];
    const wudf_wasm_functype *have = t->functype;
    if (need->nparams == have->nparams && need->nresults == have->nresults &&
        !memcmp(need->types, have->types, need->nparams + need->nresults))
      return true;
    char a[200], b[200];
    wudf_functype_str(need, a, sizeof a);
    wudf_functype_str(have, b, sizeof b);
    snprintf(why, size, "the module expects %s but %s is provided", a, b);
    return false;
  }
  bool ok = true;
  if (im->kind == WUDF_EXTERN_GLOBAL)
    ok = t->global.valtype == im->u.global.valtype &&
         t->global.mutable_ == im->u.global.mutable_;
  else if (im->kind == WUDF_EXTERN_MEMORY)
    ok = limits_match(&im->u.memory, t->current, &t->limits);
  else
    ok = t->table_elem == im->u.table.elem &&
         limits_match(&im->u.table.limits, t->current, &t->limits);
  if (!ok)
    snprintf(why, size, "has an incompatible %s type", kind_str(im->kind));
  return ok;
}

/* Checks every import; the error lists every refused one. */
static wudf_status check_all(wudf_engine *e, const wudf_module *m,
                             wudf_wasi_ctx *wasi, wudf_shim_imports *slots,
                             wudf_error *err) {
  wudf_strbuf msg;
  wudf_strbuf_init(&msg);
  uint32_t bad = 0;
  const wudf_wasm_info *info = &m->info;
  for (uint32_t i = 0; i < info->nimports; i++) {
    const wudf_wasm_import *im = &info->imports[i];
    link_target t;
    char why[512] = "is not provided by the sandbox";
    bool ok =
        lookup(e, im, wasi, &t) && type_matches(info, im, &t, why, sizeof why);
    if (ok && slots) slots->slot[m->shim.import_slot[i]] = t.slot;
    if (ok) continue;
    wudf_strbuf_printf(&msg, "%s'%s'.'%s' (%s) %s", bad ? "; " : "",
                       im->module.str, im->name.str, kind_str(im->kind), why);
    bad++;
  }
  if (!bad) return WUDF_OK;
  wudf_status st =
      wudf_fail(err, WUDF_ERR_IMPORT, "%s: %u import%s refused: %s", m->name,
                bad, bad == 1 ? "" : "s", msg.data ? msg.data : "");
  wudf_strbuf_reset(&msg);
  return st;
}

wudf_status wudf_link_check(wudf_engine *e, const wudf_module *m,
                            wudf_error *err) {
  pthread_mutex_lock(&e->lock);
  wudf_status st = check_all(e, m, NULL, NULL, err);
  pthread_mutex_unlock(&e->lock);
  return st;
}

wudf_status wudf_link_resolve(wudf_instance *inst, wudf_error *err) {
  wudf_engine *e = inst->module->engine;
  pthread_mutex_lock(&e->lock);
  wudf_status st = check_all(e, inst->module, &inst->wasi, inst->imports, err);
  pthread_mutex_unlock(&e->lock);
  return st;
}
