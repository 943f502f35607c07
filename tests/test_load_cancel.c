/* Loads and compiles with a cancel flag and a progress callback: the
 * phases are reported in order; a flag set from another thread while the
 * C compiler (or clang, for wudf_compile) runs ends the call promptly with
 * WUDF_ERR_CANCELLED, kills the compiler and leaves no cache entry. */
#include <dirent.h>
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"
#include "wudf_compile.h"

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- Phases -------------------------------------------------------------- */

typedef struct phases {
  wudf_phase seen[16];
  double at[16];
  int n;
  /* Trigger `cancel` once `when` has started and `delay_ms` passed (from
   * a thread of its own, so that the loading thread goes on). */
  wudf_cancel *cancel;
  wudf_phase when;
  long delay_ms;
  double triggered; /* when the trigger ran; 0: not yet */
  pthread_t thread;
  bool started;
} phases;

static void *trigger_later(void *arg) {
  phases *p = arg;
  sleep_ms(p->delay_ms);
  p->triggered = now_s();
  wudf_cancel_trigger(p->cancel);
  return NULL;
}

static void on_phase(void *user, wudf_phase phase, double seconds) {
  phases *p = user;
  if (p->n < 16) {
    p->seen[p->n] = phase;
    p->at[p->n++] = seconds;
  }
  if (p->cancel && phase == p->when && !p->started)
    p->started = pthread_create(&p->thread, NULL, trigger_later, p) == 0;
}

static void join_trigger(phases *p) {
  if (p->started) pthread_join(p->thread, NULL);
  p->started = false;
}

static bool phases_are(const phases *p, const wudf_phase *want, int n) {
  bool ok = p->n == n;
  for (int i = 0; ok && i < n; i++)
    ok = p->seen[i] == want[i] && (i == 0 || p->at[i] >= p->at[i - 1]);
  if (!ok) {
    fprintf(stderr, "    phases:");
    for (int i = 0; i < p->n; i++)
      fprintf(stderr, " %s", wudf_phase_str(p->seen[i]));
    fprintf(stderr, "\n");
  }
  return ok;
}

/* ---- What a cancelled build may leave ------------------------------------ */

static int g_found; /* for the nftw callback */

static int count_so(const char *path, const struct stat *sb, int type,
                    struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  size_t n = strlen(path);
  if (type == FTW_F && n > 3 && strcmp(path + n - 3, ".so") == 0) g_found++;
  if (type == FTW_F && strstr(path, "/build-")) g_found++; /* work files */
  return 0;
}

/* Cache entries (or work files) left under `dir`. */
static int leftovers(const char *dir) {
  g_found = 0;
  nftw(dir, count_so, 16, FTW_PHYS);
  return g_found;
}

/* Processes whose working directory is under `dir` (a compiler left
 * running in a build directory). Waits up to a second for killed ones to
 * be gone. */
static int processes_in(const char *dir) {
  int found = 0;
  for (int tries = 0; tries < 50; tries++) {
    found = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      char link[300], cwd[1024];
      snprintf(link, sizeof link, "/proc/%s/cwd", e->d_name);
      ssize_t n = readlink(link, cwd, sizeof cwd - 1);
      if (n <= 0) continue;
      cwd[n] = '\0';
      found += strncmp(cwd, dir, strlen(dir)) == 0;
    }
    closedir(d);
    if (!found) break;
    sleep_ms(20);
  }
  return found;
}

/* Parent of process `pid` (0 if unknown). */
static long parent_of(long pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *rp = strrchr(buf, ')'); /* the name may hold spaces */
  long ppid = 0;
  if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1) return 0;
  return ppid;
}

/* Processes descending from this one, waiting up to a second for killed
 * ones to go. */
static int descendants(void) {
  long self = (long)getpid();
  int found = 0;
  for (int tries = 0; tries < 50; tries++) {
    found = 0;
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
      long pid = strtol(e->d_name, NULL, 10), p = pid;
      for (int depth = 0; p > 1 && depth < 64; depth++) {
        p = parent_of(p);
        if (p == self && pid != self) {
          found++;
          break;
        }
      }
    }
    closedir(d);
    if (!found) break;
    sleep_ms(20);
  }
  return found;
}

/* A module with `nfuncs` functions, each a little arithmetic: it takes the
 * C compiler a while. */
