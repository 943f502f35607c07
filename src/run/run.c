/*
 * wudf_run(): a MAP or FILTER job over a CSV file. Everything that can be
 * checked is checked before the first row runs (columns, types, result
 * type, instances, the output file); then the pipeline (pipeline.c) runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "run/run_internal.h"

static wudf_status check_options(const wudf_run_options *o, wudf_error *err) {
  if (!o || !o->module || !o->function)
    return wudf_fail(err, WUDF_ERR_ARG, "options, module or function is NULL");
  if (!o->ncolumns || !o->columns)
    return wudf_fail(err, WUDF_ERR_ARG, "no argument columns given for '%s'",
                     o->function);
  if (o->op != WUDF_RUN_MAP && o->op != WUDF_RUN_FILTER)
    return wudf_fail(err, WUDF_ERR_ARG, "unknown operation %d", (int)o->op);
  if ((unsigned)o->format > (unsigned)WUDF_RUN_FORMAT_TABLE)
    return wudf_fail(err, WUDF_ERR_ARG, "unknown output format %d",
                     (int)o->format);
  if (o->batch_rows < 0 || o->threads > WUDF_RUN_MAX_THREADS)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "batch_rows must be >= 0 and threads at most %d",
                     WUDF_RUN_MAX_THREADS);
  return WUDF_OK;
}

/* On a malformed header or sample, *error_line is the line it names. */
static wudf_status open_input(wudf_run_ctx *c, int64_t *error_line,
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
  wudf_csv_options co;
  wudf_csv_options_init(&co);
  if (o->delimiter) co.delimiter = o->delimiter;
  if (o->sample_rows > 0) co.sample_rows = o->sample_rows;
  wudf_error e;
  wudf_error_init(&e);
  wudf_status s = wudf_csv_open_file(c->in, c->input_name, &co, &c->reader, &e);
  if (s == WUDF_OK) {
    c->schema = wudf_csv_reader_schema(c->reader);
    return WUDF_OK;
  }
  *error_line = wudf_run_line_of(e.message);
  if (err) *err = e;
  return s;
}

/* The UDF's signature, and the argument columns checked against it. */
static wudf_status check_udf(wudf_run_ctx *c, wudf_error *err) {
  const wudf_run_options *o = c->o;
  int64_t k = wudf_module_find_udf(o->module, o->function);
  if (k < 0)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND,
                     "the module declares no UDF '%s' (see its wudf.udfs "
                     "section, or declare the signature when loading it)",
                     o->function);
  wudf_module_udf(o->module, (uint32_t)k, &c->sig);
  wudf_status st = wudf_run_args_plan(&c->args, c->schema, o->columns,
                                      o->ncolumns, &c->sig, c->input_name, err);
  if (st == WUDF_OK)
    st = wudf_module_check_udf(o->module, o->function, c->args.schemas,
                               c->args.n, err);
  return st;
}

static wudf_status check_result(wudf_run_ctx *c, wudf_error *err) {
  const wudf_run_options *o = c->o;
  char text[512];
  wudf_udf_sig_format(&c->sig, text, sizeof text);
  wudf_type r = c->sig.result;
  if (o->op == WUDF_RUN_FILTER && r != WUDF_TYPE_BOOL && r != WUDF_TYPE_INT32)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "FILTER needs a UDF returning bool or int32; '%s' "
                     "returns %s (%s)",
                     c->sig.name, wudf_type_str(r), text);
  if (o->op == WUDF_RUN_MAP && o->declared_result && o->result_type != r)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "the declared result type is %s, but '%s' returns %s "
                     "(%s)",
                     wudf_type_str(o->result_type), c->sig.name,
                     wudf_type_str(r), text);
  return WUDF_OK;
}

static wudf_status check_result_name(wudf_run_ctx *c, wudf_error *err) {
  const wudf_run_options *o = c->o;
  if (o->op != WUDF_RUN_MAP) return WUDF_OK;
  if (o->result_name && !*o->result_name)
    return wudf_fail(err, WUDF_ERR_ARG, "the result column name is empty");
  snprintf(c->result_name, sizeof c->result_name, "%s",
           o->result_name ? o->result_name : "");
  if (!o->result_name)
    snprintf(c->result_name, sizeof c->result_name, "%s_RESULT", c->sig.name);
  for (uint32_t i = 0; i < c->schema->ncols; i++)
    if (!strcmp(c->schema->names[i], c->result_name))
      return wudf_fail(err, WUDF_ERR_ARG,
                       "%s already has a column '%s'; give the result "
                       "another name",
                       c->input_name, c->result_name);
  return WUDF_OK;
}

