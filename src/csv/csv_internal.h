/* Internal pieces of the CSV layer (src/csv/): the record scanner, number
 * parsing, the Arrow column builder of the reader, and float digits. */
#ifndef WUDF_CSV_INTERNAL_H
#define WUDF_CSV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "csv/csv.h"

/* Largest read buffer, hence largest record and sample. Spans keep offsets
 * and lengths in 30 bits. */
#define WUDF_CSV_MAX_BUFFER ((size_t)1 << 30)
/* Bytes readable past the buffer's capacity (the scanner loads 16 at a
 * time); kept initialised. */
#define WUDF_CSV_PAD 64

/* ---- Scanner (scan.c) --------------------------------------------------- */

/* One field of a scanned record: bytes [off, off + len) of the buffer. */
typedef struct wudf_csv_span {
  uint32_t off;
  uint32_t len; /* length | flags below */
} wudf_csv_span;

#define WUDF_CSV_QUOTED 0x80000000u  /* the field was quoted */
#define WUDF_CSV_ESCAPED 0x40000000u /* it holds doubled quotes (scan only) */
#define WUDF_CSV_LEN_MASK 0x3fffffffu

static inline uint32_t wudf_csv_span_len(wudf_csv_span s) {
  return s.len & WUDF_CSV_LEN_MASK;
}

/* The input: a buffer over a FILE*, the position of the next record and its
 * line number. buf[end] is always 0 and WUDF_CSV_PAD bytes past cap are
 * readable. */
typedef struct wudf_csv_scanner {
  FILE *f;
  uint8_t *buf;
  size_t cap, pos, end;
  bool eof;
  uint8_t delim;
  int64_t line; /* 1-based line at pos */
} wudf_csv_scanner;

typedef enum wudf_csv_rec {
  WUDF_CSV_REC_OK,    /* a record: fields, its line, its bytes consumed */
  WUDF_CSV_REC_EOF,   /* no more records */
  WUDF_CSV_REC_FULL,  /* buffer full and neither compaction nor growth is
                         allowed: end the chunk */
  WUDF_CSV_REC_ERROR, /* malformed: see wudf_csv_record.error* */
} wudf_csv_rec;

typedef enum wudf_csv_scan_error {
  WUDF_CSV_ERR_NONE,
  WUDF_CSV_ERR_UNTERMINATED, /* quote open at end of file */
  WUDF_CSV_ERR_AFTER_QUOTE,  /* a character other than delimiter or newline
                                after a closing quote */
} wudf_csv_scan_error;

typedef struct wudf_csv_record {
  uint32_t nfields; /* all fields seen, even beyond maxf */
  int64_t line;     /* where the record starts */
  size_t start;     /* buffer offset of its first byte */
  wudf_csv_scan_error error;
  int64_t error_line;   /* line of the error */
  uint32_t error_field; /* 0-based field of the error */
  uint8_t error_char;   /* the unexpected character */
} wudf_csv_record;

/* Allocates the buffer (cap bytes, clamped to [16, WUDF_CSV_MAX_BUFFER]). */
wudf_status wudf_csv_scanner_init(wudf_csv_scanner *s, FILE *f, size_t cap,
                                  uint8_t delim, wudf_error *err);
void wudf_csv_scanner_reset(wudf_csv_scanner *s);

/* Skips a UTF-8 byte order mark at the start of the input. */
wudf_status wudf_csv_scanner_skip_bom(wudf_csv_scanner *s, const char *name,
                                      wudf_error *err);

/* Scans the next record into fields[0 .. min(nfields, maxf)), reading more
 * input as needed, and unescapes its quoted fields in place. `live`: spans
 * of earlier records still point into the buffer, so it must not be
 * compacted; then, unless `grow`, a full buffer ends with REC_FULL instead of
 * growing. Blank lines are skipped unless `blank_is_record` (then they give
 * one empty field). Errors (I/O, a record over WUDF_CSV_MAX_BUFFER) return a
 * status; a malformed record returns REC_ERROR in *kind with the status OK.
 * `name` is for messages. */
wudf_status wudf_csv_next_record(wudf_csv_scanner *s, const char *name,
                                 wudf_csv_span *fields, uint32_t maxf,
                                 bool live, bool grow, bool blank_is_record,
                                 wudf_csv_record *rec, wudf_csv_rec *kind,
                                 wudf_error *err);

/* Moves unconsumed bytes to the front of the buffer and shrinks a buffer
 * that grew past `cap` back to it when the data allows. Only when no span
 * is live. */
void wudf_csv_scanner_compact(wudf_csv_scanner *s, size_t cap);

/* True when bytes [p, p + n) are all ASCII. */
bool wudf_csv_ascii(const uint8_t *p, size_t n);

