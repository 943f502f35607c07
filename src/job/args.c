/*
 * Argument columns of a job: found by name in the input schema, viewed as
 * slices of the input batch, and, with narrow_args, converted for the
 * argument when the column is of a wider numeric type than the parameter
 * (see wudf_job.h). The column handed on is never converted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/error.h"
#include "job/job_internal.h"

/* The type passed for a column of type `col` to a parameter of type
 * `param`: the column's own when wudf widens it, else a numeric
 * conversion, else the column's (the UDF check then refuses it). */
static wudf_type passed_type(wudf_type col, wudf_type param) {
  if (wudf_type_widens_to(col, param)) return col;
  bool int_col = col == WUDF_TYPE_INT32 || col == WUDF_TYPE_INT64;
  if (param == WUDF_TYPE_FLOAT32 && (int_col || col == WUDF_TYPE_FLOAT64))
    return param;
  if (param == WUDF_TYPE_FLOAT64 && col == WUDF_TYPE_INT64) return param;
  if (param == WUDF_TYPE_INT32 && col == WUDF_TYPE_INT64) return param;
  return col;
}

static const char *col_name(struct ArrowSchema *const *schemas, uint32_t i) {
  return schemas[i]->name ? schemas[i]->name : "";
}

static wudf_status no_column(struct ArrowSchema *const *schemas, uint32_t ncols,
                             const char *name, const char *input,
                             wudf_error *err) {
  char list[600];
  size_t pos = 0;
  list[0] = 0;
  for (uint32_t i = 0; i < ncols && pos < sizeof list; i++) {
    int n = snprintf(list + pos, sizeof list - pos, "%s%s", i ? ", " : "",
                     col_name(schemas, i));
    if (n < 0) break;
    pos += (size_t)n;
  }
  return wudf_fail(err, WUDF_ERR_NOT_FOUND,
                   "%s has no column '%s' (its columns: %s)", input, name,
                   list);
}

static wudf_status find_column(struct ArrowSchema *const *schemas,
                               uint32_t ncols, const char *name,
                               const char *input, uint32_t *out,
                               wudf_error *err) {
  for (uint32_t i = 0; i < ncols; i++)
    if (!strcmp(col_name(schemas, i), name)) {
      *out = i;
      return WUDF_OK;
    }
  return no_column(schemas, ncols, name, input, err);
}

/* The column's type; one wudf does not know is reported by the UDF check
 * (which names its Arrow format), so it passes as it is here. */
static bool column_type(const struct ArrowSchema *s, wudf_type *out) {
  return s->format && wudf_type_from_arrow_format(s->format, out);
}

static wudf_status plan_one(wudf_job_arg *a, struct ArrowSchema *const *schemas,
                            const wudf_udf_sig *sig, uint32_t j, bool narrow,
                            const char *name, wudf_error *err) {
  a->in = schemas[a->col];
  /* A type wudf does not know passes as it is: the UDF check names it. */
  if (!column_type(a->in, &a->from)) a->from = WUDF_TYPE_UTF8;
  a->to = a->from;
  if (narrow && j < sig->nparams) a->to = passed_type(a->from, sig->params[j]);
  if (a->to == a->from) return WUDF_OK;
  return wudf_arrow_schema_new(a->to, name, true, &a->schema, err);
}

wudf_status wudf_job_args_plan(wudf_job_args *args,
                               struct ArrowSchema *const *schemas,
                               uint32_t ncols, const char *const *names,
                               uint32_t n, const wudf_udf_sig *sig, bool narrow,
                               const char *input, wudf_error *err) {
  memset(args, 0, sizeof *args);
  if (n > WUDF_MAX_UDF_PARAMS)
    return wudf_fail(err, WUDF_ERR_ARG, "%u columns given; at most %d", n,
                     WUDF_MAX_UDF_PARAMS);
  for (uint32_t j = 0; j < n; j++) {
    wudf_job_arg *a = &args->arg[j];
    if (!names[j]) return wudf_fail(err, WUDF_ERR_ARG, "column %u is NULL", j);
    wudf_status st = find_column(schemas, ncols, names[j], input, &a->col, err);
    if (st == WUDF_OK) st = plan_one(a, schemas, sig, j, narrow, names[j], err);
    if (st != WUDF_OK) return st;
    args->n = j + 1;
    args->schemas[j] = a->schema.release ? &a->schema : a->in;
  }
  return WUDF_OK;
}

void wudf_job_args_reset(wudf_job_args *args) {
  for (uint32_t j = 0; j < args->n; j++)
    if (args->arg[j].schema.release)
      args->arg[j].schema.release(&args->arg[j].schema);
  memset(args, 0, sizeof *args);
}

/* Value i of a numeric column as a double (exact for int32; int64 values
 * beyond 2^53 are rounded, as C's conversion does). */
