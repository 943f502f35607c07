/* Child processes, the toolchain (wasm2c + cc) and the compiled-module cache.
 *
 * Module bytes were produced with wabt's wat2wasm from the text shown next to
 * them; the expected wasm2c message was taken from running Debian's wasm2c
 * 1.0.32 on those bytes by hand. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "harness.h"
#include "translate/cache.h"
#include "translate/process.h"
#include "translate/toolchain.h"

/* (module (func $add (export "add") (param i32 i32) (result i32)
 *   local.get 0 local.get 1 i32.add)) */
static const uint8_t k_tiny_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01,
    0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07,
    0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, 0x0a, 0x09, 0x01,
    0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b,
};

/* wat2wasm --no-check of
 * (module (func (export "f") (result i32) i32.const 1 i32.add)) */
static const uint8_t k_bad_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
    0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x05, 0x01, 0x01, 0x66,
    0x00, 0x00, 0x0a, 0x07, 0x01, 0x05, 0x00, 0x41, 0x01, 0x6a, 0x0b,
};

/* Stubs for the wasm2c runtime functions the tiny module references. */
static const char k_prelude[] =
    "#include <wasm-rt.h>\n"
    "bool wasm_rt_is_initialized(void) { return true; }\n"
    "uint32_t wasm_rt_register_func_type(uint32_t p, uint32_t r, ...) {\n"
    "  (void)p; (void)r; return 1;\n"
    "}\n"
    "void wasm_rt_trap(wasm_rt_trap_t t) { (void)t; __builtin_trap(); }\n";

static const char k_override[] = "#define WUDF_TEST_OVERRIDE 35";

/* 40 + 2 from the translated function, plus 35 - 35 from the override. */
static const char k_postlude[] =
    "__attribute__((visibility(\"default\"))) int probe(void) {\n"
    "  static Z_tiny_instance_t inst;\n"
    "  return (int)Z_tinyZ_add(&inst, 40, 2) + WUDF_TEST_OVERRIDE - 35;\n"
    "}\n";

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static char *tmp_path(const char *name) {
  static _Thread_local char buf[4][512];
  static _Thread_local int next;
  char *p = buf[next++ % 4];
  snprintf(p, sizeof buf[0], "%s/%s", test_tmpdir(), name);
  return p;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (!d) return -1;
  while (readdir(d)) n++;
  closedir(d);
  return n;
}

/* Entries in a directory other than . and .., or -1. */
static int count_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

/* Entries in a directory whose name starts with `prefix`, or -1. */
static int count_prefixed(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return -1;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
  closedir(d);
  return n;
}

static wudf_status run(const char *const argv[], size_t max_output,
                       wudf_process_result *res, wudf_error *err) {
  wudf_process_opts opts = {.max_output = max_output};
  return wudf_process_run(argv, &opts, res, err);
}

static void tiny_input(wudf_build_input *in) {
  memset(in, 0, sizeof *in);
  in->wasm = k_tiny_wasm;
  in->wasm_len = sizeof k_tiny_wasm;
  in->module_name = "tiny";
  in->prelude = k_prelude;
  in->postlude = k_postlude;
  in->call_indirect_override = k_override;
}

/* dlopen + probe(); -1 when the object cannot be loaded. */
static int call_probe(const char *so_path) {
  void *h = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    fprintf(stderr, "    dlopen: %s\n", dlerror());
    return -1;
  }
  int (*probe)(void) = NULL;
  void *sym = dlsym(h, "probe");
  memcpy(&probe, &sym, sizeof probe); /* POSIX: object to function pointer */
  int v = probe ? probe() : -2;
  dlclose(h);
  return v;
}

/* ------------------------------------------------------------------------ */
/* Processes                                                                */
/* ------------------------------------------------------------------------ */

