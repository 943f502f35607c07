/*
 * Loading a module: parse and check the bytes, check imports, generate the
 * shim, build (or find in the cache) the shared object, load it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/load_steps.h"
#include "common/alloc.h"
#include "common/error.h"

/* wasm2c 1.0.32 recurses per nesting level and overflows its stack at about
 * 18,000 levels; refuse well before that with a clear message. */
#define WUDF_MAX_BLOCK_DEPTH 10000

wudf_status wudf_module_parse(const wudf_engine *engine, const void *bytes,
                              size_t len, wudf_wasm_info *info,
                              wudf_error *err) {
  memset(info, 0, sizeof *info);
  const wudf_engine_config *c = &engine->config;
  if (len > c->max_module_bytes)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "module is %zu bytes; the limit is %llu", len,
                     (unsigned long long)c->max_module_bytes);
  wudf_wasm_parse_limits limits = {
      .max_functions = c->max_functions,
      .max_table_elements = c->limits.table_elements,
      .max_memory_pages = c->limits.memory_bytes >> 16,
  };
  wudf_status st = wudf_wasm_parse(bytes, len, &limits, info, err);
  if (st == WUDF_OK && info->max_block_depth > WUDF_MAX_BLOCK_DEPTH) {
    st = wudf_fail(err, WUDF_ERR_LIMIT,
                   "a function nests blocks %u deep; the limit is %u",
                   info->max_block_depth, WUDF_MAX_BLOCK_DEPTH);
    wudf_wasm_info_reset(info);
  }
  return st;
}

static int cmp_names(const wudf_wasm_name *a, const wudf_wasm_name *b) {
  uint32_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->str, b->str, n);
  return c ? c : (a->len > b->len) - (a->len < b->len);
}

static const wudf_wasm_info *g_sort_info; /* only during sort_exports */

static int cmp_exports(const void *x, const void *y) {
  const wudf_wasm_export *ex = g_sort_info->exports;
  return cmp_names(&ex[*(const uint32_t *)x].name,
                   &ex[*(const uint32_t *)y].name);
}

static pthread_mutex_t g_sort_lock = PTHREAD_MUTEX_INITIALIZER;

static wudf_status index_exports(wudf_module *m, wudf_error *err) {
  uint32_t n = m->info.nexports;
  m->exports_by_name = wudf_malloc((n ? n : 1) * sizeof *m->exports_by_name);
  if (!m->exports_by_name)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) m->exports_by_name[i] = i;
  pthread_mutex_lock(&g_sort_lock);
  g_sort_info = &m->info;
  qsort(m->exports_by_name, n, sizeof *m->exports_by_name, cmp_exports);
  g_sort_info = NULL;
  pthread_mutex_unlock(&g_sort_lock);
  return WUDF_OK;
}

