/*
 * wudf_job_run(): every batch of the job, in input order, to a sink
 * called on the calling thread.
 */
#include <string.h>

#include "common/error.h"
#include "job/job_internal.h"

/* Hands one run batch to the sink. */
static wudf_status hand_on(wudf_job *job, wudf_job_item *item,
                           wudf_job_sink_fn sink, void *user, wudf_error *err) {
  struct ArrowArray limited;
  const struct ArrowArray *sel;
  int64_t kept;
  wudf_status st = wudf_job_kept(job, item, &limited, &sel, &kept, err);
  if (st != WUDF_OK) return st;
  wudf_job_batch b;
  b.seq = item->seq;
  b.first_row = item->first_row;
  b.input_schema = &job->schema;
  b.input = &item->input;
  b.columns = job->out_cols;
  b.ncolumns = job->nout;
  bool map = job->o.op == WUDF_JOB_MAP;
  b.result = map ? &item->result : NULL;
  b.result_schema = map ? &job->result_schema : NULL;
  b.selection = sel;
  b.rows_kept = kept;
  b.lines = item->lines;
  st = sink(user, &b, err);
  if (limited.release) limited.release(&limited);
  return st;
}

/* The next batch; false at the end, or on an error (in *st, err). */
static bool next_batch(wudf_job *job, wudf_job_sink_fn sink, void *user,
                       wudf_status *st, wudf_error *err) {
  wudf_job_item *item = wudf_job_next(job, st, err);
  if (!item) return false;
  wudf_job_account(job, item);
  bool more = !item->end && item->status == WUDF_OK;
  if (item->status != WUDF_OK) {
    *st = item->status;
    *err = item->err;
  }
  if (more) {
    *st = hand_on(job, item, sink, user, err);
    more = *st == WUDF_OK;
  }
  wudf_job_release(job, item);
  return more;
}

wudf_status wudf_job_run(wudf_job *job, wudf_job_sink_fn sink, void *user,
                         wudf_error *err) {
  if (!job || !sink) return wudf_fail(err, WUDF_ERR_ARG, "job or sink is NULL");
  int expected = JOB_NEW;
  if (!atomic_compare_exchange_strong(&job->state, &expected, JOB_RUNNING))
    return wudf_fail(err, WUDF_ERR_ARG, "a job runs once");
  wudf_error e;
  wudf_error_init(&e);
  wudf_status st = wudf_job_start(job, &e);
  while (st == WUDF_OK && !job->full && next_batch(job, sink, user, &st, &e)) {
  }
  wudf_job_stop(job);
  wudf_job_finish(job, st, &e);
  if (err) wudf_job_error(job, err);
  return st;
}
