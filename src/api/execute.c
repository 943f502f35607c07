/*
 * The executor: MAP and FILTER over Arrow columns on an instance, one
 * guarded call per chunk into the UDF's generated batch loop
 * (translate/shim_gen.c), which reads numeric and utf8 columns straight
 * from the caller's buffers. Host memory it allocates (combined validity,
 * widened columns, string conversions, results) is charged to the
 * instance's budget. Its errors fill the structured fields of wudf_error
 * (module, udf, rows, column) and wudf_error_format() writes the message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/execute.h"
#include "common/alloc.h"
#include "common/budget.h"
#include "common/error.h"

/* A batch is run in chunks (each one guarded call): bounded rows, so the
 * time limit applies per chunk, and bounded string bytes, so a large batch
 * of strings never needs more guest memory than one chunk's. Chunks start
 * at multiples of 8 rows so that bitmaps can be addressed by byte. */
#define CHUNK_ROWS 65536
#define CHUNK_STRING_BYTES (32 << 20)

typedef struct batch_ctx {
  wudf_instance *inst;
  const wudf_module *m;
  const wudf_udf_sig *sig;
  uint32_t k; /* UDF index */
  int64_t n;
  wudf_column cols[WUDF_MAX_UDF_PARAMS];
  wudf_shim_batch b;
  const void *values0[WUDF_MAX_UDF_PARAMS];  /* row 0 of each parameter */
  int64_t start;                             /* first row of the chunk */
  bool strings;                              /* strings cross the boundary */
  uint8_t *valid;                            /* owned: combined validity */
  void *widened[WUDF_MAX_UDF_PARAMS];        /* owned: widened columns */
  wudf_string_arg args[WUDF_MAX_UDF_PARAMS]; /* string arguments */
  wudf_budget *budget;                       /* the instance's; may be NULL */
  uint64_t valid_charge, widened_charge[WUDF_MAX_UDF_PARAMS];
  struct ArrowArray out;           /* fixed-width or bool result */
  wudf_string_results strings_out; /* utf8 result */
  wasm_rt_memory_t *mem;
  bool track_rows; /* every chunk stores its row index (keep_state_on_trap) */
  volatile int in_loop; /* the chunk's batch loop has started */
} batch_ctx;

static size_t type_size(wudf_type t) {
  switch (t) {
    case WUDF_TYPE_INT64:
    case WUDF_TYPE_FLOAT64:
      return 8;
    default:
      return 4;
  }
}

/* Names where an error happened (wudf_fail() left the location empty):
 * the module, the UDF (NULL: none), the column (-1: none; `column_name`
 * NULL when the detail names it already), then rebuilds the message. */
static wudf_status locate(wudf_error *err, const wudf_module *m,
                          const char *udf, int32_t column,
                          const char *column_name) {
  if (!err) return WUDF_OK;
  wudf_error_set_name(err->module, m->name);
  wudf_error_set_name(err->udf, udf);
  err->column = column;
  wudf_error_set_name(err->column_name, column_name);
  wudf_error_format(err);
  return err->status;
}

static int64_t find_udf(const wudf_module *m, const char *udf,
                        wudf_error *err) {
  int64_t k = wudf_module_find_udf(m, udf);
  if (k < 0) {
    wudf_fail(err, WUDF_ERR_NOT_FOUND,
              "no UDF '%s' (the module declares %u; see wudf.udfs or "
              "wudf_load_options.udfs)",
              udf ? udf : "(null)", m->nudfs);
    locate(err, m, NULL, -1, NULL);
  }
  return k;
}

static wudf_status check_column_type(const wudf_module *m,
                                     const wudf_udf_sig *sig, uint32_t j,
                                     wudf_type col, const char *col_name,
                                     wudf_error *err) {
  if (wudf_type_widens_to(col, sig->params[j])) return WUDF_OK;
  char text[512];
  wudf_udf_sig_format(sig, text, sizeof text);
  wudf_fail(err, WUDF_ERR_TYPE,
            "a %s column cannot be passed to parameter %u (%s) of %s",
            wudf_type_str(col), j + 1, wudf_type_str(sig->params[j]), text);
  return locate(err, m, sig->name, (int32_t)j, col_name);
}

