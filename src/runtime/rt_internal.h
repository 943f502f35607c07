/*
 * Private to src/runtime: what the runtime's files share (rt.h is the
 * interface the rest of wudf uses).
 *
 * Per-thread state. A thread gets a wudf_rt_thread on its first guarded call.
 * The _Thread_local slot holds only a pointer to it, with the initial-exec TLS
 * model, so that the signal handlers can read it without calling into the
 * dynamic linker (which may allocate) even when libwudf.so was dlopen()ed.
 * The state itself is heap memory freed by a pthread key destructor when the
 * thread exits.
 *
 * The fields the signal handlers read are volatile sig_atomic_t (or written
 * before `armed` is set, with a signal fence), and only the owning thread and
 * its own signal handlers touch them.
 */
#ifndef WUDF_RUNTIME_RT_INTERNAL_H
#define WUDF_RUNTIME_RT_INTERNAL_H

#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "runtime/rt.h"

#define WUDF_RT_PAGE_SIZE 65536u
/* wasm_rt_memory_t.size is a uint32_t: 65536 pages (4 GiB) do not fit. */
#define WUDF_RT_MAX_PAGES 65535u
/* Every address base + u32 index + u32 offset + access size can reach. */
#define WUDF_RT_RESERVATION ((UINT64_C(8) << 30) + WUDF_RT_PAGE_SIZE)
/* How far below the thread's stack a fault still counts as exhaustion (the
 * kernel's stack guard gap is 1 MiB by default). */
#define WUDF_RT_STACK_GUARD_GAP ((uintptr_t)1 << 20)

typedef struct wudf_rt_thread {
  sigjmp_buf jmp;
  volatile sig_atomic_t active;      /* a wudf_rt_guarded() frame exists */
  volatile sig_atomic_t armed;       /* traps may jump to `jmp` now */
  volatile sig_atomic_t in_host;     /* depth of host-function brackets */
  volatile sig_atomic_t pending;     /* trap deferred until host leave, or 0 */
  volatile sig_atomic_t from_signal; /* the trap jumped out of a handler */
  volatile sig_atomic_t status;      /* wudf_status of the call */
  volatile int32_t exit_code;
  volatile uint32_t seq; /* the call's number in opts->intr */
  /* The signal mask to restore after a jump out of a handler: the mask
   * when the signal arrived (from its ucontext). */
  sigset_t jump_mask;
  volatile sig_atomic_t has_jump_mask;
  volatile uintptr_t trap_pc;    /* where the call trapped, or 0 */
  const wudf_rt_call_opts *opts; /* of the running call */
  wudf_rt_outcome *outcome;      /* of the running call */
  volatile uint64_t deadline_ns; /* CLOCK_MONOTONIC; 0: no time limit */
  pid_t tid;
  uintptr_t stack_lo, stack_hi; /* this thread's stack, from pthread */
  void *altstack;               /* mapping we installed (with guard page) */
  size_t altstack_len;
  timer_t timer;
  bool has_timer;
  /* When the timer fires (CLOCK_MONOTONIC ns), 0 when it is stopped.
   * Written by the thread and its timer signal handler. */
  _Atomic uint64_t timer_expiry_ns;
} wudf_rt_thread;

/* thread.c */

/* This thread's state, or NULL before its first guarded call.
 * Async-signal-safe. */
wudf_rt_thread *wudf_rt_thread_self(void);
/* Ends the running call with `status`: records it and jumps back to
 * wudf_rt_guarded(). `from_signal`: called from a signal handler, whose
 * ucontext is `uctx` (may be NULL). The caller has checked t->armed. */
__attribute__((noreturn)) void wudf_rt_thread_jump(wudf_rt_thread *t,
                                                   wudf_status status,
                                                   bool from_signal,
                                                   void *uctx);
/* Records the native address the running call traps at (async-signal-safe;
 * ignored outside a call). */
