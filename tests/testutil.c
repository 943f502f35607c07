#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

uint8_t *test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) buf[n] = 0;
  if (buf && len) *len = (size_t)n;
  return buf;
}

wudf_module *test_load_c_udfs(wudf_engine *e, const char *c_source,
                              const char *const *sigs, size_t nsigs,
                              const char *name) {
  if (!e || nsigs > 64) return NULL;
  size_t len;
  uint8_t *bytes = test_c_to_wasm(c_source, &len);
  if (!bytes) return NULL;
  wudf_udf_sig parsed[64];
  wudf_error err = {0};
  wudf_module *m = NULL;
  for (size_t i = 0; i < nsigs; i++)
    if (wudf_udf_sig_parse(sigs[i], strlen(sigs[i]), &parsed[i], &err)) {
      fprintf(stderr, "    %s: %s\n", sigs[i], err.message);
      free(bytes);
      return NULL;
    }
  wudf_load_options o = {
      .name = name, .udfs = parsed, .nudfs = (uint32_t)nsigs};
  if (wudf_module_load_ex(e, bytes, len, &o, &m, &err) != WUDF_OK)
    fprintf(stderr, "    load: %s\n", err.message);
  free(bytes);
  return m;
}

uint8_t *test_wat(const char *wat, const char *flags, size_t *len) {
  static int counter;
  char src[512], dst[512], cmd[1400];
  int id = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
  snprintf(src, sizeof src, "%s/m%d-%d.wat", test_tmpdir(), (int)getpid(), id);
  snprintf(dst, sizeof dst, "%s/m%d-%d.wasm", test_tmpdir(), (int)getpid(), id);
  FILE *f = fopen(src, "w");
  if (!f) return NULL;
  fputs(wat, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "wat2wasm %s '%s' -o '%s'", flags ? flags : "", src,
           dst);
  if (system(cmd) != 0) return NULL;
  return test_read_file(dst, len);
}

wudf_engine *test_engine(const char *subdir, const wudf_limits *limits) {
  char dir[512];
  /* A child of test_run_child() shares its parent's cache. */
  const char *shared = getenv("WUDF_TEST_CACHE");
  if (!subdir && shared && *shared)
    snprintf(dir, sizeof dir, "%s", shared);
  else
    snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(),
             subdir ? subdir : "cache");
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = dir;
  if (limits) cfg.limits = *limits;
  wudf_engine *e = NULL;
  wudf_error err = {0};
  if (wudf_engine_new(&cfg, &e, &err) != WUDF_OK)
    fprintf(stderr, "    engine: %s\n", err.message);
  return e;
}

wudf_module *test_load_wat(wudf_engine *e, const char *wat, wudf_error *err) {
  size_t len;
  uint8_t *bytes = test_wat(wat, NULL, &len);
  if (!bytes) return NULL;
  wudf_module *m = NULL;
  wudf_module_load(e, bytes, len, "test.wasm", &m, err);
  free(bytes);
  return m;
}

uint8_t *test_c_to_wasm(const char *c_source, size_t *len) {
  static int counter;
  char src[512], dst[512], cmd[1400];
  int id = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
  snprintf(src, sizeof src, "%s/c%d-%d.c", test_tmpdir(), (int)getpid(), id);
  snprintf(dst, sizeof dst, "%s/c%d-%d.wasm", test_tmpdir(), (int)getpid(), id);
  FILE *f = fopen(src, "w");
  if (!f) return NULL;
  fputs(c_source, f);
  fclose(f);
  snprintf(cmd, sizeof cmd,
           "clang-19 --target=wasm32-wasi --sysroot=/usr -O2 "
           "-mexec-model=reactor -o '%s' '%s'",
           dst, src);
  if (system(cmd) != 0) return NULL;
  return test_read_file(dst, len);
}

int test_run_child(const char *helper, const char *mode) {
  char cache[600];
  snprintf(cache, sizeof cache, "%s/cache", test_tmpdir());
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    setenv("WUDF_TEST_CHILD", mode, 1);
    setenv("WUDF_TEST_CACHE", cache, 1);
    /* The child's temporary files go inside the parent's directory, which
     * the parent removes. */
    setenv("TMPDIR", test_tmpdir(), 1);
    execl("/proc/self/exe", "run_tests", helper, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

const char *test_child_mode(void) {
  return getenv("WUDF_TEST_CHILD");
}
