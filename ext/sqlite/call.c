/*
 * Calling a defined function for one row.
 *
 * Numeric functions are called directly (wudf_instance_call_export with
 * the UDF's export). Functions with a utf8 parameter or result run as a
 * 1-row batch (wudf_instance_map): the public API has no other way to put
 * a string into the module's memory. The 1-row Arrow arrays are built here
 * on the stack and point at SQLite's own values: nothing is copied on the
 * way in.
 *
 * Conversions (docs/sqlite.md): INTEGER goes to int32 (range checked),
 * int64, bool (non-zero is true), float32 and float64; REAL to float32 and
 * float64; TEXT to utf8. Anything else is an error naming the function,
 * the argument and both types; no text or blob is converted to a number.
 */
#include <string.h>

#include "wudf_sqlite.h"

SQLITE_EXTENSION_INIT3

static const char *sqlite_type_name(int t) {
  switch (t) {
    case SQLITE_INTEGER:
      return "INTEGER";
    case SQLITE_FLOAT:
      return "REAL";
    case SQLITE_TEXT:
      return "TEXT";
    case SQLITE_BLOB:
      return "BLOB";
    default:
      return "NULL";
  }
}

static void error_msg(sqlite3_context *ctx, int code, char *msg) {
  if (!msg) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_error(ctx, msg, -1);
  if (code != SQLITE_ERROR) sqlite3_result_error_code(ctx, code);
  sqlite3_free(msg);
}

static int status_code(wudf_status st) {
  switch (st) {
    case WUDF_TRAP_INTERRUPTED:
    case WUDF_ERR_CANCELLED:
      return SQLITE_INTERRUPT;
    case WUDF_ERR_NOMEM:
      return SQLITE_NOMEM;
    case WUDF_ERR_LIMIT:
    case WUDF_ERR_HOST_MEMORY:
      return SQLITE_TOOBIG;
    default:
      return SQLITE_ERROR;
  }
}

/* A batch of one row reports "row 0": meaningless in SQL, so the message
 * is formatted again without it. */
void wsq_result_wudf_error(sqlite3_context *ctx, wudf_error *err) {
  err->row = err->first_row = err->last_row = -1;
  wudf_error_format(err);
  error_msg(ctx, status_code(err->status), sqlite3_mprintf("%s", err->message));
  wudf_error_init(err);
}

/* ---- Arguments ----------------------------------------------------------- */

static char *arg_type_error(const wsq_func *f, uint32_t i, int have,
                            wudf_type want) {
  return sqlite3_mprintf("%s(): argument %u is %s, expected %s", f->name, i + 1,
                         sqlite_type_name(have), wudf_type_str(want));
}

/* Checks that value `v` can be passed as parameter i; NULL if it can. */
static char *check_arg(const wsq_func *f, uint32_t i, sqlite3_value *v) {
  wudf_type want = f->def.sig.params[i];
  int have = sqlite3_value_type(v);
  if (have == SQLITE_NULL) return NULL;
  bool ok = false;
  switch (want) {
    case WUDF_TYPE_INT32: {
      sqlite3_int64 x = have == SQLITE_INTEGER ? sqlite3_value_int64(v) : 0;
      if (x < INT32_MIN || x > INT32_MAX)
        return sqlite3_mprintf(
            "%s(): argument %u (%lld) is out of range for "
            "int32",
            f->name, i + 1, (long long)x);
      ok = have == SQLITE_INTEGER;
      break;
    }
    case WUDF_TYPE_INT64:
    case WUDF_TYPE_BOOL:
      ok = have == SQLITE_INTEGER;
      break;
    case WUDF_TYPE_FLOAT32:
    case WUDF_TYPE_FLOAT64:
      ok = have == SQLITE_INTEGER || have == SQLITE_FLOAT;
      break;
    default:
      ok = have == SQLITE_TEXT;
      break;
  }
  return ok ? NULL : arg_type_error(f, i, have, want);
}

/* 1: some argument is NULL (and the function does not see NULLs: the
 * result is NULL); 0: call it; -1: an error was set. */
static int check_args(sqlite3_context *ctx, const wsq_func *f, int argc,
                      sqlite3_value **argv) {
  int has_null = 0;
  for (uint32_t i = 0; i < (uint32_t)argc; i++) {
    char *msg = check_arg(f, i, argv[i]);
    if (msg) {
      error_msg(ctx, SQLITE_MISMATCH, msg);
      return -1;
    }
    int t = sqlite3_value_type(argv[i]);
    if (t == SQLITE_NULL) has_null = 1;
    /* Converting to UTF-8 (a UTF-16 database) may run out of memory. */
    if (t == SQLITE_TEXT && !sqlite3_value_text(argv[i])) {
      sqlite3_result_error_nomem(ctx);
      return -1;
    }
  }
  return has_null && !f->def.sig.sees_nulls;
}

/* ---- The direct path: numeric functions ---------------------------------- */

