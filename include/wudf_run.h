/*
 * wudf_run.h — running a UDF over a CSV file: the engine behind `wudf run`,
 * for every front that runs jobs (the command line, the web server...).
 *
 * A run reads a CSV file with a header line in batches, calls a MAP or
 * FILTER UDF on each batch in a sandbox, and writes the rows (MAP: every
 * input column plus the result; FILTER: the rows the UDF selected) as CSV,
 * JSON lines or a text table, in input order:
 *
 *     CSV stream ──▶ job (wudf_job.h) ──▶ sink: ordered writer
 *     (wudf_csv_stream_open)  N workers,      (the calling thread)
 *                             one wudf_instance each
 *
 * Memory stays bounded whatever the size of the file: at most
 * 2 * threads + 2 batches are in flight (read, being run, or waiting to be
 * written in order), whatever the output format (the table format is
 * streamed too: its column widths come from the names and types).
 *
 * Everything is checked before the first row is run: the argument columns
 * exist, their types fit the UDF's parameters, the declared result type is
 * the UDF's, a FILTER UDF returns bool or int32.
 *
 * Limits. The instance limits (wudf_instance_config) apply per worker; the
 * time limit applies to each call into the sandbox, and one batch is one
 * call: with the default 8192-row batches, a 10 s limit bounds the time of
 * 8192 rows, not of one row nor of the whole run.
 *
 * Column types. CSV types are inferred from a sample (int32, int64,
 * float64, bool, utf8). A column is passed to a parameter of the same type
 * or widened (int32 -> int64 or float64, float32 -> float64), as for
 * wudf_instance_map(). For CSV data, a run also converts, for the argument
 * only, a numeric column to a narrower numeric parameter, as C converts the
 * arguments of a call: float64 -> float32 and int32/int64 -> float32 round
 * to the nearest float; int64 -> float64 rounds to the nearest double;
 * int64 -> int32 fails on a value out of range, naming its line. The
 * column itself is written out exactly as it was read. So the seed's
 * `float calculate_adj_bal(int balance, float rate)` runs on a `rate`
 * column of decimals, which CSV inference reads as float64.
 */
#ifndef WUDF_RUN_H
#define WUDF_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "wudf.h"
#include "wudf_job.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wudf_run_op {
  WUDF_RUN_MAP,    /* append the UDF's result as a column */
  WUDF_RUN_FILTER, /* keep the rows where the UDF returns true (non-zero) */
} wudf_run_op;

typedef enum wudf_run_format {
  WUDF_RUN_FORMAT_CSV,   /* RFC 4180, header line first */
  WUDF_RUN_FORMAT_JSONL, /* one JSON object per row */
  WUDF_RUN_FORMAT_TABLE, /* aligned text table, column types under the names */
} wudf_run_format;

/* Where a run is; handed to the progress callback. */
typedef struct wudf_run_progress {
  int64_t rows_read;    /* data rows parsed so far */
  int64_t rows_written; /* rows written to the output so far */
  uint64_t bytes_read;  /* input bytes consumed (includes read-ahead) */
  uint64_t bytes_total; /* input size; 0 when unknown (a pipe) */
  double seconds;       /* since the run started */
  bool done;            /* the last call, after the run ended */
} wudf_run_progress;

/* Called by the thread that called wudf_run(), every `progress_ms` while
 * the run goes on and once more at the end (done set). Returning false
 * cancels the run: running calls are interrupted, the run fails with
 * WUDF_ERR_CANCELLED and an output file is not created. */
typedef bool (*wudf_run_progress_fn)(void *user, const wudf_run_progress *p);

/* What the UDF wrote to stdout/stderr while running the batch whose first
 * data row is on CSV line `first_line`, in input order; truncated when it
 * passed the instance's output limit. Called from the calling thread. */
typedef void (*wudf_run_output_fn)(void *user, int64_t first_line,
                                   const char *text, size_t len,
                                   bool truncated);

/* Options of a run. Initialise with wudf_run_options_init(); strings and
 * objects are borrowed for the duration of wudf_run(). */
typedef struct wudf_run_options {
  /* Input: a CSV file whose first line names the columns. */
  const char *input_path; /* NULL: read `input` */
  FILE *input;         /* when input_path is NULL (NULL: stdin); not closed */
  char delimiter;      /* default ',' */
  int64_t sample_rows; /* rows read to infer types; 0: reader default */

  /* The UDF. */
  wudf_module *module;        /* must declare UDF `function` */
  const char *function;       /* the UDF's name */
  const char *const *columns; /* argument columns, in parameter order */
  uint32_t ncolumns;
  wudf_run_op op;
  /* MAP: the result type the caller expects; the run is refused if the
   * UDF's differs. Ignored unless declared_result. */
  bool declared_result;
  wudf_type result_type;
  const char *result_name; /* MAP: NULL for "<function>_RESULT" */

  /* Output. */
  /* A file, written to a temporary file in the same directory and renamed
   * over `output_path` only when the run succeeds: a failed or cancelled
   * run leaves an existing file untouched and creates none. NULL: write to
   * `output` as the run goes (a failed run leaves what was written). */
  const char *output_path;
  FILE *output; /* NULL: stdout; not closed */
  wudf_run_format format;
  int64_t limit; /* stop after this many output rows; < 0: no limit */

  /* Execution. */
  uint32_t threads;   /* worker threads; 0: the online processors */
  int64_t batch_rows; /* rows per batch (one sandbox call); 0: 8192 */
  /* Limits of each worker's instance; NULL: the engine's defaults. */
  const wudf_instance_config *instance_config;
  /* What a row whose call traps (or whose value does not fit its
   * parameter) does: fail the run (default), NULL result, or dropped. */
  wudf_on_error on_error;

  wudf_run_progress_fn progress; /* may be NULL */
  void *progress_user;
  uint32_t progress_ms;            /* 0: 100 */
  wudf_run_output_fn guest_output; /* may be NULL: the output is dropped */
  void *guest_output_user;
} wudf_run_options;

