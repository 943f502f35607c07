/* The WASI preview1 subset (see wasi.h). */
#include "runtime/wasi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/alloc.h"
#include "runtime/rt.h"

/* WASI preview1 constants used here (from the witx definitions). */
#define WASI_FILETYPE_CHARACTER_DEVICE 2u
#define WASI_RIGHT_FD_READ (UINT64_C(1) << 1)
#define WASI_RIGHT_FD_WRITE (UINT64_C(1) << 6)
#define WASI_RIGHT_POLL_FD_READWRITE (UINT64_C(1) << 27)
#define WASI_CIOVEC_SIZE 8u /* { u32 buf; u32 buf_len; } */
#define WASI_FDSTAT_SIZE 24u
#define WASI_PAGE_SIZE UINT64_C(65536)
#define WASI_OUT_MIN_CAP 256u

/* Runs one call between host_enter and host_leave, so that a time-limit
 * signal cannot unwind host code half-way through. */
#define WASI_HOSTED(call)      \
  do {                         \
    wudf_rt_host_enter();      \
    uint32_t wasi_r_ = (call); \
    wudf_rt_host_leave();      \
    return wasi_r_;            \
  } while (0)

/* ------------------------------------------------------------------------ */
/* Context and captured output                                              */
/* ------------------------------------------------------------------------ */

void wudf_wasi_ctx_init(wudf_wasi_ctx *ctx, size_t out_limit) {
  memset(ctx, 0, sizeof *ctx);
  ctx->out_limit = out_limit;
}

void wudf_wasi_ctx_reset(wudf_wasi_ctx *ctx) {
  if (!ctx) return;
  wudf_free(ctx->out);
  memset(ctx, 0, sizeof *ctx);
}

void wudf_wasi_ctx_clear_output(wudf_wasi_ctx *ctx) {
  ctx->out_len = 0;
  ctx->truncated = false;
  if (ctx->out) ctx->out[0] = '\0';
}

/* Makes room for `len` bytes plus the NUL. len <= out_limit. */
static bool out_reserve(wudf_wasi_ctx *ctx, size_t len) {
  if (len < ctx->out_cap) return true;
  if (len == SIZE_MAX) return false;
  size_t cap =
      ctx->out_cap < WASI_OUT_MIN_CAP ? WASI_OUT_MIN_CAP : ctx->out_cap;
  while (cap <= len) cap = cap > SIZE_MAX / 2 ? len + 1 : cap * 2;
  /* Never allocate beyond what the limit lets us keep. */
  if (ctx->out_limit < SIZE_MAX && cap > ctx->out_limit + 1)
    cap = ctx->out_limit + 1;
  char *p = wudf_realloc(ctx->out, cap);
  if (!p) return false;
  ctx->out = p;
  ctx->out_cap = cap;
  return true;
}

/* Keeps what fits under the limit. Host memory exhaustion drops the bytes
 * like the limit does: the module cannot be told anything more useful. */
