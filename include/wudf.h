/*
 * wudf — sandboxed WebAssembly user-defined functions for data engines.
 *
 * This header is the reference for the library's public API.
 *
 * Objects and their lifetimes
 *   wudf_engine    configuration, compiled-module cache, host imports.
 *                  Thread-safe. Must outlive every module loaded with it.
 *   wudf_module    a validated module, translated and compiled to native code.
 *                  Immutable and thread-safe once loaded. Must outlive its
 *                  instances.
 *   wudf_instance  one sandbox: linear memory, tables, globals, captured output
 *                  and limits. Used by one thread at a time; only
 *                  wudf_instance_interrupt() may be called from another thread.
 *
 * Errors
 *   Every fallible call returns a wudf_status and, when `err` is not NULL,
 *   fills it with the same status and a message that names the problem and
 *   where it is. WUDF_OK is 0. Traps have their own codes (WUDF_TRAP_*).
 *
 * Ownership
 *   "owned" means the caller must release the object with the named function;
 *   "borrowed" means the pointer stays valid only as long as the object it
 *   came from. Every *_free function accepts NULL.
 */
#ifndef WUDF_H
#define WUDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define WUDF_API __attribute__((visibility("default")))
#else
#define WUDF_API
#endif

#define WUDF_VERSION "0.1.0"

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

typedef enum wudf_status {
  WUDF_OK = 0,
  WUDF_ERR_ARG,         /* an argument is invalid (NULL, out of range) */
  WUDF_ERR_NOMEM,       /* host memory or address space exhausted */
  WUDF_ERR_IO,          /* reading a file or using a directory failed */
  WUDF_ERR_MALFORMED,   /* malformed input: WebAssembly binary, CSV file */
  WUDF_ERR_INVALID,     /* well-formed but fails WebAssembly validation */
  WUDF_ERR_UNSUPPORTED, /* uses a feature wudf cannot run (SIMD, threads, ...)
                         */
  WUDF_ERR_IMPORT,    /* an import is not allowed, not provided, or mistyped */
  WUDF_ERR_LIMIT,     /* declares memory, tables or code beyond the limits */
  WUDF_ERR_COMPILE,   /* translating or compiling to native code failed */
  WUDF_ERR_CACHE,     /* the cache directory cannot be used safely */
  WUDF_ERR_NOT_FOUND, /* no export of that name */
  WUDF_ERR_TYPE,      /* values do not match the function's or global's type */
  WUDF_ERR_SYSTEM,    /* an operating-system facility failed (a timer, a signal
                       * handler, a thread, a lock): not the input's fault */
  WUDF_ERR_HOST_MEMORY, /* the host-memory budget (wudf_budget) would be
                         * exceeded */
  WUDF_ERR_CANCELLED,   /* cancelled by the caller (wudf_cancel_trigger(),
                         * wudf_job_cancel()) */

  /* Traps: the call (or the instantiation) stopped. The instance is rebuilt
   * before its next call unless wudf_instance_config.keep_state_on_trap. */
  WUDF_TRAP_OOB = 100,          /* out-of-bounds memory or table access */
  WUDF_TRAP_DIV_BY_ZERO,        /* integer divide by zero */
  WUDF_TRAP_INT_OVERFLOW,       /* integer overflow (division, truncation) */
  WUDF_TRAP_INVALID_CONVERSION, /* float-to-int conversion of NaN */
  WUDF_TRAP_UNREACHABLE,        /* `unreachable` executed */
  WUDF_TRAP_INDIRECT_TYPE,      /* call_indirect: function type mismatch */
  WUDF_TRAP_UNDEFINED_ELEMENT,  /* call_indirect: null or missing table slot */
  WUDF_TRAP_STACK_EXHAUSTED,    /* call stack exhausted */
  WUDF_TRAP_TIMEOUT,            /* the call ran past its time limit */
  WUDF_TRAP_INTERRUPTED,        /* wudf_instance_interrupt() was called */
  WUDF_TRAP_MEMORY_LIMIT,       /* memory needed beyond the instance's cap */
  WUDF_TRAP_EXIT,               /* the module called WASI proc_exit */
} wudf_status;

/* Short English description of a status ("integer divide by zero").
 * Returns a static string; never NULL. */
WUDF_API const char *wudf_status_str(wudf_status status);

/* Stable identifier of a status ("WUDF_TRAP_DIV_BY_ZERO"). Static string. */
WUDF_API const char *wudf_status_name(wudf_status status);

/* True for the WUDF_TRAP_* codes. */
WUDF_API bool wudf_status_is_trap(wudf_status status);

