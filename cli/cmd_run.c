/*
 * wudf run: a MAP or FILTER UDF over a CSV file (the engine is wudf_run()
 * in include/wudf_run.h; this file parses options, loads the UDF and draws
 * the progress bar).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "udf_file.h"
#include "wudf_run.h"

#define RUN_USAGE                                                           \
  "wudf run --data FILE.csv --udf FILE.{c,cpp,wat,wasm} --function NAME\n"  \
  "                --columns COL[,COL...] (--map TYPE [--name COLUMN] | "   \
  "--filter)\n"                                                             \
  "                [--output FILE] [--format csv|jsonl|table] [--limit N] " \
  "[--threads N]\n"                                                         \
  "                [--memory-limit MiB] [--timeout SECONDS] "               \
  "[--batch-rows N] [--delimiter C]\n"                                      \
  "                [--sample-rows N] [--on-error fail|null|skip] "          \
  "[--cache-dir DIR]\n"                                                     \
  "                [--no-progress]\n"                                       \
  "      TYPE: int, bigint, float, double, boolean, string. The limits "    \
  "apply to each batch."

typedef struct run_args {
  const char *data, *udf, *function, *columns, *map, *name, *output;
  const char *format, *cache_dir;
  bool filter, no_progress;
  wudf_on_error on_error;
  long long limit, threads, memory_mib, batch_rows, sample_rows;
  double timeout_s;
  char delimiter;
} run_args;

/* ---- options ------------------------------------------------------------ */

static int parse_ll(const char *s, long long min, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s || v < min) return -1;
  *out = v;
  return 0;
}

static int bad_value(const char *opt, const char *v) {
  wudf_cli_error("run: invalid value '%s' for %s", v, opt);
  return -1;
}

static int parse_number(int opt, const char *v, run_args *a) {
  char *end;
  switch (opt) {
    case 'l':
      return parse_ll(v, 0, &a->limit) ? bad_value("--limit", v) : 0;
    case 't':
      return parse_ll(v, 1, &a->threads) ? bad_value("--threads", v) : 0;
    case 'M':
      return parse_ll(v, 1, &a->memory_mib) ? bad_value("--memory-limit", v)
                                            : 0;
    case 'b':
      return parse_ll(v, 1, &a->batch_rows) ? bad_value("--batch-rows", v) : 0;
    case 's':
      return parse_ll(v, 1, &a->sample_rows) ? bad_value("--sample-rows", v)
                                             : 0;
    case 'T':
      errno = 0;
      a->timeout_s = strtod(v, &end);
      if (errno || *end || end == v || !(a->timeout_s >= 0) ||
          a->timeout_s > 4e6)
        return bad_value("--timeout", v);
      return 0;
    default:
      return -1;
  }
}

static int parse_opt(int opt, const char *v, run_args *a) {
  switch (opt) {
    case 'd':
      a->data = v;
      return 0;
    case 'u':
      a->udf = v;
      return 0;
    case 'f':
      a->function = v;
      return 0;
    case 'c':
      a->columns = v;
      return 0;
    case 'm':
      a->map = v;
      return 0;
    case 'n':
      a->name = v;
      return 0;
    case 'o':
      a->output = v;
      return 0;
    case 'F':
      a->format = v;
      return 0;
    case 'C':
      a->cache_dir = v;
      return 0;
    case 'x':
      a->filter = true;
      return 0;
    case 'P':
      a->no_progress = true;
      return 0;
    case 'E':
      if (!wudf_on_error_parse(v, &a->on_error))
        return bad_value("--on-error (fail, null or skip)", v);
      return 0;
    case 'D':
      if (strlen(v) != 1) return bad_value("--delimiter", v);
      a->delimiter = v[0];
      return 0;
    default:
      return parse_number(opt, v, a);
  }
}

static const struct option run_options[] = {
    {"data", required_argument, NULL, 'd'},
    {"udf", required_argument, NULL, 'u'},
    {"function", required_argument, NULL, 'f'},
    {"columns", required_argument, NULL, 'c'},
    {"map", required_argument, NULL, 'm'},
    {"name", required_argument, NULL, 'n'},
    {"filter", no_argument, NULL, 'x'},
    {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, 'F'},
    {"limit", required_argument, NULL, 'l'},
    {"threads", required_argument, NULL, 't'},
    {"memory-limit", required_argument, NULL, 'M'},
    {"timeout", required_argument, NULL, 'T'},
    {"batch-rows", required_argument, NULL, 'b'},
    {"delimiter", required_argument, NULL, 'D'},
    {"sample-rows", required_argument, NULL, 's'},
    {"cache-dir", required_argument, NULL, 'C'},
    {"no-progress", no_argument, NULL, 'P'},
    {"on-error", required_argument, NULL, 'E'},
    {NULL, 0, NULL, 0},
};

static int missing(const char *what) {
  wudf_cli_error("run: %s is required", what);
  return -1;
}

