/* Runtime: guarded calls, traps, signals, memories, tables, time limits.
 * The bodies are plain C using the vtable the way generated code does. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "runtime/rt.h"

#define PAGE 65536u
#define GIB (UINT64_C(1) << 30)
#define NO_ERR ((wudf_error *)NULL)

static const wudf_shim_rt *vt(void) {
  return wudf_rt_vtable();
}

static wudf_rt_call_opts opts_with(uint64_t cap_pages, uint32_t table_cap,
                                   uint32_t timeout_ms) {
  wudf_rt_call_opts o = {0};
  o.memory_cap_pages = cap_pages;
  o.table_cap = table_cap;
  o.timeout_ms = timeout_ms;
  return o;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static volatile uint8_t *at(const wasm_rt_memory_t *mem, uint64_t offset) {
  return (volatile uint8_t *)((uintptr_t)mem->data + offset);
}

/* ---- memories ---------------------------------------------------------- */

typedef struct mem_job {
  wasm_rt_memory_t mem;
  uint32_t initial, max, delta, grow_result;
  uint64_t offset;
  uint8_t value;
  int reached;
} mem_job;

static void body_alloc(void *p) {
  mem_job *j = p;
  vt()->allocate_memory(&j->mem, j->initial, j->max);
  j->reached = 1;
}

static void body_load(void *p) {
  mem_job *j = p;
  j->value = *at(&j->mem, j->offset);
  j->reached = 1;
}

static void body_store(void *p) {
  mem_job *j = p;
  *at(&j->mem, j->offset) = j->value;
  j->reached = 1;
}

static void body_grow(void *p) {
  mem_job *j = p;
  j->grow_result = vt()->grow_memory(&j->mem, j->delta);
  j->reached = 1;
}

static wudf_status run(const wudf_rt_call_opts *o, wudf_rt_body body, void *arg,
                       wudf_rt_outcome *out) {
  wudf_rt_outcome local;
  return wudf_rt_guarded(o, body, arg, out ? out : &local);
}

static wudf_status load_at(mem_job *j, uint64_t offset) {
  wudf_rt_call_opts o = opts_with(1024, 1000, 0);
  j->offset = offset;
  j->reached = 0;
  return run(&o, body_load, j, NULL);
}

static wudf_status store_at(mem_job *j, uint64_t offset, uint8_t v) {
  wudf_rt_call_opts o = opts_with(1024, 1000, 0);
  j->offset = offset;
  j->value = v;
  j->reached = 0;
  return run(&o, body_store, j, NULL);
}

static wudf_status grow_by(mem_job *j, uint32_t delta, uint64_t cap,
                           wudf_rt_outcome *out) {
  wudf_rt_call_opts o = opts_with(cap, 1000, 0);
  j->delta = delta;
  j->reached = 0;
  return run(&o, body_grow, j, out);
}

TEST(memory_in_bounds_and_oob_traps) {
  mem_job j = {.initial = 1, .max = 10};
  wudf_rt_call_opts o = opts_with(1024, 1000, 0);
  CHECK_STATUS(run(&o, body_alloc, &j, NULL), WUDF_OK, NO_ERR);
  CHECK(j.mem.data != NULL);
  CHECK_EQ_INT(j.mem.pages, 1);
  CHECK_EQ_INT(j.mem.size, PAGE);
  CHECK_EQ_INT(j.mem.max_pages, 10);
  CHECK_STATUS(store_at(&j, 0, 0x11), WUDF_OK, NO_ERR);
  CHECK_STATUS(store_at(&j, PAGE - 1, 0x22), WUDF_OK, NO_ERR);
  CHECK_STATUS(load_at(&j, PAGE - 1), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.value, 0x22);
  CHECK_STATUS(load_at(&j, 0), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.value, 0x11);
  const uint64_t bad[] = {PAGE, PAGE + 4095, 4 * GIB - 1, 8 * GIB};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_STATUS(load_at(&j, bad[i]), WUDF_TRAP_OOB, NO_ERR);
    CHECK_EQ_INT(j.reached, 0);
    CHECK_STATUS(store_at(&j, bad[i], 1), WUDF_TRAP_OOB, NO_ERR);
    CHECK_EQ_INT(j.reached, 0);
  }
  /* Still usable after the traps. */
  CHECK_STATUS(load_at(&j, 0), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.value, 0x11);
  vt()->free_memory(&j.mem);
  CHECK(j.mem.data == NULL);
  vt()->free_memory(&j.mem); /* zeroed struct: no-op */
}

