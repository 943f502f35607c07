/*
 * wudf_define() and wudf_undefine(): compiling a source (or taking module
 * bytes), loading the module, registering the function and storing the
 * definition in the database.
 */
#include <string.h>

#include "wudf_compile.h"
#include "wudf_sqlite.h"

SQLITE_EXTENSION_INIT3

/* At most this many diagnostics are quoted in a compile error. */
#define WSQ_MAX_DIAGNOSTICS 10

bool wsq_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n >= WUDF_MAX_UDF_NAME) return false;
  if (sqlite3_strnicmp(name, "wudf_", 5) == 0) return false;
  for (size_t i = 0; i < n; i++) {
    char ch = name[i];
    bool alpha =
        (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
    if (!alpha && !(i > 0 && ch >= '0' && ch <= '9')) return false;
  }
  return true;
}

/* Whether `name` is a function SQLite already has (built-in, or another
 * extension's): preparing a call tells, whatever the argument count. A
 * name that is not an identifier (a keyword) counts as taken. Defining it
 * would change what existing SQL means, and a database file could use
 * that to put its own code behind upper() or json(). */
bool wsq_name_taken(sqlite3 *db, const char *name) {
  char *sql = sqlite3_mprintf("SELECT %s()", name);
  if (!sql) return true;
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  bool taken = rc == SQLITE_OK ||
               strncmp(sqlite3_errmsg(db), "no such function", 16) != 0;
  sqlite3_finalize(st);
  sqlite3_free(sql);
  return taken;
}

typedef struct lang_info {
  const char *name;
  wudf_lang lang;
  const char *ext;
} lang_info;

static const lang_info k_langs[] = {
    {"c", WUDF_LANG_C, "c"},          {"c++", WUDF_LANG_CXX, "cpp"},
    {"cpp", WUDF_LANG_CXX, "cpp"},    {"wat", WUDF_LANG_WAT, "wat"},
    {"wasm", WUDF_LANG_WASM, "wasm"},
};

static const lang_info *lang_find(const char *lang) {
  for (size_t i = 0; lang && i < sizeof k_langs / sizeof k_langs[0]; i++)
    if (sqlite3_stricmp(lang, k_langs[i].name) == 0) return &k_langs[i];
  return NULL;
}

/* ---- Compiling ----------------------------------------------------------- */

/* "does not compile:" followed by the diagnostics, clang-style. */
static char *diagnostics_message(const char *name,
                                 const wudf_compile_result *r) {
  sqlite3_str *s = sqlite3_str_new(NULL);
  sqlite3_str_appendf(s, "wudf_define: %s: does not compile", name);
  uint32_t n = wudf_compile_result_diagnostic_count(r), shown = 0;
  for (uint32_t i = 0; i < n && shown < WSQ_MAX_DIAGNOSTICS; i++) {
    wudf_diagnostic d;
    if (wudf_compile_result_diagnostic(r, i, &d) != WUDF_OK) continue;
    char buf[2048];
    size_t len = wudf_diagnostic_format(&d, buf, sizeof buf);
    if (len >= sizeof buf) len = sizeof buf - 1;
    while (len > 0 && buf[len - 1] == '\n') buf[--len] = '\0';
    sqlite3_str_appendf(s, "\n%s", buf);
    shown++;
  }
  if (n > shown) sqlite3_str_appendf(s, "\n(%u more)", n - shown);
  return sqlite3_str_finish(s);
}

static void compile_options(const wsq_conn *c, const lang_info *li,
                            const char *file_name, const char *const *fn,
                            wudf_compile_options *o) {
  wudf_compile_options_init(o);
  o->lang = li->lang;
  o->file_name = file_name;
  o->functions = fn;
  o->nfunctions = 1;
  o->cache_dir = c->cache_dir;
  o->include_dir = c->include_dir;
  o->unsandboxed = c->unsandboxed;
}