static wudf_val to_val(wudf_type t, sqlite3_value *v) {
  wudf_val r;
  memset(&r, 0, sizeof r);
  switch (t) {
    case WUDF_TYPE_INT32:
      r.type = WUDF_I32, r.of.i32 = (int32_t)sqlite3_value_int64(v);
      break;
    case WUDF_TYPE_BOOL:
      r.type = WUDF_I32, r.of.i32 = sqlite3_value_int64(v) != 0;
      break;
    case WUDF_TYPE_INT64:
      r.type = WUDF_I64, r.of.i64 = sqlite3_value_int64(v);
      break;
    case WUDF_TYPE_FLOAT32:
      r.type = WUDF_F32, r.of.f32 = (float)sqlite3_value_double(v);
      break;
    default:
      r.type = WUDF_F64, r.of.f64 = sqlite3_value_double(v);
      break;
  }
  return r;
}

static void result_val(sqlite3_context *ctx, wudf_type t, const wudf_val *v) {
  switch (t) {
    case WUDF_TYPE_INT32:
      sqlite3_result_int(ctx, v->of.i32);
      break;
    case WUDF_TYPE_BOOL:
      sqlite3_result_int(ctx, v->of.i32 != 0);
      break;
    case WUDF_TYPE_INT64:
      sqlite3_result_int64(ctx, v->of.i64);
      break;
    case WUDF_TYPE_FLOAT32:
      sqlite3_result_double(ctx, v->of.f32);
      break;
    default:
      sqlite3_result_double(ctx, v->of.f64);
      break;
  }
}

static void call_direct(sqlite3_context *ctx, wsq_func *f, int argc,
                        sqlite3_value **argv) {
  const wudf_udf_sig *sig = &f->def.sig;
  wudf_val args[2 * WUDF_MAX_UDF_PARAMS], res;
  uint32_t n = 0;
  for (uint32_t i = 0; i < (uint32_t)argc; i++) {
    bool null = sqlite3_value_type(argv[i]) == SQLITE_NULL;
    args[n++] = to_val(sig->params[i], argv[i]);
    if (sig->sees_nulls)
      args[n++] = (wudf_val){.type = WUDF_I32, .of.i32 = null};
  }
  wudf_status st = wudf_instance_call_export(
      f->instance, (uint32_t)f->export_index, args, n, &res, 1, &f->err);
  if (st != WUDF_OK)
    wsq_result_wudf_error(ctx, &f->err);
  else
    result_val(ctx, sig->result, &res);
}

/* ---- The batch path: 1-row Arrow arrays ---------------------------------- */

typedef struct row_col {
  struct ArrowArray array;
  struct ArrowSchema schema;
  const void *buffers[3];
  uint8_t validity;
  int32_t offsets[2];
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint8_t bits;
  } v;
} row_col;

static void release_nothing_array(struct ArrowArray *a) {
  a->release = NULL;
}
static void release_nothing_schema(struct ArrowSchema *s) {
  s->release = NULL;
}

static void row_col_value(row_col *c, wudf_type t, sqlite3_value *v) {
  switch (t) {
    case WUDF_TYPE_INT32:
      c->v.i32 = (int32_t)sqlite3_value_int64(v);
      break;
    case WUDF_TYPE_INT64:
      c->v.i64 = sqlite3_value_int64(v);
      break;
    case WUDF_TYPE_FLOAT32:
      c->v.f32 = (float)sqlite3_value_double(v);
      break;
    case WUDF_TYPE_FLOAT64:
      c->v.f64 = sqlite3_value_double(v);
      break;
    case WUDF_TYPE_BOOL:
      c->v.bits = sqlite3_value_int64(v) != 0;
      break;
    default: {
      const unsigned char *s = sqlite3_value_text(v);
      c->offsets[0] = 0;
      c->offsets[1] = s ? sqlite3_value_bytes(v) : 0;
      c->buffers[2] = s ? (const void *)s : (const void *)"";
      break;
    }
  }
}

static void row_col_init(row_col *c, wudf_type t, sqlite3_value *v) {
  memset(c, 0, sizeof *c);
  bool null = sqlite3_value_type(v) == SQLITE_NULL;
  c->validity = null ? 0 : 1;
  c->buffers[0] = &c->validity;
  c->buffers[1] = t == WUDF_TYPE_UTF8 ? (const void *)c->offsets : &c->v;
  c->buffers[2] = "";
  if (!null) row_col_value(c, t, v);
  c->array = (struct ArrowArray){.length = 1,
                                 .null_count = null,
                                 .n_buffers = t == WUDF_TYPE_UTF8 ? 3 : 2,
                                 .buffers = c->buffers,
                                 .release = release_nothing_array};
  c->schema = (struct ArrowSchema){.format = wudf_type_arrow_format(t),
                                   .name = "",
                                   .flags = ARROW_FLAG_NULLABLE,
                                   .release = release_nothing_schema};
}

