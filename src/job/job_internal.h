/* Internal interface of jobs (src/job/). The public side is
 * include/wudf_job.h.
 *
 *   job.c         options, checks, wudf_job_new / free, accessors
 *   args.c        argument columns: lookup by name, narrowing conversions
 *   exec.c        one input batch on one instance: slices, on_error policy
 *   assemble.c    joining slice results, selections, sizes of arrays
 *   pipeline.c    the window of batches, worker threads, ordering, cancel
 *   run.c         wudf_job_run: batches to a sink
 *   stream_out.c  wudf_job_output_stream: batches pulled by the consumer
 */
#ifndef WUDF_JOB_INTERNAL_H
#define WUDF_JOB_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "wudf.h"
#include "wudf_job.h"

#define WUDF_JOB_DEFAULT_BATCH 8192
#define WUDF_JOB_MAX_THREADS 256
#define WUDF_JOB_DEFAULT_ROW_ERRORS 100

/* ---- Arguments (args.c) ------------------------------------------------- */

/* How one argument column reaches its parameter. */
typedef struct wudf_job_arg {
  uint32_t col;                 /* index in the input schema */
  const struct ArrowSchema *in; /* the input column's (borrowed) */
  wudf_type from, to; /* column type; type passed (to != from: narrowed) */
  struct ArrowSchema schema; /* owned when narrowed: type `to` */
} wudf_job_arg;

typedef struct wudf_job_args {
  uint32_t n;
  wudf_job_arg arg[WUDF_MAX_UDF_PARAMS];
  const struct ArrowSchema *schemas[WUDF_MAX_UDF_PARAMS]; /* the passed ones */
} wudf_job_args;

/* Resolves the argument columns by name among `ncols` input schemas and
 * plans conversions to the UDF's parameters (narrowing only when `narrow`).
 * The UDF check itself is wudf_module_check_udf() on args->schemas. */
wudf_status wudf_job_args_plan(wudf_job_args *args,
                               struct ArrowSchema *const *schemas,
                               uint32_t ncols, const char *const *names,
                               uint32_t n, const wudf_udf_sig *sig, bool narrow,
                               const char *input, wudf_error *err);
void wudf_job_args_reset(wudf_job_args *args);

/* The argument arrays of one slice: views of the input's columns, or
 * converted copies (owned here). */
typedef struct wudf_job_call_args {
  const struct ArrowArray *cols[WUDF_MAX_UDF_PARAMS];
  struct ArrowArray view[WUDF_MAX_UDF_PARAMS];  /* borrowed buffers */
  struct ArrowArray owned[WUDF_MAX_UDF_PARAMS]; /* converted copies */
} wudf_job_call_args;

/* Fills *out with rows [from, from + n) of the input struct array. A value
 * that does not fit its parameter fails with WUDF_ERR_TYPE and err->row its
 * row within the slice. */
wudf_status wudf_job_args_bind(const wudf_job_args *args,
                               const struct ArrowArray *input,
                               const struct ArrowSchema *input_schema,
                               int64_t from, int64_t n, wudf_job_call_args *out,
                               wudf_error *err);
void wudf_job_call_args_reset(wudf_job_call_args *a);

/* ---- Batches in flight -------------------------------------------------- */

/* One input batch, from the stream to the consumer. */
typedef struct wudf_job_item {
  int64_t seq, first_row, nrows;
  struct ArrowArray input;     /* owned: as read */
  const int64_t *lines;        /* the line column's values, or NULL */
  struct ArrowArray result;    /* MAP result; owned */
  struct ArrowArray selection; /* rows kept; owned; may be released */
  int64_t rows_kept;
  uint64_t charged; /* bytes charged to the job's budget */
  wudf_status status;
  wudf_error err;
  wudf_row_error *row_errors; /* owned: the first ones, in row order */
  uint32_t nrow_errors;
  int64_t row_error_total;
  char *guest_text; /* owned: the UDF's captured output */
  size_t guest_len;
  bool guest_truncated;
  bool end;  /* no batch: the stream ended (or failed, with status) */
  bool done; /* ready for the consumer */
} wudf_job_item;

void wudf_job_item_reset(wudf_job *job, wudf_job_item *item);

/* ---- The job ------------------------------------------------------------ */

typedef enum job_state {
  JOB_NEW,
  JOB_RUNNING,
  JOB_ENDED,
} job_state;

struct wudf_job {
  wudf_job_options o; /* copy; strings borrowed */
  struct ArrowArrayStream input;
  struct ArrowSchema schema; /* the input's */
  uint32_t ncols;
  int32_t line_col;   /* -1: none */
  uint32_t *out_cols; /* input columns of the output */
  uint32_t nout;
  wudf_udf_sig sig;
  wudf_job_args args;
  char result_name[WUDF_MAX_UDF_NAME + 16];
  char input_name[WUDF_ERROR_NAME_SIZE];
  struct ArrowSchema result_schema; /* MAP */
  int64_t batch_rows;
  uint32_t max_row_errors;
  wudf_instance_config icfg;
  wudf_cancel *cancel; /* the job's own */
  wudf_budget *budget; /* NULL without host_memory_bytes */

  _Atomic int state;
  atomic_int cancelled;
  atomic_llong rows_in, rows_out, batches, row_errors;
  double t0;
  wudf_status status;
  wudf_error err;
  wudf_row_error *row_error_list; /* the first max_row_errors */
  uint32_t nrow_error_list;
  int64_t row_error_total;