static wudf_status check_count(const wudf_module *m, const wudf_udf_sig *sig,
                               uint32_t ncols, wudf_error *err) {
  if (ncols == sig->nparams) return WUDF_OK;
  char text[512];
  wudf_udf_sig_format(sig, text, sizeof text);
  wudf_fail(err, WUDF_ERR_TYPE, "%u column%s given for %s", ncols,
            ncols == 1 ? "" : "s", text);
  return locate(err, m, sig->name, -1, NULL);
}

wudf_status wudf_module_check_udf(const wudf_module *m, const char *udf,
                                  const struct ArrowSchema *const *schemas,
                                  uint32_t ncols, wudf_error *err) {
  if (!m || (ncols && !schemas))
    return wudf_fail(err, WUDF_ERR_ARG, "module or schemas is NULL");
  int64_t k = find_udf(m, udf, err);
  if (k < 0) return WUDF_ERR_NOT_FOUND;
  const wudf_udf_sig *sig = &m->udfs[k];
  wudf_status st = check_count(m, sig, ncols, err);
  for (uint32_t j = 0; st == WUDF_OK && j < ncols; j++) {
    const struct ArrowSchema *s = schemas[j];
    char name[64];
    if (s && s->name && *s->name)
      snprintf(name, sizeof name, "%s", s->name);
    else
      snprintf(name, sizeof name, "column %u", j + 1);
    wudf_type t;
    if (!s || !s->format || !wudf_type_from_arrow_format(s->format, &t)) {
      wudf_fail(err, WUDF_ERR_TYPE,
                "Arrow type '%.32s' is not supported by wudf",
                s && s->format ? s->format : "(none)");
      return locate(err, m, sig->name, (int32_t)j, name);
    }
    st = check_column_type(m, sig, j, t, name, err);
  }
  return st;
}

/* --- preparing a batch --------------------------------------------------- */

static wudf_status read_columns(batch_ctx *c,
                                const struct ArrowArray *const *columns,
                                const struct ArrowSchema *const *schemas,
                                uint32_t ncols, wudf_error *err) {
  wudf_status st = check_count(c->m, c->sig, ncols, err);
  for (uint32_t j = 0; st == WUDF_OK && j < ncols; j++) {
    const wudf_column *col = &c->cols[j];
    st = wudf_column_from_arrow(columns[j], schemas ? schemas[j] : NULL, j,
                                &c->cols[j], err);
    if (st != WUDF_OK) /* the detail names the column */
      return locate(err, c->m, c->sig->name, (int32_t)j, NULL);
    st = check_column_type(c->m, c->sig, j, col->type, col->name, err);
    if (st == WUDF_OK && j > 0 && col->length != c->cols[0].length) {
      wudf_fail(err, WUDF_ERR_ARG, "%lld rows, but column '%s' has %lld",
                (long long)col->length, c->cols[0].name,
                (long long)c->cols[0].length);
      st = locate(err, c->m, c->sig->name, (int32_t)j, col->name);
    }
  }
  c->n = ncols ? c->cols[0].length : 0;
  return st;
}

/* Allocates `bytes` charged to the budget; NULL with err filled. */
static void *alloc_charged(batch_ctx *c, size_t bytes, const char *what,
                           wudf_error *err) {
  if (wudf_budget_charge_or_fail(c->budget, bytes, what, err) != WUDF_OK)
    return NULL;
  void *p = wudf_malloc(bytes ? bytes : 1);
  if (!p) {
    wudf_budget_credit(c->budget, bytes);
    wudf_fail(err, WUDF_ERR_NOMEM, "%s: out of memory for %zu bytes", what,
              bytes);
  }
  return p;
}

