/*
 * The in-memory part of `make bench` (bench/run.sh, bench/compare.py):
 * the benchmark's four UDFs over columns read from one CSV file, native
 * (the same C sources compiled by gcc into this program) against wudf (the
 * sources compiled to WebAssembly, run sandboxed by wudf_instance_map() and
 * wudf_instance_filter()).
 *
 *   compare_mem --csv FILE --wasm DIR [--runs K] [--batch ROWS] [--dump DIR]
 *               [--only WORKLOAD]
 *
 * The native side is bench/compare_native.c, built at -O2 (the baseline)
 * and at -O3 (reported as engine "native-o3").
 *
 * DIR holds calculate_adj_bal.wasm, is_rich.wasm, email_domain.wasm and
 * add_two.wasm. Both sides go over all rows in batches of ROWS rows
 * (default 8192, wudf run's batch), each batch into a new output that is
 * released after it, as a streaming engine does; runs of the two sides
 * alternate, K times each (default 5). Before timing, every wudf result is
 * compared with the native one; a difference fails the program.
 *
 * --only runs one workload (adj_bal, filter, email_domain, add_two): for
 * profiling. --dump DIR writes the columns as raw little-endian arrays (id.i32,
 * balance.i32, rate.f32, email.off: rows + 1 int32 offsets, email.dat) for
 * the Node.js side (bench/compare_js.mjs), so every engine sees the same
 * values.
 *
 * Output: one JSON object per line, e.g.
 *   {"workload":"adj_bal","engine":"native","rows":1000000,"batch":8192,
 *    "threads":1,"ms":[...],"digest":...}
 * The digest (sum of the results, rows selected, bytes of the domains)
 * lets compare.py check the other engines' results. Built by
 * bench/run.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv/csv.h"
#include "wudf.h"

#include "compare_native.h"

/* Keeps gcc from dropping stores to an output that is freed unread. */
static void consume(const void *p) {
  __asm__ volatile("" : : "r"(p) : "memory");
}

static void out_free(out_buf *o) {
  free(o->values);
  free(o->data);
  memset(o, 0, sizeof *o);
}

#define MAX_RUNS 100

/* ---- the data ----------------------------------------------------------- */

static int grow(void **p, int64_t count, size_t size) {
  void *q = realloc(*p, (size_t)count * size);
  if (!q) return -1;
  *p = q;
  return 0;
}

static int table_reserve(table *t, int64_t rows, int64_t bytes) {
  if (t->rows + rows + 1 > t->cap) {
    int64_t cap = t->cap ? t->cap : 65536;
    while (cap < t->rows + rows + 1) cap *= 2;
    if (grow((void **)&t->id, cap, 4) || grow((void **)&t->balance, cap, 4) ||
        grow((void **)&t->rate, cap, 4) || grow((void **)&t->email_off, cap, 4))
      return -1;
    t->cap = cap;
  }
  if (t->email_bytes + bytes > t->email_cap) {
    int64_t cap = t->email_cap ? t->email_cap : 1 << 20;
    while (cap < t->email_bytes + bytes) cap *= 2;
    if (cap > INT32_MAX || grow((void **)&t->email, cap, 1)) return -1;
    t->email_cap = cap;
  }
  return 0;
}

static void table_free(table *t) {
  free(t->id);
  free(t->balance);
  free(t->rate);
  free(t->email_off);
  free(t->email);
}

/* Column indexes in the CSV: id, email, balance, rate. */
typedef struct csv_cols {
  uint32_t id, email, balance, rate;
} csv_cols;

static int find_col(const wudf_csv_schema *s, const char *name, uint32_t *out) {
  for (uint32_t i = 0; i < s->ncols; i++)
    if (!strcmp(s->names[i], name)) {
      *out = i;
      return 0;
    }
  fprintf(stderr, "compare_mem: the CSV file has no column '%s'\n", name);
  return -1;
}