static double value_f64(const wudf_column *c, int64_t i) {
  switch (c->type) {
    case WUDF_TYPE_INT32:
      return wudf_column_int32(c, i);
    case WUDF_TYPE_INT64:
      return (double)wudf_column_int64(c, i);
    case WUDF_TYPE_FLOAT32:
      return wudf_column_float32(c, i);
    default:
      return wudf_column_float64(c, i);
  }
}

static void put_float(const wudf_column *c, int64_t i, float *out) {
  /* Rounds once from the column's exact value where there is one. */
  if (c->type == WUDF_TYPE_INT64)
    *out = (float)wudf_column_int64(c, i);
  else if (c->type == WUDF_TYPE_INT32)
    *out = (float)wudf_column_int32(c, i);
  else
    *out = (float)value_f64(c, i);
}

static wudf_status out_of_range(const wudf_column *c, int64_t i, int64_t v,
                                uint32_t j, wudf_error *err) {
  wudf_fail(err, WUDF_ERR_TYPE, "value %lld does not fit parameter %u (int32)",
            (long long)v, j + 1);
  if (err) {
    err->row = err->first_row = err->last_row = i;
    err->column = (int32_t)j;
    wudf_error_set_name(err->column_name, c->name);
  }
  return WUDF_ERR_TYPE;
}

static wudf_status convert_values(const wudf_column *c, wudf_type to,
                                  void *values, uint32_t j, wudf_error *err) {
  for (int64_t i = 0; i < c->length; i++) {
    if (!wudf_column_valid(c, i)) continue;
    if (to == WUDF_TYPE_FLOAT32) {
      put_float(c, i, (float *)values + i);
    } else if (to == WUDF_TYPE_FLOAT64) {
      ((double *)values)[i] = value_f64(c, i);
    } else {
      int64_t v = wudf_column_int64(c, i);
      if (v < INT32_MIN || v > INT32_MAX) return out_of_range(c, i, v, j, err);
      ((int32_t *)values)[i] = (int32_t)v;
    }
  }
  return WUDF_OK;
}

static void copy_validity(const wudf_column *c, uint8_t *bits) {
  for (int64_t i = 0; i < c->length; i++)
    if (wudf_column_valid(c, i)) bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static wudf_status convert(const wudf_job_arg *a, const struct ArrowArray *in,
                           uint32_t j, struct ArrowArray *out,
                           wudf_error *err) {
  wudf_column c;
  wudf_status st = wudf_column_from_arrow(in, a->in, j, &c, err);
  if (st != WUDF_OK) return st;
  st = wudf_arrow_new_fixed(a->to, c.length, c.validity != NULL, out, err);
  if (st != WUDF_OK) return st;
  if (c.validity) copy_validity(&c, (uint8_t *)out->buffers[0]);
  st = convert_values(&c, a->to, (void *)out->buffers[1], j, err);
  if (st != WUDF_OK) {
    out->release(out);
    return st;
  }
  wudf_arrow_finish_nulls(out);
  return WUDF_OK;
}

/* A view owns nothing: releasing it only marks it released. */
static void release_view(struct ArrowArray *a) {
  a->release = NULL;
}

/* Rows [from, from + n) of `col`, sharing its buffers. */
static void view_of(const struct ArrowArray *col, int64_t from, int64_t n,
                    struct ArrowArray *out) {
  *out = *col;
  out->offset = col->offset + from;
  out->length = n;
  if (col->null_count != 0 && (from != 0 || n != col->length))
    out->null_count = -1;
  out->release = release_view;
  out->private_data = NULL;
}

wudf_status wudf_job_args_bind(const wudf_job_args *args,
                               const struct ArrowArray *input,
                               const struct ArrowSchema *input_schema,
                               int64_t from, int64_t n, wudf_job_call_args *out,
                               wudf_error *err) {
  (void)input_schema;
  memset(out, 0, sizeof *out);
  for (uint32_t j = 0; j < args->n; j++) {
    const wudf_job_arg *a = &args->arg[j];
    view_of(input->children[a->col], from, n, &out->view[j]);
    out->cols[j] = &out->view[j];
    if (a->to == a->from) continue;
    wudf_status st = convert(a, &out->view[j], j, &out->owned[j], err);
    if (st != WUDF_OK) {
      wudf_job_call_args_reset(out);
      return st;
    }
    out->cols[j] = &out->owned[j];
  }
  return WUDF_OK;
}

void wudf_job_call_args_reset(wudf_job_call_args *a) {
  for (uint32_t j = 0; j < WUDF_MAX_UDF_PARAMS; j++)
    if (a->owned[j].release) a->owned[j].release(&a->owned[j]);
  memset(a, 0, sizeof *a);
}
