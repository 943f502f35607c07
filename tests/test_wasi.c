/* The WASI subset, called directly with a hand-made linear memory. Expected
 * values are hand-computed from the WASI preview1 definitions (errno
 * numbers, struct layouts) and the signatures clang-19 --target=wasm32-wasi
 * gives the imports of a small C program. */
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "harness.h"
#include "runtime/wasi.h"

#define PAGE 65536u
#define SUCCESS 0u
#define BADF 8u
#define FAULT 21u
#define INVAL 28u
#define NOTSUP 58u
#define SPIPE 70u

/* One fixture at a time, file-static so that a failed CHECK (which returns
 * early) leaks nothing: the next setup or the destructor frees it. */
static wasm_rt_memory_t g_mem;
static wudf_wasi_ctx g_ctx;

static void teardown(void) {
  free(g_mem.data);
  memset(&g_mem, 0, sizeof g_mem);
  wudf_wasi_ctx_reset(&g_ctx);
}

__attribute__((destructor)) static void teardown_at_exit(void) {
  teardown();
}

/* One page of memory, exactly PAGE bytes long so that ASan would catch a
 * host read or write past its end. */
static bool setup(size_t out_limit) {
  teardown();
  g_mem.data = calloc(1, PAGE);
  g_mem.pages = g_mem.max_pages = 1;
  g_mem.size = PAGE;
  wudf_wasi_ctx_init(&g_ctx, out_limit);
  g_ctx.memory = &g_mem;
  return g_mem.data != NULL;
}

static void put_u32(uint32_t at, uint32_t v) {
  for (unsigned i = 0; i < 4; i++) g_mem.data[at + i] = (uint8_t)(v >> 8 * i);
}

static uint32_t get_u32(uint32_t at) {
  uint32_t v = 0;
  for (unsigned i = 0; i < 4; i++) v |= (uint32_t)g_mem.data[at + i] << 8 * i;
  return v;
}

static uint64_t get_u64(uint32_t at) {
  uint64_t v = 0;
  for (unsigned i = 0; i < 8; i++) v |= (uint64_t)g_mem.data[at + i] << 8 * i;
  return v;
}

/* Writes iovec number `i` of the array at `iovs`. */
static void put_iovec(uint32_t iovs, uint32_t i, uint32_t buf, uint32_t len) {
  put_u32(iovs + 8 * i, buf);
  put_u32(iovs + 8 * i + 4, len);
}

/* Puts `text` at `at` and returns its length. */
static uint32_t put_text(uint32_t at, const char *text) {
  size_t n = strlen(text);
  memcpy(g_mem.data + at, text, n);
  return (uint32_t)n;
}

/* fd_write of one string to `fd`, iovec at 0, string at 1024, count at 64. */
static uint32_t write_str(uint32_t fd, const char *text) {
  put_iovec(0, 0, 1024, put_text(1024, text));
  return wudf_wasi_fd_write(&g_ctx, fd, 0, 1, 64);
}

TEST(wasi_fd_write_captures_in_order) {
  CHECK(setup(1000));
  CHECK(g_ctx.out == NULL && g_ctx.out_len == 0);
  put_iovec(0, 0, 1000, put_text(1000, "hello"));
  put_iovec(0, 1, 2000, 0); /* empty iovec in the middle */
  put_iovec(0, 2, 3000, put_text(3000, ", world\n"));
  put_u32(64, 0xdeadbeef);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 3, 64), SUCCESS);
  CHECK_EQ_INT(get_u32(64), 13);
  CHECK_EQ_INT(write_str(2, "oops\n"), SUCCESS);
  CHECK_EQ_INT(get_u32(64), 5);
  CHECK_EQ_INT(write_str(1, "bye"), SUCCESS);
  CHECK_EQ_INT(g_ctx.out_len, 21);
  CHECK(strcmp(g_ctx.out, "hello, world\noops\nbye") == 0);
  CHECK(!g_ctx.truncated);
  /* Zero iovecs: success, nothing written, count 0. */
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 0, 64), SUCCESS);
  CHECK_EQ_INT(get_u32(64), 0);
  CHECK_EQ_INT(g_ctx.out_len, 21);
}