#define WUDF_ERROR_MESSAGE_SIZE 1024
#define WUDF_ERROR_NAME_SIZE 256

/* Caller-owned error report. Initialise with wudf_error_init().
 *
 * Each layer that sees an error fills the fields it knows (the batch layer
 * the UDF and rows, the runtime the trapping function, the job the input
 * row and line, the CSV reader the file and column) and wudf_error_format()
 * turns them into `message`. Fronts read the fields (to map a status to an
 * HTTP status, a Python exception or an SQLSTATE, to highlight a source
 * line) and show `message` to people; nothing needs to parse the text. */
typedef struct wudf_error {
  wudf_status status;
  /* For WUDF_TRAP_EXIT: the code passed to proc_exit. */
  int32_t exit_code;
  /* For errors in a batch: the row (0-based, within the batch) where it
   * happened; -1 otherwise. */
  int64_t row;
  /* For errors in a batch: the rows it happened in, first_row..last_row
   * (0-based, within the batch). Equal to `row` when the row is known; a
   * range when only that is: a time limit or an interrupt does not say
   * which row was running (unless keep_state_on_trap, whose batch loops
   * note every row). -1 when not in a batch. */
  int64_t first_row, last_row;

  /* ---- Where: each "" or -1 when unknown. ---- */
  char module[WUDF_ERROR_NAME_SIZE]; /* the module's name (load options) */
  char udf[WUDF_ERROR_NAME_SIZE];    /* the UDF being run */
  /* The WebAssembly function running when the call trapped: its name from
   * the module's `name` section, else "$<function index>". */
  char wasm_function[WUDF_ERROR_NAME_SIZE];
  /* Source position of that function, from the module's DWARF line
   * information when it kept it: file and 1-based line (0: unknown). */
  char source_file[WUDF_ERROR_NAME_SIZE];
  uint32_t source_line;
  /* In a job: the rows of its input (0-based, counted from the first row
   * of the input stream) the error happened in. */
  int64_t input_row, input_row_end;
  /* In a job whose input knows them (a CSV file): the 1-based lines of
   * input_row and input_row_end, and the input's name. */
  int64_t input_line, input_line_end;
  char input_name[WUDF_ERROR_NAME_SIZE];
  /* The column involved: its index (in the UDF's arguments, or in a CSV
   * record) and name; -1 and "" when none. */
  int32_t column;
  char column_name[WUDF_ERROR_NAME_SIZE];

  /* The problem itself, without where ("integer divide by zero"). */
  char detail[WUDF_ERROR_MESSAGE_SIZE];
  /* The whole message for people: wudf_error_format() of the above. */
  char message[WUDF_ERROR_MESSAGE_SIZE];
} wudf_error;

WUDF_API void wudf_error_init(wudf_error *err);

/* Rebuilds err->message from `detail` and the location fields, one fixed
 * layout for every layer and front:
 *   "<module>: <udf>: <detail> in <wasm_function> (<source_file>:<line>)
 *    on line <input_line> of <input_name> (row <input_row>)"
 * with the parts that are unknown left out. Accepts NULL. */
WUDF_API void wudf_error_format(wudf_error *err);

/* ------------------------------------------------------------------------ */
/* The process: allocator, signals, recovery                                */
/* ------------------------------------------------------------------------ */

/* wudf's allocator: like realloc(ptr, size), and free(ptr) when size is 0
 * (returning NULL). Must be thread-safe. wudf never asks it for 0 bytes
 * but to free. */
typedef void *(*wudf_realloc_fn)(void *user, void *ptr, size_t size);

/* Who handles SIGSEGV and SIGBUS, which sandboxed code raises when it
 * touches a guard page. */
typedef enum wudf_fault_mode {
  /* wudf installs its handlers (on first use) and hands faults that are not
   * its own to the handler that was there before. */
  WUDF_FAULTS_INSTALL = 0,
  /* The host owns the signals (a JVM, a database server) and calls
   * wudf_runtime_handle_fault() first from its own handler. */
  WUDF_FAULTS_HOST,
} wudf_fault_mode;

/* Process-wide settings. Initialise with wudf_runtime_config_init(). */
typedef struct wudf_runtime_config {
  /* Allocator for every allocation libwudf makes; NULL: the C library's. */
  wudf_realloc_fn realloc;
  void *realloc_user;
  /* Real-time signal used by call timers and interrupts. 0: SIGRTMIN+3.
   * Must be in SIGRTMIN..SIGRTMAX and not used by the host. */
  int timer_signal;
  wudf_fault_mode faults;
} wudf_runtime_config;