/* Strict UDFs: bit i set when no argument of row i is NULL. */
static wudf_status combine_validity(batch_ctx *c, wudf_error *err) {
  bool any = false;
  for (uint32_t j = 0; j < c->sig->nparams; j++) any |= !!c->cols[j].validity;
  if (!any || c->sig->sees_nulls) return WUDF_OK;
  size_t bytes = (size_t)((c->n + 7) / 8);
  c->valid = alloc_charged(c, bytes, "the batch's validity bitmap", err);
  if (!c->valid) return err ? err->status : WUDF_ERR_NOMEM;
  c->valid_charge = bytes;
  memset(c->valid, 0, bytes);
  for (int64_t i = 0; i < c->n; i++) {
    bool ok = true;
    for (uint32_t j = 0; ok && j < c->sig->nparams; j++)
      ok = wudf_column_valid(&c->cols[j], i);
    if (ok) c->valid[i >> 3] |= (uint8_t)(1u << (i & 7));
  }
  c->b.valid = c->valid;
  return WUDF_OK;
}

/* A copy of column j widened to the parameter's type. */
static wudf_status widen(batch_ctx *c, uint32_t j, wudf_error *err) {
  const wudf_column *col = &c->cols[j];
  wudf_type want = c->sig->params[j];
  if ((uint64_t)c->n > SIZE_MAX / type_size(want))
    return wudf_fail(err, WUDF_ERR_NOMEM, "%lld rows are too many",
                     (long long)c->n);
  size_t bytes = (size_t)c->n * type_size(want);
  void *w = alloc_charged(c, bytes, "widening a column", err);
  if (!w) return err ? err->status : WUDF_ERR_NOMEM;
  c->widened[j] = w;
  c->widened_charge[j] = bytes;
  for (int64_t i = 0; i < c->n; i++) {
    int64_t at = col->offset + i;
    if (col->type == WUDF_TYPE_INT32 && want == WUDF_TYPE_INT64)
      ((int64_t *)w)[i] = ((const int32_t *)col->values)[at];
    else if (col->type == WUDF_TYPE_INT32)
      ((double *)w)[i] = ((const int32_t *)col->values)[at];
    else
      ((double *)w)[i] = ((const float *)col->values)[at];
  }
  c->values0[j] = w;
  return WUDF_OK;
}

/* A column of the parameter's type: the caller's buffer, or a widened copy.
 * String columns are bound chunk by chunk (select_chunk()). */
static wudf_status bind_values(batch_ctx *c, uint32_t j, wudf_error *err) {
  const wudf_column *col = &c->cols[j];
  wudf_type want = c->sig->params[j];
  if (want == WUDF_TYPE_BOOL) {
    c->values0[j] = col->values;
    return WUDF_OK;
  }
  if (want == WUDF_TYPE_UTF8) {
    c->args[j].budget = c->budget;
    return WUDF_OK;
  }
  if (col->type == want) {
    c->values0[j] =
        (const char *)col->values + col->offset * (int64_t)type_size(want);
    return WUDF_OK;
  }
  return widen(c, j, err);
}

static uint64_t put_string(wudf_shim_batch *b, int64_t row, uint32_t ptr,
                           uint32_t len, uint64_t end);

/* Bytes the string arguments of the batch hold: a guess at the results'. */
static uint64_t string_bytes_in(const batch_ctx *c) {
  uint64_t total = 0;
  for (uint32_t j = 0; j < c->sig->nparams; j++)
    if (c->sig->params[j] == WUDF_TYPE_UTF8)
      total += wudf_string_arg_bytes(&c->cols[j], 0, c->n);
  return total ? total : (uint64_t)c->n * 16;
}

/* The fixed-width or bool result, its values charged to the budget. */
static wudf_status new_result(batch_ctx *c, wudf_error *err) {
  wudf_type t = c->sig->result;
  uint64_t bytes = t == WUDF_TYPE_BOOL ? (uint64_t)(c->n + 7) / 8
                                       : (uint64_t)c->n * type_size(t);
  wudf_status st =
      wudf_budget_charge_or_fail(c->budget, bytes, "the batch's result", err);
  if (st != WUDF_OK) return st;
  st = wudf_arrow_new_values(t, c->n, NULL, &c->out, err);
  if (st != WUDF_OK) {
    wudf_budget_credit(c->budget, bytes);
    return st;
  }
  wudf_arrow_hold_charge(&c->out, 1, c->budget, bytes);
  return WUDF_OK;
}