static bool out_is_null(const struct ArrowArray *out) {
  const uint8_t *valid = out->buffers[0];
  if (!valid) return false;
  int64_t i = out->offset;
  return !(valid[i >> 3] & (1u << (i & 7)));
}

static void result_from_array(sqlite3_context *ctx, wudf_type t,
                              const struct ArrowArray *out) {
  int64_t i = out->offset;
  if (out_is_null(out)) {
    sqlite3_result_null(ctx);
    return;
  }
  const void *data = out->buffers[1];
  switch (t) {
    case WUDF_TYPE_INT32:
      sqlite3_result_int(ctx, ((const int32_t *)data)[i]);
      break;
    case WUDF_TYPE_INT64:
      sqlite3_result_int64(ctx, ((const int64_t *)data)[i]);
      break;
    case WUDF_TYPE_FLOAT32:
      sqlite3_result_double(ctx, ((const float *)data)[i]);
      break;
    case WUDF_TYPE_FLOAT64:
      sqlite3_result_double(ctx, ((const double *)data)[i]);
      break;
    case WUDF_TYPE_BOOL:
      sqlite3_result_int(ctx, (((const uint8_t *)data)[i >> 3] >> (i & 7)) & 1);
      break;
    default: {
      const int32_t *off = data;
      const char *bytes = out->buffers[2];
      /* Longer than SQLite's length limit: SQLITE_TOOBIG from SQLite. */
      sqlite3_result_text64(ctx, bytes + off[i],
                            (sqlite3_uint64)(off[i + 1] - off[i]),
                            SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
  }
}

static void call_batch(sqlite3_context *ctx, wsq_func *f, int argc,
                       sqlite3_value **argv) {
  row_col cols[WUDF_MAX_UDF_PARAMS];
  const struct ArrowArray *arrays[WUDF_MAX_UDF_PARAMS];
  const struct ArrowSchema *schemas[WUDF_MAX_UDF_PARAMS];
  for (int i = 0; i < argc; i++) {
    row_col_init(&cols[i], f->def.sig.params[i], argv[i]);
    arrays[i] = &cols[i].array;
    schemas[i] = &cols[i].schema;
  }
  struct ArrowArray out;
  memset(&out, 0, sizeof out);
  wudf_status st =
      wudf_instance_map(f->instance, f->def.sig.name, arrays, schemas,
                        (uint32_t)argc, &out, NULL, &f->err);
  if (st != WUDF_OK) {
    wsq_result_wudf_error(ctx, &f->err);
    return;
  }
  result_from_array(ctx, f->def.sig.result, &out);
  if (out.release) out.release(&out);
}

/* ---- The SQL function ---------------------------------------------------- */

static wudf_status ensure_instance(wsq_func *f, wudf_error *err) {
  wsq_conn *c = f->conn;
  if (f->instance && f->instance_generation == c->generation) return WUDF_OK;
  wudf_instance_free(f->instance);
  f->instance = NULL;
  wudf_instance_config cfg;
  wudf_instance_config_init(c->engine, &cfg);
  cfg.limits = c->limits;
  f->instance_generation = c->generation;
  return wudf_instance_new(f->def.module, &cfg, &f->instance, err);
}

/* 0 when the function can be called with argc arguments, else an error
 * is set. */
static int check_callable(sqlite3_context *ctx, const wsq_func *f, int argc) {
  if (f->load_error) {
    error_msg(ctx, SQLITE_ERROR,
              sqlite3_mprintf("%s(): the stored definition could not be "
                              "loaded: %s",
                              f->name, f->load_error));
    return -1;
  }
  if (!f->def.module) {
    error_msg(ctx, SQLITE_ERROR, sqlite3_mprintf("%s(): not defined", f->name));
    return -1;
  }
  if ((uint32_t)argc != f->def.sig.nparams) {
    error_msg(ctx, SQLITE_ERROR,
              sqlite3_mprintf("wrong number of arguments to function %s(): "
                              "it takes %u",
                              f->name, f->def.sig.nparams));
    return -1;
  }
  return 0;
}

static void set_running(wsq_conn *c, wudf_instance *inst) {
  pthread_mutex_lock(&c->running_lock);
  c->running = inst;
  pthread_mutex_unlock(&c->running_lock);
}

void wsq_call_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  wsq_func *f = sqlite3_user_data(ctx);
  if (check_callable(ctx, f, argc)) return;
  int nulls = check_args(ctx, f, argc, argv);
  if (nulls < 0) return;
  if (nulls > 0) {
    sqlite3_result_null(ctx);
    return;
  }
  if (ensure_instance(f, &f->err) != WUDF_OK) {
    wsq_result_wudf_error(ctx, &f->err);
    return;
  }
  set_running(f->conn, f->instance);
  if (f->export_index >= 0 && !f->conn->map_path)
    call_direct(ctx, f, argc, argv);
  else
    call_batch(ctx, f, argc, argv);
  set_running(f->conn, NULL);
}