WUDF_API void wudf_runtime_config_init(wudf_runtime_config *config);

/* Sets the process-wide settings and installs the signal handlers. Call it
 * once, before any other wudf call (other than the *_init helpers);
 * without it, the first call that needs the runtime uses the defaults (and
 * the first allocation fixes the allocator). A second call with the same
 * settings (0 and the default timer signal are the same) returns WUDF_OK;
 * with other settings, or after the runtime started with other ones,
 * WUDF_ERR_ARG naming the setting. WUDF_ERR_ARG too for a NULL config, a
 * timer signal outside SIGRTMIN..SIGRTMAX or an unknown fault mode.
 * WUDF_ERR_SYSTEM if a signal handler cannot be installed (the settings
 * are then not fixed). Thread-safe. */
WUDF_API wudf_status wudf_runtime_init(const wudf_runtime_config *config,
                                       wudf_error *err);

/* In WUDF_FAULTS_HOST mode, the host's SIGSEGV/SIGBUS handler calls this
 * first with its own arguments (`siginfo` a siginfo_t *, `ucontext` the
 * handler's third argument). If the fault comes from sandboxed code it
 * does not return (the guarded call ends with its trap, and the thread's
 * signal mask is restored from `ucontext`); otherwise it returns false and
 * the host handles the fault as it would have. The host's handler must be
 * installed with SA_SIGINFO | SA_ONSTACK (wudf gives each thread that
 * runs sandboxed code an alternate signal stack), or stack exhaustion
 * cannot be caught. Async-signal-safe. */
WUDF_API bool wudf_runtime_handle_fault(int sig, void *siginfo, void *ucontext);

/* Checks that wudf's signal handlers (the fault handlers in
 * WUDF_FAULTS_INSTALL mode, and the timer signal's) are still the ones
 * installed: a handler installed later (Python's faulthandler, a JVM)
 * would see sandbox faults first. With `repair`, reinstalls them, keeping
 * the newer handler as the one faults that are not wudf's go to.
 * WUDF_ERR_SYSTEM names the signal whose handler was replaced (when not
 * repaired), or reports a sigaction() failure. WUDF_OK when the runtime
 * has not started (nothing installed yet). Thread-safe. */
WUDF_API wudf_status wudf_runtime_check(bool repair, wudf_error *err);

/* A host function (wudf_host_func) must return; one that leaves by
 * longjmp() or an exception (PostgreSQL's ereport(ERROR)) leaves the
 * calling thread marked as inside a guarded call: until this is called,
 * wudf calls on that thread fail with WUDF_ERR_ARG. After catching it, the
 * host calls this on that thread: the call is ended as a trap, the
 * instance that made it is rebuilt before its next call (even with
 * keep_state_on_trap), and the thread can call into wudf again. Does
 * nothing when no call was left that way. wudf_instance_free() of that
 * instance, on that thread, also ends the call. Calling thread only. */
WUDF_API void wudf_runtime_recover(void);

/* Drops the function types that no loaded module uses any more (the
 * runtime's type registry otherwise only grows: each module holds its
 * types from load to wudf_module_free()). Returns how many were dropped.
 * Thread-safe. */
WUDF_API size_t wudf_runtime_trim(void);

/* ------------------------------------------------------------------------ */
/* Cancellation and host-memory budgets, shared by loads, compiles and jobs  */
/* ------------------------------------------------------------------------ */

/* A cancellation flag. Owned: release with wudf_cancel_free(). */
typedef struct wudf_cancel wudf_cancel;

WUDF_API wudf_status wudf_cancel_new(wudf_cancel **out, wudf_error *err);
WUDF_API void wudf_cancel_free(wudf_cancel *cancel);
/* Sets the flag: what uses it stops as soon as it can, with
 * WUDF_ERR_CANCELLED (a running sandbox call is interrupted; a running
 * translator or compiler is killed). Any thread; async-signal-safe. */
WUDF_API void wudf_cancel_trigger(wudf_cancel *cancel);
WUDF_API bool wudf_cancel_is_set(const wudf_cancel *cancel);

/* A budget of host memory (memory outside the sandbox: string results,
 * widened copies of columns, CSV and batch buffers), charged and
 * credited as that memory is allocated and released. Owned: release with
 * wudf_budget_free() after everything charged to it. Thread-safe. */
typedef struct wudf_budget wudf_budget;

WUDF_API wudf_status wudf_budget_new(uint64_t limit_bytes, wudf_budget **out,
                                     wudf_error *err);