int wsq_def_compile(wsq_conn *c, const char *name, const char *lang,
                    const char *source, size_t len, void **wasm,
                    size_t *wasm_len, char **errmsg) {
  const lang_info *li = lang_find(lang);
  char file_name[WUDF_MAX_UDF_NAME + 8];
  sqlite3_snprintf((int)sizeof file_name, file_name, "%s.%s", name, li->ext);
  const char *fn[1] = {name};
  wudf_compile_options o;
  compile_options(c, li, file_name, fn, &o);
  wudf_compile_result *r = NULL;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status st = wudf_compile(source, len, &o, &r, &err);
  int rc = SQLITE_OK;
  if (st == WUDF_ERR_COMPILE && r) {
    *errmsg = diagnostics_message(name, r);
    rc = SQLITE_ERROR;
  } else if (st != WUDF_OK) {
    *errmsg = sqlite3_mprintf("wudf_define: %s: %s", name, err.message);
    rc = st == WUDF_ERR_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
  } else {
    size_t n = 0;
    const uint8_t *bytes = wudf_compile_result_wasm(r, &n);
    *wasm = sqlite3_malloc64(n ? n : 1);
    if (!*wasm)
      rc = SQLITE_NOMEM;
    else
      memcpy(*wasm, bytes, n);
    *wasm_len = n;
  }
  wudf_compile_result_free(r);
  return rc;
}

/* ---- Loading --------------------------------------------------------------*/

/* WASI imports whose results depend only on the arguments (or that only
 * write captured output): anything else (clocks, random, poll) makes the
 * function non-deterministic. */
static const char *const k_deterministic_imports[] = {
    "fd_write",      "fd_close",       "fd_seek",
    "fd_fdstat_get", "fd_prestat_get", "fd_prestat_dir_name",
    "proc_exit",     "environ_get",    "environ_sizes_get",
    "args_get",      "args_sizes_get",
};

static bool import_is_deterministic(const wudf_extern_info *x) {
  if (x->kind != WUDF_EXTERN_FUNC) return true;
  if (!x->module_name || strcmp(x->module_name, "wasi_snapshot_preview1"))
    return false;
  size_t n = sizeof k_deterministic_imports / sizeof k_deterministic_imports[0];
  for (size_t i = 0; i < n; i++)
    if (strcmp(x->name, k_deterministic_imports[i]) == 0) return true;
  return false;
}

static bool module_is_deterministic(const wudf_module *m) {
  uint32_t n = wudf_module_import_count(m);
  for (uint32_t i = 0; i < n; i++) {
    wudf_extern_info x;
    if (wudf_module_import(m, i, &x) != WUDF_OK) return false;
    if (!import_is_deterministic(&x)) return false;
  }
  return true;
}

static char *udf_list(const wudf_module *m) {
  sqlite3_str *s = sqlite3_str_new(NULL);
  uint32_t n = wudf_module_udf_count(m);
  for (uint32_t i = 0; i < n; i++) {
    wudf_udf_sig sig;
    if (wudf_module_udf(m, i, &sig) == WUDF_OK)
      sqlite3_str_appendf(s, "%s%s", i ? ", " : "", sig.name);
  }
  if (n == 0) sqlite3_str_appendall(s, "none");
  return sqlite3_str_finish(s);
}

static int def_pick_udf(const char *name, wsq_def *def, char **errmsg) {
  int64_t i = wudf_module_find_udf(def->module, name);
  if (i < 0) {
    char *list = udf_list(def->module);
    *errmsg = sqlite3_mprintf(
        "wudf_define: %s: the module has no UDF named '%s' (its UDFs: %s; a "
        "signature may be given as the fourth argument)",
        name, name, list ? list : "?");
    sqlite3_free(list);
    return SQLITE_ERROR;
  }
  wudf_module_udf(def->module, (uint32_t)i, &def->sig);
  def->deterministic = module_is_deterministic(def->module);
  return SQLITE_OK;
}

