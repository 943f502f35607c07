/* The process-level contract: runtime settings, the allocator hook, the
 * timer signal, host-owned faults, checking and repairing handlers,
 * recovering from a host function that leaves by longjmp, interrupts and
 * trimming the type registry.
 *
 * Tests that need a process whose runtime has not started run in a child
 * (test_run_child), which reports through its exit status: 0 passed, else
 * the number of the step that failed. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "harness.h"
#include "testutil.h"

#define HELPER "process_child_helper"
#define NO_ERR_PTR ((wudf_error *)NULL)

static const char k_wat[] =
    "(module\n"
    "  (import \"host\" \"jump\" (func $jump))\n"
    "  (type $odd (func (param i64 f32 i32 f64 i64 f32 i32) (result f64)))\n"
    "  (memory 1)\n"
    "  (table 2 funcref)\n"
    "  (elem (i32.const 0) $odd $add)\n"
    "  (func $odd (type $odd) local.get 3)\n"
    "  (func $add (export \"add\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 i32.add)\n"
    "  (func (export \"spin\") (loop br 0))\n"
    "  (func (export \"oob\") i32.const 65536 i32.const 1 i32.store)\n"
    "  (func $rec (export \"recurse\") (param i32) (result i32)\n"
    "    local.get 0 i32.const 1 i32.add call $rec)\n"
    "  (func (export \"call_host\") call $jump)\n"
    "  (func (export \"poke\") (param i32) i32.const 0 local.get 0 i32.store)\n"
    "  (func (export \"peek\") (result i32) i32.const 0 i32.load)\n"
    "  (func (export \"odd\") (param i32) (result f64)\n"
    "    i64.const 1 f32.const 2 i32.const 3 f64.const 4.5 i64.const 5\n"
    "    f32.const 6 i32.const 7 local.get 0 call_indirect (type $odd))\n"
    ")\n";

/* Another module, whose types differ from k_wat's. */
static const char k_other_wat[] =
    "(module\n"
    "  (type $t (func (param f64 f64 f64 i64) (result i64)))\n"
    "  (table 1 funcref)\n"
    "  (elem (i32.const 0) $f)\n"
    "  (func $f (type $t) local.get 3)\n"
    "  (func (export \"go\") (result i64)\n"
    "    f64.const 0 f64.const 0 f64.const 0 i64.const 9 i32.const 0\n"
    "    call_indirect (type $t))\n"
    ")\n";

/* ---- fixture ------------------------------------------------------------ */

/* What the host import does when called: return, or longjmp to g_jmp. */
static volatile int g_jump;
static jmp_buf g_jmp;

static wudf_status host_jump(void *user, const wudf_val *args,
                             wudf_val *results) {
  (void)user, (void)args, (void)results;
  if (g_jump) longjmp(g_jmp, 1);
  return WUDF_OK;
}

typedef struct fixture {
  wudf_engine *engine;
  wudf_module *module;
  wudf_instance *inst;
  wudf_error err;
} fixture;

static wudf_engine *engine_with_host(const wudf_limits *limits,
                                     wudf_error *err) {
  wudf_engine *e = test_engine(NULL, limits);
  if (e && wudf_engine_define_func(e, "host", "jump", NULL, 0, NULL, 0,
                                   host_jump, NULL, err) != WUDF_OK) {
    wudf_engine_free(e);
    e = NULL;
  }
  return e;
}

/* 0 on success. `timeout_ms` 0 disables the time limit. */
static int setup(fixture *f, uint32_t timeout_ms) {
  memset(f, 0, sizeof *f);
  wudf_limits lim;
  wudf_limits_init(&lim);
  lim.timeout_ms = timeout_ms;
  f->engine = engine_with_host(&lim, &f->err);
  if (f->engine) f->module = test_load_wat(f->engine, k_wat, &f->err);
  if (!f->module) return -1;
  return wudf_instance_new(f->module, NULL, &f->inst, &f->err) ? -1 : 0;
}

static void teardown(fixture *f) {
  wudf_instance_free(f->inst);
  wudf_module_free(f->module);
  wudf_engine_free(f->engine);
}

static wudf_status call0(wudf_instance *inst, const char *name,
                         wudf_error *err) {
  return wudf_instance_call(inst, name, NULL, 0, NULL, 0, err);
}