WUDF_API void wudf_budget_free(wudf_budget *budget);
WUDF_API uint64_t wudf_budget_limit(const wudf_budget *budget);
WUDF_API uint64_t wudf_budget_used(const wudf_budget *budget);
WUDF_API uint64_t wudf_budget_peak(const wudf_budget *budget);

/* What a load or a compile is doing; handed to a progress callback. */
typedef enum wudf_phase {
  WUDF_PHASE_PARSE,     /* reading and validating the module */
  WUDF_PHASE_CACHE,     /* looking in the cache */
  WUDF_PHASE_TRANSLATE, /* wasm2c */
  WUDF_PHASE_CC,        /* the C compiler on the translated module */
  WUDF_PHASE_LINK,      /* loading the shared object, linking imports */
  WUDF_PHASE_COMPILE,   /* a source compiler (clang, wat2wasm) */
  WUDF_PHASE_DONE,
} wudf_phase;

/* "parse", "cache", "translate", "cc", "link", "compile", "done". */
WUDF_API const char *wudf_phase_str(wudf_phase phase);

/* Called on the loading thread as each phase starts, with the seconds
 * since the load started. */
typedef void (*wudf_phase_fn)(void *user, wudf_phase phase, double seconds);

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum wudf_valtype {
  WUDF_I32,
  WUDF_I64,
  WUDF_F32,
  WUDF_F64,
  WUDF_FUNCREF,   /* opaque; NULL is the null reference */
  WUDF_EXTERNREF, /* opaque host pointer; NULL is the null reference */
} wudf_valtype;

/* Name of a value type in WebAssembly text form ("i32", "externref"). */
WUDF_API const char *wudf_valtype_str(wudf_valtype type);

typedef struct wudf_val {
  wudf_valtype type;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    void *ref; /* externref: the host pointer; funcref: opaque handle */
  } of;
} wudf_val;

/* ------------------------------------------------------------------------ */
/* Limits                                                                   */
/* ------------------------------------------------------------------------ */

/* Per-instance limits. Initialise with wudf_limits_init() for the defaults. */
typedef struct wudf_limits {
  /* Linear memory cap in bytes (rounded down to 64 KiB pages). A module whose
   * initial memory exceeds it is refused at load; memory.grow past it returns
   * -1 to the module. Default 256 MiB; at most 4 GiB. */
  uint64_t memory_bytes;
  /* Most elements a table may hold. Default 1,000,000. */
  uint32_t table_elements;
  /* Wall-clock limit for one call (or one instantiation), in milliseconds.
   * 0 disables it. Default 10,000. */
  uint32_t timeout_ms;
  /* Captured stdout+stderr per instance, in bytes; the rest is dropped and
   * the output is marked truncated. Default 64 KiB. */
  uint32_t output_bytes;
} wudf_limits;

WUDF_API void wudf_limits_init(wudf_limits *limits);

/* ------------------------------------------------------------------------ */
/* Engine                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct wudf_engine wudf_engine;

typedef struct wudf_engine_config {
  /* Directory for compiled modules. NULL: $XDG_CACHE_HOME/wudf, else
   * $HOME/.cache/wudf. Created with mode 0700; it must belong to the
   * current user and not be writable by others. The library reads no
   * other environment variable: the wudf command maps WUDF_CACHE_DIR,
   * WUDF_CC and WUDF_WASM2C onto these fields. */
  const char *cache_dir;
  /* C compiler used for translated modules. NULL: "cc". */
  const char *cc;
  /* wasm2c executable. NULL: "wasm2c". */
  const char *wasm2c;
  /* Limit on translating and compiling one module, in seconds. Default 120. */
  uint32_t compile_timeout_s;
  /* Largest accepted module, in bytes. Default 64 MiB. */
  uint64_t max_module_bytes;
  /* Most functions (imported + defined) a module may have. Default 50,000. */
  uint32_t max_functions;
  /* Default limits of instances. */
  wudf_limits limits;
  /* Allow the WASI subset (fd_write to stdout/stderr captured, clocks,
   * random, proc_exit; everything else refused). Default true. */
  bool allow_wasi;
} wudf_engine_config;

WUDF_API void wudf_engine_config_init(wudf_engine_config *config);

/* Creates an engine. `config` may be NULL for the defaults; it is copied.
 * On success *out is owned: release with wudf_engine_free(). */
WUDF_API wudf_status wudf_engine_new(const wudf_engine_config *config,
                                     wudf_engine **out, wudf_error *err);

/* Releases the engine. All its modules must have been freed. */
WUDF_API void wudf_engine_free(wudf_engine *engine);

