/*
 * The extension's entry point, per-connection state and function slots.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wudf_sqlite.h"

SQLITE_EXTENSION_INIT1

/* Connections the extension is loaded on: loading it a second time on a
 * connection finds the first state instead of registering everything again
 * (which SQLite would refuse while a statement runs). */
static pthread_mutex_t g_conns_lock = PTHREAD_MUTEX_INITIALIZER;
static wsq_conn *g_conns;

static char *dup_str(const char *s) {
  return s ? sqlite3_mprintf("%s", s) : NULL;
}

/* The cache directory, as the wudf command chooses it: WUDF_CACHE_DIR,
 * else $XDG_CACHE_HOME/wudf, else $HOME/.cache/wudf. The environment is the
 * process owner's; SQL cannot change it. */
static char *cache_dir_from_env(void) {
  const char *d = getenv("WUDF_CACHE_DIR");
  if (d && *d) return dup_str(d);
  d = getenv("XDG_CACHE_HOME");
  if (d && *d) return sqlite3_mprintf("%s/wudf", d);
  d = getenv("HOME");
  if (d && *d) return sqlite3_mprintf("%s/.cache/wudf", d);
  return NULL;
}

static char *include_dir_from_env(void) {
  const char *d = getenv("WUDF_INCLUDE_DIR");
  if (d && *d) return dup_str(d);
#ifdef WSQ_INCLUDE_DIR
  return dup_str(WSQ_INCLUDE_DIR);
#else
  return NULL;
#endif
}

static void conn_free(wsq_conn *c) {
  pthread_mutex_lock(&g_conns_lock);
  for (wsq_conn **p = &g_conns; *p; p = &(*p)->next_conn) {
    if (*p == c) {
      *p = c->next_conn;
      break;
    }
  }
  pthread_mutex_unlock(&g_conns_lock);
  wudf_engine_free(c->engine);
  pthread_mutex_destroy(&c->running_lock);
  sqlite3_free(c->cache_dir);
  sqlite3_free(c->include_dir);
  sqlite3_free(c);
}

void wsq_conn_ref(wsq_conn *c) {
  c->refs++;
}

void wsq_conn_unref(void *p) {
  wsq_conn *c = p;
  if (c && --c->refs == 0) conn_free(c);
}

static int conn_new(sqlite3 *db, wsq_conn **out, char **errmsg) {
  wsq_conn *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  c->db = db;
  c->refs = 1;
  pthread_mutex_init(&c->running_lock, NULL);
  wudf_limits_init(&c->limits);
  c->limits.memory_bytes = (uint64_t)WSQ_DEFAULT_MEMORY_MB << 20;
  c->limits.timeout_ms = WSQ_DEFAULT_TIMEOUT_MS;
  c->cache_dir = cache_dir_from_env();
  c->include_dir = include_dir_from_env();
  const char *u = getenv("WUDF_UNSANDBOXED_COMPILE");
  c->unsandboxed = u && strcmp(u, "1") == 0;
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = c->cache_dir;
  cfg.limits = c->limits;
  wudf_error err;
  wudf_error_init(&err);
  if (wudf_engine_new(&cfg, &c->engine, &err) != WUDF_OK) {
    *errmsg = sqlite3_mprintf("wudf: %s", err.message);
    c->refs = 0;
    conn_free(c);
    return SQLITE_ERROR;
  }
  *out = c;
  return SQLITE_OK;
}

/* ---- Function slots ------------------------------------------------------ */

wsq_func *wsq_func_find(wsq_conn *c, const char *name) {
  for (wsq_func *f = c->funcs; f; f = f->next)
    if (sqlite3_stricmp(f->name, name) == 0) return f;
  return NULL;
}

void wsq_def_reset(wsq_def *def) {
  wudf_module_free(def->module);
  memset(def, 0, sizeof *def);
}

void wsq_func_clear(wsq_func *f) {
  wudf_instance_free(f->instance);
  f->instance = NULL;
  wsq_def_reset(&f->def);
  f->export_index = -1;
  sqlite3_free(f->load_error);
  f->load_error = NULL;
}

static bool sig_is_numeric(const wudf_udf_sig *sig) {
  if (sig->result == WUDF_TYPE_UTF8) return false;
  for (uint32_t i = 0; i < sig->nparams; i++)
    if (sig->params[i] == WUDF_TYPE_UTF8) return false;
  return true;
}

/* Moves *def into the slot (def is empty afterwards). */
void wsq_func_set(wsq_func *f, wsq_def *def) {
  wsq_func_clear(f);
  f->def = *def;
  memset(def, 0, sizeof *def);
  if (sig_is_numeric(&f->def.sig))
    f->export_index = wudf_module_export_index(f->def.module, f->def.sig.name,
                                               strlen(f->def.sig.name));
}

static void func_unref(void *p) {
  wsq_func *f = p;
  if (!f || --f->refs > 0) return;
  wsq_conn *c = f->conn;
  for (wsq_func **q = &c->funcs; *q; q = &(*q)->next) {
    if (*q == f) {
      *q = f->next;
      break;
    }
  }
  wsq_func_clear(f);
  sqlite3_free(f);
  wsq_conn_unref(c);
}

static wsq_func *func_new(wsq_conn *c, const char *name) {
  wsq_func *f = sqlite3_malloc(sizeof *f);
  if (!f) return NULL;
  memset(f, 0, sizeof *f);
  f->conn = c;
  f->refs = 1; /* the caller's, until the function is registered */
  f->export_index = -1;
  wudf_error_init(&f->err);
  sqlite3_snprintf((int)sizeof f->name, f->name, "%s", name);
  f->next = c->funcs;
  c->funcs = f;
  wsq_conn_ref(c);
  return f;
}