static wudf_status add(wudf_instance *inst, int32_t a, int32_t b,
                       int32_t *sum) {
  wudf_val args[2] = {test_i32(a), test_i32(b)}, r[1];
  wudf_status st = wudf_instance_call(inst, "add", args, 2, r, 1, NULL);
  if (st == WUDF_OK && sum) *sum = r[0].of.i32;
  return st;
}

static wudf_status odd(wudf_instance *inst, int32_t slot, double *out) {
  wudf_val args[1] = {test_i32(slot)}, r[1];
  wudf_status st = wudf_instance_call(inst, "odd", args, 1, r, 1, NULL);
  if (st == WUDF_OK) *out = r[0].of.f64;
  return st;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Interrupts `inst` every millisecond until `done`: an interrupt while the
 * call has not started yet does nothing, so one arrives while it runs. */
typedef struct interrupter {
  wudf_instance *inst;
  atomic_int done;
  pthread_t thread, target;
  bool by_signal; /* pthread_kill(target, SIGUSR1) instead */
} interrupter;

static void *interrupt_main(void *p) {
  interrupter *it = p;
  while (!atomic_load(&it->done)) {
    if (it->by_signal)
      pthread_kill(it->target, SIGUSR1);
    else
      wudf_instance_interrupt(it->inst);
    sleep_ms(1);
  }
  return NULL;
}

static bool interrupter_start(interrupter *it, wudf_instance *inst,
                              bool by_signal) {
  it->inst = inst;
  atomic_init(&it->done, 0);
  it->target = pthread_self();
  it->by_signal = by_signal;
  return pthread_create(&it->thread, NULL, interrupt_main, it) == 0;
}

static void interrupter_stop(interrupter *it) {
  atomic_store(&it->done, 1);
  pthread_join(it->thread, NULL);
}

/* ---- settings ----------------------------------------------------------- */

TEST(process_runtime_config_defaults) {
  wudf_runtime_config c;
  memset(&c, 0x5a, sizeof c);
  wudf_runtime_config_init(&c);
  CHECK(c.realloc == NULL);
  CHECK(c.realloc_user == NULL);
  CHECK_EQ_INT(c.timer_signal, SIGRTMIN + 3);
  CHECK_EQ_INT(c.faults, WUDF_FAULTS_INSTALL);
}

TEST(process_runtime_init_same_again_other_refused) {
  wudf_error err;
  wudf_error_init(&err);
  wudf_runtime_config c;
  CHECK_STATUS(wudf_runtime_init(NULL, &err), WUDF_ERR_ARG, &err);
  wudf_runtime_config_init(&c);
  c.timer_signal = SIGUSR1;
  CHECK_STATUS(wudf_runtime_init(&c, &err), WUDF_ERR_ARG, &err);
  CHECK_CONTAINS(err.message, "not a real-time signal");
  c.timer_signal = SIGRTMAX + 1;
  CHECK_STATUS(wudf_runtime_init(&c, &err), WUDF_ERR_ARG, &err);
  /* The defaults, spelled out or not, match a runtime started with them. */
  wudf_runtime_config_init(&c);
  CHECK_STATUS(wudf_runtime_init(&c, &err), WUDF_OK, &err);
  c.timer_signal = 0;
  CHECK_STATUS(wudf_runtime_init(&c, &err), WUDF_OK, &err);
  c.timer_signal = SIGRTMIN + 4;
  CHECK_STATUS(wudf_runtime_init(&c, &err), WUDF_ERR_ARG, &err);
  CHECK_CONTAINS(err.message, "timer signal");
  wudf_runtime_config_init(&c);
  c.faults = WUDF_FAULTS_HOST;
  CHECK_STATUS(wudf_runtime_init(&c, &err), WUDF_ERR_ARG, &err);
  CHECK_CONTAINS(err.message, "WUDF_FAULTS_INSTALL");
}

/* ---- allocator ---------------------------------------------------------- */

TEST(process_alloc_checks_sizes) {
  CHECK(wudf_calloc(SIZE_MAX / 2, 4) == NULL);
  CHECK(wudf_calloc((size_t)1 << 40, (size_t)1 << 40) == NULL);
  unsigned char *z = wudf_calloc(3, 5);
  CHECK(z != NULL);
  for (int i = 0; i < 15; i++) CHECK_EQ_INT(z[i], 0);
  unsigned char *g = wudf_realloc(z, 1000);
  if (!g) wudf_free(z);
  CHECK(g != NULL);
  wudf_free(g);
  char *s = wudf_strndup("abcdef", 3);
  CHECK(s && !strcmp(s, "abc"));
  wudf_free(s);
  CHECK(wudf_strdup(NULL) == NULL);
  void *one = wudf_malloc(0); /* a block, not a NULL success */
  CHECK(one != NULL);
  wudf_free(one);
  wudf_free(NULL);
}

static atomic_long g_live, g_total, g_wrong_user;
static int g_alloc_user;

static void *counting_realloc(void *user, void *ptr, size_t size) {
  if (user != &g_alloc_user) atomic_fetch_add(&g_wrong_user, 1);
  if (size == 0) {
    if (ptr) atomic_fetch_sub(&g_live, 1);
    free(ptr);
    return NULL;
  }
  void *p = realloc(ptr, size);
  if (p && !ptr) {
    atomic_fetch_add(&g_live, 1);
    atomic_fetch_add(&g_total, 1);
  }
  return p;
}

/* An engine, a module and instances used on a thread that then exits (its
 * runtime state is freed with it). */
static void *alloc_workload(void *p) {
  int *step = p;
  fixture f;
  *step = setup(&f, 1000) ? 10 : 0;
  int32_t sum = 0;
  if (!*step && (add(f.inst, 2, 3, &sum) != WUDF_OK || sum != 5)) *step = 11;
  wudf_status oob = *step ? WUDF_OK : call0(f.inst, "oob", &f.err);
  if (!*step && oob != WUDF_TRAP_OOB) {
    fprintf(stderr, "    oob: %s\n", f.err.message);
    *step = 12;
  }
  if (!*step && add(f.inst, 1, 1, &sum) != WUDF_OK) *step = 13; /* rebuilt */
  teardown(&f);
  return NULL;
}

static int child_alloc(void) {
  wudf_runtime_config c;
  wudf_runtime_config_init(&c);
  c.realloc = counting_realloc;
  c.realloc_user = &g_alloc_user;
  if (wudf_runtime_init(&c, NULL) != WUDF_OK) return 1;
  /* Same allocator again: fine; another: refused. */
  if (wudf_runtime_init(&c, NULL) != WUDF_OK) return 2;
  wudf_runtime_config d;
  wudf_runtime_config_init(&d);
  if (wudf_runtime_init(&d, NULL) != WUDF_ERR_ARG) return 3;
  pthread_t th;
  int step = 0;
  if (pthread_create(&th, NULL, alloc_workload, &step) != 0) return 4;
  pthread_join(th, NULL);
  if (step) return step;
  if (wudf_runtime_trim() == 0) return 5; /* the module's types */
  if (atomic_load(&g_total) < 10) return 6;
  if (atomic_load(&g_wrong_user) != 0) return 7;
  if (atomic_load(&g_live) != 0) {
    fprintf(stderr, "    %ld blocks still allocated\n", atomic_load(&g_live));
    return 8;
  }
  return 0;
}

TEST(process_allocator_sees_every_block_freed) {
  int status = test_run_child(HELPER, "alloc");
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x",
            (unsigned)status);
}