static int check_args(const run_args *a) {
  if (!a->data) return missing("--data FILE.csv");
  if (!a->udf) return missing("--udf FILE");
  if (!a->function) return missing("--function NAME");
  if (!a->columns) return missing("--columns COL[,COL...]");
  if (!a->map == !a->filter) {
    wudf_cli_error("run: give either --map TYPE or --filter");
    return -1;
  }
  if (a->name && a->filter) {
    wudf_cli_error("run: --name goes with --map (FILTER adds no column)");
    return -1;
  }
  return 0;
}

static int parse_run_args(int argc, char **argv, run_args *a) {
  a->limit = a->sample_rows = -1;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", run_options, NULL)) != -1) {
    if (opt == '?') {
      wudf_cli_error("run: unknown option or missing value: %s",
                     argv[optind - 1]);
      return -1;
    }
    if (parse_opt(opt, optarg, a)) return -1;
  }
  if (optind < argc) {
    wudf_cli_error("run: unexpected argument '%s'", argv[optind]);
    return -1;
  }
  return check_args(a);
}

/* ---- columns and types -------------------------------------------------- */

typedef struct column_list {
  char *buf; /* owned: the --columns text, split in place */
  const char *names[WUDF_MAX_UDF_PARAMS];
  uint32_t n;
} column_list;

static int split_columns(const char *text, column_list *l) {
  l->buf = strdup(text);
  if (!l->buf) return -1;
  for (char *s = l->buf, *next; s; s = next) {
    next = strchr(s, ',');
    if (next) *next++ = '\0';
    if (!*s || l->n == WUDF_MAX_UDF_PARAMS) {
      wudf_cli_error("run: --columns '%s': %s", text,
                     *s ? "more than 16 columns" : "empty column name");
      return -1;
    }
    l->names[l->n++] = s;
  }
  return 0;
}

/* The types of the argument columns, for loading foreign modules. */
static int column_types(const run_args *a, const column_list *l,
                        wudf_type *types) {
  wudf_run_schema s;
  wudf_error err = {0};
  if (wudf_run_schema_read(a->data, a->delimiter, a->sample_rows, &s, &err)) {
    wudf_cli_error("%s", err.message);
    return -1;
  }
  int rc = 0;
  for (uint32_t j = 0; j < l->n && rc == 0; j++) {
    uint32_t i = 0;
    while (i < s.ncols && strcmp(s.names[i], l->names[j])) i++;
    if (i < s.ncols) {
      types[j] = s.types[i];
      continue;
    }
    fprintf(stderr, "wudf: %s has no column '%s' (its columns:", a->data,
            l->names[j]);
    for (i = 0; i < s.ncols; i++)
      fprintf(stderr, "%s %s", i ? "," : "", s.names[i]);
    fprintf(stderr, ")\n");
    rc = -1;
  }
  wudf_run_schema_reset(&s);
  return rc;
}

static int parse_format(const char *s, wudf_run_format *out) {
  if (!s || !strcmp(s, "csv"))
    *out = WUDF_RUN_FORMAT_CSV;
  else if (!strcmp(s, "jsonl") || !strcmp(s, "json"))
    *out = WUDF_RUN_FORMAT_JSONL;
  else if (!strcmp(s, "table"))
    *out = WUDF_RUN_FORMAT_TABLE;
  else
    return bad_value("--format (csv, jsonl or table)", s);
  return 0;
}

/* ---- progress ----------------------------------------------------------- */

static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig) {
  (void)sig;
  g_interrupted = 1;
}

typedef struct progress_state {
  bool enabled; /* stderr is a terminal that shows no output rows */
  bool shown;
} progress_state;

static void draw_bar(const wudf_run_progress *p) {
  char bar[31];
  double frac =
      p->bytes_total ? (double)p->bytes_read / (double)p->bytes_total : 0;
  if (frac > 1) frac = 1;
  int fill = (int)(frac * 30);
  for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
  bar[30] = '\0';
  double rate = p->seconds > 0 ? (double)p->rows_read / p->seconds : 0;
  if (p->bytes_total)
    fprintf(stderr, "\r\033[K[%s] %3d%%  %lld rows  %.0f rows/s  %.1f s", bar,
            (int)(frac * 100), (long long)p->rows_read, rate, p->seconds);
  else
    fprintf(stderr, "\r\033[K%lld rows  %.0f rows/s  %.1f s",
            (long long)p->rows_read, rate, p->seconds);
  fflush(stderr);
}

static bool on_progress(void *user, const wudf_run_progress *p) {
  progress_state *s = user;
  if (p->done) {
    if (s->shown) fputs("\r\033[K", stderr);
    s->shown = false;
    return true;
  }
  if (s->enabled && p->seconds >= 1.0) {
    draw_bar(p);
    s->shown = true;
  }
  return !g_interrupted;
}

