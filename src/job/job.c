/*
 * Creating a job: everything that can be checked is checked before a batch
 * is read (options, the input's schema, the argument columns, the UDF, the
 * result), and the accessors of a job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "job/job_internal.h"

void wudf_job_options_init(wudf_job_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->op = WUDF_JOB_MAP;
  o->on_error = WUDF_ON_ERROR_FAIL;
  o->limit = -1;
}

static const char *const k_policies[] = {"fail", "null", "skip"};

const char *wudf_on_error_str(wudf_on_error policy) {
  return (unsigned)policy <= WUDF_ON_ERROR_SKIP ? k_policies[policy] : "?";
}

bool wudf_on_error_parse(const char *text, wudf_on_error *out) {
  for (int i = 0; text && out && i <= WUDF_ON_ERROR_SKIP; i++)
    if (!strcmp(text, k_policies[i])) {
      *out = (wudf_on_error)i;
      return true;
    }
  return false;
}

/* ---- Checks ------------------------------------------------------------- */

static wudf_status check_options(const wudf_job_options *o, wudf_error *err) {
  if (!o->module || !o->function)
    return wudf_fail(err, WUDF_ERR_ARG, "module or function is NULL");
  if (!o->ncolumns || !o->columns)
    return wudf_fail(err, WUDF_ERR_ARG, "no argument columns given for '%s'",
                     o->function);
  if (o->op != WUDF_JOB_MAP && o->op != WUDF_JOB_FILTER)
    return wudf_fail(err, WUDF_ERR_ARG, "unknown operation %d", (int)o->op);
  if ((unsigned)o->on_error > (unsigned)WUDF_ON_ERROR_SKIP)
    return wudf_fail(err, WUDF_ERR_ARG, "unknown on_error policy %d",
                     (int)o->on_error);
  if (o->batch_rows < 0 || o->threads > WUDF_JOB_MAX_THREADS)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "batch_rows must be >= 0 and threads at most %d",
                     WUDF_JOB_MAX_THREADS);
  if (o->result_name && !*o->result_name)
    return wudf_fail(err, WUDF_ERR_ARG, "the result column name is empty");
  return WUDF_OK;
}

static wudf_status read_schema(wudf_job *job, wudf_error *err) {
  struct ArrowArrayStream *in = &job->input;
  int rc = in->get_schema(in, &job->schema);
  if (rc != 0) {
    const char *why = in->get_last_error ? in->get_last_error(in) : NULL;
    job->schema.release = NULL;
    return wudf_fail(err, WUDF_ERR_IO, "reading the schema of %s: %s",
                     job->input_name, why ? why : strerror(rc));
  }
  if (!job->schema.format || strcmp(job->schema.format, "+s") != 0 ||
      job->schema.n_children < 0 || job->schema.n_children > UINT32_MAX)
    return wudf_fail(
        err, WUDF_ERR_TYPE, "%s is not a stream of struct arrays (format '%s')",
        job->input_name, job->schema.format ? job->schema.format : "");
  job->ncols = (uint32_t)job->schema.n_children;
  return WUDF_OK;
}

static int32_t column_index(const wudf_job *job, const char *name) {
  for (uint32_t i = 0; i < job->ncols; i++) {
    const char *n = job->schema.children[i]->name;
    if (n && !strcmp(n, name)) return (int32_t)i;
  }
  return -1;
}

static wudf_status find_line_column(wudf_job *job, wudf_error *err) {
  job->line_col = -1;
  const char *name = job->o.line_column;
  if (!name) return WUDF_OK;
  job->line_col = column_index(job, name);
  if (job->line_col < 0)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND, "%s has no line column '%s'",
                     job->input_name, name);
  const char *f = job->schema.children[job->line_col]->format;
  if (!f || strcmp(f, "l") != 0)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "the line column '%s' of %s is '%s', not int64", name,
                     job->input_name, f ? f : "");
  return WUDF_OK;
}

static wudf_status find_udf(wudf_job *job, wudf_error *err) {
  const wudf_job_options *o = &job->o;
  int64_t k = wudf_module_find_udf(o->module, o->function);
  if (k < 0)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND,
                     "the module declares no UDF '%s' (see its wudf.udfs "
                     "section, or declare the signature when loading it)",
                     o->function);
  wudf_module_udf(o->module, (uint32_t)k, &job->sig);
  return WUDF_OK;
}

static wudf_status check_args(wudf_job *job, wudf_error *err) {
  const wudf_job_options *o = &job->o;
  wudf_status st = wudf_job_args_plan(
      &job->args, job->schema.children, job->ncols, o->columns, o->ncolumns,
      &job->sig, o->narrow_args, job->input_name, err);
  if (st == WUDF_OK)
    st = wudf_module_check_udf(o->module, o->function, job->args.schemas,
                               job->args.n, err);
  return st;
}

