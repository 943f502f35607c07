/* Process-wide registry of function signatures: the index wasm2c compares in
 * call_indirect must be equal exactly when the signatures are. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

typedef struct functype {
  uint32_t nparams, nresults;
  wasm_rt_type_t *types; /* nparams + nresults */
  uint64_t hash;
} functype;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static functype *g_types; /* type index i + 1 is g_types[i] */
static uint32_t g_count, g_cap;
/* Open addressing: 0 empty, else a type index. Size a power of two, at
 * least twice g_count. */
static uint32_t *g_slots;
static uint32_t g_nslots;

static uint64_t hash_sig(uint32_t np, uint32_t nr, const wasm_rt_type_t *ty) {
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  uint64_t words[2] = {np, nr};
  for (int i = 0; i < 2; i++) h = (h ^ words[i]) * 1099511628211u;
  for (uint64_t i = 0; i < (uint64_t)np + nr; i++)
    h = (h ^ (uint64_t)ty[i]) * 1099511628211u;
  return h;
}

static bool same(const functype *f, uint32_t np, uint32_t nr,
                 const wasm_rt_type_t *ty, uint64_t h) {
  return f->hash == h && f->nparams == np && f->nresults == nr &&
         (np + nr == 0 ||
          memcmp(f->types, ty, ((size_t)np + nr) * sizeof *ty) == 0);
}

/* Slot holding the index of this signature, or the empty slot where it
 * would go. */
static uint32_t *probe(uint32_t np, uint32_t nr, const wasm_rt_type_t *ty,
                       uint64_t h) {
  uint32_t mask = g_nslots - 1;
  for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
    uint32_t idx = g_slots[i];
    if (idx == 0 || same(&g_types[idx - 1], np, nr, ty, h)) return &g_slots[i];
  }
}

static bool rehash(uint32_t nslots) {
  uint32_t *slots = calloc(nslots, sizeof *slots);
  if (!slots) return false;
  free(g_slots);
  g_slots = slots;
  g_nslots = nslots;
  for (uint32_t i = 0; i < g_count; i++) {
    const functype *f = &g_types[i];
    *probe(f->nparams, f->nresults, f->types, f->hash) = i + 1;
  }
  return true;
}

/* Room for one more type, in both the array and the hash table. */
static bool reserve_one(void) {
  if (g_count >= UINT32_MAX / 4) return false;
  if (g_count == g_cap) {
    uint32_t cap = g_cap ? g_cap * 2 : 64;
    functype *p = realloc(g_types, (size_t)cap * sizeof *p);
    if (!p) return false;
    g_types = p;
    g_cap = cap;
  }
  if ((uint64_t)(g_count + 1) * 2 > g_nslots)
    return rehash(g_nslots ? g_nslots * 2 : 128);
  return true;
}

static uint32_t add(uint32_t np, uint32_t nr, const wasm_rt_type_t *ty,
                    uint64_t h) {
  size_t n = (size_t)np + nr;
  wasm_rt_type_t *copy = malloc(n ? n * sizeof *copy : 1);
  if (!copy || !reserve_one()) {
    free(copy);
    return 0;
  }
  if (n) memcpy(copy, ty, n * sizeof *copy);
  g_types[g_count] = (functype){np, nr, copy, h};
  g_count++;
  *probe(np, nr, ty, h) = g_count;
  return g_count;
}

uint32_t wudf_rt_func_type(uint32_t nparams, uint32_t nresults,
                           const wasm_rt_type_t *types) {
  if ((uint64_t)nparams + nresults > 0 && !types) return 0;
  if ((uint64_t)nparams + nresults > UINT32_MAX / sizeof *types) return 0;
  uint64_t h = hash_sig(nparams, nresults, types);
  if (pthread_mutex_lock(&g_lock) != 0) return 0;
  uint32_t idx = 0;
  if (g_nslots) idx = *probe(nparams, nresults, types, h);
  if (idx == 0) idx = add(nparams, nresults, types, h);
  (void)pthread_mutex_unlock(&g_lock);
  return idx;
}
