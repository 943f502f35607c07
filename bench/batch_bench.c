/*
 * Batch execution: a UDF compiled natively into this program (the same C
 * source as its WebAssembly module, examples/udfs/) against the module run
 * sandboxed by wudf_instance_map() / wudf_instance_filter() over the same
 * Arrow columns. Prints figures and never judges them; exits 1 if a
 * sandboxed result differs from the native one or anything fails.
 *
 *   batch_bench [--rows N] [--runs K] [--batch ROWS] [--memory-mib MIB]
 *               [--wasm-dir DIR] [--warm-heap 1]
 *
 * N rows (default 10,000,000) of deterministic data: balance int32 in
 * [0, 100000), rate float32 in [0, 1), email utf8 like
 * "first.last123@domain-7.example.com". Each measurement runs K times
 * (default 5). Sandboxed runs are timed as one call over all rows and as
 * calls over ROWS-row slices (default 65,536). DIR holds
 * calculate_adj_bal.wasm, email_domain.wasm and is_rich.wasm (default:
 * examples/udfs next to this program).
 *
 * Every run writes its results into newly allocated arrays, native and
 * sandboxed alike; with glibc's defaults large ones are fresh pages, whose
 * first-touch faults can outweigh a cheap UDF. --warm-heap 1 makes malloc
 * keep and reuse freed memory instead, which shows the cost of the loops
 * themselves.
 */
#include <errno.h>
#include <libgen.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wudf.h"

/* The UDFs themselves, compiled natively (wudf_guest.h turns the marking
 * macros into nothing) in this translation unit, so gcc can inline them.
 * The header comes first so that the arena is there whatever the examples
 * ask for. */
#include "wudf_guest.h"

#include "../examples/udfs/calculate_adj_bal.c"
#include "../examples/udfs/email_domain.c"
#include "../examples/udfs/is_rich.c"

#define MAX_RUNS 1000

typedef struct options {
  int64_t rows, batch;
  int runs;
  uint64_t memory_mib;
  bool warm_heap;
  char wasm_dir[4096];
} options;

/* ---- data --------------------------------------------------------------- */

typedef struct dataset {
  int64_t rows;
  int32_t *balance;
  float *rate;
  int32_t *email_offsets; /* rows + 1 */
  char *email_data;
} dataset;

