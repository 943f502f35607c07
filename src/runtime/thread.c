/* Per-thread trap state and the guarded call. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "runtime/rt_internal.h"

/* initial-exec: see rt_internal.h. */
static _Thread_local wudf_rt_thread *g_self
    __attribute__((tls_model("initial-exec")));

static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static int g_key_rc = -1;

wudf_rt_thread *wudf_rt_thread_self(void) {
  return g_self;
}

uint64_t wudf_rt_now_ns(void) {
  struct timespec ts;
  /* CLOCK_MONOTONIC cannot fail on Linux; 0 would only delay a deadline. */
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void thread_destroy(void *p) {
  wudf_rt_thread *t = p;
  g_self = NULL;
  atomic_signal_fence(memory_order_seq_cst);
  wudf_rt_timer_release(t);
  wudf_rt_altstack_release(t);
  wudf_free(t);
}

/* After fork() the surviving thread has a new tid and no timers. */
static void after_fork_child(void) {
  wudf_rt_thread *t = g_self;
  if (!t) return;
  t->tid = gettid();
  t->has_timer = false;
  atomic_store(&t->timer_expiry_ns, 0);
}

static void key_create(void) {
  g_key_rc = pthread_key_create(&g_key, thread_destroy);
  if (g_key_rc == 0) g_key_rc = pthread_atfork(NULL, NULL, after_fork_child);
}

static wudf_status thread_new(wudf_rt_thread **out, wudf_error *err) {
  int rc = pthread_once(&g_key_once, key_create);
  if (rc != 0 || g_key_rc != 0)
    return wudf_fail(err, WUDF_ERR_SYSTEM,
                     "creating the runtime's thread key: %s",
                     strerror(rc != 0 ? rc : g_key_rc));
  wudf_rt_thread *t = wudf_calloc(1, sizeof *t);
  if (!t) return wudf_fail(err, WUDF_ERR_NOMEM, "allocating thread state");
  t->tid = gettid();
  wudf_status st = wudf_rt_stack_bounds(t, err);
  if (st == WUDF_OK) st = wudf_rt_altstack_ensure(t, err);
  if (st != WUDF_OK) goto fail;
  /* Thread pools often start their threads with every signal blocked: the
   * time limit would then never fire, and a blocked SIGSEGV makes the
   * kernel kill the process on the first out-of-bounds access. */
  wudf_rt_signals_unblock();
  if ((rc = pthread_setspecific(g_key, t)) != 0) {
    st = wudf_fail(err, rc == ENOMEM ? WUDF_ERR_NOMEM : WUDF_ERR_SYSTEM,
                   "registering thread state: %s", strerror(rc));
    goto fail;
  }
  g_self = t;
  *out = t;
  return WUDF_OK;
fail:
  wudf_rt_altstack_release(t);
  wudf_free(t);
  return st;
}

/* Stack exhaustion is caught by the fault below the thread's own stack. On
 * another stack (makecontext, a coroutine library) generated code would run
 * over whatever memory lies below it. */
static bool on_thread_stack(const wudf_rt_thread *t) {
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  return sp >= t->stack_lo && sp < t->stack_hi;
}

/* Everything that can fail before the call starts: no trap can happen yet. */
static wudf_status call_enter(const wudf_rt_call_opts *opts,
                              wudf_rt_thread **out, wudf_error *err) {
  wudf_status st = wudf_rt_init(err);
  if (st != WUDF_OK) return st;
  wudf_rt_thread *t = g_self;
  if (t && t->active)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "a call into wudf from inside a guarded call (or after "
                     "a host function left one by longjmp without "
                     "wudf_runtime_recover())");
  if (!t && (st = thread_new(&t, err)) != WUDF_OK) return st;
  if (!on_thread_stack(t))
    return wudf_fail(err, WUDF_ERR_UNSUPPORTED,
                     "running WebAssembly on a stack other than the thread's "
                     "own (a coroutine's?) is not supported: stack "
                     "exhaustion could not be caught there");
  if (opts->timeout_ms > 0 && (st = wudf_rt_timer_prepare(t, err)) != WUDF_OK)
    return st;
  *out = t;
  return WUDF_OK;
}

/* Says, in opts->intr, that a call runs on this thread; returns its
 * sequence number. Only the thread running the instance writes `state`. */
static uint32_t intr_begin(wudf_rt_intr *intr, pid_t tid) {
  uint64_t s = atomic_load_explicit(&intr->state, memory_order_relaxed);
  uint32_t seq = (uint32_t)(s >> 32) + 1;
  if (seq == 0) seq = 1; /* 0 is never a call's: `target` starts at 0 */
  atomic_store(&intr->state, (uint64_t)seq << 32 | (uint32_t)tid);
  return seq;
}