TEST(memory_zero_pages_traps_everywhere) {
  mem_job j = {.initial = 0, .max = 1};
  wudf_rt_call_opts o = opts_with(1024, 1000, 0);
  CHECK_STATUS(run(&o, body_alloc, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.mem.size, 0);
  CHECK_STATUS(load_at(&j, 0), WUDF_TRAP_OOB, NO_ERR);
  vt()->free_memory(&j.mem);
}

static bool all_zero(volatile const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return false;
  return true;
}

TEST(memory_grow) {
  mem_job j = {.initial = 1, .max = 10};
  wudf_rt_call_opts o = opts_with(4, 1000, 0);
  CHECK_STATUS(run(&o, body_alloc, &j, NULL), WUDF_OK, NO_ERR);
  memset(j.mem.data, 0xab, PAGE);
  wudf_rt_outcome out;
  CHECK_STATUS(grow_by(&j, 1, 4, &out), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.grow_result, 1);
  CHECK_EQ_INT(j.mem.pages, 2);
  CHECK_EQ_INT(j.mem.size, 2 * PAGE);
  CHECK(!out.grow_refused);
  CHECK(all_zero(at(&j.mem, PAGE), PAGE));
  CHECK_STATUS(store_at(&j, 2 * PAGE - 1, 7), WUDF_OK, NO_ERR);
  CHECK_STATUS(load_at(&j, 2 * PAGE), WUDF_TRAP_OOB, NO_ERR);
  CHECK_STATUS(grow_by(&j, 0, 4, &out), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.grow_result, 2);
  CHECK_STATUS(grow_by(&j, 2, 4, &out), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.grow_result, 2);
  CHECK_EQ_INT(j.mem.pages, 4);
  CHECK(all_zero(at(&j.mem, 2 * PAGE), 2 * PAGE));
  /* 5 pages: the cap (4) refuses, not the declared maximum (10). */
  CHECK_STATUS(grow_by(&j, 1, 4, &out), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.grow_result, UINT32_MAX);
  CHECK(out.grow_refused);
  CHECK_EQ_INT(j.mem.pages, 4);
  /* 11 pages: the declared maximum refuses. */
  CHECK_STATUS(grow_by(&j, 7, 100, &out), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.grow_result, UINT32_MAX);
  CHECK(!out.grow_refused);
  CHECK_STATUS(grow_by(&j, 6, 100, &out), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.grow_result, 4);
  CHECK_EQ_INT(j.mem.size, 10 * PAGE);
  CHECK_STATUS(grow_by(&j, UINT32_MAX, 100, &out), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.grow_result, UINT32_MAX);
  CHECK_EQ_INT(*at(&j.mem, PAGE - 1), 0xab);
  vt()->free_memory(&j.mem);
}

TEST(memory_size_field_caps_at_65535_pages) {
  mem_job j = {.initial = 65535, .max = 65536};
  wudf_rt_call_opts o = opts_with(70000, 1000, 0);
  CHECK_STATUS(run(&o, body_alloc, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.mem.size, 65535u * PAGE);
  CHECK_STATUS(store_at(&j, 65535ull * PAGE - 1, 3), WUDF_OK, NO_ERR);
  CHECK_STATUS(load_at(&j, 65535ull * PAGE), WUDF_TRAP_OOB, NO_ERR);
  CHECK_STATUS(grow_by(&j, 1, 70000, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.grow_result, UINT32_MAX);
  vt()->free_memory(&j.mem);
  mem_job k = {.initial = 65536, .max = 65536};
  CHECK_STATUS(run(&o, body_alloc, &k, NULL), WUDF_TRAP_MEMORY_LIMIT, NO_ERR);
  CHECK(k.mem.data == NULL);
}

TEST(memory_initial_above_cap_traps) {
  mem_job j = {.initial = 5, .max = 10};
  wudf_rt_call_opts o = opts_with(4, 1000, 0);
  wudf_rt_outcome out;
  CHECK_STATUS(run(&o, body_alloc, &j, &out), WUDF_TRAP_MEMORY_LIMIT, NO_ERR);
  CHECK_EQ_INT(out.status, WUDF_TRAP_MEMORY_LIMIT);
  CHECK_EQ_INT(j.reached, 0);
  CHECK(j.mem.data == NULL);
  CHECK_CONTAINS(out.detail, "5 pages");
  CHECK_CONTAINS(out.detail, "cap 4");
  vt()->free_memory(&j.mem);
}

/* Address space exhausted (RLIMIT_AS just above what the process uses):
 * allocation traps with WUDF_ERR_NOMEM instead of aborting. In a child, as
 * the limit cannot be raised back. */
static int address_space_child(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long long pages = 0;
  if (!f || fscanf(f, "%llu", &pages) != 1) return 2;
  fclose(f);
  rlim_t cur = (rlim_t)(pages * (unsigned long long)sysconf(_SC_PAGESIZE));
  struct rlimit lim = {cur + (1ull << 30), cur + (1ull << 30)};
  if (setrlimit(RLIMIT_AS, &lim) != 0) return 3;
  mem_job j = {.initial = 1, .max = 1};
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  wudf_rt_outcome out;
  if (wudf_rt_guarded(&o, body_alloc, &j, &out) != WUDF_ERR_NOMEM) return 4;
  if (!strstr(out.detail, "address space") || j.reached) return 5;
  wasm_rt_memory_t m;
  wudf_error err = {0};
  if (wudf_rt_memory_new(&m, 1, 1, &err) != WUDF_ERR_NOMEM) return 6;
  return 0;
}

TEST(memory_allocation_failure_is_an_error) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(address_space_child());
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x",
            (unsigned)status);
}

TEST(memory_new_and_delete_return_errors) {
  wudf_error err = {0};
  wasm_rt_memory_t m;
  CHECK_STATUS(wudf_rt_memory_new(&m, 2, 3, &err), WUDF_OK, &err);
  CHECK_EQ_INT(m.size, 2 * PAGE);
  CHECK_EQ_INT(m.max_pages, 3);
  m.data[2 * PAGE - 1] = 9;
  /* A host-defined memory is guarded like the others. */
  mem_job j = {.mem = m};
  CHECK_STATUS(load_at(&j, 2 * PAGE), WUDF_TRAP_OOB, NO_ERR);
  wudf_rt_memory_delete(&m);
  CHECK(m.data == NULL);
  wudf_rt_memory_delete(&m);
  wudf_rt_memory_delete(NULL);
  CHECK_STATUS(wudf_rt_memory_new(&m, 4, 3, &err), WUDF_ERR_ARG, &err);
  CHECK_STATUS(wudf_rt_memory_new(&m, 65536, 65536, &err), WUDF_ERR_LIMIT,
               &err);
  CHECK_CONTAINS(err.message, "65536");
  CHECK(m.data == NULL);
}

/* ---- trap codes -------------------------------------------------------- */

typedef struct trap_job {
  wasm_rt_trap_t code;
  wasm_rt_funcref_table_t *table;
  uint32_t index;
  int reached;
} trap_job;

static void body_vtrap(void *p) {
  trap_job *j = p;
  vt()->trap(j->code);
}

static void body_indirect(void *p) {
  trap_job *j = p;
  vt()->call_indirect_trap(j->table, j->index, 3);
}

TEST(trap_codes_map) {
  static const struct {
    wasm_rt_trap_t code;
    wudf_status want;
  } cases[] = {
      {WASM_RT_TRAP_OOB, WUDF_TRAP_OOB},
      {WASM_RT_TRAP_INT_OVERFLOW, WUDF_TRAP_INT_OVERFLOW},
      {WASM_RT_TRAP_DIV_BY_ZERO, WUDF_TRAP_DIV_BY_ZERO},
      {WASM_RT_TRAP_INVALID_CONVERSION, WUDF_TRAP_INVALID_CONVERSION},
      {WASM_RT_TRAP_UNREACHABLE, WUDF_TRAP_UNREACHABLE},
      {WASM_RT_TRAP_CALL_INDIRECT, WUDF_TRAP_INDIRECT_TYPE},
      {WASM_RT_TRAP_EXHAUSTION, WUDF_TRAP_STACK_EXHAUSTED},
  };
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    trap_job j = {.code = cases[i].code};
    CHECK_STATUS(run(&o, body_vtrap, &j, NULL), cases[i].want, NO_ERR);
  }
}