static uint64_t next_random(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

static const char *const first_names[] = {
    "ada",     "alan",  "barbara", "claude", "donald", "edsger",
    "frances", "grace", "john",    "katie",  "leslie", "margaret",
    "niklaus", "radia", "tony",    "vint"};
static const char *const last_names[] = {
    "lovelace", "turing",  "liskov", "shannon", "knuth",   "dijkstra",
    "allen",    "hopper",  "backus", "bouman",  "lamport", "hamilton",
    "wirth",    "perlman", "hoare",  "cerf"};

/* Writes row i's email at `out` (room for 64 bytes); returns its length. */
static int make_email(uint64_t r, char *out) {
  return snprintf(out, 64, "%s.%s%u@domain-%u.example.com", first_names[r & 15],
                  last_names[(r >> 4) & 15], (unsigned)((r >> 8) % 1000),
                  (unsigned)((r >> 20) % 10));
}

static int dataset_init(dataset *d, int64_t rows) {
  memset(d, 0, sizeof *d);
  d->rows = rows;
  size_t n = (size_t)rows;
  d->balance = malloc(n * sizeof *d->balance + 1);
  d->rate = malloc(n * sizeof *d->rate + 1);
  d->email_offsets = malloc((n + 1) * sizeof *d->email_offsets);
  d->email_data = malloc(n * 64 + 1);
  if (!d->balance || !d->rate || !d->email_offsets || !d->email_data) return -1;
  uint64_t state = 42;
  int64_t at = 0;
  for (int64_t i = 0; i < rows; i++) {
    uint64_t r = next_random(&state);
    d->balance[i] = (int32_t)(r % 100000);
    d->rate[i] = (float)(r >> 40) / 16777216.0f; /* 24 bits: exact */
    d->email_offsets[i] = (int32_t)at;
    at += make_email(next_random(&state), d->email_data + at);
    if (at > INT32_MAX - 64) return -1;
  }
  d->email_offsets[rows] = (int32_t)at;
  return 0;
}

static void dataset_free(dataset *d) {
  free(d->balance);
  free(d->rate);
  free(d->email_offsets);
  free(d->email_data);
}

/* ---- Arrow views of the data ------------------------------------------- */

/* An Arrow array and schema borrowing the dataset's buffers. */
typedef struct column {
  struct ArrowArray array;
  struct ArrowSchema schema;
  const void *buffers[3];
} column;

static void release_array_view(struct ArrowArray *a) {
  a->release = NULL;
}

static void release_schema_view(struct ArrowSchema *s) {
  s->release = NULL;
}

static void column_init(column *c, const char *format, const char *name,
                        int64_t rows, const void *b1, const void *b2) {
  memset(c, 0, sizeof *c);
  c->buffers[1] = b1;
  c->buffers[2] = b2;
  c->array.length = rows;
  c->array.n_buffers = b2 ? 3 : 2;
  c->array.buffers = c->buffers;
  c->array.release = release_array_view;
  c->schema.format = format;
  c->schema.name = name;
  c->schema.release = release_schema_view;
}

/* Rows [start, start + n) of `c`, borrowing its buffers. */
static struct ArrowArray slice(const column *c, int64_t start, int64_t n) {
  struct ArrowArray a = c->array;
  a.offset = start;
  a.length = n;
  return a;
}

/* ---- timing ------------------------------------------------------------- */

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct timing {
  double min, sum;
  int runs;
} timing;

static void timing_add(timing *t, double ms) {
  if (!t->runs || ms < t->min) t->min = ms;
  t->sum += ms;
  t->runs++;
}

static void print_timing(const char *label, const timing *t, int64_t rows) {
  double avg = t->sum / t->runs;
  printf("  %-34s min %9.2f ms  avg %9.2f ms  %8.1f M rows/s\n", label, t->min,
         avg, (double)rows / (t->min / 1e3) / 1e6);
}

static void print_ratio(const char *label, const timing *sandboxed,
                        const timing *native) {
  printf("  ratio (sandboxed/native)%s: %.2f\n", label,
         sandboxed->min / native->min);
}

/* ---- the sandbox -------------------------------------------------------- */

typedef struct sandbox {
  wudf_engine *engine;
  wudf_module *module;
  wudf_instance *instance;
} sandbox;

static int fail_wudf(const char *what, const wudf_error *err) {
  fprintf(stderr, "batch_bench: %s: %s\n", what, err->message);
  return -1;
}

static void *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
  if (size >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)size + 1);
  if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)size;
  return buf;
}

static int sandbox_open(sandbox *s, wudf_engine *engine, const options *o,
                        const char *file, const char *udf) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", o->wasm_dir, file);
  memset(s, 0, sizeof *s);
  size_t len;
  void *bytes = read_file(path, &len);
  if (!bytes) {
    fprintf(stderr, "batch_bench: cannot read %s: %s\n", path, strerror(errno));
    return -1;
  }
  wudf_load_options lo = {0};
  lo.name = file;
  wudf_error err;
  wudf_error_init(&err);
  double t0 = now_ms();
  wudf_status st =
      wudf_module_load_ex(engine, bytes, len, &lo, &s->module, &err);
  free(bytes);
  if (st) return fail_wudf(path, &err);
  double ms = now_ms() - t0;
  wudf_udf_sig sig;
  char text[600] = "(not declared)";
  int64_t k = wudf_module_find_udf(s->module, udf);
  if (k >= 0 && wudf_module_udf(s->module, (uint32_t)k, &sig) == WUDF_OK)
    wudf_udf_sig_format(&sig, text, sizeof text);
  printf("  %s from %s, loaded in %.1f ms (%s)\n", text, file, ms,
         wudf_module_was_cached(s->module) ? "cached" : "compiled");
  wudf_instance_config cfg;
  wudf_instance_config_init(engine, &cfg);
  cfg.limits.memory_bytes = o->memory_mib << 20;
  cfg.limits.timeout_ms = 120000;
  if (wudf_instance_new(s->module, &cfg, &s->instance, &err))
    return fail_wudf(file, &err);
  return 0;
}

static void sandbox_close(sandbox *s) {
  wudf_instance_free(s->instance);
  wudf_module_free(s->module);
}

/* Runs `udf` (MAP, or FILTER when `filter`) over rows [start, start + n) of
 * the columns. */
