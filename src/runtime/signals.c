/* Fault handlers, chaining to the host's handlers, and per-thread stacks. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/error.h"
#include "runtime/rt_internal.h"

#define ALTSTACK_MIN ((size_t)64 << 10)
/* wudf_runtime_check() may replace the handler faults are chained to while
 * a handler reads it: each repair writes a fresh slot and then publishes
 * it, so a reader never sees a half-written one (unless this many repairs
 * happen during one fault). */
#define PREV_SLOTS 8

enum { FAULT_SEGV, FAULT_BUS, NFAULTS };
static const int k_fault_signals[NFAULTS] = {SIGSEGV, SIGBUS};
static const char *const k_fault_names[NFAULTS] = {"SIGSEGV", "SIGBUS"};

static struct sigaction g_prev[NFAULTS][PREV_SLOTS];
static atomic_uint g_prev_slot[NFAULTS];
static bool g_faults_installed;
static int g_timer_signal;
static sigset_t g_runtime_signals;

static const struct sigaction *prev_action(int sig) {
  int f = sig == SIGBUS ? FAULT_BUS : FAULT_SEGV;
  return &g_prev[f][atomic_load(&g_prev_slot[f]) % PREV_SLOTS];
}

static void on_fault(int sig, siginfo_t *info, void *uctx);

/* The fault is not ours: hand it to whoever had the signal before. With no
 * handler, restore the default action and return, so that the faulting
 * instruction runs again and the process dies as it would have. */
static void chain(int sig, siginfo_t *info, void *uctx) {
  const struct sigaction *p = prev_action(sig);
  bool dfl = p->sa_handler == SIG_DFL || p->sa_handler == SIG_IGN ||
             ((p->sa_flags & SA_SIGINFO) && p->sa_sigaction == on_fault);
  if (!dfl && (p->sa_flags & SA_SIGINFO)) {
    p->sa_sigaction(sig, info, uctx);
    return;
  }
  if (!dfl) {
    p->sa_handler(sig);
    return;
  }
  struct sigaction def;
  memset(&def, 0, sizeof def);
  def.sa_handler = SIG_DFL;
  sigemptyset(&def.sa_mask);
  if (sigaction(sig, &def, NULL) != 0) return;
  /* A signal sent by kill() does not recur by returning: send it again; it
   * stays pending until this handler returns. */
  if (info && info->si_code <= 0) (void)raise(sig);
}

static bool in_stack_guard(const wudf_rt_thread *t, uintptr_t addr) {
  uintptr_t lo = t->stack_lo > WUDF_RT_STACK_GUARD_GAP
                     ? t->stack_lo - WUDF_RT_STACK_GUARD_GAP
                     : 0;
  return addr >= lo && addr < t->stack_hi;
}

