/*
 * A CSV file as an ArrowArrayStream of struct batches (include/wudf_job.h):
 * the reader's batches, each column an array of its inferred type, plus an
 * optional int64 column of each row's line. Errors keep the reader's
 * fields (input_name, input_line).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/budget.h"
#include "common/error.h"
#include "csv/csv.h"
#include "wudf_job.h"

typedef struct csv_stream {
  wudf_csv_reader *reader;
  char *line_column; /* owned copy, or NULL */
  int64_t batch_rows;
  wudf_budget *budget;
  wudf_status status;
  wudf_error err;
} csv_stream;

void wudf_csv_read_options_init(wudf_csv_read_options *o) {
  if (o) memset(o, 0, sizeof *o);
}

/* ---- Schema ------------------------------------------------------------- */

static void release_schema(struct ArrowSchema *s) {
  for (int64_t i = 0; i < s->n_children; i++)
    if (s->children[i]->release) s->children[i]->release(s->children[i]);
  wudf_free(s->n_children ? s->children[0] : NULL);
  wudf_free(s->children);
  s->release = NULL;
}

static int fail(csv_stream *cs, wudf_status st, const wudf_error *e) {
  cs->status = st;
  cs->err = *e;
  return st == WUDF_ERR_NOMEM || st == WUDF_ERR_HOST_MEMORY ? ENOMEM
         : st == WUDF_ERR_IO                                ? EIO
                                                            : EINVAL;
}

static wudf_status schema_kids(csv_stream *cs, struct ArrowSchema *kids,
                               uint32_t n, wudf_error *err) {
  const wudf_csv_schema *cols = wudf_csv_reader_schema(cs->reader);
  wudf_status st = WUDF_OK;
  for (uint32_t i = 0; st == WUDF_OK && i < cols->ncols; i++)
    st = wudf_arrow_schema_new(cols->types[i], cols->names[i], true, &kids[i],
                               err);
  if (st == WUDF_OK && n > cols->ncols) {
    st = wudf_arrow_schema_new(WUDF_TYPE_INT64, cs->line_column, false,
                               &kids[cols->ncols], err);
  }
  return st;
}

static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  csv_stream *cs = s->private_data;
  uint32_t n = wudf_csv_reader_schema(cs->reader)->ncols + !!cs->line_column;
  wudf_error e;
  wudf_error_init(&e);
  memset(out, 0, sizeof *out);
  struct ArrowSchema *kids = wudf_calloc(n ? n : 1, sizeof *kids);
  struct ArrowSchema **ptrs = wudf_calloc(n ? n : 1, sizeof *ptrs);
  if (!kids || !ptrs) {
    wudf_free(kids);
    wudf_free(ptrs);
    wudf_fail(&e, WUDF_ERR_NOMEM, "out of memory");
    return fail(cs, WUDF_ERR_NOMEM, &e);
  }
  ptrs[0] = kids;
  for (uint32_t i = 0; i < n; i++) ptrs[i] = &kids[i];
  *out = (struct ArrowSchema){"+s", "",   NULL,           0,   n,
                              ptrs, NULL, release_schema, NULL};
  wudf_status st = schema_kids(cs, kids, n, &e);
  if (st == WUDF_OK) return 0;
  out->release(out);
  return fail(cs, st, &e);
}

/* ---- Batches ------------------------------------------------------------ */

/* What a batch array owns: the reader's batch and the children table. */
typedef struct batch_private {
  wudf_csv_batch batch;
  struct ArrowArray lines; /* the line column, over batch.lines */
  struct ArrowArray **kids;
  wudf_budget *budget;
  uint64_t charged;
} batch_private;

static void release_lines(struct ArrowArray *a) {
  wudf_free(a->private_data); /* the lines */
  wudf_free((void *)a->buffers);
  a->release = NULL;
}

