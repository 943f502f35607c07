/*
 * wudf schema FILE.csv
 *   Prints the columns of a CSV file with the types `wudf run` infers for
 *   them (from the first rows; see --sample-rows), one per line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wudf_run.h"

#define SCHEMA_USAGE "wudf schema [--delimiter C] [--sample-rows N] FILE.csv"

typedef struct schema_args {
  const char *path;
  char delimiter;
  long long sample_rows;
} schema_args;

static int parse_schema_args(int argc, char **argv, schema_args *a) {
  int i = 1;
  for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
    const char *v = argv[i + 1];
    char *end;
    if (!strcmp(argv[i], "--delimiter") && strlen(v) == 1) {
      a->delimiter = v[0];
    } else if (!strcmp(argv[i], "--sample-rows")) {
      errno = 0;
      a->sample_rows = strtoll(v, &end, 10);
      if (errno || *end || end == v || a->sample_rows < 0) return -1;
    } else {
      return -1;
    }
  }
  if (i != argc - 1) return -1;
  a->path = argv[i];
  return 0;
}

static int cmd_schema(int argc, char **argv) {
  schema_args a = {NULL, 0, 0};
  if (parse_schema_args(argc, argv, &a)) {
    wudf_cli_usage(stderr, "schema");
    return 2;
  }
  wudf_run_schema s;
  wudf_error err = {0};
  if (wudf_run_schema_read(a.path, a.delimiter, a.sample_rows, &s, &err)) {
    wudf_cli_error("%s", err.message);
    return 1;
  }
  int width = 6;
  for (uint32_t i = 0; i < s.ncols; i++)
    if ((int)strlen(s.names[i]) > width) width = (int)strlen(s.names[i]);
  printf("%-*s  type\n", width, "column");
  for (uint32_t i = 0; i < s.ncols; i++)
    printf("%-*s  %s\n", width, s.names[i], wudf_type_str(s.types[i]));
  wudf_run_schema_reset(&s);
  return fflush(stdout) == 0 ? 0 : 1;
}

WUDF_CLI_COMMAND("schema", cmd_schema, SCHEMA_USAGE)