/* The faulting instruction's address, from the signal's context. */
static uintptr_t fault_pc(const void *uctx) {
  const ucontext_t *uc = uctx;
  if (!uc) return 0;
#if defined(__x86_64__)
  return (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
  return (uintptr_t)uc->uc_mcontext.pc;
#else
  return 0;
#endif
}

bool wudf_runtime_handle_fault(int sig, void *siginfo, void *ucontext) {
  const siginfo_t *info = siginfo;
  if ((sig != SIGSEGV && sig != SIGBUS) || !info) return false;
  wudf_rt_thread *t = wudf_rt_thread_self();
  /* si_code > 0: raised by the kernel for this access, so si_addr is real. */
  if (!t || !t->armed || t->in_host != 0 || info->si_code <= 0) return false;
  uintptr_t addr = (uintptr_t)info->si_addr;
  bool oob = wudf_rt_reservation_contains(addr);
  if (oob || in_stack_guard(t, addr)) {
    t->trap_pc = fault_pc(ucontext);
    wudf_rt_thread_jump(t, oob ? WUDF_TRAP_OOB : WUDF_TRAP_STACK_EXHAUSTED,
                        true, ucontext);
  }
  return false;
}

static void on_fault(int sig, siginfo_t *info, void *uctx) {
  int saved_errno = errno;
  (void)wudf_runtime_handle_fault(sig, info, uctx);
  chain(sig, info, uctx);
  errno = saved_errno;
}

static void our_action(int sig, struct sigaction *sa) {
  memset(sa, 0, sizeof *sa);
  /* SA_ONSTACK on the timer too: a deadline may hit when the stack is
   * almost exhausted. */
  if (sig == g_timer_signal) {
    sa->sa_sigaction = wudf_rt_timer_on_signal;
    sa->sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  } else {
    sa->sa_sigaction = on_fault;
    sa->sa_flags = SA_SIGINFO | SA_ONSTACK;
  }
  /* The timer must not jump out from under a fault handler, nor the
   * reverse (the fault handler never runs inside the timer handler's
   * jump). */
  sa->sa_mask = g_runtime_signals;
}

static wudf_status install(int sig, const char *name, struct sigaction *prev,
                           wudf_error *err) {
  struct sigaction sa;
  our_action(sig, &sa);
  if (sigaction(sig, &sa, prev) == 0) return WUDF_OK;
  return wudf_fail(err, WUDF_ERR_SYSTEM,
                   "runtime: installing the handler for %s: %s", name,
                   strerror(errno));
}

static wudf_status install_faults(wudf_error *err) {
  wudf_status st = install(SIGSEGV, "SIGSEGV", &g_prev[FAULT_SEGV][0], err);
  if (st != WUDF_OK) return st;
  st = install(SIGBUS, "SIGBUS", &g_prev[FAULT_BUS][0], err);
  if (st != WUDF_OK) {
    (void)sigaction(SIGSEGV, &g_prev[FAULT_SEGV][0], NULL);
    return st;
  }
  g_faults_installed = true;
  return WUDF_OK;
}

wudf_status wudf_rt_signals_install(int timer_signal, wudf_fault_mode faults,
                                    wudf_error *err) {
  g_timer_signal = timer_signal;
  sigemptyset(&g_runtime_signals);
  sigaddset(&g_runtime_signals, SIGSEGV);
  sigaddset(&g_runtime_signals, SIGBUS);
  sigaddset(&g_runtime_signals, timer_signal);
  if (faults == WUDF_FAULTS_INSTALL) {
    wudf_status st = install_faults(err);
    if (st != WUDF_OK) return st;
  }
  wudf_status st = install(timer_signal, "the timer signal", NULL, err);
  if (st != WUDF_OK && g_faults_installed) {
    (void)sigaction(SIGSEGV, &g_prev[FAULT_SEGV][0], NULL);
    (void)sigaction(SIGBUS, &g_prev[FAULT_BUS][0], NULL);
    g_faults_installed = false;
  }
  return st;
}

/* ---- wudf_runtime_check ------------------------------------------------- */

static bool is_ours(int sig, const struct sigaction *cur) {
  struct sigaction want;
  our_action(sig, &want);
  return (cur->sa_flags & SA_SIGINFO) && cur->sa_sigaction == want.sa_sigaction;
}

/* Reinstalls ours on a fault signal, chaining to `newer` from now on. */
static wudf_status repair_fault(int f, const struct sigaction *newer,
                                wudf_error *err) {
  unsigned next = (atomic_load(&g_prev_slot[f]) + 1) % PREV_SLOTS;
  g_prev[f][next] = *newer;
  atomic_store(&g_prev_slot[f], next);
  return install(k_fault_signals[f], k_fault_names[f], NULL, err);
}

/* Checks one signal; `f` is its fault index, or -1 for the timer. */
static wudf_status check_one(int sig, int f, const char *name, bool repair,
                             wudf_error *err) {
  struct sigaction cur;
  if (sigaction(sig, NULL, &cur) != 0)
    return wudf_fail(err, WUDF_ERR_SYSTEM,
                     "runtime: reading the handler for "
                     "%s: %s",
                     name, strerror(errno));
  if (is_ours(sig, &cur)) return WUDF_OK;
  if (!repair)
    return wudf_fail(err, WUDF_ERR_SYSTEM,
                     "runtime: the handler for %s is no longer wudf's: one "
                     "installed later would see sandbox faults and time "
                     "limits first (wudf_runtime_check() with repair "
                     "reinstalls wudf's)",
                     name);
  if (f >= 0) return repair_fault(f, &cur, err);
  return install(sig, name, NULL, err);
}

wudf_status wudf_rt_signals_check(bool repair, wudf_error *err) {
  for (int f = 0; g_faults_installed && f < NFAULTS; f++) {
    wudf_status st =
        check_one(k_fault_signals[f], f, k_fault_names[f], repair, err);
    if (st != WUDF_OK) return st;
  }
  char name[32];
  snprintf(name, sizeof name, "the timer signal (SIGRTMIN+%d)",
           g_timer_signal - SIGRTMIN);
  return check_one(g_timer_signal, -1, name, repair, err);
}

void wudf_rt_signals_unblock(void) {
  /* Fails only for an invalid `how`; nothing to do about it here. */
  (void)pthread_sigmask(SIG_UNBLOCK, &g_runtime_signals, NULL);
}

wudf_status wudf_rt_stack_bounds(wudf_rt_thread *t, wudf_error *err) {
  pthread_attr_t attr;
  int rc = pthread_getattr_np(pthread_self(), &attr);
  if (rc != 0)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "reading the thread's stack: %s",
                     strerror(rc));
  void *addr = NULL;
  size_t size = 0;
  rc = pthread_attr_getstack(&attr, &addr, &size);
  (void)pthread_attr_destroy(&attr);
  if (rc != 0)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "reading the thread's stack: %s",
                     strerror(rc));
  t->stack_lo = (uintptr_t)addr;
  t->stack_hi = (uintptr_t)addr + size;
  return WUDF_OK;
}

