/*
 * wudf bench: times a MAP UDF run sandboxed (wudf_instance_map() over
 * batches of generated Arrow columns) against the same source compiled
 * natively with gcc -O2 (a generated loop over arrays), like the seed's
 * harness: "K Runs of N: MIN/MAX/AVG ms, R rows/s", then the ratio. The
 * results of both are compared; a difference fails the command.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "udf_file.h"
#include "wudf_run.h"

#define BENCH_USAGE                                                           \
  "wudf bench [--udf FILE --function NAME --map TYPE] [--row-count N] "       \
  "[--run-count K]\n"                                                         \
  "                [--batch-rows N] [--memory-limit MiB] [--cache-dir DIR]\n" \
  "      Default UDF: the seed's calculate_adj_bal(int balance, float "       \
  "rate); N 1000000, K 5."

/* The seed report's function, as written there. */
static const char k_default_source[] =
    "float calculate_adj_bal(int balance, float rate) {\n"
    "  return (balance * rate) + balance/1000;\n"
    "}\n";

typedef struct bench_args {
  const char *udf, *function, *map, *cache_dir;
  long long rows, runs, batch, memory_mib;
} bench_args;

typedef struct timing {
  double min, max, total;
  long long runs;
} timing;

/* ---- options ------------------------------------------------------------ */

static const struct option bench_options[] = {
    {"udf", required_argument, NULL, 'u'},
    {"function", required_argument, NULL, 'f'},
    {"map", required_argument, NULL, 'm'},
    {"row-count", required_argument, NULL, 'n'},
    {"run-count", required_argument, NULL, 'k'},
    {"batch-rows", required_argument, NULL, 'b'},
    {"memory-limit", required_argument, NULL, 'M'},
    {"cache-dir", required_argument, NULL, 'C'},
    {NULL, 0, NULL, 0},
};

static int parse_count(const char *v, long long *out) {
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (errno || *end || end == v || x < 1) return -1;
  *out = x;
  return 0;
}

static int parse_bench_opt(int opt, const char *v, bench_args *a) {
  switch (opt) {
    case 'u':
      a->udf = v;
      return 0;
    case 'f':
      a->function = v;
      return 0;
    case 'm':
      a->map = v;
      return 0;
    case 'C':
      a->cache_dir = v;
      return 0;
    case 'n':
      return parse_count(v, &a->rows);
    case 'k':
      return parse_count(v, &a->runs);
    case 'b':
      return parse_count(v, &a->batch);
    case 'M':
      return parse_count(v, &a->memory_mib);
    default:
      return -1;
  }
}

static int parse_bench_args(int argc, char **argv, bench_args *a) {
  a->rows = 1000000;
  a->runs = 5;
  a->batch = 8192;
  opterr = 0;
  optind = 1;
  int opt;
  while ((opt = getopt_long(argc, argv, "", bench_options, NULL)) != -1)
    if (opt == '?' || parse_bench_opt(opt, optarg, a)) {
      wudf_cli_error("bench: bad option or value near '%s'", argv[optind - 1]);
      return -1;
    }
  if (optind < argc || a->rows > INT32_MAX || a->runs > 100000) return -1;
  if (a->udf && (!a->function || !a->map)) {
    wudf_cli_error("bench: --udf needs --function and --map");
    return -1;
  }
  return 0;
}

/* ---- data --------------------------------------------------------------- */

