/* WebAssembly binary reader: header, section framing and order, custom
 * sections, and the checks that span sections. The section contents are read
 * in sections.c and segments.c, instructions in code.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "load/load_internal.h"

typedef wudf_status (*section_reader)(wudf_load_reader *r);

typedef struct section_desc {
  const char *name;
  uint8_t rank; /* sections other than custom ones must appear by rank */
  section_reader read;
} section_desc;

static wudf_status read_custom(wudf_load_reader *r);

/* Indexed by section id. The tag section (13, exception handling) sits
 * between memory and global; the data count section (12) before code. */
static const section_desc k_sections[] = {
    {"custom section", 0, read_custom},
    {"type section", 1, wudf_load_types},
    {"import section", 2, wudf_load_imports},
    {"function section", 3, wudf_load_functions},
    {"table section", 4, wudf_load_tables},
    {"memory section", 5, wudf_load_memories},
    {"global section", 7, wudf_load_globals},
    {"export section", 8, wudf_load_exports},
    {"start section", 9, wudf_load_start},
    {"element section", 10, wudf_load_elements},
    {"code section", 12, wudf_load_code_section},
    {"data section", 13, wudf_load_data},
    {"data count section", 11, wudf_load_data_count},
    {"tag section", 6, NULL},
};

enum { NSECTIONS = sizeof k_sections / sizeof k_sections[0] };

/* ---- custom sections ----------------------------------------------------- */

static wudf_status grow_customs(wudf_load_reader *r) {
  wudf_wasm_info *info = r->info;
  if (info->ncustoms < r->customs_cap) return WUDF_OK;
  /* Each custom section takes at least two bytes of a module below 4 GiB,
   * so the count stays far from overflowing. */
  uint32_t cap = r->customs_cap ? r->customs_cap * 2 : 4;
  wudf_wasm_custom *p = reallocarray(info->customs, cap, sizeof *p);
  if (!p)
    return wudf_load_fail(&r->ctx, r->ctx.pos, WUDF_ERR_NOMEM,
                          "out of memory for %" PRIu32 " custom sections", cap);
  info->customs = p;
  r->customs_cap = cap;
  return WUDF_OK;
}

static wudf_status read_custom(wudf_load_reader *r) {
  wudf_load_ctx *ctx = &r->ctx;
  wudf_status st = grow_customs(r);
  if (st != WUDF_OK) return st;
  wudf_wasm_custom *c = &r->info->customs[r->info->ncustoms];
  st = wudf_load_name(ctx, &c->name);
  if (st != WUDF_OK) return st;
  c->offset = (uint32_t)ctx->pos;
  c->size = (uint32_t)wudf_load_left(ctx);
  ctx->pos = ctx->end;
  r->info->ncustoms++;
  return WUDF_OK;
}

/* ---- framing ------------------------------------------------------------- */

static wudf_status read_header(wudf_load_ctx *ctx) {
  static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6d};
  size_t have = ctx->end < 4 ? ctx->end : 4;
  if (memcmp(ctx->bytes, magic, have) != 0)
    return wudf_load_fail(ctx, 0, WUDF_ERR_MALFORMED,
                          "magic header not detected: not a WebAssembly "
                          "binary");
  if (ctx->end < 8)
    return wudf_load_fail(ctx, ctx->end, WUDF_ERR_MALFORMED,
                          "unexpected end in the module header");
  const uint8_t *v = ctx->bytes + 4;
  uint32_t version = (uint32_t)v[0] | (uint32_t)v[1] << 8 |
                     (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
  if (version != 1)
    return wudf_load_fail(ctx, 4, WUDF_ERR_MALFORMED,
                          "unknown binary version %" PRIu32 " (1 expected)",
                          version);
  ctx->pos = 8;
  return WUDF_OK;
}

static wudf_status check_order(const wudf_load_ctx *ctx, size_t at, uint8_t id,
                               uint8_t *last_id) {
  if (id == 0) return WUDF_OK;
  uint8_t last = *last_id;
  if (last && k_sections[id].rank == k_sections[last].rank)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED, "duplicate %s",
                          k_sections[id].name);
  if (last && k_sections[id].rank < k_sections[last].rank)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "out-of-order section: %s after the %s",
                          k_sections[id].name, k_sections[last].name);
  *last_id = id;
  return WUDF_OK;
}

/* Reads the id and size of a section and checks them; leaves ctx->pos at
 * the start of the content. */
static wudf_status read_section_header(wudf_load_ctx *ctx, uint8_t *id,
                                       uint32_t *size) {
  size_t at = ctx->pos;
  ctx->where = NULL;
  wudf_status st = wudf_load_byte(ctx, id);
  if (st != WUDF_OK) return st;
  if (*id >= NSECTIONS)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed section id %u", *id);
  ctx->where = k_sections[*id].name;
  st = wudf_load_u32(ctx, size);
  if (st != WUDF_OK) return st;
  if (*size > wudf_load_left(ctx))
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "section size %" PRIu32
                          " is larger than the %zu "
                          "bytes left in the module",
                          *size, wudf_load_left(ctx));
  if (!k_sections[*id].read)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "tag section (exception-handling proposal) is not "
                          "supported: compile without -fwasm-exceptions");
  return WUDF_OK;
}

