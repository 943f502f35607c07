/*
 * From scanned fields to Arrow arrays: the reader's column builder. Rows are
 * converted a column at a time over a chunk of scanned records, straight into
 * the Arrow buffers (values, validity bitmap, utf8 offsets and bytes), which
 * keeps each loop small and type-specific.
 */
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "csv/csv_internal.h"

static size_t value_width(wudf_type t) {
  switch (t) {
    case WUDF_TYPE_INT64:
    case WUDF_TYPE_FLOAT64:
      return 8;
    case WUDF_TYPE_BOOL:
      return 0;
    default: /* int32, float32, utf8 offsets */
      return 4;
  }
}

static size_t bitmap_bytes(int64_t rows) {
  return (size_t)(rows / 8 + (rows % 8 != 0));
}

/* Bytes of buffers[1] for `rows` rows (utf8: rows + 1 offsets). */
static size_t values_bytes(wudf_type t, int64_t rows) {
  if (t == WUDF_TYPE_BOOL) return bitmap_bytes(rows);
  return (size_t)(rows + (t == WUDF_TYPE_UTF8)) * value_width(t);
}

/* realloc to `to` bytes (at least 1), zeroing bytes [from, to). */
static bool regrow(uint8_t **p, size_t from, size_t to) {
  uint8_t *q = wudf_realloc(*p, to ? to : 1);
  if (!q) return false;
  if (to > from) memset(q + from, 0, to - from);
  *p = q;
  return true;
}

static bool col_grow(wudf_csv_colbuf *c, int64_t old_rows, int64_t rows) {
  if (!regrow(&c->validity, bitmap_bytes(old_rows), bitmap_bytes(rows)))
    return false;
  size_t old = old_rows ? values_bytes(c->type, old_rows) : 0;
  return regrow(&c->values, old, values_bytes(c->type, rows));
}

/* Room for `need` rows in every column. */
static wudf_status reserve_rows(wudf_csv_builder *b, int64_t need,
                                wudf_error *err) {
  if (need <= b->cap) return WUDF_OK;
  int64_t cap = b->cap > need / 2 ? b->cap * 2 : need;
  if (cap < 16) cap = 16;
  /* Every buffer is at most 8 bytes per row, plus one offset. */
  if (need > (int64_t)(SIZE_MAX / 16) - 1 || cap > (int64_t)(SIZE_MAX / 16) - 1)
    return wudf_fail(err, WUDF_ERR_LIMIT, "%lld rows are too many",
                     (long long)need);
  for (uint32_t i = 0; i < b->ncols; i++)
    if (!col_grow(&b->cols[i], b->cap, cap)) goto nomem;
  int64_t *lines = wudf_realloc(b->lines, (size_t)cap * sizeof *lines);
  if (!lines) goto nomem;
  b->lines = lines;
  b->cap = cap;
  return WUDF_OK;
nomem:
  return wudf_fail(err, WUDF_ERR_NOMEM,
                   "out of memory for a batch of %lld rows", (long long)cap);
}

wudf_status wudf_csv_builder_init(wudf_csv_builder *b, uint32_t ncols,
                                  const wudf_type *types, int64_t cap,
                                  wudf_error *err) {
  memset(b, 0, sizeof *b);
  b->cols = wudf_calloc(ncols ? ncols : 1, sizeof *b->cols);
  if (!b->cols)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for %u columns",
                     ncols);
  b->ncols = ncols;
  for (uint32_t i = 0; i < ncols; i++) b->cols[i].type = types[i];
  wudf_status st = reserve_rows(b, cap < 1 ? 1 : cap, err);
  for (uint32_t i = 0; st == WUDF_OK && i < ncols; i++) {
    wudf_csv_colbuf *c = &b->cols[i];
    /* utf8: never a NULL data buffer (offsets[0] = 0 is already there). */
    if (c->type == WUDF_TYPE_UTF8 && !regrow(&c->data, 0, 64))
      st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a batch");
    else if (c->type == WUDF_TYPE_UTF8)
      c->data_cap = 64;
  }
  if (st != WUDF_OK) wudf_csv_builder_reset(b);
  return st;
}

