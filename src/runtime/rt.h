/*
 * wudf's implementation of the wasm2c runtime, used by compiled modules
 * through the shim ABI (translate/shim_abi.h).
 *
 * Traps. Generated code runs only inside wudf_rt_guarded(). A trap — from the
 * generated code (wasm_rt_trap), from a fault in a linear memory's guard
 * region, from overflowing the thread's stack, from the time limit, from an
 * interrupt, or from a host function — jumps back to wudf_rt_guarded(), which
 * returns the trap's status. State is per thread: many threads may run and
 * trap at once.
 *
 * Signals. wudf_rt_init() installs handlers for SIGSEGV, SIGBUS and
 * WUDF_RT_TIMER_SIGNAL once per process. A fault that is not a wasm trap
 * (the thread is not running generated code, or the address is neither in a
 * linear memory reservation nor in the thread's stack guard) is passed to the
 * handler the process had before (or the default action), so Python's or
 * PostgreSQL's own handlers keep working. Each thread that runs generated
 * code gets an alternate signal stack (unless it already has one), so stack
 * exhaustion can be handled, and has SIGSEGV, SIGBUS and the timer signal
 * unblocked; calls from another stack than the thread's own are refused.
 *
 * Memories. Each linear memory reserves 8 GiB + 64 KiB of address space
 * (PROT_NONE) and makes the first `size` bytes accessible: every address a
 * 32-bit wasm load or store can form falls inside the reservation, so
 * out-of-bounds accesses fault instead of being checked.
 */
#ifndef WUDF_RUNTIME_RT_H
#define WUDF_RUNTIME_RT_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <wasm-rt.h>

#include "translate/shim_abi.h"
#include "wudf.h"

/* Real-time signal used for time limits and interrupts (never SIGALRM). */
#define WUDF_RT_TIMER_SIGNAL (SIGRTMIN + 3)

/* Installs the signal handlers (once per process; later calls are cheap).
 * Thread-safe. */
wudf_status wudf_rt_init(wudf_error *err);

/* The runtime services handed to every compiled module. Static storage. */
const wudf_shim_rt *wudf_rt_vtable(void);

/* Limits and identity of one guarded call. Owned by the caller; must stay
 * valid during wudf_rt_guarded(). */
typedef struct wudf_rt_call_opts {
  uint32_t timeout_ms;       /* 0: none */
  uint64_t memory_cap_pages; /* cap for memories allocated/grown in the call */
  uint32_t table_cap;        /* cap on table elements */
  /* Set by wudf_rt_request_interrupt(); checked at entry and by the timer
   * signal handler. May be NULL. */
  atomic_int *interrupt_flag;
  /* Receives the kernel thread id while the call runs (0 otherwise), so that
   * wudf_rt_request_interrupt() can signal it. May be NULL. */
  atomic_int *running_tid;
} wudf_rt_call_opts;

/* What ended a guarded call. */
typedef struct wudf_rt_outcome {
  wudf_status status; /* WUDF_OK or a WUDF_TRAP_* / WUDF_ERR_* code */
  int32_t exit_code;  /* WUDF_TRAP_EXIT */
  bool grow_refused;  /* a memory.grow was refused at the cap */
  char detail[160];   /* extra context, e.g. "memory needs 300 MiB, cap 256" */
} wudf_rt_outcome;

typedef void (*wudf_rt_body)(void *arg);

/* Runs body(arg) with traps caught, under `opts`. Returns outcome->status.
 * Not reentrant: calling it from inside a guarded body returns WUDF_ERR_ARG.
 * If *opts->interrupt_flag is already set, clears it and returns
 * WUDF_TRAP_INTERRUPTED without running body. */
wudf_status wudf_rt_guarded(const wudf_rt_call_opts *opts, wudf_rt_body body,
                            void *arg, wudf_rt_outcome *outcome);

/* Ends the current guarded call with `status` (any wudf_status but WUDF_OK).
 * Only from inside a guarded body. */
__attribute__((noreturn)) void wudf_rt_trap(wudf_status status);

/* Like wudf_rt_trap() with a printf-style detail for the outcome. */
__attribute__((noreturn, format(printf, 2, 3))) void wudf_rt_trap_detail(
    wudf_status status, const char *fmt, ...);

/* Ends the current guarded call with WUDF_TRAP_EXIT and `code`. */
__attribute__((noreturn)) void wudf_rt_trap_exit(int32_t code);

/* The native address in generated code where the calling thread's last
 * guarded call trapped (a faulting instruction, or the return address of
 * the generated code's call into a trap), or 0 when it did not trap there
 * (time limit, interrupt, host function). Valid until the thread's next
 * guarded call. */
uintptr_t wudf_rt_last_trap_pc(void);

/* Host functions called from generated code bracket their work with these, so
 * that a time-limit signal arriving meanwhile is deferred until leave (which
 * then traps) rather than unwinding host code. */
void wudf_rt_host_enter(void);
void wudf_rt_host_leave(void);

/* Sets *flag and, if a call is running on *running_tid, signals that thread.
 * Callable from any thread. */
void wudf_rt_request_interrupt(atomic_int *flag, atomic_int *running_tid);

/* The calling thread's call timer keeps running after a call (see timer.c)
 * and fires once more, ignored, up to a time limit later. This stops it now,
 * for a host about to leave the thread idle. Outside guarded calls only. */
void wudf_rt_timer_quiesce(void);

/* Memories and tables outside generated code (e.g. host-defined imports).
 * They use the same allocator; errors are returned, not trapped. */
wudf_status wudf_rt_memory_new(wasm_rt_memory_t *mem, uint32_t initial_pages,
                               uint32_t max_pages, wudf_error *err);
void wudf_rt_memory_delete(wasm_rt_memory_t *mem);
wudf_status wudf_rt_funcref_table_new(wasm_rt_funcref_table_t *t,
                                      uint32_t elements, uint32_t max_elements,
                                      wudf_error *err);
void wudf_rt_funcref_table_delete(wasm_rt_funcref_table_t *t);

/* Type index for a signature (same signature, same index, across modules).
 * `types` holds the parameters then the results. Returns 0 when out of
 * memory (0 is never a valid index). Thread-safe. */
uint32_t wudf_rt_func_type(uint32_t nparams, uint32_t nresults,
                           const wasm_rt_type_t *types);

#endif /* WUDF_RUNTIME_RT_H */