TEST(process_exit_codes) {
  wudf_error err = {0};
  wudf_process_result res = {0};
  const char *ok[] = {"true", NULL};
  CHECK_STATUS(run(ok, 100, &res, &err), WUDF_OK, &err);
  CHECK_EQ_INT(res.exit_code, 0);
  CHECK_EQ_INT(res.term_signal, 0);
  CHECK(!res.timed_out);
  wudf_process_result_reset(&res);
  const char *three[] = {"sh", "-c", "exit 3", NULL};
  CHECK_STATUS(run(three, 100, &res, &err), WUDF_OK, &err);
  CHECK_EQ_INT(res.exit_code, 3);
  wudf_process_result_reset(&res);
  const char *sig[] = {"sh", "-c", "kill -TERM $$", NULL};
  CHECK_STATUS(run(sig, 100, &res, &err), WUDF_OK, &err);
  CHECK_EQ_INT(res.exit_code, -1);
  CHECK_EQ_INT(res.term_signal, SIGTERM);
  wudf_process_result_reset(&res);
}

TEST(process_output_merged) {
  wudf_error err = {0};
  wudf_process_result res = {0};
  const char *argv[] = {"sh", "-c", "echo out; echo err >&2; echo out2", NULL};
  CHECK_STATUS(run(argv, 1000, &res, &err), WUDF_OK, &err);
  CHECK(res.output != NULL);
  CHECK_EQ_INT(res.output_len, 13);
  CHECK(strcmp(res.output, "out\nerr\nout2\n") == 0);
  wudf_process_result_reset(&res);
  CHECK(res.output == NULL);
}

TEST(process_output_truncated) {
  wudf_error err = {0};
  wudf_process_result res = {0};
  /* 200,000 bytes: more than a pipe holds, so the child blocks unless the
   * rest is drained. */
  const char *argv[] = {"sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x",
                        NULL};
  CHECK_STATUS(run(argv, 10, &res, &err), WUDF_OK, &err);
  CHECK_EQ_INT(res.exit_code, 0);
  CHECK_EQ_INT(res.output_len, 10);
  CHECK(strcmp(res.output, "xxxxxxxxxx") == 0);
  wudf_process_result_reset(&res);
  CHECK_STATUS(run(argv, 0, &res, &err), WUDF_OK, &err);
  CHECK_EQ_INT(res.output_len, 0);
  CHECK(res.output != NULL && res.output[0] == '\0');
  wudf_process_result_reset(&res);
  /* NULL opts: no limits, nothing kept. */
  CHECK_STATUS(wudf_process_run(argv, NULL, &res, &err), WUDF_OK, &err);
  CHECK_EQ_INT(res.output_len, 0);
  wudf_process_result_reset(&res);
}

TEST(process_timeout_kills_group) {
  wudf_error err = {0};
  wudf_process_result res = {0};
  wudf_process_opts opts = {.timeout_s = 1, .max_output = 100};
  const char *argv[] = {"sleep", "10", NULL};
  double t0 = now_ms();
  CHECK_STATUS(wudf_process_run(argv, &opts, &res, &err), WUDF_OK, &err);
  double ms = now_ms() - t0;
  printf("    sleep 10 with a 1 s timeout ended after %.0f ms\n", ms);
  CHECK(res.timed_out);
  CHECK_EQ_INT(res.term_signal, SIGKILL);
  CHECK_EQ_INT(res.exit_code, -1);
  CHECK_MSG(ms > 900 && ms < 3000, "took %.0f ms", ms);
  wudf_process_result_reset(&res);
  /* A grandchild holding the pipe open dies with its group. */
  const char *tree[] = {"sh", "-c", "sleep 10 & sleep 10; echo never", NULL};
  t0 = now_ms();
  CHECK_STATUS(wudf_process_run(tree, &opts, &res, &err), WUDF_OK, &err);
  ms = now_ms() - t0;
  CHECK(res.timed_out);
  CHECK_MSG(ms > 900 && ms < 3000, "took %.0f ms", ms);
  wudf_process_result_reset(&res);
}

