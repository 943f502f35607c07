/* Fuzz target: shim generation for any module the reader accepts. The
 * generated C is not compiled here; this checks that generation never
 * crashes, leaks or reads out of bounds, whatever the module declares. */
#include <stddef.h>
#include <stdint.h>

#include "load/wasm_info.h"
#include "translate/shim_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wudf_wasm_info info;
  wudf_wasm_parse_limits limits = {5000, 100000, 1024};
  if (wudf_wasm_parse(data, size, &limits, &info, NULL) != WUDF_OK) return 0;
  wudf_shim_source src;
  wudf_shim_generate(&info, NULL, NULL, 0, &src, NULL);
  wudf_shim_source_reset(&src);
  wudf_wasm_info_reset(&info);
  return 0;
}
