/* Environment variables of the wudf command, mapped onto library settings
 * (see cli.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wudf_compile.h"

/* `*field` from $name when the command line did not set it. */
static void from_env(const char **field, const char *name) {
  const char *v = getenv(name);
  if (!*field && v && *v) *field = v;
}

static bool env_flag(const char *name) {
  const char *v = getenv(name);
  return v && (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"));
}

void wudf_cli_engine_env(wudf_engine_config *config) {
  from_env(&config->cache_dir, "WUDF_CACHE_DIR");
  from_env(&config->cc, "WUDF_CC");
  from_env(&config->wasm2c, "WUDF_WASM2C");
}

void wudf_cli_compile_env(wudf_compile_options *options) {
  from_env(&options->cache_dir, "WUDF_CACHE_DIR");
  from_env(&options->include_dir, "WUDF_INCLUDE_DIR");
  from_env(&options->clang, "WUDF_CLANG");
  from_env(&options->wat2wasm, "WUDF_WAT2WASM");
  from_env(&options->bwrap, "WUDF_BWRAP");
  if (env_flag("WUDF_UNSANDBOXED_COMPILE")) options->unsandboxed = true;
}