TEST(wasi_fd_write_grows_buffer) {
  CHECK(setup(100000));
  char line[101];
  for (int i = 0; i < 100; i++) line[i] = (char)('a' + i % 26);
  line[100] = '\0';
  for (int i = 0; i < 50; i++) CHECK_EQ_INT(write_str(1, line), SUCCESS);
  CHECK_EQ_INT(g_ctx.out_len, 5000);
  CHECK(g_ctx.out_cap > 5000);
  CHECK(!g_ctx.truncated);
  CHECK_EQ_INT(strlen(g_ctx.out), 5000);
  CHECK(memcmp(g_ctx.out + 4900, line, 100) == 0);
}

TEST(wasi_fd_write_limit_truncates) {
  CHECK(setup(8));
  put_iovec(0, 0, 1000, put_text(1000, "01234"));
  put_iovec(0, 1, 2000, put_text(2000, "56789"));
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 2, 64), SUCCESS);
  CHECK_EQ_INT(get_u32(64), 10); /* full count although 2 bytes dropped */
  CHECK(strcmp(g_ctx.out, "01234567") == 0);
  CHECK(g_ctx.truncated);
  CHECK(g_ctx.out_cap <= 9); /* never allocates beyond the limit */
  CHECK_EQ_INT(write_str(2, "more"), SUCCESS);
  CHECK_EQ_INT(get_u32(64), 4);
  CHECK_EQ_INT(g_ctx.out_len, 8);
  wudf_wasi_ctx_clear_output(&g_ctx);
  CHECK_EQ_INT(g_ctx.out_len, 0);
  CHECK(!g_ctx.truncated);
  CHECK_EQ_INT(write_str(1, "ab"), SUCCESS);
  CHECK(strcmp(g_ctx.out, "ab") == 0);
  CHECK(!g_ctx.truncated);
}

TEST(wasi_fd_write_limit_zero) {
  CHECK(setup(0));
  CHECK_EQ_INT(write_str(1, "x"), SUCCESS);
  CHECK_EQ_INT(get_u32(64), 1);
  CHECK(g_ctx.out == NULL && g_ctx.out_len == 0);
  CHECK(g_ctx.truncated);
}

TEST(wasi_fd_write_bad_fd) {
  CHECK(setup(100));
  put_u32(64, 77);
  CHECK_EQ_INT(write_str(0, "in"), BADF);
  CHECK_EQ_INT(write_str(3, "file"), BADF);
  CHECK_EQ_INT(write_str(0xffffffffu, "neg"), BADF);
  CHECK_EQ_INT(get_u32(64), 77);
  CHECK_EQ_INT(g_ctx.out_len, 0);
}

/* Each bad pointer returns FAULT; nothing is captured and the count slot
 * (at 64 unless it is the bad pointer) keeps its old value. */
TEST(wasi_fd_write_faults) {
  CHECK(setup(100));
  uint32_t ok = put_text(1000, "ok");
  put_u32(64, 77);
  /* Buffer running 1 byte past the end of memory. */
  put_iovec(0, 0, PAGE - 2, 3);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 1, 64), FAULT);
  /* Length that wraps around in 32 bits: 10 + 0xffffffff = 9 (mod 2^32). */
  put_iovec(0, 0, 10, 0xffffffffu);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 1, 64), FAULT);
  /* Buffer starting past the end, zero length. */
  put_iovec(0, 0, PAGE + 1, 0);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 1, 64), FAULT);
  /* A good iovec followed by a bad one: nothing written at all. */
  put_iovec(0, 0, 1000, ok);
  put_iovec(0, 1, PAGE, 1);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 2, 64), FAULT);
  /* The iovec array itself: half of it past the end. */
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, PAGE - 4, 1, 64), FAULT);
  /* Array length whose byte size (x8) wraps to 0 in 32 bits, over a memory
   * of empty iovecs (0, 0): only the length check can stop it. */
  memset(g_mem.data, 0, PAGE);
  put_u32(64, 77);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 0x20000000u, 64), FAULT);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, PAGE / 8 + 1, 64), FAULT);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 8, PAGE / 8, 64), FAULT);
  /* Count pointer at the last 3 bytes. */
  put_iovec(0, 0, 1000, put_text(1000, "ok"));
  put_u32(PAGE - 4, 0x11223344);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 1, PAGE - 3), FAULT);
  CHECK_EQ_INT(get_u32(PAGE - 4), 0x11223344);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 1, 0xfffffffeu), FAULT);
  CHECK_EQ_INT(get_u32(64), 77);
  CHECK_EQ_INT(g_ctx.out_len, 0);
  CHECK(!g_ctx.truncated);
}

