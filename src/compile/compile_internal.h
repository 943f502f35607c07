/*
 * Internal interface of the source compiler (src/compile/). The public side
 * is include/wudf_compile.h; the design is described in docs/compile.md.
 *
 *   compile.c    the API, options, the result, dispatch by language
 *   cc_tools.c   finding the toolchain and what the sandbox must show
 *   cc_run.c     running a tool in the sandbox (or not) under limits
 *   cc_diag.c    turning tool output into diagnostics
 *   cc_clang.c   the C and C++ pipeline
 *   cc_irsig.c   signatures of the functions, read from clang's LLVM IR
 *   cc_wat.c     the WAT pipeline
 *   cc_udfs.c    choosing the UDFs; the module's custom sections
 *   cc_cache.c   the cache of compiled sources
 *   cc_files.c   work directories and files
 */
#ifndef WUDF_COMPILE_INTERNAL_H
#define WUDF_COMPILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "translate/process.h"
#include "wudf.h"
#include "wudf_compile.h"

/* What the tools see of the work directory and of wudf_guest.h inside the
 * sandbox. */
#define WUDF_CC_SANDBOX_DIR "/w"
#define WUDF_CC_SANDBOX_INCLUDE "/wudf/include"
#define WUDF_CC_GUEST_HEADER "wudf_guest.h"
#define WUDF_CC_UDFS_SECTION "wudf.udfs"

/* ---- Diagnostics (cc_diag.c) -------------------------------------------- */

typedef struct wudf_cc_diag {
  wudf_severity severity;
  uint32_t line, column; /* in the user's source; 0 when none */
  char *message;         /* owned */
} wudf_cc_diag;

/* A growable list. Out of memory is sticky (`oom`), checked once. */
typedef struct wudf_cc_diags {
  wudf_cc_diag *items;
  uint32_t n, cap;
  bool oom;
} wudf_cc_diags;