static int locate(wudf_csv_reader *r, csv_cols *c, wudf_error *err) {
  const wudf_csv_schema *s = wudf_csv_reader_schema(r);
  if (find_col(s, "id", &c->id) || find_col(s, "email", &c->email) ||
      find_col(s, "balance", &c->balance) || find_col(s, "rate", &c->rate))
    return -1;
  /* The UDFs' own types; rate is read as float32, as `wudf run` passes it
   * to calculate_adj_bal. */
  if (wudf_csv_reader_set_type(r, c->id, WUDF_TYPE_INT32, err) ||
      wudf_csv_reader_set_type(r, c->balance, WUDF_TYPE_INT32, err) ||
      wudf_csv_reader_set_type(r, c->rate, WUDF_TYPE_FLOAT32, err) ||
      wudf_csv_reader_set_type(r, c->email, WUDF_TYPE_UTF8, err))
    return -1;
  return 0;
}

static int append_batch(table *t, const wudf_csv_batch *b, const csv_cols *c) {
  const struct ArrowArray *e = &b->columns[c->email];
  const int32_t *eo = (const int32_t *)e->buffers[1] + e->offset;
  int64_t bytes = eo[b->nrows] - eo[0];
  if (table_reserve(t, b->nrows, bytes)) return -1;
  const struct ArrowArray *cols[3] = {
      &b->columns[c->id], &b->columns[c->balance], &b->columns[c->rate]};
  for (int k = 0; k < 3; k++)
    if (cols[k]->null_count != 0 || e->null_count != 0) {
      fprintf(stderr, "compare_mem: NULLs in the data\n");
      return -1;
    }
  size_t n = (size_t)b->nrows;
  memcpy(t->id + t->rows,
         (const int32_t *)cols[0]->buffers[1] + cols[0]->offset, n * 4);
  memcpy(t->balance + t->rows,
         (const int32_t *)cols[1]->buffers[1] + cols[1]->offset, n * 4);
  memcpy(t->rate + t->rows,
         (const float *)cols[2]->buffers[1] + cols[2]->offset, n * 4);
  for (int64_t i = 0; i < b->nrows; i++)
    t->email_off[t->rows + i] = (int32_t)(t->email_bytes + eo[i] - eo[0]);
  memcpy(t->email + t->email_bytes, (const char *)e->buffers[2] + eo[0],
         (size_t)bytes);
  t->rows += b->nrows;
  t->email_bytes += bytes;
  t->email_off[t->rows] = (int32_t)t->email_bytes;
  return 0;
}

static int table_read(table *t, const char *path) {
  wudf_error err;
  wudf_error_init(&err);
  wudf_csv_reader *r = NULL;
  wudf_csv_batch b;
  memset(&b, 0, sizeof b);
  csv_cols c;
  int rc = -1;
  if (wudf_csv_open(path, NULL, &r, &err) || locate(r, &c, &err)) goto fail;
  for (;;) {
    if (wudf_csv_read_batch(r, 65536, &b, &err)) goto fail;
    if (b.nrows == 0) break;
    if (append_batch(t, &b, &c)) goto fail;
  }
  rc = 0;
fail:
  if (rc && err.message[0]) fprintf(stderr, "compare_mem: %s\n", err.message);
  wudf_csv_batch_reset(&b);
  wudf_csv_reader_free(r);
  return rc;
}

static int dump_one(const char *dir, const char *name, const void *p,
                    size_t bytes) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(p, 1, bytes, f) == bytes;
  if (f && fclose(f)) ok = 0;
  if (!ok) fprintf(stderr, "compare_mem: cannot write %s\n", path);
  return ok ? 0 : -1;
}

