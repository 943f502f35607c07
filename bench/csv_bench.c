/*
 * CSV throughput: generates a CSV file (default 100 MB; columns int32,
 * utf8, float64 with two decimals, bool, int64), then times
 *   parse: wudf_csv_open + every batch of 64K rows (Arrow columns built),
 *   write: those batches written back as CSV and as JSONL to /dev/null,
 *   float:  wudf_format_double / wudf_format_float alone.
 * Prints MB/s of CSV text. Build (from the repository root):
 *   cc -O2 -D_GNU_SOURCE -Iinclude -Isrc bench/csv_bench.c build/libwudf.a \
 *      -o build/csv_bench -lm -lpthread -ldl -lrt
 *   build/csv_bench [MB] [path]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "csv/csv.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int generate(const char *path, long bytes) {
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  static const char *first[] = {"Florette", "Stacy",  "Maribeth", "Emmi",
                                "Lizette",  "Herold", "Theadora", "Clarabelle"};
  fputs("id,name,balance,active,big\n", f);
  unsigned long long x = 88172645463325252ull;
  for (long i = 0; ftell(f) < bytes; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    fprintf(f, "%ld,\"%s, %s\",%llu.%02llu,%s,%llu\n", i, first[x % 8],
            first[(x >> 8) % 8], (x >> 16) % 100000, (x >> 40) % 100,
            (x >> 50) & 1 ? "true" : "false", x >> 3);
  }
  return fclose(f);
}

int main(int argc, char **argv) {
  long mb = argc > 1 ? atol(argv[1]) : 100;
  const char *path = argc > 2 ? argv[2] : "/tmp/wudf_csv_bench.csv";
  if (generate(path, mb * 1000000L) != 0) return 1;
  FILE *probe = fopen(path, "rb");
  fseek(probe, 0, SEEK_END);
  double size = (double)ftell(probe) / 1e6;
  fclose(probe);

  wudf_error err;
  wudf_error_init(&err);
  size_t cap = 4096, n = 0;
  wudf_csv_batch *batches = calloc(cap, sizeof *batches);
  double t0 = now();
  wudf_csv_reader *r;
  if (wudf_csv_open(path, NULL, &r, &err) != WUDF_OK) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int64_t rows = 0;
  for (;;) {
    if (n == cap) return 1;
    if (wudf_csv_read_batch(r, 65536, &batches[n], &err) != WUDF_OK) {
      fprintf(stderr, "%s\n", err.message);
      return 1;
    }
    if (batches[n].nrows == 0) break;
    rows += batches[n++].nrows;
  }
  double parse = now() - t0;
  const wudf_csv_schema *s = wudf_csv_reader_schema(r);
  printf("file %.1f MB, %lld rows; parse %.3f s = %.0f MB/s\n", size,
         (long long)rows, parse, size / parse);

  for (int fmt = 0; fmt < 2; fmt++) {
    FILE *out = fopen("/dev/null", "w");
    wudf_csv_writer *w;
    t0 = now();
    wudf_csv_writer_new(out, (wudf_output_format)fmt, s->ncols,
                        (const char *const *)s->names, s->types, &w, &err);
    for (size_t i = 0; i < n; i++) {
      const struct ArrowArray *cols[16];
      for (uint32_t k = 0; k < batches[i].ncols; k++)
        cols[k] = &batches[i].columns[k];
      wudf_csv_writer_write(w, cols, NULL, &err);
    }
    wudf_csv_writer_finish(w, &err);
    double wt = now() - t0;
    wudf_csv_writer_free(w);
    fclose(out);
    printf("write %s: %.3f s = %.0f MB/s (of input CSV)\n",
           fmt == 0 ? "csv  " : "jsonl", wt, size / wt);
  }
  for (size_t i = 0; i < n; i++) wudf_csv_batch_reset(&batches[i]);
  free(batches);
  wudf_csv_reader_free(r);

  char buf[32];
  size_t total = 0;
  unsigned long long x = 1;
  t0 = now();
  for (int i = 0; i < 5000000; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    total += (size_t)wudf_format_double((double)(x >> 20) / 977.0, buf, 32);
  }
  double fd = now() - t0;
  t0 = now();
  for (int i = 0; i < 5000000; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    total += (size_t)wudf_format_float((float)(x >> 40) / 97.0f, buf, 32);
  }
  double ff = now() - t0;
  printf("format_double %.0f ns, format_float %.0f ns per value (%zu)\n",
         fd / 5e6 * 1e9, ff / 5e6 * 1e9, total);
  remove(path);
  return 0;
}
