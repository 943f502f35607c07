/* Time limits and interrupts: a per-thread POSIX timer and tgkill(), both
 * delivering the timer signal (wudf_runtime_config.timer_signal) to the
 * thread running the call.
 *
 * The timer is armed lazily: a call only sets its deadline, and starts the
 * timer (one system call) when it is not already running or would expire
 * after that deadline. A call does not stop the timer when it ends. When the
 * timer fires, the handler traps a call whose deadline has passed, restarts
 * the timer for a call whose deadline is still ahead, and otherwise lets it
 * stop. A thread making many short calls therefore pays a system call about
 * once per time limit instead of twice per call (1.2-1.4 us per call on the
 * machines wudf is measured on), at the price of at most one signal arriving
 * outside a call after the last one, which the handler ignores (SA_RESTART
 * restarts the system calls it interrupts; see docs/security.md). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "runtime/rt_internal.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* What the signal means for the running call: an interrupt request, a passed
 * deadline, or nothing (a late signal from an earlier call). */
static wudf_status verdict(wudf_rt_thread *t) {
  wudf_rt_intr *intr = t->opts ? t->opts->intr : NULL;
  if (intr && atomic_load(&intr->target) == t->seq)
    return WUDF_TRAP_INTERRUPTED;
  if (t->deadline_ns && wudf_rt_now_ns() >= t->deadline_ns)
    return WUDF_TRAP_TIMEOUT;
  return WUDF_OK;
}

/* Starts the one-shot timer to expire at `at_ns` (CLOCK_MONOTONIC).
 * Async-signal-safe (timer_settime is). */
static bool timer_start(wudf_rt_thread *t, uint64_t at_ns) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = (time_t)(at_ns / 1000000000u);
  its.it_value.tv_nsec = (long)(at_ns % 1000000000u);
  atomic_store_explicit(&t->timer_expiry_ns, at_ns, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);
  if (timer_settime(t->timer, TIMER_ABSTIME, &its, NULL) == 0) return true;
  atomic_store_explicit(&t->timer_expiry_ns, 0, memory_order_relaxed);
  return false;
}

/* The timer fired: it is stopped now. Restart it for a running call whose
 * deadline is still ahead (a call that began after the timer was started). */
static void timer_fired(wudf_rt_thread *t) {
  atomic_store_explicit(&t->timer_expiry_ns, 0, memory_order_relaxed);
  uint64_t deadline = t->deadline_ns;
  if (t->armed && deadline > wudf_rt_now_ns()) (void)timer_start(t, deadline);
}

void wudf_rt_timer_on_signal(int sig, siginfo_t *info, void *uctx) {
  (void)sig;
  int saved_errno = errno;
  wudf_rt_thread *t = wudf_rt_thread_self();
  if (t && t->has_timer && info && info->si_code == SI_TIMER) timer_fired(t);
  if (t && t->armed && !(t->in_host && t->pending)) {
    wudf_status st = verdict(t);
    /* Never unwind host code: wudf_rt_host_leave() delivers it. */
    if (st != WUDF_OK && t->in_host)
      t->pending = (sig_atomic_t)st;
    else if (st != WUDF_OK)
      wudf_rt_thread_jump(t, st, true, uctx);
  }
  errno = saved_errno;
}

wudf_status wudf_rt_timer_prepare(wudf_rt_thread *t, wudf_error *err) {
  if (t->has_timer) return WUDF_OK;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = wudf_rt_timer_signal();
  sev.sigev_notify_thread_id = t->tid;
  if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer) != 0)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "creating the call timer: %s",
                     strerror(errno));
  t->has_timer = true;
  return WUDF_OK;
}

wudf_status wudf_rt_timer_arm(wudf_rt_thread *t, uint32_t timeout_ms,
                              wudf_error *err) {
  uint64_t deadline = wudf_rt_now_ns() + (uint64_t)timeout_ms * 1000000u;
  /* The deadline first: a signal from here on sees it, and restarts the
   * timer for it if it fires before the check below. */
  t->deadline_ns = deadline;
  atomic_signal_fence(memory_order_seq_cst);
  if (!t->has_timer)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "starting the call timer: no timer");
  uint64_t expiry =
      atomic_load_explicit(&t->timer_expiry_ns, memory_order_relaxed);
  /* Running and due no later than the deadline: it will fire in time. */
  if (expiry != 0 && expiry <= deadline) return WUDF_OK;
  if (!timer_start(t, deadline))
    return wudf_fail(err, WUDF_ERR_SYSTEM, "starting the call timer: %s",
                     strerror(errno));
  return WUDF_OK;
}

void wudf_rt_timer_disarm(wudf_rt_thread *t) {
  /* The timer keeps running (see the top of this file); without a deadline
   * its signal ends nothing. */
  t->deadline_ns = 0;
}

void wudf_rt_timer_quiesce(void) {
  wudf_rt_thread *t = wudf_rt_thread_self();
  if (!t || t->active || !t->has_timer ||
      atomic_load_explicit(&t->timer_expiry_ns, memory_order_relaxed) == 0)
    return;
  struct itimerspec zero;
  memset(&zero, 0, sizeof zero);
  /* Fails only for an invalid timer; a late signal is ignored anyway. */
  (void)timer_settime(t->timer, 0, &zero, NULL);
  atomic_store_explicit(&t->timer_expiry_ns, 0, memory_order_relaxed);
}

void wudf_rt_timer_release(wudf_rt_thread *t) {
  if (!t->has_timer) return;
  if (timer_delete(t->timer) == 0) t->has_timer = false;
}

void wudf_rt_request_interrupt(wudf_rt_intr *intr) {
  if (!intr) return;
  uint64_t s = atomic_load(&intr->state);
  pid_t tid = (pid_t)(uint32_t)s;
  if (tid == 0) return; /* no call runs: nothing to stop */
  /* The call's number, not a flag: if it ends before the signal lands,
   * the next call (another number) is not stopped. */
  atomic_store(&intr->target, (uint32_t)(s >> 32));
  /* ESRCH: the thread is gone, and with it the call. */
  (void)tgkill(getpid(), tid, wudf_rt_timer_signal());
}
