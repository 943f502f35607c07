/*
 * Writing result batches as CSV, JSON Lines or a table for people. Rows go
 * into a large buffer, written with one fwrite() when it fills; numbers are
 * formatted by hand (format.c), not by printf.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "csv/csv_internal.h"

#define OUT_BUFFER ((size_t)1 << 20)
#define TABLE_MAX_NAME 40

struct wudf_csv_writer {
  FILE *f;
  wudf_output_format format;
  uint32_t ncols;
  char **names;
  wudf_type *types;
  struct ArrowSchema *schemas; /* to read the columns (no-op release) */
  char **keys;                 /* JSONL: "name": already escaped */
  size_t *key_lens;
  int *widths; /* TABLE: display width of each column */
  char *buf;
  size_t len, cap;
  int64_t rows;
  wudf_status failed;
  wudf_error failure;
};

/* ---- Output buffer ------------------------------------------------------ */

static wudf_status flush(wudf_csv_writer *w, wudf_error *err) {
  if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
    return wudf_fail(err, WUDF_ERR_IO, "writing the output failed: %s",
                     strerror(errno ? errno : EIO));
  w->len = 0;
  return WUDF_OK;
}

/* Room for n more bytes. */
static wudf_status reserve(wudf_csv_writer *w, size_t n, wudf_error *err) {
  if (w->cap - w->len >= n) return WUDF_OK;
  wudf_status st = flush(w, err);
  if (st != WUDF_OK || w->cap >= n) return st;
  char *p = wudf_realloc(w->buf, n);
  if (!p)
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "out of memory for a %zu-byte output value", n);
  w->buf = p;
  w->cap = n;
  return WUDF_OK;
}

/* Callers reserve first. */
static inline void put(wudf_csv_writer *w, const char *s, size_t n) {
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}

static inline void put_char(wudf_csv_writer *w, char c) {
  w->buf[w->len++] = c;
}

static void put_spaces(wudf_csv_writer *w, int n) {
  if (n <= 0) return;
  memset(w->buf + w->len, ' ', (size_t)n);
  w->len += (size_t)n;
}

/* ---- Values as text ----------------------------------------------------- */

/* Text of a non-NULL number or bool at row i into p (>= 32 bytes). */
static int scalar_text(const wudf_column *c, int64_t i, char *p) {
  switch (c->type) {
    case WUDF_TYPE_INT32:
      return wudf_csv_format_int64(wudf_column_int32(c, i), p);
    case WUDF_TYPE_INT64:
      return wudf_csv_format_int64(wudf_column_int64(c, i), p);
    case WUDF_TYPE_FLOAT32:
      return wudf_format_float(wudf_column_float32(c, i), p, 32);
    case WUDF_TYPE_FLOAT64:
      return wudf_format_double(wudf_column_float64(c, i), p, 32);
    default:
      if (wudf_column_bool(c, i)) {
        memcpy(p, "true", 4);
        return 4;
      }
      memcpy(p, "false", 5);
      return 5;
  }
}

static bool not_finite(const wudf_column *c, int64_t i) {
  if (c->type == WUDF_TYPE_FLOAT32) {
    float f = wudf_column_float32(c, i);
    return f - f != 0;
  }
  if (c->type == WUDF_TYPE_FLOAT64) {
    double d = wudf_column_float64(c, i);
    return d - d != 0;
  }
  return false;
}

/* ---- CSV ---------------------------------------------------------------- */