/* The cache directory in use. Borrowed from the engine. */
WUDF_API const char *wudf_engine_cache_dir(const wudf_engine *engine);

/* A host function: reads `args` (as many as the declared parameters) and
 * writes `results`. Returning a status other than WUDF_OK traps the calling
 * module with that status. Must not call back into wudf. */
typedef wudf_status (*wudf_host_func)(void *user, const wudf_val *args,
                                      wudf_val *results);

/* Host imports that modules loaded afterwards may import as
 * `module_name`.`name`. Not thread-safe against concurrent loads on the same
 * engine; define imports before loading modules. The engine owns the storage
 * of defined globals, memories and tables. */
WUDF_API wudf_status wudf_engine_define_func(
    wudf_engine *engine, const char *module_name, const char *name,
    const wudf_valtype *params, uint32_t nparams, const wudf_valtype *results,
    uint32_t nresults, wudf_host_func func, void *user, wudf_error *err);
WUDF_API wudf_status wudf_engine_define_global(wudf_engine *engine,
                                               const char *module_name,
                                               const char *name, wudf_val value,
                                               bool mutable_, wudf_error *err);
WUDF_API wudf_status wudf_engine_define_memory(
    wudf_engine *engine, const char *module_name, const char *name,
    uint32_t min_pages, uint32_t max_pages, wudf_error *err);
WUDF_API wudf_status wudf_engine_define_table(
    wudf_engine *engine, const char *module_name, const char *name,
    uint32_t min_elements, uint32_t max_elements, wudf_error *err);

/* ------------------------------------------------------------------------ */
/* Modules                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct wudf_module wudf_module;

/* Validates `bytes`, translates and compiles them (or finds the compiled
 * module in the cache) and loads the result. `bytes` is copied. `name` is
 * used in messages (e.g. the file name); may be NULL.
 * On success *out is owned: release with wudf_module_free().
 * Errors: WUDF_ERR_MALFORMED (with byte offset), WUDF_ERR_INVALID,
 * WUDF_ERR_UNSUPPORTED, WUDF_ERR_IMPORT (names each refused import),
 * WUDF_ERR_LIMIT, WUDF_ERR_COMPILE, WUDF_ERR_CACHE, WUDF_ERR_NOMEM.
 * Thread-safe: several threads and processes may load the same module. */
WUDF_API wudf_status wudf_module_load(wudf_engine *engine, const void *bytes,
                                      size_t len, const char *name,
                                      wudf_module **out, wudf_error *err);

/* Same as wudf_module_load() on the contents of the file at `path`. */
WUDF_API wudf_status wudf_module_load_file(wudf_engine *engine,
                                           const char *path, wudf_module **out,
                                           wudf_error *err);

WUDF_API void wudf_module_free(wudf_module *module);

/* Whether the last load of this module found it in the cache. */
WUDF_API bool wudf_module_was_cached(const wudf_module *module);

typedef enum wudf_extern_kind {
  WUDF_EXTERN_FUNC = 0,
  WUDF_EXTERN_TABLE = 1,
  WUDF_EXTERN_MEMORY = 2,
  WUDF_EXTERN_GLOBAL = 3,
} wudf_extern_kind;

/* Describes an export or import. Strings are borrowed from the module. For
 * functions, `params`/`results` describe the type; for globals, results[0]
 * is the value type and `mutable_` is set. */
typedef struct wudf_extern_info {
  const char *module_name; /* imports only; NULL for exports */
  const char *name;
  wudf_extern_kind kind;
  uint32_t nparams, nresults;
  const wudf_valtype *params, *results;
  bool mutable_;
  uint64_t min, max; /* tables, memories (pages); max UINT64_MAX if none */
} wudf_extern_info;

WUDF_API uint32_t wudf_module_export_count(const wudf_module *module);
WUDF_API uint32_t wudf_module_import_count(const wudf_module *module);
/* Fills *info for export/import number `index`; WUDF_ERR_ARG if out of
 * range. */
WUDF_API wudf_status wudf_module_export(const wudf_module *module,
                                        uint32_t index, wudf_extern_info *info);
WUDF_API wudf_status wudf_module_import(const wudf_module *module,
                                        uint32_t index, wudf_extern_info *info);

/* Index of the export whose name is the `len` bytes at `name` (names may
 * contain NUL bytes), or -1 if there is none. */
WUDF_API int64_t wudf_module_export_index(const wudf_module *module,
                                          const char *name, size_t len);

/* ------------------------------------------------------------------------ */
/* Instances                                                                */
/* ------------------------------------------------------------------------ */

typedef struct wudf_instance wudf_instance;