static wudf_status bind(batch_ctx *c, wudf_error *err) {
  wudf_status st = combine_validity(c, err);
  c->strings = c->sig->result == WUDF_TYPE_UTF8;
  for (uint32_t j = 0; st == WUDF_OK && j < c->sig->nparams; j++) {
    st = bind_values(c, j, err);
    c->strings |= c->sig->params[j] == WUDF_TYPE_UTF8;
    if (c->sig->sees_nulls) c->b.param_valid[j] = c->cols[j].validity;
  }
  if (st != WUDF_OK) return st;
  c->b.host = c;
  c->b.put_string = put_string;
  c->b.row = -1;
  if (c->sig->result == WUDF_TYPE_UTF8)
    return wudf_string_results_init(&c->strings_out, c->n, string_bytes_in(c),
                                    c->budget, err);
  return new_result(c, err);
}

/* Rows in the chunk starting at c->start. */
static int64_t chunk_rows(const batch_ctx *c) {
  int64_t rows = c->n - c->start < CHUNK_ROWS ? c->n - c->start : CHUNK_ROWS;
  for (uint32_t j = 0; j < c->sig->nparams; j++) {
    if (c->sig->params[j] != WUDF_TYPE_UTF8) continue;
    const wudf_column *col = &c->cols[j];
    while (rows > 8 && wudf_string_arg_bytes(col, c->start, c->start + rows) >
                           CHUNK_STRING_BYTES)
      rows = (rows / 2 + 7) & ~(int64_t)7;
  }
  return rows;
}

/* Points the batch at the rows [start, start + rows); string arguments
 * that are not utf8 are converted (only this chunk's rows). */
static wudf_status select_chunk(batch_ctx *c, int64_t rows, wudf_error *err) {
  int64_t s = c->start;
  c->b.n = rows;
  c->b.row = -1;
  c->b.valid = c->valid ? c->valid + s / 8 : NULL;
  for (uint32_t j = 0; j < c->sig->nparams; j++) {
    wudf_type t = c->sig->params[j];
    if (t == WUDF_TYPE_BOOL) {
      c->b.values[j] = c->values0[j];
      c->b.bit_offset[j] = c->cols[j].offset + s;
    } else if (t == WUDF_TYPE_UTF8) {
      wudf_status st =
          wudf_string_arg_select(&c->args[j], &c->cols[j], s, rows, err);
      if (st != WUDF_OK)
        return locate(err, c->m, c->sig->name, (int32_t)j, c->cols[j].name);
      c->b.values[j] = c->args[j].offsets;
    } else {
      c->b.values[j] = (const char *)c->values0[j] + s * (int64_t)type_size(t);
    }
    c->b.param_valid_offset[j] = c->cols[j].offset + s;
  }
  if (c->sig->result == WUDF_TYPE_UTF8) {
    c->b.mem = c->mem;
    c->b.str_offsets = c->strings_out.offsets + s;
    c->b.str_data = c->strings_out.data;
    c->b.str_cap = c->strings_out.cap;
    return WUDF_OK;
  }
  void *out0 = (void *)c->out.buffers[1];
  if (c->sig->result == WUDF_TYPE_BOOL)
    c->b.out = (uint8_t *)out0 + s / 8;
  else
    c->b.out = (char *)out0 + s * (int64_t)type_size(c->sig->result);
  return WUDF_OK;
}

static void batch_reset(batch_ctx *c) {
  wudf_free(c->valid);
  wudf_budget_credit(c->budget, c->valid_charge);
  for (uint32_t j = 0; j < WUDF_MAX_UDF_PARAMS; j++) {
    wudf_free(c->widened[j]);
    wudf_budget_credit(c->budget, c->widened_charge[j]);
    wudf_string_arg_reset(&c->args[j]);
  }
  if (c->out.release) c->out.release(&c->out);
  wudf_string_results_reset(&c->strings_out);
}