/* ---- another timer signal ----------------------------------------------- */

static bool handler_is_default(int sig) {
  struct sigaction cur;
  return sigaction(sig, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
         cur.sa_handler == SIG_DFL;
}

static int child_timer_signal(void) {
  int sig = SIGRTMIN + 5;
  wudf_runtime_config c;
  wudf_runtime_config_init(&c);
  c.timer_signal = sig;
  if (wudf_runtime_init(&c, NULL) != WUDF_OK) return 1;
  wudf_runtime_config d;
  wudf_runtime_config_init(&d);
  if (wudf_runtime_init(&d, NULL) != WUDF_ERR_ARG) return 2;
  fixture f;
  int step = setup(&f, 50) ? 3 : 0;
  struct sigaction cur;
  if (!step &&
      (sigaction(sig, NULL, &cur) != 0 || !(cur.sa_flags & SA_SIGINFO)))
    step = 4;
  if (!step && !handler_is_default(SIGRTMIN + 3)) step = 5;
  if (!step && call0(f.inst, "spin", NULL) != WUDF_TRAP_TIMEOUT) step = 6;
  teardown(&f);
  if (step) return step;
  /* An interrupt, without a time limit. */
  if (setup(&f, 0)) return 7;
  interrupter it;
  if (!interrupter_start(&it, f.inst, false)) step = 8;
  if (!step && call0(f.inst, "spin", NULL) != WUDF_TRAP_INTERRUPTED) step = 9;
  if (!step) interrupter_stop(&it);
  if (!step && add(f.inst, 1, 2, NULL) != WUDF_OK) step = 10;
  teardown(&f);
  return step;
}

TEST(process_timer_signal_is_configurable) {
  int status = test_run_child(HELPER, "timer_signal");
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x",
            (unsigned)status);
}

