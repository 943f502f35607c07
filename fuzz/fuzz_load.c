/* libFuzzer target for the WebAssembly binary reader: any input must parse
 * or fail cleanly, without reading out of bounds or leaking. */
#include <stddef.h>
#include <stdint.h>

#include "load/wasm_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wudf_wasm_parse_limits limits = {
      .max_functions = 50000,
      .max_table_elements = 1000000,
      .max_memory_pages = 4096,
  };
  wudf_wasm_info info;
  wudf_error err;
  wudf_error_init(&err);
  if (wudf_wasm_parse(data, size, &limits, &info, &err) == WUDF_OK) {
    /* Touch what later phases read. */
    for (uint32_t i = 0; i < info.nexports; i++)
      if (info.exports[i].kind == WUDF_EXTERN_FUNC &&
          !wudf_wasm_func_type(&info, info.exports[i].index))
        __builtin_trap();
  }
  wudf_wasm_info_reset(&info);
  return 0;
}
