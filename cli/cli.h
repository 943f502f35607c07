/* The wudf command: each cli/cmd_*.c file registers one subcommand. */
#ifndef WUDF_CLI_H
#define WUDF_CLI_H

#include <stdio.h>

#include "wudf.h"

/* A subcommand: argv[0] is the subcommand's name. Returns the exit status
 * (0 success, 1 failure, 2 usage error). */
typedef int (*wudf_cli_fn)(int argc, char **argv);

void wudf_cli_register(const char *name, wudf_cli_fn fn, const char *usage);

#define WUDF_CLI_COMMAND(name, fn, usage)                            \
  __attribute__((constructor)) static void wudf_cli_reg_##fn(void) { \
    wudf_cli_register(name, fn, usage);                              \
  }

/* Prints "wudf: <message>" to stderr. */
void wudf_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the usage of command `name` to `f`. */
void wudf_cli_usage(FILE *f, const char *name);

/* The environment variables of the wudf command (the library reads none),
 * copied into the settings the command line left unset: WUDF_CACHE_DIR,
 * WUDF_CC and WUDF_WASM2C for an engine; WUDF_CACHE_DIR,
 * WUDF_UNSANDBOXED_COMPILE (1, yes or true), WUDF_INCLUDE_DIR, WUDF_CLANG,
 * WUDF_WAT2WASM and WUDF_BWRAP for a compile. The strings are borrowed
 * from the environment (cli/env.c). */
struct wudf_compile_options;
void wudf_cli_engine_env(wudf_engine_config *config);
void wudf_cli_compile_env(struct wudf_compile_options *options);

#endif
