/*
 * The definitions kept in the database (table wudf_functions_def of the
 * main schema), and registering them again when the extension is loaded.
 * Modules are loaded from the stored WebAssembly bytes: nothing is
 * compiled from source again.
 */
#include <string.h>

#include "wudf_sqlite.h"

SQLITE_EXTENSION_INIT3

static const char k_create[] =
    "CREATE TABLE IF NOT EXISTS main." WSQ_TABLE
    "("
    "name TEXT PRIMARY KEY COLLATE NOCASE, lang TEXT NOT NULL, source BLOB, "
    "wasm BLOB NOT NULL, signature TEXT NOT NULL)";

static int fail(sqlite3 *db, const char *what, char **errmsg) {
  *errmsg =
      sqlite3_mprintf("wudf: %s " WSQ_TABLE ": %s", what, sqlite3_errmsg(db));
  int rc = sqlite3_errcode(db);
  return rc == SQLITE_OK ? SQLITE_ERROR : rc;
}

int wsq_store_put(sqlite3 *db, const char *name, const char *lang,
                  const void *source, int source_len, const void *wasm,
                  int wasm_len, const char *signature, char **errmsg) {
  if (sqlite3_exec(db, k_create, NULL, NULL, NULL) != SQLITE_OK)
    return fail(db, "creating", errmsg);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO main." WSQ_TABLE
                         "(name, lang, source, wasm, signature) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)",
                         -1, &st, NULL) != SQLITE_OK)
    return fail(db, "writing", errmsg);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, lang, -1, SQLITE_STATIC);
  if (source) sqlite3_bind_blob(st, 3, source, source_len, SQLITE_STATIC);
  sqlite3_bind_blob(st, 4, wasm, wasm_len, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, signature, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : fail(db, "writing", errmsg);
}

int wsq_store_delete(sqlite3 *db, const char *name, char **errmsg) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(
      db, "DELETE FROM main." WSQ_TABLE " WHERE name = ?1", -1, &st, NULL);
  /* No table: nothing was stored (a definition whose store failed). */
  if (rc != SQLITE_OK) return SQLITE_OK;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : fail(db, "deleting from", errmsg);
}

/* A stored definition that cannot be loaded still gets its function, which
 * reports why when called, and a line in wudf_functions. */
static int register_broken(wsq_conn *c, const char *name, const char *signature,
                           char *why) {
  wsq_def def;
  memset(&def, 0, sizeof def);
  wudf_error err;
  wudf_error_init(&err);
  if (wudf_udf_sig_parse(signature, strlen(signature), &def.sig, &err)) {
    sqlite3_free(why);
    return SQLITE_OK; /* not even an argument count: skipped */
  }
  wsq_func *f = NULL;
  char *msg = NULL;
  int rc = wsq_func_register(c, name, &def, &f, &msg);
  sqlite3_free(msg);
  if (rc != SQLITE_OK) {
    sqlite3_free(why);
    return rc == SQLITE_NOMEM ? rc : SQLITE_OK;
  }
  wsq_func_clear(f);
  f->load_error = why;
  return SQLITE_OK;
}

static int load_row(wsq_conn *c, sqlite3_stmt *st) {
  const char *name = (const char *)sqlite3_column_text(st, 0);
  const char *lang = (const char *)sqlite3_column_text(st, 1);
  const void *wasm = sqlite3_column_blob(st, 2);
  int len = sqlite3_column_bytes(st, 2);
  const char *signature = (const char *)sqlite3_column_text(st, 3);
  if (!name || !lang || !signature || !wsq_name_ok(name)) return SQLITE_OK;
  /* Never put stored code behind a function the connection already has. */
  if (wsq_name_taken(c->db, name)) return SQLITE_OK;
  wsq_def def;
  char *msg = NULL;
  int rc = wsq_def_load(c, name, lang, wasm ? wasm : "", (size_t)len, signature,
                        &def, &msg);
  if (rc == SQLITE_NOMEM) return rc;
  if (rc != SQLITE_OK) return register_broken(c, name, signature, msg);
  wsq_func *f = NULL;
  rc = wsq_func_register(c, name, &def, &f, &msg);
  if (rc == SQLITE_OK) wsq_func_set(f, &def);
  wsq_def_reset(&def);
  sqlite3_free(msg);
  return rc == SQLITE_NOMEM ? rc : SQLITE_OK;
}

int wsq_store_load_all(wsq_conn *c) {
  sqlite3_stmt *st = NULL;
  /* No table (or no readable schema): nothing to register. */
  if (sqlite3_prepare_v2(
          c->db,
          "SELECT name, lang, wasm, signature FROM main." WSQ_TABLE
          " ORDER BY name",
          -1, &st, NULL) != SQLITE_OK)
    return SQLITE_OK;
  int rc = SQLITE_OK;
  while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    rc = load_row(c, st);
  sqlite3_finalize(st);
  return rc;
}
