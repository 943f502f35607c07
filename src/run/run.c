/*
 * wudf_run(): a job (include/wudf_job.h) between a CSV stream and a sink
 * writing CSV, JSON lines or a table. The job checks everything before the
 * first row runs; the output file is created before the first batch and
 * renamed over the path only when the run succeeds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "run/run_internal.h"
#include "wudf_job.h"

/* The line column the CSV stream adds for the job; not a CSV header name
 * wudf would ever write (it starts with a control character). */
#define LINE_COLUMN "\x01line"

typedef struct run_ctx {
  const wudf_run_options *o;
  const char *input_name;
  FILE *in;
  bool own_in;
  uint64_t in_size;
  wudf_job *job;
  wudf_run_sink sink;
  wudf_csv_writer *writer;
  const struct ArrowArray **cols; /* owned: one per output column */
  uint32_t ncols;
} run_ctx;

static wudf_status check_options(const wudf_run_options *o, wudf_error *err) {
  if (!o || !o->module || !o->function)
    return wudf_fail(err, WUDF_ERR_ARG, "options, module or function is NULL");
  if ((unsigned)o->format > (unsigned)WUDF_RUN_FORMAT_TABLE)
    return wudf_fail(err, WUDF_ERR_ARG, "unknown output format %d",
                     (int)o->format);
  if (o->op != WUDF_RUN_MAP && o->op != WUDF_RUN_FILTER)
    return wudf_fail(err, WUDF_ERR_ARG, "unknown operation %d", (int)o->op);
  if ((unsigned)o->on_error > (unsigned)WUDF_ON_ERROR_SKIP)
    return wudf_fail(err, WUDF_ERR_ARG, "unknown on_error policy %d",
                     (int)o->on_error);
  if (o->batch_rows < 0 || o->threads > WUDF_RUN_MAX_THREADS)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "batch_rows must be >= 0 and threads at most %d",
                     WUDF_RUN_MAX_THREADS);
  return WUDF_OK;
}

static uint32_t default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  return n > WUDF_RUN_MAX_THREADS ? WUDF_RUN_MAX_THREADS : (uint32_t)n;
}

/* ---- Progress and guest output ------------------------------------------ */

static bool on_progress(void *user, const wudf_job_progress *jp) {
  run_ctx *c = user;
  off_t pos = c->in ? ftello(c->in) : -1;
  wudf_run_progress p = {jp->rows_in, jp->rows_out, pos > 0 ? (uint64_t)pos : 0,
                         c->in_size,  jp->seconds,  jp->done};
  return c->o->progress(c->o->progress_user, &p);
}

static void on_output(void *user, int64_t first_row, int64_t first_line,
                      const char *text, size_t len, bool truncated) {
  run_ctx *c = user;
  (void)first_row;
  c->o->guest_output(c->o->guest_output_user, first_line, text, len, truncated);
}

/* ---- Input -------------------------------------------------------------- */

static wudf_status open_input(run_ctx *c, struct ArrowArrayStream *stream,
                              wudf_error *err) {
  const wudf_run_options *o = c->o;
  c->input_name = o->input_path ? o->input_path : "standard input";
  c->in = o->input_path ? fopen(o->input_path, "rb")
          : o->input    ? o->input
                        : stdin;
  if (!c->in)
    return wudf_fail(err, WUDF_ERR_IO, "cannot open %s: %s", o->input_path,
                     strerror(errno));
  c->own_in = o->input_path != NULL;
  struct stat st;
  if (fstat(fileno(c->in), &st) == 0 && S_ISREG(st.st_mode))
    c->in_size = (uint64_t)st.st_size;
  wudf_csv_read_options ro;
  wudf_csv_read_options_init(&ro);
  ro.delimiter = o->delimiter;
  ro.sample_rows = o->sample_rows;
  ro.batch_rows = o->batch_rows ? o->batch_rows : WUDF_RUN_DEFAULT_BATCH;
  ro.line_column = LINE_COLUMN;
  return wudf_csv_stream_open(NULL, c->in, c->input_name, &ro, stream, err);
}

static void job_options(run_ctx *c, wudf_job_options *jo) {
  const wudf_run_options *o = c->o;
  wudf_job_options_init(jo);
  jo->module = o->module;
  jo->function = o->function;
  jo->columns = o->columns;
  jo->ncolumns = o->ncolumns;
  jo->op = o->op == WUDF_RUN_FILTER ? WUDF_JOB_FILTER : WUDF_JOB_MAP;
  jo->declared_result = o->declared_result;
  jo->result_type = o->result_type;
  jo->result_name = o->result_name;
  jo->narrow_args = true; /* CSV inference picks the widest type */
  jo->line_column = LINE_COLUMN;
  jo->input_name = c->input_name;
  jo->threads = o->threads ? o->threads : default_threads();
  jo->batch_rows = o->batch_rows;
  jo->instance_config = o->instance_config;
  jo->on_error = o->on_error;
  jo->limit = o->limit;
  jo->progress = o->progress ? on_progress : NULL;
  jo->progress_user = c;
  jo->progress_ms = o->progress_ms;
  jo->guest_output = o->guest_output ? on_output : NULL;
  jo->guest_output_user = c;
}