static void dummy_func(void) {}

TEST(call_indirect_trap_kinds) {
  wasm_rt_funcref_t elems[3] = {{0, NULL, NULL},
                                {5, (wasm_rt_function_ptr_t)dummy_func, NULL},
                                {0, NULL, NULL}};
  wasm_rt_funcref_table_t table = {elems, 10, 3};
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  static const struct {
    uint32_t index;
    wudf_status want;
  } cases[] = {
      {0, WUDF_TRAP_UNDEFINED_ELEMENT}, /* null slot */
      {1, WUDF_TRAP_INDIRECT_TYPE},     /* present, wrong type */
      {2, WUDF_TRAP_UNDEFINED_ELEMENT},
      {3, WUDF_TRAP_UNDEFINED_ELEMENT}, /* == size */
      {UINT32_MAX, WUDF_TRAP_UNDEFINED_ELEMENT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    trap_job j = {.table = &table, .index = cases[i].index};
    CHECK_STATUS(run(&o, body_indirect, &j, NULL), cases[i].want, NO_ERR);
  }
}

static void body_trap_exit(void *p) {
  (void)p;
  wudf_rt_trap_exit(7);
}

static void body_trap_nomem(void *p) {
  (void)p;
  wudf_rt_trap(WUDF_ERR_NOMEM);
}

TEST(trap_exit_and_error_status) {
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  wudf_rt_outcome out;
  CHECK_STATUS(run(&o, body_trap_exit, NULL, &out), WUDF_TRAP_EXIT, NO_ERR);
  CHECK_EQ_INT(out.exit_code, 7);
  CHECK_STATUS(run(&o, body_trap_nomem, NULL, &out), WUDF_ERR_NOMEM, NO_ERR);
  CHECK_EQ_INT(out.exit_code, 0);
}

typedef struct nest_job {
  wudf_status inner;
  int inner_ran;
} nest_job;

static void body_mark(void *p) {
  *(int *)p = 1;
}

static void body_nested(void *p) {
  nest_job *j = p;
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  j->inner = wudf_rt_guarded(&o, body_mark, &j->inner_ran, NULL);
}

TEST(guarded_is_not_reentrant) {
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  nest_job j = {WUDF_OK, 0};
  CHECK_STATUS(run(&o, body_nested, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.inner, WUDF_ERR_ARG);
  CHECK_EQ_INT(j.inner_ran, 0);
  CHECK_STATUS(wudf_rt_guarded(NULL, body_mark, &j.inner_ran, NULL),
               WUDF_ERR_ARG, NO_ERR);
}

static bool runtime_signals_blocked(void) {
  sigset_t cur;
  if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0) return true;
  return sigismember(&cur, SIGSEGV) || sigismember(&cur, SIGBUS) ||
         sigismember(&cur, wudf_rt_timer_signal());
}

TEST(signal_mask_restored_after_fault_trap) {
  mem_job j = {.initial = 1, .max = 1};
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  CHECK_STATUS(run(&o, body_alloc, &j, NULL), WUDF_OK, NO_ERR);
  for (int i = 0; i < 3; i++) {
    CHECK_STATUS(load_at(&j, PAGE), WUDF_TRAP_OOB, NO_ERR);
    CHECK(!runtime_signals_blocked());
  }
  vt()->free_memory(&j.mem);
}

/* ---- time limits and interrupts ---------------------------------------- */

static void body_spin(void *p) {
  volatile uint64_t *n = p;
  for (;;) *n = *n + 1;
}

TEST(timeout_stops_infinite_loop) {
  wudf_rt_call_opts o = opts_with(16, 16, 50);
  volatile uint64_t n = 0;
  double t0 = now_ms();
  CHECK_STATUS(run(&o, body_spin, (void *)&n, NULL), WUDF_TRAP_TIMEOUT, NO_ERR);
  double ms = now_ms() - t0;
  CHECK_MSG(ms >= 49 && ms < 1000, "timeout after %.1f ms", ms);
  CHECK(n > 0);
  CHECK(!runtime_signals_blocked());
  /* The timer is disarmed: a quick call with a limit, then idling past it. */
  int ran = 0;
  o.timeout_ms = 20;
  CHECK_STATUS(run(&o, body_mark, &ran, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(ran, 1);
  struct timespec nap = {0, 60 * 1000000L};
  nanosleep(&nap, NULL);
  o.timeout_ms = 0;
  CHECK_STATUS(run(&o, body_mark, &ran, NULL), WUDF_OK, NO_ERR);
}

TEST(stale_timer_signal_is_ignored) {
  int ran = 0;
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  CHECK_STATUS(run(&o, body_mark, &ran, NULL), WUDF_OK, NO_ERR);
  CHECK(tgkill(getpid(), gettid(), wudf_rt_timer_signal()) == 0);
  CHECK_STATUS(run(&o, body_mark, &ran, NULL), WUDF_OK, NO_ERR);
}

typedef struct interrupter {
  wudf_rt_intr *intr;
  int delay_ms;
} interrupter;

static bool intr_running(wudf_rt_intr *intr) {
  return (uint32_t)atomic_load(&intr->state) != 0;
}

static void *interrupt_thread(void *p) {
  interrupter *it = p;
  while (!intr_running(it->intr)) {
    struct timespec ns = {0, 1000000L};
    nanosleep(&ns, NULL);
  }
  struct timespec d = {0, (long)it->delay_ms * 1000000L};
  nanosleep(&d, NULL);
  wudf_rt_request_interrupt(it->intr);
  return NULL;
}

TEST(interrupt_from_another_thread) {
  wudf_rt_intr intr = {0};
  /* The time limit only keeps a broken interrupt from hanging the test. */
  wudf_rt_call_opts o = opts_with(16, 16, 5000);
  o.intr = &intr;
  interrupter it = {&intr, 20};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, interrupt_thread, &it) == 0);
  volatile uint64_t n = 0;
  double t0 = now_ms();
  wudf_status st = run(&o, body_spin, (void *)&n, NULL);
  double ms = now_ms() - t0;
  pthread_join(th, NULL);
  CHECK_STATUS(st, WUDF_TRAP_INTERRUPTED, NO_ERR);
  CHECK_MSG(ms < 1000, "interrupt took %.1f ms", ms);
  CHECK(!intr_running(&intr));
  /* The next call runs normally. */
  int ran = 0;
  CHECK_STATUS(run(&o, body_mark, &ran, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(ran, 1);
}

TEST(interrupt_while_idle_does_nothing) {
  wudf_rt_intr intr = {0};
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  o.intr = &intr;
  wudf_rt_request_interrupt(&intr); /* nothing running */
  int ran = 0;
  CHECK_STATUS(run(&o, body_mark, &ran, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(ran, 1);
  CHECK(!intr_running(&intr));
}

static void body_interrupt_self(void *p) {
  wudf_rt_intr *intr = p;
  /* As if another thread's interrupt landed just as the call started. */
  wudf_rt_request_interrupt(intr);
  for (;;) {
  }
}

/* An interrupt aimed at one call is not seen by the next. */
TEST(interrupt_does_not_reach_the_next_call) {
  wudf_rt_intr intr = {0};
  wudf_rt_call_opts o = opts_with(16, 16, 5000);
  o.intr = &intr;
  CHECK_STATUS(run(&o, body_interrupt_self, &intr, NULL), WUDF_TRAP_INTERRUPTED,
               NO_ERR);
  /* A stale request for the finished call, stored late. */
  atomic_store(&intr.target, (unsigned)(atomic_load(&intr.state) >> 32));
  int ran = 0;
  CHECK_STATUS(run(&o, body_mark, &ran, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(ran, 1);
}

typedef struct host_job {
  double spin_ms;
  volatile int after_spin, after_leave;
} host_job;

static void body_host(void *p) {
  host_job *j = p;
  wudf_rt_host_enter();
  double t0 = now_ms();
  while (now_ms() - t0 < j->spin_ms) {
  }
  j->after_spin = 1;
  wudf_rt_host_leave();
  j->after_leave = 1;
}

TEST(trap_in_host_bracket_deferred_until_leave) {
  wudf_rt_call_opts o = opts_with(16, 16, 20);
  host_job j = {.spin_ms = 100};
  double t0 = now_ms();
  CHECK_STATUS(run(&o, body_host, &j, NULL), WUDF_TRAP_TIMEOUT, NO_ERR);
  CHECK_MSG(now_ms() - t0 >= 99, "host bracket cut short");
  CHECK_EQ_INT(j.after_spin, 1);
  CHECK_EQ_INT(j.after_leave, 0);
  /* An interrupt is deferred the same way. */
  wudf_rt_intr intr = {0};
  o = opts_with(16, 16, 0);
  o.intr = &intr;
  interrupter it = {&intr, 10};
  host_job k = {.spin_ms = 80};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, interrupt_thread, &it) == 0);
  wudf_status st = run(&o, body_host, &k, NULL);
  pthread_join(th, NULL);
  CHECK_STATUS(st, WUDF_TRAP_INTERRUPTED, NO_ERR);
  CHECK_EQ_INT(k.after_spin, 1);
  CHECK_EQ_INT(k.after_leave, 0);
  /* Without a signal, the bracket does nothing. */
  host_job quick = {.spin_ms = 0};
  CHECK_STATUS(run(&o, body_host, &quick, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(quick.after_leave, 1);
}

/* ---- stack exhaustion -------------------------------------------------- */

static volatile uint64_t g_recurse_stop = UINT64_MAX;

__attribute__((noinline)) static uint64_t recurse(uint64_t n) {
  volatile uint8_t frame[512];
  frame[n % sizeof frame] = (uint8_t)n;
  if (n == g_recurse_stop) return 0;
  return recurse(n + 1) + frame[(n * 7) % sizeof frame];
}

static void body_recurse(void *p) {
  *(uint64_t *)p = recurse(0);
}

static void *overflow_thread(void *p) {
  wudf_status *res = p;
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  uint64_t sink = 0;
  for (int i = 0; i < 3; i++)
    res[i] = wudf_rt_guarded(&o, body_recurse, &sink, NULL);
  int ran = 0;
  res[3] = wudf_rt_guarded(&o, body_mark, &ran, NULL);
  if (!ran) res[3] = WUDF_ERR_ARG;
  return NULL;
}

TEST(stack_exhaustion_traps_and_thread_recovers) {
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  uint64_t sink = 0;
  for (int i = 0; i < 2; i++) {
    CHECK_STATUS(run(&o, body_recurse, &sink, NULL), WUDF_TRAP_STACK_EXHAUSTED,
                 NO_ERR);
    CHECK(!runtime_signals_blocked());
  }
  mem_job j = {.initial = 1, .max = 1};
  CHECK_STATUS(run(&o, body_alloc, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_STATUS(store_at(&j, 5, 5), WUDF_OK, NO_ERR);
  CHECK_STATUS(load_at(&j, 5), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.value, 5);
  vt()->free_memory(&j.mem);
  /* A thread with a small stack, and its own alternate stack. */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  wudf_status res[4] = {WUDF_OK, WUDF_OK, WUDF_OK, WUDF_ERR_IO};
  pthread_t th;
  CHECK(pthread_create(&th, &attr, overflow_thread, res) == 0);
  pthread_join(th, NULL);
  pthread_attr_destroy(&attr);
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(res[i], WUDF_TRAP_STACK_EXHAUSTED);
  CHECK_EQ_INT(res[3], WUDF_OK);
}

/* Guest code that recurses until little stack is left, then calls a host
 * function: the host bracket refuses to start instead of letting the host
 * overflow. */
static uintptr_t g_stack_lo;
static volatile int g_host_entered;

__attribute__((noinline)) static uint64_t recurse_then_host(uint64_t n) {
  volatile uint8_t frame[256];
  frame[n % sizeof frame] = (uint8_t)n;
  if ((uintptr_t)__builtin_frame_address(0) - g_stack_lo < 16 * 1024) {
    wudf_rt_host_enter();
    g_host_entered = 1;
    wudf_rt_host_leave();
    return 0;
  }
  return recurse_then_host(n + 1) + frame[(n * 3) % sizeof frame];
}

static void body_recurse_then_host(void *p) {
  *(uint64_t *)p = recurse_then_host(0);
}

static void *host_low_stack_thread(void *p) {
  wudf_status *res = p;
  pthread_attr_t attr;
  void *addr;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return NULL;
  pthread_attr_getstack(&attr, &addr, &size);
  pthread_attr_destroy(&attr);
  g_stack_lo = (uintptr_t)addr + 8192; /* above the guard page */
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  uint64_t sink = 0;
  res[0] = wudf_rt_guarded(&o, body_recurse_then_host, &sink, NULL);
  int ran = 0;
  res[1] = wudf_rt_guarded(&o, body_mark, &ran, NULL);
  return NULL;
}

TEST(host_enter_with_little_stack_left_traps) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1024 * 1024);
  wudf_status res[2] = {WUDF_ERR_IO, WUDF_ERR_IO};
  pthread_t th;
  g_host_entered = 0;
  CHECK(pthread_create(&th, &attr, host_low_stack_thread, res) == 0);
  pthread_join(th, NULL);
  pthread_attr_destroy(&attr);
  CHECK_EQ_INT(res[0], WUDF_TRAP_STACK_EXHAUSTED);
  CHECK_EQ_INT(g_host_entered, 0);
  CHECK_EQ_INT(res[1], WUDF_OK);
}

/* ---- tables ------------------------------------------------------------ */

typedef struct table_job {
  wasm_rt_funcref_table_t f;
  wasm_rt_externref_table_t e;
  uint32_t elements, max, delta, result;
  wasm_rt_funcref_t finit;
  wasm_rt_externref_t einit;
} table_job;

static void body_tables_alloc(void *p) {
  table_job *j = p;
  vt()->allocate_funcref_table(&j->f, j->elements, j->max);
  vt()->allocate_externref_table(&j->e, j->elements, j->max);
}

static void body_funcref_grow(void *p) {
  table_job *j = p;
  j->result = vt()->grow_funcref_table(&j->f, j->delta, j->finit);
}

static void body_externref_grow(void *p) {
  table_job *j = p;
  j->result = vt()->grow_externref_table(&j->e, j->delta, j->einit);
}

TEST(tables_allocate_grow_and_cap) {
  table_job j = {.elements = 2, .max = 10};
  wudf_rt_call_opts o = opts_with(16, 5, 0);
  CHECK_STATUS(run(&o, body_tables_alloc, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.f.size, 2);
  CHECK_EQ_INT(j.f.max_size, 10);
  CHECK(j.f.data[0].func == NULL && j.f.data[1].func_type == 0);
  CHECK_EQ_INT(j.e.size, 2);
  CHECK(j.e.data[1] == NULL);
  j.finit = (wasm_rt_funcref_t){4, (wasm_rt_function_ptr_t)dummy_func, &j};
  j.einit = &j;
  j.delta = 2;
  CHECK_STATUS(run(&o, body_funcref_grow, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.result, 2);
  CHECK_EQ_INT(j.f.size, 4);
  CHECK(j.f.data[3].func_type == 4 && j.f.data[3].module_instance == &j);
  CHECK(j.f.data[1].func == NULL);
  CHECK_STATUS(run(&o, body_externref_grow, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.result, 2);
  CHECK(j.e.data[2] == &j && j.e.data[3] == &j);
  /* 6 > cap 5 */
  CHECK_STATUS(run(&o, body_funcref_grow, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.result, UINT32_MAX);
  CHECK_EQ_INT(j.f.size, 4);
  /* 11 > max 10 with a larger cap */
  o.table_cap = 100;
  j.delta = 7;
  CHECK_STATUS(run(&o, body_externref_grow, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.result, UINT32_MAX);
  j.delta = 0;
  CHECK_STATUS(run(&o, body_externref_grow, &j, NULL), WUDF_OK, NO_ERR);
  CHECK_EQ_INT(j.result, 4);
  vt()->free_funcref_table(&j.f);
  vt()->free_externref_table(&j.e);
  CHECK(j.f.data == NULL && j.f.size == 0);
  vt()->free_funcref_table(&j.f);
}

TEST(table_initial_above_cap_traps) {
  table_job j = {.elements = 6, .max = 10};
  wudf_rt_call_opts o = opts_with(16, 5, 0);
  wudf_rt_outcome out;
  CHECK_STATUS(run(&o, body_tables_alloc, &j, &out), WUDF_ERR_LIMIT, NO_ERR);
  CHECK_CONTAINS(out.detail, "6 elements");
  CHECK(j.f.data == NULL);
  vt()->free_funcref_table(&j.f);
  vt()->free_externref_table(&j.e);
}

TEST(table_new_and_delete_return_errors) {
  wudf_error err = {0};
  wasm_rt_funcref_table_t t;
  CHECK_STATUS(wudf_rt_funcref_table_new(&t, 3, 5, &err), WUDF_OK, &err);
  CHECK_EQ_INT(t.size, 3);
  CHECK_EQ_INT(t.max_size, 5);
  CHECK(t.data[2].func == NULL);
  wudf_rt_funcref_table_delete(&t);
  CHECK(t.data == NULL);
  wudf_rt_funcref_table_delete(NULL);
  CHECK_STATUS(wudf_rt_funcref_table_new(&t, 0, 0, &err), WUDF_OK, &err);
  CHECK_EQ_INT(t.size, 0);
  wudf_rt_funcref_table_delete(&t);
  CHECK_STATUS(wudf_rt_funcref_table_new(&t, 6, 5, &err), WUDF_ERR_ARG, &err);
  CHECK_STATUS(wudf_rt_funcref_table_new(NULL, 1, 5, &err), WUDF_ERR_ARG, &err);
}

/* ---- function types ---------------------------------------------------- */

TEST(func_type_registry_identity) {
  const wasm_rt_type_t i32 = WASM_RT_I32;
  const wasm_rt_type_t sig_a[] = {WASM_RT_I32, WASM_RT_F32, WASM_RT_I64};
  const wasm_rt_type_t sig_a2[] = {WASM_RT_I32, WASM_RT_F32, WASM_RT_I64};
  uint32_t a = wudf_rt_func_type(2, 1, sig_a);
  CHECK(a >= 1);
  CHECK_EQ_INT(wudf_rt_func_type(2, 1, sig_a2), a);
  CHECK_EQ_INT(vt()->register_func_type(2, 1, sig_a), a);
  /* Same types, different split between parameters and results. */
  uint32_t b = wudf_rt_func_type(1, 2, sig_a);
  CHECK(b >= 1 && b != a);
  uint32_t p = wudf_rt_func_type(1, 0, &i32), r = wudf_rt_func_type(0, 1, &i32);
  CHECK(p >= 1 && r >= 1 && p != r && p != a && r != a);
  uint32_t none = wudf_rt_func_type(0, 0, NULL);
  CHECK(none >= 1 && none != p && none != r);
  CHECK_EQ_INT(wudf_rt_func_type(0, 0, NULL), none);
  CHECK_EQ_INT(wudf_rt_func_type(1, 0, NULL), 0);
  /* Many distinct signatures: all different, all stable. */
  static uint32_t idx[600];
  wasm_rt_type_t sig[5];
  for (uint32_t i = 0; i < 600; i++) {
    for (int k = 0; k < 5; k++) sig[k] = (wasm_rt_type_t)((i >> (2 * k)) & 3);
    idx[i] = wudf_rt_func_type(i % 3 + 1, 2, sig);
    CHECK(idx[i] >= 1);
  }
  for (uint32_t i = 0; i < 600; i++) {
    for (int k = 0; k < 5; k++) sig[k] = (wasm_rt_type_t)((i >> (2 * k)) & 3);
    CHECK_EQ_INT(wudf_rt_func_type(i % 3 + 1, 2, sig), idx[i]);
    for (uint32_t m = 0; m < i; m++) {
      /* i and m describe the same signature only if the used types agree */
      uint32_t n = i % 3 + 3, used = (1u << (2 * n)) - 1;
      bool equal = i % 3 == m % 3 && ((i ^ m) & used) == 0;
      CHECK_MSG((idx[i] == idx[m]) == equal, "types %u and %u", i, m);
    }
  }
}

/* ---- many threads ------------------------------------------------------ */

typedef struct worker {
  int id, failures;
  char why[120];
} worker;

typedef struct good_job {
  int id, i;
  uint32_t sum;
} good_job;

static void body_good(void *p) {
  good_job *g = p;
  wasm_rt_memory_t m;
  vt()->allocate_memory(&m, 1, 2);
  for (uint32_t k = 0; k < 64; k++) m.data[k * 1024] = (uint8_t)(g->i + (int)k);
  uint32_t s = 0;
  for (uint32_t k = 0; k < 64; k++) s += m.data[k * 1024];
  vt()->free_memory(&m);
  g->sum = s;
}

static void *stress_thread(void *p) {
  worker *w = p;
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  for (int i = 0; i < 2000 && !w->failures; i++) {
    wudf_status st = WUDF_OK, want = WUDF_OK;
    if (i % 4 == 1) {
      mem_job j = {.initial = 1, .max = 1};
      st = wudf_rt_guarded(&o, body_alloc, &j, NULL);
      if (st == WUDF_OK) st = load_at(&j, 4 * GIB - 1 - (uint64_t)i);
      vt()->free_memory(&j.mem);
      want = WUDF_TRAP_OOB;
    } else if (i % 16 == 3) {
      volatile uint64_t n = 0;
      o.timeout_ms = 1;
      st = wudf_rt_guarded(&o, body_spin, (void *)&n, NULL);
      o.timeout_ms = 0;
      want = WUDF_TRAP_TIMEOUT;
    } else {
      good_job g = {w->id, i, 0};
      uint32_t expect = 0;
      for (uint32_t k = 0; k < 64; k++) expect += (uint8_t)(i + (int)k);
      st = wudf_rt_guarded(&o, body_good, &g, NULL);
      if (st == WUDF_OK && g.sum != expect) st = WUDF_ERR_TYPE;
    }
    if (st != want) {
      w->failures++;
      snprintf(w->why, sizeof w->why, "thread %d iteration %d: %s, want %s",
               w->id, i, wudf_status_name(st), wudf_status_name(want));
    }
  }
  return NULL;
}

TEST(many_threads_trap_independently) {
  enum { N = 8 };
  pthread_t th[N];
  worker w[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker){.id = i};
    CHECK(pthread_create(&th[i], NULL, stress_thread, &w[i]) == 0);
  }
  for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < N; i++) CHECK_MSG(w[i].failures == 0, "%s", w[i].why);
}

/* After fork() the child's thread has a new tid and no timer. */
TEST(timeout_works_in_forked_child) {
  wudf_rt_call_opts o = opts_with(16, 16, 10);
  volatile uint64_t n = 0;
  CHECK_STATUS(run(&o, body_spin, (void *)&n, NULL), WUDF_TRAP_TIMEOUT, NO_ERR);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    wudf_rt_call_opts c = opts_with(16, 16, 30);
    wudf_rt_intr intr = {0};
    c.intr = &intr;
    wudf_status st = wudf_rt_guarded(&c, body_spin, (void *)&n, NULL);
    _exit(st == WUDF_TRAP_TIMEOUT && !intr_running(&intr) ? 0 : 1);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status 0x%x",
            (unsigned)status);
}

/* ---- faults that are not traps reach the host's handler ---------------- */

/* Runs in a fresh process (re-executed test binary), so that wudf_rt_init()
 * there sees the handler installed just before it. */
static volatile uintptr_t g_bad_addr;

static void child_handler(int sig, siginfo_t *info, void *uctx) {
  (void)uctx;
  _exit(sig == SIGSEGV && (uintptr_t)info->si_addr == g_bad_addr ? 42 : 43);
}

static void body_fault_bad(void *p) {
  (void)p;
  *(volatile int *)g_bad_addr = 1;
}

static void body_fault_in_host(void *p) {
  wudf_rt_host_enter();
  *(volatile uint8_t *)p = 1;
  wudf_rt_host_leave();
}

static void child_main(const char *mode) {
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  if (strcmp(mode, "dfl") == 0) {
    sa.sa_handler = SIG_DFL;
  } else {
    sa.sa_sigaction = child_handler;
    sa.sa_flags = SA_SIGINFO;
  }
  if (sigaction(SIGSEGV, &sa, NULL) != 0) _exit(50);
  if (wudf_rt_init(NULL) != WUDF_OK) _exit(51);
  wudf_rt_call_opts o = opts_with(16, 16, 0);
  int ran = 0;
  if (wudf_rt_guarded(&o, body_mark, &ran, NULL) != WUDF_OK) _exit(52);
  void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) _exit(53);
  g_bad_addr = (uintptr_t)page;
  if (strcmp(mode, "inside") == 0) {
    (void)wudf_rt_guarded(&o, body_fault_bad, NULL, NULL);
  } else if (strcmp(mode, "reservation") == 0 || strcmp(mode, "host") == 0) {
    wasm_rt_memory_t m;
    if (wudf_rt_memory_new(&m, 1, 1, NULL) != WUDF_OK) _exit(54);
    g_bad_addr = (uintptr_t)m.data + PAGE;
    if (mode[0] == 'h')
      (void)wudf_rt_guarded(&o, body_fault_in_host, (void *)g_bad_addr, NULL);
    else
      *(volatile uint8_t *)g_bad_addr = 1;
  } else {
    *(volatile int *)g_bad_addr = 1;
  }
  _exit(60); /* the fault did not reach anyone */
}

TEST(rt_child_fault_helper) {
  const char *mode = getenv("WUDF_RT_TEST_CHILD");
  if (mode) child_main(mode);
}

static int run_child(const char *mode) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    setenv("WUDF_RT_TEST_CHILD", mode, 1);
    execl("/proc/self/exe", "run_tests", "rt_child_fault_helper", (char *)NULL);
    _exit(70);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

TEST(fault_outside_wasm_reaches_previous_handler) {
  static const char *const modes[] = {"outside", "inside", "reservation",
                                      "host"};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    int status = run_child(modes[i]);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 42,
              "mode %s: child status 0x%x", modes[i], (unsigned)status);
  }
}

TEST(fault_outside_wasm_with_default_action_kills) {
  int status = run_child("dfl");
  CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
            "child status 0x%x", (unsigned)status);
}
