/*
 * The batches of a job in flight. Batches live in a ring of `window` slots
 * (2 * threads + 2): batch seq is in ring[seq % window], and no batch is
 * read more than `window` batches ahead of the consumer, which bounds
 * memory whatever the size of the input.
 *
 * threads = 0: the consumer reads and runs each batch itself, on one
 * instance; no thread is started. threads > 0: workers, each with its own
 * instance, run the batches read, in seq order, and one of them at a time
 * reads the next batch from the input stream when none is waiting to run
 * (so reading overlaps running and consuming); the consumer takes the
 * batches in input order.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/budget.h"
#include "common/cancel.h"
#include "common/error.h"
#include "job/job_internal.h"
#include "runtime/rt.h"

int wudf_job_timer_signal(void) {
  return wudf_rt_timer_signal();
}

double wudf_job_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static wudf_job_item *slot(wudf_job *job, int64_t seq) {
  return &job->ring[seq % job->window];
}

void wudf_job_item_reset(wudf_job *job, wudf_job_item *item) {
  if (item->input.release) item->input.release(&item->input);
  if (item->result.release) item->result.release(&item->result);
  if (item->selection.release) item->selection.release(&item->selection);
  wudf_budget_credit(job->budget, item->charged);
  wudf_free(item->row_errors);
  wudf_free(item->guest_text);
  memset(item, 0, sizeof *item);
}

/* ---- Cancellation and progress ------------------------------------------ */

bool wudf_job_is_cancelled(const wudf_job *job) {
  return atomic_load(&((wudf_job *)job)->cancelled) != 0 ||
         wudf_cancel_is_set(job->o.cancel);
}

wudf_status wudf_job_cancelled_error(wudf_job *job, wudf_error *err) {
  wudf_fail(err, WUDF_ERR_CANCELLED,
            "cancelled after %lld rows read, %lld handed on",
            (long long)atomic_load(&job->rows_in),
            (long long)atomic_load(&job->rows_out));
  return WUDF_ERR_CANCELLED;
}

bool wudf_job_report_progress(wudf_job *job, bool force) {
  const wudf_job_options *o = &job->o;
  if (!o->progress) return true;
  double now = wudf_job_now();
  if (!force && now < job->next_progress) return true;
  job->next_progress = now + (o->progress_ms ? o->progress_ms : 100) / 1000.0;
  wudf_job_progress p;
  wudf_job_get_progress(job, &p);
  return o->progress(o->progress_user, &p);
}

/* ---- Instances ---------------------------------------------------------- */

static wudf_status make_instances(wudf_job *job, uint32_t n, wudf_error *err) {
  job->instances = wudf_calloc(n, sizeof *job->instances);
  job->cancel_slots = wudf_calloc(n, sizeof *job->cancel_slots);
  job->user_cancel_slots = wudf_calloc(n, sizeof *job->user_cancel_slots);
  if (!job->instances || !job->cancel_slots || !job->user_cancel_slots)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    job->cancel_slots[i] = job->user_cancel_slots[i] = -1;
    wudf_status st =
        wudf_instance_new(job->o.module, &job->icfg, &job->instances[i], err);
    if (st != WUDF_OK) return st;
    job->cancel_slots[i] = wudf_cancel_attach(job->cancel, job->instances[i]);
    if (job->o.cancel)
      job->user_cancel_slots[i] =
          wudf_cancel_attach(job->o.cancel, job->instances[i]);
  }
  return WUDF_OK;
}

static void free_instances(wudf_job *job) {
  uint32_t n = job->nworkers ? job->nworkers : 1;
  for (uint32_t i = 0; job->instances && i < n; i++) {
    if (!job->instances[i]) continue;
    wudf_cancel_detach(job->cancel, job->cancel_slots[i]);
    if (job->o.cancel)
      wudf_cancel_detach(job->o.cancel, job->user_cancel_slots[i]);
    wudf_instance_free(job->instances[i]);
  }
  wudf_free(job->instances);
  wudf_free(job->cancel_slots);
  wudf_free(job->user_cancel_slots);
  job->instances = NULL;
  job->cancel_slots = job->user_cancel_slots = NULL;
}

