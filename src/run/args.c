/*
 * Argument columns of a run: found by name in the CSV schema, and converted
 * for the argument when CSV inference chose a wider numeric type than the
 * parameter (see wudf_run.h). The column written out is never converted.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/error.h"
#include "run/run_internal.h"

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

static wudf_status no_column(const wudf_csv_schema *schema, const char *name,
                             const char *input, wudf_error *err) {
  char list[600];
  size_t pos = 0;
  list[0] = 0;
  for (uint32_t i = 0; i < schema->ncols && pos < sizeof list; i++) {
    int n = snprintf(list + pos, sizeof list - pos, "%s%s", i ? ", " : "",
                     schema->names[i]);
    if (n < 0) break;
    pos += (size_t)n;
  }
  return wudf_fail(err, WUDF_ERR_NOT_FOUND,
                   "%s has no column '%s' (its columns: %s)", input, name,
                   list);
}

static wudf_status find_column(const wudf_csv_schema *schema, const char *name,
                               const char *input, uint32_t *out,
                               wudf_error *err) {
  for (uint32_t i = 0; i < schema->ncols; i++)
    if (!strcmp(schema->names[i], name)) {
      *out = i;
      return WUDF_OK;
    }
  return no_column(schema, name, input, err);
}

wudf_status wudf_run_args_plan(wudf_run_args *args,
                               const wudf_csv_schema *schema,
                               const char *const *names, uint32_t n,
                               const wudf_udf_sig *sig, const char *input,
                               wudf_error *err) {
  memset(args, 0, sizeof *args);
  if (n > WUDF_MAX_UDF_PARAMS)
    return wudf_fail(err, WUDF_ERR_ARG, "%u columns given; at most %d", n,
                     WUDF_MAX_UDF_PARAMS);
  wudf_status st = WUDF_OK;
  for (uint32_t j = 0; st == WUDF_OK && j < n; j++) {
    wudf_run_arg *a = &args->arg[j];
    if (!names[j]) return wudf_fail(err, WUDF_ERR_ARG, "column %u is NULL", j);
    st = find_column(schema, names[j], input, &a->col, err);
    if (st != WUDF_OK) break;
    a->from = a->to = schema->types[a->col];
    if (j < sig->nparams) a->to = passed_type(a->from, sig->params[j]);
    st = wudf_arrow_schema_new(a->to, names[j], true, &a->schema, err);
    if (st == WUDF_OK) args->n = j + 1;
    args->schemas[j] = &a->schema;
  }
  return st;
}

void wudf_run_args_reset(wudf_run_args *args) {
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

static wudf_status convert_values(const wudf_column *c, wudf_type to,
                                  void *values, const int64_t *lines,
                                  uint32_t j, const wudf_udf_sig *sig,
                                  int64_t *bad_line, wudf_error *err) {
  for (int64_t i = 0; i < c->length; i++) {
    if (!wudf_column_valid(c, i)) continue;
    if (to == WUDF_TYPE_FLOAT32) {
      put_float(c, i, (float *)values + i);
    } else if (to == WUDF_TYPE_FLOAT64) {
      ((double *)values)[i] = value_f64(c, i);
    } else {
      int64_t v = wudf_column_int64(c, i);
      if (v < INT32_MIN || v > INT32_MAX) {
        *bad_line = lines ? lines[i] : -1;
        return wudf_fail(err, WUDF_ERR_TYPE,
                         "column '%s' holds %lld on line %lld, which does "
                         "not fit parameter %u (int32) of '%s'",
                         c->name, (long long)v, (long long)*bad_line, j + 1,
                         sig->name);
      }
      ((int32_t *)values)[i] = (int32_t)v;
    }
  }
  return WUDF_OK;
}

static void copy_validity(const wudf_column *c, uint8_t *bits) {
  for (int64_t i = 0; i < c->length; i++)
    if (wudf_column_valid(c, i)) bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static wudf_status convert(const wudf_run_arg *a, const struct ArrowArray *in,
                           const struct ArrowSchema *in_schema,
                           const int64_t *lines, uint32_t j,
                           const wudf_udf_sig *sig, struct ArrowArray *out,
                           int64_t *bad_line, wudf_error *err) {
  wudf_column c;
  wudf_status st = wudf_column_from_arrow(in, in_schema, j, &c, err);
  if (st == WUDF_OK && c.type != a->from)
    st = wudf_fail(err, WUDF_ERR_TYPE,
                   "column '%s' arrived as %s, not the %s its schema said",
                   c.name, wudf_type_str(c.type), wudf_type_str(a->from));
  if (st == WUDF_OK)
    st = wudf_arrow_new_fixed(a->to, c.length, c.validity != NULL, out, err);
  if (st != WUDF_OK) return st;
  if (c.validity) copy_validity(&c, (uint8_t *)out->buffers[0]);
  st = convert_values(&c, a->to, (void *)out->buffers[1], lines, j, sig,
                      bad_line, err);
  if (st != WUDF_OK) {
    out->release(out);
    return st;
  }
  wudf_arrow_finish_nulls(out);
  return WUDF_OK;
}

wudf_status wudf_run_args_bind(const wudf_run_args *args,
                               const wudf_csv_batch *batch,
                               const wudf_udf_sig *sig,
                               wudf_run_batch_args *out, int64_t *bad_line,
                               wudf_error *err) {
  memset(out, 0, sizeof *out);
  for (uint32_t j = 0; j < args->n; j++) {
    const wudf_run_arg *a = &args->arg[j];
    const struct ArrowArray *col = &batch->columns[a->col];
    out->cols[j] = col;
    if (a->to == a->from) continue;
    wudf_status st = convert(a, col, &batch->schemas[a->col], batch->lines, j,
                             sig, &out->owned[j], bad_line, err);
    if (st != WUDF_OK) {
      wudf_run_batch_args_reset(out);
      return st;
    }
    out->cols[j] = &out->owned[j];
  }
  return WUDF_OK;
}

void wudf_run_batch_args_reset(wudf_run_batch_args *a) {
  for (uint32_t j = 0; j < WUDF_MAX_UDF_PARAMS; j++)
    if (a->owned[j].release) a->owned[j].release(&a->owned[j]);
  memset(a, 0, sizeof *a);
}