static int sandbox_run(sandbox *s, const char *udf, bool filter,
                       const column *const *cols, uint32_t ncols, int64_t start,
                       int64_t n, struct ArrowArray *out) {
  struct ArrowArray arrays[4];
  const struct ArrowArray *args[4];
  const struct ArrowSchema *schemas[4];
  for (uint32_t j = 0; j < ncols; j++) {
    arrays[j] = slice(cols[j], start, n);
    args[j] = &arrays[j];
    schemas[j] = &cols[j]->schema;
  }
  wudf_error err;
  wudf_error_init(&err);
  wudf_status st = filter
                       ? wudf_instance_filter(s->instance, udf, args, schemas,
                                              ncols, out, NULL, &err)
                       : wudf_instance_map(s->instance, udf, args, schemas,
                                           ncols, out, NULL, &err);
  return st ? fail_wudf(udf, &err) : 0;
}

/* ---- checking results --------------------------------------------------- */

static bool bit(const void *bits, int64_t i) {
  return (((const uint8_t *)bits)[i >> 3] >> (i & 7)) & 1;
}

static bool all_valid(const struct ArrowArray *a) {
  if (a->null_count == 0 || !a->buffers[0]) return true;
  for (int64_t i = 0; i < a->length; i++)
    if (!bit(a->buffers[0], a->offset + i)) return false;
  return true;
}

/* Output rows [start, start + a->length) against the native results. */
static bool same_floats(const struct ArrowArray *a, const float *want,
                        int64_t start) {
  const float *v = (const float *)a->buffers[1] + a->offset;
  return all_valid(a) &&
         !memcmp(v, want + start, (size_t)a->length * sizeof *v);
}

static bool same_bits(const struct ArrowArray *a, const uint8_t *want,
                      int64_t start) {
  for (int64_t i = 0; i < a->length; i++)
    if (bit(a->buffers[1], a->offset + i) != bit(want, start + i)) return false;
  return all_valid(a);
}

/* A utf8 array: offsets and data, as in Arrow. */
typedef struct strings {
  int32_t *offsets;
  char *data;
} strings;

static bool same_strings(const struct ArrowArray *a, const strings *want,
                         int64_t start) {
  const int32_t *off = (const int32_t *)a->buffers[1] + a->offset;
  const char *data = a->buffers[2];
  for (int64_t i = 0; i < a->length; i++) {
    int32_t n = off[i + 1] - off[i];
    int64_t w = start + i;
    int32_t wn = want->offsets[w + 1] - want->offsets[w];
    if (n != wn ||
        memcmp(data + off[i], want->data + want->offsets[w], (size_t)n))
      return false;
  }
  return all_valid(a);
}

/* ---- native runs -------------------------------------------------------- */

/* Each native run computes rows [start, start + n) into a new output, as a
 * sandboxed call does, and returns it (NULL on failure); free_out releases
 * it. */
typedef struct native_fn {
  const char *label;
  void *(*run)(const dataset *d, int64_t start, int64_t n);
  void (*free_out)(void *out);
} native_fn;

static void *native_adj_bal(const dataset *d, int64_t start, int64_t n) {
  float *out = malloc((size_t)n * sizeof *out + 1);
  if (!out) return NULL;
  for (int64_t i = 0; i < n; i++)
    out[i] = calculate_adj_bal(d->balance[start + i], d->rate[start + i]);
  return out;
}

static void *native_is_rich(const dataset *d, int64_t start, int64_t n) {
  uint8_t *bits = calloc((size_t)(n + 7) / 8 + 1, 1);
  if (!bits) return NULL;
  for (int64_t i = 0; i < n; i++)
    if (is_rich(d->balance[start + i]))
      bits[i >> 3] |= (uint8_t)(1u << (i & 7));
  return bits;
}

static wudf_string domain_of(const dataset *d, int64_t row) {
  int32_t lo = d->email_offsets[row], hi = d->email_offsets[row + 1];
  return email_domain(d->email_data + lo, hi - lo);
}

static void free_strings(void *p) {
  strings *s = p;
  if (!s) return;
  free(s->offsets);
  free(s->data);
  free(s);
}

/* email_domain into raw Arrow buffers (results are never longer than the
 * inputs, so the input's size bounds the data buffer). */
static void *native_domains_raw(const dataset *d, int64_t start, int64_t n) {
  size_t bytes =
      (size_t)(d->email_offsets[start + n] - d->email_offsets[start]);
  strings *out = calloc(1, sizeof *out);
  if (!out) return NULL;
  out->offsets = malloc(((size_t)n + 1) * sizeof *out->offsets);
  out->data = malloc(bytes + 1);
  if (!out->offsets || !out->data) {
    free_strings(out);
    return NULL;
  }
  int32_t at = 0;
  for (int64_t i = 0; i < n; i++) {
    wudf_string s = domain_of(d, start + i);
    out->offsets[i] = at;
    memcpy(out->data + at, wudf_string_ptr(s), (size_t)wudf_string_len(s));
    at += wudf_string_len(s);
  }
  out->offsets[n] = at;
  return out;
}