static int parse_signature(const char *name, const char *text,
                           wudf_udf_sig *sig, char **errmsg) {
  wudf_error err;
  wudf_error_init(&err);
  if (wudf_udf_sig_parse(text, strlen(text), sig, &err) != WUDF_OK) {
    *errmsg = sqlite3_mprintf("wudf_define: %s: signature '%s': %s", name, text,
                              err.message);
    return SQLITE_ERROR;
  }
  if (strcmp(sig->name, name) != 0) {
    *errmsg = sqlite3_mprintf(
        "wudf_define: %s: the signature '%s' is for another function", name,
        text);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int wsq_def_load(wsq_conn *c, const char *name, const char *lang,
                 const void *wasm, size_t len, const char *signature,
                 wsq_def *out, char **errmsg) {
  memset(out, 0, sizeof *out);
  wudf_udf_sig declared;
  if (signature && parse_signature(name, signature, &declared, errmsg))
    return SQLITE_ERROR;
  const lang_info *li = lang_find(lang);
  char module_name[WUDF_MAX_UDF_NAME + 8];
  sqlite3_snprintf((int)sizeof module_name, module_name, "%s.%s", name,
                   li ? li->ext : "wasm");
  wudf_load_options o = {.name = module_name};
  if (signature) o.udfs = &declared, o.nudfs = 1;
  wudf_error err;
  wudf_error_init(&err);
  if (wudf_module_load_ex(c->engine, wasm, len, &o, &out->module, &err)) {
    *errmsg = sqlite3_mprintf("wudf_define: %s: %s", name, err.message);
    return err.status == WUDF_ERR_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
  }
  sqlite3_snprintf((int)sizeof out->lang, out->lang, "%s",
                   li ? li->name : "wasm");
  out->wasm_len = len;
  int rc = def_pick_udf(name, out, errmsg);
  if (rc != SQLITE_OK) wsq_def_reset(out);
  return rc;
}

/* ---- wudf_define(name, source, lang [, signature]) ----------------------- */

typedef struct define_args {
  const char *name, *lang, *signature;
  const void *source;
  int source_len;
} define_args;

/* Sets *msg (NULL when out of memory) and returns SQLITE_ERROR. */
static int args_error(char **msg, char *text) {
  *msg = text;
  return SQLITE_ERROR;
}

static int read_name(sqlite3_context *ctx, sqlite3_value *v, define_args *a,
                     char **msg) {
  if (sqlite3_value_type(v) != SQLITE_TEXT)
    return args_error(msg,
                      sqlite3_mprintf("wudf_define: the name must be TEXT"));
  a->name = (const char *)sqlite3_value_text(v);
  if (!a->name) return args_error(msg, NULL);
  if (!wsq_name_ok(a->name))
    return args_error(
        msg, sqlite3_mprintf("wudf_define: '%s' is not a valid function name "
                             "(letters, digits and _, not starting with a "
                             "digit nor with wudf_, at most %d bytes)",
                             a->name, WUDF_MAX_UDF_NAME - 1));
  if (!wsq_func_find(sqlite3_user_data(ctx), a->name) &&
      wsq_name_taken(sqlite3_context_db_handle(ctx), a->name))
    return args_error(
        msg, sqlite3_mprintf("wudf_define: %s() is already an SQL function of "
                             "this connection (built-in or from another "
                             "extension)",
                             a->name));
  return SQLITE_OK;
}

/* SQLITE_OK, or SQLITE_ERROR with the message in *msg (NULL when out of
 * memory). */
static int read_define_args(sqlite3_context *ctx, int argc,
                            sqlite3_value **argv, define_args *a, char **msg) {
  if (read_name(ctx, argv[0], a, msg) != SQLITE_OK) return SQLITE_ERROR;
  a->lang = (const char *)sqlite3_value_text(argv[2]);
  if (!lang_find(a->lang))
    return args_error(
        msg, sqlite3_mprintf("wudf_define: %s: unknown language '%s' (c, c++, "
                             "wat or wasm)",
                             a->name, a->lang ? a->lang : "NULL"));
  int t = sqlite3_value_type(argv[1]);
  if (t != SQLITE_TEXT && t != SQLITE_BLOB)
    return args_error(msg, sqlite3_mprintf("wudf_define: %s: the source must "
                                           "be TEXT or a BLOB",
                                           a->name));
  a->source = t == SQLITE_BLOB ? sqlite3_value_blob(argv[1])
                               : (const void *)sqlite3_value_text(argv[1]);
  a->source_len = sqlite3_value_bytes(argv[1]);
  a->signature = NULL;
  if (argc > 3 && sqlite3_value_type(argv[3]) != SQLITE_NULL) {
    a->signature = (const char *)sqlite3_value_text(argv[3]);
    if (!a->signature) return args_error(msg, NULL);
  }
  return SQLITE_OK;
}

static bool lang_is_wasm(const char *lang) {
  return lang_find(lang)->lang == WUDF_LANG_WASM;
}

/* The module's bytes: the source itself for 'wasm', else compiled. */
static int define_wasm(wsq_conn *c, const define_args *a, void **wasm,
                       size_t *len, char **errmsg) {
  if (lang_is_wasm(a->lang)) {
    *len = (size_t)a->source_len;
    *wasm = sqlite3_malloc64(*len ? *len : 1);
    if (!*wasm) return SQLITE_NOMEM;
    if (*len) memcpy(*wasm, a->source, *len);
    return SQLITE_OK;
  }
  return wsq_def_compile(c, a->name, a->lang, a->source, (size_t)a->source_len,
                         wasm, len, errmsg);
}

static int define_install(wsq_conn *c, const define_args *a, wsq_def *def,
                          const void *wasm, size_t len, char **errmsg) {
  wsq_func *f = NULL;
  int rc = wsq_func_register(c, a->name, def, &f, errmsg);
  if (rc != SQLITE_OK) return rc;
  char sig[512];
  wudf_udf_sig_format(&def->sig, sig, sizeof sig);
  bool wasm_src = lang_is_wasm(a->lang);
  rc = wsq_store_put(c->db, a->name, def->lang, wasm_src ? NULL : a->source,
                     wasm_src ? 0 : a->source_len, wasm, (int)len, sig, errmsg);
  if (rc != SQLITE_OK) return rc;
  wsq_func_set(f, def);
  return SQLITE_OK;
}

/* Sets the error `rc`; a NULL message means memory ran out. */
static void result_error(sqlite3_context *ctx, int rc, char *msg) {
  if (rc == SQLITE_NOMEM || !msg) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_error(ctx, msg ? msg : sqlite3_errstr(rc), -1);
  if (rc != SQLITE_ERROR) sqlite3_result_error_code(ctx, rc);
  sqlite3_free(msg);
}

void wsq_define_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  wsq_conn *c = sqlite3_user_data(ctx);
  define_args a;
  memset(&a, 0, sizeof a);
  char *msg = NULL;
  if (read_define_args(ctx, argc, argv, &a, &msg) != SQLITE_OK) {
    result_error(ctx, SQLITE_ERROR, msg);
    return;
  }
  void *wasm = NULL;
  size_t len = 0;
  wsq_def def;
  memset(&def, 0, sizeof def);
  int rc = define_wasm(c, &a, &wasm, &len, &msg);
  if (rc == SQLITE_OK && len > (size_t)0x7fffffff) rc = SQLITE_TOOBIG;
  if (rc == SQLITE_OK)
    rc = wsq_def_load(c, a.name, a.lang, wasm, len, a.signature, &def, &msg);
  if (rc == SQLITE_OK) rc = define_install(c, &a, &def, wasm, len, &msg);
  if (rc == SQLITE_OK) {
    char sig[512];
    wudf_udf_sig_format(&wsq_func_find(c, a.name)->def.sig, sig, sizeof sig);
    sqlite3_result_text(ctx, sig, -1, SQLITE_TRANSIENT);
  } else {
    result_error(ctx, rc, msg);
  }
  wsq_def_reset(&def);
  sqlite3_free(wasm);
}

/* ---- wudf_undefine(name) ------------------------------------------------- */

void wsq_undefine_func(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  wsq_conn *c = sqlite3_user_data(ctx);
  const char *name = (const char *)sqlite3_value_text(argv[0]);
  wsq_func *f = name ? wsq_func_find(c, name) : NULL;
  if (!f || (!f->def.module && !f->load_error)) {
    char *msg = sqlite3_mprintf("wudf_undefine: no function named '%s'",
                                name ? name : "NULL");
    result_error(ctx, SQLITE_ERROR, msg);
    return;
  }
  char *msg = NULL;
  int rc = wsq_store_delete(c->db, f->name, &msg);
  if (rc != SQLITE_OK) {
    result_error(ctx, rc, msg);
    return;
  }
  wsq_func_clear(f);
  sqlite3_result_int(ctx, 1);
}