TEST(process_missing_program) {
  wudf_error err = {0};
  wudf_process_result res = {0};
  const char *argv[] = {"wudf-no-such-program-xyz", "--version", NULL};
  CHECK_STATUS(run(argv, 100, &res, &err), WUDF_ERR_IO, &err);
  CHECK_CONTAINS(err.message, "wudf-no-such-program-xyz");
  CHECK_CONTAINS(err.message, "No such file or directory");
  CHECK(res.output == NULL);
  const char *abs[] = {"/nonexistent/prog", NULL};
  CHECK_STATUS(run(abs, 100, &res, &err), WUDF_ERR_IO, &err);
  CHECK_CONTAINS(err.message, "/nonexistent/prog");
}

TEST(process_cwd_and_limits) {
  wudf_error err = {0};
  wudf_process_result res = {0};
  wudf_process_opts opts = {.cwd = test_tmpdir(), .max_output = 4096};
  const char *pwd[] = {"pwd", NULL};
  CHECK_STATUS(wudf_process_run(pwd, &opts, &res, &err), WUDF_OK, &err);
  char want[600];
  snprintf(want, sizeof want, "%s\n", test_tmpdir());
  CHECK(strcmp(res.output, want) == 0);
  wudf_process_result_reset(&res);
  /* `ulimit -v` reports RLIMIT_AS in KiB. */
  opts.max_memory_bytes = (uint64_t)3 << 30;
  const char *as[] = {"sh", "-c", "ulimit -v", NULL};
  CHECK_STATUS(wudf_process_run(as, &opts, &res, &err), WUDF_OK, &err);
  CHECK(strcmp(res.output, "3145728\n") == 0);
  wudf_process_result_reset(&res);
  /* Writing past RLIMIT_FSIZE raises SIGXFSZ. */
  opts.max_file_bytes = 1000;
  const char *big[] = {"sh", "-c", "head -c 5000 /dev/zero > big.bin", NULL};
  CHECK_STATUS(wudf_process_run(big, &opts, &res, &err), WUDF_OK, &err);
  CHECK(res.exit_code != 0);
  wudf_process_result_reset(&res);
  opts.cwd = "/nonexistent/dir";
  CHECK_STATUS(wudf_process_run(pwd, &opts, &res, &err), WUDF_ERR_IO, &err);
  CHECK_CONTAINS(err.message, "/nonexistent/dir");
}

typedef struct echo_job {
  int id, failures;
} echo_job;

static void *echo_thread(void *arg) {
  echo_job *job = arg;
  char word[32], want[40];
  snprintf(word, sizeof word, "job%d", job->id);
  snprintf(want, sizeof want, "%s\n", word);
  for (int i = 0; i < 20; i++) {
    const char *argv[] = {"echo", word, NULL};
    wudf_process_result res = {0};
    if (run(argv, 100, &res, NULL) != WUDF_OK || res.exit_code != 0 ||
        strcmp(res.output, want) != 0)
      job->failures++;
    wudf_process_result_reset(&res);
  }
  return NULL;
}

TEST(process_many_threads_no_fd_leak) {
  int fds = count_fds();
  pthread_t th[8];
  echo_job jobs[8];
  for (int i = 0; i < 8; i++) {
    jobs[i] = (echo_job){i, 0};
    CHECK(pthread_create(&th[i], NULL, echo_thread, &jobs[i]) == 0);
  }
  for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 8; i++) CHECK_EQ_INT(jobs[i].failures, 0);
  CHECK_EQ_INT(count_fds(), fds);
}

/* ------------------------------------------------------------------------ */
/* Cache directory                                                          */
/* ------------------------------------------------------------------------ */