/* ---- faults owned by the host ------------------------------------------- */

static sigjmp_buf g_host_fault_jmp;
static volatile sig_atomic_t g_host_faults;
static volatile uintptr_t g_host_fault_addr;

static void host_fault_handler(int sig, siginfo_t *info, void *uctx) {
  if (wudf_runtime_handle_fault(sig, info, uctx)) return;
  g_host_faults = g_host_faults + 1;
  g_host_fault_addr = (uintptr_t)info->si_addr;
  siglongjmp(g_host_fault_jmp, 1);
}

static bool install_host_handler(int sig) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = host_fault_handler;
  /* The alternate stack: stack exhaustion is reported there. */
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  return sigaction(sig, &sa, NULL) == 0;
}

/* Touches a page outside every sandbox; true if the host's handler saw
 * exactly that fault. */
static bool host_fault_reaches_host(void) {
  void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return false;
  int before = g_host_faults;
  if (sigsetjmp(g_host_fault_jmp, 1) == 0) *(volatile int *)page = 1;
  bool ok = g_host_faults == before + 1 && g_host_fault_addr == (uintptr_t)page;
  munmap(page, 4096);
  return ok;
}

static int child_host_faults(void) {
  wudf_runtime_config c;
  wudf_runtime_config_init(&c);
  c.faults = WUDF_FAULTS_HOST;
  if (wudf_runtime_init(&c, NULL) != WUDF_OK) return 1;
  fixture f;
  int step = setup(&f, 5000) ? 2 : 0;
  /* wudf left SIGSEGV and SIGBUS alone. */
  if (!step && add(f.inst, 1, 2, NULL) != WUDF_OK) step = 3;
  if (!step && (!handler_is_default(SIGSEGV) || !handler_is_default(SIGBUS)))
    step = 4;
  if (!step &&
      (!install_host_handler(SIGSEGV) || !install_host_handler(SIGBUS)))
    step = 5;
  if (!step && call0(f.inst, "oob", NULL) != WUDF_TRAP_OOB) step = 6;
  wudf_val arg = test_i32(0), r;
  if (!step && wudf_instance_call(f.inst, "recurse", &arg, 1, &r, 1, NULL) !=
                   WUDF_TRAP_STACK_EXHAUSTED)
    step = 7;
  if (!step && g_host_faults != 0) step = 8;
  if (!step && !host_fault_reaches_host()) step = 9;
  /* Not a fault signal, or no siginfo: not wudf's. */
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (!step && (wudf_runtime_handle_fault(SIGILL, &si, NULL) ||
                wudf_runtime_handle_fault(SIGSEGV, NULL, NULL)))
    step = 10;
  if (!step && add(f.inst, 2, 2, NULL) != WUDF_OK) step = 11;
  teardown(&f);
  return step;
}

TEST(process_host_owned_faults) {
  int status = test_run_child(HELPER, "host_faults");
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x",
            (unsigned)status);
}

/* ---- a handler installed after wudf's ----------------------------------- */

static int check_and_repair_faults(fixture *f) {
  wudf_error err;
  wudf_error_init(&err);
  if (wudf_runtime_check(false, &err) != WUDF_OK) return 20;
  /* Like Python's faulthandler.enable() after wudf started. */
  if (!install_host_handler(SIGSEGV)) return 21;
  if (wudf_runtime_check(false, &err) != WUDF_ERR_SYSTEM) return 22;
  if (!strstr(err.message, "SIGSEGV")) return 23;
  if (wudf_runtime_check(true, &err) != WUDF_OK) return 24;
  if (wudf_runtime_check(false, &err) != WUDF_OK) return 25;
  if (call0(f->inst, "oob", NULL) != WUDF_TRAP_OOB) return 26;
  if (g_host_faults != 0) return 27;
  /* Faults that are not the sandbox's go to the newer handler. */
  if (!host_fault_reaches_host()) return 28;
  return 0;
}