void wudf_csv_builder_reset(wudf_csv_builder *b) {
  for (uint32_t i = 0; b->cols && i < b->ncols; i++) {
    wudf_free(b->cols[i].validity);
    wudf_free(b->cols[i].values);
    wudf_free(b->cols[i].data);
  }
  wudf_free(b->cols);
  wudf_free(b->lines);
  memset(b, 0, sizeof *b);
}

/* ---- Fitting utf8 bytes under INT32_MAX --------------------------------- */

int64_t wudf_csv_builder_fit(const wudf_csv_builder *b,
                             const wudf_csv_span *spans, int64_t k) {
  int64_t fit = k;
  for (uint32_t c = 0; c < b->ncols; c++) {
    const wudf_csv_colbuf *col = &b->cols[c];
    /* Spans lie in the read buffer (<= 1 GiB): no overflow possible. */
    if (col->type != WUDF_TYPE_UTF8 ||
        col->data_len <= (size_t)INT32_MAX - WUDF_CSV_MAX_BUFFER)
      continue;
    size_t total = col->data_len;
    for (int64_t i = 0; i < fit; i++) {
      total += wudf_csv_span_len(spans[(size_t)i * b->ncols + c]);
      if (total > (size_t)INT32_MAX) fit = i;
    }
  }
  return fit;
}

/* ---- Conversion errors -------------------------------------------------- */

void wudf_csv_quote_value(const uint8_t *s, size_t n, size_t max, char *buf) {
  size_t m = n;
  if (m > max) {
    m = max;
    while (m > 0 && (s[m] & 0xc0) == 0x80) m--; /* whole UTF-8 sequences */
  }
  for (size_t i = 0; i < m; i++)
    buf[i] = s[i] < 0x20 || s[i] == 0x7f ? '?' : (char)s[i];
  if (m < n) {
    memcpy(buf + m, "...", 4);
  } else {
    buf[m] = '\0';
  }
}

static wudf_status type_error(const wudf_csv_convert_ctx *ctx, uint32_t c,
                              int64_t line, wudf_type t, const uint8_t *s,
                              size_t n, wudf_error *err) {
  char text[84], why[64];
  wudf_csv_quote_value(s, n, 80, text);
  if (ctx->forced[c])
    snprintf(why, sizeof why, "the type given for the column");
  else
    snprintf(why, sizeof why, "inferred from the first %lld rows",
             (long long)ctx->sampled);
  const char *a = t == WUDF_TYPE_INT32 || t == WUDF_TYPE_INT64 ? "an" : "a";
  wudf_fail(err, WUDF_ERR_TYPE,
            "%s: line %lld, column '%s': '%s' is not %s %s (%s)", ctx->file,
            (long long)line, ctx->names[c], text, a, wudf_type_str(t), why);
  wudf_csv_locate(err, ctx->file, line);
  return WUDF_ERR_TYPE;
}

static wudf_status nomem_error(const wudf_csv_convert_ctx *ctx, int64_t line,
                               wudf_error *err) {
  wudf_fail(err, WUDF_ERR_NOMEM, "%s: line %lld: out of memory", ctx->file,
            (long long)line);
  wudf_csv_locate(err, ctx->file, line);
  return WUDF_ERR_NOMEM;
}

/* ---- Per-type column loops ---------------------------------------------- */

/* One column of k rows: spans[i * stride] is row i's field. */
typedef struct col_job {
  wudf_csv_colbuf *col;
  uint32_t c, stride;
  int64_t row0, k;
  const uint8_t *buf;
  const wudf_csv_span *spans;
  const int64_t *lines;
  const wudf_csv_convert_ctx *ctx;
} col_job;

static inline void set_valid(uint8_t *bits, int64_t row) {
  bits[row >> 3] = (uint8_t)(bits[row >> 3] | (1u << (row & 7)));
}

static wudf_status bad_value(const col_job *j, int64_t i, wudf_csv_num r,
                             wudf_error *err) {
  wudf_csv_span s = j->spans[(size_t)i * j->stride];
  if (r == WUDF_CSV_NUM_NOMEM) return nomem_error(j->ctx, j->lines[i], err);
  return type_error(j->ctx, j->c, j->lines[i], j->col->type, j->buf + s.off,
                    wudf_csv_span_len(s), err);
}