typedef struct wudf_instance_config {
  wudf_limits limits;
  /* Keep memory, tables and globals as they are after a trap instead of
   * rebuilding the instance. Default false: a trapped instance is discarded
   * and rebuilt before its next call. */
  bool keep_state_on_trap;
  /* Host memory the instance's batches allocate (results, widened
   * columns) is charged to this budget; a batch that would pass it fails
   * with WUDF_ERR_HOST_MEMORY. Borrowed; NULL: not counted. */
  wudf_budget *budget;
} wudf_instance_config;

/* Copies the engine's default limits into *config. */
WUDF_API void wudf_instance_config_init(const wudf_engine *engine,
                                        wudf_instance_config *config);

/* Instantiates `module`: allocates memory and tables, resolves imports, runs
 * data/element segments and the start function under the limits. `config`
 * may be NULL for the engine's defaults; it is copied.
 * On success *out is owned: release with wudf_instance_free(). */
WUDF_API wudf_status wudf_instance_new(wudf_module *module,
                                       const wudf_instance_config *config,
                                       wudf_instance **out, wudf_error *err);

/* Frees the instance. Also stops the calling thread's call timer, which
 * otherwise may deliver one ignored timer signal (SIGRTMIN+3 by default)
 * up to a time limit after the thread's last call (docs/security.md,
 * "Time"). */
WUDF_API void wudf_instance_free(wudf_instance *instance);

/* Calls export `name` with `nargs` arguments, whose types must match the
 * function's parameters exactly, and writes `nresults` results (which must be
 * the function's result count). A trap returns its WUDF_TRAP_* code; the
 * message names the function and the trap. */
WUDF_API wudf_status wudf_instance_call(wudf_instance *instance,
                                        const char *name, const wudf_val *args,
                                        uint32_t nargs, wudf_val *results,
                                        uint32_t nresults, wudf_error *err);

/* Same as wudf_instance_call() for the function export number
 * `export_index` (see wudf_module_export_index()): no name lookup. */
WUDF_API wudf_status wudf_instance_call_export(
    wudf_instance *instance, uint32_t export_index, const wudf_val *args,
    uint32_t nargs, wudf_val *results, uint32_t nresults, wudf_error *err);

/* The module `instance` was made from. Borrowed. */
WUDF_API wudf_module *wudf_instance_module(const wudf_instance *instance);

/* Reads exported global `name`. */
WUDF_API wudf_status wudf_instance_get_global(wudf_instance *instance,
                                              const char *name, wudf_val *out,
                                              wudf_error *err);

/* Makes exports of `instance` importable as module `as_name` by modules
 * loaded afterwards on `engine`. The instance must outlive those modules'
 * instances and must not be rebuilt (use keep_state_on_trap). */
WUDF_API wudf_status wudf_engine_register_instance(wudf_engine *engine,
                                                   const char *as_name,
                                                   wudf_instance *instance,
                                                   wudf_error *err);

/* Stops the call running in `instance`: it traps with
 * WUDF_TRAP_INTERRUPTED. When no call is running it does nothing (a late
 * interrupt never stops the next call); an interrupt that races with a
 * call just starting stops that call. Any thread; async-signal-safe
 * (atomics and tgkill() of the timer signal). A signal handler that
 * interrupts the call running on its own thread should block the timer
 * signal in its sa_mask (docs/security.md, "Time"). Accepts NULL. */
WUDF_API void wudf_instance_interrupt(wudf_instance *instance);

/* Output the module wrote to stdout and stderr, in order, up to the limit.
 * Borrowed; valid until the next call or wudf_instance_clear_output(). */
WUDF_API const char *wudf_instance_output(const wudf_instance *instance,
                                          size_t *len, bool *truncated);
WUDF_API void wudf_instance_clear_output(wudf_instance *instance);

/* Current size of the instance's memory 0 in bytes (0 if none). */
WUDF_API uint64_t wudf_instance_memory_size(const wudf_instance *instance);

/* ------------------------------------------------------------------------ */
/* Columnar batches: the Arrow C Data Interface                             */
/* ------------------------------------------------------------------------ */

/* The two structs of the Arrow C Data Interface, as the Arrow specification
 * defines them (a C ABI shared by every Arrow implementation). A producer
 * fills them and sets `release`; the consumer calls release() when done, or
 * moves ownership by copying the struct and setting the source's release to
 * NULL. */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char *format;
  const char *name;
  const char *metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema **children;
  struct ArrowSchema *dictionary;
  void (*release)(struct ArrowSchema *);
  void *private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void **buffers;
  struct ArrowArray **children;
  struct ArrowArray *dictionary;
  void (*release)(struct ArrowArray *);
  void *private_data;
};