/* Defaults: MAP, CSV to stdout, no limit, all processors, 8192-row
 * batches. */
WUDF_API void wudf_run_options_init(wudf_run_options *options);

typedef struct wudf_run_stats {
  int64_t rows_read;    /* data rows parsed */
  int64_t rows_written; /* output rows */
  int64_t batches;      /* batches run */
  uint32_t threads;     /* worker threads used */
  double seconds;       /* wall-clock time of the run */
  /* On failure: the CSV line (1-based) of the row that failed (a trap, a
   * value out of range), of a malformed record, or -1 (err->input_line). */
  int64_t error_line;
  /* Rows that failed under on_error null or skip. */
  int64_t row_errors;
} wudf_run_stats;

/* Runs the job described by `options`. `stats` may be NULL. With several
 * workers, the error returned is the first in input order. Its location
 * fields are filled: err->input_line (also in stats->error_line),
 * input_row, input_name, udf.
 * Errors (the message names the problem and where):
 *   WUDF_ERR_ARG        options incomplete or out of range
 *   WUDF_ERR_IO         the input or output cannot be read or written
 *   WUDF_ERR_MALFORMED  the CSV is malformed ("line 12: ..."); a value
 *                       does not fit its column's inferred type:
 *                       WUDF_ERR_TYPE
 *   WUDF_ERR_NOT_FOUND  no argument column of that name (named), or no UDF
 *   WUDF_ERR_TYPE       a column does not fit its parameter (both named),
 *                       the declared result type is not the UDF's, FILTER
 *                       on a UDF that returns neither bool nor int32, a
 *                       value does not fit a narrowed parameter
 *   WUDF_TRAP_*         the UDF trapped: the message names the function,
 *                       the trap and the CSV line of the row
 *   WUDF_ERR_CANCELLED  cancelled by the progress callback
 * Thread-safe: runs on different options may go on at once. */
WUDF_API wudf_status wudf_run(const wudf_run_options *options,
                              wudf_run_stats *stats, wudf_error *err);

/* ------------------------------------------------------------------------ */
/* Helpers for fronts                                                       */
/* ------------------------------------------------------------------------ */

/* The columns of a CSV file, with the types a run infers. Caller-owned:
 * release with wudf_run_schema_reset(). */
typedef struct wudf_run_schema {
  uint32_t ncols;
  char **names;
  wudf_type *types;
} wudf_run_schema;

/* Reads the header and the type-inference sample of the CSV file at `path`
 * (a file: the sample is read again by wudf_run()). `delimiter` 0 means
 * ','; `sample_rows` 0 the reader's default (10,000). */
WUDF_API wudf_status wudf_run_schema_read(const char *path, char delimiter,
                                          int64_t sample_rows,
                                          wudf_run_schema *out,
                                          wudf_error *err);
WUDF_API void wudf_run_schema_reset(wudf_run_schema *schema);

/* A type name as users write it: the wudf names (int32, int64, float32,
 * float64, bool, utf8) and, in any case, int, integer, bigint, long, float,
 * double, boolean, string, text. False if unknown. */
WUDF_API bool wudf_run_type_parse(const char *name, wudf_type *out);

/* Loads a module for a run of UDF `function`. A module whose `wudf.udfs`
 * section declares `function` is loaded as it is. For any other module (a
 * foreign module, hand-written WAT), the signature is derived from the
 * exported function's WebAssembly type and the argument columns' types
 * (`col_types`, in parameter order), and declared at load time:
 *   - a utf8 column takes two i32 parameters (pointer, length); a bool
 *     column takes an i32 as bool; otherwise i32 -> int32, i64 -> int64,
 *     f32 -> float32, f64 -> float64;
 *   - the result is `result_type` (MAP) or bool (FILTER, i32 result); it
 *     must fit the export's result (utf8 is an i64).
 * `col_types` may be NULL: each WebAssembly parameter is then one numeric
 * parameter of the matching type (`ncols` is ignored).
 * `name` is used in messages. On success *out is owned: release with
 * wudf_module_free(). Errors: those of wudf_module_load_ex(), and
 * WUDF_ERR_NOT_FOUND (no such exported function), WUDF_ERR_TYPE (the
 * export's type does not fit the columns or the result type, named). */
WUDF_API wudf_status wudf_run_module_load(
    wudf_engine *engine, const void *bytes, size_t len, const char *name,
    const char *function, const wudf_type *col_types, uint32_t ncols,
    wudf_run_op op, wudf_type result_type, wudf_module **out, wudf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WUDF_RUN_H */
