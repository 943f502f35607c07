/*
 * One input batch of a job: read from the stream, then run on one
 * instance in slices of batch_rows rows (the time limit applies per call).
 * Under on_error null or skip, a row whose call traps is recorded and the
 * rest of the slice runs again after it; the rows before it run again too,
 * since a failed call returns no results.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/budget.h"
#include "common/error.h"
#include "csv/csv.h"
#include "job/job_internal.h"

/* ---- Reading ------------------------------------------------------------ */

static wudf_status stream_failed(wudf_job *job, int rc, wudf_error *err) {
  struct ArrowArrayStream *in = &job->input;
  if (wudf_csv_stream_is(in)) {
    wudf_csv_stream_error(in, err);
    if (err->status != WUDF_OK) return err->status;
  }
  const char *why = in->get_last_error ? in->get_last_error(in) : NULL;
  wudf_fail(err, WUDF_ERR_IO, "reading %s: %s", job->input_name,
            why ? why : strerror(rc));
  if (job->o.input_name)
    wudf_error_set_name(err->input_name, job->o.input_name);
  return WUDF_ERR_IO;
}

static wudf_status check_batch(const wudf_job *job, const struct ArrowArray *a,
                               wudf_error *err) {
  if (a->n_children != (int64_t)job->ncols || a->length < 0 || a->offset < 0 ||
      (a->n_children > 0 && !a->children))
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "a batch of %s has %lld columns, its schema %u",
                     job->input_name, (long long)a->n_children, job->ncols);
  for (uint32_t i = 0; i < job->ncols; i++)
    if (!a->children[i] || a->children[i]->length < a->offset + a->length)
      return wudf_fail(err, WUDF_ERR_TYPE,
                       "column %u of a batch of %s is shorter than the batch",
                       i + 1, job->input_name);
  return WUDF_OK;
}

static void find_lines(const wudf_job *job, wudf_job_item *item) {
  if (job->line_col < 0) return;
  const struct ArrowArray *c = item->input.children[job->line_col];
  if (c->n_buffers < 2 || !c->buffers[1]) return;
  item->lines = (const int64_t *)c->buffers[1] + c->offset + item->input.offset;
}

void wudf_job_read(wudf_job *job, wudf_job_item *item) {
  struct ArrowArray a;
  memset(&a, 0, sizeof a);
  wudf_error_init(&item->err);
  int rc = job->input.get_next(&job->input, &a);
  if (rc != 0 || !a.release) {
    item->end = true;
    if (rc != 0) item->status = stream_failed(job, rc, &item->err);
    return;
  }
  item->input = a;
  item->nrows = a.length;
  item->status = check_batch(job, &a, &item->err);
  if (item->status != WUDF_OK) return;
  find_lines(job, item);
  uint64_t bytes = wudf_job_array_bytes(&a, &job->schema);
  item->status = wudf_budget_charge_or_fail(job->budget, bytes,
                                            "an input batch", &item->err);
  if (item->status == WUDF_OK) item->charged += bytes;
  atomic_fetch_add(&job->rows_in, a.length);
}

/* ---- Locating errors ---------------------------------------------------- */

void wudf_job_locate(const wudf_job *job, const wudf_job_item *item,
                     wudf_error *e) {
  int64_t first = e->first_row, last = e->last_row;
  if (first >= 0 && first < item->nrows) {
    if (last < first || last >= item->nrows) last = first;
    e->input_row = item->first_row + first;
    e->input_row_end = item->first_row + last;
    if (item->lines) {
      e->input_line = item->lines[first];
      e->input_line_end = item->lines[last];
    }
  }
  if (job->o.input_name) wudf_error_set_name(e->input_name, job->o.input_name);
  wudf_error_set_name(e->udf, job->sig.name);
  wudf_error_format(e);
}

/* ---- Running ------------------------------------------------------------ */

typedef struct exec_ctx {
  wudf_job *job;
  wudf_instance *inst;
  wudf_job_item *item;
  /* MAP: results of the calls, each starting at row starts[i]. */
  struct ArrowArray *parts;
  int64_t *starts;
  uint32_t nparts, cap;
  bool skip_rows; /* MAP under skip: item->selection drops rows */
} exec_ctx;

