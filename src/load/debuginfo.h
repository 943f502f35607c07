/*
 * What a module says about its own functions, for naming the place of a
 * trap: function names from the `name` custom section, and the source line
 * of each defined function from the DWARF line program in `.debug_line`
 * (versions 2 to 5, as clang emits for wasm32).
 *
 * Both sections are untrusted and optional: whatever cannot be read is left
 * out, and reading them never makes a load fail (but for running out of
 * memory). Every read is bounded by the section it is in, and the work done
 * is linear in the sections' sizes.
 */
#ifndef WUDF_LOAD_DEBUGINFO_H
#define WUDF_LOAD_DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>

#include "load/wasm_info.h"
#include "wudf.h"

/* Longest function or file name kept (longer ones are truncated). */
#define WUDF_DEBUGINFO_MAX_NAME 255u

typedef struct wudf_wasm_func_name {
  uint32_t index; /* in the function index space (imports first) */
  char *name;     /* owned; printable ASCII and UTF-8, NUL-terminated */
} wudf_wasm_func_name;

typedef struct wudf_wasm_func_line {
  uint32_t line; /* 1-based; 0 when unknown */
  uint32_t file; /* index into wudf_wasm_debuginfo.files */
} wudf_wasm_func_line;

typedef struct wudf_wasm_debuginfo {
  uint32_t nnames;
  wudf_wasm_func_name *names; /* owned, sorted by index, no repeats */
  uint32_t nlines;            /* the module's defined functions, or 0 */
  wudf_wasm_func_line *lines; /* owned: line of each defined function */
  uint32_t nfiles;
  char **files; /* owned */
} wudf_wasm_debuginfo;

/* Reads the `name` and `.debug_line` sections of a module that
 * wudf_wasm_parse() accepted into *out (which it initialises). Fails only
 * with WUDF_ERR_NOMEM; *out is then reset. */
wudf_status wudf_wasm_debuginfo_read(const uint8_t *bytes, size_t len,
                                     const wudf_wasm_info *info,
                                     wudf_wasm_debuginfo *out, wudf_error *err);

/* Frees what *info owns and zeroes it. Accepts a zeroed struct. */
void wudf_wasm_debuginfo_reset(wudf_wasm_debuginfo *info);

/* The name of function `index` (imports first), or NULL. */
const char *wudf_wasm_debuginfo_name(const wudf_wasm_debuginfo *info,
                                     uint32_t index);

/* The source line of defined function `index` (imports first): the line of
 * the first row of the line program inside the function's body, which is
 * where the function starts, not the instruction that trapped. False when
 * unknown; *file is "" when the line program names no file. */
bool wudf_wasm_debuginfo_line(const wudf_wasm_debuginfo *info,
                              uint32_t nfunc_imports, uint32_t index,
                              const char **file, uint32_t *line);

/* The parsers, exposed for tests and fuzzing. */

/* Adds the function names of a `name` section's payload to out->names,
 * keeping those below `nfuncs`, one per index. */
wudf_status wudf_wasm_names_parse(const uint8_t *p, size_t n, uint32_t nfuncs,
                                  wudf_wasm_debuginfo *out, wudf_error *err);

/* A defined function's body in the code section: [start, end) as offsets
 * from the start of the section's payload, the offsets DWARF uses for
 * wasm. Sorted by start, not overlapping. */
typedef struct wudf_wasm_body_range {
  uint32_t start, end;
} wudf_wasm_body_range;

/* Sections a line program may take strings from (DWARF 5 line_strp and
 * strp forms); either may be empty. */
typedef struct wudf_dwarf_strings {
  const uint8_t *line_str, *str;
  size_t line_str_len, str_len;
} wudf_dwarf_strings;

/* Runs every line program in `.debug_line` payload p[0..n) and fills
 * out->lines (nbodies entries) and out->files from the first row found in
 * each body. */
wudf_status wudf_dwarf_lines_parse(const uint8_t *p, size_t n,
                                   const wudf_dwarf_strings *strings,
                                   const wudf_wasm_body_range *bodies,
                                   uint32_t nbodies, wudf_wasm_debuginfo *out,
                                   wudf_error *err);

#endif /* WUDF_LOAD_DEBUGINFO_H */