static void free_array(void *p) {
  struct ArrowArray *a = p;
  if (a && a->release) a->release(a);
  free(a);
}

/* email_domain through wudf's Arrow builder, as the sandboxed run does. */
static void *native_domains_builder(const dataset *d, int64_t start,
                                    int64_t n) {
  wudf_array_builder *b;
  wudf_error err;
  wudf_error_init(&err);
  struct ArrowArray *out = calloc(1, sizeof *out);
  if (!out || wudf_array_builder_new(WUDF_TYPE_UTF8, n, &b, &err)) {
    free(out);
    return NULL;
  }
  wudf_status st = WUDF_OK;
  for (int64_t i = 0; i < n && st == WUDF_OK; i++) {
    wudf_string s = domain_of(d, start + i);
    st = wudf_array_builder_append_string(b, wudf_string_ptr(s),
                                          (size_t)wudf_string_len(s));
  }
  if (st == WUDF_OK) st = wudf_array_builder_finish(b, NULL, out, NULL, &err);
  wudf_array_builder_free(b);
  if (st == WUDF_OK) return out;
  fail_wudf("builder", &err);
  free(out);
  return NULL;
}

static const native_fn adj_bal_fn = {"native (gcc -O2, inlined loop)",
                                     native_adj_bal, free};
static const native_fn is_rich_fn = {"native (selection bitmap)",
                                     native_is_rich, free};
static const native_fn domains_builder_fn = {
    "native (wudf Arrow builder)", native_domains_builder, free_array};
static const native_fn domains_raw_fn = {"native (raw Arrow buffers)",
                                         native_domains_raw, free_strings};

/* ---- measurements ------------------------------------------------------- */

typedef struct bench {
  options opt;
  dataset data;
  column balance, rate, email;
  wudf_engine *engine;
  float *ref_adj; /* native results over all rows, for checks */
  uint8_t *ref_rich;
  strings *ref_domains;
  struct ArrowArray *outs; /* sandboxed outputs, one per call */
  void **native_outs;      /* native outputs, one per call */
  int64_t nouts;
} bench;

/* Rows of call number i when calls cover `per_call` rows each. */
static int64_t call_rows(const bench *b, int64_t i, int64_t per_call) {
  int64_t left = b->data.rows - i * per_call;
  return left < per_call ? left : per_call;
}

/* Times `f` natively over all rows in calls of `per_call` rows; the
 * outputs of a run are released after it, as the sandboxed ones are. */
static int time_native(bench *b, const native_fn *f, int64_t per_call,
                       timing *t) {
  int64_t k = (b->data.rows + per_call - 1) / per_call;
  for (int r = 0; r < b->opt.runs; r++) {
    int rc = 0;
    double t0 = now_ms();
    for (int64_t i = 0; i < k; i++) {
      b->native_outs[i] =
          f->run(&b->data, i * per_call, call_rows(b, i, per_call));
      if (!b->native_outs[i]) rc = -1;
    }
    timing_add(t, now_ms() - t0);
    for (int64_t i = 0; i < k; i++) f->free_out(b->native_outs[i]);
    if (rc) {
      fprintf(stderr, "batch_bench: %s failed\n", f->label);
      return -1;
    }
  }
  return 0;
}

typedef enum check_kind { CHECK_FLOATS, CHECK_BITS, CHECK_STRINGS } check_kind;

static bool check_out(const bench *b, check_kind kind,
                      const struct ArrowArray *a, int64_t start) {
  switch (kind) {
    case CHECK_FLOATS:
      return same_floats(a, b->ref_adj, start);
    case CHECK_BITS:
      return same_bits(a, b->ref_rich, start);
    default:
      return same_strings(a, b->ref_domains, start);
  }
}

/* Checks (when `check`) and releases the outputs of `k` calls over slices
 * of `per_call` rows. */