/* --- inside the guarded call --------------------------------------------- */

static uint32_t call_alloc(batch_ctx *c, uint32_t size) {
  const wudf_shim_export *x = &c->m->desc->exports[c->m->alloc_export];
  wudf_shim_val a, r;
  a.i32 = size;
  x->invoke(c->inst->storage, &a, &r);
  return r.i32;
}

/* Copies one string column's bytes for this batch into guest memory. */
static void copy_strings(batch_ctx *c, uint32_t j) {
  const int32_t *offs = c->b.values[j];
  int64_t first = offs[0], total = offs[c->b.n] - offs[0];
  if (total > UINT32_MAX)
    wudf_rt_trap_detail(WUDF_TRAP_MEMORY_LIMIT,
                        "column '%s' holds %lld bytes of strings in this "
                        "batch, more than a 32-bit memory",
                        c->cols[j].name, (long long)total);
  uint32_t ptr = call_alloc(c, (uint32_t)total);
  if (!ptr && total)
    wudf_rt_trap_detail(WUDF_TRAP_MEMORY_LIMIT,
                        "wudf_alloc(%lld) returned 0 for column '%s'",
                        (long long)total, c->cols[j].name);
  if ((uint64_t)ptr + (uint64_t)total > c->mem->size)
    wudf_rt_trap_detail(WUDF_TRAP_OOB,
                        "wudf_alloc(%lld) returned address %u, outside the "
                        "module's memory",
                        (long long)total, ptr);
  memcpy(c->mem->data + ptr, c->args[j].data + first, (size_t)total);
  c->b.str_base[j] = ptr - (uint32_t)first;
}

static void batch_body(void *arg) {
  batch_ctx *c = arg;
  const wudf_module *m = c->m;
  if (c->strings && m->reset_export != UINT32_MAX)
    m->desc->exports[m->reset_export].invoke(c->inst->storage, NULL, NULL);
  for (uint32_t j = 0; j < c->sig->nparams; j++)
    if (c->sig->params[j] == WUDF_TYPE_UTF8) copy_strings(c, j);
  c->in_loop = 1;
  m->desc->udfs[c->k].batch(c->inst->storage, &c->b);
}

/* Called by the batch loop for a string result that lies outside memory or
 * does not fit in the buffer: traps, naming the row (run_chunk() then
 * reports an invalid string in an earlier row instead), or stores it and
 * returns the new end. */
static uint64_t put_string(wudf_shim_batch *b, int64_t chunk_row, uint32_t ptr,
                           uint32_t len, uint64_t end) {
  batch_ctx *c = b->host;
  wudf_string_results *r = &c->strings_out;
  b->row = chunk_row;
  if ((uint64_t)ptr + len > c->mem->size)
    wudf_rt_trap_detail(WUDF_TRAP_OOB,
                        "the string result (%u bytes at address %u) lies "
                        "outside the module's memory",
                        len, ptr);
  wudf_rt_host_enter();
  wudf_status st = wudf_string_results_reserve(r, end + len);
  wudf_rt_host_leave();
  if (st == WUDF_ERR_LIMIT)
    wudf_rt_trap_detail(st,
                        "the string results of this batch pass 2 GiB, the "
                        "most one Arrow utf8 array holds");
  if (st == WUDF_ERR_HOST_MEMORY)
    wudf_rt_trap_detail(st,
                        "the string results of this batch need %llu bytes of "
                        "host memory, past the budget of %llu (%llu in use)",
                        (unsigned long long)(end + len),
                        (unsigned long long)wudf_budget_limit(c->budget),
                        (unsigned long long)wudf_budget_used(c->budget));
  if (st != WUDF_OK)
    wudf_rt_trap_detail(st, "storing the string result of %u bytes", len);
  memcpy(r->data + end, c->mem->data + ptr, len);
  b->str_data = r->data;
  b->str_cap = r->cap;
  if (!b->track_rows) b->row = -1;
  return end + len;
}