static uint8_t *big_module(int nfuncs, size_t *len) {
  size_t cap = (size_t)nfuncs * 400 + 100;
  char *wat = malloc(cap);
  if (!wat) return NULL;
  size_t at = (size_t)snprintf(wat, cap, "(module\n");
  for (int i = 0; i < nfuncs; i++)
    at +=
        (size_t)snprintf(wat + at, cap - at,
                         "(func (export \"f%d\") (param i32 i32) (result i32)\n"
                         " (i32.add (i32.mul (local.get 0) (i32.const %d))\n"
                         "  (i32.xor (i32.rotl (local.get 1) (i32.const %d))\n"
                         "   (i32.div_s (local.get 0) (i32.or (local.get 1) "
                         "(i32.const 1))))))\n",
                         i, i * 7 + 1, i % 31);
  snprintf(wat + at, cap - at, ")\n");
  uint8_t *bytes = test_wat(wat, NULL, len);
  free(wat);
  return bytes;
}

/* ---- Tests --------------------------------------------------------------- */

/* A fresh load reports parse, cache, translate, cc, link, done; a load the
 * cache has, parse, cache, link, done. */
TEST(load_progress_reports_phases_in_order) {
  char sub[64];
  snprintf(sub, sizeof sub, "cache-progress-%d", (int)getpid());
  wudf_engine *e = test_engine(sub, NULL);
  CHECK(e);
  size_t len;
  uint8_t *bytes = test_wat(
      "(module (func (export \"f\") (param i32) (result i32) local.get 0))",
      NULL, &len);
  CHECK(bytes);
  phases p = {0};
  wudf_load_options o = {
      .name = "p.wasm", .progress = on_phase, .progress_user = &p};
  wudf_module *m = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_module_load_ex(e, bytes, len, &o, &m, &err), WUDF_OK, &err);
  wudf_module_free(m);
  const wudf_phase cold[] = {WUDF_PHASE_PARSE,     WUDF_PHASE_CACHE,
                             WUDF_PHASE_TRANSLATE, WUDF_PHASE_CC,
                             WUDF_PHASE_LINK,      WUDF_PHASE_DONE};
  bool cold_ok = phases_are(&p, cold, 6);
  memset(&p, 0, sizeof p);
  CHECK_STATUS(wudf_module_load_ex(e, bytes, len, &o, &m, &err), WUDF_OK, &err);
  wudf_module_free(m);
  free(bytes);
  wudf_engine_free(e);
  const wudf_phase warm[] = {WUDF_PHASE_PARSE, WUDF_PHASE_CACHE,
                             WUDF_PHASE_LINK, WUDF_PHASE_DONE};
  CHECK(cold_ok);
  CHECK(phases_are(&p, warm, 4));
}

/* A flag set before the load: nothing runs. */
TEST(load_cancelled_before_it_starts) {
  wudf_engine *e = test_engine(NULL, NULL);
  CHECK(e);
  size_t len;
  uint8_t *bytes = test_wat("(module)", NULL, &len);
  CHECK(bytes);
  wudf_cancel *cancel = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_cancel_new(&cancel, &err), WUDF_OK, &err);
  wudf_cancel_trigger(cancel);
  phases p = {0};
  wudf_load_options o = {
      .cancel = cancel, .progress = on_phase, .progress_user = &p};
  wudf_module *m = NULL;
  wudf_status st = wudf_module_load_ex(e, bytes, len, &o, &m, &err);
  free(bytes);
  wudf_cancel_free(cancel);
  wudf_engine_free(e);
  CHECK_EQ_INT(st, WUDF_ERR_CANCELLED);
  CHECK(m == NULL);
  CHECK_CONTAINS(err.message, "cancelled");
  const wudf_phase want[] = {WUDF_PHASE_PARSE};
  CHECK(phases_are(&p, want, 1));
}

/* Cancelled from another thread while cc compiles a large module: the load
 * returns WUDF_ERR_CANCELLED within a second of the trigger, no compiler
 * is left running, no cache entry or work file is left; the same load
 * without the flag then succeeds. */
