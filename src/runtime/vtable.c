/* The wudf_shim_rt handed to compiled modules. Entries that allocate or lock
 * run inside a host bracket, so that a time-limit signal cannot unwind them
 * half-way (leaving a lock held or a reservation unregistered). */
#include "runtime/rt_internal.h"

static wudf_status trap_status(wasm_rt_trap_t code) {
  switch (code) {
    case WASM_RT_TRAP_OOB:
      return WUDF_TRAP_OOB;
    case WASM_RT_TRAP_INT_OVERFLOW:
      return WUDF_TRAP_INT_OVERFLOW;
    case WASM_RT_TRAP_DIV_BY_ZERO:
      return WUDF_TRAP_DIV_BY_ZERO;
    case WASM_RT_TRAP_INVALID_CONVERSION:
      return WUDF_TRAP_INVALID_CONVERSION;
    case WASM_RT_TRAP_UNREACHABLE:
      return WUDF_TRAP_UNREACHABLE;
    case WASM_RT_TRAP_CALL_INDIRECT:
      return WUDF_TRAP_INDIRECT_TYPE;
    case WASM_RT_TRAP_EXHAUSTION:
      return WUDF_TRAP_STACK_EXHAUSTED;
    default:
      return WUDF_TRAP_UNREACHABLE; /* NONE, exceptions: not emitted */
  }
}

__attribute__((noreturn)) static void vt_trap(wasm_rt_trap_t code) {
  wudf_status st = trap_status(code);
  if (st == WUDF_TRAP_UNREACHABLE && code != WASM_RT_TRAP_UNREACHABLE)
    wudf_rt_trap_detail(st, "unexpected wasm2c trap code %d", (int)code);
  wudf_rt_trap(st);
}

__attribute__((noreturn)) static void vt_call_indirect_trap(
    const wasm_rt_funcref_table_t *table, uint32_t index,
    uint32_t expected_type) {
  (void)expected_type;
  if (!table || index >= table->size || !table->data[index].func)
    wudf_rt_trap(WUDF_TRAP_UNDEFINED_ELEMENT);
  wudf_rt_trap(WUDF_TRAP_INDIRECT_TYPE);
}

/* A 0 here would make unrelated signatures compare equal in call_indirect,
 * so inside a call running out of memory traps. */
/* The reference the registration takes belongs to the running call's type
 * set (the module being initialised), which releases it when freed. */
static uint32_t vt_register_func_type(uint32_t nparams, uint32_t nresults,
                                      const wasm_rt_type_t *types) {
  const wudf_rt_call_opts *opts = wudf_rt_current_opts();
  wudf_rt_host_enter();
  uint32_t idx = wudf_rt_func_type(nparams, nresults, types);
  if (idx != 0 && opts && opts->types &&
      !wudf_rt_typeset_add(opts->types, idx)) {
    wudf_rt_func_type_release(idx);
    idx = 0;
  }
  wudf_rt_host_leave();
  if (idx == 0 && opts)
    wudf_rt_trap_detail(WUDF_ERR_NOMEM, "registering a function type");
  return idx;
}

static void vt_allocate_memory(wasm_rt_memory_t *mem, uint32_t initial,
                               uint32_t max) {
  wudf_rt_host_enter();
  wudf_rt_memory_allocate(mem, initial, max);
  wudf_rt_host_leave();
}

static uint32_t vt_grow_memory(wasm_rt_memory_t *mem, uint32_t delta) {
  wudf_rt_host_enter();
  uint32_t old = wudf_rt_memory_grow(mem, delta);
  wudf_rt_host_leave();
  return old;
}

static void vt_free_memory(wasm_rt_memory_t *mem) {
  wudf_rt_host_enter();
  wudf_rt_memory_delete(mem);
  wudf_rt_host_leave();
}

static void vt_allocate_funcref_table(wasm_rt_funcref_table_t *t,
                                      uint32_t elements, uint32_t max) {
  wudf_rt_host_enter();
  wudf_rt_funcref_table_allocate(t, elements, max);
  wudf_rt_host_leave();
}

static void vt_allocate_externref_table(wasm_rt_externref_table_t *t,
                                        uint32_t elements, uint32_t max) {
  wudf_rt_host_enter();
  wudf_rt_externref_table_allocate(t, elements, max);
  wudf_rt_host_leave();
}

static void vt_free_funcref_table(wasm_rt_funcref_table_t *t) {
  wudf_rt_host_enter();
  wudf_rt_funcref_table_delete(t);
  wudf_rt_host_leave();
}

static void vt_free_externref_table(wasm_rt_externref_table_t *t) {
  wudf_rt_host_enter();
  wudf_rt_externref_table_delete(t);
  wudf_rt_host_leave();
}

static uint32_t vt_grow_funcref_table(wasm_rt_funcref_table_t *t,
                                      uint32_t delta, wasm_rt_funcref_t init) {
  wudf_rt_host_enter();
  uint32_t old = wudf_rt_funcref_table_grow(t, delta, init);
  wudf_rt_host_leave();
  return old;
}

static uint32_t vt_grow_externref_table(wasm_rt_externref_table_t *t,
                                        uint32_t delta,
                                        wasm_rt_externref_t init) {
  wudf_rt_host_enter();
  uint32_t old = wudf_rt_externref_table_grow(t, delta, init);
  wudf_rt_host_leave();
  return old;
}

static const wudf_shim_rt k_vtable = {
    .abi_version = WUDF_SHIM_ABI_VERSION,
    .trap = vt_trap,
    .call_indirect_trap = vt_call_indirect_trap,
    .register_func_type = vt_register_func_type,
    .allocate_memory = vt_allocate_memory,
    .grow_memory = vt_grow_memory,
    .free_memory = vt_free_memory,
    .allocate_funcref_table = vt_allocate_funcref_table,
    .allocate_externref_table = vt_allocate_externref_table,
    .free_funcref_table = vt_free_funcref_table,
    .free_externref_table = vt_free_externref_table,
    .grow_funcref_table = vt_grow_funcref_table,
    .grow_externref_table = vt_grow_externref_table,
    .note_trap_pc = wudf_rt_note_trap_pc,
};

const wudf_shim_rt *wudf_rt_vtable(void) {
  return &k_vtable;
}