static wudf_status check_result(wudf_job *job, wudf_error *err) {
  const wudf_job_options *o = &job->o;
  char text[512];
  wudf_udf_sig_format(&job->sig, text, sizeof text);
  wudf_type r = job->sig.result;
  if (o->op == WUDF_JOB_FILTER && r != WUDF_TYPE_BOOL && r != WUDF_TYPE_INT32)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "FILTER needs a UDF returning bool or int32; '%s' "
                     "returns %s (%s)",
                     job->sig.name, wudf_type_str(r), text);
  if (o->op == WUDF_JOB_MAP && o->declared_result && o->result_type != r)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "the declared result type is %s, but '%s' returns %s "
                     "(%s)",
                     wudf_type_str(o->result_type), job->sig.name,
                     wudf_type_str(r), text);
  return WUDF_OK;
}

static wudf_status check_result_name(wudf_job *job, wudf_error *err) {
  const wudf_job_options *o = &job->o;
  if (o->op != WUDF_JOB_MAP) return WUDF_OK;
  if (o->result_name)
    snprintf(job->result_name, sizeof job->result_name, "%s", o->result_name);
  else
    snprintf(job->result_name, sizeof job->result_name, "%s_RESULT",
             job->sig.name);
  int32_t i = column_index(job, job->result_name);
  if (i >= 0 && i != job->line_col)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s already has a column '%s'; give the result "
                     "another name",
                     job->input_name, job->result_name);
  return wudf_arrow_schema_new(job->sig.result, job->result_name, true,
                               &job->result_schema, err);
}

static wudf_status plan_output(wudf_job *job, wudf_error *err) {
  job->out_cols =
      wudf_calloc(job->ncols ? job->ncols : 1, sizeof *job->out_cols);
  if (!job->out_cols) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < job->ncols; i++)
    if ((int32_t)i != job->line_col) job->out_cols[job->nout++] = i;
  return WUDF_OK;
}

static wudf_status make_controls(wudf_job *job, wudf_error *err) {
  const wudf_job_options *o = &job->o;
  wudf_status st = wudf_cancel_new(&job->cancel, err);
  if (st == WUDF_OK && o->host_memory_bytes)
    st = wudf_budget_new(o->host_memory_bytes, &job->budget, err);
  if (o->instance_config)
    job->icfg = *o->instance_config;
  else
    wudf_instance_config_init(o->module->engine, &job->icfg);
  job->icfg.budget = job->budget;
  job->batch_rows = o->batch_rows ? o->batch_rows : WUDF_JOB_DEFAULT_BATCH;
  job->max_row_errors =
      o->max_row_errors ? o->max_row_errors : WUDF_JOB_DEFAULT_ROW_ERRORS;
  return st;
}

static wudf_status prepare(wudf_job *job, wudf_error *err) {
  wudf_status st = read_schema(job, err);
  if (st == WUDF_OK) st = find_line_column(job, err);
  if (st == WUDF_OK) st = find_udf(job, err);
  if (st == WUDF_OK) st = check_args(job, err);
  if (st == WUDF_OK) st = check_result(job, err);
  if (st == WUDF_OK) st = check_result_name(job, err);
  if (st == WUDF_OK) st = plan_output(job, err);
  if (st == WUDF_OK) st = make_controls(job, err);
  return st;
}

/* ---- Lifetime ----------------------------------------------------------- */

static wudf_job *job_alloc(const wudf_job_options *o,
                           struct ArrowArrayStream *input) {
  wudf_job *job = wudf_calloc(1, sizeof *job);
  if (!job) return NULL;
  job->o = *o;
  job->input = *input;
  input->release = NULL; /* moved */
  snprintf(job->input_name, sizeof job->input_name, "%s",
           o->input_name ? o->input_name : "the input");
  atomic_init(&job->state, JOB_NEW);
  atomic_init(&job->cancelled, 0);
  atomic_init(&job->rows_in, 0);
  atomic_init(&job->rows_out, 0);
  atomic_init(&job->batches, 0);
  atomic_init(&job->row_errors, 0);
  job->end_seq = -1;
  wudf_error_init(&job->err);
  return job;
}