static bool csv_needs_quotes(const uint8_t *s, size_t n) {
  if (n == 0) return true; /* "" is the empty string, nothing is NULL */
  if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
    return true;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

/* Long values go out in slices, so the buffer never grows past a slice's
 * worst case (every byte escaped). */
#define SLICE ((size_t)1 << 16)

/* Text written as is. */
static wudf_status put_text(wudf_csv_writer *w, const uint8_t *s, size_t n,
                            wudf_error *err) {
  while (n > 0) {
    size_t k = n < SLICE ? n : SLICE;
    wudf_status st = reserve(w, k, err);
    if (st != WUDF_OK) return st;
    put(w, (const char *)s, k);
    s += k;
    n -= k;
  }
  return WUDF_OK;
}

/* The inside of a quoted CSV field: quotes doubled; 2n bytes reserved. */
static void csv_quoted_body(wudf_csv_writer *w, const uint8_t *s, size_t n) {
  const uint8_t *end = s + n;
  while (s < end) {
    const uint8_t *q = memchr(s, '"', (size_t)(end - s));
    size_t k = q ? (size_t)(q - s) + 1 : (size_t)(end - s);
    put(w, (const char *)s, k);
    if (q) put_char(w, '"'); /* the quote doubled */
    s += k;
  }
}

static wudf_status csv_string(wudf_csv_writer *w, const uint8_t *s, size_t n,
                              wudf_error *err) {
  if (!csv_needs_quotes(s, n)) return put_text(w, s, n, err);
  wudf_status st = reserve(w, 1, err);
  if (st != WUDF_OK) return st;
  put_char(w, '"');
  while (n > 0) {
    size_t k = n < SLICE ? n : SLICE;
    if ((st = reserve(w, 2 * k, err)) != WUDF_OK) return st;
    csv_quoted_body(w, s, k);
    s += k;
    n -= k;
  }
  if ((st = reserve(w, 1, err)) == WUDF_OK) put_char(w, '"');
  return st;
}

static wudf_status csv_cell(wudf_csv_writer *w, const wudf_column *c, int64_t i,
                            wudf_error *err) {
  if (!wudf_column_valid(c, i)) return WUDF_OK;
  if (c->type == WUDF_TYPE_UTF8) {
    size_t n;
    const uint8_t *s = wudf_column_utf8(c, i, &n);
    return csv_string(w, s, n, err);
  }
  wudf_status st = reserve(w, 32, err);
  if (st == WUDF_OK) w->len += (size_t)scalar_text(c, i, w->buf + w->len);
  return st;
}

static wudf_status csv_row(wudf_csv_writer *w, const wudf_column *cols,
                           int64_t i, wudf_error *err) {
  for (uint32_t k = 0; k < w->ncols; k++) {
    wudf_status st = reserve(w, 1, err);
    if (st == WUDF_OK && k > 0) put_char(w, ',');
    if (st == WUDF_OK) st = csv_cell(w, &cols[k], i, err);
    if (st != WUDF_OK) return st;
  }
  wudf_status st = reserve(w, 1, err);
  if (st == WUDF_OK) put_char(w, '\n');
  return st;
}

static wudf_status csv_header(wudf_csv_writer *w, wudf_error *err) {
  for (uint32_t k = 0; k < w->ncols; k++) {
    wudf_status st = reserve(w, 1, err);
    if (st == WUDF_OK && k > 0) put_char(w, ',');
    if (st == WUDF_OK)
      st =
          csv_string(w, (const uint8_t *)w->names[k], strlen(w->names[k]), err);
    if (st != WUDF_OK) return st;
  }
  wudf_status st = reserve(w, 1, err);
  if (st == WUDF_OK) put_char(w, '\n');
  return st;
}

/* ---- JSON Lines --------------------------------------------------------- */

/* The inside of a JSON string; the caller reserved 6 * n bytes. */
static void json_escape_body(wudf_csv_writer *w, const uint8_t *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      put_char(w, (char)c);
      continue;
    }
    put_char(w, '\\');
    switch (c) {
      case '"':
        put_char(w, '"');
        break;
      case '\\':
        put_char(w, '\\');
        break;
      case '\b':
        put_char(w, 'b');
        break;
      case '\f':
        put_char(w, 'f');
        break;
      case '\n':
        put_char(w, 'n');
        break;
      case '\r':
        put_char(w, 'r');
        break;
      case '\t':
        put_char(w, 't');
        break;
      default:
        put(w, "u00", 3);
        put_char(w, hex[c >> 4]);
        put_char(w, hex[c & 15]);
    }
  }
}

/* A JSON string, quotes included; the caller reserved 6 * n + 2 bytes. */
static void json_escape(wudf_csv_writer *w, const uint8_t *s, size_t n) {
  put_char(w, '"');
  json_escape_body(w, s, n);
  put_char(w, '"');
}

