/* Tables: heap arrays of funcrefs or externrefs. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "runtime/rt_internal.h"

static uint32_t cap_elements(void) {
  const wudf_rt_call_opts *opts = wudf_rt_current_opts();
  return opts ? opts->table_cap : UINT32_MAX;
}

/* Element storage for `n` elements of `size` bytes, zeroed (a zeroed funcref
 * or externref is null). *out is NULL for n == 0. */
static wudf_status elems_new(void **out, uint32_t n, size_t size, uint32_t max,
                             uint32_t cap, wudf_error *err) {
  *out = NULL;
  if (n > max)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "table of %u elements above its "
                     "maximum %u",
                     n, max);
  if (n > cap)
    return wudf_fail(err, WUDF_ERR_LIMIT, "table needs %u elements, cap %u", n,
                     cap);
  if (n == 0) return WUDF_OK;
  *out = wudf_calloc(n, size);
  if (!*out)
    return wudf_fail(err, WUDF_ERR_NOMEM, "allocating a table of %u elements",
                     n);
  return WUDF_OK;
}

/* Grows `*data` from `*size` to `*size + delta` elements, each new one a copy
 * of `init`. Returns the old size or UINT32_MAX. */
static uint32_t elems_grow(void **data, uint32_t *size, uint32_t max,
                           size_t elem, uint32_t delta, const void *init) {
  uint32_t old = *size;
  uint64_t want = (uint64_t)old + delta;
  if (want > max || want > cap_elements()) return UINT32_MAX;
  if (delta == 0) return old;
  /* want < 2^32 and elem is small: the product fits in size_t. */
  char *p = wudf_realloc(*data, (size_t)want * elem);
  if (!p) return UINT32_MAX;
  for (uint64_t i = old; i < want; i++) memcpy(p + i * elem, init, elem);
  *data = p;
  *size = (uint32_t)want;
  return old;
}

wudf_status wudf_rt_funcref_table_new(wasm_rt_funcref_table_t *t,
                                      uint32_t elements, uint32_t max_elements,
                                      wudf_error *err) {
  if (!t) return wudf_fail(err, WUDF_ERR_ARG, "table_new: NULL table");
  memset(t, 0, sizeof *t);
  void *data;
  wudf_status st = elems_new(&data, elements, sizeof *t->data, max_elements,
                             UINT32_MAX, err);
  if (st != WUDF_OK) return st;
  *t = (wasm_rt_funcref_table_t){data, max_elements, elements};
  return WUDF_OK;
}

void wudf_rt_funcref_table_delete(wasm_rt_funcref_table_t *t) {
  if (!t) return;
  wudf_free(t->data);
  memset(t, 0, sizeof *t);
}

void wudf_rt_externref_table_delete(wasm_rt_externref_table_t *t) {
  if (!t) return;
  wudf_free(t->data);
  memset(t, 0, sizeof *t);
}

void wudf_rt_funcref_table_allocate(wasm_rt_funcref_table_t *t,
                                    uint32_t elements, uint32_t max_elements) {
  memset(t, 0, sizeof *t);
  wudf_error err = {0};
  void *data;
  if (elems_new(&data, elements, sizeof *t->data, max_elements, cap_elements(),
                &err) != WUDF_OK)
    wudf_rt_trap_detail(err.status, "%s", err.message);
  *t = (wasm_rt_funcref_table_t){data, max_elements, elements};
}

void wudf_rt_externref_table_allocate(wasm_rt_externref_table_t *t,
                                      uint32_t elements,
                                      uint32_t max_elements) {
  memset(t, 0, sizeof *t);
  wudf_error err = {0};
  void *data;
  if (elems_new(&data, elements, sizeof *t->data, max_elements, cap_elements(),
                &err) != WUDF_OK)
    wudf_rt_trap_detail(err.status, "%s", err.message);
  *t = (wasm_rt_externref_table_t){data, max_elements, elements};
}

uint32_t wudf_rt_funcref_table_grow(wasm_rt_funcref_table_t *t, uint32_t delta,
                                    wasm_rt_funcref_t init) {
  void *data = t->data;
  uint32_t old =
      elems_grow(&data, &t->size, t->max_size, sizeof *t->data, delta, &init);
  t->data = data;
  return old;
}

uint32_t wudf_rt_externref_table_grow(wasm_rt_externref_table_t *t,
                                      uint32_t delta,
                                      wasm_rt_externref_t init) {
  void *data = t->data;
  uint32_t old =
      elems_grow(&data, &t->size, t->max_size, sizeof *t->data, delta, &init);
  t->data = data;
  return old;
}
