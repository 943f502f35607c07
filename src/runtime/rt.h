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
 * Signals. wudf_rt_init() fixes the process-wide settings (runtime.c) and
 * installs handlers for the timer signal and, unless the host owns the
 * faults (WUDF_FAULTS_HOST), for SIGSEGV and SIGBUS, once per process. A
 * fault that is not a wasm trap (the thread is not running generated code,
 * or the address is neither in a linear memory reservation nor in the
 * thread's stack guard) is passed to the handler the process had before (or
 * the default action), so Python's or PostgreSQL's own handlers keep
 * working. Each thread that runs generated
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

/* Starts the runtime with the default settings unless wudf_runtime_init()
 * started it: fixes the settings and installs the signal handlers (once per
 * process; later calls are one atomic load). Thread-safe. */
wudf_status wudf_rt_init(wudf_error *err);

/* The real-time signal used for time limits and interrupts (never SIGALRM):
 * wudf_runtime_config.timer_signal. Valid once the runtime has started.
 * Async-signal-safe. */
int wudf_rt_timer_signal(void);

/* Interrupt state of one instance. `state` is the running call's sequence
 * number (high 32 bits) and kernel thread id (low 32 bits; 0 when no call
 * runs). An interrupt stores the sequence number of the call it saw in
 * `target`: only that call stops, never a later one. `abandoned` is set when
 * a call was left by a longjmp out of a host function and ended by
 * wudf_runtime_recover(). Zero-initialise. */
typedef struct wudf_rt_intr {
  _Atomic uint64_t state;
  atomic_uint target;
  atomic_int abandoned;
} wudf_rt_intr;

/* The function types a module registered (one reference each), released
 * when the module is freed. Zero-initialise. */
typedef struct wudf_rt_typeset {
  uint32_t *index;
  uint32_t n, cap;
} wudf_rt_typeset;

/* The runtime services handed to every compiled module. Static storage. */
const wudf_shim_rt *wudf_rt_vtable(void);

/* Limits and identity of one guarded call. Owned by the caller; must stay
 * valid during wudf_rt_guarded(). */
typedef struct wudf_rt_call_opts {
  uint32_t timeout_ms;       /* 0: none */
  uint64_t memory_cap_pages; /* cap for memories allocated/grown in the call */
  uint32_t table_cap;        /* cap on table elements */
  /* Where the call says it runs and wudf_rt_request_interrupt() asks it to
   * stop. May be NULL (the call cannot be interrupted). */
  wudf_rt_intr *intr;
  /* Receives a reference to every function type registered during the
   * call (a module's initialisation). May be NULL. */
  wudf_rt_typeset *types;
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
 * Not reentrant: calling it from inside a guarded body returns WUDF_ERR_ARG
 * (and so does a thread whose earlier call a host function left by
 * longjmp, until wudf_runtime_recover()). */
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

/* Stops the call running under `intr`, if one is: it traps with
 * WUDF_TRAP_INTERRUPTED. Does nothing when none runs. Any thread;
 * async-signal-safe (atomics and tgkill). */
void wudf_rt_request_interrupt(wudf_rt_intr *intr);

/* If the calling thread is still inside a call made with `opts` that a host
 * function left by longjmp, ends it as wudf_runtime_recover() does (before
 * the options are freed). */
void wudf_rt_forget_call(const wudf_rt_call_opts *opts);

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

/* Type index for a signature (same signature, same index, across modules,
 * for as long as a reference to it is held). `types` holds the parameters
 * then the results. Takes a reference, which wudf_rt_func_type_release()
 * gives back. Returns 0 when out of memory (0 is never a valid index).
 * Thread-safe. */
uint32_t wudf_rt_func_type(uint32_t nparams, uint32_t nresults,
                           const wasm_rt_type_t *types);
void wudf_rt_func_type_release(uint32_t index);
/* Releases every reference in `set` and empties it. Accepts NULL. */
void wudf_rt_typeset_release(wudf_rt_typeset *set);

#endif /* WUDF_RUNTIME_RT_H */