TEST(wasi_fd_write_edges_in_bounds) {
  CHECK(setup(100));
  /* Buffer ending exactly at the end; count in the last 4 bytes; iovec
   * array in the 8 bytes before them. */
  put_text(PAGE - 16, "tail");
  put_iovec(PAGE - 12, 0, PAGE - 16, 4);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 2, PAGE - 12, 1, PAGE - 4), SUCCESS);
  CHECK_EQ_INT(get_u32(PAGE - 4), 4);
  CHECK(strcmp(g_ctx.out, "tail") == 0);
  /* An empty iovec at the very end is still inside. */
  put_iovec(0, 0, PAGE, 0);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 1, 64), SUCCESS);
  CHECK_EQ_INT(get_u32(64), 0);
}

TEST(wasi_no_memory) {
  CHECK(setup(100));
  g_ctx.memory = NULL;
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 1, 0, 0, 64), FAULT);
  CHECK_EQ_INT(wudf_wasi_fd_write(&g_ctx, 3, 0, 0, 64), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_read(&g_ctx, 0, 0, 0, 64), FAULT);
  CHECK_EQ_INT(wudf_wasi_fd_fdstat_get(&g_ctx, 1, 0), FAULT);
  CHECK_EQ_INT(wudf_wasi_args_sizes_get(&g_ctx, 0, 4), FAULT);
  CHECK_EQ_INT(wudf_wasi_args_get(&g_ctx, 0, 4), FAULT);
  CHECK_EQ_INT(wudf_wasi_environ_sizes_get(&g_ctx, 0, 4), FAULT);
  CHECK_EQ_INT(wudf_wasi_environ_get(&g_ctx, 0, 4), FAULT);
  CHECK_EQ_INT(wudf_wasi_clock_time_get(&g_ctx, 1, 0, 0), FAULT);
  CHECK_EQ_INT(wudf_wasi_clock_res_get(&g_ctx, 1, 0), FAULT);
  CHECK_EQ_INT(wudf_wasi_random_get(&g_ctx, 0, 0), FAULT);
  CHECK_EQ_INT(g_ctx.out_len, 0);
}

TEST(wasi_fd_read_stdin_eof) {
  CHECK(setup(100));
  put_iovec(0, 0, 1000, 10);
  put_u32(64, 77);
  CHECK_EQ_INT(wudf_wasi_fd_read(&g_ctx, 0, 0, 1, 64), SUCCESS);
  CHECK_EQ_INT(get_u32(64), 0);
  CHECK_EQ_INT(wudf_wasi_fd_read(&g_ctx, 1, 0, 1, 64), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_read(&g_ctx, 3, 0, 1, 64), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_read(&g_ctx, 0, 0, 1, PAGE - 2), FAULT);
  put_iovec(0, 0, PAGE - 5, 10);
  CHECK_EQ_INT(wudf_wasi_fd_read(&g_ctx, 0, 0, 1, 64), FAULT);
}

/* fdstat_t: u8 filetype @0, u16 flags @2, u64 rights_base @8,
 * u64 rights_inheriting @16; 24 bytes. CHARACTER_DEVICE = 2,
 * FD_READ = 1<<1, FD_WRITE = 1<<6, POLL_FD_READWRITE = 1<<27. */