static uint32_t default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  return n > WUDF_RUN_MAX_THREADS ? WUDF_RUN_MAX_THREADS : (uint32_t)n;
}

static wudf_status make_instances(wudf_run_ctx *c, wudf_error *err) {
  const wudf_run_options *o = c->o;
  c->nworkers = o->threads ? o->threads : default_threads();
  c->window = 2 * c->nworkers + 2;
  c->batch_rows = o->batch_rows ? o->batch_rows : WUDF_RUN_DEFAULT_BATCH;
  c->instances = calloc(c->nworkers, sizeof *c->instances);
  if (!c->instances) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < c->nworkers; i++) {
    wudf_status st =
        wudf_instance_new(o->module, o->instance_config, &c->instances[i], err);
    if (st != WUDF_OK) return st;
  }
  return WUDF_OK;
}

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

static wudf_status open_output(wudf_run_ctx *c, wudf_error *err) {
  const wudf_run_options *o = c->o;
  uint32_t n = c->schema->ncols, nout = n + (o->op == WUDF_RUN_MAP);
  const char **names = calloc(nout, sizeof *names);
  wudf_type *types = calloc(nout, sizeof *types);
  c->out_cols = calloc(nout, sizeof *c->out_cols);
  wudf_status st = WUDF_OK;
  if (!names || !types || !c->out_cols)
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++) {
    names[i] = c->schema->names[i];
    types[i] = c->schema->types[i];
  }
  if (st == WUDF_OK && nout > n) {
    names[n] = c->result_name;
    types[n] = c->sig.result;
  }
  if (st == WUDF_OK)
    st = wudf_run_sink_open(&c->sink, o->output_path, o->output, err);
  if (st == WUDF_OK)
    st = wudf_csv_writer_new(c->sink.f, output_format(o->format), nout, names,
                             types, &c->writer, err);
  free(names);
  free(types);
  return st;
}

static wudf_status finish_output(wudf_run_ctx *c, wudf_error *err) {
  wudf_status st = wudf_csv_writer_finish(c->writer, err);
  if (st == WUDF_OK) st = wudf_run_sink_commit(&c->sink, err);
  return st;
}

static void cleanup(wudf_run_ctx *c) {
  wudf_csv_writer_free(c->writer);
  wudf_run_sink_abort(&c->sink);
  free(c->out_cols);
  for (uint32_t i = 0; c->instances && i < c->nworkers; i++)
    wudf_instance_free(c->instances[i]);
  free(c->instances);
  wudf_run_args_reset(&c->args);
  wudf_csv_reader_free(c->reader);
  if (c->own_in && c->in) fclose(c->in);
}

static void fill_stats(const wudf_run_ctx *c, int64_t error_line,
                       wudf_run_stats *stats) {
  if (!stats) return;
  stats->rows_read = (int64_t)atomic_load(&c->rows_read);
  stats->rows_written = c->rows_written;
  stats->batches = c->batches;
  stats->threads = c->nworkers;
  stats->seconds = wudf_run_now() - c->t0;
  stats->error_line = error_line;
}

static wudf_status prepare(wudf_run_ctx *c, int64_t *error_line,
                           wudf_error *err) {
  wudf_status st = open_input(c, error_line, err);
  if (st == WUDF_OK) st = check_udf(c, err);
  if (st == WUDF_OK) st = check_result(c, err);
  if (st == WUDF_OK) st = check_result_name(c, err);
  if (st == WUDF_OK) st = make_instances(c, err);
  if (st == WUDF_OK) st = open_output(c, err);
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
  wudf_run_ctx *c = calloc(1, sizeof *c);
  if (!c) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  c->o = o;
  atomic_init(&c->rows_read, 0);
  atomic_init(&c->bytes_read, 0);
  c->t0 = wudf_run_now();
  int64_t error_line = -1;
  st = prepare(c, &error_line, err);
  if (st == WUDF_OK) st = wudf_run_pipeline(c, &error_line, err);
  if (st == WUDF_OK) st = finish_output(c, err);
  if (o->progress) {
    wudf_run_progress p = {(int64_t)atomic_load(&c->rows_read),
                           c->rows_written,
                           (uint64_t)atomic_load(&c->bytes_read),
                           c->in_size,
                           wudf_run_now() - c->t0,
                           true};
    o->progress(o->progress_user, &p);
  }
  fill_stats(c, error_line, stats);
  cleanup(c);
  free(c);
  return st;
}