void wudf_rt_note_trap_pc(const void *pc);
/* Options and outcome of this thread's running call, or NULL outside one. */
const wudf_rt_call_opts *wudf_rt_current_opts(void);
wudf_rt_outcome *wudf_rt_current_outcome(void);
/* CLOCK_MONOTONIC in nanoseconds. Async-signal-safe. */
uint64_t wudf_rt_now_ns(void);

/* runtime.c */

/* The fault mode the runtime started with. */
wudf_fault_mode wudf_rt_fault_mode(void);
/* Whether the runtime has started (settings fixed, handlers installed). */
bool wudf_rt_started(void);

/* signals.c */

/* Installs the handlers: the timer signal's, and SIGSEGV's and SIGBUS's
 * when `faults` is WUDF_FAULTS_INSTALL. Once, under runtime.c's lock. */
wudf_status wudf_rt_signals_install(int timer_signal, wudf_fault_mode faults,
                                    wudf_error *err);
/* wudf_runtime_check(), under runtime.c's lock. */
wudf_status wudf_rt_signals_check(bool repair, wudf_error *err);

/* Stack bounds of the calling thread into t->stack_lo/hi. */
wudf_status wudf_rt_stack_bounds(wudf_rt_thread *t, wudf_error *err);
/* Installs an alternate signal stack on the calling thread unless it has
 * one; records it in t. */
wudf_status wudf_rt_altstack_ensure(wudf_rt_thread *t, wudf_error *err);
/* Disables and unmaps the alternate stack t installed, if any. Calling
 * thread only. */
void wudf_rt_altstack_release(wudf_rt_thread *t);
/* Unblocks the runtime's signals (SIGSEGV, SIGBUS, the timer signal) on
 * the calling thread. */
void wudf_rt_signals_unblock(void);

/* timer.c */

/* The timer signal's handler. */
void wudf_rt_timer_on_signal(int sig, siginfo_t *info, void *uctx);
/* Creates t's timer (once per thread), aimed at t->tid. */
wudf_status wudf_rt_timer_prepare(wudf_rt_thread *t, wudf_error *err);
/* Sets t->deadline_ns and makes sure the timer fires by then. */
wudf_status wudf_rt_timer_arm(wudf_rt_thread *t, uint32_t timeout_ms,
                              wudf_error *err);
/* Clears the deadline (the timer keeps running: see timer.c). */
void wudf_rt_timer_disarm(wudf_rt_thread *t);
/* Deletes t's timer. */
void wudf_rt_timer_release(wudf_rt_thread *t);

/* functypes.c */

/* Appends `index` (a reference the set now owns) to `set`; false when out
 * of memory. */
bool wudf_rt_typeset_add(wudf_rt_typeset *set, uint32_t index);

/* memory.c */

/* True if addr lies in a registered linear-memory reservation.
 * Async-signal-safe. */
bool wudf_rt_reservation_contains(uintptr_t addr);
/* wasm_rt_allocate_memory: traps on failure. Caps from the running call. */
void wudf_rt_memory_allocate(wasm_rt_memory_t *mem, uint32_t initial_pages,
                             uint32_t max_pages);
/* wasm_rt_grow_memory: old page count, or UINT32_MAX. */
uint32_t wudf_rt_memory_grow(wasm_rt_memory_t *mem, uint32_t delta);

/* table.c (traps on failure; caps from the running call) */

void wudf_rt_funcref_table_allocate(wasm_rt_funcref_table_t *t,
                                    uint32_t elements, uint32_t max_elements);
void wudf_rt_externref_table_allocate(wasm_rt_externref_table_t *t,
                                      uint32_t elements, uint32_t max_elements);
void wudf_rt_externref_table_delete(wasm_rt_externref_table_t *t);
uint32_t wudf_rt_funcref_table_grow(wasm_rt_funcref_table_t *t, uint32_t delta,
                                    wasm_rt_funcref_t init);
uint32_t wudf_rt_externref_table_grow(wasm_rt_externref_table_t *t,
                                      uint32_t delta, wasm_rt_externref_t init);

#endif /* WUDF_RUNTIME_RT_INTERNAL_H */