int64_t wudf_module_find_export(const wudf_module *m, const char *name,
                                uint32_t len) {
  wudf_wasm_name key = {(char *)name, len};
  uint32_t lo = 0, hi = m->info.nexports;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    uint32_t x = m->exports_by_name[mid];
    int c = cmp_names(&m->info.exports[x].name, &key);
    if (c == 0) return x;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

/* wudf_fail() for an error about module m, named in err->module. */
static wudf_status module_fail(const wudf_module *m, wudf_error *err,
                               wudf_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static wudf_status module_fail(const wudf_module *m, wudf_error *err,
                               wudf_status status, const char *fmt, ...) {
  char detail[WUDF_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  wudf_fail(err, status, "%s", detail);
  wudf_error_set_module(err, m->name);
  return status;
}

/* Runs the module's type registration under the trap guard (it allocates). */
static void init_body(void *arg) {
  const wudf_shim_module *desc = arg;
  desc->init_module();
}

static wudf_status open_shared_object(wudf_module *m, const char *path,
                                      wudf_error *err) {
  m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!m->dl)
    return module_fail(m, err, WUDF_ERR_COMPILE, "cannot load %s: %s", path,
                       dlerror());
  wudf_shim_entry_fn entry;
  void *sym = dlsym(m->dl, WUDF_SHIM_ENTRY_SYMBOL);
  memcpy(&entry, &sym, sizeof entry);
  m->desc = entry ? entry(wudf_rt_vtable()) : NULL;
  if (!m->desc || m->desc->nexports != m->info.nexports ||
      m->desc->nimports != m->shim.nslots || m->desc->nudfs != m->nudfs)
    return module_fail(m, err, WUDF_ERR_COMPILE,
                       "%s does not match the module (stale or foreign file "
                       "in the cache?)",
                       path);
  wudf_rt_call_opts opts = {.types = &m->types};
  wudf_rt_outcome outcome;
  if (wudf_rt_guarded(&opts, init_body, (void *)m->desc, &outcome) != WUDF_OK)
    return module_fail(m, err, outcome.status, "initialising: %s",
                       wudf_status_str(outcome.status));
  return WUDF_OK;
}

/* Generates the shim. A module wasm2c cannot translate because of
 * conflicting imports is refused, but an unprovided import wins as the
 * reason. */
static wudf_status generate(wudf_module *m, const void *bytes, size_t len,
                            wudf_error *err) {
  wudf_status st = wudf_shim_generate(&m->info, m->udfs, m->udf_exports,
                                      m->nudfs, &m->shim, err);
  if (st != WUDF_OK && m->shim.conflict) {
    wudf_error link_err = {0};
    if (wudf_link_check(m->engine, m, &link_err) != WUDF_OK) {
      if (err) *err = link_err;
      return link_err.status;
    }
  }
  if (st == WUDF_OK)
    st = wudf_shim_rename_functions(bytes, len, &m->info, &m->shim,
                                    &m->build_wasm, &m->build_wasm_len, err);
  if (st != WUDF_OK) wudf_error_set_module(err, m->name);
  return st;
}

void wudf_module_build_input(const wudf_module *m, const void *bytes,
                             size_t len, wudf_build_input *in) {
  *in = (wudf_build_input){
      .wasm = m->build_wasm ? m->build_wasm : bytes,
      .wasm_len = m->build_wasm ? m->build_wasm_len : len,
      .module_name = m->shim.module_name,
      .prelude = m->shim.prelude,
      .postlude = m->shim.postlude,
      .call_indirect_override = m->shim.call_indirect_override,
  };
}

static wudf_status build(wudf_module *m, const void *bytes, size_t len,
                         const wudf_load_options *o, double t0, char *path,
                         size_t path_size, wudf_error *err) {
  wudf_build_input in;
  wudf_module_build_input(m, bytes, len, &in);
  wudf_load_hooks(o, t0, &in);
  wudf_status st =
      wudf_cache_get_or_build(&m->engine->cache, &m->engine->toolchain, &in,
                              path, path_size, &m->was_cached, err);
  if (st != WUDF_OK) wudf_error_set_module(err, m->name);
  return st;
}

/* Takes *parsed (zeroing it), or parses the bytes. */
static wudf_status take_info(wudf_module *m, const void *bytes, size_t len,
                             wudf_wasm_info *parsed, wudf_error *err) {
  if (!parsed) return wudf_module_parse(m->engine, bytes, len, &m->info, err);
  m->info = *parsed;
  memset(parsed, 0, sizeof *parsed);
  return WUDF_OK;
}

wudf_status wudf_module_prepare(wudf_module *m, const void *bytes, size_t len,
                                const wudf_load_options *options,
                                wudf_wasm_info *parsed, wudf_error *err) {
  const char *name = options && options->name ? options->name : "module";
  m->name = wudf_strdup(name);
  wudf_status st =
      m->name ? WUDF_OK : wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  if (st == WUDF_OK) st = take_info(m, bytes, len, parsed, err);
  if (st == WUDF_OK) st = index_exports(m, err);
  if (st == WUDF_OK) st = wudf_module_collect_udfs(m, bytes, options, err);
  if (st == WUDF_OK)
    st = wudf_wasm_debuginfo_read(bytes, len, &m->info, &m->debug, err);
  if (st != WUDF_OK) {
    wudf_error_set_module(err, m->name);
    return st;
  }
  return generate(m, bytes, len, err);
}

/* The public descriptions of imports and exports. */
static wudf_status describe(wudf_module *m, wudf_error *err);

wudf_status wudf_module_load_parsed(wudf_engine *engine, const void *bytes,
                                    size_t len, wudf_wasm_info *parsed,
                                    const wudf_load_options *options,
                                    wudf_module **out, wudf_error *err) {
  if (!engine || (!bytes && len) || !out) {
    wudf_wasm_info_reset(parsed);
    return wudf_fail(err, WUDF_ERR_ARG, "engine, bytes or out is NULL");
  }
  *out = NULL;
  wudf_module *m = wudf_calloc(1, sizeof *m);
  if (!m) {
    wudf_wasm_info_reset(parsed);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  m->engine = engine;
  double t0 = wudf_clock_seconds();
  wudf_status st = wudf_load_step(options, t0, WUDF_PHASE_PARSE, err);
  if (st == WUDF_OK)
    st = wudf_module_prepare(m, bytes, len, options, parsed, err);
  else
    wudf_wasm_info_reset(parsed);
  /* wasm2c validates while building; imports are checked after it, so an
   * invalid module is reported as invalid whatever it imports. */
  char path[4096];
  if (st == WUDF_OK) st = wudf_load_step(options, t0, WUDF_PHASE_CACHE, err);
  if (st == WUDF_OK) st = build(m, bytes, len, options, t0, path, 4096, err);
  if (st == WUDF_OK) st = wudf_load_step(options, t0, WUDF_PHASE_LINK, err);
  if (st == WUDF_OK) st = wudf_link_check(engine, m, err);
  if (st == WUDF_OK) st = open_shared_object(m, path, err);
  if (st == WUDF_OK) st = wudf_module_index_code(m, err);
  if (st == WUDF_OK) st = describe(m, err);
  if (st != WUDF_OK) {
    wudf_module_free(m);
    return st;
  }
  wudf_free(m->shim.prelude);
  wudf_free(m->shim.postlude);
  wudf_free(m->build_wasm);
  m->shim.prelude = m->shim.postlude = NULL;
  m->build_wasm = NULL;
  wudf_load_step(options, t0, WUDF_PHASE_DONE, NULL); /* loaded: too late */
  *out = m;
  return WUDF_OK;
}

wudf_status wudf_module_load_ex(wudf_engine *engine, const void *bytes,
                                size_t len, const wudf_load_options *options,
                                wudf_module **out, wudf_error *err) {
  return wudf_module_load_parsed(engine, bytes, len, NULL, options, out, err);
}

wudf_status wudf_module_load(wudf_engine *engine, const void *bytes, size_t len,
                             const char *name, wudf_module **out,
                             wudf_error *err) {
  wudf_load_options o = {.name = name};
  return wudf_module_load_ex(engine, bytes, len, &o, out, err);
}

wudf_status wudf_module_load_file(wudf_engine *engine, const char *path,
                                  wudf_module **out, wudf_error *err) {
  if (!path) return wudf_fail(err, WUDF_ERR_ARG, "path is NULL");
  FILE *f = fopen(path, "rb");
  if (!f) return wudf_fail(err, WUDF_ERR_IO, "%s: %s", path, strerror(errno));
  wudf_status st = WUDF_OK;
  unsigned char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      if (cap >= engine->config.max_module_bytes + 1) break;
      cap = cap ? cap * 2 : 65536;
      unsigned char *p = wudf_realloc(buf, cap);
      if (!p) {
        st = wudf_fail(err, WUDF_ERR_NOMEM, "%s: out of memory", path);
        goto out;
      }
      buf = p;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  if (ferror(f)) {
    st = wudf_fail(err, WUDF_ERR_IO, "%s: read error", path);
    goto out;
  }
  st = wudf_module_load(engine, buf, len, path, out, err);
out:
  wudf_free(buf);
  fclose(f);
  return st;
}

void wudf_module_free(wudf_module *m) {
  if (!m) return;
  if (m->dl) dlclose(m->dl);
  wudf_rt_typeset_release(&m->types);
  wudf_shim_source_reset(&m->shim);
  wudf_wasm_info_reset(&m->info);
  wudf_wasm_debuginfo_reset(&m->debug);
  wudf_free(m->build_wasm);
  wudf_free(m->code_map);
  wudf_free(m->exports_by_name);
  wudf_free(m->export_infos);
  wudf_free(m->import_infos);
  wudf_free(m->valtypes);
  wudf_free(m->udfs);
  wudf_free(m->udf_exports);
  wudf_free(m->name);
  wudf_free(m);
}

int64_t wudf_module_export_index(const wudf_module *m, const char *name,
                                 size_t len) {
  if (!m || (!name && len) || len > UINT32_MAX) return -1;
  return wudf_module_find_export(m, name ? name : "", (uint32_t)len);
}

bool wudf_module_was_cached(const wudf_module *m) {
  return m && m->was_cached;
}

uint32_t wudf_module_export_count(const wudf_module *m) {
  return m ? m->info.nexports : 0;
}

uint32_t wudf_module_import_count(const wudf_module *m) {
  return m ? m->info.nimports : 0;
}

wudf_status wudf_module_export(const wudf_module *m, uint32_t index,
                               wudf_extern_info *info) {
  if (!m || !info || index >= m->info.nexports) return WUDF_ERR_ARG;
  *info = m->export_infos[index];
  return WUDF_OK;
}

wudf_status wudf_module_import(const wudf_module *m, uint32_t index,
                               wudf_extern_info *info) {
  if (!m || !info || index >= m->info.nimports) return WUDF_ERR_ARG;
  *info = m->import_infos[index];
  return WUDF_OK;
}

/* --- descriptions ------------------------------------------------------- */

static wudf_valtype *put_types(wudf_valtype **pool, const uint8_t *types,
                               uint32_t n) {
  wudf_valtype *start = *pool;
  for (uint32_t i = 0; i < n; i++)
    wudf_valtype_from_wasm(types[i], &(*pool)[i]);
  *pool += n;
  return start;
}

static void describe_func(wudf_extern_info *x, const wudf_wasm_functype *ft,
                          wudf_valtype **pool) {
  x->nparams = ft->nparams;
  x->nresults = ft->nresults;
  x->params = put_types(pool, ft->types, ft->nparams);
  x->results = put_types(pool, ft->types + ft->nparams, ft->nresults);
}

static void describe_limits(wudf_extern_info *x, const wudf_wasm_limits *l) {
  x->min = l->min;
  x->max = l->has_max ? l->max : UINT64_MAX;
}

static void describe_import(const wudf_module *m, const wudf_wasm_import *im,
                            wudf_extern_info *x, wudf_valtype **pool) {
  memset(x, 0, sizeof *x);
  x->module_name = im->module.str;
  x->name = im->name.str;
  x->kind = im->kind;
  if (im->kind == WUDF_EXTERN_FUNC) {
    describe_func(x, &m->info.types[im->u.type_index], pool);
  } else if (im->kind == WUDF_EXTERN_GLOBAL) {
    x->nresults = 1;
    x->results = put_types(pool, &im->u.global.valtype, 1);
    x->mutable_ = im->u.global.mutable_;
  } else {
    describe_limits(x, im->kind == WUDF_EXTERN_MEMORY ? &im->u.memory
                                                      : &im->u.table.limits);
  }
}

static void describe_export(const wudf_module *m, const wudf_wasm_export *ex,
                            wudf_extern_info *x, wudf_valtype **pool) {
  memset(x, 0, sizeof *x);
  x->name = ex->name.str;
  x->kind = ex->kind;
  const wudf_wasm_info *info = &m->info;
  if (ex->kind == WUDF_EXTERN_FUNC) {
    describe_func(x, wudf_wasm_func_type(info, ex->index), pool);
    return;
  }
  /* Non-function exports name either an import or a definition. */
  uint32_t i = ex->index, seen = 0;
  for (uint32_t k = 0; k < info->nimports; k++) {
    const wudf_wasm_import *im = &info->imports[k];
    if (im->kind != ex->kind || seen++ != i) continue;
    wudf_extern_info tmp;
    describe_import(m, im, &tmp, pool);
    tmp.module_name = NULL;
    tmp.name = x->name;
    *x = tmp;
    return;
  }
  i -= seen;
  if (ex->kind == WUDF_EXTERN_GLOBAL) {
    x->nresults = 1;
    x->results = put_types(pool, &info->globals[i].valtype, 1);
    x->mutable_ = info->globals[i].mutable_;
  } else if (ex->kind == WUDF_EXTERN_MEMORY) {
    describe_limits(x, &info->memories[i]);
  } else {
    describe_limits(x, &info->tables[i].limits);
  }
}

static uint64_t count_valtypes(const wudf_wasm_info *info) {
  uint64_t n = 1;
  for (uint32_t i = 0; i < info->nimports; i++)
    if (info->imports[i].kind == WUDF_EXTERN_FUNC) {
      const wudf_wasm_functype *ft =
          &info->types[info->imports[i].u.type_index];
      n += ft->nparams + ft->nresults;
    } else {
      n += 1;
    }
  for (uint32_t i = 0; i < info->nexports; i++)
    if (info->exports[i].kind == WUDF_EXTERN_FUNC) {
      const wudf_wasm_functype *ft =
          wudf_wasm_func_type(info, info->exports[i].index);
      n += ft ? ft->nparams + ft->nresults : 0;
    } else {
      n += 1;
    }
  return n;
}

static wudf_status describe(wudf_module *m, wudf_error *err) {
  const wudf_wasm_info *info = &m->info;
  uint64_t n = count_valtypes(info);
  m->valtypes = wudf_calloc(n, sizeof *m->valtypes);
  m->export_infos = wudf_calloc(info->nexports + 1u, sizeof *m->export_infos);
  m->import_infos = wudf_calloc(info->nimports + 1u, sizeof *m->import_infos);
  if (!m->valtypes || !m->export_infos || !m->import_infos)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  wudf_valtype *pool = m->valtypes;
  for (uint32_t i = 0; i < info->nimports; i++)
    describe_import(m, &info->imports[i], &m->import_infos[i], &pool);
  for (uint32_t i = 0; i < info->nexports; i++)
    describe_export(m, &info->exports[i], &m->export_infos[i], &pool);
  return WUDF_OK;
}
