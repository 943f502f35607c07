/* The --udf FILE option shared by `wudf run` and `wudf bench`: a .wasm
 * module is read as it is; C, C++ and WAT sources are compiled first. */
#ifndef WUDF_CLI_UDF_FILE_H
#define WUDF_CLI_UDF_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "wudf.h"
#include "wudf_run.h"

/* What a UDF file is, from its extension. */
typedef enum wudf_cli_udf_kind {
  WUDF_CLI_UDF_WASM,
  WUDF_CLI_UDF_C,
  WUDF_CLI_UDF_CPP,
  WUDF_CLI_UDF_WAT,
  WUDF_CLI_UDF_UNKNOWN,
} wudf_cli_udf_kind;

wudf_cli_udf_kind wudf_cli_udf_kind_of(const char *path);

/* Reads a whole file; NULL (and a message on stderr) on failure. The
 * caller frees the result. */
uint8_t *wudf_cli_read_file(const char *path, size_t *len);

/* The WebAssembly bytes of `path`: read (.wasm) or compiled (.c, .cpp,
 * .wat) with wudf_compile_file(), which exports `function` and describes
 * it in the module's wudf.udfs section; diagnostics go to stderr.
 * `cache_dir` may be NULL. NULL on failure, after a message. */
uint8_t *wudf_cli_udf_bytes(const char *path, const char *function,
                            const char *cache_dir, size_t *len);

/* Loads `path` as a module for a run of `function` over columns of
 * `col_types` (wudf_run_module_load()). Returns 0, or 1 after a message. */
int wudf_cli_udf_load(wudf_engine *engine, const char *path,
                      const char *function, const wudf_type *col_types,
                      uint32_t ncols, wudf_run_op op, wudf_type result,
                      wudf_module **out);

#endif