static int table_dump(const table *t, const char *dir) {
  size_t n = (size_t)t->rows;
  if (dump_one(dir, "id.i32", t->id, n * 4) ||
      dump_one(dir, "balance.i32", t->balance, n * 4) ||
      dump_one(dir, "rate.f32", t->rate, n * 4) ||
      dump_one(dir, "email.off", t->email_off, (n + 1) * 4) ||
      dump_one(dir, "email.dat", t->email, (size_t)t->email_bytes))
    return -1;
  return 0;
}

/* ---- Arrow views of the data -------------------------------------------- */

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
  c->schema.flags = ARROW_FLAG_NULLABLE;
  c->schema.release = release_schema_view;
}

/* ---- workloads ---------------------------------------------------------- */

typedef enum result_kind { R_FLOAT, R_BITS, R_UTF8, R_INT } result_kind;

typedef struct workload {
  const char *name, *wasm, *udf;
  bool filter;
  result_kind kind;
  native_fn native, native_o3; /* gcc -O2, gcc -O3 */
  const column *cols[2];
  uint32_t ncols;
} workload;

typedef struct bench {
  table t;
  column id, balance, rate, email;
  int64_t batch;
  int runs;
  const char *wasm_dir, *only;
  wudf_engine *engine;
} bench;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool bit(const void *bits, int64_t i) {
  return (((const uint8_t *)bits)[i >> 3] >> (i & 7)) & 1;
}

/* Adds one native batch to *d: the sum of the results (MAP numbers), the
 * rows selected (FILTER) or the bytes of the results (utf8), accumulated in
 * row order as compare_js.mjs does. */
static void digest_native(const workload *w, const out_buf *o, int64_t n,
                          double *d) {
  if (w->kind == R_UTF8) *d += (double)o->bytes;
  for (int64_t i = 0; i < n && w->kind != R_UTF8; i++) switch (w->kind) {
      case R_FLOAT:
        *d += ((const float *)o->values)[i];
        break;
      case R_INT:
        *d += ((const int32_t *)o->values)[i];
        break;
      default:
        *d += bit(o->values, i);
        break;
    }
}

/* Whether a wudf result equals the native one, row for row. */
static bool same_result(const workload *w, const struct ArrowArray *a,
                        const out_buf *o, int64_t n) {
  if (a->length != n || a->null_count != 0) return false;
  if (w->kind == R_BITS) {
    for (int64_t i = 0; i < n; i++)
      if (bit(a->buffers[1], a->offset + i) != bit(o->values, i)) return false;
    return true;
  }
  if (w->kind != R_UTF8)
    return !memcmp((const char *)a->buffers[1] + a->offset * 4, o->values,
                   (size_t)n * 4);
  const int32_t *ao = (const int32_t *)a->buffers[1] + a->offset;
  const int32_t *oo = o->values;
  for (int64_t i = 0; i < n; i++) {
    int32_t len = ao[i + 1] - ao[i];
    if (len != oo[i + 1] - oo[i] || memcmp((const char *)a->buffers[2] + ao[i],
                                           o->data + oo[i], (size_t)len))
      return false;
  }
  return true;
}

static int wudf_batch(wudf_instance *inst, const workload *w, int64_t at,
                      int64_t n, struct ArrowArray *out) {
  struct ArrowArray arrays[2];
  const struct ArrowArray *args[2];
  const struct ArrowSchema *schemas[2];
  for (uint32_t j = 0; j < w->ncols; j++) {
    arrays[j] = w->cols[j]->array;
    arrays[j].offset = at;
    arrays[j].length = n;
    args[j] = &arrays[j];
    schemas[j] = &w->cols[j]->schema;
  }
  wudf_error err;
  wudf_error_init(&err);
  wudf_status st = w->filter ? wudf_instance_filter(inst, w->udf, args, schemas,
                                                    w->ncols, out, NULL, &err)
                             : wudf_instance_map(inst, w->udf, args, schemas,
                                                 w->ncols, out, NULL, &err);
  if (st) fprintf(stderr, "compare_mem: %s: %s\n", w->udf, err.message);
  return st ? -1 : 0;
}

