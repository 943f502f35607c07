/*
 * The threads of a run: one reader parsing CSV batches, N workers each
 * running batches on its own instance, and the calling thread writing
 * them in input order. Jobs live in a ring of `window` slots; the reader
 * may not get more than `window` batches ahead of the writer, which bounds
 * memory whatever the size of the input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "run/run_internal.h"

typedef struct worker_arg {
  wudf_run_ctx *c;
  uint32_t index;
} worker_arg;

static wudf_run_job *slot(wudf_run_ctx *c, int64_t seq) {
  return &c->jobs[seq % c->window];
}

/* ---- reader ------------------------------------------------------------- */

int64_t wudf_run_line_of(const char *message) {
  const char *p = strstr(message, "line ");
  if (!p || p[5] < '0' || p[5] > '9') return -1;
  return strtoll(p + 5, NULL, 10);
}

/* Reads the batch `seq` into its slot; returns true when there is nothing
 * more to read (end of input, or a read error recorded in the job). */
static bool read_job(wudf_run_ctx *c, wudf_run_job *job, int64_t seq,
                     bool *has_job) {
  wudf_error_init(&job->err);
  job->seq = seq;
  job->error_line = -1;
  wudf_status st =
      wudf_csv_read_batch(c->reader, c->batch_rows, &job->batch, &job->err);
  off_t pos = ftello(c->in);
  if (pos > 0) atomic_store(&c->bytes_read, (unsigned long long)pos);
  if (st != WUDF_OK) {
    job->status = st;
    job->error_line = wudf_run_line_of(job->err.message);
    *has_job = true;
    return true;
  }
  *has_job = job->batch.nrows > 0;
  if (!*has_job) return true;
  atomic_fetch_add(&c->rows_read, (long long)job->batch.nrows);
  return false;
}

static void *reader_main(void *arg) {
  wudf_run_ctx *c = arg;
  pthread_mutex_lock(&c->lock);
  for (;;) {
    while (!c->stop && c->next_read - c->next_write >= c->window)
      pthread_cond_wait(&c->to_reader, &c->lock);
    if (c->stop) break;
    int64_t seq = c->next_read;
    pthread_mutex_unlock(&c->lock);
    bool has_job, last = read_job(c, slot(c, seq), seq, &has_job);
    pthread_mutex_lock(&c->lock);
    if (has_job) c->next_read++;
    if (last) c->end_seq = c->next_read;
    pthread_cond_broadcast(&c->to_workers);
    pthread_cond_signal(&c->to_writer);
    if (last) break;
  }
  pthread_mutex_unlock(&c->lock);
  return NULL;
}

/* ---- workers ------------------------------------------------------------ */

static void *worker_main(void *arg) {
  wudf_run_ctx *c = ((worker_arg *)arg)->c;
  wudf_instance *inst = c->instances[((worker_arg *)arg)->index];
  pthread_mutex_lock(&c->lock);
  for (;;) {
    while (!c->stop && c->next_run >= c->next_read && c->end_seq < 0)
      pthread_cond_wait(&c->to_workers, &c->lock);
    if (c->stop || c->next_run >= c->next_read) break;
    wudf_run_job *job = slot(c, c->next_run++);
    pthread_mutex_unlock(&c->lock);
    /* A job that failed to read goes to the writer as it is. */
    if (job->status == WUDF_OK) wudf_run_job_execute(c, inst, job);
    pthread_mutex_lock(&c->lock);
    job->done = true;
    pthread_cond_signal(&c->to_writer);
  }
  pthread_mutex_unlock(&c->lock);
  return NULL;
}

/* ---- starting and stopping ---------------------------------------------- */

static wudf_status init_sync(wudf_run_ctx *c, wudf_error *err) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_mutex_init(&c->lock, NULL);
  int r1 = pthread_cond_init(&c->to_reader, NULL);
  int r2 = pthread_cond_init(&c->to_workers, NULL);
  int r3 = pthread_cond_init(&c->to_writer, &ca);
  pthread_condattr_destroy(&ca);
  if (rc || r1 || r2 || r3) {
    if (!rc) pthread_mutex_destroy(&c->lock);
    if (!r1) pthread_cond_destroy(&c->to_reader);
    if (!r2) pthread_cond_destroy(&c->to_workers);
    if (!r3) pthread_cond_destroy(&c->to_writer);
    return wudf_fail(err, WUDF_ERR_SYSTEM, "cannot create thread locks");
  }
  c->sync_ready = true;
  return WUDF_OK;
}

static void destroy_sync(wudf_run_ctx *c) {
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->to_reader);
  pthread_cond_destroy(&c->to_workers);
  pthread_cond_destroy(&c->to_writer);
  c->sync_ready = false;
}

static wudf_status start_threads(wudf_run_ctx *c, worker_arg *args,
                                 wudf_error *err) {
  int rc = pthread_create(&c->reader_thread, NULL, reader_main, c);
  if (rc == 0) c->reader_started = true;
  for (uint32_t i = 0; rc == 0 && i < c->nworkers; i++) {
    args[i].c = c;
    args[i].index = i;
    rc = pthread_create(&c->worker_threads[i], NULL, worker_main, &args[i]);
    if (rc == 0) c->workers_started++;
  }
  if (rc)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "cannot start a thread: %s",
                     strerror(rc));
  return WUDF_OK;
}