static int check_outputs(bench *b, const char *udf, check_kind kind, int64_t k,
                         int64_t per_call, bool check) {
  int rc = 0;
  for (int64_t i = 0; i < k; i++) {
    int64_t at = i * per_call;
    if (check && !rc &&
        (b->outs[i].length != call_rows(b, i, per_call) ||
         !check_out(b, kind, &b->outs[i], at))) {
      fprintf(stderr,
              "batch_bench: %s: the sandboxed result of call %lld differs "
              "from the native one\n",
              udf, (long long)i);
      rc = -1;
    }
    b->outs[i].release(&b->outs[i]);
  }
  return rc;
}

/* What one comparison runs: a UDF, its columns, its native twin. */
typedef struct task {
  const char *title, *file, *udf;
  bool filter;
  const column *cols[4];
  uint32_t ncols;
  check_kind kind;
  const native_fn *native;
} task;

/* Times the task's UDF sandboxed over all rows in calls of `per_call`
 * rows; checks and releases the outputs after each timed run. */
static int time_sandboxed(bench *b, sandbox *s, const task *tk,
                          int64_t per_call, timing *t) {
  int64_t n = b->data.rows;
  for (int r = 0; r < b->opt.runs; r++) {
    int64_t k = 0;
    int rc = 0;
    double t0 = now_ms();
    for (int64_t at = 0; at < n && !rc; at += per_call, k++)
      rc = sandbox_run(s, tk->udf, tk->filter, tk->cols, tk->ncols, at,
                       call_rows(b, k, per_call), &b->outs[k]);
    timing_add(t, now_ms() - t0);
    /* A failed call wrote no output. */
    if (check_outputs(b, tk->udf, tk->kind, k - (rc != 0), per_call, !rc) || rc)
      return -1;
  }
  return 0;
}

/* Native and sandboxed timings of one task, as one call and in batches. */
typedef struct results {
  timing native_one, native_batches, one, batches;
} results;

static int measure(bench *b, const task *tk, results *res) {
  sandbox s;
  printf("\n[%s]\n", tk->title);
  if (sandbox_open(&s, b->engine, &b->opt, tk->file, tk->udf)) return -1;
  int rc = time_native(b, tk->native, b->data.rows, &res->native_one);
  if (!rc) rc = time_native(b, tk->native, b->opt.batch, &res->native_batches);
  if (!rc) rc = time_sandboxed(b, &s, tk, b->data.rows, &res->one);
  if (!rc) rc = time_sandboxed(b, &s, tk, b->opt.batch, &res->batches);
  sandbox_close(&s);
  return rc;
}

static void report(const bench *b, const task *tk, const results *res) {
  int64_t rows = b->data.rows;
  print_timing(tk->native->label, &res->native_one, rows);
  print_timing("  same, in batches", &res->native_batches, rows);
  print_timing(tk->filter ? "wudf filter, one call" : "wudf map, one call",
               &res->one, rows);
  print_timing(tk->filter ? "wudf filter, batches" : "wudf map, batches",
               &res->batches, rows);
  print_ratio("", &res->one, &res->native_one);
  print_ratio(", batches", &res->batches, &res->native_batches);
}

static int run_task(bench *b, const task *tk) {
  results res;
  memset(&res, 0, sizeof res);
  if (measure(b, tk, &res)) return -1;
  report(b, tk, &res);
  return 0;
}

/* The raw-buffer baseline, for information: no builder at all. */
static int run_raw_strings(bench *b, const task *tk) {
  timing raw = {0};
  results res;
  memset(&res, 0, sizeof res);
  if (measure(b, tk, &res) ||
      time_native(b, &domains_raw_fn, b->data.rows, &raw))
    return -1;
  report(b, tk, &res);
  print_timing(domains_raw_fn.label, &raw, b->data.rows);
  print_ratio(" vs raw buffers", &res.one, &raw);
  return 0;
}

/* Native results over all rows, untimed: what sandboxed runs must equal. */
static int make_references(bench *b) {
  const dataset *d = &b->data;
  b->ref_adj = native_adj_bal(d, 0, d->rows);
  b->ref_rich = native_is_rich(d, 0, d->rows);
  b->ref_domains = native_domains_raw(d, 0, d->rows);
  return b->ref_adj && b->ref_rich && b->ref_domains ? 0 : -1;
}

static int run_all(bench *b) {
  const task numeric = {"numeric MAP",
                        "calculate_adj_bal.wasm",
                        "calculate_adj_bal",
                        false,
                        {&b->balance, &b->rate},
                        2,
                        CHECK_FLOATS,
                        &adj_bal_fn};
  const task filter = {"FILTER",   "is_rich.wasm", "is_rich",
                       true,       {&b->balance},  1,
                       CHECK_BITS, &is_rich_fn};
  const task strings_ = {"string MAP",  "email_domain.wasm", "email_domain",
                         false,         {&b->email},         1,
                         CHECK_STRINGS, &domains_builder_fn};
  if (make_references(b)) return -1;
  if (run_task(b, &numeric) || run_task(b, &filter)) return -1;
  return run_raw_strings(b, &strings_);
}