/* ---- Workers ------------------------------------------------------------ */

typedef struct worker_arg {
  wudf_job *job;
  uint32_t index;
} worker_arg;

/* Reads batch `seq` (its row count is known once read: first_row follows
 * from the rows read before). */
static void read_item(wudf_job *job, wudf_job_item *item, int64_t seq) {
  item->seq = seq;
  item->first_row = job->rows_read;
  wudf_job_read(job, item);
  job->rows_read += item->nrows;
}

/* Runs batch `seq` (lock held, released meanwhile) and hands it on. */
static void run_item(wudf_job *job, wudf_instance *inst, int64_t seq) {
  wudf_job_item *item = slot(job, seq);
  pthread_mutex_unlock(&job->lock);
  wudf_job_execute(job, inst, item);
  pthread_mutex_lock(&job->lock);
  item->done = true;
  pthread_cond_signal(&job->to_consumer);
}

/* Reads the next batch (lock held, released meanwhile). The reader keeps
 * reading while other workers wait for batches to run: reading stays on
 * one thread (and its caches) as long as there are hands for the rest.
 * Returns true when the batch read is the reader's to run. */
static bool read_next(wudf_job *job) {
  int64_t seq = job->next_read++;
  job->reading = true;
  wudf_job_item *item = slot(job, seq);
  pthread_mutex_unlock(&job->lock);
  read_item(job, item, seq);
  pthread_mutex_lock(&job->lock);
  job->reading = false;
  if (item->end || item->status != WUDF_OK) {
    job->end_seq = seq; /* nothing is read after an end or an error */
    item->done = true;
    pthread_cond_signal(&job->to_consumer);
    pthread_cond_broadcast(&job->to_workers);
    return false;
  }
  job->next_readable = seq + 1;
  if (job->idle == 0) {
    job->next_run = seq + 1;
    return true;
  }
  pthread_cond_broadcast(&job->to_workers);
  return false;
}

static bool can_read(const wudf_job *job) {
  return !job->reading && job->end_seq < 0 &&
         job->next_read - job->next_take < job->window;
}

/* A worker (lock held): runs batches read and not yet run, in seq order,
 * and reads when none is waiting; stops at the end of the input or when
 * the job stops. */
static void work(wudf_job *job, wudf_instance *inst) {
  while (!job->stop) {
    if (job->next_run < job->next_readable) {
      run_item(job, inst, job->next_run++);
    } else if (can_read(job)) {
      if (read_next(job)) run_item(job, inst, job->next_run - 1);
    } else if (job->end_seq >= 0 && !job->reading) {
      return;
    } else {
      job->idle++;
      pthread_cond_wait(&job->to_workers, &job->lock);
      job->idle--;
    }
  }
}

static void *worker_main(void *arg) {
  wudf_job *job = ((worker_arg *)arg)->job;
  wudf_instance *inst = job->instances[((worker_arg *)arg)->index];
  sigset_t fault;
  sigemptyset(&fault);
  sigaddset(&fault, wudf_job_timer_signal());
  pthread_sigmask(SIG_UNBLOCK, &fault, NULL);
  pthread_mutex_lock(&job->lock);
  work(job, inst);
  pthread_mutex_unlock(&job->lock);
  return NULL;
}

static wudf_status init_sync(wudf_job *job, wudf_error *err) {
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_mutex_init(&job->lock, NULL);
  int r1 = pthread_cond_init(&job->to_workers, NULL);
  int r2 = pthread_cond_init(&job->to_consumer, &ca);
  pthread_condattr_destroy(&ca);
  if (rc || r1 || r2) {
    if (!rc) pthread_mutex_destroy(&job->lock);
    if (!r1) pthread_cond_destroy(&job->to_workers);
    if (!r2) pthread_cond_destroy(&job->to_consumer);
    return wudf_fail(err, WUDF_ERR_SYSTEM, "cannot create thread locks");
  }
  job->sync_ready = true;
  return WUDF_OK;
}

/* Threads inherit the creator's signal mask: block every signal while
 * creating them, so that the host's signals never run on them (each then
 * unblocks the runtime's timer signal). */
