/*
 * wudf_job_output_stream(): the job's output as an ArrowArrayStream that
 * the consumer pulls. Each get_next takes the next batch in input order
 * (with threads = 0, reads and runs it there) and copies its kept rows
 * into a struct array of the output schema.
 */
#include <errno.h>
#include <string.h>

#include "common/error.h"
#include "job/job_internal.h"

static int errno_of(wudf_status st) {
  switch (st) {
    case WUDF_OK:
      return 0;
    case WUDF_ERR_NOMEM:
    case WUDF_ERR_HOST_MEMORY:
      return ENOMEM;
    case WUDF_ERR_CANCELLED:
      return ECANCELED;
    case WUDF_ERR_ARG:
    case WUDF_ERR_TYPE:
    case WUDF_ERR_NOT_FOUND:
      return EINVAL;
    default:
      return EIO;
  }
}

static int get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
  wudf_job *job = s->private_data;
  wudf_error e;
  wudf_error_init(&e);
  wudf_status st = wudf_job_output_schema(job, out, &e);
  if (st != WUDF_OK && atomic_load(&job->state) != JOB_ENDED) {
    job->err = e;
    job->status = st;
  }
  return errno_of(st);
}

static int end_with(wudf_job *job, wudf_status st, const wudf_error *e) {
  wudf_job_stop(job);
  wudf_job_finish(job, st, e);
  return errno_of(st);
}

/* One output array from the next batch; *out released when there is none
 * (the end). */
static wudf_status pull(wudf_job *job, struct ArrowArray *out, bool *end,
                        wudf_error *err) {
  wudf_status st;
  wudf_job_item *item = wudf_job_next(job, &st, err);
  if (!item) return st;
  wudf_job_account(job, item);
  st = item->status;
  if (st != WUDF_OK) *err = item->err;
  *end = item->end;
  if (st == WUDF_OK && !*end) {
    struct ArrowArray limited;
    const struct ArrowArray *sel;
    int64_t kept;
    st = wudf_job_kept(job, item, &limited, &sel, &kept, err);
    if (st == WUDF_OK)
      st = wudf_job_output_array(job, item, sel, kept, out, err);
    if (limited.release) limited.release(&limited);
  }
  wudf_job_release(job, item);
  return st;
}

static int get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
  wudf_job *job = s->private_data;
  memset(out, 0, sizeof *out);
  if (atomic_load(&job->state) == JOB_ENDED) return errno_of(job->status);
  wudf_error e;
  wudf_error_init(&e);
  for (;;) {
    if (job->full) return end_with(job, WUDF_OK, NULL);
    bool end = false;
    wudf_status st = pull(job, out, &end, &e);
    if (st != WUDF_OK) return end_with(job, st, &e);
    if (end) return end_with(job, WUDF_OK, NULL);
    if (out->length > 0 || job->full) return 0;
    out->release(out); /* no row kept: on to the next batch */
  }
}

static const char *get_last_error(struct ArrowArrayStream *s) {
  wudf_job *job = s->private_data;
  return job->status != WUDF_OK ? job->err.message : NULL;
}

static void release(struct ArrowArrayStream *s) {
  wudf_job *job = s->private_data;
  if (atomic_load(&job->state) != JOB_ENDED) {
    wudf_job_cancel(job);
    end_with(job, WUDF_ERR_CANCELLED, NULL);
  }
  s->release = NULL;
}

wudf_status wudf_job_output_stream(wudf_job *job, struct ArrowArrayStream *out,
                                   wudf_error *err) {
  if (!job || !out) return wudf_fail(err, WUDF_ERR_ARG, "job or out is NULL");
  memset(out, 0, sizeof *out);
  int expected = JOB_NEW;
  if (!atomic_compare_exchange_strong(&job->state, &expected, JOB_RUNNING))
    return wudf_fail(err, WUDF_ERR_ARG, "a job runs once");
  wudf_status st = wudf_job_start(job, err);
  if (st != WUDF_OK) {
    end_with(job, st, err);
    return st;
  }
  out->get_schema = get_schema;
  out->get_next = get_next;
  out->get_last_error = get_last_error;
  out->release = release;
  out->private_data = job;
  return WUDF_OK;
}
