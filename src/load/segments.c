/* Readers of the sections that hold code and initial contents: element
 * segments, data count, function bodies, data segments. */
#include <inttypes.h>

#include "load/load_internal.h"

/* ---- element segments ---------------------------------------------------- */

static wudf_status read_elem_kind(wudf_load_ctx *ctx, uint32_t flags) {
  uint8_t b;
  if (flags & 4) return wudf_load_reftype(ctx, "element segment", &b);
  size_t at = ctx->pos;
  wudf_status st = wudf_load_byte(ctx, &b);
  if (st == WUDF_OK && b != 0x00)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed element kind 0x%02x", b);
  return st;
}

static wudf_status read_elem_items(wudf_load_reader *r, uint32_t flags) {
  wudf_load_ctx *ctx = &r->ctx;
  uint32_t n, index;
  wudf_status st = wudf_load_count(ctx, 1, "elements", &n);
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++)
    st = (flags & 4) ? wudf_load_const_expr(ctx, &r->code)
                     : wudf_load_u32(ctx, &index);
  return st;
}

/* Flags 0..7: bit 0 passive or declarative, bit 1 explicit table index
 * (active) or declarative (otherwise), bit 2 expressions instead of function
 * indices. */
static wudf_status read_elem(wudf_load_reader *r) {
  wudf_load_ctx *ctx = &r->ctx;
  size_t at = ctx->pos;
  uint32_t flags, table;
  wudf_status st = wudf_load_u32(ctx, &flags);
  if (st != WUDF_OK) return st;
  if (flags > 7)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed element segment flags %" PRIu32, flags);
  bool active = !(flags & 1);
  if (active && (flags & 2)) st = wudf_load_u32(ctx, &table);
  if (st == WUDF_OK && active) st = wudf_load_const_expr(ctx, &r->code);
  if (st == WUDF_OK && (flags & 3)) st = read_elem_kind(ctx, flags);
  return st == WUDF_OK ? read_elem_items(r, flags) : st;
}

wudf_status wudf_load_elements(wudf_load_reader *r) {
  uint32_t n;
  wudf_status st = wudf_load_count(&r->ctx, 1, "element segments", &n);
  if (st != WUDF_OK) return st;
  r->info->nelems = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++) st = read_elem(r);
  return st;
}

wudf_status wudf_load_data_count(wudf_load_reader *r) {
  wudf_status st = wudf_load_u32(&r->ctx, &r->data_count);
  if (st != WUDF_OK) return st;
  r->info->has_data_count = true;
  r->code.has_data_count = true;
  return WUDF_OK;
}

/* ---- function bodies ----------------------------------------------------- */

static wudf_status read_locals(wudf_load_reader *r, uint32_t func) {
  wudf_load_ctx *ctx = &r->ctx;
  uint32_t ngroups, n;
  uint64_t total = 0;
  uint8_t type;
  wudf_status st = wudf_load_count(ctx, 2, "local groups", &ngroups);
  for (uint32_t i = 0; st == WUDF_OK && i < ngroups; i++) {
    size_t at = ctx->pos;
    st = wudf_load_u32(ctx, &n);
    if (st == WUDF_OK) st = wudf_load_valtype(ctx, "local", &type);
    total += n;
    if (st == WUDF_OK && total > WUDF_LOAD_MAX_LOCALS)
      return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                            "too many locals: at least %" PRIu64
                            " declared, at most %u allowed",
                            total, WUDF_LOAD_MAX_LOCALS);
  }
  if (st != WUDF_OK) return st;
  /* The function section checked the type index. */
  wudf_wasm_info *info = r->info;
  total += info->types[info->func_types[func]].nparams;
  if (total > info->max_locals) info->max_locals = (uint32_t)total;
  return WUDF_OK;
}

static wudf_status read_body(wudf_load_reader *r, uint32_t func) {
  wudf_load_ctx *ctx = &r->ctx;
  ctx->in_func = true;
  ctx->func = r->info->nfunc_imports + func;
  size_t at = ctx->pos;
  uint32_t size;
  wudf_status st = wudf_load_u32(ctx, &size);
  if (st != WUDF_OK) return st;
  if (size > wudf_load_left(ctx))
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "function body of %" PRIu32
                          " bytes but only %zu "
                          "bytes are left in the section",
                          size, wudf_load_left(ctx));
  size_t section_end = ctx->end;
  ctx->end = ctx->pos + size;
  st = read_locals(r, func);
  if (st == WUDF_OK) st = wudf_load_body(ctx, &r->code);
  if (st == WUDF_OK && ctx->pos != ctx->end)
    return wudf_load_fail(ctx, ctx->pos, WUDF_ERR_MALFORMED,
                          "%zu bytes after the end of the function body",
                          wudf_load_left(ctx));
  ctx->end = section_end;
  ctx->in_func = false;
  r->info->code_bytes += size;
  return st;
}

wudf_status wudf_load_code_section(wudf_load_reader *r) {
  size_t at = r->ctx.pos;
  uint32_t n;
  wudf_status st = wudf_load_count(&r->ctx, 1, "function bodies", &n);
  if (st != WUDF_OK) return st;
  if (n != r->info->nfuncs)
    return wudf_load_fail(&r->ctx, at, WUDF_ERR_MALFORMED,
                          "function and code section have inconsistent "
                          "lengths: %" PRIu32 " functions, %" PRIu32 " bodies",
                          r->info->nfuncs, n);
  r->nbodies = n;
  r->info->code_offset = (uint32_t)at;
  r->info->code_size = (uint32_t)(r->ctx.end - at);
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++) st = read_body(r, i);
  if (st == WUDF_OK) r->info->max_block_depth = r->code.max_depth;
  return st;
}

/* ---- data segments ------------------------------------------------------- */

static wudf_status read_data_memory(wudf_load_ctx *ctx) {
  size_t at = ctx->pos;
  uint32_t mem;
  wudf_status st = wudf_load_u32(ctx, &mem);
  if (st == WUDF_OK && mem != 0)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "data segment for memory %" PRIu32
                          " (multi-"
                          "memory) is not supported: wudf supports one "
                          "memory",
                          mem);
  return st;
}

/* Flags: 0 active in memory 0, 1 passive, 2 active with a memory index. */
static wudf_status read_data_segment(wudf_load_reader *r) {
  wudf_load_ctx *ctx = &r->ctx;
  size_t at = ctx->pos;
  uint32_t flags, len;
  wudf_status st = wudf_load_u32(ctx, &flags);
  if (st != WUDF_OK) return st;
  if (flags > 2)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed data segment flags %" PRIu32, flags);
  if (flags == 2) st = read_data_memory(ctx);
  if (st == WUDF_OK && flags != 1) st = wudf_load_const_expr(ctx, &r->code);
  if (st == WUDF_OK) st = wudf_load_count(ctx, 1, "data bytes", &len);
  return st == WUDF_OK ? wudf_load_skip(ctx, len) : st;
}

wudf_status wudf_load_data(wudf_load_reader *r) {
  size_t at = r->ctx.pos;
  uint32_t n;
  wudf_status st = wudf_load_count(&r->ctx, 1, "data segments", &n);
  if (st != WUDF_OK) return st;
  if (r->info->has_data_count && n != r->data_count)
    return wudf_load_fail(&r->ctx, at, WUDF_ERR_MALFORMED,
                          "data count and data section have inconsistent "
                          "lengths: %" PRIu32 " and %" PRIu32,
                          r->data_count, n);
  r->info->ndatas = n;
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++) st = read_data_segment(r);
  return st;
}
