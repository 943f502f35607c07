/* Fault handlers, chaining to the host's handlers, and per-thread stacks. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/error.h"
#include "runtime/rt_internal.h"

#define ALTSTACK_MIN ((size_t)64 << 10)

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_errno;        /* 0: handlers installed */
static const char *g_init_what; /* which sigaction failed */
static struct sigaction g_prev_segv, g_prev_bus;
static sigset_t g_runtime_signals;

static const struct sigaction *prev_action(int sig) {
  return sig == SIGBUS ? &g_prev_bus : &g_prev_segv;
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

static void on_fault(int sig, siginfo_t *info, void *uctx) {
  int saved_errno = errno;
  wudf_rt_thread *t = wudf_rt_thread_self();
  /* si_code > 0: raised by the kernel for this access, so si_addr is real. */
  if (t && t->armed && t->in_host == 0 && info && info->si_code > 0) {
    uintptr_t addr = (uintptr_t)info->si_addr;
    bool oob = wudf_rt_reservation_contains(addr);
    if (oob || in_stack_guard(t, addr)) {
      t->trap_pc = fault_pc(uctx);
      wudf_rt_thread_jump(t, oob ? WUDF_TRAP_OOB : WUDF_TRAP_STACK_EXHAUSTED,
                          true);
    }
  }
  chain(sig, info, uctx);
  errno = saved_errno;
}

static int install(int sig, void (*fn)(int, siginfo_t *, void *), int flags,
                   struct sigaction *prev) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO | flags;
  /* The timer must not jump out from under a fault handler, nor the reverse
   * (the fault handler never runs inside the timer handler's jump). */
  sa.sa_mask = g_runtime_signals;
  return sigaction(sig, &sa, prev);
}

static void install_all(void) {
  sigemptyset(&g_runtime_signals);
  sigaddset(&g_runtime_signals, SIGSEGV);
  sigaddset(&g_runtime_signals, SIGBUS);
  sigaddset(&g_runtime_signals, WUDF_RT_TIMER_SIGNAL);
  /* SA_ONSTACK on the timer too: a deadline may hit when the stack is almost
   * exhausted. */
  if (install(SIGSEGV, on_fault, SA_ONSTACK, &g_prev_segv) != 0) {
    g_init_errno = errno;
    g_init_what = "SIGSEGV";
    return;
  }
  if (install(SIGBUS, on_fault, SA_ONSTACK, &g_prev_bus) != 0) {
    g_init_errno = errno;
    g_init_what = "SIGBUS";
    (void)sigaction(SIGSEGV, &g_prev_segv, NULL);
    return;
  }
  if (install(WUDF_RT_TIMER_SIGNAL, wudf_rt_timer_on_signal,
              SA_RESTART | SA_ONSTACK, NULL) != 0) {
    g_init_errno = errno;
    g_init_what = "the timer signal";
    (void)sigaction(SIGSEGV, &g_prev_segv, NULL);
    (void)sigaction(SIGBUS, &g_prev_bus, NULL);
  }
}

wudf_status wudf_rt_init(wudf_error *err) {
  int rc = pthread_once(&g_once, install_all);
  if (rc != 0)
    return wudf_fail(err, WUDF_ERR_NOMEM, "runtime init: pthread_once: %s",
                     strerror(rc));
  if (g_init_errno != 0)
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "runtime init: installing the handler for %s: %s",
                     g_init_what, strerror(g_init_errno));
  return WUDF_OK;
}

void wudf_rt_signals_unblock(void) {
  /* Fails only for an invalid `how`; nothing to do about it here. */
  (void)pthread_sigmask(SIG_UNBLOCK, &g_runtime_signals, NULL);
}

wudf_status wudf_rt_stack_bounds(wudf_rt_thread *t, wudf_error *err) {
  pthread_attr_t attr;
  int rc = pthread_getattr_np(pthread_self(), &attr);
  if (rc != 0)
    return wudf_fail(err, WUDF_ERR_NOMEM, "reading the thread's stack: %s",
                     strerror(rc));
  void *addr = NULL;
  size_t size = 0;
  rc = pthread_attr_getstack(&attr, &addr, &size);
  (void)pthread_attr_destroy(&attr);
  if (rc != 0)
    return wudf_fail(err, WUDF_ERR_NOMEM, "reading the thread's stack: %s",
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
    return wudf_fail(err, WUDF_ERR_NOMEM, "sigaltstack: %s", strerror(errno));
  if (!(cur.ss_flags & SS_DISABLE)) return WUDF_OK; /* the host's, keep it */
  size_t size = altstack_size(), page = (size_t)sysconf(_SC_PAGESIZE);
  /* One PROT_NONE page below, so that overflowing it faults. */
  char *map = mmap(NULL, size + page, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED)
    return wudf_fail(err, WUDF_ERR_NOMEM, "mapping a signal stack: %s",
                     strerror(errno));
  stack_t ss = {.ss_sp = map + page, .ss_size = size, .ss_flags = 0};
  if (mprotect(map + page, size, PROT_READ | PROT_WRITE) != 0 ||
      sigaltstack(&ss, NULL) != 0) {
    int e = errno;
    (void)munmap(map, size + page);
    return wudf_fail(err, WUDF_ERR_NOMEM, "installing a signal stack: %s",
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