static uint64_t next_random(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static const char *const k_names[] = {"ada",  "bo",    "cyrus", "delia",
                                      "enid", "felix", "gaia",  "hedda"};
static const char *const k_domains[] = {"mtv.com", "mozilla.org", "usgs.gov",
                                        "example.com"};

/* Appends one accounts-like value: balance (ints), rate (floats), a coin
 * (bool) or an e-mail address (utf8). */
static wudf_status append_value(wudf_array_builder *b, wudf_type t, uint64_t r,
                                int64_t i) {
  char email[64];
  switch (t) {
    case WUDF_TYPE_INT32:
    case WUDF_TYPE_INT64:
      return wudf_array_builder_append_int(b, 1000 + (int64_t)(r % 99000));
    case WUDF_TYPE_FLOAT32:
    case WUDF_TYPE_FLOAT64:
      return wudf_array_builder_append_double(b, (double)(1 + r % 99) / 100);
    case WUDF_TYPE_BOOL:
      return wudf_array_builder_append_bool(b, r & 1);
    default: {
      int n = snprintf(email, sizeof email, "%s%lld@%s", k_names[r % 8],
                       (long long)i, k_domains[(r >> 8) % 4]);
      return wudf_array_builder_append_string(b, email, (size_t)n);
    }
  }
}

static int make_column(wudf_type t, uint32_t j, int64_t n, bench_column *c) {
  wudf_array_builder *b = NULL;
  wudf_error err = {0};
  uint64_t seed = 0x5eed0000u + j;
  char name[16];
  snprintf(name, sizeof name, "arg%u", j + 1);
  c->type = t;
  wudf_status st = wudf_array_builder_new(t, n, &b, &err);
  if (st == WUDF_OK && t == WUDF_TYPE_BOOL && !(c->bytes = malloc((size_t)n)))
    st = WUDF_ERR_NOMEM;
  for (int64_t i = 0; st == WUDF_OK && i < n; i++) {
    uint64_t r = next_random(&seed);
    if (c->bytes) c->bytes[i] = (uint8_t)(r & 1);
    st = append_value(b, t, r, i);
  }
  if (st == WUDF_OK)
    st = wudf_array_builder_finish(b, name, &c->array, &c->schema, &err);
  wudf_array_builder_free(b);
  if (st) wudf_cli_error("bench: generating data: %s", wudf_status_str(st));
  return st ? -1 : 0;
}

static void free_columns(bench_column *cols, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) {
    if (cols[j].array.release) cols[j].array.release(&cols[j].array);
    if (cols[j].schema.release) cols[j].schema.release(&cols[j].schema);
    free(cols[j].bytes);
  }
}

/* ---- timing ------------------------------------------------------------- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void add_time(timing *t, double s) {
  if (!t->runs || s < t->min) t->min = s;
  if (!t->runs || s > t->max) t->max = s;
  t->total += s;
  t->runs++;
}

static double avg(const timing *t) {
  return t->runs ? t->total / (double)t->runs : 0;
}

static void print_timing(const char *label, const timing *t, long long rows) {
  double a = avg(t);
  printf("%s %lld Runs of %lld: %.3f/%.3f/%.3f ms, %.0f rows/s\n", label,
         t->runs, rows, t->min * 1e3, t->max * 1e3, a * 1e3,
         a > 0 ? (double)rows / a : 0);
}

/* ---- the sandboxed side ------------------------------------------------- */

static void noop_release(struct ArrowArray *a) {
  a->release = NULL;
}

/* A view of rows [start, start + len) of `a`, sharing its buffers. */
static struct ArrowArray slice(const struct ArrowArray *a, int64_t start,
                               int64_t len) {
  struct ArrowArray v = *a;
  v.offset = a->offset + start;
  v.length = len;
  v.null_count = 0;
  v.release = noop_release;
  v.private_data = NULL;
  return v;
}

typedef struct sandbox {
  wudf_instance *inst;
  const wudf_udf_sig *sig;
  const bench_column *cols;
  int64_t rows, batch;
} sandbox;

typedef int (*check_fn)(void *user, int64_t start,
                        const struct ArrowArray *out);

/* One run over every row in batches; `check` (may be NULL) sees each
 * result. */
static int sandbox_run(const sandbox *s, check_fn check, void *user) {
  struct ArrowArray views[WUDF_MAX_UDF_PARAMS];
  const struct ArrowArray *cols[WUDF_MAX_UDF_PARAMS];
  const struct ArrowSchema *schemas[WUDF_MAX_UDF_PARAMS];
  for (int64_t start = 0; start < s->rows; start += s->batch) {
    int64_t len = s->rows - start < s->batch ? s->rows - start : s->batch;
    for (uint32_t j = 0; j < s->sig->nparams; j++) {
      views[j] = slice(&s->cols[j].array, start, len);
      cols[j] = &views[j];
      schemas[j] = &s->cols[j].schema;
    }
    struct ArrowArray out;
    wudf_error err = {0};
    if (wudf_instance_map(s->inst, s->sig->name, cols, schemas, s->sig->nparams,
                          &out, NULL, &err)) {
      wudf_cli_error("bench: %s", err.message);
      return -1;
    }
    int rc = check ? check(user, start, &out) : 0;
    out.release(&out);
    if (rc) return rc;
  }
  return 0;
}

/* ---- comparing ---------------------------------------------------------- */

typedef struct compare_ctx {
  wudf_type type;
  bench_native_out native;
  int64_t mismatches, first_bad;
} compare_ctx;