#endif /* ARROW_C_DATA_INTERFACE */

/* The Arrow C Stream Interface: a producer of batches (struct arrays) of one
 * schema. get_next() sets array->release to NULL at the end of the
 * stream. */
#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
  int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
  const char *(*get_last_error)(struct ArrowArrayStream *);
  void (*release)(struct ArrowArrayStream *);
  void *private_data;
};

#endif /* ARROW_C_STREAM_INTERFACE */

/* Column and UDF value types, with their Arrow format strings. */
typedef enum wudf_type {
  WUDF_TYPE_INT32,   /* "i"  int32 */
  WUDF_TYPE_INT64,   /* "l"  int64 */
  WUDF_TYPE_FLOAT32, /* "f"  float32 */
  WUDF_TYPE_FLOAT64, /* "g"  float64 */
  WUDF_TYPE_BOOL,    /* "b"  boolean, bit-packed */
  WUDF_TYPE_UTF8,    /* "u"  utf8 string, int32 offsets */
  /* Column types only: accepted wherever a utf8 column is and passed to a
   * utf8 parameter; never a UDF's parameter or result type. */
  WUDF_TYPE_LARGE_UTF8, /* "U"  utf8 string, int64 offsets */
  WUDF_TYPE_UTF8_VIEW,  /* "vu" utf8 view (inline or buffer-referenced) */
} wudf_type;

/* "int32", "int64", "float32", "float64", "bool", "utf8", "large_utf8",
 * "utf8_view". Static. */
WUDF_API const char *wudf_type_str(wudf_type type);
/* The Arrow format string of `type`. Static. */
WUDF_API const char *wudf_type_arrow_format(wudf_type type);
/* The type of an Arrow format string; false if wudf does not support it. */
WUDF_API bool wudf_type_from_arrow_format(const char *format, wudf_type *out);

/* Builds arrays (caller-owned: release with array->release). The array is
 * empty with capacity for `capacity` rows; values are appended. */
typedef struct wudf_array_builder wudf_array_builder;
WUDF_API wudf_status wudf_array_builder_new(wudf_type type, int64_t capacity,
                                            wudf_array_builder **out,
                                            wudf_error *err);
WUDF_API void wudf_array_builder_free(wudf_array_builder *b);
WUDF_API wudf_status wudf_array_builder_append_null(wudf_array_builder *b);
WUDF_API wudf_status wudf_array_builder_append_int(wudf_array_builder *b,
                                                   int64_t v);
WUDF_API wudf_status wudf_array_builder_append_double(wudf_array_builder *b,
                                                      double v);
WUDF_API wudf_status wudf_array_builder_append_bool(wudf_array_builder *b,
                                                    bool v);
WUDF_API wudf_status wudf_array_builder_append_string(wudf_array_builder *b,
                                                      const char *s,
                                                      size_t len);
/* The appends return WUDF_ERR_TYPE for a value of another kind, an int32 out
 * of range or invalid UTF-8, and WUDF_ERR_LIMIT when utf8 data would reach
 * 2^31 bytes; they fill no wudf_error.
 * Moves the built array (and, if schema is not NULL, a schema named `name`)
 * out; the builder is empty afterwards and can be reused or freed. */
WUDF_API wudf_status wudf_array_builder_finish(wudf_array_builder *b,
                                               const char *name,
                                               struct ArrowArray *array,
                                               struct ArrowSchema *schema,
                                               wudf_error *err);

/* ------------------------------------------------------------------------ */
/* UDFs: signatures and batch execution                                     */
/* ------------------------------------------------------------------------ */

#define WUDF_MAX_UDF_PARAMS 16
#define WUDF_MAX_UDF_NAME 128

/* A UDF's signature. In text form (the `wudf.udfs` custom section, one per
 * line, and wudf_udf_sig_parse()):
 *     calculate_adj_bal(int32, float32) -> float32
 *     email_domain(utf8) -> utf8
 *     coalesce(int32, int32) -> int32 nulls
 * The function's WebAssembly type follows from it: see docs/abi.md. */
typedef struct wudf_udf_sig {
  char name[WUDF_MAX_UDF_NAME]; /* the exported function */
  uint32_t nparams;
  wudf_type params[WUDF_MAX_UDF_PARAMS];
  wudf_type result;
  /* false (SQL STRICT): a NULL argument gives a NULL result and the function
   * is not called. true: the function is called for every row and receives
   * an is-null flag after each argument. */
  bool sees_nulls;
} wudf_udf_sig;