/* ---- Output ------------------------------------------------------------- */

static wudf_output_format output_format(wudf_run_format f) {
  switch (f) {
    case WUDF_RUN_FORMAT_JSONL:
      return WUDF_OUTPUT_JSONL;
    case WUDF_RUN_FORMAT_TABLE:
      return WUDF_OUTPUT_TABLE;
    default:
      return WUDF_OUTPUT_CSV;
  }
}

static wudf_status open_writer(run_ctx *c, const struct ArrowSchema *s,
                               wudf_error *err) {
  uint32_t n = (uint32_t)s->n_children;
  const char **names = wudf_calloc(n ? n : 1, sizeof *names);
  wudf_type *types = wudf_calloc(n ? n : 1, sizeof *types);
  c->cols = wudf_calloc(n ? n : 1, sizeof *c->cols);
  c->ncols = n;
  wudf_status st = WUDF_OK;
  if (!names || !types || !c->cols)
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++) {
    names[i] = s->children[i]->name;
    if (!wudf_type_from_arrow_format(s->children[i]->format, &types[i]))
      st = wudf_fail(err, WUDF_ERR_TYPE, "column '%s' cannot be written",
                     names[i]);
  }
  if (st == WUDF_OK)
    st = wudf_run_sink_open(&c->sink, c->o->output_path, c->o->output, err);
  if (st == WUDF_OK)
    st = wudf_csv_writer_new(c->sink.f, output_format(c->o->format), n, names,
                             types, &c->writer, err);
  wudf_free(names);
  wudf_free(types);
  return st;
}

static wudf_status open_output(run_ctx *c, wudf_error *err) {
  struct ArrowSchema s;
  wudf_status st = wudf_job_output_schema(c->job, &s, err);
  if (st != WUDF_OK) return st;
  st = open_writer(c, &s, err);
  s.release(&s);
  return st;
}

static wudf_status write_batch(void *user, const wudf_job_batch *b,
                               wudf_error *err) {
  run_ctx *c = user;
  for (uint32_t i = 0; i < b->ncolumns; i++)
    c->cols[i] = b->input->children[b->columns[i]];
  if (b->result) c->cols[b->ncolumns] = b->result;
  return wudf_csv_writer_write(c->writer, c->cols, b->selection, err);
}

static wudf_status finish_output(run_ctx *c, wudf_error *err) {
  wudf_status st = wudf_csv_writer_finish(c->writer, err);
  if (st == WUDF_OK) st = wudf_run_sink_commit(&c->sink, err);
  return st;
}

/* ---- The run ------------------------------------------------------------ */

static void fill_stats(const run_ctx *c, wudf_status st, const wudf_error *e,
                       uint32_t threads, wudf_run_stats *stats) {
  if (!stats) return;
  wudf_job_progress p;
  wudf_job_get_progress(c->job, &p);
  stats->rows_read = p.rows_in;
  stats->rows_written = p.rows_out;
  stats->batches = p.batches;
  stats->threads = threads;
  stats->seconds = p.seconds;
  stats->row_errors = wudf_job_row_error_total(c->job);
  stats->error_line = st != WUDF_OK ? e->input_line : -1;
}

static void cleanup(run_ctx *c) {
  wudf_csv_writer_free(c->writer);
  wudf_run_sink_abort(&c->sink);
  wudf_free(c->cols);
  wudf_job_free(c->job);
  if (c->own_in && c->in) fclose(c->in);
}

static wudf_status run(run_ctx *c, wudf_job_options *jo, wudf_error *e) {
  struct ArrowArrayStream stream;
  wudf_status st = open_input(c, &stream, e);
  if (st != WUDF_OK) return st;
  job_options(c, jo);
  st = wudf_job_new(jo, &stream, &c->job, e);
  if (st == WUDF_OK) st = open_output(c, e);
  if (st == WUDF_OK) st = wudf_job_run(c->job, write_batch, c, e);
  if (st == WUDF_OK) st = finish_output(c, e);
  return st;
}

wudf_status wudf_run(const wudf_run_options *o, wudf_run_stats *stats,
                     wudf_error *err) {
  if (stats) {
    memset(stats, 0, sizeof *stats);
    stats->error_line = -1;
  }
  wudf_status st = check_options(o, err);
  if (st != WUDF_OK) return st;
  run_ctx c;
  memset(&c, 0, sizeof c);
  c.o = o;
  wudf_job_options jo;
  wudf_job_options_init(&jo);
  wudf_error e;
  wudf_error_init(&e);
  st = run(&c, &jo, &e);
  if (!c.job && o->progress) {
    wudf_run_progress p = {0, 0, 0, c.in_size, 0, true};
    o->progress(o->progress_user, &p);
  }
  fill_stats(&c, st, &e, jo.threads, stats);
  cleanup(&c);
  if (err) *err = e;
  return st;
}