static bool same_value(const compare_ctx *c, const struct ArrowArray *out,
                       int64_t i, int64_t row) {
  const void *v = out->buffers[1];
  int64_t k = out->offset + i;
  switch (c->type) {
    case WUDF_TYPE_INT32:
      return ((const int32_t *)v)[k] == ((int32_t *)c->native.values)[row];
    case WUDF_TYPE_INT64:
      return ((const int64_t *)v)[k] == ((int64_t *)c->native.values)[row];
    case WUDF_TYPE_FLOAT32: {
      float a = ((const float *)v)[k], b = ((float *)c->native.values)[row];
      return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
    }
    case WUDF_TYPE_FLOAT64: {
      double a = ((const double *)v)[k], b = ((double *)c->native.values)[row];
      return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
    }
    case WUDF_TYPE_BOOL:
      return (((const uint8_t *)v)[k >> 3] >> (k & 7) & 1) ==
             (((uint8_t *)c->native.values)[row] != 0);
    default: {
      const int32_t *o = v;
      const char *d = out->buffers[2];
      int32_t len = o[k + 1] - o[k];
      return len == c->native.lens[row] &&
             !memcmp(d + o[k], c->native.ptrs[row], (size_t)len);
    }
  }
}

static int compare_batch(void *user, int64_t start,
                         const struct ArrowArray *out) {
  compare_ctx *c = user;
  const uint8_t *valid = out->buffers[0];
  for (int64_t i = 0; i < out->length; i++) {
    int64_t k = out->offset + i;
    bool ok = (!valid || (valid[k >> 3] >> (k & 7) & 1)) &&
              same_value(c, out, i, start + i);
    if (ok) continue;
    if (!c->mismatches++) c->first_bad = start + i;
  }
  return 0;
}

static int alloc_native_out(wudf_type t, int64_t n, bench_native_out *o) {
  size_t rows = (size_t)n;
  if (t == WUDF_TYPE_UTF8) {
    o->ptrs = calloc(rows, sizeof *o->ptrs);
    o->lens = calloc(rows, sizeof *o->lens);
    return o->ptrs && o->lens ? 0 : -1;
  }
  size_t w = t == WUDF_TYPE_INT64 || t == WUDF_TYPE_FLOAT64 ? 8
             : t == WUDF_TYPE_BOOL                          ? 1
                                                            : 4;
  o->values = calloc(rows, w);
  return o->values ? 0 : -1;
}

static void free_native_out(bench_native_out *o) {
  free(o->values);
  free(o->ptrs);
  free(o->lens);
}

/* ---- the benchmark ------------------------------------------------------ */

typedef struct bench {
  const bench_args *a;
  const char *source; /* the UDF file (the default's temporary copy) */
  wudf_udf_sig sig;
  bench_column cols[WUDF_MAX_UDF_PARAMS];
  sandbox sb;
  bench_native *native;
  compare_ctx cmp;
} bench;

static int time_both(bench *b) {
  timing ts = {0}, tn = {0};
  /* One untimed run of each first: page faults, caches, lazy set-up. */
  if (sandbox_run(&b->sb, NULL, NULL)) return -1;
  if (b->native)
    bench_native_run(b->native, b->a->rows, b->cols, &b->cmp.native);
  for (long long k = 0; k < b->a->runs; k++) {
    double t0 = now_s();
    if (sandbox_run(&b->sb, NULL, NULL)) return -1;
    add_time(&ts, now_s() - t0);
  }
  for (long long k = 0; b->native && k < b->a->runs; k++) {
    double t0 = now_s();
    bench_native_run(b->native, b->a->rows, b->cols, &b->cmp.native);
    add_time(&tn, now_s() - t0);
  }
  print_timing("sandboxed:", &ts, b->a->rows);
  if (!b->native) {
    printf("native:    (needs a C or C++ source)\n");
    printf("ratio (sandboxed/native, avg): n/a\n");
    return 0;
  }
  print_timing("native:   ", &tn, b->a->rows);
  if (sandbox_run(&b->sb, compare_batch, &b->cmp)) return -1;
  if (b->cmp.mismatches)
    printf("results: %lld rows differ (first: row %lld)\n",
           (long long)b->cmp.mismatches, (long long)b->cmp.first_bad);
  else
    printf("results: identical (%lld rows)\n", b->a->rows);
  printf("ratio (sandboxed/native, avg): %.2f\n",
         avg(&tn) > 0 ? avg(&ts) / avg(&tn) : 0.0);
  return b->cmp.mismatches ? -1 : 0;
}

