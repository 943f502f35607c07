/*
 * The CSV reader: header, type inference over a sample, and batches.
 *
 * Records are scanned in chunks: up to CHUNK_ROWS records whose fields (as
 * spans) all lie in the read buffer at once. A chunk is converted column by
 * column into the batch, then the buffer is compacted and refilled. The
 * sample is simply the first chunk, scanned with a buffer allowed to grow
 * until it holds sample_rows records: inference reads its spans, and the
 * first batches are converted from it, so the file is read once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "csv/csv_internal.h"

#define CHUNK_ROWS 8192
#define DEFAULT_BUFFER ((size_t)1 << 20)

struct wudf_csv_reader {
  wudf_csv_scanner in;
  FILE *owned; /* closed on free when the reader opened the file */
  char *name;
  wudf_csv_options opts;
  wudf_csv_schema schema;
  bool *forced;
  int64_t sampled;
  /* The chunk: chunk_rows records of ncols spans, rows before cursor done. */
  wudf_csv_span *spans;
  int64_t *lines;
  int64_t chunk_rows, chunk_cap, cursor;
  bool started;
  bool at_eof; /* the scanner returned its last record */
  /* A malformed record ends the chunk; its error comes when reached. */
  wudf_status pending;
  wudf_error pending_err;
  /* Any error finishes the reader. */
  wudf_status failed;
  wudf_error failure;
};

void wudf_csv_options_init(wudf_csv_options *o) {
  if (!o) return;
  o->delimiter = ',';
  o->sample_rows = 10000;
  o->buffer_bytes = DEFAULT_BUFFER;
}

static wudf_status check_options(const wudf_csv_options *o, wudf_error *err) {
  unsigned char d = (unsigned char)o->delimiter;
  if (d == 0 || d >= 0x80 || d == '"' || d == '\r' || d == '\n' ||
      (d >= '0' && d <= '9') || ((d | 0x20) >= 'a' && (d | 0x20) <= 'z') ||
      d == '.' || d == '+' || d == '-')
    return wudf_fail(err, WUDF_ERR_ARG,
                     "CSV delimiter 0x%02x is not allowed (it must be ASCII "
                     "and not a quote, line end, letter, digit, '.', '+' or "
                     "'-')",
                     d);
  if (o->sample_rows < 0)
    return wudf_fail(err, WUDF_ERR_ARG, "sample_rows is negative (%lld)",
                     (long long)o->sample_rows);
  return WUDF_OK;
}

/* ---- Chunks ------------------------------------------------------------- */

static wudf_status chunk_reserve(wudf_csv_reader *r, int64_t rows,
                                 wudf_error *err) {
  if (rows <= r->chunk_cap) return WUDF_OK;
  uint32_t nc = r->schema.ncols ? r->schema.ncols : 1;
  int64_t cap = r->chunk_cap * 2 > rows ? r->chunk_cap * 2 : rows;
  if (cap < 64) cap = 64;
  if ((uint64_t)cap > SIZE_MAX / sizeof(wudf_csv_span) / nc)
    return wudf_fail(err, WUDF_ERR_LIMIT, "%s: too many columns and rows",
                     r->name);
  wudf_csv_span *s = wudf_realloc(r->spans, (size_t)cap * nc * sizeof *s);
  if (s) r->spans = s;
  int64_t *l = s ? wudf_realloc(r->lines, (size_t)cap * sizeof *l) : NULL;
  if (!l)
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "%s: out of memory for %lld scanned rows", r->name,
                     (long long)cap);
  r->lines = l;
  r->chunk_cap = cap;
  return WUDF_OK;
}

void wudf_csv_locate(wudf_error *err, const char *name, int64_t line) {
  if (!err) return;
  wudf_error_set_name(err->input_name, name);
  err->input_line = err->input_line_end = line;
}

static void set_pending(wudf_csv_reader *r, wudf_status st) {
  r->pending = st;
}

static void field_count_error(wudf_csv_reader *r, const wudf_csv_record *rec) {
  wudf_fail(&r->pending_err, WUDF_ERR_MALFORMED,
            "%s: line %lld: %u field%s, the header has %u", r->name,
            (long long)rec->line, rec->nfields, rec->nfields == 1 ? "" : "s",
            r->schema.ncols);
  wudf_csv_locate(&r->pending_err, r->name, rec->line);
  set_pending(r, WUDF_ERR_MALFORMED);
}

