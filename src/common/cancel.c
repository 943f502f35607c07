/* Cancellation flags. Triggering only stores atomics and sends the timer
 * signal to running calls, so it is async-signal-safe. */
#include "common/cancel.h"

#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "runtime/rt.h"
#include "runtime/rt_internal.h"

struct wudf_cancel {
  atomic_int set;
  atomic_int triggering; /* triggers now walking the slots */
  _Atomic(wudf_instance *) slots[WUDF_CANCEL_SLOTS];
};

wudf_status wudf_cancel_new(wudf_cancel **out, wudf_error *err) {
  if (!out) return wudf_fail(err, WUDF_ERR_ARG, "cancel: out is NULL");
  wudf_cancel *c = wudf_calloc(1, sizeof *c);
  *out = c;
  if (!c) return wudf_fail(err, WUDF_ERR_NOMEM, "allocating a cancel flag");
  atomic_init(&c->set, 0);
  atomic_init(&c->triggering, 0);
  for (int i = 0; i < WUDF_CANCEL_SLOTS; i++) atomic_init(&c->slots[i], NULL);
  return WUDF_OK;
}

void wudf_cancel_free(wudf_cancel *cancel) {
  wudf_free(cancel);
}

void wudf_cancel_trigger(wudf_cancel *c) {
  if (!c) return;
  /* Called from a signal handler on the thread running an attached call,
   * the interrupt's signal would end that call by jumping out of the
   * handler: before `triggering` is taken back (a detach would then wait
   * forever) and before the rest of the host's handler ran (with its
   * signal left blocked). So the signal is held: until the walk is over,
   * or, inside a guarded call, until the handler returns (the kernel then
   * restores the call's mask and the signal ends the call there). */
  sigset_t timer, old;
  sigemptyset(&timer);
  sigaddset(&timer, wudf_rt_timer_signal());
  pthread_sigmask(SIG_BLOCK, &timer, &old);
  atomic_fetch_add(&c->triggering, 1);
  atomic_store(&c->set, 1);
  for (int i = 0; i < WUDF_CANCEL_SLOTS; i++) {
    wudf_instance *inst = atomic_load(&c->slots[i]);
    if (inst) wudf_instance_interrupt(inst);
  }
  atomic_fetch_sub(&c->triggering, 1);
  wudf_rt_thread *t = wudf_rt_thread_self();
  if (!t || !t->active) pthread_sigmask(SIG_SETMASK, &old, NULL);
}

bool wudf_cancel_is_set(const wudf_cancel *c) {
  return c && atomic_load(&((wudf_cancel *)c)->set) != 0;
}

int wudf_cancel_attach(wudf_cancel *c, wudf_instance *inst) {
  if (!c || !inst) return -1;
  for (int i = 0; i < WUDF_CANCEL_SLOTS; i++) {
    wudf_instance *expected = NULL;
    if (atomic_compare_exchange_strong(&c->slots[i], &expected, inst)) {
      /* A trigger that ran before the store missed this instance. */
      if (atomic_load(&c->set)) wudf_instance_interrupt(inst);
      return i;
    }
  }
  return -1;
}

void wudf_cancel_detach(wudf_cancel *c, int slot) {
  if (!c || slot < 0 || slot >= WUDF_CANCEL_SLOTS) return;
  atomic_store(&c->slots[slot], NULL);
  while (atomic_load(&c->triggering) > 0) sched_yield();
}
