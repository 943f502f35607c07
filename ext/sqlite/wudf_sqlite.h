/*
 * The wudf SQLite extension: state shared by its source files.
 *
 * One wsq_conn per database connection holds the engine, the limits set by
 * wudf_config() and the defined functions. Each function name has one
 * wsq_func slot, registered with SQLite once per argument count it was ever
 * defined with; wudf_undefine() and redefinitions change the slot, not the
 * registration (SQLite refuses to replace a function while a statement
 * runs, and wudf_define() always runs inside one).
 */
#ifndef WUDF_SQLITE_H
#define WUDF_SQLITE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sqlite3ext.h"
#include "wudf.h"

/* Compile-time defaults of wudf_config(). */
#ifndef WSQ_DEFAULT_MEMORY_MB
#define WSQ_DEFAULT_MEMORY_MB 64
#endif
#ifndef WSQ_DEFAULT_TIMEOUT_MS
#define WSQ_DEFAULT_TIMEOUT_MS 1000
#endif
#define WSQ_MAX_MEMORY_MB 4096
#define WSQ_MAX_TIMEOUT_MS 3600000

/* The table that keeps the definitions in the database. */
#define WSQ_TABLE "wudf_functions_def"

typedef struct wsq_func wsq_func;

typedef struct wsq_conn {
  sqlite3 *db;
  int refs;
  wudf_engine *engine;
  wudf_limits limits;
  /* Bumped when the limits change: instances of an older generation are
   * rebuilt with the new limits before their next call. */
  uint64_t generation;
  /* Run numeric functions through 1-row batches too (for measuring). */
  bool map_path;
  char *cache_dir;   /* sqlite3_malloc'd */
  char *include_dir; /* sqlite3_malloc'd; may be NULL */
  bool unsandboxed;
  wsq_func *funcs;
  struct wsq_conn *next_conn; /* the process-wide list */
  /* The instance whose call is running, for sqlite3_wudf_interrupt() from
   * another thread; the lock keeps it from ending under that thread. */
  pthread_mutex_t running_lock;
  wudf_instance *running;
} wsq_conn;

/* What a definition is made of, before it becomes a slot's. */
typedef struct wsq_def {
  wudf_module *module;
  wudf_udf_sig sig;
  char lang[8];
  size_t wasm_len;
  bool deterministic;
} wsq_def;

struct wsq_func {
  wsq_conn *conn;
  wsq_func *next;
  int refs;
  char name[WUDF_MAX_UDF_NAME];
  /* Argument counts registered with SQLite (bit n: n arguments), and those
   * registered as SQLITE_DETERMINISTIC. */
  uint32_t arities, deterministic_arities;
  /* The current definition; def.module NULL when undefined. */
  wsq_def def;
  int64_t export_index; /* -1: the function runs through 1-row batches */
  wudf_instance *instance;
  uint64_t instance_generation;
  /* Filled by a failed call; initialised once and again after each
   * failure, not on every row (the struct is several KiB). */
  wudf_error err;
  /* Why a stored definition could not be loaded (sqlite3_malloc'd). */
  char *load_error;
};

extern const sqlite3_api_routines *sqlite3_api;

/* conn.c */
void wsq_conn_ref(wsq_conn *c);
void wsq_conn_unref(void *c);
wsq_func *wsq_func_find(wsq_conn *c, const char *name);
int wsq_func_register(wsq_conn *c, const char *name, const wsq_def *def,
                      wsq_func **out, char **errmsg);
void wsq_func_set(wsq_func *f, wsq_def *def);
void wsq_func_clear(wsq_func *f);
void wsq_def_reset(wsq_def *def);

/* define.c */
int wsq_def_load(wsq_conn *c, const char *name, const char *lang,
                 const void *wasm, size_t len, const char *signature,
                 wsq_def *out, char **errmsg);
int wsq_def_compile(wsq_conn *c, const char *name, const char *lang,
                    const char *source, size_t len, void **wasm,
                    size_t *wasm_len, char **errmsg);
bool wsq_name_ok(const char *name);
bool wsq_name_taken(sqlite3 *db, const char *name);
void wsq_define_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void wsq_undefine_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* store.c */
int wsq_store_put(sqlite3 *db, const char *name, const char *lang,
                  const void *source, int source_len, const void *wasm,
                  int wasm_len, const char *signature, char **errmsg);
int wsq_store_delete(sqlite3 *db, const char *name, char **errmsg);
int wsq_store_load_all(wsq_conn *c);

/* call.c */
void wsq_call_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);
void wsq_result_wudf_error(sqlite3_context *ctx, wudf_error *err);

/* config.c */
void wsq_config_func(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* vtab.c */
int wsq_vtab_register(wsq_conn *c);

#endif /* WUDF_SQLITE_H */
