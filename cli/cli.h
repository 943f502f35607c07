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

#endif