static wudf_status json_string(wudf_csv_writer *w, const uint8_t *s, size_t n,
                               wudf_error *err) {
  wudf_status st = reserve(w, 1, err);
  if (st != WUDF_OK) return st;
  put_char(w, '"');
  while (n > 0) {
    size_t k = n < SLICE ? n : SLICE;
    if ((st = reserve(w, 6 * k, err)) != WUDF_OK) return st;
    json_escape_body(w, s, k);
    s += k;
    n -= k;
  }
  if ((st = reserve(w, 1, err)) == WUDF_OK) put_char(w, '"');
  return st;
}

static wudf_status json_cell(wudf_csv_writer *w, const wudf_column *c,
                             uint32_t k, int64_t i, wudf_error *err) {
  if (wudf_column_valid(c, i) && c->type == WUDF_TYPE_UTF8) {
    size_t n;
    const uint8_t *s = wudf_column_utf8(c, i, &n);
    if (!wudf_utf8_valid(s, n))
      return wudf_fail(err, WUDF_ERR_ARG,
                       "column '%s', row %lld: the text is not valid UTF-8 "
                       "and cannot be written as JSON",
                       w->names[k], (long long)i);
    return json_string(w, s, n, err);
  }
  wudf_status st = reserve(w, 32, err);
  if (st != WUDF_OK) return st;
  if (!wudf_column_valid(c, i) || not_finite(c, i))
    put(w, "null", 4);
  else
    w->len += (size_t)scalar_text(c, i, w->buf + w->len);
  return WUDF_OK;
}

static wudf_status json_row(wudf_csv_writer *w, const wudf_column *cols,
                            int64_t i, wudf_error *err) {
  for (uint32_t k = 0; k < w->ncols; k++) {
    wudf_status st = reserve(w, w->key_lens[k] + 1, err);
    if (st != WUDF_OK) return st;
    put_char(w, k == 0 ? '{' : ',');
    put(w, w->keys[k], w->key_lens[k]);
    st = json_cell(w, &cols[k], k, i, err);
    if (st != WUDF_OK) return st;
  }
  wudf_status st = reserve(w, 3, err);
  if (st == WUDF_OK) put(w, w->ncols ? "}\n" : "{}\n", w->ncols ? 2 : 3);
  return st;
}

/* "name": for each column, escaped once. */
static wudf_status json_keys(wudf_csv_writer *w, wudf_error *err) {
  w->keys = wudf_calloc(w->ncols ? w->ncols : 1, sizeof *w->keys);
  w->key_lens = wudf_calloc(w->ncols ? w->ncols : 1, sizeof *w->key_lens);
  if (!w->keys || !w->key_lens) goto nomem;
  for (uint32_t k = 0; k < w->ncols; k++) {
    size_t n = strlen(w->names[k]);
    /* Escape into the output buffer, then move the text out of it. */
    wudf_status st = reserve(w, 6 * n + 3, err);
    if (st != WUDF_OK) return st;
    size_t at = w->len;
    json_escape(w, (const uint8_t *)w->names[k], n);
    put_char(w, ':');
    w->key_lens[k] = w->len - at;
    if (!(w->keys[k] = wudf_malloc(w->key_lens[k]))) goto nomem;
    memcpy(w->keys[k], w->buf + at, w->key_lens[k]);
    w->len = at;
  }
  return WUDF_OK;
nomem:
  return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a JSON writer");
}

/* ---- Table -------------------------------------------------------------- */

static bool is_number(wudf_type t) {
  return t != WUDF_TYPE_UTF8 && t != WUDF_TYPE_BOOL;
}

/* Display width of text, counting code points (not continuation bytes) and
 * control characters as their shown form. */
static int text_width(const uint8_t *s, size_t n) {
  int wd = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if ((c & 0xc0) == 0x80) continue;
    wd += c == '\n' || c == '\r' || c == '\t' ? 2 : 1;
  }
  return wd;
}