/* "column 'name'", or "column N" while the header is being read. */
static void column_label(const wudf_csv_reader *r, uint32_t i, char *buf,
                         size_t size) {
  if (i < r->schema.ncols)
    snprintf(buf, size, "column '%s'", r->schema.names[i]);
  else
    snprintf(buf, size, "column %u", i + 1);
}

static void scan_error(wudf_csv_reader *r, const wudf_csv_record *rec) {
  char col[160], what[32];
  column_label(r, rec->error_field, col, sizeof col);
  uint8_t c = rec->error_char;
  if (c >= 0x20 && c < 0x7f)
    snprintf(what, sizeof what, "'%c'", (char)c);
  else
    snprintf(what, sizeof what, "byte 0x%02x", c);
  if (rec->error == WUDF_CSV_ERR_UNTERMINATED)
    wudf_fail(&r->pending_err, WUDF_ERR_MALFORMED,
              "%s: line %lld, %s: unterminated quote (the quoted field is "
              "still open at the end of the file)",
              r->name, (long long)rec->error_line, col);
  else
    wudf_fail(&r->pending_err, WUDF_ERR_MALFORMED,
              "%s: line %lld, %s: %s after a closing quote (expected the "
              "delimiter or a line end)",
              r->name, (long long)rec->error_line, col, what);
  wudf_csv_locate(&r->pending_err, r->name, rec->error_line);
  set_pending(r, WUDF_ERR_MALFORMED);
}

/* Checks the UTF-8 of rows [0, chunk_rows); cuts the chunk at the first bad
 * row and makes its error pending. */
static void check_utf8(wudf_csv_reader *r) {
  uint32_t nc = r->schema.ncols;
  for (int64_t i = 0; i < r->chunk_rows; i++) {
    const wudf_csv_span *row = r->spans + (size_t)i * nc;
    for (uint32_t c = 0; c < nc; c++) {
      if (wudf_utf8_valid(r->in.buf + row[c].off, wudf_csv_span_len(row[c])))
        continue;
      wudf_fail(&r->pending_err, WUDF_ERR_MALFORMED,
                "%s: line %lld, column '%s': invalid UTF-8", r->name,
                (long long)r->lines[i], r->schema.names[c]);
      wudf_csv_locate(&r->pending_err, r->name, r->lines[i]);
      set_pending(r, WUDF_ERR_MALFORMED);
      r->chunk_rows = i;
      return;
    }
  }
}

/* Scans the next chunk of at most `limit` records; grow: the buffer may
 * grow to hold them all (the sample). */
static wudf_status scan_chunk(wudf_csv_reader *r, int64_t limit, bool grow,
                              wudf_error *err) {
  uint32_t nc = r->schema.ncols;
  wudf_csv_scanner_compact(&r->in, r->opts.buffer_bytes);
  r->chunk_rows = r->cursor = 0;
  size_t start = r->in.pos;
  while (r->chunk_rows < limit && !r->at_eof) {
    wudf_status st = chunk_reserve(r, r->chunk_rows + 1, err);
    wudf_csv_record rec;
    wudf_csv_rec kind = WUDF_CSV_REC_EOF;
    if (st == WUDF_OK)
      st = wudf_csv_next_record(
          &r->in, r->name, r->spans + (size_t)r->chunk_rows * nc, nc,
          r->chunk_rows > 0, grow, nc == 1, &rec, &kind, err);
    if (st != WUDF_OK) return st;
    if (kind == WUDF_CSV_REC_FULL) break;
    if (kind == WUDF_CSV_REC_EOF) r->at_eof = true;
    if (kind == WUDF_CSV_REC_ERROR) scan_error(r, &rec);
    if (kind == WUDF_CSV_REC_OK && rec.nfields != nc)
      field_count_error(r, &rec);
    if (kind != WUDF_CSV_REC_OK || r->pending != WUDF_OK) break;
    r->lines[r->chunk_rows++] = rec.line;
  }
  /* One pass over the chunk's bytes: ASCII needs no further check. */
  if (!wudf_csv_ascii(r->in.buf + start, r->in.pos - start)) check_utf8(r);
  return WUDF_OK;
}