/* --- results ------------------------------------------------------------- */

static wudf_status finish(batch_ctx *c, struct ArrowArray *out,
                          wudf_error *err) {
  uint8_t *valid = c->valid;
  uint64_t charge = c->valid_charge;
  c->valid = NULL; /* moved into the result, with its charge */
  c->valid_charge = 0;
  if (c->sig->result == WUDF_TYPE_UTF8)
    return wudf_string_results_finish(&c->strings_out, valid, charge, out, err);
  wudf_arrow_set_validity(&c->out, valid);
  if (valid) wudf_arrow_hold_charge(&c->out, 0, c->budget, charge);
  wudf_arrow_finish_nulls(&c->out);
  *out = c->out;
  c->out.release = NULL; /* moved */
  return WUDF_OK;
}

/* The one place a failed guarded call of the executor becomes an error:
 * the outcome's status and detail, the module, the UDF and the rows. A
 * trap's position in the guest (err->wasm_function, source_file,
 * source_line) comes from the runtime's record of where it stopped. */
static wudf_status report_trap(const batch_ctx *c, const wudf_rt_outcome *o,
                               const char *doing, int64_t row, int64_t first,
                               int64_t last, wudf_error *err) {
  if (!err) return o->status;
  char extra[200] = "";
  if (o->detail[0])
    snprintf(extra, sizeof extra, " (%s)", o->detail);
  else if (o->grow_refused)
    snprintf(extra, sizeof extra,
             " (memory.grow was refused earlier at the %llu MiB limit)",
             (unsigned long long)(c->inst->config.limits.memory_bytes >> 20));
  if (o->status == WUDF_TRAP_EXIT)
    wudf_fail(err, o->status, "%sexited with code %d", doing, o->exit_code);
  else
    wudf_fail(err, o->status, "%s%s%s", doing, wudf_status_str(o->status),
              extra);
  err->exit_code = o->status == WUDF_TRAP_EXIT ? o->exit_code : 0;
  err->row = row;
  err->first_row = first;
  err->last_row = last;
  wudf_locate_trap(c->m, err);
  return locate(err, c->m, c->sig->name, -1, NULL);
}

/* Fills err for a chunk that failed: on row 7, on rows 0 to 65535 when
 * only the chunk is known, or while preparing the chunk (copying its
 * strings in) before the loop started. */
static wudf_status fail_chunk(batch_ctx *c, const wudf_rt_outcome *o,
                              int64_t row, wudf_error *err) {
  if (row >= 0) return report_trap(c, o, "", row, row, row, err);
  if (c->in_loop)
    return report_trap(c, o, "", -1, c->start, c->start + c->b.n - 1, err);
  return report_trap(c, o, "preparing a batch: ", -1, -1, -1, err);
}

static wudf_status run_guarded(batch_ctx *c, bool track, wudf_rt_outcome *o) {
  c->b.track_rows = track;
  c->b.row = -1;
  c->in_loop = 0;
  return wudf_instance_guarded(c->inst, batch_body, c, o);
}

/* The batch loop stores no row index (it is faster without); when a chunk
 * traps inside it, the chunk runs again on a rebuilt instance with row
 * tracking on to name the row. Only for traps that recur: a time limit or
 * an interrupt ends the call wherever it is, and with keep_state_on_trap
 * the instance is not rebuilt (its loops always track rows). Output the
 * first run printed is dropped, so that no row's output appears twice.
 * Returns the row, with *o the outcome to report, or -1 (then *o is the
 * first run's). */