static int prepare_data(bench *b) {
  b->cmp.type = b->sig.result;
  if (alloc_native_out(b->sig.result, b->a->rows, &b->cmp.native)) {
    wudf_cli_error("bench: out of memory");
    return -1;
  }
  for (uint32_t j = 0; j < b->sig.nparams; j++)
    if (make_column(b->sig.params[j], j, b->a->rows, &b->cols[j])) return -1;
  wudf_cli_udf_kind kind = wudf_cli_udf_kind_of(b->source);
  if (kind == WUDF_CLI_UDF_C || kind == WUDF_CLI_UDF_CPP) {
    b->native = bench_native_build(b->source, &b->sig);
    if (!b->native) return -1;
  }
  return 0;
}

static int load_udf(bench *b, wudf_engine *e, wudf_module **m) {
  wudf_type result = WUDF_TYPE_FLOAT32;
  if (b->a->map && !wudf_run_type_parse(b->a->map, &result)) {
    wudf_cli_error("bench: unknown type '%s' for --map", b->a->map);
    return -1;
  }
  const char *fn = b->a->udf ? b->a->function : "calculate_adj_bal";
  if (wudf_cli_udf_load(e, b->source, fn, NULL, 0, WUDF_RUN_MAP, result, m))
    return -1;
  int64_t k = wudf_module_find_udf(*m, fn);
  if (k < 0 || wudf_module_udf(*m, (uint32_t)k, &b->sig)) return -1;
  if (b->sig.result != result) {
    wudf_cli_error("bench: %s returns %s, not the declared %s", fn,
                   wudf_type_str(b->sig.result), wudf_type_str(result));
    return -1;
  }
  return 0;
}

static int run_bench(bench *b, wudf_engine *e) {
  wudf_module *m = NULL;
  int rc = load_udf(b, e, &m);
  if (rc == 0) rc = prepare_data(b);
  if (rc == 0 && wudf_instance_new(m, NULL, &b->sb.inst, NULL)) {
    wudf_cli_error("bench: cannot create an instance");
    rc = -1;
  }
  if (rc == 0) {
    char text[512];
    wudf_udf_sig_format(&b->sig, text, sizeof text);
    printf("%s over %lld generated rows, batches of %lld\n", text, b->a->rows,
           b->a->batch);
    b->sb.sig = &b->sig;
    b->sb.cols = b->cols;
    b->sb.rows = b->a->rows;
    b->sb.batch = b->a->batch;
    rc = time_both(b);
  }
  wudf_instance_free(b->sb.inst);
  bench_native_free(b->native);
  free_columns(b->cols, b->sig.nparams);
  free_native_out(&b->cmp.native);
  wudf_module_free(m);
  return rc;
}

/* The default UDF's source, written to a temporary file. */
static int write_default(char *path, size_t size) {
  const char *tmp = getenv("TMPDIR");
  snprintf(path, size, "%s/wudf-bench-XXXXXX.c", tmp && *tmp ? tmp : "/tmp");
  int fd = mkstemps(path, 2);
  if (fd < 0) return -1;
  ssize_t n = write(fd, k_default_source, sizeof k_default_source - 1);
  close(fd);
  return n == (ssize_t)(sizeof k_default_source - 1) ? 0 : -1;
}

static int cmd_bench(int argc, char **argv) {
  bench_args a = {0};
  if (parse_bench_args(argc, argv, &a)) {
    wudf_cli_usage(stderr, "bench");
    return 2;
  }
  bench b = {0};
  b.a = &a;
  char tmp[4096] = "";
  if (!a.udf && write_default(tmp, sizeof tmp)) {
    wudf_cli_error("bench: cannot write a temporary file");
    return 1;
  }
  b.source = a.udf ? a.udf : tmp;
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = a.cache_dir;
  wudf_cli_engine_env(&cfg);
  if (a.memory_mib > 0 && a.memory_mib <= 4096)
    cfg.limits.memory_bytes = (uint64_t)a.memory_mib << 20;
  wudf_engine *e = NULL;
  wudf_error err = {0};
  int rc = 1;
  if (wudf_engine_new(&cfg, &e, &err))
    wudf_cli_error("%s", err.message);
  else
    rc = run_bench(&b, e) ? 1 : 0;
  wudf_engine_free(e);
  if (*tmp) unlink(tmp);
  return rc;
}

WUDF_CLI_COMMAND("bench", cmd_bench, BENCH_USAGE)
