/* Loading modules: refusals, the compiled-module cache, concurrent loads. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"

static wudf_status load_wat_flags(const char *subdir, const char *wat,
                                  const char *flags, wudf_error *err) {
  size_t len;
  uint8_t *bytes = test_wat(wat, flags, &len);
  if (!bytes) {
    snprintf(err->message, sizeof err->message, "wat2wasm failed");
    return WUDF_ERR_ARG;
  }
  wudf_engine *e = test_engine(subdir, NULL);
  wudf_module *m = NULL;
  wudf_status st =
      e ? wudf_module_load(e, bytes, len, "t.wasm", &m, err) : WUDF_ERR_ARG;
  wudf_module_free(m);
  wudf_engine_free(e);
  free(bytes);
  return st;
}

TEST(module_refuses_unprovided_imports_naming_each) {
  wudf_error err = {0};
  wudf_status st = load_wat_flags(
      NULL,
      "(module\n"
      " (import \"wasi_snapshot_preview1\" \"path_open\"\n"
      "   (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))\n"
      " (import \"wasi_snapshot_preview1\" \"sock_accept\"\n"
      "   (func (param i32 i32 i32) (result i32)))\n"
      " (import \"env\" \"system\" (func (param i32) (result i32)))\n"
      " (import \"wasi_snapshot_preview1\" \"fd_write\"\n"
      "   (func (param i32 i32 i32 i32) (result i32))))",
      NULL, &err);
  CHECK_EQ_INT(st, WUDF_ERR_IMPORT);
  CHECK_CONTAINS(err.message, "3 imports refused");
  CHECK_CONTAINS(err.message, "'wasi_snapshot_preview1'.'path_open'");
  CHECK_CONTAINS(err.message, "'wasi_snapshot_preview1'.'sock_accept'");
  CHECK_CONTAINS(err.message, "'env'.'system'");
}

TEST(module_refuses_mistyped_wasi_import) {
  wudf_error err = {0};
  wudf_status st =
      load_wat_flags(NULL,
                     "(module (import \"wasi_snapshot_preview1\" \"fd_write\"\n"
                     "   (func (param i64) (result i32))))",
                     NULL, &err);
  CHECK_EQ_INT(st, WUDF_ERR_IMPORT);
  CHECK_CONTAINS(err.message, "fd_write");
  CHECK_CONTAINS(err.message, "(i64) -> (i32)");
}

TEST(module_refuses_features_wasm2c_cannot_translate) {
  struct {
    const char *wat, *flags, *feature;
  } cases[] = {
      {"(module (func (result v128) v128.const i32x4 1 2 3 4))", "", "SIMD"},
      {"(module (memory 1 1 shared) (func (result i32) i32.const 0 "
       "i32.atomic.load))",
       "--enable-threads", "shared"},
      {"(module (func $f return_call $f))", "--enable-tail-call", "tail"},
      {"(module (memory i64 1))", "--enable-memory64", "memory64"},
      {"(module (tag $e) (func (throw $e)))", "--enable-exceptions",
       "exception"},
      {"(module (memory 1) (memory 1))", "--enable-multi-memory",
       "multi-memory"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wudf_error err = {0};
    wudf_status st = load_wat_flags(NULL, cases[i].wat, cases[i].flags, &err);
    CHECK_MSG(st == WUDF_ERR_UNSUPPORTED, "case %zu: %s: %s", i,
              wudf_status_name(st), err.message);
    CHECK_CONTAINS(err.message, cases[i].feature);
  }
}

TEST(module_refuses_malformed_and_invalid) {
  wudf_engine *e = test_engine(NULL, NULL);
  CHECK(e);
  wudf_error err = {0};
  wudf_module *m = NULL;
  static const uint8_t bad_magic[] = {0, 'a', 's', 'n', 1, 0, 0, 0};
  wudf_status st1 =
      wudf_module_load(e, bad_magic, sizeof bad_magic, "x", &m, &err);
  char msg1[WUDF_ERROR_MESSAGE_SIZE];
  memcpy(msg1, err.message, sizeof msg1);
  /* Well formed, but i32.add on an empty stack fails validation. */
  static const uint8_t invalid[] = {0,    'a',  's',  'm',  1,    0,    0,
                                    0,    0x01, 0x05, 0x01, 0x60, 0,    1,
                                    0x7f, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x05,
                                    0x01, 0x03, 0x00, 0x6a, 0x0b};
  wudf_status st2 = wudf_module_load(e, invalid, sizeof invalid, "y", &m, &err);
  wudf_engine_free(e);
  CHECK_EQ_INT(st1, WUDF_ERR_MALFORMED);
  CHECK_CONTAINS(msg1, "at byte");
  CHECK_EQ_INT(st2, WUDF_ERR_INVALID);
  CHECK_CONTAINS(err.message, "type mismatch");
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static const char k_small[] =
    "(module (func (export \"sq\") (param i32) (result i32)\n"
    "  local.get 0 local.get 0 i32.mul))";

