/*
 * wudf_job.h — running a UDF over a stream of Arrow batches: the one entry
 * point every front uses (the wudf command, the web server, the Python
 * package and through it Spark and Dask, the database extensions).
 *
 * A job reads an input struct ArrowArrayStream, runs a MAP or FILTER UDF
 * on each batch in a sandbox, and hands the batches on in input order,
 * either to a sink callback (wudf_job_run) or as an output stream
 * (wudf_job_output_stream):
 *
 *     input stream ──▶ N worker threads ──▶ in order ──▶ sink / stream
 *                      (one wudf_instance each)
 *
 * With `threads` = 0 the job runs everything on the calling thread and
 * starts no thread: for hosts that must not have threads of wudf's (a
 * database backend). Threads a job starts block every signal of the host
 * (only wudf's own timer signal and synchronous faults reach them).
 *
 * Everything is checked before the first row is run: the argument columns
 * exist, their types fit the UDF's parameters, the declared result type is
 * the UDF's, a FILTER UDF returns bool or int32.
 *
 * Memory stays bounded: at most 2 * threads + 2 batches are in flight, and
 * with a host-memory budget the input batches in flight, the results and
 * selections, and the executor's copies (widened columns, string
 * conversions, string results) are charged to it. Buffers the input
 * stream keeps for itself are the stream's (the CSV stream takes a budget
 * of its own in wudf_csv_read_options).
 *
 * The CSV adapter (wudf_csv_stream_open) turns a CSV file into a stream;
 * wudf_run() in wudf_run.h is that stream, a job and a sink that writes
 * CSV, JSON lines or a table.
 */
#ifndef WUDF_JOB_H
#define WUDF_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "wudf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wudf_job_op {
  WUDF_JOB_MAP,    /* append the UDF's result as a column */
  WUDF_JOB_FILTER, /* keep the rows where the UDF returns true (non-zero) */
} wudf_job_op;

/* What a row whose call traps (or whose value does not fit its parameter)
 * does to the job. A time limit, an interrupt, a cancel or a failure of
 * the host (memory, I/O) always stops the job. */
typedef enum wudf_on_error {
  WUDF_ON_ERROR_FAIL = 0, /* the job stops with the row's error */
  WUDF_ON_ERROR_NULL,     /* MAP: the row's result is NULL; FILTER: dropped */
  WUDF_ON_ERROR_SKIP,     /* the row is dropped from the output */
} wudf_on_error;

/* "fail", "null", "skip"; and back (false if unknown). */
WUDF_API const char *wudf_on_error_str(wudf_on_error policy);
WUDF_API bool wudf_on_error_parse(const char *text, wudf_on_error *out);

/* One row that failed under WUDF_ON_ERROR_NULL or _SKIP. */
typedef struct wudf_row_error {
  int64_t row;  /* 0-based row of the input stream */
  int64_t line; /* its input line (options.line_column), or -1 */
  wudf_status status;
  char message[WUDF_ERROR_MESSAGE_SIZE]; /* formatted as wudf_error's */
} wudf_row_error;

/* Where a job is. */
typedef struct wudf_job_progress {
  int64_t rows_in;          /* input rows taken from the stream */
  int64_t rows_out;         /* rows handed on (sink or output stream) */
  int64_t batches;          /* input batches finished */
  int64_t row_errors;       /* rows that failed (on_error null or skip) */
  uint64_t host_bytes_peak; /* peak of the job's budget; 0 without one */
  double seconds;           /* since the job started running */
  bool done;
} wudf_job_progress;

/* Called on the thread running the job between batches (and, with
 * threads > 0, every `progress_ms` while it waits). Returning false
 * cancels the job. */
typedef bool (*wudf_job_progress_fn)(void *user, const wudf_job_progress *p);

/* What the UDF wrote to stdout/stderr while running the batch whose first
 * row is input row `first_row` (and line `first_line`, or -1), in input
 * order. Called on the thread running the job. */
typedef void (*wudf_job_output_fn)(void *user, int64_t first_row,
                                   int64_t first_line, const char *text,
                                   size_t len, bool truncated);

/* Options of a job. Initialise with wudf_job_options_init(); strings and
 * objects are borrowed until wudf_job_free(). */