static void release_batch(struct ArrowArray *a) {
  batch_private *p = a->private_data;
  for (int64_t i = 0; i < a->n_children; i++)
    if (p->kids[i]->release) p->kids[i]->release(p->kids[i]);
  /* The children were released above (or moved out): only the tables. */
  wudf_free(p->batch.columns);
  for (uint32_t i = 0; i < p->batch.ncols; i++)
    if (p->batch.schemas[i].release)
      p->batch.schemas[i].release(&p->batch.schemas[i]);
  wudf_free(p->batch.schemas);
  wudf_free(p->batch.lines);
  wudf_free(p->kids);
  wudf_budget_credit(p->budget, p->charged);
  wudf_free(p);
  wudf_free((void *)a->buffers);
  a->release = NULL;
}

/* The line column takes the batch's line numbers (moved). */
static bool make_lines(batch_private *p) {
  const void **bufs = wudf_calloc(2, sizeof *bufs);
  if (!bufs) return false;
  bufs[1] = p->batch.lines;
  p->lines = (struct ArrowArray){
      p->batch.nrows, 0, 0, 2, 0, bufs, NULL, NULL, release_lines,
      p->batch.lines};
  p->batch.lines = NULL;
  return true;
}

static uint64_t batch_bytes(const wudf_csv_batch *b, bool lines) {
  uint64_t bytes = lines ? (uint64_t)b->nrows * 8 : 0;
  for (uint32_t i = 0; i < b->ncols; i++) {
    const struct ArrowArray *c = &b->columns[i];
    bytes += (uint64_t)(c->length + 7) / 8 + (uint64_t)c->length * 8;
    if (c->n_buffers == 3 && c->length > 0)
      bytes += (uint64_t)((const int32_t *)c->buffers[1])[c->length];
  }
  return bytes;
}

static wudf_status wrap_batch(csv_stream *cs, batch_private *p,
                              struct ArrowArray *out, wudf_error *err) {
  uint32_t n = p->batch.ncols + !!cs->line_column;
  const void **bufs = wudf_calloc(1, sizeof *bufs);
  p->kids = wudf_calloc(n ? n : 1, sizeof *p->kids);
  if (!bufs || !p->kids || (cs->line_column && !make_lines(p))) {
    wudf_free(bufs);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a batch");
  }
  for (uint32_t i = 0; i < p->batch.ncols; i++)
    p->kids[i] = &p->batch.columns[i];
  if (cs->line_column) p->kids[p->batch.ncols] = &p->lines;
  *out = (struct ArrowArray){p->batch.nrows, 0, 0, 1, n, bufs, p->kids, NULL,
                             release_batch,  p};
  return WUDF_OK;
}

static wudf_status next_batch(csv_stream *cs, struct ArrowArray *out,
                              wudf_error *err) {
  batch_private *p = wudf_calloc(1, sizeof *p);
  if (!p) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a batch");
  wudf_status st =
      wudf_csv_read_batch(cs->reader, cs->batch_rows, &p->batch, err);
  if (st == WUDF_OK && p->batch.nrows > 0) {
    p->budget = cs->budget;
    p->charged = batch_bytes(&p->batch, cs->line_column != NULL);
    st = wudf_budget_charge_or_fail(cs->budget, p->charged,
                                    "a batch of the CSV reader", err);
    if (st != WUDF_OK) p->charged = 0;
  }
  if (st == WUDF_OK && p->batch.nrows > 0) st = wrap_batch(cs, p, out, err);
  if (st == WUDF_OK && p->batch.nrows > 0) return WUDF_OK;
  wudf_budget_credit(cs->budget, p->charged);
  wudf_free(p->kids);
  wudf_csv_batch_reset(&p->batch);
  wudf_free(p);
  return st; /* the end: out stays released */
}

static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  csv_stream *cs = s->private_data;
  memset(out, 0, sizeof *out);
  if (cs->status != WUDF_OK) return fail(cs, cs->status, &cs->err);
  wudf_error e;
  wudf_error_init(&e);
  wudf_status st = next_batch(cs, out, &e);
  return st == WUDF_OK ? 0 : fail(cs, st, &e);
}

