/* Time limits and interrupts: a per-thread POSIX timer and tgkill(), both
 * delivering WUDF_RT_TIMER_SIGNAL to the thread running the call. */
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
  atomic_int *flag = t->opts ? t->opts->interrupt_flag : NULL;
  if (flag && atomic_exchange(flag, 0)) return WUDF_TRAP_INTERRUPTED;
  if (t->deadline_ns && wudf_rt_now_ns() >= t->deadline_ns)
    return WUDF_TRAP_TIMEOUT;
  return WUDF_OK;
}

void wudf_rt_timer_on_signal(int sig, siginfo_t *info, void *uctx) {
  (void)sig, (void)info, (void)uctx;
  int saved_errno = errno;
  wudf_rt_thread *t = wudf_rt_thread_self();
  if (t && t->armed && !(t->in_host && t->pending)) {
    wudf_status st = verdict(t);
    /* Never unwind host code: wudf_rt_host_leave() delivers it. */
    if (st != WUDF_OK && t->in_host)
      t->pending = (sig_atomic_t)st;
    else if (st != WUDF_OK)
      wudf_rt_thread_jump(t, st, true);
  }
  errno = saved_errno;
}

wudf_status wudf_rt_timer_prepare(wudf_rt_thread *t, wudf_error *err) {
  if (t->has_timer) return WUDF_OK;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD_ID;
  sev.sigev_signo = WUDF_RT_TIMER_SIGNAL;
  sev.sigev_notify_thread_id = t->tid;
  if (timer_create(CLOCK_MONOTONIC, &sev, &t->timer) != 0)
    return wudf_fail(err, WUDF_ERR_NOMEM, "creating the call timer: %s",
                     strerror(errno));
  t->has_timer = true;
  return WUDF_OK;
}

wudf_status wudf_rt_timer_arm(wudf_rt_thread *t, uint32_t timeout_ms,
                              wudf_error *err) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = (time_t)(timeout_ms / 1000);
  its.it_value.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
  /* Deadline before the timer starts, so the timer never fires early. */
  t->deadline_ns = wudf_rt_now_ns() + (uint64_t)timeout_ms * 1000000u;
  atomic_signal_fence(memory_order_seq_cst);
  if (!t->has_timer || timer_settime(t->timer, 0, &its, NULL) != 0)
    return wudf_fail(err, WUDF_ERR_NOMEM, "starting the call timer: %s",
                     t->has_timer ? strerror(errno) : "no timer");
  t->timer_armed = true;
  return WUDF_OK;
}

void wudf_rt_timer_disarm(wudf_rt_thread *t) {
  t->deadline_ns = 0;
  if (!t->timer_armed) return;
  struct itimerspec zero;
  memset(&zero, 0, sizeof zero);
  /* Fails only for an invalid timer; a late signal is ignored anyway. */
  (void)timer_settime(t->timer, 0, &zero, NULL);
  t->timer_armed = false;
}

void wudf_rt_timer_release(wudf_rt_thread *t) {
  if (!t->has_timer) return;
  if (timer_delete(t->timer) == 0) t->has_timer = false;
}

void wudf_rt_request_interrupt(atomic_int *flag, atomic_int *running_tid) {
  if (!flag) return;
  atomic_store(flag, 1);
  int tid = running_tid ? atomic_load(running_tid) : 0;
  /* ESRCH means the thread is gone; the flag then stops the next call. */
  if (tid != 0) (void)tgkill(getpid(), tid, WUDF_RT_TIMER_SIGNAL);
}
