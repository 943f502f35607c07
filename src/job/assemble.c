/*
 * Arrays a job builds: selections (which rows are kept), results joined
 * from the calls of several slices, the output struct arrays of the pull
 * mode, and the sizes of arrays charged to a budget.
 */
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "job/job_internal.h"

/* ---- Sizes -------------------------------------------------------------- */

static uint64_t fixed_width(const char *f) {
  switch (f[0]) {
    case 'c':
    case 'C':
      return 1;
    case 's':
    case 'S':
    case 'e':
      return 2;
    case 'i':
    case 'I':
    case 'f':
      return 4;
    case 'l':
    case 'L':
    case 'g':
      return 8;
    default:
      return 0;
  }
}

static uint64_t string_bytes(const struct ArrowArray *a, bool large) {
  if (a->n_buffers < 3 || !a->buffers[1] || a->length == 0) return 0;
  int64_t lo = a->offset, hi = a->offset + a->length;
  uint64_t data;
  if (large) {
    const int64_t *o = a->buffers[1];
    data = (uint64_t)(o[hi] - o[lo]);
    return data + (uint64_t)(a->length + 1) * 8;
  }
  const int32_t *o = a->buffers[1];
  data = (uint64_t)((int64_t)o[hi] - o[lo]);
  return data + (uint64_t)(a->length + 1) * 4;
}

uint64_t wudf_job_array_bytes(const struct ArrowArray *a,
                              const struct ArrowSchema *s) {
  if (!a || !s || !s->format || a->length < 0) return 0;
  const char *f = s->format;
  uint64_t n = (uint64_t)a->length, bytes = 0;
  if (a->n_buffers > 0 && a->buffers && a->buffers[0]) bytes += (n + 7) / 8;
  if (!strcmp(f, "+s")) {
    for (int64_t i = 0; i < a->n_children && i < s->n_children; i++)
      bytes += wudf_job_array_bytes(a->children[i], s->children[i]);
    return bytes;
  }
  if (!strcmp(f, "b")) return bytes + (n + 7) / 8;
  if (!strcmp(f, "u")) return bytes + string_bytes(a, false);
  if (!strcmp(f, "U")) return bytes + string_bytes(a, true);
  /* Views: the 16-byte views; their data buffers are shared, not counted. */
  if (!strcmp(f, "vu")) return bytes + n * 16;
  return bytes + n * fixed_width(f);
}

/* ---- Selections --------------------------------------------------------- */

wudf_status wudf_job_selection_new(int64_t nrows, bool value,
                                   struct ArrowArray *out, wudf_error *err) {
  wudf_status st = wudf_arrow_new_fixed(WUDF_TYPE_BOOL, nrows, false, out, err);
  if (st != WUDF_OK) return st;
  if (value) memset((void *)out->buffers[1], 0xff, (size_t)(nrows + 7) / 8);
  out->null_count = 0;
  return WUDF_OK;
}