static void capture_output(exec_ctx *x) {
  size_t len = 0;
  bool truncated = false;
  const char *text = wudf_instance_output(x->inst, &len, &truncated);
  wudf_job_item *item = x->item;
  if (truncated) item->guest_truncated = true;
  if (!text || !len) return;
  char *grown = wudf_realloc(item->guest_text, item->guest_len + len);
  if (!grown) return; /* the output is a courtesy; drop it */
  memcpy(grown + item->guest_len, text, len);
  item->guest_text = grown;
  item->guest_len += len;
}

static wudf_status add_part(exec_ctx *x, struct ArrowArray *part, int64_t at,
                            wudf_error *err) {
  if (x->nparts == x->cap) {
    uint32_t cap = x->cap ? 2 * x->cap : 4;
    struct ArrowArray *p = wudf_realloc(x->parts, cap * sizeof *p);
    if (p) x->parts = p;
    int64_t *s = p ? wudf_realloc(x->starts, cap * sizeof *s) : NULL;
    if (!s) {
      part->release(part);
      return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
    }
    x->starts = s;
    x->cap = cap;
  }
  x->parts[x->nparts] = *part;
  x->starts[x->nparts++] = at;
  part->release = NULL; /* moved */
  return WUDF_OK;
}

/* One call over rows [lo, hi) of the item. */
static wudf_status call(exec_ctx *x, int64_t lo, int64_t hi, wudf_error *e) {
  wudf_job *job = x->job;
  wudf_job_call_args a;
  wudf_status st =
      wudf_job_args_bind(&job->args, &x->item->input, &job->schema,
                         lo + x->item->input.offset, hi - lo, &a, e);
  struct ArrowArray out;
  memset(&out, 0, sizeof out);
  int64_t selected = 0;
  if (st == WUDF_OK && job->o.op == WUDF_JOB_MAP)
    st = wudf_instance_map(x->inst, job->o.function, a.cols, job->args.schemas,
                           job->args.n, &out, NULL, e);
  else if (st == WUDF_OK)
    st = wudf_instance_filter(x->inst, job->o.function, a.cols,
                              job->args.schemas, job->args.n, &out, &selected,
                              e);
  wudf_job_call_args_reset(&a);
  capture_output(x);
  if (st != WUDF_OK) return st;
  if (job->o.op == WUDF_JOB_FILTER) {
    wudf_job_selection_copy(&x->item->selection, lo, &out, hi - lo);
    x->item->rows_kept += selected;
    out.release(&out);
    return WUDF_OK;
  }
  return add_part(x, &out, lo, e);
}

/* Whether a failed call is one row's fault, so that on_error may apply. */
static bool row_fault(wudf_status st, const wudf_error *e) {
  if (e->row < 0) return false;
  if (st == WUDF_ERR_TYPE) return true;
  return wudf_status_is_trap(st) && st != WUDF_TRAP_TIMEOUT &&
         st != WUDF_TRAP_INTERRUPTED;
}

