/* Finding the sections the debug-info parsers read, and the function
 * bodies their addresses fall in. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "load/debuginfo.h"

static const wudf_wasm_custom *find_custom(const wudf_wasm_info *info,
                                           const char *name) {
  for (uint32_t i = 0; i < info->ncustoms; i++)
    if (!strcmp(info->customs[i].name.str, name)) return &info->customs[i];
  return NULL;
}

static const uint8_t *payload(const uint8_t *bytes, const wudf_wasm_custom *c,
                              size_t *len) {
  *len = c ? c->size : 0;
  return c ? bytes + c->offset : NULL;
}

/* A LEB128 u32 in a module wudf_wasm_parse() accepted. */
static uint32_t leb_u32(const uint8_t *p, size_t *pos, size_t end) {
  uint32_t v = 0;
  for (unsigned shift = 0; shift < 35 && *pos < end; shift += 7) {
    uint8_t b = p[(*pos)++];
    v |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
  }
  return v;
}

/* The body of each defined function, from the code section (already
 * checked by the reader: bodies fit, and there are info->nfuncs). */
static wudf_status body_ranges(const uint8_t *bytes, const wudf_wasm_info *info,
                               wudf_wasm_body_range **out, wudf_error *err) {
  *out = malloc((info->nfuncs ? info->nfuncs : 1) * sizeof **out);
  if (!*out)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for line programs");
  const uint8_t *code = bytes + info->code_offset;
  size_t pos = 0, end = info->code_size;
  leb_u32(code, &pos, end); /* the count */
  for (uint32_t i = 0; i < info->nfuncs; i++) {
    size_t start = pos;
    uint32_t size = leb_u32(code, &pos, end);
    pos = size > end - pos ? end : pos + size;
    (*out)[i] = (wudf_wasm_body_range){(uint32_t)start, (uint32_t)pos};
  }
  return WUDF_OK;
}

static wudf_status read_lines(const uint8_t *bytes, const wudf_wasm_info *info,
                              wudf_wasm_debuginfo *out, wudf_error *err) {
  size_t n;
  const uint8_t *p = payload(bytes, find_custom(info, ".debug_line"), &n);
  if (!p || !info->nfuncs) return WUDF_OK;
  wudf_dwarf_strings ss;
  ss.line_str =
      payload(bytes, find_custom(info, ".debug_line_str"), &ss.line_str_len);
  ss.str = payload(bytes, find_custom(info, ".debug_str"), &ss.str_len);
  wudf_wasm_body_range *bodies = NULL;
  wudf_status st = body_ranges(bytes, info, &bodies, err);
  if (st == WUDF_OK)
    st = wudf_dwarf_lines_parse(p, n, &ss, bodies, info->nfuncs, out, err);
  wudf_free(bodies);
  return st;
}

wudf_status wudf_wasm_debuginfo_read(const uint8_t *bytes, size_t len,
                                     const wudf_wasm_info *info,
                                     wudf_wasm_debuginfo *out,
                                     wudf_error *err) {
  memset(out, 0, sizeof *out);
  (void)len; /* the reader checked every custom section fits */
  size_t n;
  const uint8_t *names = payload(bytes, find_custom(info, "name"), &n);
  uint32_t nfuncs = info->nfunc_imports + info->nfuncs;
  wudf_status st = wudf_wasm_names_parse(names, n, nfuncs, out, err);
  if (st == WUDF_OK) st = read_lines(bytes, info, out, err);
  if (st != WUDF_OK) wudf_wasm_debuginfo_reset(out);
  return st;
}

void wudf_wasm_debuginfo_reset(wudf_wasm_debuginfo *info) {
  if (!info) return;
  for (uint32_t i = 0; i < info->nnames; i++) wudf_free(info->names[i].name);
  wudf_free(info->names);
  wudf_free(info->lines);
  for (uint32_t i = 0; i < info->nfiles; i++) wudf_free(info->files[i]);
  wudf_free(info->files);
  memset(info, 0, sizeof *info);
}