static void out_append(wudf_wasi_ctx *ctx, const uint8_t *bytes, size_t n) {
  size_t room =
      ctx->out_limit > ctx->out_len ? ctx->out_limit - ctx->out_len : 0;
  if (n > room) {
    ctx->truncated = true;
    n = room;
  }
  if (n == 0) return;
  if (!out_reserve(ctx, ctx->out_len + n)) {
    ctx->truncated = true;
    return;
  }
  memcpy(ctx->out + ctx->out_len, bytes, n);
  ctx->out_len += n;
  ctx->out[ctx->out_len] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Linear memory access                                                     */
/* ------------------------------------------------------------------------ */

/* Accessible bytes. `size` is a u32 in wasm2c's struct and wraps to 0 for a
 * full 4 GiB memory; the page count does not. */
static uint64_t mem_bound(const wasm_rt_memory_t *m) {
  if (m->size == 0 && (uint64_t)m->pages * WASI_PAGE_SIZE > UINT32_MAX)
    return (uint64_t)m->pages * WASI_PAGE_SIZE;
  return m->size;
}

/* ptr < 2^32 and len < 2^35 here, so the sum cannot overflow. */
static bool in_bounds(const wasm_rt_memory_t *m, uint64_t ptr, uint64_t len) {
  return m && ptr + len <= mem_bound(m);
}

/* Byte-wise, so neither alignment nor host byte order matters. */
static uint32_t load_u32(const wasm_rt_memory_t *m, uint64_t ptr) {
  const uint8_t *p = m->data + ptr;
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void store_u32(wasm_rt_memory_t *m, uint64_t ptr, uint32_t v) {
  for (unsigned i = 0; i < 4; i++) m->data[ptr + i] = (uint8_t)(v >> (8 * i));
}

static void store_u64(wasm_rt_memory_t *m, uint64_t ptr, uint64_t v) {
  for (unsigned i = 0; i < 8; i++) m->data[ptr + i] = (uint8_t)(v >> (8 * i));
}

/* Checks an iovec array and every buffer it names; *total gets the sum of
 * the lengths, which must fit the u32 the count is reported in. */
static uint32_t check_iovecs(const wasm_rt_memory_t *m, uint32_t iovs,
                             uint32_t n, uint64_t *total) {
  if (!in_bounds(m, iovs, (uint64_t)n * WASI_CIOVEC_SIZE))
    return WUDF_WASI_ERRNO_FAULT;
  uint64_t sum = 0;
  for (uint64_t at = iovs, end = at + (uint64_t)n * WASI_CIOVEC_SIZE; at < end;
       at += WASI_CIOVEC_SIZE) {
    uint32_t len = load_u32(m, at + 4);
    if (!in_bounds(m, load_u32(m, at), len)) return WUDF_WASI_ERRNO_FAULT;
    sum += len;
  }
  if (sum > UINT32_MAX) return WUDF_WASI_ERRNO_INVAL;
  *total = sum;
  return WUDF_WASI_ERRNO_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* File descriptors                                                         */
/* ------------------------------------------------------------------------ */

static uint32_t fd_write(wudf_wasi_ctx *ctx, uint32_t fd, uint32_t iovs,
                         uint32_t iovs_len, uint32_t nwritten_ptr) {
  if (fd != 1 && fd != 2) return WUDF_WASI_ERRNO_BADF;
  wasm_rt_memory_t *m = ctx->memory;
  if (!in_bounds(m, nwritten_ptr, 4)) return WUDF_WASI_ERRNO_FAULT;
  uint64_t total = 0;
  uint32_t r = check_iovecs(m, iovs, iovs_len, &total);
  if (r != WUDF_WASI_ERRNO_SUCCESS) return r;
  for (uint64_t i = 0; i < iovs_len; i++) {
    uint64_t at = iovs + i * WASI_CIOVEC_SIZE;
    uint32_t len = load_u32(m, at + 4);
    if (len > 0) out_append(ctx, m->data + load_u32(m, at), len);
  }
  /* The full count even when bytes were dropped, so programs do not retry. */
  store_u32(m, nwritten_ptr, (uint32_t)total);
  return WUDF_WASI_ERRNO_SUCCESS;
}

/* stdin is open but empty: every read is at end of file. */
static uint32_t fd_read(wudf_wasi_ctx *ctx, uint32_t fd, uint32_t iovs,
                        uint32_t iovs_len, uint32_t nread_ptr) {
  if (fd != 0) return WUDF_WASI_ERRNO_BADF;
  wasm_rt_memory_t *m = ctx->memory;
  if (!in_bounds(m, nread_ptr, 4)) return WUDF_WASI_ERRNO_FAULT;
  uint64_t total = 0;
  uint32_t r = check_iovecs(m, iovs, iovs_len, &total);
  if (r != WUDF_WASI_ERRNO_SUCCESS) return r;
  store_u32(m, nread_ptr, 0);
  return WUDF_WASI_ERRNO_SUCCESS;
}

/* wasi-libc's isatty() wants a character device without seek/tell rights;
 * stdout is then line-buffered, as on a terminal. */
static uint32_t fd_fdstat_get(wudf_wasi_ctx *ctx, uint32_t fd,
                              uint32_t stat_ptr) {
  if (fd > 2) return WUDF_WASI_ERRNO_BADF;
  wasm_rt_memory_t *m = ctx->memory;
  if (!in_bounds(m, stat_ptr, WASI_FDSTAT_SIZE)) return WUDF_WASI_ERRNO_FAULT;
  uint64_t rights = WASI_RIGHT_POLL_FD_READWRITE |
                    (fd == 0 ? WASI_RIGHT_FD_READ : WASI_RIGHT_FD_WRITE);
  memset(m->data + stat_ptr, 0, WASI_FDSTAT_SIZE);
  m->data[stat_ptr] = WASI_FILETYPE_CHARACTER_DEVICE; /* fs_filetype */
  store_u64(m, (uint64_t)stat_ptr + 8, rights);       /* fs_rights_base */
  return WUDF_WASI_ERRNO_SUCCESS;                     /* flags, inheriting 0 */
}

static uint32_t fd_seek(uint32_t fd) {
  return fd <= 2 ? WUDF_WASI_ERRNO_SPIPE : WUDF_WASI_ERRNO_BADF;
}

/* ------------------------------------------------------------------------ */
/* Arguments and environment: always empty                                 */
/* ------------------------------------------------------------------------ */

static uint32_t sizes_get_empty(wudf_wasi_ctx *ctx, uint32_t count_ptr,
                                uint32_t size_ptr) {
  wasm_rt_memory_t *m = ctx->memory;
  if (!in_bounds(m, count_ptr, 4) || !in_bounds(m, size_ptr, 4))
    return WUDF_WASI_ERRNO_FAULT;
  store_u32(m, count_ptr, 0);
  store_u32(m, size_ptr, 0);
  return WUDF_WASI_ERRNO_SUCCESS;
}

/* Zero entries and zero bytes: nothing to write, but the (empty) ranges
 * must still lie in memory. */
static uint32_t get_empty(wudf_wasi_ctx *ctx, uint32_t list_ptr,
                          uint32_t buf_ptr) {
  if (!in_bounds(ctx->memory, list_ptr, 0) ||
      !in_bounds(ctx->memory, buf_ptr, 0))
    return WUDF_WASI_ERRNO_FAULT;
  return WUDF_WASI_ERRNO_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Clocks and randomness                                                    */
/* ------------------------------------------------------------------------ */

/* Indexed by WASI clock id: realtime, monotonic, process and thread CPU. */
static const clockid_t host_clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC,
                                        CLOCK_PROCESS_CPUTIME_ID,
                                        CLOCK_THREAD_CPUTIME_ID};

static uint64_t timespec_ns(const struct timespec *ts) {
  if (ts->tv_sec < 0) return 0; /* realtime set before 1970 */
  return (uint64_t)ts->tv_sec * UINT64_C(1000000000) + (uint64_t)ts->tv_nsec;
}

/* res: clock_getres instead of clock_gettime. */
static uint32_t clock_get(wudf_wasi_ctx *ctx, uint32_t id, uint32_t ptr,
                          bool res) {
  if (id >= sizeof host_clocks / sizeof host_clocks[0])
    return WUDF_WASI_ERRNO_INVAL;
  clockid_t clk = host_clocks[id];
  if (!in_bounds(ctx->memory, ptr, 8)) return WUDF_WASI_ERRNO_FAULT;
  struct timespec ts;
  if ((res ? clock_getres(clk, &ts) : clock_gettime(clk, &ts)) != 0)
    return WUDF_WASI_ERRNO_IO;
  uint64_t ns = timespec_ns(&ts);
  if (res && ns == 0) ns = 1; /* WASI requires a non-zero resolution */
  store_u64(ctx->memory, ptr, ns);
  return WUDF_WASI_ERRNO_SUCCESS;
}

static uint32_t random_get(wudf_wasi_ctx *ctx, uint32_t buf, uint32_t len) {
  if (!in_bounds(ctx->memory, buf, len)) return WUDF_WASI_ERRNO_FAULT;
  uint8_t *p = len > 0 ? ctx->memory->data + buf : NULL;
  size_t done = 0;
  while (done < len) {
    /* Large requests may return short or be interrupted by the timer. */
    ssize_t n = getrandom(p + done, len - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return WUDF_WASI_ERRNO_IO;
    done += (size_t)n;
  }
  return WUDF_WASI_ERRNO_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* The typed entry points                                                   */
/* ------------------------------------------------------------------------ */

uint32_t wudf_wasi_fd_write(void *ctx, uint32_t fd, uint32_t iovs,
                            uint32_t iovs_len, uint32_t nwritten_ptr) {
  WASI_HOSTED(fd_write(ctx, fd, iovs, iovs_len, nwritten_ptr));
}

uint32_t wudf_wasi_fd_read(void *ctx, uint32_t fd, uint32_t iovs,
                           uint32_t iovs_len, uint32_t nread_ptr) {
  WASI_HOSTED(fd_read(ctx, fd, iovs, iovs_len, nread_ptr));
}

uint32_t wudf_wasi_fd_close(void *ctx, uint32_t fd) {
  (void)ctx;
  (void)fd;
  WASI_HOSTED(WUDF_WASI_ERRNO_BADF);
}

uint32_t wudf_wasi_fd_seek(void *ctx, uint32_t fd, uint64_t offset,
                           uint32_t whence, uint32_t newoffset_ptr) {
  (void)ctx;
  (void)offset;
  (void)whence;
  (void)newoffset_ptr;
  WASI_HOSTED(fd_seek(fd));
}

uint32_t wudf_wasi_fd_fdstat_get(void *ctx, uint32_t fd, uint32_t stat_ptr) {
  WASI_HOSTED(fd_fdstat_get(ctx, fd, stat_ptr));
}

uint32_t wudf_wasi_fd_prestat_get(void *ctx, uint32_t fd,
                                  uint32_t prestat_ptr) {
  (void)ctx;
  (void)fd;
  (void)prestat_ptr;
  WASI_HOSTED(WUDF_WASI_ERRNO_BADF);
}

uint32_t wudf_wasi_fd_prestat_dir_name(void *ctx, uint32_t fd, uint32_t path,
                                       uint32_t path_len) {
  (void)ctx;
  (void)fd;
  (void)path;
  (void)path_len;
  WASI_HOSTED(WUDF_WASI_ERRNO_BADF);
}

uint32_t wudf_wasi_args_sizes_get(void *ctx, uint32_t argc_ptr,
                                  uint32_t buf_size_ptr) {
  WASI_HOSTED(sizes_get_empty(ctx, argc_ptr, buf_size_ptr));
}

uint32_t wudf_wasi_args_get(void *ctx, uint32_t argv_ptr, uint32_t buf_ptr) {
  WASI_HOSTED(get_empty(ctx, argv_ptr, buf_ptr));
}

uint32_t wudf_wasi_environ_sizes_get(void *ctx, uint32_t count_ptr,
                                     uint32_t buf_size_ptr) {
  WASI_HOSTED(sizes_get_empty(ctx, count_ptr, buf_size_ptr));
}

uint32_t wudf_wasi_environ_get(void *ctx, uint32_t environ_ptr,
                               uint32_t buf_ptr) {
  WASI_HOSTED(get_empty(ctx, environ_ptr, buf_ptr));
}

uint32_t wudf_wasi_clock_res_get(void *ctx, uint32_t clock_id,
                                 uint32_t res_ptr) {
  WASI_HOSTED(clock_get(ctx, clock_id, res_ptr, true));
}

/* The precision hint is ignored: the host clock is as precise as it gets. */
uint32_t wudf_wasi_clock_time_get(void *ctx, uint32_t clock_id,
                                  uint64_t precision, uint32_t time_ptr) {
  (void)precision;
  WASI_HOSTED(clock_get(ctx, clock_id, time_ptr, false));
}

uint32_t wudf_wasi_random_get(void *ctx, uint32_t buf, uint32_t buf_len) {
  WASI_HOSTED(random_get(ctx, buf, buf_len));
}

uint32_t wudf_wasi_sched_yield(void *ctx) {
  (void)ctx;
  WASI_HOSTED(WUDF_WASI_ERRNO_SUCCESS);
}

/* Sleeping or waiting would hold the calling thread of the host engine. */
uint32_t wudf_wasi_poll_oneoff(void *ctx, uint32_t in, uint32_t out,
                               uint32_t nsubscriptions, uint32_t nevents_ptr) {
  (void)ctx;
  (void)in;
  (void)out;
  (void)nsubscriptions;
  (void)nevents_ptr;
  WASI_HOSTED(WUDF_WASI_ERRNO_NOTSUP);
}

/* Not bracketed: the trap unwinds at once, as from generated code, and a
 * host_enter without its leave would be left behind. */
void wudf_wasi_proc_exit(void *ctx, uint32_t code) {
  (void)ctx;
  wudf_rt_trap_exit((int32_t)code);
}

/* ------------------------------------------------------------------------ */
/* The allow list                                                           */
/* ------------------------------------------------------------------------ */

#define WASI_FN(f) ((void (*)(void))(f))

static const wudf_wasi_func wasi_funcs[] = {
    {"fd_write", "iiii", "i", WASI_FN(wudf_wasi_fd_write), true},
    {"fd_read", "iiii", "i", WASI_FN(wudf_wasi_fd_read), true},
    {"fd_close", "i", "i", WASI_FN(wudf_wasi_fd_close), false},
    {"fd_seek", "ijii", "i", WASI_FN(wudf_wasi_fd_seek), false},
    {"fd_fdstat_get", "ii", "i", WASI_FN(wudf_wasi_fd_fdstat_get), true},
    {"fd_prestat_get", "ii", "i", WASI_FN(wudf_wasi_fd_prestat_get), false},
    {"fd_prestat_dir_name", "iii", "i", WASI_FN(wudf_wasi_fd_prestat_dir_name),
     false},
    {"args_sizes_get", "ii", "i", WASI_FN(wudf_wasi_args_sizes_get), true},
    {"args_get", "ii", "i", WASI_FN(wudf_wasi_args_get), true},
    {"environ_sizes_get", "ii", "i", WASI_FN(wudf_wasi_environ_sizes_get),
     true},
    {"environ_get", "ii", "i", WASI_FN(wudf_wasi_environ_get), true},
    {"clock_res_get", "ii", "i", WASI_FN(wudf_wasi_clock_res_get), true},
    {"clock_time_get", "iji", "i", WASI_FN(wudf_wasi_clock_time_get), true},
    {"random_get", "ii", "i", WASI_FN(wudf_wasi_random_get), true},
    {"sched_yield", "", "i", WASI_FN(wudf_wasi_sched_yield), false},
    {"poll_oneoff", "iiii", "i", WASI_FN(wudf_wasi_poll_oneoff), false},
    {"proc_exit", "i", "", WASI_FN(wudf_wasi_proc_exit), false},
};

const wudf_wasi_func *wudf_wasi_lookup(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < sizeof wasi_funcs / sizeof wasi_funcs[0]; i++)
    if (strcmp(wasi_funcs[i].name, name) == 0) return &wasi_funcs[i];
  return NULL;
}