TEST(cache_open_refuses_unsafe_dirs) {
  wudf_error err = {0};
  wudf_cache cache = {0};
  const char *open_dir = tmp_path("c777");
  CHECK(mkdir(open_dir, 0700) == 0 && chmod(open_dir, 0777) == 0);
  CHECK_STATUS(wudf_cache_open(&cache, open_dir, &err), WUDF_ERR_CACHE, &err);
  CHECK_CONTAINS(err.message, open_dir);
  CHECK_CONTAINS(err.message, "writable by group or others");
  CHECK(cache.dir == NULL);
  const char *target = tmp_path("real");
  const char *link = tmp_path("link");
  CHECK(mkdir(target, 0700) == 0 && symlink(target, link) == 0);
  CHECK_STATUS(wudf_cache_open(&cache, link, &err), WUDF_ERR_CACHE, &err);
  CHECK_CONTAINS(err.message, link);
  CHECK_CONTAINS(err.message, "symbolic link");
  char slash[600];
  snprintf(slash, sizeof slash, "%s/", link);
  CHECK_STATUS(wudf_cache_open(&cache, slash, &err), WUDF_ERR_CACHE, &err);
  CHECK_CONTAINS(err.message, "symbolic link");
  const char *file = tmp_path("plainfile");
  FILE *f = fopen(file, "w");
  CHECK(f != NULL);
  fclose(f);
  CHECK_STATUS(wudf_cache_open(&cache, file, &err), WUDF_ERR_CACHE, &err);
  CHECK_CONTAINS(err.message, "not a directory");
  /* Owned by someone else (only testable as root). */
  if (geteuid() == 0) {
    const char *other = tmp_path("other");
    CHECK(mkdir(other, 0700) == 0 && chown(other, 1, 1) == 0);
    CHECK_STATUS(wudf_cache_open(&cache, other, &err), WUDF_ERR_CACHE, &err);
    CHECK_CONTAINS(err.message, "owned by uid 1");
  }
  /* The real directory is fine. */
  CHECK_STATUS(wudf_cache_open(&cache, target, &err), WUDF_OK, &err);
  CHECK(strcmp(cache.dir, target) == 0);
  wudf_cache_reset(&cache);
}

TEST(cache_open_sweeps_stale_work_dirs) {
  wudf_error err = {0};
  wudf_cache cache = {0};
  const char *dir = tmp_path("cache-sweep");
  CHECK_STATUS(wudf_cache_open(&cache, dir, &err), WUDF_OK, &err);
  wudf_cache_reset(&cache);
  char old_dir[700], old_file[760], new_dir[700];
  snprintf(old_dir, sizeof old_dir, "%s/tmp/build-old123", dir);
  snprintf(old_file, sizeof old_file, "%s/module.c", old_dir);
  snprintf(new_dir, sizeof new_dir, "%s/tmp/build-new123", dir);
  CHECK(mkdir(old_dir, 0700) == 0 && mkdir(new_dir, 0700) == 0);
  FILE *f = fopen(old_file, "w");
  CHECK(f != NULL);
  fclose(f);
  /* Two days ago. */
  struct timespec times[2] = {{time(NULL) - 2 * 86400, 0},
                              {time(NULL) - 2 * 86400, 0}};
  CHECK(utimensat(AT_FDCWD, old_dir, times, 0) == 0);
  CHECK_STATUS(wudf_cache_open(&cache, dir, &err), WUDF_OK, &err);
  wudf_cache_reset(&cache);
  CHECK(access(old_dir, F_OK) != 0);
  CHECK(access(new_dir, F_OK) == 0);
}

static char *save_env(const char *name) {
  const char *v = getenv(name);
  return v ? strdup(v) : NULL;
}

static void restore_env(const char *name, char *value) {
  if (value)
    setenv(name, value, 1);
  else
    unsetenv(name);
  free(value);
}

/* Opens the cache from the environment and compares its directory. */
static int env_dir_is(const char *expected) {
  wudf_error err = {0};
  wudf_cache cache = {0};
  int ok = wudf_cache_open(&cache, NULL, &err) == WUDF_OK &&
           strcmp(cache.dir, expected) == 0;
  if (!ok)
    fprintf(stderr, "    got %s (%s), expected %s\n",
            cache.dir ? cache.dir : "-", err.message, expected);
  wudf_cache_reset(&cache);
  return ok;
}