void wudf_job_selection_set(struct ArrowArray *sel, int64_t i, bool value) {
  uint8_t *bits = (uint8_t *)sel->buffers[1];
  if (value)
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
  else
    bits[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}

bool wudf_job_selection_get(const struct ArrowArray *sel, int64_t i) {
  if (!sel) return true;
  const uint8_t *bits = sel->buffers[1];
  const uint8_t *valid = sel->n_buffers > 0 ? sel->buffers[0] : NULL;
  int64_t j = sel->offset + i;
  if (valid && !((valid[j >> 3] >> (j & 7)) & 1)) return false;
  return (bits[j >> 3] >> (j & 7)) & 1;
}

void wudf_job_selection_copy(struct ArrowArray *sel, int64_t at,
                             const struct ArrowArray *part, int64_t n) {
  for (int64_t i = 0; i < n; i++)
    wudf_job_selection_set(sel, at + i, wudf_job_selection_get(part, i));
}

wudf_status wudf_job_selection_limit(const struct ArrowArray *sel,
                                     int64_t nrows, int64_t keep,
                                     struct ArrowArray *out, wudf_error *err) {
  wudf_status st = wudf_job_selection_new(nrows, false, out, err);
  for (int64_t i = 0; st == WUDF_OK && i < nrows && keep > 0; i++)
    if (wudf_job_selection_get(sel, i)) {
      wudf_job_selection_set(out, i, true);
      keep--;
    }
  return st;
}

/* ---- Copying values ----------------------------------------------------- */

/* Strings are copied as utf8 whatever their Arrow layout. */
wudf_type wudf_job_copy_type(wudf_type t) {
  return t == WUDF_TYPE_LARGE_UTF8 || t == WUDF_TYPE_UTF8_VIEW ? WUDF_TYPE_UTF8
                                                               : t;
}

static wudf_status append_value(wudf_array_builder *b, const wudf_column *c,
                                int64_t i) {
  if (!wudf_column_valid(c, i)) return wudf_array_builder_append_null(b);
  size_t len;
  const uint8_t *s;
  switch (c->type) {
    case WUDF_TYPE_INT32:
      return wudf_array_builder_append_int(b, wudf_column_int32(c, i));
    case WUDF_TYPE_INT64:
      return wudf_array_builder_append_int(b, wudf_column_int64(c, i));
    case WUDF_TYPE_FLOAT32:
      return wudf_array_builder_append_double(b, wudf_column_float32(c, i));
    case WUDF_TYPE_FLOAT64:
      return wudf_array_builder_append_double(b, wudf_column_float64(c, i));
    case WUDF_TYPE_BOOL:
      return wudf_array_builder_append_bool(b, wudf_column_bool(c, i));
    default:
      s = wudf_column_utf8(c, i, &len);
      return wudf_array_builder_append_valid_utf8(b, (const char *)s, len);
  }
}

/* Appends rows [0, n) of `c` that `sel` keeps (NULL: all). */
static wudf_status append_rows(wudf_array_builder *b, const wudf_column *c,
                               const struct ArrowArray *sel, int64_t n) {
  wudf_status st = WUDF_OK;
  for (int64_t i = 0; st == WUDF_OK && i < n; i++)
    if (wudf_job_selection_get(sel, i)) st = append_value(b, c, i);
  return st;
}

static wudf_status builder_failed(wudf_status st, wudf_error *err) {
  return wudf_fail(err, st,
                   st == WUDF_ERR_LIMIT ? "a string column passed 2 GiB"
                                        : "out of memory copying a column");
}

wudf_status wudf_job_join_results(wudf_type type,
                                  const struct ArrowArray *parts,
                                  const int64_t *starts, uint32_t nparts,
                                  int64_t nrows, struct ArrowArray *out,
                                  wudf_error *err) {
  wudf_array_builder *b = NULL;
  struct ArrowSchema s;
  wudf_status st = wudf_array_builder_new(type, nrows, &b, err);
  if (st == WUDF_OK) st = wudf_arrow_schema_new(type, "result", true, &s, err);
  int64_t row = 0;
  for (uint32_t p = 0; st == WUDF_OK && p <= nparts; p++) {
    int64_t at = p < nparts ? starts[p] : nrows;
    while (st == WUDF_OK && row < at) {
      st = wudf_array_builder_append_null(b);
      row++;
    }
    if (st != WUDF_OK || p == nparts) break;
    wudf_column c;
    st = wudf_column_from_arrow(&parts[p], &s, 0, &c, err);
    if (st == WUDF_OK) st = append_rows(b, &c, NULL, c.length);
    row += c.length;
  }
  if (st != WUDF_OK && st != WUDF_ERR_ARG && st != WUDF_ERR_TYPE)
    builder_failed(st, err);
  if (st == WUDF_OK) st = wudf_array_builder_finish(b, NULL, out, NULL, err);
  if (s.release) s.release(&s);
  wudf_array_builder_free(b);
  return st;
}

/* ---- Output struct arrays ----------------------------------------------- */

typedef struct out_private {
  struct ArrowArray *kids;
  struct ArrowArray **ptrs;
} out_private;

static void release_output(struct ArrowArray *a) {
  out_private *p = a->private_data;
  for (int64_t i = 0; i < a->n_children; i++)
    if (p->ptrs[i]->release) p->ptrs[i]->release(p->ptrs[i]);
  wudf_free(p->kids);
  wudf_free(p->ptrs);
  wudf_free(p);
  wudf_free((void *)a->buffers);
  a->release = NULL;
}

static wudf_status output_shell(uint32_t n, int64_t rows,
                                struct ArrowArray *out, wudf_error *err) {
  out_private *p = wudf_calloc(1, sizeof *p);
  const void **bufs = wudf_calloc(1, sizeof *bufs);
  if (p) p->kids = wudf_calloc(n ? n : 1, sizeof *p->kids);
  if (p) p->ptrs = wudf_calloc(n ? n : 1, sizeof *p->ptrs);
  if (!p || !bufs || !p->kids || !p->ptrs) {
    if (p) {
      wudf_free(p->kids);
      wudf_free(p->ptrs);
    }
    wudf_free(p);
    wudf_free(bufs);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  for (uint32_t i = 0; i < n; i++) p->ptrs[i] = &p->kids[i];
  memset(out, 0, sizeof *out);
  out->length = rows;
  out->n_buffers = 1;
  out->buffers = bufs;
  out->n_children = n;
  out->children = p->ptrs;
  out->private_data = p;
  out->release = release_output;
  return WUDF_OK;
}

static void release_view(struct ArrowArray *a) {
  a->release = NULL;
}

/* Copies the kept rows of column `a` (schema `s`, rows [0, n)) to *out. */
static wudf_status copy_column(const struct ArrowArray *a,
                               const struct ArrowSchema *s,
                               const struct ArrowArray *sel, int64_t kept,
                               struct ArrowArray *out, wudf_error *err) {
  wudf_column c;
  wudf_status st = wudf_column_from_arrow(a, s, 0, &c, err);
  if (st != WUDF_OK) return st;
  wudf_array_builder *b = NULL;
  st = wudf_array_builder_new(wudf_job_copy_type(c.type), kept, &b, err);
  if (st == WUDF_OK) {
    st = append_rows(b, &c, sel, c.length);
    if (st != WUDF_OK) builder_failed(st, err);
  }
  if (st == WUDF_OK) st = wudf_array_builder_finish(b, NULL, out, NULL, err);
  wudf_array_builder_free(b);
  return st;
}

wudf_status wudf_job_output_array(wudf_job *job, wudf_job_item *item,
                                  const struct ArrowArray *sel, int64_t kept,
                                  struct ArrowArray *out, wudf_error *err) {
  bool map = job->o.op == WUDF_JOB_MAP;
  uint32_t n = job->nout + map;
  wudf_status st = output_shell(n, kept, out, err);
  if (st != WUDF_OK) return st;
  struct ArrowArray **kids = out->children;
  for (uint32_t i = 0; st == WUDF_OK && i < job->nout; i++) {
    uint32_t k = job->out_cols[i];
    struct ArrowArray view = *item->input.children[k];
    view.offset += item->input.offset;
    view.length = item->nrows;
    if (view.null_count != 0) view.null_count = -1;
    view.release = release_view;
    view.private_data = NULL;
    st = copy_column(&view, job->schema.children[k], sel, kept, kids[i], err);
  }
  if (st == WUDF_OK && map)
    st = copy_column(&item->result, &job->result_schema, sel, kept,
                     kids[job->nout], err);
  if (st != WUDF_OK) out->release(out);
  return st;
}