TEST(module_cache_cold_then_warm) {
  size_t len;
  uint8_t *bytes = test_wat(k_small, NULL, &len);
  CHECK(bytes);
  wudf_engine *e = test_engine("cache-cold-warm", NULL);
  wudf_error err = {0};
  wudf_module *m1 = NULL, *m2 = NULL;
  double t0 = now_ms();
  wudf_status st1 = e ? wudf_module_load(e, bytes, len, "sq", &m1, &err) : 1;
  double t1 = now_ms();
  wudf_status st2 = e ? wudf_module_load(e, bytes, len, "sq", &m2, &err) : 1;
  double t2 = now_ms();
  bool cached1 = wudf_module_was_cached(m1),
       cached2 = wudf_module_was_cached(m2);
  wudf_module_free(m1);
  wudf_module_free(m2);
  wudf_engine_free(e);
  free(bytes);
  printf("    cold load %.1f ms, warm load %.2f ms\n", t1 - t0, t2 - t1);
  CHECK_EQ_INT(st1, WUDF_OK);
  CHECK_EQ_INT(st2, WUDF_OK);
  CHECK(!cached1);
  CHECK(cached2);
}

typedef struct loader {
  const uint8_t *bytes;
  size_t len;
  wudf_engine *engine;
  int ok;
} loader;

static void *load_and_call(void *p) {
  loader *l = p;
  wudf_module *m = NULL;
  wudf_instance *inst = NULL;
  wudf_error err = {0};
  wudf_val a = test_i32(12), r;
  if (!wudf_module_load(l->engine, l->bytes, l->len, "sq", &m, &err) &&
      !wudf_instance_new(m, NULL, &inst, &err) &&
      !wudf_instance_call(inst, "sq", &a, 1, &r, 1, &err) && r.of.i32 == 144)
    l->ok = 1;
  else
    fprintf(stderr, "    concurrent load: %s\n", err.message);
  wudf_instance_free(inst);
  wudf_module_free(m);
  return NULL;
}

/* Threads of this process and of two child processes all fill the same
 * empty cache entry at once; all must succeed. */
TEST(module_concurrent_cache_fills) {
  size_t len;
  uint8_t *bytes = test_wat(
      "(module (func (export \"sq\") (param i32) (result i32)\n"
      "  local.get 0 local.get 0 i32.mul) (func (export \"x\")))",
      NULL, &len);
  CHECK(bytes);
  pid_t kids[2];
  for (int k = 0; k < 2; k++) {
    kids[k] = fork();
    if (kids[k] == 0) {
      wudf_engine *e = test_engine("cache-concurrent", NULL);
      loader l = {bytes, len, e, 0};
      if (e) load_and_call(&l);
      wudf_engine_free(e);
      _exit(l.ok ? 0 : 1);
    }
  }
  wudf_engine *e = test_engine("cache-concurrent", NULL);
  enum { N = 4 };
  pthread_t t[N];
  loader l[N];
  for (int i = 0; i < N; i++) {
    l[i] = (loader){bytes, len, e, 0};
    pthread_create(&t[i], NULL, load_and_call, &l[i]);
  }
  int ok = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    ok += l[i].ok;
  }
  int kids_ok = 0;
  for (int k = 0; k < 2; k++) {
    int status;
    waitpid(kids[k], &status, 0);
    kids_ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  wudf_engine_free(e);
  free(bytes);
  CHECK_EQ_INT(ok, N);
  CHECK_EQ_INT(kids_ok, 2);
}