TEST(wasi_fd_fdstat_get) {
  CHECK(setup(100));
  memset(g_mem.data + 256, 0xaa, 32);
  CHECK_EQ_INT(wudf_wasi_fd_fdstat_get(&g_ctx, 1, 256), SUCCESS);
  CHECK_EQ_INT(g_mem.data[256], 2);
  CHECK_EQ_INT(g_mem.data[258] | g_mem.data[259] << 8, 0);
  CHECK_EQ_INT(get_u64(256 + 8), 0x08000040);
  CHECK_EQ_INT(get_u64(256 + 16), 0);
  CHECK_EQ_INT(g_mem.data[256 + 24], 0xaa); /* nothing past the struct */
  CHECK_EQ_INT(wudf_wasi_fd_fdstat_get(&g_ctx, 2, 512), SUCCESS);
  CHECK_EQ_INT(get_u64(512 + 8), 0x08000040);
  CHECK_EQ_INT(wudf_wasi_fd_fdstat_get(&g_ctx, 0, 768), SUCCESS);
  CHECK_EQ_INT(g_mem.data[768], 2);
  CHECK_EQ_INT(get_u64(768 + 8), 0x08000002);
  CHECK_EQ_INT(wudf_wasi_fd_fdstat_get(&g_ctx, 3, 256), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_fdstat_get(&g_ctx, 1, PAGE - 23), FAULT);
  CHECK_EQ_INT(wudf_wasi_fd_fdstat_get(&g_ctx, 1, PAGE - 24), SUCCESS);
}

TEST(wasi_fd_other_calls) {
  CHECK(setup(100));
  CHECK_EQ_INT(wudf_wasi_fd_prestat_get(&g_ctx, 3, 0), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_prestat_get(&g_ctx, 0, 0), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_prestat_dir_name(&g_ctx, 3, 0, 10), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_seek(&g_ctx, 1, 0, 0, 64), SPIPE);
  CHECK_EQ_INT(wudf_wasi_fd_seek(&g_ctx, 0, 5, 1, 64), SPIPE);
  CHECK_EQ_INT(wudf_wasi_fd_seek(&g_ctx, 3, 0, 0, 64), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_close(&g_ctx, 1), BADF);
  CHECK_EQ_INT(wudf_wasi_fd_close(&g_ctx, 3), BADF);
  CHECK_EQ_INT(wudf_wasi_sched_yield(&g_ctx), SUCCESS);
  CHECK_EQ_INT(wudf_wasi_poll_oneoff(&g_ctx, 0, 100, 1, 64), NOTSUP);
}

TEST(wasi_args_environ_empty) {
  CHECK(setup(100));
  memset(g_mem.data, 0xaa, 16);
  CHECK_EQ_INT(wudf_wasi_args_sizes_get(&g_ctx, 0, 4), SUCCESS);
  CHECK_EQ_INT(get_u32(0), 0);
  CHECK_EQ_INT(get_u32(4), 0);
  CHECK_EQ_INT(wudf_wasi_environ_sizes_get(&g_ctx, 8, 12), SUCCESS);
  CHECK_EQ_INT(get_u32(8), 0);
  CHECK_EQ_INT(get_u32(12), 0);
  CHECK_EQ_INT(wudf_wasi_args_get(&g_ctx, 100, 200), SUCCESS);
  CHECK_EQ_INT(wudf_wasi_environ_get(&g_ctx, 100, PAGE), SUCCESS);
  CHECK_EQ_INT(wudf_wasi_args_sizes_get(&g_ctx, 0, PAGE - 3), FAULT);
  CHECK_EQ_INT(wudf_wasi_environ_sizes_get(&g_ctx, PAGE, 0), FAULT);
  CHECK_EQ_INT(wudf_wasi_environ_get(&g_ctx, PAGE + 1, 0), FAULT);
}