/* ---- Numbers (number.c) ------------------------------------------------- */

typedef enum wudf_csv_num {
  WUDF_CSV_NUM_OK,
  WUDF_CSV_NUM_SYNTAX, /* not a number of that kind */
  WUDF_CSV_NUM_RANGE,  /* an integer outside the type's range */
  WUDF_CSV_NUM_NOMEM,  /* a very long number needed a copy that failed */
} wudf_csv_num;

/* [+-]digits into int64. */
wudf_csv_num wudf_csv_parse_int64(const uint8_t *s, size_t n, int64_t *out);
/* Float syntax of csv.h, correctly rounded. */
wudf_csv_num wudf_csv_parse_double(const uint8_t *s, size_t n, double *out);
wudf_csv_num wudf_csv_parse_float(const uint8_t *s, size_t n, float *out);
/* "true" / "false", any case. */
bool wudf_csv_parse_bool(const uint8_t *s, size_t n, bool *out);

/* What a non-empty field can be, for type inference. Ordered so that the
 * merge of two numeric kinds is the larger. */
typedef enum wudf_csv_kind {
  WUDF_CSV_KIND_NONE, /* nothing seen yet (all NULL) */
  WUDF_CSV_KIND_INT32,
  WUDF_CSV_KIND_INT64,
  WUDF_CSV_KIND_FLOAT,
  WUDF_CSV_KIND_BOOL,
  WUDF_CSV_KIND_TEXT,
} wudf_csv_kind;

wudf_csv_kind wudf_csv_classify(const uint8_t *s, size_t n);
/* The kind of a column holding values of kinds a and b. */
wudf_csv_kind wudf_csv_kind_merge(wudf_csv_kind a, wudf_csv_kind b);

/* ---- Column builder (convert.c) ----------------------------------------- */

typedef struct wudf_csv_colbuf {
  wudf_type type;
  uint8_t *validity; /* a bit per row, 1 = valid */
  uint8_t *values;   /* fixed-width values, bool bits or int32 offsets */
  uint8_t *data;     /* utf8 bytes */
  size_t data_len, data_cap;
  int64_t null_count;
} wudf_csv_colbuf;

typedef struct wudf_csv_builder {
  uint32_t ncols;
  int64_t rows, cap;
  wudf_csv_colbuf *cols;
  int64_t *lines;
} wudf_csv_builder;

/* What error messages of the conversion need. */
typedef struct wudf_csv_convert_ctx {
  const char *file;
  char *const *names;
  const bool *forced; /* column types set by the caller */
  int64_t sampled;    /* rows the inference used */
} wudf_csv_convert_ctx;

wudf_status wudf_csv_builder_init(wudf_csv_builder *b, uint32_t ncols,
                                  const wudf_type *types, int64_t cap,
                                  wudf_error *err);
void wudf_csv_builder_reset(wudf_csv_builder *b);

/* How many of the k rows at `spans` (ncols spans each) can be appended
 * without a utf8 column passing INT32_MAX bytes. */
int64_t wudf_csv_builder_fit(const wudf_csv_builder *b,
                             const wudf_csv_span *spans, int64_t k);

/* Appends k rows: spans (ncols per row) over `buf`, and their lines. */
wudf_status wudf_csv_builder_append(wudf_csv_builder *b, const uint8_t *buf,
                                    const wudf_csv_span *spans,
                                    const int64_t *lines, int64_t k,
                                    const wudf_csv_convert_ctx *ctx,
                                    wudf_error *err);

/* Moves the rows into *out as Arrow arrays named `names`; the builder is
 * empty afterwards. */
wudf_status wudf_csv_builder_finish(wudf_csv_builder *b, char *const *names,
                                    wudf_csv_batch *out, wudf_error *err);

/* Copies up to `max` bytes of a field into `buf` (size >= max + 4) for a
 * message: control characters become '?', a cut is marked "...", UTF-8
 * sequences are not split. */
void wudf_csv_quote_value(const uint8_t *s, size_t n, size_t max, char *buf);

/* ---- Errors (reader.c) --------------------------------------------------- */

/* Sets the location fields of an error the reader has just filled: the
 * input's name and the 1-based line (the message already names both). */
void wudf_csv_locate(wudf_error *err, const char *name, int64_t line);

/* ---- Float digits (format.c) -------------------------------------------- */

/* Writes the decimal digits of v (> 0 in magnitude) without leading zeros;
 * returns their count. buf holds 20 bytes. */
int wudf_csv_u64_digits(uint64_t v, char *buf);

/* Formats v into buf (at least 21 bytes); returns the length. */
int wudf_csv_format_int64(int64_t v, char *buf);

#endif
