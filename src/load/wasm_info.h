/*
 * Structure of a WebAssembly binary, as read by wudf_wasm_parse().
 *
 * The reader checks everything the later phases rely on: the binary is well
 * formed (magic, version, LEB128s, section order and sizes, UTF-8 names,
 * instruction encoding of every function body), and it uses no feature that
 * wasm2c 1.0.32 cannot translate (SIMD, threads/atomics, shared memory,
 * memory64, tail calls, exceptions, multiple memories). Type checking of
 * function bodies is left to wasm2c's validator, which runs before any C is
 * generated.
 */
#ifndef WUDF_WASM_INFO_H
#define WUDF_WASM_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wudf.h"

/* Value type bytes as encoded in the binary format. */
enum {
  WUDF_WASM_I32 = 0x7f,
  WUDF_WASM_I64 = 0x7e,
  WUDF_WASM_F32 = 0x7d,
  WUDF_WASM_F64 = 0x7c,
  WUDF_WASM_V128 = 0x7b,
  WUDF_WASM_FUNCREF = 0x70,
  WUDF_WASM_EXTERNREF = 0x6f,
};

typedef struct wudf_wasm_name {
  char *str; /* owned, NUL-terminated copy (the name may also contain NULs) */
  uint32_t len;
} wudf_wasm_name;

typedef struct wudf_wasm_functype {
  uint32_t nparams, nresults;
  uint8_t *types; /* owned: nparams parameter bytes, then nresults results */
} wudf_wasm_functype;

typedef struct wudf_wasm_limits {
  uint64_t min;
  uint64_t max; /* valid when has_max */
  bool has_max;
} wudf_wasm_limits;

typedef struct wudf_wasm_tabletype {
  uint8_t elem; /* WUDF_WASM_FUNCREF or WUDF_WASM_EXTERNREF */
  wudf_wasm_limits limits;
} wudf_wasm_tabletype;

typedef struct wudf_wasm_globaltype {
  uint8_t valtype;
  bool mutable_;
} wudf_wasm_globaltype;

typedef struct wudf_wasm_import {
  wudf_wasm_name module, name;
  wudf_extern_kind kind;
  union {
    uint32_t type_index; /* WUDF_EXTERN_FUNC: index into types */
    wudf_wasm_tabletype table;
    wudf_wasm_limits memory; /* in pages */
    wudf_wasm_globaltype global;
  } u;
  uint32_t offset; /* byte offset of the import entry, for messages */
} wudf_wasm_import;

typedef struct wudf_wasm_export {
  wudf_wasm_name name;
  wudf_extern_kind kind;
  uint32_t index; /* in the kind's index space (imports first) */
} wudf_wasm_export;

typedef struct wudf_wasm_custom {
  wudf_wasm_name name;
  uint32_t offset; /* of the payload in the module bytes */
  uint32_t size;   /* of the payload */
} wudf_wasm_custom;

typedef struct wudf_wasm_info {
  uint32_t ntypes;
  wudf_wasm_functype *types;

  uint32_t nimports;
  wudf_wasm_import *imports;
  /* Imports of each kind (they come first in each index space). */
  uint32_t nfunc_imports, ntable_imports, nmemory_imports, nglobal_imports;
  uint32_t *func_import_types; /* owned: type index of each imported function
                                  (nfunc_imports entries) */

  uint32_t nfuncs;      /* defined functions (not imported) */
  uint32_t *func_types; /* owned: type index of each defined function */
  uint32_t ntables;     /* defined tables */
  wudf_wasm_tabletype *tables;
  uint32_t nmemories; /* defined memories */
  wudf_wasm_limits *memories;
  uint32_t nglobals; /* defined globals */
  wudf_wasm_globaltype *globals;

  uint32_t nexports;
  wudf_wasm_export *exports;

  bool has_start;
  uint32_t start;

  uint32_t nelems, ndatas;
  bool has_data_count;

  uint32_t ncustoms;
  wudf_wasm_custom *customs;

  uint64_t code_bytes; /* total size of function bodies */
  /* The code section's payload: offset in the module and size (0, 0 when
   * there is none). DWARF addresses are offsets from its start. */
  uint32_t code_offset, code_size;
  /* Deepest nesting of block/loop/if (and of if's else arm) in any function
   * body; a body with no blocks has depth 0. */
  uint32_t max_block_depth;
  /* Most parameters + declared locals of any defined function. */
  uint32_t max_locals;
} wudf_wasm_info;

typedef struct wudf_wasm_parse_limits {
  uint32_t max_functions;      /* imported + defined; 0: no limit */
  uint32_t max_table_elements; /* on any table's initial size; 0: no limit */
  uint64_t max_memory_pages;   /* on a memory's initial size; 0: no limit */
} wudf_wasm_parse_limits;

/* Reads `bytes` into *info (which it initialises). On failure *info is left
 * reset and `err` says what and where:
 *   WUDF_ERR_MALFORMED    "at byte 0x1f: ..."
 *   WUDF_ERR_UNSUPPORTED  "at byte 0x2a (function 3): SIMD instruction 0xfd..."
 *   WUDF_ERR_LIMIT        "memory 0 starts at 70000 pages; the limit is ..."
 *   WUDF_ERR_INVALID      an index recorded here is out of range (a
 *                         function's type, an export, the start function),
 *                         export names repeat, or a constant expression
 *                         holds a non-constant instruction
 *   WUDF_ERR_NOMEM
 * `limits` may be NULL. */
wudf_status wudf_wasm_parse(const uint8_t *bytes, size_t len,
                            const wudf_wasm_parse_limits *limits,
                            wudf_wasm_info *info, wudf_error *err);

/* Frees everything *info owns and zeroes it. Accepts a zeroed struct. */
void wudf_wasm_info_reset(wudf_wasm_info *info);

/* Type of function `index` in the function index space (imports first), or
 * NULL if out of range. */
const wudf_wasm_functype *wudf_wasm_func_type(const wudf_wasm_info *info,
                                              uint32_t index);

/* Text name of a value type byte ("i32"), "?" when unknown. */
const char *wudf_wasm_valtype_str(uint8_t type);

#endif /* WUDF_WASM_INFO_H */
