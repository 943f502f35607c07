/* Fuzz target: wudf.udfs section parsing. Whatever the text, parsing must
 * not crash, leak or read out of bounds; every signature it accepts must
 * format to text that parses back to the same signature, and its
 * WebAssembly type must be computable. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"

static void check_sig(const wudf_udf_sig *sig) {
  char text[1024];
  wudf_udf_sig_format(sig, text, sizeof text);
  wudf_udf_sig back;
  if (wudf_udf_sig_parse(text, strlen(text), &back, NULL) != WUDF_OK)
    __builtin_trap();
  if (strcmp(back.name, sig->name) != 0 || back.nparams != sig->nparams ||
      back.result != sig->result || back.sees_nulls != sig->sees_nulls ||
      memcmp(back.params, sig->params, sig->nparams * sizeof *sig->params))
    __builtin_trap();
  uint8_t params[3 * WUDF_MAX_UDF_PARAMS], result;
  uint32_t n;
  if (!wudf_udf_sig_wasm_type(sig, params, sizeof params, &n, &result))
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  wudf_udf_sig *sigs = NULL;
  uint32_t count = 0;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status st = wudf_udf_sigs_parse_section((const char *)data, size, &sigs,
                                               &count, &err);
  if (st != WUDF_OK) {
    /* Refusals carry a message and leave nothing allocated. */
    if (sigs || count || !err.message[0] || err.status != st) __builtin_trap();
    return 0;
  }
  for (uint32_t i = 0; i < count; i++) check_sig(&sigs[i]);
  free(sigs);
  return 0;
}