static int64_t locate_trap(batch_ctx *c, wudf_rt_outcome *o, size_t out_len,
                           bool out_truncated) {
  if (c->b.row >= 0) return c->b.row; /* put_string() named it */
  if (!c->in_loop || c->track_rows || o->status == WUDF_TRAP_TIMEOUT ||
      o->status == WUDF_TRAP_INTERRUPTED)
    return -1;
  wudf_error e;
  wudf_error_init(&e);
  if (wudf_instance_rebuild(c->inst, &e) != WUDF_OK) return -1;
  wudf_instance_rewind_output(c->inst, out_len, out_truncated);
  wudf_rt_outcome again;
  if (run_guarded(c, true, &again) == WUDF_OK || !c->in_loop || c->b.row < 0 ||
      again.status != o->status) {
    c->in_loop = 1; /* the first run's trap was inside the loop */
    return -1;
  }
  *o = again;
  return c->b.row;
}

/* The first string result of rows [start, end) of the batch that is not
 * valid UTF-8, as the failure to report in *o; -1 if none (or no strings). */
static int64_t first_bad_string(const batch_ctx *c, int64_t end,
                                wudf_rt_outcome *o) {
  if (c->sig->result != WUDF_TYPE_UTF8) return -1;
  int64_t bad =
      wudf_string_results_first_invalid(&c->strings_out, c->start, end);
  if (bad < 0) return -1;
  const int32_t *off = c->strings_out.offsets;
  memset(o, 0, sizeof *o);
  o->status = WUDF_ERR_TYPE;
  snprintf(o->detail, sizeof o->detail,
           "the string result (%d bytes) is not valid UTF-8",
           off[bad + 1] - off[bad]);
  return bad;
}

/* Runs the selected chunk, then checks its string results. Of several
 * failures the first in row order is reported: a bad string before the row
 * that trapped wins. */
static wudf_status run_chunk(batch_ctx *c, wudf_error *err) {
  size_t out_len = c->inst->wasi.out_len;
  bool out_truncated = c->inst->wasi.truncated;
  wudf_rt_outcome o;
  int64_t row;
  if (run_guarded(c, c->track_rows, &o) != WUDF_OK) {
    row = locate_trap(c, &o, out_len, out_truncated);
    if (row < 0) return fail_chunk(c, &o, -1, err);
    int64_t bad = first_bad_string(c, c->start + row, &o);
    return fail_chunk(c, &o, bad >= 0 ? bad : c->start + row, err);
  }
  row = first_bad_string(c, c->start + c->b.n, &o);
  return row < 0 ? WUDF_OK : fail_chunk(c, &o, row, err);
}

static wudf_status run_map(wudf_instance *inst, const char *udf,
                           const struct ArrowArray *const *columns,
                           const struct ArrowSchema *const *schemas,
                           uint32_t ncols, struct ArrowArray *out,
                           wudf_error *err) {
  batch_ctx c;
  memset(&c, 0, sizeof c);
  c.inst = inst;
  c.m = inst->module;
  c.track_rows = inst->config.keep_state_on_trap;
  int64_t k = find_udf(c.m, udf, err);
  if (k < 0) return WUDF_ERR_NOT_FOUND;
  c.k = (uint32_t)k;
  c.sig = &c.m->udfs[k];
  if (ncols && !columns) {
    wudf_fail(err, WUDF_ERR_ARG, "columns is NULL");
    return locate(err, c.m, c.sig->name, -1, NULL);
  }
  c.mem = wudf_instance_memory0(inst);
  c.budget = inst->config.budget;
  wudf_status st = read_columns(&c, columns, schemas, ncols, err);
  if (st == WUDF_OK && (st = bind(&c, err)) != WUDF_OK)
    locate(err, c.m, c.sig->name, -1, NULL);
  if (st == WUDF_OK) st = wudf_instance_prepare(inst, err);
  for (c.start = 0; st == WUDF_OK && c.start < c.n; c.start += c.b.n) {
    st = select_chunk(&c, chunk_rows(&c), err);
    if (st == WUDF_OK) st = run_chunk(&c, err);
  }
  if (st == WUDF_OK) st = finish(&c, out, err);
  batch_reset(&c);
  return st;
}

static wudf_status result_schema(const wudf_udf_sig *sig,
                                 struct ArrowSchema *schema, wudf_error *err) {
  char name[WUDF_MAX_UDF_NAME + 16];
  snprintf(name, sizeof name, "%s_RESULT", sig->name);
  return wudf_arrow_schema_new(sig->result, name, true, schema, err);
}