static void on_guest_output(void *user, int64_t first_line, const char *text,
                            size_t len, bool truncated) {
  progress_state *s = user;
  if (s->shown) fputs("\r\033[K", stderr);
  fprintf(stderr, "wudf: UDF output (batch from line %lld):\n",
          (long long)first_line);
  fwrite(text, 1, len, stderr);
  if (len && text[len - 1] != '\n') fputc('\n', stderr);
  if (truncated) fputs("wudf: (UDF output truncated)\n", stderr);
}

/* ---- running ------------------------------------------------------------ */

static void set_limits(const run_args *a, wudf_engine_config *cfg) {
  cfg->cache_dir = a->cache_dir;
  if (a->memory_mib > 0) {
    uint64_t mib = (uint64_t)a->memory_mib;
    cfg->limits.memory_bytes = mib > 4096 ? (uint64_t)4096 << 20 : mib << 20;
  }
  if (a->timeout_s >= 0) /* given; 0 disables the limit */
    cfg->limits.timeout_ms = (uint32_t)ceil(a->timeout_s * 1000);
}

static void fill_options(const run_args *a, const column_list *cols,
                         wudf_module *m, wudf_type result,
                         wudf_run_format format, wudf_run_options *o) {
  wudf_run_options_init(o);
  o->input_path = a->data;
  o->delimiter = a->delimiter;
  o->sample_rows = a->sample_rows > 0 ? a->sample_rows : 0;
  o->module = m;
  o->function = a->function;
  o->columns = cols->names;
  o->ncolumns = cols->n;
  o->op = a->filter ? WUDF_RUN_FILTER : WUDF_RUN_MAP;
  o->declared_result = !a->filter;
  o->result_type = result;
  o->result_name = a->name;
  o->output_path = a->output;
  o->format = format;
  o->limit = a->limit;
  o->threads = a->threads > 0 ? (uint32_t)a->threads : 0;
  o->batch_rows = a->batch_rows > 0 ? a->batch_rows : 0;
  o->on_error = a->on_error;
}

static int execute(const run_args *a, const column_list *cols, wudf_type result,
                   wudf_run_format format, wudf_engine *engine) {
  wudf_type types[WUDF_MAX_UDF_PARAMS];
  wudf_module *m = NULL;
  wudf_run_op op = a->filter ? WUDF_RUN_FILTER : WUDF_RUN_MAP;
  if (column_types(a, cols, types) ||
      wudf_cli_udf_load(engine, a->udf, a->function, types, cols->n, op, result,
                        &m))
    return 1;
  wudf_run_options o;
  fill_options(a, cols, m, result, format, &o);
  progress_state ps = {0};
  ps.enabled = !a->no_progress && isatty(STDERR_FILENO) &&
               (a->output || !isatty(STDOUT_FILENO));
  o.progress = on_progress;
  o.progress_user = &ps;
  o.guest_output = on_guest_output;
  o.guest_output_user = &ps;
  struct sigaction sa = {0}, old;
  sa.sa_handler = on_sigint;
  sa.sa_flags = (int)SA_RESETHAND;
  sigaction(SIGINT, &sa, &old);
  wudf_error err = {0};
  wudf_run_stats stats;
  wudf_status st = wudf_run(&o, &stats, &err);
  sigaction(SIGINT, &old, NULL);
  fflush(stdout);
  if (st) wudf_cli_error("%s", err.message);
  if (!st && stats.row_errors)
    fprintf(stderr, "wudf: %lld row%s failed (--on-error %s)\n",
            (long long)stats.row_errors, stats.row_errors == 1 ? "" : "s",
            wudf_on_error_str(a->on_error));
  wudf_module_free(m);
  return st ? 1 : 0;
}

static int cmd_run(int argc, char **argv) {
  run_args a = {0};
  a.timeout_s = -1;
  column_list cols = {0};
  wudf_type result = WUDF_TYPE_BOOL;
  wudf_run_format format;
  int rc = 2;
  if (parse_run_args(argc, argv, &a) || split_columns(a.columns, &cols) ||
      parse_format(a.format, &format))
    goto out;
  if (a.map && !wudf_run_type_parse(a.map, &result)) {
    bad_value("--map (int, bigint, float, double, boolean or string)", a.map);
    goto out;
  }
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  set_limits(&a, &cfg);
  wudf_cli_engine_env(&cfg);
  wudf_engine *engine = NULL;
  wudf_error err = {0};
  rc = 1;
  if (wudf_engine_new(&cfg, &engine, &err)) {
    wudf_cli_error("%s", err.message);
    goto out;
  }
  rc = execute(&a, &cols, result, format, engine);
  wudf_engine_free(engine);
out:
  if (rc == 2) wudf_cli_usage(stderr, "run");
  free(cols.buf);
  return rc;
}

WUDF_CLI_COMMAND("run", cmd_run, RUN_USAGE)
