/* Entry point of the wudf command: dispatches to the registered
 * subcommands (cli/cmd_*.c). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct command {
  const char *name, *usage;
  wudf_cli_fn fn;
} command;

static command g_commands[32];
static int g_ncommands;

void wudf_cli_register(const char *name, wudf_cli_fn fn, const char *usage) {
  if (g_ncommands < (int)(sizeof g_commands / sizeof g_commands[0]))
    g_commands[g_ncommands++] = (command){name, usage, fn};
}

void wudf_cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("wudf: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static int cmp_commands(const void *a, const void *b) {
  return strcmp(((const command *)a)->name, ((const command *)b)->name);
}

void wudf_cli_usage(FILE *f, const char *name) {
  for (int i = 0; i < g_ncommands; i++)
    if (!name || !strcmp(name, g_commands[i].name))
      fprintf(f, "%s%s\n", name ? "usage: " : "  ", g_commands[i].usage);
}

static void usage(FILE *f) {
  fprintf(f, "usage: wudf COMMAND [ARGS...]\n\ncommands:\n");
  wudf_cli_usage(f, NULL);
  fprintf(f, "  wudf version\n");
}

int main(int argc, char **argv) {
  qsort(g_commands, (size_t)g_ncommands, sizeof g_commands[0], cmp_commands);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
    printf("wudf %s\n", WUDF_VERSION);
    return 0;
  }
  for (int i = 0; i < g_ncommands; i++)
    if (!strcmp(argv[1], g_commands[i].name))
      return g_commands[i].fn(argc - 1, argv + 1);
  wudf_cli_error("unknown command '%s'", argv[1]);
  usage(stderr);
  return 2;
}