static const char *get_last_error(struct ArrowArrayStream *s) {
  csv_stream *cs = s->private_data;
  return cs->status != WUDF_OK ? cs->err.message : NULL;
}

static void release_stream(struct ArrowArrayStream *s) {
  csv_stream *cs = s->private_data;
  wudf_csv_reader_free(cs->reader);
  wudf_free(cs->line_column);
  wudf_free(cs);
  s->release = NULL;
}

bool wudf_csv_stream_is(const struct ArrowArrayStream *s) {
  return s && s->release == release_stream;
}

void wudf_csv_stream_error(struct ArrowArrayStream *s, wudf_error *err) {
  if (!err) return;
  wudf_error_init(err);
  if (!wudf_csv_stream_is(s)) return;
  csv_stream *cs = s->private_data;
  if (cs->status != WUDF_OK) *err = cs->err;
}

/* ---- Opening ------------------------------------------------------------ */

static wudf_status open_reader(csv_stream *cs, const char *path, FILE *f,
                               const char *name, const wudf_csv_read_options *o,
                               wudf_error *err) {
  wudf_csv_options co;
  wudf_csv_options_init(&co);
  if (o->delimiter) co.delimiter = o->delimiter;
  if (o->sample_rows > 0) co.sample_rows = o->sample_rows;
  wudf_status st;
  if (path && !name) {
    st = wudf_csv_open(path, &co, &cs->reader, err);
  } else if (path) {
    FILE *in = fopen(path, "rb");
    if (!in)
      return wudf_fail(err, WUDF_ERR_IO, "cannot open '%s': %s", path,
                       strerror(errno));
    st = wudf_csv_open_file(in, name, &co, &cs->reader, err);
    if (st == WUDF_OK)
      wudf_csv_reader_own_file(cs->reader, in);
    else
      fclose(in);
  } else {
    st = wudf_csv_open_file(f ? f : stdin, name ? name : "stdin", &co,
                            &cs->reader, err);
  }
  return st;
}

static wudf_status check_line_column(csv_stream *cs, wudf_error *err) {
  const wudf_csv_schema *s = wudf_csv_reader_schema(cs->reader);
  for (uint32_t i = 0; cs->line_column && i < s->ncols; i++)
    if (!strcmp(s->names[i], cs->line_column))
      return wudf_fail(err, WUDF_ERR_ARG,
                       "the file already has a column '%s' (the line column)",
                       cs->line_column);
  return WUDF_OK;
}

wudf_status wudf_csv_stream_open(const char *path, FILE *f, const char *name,
                                 const wudf_csv_read_options *options,
                                 struct ArrowArrayStream *out,
                                 wudf_error *err) {
  if (!out) return wudf_fail(err, WUDF_ERR_ARG, "out is NULL");
  memset(out, 0, sizeof *out);
  wudf_csv_read_options o;
  wudf_csv_read_options_init(&o);
  if (options) o = *options;
  if (o.batch_rows < 0 || o.sample_rows < 0)
    return wudf_fail(err, WUDF_ERR_ARG, "batch_rows or sample_rows < 0");
  csv_stream *cs = wudf_calloc(1, sizeof *cs);
  if (!cs) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  cs->batch_rows = o.batch_rows ? o.batch_rows : 8192;
  cs->budget = o.budget;
  wudf_error_init(&cs->err);
  wudf_status st = WUDF_OK;
  if (o.line_column && !(cs->line_column = wudf_strdup(o.line_column)))
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  if (st == WUDF_OK) st = open_reader(cs, path, f, name, &o, err);
  if (st == WUDF_OK) st = check_line_column(cs, err);
  *out = (struct ArrowArrayStream){get_schema, get_next, get_last_error,
                                   release_stream, cs};
  if (st != WUDF_OK) out->release(out);
  return st;
}