static wudf_status read_section(wudf_load_reader *r, uint8_t *last_id) {
  wudf_load_ctx *ctx = &r->ctx;
  size_t at = ctx->pos;
  uint8_t id;
  uint32_t size;
  wudf_status st = read_section_header(ctx, &id, &size);
  if (st == WUDF_OK) st = check_order(ctx, at, id, last_id);
  if (st != WUDF_OK) return st;
  size_t module_end = ctx->end;
  ctx->end = ctx->pos + size;
  st = k_sections[id].read(r);
  if (st == WUDF_OK && ctx->pos != ctx->end)
    return wudf_load_fail(ctx, ctx->pos, WUDF_ERR_MALFORMED,
                          "section size mismatch: the content ends %zu bytes "
                          "before the declared size of %" PRIu32,
                          wudf_load_left(ctx), size);
  ctx->end = module_end;
  return st;
}

/* Checks between sections that can only be made at the end. */
static wudf_status check_module(wudf_load_reader *r) {
  const wudf_wasm_info *info = r->info;
  r->ctx.where = NULL;
  if (info->nfuncs != r->nbodies)
    return wudf_load_fail(&r->ctx, r->ctx.pos, WUDF_ERR_MALFORMED,
                          "function and code section have inconsistent "
                          "lengths: %" PRIu32 " functions, %" PRIu32 " bodies",
                          info->nfuncs, r->nbodies);
  if (info->has_data_count && r->data_count != info->ndatas)
    return wudf_load_fail(&r->ctx, r->ctx.pos, WUDF_ERR_MALFORMED,
                          "data count and data section have inconsistent "
                          "lengths: %" PRIu32 " and %" PRIu32,
                          r->data_count, info->ndatas);
  return WUDF_OK;
}

static wudf_status read_module(wudf_load_reader *r) {
  uint8_t last_id = 0;
  wudf_status st = read_header(&r->ctx);
  while (st == WUDF_OK && r->ctx.pos < r->ctx.end)
    st = read_section(r, &last_id);
  return st == WUDF_OK ? check_module(r) : st;
}

/* ---- public -------------------------------------------------------------- */

wudf_status wudf_wasm_parse(const uint8_t *bytes, size_t len,
                            const wudf_wasm_parse_limits *limits,
                            wudf_wasm_info *info, wudf_error *err) {
  static const uint8_t empty[1];
  if (!info || (!bytes && len))
    return wudf_fail(err, WUDF_ERR_ARG, "wudf_wasm_parse: NULL argument");
  *info = (wudf_wasm_info){0};
  /* Offsets are recorded as uint32_t. */
  if (len > UINT32_MAX)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "the module has %zu bytes; at most 4 GiB are accepted",
                     len);
  wudf_load_reader r = {
      .ctx = {.bytes = bytes ? bytes : empty, .end = len, .err = err},
      .info = info,
  };
  if (limits) r.limits = *limits;
  wudf_status st = read_module(&r);
  wudf_load_code_free(&r.code);
  if (st != WUDF_OK) wudf_wasm_info_reset(info);
  return st;
}

static void free_name(wudf_wasm_name *name) {
  wudf_free(name->str);
}

void wudf_wasm_info_reset(wudf_wasm_info *info) {
  if (!info) return;
  for (uint32_t i = 0; i < info->ntypes; i++) wudf_free(info->types[i].types);
  wudf_free(info->types);
  for (uint32_t i = 0; i < info->nimports; i++) {
    free_name(&info->imports[i].module);
    free_name(&info->imports[i].name);
  }
  wudf_free(info->imports);
  wudf_free(info->func_import_types);
  wudf_free(info->func_types);
  wudf_free(info->tables);
  wudf_free(info->memories);
  wudf_free(info->globals);
  for (uint32_t i = 0; i < info->nexports; i++)
    free_name(&info->exports[i].name);
  wudf_free(info->exports);
  for (uint32_t i = 0; i < info->ncustoms; i++)
    free_name(&info->customs[i].name);
  wudf_free(info->customs);
  *info = (wudf_wasm_info){0};
}

const wudf_wasm_functype *wudf_wasm_func_type(const wudf_wasm_info *info,
                                              uint32_t index) {
  if (!info) return NULL;
  uint32_t type;
  if (index < info->nfunc_imports) {
    if (!info->func_import_types) return NULL;
    type = info->func_import_types[index];
  } else {
    uint32_t i = index - info->nfunc_imports;
    if (i >= info->nfuncs) return NULL;
    type = info->func_types[i];
  }
  return type < info->ntypes ? &info->types[type] : NULL;
}

const char *wudf_wasm_valtype_str(uint8_t type) {
  switch (type) {
    case WUDF_WASM_I32:
      return "i32";
    case WUDF_WASM_I64:
      return "i64";
    case WUDF_WASM_F32:
      return "f32";
    case WUDF_WASM_F64:
      return "f64";
    case WUDF_WASM_V128:
      return "v128";
    case WUDF_WASM_FUNCREF:
      return "funcref";
    case WUDF_WASM_EXTERNREF:
      return "externref";
    default:
      return "?";
  }
}
