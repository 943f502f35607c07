/* Linear memories: guard-page reservations and the registry the fault
 * handler reads. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "common/error.h"
#include "runtime/rt_internal.h"

/* Fixed size, so the fault handler can scan it without locks. 16384
 * reservations of 8 GiB already fill a 47-bit address space. */
#define RESERVATION_SLOTS 16384u

static _Atomic uintptr_t g_bases[RESERVATION_SLOTS];
static atomic_uint g_high; /* slots at or above this index are empty */

static bool reservation_add(uintptr_t base) {
  for (unsigned i = 0; i < RESERVATION_SLOTS; i++) {
    uintptr_t empty = 0;
    if (!atomic_compare_exchange_strong(&g_bases[i], &empty, base)) continue;
    unsigned high = atomic_load(&g_high);
    while (high < i + 1 &&
           !atomic_compare_exchange_weak(&g_high, &high, i + 1)) {
    }
    return true;
  }
  return false;
}

static void reservation_remove(uintptr_t base) {
  unsigned high = atomic_load(&g_high);
  for (unsigned i = 0; i < high; i++) {
    uintptr_t expected = base;
    if (atomic_compare_exchange_strong(&g_bases[i], &expected, 0)) return;
  }
}

bool wudf_rt_reservation_contains(uintptr_t addr) {
  unsigned high = atomic_load(&g_high);
  for (unsigned i = 0; i < high; i++) {
    uintptr_t base = atomic_load_explicit(&g_bases[i], memory_order_relaxed);
    if (base && addr >= base && addr - base < WUDF_RT_RESERVATION) return true;
  }
  return false;
}

/* Reserves the address space and makes the first `pages` accessible. */
static wudf_status reserve(wasm_rt_memory_t *mem, uint32_t pages,
                           uint32_t max_pages, wudf_error *err) {
  size_t len = (size_t)WUDF_RT_RESERVATION;
  size_t size = (size_t)pages * WUDF_RT_PAGE_SIZE;
  uint8_t *base = mmap(NULL, len, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED)
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "reserving 8 GiB of address space for a memory: %s",
                     strerror(errno));
  wudf_status st = WUDF_OK;
  if (size > 0 && mprotect(base, size, PROT_READ | PROT_WRITE) != 0) {
    st = wudf_fail(err, WUDF_ERR_NOMEM, "committing %u pages of memory: %s",
                   pages, strerror(errno));
    goto fail;
  }
  if (!reservation_add((uintptr_t)base)) {
    st = wudf_fail(err, WUDF_ERR_NOMEM, "too many linear memories (%u)",
                   RESERVATION_SLOTS);
    goto fail;
  }
  *mem = (wasm_rt_memory_t){base, pages, max_pages, (uint32_t)size};
  return WUDF_OK;
fail:
  (void)munmap(base, len);
  return st;
}

static uint64_t cap_pages(void) {
  const wudf_rt_call_opts *opts = wudf_rt_current_opts();
  uint64_t cap = opts ? opts->memory_cap_pages : WUDF_RT_MAX_PAGES;
  return cap < WUDF_RT_MAX_PAGES ? cap : WUDF_RT_MAX_PAGES;
}

void wudf_rt_memory_allocate(wasm_rt_memory_t *mem, uint32_t initial_pages,
                             uint32_t max_pages) {
  memset(mem, 0, sizeof *mem);
  uint64_t cap = cap_pages();
  if (initial_pages > cap)
    wudf_rt_trap_detail(WUDF_TRAP_MEMORY_LIMIT,
                        "memory needs %u pages (%u MiB), cap %llu pages",
                        initial_pages, initial_pages / 16,
                        (unsigned long long)cap);
  wudf_error err = {0};
  if (reserve(mem, initial_pages, max_pages, &err) != WUDF_OK)
    wudf_rt_trap_detail(err.status, "%s", err.message);
}

uint32_t wudf_rt_memory_grow(wasm_rt_memory_t *mem, uint32_t delta) {
  uint32_t old = mem->pages;
  uint64_t want = (uint64_t)old + delta;
  if (!mem->data || want > mem->max_pages) return UINT32_MAX;
  if (want > cap_pages()) {
    wudf_rt_outcome *out = wudf_rt_current_outcome();
    if (out) out->grow_refused = true;
    return UINT32_MAX;
  }
  if (delta == 0) return old;
  /* Pages past `size` were never accessible, so they are still zero. */
  if (mprotect(mem->data + mem->size, (size_t)delta * WUDF_RT_PAGE_SIZE,
               PROT_READ | PROT_WRITE) != 0)
    return UINT32_MAX;
  mem->pages = (uint32_t)want;
  mem->size = (uint32_t)(want * WUDF_RT_PAGE_SIZE);
  return old;
}

wudf_status wudf_rt_memory_new(wasm_rt_memory_t *mem, uint32_t initial_pages,
                               uint32_t max_pages, wudf_error *err) {
  if (!mem) return wudf_fail(err, WUDF_ERR_ARG, "memory_new: NULL memory");
  memset(mem, 0, sizeof *mem);
  if (initial_pages > max_pages)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "memory_new: %u initial pages above the maximum %u",
                     initial_pages, max_pages);
  if (initial_pages > WUDF_RT_MAX_PAGES)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "memory_new: %u pages; at most %u are supported",
                     initial_pages, WUDF_RT_MAX_PAGES);
  return reserve(mem, initial_pages, max_pages, err);
}

void wudf_rt_memory_delete(wasm_rt_memory_t *mem) {
  if (!mem || !mem->data) return;
  reservation_remove((uintptr_t)mem->data);
  /* munmap of a whole mapping we made cannot fail in practice; if it did,
   * the reservation would only leak. */
  (void)munmap(mem->data, (size_t)WUDF_RT_RESERVATION);
  memset(mem, 0, sizeof *mem);
}