wudf_status wudf_instance_map(wudf_instance *inst, const char *udf,
                              const struct ArrowArray *const *columns,
                              const struct ArrowSchema *const *schemas,
                              uint32_t ncols, struct ArrowArray *out,
                              struct ArrowSchema *out_schema, wudf_error *err) {
  if (!inst || !out)
    return wudf_fail(err, WUDF_ERR_ARG, "instance or out is NULL");
  struct ArrowArray result;
  memset(&result, 0, sizeof result);
  wudf_status st = run_map(inst, udf, columns, schemas, ncols, &result, err);
  if (st == WUDF_OK && out_schema) {
    int64_t k = wudf_module_find_udf(inst->module, udf);
    st = result_schema(&inst->module->udfs[k], out_schema, err);
    if (st != WUDF_OK) result.release(&result);
  }
  if (st == WUDF_OK) *out = result;
  return st;
}

/* The selection from an int32 result: rows that are non-zero and not
 * NULL. */
static wudf_status select_int32(const struct ArrowArray *r, wudf_budget *budget,
                                struct ArrowArray *sel, int64_t *count,
                                wudf_error *err) {
  int64_t n = r->length;
  size_t bytes = (size_t)((n + 7) / 8);
  wudf_status st =
      wudf_budget_charge_or_fail(budget, bytes, "the selection", err);
  if (st != WUDF_OK) return st;
  st = wudf_arrow_new_values(WUDF_TYPE_BOOL, n, NULL, sel, err);
  if (st != WUDF_OK) {
    wudf_budget_credit(budget, bytes);
    return st;
  }
  wudf_arrow_hold_charge(sel, 1, budget, bytes);
  uint8_t *bits = (uint8_t *)sel->buffers[1];
  const uint8_t *valid = r->buffers[0];
  const int32_t *v = r->buffers[1];
  memset(bits, 0, bytes);
  for (int64_t i = 0; i < n; i++) {
    bool keep = v[i] != 0 && (!valid || ((valid[i >> 3] >> (i & 7)) & 1));
    bits[i >> 3] |= (uint8_t)((unsigned)keep << (i & 7));
  }
  if (count) *count = wudf_bits_count(bits, 0, n);
  return WUDF_OK;
}

wudf_status wudf_instance_filter(wudf_instance *inst, const char *udf,
                                 const struct ArrowArray *const *columns,
                                 const struct ArrowSchema *const *schemas,
                                 uint32_t ncols, struct ArrowArray *selection,
                                 int64_t *selected, wudf_error *err) {
  if (!inst || !selection)
    return wudf_fail(err, WUDF_ERR_ARG, "instance or selection is NULL");
  int64_t k = find_udf(inst->module, udf, err);
  if (k < 0) return WUDF_ERR_NOT_FOUND;
  wudf_type t = inst->module->udfs[k].result;
  if (t != WUDF_TYPE_BOOL && t != WUDF_TYPE_INT32) {
    wudf_fail(err, WUDF_ERR_TYPE,
              "FILTER needs a UDF returning bool or int32; '%s' returns %s",
              udf, wudf_type_str(t));
    return locate(err, inst->module, udf, -1, NULL);
  }
  struct ArrowArray r;
  memset(&r, 0, sizeof r);
  wudf_status st = run_map(inst, udf, columns, schemas, ncols, &r, err);
  if (st != WUDF_OK) return st;
  if (t == WUDF_TYPE_INT32) {
    st = select_int32(&r, inst->config.budget, selection, selected, err);
    if (st != WUDF_OK) locate(err, inst->module, udf, -1, NULL);
    r.release(&r);
    return st;
  }
  /* A bool result is the selection: the batch loop leaves the bits of rows
   * with a NULL argument clear. */
  wudf_arrow_set_validity(&r, NULL);
  if (selected) *selected = wudf_bits_count(r.buffers[1], 0, r.length);
  *selection = r;
  return WUDF_OK;
}