static size_t altstack_size(void) {
  long s = sysconf(_SC_SIGSTKSZ);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t n = s > 0 && (size_t)s > ALTSTACK_MIN ? (size_t)s : ALTSTACK_MIN;
  return (n + page - 1) / page * page;
}

wudf_status wudf_rt_altstack_ensure(wudf_rt_thread *t, wudf_error *err) {
  stack_t cur;
  if (sigaltstack(NULL, &cur) != 0)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "sigaltstack: %s", strerror(errno));
  if (!(cur.ss_flags & SS_DISABLE)) return WUDF_OK; /* the host's, keep it */
  size_t size = altstack_size(), page = (size_t)sysconf(_SC_PAGESIZE);
  /* One PROT_NONE page below, so that overflowing it faults. */
  char *map = mmap(NULL, size + page, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED)
    return wudf_fail(err, WUDF_ERR_NOMEM, "mapping a signal stack: %s",
                     strerror(errno));
  stack_t ss = {.ss_sp = map + page, .ss_size = size, .ss_flags = 0};
  if (mprotect(map + page, size, PROT_READ | PROT_WRITE) != 0) {
    int e = errno;
    (void)munmap(map, size + page);
    return wudf_fail(err, WUDF_ERR_NOMEM, "committing a signal stack: %s",
                     strerror(e));
  }
  if (sigaltstack(&ss, NULL) != 0) {
    int e = errno;
    (void)munmap(map, size + page);
    return wudf_fail(err, WUDF_ERR_SYSTEM, "installing a signal stack: %s",
                     strerror(e));
  }
  t->altstack = map;
  t->altstack_len = size + page;
  return WUDF_OK;
}

void wudf_rt_altstack_release(wudf_rt_thread *t) {
  if (!t->altstack) return;
  stack_t cur;
  if (sigaltstack(NULL, &cur) != 0) return; /* leak rather than risk it */
  char *ours = (char *)t->altstack;
  bool installed =
      cur.ss_sp >= (void *)ours && cur.ss_sp < (void *)(ours + t->altstack_len);
  if (installed) {
    if (cur.ss_flags & SS_ONSTACK) return; /* in use: cannot disable */
    stack_t off = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
    if (sigaltstack(&off, NULL) != 0) return;
  }
  if (munmap(t->altstack, t->altstack_len) == 0) t->altstack = NULL;
}