typedef struct wudf_job_options {
  /* The UDF. */
  wudf_module *module;        /* must declare UDF `function` */
  const char *function;       /* the UDF's name */
  const char *const *columns; /* argument columns of the input, by name, in
                               * parameter order */
  uint32_t ncolumns;
  wudf_job_op op;
  /* MAP: the result type the caller expects; the job is refused if the
   * UDF's differs. Ignored unless declared_result. */
  bool declared_result;
  wudf_type result_type;
  const char *result_name; /* MAP: NULL for "<function>_RESULT" */
  /* Also convert a numeric column to a narrower numeric parameter, as C
   * converts the arguments of a call (float64 -> float32 rounds; int64 ->
   * int32 fails on a value out of range, naming its row). Default false:
   * only lossless widening (wudf_module_check_udf). */
  bool narrow_args;

  /* The input. */
  /* Name of an int64 column of the input holding each row's source line
   * (the CSV stream adds one): errors name lines, and it is left out of
   * the output. NULL: none. */
  const char *line_column;
  const char *input_name; /* in messages ("accounts.csv"); may be NULL */

  /* Execution. */
  uint32_t threads; /* worker threads; 0: the calling thread only */
  /* Rows per sandbox call (the time limit applies per call): longer input
   * batches are run in slices of this many rows. 0: 8192. */
  int64_t batch_rows;
  /* Limits of each worker's instance; NULL: the engine's defaults. Its
   * budget, if any, is replaced by the job's. */
  const wudf_instance_config *instance_config;
  wudf_on_error on_error;
  uint32_t max_row_errors; /* rows kept by wudf_job_row_error(); 0: 100 */
  int64_t limit;           /* stop after this many output rows; < 0: all */
  /* Host memory of the job (batches in flight, results, copies) in bytes;
   * past it the job fails with WUDF_ERR_HOST_MEMORY. 0: unbounded. */
  uint64_t host_memory_bytes;
  wudf_cancel *cancel; /* may be NULL; wudf_job_cancel() works regardless */

  wudf_job_progress_fn progress; /* may be NULL */
  void *progress_user;
  uint32_t progress_ms;            /* 0: 100 */
  wudf_job_output_fn guest_output; /* may be NULL: the output is dropped */
  void *guest_output_user;
} wudf_job_options;

/* Defaults: MAP, calling thread only, 8192-row calls, fail on error, no
 * limit, no budget. */
WUDF_API void wudf_job_options_init(wudf_job_options *options);

typedef struct wudf_job wudf_job;

/* Creates a job over `input`, whose ownership moves to the job (input's
 * release is set to NULL; the job releases it). Reads the input's schema
 * and checks the columns and the UDF; reads no batch. On success *out is
 * owned: release with wudf_job_free(). On error the input is released.
 * Errors: WUDF_ERR_ARG (options), WUDF_ERR_NOT_FOUND (a column or the
 * UDF, named), WUDF_ERR_TYPE (a column that does not fit its parameter,
 * both named; a wrong declared result), WUDF_ERR_IO (the stream's
 * get_schema failed, with its get_last_error text). */
WUDF_API wudf_status wudf_job_new(const wudf_job_options *options,
                                  struct ArrowArrayStream *input,
                                  wudf_job **out, wudf_error *err);

/* The schema of the output: the input's columns (less line_column) and,
 * for a MAP, the result column. Caller-owned: release it. */
WUDF_API wudf_status wudf_job_output_schema(const wudf_job *job,
                                            struct ArrowSchema *out,
                                            wudf_error *err);

/* One output batch, in input order: the input batch as read, the MAP
 * result, and which rows are kept. Everything is borrowed for the
 * duration of the sink call. */
typedef struct wudf_job_batch {
  int64_t seq;       /* 0, 1, 2... */
  int64_t first_row; /* input row of the batch's row 0 */
  const struct ArrowSchema *input_schema;
  const struct ArrowArray *input; /* the input struct array, as read */
  /* Input column indices of the output's columns (line_column left out),
   * and their count. */
  const uint32_t *columns;
  uint32_t ncolumns;
  const struct ArrowArray *result; /* MAP result column; NULL for FILTER */
  const struct ArrowSchema *result_schema;
  /* Rows kept (FILTER's selection, rows skipped on error, the limit): a
   * bool array without NULLs, or NULL when every row is kept. */
  const struct ArrowArray *selection;
  int64_t rows_kept;
  const int64_t *lines; /* each row's input line, or NULL */
} wudf_job_batch;

