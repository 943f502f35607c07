/* libFuzzer target for the debug-info parsers: the `name` section's
 * function names and DWARF line programs (.debug_line with .debug_line_str
 * and .debug_str). A whole module is read as wudf does at load; any other
 * input is cut into the three sections. Nothing may read out of bounds,
 * leak, or fail but for running out of memory, and every result must stay
 * in range. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "load/debuginfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const wudf_wasm_debuginfo *d, uint32_t nfuncs,
                  uint32_t nimports) {
  for (uint32_t i = 0; i < d->nnames; i++)
    if (d->names[i].index >= nfuncs ||
        (i && d->names[i - 1].index >= d->names[i].index) ||
        strlen(d->names[i].name) > WUDF_DEBUGINFO_MAX_NAME)
      __builtin_trap();
  for (uint32_t f = nimports; f < nfuncs; f++) {
    const char *file;
    uint32_t line;
    if (wudf_wasm_debuginfo_line(d, nimports, f, &file, &line) &&
        (!file || line == 0))
      __builtin_trap();
  }
}

static void whole_module(const uint8_t *data, size_t size) {
  wudf_wasm_parse_limits limits = {.max_functions = 50000,
                                   .max_table_elements = 1000000,
                                   .max_memory_pages = 4096};
  wudf_wasm_info info;
  if (wudf_wasm_parse(data, size, &limits, &info, NULL) != WUDF_OK) return;
  wudf_wasm_debuginfo d;
  if (wudf_wasm_debuginfo_read(data, size, &info, &d, NULL) == WUDF_OK)
    check(&d, info.nfunc_imports + info.nfuncs, info.nfunc_imports);
  wudf_wasm_debuginfo_reset(&d);
  wudf_wasm_info_reset(&info);
}

/* Input: two length bytes for the name section and the string section,
 * then the name section, the strings, and the line program. */
static void sections(const uint8_t *data, size_t size) {
  if (size < 2) return;
  size_t nn = data[0], ns = data[1];
  data += 2;
  size -= 2;
  if (nn > size) nn = size;
  if (ns > size - nn) ns = size - nn;
  static const wudf_wasm_body_range bodies[] = {
      {1, 5}, {5, 40}, {40, 41}, {41, 300}, {300, 0x10000}};
  const uint32_t nbodies = sizeof bodies / sizeof bodies[0];
  wudf_dwarf_strings strings = {data + nn, data + nn, ns, ns};
  wudf_wasm_debuginfo d;
  memset(&d, 0, sizeof d);
  if (wudf_wasm_names_parse(data, nn, nbodies + 2, &d, NULL) == WUDF_OK &&
      wudf_dwarf_lines_parse(data + nn + ns, size - nn - ns, &strings, bodies,
                             nbodies, &d, NULL) == WUDF_OK)
    check(&d, nbodies + 2, 2);
  wudf_wasm_debuginfo_reset(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 8 && !memcmp(data, "\0asm", 4))
    whole_module(data, size);
  else
    sections(data, size);
  return 0;
}
