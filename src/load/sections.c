/* Readers of the declaration sections: types, imports, functions, tables,
 * memories, globals, exports, start. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "load/load_internal.h"

/* Zeroed array of n elements; NULL only on failure (n == 0 allocates one
 * element so that success is unambiguous). */
static void *alloc_array(wudf_load_reader *r, size_t at, uint32_t n,
                         size_t size) {
  void *p = wudf_calloc(n ? n : 1, size);
  if (!p)
    wudf_load_fail(&r->ctx, at, WUDF_ERR_NOMEM,
                   "out of memory for %" PRIu32 " entries", n);
  return p;
}

static uint64_t total_functions(const wudf_wasm_info *info) {
  return (uint64_t)info->nfunc_imports + info->nfuncs;
}

static wudf_status check_function_limit(wudf_load_reader *r, size_t at,
                                        uint64_t total) {
  uint32_t max = r->limits.max_functions;
  if (max && total > max)
    return wudf_load_fail(&r->ctx, at, WUDF_ERR_LIMIT,
                          "the module has %" PRIu64
                          " functions (imported + "
                          "defined); the limit is %" PRIu32,
                          total, max);
  return WUDF_OK;
}

static wudf_status check_type_index(wudf_load_reader *r, size_t at,
                                    uint32_t type) {
  if (type < r->info->ntypes) return WUDF_OK;
  return wudf_load_fail(&r->ctx, at, WUDF_ERR_INVALID,
                        "type index %" PRIu32 " is out of range (%" PRIu32
                        " types)",
                        type, r->info->ntypes);
}

/* ---- types --------------------------------------------------------------- */

/* A vector of single-byte value types, left in place in the module. */
static wudf_status read_valtypes(wudf_load_ctx *ctx, const char *what,
                                 uint32_t *n, const uint8_t **types) {
  uint8_t t;
  wudf_status st = wudf_load_count(ctx, 1, what, n);
  *types = ctx->bytes + ctx->pos;
  for (uint32_t i = 0; st == WUDF_OK && i < *n; i++)
    st = wudf_load_valtype(ctx, what, &t);
  return st;
}

static wudf_status bad_type_form(const wudf_load_ctx *ctx, size_t at,
                                 uint8_t form) {
  if (form == 0x5e || form == 0x5f || form == 0x4e || form == 0x50 ||
      form == 0x4f)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "type form 0x%02x (GC proposal) is not supported",
                          form);
  return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                        "malformed type form 0x%02x (0x60 expected)", form);
}

static wudf_status read_functype(wudf_load_reader *r, wudf_wasm_functype *ft) {
  wudf_load_ctx *ctx = &r->ctx;
  size_t at = ctx->pos;
  uint8_t form;
  uint32_t np, nr;
  const uint8_t *params, *results;
  wudf_status st = wudf_load_byte(ctx, &form);
  if (st != WUDF_OK) return st;
  if (form != 0x60) return bad_type_form(ctx, at, form);
  st = read_valtypes(ctx, "parameter", &np, &params);
  if (st == WUDF_OK) st = read_valtypes(ctx, "result", &nr, &results);
  if (st != WUDF_OK) return st;
  /* Both vectors lie within the module, so the sum cannot overflow. */
  ft->types = wudf_malloc((size_t)np + nr + 1);
  if (!ft->types)
    return wudf_load_fail(ctx, at, WUDF_ERR_NOMEM, "out of memory");
  memcpy(ft->types, params, np);
  memcpy(ft->types + np, results, nr);
  ft->nparams = np;
  ft->nresults = nr;
  return WUDF_OK;
}

wudf_status wudf_load_types(wudf_load_reader *r) {
  size_t at = r->ctx.pos;
  uint32_t n;
  /* 2 bytes: the smallest type form (a GC struct without fields). */
  wudf_status st = wudf_load_count(&r->ctx, 2, "types", &n);
  if (st != WUDF_OK) return st;
  r->info->types = alloc_array(r, at, n, sizeof *r->info->types);
  if (!r->info->types) return WUDF_ERR_NOMEM;
  r->info->ntypes = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++)
    st = read_functype(r, &r->info->types[i]);
  return st;
}