/* Writes one shown character starting at s[i]; returns its byte length. */
static size_t table_char(wudf_csv_writer *w, const uint8_t *s, size_t n,
                         size_t i) {
  uint8_t c = s[i];
  if (c == '\n' || c == '\r' || c == '\t') {
    put_char(w, '\\');
    put_char(w, c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
    return 1;
  }
  if (c < 0x20 || c == 0x7f) {
    put_char(w, '?');
    return 1;
  }
  size_t k = 1;
  while (i + k < n && k < 4 && (s[i + k] & 0xc0) == 0x80) k++;
  put(w, (const char *)s + i, k);
  return k;
}

/* Text cut to `width` display columns ("..." marks a cut), left-aligned;
 * padded to the width unless it ends the line. */
static wudf_status table_text(wudf_csv_writer *w, const uint8_t *s, size_t n,
                              int width, bool pad, wudf_error *err) {
  wudf_status st = reserve(w, (size_t)width * 4 + 8, err);
  if (st != WUDF_OK) return st;
  int total = text_width(s, n);
  int room = total <= width ? width : width - 3, used = 0;
  size_t i = 0;
  while (i < n) {
    int cw = s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? 2 : 1;
    if (used + cw > room) break;
    i += table_char(w, s, n, i);
    used += cw;
  }
  if (total > width) {
    put(w, "...", 3);
    used += 3;
  }
  if (pad) put_spaces(w, width - used);
  return WUDF_OK;
}

static wudf_status table_cell(wudf_csv_writer *w, const wudf_column *c,
                              uint32_t k, int64_t i, wudf_error *err) {
  int width = w->widths[k];
  bool last = k + 1 == w->ncols;
  if (c->type == WUDF_TYPE_UTF8 && wudf_column_valid(c, i)) {
    size_t n;
    const uint8_t *s = wudf_column_utf8(c, i, &n);
    return table_text(w, s, n, width, !last, err);
  }
  char text[32];
  int n = wudf_column_valid(c, i) ? scalar_text(c, i, text) : 4;
  if (!wudf_column_valid(c, i)) memcpy(text, "NULL", 4);
  wudf_status st = reserve(w, (size_t)(width > n ? width : n), err);
  if (st != WUDF_OK) return st;
  if (is_number(c->type)) put_spaces(w, width - n);
  put(w, text, (size_t)n);
  if (!is_number(c->type) && !last) put_spaces(w, width - n);
  return WUDF_OK;
}

static wudf_status table_row(wudf_csv_writer *w, const wudf_column *cols,
                             int64_t i, wudf_error *err) {
  for (uint32_t k = 0; k < w->ncols; k++) {
    wudf_status st = reserve(w, 3, err);
    if (st != WUDF_OK) return st;
    put(w, k == 0 ? " " : " | ", k == 0 ? 1 : 3);
    st = table_cell(w, &cols[k], k, i, err);
    if (st != WUDF_OK) return st;
  }
  wudf_status st = reserve(w, 1, err);
  if (st == WUDF_OK) put_char(w, '\n');
  return st;
}

static int type_width(wudf_type t) {
  switch (t) {
    case WUDF_TYPE_INT32:
      return 11;
    case WUDF_TYPE_INT64:
      return 20;
    case WUDF_TYPE_FLOAT32:
      return 14;
    case WUDF_TYPE_FLOAT64:
      return 18;
    case WUDF_TYPE_BOOL:
      return 5;
    default:
      return 24;
  }
}

/* A line of names or of type names. */
static wudf_status table_labels(wudf_csv_writer *w, bool types,
                                wudf_error *err) {
  for (uint32_t k = 0; k < w->ncols; k++) {
    const char *s = types ? wudf_type_str(w->types[k]) : w->names[k];
    wudf_status st = reserve(w, 3, err);
    if (st != WUDF_OK) return st;
    put(w, k == 0 ? " " : " | ", k == 0 ? 1 : 3);
    st = table_text(w, (const uint8_t *)s, strlen(s), w->widths[k],
                    k + 1 < w->ncols, err);
    if (st != WUDF_OK) return st;
  }
  wudf_status st = reserve(w, 1, err);
  if (st == WUDF_OK) put_char(w, '\n');
  return st;
}

static wudf_status table_header(wudf_csv_writer *w, wudf_error *err) {
  w->widths = wudf_calloc(w->ncols ? w->ncols : 1, sizeof *w->widths);
  if (!w->widths)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a table writer");
  for (uint32_t k = 0; k < w->ncols; k++) {
    const char *name = w->names[k];
    int wd = text_width((const uint8_t *)name, strlen(name));
    if (wd > TABLE_MAX_NAME) wd = TABLE_MAX_NAME;
    int tw = type_width(w->types[k]);
    w->widths[k] = wd > tw ? wd : tw;
  }
  wudf_status st = table_labels(w, false, err);
  if (st == WUDF_OK) st = table_labels(w, true, err);
  for (uint32_t k = 0; st == WUDF_OK && k < w->ncols; k++) {
    size_t n = (size_t)w->widths[k] + 2; /* " cell " */
    st = reserve(w, n + 1, err);
    if (st != WUDF_OK) break;
    if (k > 0) put_char(w, '+');
    memset(w->buf + w->len, '-', n);
    w->len += n;
  }
  if (st == WUDF_OK && (st = reserve(w, 1, err)) == WUDF_OK) put_char(w, '\n');
  return st;
}

/* ---- Writer ------------------------------------------------------------- */

static void noop_schema_release(struct ArrowSchema *s) {
  (void)s;
}

static wudf_status copy_columns(wudf_csv_writer *w, const char *const *names,
                                const wudf_type *types, wudf_error *err) {
  uint32_t n = w->ncols ? w->ncols : 1;
  w->names = wudf_calloc(n, sizeof *w->names);
  w->types = wudf_calloc(n, sizeof *w->types);
  w->schemas = wudf_calloc(n, sizeof *w->schemas);
  if (!w->names || !w->types || !w->schemas) goto nomem;
  for (uint32_t k = 0; k < w->ncols; k++) {
    if ((unsigned)types[k] > (unsigned)WUDF_TYPE_UTF8)
      return wudf_fail(err, WUDF_ERR_ARG, "column %u: unknown type %d", k + 1,
                       (int)types[k]);
    w->types[k] = types[k];
    if (!(w->names[k] = wudf_strdup(names[k] ? names[k] : ""))) goto nomem;
    w->schemas[k].format = wudf_type_arrow_format(types[k]);
    w->schemas[k].name = w->names[k];
    w->schemas[k].release = noop_schema_release;
  }
  return WUDF_OK;
nomem:
  return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a writer");
}

wudf_status wudf_csv_writer_new(FILE *f, wudf_output_format format,
                                uint32_t ncols, const char *const *names,
                                const wudf_type *types, wudf_csv_writer **out,
                                wudf_error *err) {
  if (!out) return wudf_fail(err, WUDF_ERR_ARG, "out is NULL");
  *out = NULL;
  if (!f || (ncols && (!names || !types)) ||
      (unsigned)format > WUDF_OUTPUT_TABLE)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "writer: file, names or types is NULL, or unknown format");
  wudf_csv_writer *w = wudf_calloc(1, sizeof *w);
  if (!w) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a writer");
  w->f = f;
  w->format = format;
  w->ncols = ncols;
  w->cap = OUT_BUFFER;
  wudf_status st = WUDF_OK;
  if (!(w->buf = wudf_malloc(w->cap)))
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a writer");
  if (st == WUDF_OK) st = copy_columns(w, names, types, err);
  if (st == WUDF_OK && format == WUDF_OUTPUT_CSV) st = csv_header(w, err);
  if (st == WUDF_OK && format == WUDF_OUTPUT_JSONL) st = json_keys(w, err);
  if (st == WUDF_OK && format == WUDF_OUTPUT_TABLE) st = table_header(w, err);
  if (st != WUDF_OK) {
    wudf_csv_writer_free(w);
    return st;
  }
  *out = w;
  return WUDF_OK;
}

