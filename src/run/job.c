/*
 * One batch of a run: executed by a worker on its own instance, then
 * written in order by the writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "run/run_internal.h"

void wudf_run_job_reset(wudf_run_job *job) {
  wudf_csv_batch_reset(&job->batch);
  if (job->result.release) job->result.release(&job->result);
  free(job->guest_text);
  memset(job, 0, sizeof *job);
}

/* Turns the rows of a failed call (within the batch) into the CSV lines
 * of those rows, in the error's fields, and records the (first) line. */
static void locate_error(const wudf_run_ctx *c, wudf_run_job *job) {
  wudf_error *e = &job->err;
  int64_t first = e->first_row, last = e->last_row;
  if (first < 0 || last < first || last >= job->batch.nrows ||
      !job->batch.lines)
    return;
  job->error_line = job->batch.lines[first];
  e->input_line = job->error_line;
  e->input_line_end = job->batch.lines[last];
  wudf_error_set_name(e->input_name, c->input_name);
  e->row = e->first_row = e->last_row = -1;
  wudf_error_format(e);
}

static void capture_output(wudf_instance *inst, wudf_run_job *job) {
  size_t len = 0;
  bool truncated = false;
  const char *text = wudf_instance_output(inst, &len, &truncated);
  if (!text || !len) return;
  job->guest_text = malloc(len);
  if (!job->guest_text) return; /* the output is a courtesy; drop it */
  memcpy(job->guest_text, text, len);
  job->guest_len = len;
  job->guest_truncated = truncated;
}

void wudf_run_job_execute(wudf_run_ctx *c, wudf_instance *inst,
                          wudf_run_job *job) {
  const wudf_run_options *o = c->o;
  wudf_run_batch_args a;
  int64_t bad_line = -1;
  wudf_error_init(&job->err);
  wudf_status st = wudf_run_args_bind(&c->args, &job->batch, &c->sig, &a,
                                      &bad_line, &job->err);
  if (st == WUDF_OK && o->op == WUDF_RUN_MAP)
    st = wudf_instance_map(inst, o->function, a.cols, c->args.schemas,
                           c->args.n, &job->result, NULL, &job->err);
  else if (st == WUDF_OK)
    st = wudf_instance_filter(inst, o->function, a.cols, c->args.schemas,
                              c->args.n, &job->result, &job->selected,
                              &job->err);
  else
    job->error_line = bad_line;
  if (st != WUDF_OK && bad_line < 0) locate_error(c, job);
  capture_output(inst, job);
  wudf_run_batch_args_reset(&a);
  job->status = st;
}

static void show_output(const wudf_run_ctx *c, const wudf_run_job *job) {
  const wudf_run_options *o = c->o;
  if (!job->guest_len || !o->guest_output) return;
  int64_t first =
      job->batch.lines && job->batch.nrows ? job->batch.lines[0] : -1;
  o->guest_output(o->guest_output_user, first, job->guest_text, job->guest_len,
                  job->guest_truncated);
}

wudf_status wudf_run_job_write(wudf_run_ctx *c, wudf_run_job *job, bool *full,
                               wudf_error *err) {
  const wudf_run_options *o = c->o;
  show_output(c, job);
  if (job->status != WUDF_OK) {
    if (err) *err = job->err;
    return job->status;
  }
  uint32_t n = c->schema->ncols;
  const struct ArrowArray **cols = c->out_cols;
  for (uint32_t i = 0; i < n; i++) cols[i] = &job->batch.columns[i];
  if (o->op == WUDF_RUN_MAP) cols[n] = &job->result;
  const struct ArrowArray *sel = o->op == WUDF_RUN_FILTER ? &job->result : NULL;
  int64_t count = sel ? job->selected : job->batch.nrows;
  struct ArrowArray limited;
  memset(&limited, 0, sizeof limited);
  if (o->limit >= 0 && c->rows_written + count >= o->limit) {
    *full = true;
    count = o->limit - c->rows_written;
    wudf_status st =
        wudf_run_limit_selection(sel, job->batch.nrows, count, &limited, err);
    if (st != WUDF_OK) return st;
    sel = &limited;
  }
  wudf_status st = wudf_csv_writer_write(c->writer, cols, sel, err);
  if (limited.release) limited.release(&limited);
  if (st == WUDF_OK) c->rows_written += count;
  c->batches++;
  return st;
}