/* ---- Header and inference ----------------------------------------------- */

/* One scan of the header into fields[0 .. maxf). It never compacts the
 * buffer (live), so that it can be scanned again from the same place. */
static wudf_status header_scan(wudf_csv_reader *r, wudf_csv_span *fields,
                               uint32_t maxf, wudf_csv_record *rec,
                               wudf_error *err) {
  wudf_csv_rec kind;
  wudf_status st = wudf_csv_next_record(&r->in, r->name, fields, maxf, true,
                                        true, false, rec, &kind, err);
  if (st != WUDF_OK) return st;
  if (kind == WUDF_CSV_REC_EOF)
    return wudf_fail(err, WUDF_ERR_MALFORMED,
                     "%s: the file is empty (no header row)", r->name);
  if (kind == WUDF_CSV_REC_ERROR) {
    scan_error(r, rec);
    if (err) *err = r->pending_err;
    return r->pending;
  }
  return WUDF_OK;
}

/* Counts the header's fields (storing none, so the buffer is untouched),
 * then scans it again into *fields. */
static wudf_status header_fields(wudf_csv_reader *r, wudf_csv_span **fields,
                                 wudf_csv_record *rec, wudf_error *err) {
  size_t pos = r->in.pos;
  int64_t line = r->in.line;
  wudf_status st = header_scan(r, NULL, 0, rec, err);
  if (st != WUDF_OK) return st;
  r->in.pos = pos;
  r->in.line = line;
  *fields = malloc((size_t)rec->nfields * sizeof **fields);
  if (!*fields)
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "%s: out of memory for a header of %u fields", r->name,
                     rec->nfields);
  return header_scan(r, *fields, rec->nfields, rec, err);
}

static char *name_of(const uint8_t *s, size_t n, uint32_t index) {
  char *name;
  if (n == 0) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "column%u", index + 1);
    return wudf_strdup(tmp);
  }
  name = wudf_malloc(n + 1);
  if (!name) return NULL;
  memcpy(name, s, n);
  name[n] = '\0';
  return name;
}

static wudf_status read_header(wudf_csv_reader *r, wudf_error *err) {
  wudf_csv_span *f = NULL;
  wudf_csv_record rec;
  wudf_status st = header_fields(r, &f, &rec, err);
  if (st != WUDF_OK) goto done;
  uint32_t n = rec.nfields;
  for (uint32_t i = 0; i < n; i++) {
    if (wudf_utf8_valid(r->in.buf + f[i].off, wudf_csv_span_len(f[i])))
      continue;
    st = wudf_fail(err, WUDF_ERR_MALFORMED,
                   "%s: line %lld, column %u: the header name is not valid "
                   "UTF-8",
                   r->name, (long long)rec.line, i + 1);
    wudf_csv_locate(err, r->name, rec.line);
    goto done;
  }
  r->schema.names = wudf_calloc(n, sizeof *r->schema.names);
  r->schema.types = wudf_calloc(n, sizeof *r->schema.types);
  r->forced = wudf_calloc(n, sizeof *r->forced);
  st = WUDF_ERR_NOMEM;
  if (!r->schema.names || !r->schema.types || !r->forced) goto nomem;
  r->schema.ncols = n;
  for (uint32_t i = 0; i < n; i++) {
    r->schema.types[i] = WUDF_TYPE_UTF8;
    r->schema.names[i] =
        name_of(r->in.buf + f[i].off, wudf_csv_span_len(f[i]), i);
    if (!r->schema.names[i]) goto nomem;
  }
  st = WUDF_OK;
  goto done;
nomem:
  wudf_fail(err, st, "%s: out of memory for the header", r->name);
done:
  wudf_free(f);
  return st;
}

static wudf_type type_of(wudf_csv_kind k) {
  switch (k) {
    case WUDF_CSV_KIND_INT32:
      return WUDF_TYPE_INT32;
    case WUDF_CSV_KIND_INT64:
      return WUDF_TYPE_INT64;
    case WUDF_CSV_KIND_FLOAT:
      return WUDF_TYPE_FLOAT64;
    case WUDF_CSV_KIND_BOOL:
      return WUDF_TYPE_BOOL;
    default:
      return WUDF_TYPE_UTF8;
  }
}

