/* Internal interface of the CSV run engine (src/run/). The public side is
 * include/wudf_run.h. */
#ifndef WUDF_RUN_INTERNAL_H
#define WUDF_RUN_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "csv/csv.h"
#include "wudf.h"
#include "wudf_run.h"

#define WUDF_RUN_DEFAULT_BATCH 8192
#define WUDF_RUN_MAX_THREADS 256

/* ---- Arguments (args.c) ------------------------------------------------- */

/* How one argument column reaches its parameter. */
typedef struct wudf_run_arg {
  uint32_t col;       /* index in the CSV schema */
  wudf_type from, to; /* column type; type passed (to != from: converted) */
  struct ArrowSchema schema; /* owned: the column as passed (type `to`) */
} wudf_run_arg;

typedef struct wudf_run_args {
  uint32_t n;
  wudf_run_arg arg[WUDF_MAX_UDF_PARAMS];
  const struct ArrowSchema *schemas[WUDF_MAX_UDF_PARAMS]; /* -> arg[].schema */
} wudf_run_args;

/* Resolves the argument columns by name in `schema` and plans conversions
 * for the UDF's parameters (see wudf_run.h); the UDF check itself is
 * wudf_module_check_udf() on args->schemas. `input` names the file in
 * messages. */
wudf_status wudf_run_args_plan(wudf_run_args *args,
                               const wudf_csv_schema *schema,
                               const char *const *names, uint32_t n,
                               const wudf_udf_sig *sig, const char *input,
                               wudf_error *err);
void wudf_run_args_reset(wudf_run_args *args);

/* The argument arrays of one batch: the batch's own columns, or converted
 * copies (owned here). */
typedef struct wudf_run_batch_args {
  const struct ArrowArray *cols[WUDF_MAX_UDF_PARAMS];
  struct ArrowArray owned[WUDF_MAX_UDF_PARAMS];
} wudf_run_batch_args;

/* Fills *out for `batch`. A value that does not fit its parameter fails
 * with WUDF_ERR_TYPE and *bad_line set to its line. */
wudf_status wudf_run_args_bind(const wudf_run_args *args,
                               const wudf_csv_batch *batch,
                               const wudf_udf_sig *sig,
                               wudf_run_batch_args *out, int64_t *bad_line,
                               wudf_error *err);
void wudf_run_batch_args_reset(wudf_run_batch_args *a);

/* ---- Output (output.c) -------------------------------------------------- */

typedef struct wudf_run_sink {
  FILE *f;          /* the stream written */
  bool owned;       /* f is the temporary file */
  char *tmp_path;   /* owned: the temporary file, until committed */
  const char *path; /* the final path (borrowed), or NULL */
} wudf_run_sink;

/* Opens the destination: for `path`, a new temporary file in the same
 * directory; else `f` (stdout when NULL). */
wudf_status wudf_run_sink_open(wudf_run_sink *s, const char *path, FILE *f,
                               wudf_error *err);
/* Flushes; for a file, syncs, closes and renames it over the path. */
wudf_status wudf_run_sink_commit(wudf_run_sink *s, wudf_error *err);
/* Removes the temporary file if not committed. Accepts a zeroed sink. */
void wudf_run_sink_abort(wudf_run_sink *s);

/* A selection keeping the first `keep` rows of `sel` that are selected
 * (all rows when sel is NULL), out of `nrows`. */
wudf_status wudf_run_limit_selection(const struct ArrowArray *sel,
                                     int64_t nrows, int64_t keep,
                                     struct ArrowArray *out, wudf_error *err);

/* ---- The pipeline (pipeline.c) ------------------------------------------ */

/* One batch on its way from the reader to the writer. */
typedef struct wudf_run_job {
  int64_t seq;
  wudf_csv_batch batch;     /* owned */
  struct ArrowArray result; /* MAP result / FILTER selection; owned */
  int64_t selected;         /* FILTER: rows selected */
  wudf_status status;       /* of reading or running the batch */
  wudf_error err;
  int64_t error_line;
  char *guest_text; /* owned: the UDF's captured output */
  size_t guest_len;
  bool guest_truncated;
  bool done; /* ready for the writer */
} wudf_run_job;

/* Everything a run shares between its threads. */
typedef struct wudf_run_ctx {
  const wudf_run_options *o;
  const char *input_name; /* for messages */
  FILE *in;
  bool own_in;
  uint64_t in_size;
  wudf_csv_reader *reader;
  const wudf_csv_schema *schema;
  wudf_udf_sig sig;
  wudf_run_args args;
  char result_name[WUDF_MAX_UDF_NAME + 16];
  wudf_run_sink sink;
  wudf_csv_writer *writer;
  const struct ArrowArray **out_cols; /* owned: ncols + 1 slots */
  int64_t batch_rows;

  uint32_t nworkers;
  wudf_instance **instances;
  pthread_t reader_thread, *worker_threads;
  bool reader_started;
  uint32_t workers_started;

  pthread_mutex_t lock;
  pthread_cond_t to_reader, to_workers, to_writer;
  bool sync_ready;
  wudf_run_job
      *jobs; /* ring of `window` slots: job seq is jobs[seq % window] */
  uint32_t window;
  int64_t next_read, next_run, next_write;
  int64_t end_seq; /* number of jobs once the reader stopped; -1 before */
  bool stop;

  atomic_llong rows_read;
  atomic_ullong bytes_read;
  int64_t rows_written;
  int64_t batches;
  double t0;
} wudf_run_ctx;

/* The line a CSV error message names ("...: line 17: ..."), or -1. */
int64_t wudf_run_line_of(const char *message);

/* Starts the reader and worker threads, writes every batch in order from
 * the calling thread, and stops the threads. On failure the first error in
 * input order is returned (with *error_line). */
wudf_status wudf_run_pipeline(wudf_run_ctx *c, int64_t *error_line,
                              wudf_error *err);

/* Runs the UDF on one job (worker side). */
void wudf_run_job_execute(wudf_run_ctx *c, wudf_instance *inst,
                          wudf_run_job *job);

/* Writes one finished job (writer side); sets *full when the limit is
 * reached. */
wudf_status wudf_run_job_write(wudf_run_ctx *c, wudf_run_job *job, bool *full,
                               wudf_error *err);

void wudf_run_job_reset(wudf_run_job *job);

/* Monotonic clock in seconds. */
double wudf_run_now(void);

#endif