/* Receives the batches in order, on the thread that called wudf_job_run().
 * Returning other than WUDF_OK (with err filled) stops the job with it. */
typedef wudf_status (*wudf_job_sink_fn)(void *user, const wudf_job_batch *batch,
                                        wudf_error *err);

/* Runs the job to its end, handing each batch to `sink`. With several
 * workers, the error returned is the first in input order; its location
 * fields (input_row, input_line, udf, wasm_function...) are filled.
 * A job runs once: a second run returns WUDF_ERR_ARG. */
WUDF_API wudf_status wudf_job_run(wudf_job *job, wudf_job_sink_fn sink,
                                  void *user, wudf_error *err);

/* Runs the job as the consumer pulls: moves into *out a stream of output
 * batches (struct arrays of the output schema, FILTER already applied)
 * that borrows the job (release the stream before the job). With
 * threads > 0 the workers run ahead of the consumer within the window.
 * An error ends the stream: get_next returns an errno value and
 * get_last_error the formatted message; wudf_job_error() gives the
 * fields. */
WUDF_API wudf_status wudf_job_output_stream(wudf_job *job,
                                            struct ArrowArrayStream *out,
                                            wudf_error *err);

/* The error that ended the job (status WUDF_OK if none). */
WUDF_API void wudf_job_error(const wudf_job *job, wudf_error *err);

/* Stops the job: running calls are interrupted and the job ends with
 * WUDF_ERR_CANCELLED. Any thread; async-signal-safe; does nothing after
 * the job ended. */
WUDF_API void wudf_job_cancel(wudf_job *job);

/* A snapshot of the job's progress. Any thread. */
WUDF_API void wudf_job_get_progress(const wudf_job *job,
                                    wudf_job_progress *out);

/* Rows that failed under WUDF_ON_ERROR_NULL or _SKIP: the total, and the
 * first max_row_errors of them in input order. */
WUDF_API int64_t wudf_job_row_error_total(const wudf_job *job);
WUDF_API uint32_t wudf_job_row_error_count(const wudf_job *job);
WUDF_API wudf_status wudf_job_row_error(const wudf_job *job, uint32_t index,
                                        wudf_row_error *out);

/* Frees the job (cancelling it if it runs on another thread's stream) and
 * releases its input. Accepts NULL. */
WUDF_API void wudf_job_free(wudf_job *job);

/* ------------------------------------------------------------------------ */
/* CSV adapters                                                             */
/* ------------------------------------------------------------------------ */

/* How to read a CSV file. Initialise with wudf_csv_read_options_init(). */
typedef struct wudf_csv_read_options {
  char delimiter;      /* 0: ',' */
  int64_t sample_rows; /* rows read to infer types; 0: 10,000 */
  int64_t batch_rows;  /* rows per batch of the stream; 0: 8192 */
  /* Add an int64 column of this name holding each row's line (for
   * wudf_job_options.line_column). NULL: none. */
  const char *line_column;
  /* Charged with the reader's buffers and batches; may be NULL. */
  wudf_budget *budget;
} wudf_csv_read_options;

WUDF_API void wudf_csv_read_options_init(wudf_csv_read_options *options);

/* Opens the CSV file at `path` (or reads `f` when path is NULL; not
 * closed) as a stream of struct batches, one column per CSV column with
 * its inferred type. The header and the sample are read now: a malformed
 * header fails here. A malformed record later ends the stream with an
 * error naming its line (get_last_error). `name` is used in messages
 * (NULL: the path, or "stdin"). */
WUDF_API wudf_status wudf_csv_stream_open(const char *path, FILE *f,
                                          const char *name,
                                          const wudf_csv_read_options *options,
                                          struct ArrowArrayStream *out,
                                          wudf_error *err);

/* The error that ended a CSV stream (with input_line and input_name set),
 * or WUDF_OK. `stream` must come from wudf_csv_stream_open(). */
WUDF_API void wudf_csv_stream_error(struct ArrowArrayStream *stream,
                                    wudf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WUDF_JOB_H */