/* Registers `f` with SQLite for `nargs` arguments unless it already is.
 * A slot registered as deterministic cannot take a definition that is not:
 * the flag cannot be taken back while a statement runs. */
static int func_register_arity(wsq_func *f, uint32_t nargs, bool det,
                               char **errmsg) {
  uint32_t bit = 1u << nargs;
  if (f->arities & bit) {
    if ((f->deterministic_arities & bit) && !det) {
      *errmsg = sqlite3_mprintf(
          "wudf_define: %s() with %u arguments is registered as "
          "deterministic on this connection and the new definition is not "
          "(it imports a clock or random numbers): call wudf_undefine('%s') "
          "and define it on a new connection",
          f->name, nargs, f->name);
      return SQLITE_ERROR;
    }
    return SQLITE_OK;
  }
  int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;
  if (det) flags |= SQLITE_DETERMINISTIC;
  f->refs++;
  int rc = sqlite3_create_function_v2(f->conn->db, f->name, (int)nargs, flags,
                                      f, wsq_call_func, NULL, NULL, func_unref);
  if (rc != SQLITE_OK) {
    *errmsg = sqlite3_mprintf("wudf_define: registering %s(): %s", f->name,
                              sqlite3_errmsg(f->conn->db));
    return rc;
  }
  f->arities |= bit;
  if (det) f->deterministic_arities |= bit;
  return SQLITE_OK;
}

int wsq_func_register(wsq_conn *c, const char *name, const wsq_def *def,
                      wsq_func **out, char **errmsg) {
  wsq_func *f = wsq_func_find(c, name);
  bool fresh = f == NULL;
  if (fresh && !(f = func_new(c, name))) return SQLITE_NOMEM;
  if (!fresh) f->refs++;
  int rc = func_register_arity(f, def->sig.nparams, def->deterministic, errmsg);
  /* The registrations hold the slot; dropping the temporary reference
   * frees a new slot whose registration failed. */
  func_unref(f);
  if (rc != SQLITE_OK) return rc;
  *out = f;
  return SQLITE_OK;
}

/* ---- Registration of the extension's own functions ----------------------- */

typedef struct wsq_builtin {
  const char *name;
  int nargs;
  void (*fn)(sqlite3_context *, int, sqlite3_value **);
} wsq_builtin;

static const wsq_builtin k_builtins[] = {
    {"wudf_define", 3, wsq_define_func},
    {"wudf_define", 4, wsq_define_func},
    {"wudf_undefine", 1, wsq_undefine_func},
    {"wudf_config", 1, wsq_config_func},
    {"wudf_config", 2, wsq_config_func},
};

/* They compile code, write the database and change limits: top-level SQL
 * only, never from a view, trigger or schema of an untrusted database. */
static int register_builtins(wsq_conn *c) {
  for (size_t i = 0; i < sizeof k_builtins / sizeof k_builtins[0]; i++) {
    wsq_conn_ref(c);
    int rc = sqlite3_create_function_v2(
        c->db, k_builtins[i].name, k_builtins[i].nargs,
        SQLITE_UTF8 | SQLITE_DIRECTONLY, c, k_builtins[i].fn, NULL, NULL,
        wsq_conn_unref);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

static wsq_conn *conn_lookup(sqlite3 *db) {
  for (wsq_conn *c = g_conns; c; c = c->next_conn)
    if (c->db == db) return c;
  return NULL;
}

#ifdef WSQ_BENCH
int wsq_bench_register(sqlite3 *db); /* tests/sqlite/bench_native.c */
#endif

static int conn_setup(sqlite3 *db, char **errmsg) {
  wsq_conn *c = NULL;
  int rc = conn_new(db, &c, errmsg);
  if (rc != SQLITE_OK) return rc;
  pthread_mutex_lock(&g_conns_lock);
  c->next_conn = g_conns;
  g_conns = c;
  pthread_mutex_unlock(&g_conns_lock);
  rc = register_builtins(c);
  if (rc == SQLITE_OK) rc = wsq_vtab_register(c);
  if (rc == SQLITE_OK) rc = wsq_store_load_all(c);
#ifdef WSQ_BENCH
  if (rc == SQLITE_OK) rc = wsq_bench_register(db);
#endif
  if (rc != SQLITE_OK && !*errmsg)
    *errmsg = sqlite3_mprintf("wudf: %s", sqlite3_errmsg(db));
  wsq_conn_unref(c); /* the registrations hold it from now on */
  return rc;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
    __attribute__((visibility("default"))) int sqlite3_wudf_init(
        sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  SQLITE_EXTENSION_INIT2(pApi);
  pthread_mutex_lock(&g_conns_lock);
  bool loaded = conn_lookup(db) != NULL;
  pthread_mutex_unlock(&g_conns_lock);
  if (loaded) return SQLITE_OK;
  return conn_setup(db, pzErrMsg);
}

/* sqlite3_interrupt(), and the running call stopped too instead of at its
 * time limit (ext/sqlite/sqlite3_wudf.h). */
__attribute__((visibility("default"))) void sqlite3_wudf_interrupt(
    sqlite3 *db) {
  if (!sqlite3_api || !db) return;
  sqlite3_interrupt(db);
  pthread_mutex_lock(&g_conns_lock);
  wsq_conn *c = conn_lookup(db);
  if (c) {
    pthread_mutex_lock(&c->running_lock);
    if (c->running) wudf_instance_interrupt(c->running);
    pthread_mutex_unlock(&c->running_lock);
  }
  pthread_mutex_unlock(&g_conns_lock);
}