/* ---- main --------------------------------------------------------------- */

/* Keeps freed memory in malloc's heap for reuse (see the top). */
static int warm_heap(void) {
#ifdef __GLIBC__
  return mallopt(M_MMAP_MAX, 0) && mallopt(M_TRIM_THRESHOLD, INT32_MAX) ? 0
                                                                        : -1;
#else
  return -1;
#endif
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}

static int parse_options(int argc, char **argv, options *o) {
  int64_t v;
  o->rows = 10000000;
  o->batch = 65536;
  o->runs = 5;
  o->memory_mib = 1024;
  char self[4096];
  snprintf(self, sizeof self, "%s", argv[0]);
  snprintf(o->wasm_dir, sizeof o->wasm_dir, "%s/examples/udfs", dirname(self));
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (!val) return -1;
    if (!strcmp(a, "--rows") && !parse_int(val, 1, 50000000, &v))
      o->rows = v;
    else if (!strcmp(a, "--runs") && !parse_int(val, 1, MAX_RUNS, &v))
      o->runs = (int)v;
    else if (!strcmp(a, "--batch") && !parse_int(val, 1, INT32_MAX, &v))
      o->batch = v;
    else if (!strcmp(a, "--memory-mib") && !parse_int(val, 1, 4096, &v))
      o->memory_mib = (uint64_t)v;
    else if (!strcmp(a, "--warm-heap") && !parse_int(val, 0, 1, &v))
      o->warm_heap = v != 0;
    else if (!strcmp(a, "--wasm-dir"))
      snprintf(o->wasm_dir, sizeof o->wasm_dir, "%s", val);
    else
      return -1;
  }
  return 0;
}

static int bench_init(bench *b) {
  const dataset *d = &b->data;
  column_init(&b->balance, "i", "balance", d->rows, d->balance, NULL);
  column_init(&b->rate, "f", "rate", d->rows, d->rate, NULL);
  column_init(&b->email, "u", "email", d->rows, d->email_offsets,
              d->email_data);
  b->nouts = (d->rows + b->opt.batch - 1) / b->opt.batch;
  b->outs = calloc((size_t)b->nouts, sizeof *b->outs);
  b->native_outs = calloc((size_t)b->nouts, sizeof *b->native_outs);
  wudf_error err;
  wudf_error_init(&err);
  if (!b->outs || !b->native_outs) return -1;
  if (wudf_engine_new(NULL, &b->engine, &err)) return fail_wudf("engine", &err);
  return 0;
}

static void bench_free(bench *b) {
  wudf_engine_free(b->engine);
  free(b->outs);
  free(b->native_outs);
  free(b->ref_adj);
  free(b->ref_rich);
  free_strings(b->ref_domains);
  dataset_free(&b->data);
}

int main(int argc, char **argv) {
  static bench b;
  if (parse_options(argc, argv, &b.opt)) {
    fprintf(stderr,
            "usage: batch_bench [--rows N] [--runs K] [--batch ROWS] "
            "[--memory-mib MIB] [--wasm-dir DIR] [--warm-heap 1]\n");
    return 2;
  }
  if (b.opt.warm_heap && warm_heap()) {
    fprintf(stderr, "batch_bench: --warm-heap needs glibc's mallopt\n");
    return 2;
  }
  int rc = dataset_init(&b.data, b.opt.rows);
  if (rc) fprintf(stderr, "batch_bench: cannot generate the data\n");
  if (!rc) rc = bench_init(&b);
  if (!rc) {
    printf(
        "rows: %lld, runs: %d, batches of %lld rows, instance memory cap "
        "%llu MiB, email data %.1f MB, %s heap\n",
        (long long)b.data.rows, b.opt.runs, (long long)b.opt.batch,
        (unsigned long long)b.opt.memory_mib,
        (double)b.data.email_offsets[b.data.rows] / 1e6,
        b.opt.warm_heap ? "warm" : "default");
    rc = run_all(&b);
  }
  if (!rc) printf("\nall sandboxed results equal the native ones\n");
  bench_free(&b);
  return rc ? 1 : 0;
}