static int check_and_repair_timer(fixture *f) {
  wudf_error err;
  wudf_error_init(&err);
  struct sigaction ign;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  if (sigaction(SIGRTMIN + 3, &ign, NULL) != 0) return 30;
  if (wudf_runtime_check(false, &err) != WUDF_ERR_SYSTEM) return 31;
  if (!strstr(err.message, "timer signal")) return 32;
  if (wudf_runtime_check(true, &err) != WUDF_OK) return 33;
  if (call0(f->inst, "spin", NULL) != WUDF_TRAP_TIMEOUT) return 34;
  return 0;
}

static int child_check_repair(void) {
  fixture f;
  int step = setup(&f, 50) ? 1 : 0;
  if (!step && add(f.inst, 1, 2, NULL) != WUDF_OK) step = 2;
  if (!step) step = check_and_repair_faults(&f);
  if (!step) step = check_and_repair_timer(&f);
  teardown(&f);
  return step;
}

TEST(process_check_detects_and_repairs_replaced_handlers) {
  int status = test_run_child(HELPER, "check_repair");
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x",
            (unsigned)status);
}

/* ---- timer_create failing is a system error ----------------------------- */

static int child_no_timer(void) {
  /* No signal may be queued: creating a POSIX timer fails (EAGAIN). */
  struct rlimit none = {0, 0};
  if (setrlimit(RLIMIT_SIGPENDING, &none) != 0) return 1;
  wudf_error err;
  wudf_error_init(&err);
  wudf_limits lim;
  wudf_limits_init(&lim);
  lim.timeout_ms = 1000;
  wudf_engine *e = engine_with_host(&lim, &err);
  wudf_module *m = e ? test_load_wat(e, k_wat, &err) : NULL;
  wudf_instance *inst = NULL;
  wudf_status st = m ? wudf_instance_new(m, NULL, &inst, &err) : WUDF_ERR_ARG;
  int step = 0;
  if (!m) step = 2;
  if (!step && st != WUDF_ERR_SYSTEM) {
    fprintf(stderr, "    %s: %s\n", wudf_status_name(st), err.message);
    step = 3;
  }
  if (!step && !strstr(err.message, "timer")) step = 4;
  wudf_instance_free(inst);
  wudf_module_free(m);
  wudf_engine_free(e);
  return step;
}

TEST(process_timer_failure_is_a_system_error) {
  int status = test_run_child(HELPER, "no_timer");
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x",
            (unsigned)status);
}

/* ---- the children ------------------------------------------------------- */

TEST(process_child_helper) {
  const char *mode = test_child_mode();
  if (!mode) return;
  alarm(30); /* a lost interrupt or time limit kills the child */
  int rc = 99;
  if (!strcmp(mode, "alloc"))
    rc = child_alloc();
  else if (!strcmp(mode, "timer_signal"))
    rc = child_timer_signal();
  else if (!strcmp(mode, "host_faults"))
    rc = child_host_faults();
  else if (!strcmp(mode, "check_repair"))
    rc = child_check_repair();
  else if (!strcmp(mode, "no_timer"))
    rc = child_no_timer();
  fflush(stderr);
  _exit(rc);
}

/* ---- recovering from a host function that left by longjmp --------------- */

static wudf_status jump_out(wudf_instance *inst) {
  g_jump = 1;
  if (setjmp(g_jmp) == 0) {
    wudf_status st = call0(inst, "call_host", NULL);
    g_jump = 0;
    return st; /* it did not jump: a failure */
  }
  g_jump = 0;
  return WUDF_ERR_ARG;
}

