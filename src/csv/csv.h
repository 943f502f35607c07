/*
 * CSV input and output for `wudf run`: a streaming reader that infers column
 * types and produces Arrow batches, and a writer for CSV, JSON Lines and a
 * human-readable table. Internal to the library and the command line.
 *
 * Reading (RFC 4180, plus what real files do)
 *   - The first record is the header; its fields name the columns. An empty
 *     name becomes "column<N>" (1-based).
 *   - Fields may be quoted with '"'; inside quotes a doubled quote is one
 *     quote, and the delimiter, CR and LF are data. A quote inside an
 *     unquoted field is data. After a closing quote only the delimiter or a
 *     line end may follow.
 *   - Records end with LF, CRLF or a lone CR; the last one may lack it. A
 *     UTF-8 byte order mark at the start is skipped.
 *   - Blank lines are skipped, except in a file with one column, where a
 *     blank line is a row whose value is NULL (so that NULLs written by the
 *     writer read back). Blank lines before the header are skipped.
 *   - NULL: an empty field. A quoted empty field ("") is the empty string in
 *     a utf8 column and NULL in any other column.
 *   - Every field must be valid UTF-8, whatever its column's type.
 *   - Numbers: [+-]digits for integers; [+-](digits[.digits]|.digits)
 *     [(e|E)[+-]digits], "nan", "inf" and "infinity" (any case, optional
 *     sign) for floats. No spaces, no hex, no thousands separators. Floats
 *     are converted exactly (correctly rounded, as strtod does). Bool:
 *     "true" and "false" in any case.
 *
 * Errors (the message always starts with the file's name)
 *   WUDF_ERR_IO        the file cannot be opened or read
 *   WUDF_ERR_MALFORMED not CSV: unterminated quote, a character after a
 *                      closing quote, a row with more or fewer fields than
 *                      the header ("line 17: 4 fields, the header has 5"),
 *                      invalid UTF-8 (line and column), a record over 1 GiB
 *   WUDF_ERR_TYPE      a value that does not fit its column's type ("line
 *                      50123, column 'balance': 'abc' is not an int32
 *                      (inferred from the first 10000 rows)")
 *   WUDF_ERR_ARG       bad arguments or options
 *   WUDF_ERR_NOMEM     out of memory
 * After an error the reader is finished: later calls return the same error.
 *
 * Writing
 *   CSV: a header, then one line per row (LF line ends, ',' delimiter).
 *   Fields containing the delimiter, a quote, CR or LF, or starting or
 *   ending with a space or tab are quoted (quotes doubled); the empty string
 *   is written as "" and NULL as an empty field. Floats use the shortest
 *   text that reads back to the same value (wudf_format_float for float32),
 *   so 5765.22f prints as 5765.22; NaN and infinities as nan, inf, -inf.
 *   Bools as true/false.
 *   JSONL: one JSON object per row, keys in column order. NULL, NaN and the
 *   infinities are written as null (JSON has no NaN). Strings are escaped
 *   (\" \\ \b \f \n \r \t, other control characters as \u00XX); utf8 data
 *   must be valid UTF-8.
 *   TABLE: for people. A header line of names, a line of types, a rule, then
 *   rows; numbers right-aligned, text left-aligned, NULL as "NULL". Column
 *   widths come from the names and types given to wudf_csv_writer_new()
 *   (the data is streamed, never measured): longer text is cut with "...";
 *   numbers are never cut (a rare wider one shifts its row). Control
 *   characters in text are shown as \n, \r, \t or '?'. A footer "(N rows)".
 */
#ifndef WUDF_CSV_CSV_H
#define WUDF_CSV_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wudf.h"

/* ---- Reader ------------------------------------------------------------- */

typedef struct wudf_csv_options {
  /* Field delimiter; default ','. Must be ASCII and not a quote, CR, LF,
   * letter, digit, '.', '+' or '-'. */
  char delimiter;
  /* Rows used for type inference; default 10000. 0: every column is utf8. */
  int64_t sample_rows;
  /* Read buffer in bytes; default 1 MiB, at least 16. It grows to hold one
   * record, or the whole sample, if needed (up to 1 GiB). */
  size_t buffer_bytes;
} wudf_csv_options;

void wudf_csv_options_init(wudf_csv_options *o);

typedef struct wudf_csv_schema {
  uint32_t ncols;
  char **names;     /* header names, owned by the reader */
  wudf_type *types; /* INT32, INT64, FLOAT64, BOOL or UTF8 when inferred */
} wudf_csv_schema;

typedef struct wudf_csv_reader wudf_csv_reader;

/* Opens `path`, reads the header and infers column types from the first
 * sample_rows rows: an empty field is NULL; a column is int32 if every
 * non-empty sampled value is an integer in int32 range, int64 if integers
 * beyond it (integers beyond int64 count as floats), float64 if numbers
 * (ints mixed with decimals or exponents), bool if true/false, else utf8.
 * All-empty columns are utf8. The sampled rows are kept and returned by the
 * first wudf_csv_read_batch() calls, so the file is read once, as a stream.
 * An error in the sampled rows is returned here. `opts` may be NULL for the
 * defaults. On success *out is owned: release with wudf_csv_reader_free(). */