static wudf_status start_threads(wudf_job *job, worker_arg *args,
                                 wudf_error *err) {
  sigset_t all, old;
  sigfillset(&all);
  /* Synchronous faults must reach the runtime's handlers. */
  sigdelset(&all, SIGSEGV);
  sigdelset(&all, SIGBUS);
  sigdelset(&all, SIGFPE);
  sigdelset(&all, SIGILL);
  int rc = pthread_sigmask(SIG_SETMASK, &all, &old);
  for (uint32_t i = 0; rc == 0 && i < job->nworkers; i++) {
    args[i].job = job;
    args[i].index = i;
    rc = pthread_create(&job->threads[i], NULL, worker_main, &args[i]);
    if (rc == 0) job->threads_started++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "cannot start a thread: %s",
                     strerror(rc));
  return WUDF_OK;
}

wudf_status wudf_job_start(wudf_job *job, wudf_error *err) {
  job->t0 = wudf_job_now();
  job->next_progress =
      job->t0 + (job->o.progress_ms ? job->o.progress_ms : 100) / 1000.0;
  atomic_store(&job->state, JOB_RUNNING);
  job->nworkers = job->o.threads;
  job->window = 2 * job->nworkers + 2;
  job->limit_left = job->o.limit;
  job->full = job->o.limit == 0;
  job->pipeline_ready = true;
  wudf_status st = make_instances(job, job->nworkers ? job->nworkers : 1, err);
  job->ring = wudf_calloc(job->window, sizeof *job->ring);
  if (st == WUDF_OK && !job->ring)
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  if (st != WUDF_OK || !job->nworkers) return st;
  job->threads = wudf_calloc(job->nworkers, sizeof *job->threads);
  job->worker_args = wudf_calloc(job->nworkers, sizeof(worker_arg));
  if (!job->threads || !job->worker_args)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  st = init_sync(job, err);
  if (st == WUDF_OK) st = start_threads(job, job->worker_args, err);
  return st;
}

/* ---- The consumer ------------------------------------------------------- */

/* threads = 0: reads and runs the next batch here. */
static wudf_job_item *next_inline(wudf_job *job) {
  wudf_job_item *item = slot(job, job->next_take);
  read_item(job, item, job->next_take);
  if (!item->end && item->status == WUDF_OK)
    wudf_job_execute(job, job->instances[0], item);
  item->done = true;
  return item;
}

/* Waits for the consumer's next batch (lock held) up to the next progress
 * report, and at most 50 ms, so that a cancel from a signal handler, which
 * cannot signal a condition variable, is seen. */
static void wait_a_little(wudf_job *job) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
  double left = job->o.progress ? job->next_progress - now : 0.05;
  if (left > 0.05) left = 0.05;
  if (left < 0) left = 0;
  long ns = ts.tv_nsec + (long)(left * 1e9);
  ts.tv_sec += ns / 1000000000L;
  ts.tv_nsec = ns % 1000000000L;
  pthread_cond_timedwait(&job->to_consumer, &job->lock, &ts);
}

static wudf_job_item *next_threaded(wudf_job *job, wudf_status *st,
                                    wudf_error *err) {
  pthread_mutex_lock(&job->lock);
  wudf_job_item *item = slot(job, job->next_take);
  while (!(job->next_take < job->next_read && item->done)) {
    pthread_mutex_unlock(&job->lock);
    if (wudf_job_is_cancelled(job) || !wudf_job_report_progress(job, false)) {
      wudf_job_cancel(job);
      *st = wudf_job_cancelled_error(job, err);
      return NULL;
    }
    pthread_mutex_lock(&job->lock);
    if (!(job->next_take < job->next_read && item->done)) wait_a_little(job);
  }
  pthread_mutex_unlock(&job->lock);
  return item;
}

wudf_job_item *wudf_job_next(wudf_job *job, wudf_status *st, wudf_error *err) {
  *st = WUDF_OK;
  if (wudf_job_is_cancelled(job) || !wudf_job_report_progress(job, false)) {
    wudf_job_cancel(job);
    *st = wudf_job_cancelled_error(job, err);
    return NULL;
  }
  return job->nworkers ? next_threaded(job, st, err) : next_inline(job);
}