static void check_env_resolution(void) {
  char want[600];
  /* The library reads no WUDF_CACHE_DIR (the wudf command maps it onto
   * the engine's cache_dir): XDG_CACHE_HOME comes first. */
  setenv("WUDF_CACHE_DIR", tmp_path("ignored"), 1);
  setenv("XDG_CACHE_HOME", tmp_path("xdg"), 1);
  snprintf(want, sizeof want, "%s/wudf", tmp_path("xdg"));
  CHECK(env_dir_is(want));
  struct stat st;
  CHECK(lstat(want, &st) == 0 && (st.st_mode & 0777) == 0700);
  snprintf(want, sizeof want, "%s/wudf/tmp", tmp_path("xdg"));
  CHECK(lstat(want, &st) == 0 && S_ISDIR(st.st_mode));
  unsetenv("WUDF_CACHE_DIR");
  /* A relative XDG_CACHE_HOME is ignored: HOME next. */
  setenv("XDG_CACHE_HOME", "relative/xdg", 1);
  setenv("HOME", tmp_path("home"), 1);
  snprintf(want, sizeof want, "%s/.cache/wudf", tmp_path("home"));
  CHECK(env_dir_is(want));
}

TEST(cache_open_from_environment) {
  char *wudf = save_env("WUDF_CACHE_DIR"), *xdg = save_env("XDG_CACHE_HOME");
  char *home = save_env("HOME");
  check_env_resolution();
  restore_env("WUDF_CACHE_DIR", wudf);
  restore_env("XDG_CACHE_HOME", xdg);
  restore_env("HOME", home);
}

/* ------------------------------------------------------------------------ */
/* Toolchain                                                                */
/* ------------------------------------------------------------------------ */

static wudf_toolchain g_tc;
static bool g_tc_ready;

static const wudf_toolchain *toolchain(void) {
  if (!g_tc_ready) {
    wudf_error err = {0};
    if (wudf_toolchain_init(&g_tc, "cc", "wasm2c", 120, &err) != WUDF_OK) {
      fprintf(stderr, "    toolchain: %s\n", err.message);
      return NULL;
    }
    g_tc_ready = true;
  }
  return &g_tc;
}

__attribute__((destructor)) static void free_toolchain(void) {
  wudf_toolchain_reset(&g_tc);
}

TEST(toolchain_init_and_missing_tools) {
  const wudf_toolchain *tc = toolchain();
  CHECK(tc != NULL);
  CHECK_EQ_INT(strlen(tc->id_hex), 64);
  wudf_error err = {0};
  wudf_toolchain other = {0};
  CHECK_STATUS(
      wudf_toolchain_init(&other, "cc", "wudf-no-wasm2c-here", 10, &err),
      WUDF_ERR_COMPILE, &err);
  CHECK_CONTAINS(err.message, "wudf-no-wasm2c-here");
  CHECK_CONTAINS(err.message, "apt-get install wabt");
  CHECK(other.cc == NULL);
  CHECK_STATUS(
      wudf_toolchain_init(&other, "wudf-no-cc-here", "wasm2c", 10, &err),
      WUDF_ERR_COMPILE, &err);
  CHECK_CONTAINS(err.message, "wudf-no-cc-here");
  CHECK_CONTAINS(err.message, "apt-get install");
  /* The same tools give the same id. */
  CHECK_STATUS(wudf_toolchain_init(&other, "cc", "wasm2c", 10, &err), WUDF_OK,
               &err);
  CHECK(strcmp(other.id_hex, tc->id_hex) == 0);
  wudf_toolchain_reset(&other);
}

TEST(toolchain_key_separates_fields) {
  const wudf_toolchain *tc = toolchain();
  CHECK(tc != NULL);
  wudf_build_input a, b;
  tiny_input(&a);
  tiny_input(&b);
  char ka[65], kb[65];
  wudf_toolchain_key(tc, &a, ka);
  wudf_toolchain_key(tc, &b, kb);
  CHECK(strcmp(ka, kb) == 0);
  a.prelude = "ab";
  a.postlude = "c";
  b.prelude = "a";
  b.postlude = "bc";
  wudf_toolchain_key(tc, &a, ka);
  wudf_toolchain_key(tc, &b, kb);
  CHECK(strcmp(ka, kb) != 0);
  b.prelude = "ab";
  b.postlude = "c";
  b.call_indirect_override = NULL;
  wudf_toolchain_key(tc, &b, kb);
  CHECK(strcmp(ka, kb) != 0);
  b.call_indirect_override = "";
  wudf_toolchain_key(tc, &b, kb);
  CHECK(strcmp(ka, kb) != 0);
  wudf_toolchain tc2 = *tc;
  tc2.id_hex[0] = tc2.id_hex[0] == '0' ? '1' : '0';
  wudf_toolchain_key(&tc2, &a, kb);
  CHECK(strcmp(ka, kb) != 0);
}