static void infer_types(wudf_csv_reader *r) {
  uint32_t nc = r->schema.ncols;
  for (uint32_t c = 0; c < nc; c++) {
    wudf_csv_kind k = WUDF_CSV_KIND_NONE;
    for (int64_t i = 0; i < r->chunk_rows && k != WUDF_CSV_KIND_TEXT; i++) {
      wudf_csv_span s = r->spans[(size_t)i * nc + c];
      k = wudf_csv_kind_merge(
          k, wudf_csv_classify(r->in.buf + s.off, wudf_csv_span_len(s)));
    }
    r->schema.types[c] = type_of(k);
  }
  r->sampled = r->chunk_rows;
}

/* ---- Open and free ------------------------------------------------------ */

static wudf_status reader_new(FILE *f, const char *name,
                              const wudf_csv_options *opts,
                              wudf_csv_reader **out, wudf_error *err) {
  wudf_csv_reader *r = wudf_calloc(1, sizeof *r);
  if (!r) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a reader");
  wudf_csv_options_init(&r->opts);
  if (opts) r->opts = *opts;
  wudf_status st = check_options(&r->opts, err);
  if (st == WUDF_OK && !(r->name = wudf_strdup(name ? name : "input")))
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a reader");
  if (st == WUDF_OK)
    st = wudf_csv_scanner_init(&r->in, f, r->opts.buffer_bytes,
                               (uint8_t)r->opts.delimiter, err);
  if (st != WUDF_OK) {
    wudf_csv_reader_free(r);
    return st;
  }
  *out = r;
  return WUDF_OK;
}

static wudf_status reader_start(wudf_csv_reader *r, wudf_error *err) {
  wudf_status st = wudf_csv_scanner_skip_bom(&r->in, r->name, err);
  if (st == WUDF_OK) st = read_header(r, err);
  if (st != WUDF_OK) return st;
  if (r->opts.sample_rows == 0) return WUDF_OK;
  st = scan_chunk(r, r->opts.sample_rows, true, err);
  if (st != WUDF_OK) return st;
  if (r->pending != WUDF_OK) {
    if (err) *err = r->pending_err;
    return r->pending;
  }
  infer_types(r);
  return WUDF_OK;
}

wudf_status wudf_csv_open_file(FILE *f, const char *name,
                               const wudf_csv_options *opts,
                               wudf_csv_reader **out, wudf_error *err) {
  if (!f || !out) return wudf_fail(err, WUDF_ERR_ARG, "file or out is NULL");
  *out = NULL;
  wudf_csv_reader *r = NULL;
  wudf_status st = reader_new(f, name, opts, &r, err);
  if (st != WUDF_OK) return st;
  st = reader_start(r, err);
  if (st != WUDF_OK) {
    wudf_csv_reader_free(r);
    return st;
  }
  *out = r;
  return WUDF_OK;
}

wudf_status wudf_csv_open(const char *path, const wudf_csv_options *opts,
                          wudf_csv_reader **out, wudf_error *err) {
  if (!path || !out) return wudf_fail(err, WUDF_ERR_ARG, "path or out is NULL");
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f)
    return wudf_fail(err, WUDF_ERR_IO, "cannot open '%s': %s", path,
                     strerror(errno));
  wudf_status st = wudf_csv_open_file(f, path, opts, out, err);
  if (st != WUDF_OK) {
    fclose(f);
    return st;
  }
  (*out)->owned = f;
  return WUDF_OK;
}

void wudf_csv_reader_own_file(wudf_csv_reader *r, FILE *f) {
  if (r) r->owned = f;
}

const wudf_csv_schema *wudf_csv_reader_schema(const wudf_csv_reader *r) {
  return r ? &r->schema : NULL;
}