static wudf_status read_columns(wudf_csv_writer *w,
                                const struct ArrowArray *const *columns,
                                const struct ArrowArray *selection,
                                wudf_column *cols, wudf_column *sel,
                                wudf_error *err) {
  for (uint32_t k = 0; k < w->ncols; k++) {
    wudf_status st =
        wudf_column_from_arrow(columns[k], &w->schemas[k], k, &cols[k], err);
    if (st != WUDF_OK) return st;
    if (cols[k].length != cols[0].length)
      return wudf_fail(err, WUDF_ERR_ARG,
                       "column '%s' has %lld rows, column '%s' %lld",
                       w->names[k], (long long)cols[k].length, w->names[0],
                       (long long)cols[0].length);
  }
  if (!selection) return WUDF_OK;
  struct ArrowSchema s = {
      .format = "b", .name = "selection", .release = noop_schema_release};
  wudf_status st = wudf_column_from_arrow(selection, &s, w->ncols, sel, err);
  if (st == WUDF_OK && w->ncols && sel->length != cols[0].length)
    st = wudf_fail(err, WUDF_ERR_ARG,
                   "the selection has %lld rows, the columns %lld",
                   (long long)sel->length, (long long)cols[0].length);
  return st;
}

static wudf_status write_row(wudf_csv_writer *w, const wudf_column *cols,
                             int64_t i, wudf_error *err) {
  switch (w->format) {
    case WUDF_OUTPUT_CSV:
      return csv_row(w, cols, i, err);
    case WUDF_OUTPUT_JSONL:
      return json_row(w, cols, i, err);
    default:
      return table_row(w, cols, i, err);
  }
}