wudf_status wudf_csv_open(const char *path, const wudf_csv_options *opts,
                          wudf_csv_reader **out, wudf_error *err);

/* Same over an already-open FILE* (read from its current position, not
 * closed by the reader); `name` is used in messages (NULL: "input"). */
wudf_status wudf_csv_open_file(FILE *f, const char *name,
                               const wudf_csv_options *opts,
                               wudf_csv_reader **out, wudf_error *err);

/* Makes the reader close `f` (the FILE* it reads) when freed. */
void wudf_csv_reader_own_file(wudf_csv_reader *r, FILE *f);

/* The header names and column types. Borrowed from the reader. */
const wudf_csv_schema *wudf_csv_reader_schema(const wudf_csv_reader *r);

/* Forces column `col`'s type (any wudf_type, float32 included), e.g. from a
 * user override. Only before the first wudf_csv_read_batch(): WUDF_ERR_ARG
 * afterwards or for a bad column or type. Values that do not fit are
 * reported by wudf_csv_read_batch() as WUDF_ERR_TYPE. */
wudf_status wudf_csv_reader_set_type(wudf_csv_reader *r, uint32_t col,
                                     wudf_type t, wudf_error *err);

/* Closes the file if the reader opened it. Accepts NULL. */
void wudf_csv_reader_free(wudf_csv_reader *r);

/* Caller-owned; zero it (or wudf_csv_batch_reset) before first use. */
typedef struct wudf_csv_batch {
  int64_t nrows; /* 0 at end of file */
  uint32_t ncols;
  struct ArrowArray *columns;  /* ncols arrays, owned by the batch */
  struct ArrowSchema *schemas; /* ncols schemas (header names), owned */
  int64_t *lines;              /* 1-based line where each row starts, owned */
} wudf_csv_batch;

/* Reads up to max_rows (>= 1) rows into *out (reset first). Fewer rows
 * come back only at the end of the file, or when a utf8 column would hold
 * more than INT32_MAX bytes. nrows 0 means end of file; the batch then still
 * has ncols empty columns and their schemas. Memory is bounded by the
 * batch and the read buffer: files larger than memory stream. On error *out
 * is empty. */
wudf_status wudf_csv_read_batch(wudf_csv_reader *r, int64_t max_rows,
                                wudf_csv_batch *out, wudf_error *err);

/* Releases everything the batch owns and zeroes it. Accepts NULL. */
void wudf_csv_batch_reset(wudf_csv_batch *b);

/* ---- Writer ------------------------------------------------------------- */

typedef enum wudf_output_format {
  WUDF_OUTPUT_CSV,
  WUDF_OUTPUT_JSONL,
  WUDF_OUTPUT_TABLE
} wudf_output_format;

typedef struct wudf_csv_writer wudf_csv_writer;

/* A writer to `f` (not closed; output is buffered until the buffer fills or
 * wudf_csv_writer_finish()). `names` and `types` (ncols each) are copied.
 * The CSV header or the table's header is written (buffered) now, so a
 * result without rows still has one. On success *out is owned: release
 * with wudf_csv_writer_free(). */
wudf_status wudf_csv_writer_new(FILE *f, wudf_output_format format,
                                uint32_t ncols, const char *const *names,
                                const wudf_type *types, wudf_csv_writer **out,
                                wudf_error *err);

/* Writes the rows of `columns` (ncols arrays of equal length, each of the
 * type given to wudf_csv_writer_new; borrowed). If `selection` is not NULL
 * (a bool array of the same length, as wudf_instance_filter() returns; a
 * NULL in it counts as false), writes only the rows where it is true.
 * WUDF_ERR_ARG for arrays that do not match, WUDF_ERR_IO if writing fails.
 */
wudf_status wudf_csv_writer_write(wudf_csv_writer *w,
                                  const struct ArrowArray *const *columns,
                                  const struct ArrowArray *selection,
                                  wudf_error *err);

/* Writes the table footer, flushes the buffer and the FILE*. */
wudf_status wudf_csv_writer_finish(wudf_csv_writer *w, wudf_error *err);

/* Rows written so far. */
int64_t wudf_csv_writer_rows(const wudf_csv_writer *w);

/* Accepts NULL. Does not flush: call wudf_csv_writer_finish() first. */
void wudf_csv_writer_free(wudf_csv_writer *w);

/* ---- Streams (stream.c) ------------------------------------------------- */

/* Whether `stream` is one of wudf_csv_stream_open() (include/wudf_job.h),
 * whose errors wudf_csv_stream_error() gives with their fields. */
bool wudf_csv_stream_is(const struct ArrowArrayStream *stream);

/* ---- Number text -------------------------------------------------------- */

/* Shortest decimal text that reads back (strtod / strtof) to exactly the
 * same value: "0.1", "1e+100", "5765.22", "-0", "nan", "inf", "-inf".
 * Plain notation for decimal exponents -5 < e < 16, else d[.ddd]e±XX (two
 * exponent digits at least, as printf). Among texts of the shortest length
 * it picks the one nearest the value. Writes at most `size` bytes including
 * the NUL (like snprintf) and returns the full length (at most 24 for
 * doubles, 17 for floats); 32 bytes always suffice. */
int wudf_format_double(double v, char *buf, size_t size);
int wudf_format_float(float v, char *buf, size_t size);

#endif
