/*
 * The interface between libwudf and a compiled module (shim ABI).
 *
 * Every compiled module is one shared object built from one translation unit:
 * wasm2c's output for the module, followed by a shim that wudf generates from
 * the validated module. The shared object exports exactly one symbol,
 * wudf_shim_entry_v1, and has no other undefined symbols than libc/libm:
 *   - the wasm2c runtime functions (wasm_rt_*) the generated code calls are
 *     defined by the shim and forward to the host through wudf_shim_rt;
 *   - every import the generated code references (Z_<module>Z_<name>) is
 *     defined by the shim and reads a slot that the host fills in before
 *     instantiation;
 *   - every export is described by a wudf_shim_export entry.
 *
 * This file is compiled into libwudf and also pasted verbatim at the top of
 * every generated shim, so it must stay plain C with no includes other than
 * wasm-rt.h (which the generated code includes first). Changing it changes the
 * cache key of every module.
 */
#ifndef WUDF_SHIM_ABI_H
#define WUDF_SHIM_ABI_H

#define WUDF_SHIM_ABI_VERSION 4

/* A value crossing the shim, untyped; the type is known from the signature. */
typedef union wudf_shim_val {
  uint32_t i32;
  uint64_t i64;
  float f32;
  double f64;
  wasm_rt_externref_t externref;
  wasm_rt_funcref_t funcref;
} wudf_shim_val;

/* Runtime services the host provides to the generated code. */
typedef struct wudf_shim_rt {
  uint32_t abi_version;
  void (*trap)(wasm_rt_trap_t code) __attribute__((noreturn));
  /* Traps with the precise kind of a failed call_indirect. */
  void (*call_indirect_trap)(const wasm_rt_funcref_table_t *table,
                             uint32_t index, uint32_t expected_type)
      __attribute__((noreturn));
  uint32_t (*register_func_type)(uint32_t nparams, uint32_t nresults,
                                 const wasm_rt_type_t *types);
  void (*allocate_memory)(wasm_rt_memory_t *mem, uint32_t initial_pages,
                          uint32_t max_pages);
  uint32_t (*grow_memory)(wasm_rt_memory_t *mem, uint32_t delta);
  void (*free_memory)(wasm_rt_memory_t *mem);
  void (*allocate_funcref_table)(wasm_rt_funcref_table_t *t, uint32_t elements,
                                 uint32_t max_elements);
  void (*allocate_externref_table)(wasm_rt_externref_table_t *t,
                                   uint32_t elements, uint32_t max_elements);
  void (*free_funcref_table)(wasm_rt_funcref_table_t *t);
  void (*free_externref_table)(wasm_rt_externref_table_t *t);
  uint32_t (*grow_funcref_table)(wasm_rt_funcref_table_t *t, uint32_t delta,
                                 wasm_rt_funcref_t init);
  uint32_t (*grow_externref_table)(wasm_rt_externref_table_t *t, uint32_t delta,
                                   wasm_rt_externref_t init);
  /* Records where the running call is about to trap: the return address
   * of the generated code's call to wasm_rt_trap (or to the call_indirect
   * trap), read back after the call to name the function. */
  void (*note_trap_pc)(const void *pc);
} wudf_shim_rt;

/* One resolved import. For a function, `fn` (if not NULL) is called as
 *   R fn(void *ctx, P1, P2, ...)
 * with the import's C signature (the same shape as an exported function of
 * another module, whose ctx is that module's instance); otherwise `generic`
 * is called with the arguments and results packed. For a memory, table or
 * global, `ptr` points to its wasm_rt_memory_t / table / value storage. */
typedef struct wudf_shim_import {
  void (*fn)(void);
  void *ctx;
  void (*generic)(void *ctx, const wudf_shim_val *args, wudf_shim_val *results);
  void *ptr;
} wudf_shim_import;

/* The imports of one instance. `self` points to the struct itself: the
 * generated code hands import thunks either this struct's address or the
 * address of the instance field that holds it (wasm2c 1.0.32 does the latter
 * for imported functions placed in tables by element segments), and one
 * dereference yields the struct in both cases. */
typedef struct wudf_shim_imports {
  struct wudf_shim_imports *self;
  wudf_shim_import slot[];
} wudf_shim_imports;

typedef struct wudf_shim_import_desc {
  const char *module_name;
  const char *name;
  uint32_t module_len, name_len;
  uint32_t kind; /* 0 func, 1 table, 2 memory, 3 global (wudf_extern_kind) */
} wudf_shim_import_desc;