static uint64_t host_ns(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

TEST(wasi_clocks) {
  CHECK(setup(100));
  uint64_t before = host_ns(CLOCK_MONOTONIC);
  CHECK_EQ_INT(wudf_wasi_clock_time_get(&g_ctx, 1, 1, 0), SUCCESS);
  uint64_t t1 = get_u64(0);
  CHECK_EQ_INT(wudf_wasi_clock_time_get(&g_ctx, 1, 1000, 8), SUCCESS);
  uint64_t t2 = get_u64(8);
  uint64_t after = host_ns(CLOCK_MONOTONIC);
  CHECK(before <= t1 && t1 <= t2 && t2 <= after);
  /* Realtime: after 2020-01-01T00:00:00Z = 1577836800 s. */
  CHECK_EQ_INT(wudf_wasi_clock_time_get(&g_ctx, 0, 0, 16), SUCCESS);
  CHECK(get_u64(16) > UINT64_C(1577836800) * 1000000000u);
  for (uint32_t id = 0; id < 4; id++) {
    memset(g_mem.data + 32, 0, 8);
    CHECK_EQ_INT(wudf_wasi_clock_res_get(&g_ctx, id, 32), SUCCESS);
    CHECK(get_u64(32) > 0);
    CHECK_EQ_INT(wudf_wasi_clock_time_get(&g_ctx, id, 0, 40), SUCCESS);
  }
  CHECK_EQ_INT(wudf_wasi_clock_time_get(&g_ctx, 4, 0, 0), INVAL);
  CHECK_EQ_INT(wudf_wasi_clock_res_get(&g_ctx, 0xffffffffu, 0), INVAL);
  CHECK_EQ_INT(wudf_wasi_clock_time_get(&g_ctx, 1, 0, PAGE - 7), FAULT);
  CHECK_EQ_INT(wudf_wasi_clock_res_get(&g_ctx, 1, PAGE - 7), FAULT);
  CHECK_EQ_INT(wudf_wasi_clock_time_get(&g_ctx, 1, 0, PAGE - 8), SUCCESS);
}

static bool all_equal(const uint8_t *p, size_t n, uint8_t v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return false;
  return true;
}

TEST(wasi_random_get) {
  CHECK(setup(100));
  memset(g_mem.data + 100, 0x55, 200);
  /* 64 bytes at 200; the odds of them all being 0x55 are 2^-512. */
  CHECK_EQ_INT(wudf_wasi_random_get(&g_ctx, 200, 64), SUCCESS);
  CHECK(!all_equal(g_mem.data + 200, 64, 0x55));
  CHECK(all_equal(g_mem.data + 100, 100, 0x55));
  CHECK(all_equal(g_mem.data + 264, 36, 0x55));
  uint8_t first[64];
  memcpy(first, g_mem.data + 200, 64);
  CHECK_EQ_INT(wudf_wasi_random_get(&g_ctx, 200, 64), SUCCESS);
  CHECK(memcmp(first, g_mem.data + 200, 64) != 0);
  /* The whole memory (more than one getrandom may return for). */
  CHECK_EQ_INT(wudf_wasi_random_get(&g_ctx, 0, PAGE), SUCCESS);
  CHECK_EQ_INT(wudf_wasi_random_get(&g_ctx, PAGE, 0), SUCCESS);
  memset(g_mem.data + PAGE - 8, 0x55, 8);
  CHECK_EQ_INT(wudf_wasi_random_get(&g_ctx, PAGE - 8, 9), FAULT);
  CHECK(all_equal(g_mem.data + PAGE - 8, 8, 0x55));
  CHECK_EQ_INT(wudf_wasi_random_get(&g_ctx, 1, 0xffffffffu), FAULT);
}

/* A full 4 GiB memory: wasm2c's u32 `size` wraps to 0, yet the last bytes
 * are in bounds. Address space only; skipped if it cannot be reserved. */
TEST(wasi_full_4gib_memory) {
  CHECK(setup(100));
  size_t len = (size_t)1 << 32;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    printf("    (skipped: cannot map 4 GiB)\n");
    return;
  }
  wasm_rt_memory_t big = {.data = p, .pages = 65536, .max_pages = 65536};
  g_ctx.memory = &big;
  uint32_t r = wudf_wasi_clock_time_get(&g_ctx, 0, 0, 0xfffffff8u);
  uint32_t r2 = wudf_wasi_clock_time_get(&g_ctx, 0, 0, 0xfffffff9u);
  uint8_t last = ((uint8_t *)p)[len - 1];
  /* Two in-bounds iovecs totalling 2^32 bytes: more than the u32 count. */
  uint8_t *iov = (uint8_t *)p + 4096;
  memcpy(iov, "\0\0\0\0\xff\xff\xff\xff\0\0\0\0\x01\0\0\0", 16);
  uint32_t r3 = wudf_wasi_fd_write(&g_ctx, 1, 4096, 2, 0);
  munmap(p, len);
  g_ctx.memory = &g_mem;
  CHECK_EQ_INT(r, SUCCESS);
  CHECK_EQ_INT(r2, FAULT);
  CHECK_EQ_INT(r3, INVAL);
  CHECK_EQ_INT(g_ctx.out_len, 0);
  CHECK(last != 0); /* realtime ns, about 2^60.6: top byte is not 0 */
}