/* Parses one signature in text form. Errors: WUDF_ERR_ARG, "at column N:
 * expected ..., found ...". */
WUDF_API wudf_status wudf_udf_sig_parse(const char *text, size_t len,
                                        wudf_udf_sig *out, wudf_error *err);
/* Writes the text form into buf (always NUL-terminated). */
WUDF_API void wudf_udf_sig_format(const wudf_udf_sig *sig, char *buf,
                                  size_t size);

/* Load options. Initialise with `= {0}`. */
typedef struct wudf_load_options {
  const char *name; /* used in messages; NULL: "module" */
  /* UDF signatures declared by the caller, for modules without a wudf.udfs
   * section (or to override entries of it, by name). */
  const wudf_udf_sig *udfs;
  uint32_t nudfs;
  /* Set from any thread to stop the load: WUDF_ERR_CANCELLED, the
   * translator or compiler killed. Borrowed; may be NULL. */
  wudf_cancel *cancel;
  wudf_phase_fn progress; /* may be NULL */
  void *progress_user;
} wudf_load_options;

/* wudf_module_load() with options. Each UDF (from the module's wudf.udfs
 * section and from `options`) must name an exported function whose type
 * matches its signature, else WUDF_ERR_TYPE naming the UDF. */
WUDF_API wudf_status wudf_module_load_ex(wudf_engine *engine, const void *bytes,
                                         size_t len,
                                         const wudf_load_options *options,
                                         wudf_module **out, wudf_error *err);

/* Whether the native code of `bytes`, loaded with `options` (may be NULL),
 * is already in the engine's cache, found without translating, compiling or
 * writing anything: the module is parsed and its UDFs checked as
 * wudf_module_load_ex() would, then the cache entry is looked at. *cached
 * receives the answer (false on error). Errors: those of parsing
 * (WUDF_ERR_MALFORMED, WUDF_ERR_UNSUPPORTED, WUDF_ERR_LIMIT,
 * WUDF_ERR_INVALID), WUDF_ERR_TYPE (UDFs), WUDF_ERR_NOMEM, WUDF_ERR_ARG.
 * Thread-safe. */
WUDF_API wudf_status wudf_module_is_cached(wudf_engine *engine,
                                           const void *bytes, size_t len,
                                           const wudf_load_options *options,
                                           bool *cached, wudf_error *err);

WUDF_API uint32_t wudf_module_udf_count(const wudf_module *module);
/* Copies UDF number `index` into *sig. */
WUDF_API wudf_status wudf_module_udf(const wudf_module *module, uint32_t index,
                                     wudf_udf_sig *sig);
/* Index of the UDF named `name`, or -1. */
WUDF_API int64_t wudf_module_find_udf(const wudf_module *module,
                                      const char *name);

/* Checks, before any data is read, that columns of the given schemas can be
 * passed to UDF `udf`: same count; each column's type equal to the
 * parameter's or widened without loss (int32 -> int64, int32 -> float64,
 * float32 -> float64). The message names the column and the parameter. */
WUDF_API wudf_status wudf_module_check_udf(
    const wudf_module *module, const char *udf,
    const struct ArrowSchema *const *schemas, uint32_t ncols, wudf_error *err);

/* MAP: runs UDF `udf` over `ncols` columns of equal length (borrowed; not
 * released) in one guarded call, and moves the result column into *out (and
 * its schema, named `<udf>_RESULT`, into *out_schema if not NULL); the caller
 * releases them. Row i of the result is NULL if any argument is NULL (unless
 * the UDF sees NULLs). On error nothing is written to *out; a trap names the
 * function, its kind and the row (also in err->row). */
WUDF_API wudf_status wudf_instance_map(wudf_instance *instance, const char *udf,
                                       const struct ArrowArray *const *columns,
                                       const struct ArrowSchema *const *schemas,
                                       uint32_t ncols, struct ArrowArray *out,
                                       struct ArrowSchema *out_schema,
                                       wudf_error *err);

/* FILTER: like wudf_instance_map() for a UDF returning bool or int32, but
 * writes a selection: a boolean array with no NULLs, true where the function
 * returned true (non-zero); NULL results become false. *selected (if not
 * NULL) receives the number of true rows. */
WUDF_API wudf_status wudf_instance_filter(
    wudf_instance *instance, const char *udf,
    const struct ArrowArray *const *columns,
    const struct ArrowSchema *const *schemas, uint32_t ncols,
    struct ArrowArray *selection, int64_t *selected, wudf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* WUDF_H */