void wudf_cc_diags_add(wudf_cc_diags *d, wudf_severity severity, uint32_t line,
                       uint32_t column, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void wudf_cc_diags_reset(wudf_cc_diags *d);
uint32_t wudf_cc_diags_errors(const wudf_cc_diags *d);

/* How to read a tool's output. `main_name` is the name the tool was given
 * for the user's source ("udf.c"); `work_dir` the directory the tool ran in,
 * as the tool saw it ("/w" in the sandbox): paths under it (the driver's
 * temporary objects) and `object_names` (NULL-terminated, may be NULL:
 * intermediate files such as "udf.ll") stand for the user's source in
 * linker messages and are replaced by `display_name`. */
typedef struct wudf_cc_output_names {
  const char *main_name;
  const char *display_name; /* the user's file name, put in their place */
  const char *work_dir;
  const char *const *object_names;
} wudf_cc_output_names;

/* Appends the diagnostics found in a clang, wasm-ld or wat2wasm output:
 *   FILE:LINE:COL: SEVERITY: MESSAGE   FILE the main source: kept as is;
 *                                      another file: placed at the #include
 *                                      line of the main source that brought
 *                                      it in ("In file included from" lines),
 *                                      the message prefixed by "in FILE:LINE:
 *                                      "; without such a line, no position
 *   wasm-ld: error: MESSAGE            no position (also "clang: error:")
 * Summary lines ("2 errors generated.") are dropped; so are clang's excerpts
 * of the source, which wudf shows from the source itself. Other lines are
 * appended to `other` (if not NULL), one per line: crash reports. */
void wudf_cc_parse_output(const char *output, const wudf_cc_output_names *n,
                          wudf_cc_diags *out, wudf_strbuf *other);

/* ---- Files (cc_files.c) ------------------------------------------------- */

/* Creates a private directory (mode 0700) `<parent>/wudf-cc-XXXXXX`;
 * parent NULL: $TMPDIR, else /tmp. *out is owned. */
wudf_status wudf_cc_workdir_new(const char *parent, char **out,
                                wudf_error *err);

/* Removes the directory and everything below it without following
 * symbolic links. Best effort. Accepts NULL. */
void wudf_cc_workdir_remove(const char *dir);

/* Creates dir/name (mode 0600; fails if it exists or is a link) holding
 * `len` bytes. */
wudf_status wudf_cc_write_file(const char *dir, const char *name,
                               const void *data, size_t len, wudf_error *err);

/* Reads dir/name, which must be a regular file (not a link) of at most
 * `max` bytes. *data is owned and NUL-terminated. A missing file is
 * WUDF_ERR_NOT_FOUND. */
wudf_status wudf_cc_read_file(const char *dir, const char *name, size_t max,
                              char **data, size_t *len, wudf_error *err);

/* "a/b"; NULL when out of memory. */
char *wudf_cc_path_join(const char *a, const char *b);

/* ---- The toolchain (cc_tools.c) ----------------------------------------- */

typedef struct wudf_cc_bind {
  char *src, *dst; /* host path, path in the sandbox */
} wudf_cc_bind;

typedef struct wudf_cc_binds {
  wudf_cc_bind *items;
  size_t n, cap;
  bool oom;
} wudf_cc_binds;

typedef struct wudf_cc_tools {
  /* clang (real path) and wasm-ld next to it, as named there (a link to
   * lld, whose real path is `lld`). clang NULL: see clang_problem. */
  char *clang, *wasm_ld, *lld, *resource_dir;
  char *wat2wasm;        /* real path; NULL: see wat_problem */
  char *bwrap, *prlimit; /* NULL when not installed */
  /* What each sandbox shows, read-only, and its LD_LIBRARY_PATH. */
  wudf_cc_binds clang_binds, wat_binds;
  char *clang_lib_path, *wat_lib_path;
  char clang_problem[320], wat_problem[320];
  /* sha256 (hex) of the versions and files of the toolchain and of the
   * recipe: part of every cache key. */
  char id_hex[65];
} wudf_cc_tools;

/* The toolchain the options name (clang, wat2wasm, bwrap; NULL: clang-19,
 * wat2wasm and bwrap), found in PATH on first use and kept until exit;
 * borrowed. Missing parts are recorded in the *_problem fields, not
 * returned as errors. Errors: WUDF_ERR_NOMEM. Thread-safe. */
wudf_status wudf_cc_tools_get(const wudf_compile_options *o,
                              const wudf_cc_tools **out, wudf_error *err);

/* The fixed compiler flags, hashed into the toolchain id. */
extern const char *const wudf_cc_clang_flags[];
extern const char *const wudf_cc_cxx_flags[];
extern const char *const wudf_cc_link_flags[];

/* ---- Running tools (cc_run.c) ------------------------------------------- */

typedef enum wudf_cc_tool {
  WUDF_CC_CLANG,
  WUDF_CC_WAT2WASM,
} wudf_cc_tool;

/* Everything one compile needs to run its tools. */
typedef struct wudf_cc_env {
  const wudf_cc_tools *tools;
  const wudf_compile_options *opts; /* limits already defaulted */
  bool sandboxed;
  const char *work_dir;     /* host path */
  const char *guest_header; /* host path of wudf_guest.h, or NULL */
} wudf_cc_env;

/* The work directory as the tools see it. */
const char *wudf_cc_tool_dir(const wudf_cc_env *env);

/* Runs `tool` with `args` (after the program name, NULL-terminated) in the
 * work directory, under the options' limits, in the sandbox unless
 * env->sandboxed is false. WUDF_OK when the tool ended by itself, whatever
 * its exit status (in *res; the caller resets it). Errors:
 *   WUDF_ERR_LIMIT        killed by the time or CPU limit, or it ran out of
 *                         the memory or output limit (the message says
 *                         which, and names `what`)
 *   WUDF_ERR_UNSUPPORTED  bubblewrap could not set up the sandbox (its
 *                         message is quoted), or the tool cannot start
 *   WUDF_ERR_IO, WUDF_ERR_NOMEM */
wudf_status wudf_cc_run(const wudf_cc_env *env, wudf_cc_tool tool,
                        const char *what, const char *const *args,
                        wudf_process_result *res, wudf_error *err);

/* ---- Functions and UDFs (cc_irsig.c, cc_udfs.c) ------------------------- */

/* A function of the user's source that may become a UDF. */
typedef struct wudf_cc_func {
  char name[2 * WUDF_MAX_UDF_NAME]; /* its symbol name (may be cut) */
  uint32_t line, column;            /* of its definition; 0 when unknown */
  bool c_linkage;   /* exported under its source name (C, extern "C") */
  bool ok;          /* `sig` holds its signature */
  bool optional;    /* not being a UDF is no error (WAT exports) */
  bool needs_alloc; /* has a utf8 parameter */
  wudf_udf_sig sig;
  char problem[512]; /* why it cannot be a UDF, when !ok */
  char warning[320]; /* "" or a remark on its types */
} wudf_cc_func;

typedef struct wudf_cc_funcs {
  wudf_cc_func *items;
  uint32_t n, cap;
} wudf_cc_funcs;

/* Appends a zeroed entry; *slot points at it until the next push. */
wudf_status wudf_cc_funcs_push(wudf_cc_funcs *f, wudf_cc_func **slot,
                               wudf_error *err);
void wudf_cc_funcs_reset(wudf_cc_funcs *f);

/* Reads from LLVM IR text (clang -S -emit-llvm -g) the functions with
 * external linkage defined in the main file (the DIFile named `main_file`
 * in directory `main_dir`): symbol name, line, and the signature their
 * debug-info types give, or the problem. `source` (the user's text) gives
 * columns. Errors: WUDF_ERR_NOMEM; WUDF_ERR_COMPILE when the IR is not as
 * expected. */
wudf_status wudf_cc_ir_functions(const char *ir, size_t len,
                                 const char *main_file, const char *main_dir,
                                 const char *source, size_t source_len,
                                 wudf_cc_funcs *out, wudf_error *err);

/* Whether `s` is [A-Za-z_][A-Za-z0-9_]*. */
bool wudf_cc_is_identifier(const char *s);

/* Names that never become UDFs unless named: main, _start, _initialize,
 * wudf_* (the guest ABI's own exports) and names starting with "__". */
bool wudf_cc_reserved_name(const char *name);

/* Column (1-based) of the first whole-word occurrence of `name` on line
 * `line` of `source`; 0 if none. */
uint32_t wudf_cc_name_column(const char *source, size_t len, uint32_t line,
                             const char *name);

/* Line and column of the first whole-word occurrence of `word`. */
bool wudf_cc_find_word(const char *source, size_t len, const char *word,
                       uint32_t *line, uint32_t *column);

/* What decides the UDFs of a module. */
typedef struct wudf_cc_udf_input {
  const wudf_cc_funcs *funcs; /* candidates, from the source's types */
  /* The wudf.udfs text the source emitted itself (WUDF_UDF), or NULL. */
  const char *section;
  size_t section_len;
  const char *source; /* the user's text, to place declared lines */
  size_t source_len;
  const char *const *functions; /* names the caller chose; 0: all */
  uint32_t nfunctions;
} wudf_cc_udf_input;

/* Chooses the UDFs: the source's own lines win; then each candidate with C
 * linkage (not reserved), or only those named. Adds diagnostics: an error
 * for a candidate that cannot be a UDF (unless optional), for a name that
 * matches nothing, for a bad or repeated section line; a warning when
 * nothing is a UDF. *sigs is malloc'd (NULL when *n is 0). Errors:
 * WUDF_ERR_NOMEM only. */
wudf_status wudf_cc_choose_udfs(const wudf_cc_udf_input *in,
                                wudf_cc_diags *diags, wudf_udf_sig **sigs,
                                uint32_t *n, wudf_error *err);

/* The text of a wudf.udfs section holding `sigs`, one per line. Owned;
 * NULL when out of memory. */
char *wudf_cc_udfs_text(const wudf_udf_sig *sigs, uint32_t n, size_t *len);

/* Parses a wudf.udfs text into sigs (malloc'd); WUDF_ERR_INVALID naming
 * the line. */
wudf_status wudf_cc_parse_udfs(const char *text, size_t len,
                               wudf_udf_sig **sigs, uint32_t *n,
                               wudf_error *err);

/* Finds the first custom section `name` of a module; false if there is
 * none or the sections cannot be walked. */
bool wudf_cc_find_custom(const uint8_t *wasm, size_t len, const char *name,
                         size_t *offset, size_t *size);

/* Replaces every custom section `name` by one at the end holding `text`
 * (none when tlen is 0). *wasm is reallocated. Errors: WUDF_ERR_MALFORMED
 * when the sections cannot be walked, WUDF_ERR_NOMEM. */
wudf_status wudf_cc_set_custom(uint8_t **wasm, size_t *len, const char *name,
                               const char *text, size_t tlen, wudf_error *err);

/* ---- Pipelines (cc_clang.c, cc_wat.c) ----------------------------------- */

typedef struct wudf_cc_job {
  wudf_cc_env env;
  wudf_lang lang;
  const char *source;
  size_t len;
  const char *const *functions;
  uint32_t nfunctions;
  wudf_cc_diags diags; /* out */
  uint8_t *wasm;       /* out, owned */
  size_t wasm_len;
  wudf_udf_sig *udfs; /* out, owned */
  uint32_t nudfs;
} wudf_cc_job;

/* Build job->source into job->wasm and job->udfs. WUDF_OK: a module;
 * WUDF_ERR_COMPILE: job->diags holds at least one error; other statuses
 * as wudf_compile(). */
wudf_status wudf_cc_build_clang(wudf_cc_job *job, wudf_error *err);
wudf_status wudf_cc_build_wat(wudf_cc_job *job, wudf_error *err);

/* ---- The cache (cc_cache.c) --------------------------------------------- */

typedef struct wudf_cc_cache {
  char *dir; /* <cache>/compile, owned */
  char *tmp; /* <cache>/tmp, owned: parent of work directories */
} wudf_cc_cache;

/* Opens (creating) the cache with the engine's rules (translate/cache.h)
 * and its compile/ subdirectory. On failure *c is reset. */
wudf_status wudf_cc_cache_open(wudf_cc_cache *c, const char *dir,
                               wudf_error *err);
void wudf_cc_cache_reset(wudf_cc_cache *c);

/* The key of a compile: sha256 (hex) of the toolchain id, the language,
 * the chosen functions, the guest header's text and the source. */
void wudf_cc_cache_key(const wudf_cc_job *job, const char *header_text,
                       size_t header_len, char hex[65]);

/* On a hit fills *wasm (owned) and appends the stored warnings to *diags;
 * false on a miss or an entry that is not ours or not whole. */
bool wudf_cc_cache_load(const wudf_cc_cache *c, const char *key, uint8_t **wasm,
                        size_t *len, wudf_cc_diags *diags);

/* Stores a module and its diagnostics (best effort; an atomic rename
 * publishes the entry). */
void wudf_cc_cache_store(const wudf_cc_cache *c, const char *key,
                         const uint8_t *wasm, size_t len,
                         const wudf_cc_diags *diags);

#endif