static void intr_end(wudf_rt_intr *intr) {
  uint64_t s = atomic_load_explicit(&intr->state, memory_order_relaxed);
  atomic_store(&intr->state, s & ~(uint64_t)UINT32_MAX);
}

/* Runs inside the sigsetjmp frame: from here on traps may jump. */
static void call_start(wudf_rt_thread *t, const wudf_rt_call_opts *opts,
                       wudf_rt_outcome *outcome) {
  t->opts = opts;
  t->outcome = outcome;
  t->status = WUDF_OK;
  t->seq = opts->intr ? intr_begin(opts->intr, t->tid) : 0;
  t->trap_pc = 0;
  atomic_signal_fence(memory_order_seq_cst);
  t->armed = 1;
  atomic_signal_fence(memory_order_seq_cst);
  /* An interrupt that saw this call before it was armed: its signal was
   * ignored, its target is here. */
  if (opts->intr && atomic_load(&opts->intr->target) == t->seq)
    wudf_rt_thread_jump(t, WUDF_TRAP_INTERRUPTED, false, NULL);
  if (opts->timeout_ms > 0) {
    wudf_error e; /* filled by wudf_fail() on failure only */
    if (wudf_rt_timer_arm(t, opts->timeout_ms, &e) != WUDF_OK)
      wudf_rt_trap_detail(e.status, "%s", e.message);
  }
}

/* Clears the per-call state; the call is over. */
static void call_clear(wudf_rt_thread *t) {
  t->in_host = 0;
  t->pending = 0;
  t->from_signal = 0;
  t->has_jump_mask = 0;
  t->opts = NULL;
  t->outcome = NULL;
  atomic_signal_fence(memory_order_seq_cst);
  t->active = 0;
}

/* After a jump out of a handler: the mask from before the signal, else
 * (sigsetjmp did not save it) at least the runtime's signals unblocked. */
static void restore_mask(wudf_rt_thread *t) {
  if (!t->from_signal) return;
  if (t->has_jump_mask) (void)pthread_sigmask(SIG_SETMASK, &t->jump_mask, NULL);
  wudf_rt_signals_unblock();
}

static wudf_status call_finish(wudf_rt_thread *t, wudf_rt_outcome *outcome) {
  t->armed = 0;
  atomic_signal_fence(memory_order_seq_cst);
  restore_mask(t);
  wudf_rt_timer_disarm(t);
  if (t->opts->intr) intr_end(t->opts->intr);
  outcome->status = (wudf_status)t->status;
  if (outcome->status == WUDF_TRAP_EXIT) outcome->exit_code = t->exit_code;
  call_clear(t);
  return outcome->status;
}

static wudf_status early_fail(wudf_rt_outcome *outcome, const wudf_error *e) {
  outcome->status = e->status;
  snprintf(outcome->detail, sizeof outcome->detail, "%.*s",
           (int)sizeof outcome->detail - 1, e->message);
  return e->status;
}

static wudf_status guarded(const wudf_rt_call_opts *opts, wudf_rt_body body,
                           void *arg, wudf_rt_outcome *outcome) {
  memset(outcome, 0, sizeof *outcome);
  /* Not zeroed: a wudf_error is several KiB, and every path that reads it
   * filled it with wudf_fail(). This runs on every call. */
  wudf_error e;
  if (!opts || !body) {
    wudf_fail(&e, WUDF_ERR_ARG, "wudf_rt_guarded: NULL opts or body");
    return early_fail(outcome, &e);
  }
  wudf_rt_thread *t = NULL;
  if (call_enter(opts, &t, &e) != WUDF_OK) return early_fail(outcome, &e);
  t->active = 1;
  /* Locals read after a jump back must not live in registers the jump
   * restores to stale values; these are written only before sigsetjmp. */
  wudf_rt_thread *volatile vt = t;
  wudf_rt_outcome *volatile vout = outcome;
  /* No mask save: that would cost a syscall per call. Jumps out of signal
   * handlers unblock the runtime's signals in call_finish() instead. */
  if (sigsetjmp(t->jmp, 0) == 0) {
    call_start(t, opts, outcome);
    body(arg);
  }
  return call_finish(vt, vout);
}

wudf_status wudf_rt_guarded(const wudf_rt_call_opts *opts, wudf_rt_body body,
                            void *arg, wudf_rt_outcome *outcome) {
  wudf_rt_outcome local;
  return guarded(opts, body, arg, outcome ? outcome : &local);
}