/* ---- limits, tables, memories, globals ----------------------------------- */

static wudf_status read_min_max(wudf_load_ctx *ctx, uint8_t flags,
                                wudf_wasm_limits *out) {
  uint32_t min, max = 0;
  wudf_status st = wudf_load_u32(ctx, &min);
  if (st == WUDF_OK && (flags & 1)) st = wudf_load_u32(ctx, &max);
  out->min = min;
  out->max = max;
  out->has_max = flags & 1;
  return st;
}

static wudf_status read_table_type(wudf_load_reader *r, uint32_t index,
                                   wudf_wasm_tabletype *out) {
  wudf_load_ctx *ctx = &r->ctx;
  uint8_t flags;
  wudf_status st = wudf_load_reftype(ctx, "table element", &out->elem);
  size_t at = ctx->pos;
  if (st == WUDF_OK) st = wudf_load_byte(ctx, &flags);
  if (st != WUDF_OK) return st;
  if (flags == 0x04 || flags == 0x05)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "64-bit table (memory64 proposal) is not supported");
  if (flags > 1)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed table limits flags 0x%02x", flags);
  st = read_min_max(ctx, flags, &out->limits);
  if (st == WUDF_OK && out->limits.has_max && out->limits.min > out->limits.max)
    return wudf_load_fail(ctx, at, WUDF_ERR_INVALID,
                          "table %" PRIu32 " has minimum %" PRIu64
                          " above its maximum %" PRIu64,
                          index, out->limits.min, out->limits.max);
  uint32_t max = r->limits.max_table_elements;
  if (st == WUDF_OK && max && out->limits.min > max)
    return wudf_load_fail(ctx, at, WUDF_ERR_LIMIT,
                          "table %" PRIu32 " starts with %" PRIu64
                          " elements; the limit is %" PRIu32,
                          index, out->limits.min, max);
  return st;
}

static wudf_status bad_memory_flags(const wudf_load_ctx *ctx, size_t at,
                                    uint8_t flags) {
  if (flags >= 0x04 && flags <= 0x07)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "64-bit memory (memory64 proposal) is not "
                          "supported: compile for wasm32");
  if (flags == 0x03)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "shared memory (threads proposal) is not "
                          "supported: compile without -pthread");
  return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                        "malformed memory limits flags 0x%02x", flags);
}

/* Validity per the spec: at most 65536 pages (4 GiB), min <= max. */
static wudf_status check_memory_type(const wudf_load_ctx *ctx, size_t at,
                                     uint32_t index,
                                     const wudf_wasm_limits *l) {
  if (l->min > 65536 || (l->has_max && l->max > 65536))
    return wudf_load_fail(ctx, at, WUDF_ERR_INVALID,
                          "memory %" PRIu32
                          " size must be at most 65536 "
                          "pages (4 GiB)",
                          index);
  if (l->has_max && l->min > l->max)
    return wudf_load_fail(ctx, at, WUDF_ERR_INVALID,
                          "memory %" PRIu32 " has minimum %" PRIu64
                          " above its maximum %" PRIu64,
                          index, l->min, l->max);
  return WUDF_OK;
}

static wudf_status read_memory_type(wudf_load_reader *r, uint32_t index,
                                    wudf_wasm_limits *out) {
  wudf_load_ctx *ctx = &r->ctx;
  size_t at = ctx->pos;
  uint8_t flags;
  wudf_status st = wudf_load_byte(ctx, &flags);
  if (st != WUDF_OK) return st;
  if (flags > 1) return bad_memory_flags(ctx, at, flags);
  st = read_min_max(ctx, flags, out);
  if (st == WUDF_OK) st = check_memory_type(ctx, at, index, out);
  uint64_t max = r->limits.max_memory_pages;
  if (st == WUDF_OK && max && out->min > max)
    return wudf_load_fail(ctx, at, WUDF_ERR_LIMIT,
                          "memory %" PRIu32 " starts at %" PRIu64
                          " pages; the limit is %" PRIu64 " pages",
                          index, out->min, max);
  return st;
}