static wudf_status write_rows(wudf_csv_writer *w, const wudf_column *cols,
                              const wudf_column *sel, int64_t n,
                              wudf_error *err) {
  for (int64_t i = 0; i < n; i++) {
    if (sel && !(wudf_column_valid(sel, i) && wudf_column_bool(sel, i)))
      continue;
    wudf_status st = write_row(w, cols, i, err);
    if (st != WUDF_OK) return st;
    w->rows++;
  }
  return WUDF_OK;
}

wudf_status wudf_csv_writer_write(wudf_csv_writer *w,
                                  const struct ArrowArray *const *columns,
                                  const struct ArrowArray *selection,
                                  wudf_error *err) {
  if (!w || (w->ncols && !columns))
    return wudf_fail(err, WUDF_ERR_ARG, "writer or columns is NULL");
  if (w->failed != WUDF_OK) {
    if (err) *err = w->failure;
    return w->failed;
  }
  wudf_column *cols = wudf_calloc(w->ncols ? w->ncols : 1, sizeof *cols);
  if (!cols) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory writing");
  wudf_column sel;
  wudf_error local;
  wudf_error_init(&local);
  wudf_status st = read_columns(w, columns, selection, cols, &sel, &local);
  int64_t n = w->ncols ? cols[0].length : selection ? sel.length : 0;
  if (st == WUDF_OK) {
    st = write_rows(w, cols, selection ? &sel : NULL, n, &local);
    if (st != WUDF_OK) { /* rows were written in part: the output is broken */
      w->failed = st;
      w->failure = local;
    }
  }
  wudf_free(cols);
  if (err) *err = local;
  return st;
}

wudf_status wudf_csv_writer_finish(wudf_csv_writer *w, wudf_error *err) {
  if (!w) return wudf_fail(err, WUDF_ERR_ARG, "writer is NULL");
  if (w->failed != WUDF_OK) {
    if (err) *err = w->failure;
    return w->failed;
  }
  wudf_status st = WUDF_OK;
  if (w->format == WUDF_OUTPUT_TABLE && (st = reserve(w, 40, err)) == WUDF_OK)
    w->len += (size_t)snprintf(w->buf + w->len, 40, "(%lld row%s)\n",
                               (long long)w->rows, w->rows == 1 ? "" : "s");
  if (st == WUDF_OK) st = flush(w, err);
  if (st == WUDF_OK && fflush(w->f) != 0)
    st = wudf_fail(err, WUDF_ERR_IO, "writing the output failed: %s",
                   strerror(errno));
  return st;
}

int64_t wudf_csv_writer_rows(const wudf_csv_writer *w) {
  return w ? w->rows : 0;
}

void wudf_csv_writer_free(wudf_csv_writer *w) {
  if (!w) return;
  for (uint32_t k = 0; k < w->ncols; k++) {
    if (w->names) wudf_free(w->names[k]);
    if (w->keys) wudf_free(w->keys[k]);
  }
  wudf_free(w->names);
  wudf_free(w->types);
  wudf_free(w->schemas);
  wudf_free(w->keys);
  wudf_free(w->key_lens);
  wudf_free(w->widths);
  wudf_free(w->buf);
  wudf_free(w);
}
