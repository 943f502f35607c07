/*
 * Naming where a call trapped: the runtime records the native address of
 * the trap (a faulting instruction, or the return address of generated
 * code's call into a trap, minus one); the compiled module lists where its
 * functions start (shim_abi.h, wudf_shim_code). The function is the one
 * starting last at or before the address. A WebAssembly function the C
 * compiler inlined into another is reported as the one it was inlined
 * into.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/alloc.h"
#include "common/error.h"

static uintptr_t code_addr(const wudf_shim_code *c) {
  uintptr_t a;
  memcpy(&a, &c->addr, sizeof a);
  return a;
}

static int cmp_code(const void *x, const void *y) {
  uintptr_t a = code_addr(x), b = code_addr(y);
  return (a > b) - (a < b);
}

wudf_status wudf_module_index_code(wudf_module *m, wudf_error *err) {
  uint32_t n = m->desc->code ? m->desc->ncode : 0;
  uint32_t nfuncs = m->info.nfunc_imports + m->info.nfuncs;
  m->code_map = wudf_malloc((n ? n : 1) * sizeof *m->code_map);
  if (!m->code_map)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for the code map");
  m->ncode = 0;
  for (uint32_t i = 0; i < n; i++)
    if (m->desc->code[i].func_index < nfuncs && m->desc->code[i].addr)
      m->code_map[m->ncode++] = m->desc->code[i];
  qsort(m->code_map, m->ncode, sizeof *m->code_map, cmp_code);
  return WUDF_OK;
}

/* Whether pc lies in the module's shared object. */
static bool in_module(const wudf_module *m, uintptr_t pc) {
  Dl_info at, mine;
  void *p = (void *)pc, *d = (void *)m->desc;
  if (!dladdr(p, &at) || !dladdr(d, &mine)) return false;
  return at.dli_fbase == mine.dli_fbase;
}

/* Index of the function whose code holds pc, or -1. */
static int64_t function_at(const wudf_module *m, uintptr_t pc) {
  if (!m->ncode || pc < code_addr(&m->code_map[0]) || !in_module(m, pc))
    return -1;
  uint32_t lo = 0, hi = m->ncode; /* the last entry <= pc is at lo - 1 */
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (code_addr(&m->code_map[mid]) <= pc)
      lo = mid + 1;
    else
      hi = mid;
  }
  return m->code_map[lo - 1].func_index;
}

void wudf_locate_trap(const wudf_module *m, wudf_error *err) {
  /* Only a trap set the address during the call; other failures (a call
   * refused before it started) would find the previous call's. */
  if (!m || !err || !wudf_status_is_trap(err->status)) return;
  int64_t f = function_at(m, wudf_rt_last_trap_pc());
  if (f < 0) return;
  const char *name = wudf_wasm_debuginfo_name(&m->debug, (uint32_t)f);
  if (name)
    wudf_error_set_name(err->wasm_function, name);
  else
    snprintf(err->wasm_function, sizeof err->wasm_function, "$%u", (unsigned)f);
  const char *file;
  uint32_t line;
  if (wudf_wasm_debuginfo_line(&m->debug, m->info.nfunc_imports, (uint32_t)f,
                               &file, &line)) {
    wudf_error_set_name(err->source_file, file);
    err->source_line = line;
  }
  wudf_error_format(err);
}
