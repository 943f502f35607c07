/*
 * The WASI (wasi_snapshot_preview1) subset that sandboxed modules may import.
 * Deny by default: what is not listed here is refused at load.
 *
 * Provided, with the WASI preview1 signatures:
 *   fd_write            fd 1 and 2 append to the captured output; others BADF
 *   fd_read             fd 0 is at end of file (0 bytes); others BADF
 *   fd_fdstat_get       fd 0, 1, 2 are character devices (0 readable, 1 and
 *                       2 writable, none seekable); others BADF
 *   fd_seek             fd 0, 1, 2 SPIPE; others BADF
 *   fd_close            BADF (nothing may be closed)
 *   fd_prestat_get,     BADF: no preopened directories
 *   fd_prestat_dir_name
 *   args_sizes_get,     no arguments
 *   args_get
 *   environ_sizes_get,  empty environment
 *   environ_get
 *   clock_res_get,      realtime, monotonic, process and thread CPU time of
 *   clock_time_get      the host; other clocks INVAL
 *   random_get          the host's getrandom()
 *   sched_yield         success, does nothing
 *   poll_oneoff         NOTSUP (a module may not sleep)
 *   proc_exit           ends the guarded call with WUDF_TRAP_EXIT and the code
 * Not provided: path_*, sock_*, fd_pread, fd_pwrite, fd_readdir, fd_renumber,
 * fd_filestat_*, fd_fdstat_set_*, fd_advise, fd_allocate, fd_sync,
 * fd_datasync, fd_tell, proc_raise.
 *
 * Calling convention. Each function is called by generated code through an
 * import slot (translate/shim_abi.h) as R fn(void *ctx, P1, ...), with
 * wasm2c's C types (u32 for i32, u64 for i64); ctx is a wudf_wasi_ctx *.
 * They return a WASI errno (0 on success), except proc_exit, which does not
 * return. Every pointer the module passes is checked against the memory's
 * current size with 64-bit arithmetic: a range that does not fit returns
 * WUDF_WASI_ERRNO_FAULT before anything is read or written. When the module
 * has no exported memory (ctx->memory NULL), the functions that read or write
 * memory return WUDF_WASI_ERRNO_FAULT (after the fd check, if any).
 *
 * Each function but proc_exit runs between wudf_rt_host_enter() and
 * wudf_rt_host_leave(); proc_exit traps directly, as generated code does.
 * A ctx is used by one thread at a time (that of its instance).
 */
#ifndef WUDF_RUNTIME_WASI_H
#define WUDF_RUNTIME_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasm-rt.h>

#define WUDF_WASI_MODULE "wasi_snapshot_preview1"

/* The WASI errno values wudf returns (wasi_snapshot_preview1 numbering). */
#define WUDF_WASI_ERRNO_SUCCESS 0u
#define WUDF_WASI_ERRNO_BADF 8u
#define WUDF_WASI_ERRNO_FAULT 21u
#define WUDF_WASI_ERRNO_INVAL 28u
#define WUDF_WASI_ERRNO_IO 29u
#define WUDF_WASI_ERRNO_NOTSUP 58u
#define WUDF_WASI_ERRNO_SPIPE 70u

/* Per-instance WASI state. Caller-owned: wudf_wasi_ctx_init() before use,
 * wudf_wasi_ctx_reset() to release. */
typedef struct wudf_wasi_ctx {
  wasm_rt_memory_t *memory; /* the module's exported "memory"; NULL if none.
                               Borrowed; set by the instance. */
  char *out;                /* captured stdout+stderr in write order, owned;
                               NUL-terminated; NULL while nothing is kept */
  size_t out_len, out_cap;  /* out_cap: bytes allocated (incl. the NUL) */
  size_t out_limit;         /* bytes kept at most; beyond: dropped, truncated */
  bool truncated;           /* some output was dropped (limit or no memory) */
} wudf_wasi_ctx;

/* Zeroes *ctx and sets the output limit in bytes. Cannot fail: the output
 * buffer is allocated on the first write. */
void wudf_wasi_ctx_init(wudf_wasi_ctx *ctx, size_t out_limit);

/* Frees the output and zeroes *ctx (init again to reuse). NULL is allowed. */
void wudf_wasi_ctx_reset(wudf_wasi_ctx *ctx);

/* Empties the output and clears `truncated`; keeps the buffer for reuse. */
void wudf_wasi_ctx_clear_output(wudf_wasi_ctx *ctx);

/* One provided function. Strings and fn are static. */
typedef struct wudf_wasi_func {
  const char *name;    /* e.g. "fd_write" */
  const char *params;  /* wasm types as letters: i=i32 j=i64 f=f32 d=f64 */
  const char *results; /* same letters; "" for none */
  void (*fn)(void);    /* the typed function below, cast */
  bool needs_memory;   /* reads or writes the module's exported memory */
} wudf_wasi_func;

/* The allowed function `name` of module WUDF_WASI_MODULE, or NULL if wudf
 * does not provide it (the loader then refuses the module, naming the
 * import). `name` NULL returns NULL. Thread-safe. */
const wudf_wasi_func *wudf_wasi_lookup(const char *name);

/* The provided functions, callable directly (tests) or through the table. */
uint32_t wudf_wasi_fd_write(void *ctx, uint32_t fd, uint32_t iovs,
                            uint32_t iovs_len, uint32_t nwritten_ptr);
uint32_t wudf_wasi_fd_read(void *ctx, uint32_t fd, uint32_t iovs,
                           uint32_t iovs_len, uint32_t nread_ptr);
uint32_t wudf_wasi_fd_close(void *ctx, uint32_t fd);
uint32_t wudf_wasi_fd_seek(void *ctx, uint32_t fd, uint64_t offset,
                           uint32_t whence, uint32_t newoffset_ptr);
uint32_t wudf_wasi_fd_fdstat_get(void *ctx, uint32_t fd, uint32_t stat_ptr);
uint32_t wudf_wasi_fd_prestat_get(void *ctx, uint32_t fd, uint32_t prestat_ptr);
uint32_t wudf_wasi_fd_prestat_dir_name(void *ctx, uint32_t fd, uint32_t path,
                                       uint32_t path_len);
uint32_t wudf_wasi_args_sizes_get(void *ctx, uint32_t argc_ptr,
                                  uint32_t buf_size_ptr);
uint32_t wudf_wasi_args_get(void *ctx, uint32_t argv_ptr, uint32_t buf_ptr);
uint32_t wudf_wasi_environ_sizes_get(void *ctx, uint32_t count_ptr,
                                     uint32_t buf_size_ptr);
uint32_t wudf_wasi_environ_get(void *ctx, uint32_t environ_ptr,
                               uint32_t buf_ptr);
uint32_t wudf_wasi_clock_res_get(void *ctx, uint32_t clock_id,
                                 uint32_t res_ptr);
uint32_t wudf_wasi_clock_time_get(void *ctx, uint32_t clock_id,
                                  uint64_t precision, uint32_t time_ptr);
uint32_t wudf_wasi_random_get(void *ctx, uint32_t buf, uint32_t buf_len);
uint32_t wudf_wasi_sched_yield(void *ctx);
uint32_t wudf_wasi_poll_oneoff(void *ctx, uint32_t in, uint32_t out,
                               uint32_t nsubscriptions, uint32_t nevents_ptr);
/* Does not return: wudf_rt_trap_exit((int32_t)code). */
__attribute__((noreturn)) void wudf_wasi_proc_exit(void *ctx, uint32_t code);

#endif /* WUDF_RUNTIME_WASI_H */