/* A fresh private directory under the test directory. */
static const char *fresh_dir(const char *name) {
  const char *p = tmp_path(name);
  return mkdir(p, 0700) == 0 ? p : NULL;
}

TEST(toolchain_build_probe) {
  const wudf_toolchain *tc = toolchain();
  CHECK(tc != NULL);
  const char *work = fresh_dir("work-probe");
  CHECK(work != NULL);
  char so[600], module_c[600];
  snprintf(so, sizeof so, "%s/probe.so", test_tmpdir());
  wudf_build_input in;
  tiny_input(&in);
  wudf_error err = {0};
  double t0 = now_ms();
  CHECK_STATUS(wudf_toolchain_build(tc, &in, work, so, &err), WUDF_OK, &err);
  printf("    direct build of the tiny module: %.0f ms\n", now_ms() - t0);
  CHECK_EQ_INT(call_probe(so), 42);
  /* The override sits right after the line ending the macro (wasm2c 1.0.32
   * ends it with `((t)table.data[x].func)(__VA_ARGS__))`). */
  snprintf(module_c, sizeof module_c, "%s/module.c", work);
  FILE *f = fopen(module_c, "r");
  CHECK(f != NULL);
  static char text[1 << 20];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  CHECK_CONTAINS(text, "(__VA_ARGS__))\n#define WUDF_TEST_OVERRIDE 35\n");
  /* Only the result is left next to it: no temporary outputs. */
  CHECK_EQ_INT(count_prefixed(test_tmpdir(), "probe.so"), 1);
  struct stat st;
  CHECK(lstat(so, &st) == 0 && (st.st_mode & 022) == 0);
}

TEST(toolchain_invalid_module) {
  const wudf_toolchain *tc = toolchain();
  CHECK(tc != NULL);
  const char *work = fresh_dir("work-invalid");
  CHECK(work != NULL);
  char so[600];
  snprintf(so, sizeof so, "%s/invalid.so", test_tmpdir());
  wudf_build_input in;
  tiny_input(&in);
  in.wasm = k_bad_wasm;
  in.wasm_len = sizeof k_bad_wasm;
  wudf_error err = {0};
  CHECK_STATUS(wudf_toolchain_build(tc, &in, work, so, &err), WUDF_ERR_INVALID,
               &err);
  CHECK(strcmp(err.message,
               "invalid module: 0000022: error: type mismatch in i32.add, "
               "expected [i32, i32] but got [i32]") == 0);
  CHECK(strstr(err.message, work) == NULL);
  CHECK(access(so, F_OK) != 0);
}

TEST(toolchain_compile_error_and_bad_name) {
  const wudf_toolchain *tc = toolchain();
  CHECK(tc != NULL);
  const char *work = fresh_dir("work-cc-error");
  CHECK(work != NULL);
  char so[600];
  snprintf(so, sizeof so, "%s/ccerr/out.so", test_tmpdir());
  CHECK(mkdir(tmp_path("ccerr"), 0700) == 0);
  wudf_build_input in;
  tiny_input(&in);
  in.postlude = "int broken(void) { return undeclared_thing; }\n";
  wudf_error err = {0};
  CHECK_STATUS(wudf_toolchain_build(tc, &in, work, so, &err), WUDF_ERR_COMPILE,
               &err);
  CHECK_CONTAINS(err.message, "undeclared_thing");
  CHECK(strstr(err.message, work) == NULL);
  CHECK_EQ_INT(count_entries(tmp_path("ccerr")), 0); /* temp output removed */
  /* A link error names the symbol, not the driver's temporary object. */
  in.postlude =
      "void nowhere_fn(void);\n"
      "__attribute__((visibility(\"default\"))) void f(void) { nowhere_fn(); "
      "}\n";
  CHECK_STATUS(wudf_toolchain_build(tc, &in, work, so, &err), WUDF_ERR_COMPILE,
               &err);
  CHECK_CONTAINS(err.message, "undefined reference to `nowhere_fn'");
  CHECK(strstr(err.message, "/tmp/cc") == NULL);
  CHECK_EQ_INT(count_entries(tmp_path("ccerr")), 0);
  in.postlude = k_postlude;
  in.module_name = "not-an-identifier";
  CHECK_STATUS(wudf_toolchain_build(tc, &in, work, so, &err), WUDF_ERR_ARG,
               &err);
  CHECK_CONTAINS(err.message, "not-an-identifier");
}