TEST(load_cancelled_while_cc_runs) {
  char sub[64], dir[600];
  snprintf(sub, sizeof sub, "cache-cancel-%d", (int)getpid());
  snprintf(dir, sizeof dir, "%s/%s", test_tmpdir(), sub);
  wudf_engine *e = test_engine(sub, NULL);
  CHECK(e);
  size_t len;
  uint8_t *bytes = big_module(3000, &len);
  CHECK(bytes);
  wudf_cancel *cancel = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_cancel_new(&cancel, &err), WUDF_OK, &err);
  phases p = {.cancel = cancel, .when = WUDF_PHASE_CC, .delay_ms = 300};
  wudf_load_options o = {.name = "big.wasm",
                         .cancel = cancel,
                         .progress = on_phase,
                         .progress_user = &p};
  wudf_module *m = NULL;
  double t0 = now_s();
  wudf_status st = wudf_module_load_ex(e, bytes, len, &o, &m, &err);
  double ended = now_s();
  join_trigger(&p);
  int procs = processes_in(dir) + descendants(), files = leftovers(dir);
  fprintf(stderr, "    load ran %.0f ms, ended %.0f ms after the trigger\n",
          (ended - t0) * 1e3, p.triggered ? (ended - p.triggered) * 1e3 : -1.0);
  wudf_module_free(m);
  wudf_cancel_free(cancel);
  free(bytes);
  wudf_engine_free(e);
  CHECK_MSG(st == WUDF_ERR_CANCELLED, "%s: %s", wudf_status_name(st),
            err.message);
  CHECK(p.triggered > 0 && ended - p.triggered < 1.0);
  CHECK_CONTAINS(err.message, "cancelled");
  CHECK_EQ_INT(procs, 0);
  CHECK_EQ_INT(files, 0);
}

/* wudf_compile: progress cache, compile, done on success; cancelled while
 * clang runs, it returns promptly, leaving no process behind. */
TEST(compile_cancelled_while_clang_runs) {
  size_t cap = 4000 * 200 + 100, at = 0;
  char *src = malloc(cap);
  CHECK(src);
  for (int i = 0; i < 4000; i++)
    at += (size_t)snprintf(src + at, cap - at,
                           "int f%d(int a, int b) { int s = 0; for (int i = 0; "
                           "i < a; i++) s += (i * %d) ^ (b >> (i & 7)); "
                           "return s; }\n",
                           i, i + 3);
  wudf_cancel *cancel = NULL;
  wudf_error err = {0};
  CHECK_STATUS(wudf_cancel_new(&cancel, &err), WUDF_OK, &err);
  phases p = {.cancel = cancel, .when = WUDF_PHASE_COMPILE, .delay_ms = 200};
  wudf_compile_options o;
  wudf_compile_options_init(&o);
  o.include_dir = "include";
  o.no_cache = true;
  o.file_name = "big.c";
  o.cancel = cancel;
  o.progress = on_phase;
  o.progress_user = &p;
  wudf_compile_result *r = NULL;
  double t0 = now_s();
  wudf_status st = wudf_compile(src, at, &o, &r, &err);
  double ended = now_s();
  join_trigger(&p);
  int procs = descendants();
  fprintf(stderr, "    compile ran %.0f ms, ended %.0f ms after the trigger\n",
          (ended - t0) * 1e3, p.triggered ? (ended - p.triggered) * 1e3 : -1.0);
  wudf_compile_result_free(r);
  wudf_cancel_free(cancel);
  free(src);
  if (st == WUDF_ERR_UNSUPPORTED) { /* no clang or no sandbox here */
    fprintf(stderr, "    skipped: %s\n", err.message);
    return;
  }
  CHECK_MSG(st == WUDF_ERR_CANCELLED, "%s: %s", wudf_status_name(st),
            err.message);
  CHECK(p.triggered > 0 && ended - p.triggered < 1.0);
  CHECK_EQ_INT(procs, 0);
  const wudf_phase want[] = {WUDF_PHASE_CACHE, WUDF_PHASE_COMPILE};
  CHECK(phases_are(&p, want, 2));
  /* Without the flag, a small source: every phase, in order. */
  static const char k_small[] = "int plus1(int x) { return x + 1; }\n";
  phases q = {0};
  o.cancel = NULL;
  o.progress_user = &q;
  r = NULL;
  st = wudf_compile(k_small, sizeof k_small - 1, &o, &r, &err);
  wudf_compile_result_free(r);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  const wudf_phase all[] = {WUDF_PHASE_CACHE, WUDF_PHASE_COMPILE,
                            WUDF_PHASE_DONE};
  CHECK(phases_are(&q, all, 3));
}