void wudf_job_release(wudf_job *job, wudf_job_item *item) {
  if (job->nworkers) pthread_mutex_lock(&job->lock);
  wudf_job_item_reset(job, item);
  job->next_take++;
  if (job->nworkers) {
    pthread_cond_broadcast(&job->to_workers);
    pthread_mutex_unlock(&job->lock);
  }
}

/* Stops the workers; calls still running are interrupted (the job ends
 * early: an error, the limit, a cancel). */
static void stop_threads(wudf_job *job) {
  pthread_mutex_lock(&job->lock);
  job->stop = true;
  pthread_cond_broadcast(&job->to_workers);
  pthread_mutex_unlock(&job->lock);
  for (uint32_t i = 0; i < job->threads_started; i++)
    wudf_instance_interrupt(job->instances[i]);
  for (uint32_t i = 0; i < job->threads_started; i++)
    pthread_join(job->threads[i], NULL);
  job->threads_started = 0;
}

void wudf_job_stop(wudf_job *job) {
  if (!job->pipeline_ready) return;
  if (job->sync_ready) {
    stop_threads(job);
    pthread_mutex_destroy(&job->lock);
    pthread_cond_destroy(&job->to_workers);
    pthread_cond_destroy(&job->to_consumer);
    job->sync_ready = false;
  }
  for (uint32_t i = 0; job->ring && i < job->window; i++)
    wudf_job_item_reset(job, &job->ring[i]);
  wudf_free(job->ring);
  wudf_free(job->threads);
  wudf_free(job->worker_args);
  job->ring = NULL;
  job->threads = NULL;
  job->worker_args = NULL;
  free_instances(job);
  job->pipeline_ready = false;
}

/* ---- Accounting (consumer side) ----------------------------------------- */

static void show_output(wudf_job *job, const wudf_job_item *item) {
  const wudf_job_options *o = &job->o;
  if (!item->guest_len || !o->guest_output) return;
  int64_t line = item->lines && item->nrows ? item->lines[0] : -1;
  o->guest_output(o->guest_output_user, item->first_row, line, item->guest_text,
                  item->guest_len, item->guest_truncated);
}

static void keep_row_errors(wudf_job *job, const wudf_job_item *item) {
  job->row_error_total += item->row_error_total;
  atomic_fetch_add(&job->row_errors, item->row_error_total);
  for (uint32_t i = 0; i < item->nrow_errors; i++) {
    if (job->nrow_error_list >= job->max_row_errors) return;
    if (!job->row_error_list) {
      job->row_error_list =
          wudf_calloc(job->max_row_errors, sizeof *job->row_error_list);
      if (!job->row_error_list) return; /* the total is still counted */
    }
    job->row_error_list[job->nrow_error_list++] = item->row_errors[i];
  }
}

void wudf_job_account(wudf_job *job, wudf_job_item *item) {
  show_output(job, item);
  keep_row_errors(job, item);
  if (!item->end && item->status == WUDF_OK) atomic_fetch_add(&job->batches, 1);
}

wudf_status wudf_job_kept(wudf_job *job, wudf_job_item *item,
                          struct ArrowArray *owned,
                          const struct ArrowArray **sel, int64_t *kept,
                          wudf_error *err) {
  memset(owned, 0, sizeof *owned);
  *sel = item->selection.release ? &item->selection : NULL;
  *kept = item->rows_kept;
  if (job->o.limit >= 0 && *kept >= job->limit_left) {
    job->full = true;
    *kept = job->limit_left;
    wudf_status st =
        wudf_job_selection_limit(*sel, item->nrows, *kept, owned, err);
    if (st != WUDF_OK) return st;
    *sel = owned;
  }
  if (job->o.limit >= 0) job->limit_left -= *kept;
  atomic_fetch_add(&job->rows_out, *kept);
  return WUDF_OK;
}

void wudf_job_finish(wudf_job *job, wudf_status st, const wudf_error *err) {
  job->status = st;
  if (st != WUDF_OK && err)
    job->err = *err;
  else
    wudf_error_init(&job->err);
  job->err.status = st;
  atomic_store(&job->state, JOB_ENDED);
  wudf_job_report_progress(job, true);
}