TEST(wasi_ctx_lifecycle) {
  wudf_wasi_ctx_reset(NULL);
  CHECK(setup(100));
  CHECK_EQ_INT(write_str(1, "abc"), SUCCESS);
  wudf_wasi_ctx_clear_output(&g_ctx);
  CHECK(g_ctx.out != NULL && g_ctx.out[0] == '\0');
  wudf_wasi_ctx_reset(&g_ctx);
  CHECK(g_ctx.out == NULL && g_ctx.out_len == 0 && g_ctx.out_cap == 0);
  CHECK(g_ctx.memory == NULL);
}

/* Signatures as clang-19 --target=wasm32-wasi imports them (wasm2wat). */
TEST(wasi_lookup) {
  static const struct {
    const char *name, *params, *results;
  } want[] = {
      {"fd_write", "iiii", "i"},
      {"fd_read", "iiii", "i"},
      {"fd_close", "i", "i"},
      {"fd_seek", "ijii", "i"},
      {"fd_fdstat_get", "ii", "i"},
      {"fd_prestat_get", "ii", "i"},
      {"fd_prestat_dir_name", "iii", "i"},
      {"args_sizes_get", "ii", "i"},
      {"args_get", "ii", "i"},
      {"environ_sizes_get", "ii", "i"},
      {"environ_get", "ii", "i"},
      {"clock_res_get", "ii", "i"},
      {"clock_time_get", "iji", "i"},
      {"random_get", "ii", "i"},
      {"sched_yield", "", "i"},
      {"poll_oneoff", "iiii", "i"},
      {"proc_exit", "i", ""},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const wudf_wasi_func *f = wudf_wasi_lookup(want[i].name);
    CHECK_MSG(f != NULL, "%s not provided", want[i].name);
    CHECK(strcmp(f->name, want[i].name) == 0);
    CHECK_MSG(strcmp(f->params, want[i].params) == 0, "%s params %s",
              want[i].name, f->params);
    CHECK_MSG(strcmp(f->results, want[i].results) == 0, "%s results %s",
              want[i].name, f->results);
    CHECK(f->fn != NULL);
  }
  CHECK(wudf_wasi_lookup("fd_write")->fn == (void (*)(void))wudf_wasi_fd_write);
  CHECK(wudf_wasi_lookup("fd_write")->needs_memory);
  CHECK(!wudf_wasi_lookup("proc_exit")->needs_memory);
  static const char *refused[] = {
      "path_open",   "path_unlink_file",
      "sock_accept", "sock_recv",
      "fd_pread",    "fd_pwrite",
      "fd_readdir",  "fd_renumber",
      "fd_tell",     "fd_filestat_get",
      "proc_raise",  "FD_WRITE",
      "fd_write ",   "",
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    CHECK_MSG(wudf_wasi_lookup(refused[i]) == NULL, "%s allowed", refused[i]);
  CHECK(wudf_wasi_lookup(NULL) == NULL);
  CHECK(strcmp(WUDF_WASI_MODULE, "wasi_snapshot_preview1") == 0);
}