void wudf_rt_thread_jump(wudf_rt_thread *t, wudf_status status,
                         bool from_signal, void *uctx) {
  t->status = (sig_atomic_t)status;
  t->from_signal = from_signal;
  if (from_signal && uctx) {
    t->jump_mask = ((const ucontext_t *)uctx)->uc_sigmask;
    t->has_jump_mask = 1;
  }
  /* Disarm first: a timer signal arriving during the jump is then stale. */
  t->armed = 0;
  atomic_signal_fence(memory_order_seq_cst);
  siglongjmp(t->jmp, 1);
}

/* A trap outside a guarded call has no frame to return to, and the function
 * cannot return: the caller broke the contract of rt.h. */
__attribute__((noreturn)) static void trap_outside_call(void) {
  static const char msg[] = "wudf: runtime trap outside a guarded call\n";
  if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
    /* nothing more to report */
  }
  abort();
}

void wudf_rt_trap(wudf_status status) {
  wudf_rt_thread *t = g_self;
  if (!t || !t->armed) trap_outside_call();
  wudf_rt_thread_jump(t, status == WUDF_OK ? WUDF_ERR_ARG : status, false,
                      NULL);
}

void wudf_rt_trap_exit(int32_t code) {
  wudf_rt_thread *t = g_self;
  if (!t || !t->armed) trap_outside_call();
  t->exit_code = code;
  wudf_rt_thread_jump(t, WUDF_TRAP_EXIT, false, NULL);
}

void wudf_rt_trap_detail(wudf_status status, const char *fmt, ...) {
  wudf_rt_thread *t = g_self;
  if (t && t->armed && t->outcome) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->outcome->detail, sizeof t->outcome->detail, fmt, ap);
    va_end(ap);
  }
  wudf_rt_trap(status);
}

void wudf_rt_note_trap_pc(const void *pc) {
  wudf_rt_thread *t = g_self;
  if (t && t->armed) t->trap_pc = (uintptr_t)pc;
}

uintptr_t wudf_rt_last_trap_pc(void) {
  wudf_rt_thread *t = g_self;
  return t ? t->trap_pc : 0;
}

const wudf_rt_call_opts *wudf_rt_current_opts(void) {
  wudf_rt_thread *t = g_self;
  return t && t->armed ? t->opts : NULL;
}

wudf_rt_outcome *wudf_rt_current_outcome(void) {
  wudf_rt_thread *t = g_self;
  return t && t->armed ? t->outcome : NULL;
}

/* A stack overflow inside host code cannot be turned into a trap (the host
 * code would be unwound), so the guest may not enter host code with less
 * stack than this left: 128 KiB, or a quarter of a small stack. */
static bool stack_too_low(const wudf_rt_thread *t) {
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  uintptr_t quarter = (t->stack_hi - t->stack_lo) / 4;
  uintptr_t margin =
      quarter < ((uintptr_t)128 << 10) ? quarter : (uintptr_t)128 << 10;
  return sp >= t->stack_lo && sp < t->stack_hi && sp - t->stack_lo < margin;
}

void wudf_rt_host_enter(void) {
  wudf_rt_thread *t = g_self;
  if (!t) return;
  if (t->armed && t->in_host == 0 && stack_too_low(t))
    wudf_rt_thread_jump(t, WUDF_TRAP_STACK_EXHAUSTED, false, NULL);
  t->in_host = t->in_host + 1;
  atomic_signal_fence(memory_order_seq_cst);
}

void wudf_rt_host_leave(void) {
  wudf_rt_thread *t = g_self;
  if (!t || t->in_host <= 0) return;
  atomic_signal_fence(memory_order_seq_cst);
  t->in_host = t->in_host - 1;
  atomic_signal_fence(memory_order_seq_cst);
  /* A timer signal from now on traps directly; one that came while inside
   * left its verdict in `pending`. */
  if (t->in_host != 0 || !t->pending) return;
  wudf_status st = (wudf_status)t->pending;
  t->pending = 0;
  if (t->armed) wudf_rt_thread_jump(t, st, false, NULL);
}

/* ---- Recovering from a host function that left by longjmp --------------- */

/* The guarded frame is gone: never jump to it, never write its outcome. */
static void abandon(wudf_rt_thread *t) {
  t->armed = 0;
  atomic_signal_fence(memory_order_seq_cst);
  wudf_rt_timer_disarm(t);
  wudf_rt_intr *intr = t->opts ? t->opts->intr : NULL;
  if (intr) {
    intr_end(intr);
    atomic_store(&intr->abandoned, 1);
  }
  call_clear(t);
}

void wudf_runtime_recover(void) {
  wudf_rt_thread *t = g_self;
  if (t && t->active) abandon(t);
}

void wudf_rt_forget_call(const wudf_rt_call_opts *opts) {
  wudf_rt_thread *t = g_self;
  if (t && t->active && t->opts == opts) abandon(t);
}