static wudf_status second_memory(const wudf_load_ctx *ctx, size_t at) {
  return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                        "more than one memory (multi-memory) is not "
                        "supported: wudf supports one memory");
}

static wudf_status read_global_type(wudf_load_ctx *ctx,
                                    wudf_wasm_globaltype *out) {
  uint8_t mut;
  wudf_status st = wudf_load_valtype(ctx, "global", &out->valtype);
  size_t at = ctx->pos;
  if (st == WUDF_OK) st = wudf_load_byte(ctx, &mut);
  if (st != WUDF_OK) return st;
  if (mut > 1)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed global mutability 0x%02x", mut);
  out->mutable_ = mut == 1;
  return WUDF_OK;
}

/* ---- imports ------------------------------------------------------------- */

static wudf_status read_import_desc(wudf_load_reader *r, wudf_wasm_import *im,
                                    size_t at, uint8_t kind) {
  wudf_wasm_info *info = r->info;
  wudf_load_ctx *ctx = &r->ctx;
  wudf_status st;
  switch (kind) {
    case WUDF_EXTERN_FUNC:
      st = wudf_load_u32(ctx, &im->u.type_index);
      if (st == WUDF_OK) st = check_type_index(r, at, im->u.type_index);
      if (st == WUDF_OK) info->nfunc_imports++;
      return st == WUDF_OK ? check_function_limit(r, at, total_functions(info))
                           : st;
    case WUDF_EXTERN_TABLE:
      st = read_table_type(r, info->ntable_imports, &im->u.table);
      if (st == WUDF_OK) info->ntable_imports++;
      return st;
    case WUDF_EXTERN_MEMORY:
      if (info->nmemory_imports > 0) return second_memory(ctx, at);
      st = read_memory_type(r, info->nmemory_imports, &im->u.memory);
      if (st == WUDF_OK) info->nmemory_imports++;
      return st;
    case WUDF_EXTERN_GLOBAL:
      st = read_global_type(ctx, &im->u.global);
      if (st == WUDF_OK) info->nglobal_imports++;
      return st;
    default:
      return WUDF_ERR_MALFORMED; /* the caller checked the kind */
  }
}

static wudf_status read_import(wudf_load_reader *r, wudf_wasm_import *im) {
  wudf_load_ctx *ctx = &r->ctx;
  im->offset = (uint32_t)ctx->pos;
  wudf_status st = wudf_load_name(ctx, &im->module);
  if (st == WUDF_OK) st = wudf_load_name(ctx, &im->name);
  size_t at = ctx->pos;
  uint8_t kind;
  if (st == WUDF_OK) st = wudf_load_byte(ctx, &kind);
  if (st != WUDF_OK) return st;
  if (kind == 0x04)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "tag import (exception-handling proposal) is not "
                          "supported");
  if (kind > WUDF_EXTERN_GLOBAL)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed import kind 0x%02x", kind);
  im->kind = (wudf_extern_kind)kind;
  return read_import_desc(r, im, at, kind);
}

/* Type index of each imported function, for wudf_wasm_func_type(). */
static wudf_status index_func_imports(wudf_load_reader *r, size_t at) {
  wudf_wasm_info *info = r->info;
  info->func_import_types =
      alloc_array(r, at, info->nfunc_imports, sizeof(uint32_t));
  if (!info->func_import_types) return WUDF_ERR_NOMEM;
  uint32_t k = 0;
  for (uint32_t i = 0; i < info->nimports; i++)
    if (info->imports[i].kind == WUDF_EXTERN_FUNC)
      info->func_import_types[k++] = info->imports[i].u.type_index;
  return WUDF_OK;
}

