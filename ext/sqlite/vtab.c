/*
 * wudf_functions: an eponymous virtual table listing the functions defined
 * on this connection.
 *
 *     SELECT name, signature, lang, deterministic FROM wudf_functions;
 *
 * Columns: name, signature, lang, deterministic (as registered with
 * SQLite: 1 or 0), wasm_bytes (size of the module), error (why a stored
 * definition could not be loaded, else NULL). The sources are in the
 * table wudf_functions_def.
 */
#include <string.h>

#include "wudf_sqlite.h"

SQLITE_EXTENSION_INIT3

enum {
  COL_NAME,
  COL_SIGNATURE,
  COL_LANG,
  COL_DETERMINISTIC,
  COL_WASM_BYTES,
  COL_ERROR
};

typedef struct wsq_vtab {
  sqlite3_vtab base;
  wsq_conn *conn;
} wsq_vtab;

typedef struct wsq_cursor {
  sqlite3_vtab_cursor base;
  wsq_func *f;
  sqlite3_int64 rowid;
} wsq_cursor;

static int vt_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                      sqlite3_vtab **out, char **errmsg) {
  (void)argc, (void)argv, (void)errmsg;
  int rc = sqlite3_declare_vtab(
      db,
      "CREATE TABLE x(name TEXT, signature TEXT, lang TEXT, "
      "deterministic INTEGER, wasm_bytes INTEGER, error TEXT)");
  if (rc != SQLITE_OK) return rc;
  wsq_vtab *v = sqlite3_malloc(sizeof *v);
  if (!v) return SQLITE_NOMEM;
  memset(v, 0, sizeof *v);
  v->conn = aux;
  *out = &v->base;
  return SQLITE_OK;
}

static int vt_disconnect(sqlite3_vtab *v) {
  sqlite3_free(v);
  return SQLITE_OK;
}

static int vt_best_index(sqlite3_vtab *v, sqlite3_index_info *info) {
  (void)v;
  info->estimatedCost = 10;
  info->estimatedRows = 10;
  return SQLITE_OK;
}

static bool listed(const wsq_func *f) {
  return f->def.module != NULL || f->load_error != NULL;
}

static wsq_func *skip_unlisted(wsq_func *f) {
  while (f && !listed(f)) f = f->next;
  return f;
}

static int vt_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out) {
  (void)v;
  wsq_cursor *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  *out = &c->base;
  return SQLITE_OK;
}

static int vt_close(sqlite3_vtab_cursor *c) {
  sqlite3_free(c);
  return SQLITE_OK;
}

static int vt_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr,
                     int argc, sqlite3_value **argv) {
  (void)idx, (void)idxstr, (void)argc, (void)argv;
  wsq_cursor *c = (wsq_cursor *)cur;
  c->f = skip_unlisted(((wsq_vtab *)cur->pVtab)->conn->funcs);
  c->rowid = 1;
  return SQLITE_OK;
}

static int vt_next(sqlite3_vtab_cursor *cur) {
  wsq_cursor *c = (wsq_cursor *)cur;
  c->f = skip_unlisted(c->f->next);
  c->rowid++;
  return SQLITE_OK;
}

static int vt_eof(sqlite3_vtab_cursor *cur) {
  return ((wsq_cursor *)cur)->f == NULL;
}

static void column_signature(sqlite3_context *ctx, const wsq_func *f) {
  if (!f->def.module) return;
  char sig[512];
  wudf_udf_sig_format(&f->def.sig, sig, sizeof sig);
  sqlite3_result_text(ctx, sig, -1, SQLITE_TRANSIENT);
}

static int vt_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  const wsq_func *f = ((wsq_cursor *)cur)->f;
  uint32_t bit = 1u << f->def.sig.nparams;
  switch (i) {
    case COL_NAME:
      sqlite3_result_text(ctx, f->name, -1, SQLITE_TRANSIENT);
      break;
    case COL_SIGNATURE:
      column_signature(ctx, f);
      break;
    case COL_LANG:
      if (f->def.module)
        sqlite3_result_text(ctx, f->def.lang, -1, SQLITE_TRANSIENT);
      break;
    case COL_DETERMINISTIC:
      sqlite3_result_int(ctx, f->def.module && f->def.deterministic &&
                                  (f->deterministic_arities & bit));
      break;
    case COL_WASM_BYTES:
      sqlite3_result_int64(ctx, (sqlite3_int64)f->def.wasm_len);
      break;
    default:
      if (f->load_error)
        sqlite3_result_text(ctx, f->load_error, -1, SQLITE_TRANSIENT);
      break;
  }
  return SQLITE_OK;
}

static int vt_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid) {
  *rowid = ((wsq_cursor *)cur)->rowid;
  return SQLITE_OK;
}

static const sqlite3_module k_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = vt_connect,
    .xBestIndex = vt_best_index,
    .xDisconnect = vt_disconnect,
    .xDestroy = vt_disconnect,
    .xOpen = vt_open,
    .xClose = vt_close,
    .xFilter = vt_filter,
    .xNext = vt_next,
    .xEof = vt_eof,
    .xColumn = vt_column,
    .xRowid = vt_rowid,
};

int wsq_vtab_register(wsq_conn *c) {
  wsq_conn_ref(c);
  return sqlite3_create_module_v2(c->db, "wudf_functions", &k_module, c,
                                  wsq_conn_unref);
}