/* A stand-in wasm2c whose output lacks the CALL_INDIRECT macro. */
TEST(toolchain_unexpected_wasm2c_output) {
  const char *script = tmp_path("fake-wasm2c");
  FILE *f = fopen(script, "w");
  CHECK(f != NULL);
  fputs(
      "#!/bin/sh\n"
      "if [ \"$1\" = --version ]; then echo fake 0.1; exit 0; fi\n"
      "echo 'int x;' > module.c; : > module.h\n",
      f);
  fclose(f);
  CHECK(chmod(script, 0700) == 0);
  wudf_error err = {0};
  wudf_toolchain fake = {0};
  CHECK_STATUS(wudf_toolchain_init(&fake, "cc", script, 10, &err), WUDF_OK,
               &err);
  const char *work = fresh_dir("work-fake");
  CHECK(work != NULL);
  wudf_build_input in;
  tiny_input(&in);
  wudf_status st =
      wudf_toolchain_build(&fake, &in, work, tmp_path("fake.so"), &err);
  wudf_toolchain_reset(&fake);
  CHECK_STATUS(st, WUDF_ERR_COMPILE, &err);
  CHECK_CONTAINS(err.message, "unexpected wasm2c output");
}

/* ------------------------------------------------------------------------ */
/* Cache                                                                    */
/* ------------------------------------------------------------------------ */

TEST(cache_cold_then_warm) {
  const wudf_toolchain *tc = toolchain();
  CHECK(tc != NULL);
  wudf_error err = {0};
  wudf_cache cache = {0};
  CHECK_STATUS(wudf_cache_open(&cache, tmp_path("cache-warm"), &err), WUDF_OK,
               &err);
  wudf_build_input in;
  tiny_input(&in);
  char path[700], path2[700], key[65];
  bool cached = true;
  double t0 = now_ms();
  wudf_status st = wudf_cache_get_or_build(&cache, tc, &in, path, sizeof path,
                                           &cached, &err);
  double cold = now_ms() - t0;
  t0 = now_ms();
  wudf_status st2 = wudf_cache_get_or_build(&cache, tc, &in, path2,
                                            sizeof path2, &cached, &err);
  double warm = now_ms() - t0;
  printf("    tiny module: cold build %.1f ms, warm hit %.3f ms\n", cold, warm);
  char tmp_dir[700];
  snprintf(tmp_dir, sizeof tmp_dir, "%s/tmp", cache.dir);
  wudf_toolchain_key(tc, &in, key);
  char want[700];
  snprintf(want, sizeof want, "%s/%.2s/%s.so", cache.dir, key, key);
  wudf_cache_reset(&cache);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK_STATUS(st2, WUDF_OK, &err);
  CHECK(cached);
  CHECK(strcmp(path, want) == 0 && strcmp(path2, want) == 0);
  CHECK_EQ_INT(call_probe(path), 42);
  CHECK_EQ_INT(count_entries(tmp_dir), 0);
  /* Too small a buffer. */
  CHECK_STATUS(wudf_cache_open(&cache, tmp_path("cache-warm"), &err), WUDF_OK,
               &err);
  st = wudf_cache_get_or_build(&cache, tc, &in, path, 20, &cached, &err);
  wudf_cache_reset(&cache);
  CHECK_STATUS(st, WUDF_ERR_ARG, &err);
}