static wudf_status convert_int(const col_job *j, wudf_error *err) {
  bool narrow = j->col->type == WUDF_TYPE_INT32;
  for (int64_t i = 0; i < j->k; i++) {
    wudf_csv_span s = j->spans[(size_t)i * j->stride];
    uint32_t len = wudf_csv_span_len(s);
    if (len == 0) {
      j->col->null_count++;
      continue;
    }
    int64_t v;
    wudf_csv_num r = wudf_csv_parse_int64(j->buf + s.off, len, &v);
    if (r == WUDF_CSV_NUM_OK && narrow && (v < INT32_MIN || v > INT32_MAX))
      r = WUDF_CSV_NUM_RANGE;
    if (r != WUDF_CSV_NUM_OK) return bad_value(j, i, r, err);
    size_t row = (size_t)(j->row0 + i);
    if (narrow) {
      int32_t v32 = (int32_t)v;
      memcpy(j->col->values + row * 4, &v32, 4);
    } else {
      memcpy(j->col->values + row * 8, &v, 8);
    }
    set_valid(j->col->validity, j->row0 + i);
  }
  return WUDF_OK;
}

static wudf_status convert_float(const col_job *j, wudf_error *err) {
  bool narrow = j->col->type == WUDF_TYPE_FLOAT32;
  for (int64_t i = 0; i < j->k; i++) {
    wudf_csv_span s = j->spans[(size_t)i * j->stride];
    uint32_t len = wudf_csv_span_len(s);
    if (len == 0) {
      j->col->null_count++;
      continue;
    }
    size_t row = (size_t)(j->row0 + i);
    wudf_csv_num r;
    if (narrow) {
      float f;
      r = wudf_csv_parse_float(j->buf + s.off, len, &f);
      memcpy(j->col->values + row * 4, &f, 4);
    } else {
      double d;
      r = wudf_csv_parse_double(j->buf + s.off, len, &d);
      memcpy(j->col->values + row * 8, &d, 8);
    }
    if (r != WUDF_CSV_NUM_OK) return bad_value(j, i, r, err);
    set_valid(j->col->validity, j->row0 + i);
  }
  return WUDF_OK;
}

static wudf_status convert_bool(const col_job *j, wudf_error *err) {
  for (int64_t i = 0; i < j->k; i++) {
    wudf_csv_span s = j->spans[(size_t)i * j->stride];
    uint32_t len = wudf_csv_span_len(s);
    if (len == 0) {
      j->col->null_count++;
      continue;
    }
    bool v;
    if (!wudf_csv_parse_bool(j->buf + s.off, len, &v))
      return bad_value(j, i, WUDF_CSV_NUM_SYNTAX, err);
    if (v) set_valid(j->col->values, j->row0 + i);
    set_valid(j->col->validity, j->row0 + i);
  }
  return WUDF_OK;
}

static bool reserve_data(wudf_csv_colbuf *c, size_t extra) {
  size_t need = c->data_len + extra;
  if (need <= c->data_cap) return true;
  size_t cap = c->data_cap * 2 > need ? c->data_cap * 2 : need;
  uint8_t *p = wudf_realloc(c->data, cap);
  if (!p) return false;
  c->data = p;
  c->data_cap = cap;
  return true;
}

static wudf_status convert_utf8(const col_job *j, wudf_error *err) {
  wudf_csv_colbuf *col = j->col;
  size_t total = 0;
  for (int64_t i = 0; i < j->k; i++)
    total += wudf_csv_span_len(j->spans[(size_t)i * j->stride]);
  if (col->data_len + total > (size_t)INT32_MAX || !reserve_data(col, total))
    return nomem_error(j->ctx, j->lines[0], err);
  uint8_t *offsets = col->values;
  for (int64_t i = 0; i < j->k; i++) {
    wudf_csv_span s = j->spans[(size_t)i * j->stride];
    uint32_t len = wudf_csv_span_len(s);
    int64_t row = j->row0 + i;
    if (len == 0 && !(s.len & WUDF_CSV_QUOTED)) {
      col->null_count++;
    } else {
      memcpy(col->data + col->data_len, j->buf + s.off, len);
      col->data_len += len;
      set_valid(col->validity, row);
    }
    int32_t end = (int32_t)col->data_len;
    memcpy(offsets + (size_t)(row + 1) * 4, &end, 4);
  }
  return WUDF_OK;
}

