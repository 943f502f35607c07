/* Internal interface of the CSV run (src/run/): a CSV stream, a job and a
 * sink writing CSV, JSON lines or a table. The public side is
 * include/wudf_run.h. */
#ifndef WUDF_RUN_INTERNAL_H
#define WUDF_RUN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "csv/csv.h"
#include "wudf.h"
#include "wudf_run.h"

#define WUDF_RUN_DEFAULT_BATCH 8192
#define WUDF_RUN_MAX_THREADS 256

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

#endif
