/* wudf_run_schema_read(): the columns of a CSV file as a run sees them. */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "run/run_internal.h"

static wudf_status copy_schema(const wudf_csv_schema *s, wudf_run_schema *out,
                               wudf_error *err) {
  out->names = wudf_calloc(s->ncols ? s->ncols : 1, sizeof *out->names);
  out->types = wudf_calloc(s->ncols ? s->ncols : 1, sizeof *out->types);
  if (!out->names || !out->types)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  out->ncols = s->ncols;
  for (uint32_t i = 0; i < s->ncols; i++) {
    out->names[i] = wudf_strdup(s->names[i]);
    out->types[i] = s->types[i];
    if (!out->names[i]) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  return WUDF_OK;
}

wudf_status wudf_run_schema_read(const char *path, char delimiter,
                                 int64_t sample_rows, wudf_run_schema *out,
                                 wudf_error *err) {
  if (!path || !out) return wudf_fail(err, WUDF_ERR_ARG, "path or out is NULL");
  memset(out, 0, sizeof *out);
  wudf_csv_options co;
  wudf_csv_options_init(&co);
  if (delimiter) co.delimiter = delimiter;
  if (sample_rows > 0) co.sample_rows = sample_rows;
  wudf_csv_reader *r = NULL;
  wudf_status st = wudf_csv_open(path, &co, &r, err);
  if (st == WUDF_OK) st = copy_schema(wudf_csv_reader_schema(r), out, err);
  wudf_csv_reader_free(r);
  if (st != WUDF_OK) wudf_run_schema_reset(out);
  return st;
}

void wudf_run_schema_reset(wudf_run_schema *s) {
  if (!s) return;
  for (uint32_t i = 0; s->names && i < s->ncols; i++) wudf_free(s->names[i]);
  wudf_free(s->names);
  wudf_free(s->types);
  memset(s, 0, sizeof *s);
}
