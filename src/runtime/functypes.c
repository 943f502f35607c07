/* Process-wide registry of function signatures: the index wasm2c compares in
 * call_indirect must be equal exactly when the signatures are.
 *
 * Each type counts the references modules hold (one per registration).
 * wudf_runtime_trim() drops the types no module holds; their indices are
 * then reused. An index only changes meaning after every module that
 * compared against it has been freed, so no live table can hold it. */
#include <pthread.h>
#include <string.h>

#include "common/alloc.h"
#include "runtime/rt_internal.h"

typedef struct functype {
  uint32_t nparams, nresults;
  wasm_rt_type_t *types; /* nparams + nresults; NULL: a free entry */
  uint64_t hash;
  uint64_t refs;
  uint32_t next_free; /* free entries: the next free index, or 0 */
} functype;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static functype *g_types;       /* type index i + 1 is g_types[i] */
static uint32_t g_count, g_cap; /* entries used (live or free), allocated */
static uint32_t g_live;         /* entries holding a type */
static uint32_t g_free;         /* first free entry's index, or 0 */
/* Open addressing: 0 empty, else a type index. Size a power of two, at
 * least twice g_live. */
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
  return f->types && f->hash == h && f->nparams == np && f->nresults == nr &&
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

/* Fills the (empty) hash table from the live entries. */
static void reindex(void) {
  for (uint32_t i = 0; i < g_count; i++) {
    const functype *f = &g_types[i];
    if (f->types) *probe(f->nparams, f->nresults, f->types, f->hash) = i + 1;
  }
}

static bool rehash(uint32_t nslots) {
  uint32_t *slots = wudf_calloc(nslots, sizeof *slots);
  if (!slots) return false;
  wudf_free(g_slots);
  g_slots = slots;
  g_nslots = nslots;
  reindex();
  return true;
}

/* Room for one more type, in both the array and the hash table. */
static bool reserve_one(void) {
  if (g_count >= UINT32_MAX / 4) return false;
  if (g_free == 0 && g_count == g_cap) {
    uint32_t cap = g_cap ? g_cap * 2 : 64;
    functype *p = wudf_realloc(g_types, (size_t)cap * sizeof *p);
    if (!p) return false;
    g_types = p;
    g_cap = cap;
  }
  if ((uint64_t)(g_live + 1) * 2 > g_nslots)
    return rehash(g_nslots ? g_nslots * 2 : 128);
  return true;
}

/* An entry for a new type: a free one, else the next unused. */
static uint32_t take_entry(void) {
  if (g_free == 0) return ++g_count;
  uint32_t idx = g_free;
  g_free = g_types[idx - 1].next_free;
  return idx;
}

static uint32_t add(uint32_t np, uint32_t nr, const wasm_rt_type_t *ty,
                    uint64_t h) {
  size_t n = (size_t)np + nr;
  wasm_rt_type_t *copy = wudf_malloc(n ? n * sizeof *copy : 1);
  if (!copy || !reserve_one()) {
    wudf_free(copy);
    return 0;
  }
  if (n) memcpy(copy, ty, n * sizeof *copy);
  uint32_t idx = take_entry();
  g_types[idx - 1] = (functype){np, nr, copy, h, 0, 0};
  g_live++;
  *probe(np, nr, ty, h) = idx;
  return idx;
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
  if (idx != 0) g_types[idx - 1].refs++;
  (void)pthread_mutex_unlock(&g_lock);
  return idx;
}

void wudf_rt_func_type_release(uint32_t index) {
  if (index == 0 || pthread_mutex_lock(&g_lock) != 0) return;
  if (index <= g_count && g_types[index - 1].types &&
      g_types[index - 1].refs > 0)
    g_types[index - 1].refs--;
  (void)pthread_mutex_unlock(&g_lock);
}

bool wudf_rt_typeset_add(wudf_rt_typeset *set, uint32_t index) {
  if (set->n == set->cap) {
    uint32_t cap = set->cap ? set->cap * 2 : 16;
    if (cap < set->cap) return false;
    uint32_t *p = wudf_realloc(set->index, (size_t)cap * sizeof *p);
    if (!p) return false;
    set->index = p;
    set->cap = cap;
  }
  set->index[set->n++] = index;
  return true;
}

void wudf_rt_typeset_release(wudf_rt_typeset *set) {
  if (!set) return;
  for (uint32_t i = 0; i < set->n; i++)
    wudf_rt_func_type_release(set->index[i]);
  wudf_free(set->index);
  memset(set, 0, sizeof *set);
}

/* ---- Trimming ----------------------------------------------------------- */

static void free_all(void) {
  wudf_free(g_types);
  wudf_free(g_slots);
  g_types = NULL;
  g_slots = NULL;
  g_count = g_cap = g_live = g_free = g_nslots = 0;
}

/* Drops the unreferenced types, chaining their entries as free. */
static size_t drop_unused(void) {
  size_t dropped = 0;
  g_free = 0;
  for (uint32_t i = g_count; i-- > 0;) {
    functype *f = &g_types[i];
    if (f->types && f->refs == 0) {
      wudf_free(f->types);
      f->types = NULL;
      g_live--;
      dropped++;
    }
    if (!f->types) {
      f->next_free = g_free;
      g_free = i + 1;
    }
  }
  return dropped;
}

size_t wudf_runtime_trim(void) {
  if (pthread_mutex_lock(&g_lock) != 0) return 0;
  size_t dropped = drop_unused();
  if (g_live == 0) {
    free_all();
  } else if (dropped > 0) {
    memset(g_slots, 0, (size_t)g_nslots * sizeof *g_slots);
    reindex();
  }
  (void)pthread_mutex_unlock(&g_lock);
  return dropped;
}