/* Stops every thread; interrupts calls still running when the run ends
 * early (an error, the limit, a cancel). */
static void stop_threads(wudf_run_ctx *c, bool early) {
  pthread_mutex_lock(&c->lock);
  c->stop = true;
  pthread_cond_broadcast(&c->to_reader);
  pthread_cond_broadcast(&c->to_workers);
  pthread_mutex_unlock(&c->lock);
  if (early)
    for (uint32_t i = 0; i < c->workers_started; i++)
      wudf_instance_interrupt(c->instances[i]);
  if (c->reader_started) pthread_join(c->reader_thread, NULL);
  for (uint32_t i = 0; i < c->workers_started; i++)
    pthread_join(c->worker_threads[i], NULL);
  c->reader_started = false;
  c->workers_started = 0;
}

/* ---- the writer (calling thread) ---------------------------------------- */

static bool report_progress(wudf_run_ctx *c) {
  const wudf_run_options *o = c->o;
  if (!o->progress) return true;
  wudf_run_progress p;
  p.rows_read = (int64_t)atomic_load(&c->rows_read);
  p.rows_written = c->rows_written;
  p.bytes_read = (uint64_t)atomic_load(&c->bytes_read);
  p.bytes_total = c->in_size;
  p.seconds = wudf_run_now() - c->t0;
  p.done = false;
  return o->progress(o->progress_user, &p);
}

static void wait_until(wudf_run_ctx *c, double deadline) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
  double left = deadline > now ? deadline - now : 0;
  if (left > 1.0) left = 1.0;
  long ns = ts.tv_nsec + (long)(left * 1e9);
  ts.tv_sec += ns / 1000000000L;
  ts.tv_nsec = ns % 1000000000L;
  pthread_cond_timedwait(&c->to_writer, &c->lock, &ts);
}

static wudf_status cancelled(wudf_run_ctx *c, wudf_error *err) {
  return wudf_fail(err, WUDF_TRAP_INTERRUPTED,
                   "run cancelled after %lld rows read, %lld written",
                   (long long)atomic_load(&c->rows_read),
                   (long long)c->rows_written);
}

/* Writes jobs in order until the end, an error, the limit or a cancel.
 * Called and returns with the lock held. */
static wudf_status write_all(wudf_run_ctx *c, int64_t *error_line,
                             wudf_error *err) {
  const wudf_run_options *o = c->o;
  double every = (o->progress_ms ? o->progress_ms : 100) / 1000.0;
  double next_report = wudf_run_now() + every;
  bool full = o->limit == 0;
  while (!full && !(c->end_seq >= 0 && c->next_write >= c->end_seq)) {
    if (o->progress && wudf_run_now() >= next_report) {
      pthread_mutex_unlock(&c->lock);
      bool go_on = report_progress(c);
      pthread_mutex_lock(&c->lock);
      if (!go_on) return cancelled(c, err);
      next_report = wudf_run_now() + every;
    }
    wudf_run_job *job = slot(c, c->next_write);
    if (c->next_write >= c->next_read || !job->done) {
      wait_until(c, o->progress ? next_report : wudf_run_now() + 1.0);
      continue;
    }
    pthread_mutex_unlock(&c->lock);
    wudf_status st = wudf_run_job_write(c, job, &full, err);
    if (st != WUDF_OK) *error_line = job->error_line;
    wudf_run_job_reset(job);
    pthread_mutex_lock(&c->lock);
    c->next_write++;
    pthread_cond_signal(&c->to_reader);
    if (st != WUDF_OK) return st;
  }
  return WUDF_OK;
}

wudf_status wudf_run_pipeline(wudf_run_ctx *c, int64_t *error_line,
                              wudf_error *err) {
  worker_arg *args = calloc(c->nworkers, sizeof *args);
  c->jobs = calloc(c->window, sizeof *c->jobs);
  c->worker_threads = calloc(c->nworkers, sizeof *c->worker_threads);
  c->end_seq = -1;
  wudf_status st = WUDF_OK;
  if (!args || !c->jobs || !c->worker_threads)
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  if (st == WUDF_OK) st = init_sync(c, err);
  if (st == WUDF_OK) st = start_threads(c, args, err);
  bool early = true;
  if (st == WUDF_OK) {
    pthread_mutex_lock(&c->lock);
    st = write_all(c, error_line, err);
    early = st != WUDF_OK || c->end_seq < 0 || c->next_write < c->end_seq;
    pthread_mutex_unlock(&c->lock);
  }
  if (c->sync_ready) {
    stop_threads(c, early);
    destroy_sync(c);
  }
  for (uint32_t i = 0; c->jobs && i < c->window; i++)
    wudf_run_job_reset(&c->jobs[i]);
  free(c->jobs);
  free(c->worker_threads);
  c->jobs = NULL;
  c->worker_threads = NULL;
  free(args);
  return st;
}
