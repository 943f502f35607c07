/*
 * wudf_compile.h — compiling UDF source code (C, C++, WebAssembly text) into
 * modules that wudf_module_load() accepts, with diagnostics an editor can
 * show.
 *
 *     wudf_compile_options o;
 *     wudf_compile_options_init(&o);
 *     o.file_name = "adj_bal.c";
 *     wudf_compile_result *r = NULL;
 *     wudf_status st = wudf_compile(src, strlen(src), &o, &r, &err);
 *     for (uint32_t i = 0; r && i < wudf_compile_result_diagnostic_count(r);
 *          i++) { wudf_diagnostic d; wudf_compile_result_diagnostic(r, i, &d);
 *                 ... d.line, d.column, d.message ... }
 *     if (st == WUDF_OK) {
 *       size_t len; const uint8_t *wasm = wudf_compile_result_wasm(r, &len);
 *       wudf_module_load(engine, wasm, len, "adj_bal.c", &module, &err);
 *     }
 *     wudf_compile_result_free(r);
 *
 * Which functions become UDFs (docs/compile.md): in C, every function with
 * external linkage defined in the source file; in C++, those declared
 * extern "C"; in WAT, every exported function with numeric parameters and
 * one numeric result. Signatures come from the source's types
 * (int -> int32, long long -> int64, float -> float32, double -> float64,
 * bool -> bool, `const char *s, int32_t len` -> one utf8 parameter, a
 * `wudf_string` result -> utf8), merged with the lines the source itself
 * put in its `wudf.udfs` section (WUDF_UDF() in wudf_guest.h), which win.
 *
 * The source is treated as hostile: the compiler runs in a bubblewrap
 * sandbox that sees only the toolchain, wudf_guest.h and a private
 * directory holding the source, without network, with limits on time, CPU,
 * memory and output size. Results are cached by content.
 *
 * Thread-safety: wudf_compile() and wudf_compile_file() may run in several
 * threads (and processes) at once. A result is immutable: several threads
 * may read it at once.
 */
#ifndef WUDF_COMPILE_H
#define WUDF_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wudf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The language of a source. */
typedef enum wudf_lang {
  /* From the file name's extension (.c; .cc .cpp .cxx .c++ .C; .wat .wast;
   * .wasm), else a binary starting with "\0asm" is WASM, else C. */
  WUDF_LANG_AUTO = 0,
  WUDF_LANG_C,
  WUDF_LANG_CXX,
  WUDF_LANG_WAT,
  WUDF_LANG_WASM, /* a binary module: passed through unchanged */
} wudf_lang;

/* "auto", "c", "c++", "wat", "wasm". Static string; never NULL. */
WUDF_API const char *wudf_lang_str(wudf_lang lang);

/* The language of a file name by its extension; WUDF_LANG_AUTO if the
 * extension is not one of those above (or name is NULL). */
WUDF_API wudf_lang wudf_lang_from_name(const char *name);

/* Compile options. Initialise with wudf_compile_options_init(). Strings
 * and arrays are borrowed for the duration of the call. */
typedef struct wudf_compile_options {
  wudf_lang lang;
  /* Shown in diagnostics and used to pick the language; never given to the
   * compiler (which sees a name of wudf's choosing). NULL: "udf.c",
   * "udf.cpp", "udf.wat" or "udf.wasm" by language. */
  const char *file_name;
  /* Names of the functions that become UDFs. 0 (default): every function
   * with external C linkage defined in the source (WAT: every exported
   * function with a numeric type). Each named function must exist, and only
   * those are exported and described. */
  const char *const *functions;
  uint32_t nfunctions;
  /* Cache directory, with the engine's rules (wudf_engine_config.cache_dir):
   * NULL: $XDG_CACHE_HOME/wudf, else $HOME/.cache/wudf. Compiled sources
   * live in its `compile/` subdirectory. */
  const char *cache_dir;
  bool no_cache; /* neither read nor write the cache */
  /* Run the compiler without the sandbox: for trusted sources only, on
   * hosts where bubblewrap cannot create namespaces. Default false. The
   * library reads no environment variable: the wudf command maps
   * WUDF_UNSANDBOXED_COMPILE, WUDF_CACHE_DIR, WUDF_INCLUDE_DIR,
   * WUDF_CLANG, WUDF_WAT2WASM and WUDF_BWRAP onto these fields. */
  bool unsandboxed;
  /* Directory holding wudf_guest.h, which sources may include. NULL:
   * <directory of the running program>/../include, else
   * /usr/local/include, else /usr/include. Without it, sources that
   * include the header fail with "file not found". */
  const char *include_dir;
  /* Tools; NULL: found on PATH ("clang-19" or "clang", "wat2wasm",
   * "bwrap"). */
  const char *clang;
  const char *wat2wasm;
  const char *bwrap;
  /* Set from any thread to stop the compile: WUDF_ERR_CANCELLED, the
   * compiler killed. Borrowed; may be NULL. */
  wudf_cancel *cancel;
  wudf_phase_fn progress; /* may be NULL */
  void *progress_user;
  /* Limits on each run of a compiler or linker (one compile runs two).
   * 0 keeps the default. */
  uint32_t timeout_s;    /* wall-clock time; default 60 */
  uint32_t cpu_s;        /* CPU time; default 60 */
  uint64_t memory_bytes; /* address space; default 2 GiB */
  uint64_t output_bytes; /* size of each file written; default 256 MiB */
} wudf_compile_options;

