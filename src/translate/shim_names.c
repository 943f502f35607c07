/*
 * The names wasm2c gives defined functions. wasm2c names a function
 * w2c_<name> after the `name` section (else after an export, else $f<i>,
 * with suffixes against clashes): handing it a name section wudf writes
 * makes every name known in advance, so the shim can list the functions'
 * addresses (shim_abi.h, wudf_shim_code) to name the one that trapped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "translate/shim_gen.h"

static bool starts_with(const wudf_wasm_name *n, const char *prefix) {
  size_t k = strlen(prefix);
  return n->len >= k && !memcmp(n->str, prefix, k);
}

static bool prefix_taken(const wudf_wasm_info *info, const char *prefix) {
  for (uint32_t i = 0; i < info->nexports; i++)
    if (starts_with(&info->exports[i].name, prefix)) return true;
  for (uint32_t i = 0; i < info->nimports; i++)
    if (starts_with(&info->imports[i].module, prefix) ||
        starts_with(&info->imports[i].name, prefix))
      return true;
  return false;
}

void wudf_shim_choose_func_prefix(const wudf_wasm_info *info,
                                  wudf_shim_source *src) {
  for (unsigned n = 0;; n++) {
    snprintf(src->func_prefix, sizeof src->func_prefix, "wudfZf%uZ", n);
    if (!prefix_taken(info, src->func_prefix)) return;
  }
}

static void put_u32(wudf_strbuf *sb, uint32_t v) {
  do {
    char b = (char)(v & 0x7f);
    v >>= 7;
    if (v) b = (char)(b | 0x80);
    wudf_strbuf_append(sb, &b, 1);
  } while (v);
}

/* The payload of the new name section: subsection 1, function names. */
static void names_payload(const wudf_wasm_info *info,
                          const wudf_shim_source *src, wudf_strbuf *out) {
  wudf_strbuf map;
  wudf_strbuf_init(&map);
  put_u32(&map, info->nfuncs);
  char name[64];
  for (uint32_t i = 0; i < info->nfuncs; i++) {
    int n = snprintf(name, sizeof name, "%s%u", src->func_prefix, i);
    put_u32(&map, info->nfunc_imports + i);
    put_u32(&map, (uint32_t)n);
    wudf_strbuf_append(&map, name, (size_t)n);
  }
  static const char section_name[] = "name";
  put_u32(out, (uint32_t)(sizeof section_name - 1));
  wudf_strbuf_append(out, section_name, sizeof section_name - 1);
  wudf_strbuf_append(out, "\1", 1);
  put_u32(out, (uint32_t)map.len);
  wudf_strbuf_append(out, map.data ? map.data : "", map.len);
  out->oom |= map.oom;
  wudf_strbuf_reset(&map);
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

static bool is_name_section(const uint8_t *bytes, size_t pos, size_t end) {
  uint32_t n = leb_u32(bytes, &pos, end);
  return n == 4 && end - pos >= 4 && !memcmp(bytes + pos, "name", 4);
}

/* Copies every section but `name` ones (the module was checked by the
 * reader: sections are well formed). */
static void copy_sections(const uint8_t *bytes, size_t len, wudf_strbuf *out) {
  wudf_strbuf_append(out, (const char *)bytes, 8);
  for (size_t pos = 8; pos < len;) {
    size_t start = pos++;
    uint32_t size = leb_u32(bytes, &pos, len);
    size_t end = size > len - pos ? len : pos + size;
    if (bytes[start] != 0 || !is_name_section(bytes, pos, end))
      wudf_strbuf_append(out, (const char *)bytes + start, end - start);
    pos = end;
  }
}

wudf_status wudf_shim_rename_functions(const uint8_t *bytes, size_t len,
                                       const wudf_wasm_info *info,
                                       const wudf_shim_source *src,
                                       uint8_t **out, size_t *out_len,
                                       wudf_error *err) {
  *out = NULL;
  *out_len = 0;
  if (len < 8) return wudf_fail(err, WUDF_ERR_MALFORMED, "module too short");
  wudf_strbuf sb, payload;
  wudf_strbuf_init(&sb);
  wudf_strbuf_init(&payload);
  copy_sections(bytes, len, &sb);
  if (info->nfuncs) {
    names_payload(info, src, &payload);
    wudf_strbuf_append(&sb, "", 1); /* id 0: custom */
    put_u32(&sb, (uint32_t)payload.len);
    wudf_strbuf_append(&sb, payload.data ? payload.data : "", payload.len);
  }
  wudf_status st = WUDF_OK;
  if (sb.oom || payload.oom)
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory naming functions");
  else if (sb.len > UINT32_MAX)
    st = wudf_fail(err, WUDF_ERR_LIMIT, "module too large to name functions");
  wudf_strbuf_reset(&payload);
  if (st != WUDF_OK) {
    wudf_strbuf_reset(&sb);
    return st;
  }
  *out_len = sb.len;
  *out = (uint8_t *)wudf_strbuf_take(&sb);
  return WUDF_OK;
}