static wudf_status record_row_error(exec_ctx *x, int64_t r, wudf_status st,
                                    wudf_error *e, wudf_error *err) {
  wudf_job_item *item = x->item;
  item->row_error_total++;
  if (x->skip_rows || x->job->o.op == WUDF_JOB_FILTER)
    wudf_job_selection_set(&item->selection, r, false);
  if (x->skip_rows) item->rows_kept--;
  if (item->nrow_errors >= x->job->max_row_errors) return WUDF_OK;
  if (!item->row_errors) {
    item->row_errors =
        wudf_calloc(x->job->max_row_errors, sizeof *item->row_errors);
    if (!item->row_errors)
      return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  e->row = e->first_row = e->last_row = r;
  wudf_job_locate(x->job, item, e);
  wudf_row_error *re = &item->row_errors[item->nrow_errors++];
  re->row = item->first_row + r;
  re->line = item->lines ? item->lines[r] : -1;
  re->status = st;
  memcpy(re->message, e->message, sizeof re->message);
  return WUDF_OK;
}

/* Shifts the rows of a call's error (within the call) to the item's. */
static void shift_rows(wudf_error *e, int64_t lo) {
  if (e->row >= 0) e->row += lo;
  if (e->first_row >= 0) e->first_row += lo;
  if (e->last_row >= 0) e->last_row += lo;
}

/* Rows [lo, hi): on a row's fault under null or skip, the row is recorded
 * and the rows around it run again. */
static wudf_status run_range(exec_ctx *x, int64_t lo, int64_t hi,
                             wudf_error *err) {
  while (lo < hi) {
    if (wudf_job_is_cancelled(x->job))
      return wudf_job_cancelled_error(x->job, err);
    wudf_error e;
    wudf_error_init(&e);
    wudf_status st = call(x, lo, hi, &e);
    if (st == WUDF_OK) return WUDF_OK;
    shift_rows(&e, lo);
    if (x->job->o.on_error == WUDF_ON_ERROR_FAIL || !row_fault(st, &e)) {
      *err = e;
      return st;
    }
    int64_t r = e.row;
    st = record_row_error(x, r, st, &e, err);
    if (st == WUDF_OK && r > lo) st = run_range(x, lo, r, err);
    if (st != WUDF_OK) return st;
    lo = r + 1;
  }
  return WUDF_OK;
}

static wudf_status prepare_selection(exec_ctx *x, wudf_error *err) {
  wudf_job_item *item = x->item;
  bool filter = x->job->o.op == WUDF_JOB_FILTER;
  x->skip_rows = !filter && x->job->o.on_error == WUDF_ON_ERROR_SKIP;
  item->rows_kept = filter ? 0 : item->nrows;
  if (!filter && !x->skip_rows) return WUDF_OK;
  return wudf_job_selection_new(item->nrows, !filter, &item->selection, err);
}

/* The MAP result of the item from its parts. */
static wudf_status finish_result(exec_ctx *x, wudf_error *err) {
  wudf_job_item *item = x->item;
  if (x->nparts == 1 && x->starts[0] == 0 &&
      x->parts[0].length == item->nrows) {
    item->result = x->parts[0];
    x->parts[0].release = NULL;
    return WUDF_OK;
  }
  return wudf_job_join_results(x->job->sig.result, x->parts, x->starts,
                               x->nparts, item->nrows, &item->result, err);
}

static wudf_status charge_outputs(exec_ctx *x, wudf_error *err) {
  wudf_job_item *item = x->item;
  uint64_t bytes = 0;
  if (item->result.release)
    bytes += wudf_job_array_bytes(&item->result, &x->job->result_schema);
  if (item->selection.release) bytes += (uint64_t)(item->nrows + 7) / 8;
  wudf_status st = wudf_budget_charge_or_fail(x->job->budget, bytes,
                                              "the results of a batch", err);
  if (st == WUDF_OK) item->charged += bytes;
  return st;
}

static wudf_status execute(exec_ctx *x, wudf_error *err) {
  wudf_job_item *item = x->item;
  wudf_status st = prepare_selection(x, err);
  int64_t step = x->job->batch_rows;
  for (int64_t s = 0; st == WUDF_OK && s < item->nrows; s += step) {
    int64_t end = item->nrows - s > step ? s + step : item->nrows;
    st = run_range(x, s, end, err);
  }
  if (st == WUDF_OK && x->job->o.op == WUDF_JOB_MAP) st = finish_result(x, err);
  if (st == WUDF_OK) st = charge_outputs(x, err);
  return st;
}

void wudf_job_execute(wudf_job *job, wudf_instance *inst, wudf_job_item *item) {
  exec_ctx x = {job, inst, item, NULL, NULL, 0, 0, false};
  wudf_error e;
  wudf_error_init(&e);
  wudf_instance_clear_output(inst);
  wudf_status st = execute(&x, &e);
  for (uint32_t i = 0; i < x.nparts; i++)
    if (x.parts[i].release) x.parts[i].release(&x.parts[i]);
  wudf_free(x.parts);
  wudf_free(x.starts);
  if (st != WUDF_OK && wudf_job_is_cancelled(job))
    st = wudf_job_cancelled_error(job, &e);
  else if (st != WUDF_OK)
    wudf_job_locate(job, item, &e);
  item->status = st;
  if (st != WUDF_OK) item->err = e;
}