TEST(process_recover_after_host_longjmp) {
  fixture f;
  if (setup(&f, 1000)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  wudf_instance_config ic;
  wudf_instance_config_init(f.engine, &ic);
  ic.keep_state_on_trap = true; /* still rebuilt after a longjmp */
  wudf_instance *keep = NULL;
  CHECK_STATUS(wudf_instance_new(f.module, &ic, &keep, &f.err), WUDF_OK,
               &f.err);
  wudf_val v = test_i32(42), r;
  CHECK_STATUS(wudf_instance_call(keep, "poke", &v, 1, NULL, 0, &f.err),
               WUDF_OK, &f.err);
  CHECK_EQ_INT(jump_out(keep), WUDF_ERR_ARG);
  /* Marked as inside a call until recovered. */
  wudf_status marked = add(f.inst, 1, 1, NULL);
  wudf_runtime_recover();
  wudf_runtime_recover(); /* nothing more to do */
  CHECK_EQ_INT(marked, WUDF_ERR_ARG);
  CHECK_STATUS(wudf_instance_call(keep, "peek", NULL, 0, &r, 1, &f.err),
               WUDF_OK, &f.err);
  CHECK_EQ_INT(r.of.i32, 0);
  for (int i = 0; i < 1000; i++) {
    int32_t sum = 0;
    CHECK_STATUS(add(keep, i, 1, &sum), WUDF_OK, NO_ERR_PTR);
    CHECK_EQ_INT(sum, i + 1);
    CHECK_STATUS(add(f.inst, i, 2, &sum), WUDF_OK, NO_ERR_PTR);
  }
  wudf_instance *fresh = NULL;
  CHECK_STATUS(wudf_instance_new(f.module, NULL, &fresh, &f.err), WUDF_OK,
               &f.err);
  for (int i = 0; i < 1000; i++)
    CHECK_STATUS(add(fresh, i, 3, NULL), WUDF_OK, NO_ERR_PTR);
  CHECK_STATUS(call0(fresh, "call_host", &f.err), WUDF_OK, &f.err);
  CHECK_STATUS(call0(fresh, "spin", &f.err), WUDF_TRAP_TIMEOUT, &f.err);
  CHECK_STATUS(add(fresh, 1, 1, NULL), WUDF_OK, NO_ERR_PTR);
  wudf_instance_free(fresh);
  wudf_instance_free(keep);
  teardown(&f);
}

/* Freeing the instance whose call was left ends that call too. */
TEST(process_free_after_host_longjmp) {
  fixture f;
  if (setup(&f, 1000)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  wudf_instance *other = NULL;
  CHECK_STATUS(wudf_instance_new(f.module, NULL, &other, &f.err), WUDF_OK,
               &f.err);
  CHECK_EQ_INT(jump_out(other), WUDF_ERR_ARG);
  wudf_instance_free(other);
  int32_t sum = 0;
  CHECK_STATUS(add(f.inst, 20, 22, &sum), WUDF_OK, NO_ERR_PTR);
  CHECK_EQ_INT(sum, 42);
  teardown(&f);
}

/* ---- interrupts --------------------------------------------------------- */

TEST(process_interrupt_idle_instance_is_a_no_op) {
  fixture f;
  if (setup(&f, 1000)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  wudf_instance_interrupt(f.inst);
  wudf_instance_interrupt(f.inst);
  wudf_instance_interrupt(NULL);
  int32_t sum = 0;
  wudf_status st = add(f.inst, 2, 2, &sum);
  teardown(&f);
  CHECK_EQ_INT(st, WUDF_OK);
  CHECK_EQ_INT(sum, 4);
}

TEST(process_interrupt_from_another_thread) {
  fixture f;
  if (setup(&f, 10000)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  interrupter it;
  CHECK(interrupter_start(&it, f.inst, false));
  wudf_status st = call0(f.inst, "spin", &f.err);
  interrupter_stop(&it);
  wudf_status next = add(f.inst, 1, 1, NULL);
  teardown(&f);
  CHECK_EQ_INT(st, WUDF_TRAP_INTERRUPTED);
  CHECK_EQ_INT(next, WUDF_OK);
}

static wudf_instance *volatile g_signal_inst;

static void on_usr1(int sig) {
  (void)sig;
  wudf_instance *inst = g_signal_inst;
  if (inst) wudf_instance_interrupt(inst);
}

TEST(process_interrupt_from_a_signal_handler) {
  fixture f;
  if (setup(&f, 10000)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  /* The timer signal waits until this handler returns (docs/security.md,
   * "Signals"). */
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGRTMIN + 3);
  CHECK(sigaction(SIGUSR1, &sa, &old) == 0);
  g_signal_inst = f.inst;
  interrupter it;
  bool started = interrupter_start(&it, f.inst, true);
  wudf_status st = started ? call0(f.inst, "spin", &f.err) : WUDF_ERR_SYSTEM;
  if (started) interrupter_stop(&it);
  g_signal_inst = NULL;
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  sigaction(SIGUSR1, &old, NULL);
  wudf_status next = add(f.inst, 1, 1, NULL);
  teardown(&f);
  CHECK_EQ_INT(st, WUDF_TRAP_INTERRUPTED);
  CHECK(!sigismember(&cur, SIGUSR1));
  CHECK_EQ_INT(next, WUDF_OK);
}

/* Interrupts racing with short calls stop only the calls they saw run;
 * once they stop coming, no call is stopped. */
TEST(process_interrupt_never_leaks_into_a_later_call) {
  fixture f;
  if (setup(&f, 10000)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  interrupter it;
  CHECK(interrupter_start(&it, f.inst, false));
  int other = 0;
  for (int i = 0; i < 2000; i++) {
    wudf_status st = add(f.inst, i, 1, NULL);
    if (st != WUDF_OK && st != WUDF_TRAP_INTERRUPTED) other++;
  }
  interrupter_stop(&it);
  int late = 0;
  for (int i = 0; i < 200; i++)
    if (add(f.inst, i, 1, NULL) != WUDF_OK) late++;
  teardown(&f);
  CHECK_EQ_INT(other, 0);
  CHECK_EQ_INT(late, 0);
}

/* ---- trimming the type registry ----------------------------------------- */

static wudf_status other_module(wudf_engine *e, wudf_error *err) {
  wudf_module *m = test_load_wat(e, k_other_wat, err);
  if (!m) return err->status ? err->status : WUDF_ERR_COMPILE;
  wudf_instance *inst = NULL;
  wudf_val r;
  wudf_status st = wudf_instance_new(m, NULL, &inst, err);
  if (st == WUDF_OK) st = wudf_instance_call(inst, "go", NULL, 0, &r, 1, err);
  if (st == WUDF_OK && r.of.i64 != 9) st = WUDF_ERR_TYPE;
  wudf_instance_free(inst);
  wudf_module_free(m);
  return st;
}

TEST(process_trim_drops_types_of_freed_modules) {
  fixture f;
  if (setup(&f, 1000)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  (void)wudf_runtime_trim(); /* whatever earlier tests left */
  double d = 0;
  /* The loaded module keeps its types through a trim. */
  CHECK_EQ_INT(wudf_runtime_trim(), 0);
  CHECK_STATUS(other_module(f.engine, &f.err), WUDF_OK, &f.err);
  CHECK_STATUS(odd(f.inst, 0, &d), WUDF_OK, NO_ERR_PTR);
  CHECK(d == 4.5);
  CHECK_STATUS(odd(f.inst, 1, &d), WUDF_TRAP_INDIRECT_TYPE, NO_ERR_PTR);
  /* The other module is gone: its type goes. */
  CHECK(wudf_runtime_trim() >= 1);
  wudf_instance_free(f.inst);
  f.inst = NULL;
  wudf_module_free(f.module);
  f.module = NULL;
  /* At least $odd, which no other module has (modules other tests keep
   * loaded may share the commoner types). */
  size_t dropped = wudf_runtime_trim();
  CHECK_MSG(dropped >= 1, "dropped %zu types", dropped);
  CHECK_EQ_INT(wudf_runtime_trim(), 0);
  /* Loaded again after another module took the freed indices. */
  CHECK_STATUS(other_module(f.engine, &f.err), WUDF_OK, &f.err);
  f.module = test_load_wat(f.engine, k_wat, &f.err);
  CHECK_MSG(f.module != NULL, "reload: %s", f.err.message);
  CHECK_STATUS(wudf_instance_new(f.module, NULL, &f.inst, &f.err), WUDF_OK,
               &f.err);
  CHECK_STATUS(odd(f.inst, 0, &d), WUDF_OK, NO_ERR_PTR);
  CHECK(d == 4.5);
  CHECK_STATUS(odd(f.inst, 1, &d), WUDF_TRAP_INDIRECT_TYPE, NO_ERR_PTR);
  teardown(&f);
}