static int64_t batch_rows(const bench *b, int64_t at) {
  return b->t.rows - at < b->batch ? b->t.rows - at : b->batch;
}

/* Untimed: every wudf batch against the native one; *digest over all. */
static int check(const bench *b, wudf_instance *inst, const workload *w,
                 double *digest) {
  *digest = 0;
  for (int64_t at = 0; at < b->t.rows; at += b->batch) {
    int64_t n = batch_rows(b, at);
    out_buf o = {0};
    struct ArrowArray a;
    if (w->native(&b->t, at, n, &o)) return -1;
    int rc = wudf_batch(inst, w, at, n, &a);
    bool same = !rc && same_result(w, &a, &o, n);
    digest_native(w, &o, n, digest);
    out_free(&o);
    if (!rc) a.release(&a);
    if (!same) {
      fprintf(stderr,
              "compare_mem: %s: the wudf result differs from the "
              "native one in rows %lld..%lld\n",
              w->name, (long long)at, (long long)(at + n - 1));
      return -1;
    }
  }
  return 0;
}

static int time_native(const bench *b, native_fn fn, double *ms) {
  double t0 = now_ms();
  for (int64_t at = 0; at < b->t.rows; at += b->batch) {
    out_buf o = {0};
    if (fn(&b->t, at, batch_rows(b, at), &o)) return -1;
    consume(o.values);
    consume(o.data);
    out_free(&o);
  }
  *ms = now_ms() - t0;
  return 0;
}

static int time_wudf(const bench *b, wudf_instance *inst, const workload *w,
                     double *ms) {
  double t0 = now_ms();
  for (int64_t at = 0; at < b->t.rows; at += b->batch) {
    struct ArrowArray a;
    if (wudf_batch(inst, w, at, batch_rows(b, at), &a)) return -1;
    a.release(&a);
  }
  *ms = now_ms() - t0;
  return 0;
}

static void print_result(const bench *b, const workload *w, const char *engine,
                         const double *ms, double digest, double load_ms) {
  printf(
      "{\"workload\":\"%s\",\"engine\":\"%s\",\"rows\":%lld,"
      "\"batch\":%lld,\"threads\":1,\"digest\":%.17g",
      w->name, engine, (long long)b->t.rows, (long long)b->batch, digest);
  if (load_ms >= 0) printf(",\"load_ms\":%.3f", load_ms);
  printf(",\"ms\":[");
  for (int r = 0; r < b->runs; r++) printf("%s%.4f", r ? "," : "", ms[r]);
  printf("]}\n");
  fflush(stdout);
}

static int open_module(bench *b, const workload *w, wudf_module **m,
                       wudf_instance **inst, double *load_ms) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", b->wasm_dir, w->wasm);
  wudf_error err;
  wudf_error_init(&err);
  double t0 = now_ms();
  if (wudf_module_load_file(b->engine, path, m, &err) ||
      wudf_instance_new(*m, NULL, inst, &err)) {
    fprintf(stderr, "compare_mem: %s: %s\n", path, err.message);
    return -1;
  }
  *load_ms = now_ms() - t0;
  return 0;
}

static int run_workload(bench *b, const workload *w) {
  wudf_module *m = NULL;
  wudf_instance *inst = NULL;
  double native_ms[MAX_RUNS], o3_ms[MAX_RUNS], wudf_ms[MAX_RUNS], digest,
      load_ms;
  int rc = open_module(b, w, &m, &inst, &load_ms);
  if (!rc) rc = check(b, inst, w, &digest);
  /* Alternating, so that a noisy moment hits both sides alike. */
  for (int r = 0; !rc && r < b->runs; r++) {
    rc = time_native(b, w->native, &native_ms[r]);
    if (!rc) rc = time_wudf(b, inst, w, &wudf_ms[r]);
    if (!rc) rc = time_native(b, w->native_o3, &o3_ms[r]);
  }
  if (!rc) {
    print_result(b, w, "native", native_ms, digest, -1);
    print_result(b, w, "wudf", wudf_ms, digest, load_ms);
    print_result(b, w, "native-o3", o3_ms, digest, -1);
  }
  wudf_instance_free(inst);
  wudf_module_free(m);
  return rc;
}