wudf_status wudf_csv_builder_append(wudf_csv_builder *b, const uint8_t *buf,
                                    const wudf_csv_span *spans,
                                    const int64_t *lines, int64_t k,
                                    const wudf_csv_convert_ctx *ctx,
                                    wudf_error *err) {
  if (k <= 0) return WUDF_OK;
  wudf_status st = reserve_rows(b, b->rows + k, err);
  if (st != WUDF_OK) return st;
  memcpy(b->lines + b->rows, lines, (size_t)k * sizeof *lines);
  for (uint32_t c = 0; c < b->ncols && st == WUDF_OK; c++) {
    col_job j = {&b->cols[c], c,         b->ncols, b->rows, k,
                 buf,         spans + c, lines,    ctx};
    switch (b->cols[c].type) {
      case WUDF_TYPE_INT32:
      case WUDF_TYPE_INT64:
        st = convert_int(&j, err);
        break;
      case WUDF_TYPE_FLOAT32:
      case WUDF_TYPE_FLOAT64:
        st = convert_float(&j, err);
        break;
      case WUDF_TYPE_BOOL:
        st = convert_bool(&j, err);
        break;
      default:
        st = convert_utf8(&j, err);
        break;
    }
  }
  if (st == WUDF_OK) b->rows += k;
  return st;
}

/* ---- Handing the buffers over as Arrow arrays --------------------------- */

/* Moves column c's buffers into *a through owner o (already allocated). */
static void move_column(wudf_csv_colbuf *c, int64_t rows, wudf_arrow_owner *o,
                        struct ArrowArray *a) {
  if (c->null_count == 0) {
    wudf_free(c->validity);
    c->validity = NULL;
  }
  wudf_arrow_adopt(o, a, rows, c->null_count, c->type == WUDF_TYPE_UTF8 ? 3 : 2,
                   c->validity, c->values, c->data);
  c->validity = c->values = c->data = NULL;
  c->data_len = c->data_cap = 0;
  c->null_count = 0;
}

wudf_status wudf_csv_builder_finish(wudf_csv_builder *b, char *const *names,
                                    wudf_csv_batch *out, wudf_error *err) {
  uint32_t n = b->ncols;
  wudf_status st = WUDF_ERR_NOMEM;
  memset(out, 0, sizeof *out);
  wudf_arrow_owner **priv = wudf_calloc(n ? n : 1, sizeof *priv);
  out->columns = wudf_calloc(n ? n : 1, sizeof *out->columns);
  out->schemas = wudf_calloc(n ? n : 1, sizeof *out->schemas);
  if (!priv || !out->columns || !out->schemas) goto fail;
  for (uint32_t i = 0; i < n; i++)
    if (!(priv[i] = wudf_arrow_owner_new())) goto fail;
  for (uint32_t i = 0; i < n; i++) {
    st = wudf_arrow_schema_new(b->cols[i].type, names[i], true,
                               &out->schemas[i], err);
    if (st != WUDF_OK) goto fail;
  }
  for (uint32_t i = 0; i < n; i++)
    move_column(&b->cols[i], b->rows, priv[i], &out->columns[i]);
  out->nrows = b->rows;
  out->ncols = n;
  out->lines = b->lines;
  b->lines = NULL;
  b->rows = b->cap = 0;
  wudf_free(priv);
  return WUDF_OK;
fail:
  for (uint32_t i = 0; priv && i < n; i++) wudf_arrow_owner_free(priv[i]);
  wudf_free(priv);
  for (uint32_t i = 0; out->schemas && i < n; i++)
    if (out->schemas[i].release) out->schemas[i].release(&out->schemas[i]);
  wudf_free(out->columns);
  wudf_free(out->schemas);
  memset(out, 0, sizeof *out);
  if (st == WUDF_ERR_NOMEM)
    wudf_fail(err, st, "out of memory finishing a batch");
  return st;
}

void wudf_csv_batch_reset(wudf_csv_batch *b) {
  if (!b) return;
  for (uint32_t i = 0; b->columns && i < b->ncols; i++)
    if (b->columns[i].release) b->columns[i].release(&b->columns[i]);
  for (uint32_t i = 0; b->schemas && i < b->ncols; i++)
    if (b->schemas[i].release) b->schemas[i].release(&b->schemas[i]);
  wudf_free(b->columns);
  wudf_free(b->schemas);
  wudf_free(b->lines);
  memset(b, 0, sizeof *b);
}
