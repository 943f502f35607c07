/* libFuzzer target for the CSV layer: any bytes, read as a CSV file, must
 * give batches or a clean error, and every batch must write as CSV, JSONL
 * and a table. The first byte picks the options (delimiter, read buffer,
 * sample size, batch size, a forced column type). Also checks that
 * wudf_format_double/float read back exactly on the input's bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "csv/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_floats(const uint8_t *data, size_t size) {
  char buf[32];
  for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
    double d;
    memcpy(&d, data + i, 8);
    wudf_format_double(d, buf, sizeof buf);
    double back = strtod(buf, NULL);
    if (!isnan(d) && memcmp(&back, &d, 8) != 0) __builtin_trap();
    float f;
    memcpy(&f, data + i, 4);
    wudf_format_float(f, buf, sizeof buf);
    float fback = strtof(buf, NULL);
    if (!isnan(f) && memcmp(&fback, &f, 4) != 0) __builtin_trap();
  }
}

/* The reader's promises about a batch. */
static void check_batch(const wudf_csv_batch *b, int64_t max_rows,
                        uint32_t ncols) {
  if (b->nrows < 0 || b->nrows > max_rows || b->ncols != ncols)
    __builtin_trap();
  for (uint32_t k = 0; k < b->ncols; k++) {
    wudf_column c;
    if (wudf_column_from_arrow(&b->columns[k], &b->schemas[k], k, &c, NULL) !=
            WUDF_OK ||
        c.length != b->nrows)
      __builtin_trap();
    for (int64_t i = 0; c.type == WUDF_TYPE_UTF8 && i < c.length; i++) {
      size_t n;
      const uint8_t *s = wudf_column_utf8(&c, i, &n);
      if (!wudf_utf8_valid(s, n)) __builtin_trap();
    }
  }
  for (int64_t i = 1; i < b->nrows; i++)
    if (b->lines[i] <= b->lines[i - 1]) __builtin_trap();
}

static void write_all(wudf_csv_writer **w, const wudf_csv_batch *b) {
  const struct ArrowArray *cols[64];
  if (b->ncols > 64) return;
  for (uint32_t k = 0; k < b->ncols; k++) cols[k] = &b->columns[k];
  /* A selection: rows where the first column is not NULL. */
  struct ArrowArray sel = {0};
  const struct ArrowArray *selp = NULL;
  if (b->ncols > 0 && wudf_arrow_new_fixed(WUDF_TYPE_BOOL, b->nrows, false,
                                           &sel, NULL) == WUDF_OK) {
    wudf_column c;
    if (wudf_column_from_arrow(&b->columns[0], &b->schemas[0], 0, &c, NULL) ==
        WUDF_OK) {
      uint8_t *bits = (uint8_t *)(uintptr_t)sel.buffers[1];
      for (int64_t i = 0; i < b->nrows; i++)
        if (wudf_column_valid(&c, i)) bits[i >> 3] |= (uint8_t)(1u << (i & 7));
      selp = &sel;
    }
  }
  for (int f = 0; f < 3; f++)
    if (w[f]) wudf_csv_writer_write(w[f], cols, f == 1 ? selp : NULL, NULL);
  if (sel.release) sel.release(&sel);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FILE *null_out;
  if (!null_out) null_out = fopen("/dev/null", "w");
  if (size < 2 || !null_out) return 0;
  check_floats(data, size);
  static const char delims[4] = {',', ';', '\t', '|'};
  static const size_t bufs[4] = {16, 61, 4096, 1 << 20};
  static const int64_t samples[4] = {10000, 1, 3, 0};
  static const int64_t batches[4] = {1000, 1, 2, 7};
  uint8_t o = data[0];
  wudf_csv_options opts;
  wudf_csv_options_init(&opts);
  opts.delimiter = delims[o & 3];
  opts.buffer_bytes = bufs[(o >> 2) & 3];
  opts.sample_rows = samples[(o >> 4) & 3];
  int64_t max_rows = batches[(o >> 6) & 3];
  FILE *f = fmemopen((void *)(uintptr_t)(data + 1), size - 1, "rb");
  if (!f) return 0;
  wudf_csv_reader *r = NULL;
  wudf_csv_writer *w[3] = {NULL, NULL, NULL};
  if (wudf_csv_open_file(f, "fuzz.csv", &opts, &r, NULL) != WUDF_OK) goto done;
  const wudf_csv_schema *s = wudf_csv_reader_schema(r);
  if (s->ncols > 1 && (o & 0x30) == 0x30) /* sometimes force a type */
    wudf_csv_reader_set_type(r, 1, (wudf_type)(o % 6), NULL);
  for (int k = 0; k < 3; k++)
    wudf_csv_writer_new(null_out, (wudf_output_format)k, s->ncols,
                        (const char *const *)s->names, s->types, &w[k], NULL);
  for (;;) {
    wudf_csv_batch b = {0};
    if (wudf_csv_read_batch(r, max_rows, &b, NULL) != WUDF_OK) break;
    check_batch(&b, max_rows, s->ncols);
    int64_t n = b.nrows;
    write_all(w, &b);
    wudf_csv_batch_reset(&b);
    if (n == 0) break;
  }
  for (int k = 0; k < 3; k++)
    if (w[k]) wudf_csv_writer_finish(w[k], NULL);
done:
  for (int k = 0; k < 3; k++) wudf_csv_writer_free(w[k]);
  wudf_csv_reader_free(r);
  fclose(f);
  return 0;
}