typedef struct wudf_shim_export {
  const char *name;
  uint32_t name_len;
  uint32_t kind;
  /* Functions: calls the export with packed arguments and results. */
  void (*invoke)(void *instance, const wudf_shim_val *args,
                 wudf_shim_val *results);
  /* Functions: the export itself, R f(void *instance, P1, ...). */
  void (*fn)(void);
  /* Memories, tables, globals: pointer to the storage in `instance`. */
  void *(*get)(void *instance);
} wudf_shim_export;

#define WUDF_SHIM_MAX_PARAMS 16

/* One batch for a UDF's batch loop. Row i of parameter j is read from
 * values[j]: element i of a fixed-width array, bit (bit_offset[j] + i) of a
 * bool bitmap, or for utf8 the string at guest address
 * str_base[j] + offsets[i] of length offsets[i + 1] - offsets[i], where
 * offsets = values[j] (int32). */
typedef struct wudf_shim_batch {
  int64_t n; /* rows; the first is at a multiple of 8 in the bitmaps */
  const void *values[WUDF_SHIM_MAX_PARAMS];
  int64_t bit_offset[WUDF_SHIM_MAX_PARAMS];
  uint32_t str_base[WUDF_SHIM_MAX_PARAMS];
  /* Strict UDFs: bit i clear = row i has a NULL argument and is skipped.
   * NULL when no row has one. */
  const uint8_t *valid;
  /* UDFs that see NULLs: parameter j of row i is NULL when
   * param_valid[j] is set and its bit (param_valid_offset[j] + i) is
   * clear. */
  const uint8_t *param_valid[WUDF_SHIM_MAX_PARAMS];
  int64_t param_valid_offset[WUDF_SHIM_MAX_PARAMS];
  /* Results of fixed width: an array of the result type, every element
   * written (0 for skipped rows); bool: a bitmap, every byte written. */
  void *out;
  /* utf8 results are copied from `mem` into str_data, row i's bytes ending
   * at str_offsets[i + 1]; str_offsets[0] is where the batch starts. When a
   * result does not fit in str_cap bytes or lies outside memory, the loop
   * calls put_string(), which stores it (growing str_data) and returns the
   * new end, or traps. UTF-8 is checked by the host after the loop. */
  wasm_rt_memory_t *mem;
  int32_t *str_offsets;
  uint8_t *str_data;
  uint64_t str_cap;
  uint64_t (*put_string)(struct wudf_shim_batch *b, int64_t row, uint32_t ptr,
                         uint32_t len, uint64_t end);
  void *host;
  /* Non-zero: store each row's index in `row` before calling the UDF, so
   * that a trap names its row. The loop is faster without. */
  int32_t track_rows;
  /* The row being computed, when track_rows is set or put_string() was
   * called; -1 otherwise. */
  volatile int64_t row;
} wudf_shim_batch;

typedef struct wudf_shim_udf {
  const char *name;
  uint32_t export_index;
  void (*batch)(void *instance, wudf_shim_batch *b);
} wudf_shim_udf;

/* Where compiled code lies, to name the WebAssembly function a native
 * address belongs to: the entry of a defined function, or of a shim
 * function that runs (and may have inlined) one function's code: an
 * export's wrapper and invoker, a UDF's batch loop. Unsorted. */
typedef struct wudf_shim_code {
  void (*addr)(void);
  uint32_t func_index; /* in the function index space (imports first) */
} wudf_shim_code;

typedef struct wudf_shim_module {
  uint32_t abi_version;
  uint64_t instance_size;
  uint32_t nimports; /* distinct (module, name) pairs, in first-seen order */
  const wudf_shim_import_desc *imports;
  uint32_t nexports;
  const wudf_shim_export *exports; /* in the module's export order */
  /* Registers function types; call once before the first instantiate. */
  void (*init_module)(void);
  /* Instantiates into zeroed `instance` storage: globals, memories, tables,
   * segments, start function. Must run under the host's trap guard. */
  void (*instantiate)(void *instance, wudf_shim_imports *imports);
  void (*free_instance)(void *instance);
  uint32_t nudfs;
  const wudf_shim_udf *udfs; /* in the order the host gave them */
  uint32_t ncode;
  const wudf_shim_code *code;
} wudf_shim_module;

/* The one symbol a compiled module exports. Stores `rt` for the generated
 * code's use and returns the module's description. */
typedef const wudf_shim_module *(*wudf_shim_entry_fn)(const wudf_shim_rt *rt);
#define WUDF_SHIM_ENTRY_SYMBOL "wudf_shim_entry_v1"

#endif /* WUDF_SHIM_ABI_H */