wudf_status wudf_job_new(const wudf_job_options *options,
                         struct ArrowArrayStream *input, wudf_job **out,
                         wudf_error *err) {
  if (out) *out = NULL;
  if (!options || !input || !input->release || !out) {
    if (input && input->release) input->release(input);
    return wudf_fail(err, WUDF_ERR_ARG,
                     "options, input or out is NULL (or the input released)");
  }
  wudf_status st = check_options(options, err);
  if (st != WUDF_OK) {
    input->release(input);
    return st;
  }
  wudf_job *job = job_alloc(options, input);
  if (!job) {
    input->release(input);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  st = prepare(job, err);
  if (st != WUDF_OK) {
    wudf_job_free(job);
    return st;
  }
  *out = job;
  return WUDF_OK;
}

void wudf_job_free(wudf_job *job) {
  if (!job) return;
  wudf_job_cancel(job);
  wudf_job_stop(job);
  if (job->pending_out.release) job->pending_out.release(&job->pending_out);
  wudf_job_args_reset(&job->args);
  if (job->result_schema.release)
    job->result_schema.release(&job->result_schema);
  if (job->schema.release) job->schema.release(&job->schema);
  if (job->input.release) job->input.release(&job->input);
  wudf_free(job->out_cols);
  wudf_free(job->row_error_list);
  wudf_cancel_free(job->cancel);
  wudf_budget_free(job->budget);
  wudf_free(job);
}

/* ---- Accessors ---------------------------------------------------------- */

static wudf_status copy_schema(const struct ArrowSchema *s, const char *name,
                               struct ArrowSchema *out, wudf_error *err) {
  wudf_type t;
  if (!s->format || !wudf_type_from_arrow_format(s->format, &t))
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "column '%s' has Arrow type '%s', which wudf cannot copy",
                     name ? name : "", s->format ? s->format : "");
  return wudf_arrow_schema_new(wudf_job_copy_type(t), name, true, out, err);
}

static void release_struct_schema(struct ArrowSchema *s) {
  for (int64_t i = 0; i < s->n_children; i++)
    if (s->children[i]->release) s->children[i]->release(s->children[i]);
  wudf_free(s->children ? s->children[0] : NULL);
  wudf_free(s->children);
  s->release = NULL;
}

wudf_status wudf_job_output_schema(const wudf_job *job, struct ArrowSchema *out,
                                   wudf_error *err) {
  if (!job || !out) return wudf_fail(err, WUDF_ERR_ARG, "job or out is NULL");
  memset(out, 0, sizeof *out);
  uint32_t n = job->nout + (job->o.op == WUDF_JOB_MAP);
  struct ArrowSchema *kids = wudf_calloc(n ? n : 1, sizeof *kids);
  struct ArrowSchema **ptrs = wudf_calloc(n ? n : 1, sizeof *ptrs);
  if (!kids || !ptrs) {
    wudf_free(kids);
    wudf_free(ptrs);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  ptrs[0] = kids;
  for (uint32_t i = 0; i < n; i++) ptrs[i] = &kids[i];
  out->format = "+s";
  out->name = "";
  out->n_children = n;
  out->children = ptrs;
  out->release = release_struct_schema;
  wudf_status st = WUDF_OK;
  for (uint32_t i = 0; st == WUDF_OK && i < job->nout; i++) {
    const struct ArrowSchema *c = job->schema.children[job->out_cols[i]];
    st = copy_schema(c, c->name, &kids[i], err);
  }
  if (st == WUDF_OK && n > job->nout)
    st = wudf_arrow_schema_new(job->sig.result, job->result_name, true,
                               &kids[job->nout], err);
  if (st != WUDF_OK) out->release(out);
  return st;
}

void wudf_job_error(const wudf_job *job, wudf_error *err) {
  if (!err) return;
  if (!job) {
    wudf_error_init(err);
    return;
  }
  *err = job->err;
  err->status = job->status;
}

void wudf_job_cancel(wudf_job *job) {
  if (!job || atomic_load(&job->state) == JOB_ENDED) return;
  atomic_store(&job->cancelled, 1);
  wudf_cancel_trigger(job->cancel);
}

void wudf_job_get_progress(const wudf_job *job, wudf_job_progress *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (!job) return;
  wudf_job *j = (wudf_job *)job; /* atomics are read-only here */
  out->rows_in = atomic_load(&j->rows_in);
  out->rows_out = atomic_load(&j->rows_out);
  out->batches = atomic_load(&j->batches);
  out->row_errors = atomic_load(&j->row_errors);
  out->host_bytes_peak = job->budget ? wudf_budget_peak(job->budget) : 0;
  int state = atomic_load(&j->state);
  out->seconds = state == JOB_NEW ? 0 : wudf_job_now() - job->t0;
  out->done = state == JOB_ENDED;
}

int64_t wudf_job_row_error_total(const wudf_job *job) {
  return job ? job->row_error_total : 0;
}

uint32_t wudf_job_row_error_count(const wudf_job *job) {
  return job ? job->nrow_error_list : 0;
}

wudf_status wudf_job_row_error(const wudf_job *job, uint32_t index,
                               wudf_row_error *out) {
  if (!job || !out || index >= job->nrow_error_list) return WUDF_ERR_ARG;
  *out = job->row_error_list[index];
  return WUDF_OK;
}