TEST(cache_failed_build_leaves_nothing) {
  const wudf_toolchain *tc = toolchain();
  CHECK(tc != NULL);
  wudf_error err = {0};
  wudf_cache cache = {0};
  CHECK_STATUS(wudf_cache_open(&cache, tmp_path("cache-fail"), &err), WUDF_OK,
               &err);
  wudf_build_input in;
  tiny_input(&in);
  in.wasm = k_bad_wasm;
  in.wasm_len = sizeof k_bad_wasm;
  char path[700], tmp_dir[700], shard[700];
  bool cached = true;
  wudf_status st = wudf_cache_get_or_build(&cache, tc, &in, path, sizeof path,
                                           &cached, &err);
  snprintf(tmp_dir, sizeof tmp_dir, "%s/tmp", cache.dir);
  snprintf(shard, sizeof shard, "%s", path);
  *strrchr(shard, '/') = '\0';
  wudf_cache_reset(&cache);
  CHECK_STATUS(st, WUDF_ERR_INVALID, &err);
  CHECK_CONTAINS(err.message, "type mismatch in i32.add");
  CHECK(!cached);
  CHECK_EQ_INT(count_entries(tmp_dir), 0);
  CHECK_EQ_INT(count_entries(shard), 0);
}

typedef struct fill_job {
  const wudf_cache *cache;
  const wudf_build_input *in;
  wudf_status status;
  char message[WUDF_ERROR_MESSAGE_SIZE];
} fill_job;

static void *fill_thread(void *arg) {
  fill_job *job = arg;
  wudf_error err = {0};
  char path[700];
  bool cached;
  job->status = wudf_cache_get_or_build(job->cache, toolchain(), job->in, path,
                                        sizeof path, &cached, &err);
  memcpy(job->message, err.message, sizeof job->message);
  return NULL;
}

/* 4 processes and 4 threads fill the same key at once. */
TEST(cache_concurrent_fill) {
  const wudf_toolchain *tc = toolchain();
  CHECK(tc != NULL);
  wudf_error err = {0};
  wudf_cache cache = {0};
  CHECK_STATUS(wudf_cache_open(&cache, tmp_path("cache-race"), &err), WUDF_OK,
               &err);
  wudf_build_input in;
  tiny_input(&in);
  pid_t kids[4];
  for (int i = 0; i < 4; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      char path[700];
      bool cached;
      wudf_status st = wudf_cache_get_or_build(&cache, tc, &in, path,
                                               sizeof path, &cached, NULL);
      _exit(st == WUDF_OK ? 0 : 10 + (int)st);
    }
  }
  pthread_t th[4];
  fill_job jobs[4];
  for (int i = 0; i < 4; i++) {
    jobs[i] = (fill_job){&cache, &in, WUDF_ERR_ARG, ""};
    pthread_create(&th[i], NULL, fill_thread, &jobs[i]);
  }
  int bad_kids = 0;
  for (int i = 0; i < 4; i++) {
    int status = 0;
    if (kids[i] < 0 || waitpid(kids[i], &status, 0) != kids[i] ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      bad_kids++;
  }
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  char path[700], tmp_dir[700], shard[700];
  bool cached = false;
  wudf_status st = wudf_cache_get_or_build(&cache, tc, &in, path, sizeof path,
                                           &cached, &err);
  snprintf(tmp_dir, sizeof tmp_dir, "%s/tmp", cache.dir);
  wudf_cache_reset(&cache);
  CHECK_EQ_INT(bad_kids, 0);
  for (int i = 0; i < 4; i++)
    CHECK_MSG(jobs[i].status == WUDF_OK, "thread %d: %s", i, jobs[i].message);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK(cached);
  CHECK_EQ_INT(call_probe(path), 42);
  CHECK_EQ_INT(count_entries(tmp_dir), 0);
  snprintf(shard, sizeof shard, "%s", path);
  *strrchr(shard, '/') = '\0';
  CHECK_EQ_INT(count_entries(shard), 1); /* the .so, no temporary files */
}