TEST(module_describes_imports_and_exports) {
  wudf_engine *e = test_engine(NULL, NULL);
  CHECK(e);
  wudf_error err = {0};
  wudf_module *m = test_load_wat(
      e,
      "(module (import \"wasi_snapshot_preview1\" \"proc_exit\" (func (param "
      "i32)))\n"
      " (memory (export \"memory\") 2 10)\n"
      " (global (export \"g\") (mut i64) (i64.const 1))\n"
      " (func (export \"f\") (param i32 f64) (result f32) f32.const 0))",
      &err);
  if (!m) wudf_engine_free(e);
  CHECK_MSG(m, "%s", err.message);
  wudf_extern_info im, ex[3];
  CHECK_EQ_INT(wudf_module_import_count(m), 1);
  CHECK_EQ_INT(wudf_module_export_count(m), 3);
  wudf_module_import(m, 0, &im);
  for (uint32_t i = 0; i < 3; i++) wudf_module_export(m, i, &ex[i]);
  bool ok = !strcmp(im.module_name, "wasi_snapshot_preview1") &&
            !strcmp(im.name, "proc_exit") && im.nparams == 1 &&
            im.params[0] == WUDF_I32 && ex[0].kind == WUDF_EXTERN_MEMORY &&
            ex[0].min == 2 && ex[0].max == 10 &&
            ex[1].kind == WUDF_EXTERN_GLOBAL && ex[1].mutable_ &&
            ex[1].results[0] == WUDF_I64 && !strcmp(ex[2].name, "f") &&
            ex[2].nparams == 2 && ex[2].params[1] == WUDF_F64 &&
            ex[2].results[0] == WUDF_F32;
  wudf_module_free(m);
  wudf_engine_free(e);
  CHECK(ok);
}

TEST(engine_refuses_unsafe_cache_directory) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/open-cache", test_tmpdir());
  CHECK(mkdir(dir, 0777) == 0 || errno == EEXIST);
  CHECK(chmod(dir, 0777) == 0);
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = dir;
  wudf_engine *e = NULL;
  wudf_error err = {0};
  wudf_status st = wudf_engine_new(&cfg, &e, &err);
  wudf_engine_free(e);
  CHECK_EQ_INT(st, WUDF_ERR_CACHE);
  CHECK_CONTAINS(err.message, "open-cache");
}

/* wasm2c overflows its own stack on very deep nesting; wudf refuses first. */
TEST(module_refuses_deeply_nested_blocks) {
  enum { DEPTH = 10001 };
  size_t cap = DEPTH * 14 + 64;
  char *wat = malloc(cap);
  CHECK(wat);
  size_t n = (size_t)snprintf(wat, cap, "(module (func ");
  for (int i = 0; i < DEPTH; i++)
    n += (size_t)snprintf(wat + n, cap - n, "(block ");
  for (int i = 0; i < DEPTH; i++) wat[n++] = ')';
  snprintf(wat + n, cap - n, "))");
  wudf_error err = {0};
  wudf_status st = load_wat_flags(NULL, wat, NULL, &err);
  free(wat);
  CHECK_EQ_INT(st, WUDF_ERR_LIMIT);
  CHECK_CONTAINS(err.message, "10001 deep");
}

TEST(module_table_limits) {
  wudf_limits lim;
  wudf_limits_init(&lim);
  lim.table_elements = 100;
  wudf_engine *e = test_engine(NULL, &lim);
  CHECK(e);
  wudf_error err = {0};
  wudf_module *big = test_load_wat(e, "(module (table 101 funcref))", &err);
  wudf_status st_big = err.status;
  char msg[WUDF_ERROR_MESSAGE_SIZE];
  memcpy(msg, err.message, sizeof msg);
  wudf_module *m =
      test_load_wat(e,
                    "(module (table $t 10 funcref)\n"
                    " (func (export \"grow\") (param i32) (result i32)\n"
                    "   ref.null func local.get 0 table.grow $t))",
                    &err);
  wudf_instance *inst = NULL;
  if (m) wudf_instance_new(m, NULL, &inst, &err);
  wudf_val a = test_i32(90), r1 = {0}, r2 = {0};
  if (inst) wudf_instance_call(inst, "grow", &a, 1, &r1, 1, &err);
  a = test_i32(1);
  if (inst) wudf_instance_call(inst, "grow", &a, 1, &r2, 1, &err);
  wudf_instance_free(inst);
  wudf_module_free(m);
  wudf_module_free(big);
  wudf_engine_free(e);
  CHECK(big == NULL);
  CHECK_EQ_INT(st_big, WUDF_ERR_LIMIT);
  CHECK_CONTAINS(msg, "101");
  CHECK_EQ_INT(r1.of.i32, 10); /* grown to exactly the limit */
  CHECK_EQ_INT(r2.of.i32, -1); /* one more is refused */
}
