/* String arguments of a chunk in the layout the generated batch loop reads
 * (translate/shim_abi.h): int32 offsets into one run of bytes. A utf8
 * column is that already; a large_utf8 chunk gets rebased offsets over the
 * caller's bytes, a utf8_view chunk offsets and its bytes gathered. Only the
 * chunk being run is converted, into buffers reused from chunk to chunk and
 * charged to the instance's budget. */
#include <stdlib.h>

#include "api/execute.h"
#include "common/alloc.h"
#include "common/budget.h"
#include "common/error.h"

static int64_t offset64_at(const wudf_column *c, int64_t i) {
  int64_t v;
  memcpy(&v, (const uint8_t *)c->values + (size_t)(c->offset + i) * 8, 8);
  return v;
}

static int32_t offset32_at(const wudf_column *c, int64_t i) {
  int32_t v;
  memcpy(&v, (const uint8_t *)c->values + (size_t)(c->offset + i) * 4, 4);
  return v;
}

uint64_t wudf_string_arg_bytes(const wudf_column *c, int64_t from, int64_t to) {
  if (c->type == WUDF_TYPE_UTF8)
    return (uint64_t)(offset32_at(c, to) - offset32_at(c, from));
  if (c->type == WUDF_TYPE_LARGE_UTF8)
    return (uint64_t)(offset64_at(c, to) - offset64_at(c, from));
  uint64_t total = 0;
  for (int64_t i = from; i < to; i++) {
    size_t n;
    wudf_column_view(c, i, &n);
    total += n;
  }
  return total;
}

/* Makes *buf hold `need` bytes, charging the growth to the budget. */
static wudf_status grow(wudf_string_arg *a, void **buf, uint64_t *cap,
                        uint64_t need, const char *what, wudf_error *err) {
  if (need <= *cap) return WUDF_OK;
  if (need > SIZE_MAX)
    return wudf_fail(err, WUDF_ERR_NOMEM, "%s: %llu bytes are too many", what,
                     (unsigned long long)need);
  wudf_status st =
      wudf_budget_charge_or_fail(a->budget, need - *cap, what, err);
  if (st != WUDF_OK) return st;
  void *p = wudf_realloc(*buf, (size_t)need);
  if (!p) {
    wudf_budget_credit(a->budget, need - *cap);
    return wudf_fail(err, WUDF_ERR_NOMEM, "%s: out of memory for %llu bytes",
                     what, (unsigned long long)need);
  }
  *buf = p;
  *cap = need;
  return WUDF_OK;
}

/* Room for rows + 1 offsets and `bytes` bytes (none for large_utf8). */
static wudf_status reserve(wudf_string_arg *a, int64_t rows, uint64_t bytes,
                           wudf_error *err) {
  static const char what[] = "converting a string column for the batch loop";
  if (bytes > INT32_MAX)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "%llu bytes of strings in one chunk; at most 2 GiB can "
                     "cross to the module at once",
                     (unsigned long long)bytes);
  uint64_t need = ((uint64_t)rows + 1) * sizeof(int32_t);
  wudf_status st =
      grow(a, (void **)&a->own_offsets, &a->offsets_cap, need, what, err);
  if (st == WUDF_OK && bytes)
    st = grow(a, (void **)&a->own_data, &a->data_cap, bytes, what, err);
  return st;
}

static wudf_status select_large(wudf_string_arg *a, const wudf_column *c,
                                int64_t from, int64_t rows, wudf_error *err) {
  int64_t base = offset64_at(c, from);
  uint64_t bytes = (uint64_t)(offset64_at(c, from + rows) - base);
  /* The bytes stay the caller's: only offsets are made (bytes is passed
   * for its limit check alone when it is past 2 GiB). */
  wudf_status st = reserve(a, rows, bytes > INT32_MAX ? bytes : 0, err);
  if (st != WUDF_OK) return st;
  for (int64_t i = 0; i <= rows; i++)
    a->own_offsets[i] = (int32_t)(offset64_at(c, from + i) - base);
  a->offsets = a->own_offsets;
  a->data = c->data + base;
  return WUDF_OK;
}

static wudf_status select_views(wudf_string_arg *a, const wudf_column *c,
                                int64_t from, int64_t rows, wudf_error *err) {
  uint64_t bytes = wudf_string_arg_bytes(c, from, from + rows);
  wudf_status st = reserve(a, rows, bytes, err);
  if (st != WUDF_OK) return st;
  int32_t end = 0;
  a->own_offsets[0] = 0;
  for (int64_t i = 0; i < rows; i++) {
    size_t n;
    const uint8_t *s = wudf_column_view(c, from + i, &n);
    if (n) memcpy(a->own_data + end, s, n);
    end += (int32_t)n;
    a->own_offsets[i + 1] = end;
  }
  a->offsets = a->own_offsets;
  a->data = a->own_data ? a->own_data : (const uint8_t *)"";
  return WUDF_OK;
}

wudf_status wudf_string_arg_select(wudf_string_arg *a, const wudf_column *c,
                                   int64_t from, int64_t rows,
                                   wudf_error *err) {
  if (c->type == WUDF_TYPE_LARGE_UTF8)
    return select_large(a, c, from, rows, err);
  if (c->type == WUDF_TYPE_UTF8_VIEW)
    return select_views(a, c, from, rows, err);
  a->offsets = (const int32_t *)c->values + c->offset + from;
  a->data = c->data;
  return WUDF_OK;
}

void wudf_string_arg_reset(wudf_string_arg *a) {
  wudf_free(a->own_offsets);
  wudf_free(a->own_data);
  wudf_budget_credit(a->budget, a->offsets_cap + a->data_cap);
  wudf_budget *b = a->budget;
  memset(a, 0, sizeof *a);
  a->budget = b;
}
