/*
 * The `name` custom section's function names (subsection 1). A malformed
 * section ends the reading where it goes wrong; the names read until then
 * are kept.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "load/debuginfo.h"

typedef struct cursor {
  const uint8_t *p;
  size_t pos, end;
} cursor;

static bool read_u32(cursor *c, uint32_t *out) {
  uint32_t v = 0;
  for (unsigned shift = 0; shift < 35; shift += 7) {
    if (c->pos >= c->end) return false;
    uint8_t b = c->p[c->pos++];
    if (shift == 28 && (b & 0x70)) return false;
    v |= (uint32_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* A copy of the name fit for a message: control bytes and quotes become
 * '?', the length is capped. */
static char *copy_name(const uint8_t *s, uint32_t len) {
  if (len > WUDF_DEBUGINFO_MAX_NAME) len = WUDF_DEBUGINFO_MAX_NAME;
  char *out = wudf_malloc((size_t)len + 1);
  if (!out) return NULL;
  for (uint32_t i = 0; i < len; i++)
    out[i] = s[i] < 0x20 || s[i] == 0x7f ? '?' : (char)s[i];
  out[len] = '\0';
  return out;
}

static int cmp_index(const void *a, const void *b) {
  uint32_t x = ((const wudf_wasm_func_name *)a)->index;
  uint32_t y = ((const wudf_wasm_func_name *)b)->index;
  return (x > y) - (x < y);
}

/* Sorts by index and drops repeats (a valid section has none; of a hostile
 * one's, one name per index is kept). */
static void sort_unique(wudf_wasm_debuginfo *out) {
  qsort(out->names, out->nnames, sizeof *out->names, cmp_index);
  uint32_t k = 0;
  for (uint32_t i = 0; i < out->nnames; i++) {
    if (k && out->names[k - 1].index == out->names[i].index) {
      wudf_free(out->names[i].name);
      continue;
    }
    out->names[k++] = out->names[i];
  }
  out->nnames = k;
}

/* Reads the name map of subsection 1 into out->names. */
static wudf_status read_map(cursor *c, uint32_t nfuncs,
                            wudf_wasm_debuginfo *out, wudf_error *err) {
  uint32_t count;
  if (!read_u32(c, &count)) return WUDF_OK;
  /* Each entry takes two bytes at least: bound the allocation by the
   * bytes present and by the functions there are. */
  uint32_t cap = count;
  if (cap > (c->end - c->pos) / 2) cap = (uint32_t)((c->end - c->pos) / 2);
  if (cap > nfuncs) cap = nfuncs;
  if (cap == 0) return WUDF_OK;
  out->names = wudf_calloc(cap, sizeof *out->names);
  if (!out->names)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for function names");
  for (uint32_t i = 0; i < count && out->nnames < cap; i++) {
    uint32_t index, len;
    if (!read_u32(c, &index) || !read_u32(c, &len) || len > c->end - c->pos)
      break;
    const uint8_t *s = c->p + c->pos;
    c->pos += len;
    if (index >= nfuncs || len == 0) continue;
    char *name = copy_name(s, len);
    if (!name)
      return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for function names");
    out->names[out->nnames++] = (wudf_wasm_func_name){index, name};
  }
  sort_unique(out);
  return WUDF_OK;
}

wudf_status wudf_wasm_names_parse(const uint8_t *p, size_t n, uint32_t nfuncs,
                                  wudf_wasm_debuginfo *out, wudf_error *err) {
  if (!p || out->names) return WUDF_OK; /* the first name section wins */
  cursor c = {p, 0, n};
  while (c.pos < c.end) {
    uint8_t id = c.p[c.pos++];
    uint32_t size;
    if (!read_u32(&c, &size) || size > c.end - c.pos) return WUDF_OK;
    if (id == 1) {
      cursor sub = {p, c.pos, c.pos + size};
      return read_map(&sub, nfuncs, out, err);
    }
    c.pos += size;
  }
  return WUDF_OK;
}

const char *wudf_wasm_debuginfo_name(const wudf_wasm_debuginfo *info,
                                     uint32_t index) {
  uint32_t lo = 0, hi = info ? info->nnames : 0;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    uint32_t x = info->names[mid].index;
    if (x == index) return info->names[mid].name;
    if (x < index)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}