wudf_status wudf_load_imports(wudf_load_reader *r) {
  size_t at = r->ctx.pos;
  uint32_t n;
  wudf_status st = wudf_load_count(&r->ctx, 4, "imports", &n);
  if (st != WUDF_OK) return st;
  r->info->imports = alloc_array(r, at, n, sizeof *r->info->imports);
  if (!r->info->imports) return WUDF_ERR_NOMEM;
  r->info->nimports = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++)
    st = read_import(r, &r->info->imports[i]);
  return st == WUDF_OK ? index_func_imports(r, at) : st;
}

/* ---- functions, tables, memories, globals -------------------------------- */

wudf_status wudf_load_functions(wudf_load_reader *r) {
  wudf_load_ctx *ctx = &r->ctx;
  wudf_wasm_info *info = r->info;
  size_t at = ctx->pos;
  uint32_t n;
  wudf_status st = wudf_load_count(ctx, 1, "functions", &n);
  if (st == WUDF_OK)
    st = check_function_limit(r, at, (uint64_t)info->nfunc_imports + n);
  if (st != WUDF_OK) return st;
  info->func_types = alloc_array(r, at, n, sizeof *info->func_types);
  if (!info->func_types) return WUDF_ERR_NOMEM;
  info->nfuncs = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++) {
    at = ctx->pos;
    st = wudf_load_u32(ctx, &info->func_types[i]);
    if (st == WUDF_OK) st = check_type_index(r, at, info->func_types[i]);
  }
  return st;
}

wudf_status wudf_load_tables(wudf_load_reader *r) {
  wudf_wasm_info *info = r->info;
  size_t at = r->ctx.pos;
  uint32_t n;
  wudf_status st = wudf_load_count(&r->ctx, 3, "tables", &n);
  if (st != WUDF_OK) return st;
  info->tables = alloc_array(r, at, n, sizeof *info->tables);
  if (!info->tables) return WUDF_ERR_NOMEM;
  info->ntables = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++)
    st = read_table_type(r, info->ntable_imports + i, &info->tables[i]);
  return st;
}

wudf_status wudf_load_memories(wudf_load_reader *r) {
  wudf_wasm_info *info = r->info;
  size_t at = r->ctx.pos;
  uint32_t n;
  wudf_status st = wudf_load_count(&r->ctx, 2, "memories", &n);
  if (st != WUDF_OK) return st;
  if ((uint64_t)info->nmemory_imports + n > 1)
    return second_memory(&r->ctx, at);
  info->memories = alloc_array(r, at, n, sizeof *info->memories);
  if (!info->memories) return WUDF_ERR_NOMEM;
  info->nmemories = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++)
    st = read_memory_type(r, info->nmemory_imports + i, &info->memories[i]);
  return st;
}

wudf_status wudf_load_globals(wudf_load_reader *r) {
  wudf_wasm_info *info = r->info;
  size_t at = r->ctx.pos;
  uint32_t n;
  wudf_status st = wudf_load_count(&r->ctx, 3, "globals", &n);
  if (st != WUDF_OK) return st;
  info->globals = alloc_array(r, at, n, sizeof *info->globals);
  if (!info->globals) return WUDF_ERR_NOMEM;
  info->nglobals = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++) {
    st = read_global_type(&r->ctx, &info->globals[i]);
    if (st == WUDF_OK) st = wudf_load_const_expr(&r->ctx, &r->code);
  }
  return st;
}

/* ---- exports, start ------------------------------------------------------ */