WUDF_API void wudf_compile_options_init(wudf_compile_options *options);

typedef enum wudf_severity {
  WUDF_SEVERITY_ERROR = 0,
  WUDF_SEVERITY_WARNING,
  WUDF_SEVERITY_NOTE,
  WUDF_SEVERITY_REMARK,
} wudf_severity;

/* "error", "warning", "note", "remark". Static string; never NULL. */
WUDF_API const char *wudf_severity_str(wudf_severity severity);

/* One diagnostic, positioned in the user's source. Strings are borrowed
 * from the result. A diagnostic that arose in another file (a header) is
 * placed at the line of the user's #include that brought it in, and its
 * message names that file; one that has no place in the source (a link
 * error, a limit) has line and column 0. */
typedef struct wudf_diagnostic {
  wudf_severity severity;
  const char *file; /* the options' file_name (or its default) */
  uint32_t line;    /* 1-based; 0 when there is no position */
  uint32_t column;  /* 1-based byte offset in the line; 0 when unknown */
  const char *message;
  /* The text of that line of the source, without its line end; "" when
   * line is 0 or past the end. */
  const char *source_line;
} wudf_diagnostic;

/* Writes the diagnostic clang-style into buf (always NUL-terminated when
 * size > 0):
 *     adj_bal.c:3:12: error: expected ';' after return statement
 *         return x
 *                ^
 * (the last two lines only when there is a source line; a tab in the
 * source line is kept under the caret so that it lines up). Returns the
 * length of the whole text, like snprintf. */
WUDF_API size_t wudf_diagnostic_format(const wudf_diagnostic *diag, char *buf,
                                       size_t size);

/* The outcome of a compile: the module (when it compiled), its UDFs and the
 * diagnostics. Opaque; immutable. */
typedef struct wudf_compile_result wudf_compile_result;

/* Compiles `len` bytes of `source`. `options` may be NULL for the defaults;
 * it is read during the call only.
 *
 * Returns WUDF_OK when a module was produced: *out (owned; release with
 * wudf_compile_result_free()) holds it, its UDFs and any warnings.
 * Returns WUDF_ERR_COMPILE when the source does not compile or a function
 * cannot be a UDF: *out is still set and owned, holds the diagnostics (at
 * least one error) and no module; err's message is the first error
 * ("adj_bal.c:3:12: error: ... (and 2 more errors)").
 * Otherwise *out is NULL and:
 *   WUDF_ERR_LIMIT        the compiler exceeded a time, CPU, memory or
 *                         output limit (the message names which)
 *   WUDF_ERR_UNSUPPORTED  the sandbox cannot be created here (the message
 *                         quotes bubblewrap and names the opt-out), or a
 *                         toolchain part is missing (names the package)
 *   WUDF_ERR_MALFORMED    WUDF_LANG_WASM bytes are not a module
 *   WUDF_ERR_CACHE, WUDF_ERR_IO, WUDF_ERR_NOMEM, WUDF_ERR_ARG
 * Thread-safe. */
WUDF_API wudf_status wudf_compile(const char *source, size_t len,
                                  const wudf_compile_options *options,
                                  wudf_compile_result **out, wudf_error *err);

/* wudf_compile() on the contents of the file at `path` (read by the
 * calling process: the sandbox never sees the path). When options->file_name
 * is NULL the path is used as the file name. */
WUDF_API wudf_status wudf_compile_file(const char *path,
                                       const wudf_compile_options *options,
                                       wudf_compile_result **out,
                                       wudf_error *err);

/* Releases a result. Accepts NULL. */
WUDF_API void wudf_compile_result_free(wudf_compile_result *result);

/* The module's bytes (borrowed from the result) and their count in *len;
 * NULL (and *len 0) when the source did not compile. len may be NULL. */
WUDF_API const uint8_t *wudf_compile_result_wasm(
    const wudf_compile_result *result, size_t *len);

/* The language the source was compiled as. */
WUDF_API wudf_lang wudf_compile_result_lang(const wudf_compile_result *result);

/* Whether the module came from the cache (no compiler ran). */
WUDF_API bool wudf_compile_result_was_cached(const wudf_compile_result *result);

/* The UDFs of the module, as written into its `wudf.udfs` section. */
WUDF_API uint32_t
wudf_compile_result_udf_count(const wudf_compile_result *result);
/* Copies UDF number `index` into *sig; WUDF_ERR_ARG if out of range. */
WUDF_API wudf_status wudf_compile_result_udf(const wudf_compile_result *result,
                                             uint32_t index, wudf_udf_sig *sig);

/* Diagnostics in the order the tools reported them. */
WUDF_API uint32_t
wudf_compile_result_diagnostic_count(const wudf_compile_result *result);
/* Fills *diag for diagnostic number `index` (strings borrowed from the
 * result); WUDF_ERR_ARG if out of range. */
WUDF_API wudf_status wudf_compile_result_diagnostic(
    const wudf_compile_result *result, uint32_t index, wudf_diagnostic *diag);
/* How many diagnostics are errors. */
WUDF_API uint32_t
wudf_compile_result_error_count(const wudf_compile_result *result);

#ifdef __cplusplus
}
#endif

#endif /* WUDF_COMPILE_H */