  /* The pipeline (pipeline.c). */
  uint32_t nworkers; /* 0: the calling thread runs everything */
  wudf_instance **instances;
  int *cancel_slots, *user_cancel_slots;
  pthread_t *threads;
  uint32_t threads_started;
  bool sync_ready, pipeline_ready;
  void *worker_args;
  pthread_mutex_t lock;
  pthread_cond_t to_workers, to_consumer;
  bool reading;        /* a worker is reading the input stream */
  int64_t rows_read;   /* rows of the batches read (by the one reader) */
  wudf_job_item *ring; /* `window` slots: seq at ring[seq % window] */
  uint32_t window;
  int64_t next_read;     /* the next batch to read */
  int64_t next_readable; /* batches before it are read (and not ended) */
  int64_t next_run;      /* the next batch read to run */
  int64_t next_take;     /* the consumer's next batch */
  uint32_t idle;         /* workers waiting for something to do */
  int64_t end_seq;       /* the seq of the end item once read; -1 before */
  bool stop;
  double next_progress;
  /* Pull mode (stream_out.c). */
  struct ArrowArray pending_out;
  int64_t limit_left;
  bool full;
};

/* ---- exec.c ------------------------------------------------------------- */

/* Runs the UDF over the item's input (slices of batch_rows rows) on `inst`:
 * fills result/selection, row errors, status and err (located). */
void wudf_job_execute(wudf_job *job, wudf_instance *inst, wudf_job_item *item);

/* Reads the next batch of the input into `item` (seq and first_row set by
 * the caller): item->end at the end of the stream; status on error. */
void wudf_job_read(wudf_job *job, wudf_job_item *item);

/* Fills the location fields of err from rows of the item and formats. */
void wudf_job_locate(const wudf_job *job, const wudf_job_item *item,
                     wudf_error *err);

/* ---- assemble.c --------------------------------------------------------- */

/* Approximate bytes of the buffers of `a` (of Arrow format `format`, with
 * its children); 0 for what it does not know. */
uint64_t wudf_job_array_bytes(const struct ArrowArray *a,
                              const struct ArrowSchema *s);

/* A result of `type` joining slice results (`parts`, their rows starting
 * at starts[]) over `nrows` rows; rows covered by no part are NULL. */
wudf_status wudf_job_join_results(wudf_type type,
                                  const struct ArrowArray *parts,
                                  const int64_t *starts, uint32_t nparts,
                                  int64_t nrows, struct ArrowArray *out,
                                  wudf_error *err);

/* A selection of `nrows` rows (all false) and setting/reading bits. */
wudf_status wudf_job_selection_new(int64_t nrows, bool value,
                                   struct ArrowArray *out, wudf_error *err);
void wudf_job_selection_set(struct ArrowArray *sel, int64_t i, bool value);
bool wudf_job_selection_get(const struct ArrowArray *sel, int64_t i);
/* Copies the bits of `part` (a selection of n rows) to rows [at, at + n). */
void wudf_job_selection_copy(struct ArrowArray *sel, int64_t at,
                             const struct ArrowArray *part, int64_t n);
/* Keeps only the first `keep` selected rows of `sel` (NULL: all rows);
 * writes the new selection to *out. */
wudf_status wudf_job_selection_limit(const struct ArrowArray *sel,
                                     int64_t nrows, int64_t keep,
                                     struct ArrowArray *out, wudf_error *err);

/* The output struct array of an item (its output columns, the MAP result,
 * the kept rows only). */
wudf_status wudf_job_output_array(wudf_job *job, wudf_job_item *item,
                                  const struct ArrowArray *selection,
                                  int64_t kept, struct ArrowArray *out,
                                  wudf_error *err);
/* Strings are handed on as utf8 whatever their Arrow layout. */
wudf_type wudf_job_copy_type(wudf_type t);

/* ---- pipeline.c --------------------------------------------------------- */

/* Creates the instances, the ring and (threads > 0) starts the workers. */
wudf_status wudf_job_start(wudf_job *job, wudf_error *err);
/* The next item in input order, run; NULL with *st set when the job must
 * stop (error, cancel) — the error is then in err. */
wudf_job_item *wudf_job_next(wudf_job *job, wudf_status *st, wudf_error *err);
/* Gives the item's slot back. */
void wudf_job_release(wudf_job *job, wudf_job_item *item);
/* Stops and joins the workers, frees the instances and the ring. */
void wudf_job_stop(wudf_job *job);

/* The job's end: status, error and progress.done. */
void wudf_job_finish(wudf_job *job, wudf_status st, const wudf_error *err);
/* Whether the job was cancelled (wudf_job_cancel, options.cancel). */
bool wudf_job_is_cancelled(const wudf_job *job);
wudf_status wudf_job_cancelled_error(wudf_job *job, wudf_error *err);
/* Calls the progress callback if it is time (force: now). False: cancel. */
bool wudf_job_report_progress(wudf_job *job, bool force);
/* Hands the item's guest output and row errors to the job (consumer side). */
void wudf_job_account(wudf_job *job, wudf_job_item *item);
/* The selection to hand on for `item`, with the limit applied; *owned is
 * set when it was made here (release it). Sets job->full at the limit. */
wudf_status wudf_job_kept(wudf_job *job, wudf_job_item *item,
                          struct ArrowArray *owned,
                          const struct ArrowArray **sel, int64_t *kept,
                          wudf_error *err);

double wudf_job_now(void);

/* The signal the runtime uses for time limits and interrupts: left
 * unblocked in the job's threads. */
int wudf_job_timer_signal(void);

#endif