/* Size of the index space of an export kind. */
static uint64_t space_size(const wudf_wasm_info *info, wudf_extern_kind kind) {
  switch (kind) {
    case WUDF_EXTERN_FUNC:
      return total_functions(info);
    case WUDF_EXTERN_TABLE:
      return (uint64_t)info->ntable_imports + info->ntables;
    case WUDF_EXTERN_MEMORY:
      return (uint64_t)info->nmemory_imports + info->nmemories;
    case WUDF_EXTERN_GLOBAL:
      return (uint64_t)info->nglobal_imports + info->nglobals;
  }
  return 0;
}

static const char *kind_name(wudf_extern_kind kind) {
  static const char *const names[] = {"function", "table", "memory", "global"};
  return names[kind];
}

static wudf_status read_export(wudf_load_reader *r, wudf_wasm_export *ex) {
  wudf_load_ctx *ctx = &r->ctx;
  uint8_t kind;
  wudf_status st = wudf_load_name(ctx, &ex->name);
  size_t at = ctx->pos;
  if (st == WUDF_OK) st = wudf_load_byte(ctx, &kind);
  if (st == WUDF_OK && kind == 0x04)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "tag export (exception-handling proposal) is not "
                          "supported");
  if (st == WUDF_OK && kind > WUDF_EXTERN_GLOBAL)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed export kind 0x%02x", kind);
  if (st == WUDF_OK) st = wudf_load_u32(ctx, &ex->index);
  if (st != WUDF_OK) return st;
  ex->kind = (wudf_extern_kind)kind;
  if (ex->index < space_size(r->info, ex->kind)) return WUDF_OK;
  return wudf_load_fail(ctx, at, WUDF_ERR_INVALID,
                        "export \"%s\" refers to %s %" PRIu32
                        ", which does not exist",
                        ex->name.str, kind_name(ex->kind), ex->index);
}

static int cmp_names(const void *a, const void *b) {
  const wudf_wasm_name *x = *(const wudf_wasm_name *const *)a;
  const wudf_wasm_name *y = *(const wudf_wasm_name *const *)b;
  int c = memcmp(x->str, y->str, x->len < y->len ? x->len : y->len);
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

/* Export names must be unique; later phases look exports up by name. */
static wudf_status check_unique_exports(wudf_load_reader *r, size_t at) {
  wudf_wasm_info *info = r->info;
  const wudf_wasm_name **names =
      alloc_array(r, at, info->nexports, sizeof *names);
  if (!names) return WUDF_ERR_NOMEM;
  for (uint32_t i = 0; i < info->nexports; i++)
    names[i] = &info->exports[i].name;
  qsort(names, info->nexports, sizeof *names, cmp_names);
  wudf_status st = WUDF_OK;
  for (uint32_t i = 1; st == WUDF_OK && i < info->nexports; i++)
    if (cmp_names(&names[i - 1], &names[i]) == 0)
      st = wudf_load_fail(&r->ctx, at, WUDF_ERR_INVALID,
                          "duplicate export name \"%s\"", names[i]->str);
  wudf_free(names);
  return st;
}

wudf_status wudf_load_exports(wudf_load_reader *r) {
  wudf_wasm_info *info = r->info;
  size_t at = r->ctx.pos;
  uint32_t n;
  wudf_status st = wudf_load_count(&r->ctx, 3, "exports", &n);
  if (st != WUDF_OK) return st;
  info->exports = alloc_array(r, at, n, sizeof *info->exports);
  if (!info->exports) return WUDF_ERR_NOMEM;
  info->nexports = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++)
    st = read_export(r, &info->exports[i]);
  return st == WUDF_OK ? check_unique_exports(r, at) : st;
}

wudf_status wudf_load_start(wudf_load_reader *r) {
  size_t at = r->ctx.pos;
  wudf_status st = wudf_load_u32(&r->ctx, &r->info->start);
  if (st != WUDF_OK) return st;
  r->info->has_start = true;
  if (r->info->start < total_functions(r->info)) return WUDF_OK;
  return wudf_load_fail(&r->ctx, at, WUDF_ERR_INVALID,
                        "start function %" PRIu32 " does not exist",
                        r->info->start);
}