wudf_status wudf_csv_reader_set_type(wudf_csv_reader *r, uint32_t col,
                                     wudf_type t, wudf_error *err) {
  if (!r) return wudf_fail(err, WUDF_ERR_ARG, "reader is NULL");
  if (r->started)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: column types can only be set before the first batch",
                     r->name);
  if (col >= r->schema.ncols)
    return wudf_fail(err, WUDF_ERR_ARG, "%s: no column %u (the file has %u)",
                     r->name, col + 1, r->schema.ncols);
  if ((unsigned)t > (unsigned)WUDF_TYPE_UTF8)
    return wudf_fail(err, WUDF_ERR_ARG, "%s: unknown type %d for column '%s'",
                     r->name, (int)t, r->schema.names[col]);
  r->schema.types[col] = t;
  r->forced[col] = true;
  return WUDF_OK;
}

void wudf_csv_reader_free(wudf_csv_reader *r) {
  if (!r) return;
  for (uint32_t i = 0; r->schema.names && i < r->schema.ncols; i++)
    wudf_free(r->schema.names[i]);
  wudf_free(r->schema.names);
  wudf_free(r->schema.types);
  wudf_free(r->forced);
  wudf_free(r->spans);
  wudf_free(r->lines);
  wudf_csv_scanner_reset(&r->in);
  if (r->owned) fclose(r->owned);
  wudf_free(r->name);
  wudf_free(r);
}

/* ---- Batches ------------------------------------------------------------ */

/* Converts up to `want` rows of the chunk (all that fit) into b. */
static wudf_status take_rows(wudf_csv_reader *r, wudf_csv_builder *b,
                             int64_t want, wudf_error *err) {
  uint32_t nc = r->schema.ncols;
  int64_t k = r->chunk_rows - r->cursor;
  if (k > want) k = want;
  const wudf_csv_span *spans = r->spans + (size_t)r->cursor * nc;
  k = wudf_csv_builder_fit(b, spans, k);
  if (k == 0) return WUDF_OK;
  wudf_csv_convert_ctx ctx = {r->name, r->schema.names, r->forced, r->sampled};
  wudf_status st = wudf_csv_builder_append(b, r->in.buf, spans,
                                           r->lines + r->cursor, k, &ctx, err);
  if (st == WUDF_OK) r->cursor += k;
  return st;
}

/* Fills b with up to max_rows rows. */
static wudf_status fill_batch(wudf_csv_reader *r, wudf_csv_builder *b,
                              int64_t max_rows, wudf_error *err) {
  while (b->rows < max_rows) {
    if (r->cursor == r->chunk_rows) {
      if (r->pending != WUDF_OK) {
        if (err) *err = r->pending_err;
        return r->pending;
      }
      if (r->at_eof) return WUDF_OK;
      wudf_status st = scan_chunk(r, CHUNK_ROWS, false, err);
      if (st != WUDF_OK) return st;
      continue;
    }
    int64_t before = b->rows;
    wudf_status st = take_rows(r, b, max_rows - b->rows, err);
    if (st != WUDF_OK) return st;
    if (b->rows == before) return WUDF_OK; /* utf8 data full */
  }
  return WUDF_OK;
}

wudf_status wudf_csv_read_batch(wudf_csv_reader *r, int64_t max_rows,
                                wudf_csv_batch *out, wudf_error *err) {
  if (out) memset(out, 0, sizeof *out);
  if (!r || !out || max_rows < 1)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "reader or batch is NULL, or max_rows (%lld) < 1",
                     (long long)max_rows);
  if (r->failed != WUDF_OK) {
    if (err) *err = r->failure;
    return r->failed;
  }
  r->started = true;
  wudf_error local;
  wudf_error_init(&local);
  wudf_csv_builder b;
  int64_t cap = max_rows < CHUNK_ROWS ? max_rows : CHUNK_ROWS;
  wudf_status st =
      wudf_csv_builder_init(&b, r->schema.ncols, r->schema.types, cap, &local);
  if (st == WUDF_OK) st = fill_batch(r, &b, max_rows, &local);
  if (st == WUDF_OK)
    st = wudf_csv_builder_finish(&b, r->schema.names, out, &local);
  wudf_csv_builder_reset(&b);
  if (st != WUDF_OK) {
    r->failed = st;
    r->failure = local;
  }
  if (err) *err = local;
  return st;
}