static int run_all(bench *b) {
  const table *t = &b->t;
  column_init(&b->id, "i", "id", t->rows, t->id, NULL);
  column_init(&b->balance, "i", "balance", t->rows, t->balance, NULL);
  column_init(&b->rate, "f", "rate", t->rows, t->rate, NULL);
  column_init(&b->email, "u", "email", t->rows, t->email_off, t->email);
  const workload ws[] = {
      {"adj_bal",
       "calculate_adj_bal.wasm",
       "calculate_adj_bal",
       false,
       R_FLOAT,
       native_o2.adj_bal,
       native_o3.adj_bal,
       {&b->balance, &b->rate},
       2},
      {"filter",
       "is_rich.wasm",
       "is_rich",
       true,
       R_BITS,
       native_o2.is_rich,
       native_o3.is_rich,
       {&b->balance, NULL},
       1},
      {"email_domain",
       "email_domain.wasm",
       "email_domain",
       false,
       R_UTF8,
       native_o2.email_domain,
       native_o3.email_domain,
       {&b->email, NULL},
       1},
      {"add_two",
       "add_two.wasm",
       "add_two",
       false,
       R_INT,
       native_o2.add_two,
       native_o3.add_two,
       {&b->id, NULL},
       1},
  };
  for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
    if ((!b->only || !strcmp(b->only, ws[i].name)) && run_workload(b, &ws[i]))
      return -1;
  return 0;
}

/* ---- main --------------------------------------------------------------- */

typedef struct options {
  const char *csv, *wasm_dir, *dump, *only;
  int64_t batch;
  int runs;
} options;

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
  o->batch = 8192;
  o->runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *a = argv[i], *val = argv[i + 1];
    if (!strcmp(a, "--csv"))
      o->csv = val;
    else if (!strcmp(a, "--wasm"))
      o->wasm_dir = val;
    else if (!strcmp(a, "--dump"))
      o->dump = val;
    else if (!strcmp(a, "--only"))
      o->only = val;
    else if (!strcmp(a, "--runs") && !parse_int(val, 1, MAX_RUNS, &v))
      o->runs = (int)v;
    else if (!strcmp(a, "--batch") && !parse_int(val, 8, 1 << 24, &v))
      o->batch = v;
    else
      return -1;
  }
  return argc % 2 == 1 && o->csv && o->wasm_dir ? 0 : -1;
}

int main(int argc, char **argv) {
  static bench b;
  options o = {0};
  if (parse_options(argc, argv, &o)) {
    fprintf(stderr,
            "usage: compare_mem --csv FILE --wasm DIR [--runs K] "
            "[--batch ROWS] [--dump DIR] [--only WORKLOAD]\n");
    return 2;
  }
  b.batch = o.batch;
  b.runs = o.runs;
  b.wasm_dir = o.wasm_dir;
  b.only = o.only;
  wudf_error err;
  wudf_error_init(&err);
  double t0 = now_ms();
  int rc = table_read(&b.t, o.csv);
  if (!rc)
    fprintf(stderr, "compare_mem: %lld rows read in %.0f ms\n",
            (long long)b.t.rows, now_ms() - t0);
  if (!rc && o.dump) rc = table_dump(&b.t, o.dump);
  if (!rc && wudf_engine_new(NULL, &b.engine, &err)) {
    fprintf(stderr, "compare_mem: %s\n", err.message);
    rc = -1;
  }
  if (!rc) rc = run_all(&b);
  wudf_engine_free(b.engine);
  table_free(&b.t);
  return rc ? 1 : 0;
}
