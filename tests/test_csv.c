/* CSV reader and writer (src/csv/). Expected values are written by hand
 * from RFC 4180 and the rules in src/csv/csv.h; float texts come from
 * Python's repr() (doubles) and an exact-fraction search in Python (float32);
 * parsed numbers are compared with glibc's strtod/strtof, and random float
 * formatting with glibc's printf + strtod. Rows are rendered by this file's
 * own code (render()), not by the writer under test. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch/batch_internal.h"
#include "common/error.h"
#include "common/strbuf.h"
#include "csv/csv.h"
#include "csv/csv_internal.h"
#include "harness.h"
#include "wudf.h"

#define CHECK_STR(a, b)                                           \
  do {                                                            \
    const char *sa_ = (a), *sb_ = (b);                            \
    if (!sa_ || strcmp(sa_, sb_) != 0) {                          \
      test_fail_at(__FILE__, __LINE__, "got:\n%s\nexpected:\n%s", \
                   sa_ ? sa_ : "(null)", sb_);                    \
      return;                                                     \
    }                                                             \
  } while (0)

/* ---- Helpers ------------------------------------------------------------ */

/* A FILE* over a copy of `text` (a temp file, so that empty input works). */
static FILE *text_file(const char *text, size_t len) {
  FILE *f = tmpfile();
  if (!f) return NULL;
  if (len && fwrite(text, 1, len, f) != len) {
    fclose(f);
    return NULL;
  }
  rewind(f);
  return f;
}

/* One cell in this file's own notation: NULL, integers, %.17g / %.9g,
 * true/false, [text]. */
static void render_cell(wudf_strbuf *sb, const wudf_column *c, int64_t i) {
  if (!wudf_column_valid(c, i)) {
    wudf_strbuf_puts(sb, "NULL");
    return;
  }
  size_t n;
  const uint8_t *s;
  switch (c->type) {
    case WUDF_TYPE_INT32:
      wudf_strbuf_printf(sb, "%d", wudf_column_int32(c, i));
      break;
    case WUDF_TYPE_INT64:
      wudf_strbuf_printf(sb, "%lld", (long long)wudf_column_int64(c, i));
      break;
    case WUDF_TYPE_FLOAT32:
      wudf_strbuf_printf(sb, "%.9g", (double)wudf_column_float32(c, i));
      break;
    case WUDF_TYPE_FLOAT64:
      wudf_strbuf_printf(sb, "%.17g", wudf_column_float64(c, i));
      break;
    case WUDF_TYPE_BOOL:
      wudf_strbuf_puts(sb, wudf_column_bool(c, i) ? "true" : "false");
      break;
    default:
      s = wudf_column_utf8(c, i, &n);
      wudf_strbuf_puts(sb, "[");
      wudf_strbuf_append(sb, (const char *)s, n);
      wudf_strbuf_puts(sb, "]");
  }
}

/* Appends the batch's rows, cells separated by '|', one row per line,
 * optionally prefixed by "L<line>:". */
static bool render(wudf_strbuf *sb, const wudf_csv_batch *b, bool lines) {
  wudf_column cols[32];
  if (b->ncols > 32) return false;
  for (uint32_t k = 0; k < b->ncols; k++)
    if (wudf_column_from_arrow(&b->columns[k], &b->schemas[k], k, &cols[k],
                               NULL) != WUDF_OK ||
        cols[k].length != b->nrows)
      return false;
  for (int64_t i = 0; i < b->nrows; i++) {
    if (lines) wudf_strbuf_printf(sb, "L%lld:", (long long)b->lines[i]);
    for (uint32_t k = 0; k < b->ncols; k++) {
      if (k) wudf_strbuf_puts(sb, "|");
      render_cell(sb, &cols[k], i);
    }
    wudf_strbuf_puts(sb, "\n");
  }
  return true;
}

static void render_schema(wudf_strbuf *sb, const wudf_csv_schema *s) {
  for (uint32_t k = 0; k < s->ncols; k++)
    wudf_strbuf_printf(sb, "%s%s:%s", k ? "," : "", s->names[k],
                       wudf_type_str(s->types[k]));
  wudf_strbuf_puts(sb, "\n");
}

/* Reads every batch of an open reader into sb. */
static wudf_status drain(wudf_csv_reader *r, int64_t batch, bool lines,
                         wudf_strbuf *sb, wudf_error *err) {
  for (;;) {
    wudf_csv_batch b = {0};
    wudf_status st = wudf_csv_read_batch(r, batch, &b, err);
    if (st != WUDF_OK) return st;
    int64_t n = b.nrows;
    bool ok = render(sb, &b, lines);
    wudf_csv_batch_reset(&b);
    if (!ok) return wudf_fail(err, WUDF_ERR_ARG, "bad batch");
    if (n == 0) return WUDF_OK;
    if (n > batch) return wudf_fail(err, WUDF_ERR_ARG, "batch too large");
  }
}

/* Schema line + rows of `text` read with `opts` in batches of `batch`.
 * Returns the status; *out is owned by the caller (free()). */
static wudf_status read_text_opts(const char *text, size_t len,
                                  const wudf_csv_options *opts, int64_t batch,
                                  bool lines, char **out, wudf_error *err) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  *out = NULL;
  FILE *f = text_file(text, len);
  if (!f) return wudf_fail(err, WUDF_ERR_IO, "tmpfile failed");
  wudf_csv_reader *r = NULL;
  wudf_status st = wudf_csv_open_file(f, "t.csv", opts, &r, err);
  if (st == WUDF_OK) {
    render_schema(&sb, wudf_csv_reader_schema(r));
    st = drain(r, batch, lines, &sb, err);
  }
  wudf_csv_reader_free(r);
  fclose(f);
  *out = wudf_strbuf_take(&sb);
  return st;
}

static wudf_status read_text(const char *text, char **out, wudf_error *err) {
  return read_text_opts(text, strlen(text), NULL, 1000, false, out, err);
}

/* Expects `text` to read as `expected` (also with batches of 1 and tiny
 * read buffers, which must not change anything). */
#define CHECK_READS(text, expected)                                           \
  do {                                                                        \
    wudf_csv_options o_;                                                      \
    wudf_csv_options_init(&o_);                                               \
    int64_t batches_[3] = {1000, 1, 3};                                       \
    size_t bufs_[3] = {1 << 20, 16, 7};                                       \
    for (int k_ = 0; k_ < 3; k_++) {                                          \
      wudf_error e_;                                                          \
      wudf_error_init(&e_);                                                   \
      char *got_ = NULL;                                                      \
      o_.buffer_bytes = bufs_[k_];                                            \
      wudf_status st_ = read_text_opts(text, strlen(text), &o_, batches_[k_], \
                                       false, &got_, &e_);                    \
      bool same_ = st_ == WUDF_OK && got_ && strcmp(got_, expected) == 0;     \
      if (!same_)                                                             \
        test_fail_at(__FILE__, __LINE__,                                      \
                     "batch %lld, buffer %zu: %s (%s)\ngot:\n%s\n"            \
                     "expected:\n%s",                                         \
                     (long long)batches_[k_], bufs_[k_],                      \
                     wudf_status_name(st_), e_.message, got_ ? got_ : "",     \
                     expected);                                               \
      free(got_);                                                             \
      if (!same_) return;                                                     \
    }                                                                         \
  } while (0)

/* Expects reading `text` to fail with `status` and a message containing
 * `needle`. */
#define CHECK_READ_FAILS(text, opts, status, needle)                       \
  do {                                                                     \
    wudf_error e_;                                                         \
    wudf_error_init(&e_);                                                  \
    char *got_ = NULL;                                                     \
    wudf_status rst_ =                                                     \
        read_text_opts(text, strlen(text), opts, 1000, false, &got_, &e_); \
    free(got_);                                                            \
    CHECK_STATUS(rst_, status, &e_);                                       \
    CHECK_CONTAINS(e_.message, needle);                                    \
  } while (0)

/* ---- RFC 4180 ----------------------------------------------------------- */

TEST(csv_rfc4180_quoting) {
  CHECK_READS(
      "a,b,c\n"
      "\"x, y\",\"say \"\"hi\"\"\",plain\n"
      "\"\",\"\"\"\",\"a\"\"\"\"b\"\n",
      "a:utf8,b:utf8,c:utf8\n"
      "[x, y]|[say \"hi\"]|[plain]\n"
      "[]|[\"]|[a\"\"b]\n");
}

TEST(csv_rfc4180_newlines_inside_quotes) {
  CHECK_READS("a,b\n\"1\n2\",\"3\r\n4\"\n\"5\r6\",x\n",
              "a:utf8,b:utf8\n[1\n2]|[3\r\n4]\n[5\r6]|[x]\n");
}

TEST(csv_crlf_and_final_newline) {
  CHECK_READS("a,b\r\n1,2\r\n3,4", "a:int32,b:int32\n1|2\n3|4\n");
  CHECK_READS("a,b\r\n1,2\r\n3,4\r\n", "a:int32,b:int32\n1|2\n3|4\n");
  CHECK_READS("a,b\r1,2\r3,4\r", "a:int32,b:int32\n1|2\n3|4\n");
  CHECK_READS("a,b\n1,\"2\"", "a:int32,b:int32\n1|2\n");
}

TEST(csv_quote_inside_unquoted_field_is_data) {
  CHECK_READS("a,b\n5\" screen,x\"y\"\n",
              "a:utf8,b:utf8\n[5\" screen]|[x\"y\"]\n");
}

TEST(csv_empty_fields_and_quoted_empty) {
  /* Empty = NULL; "" = empty string in utf8, NULL elsewhere. */
  CHECK_READS(
      "s,i,t\n,,x\n\"\",\"\",\n\"q\",3,\n",
      "s:utf8,i:int32,t:utf8\nNULL|NULL|[x]\n[]|NULL|NULL\n[q]|3|NULL\n");
  CHECK_READS("a,b,c\n1,,\n", "a:int32,b:utf8,c:utf8\n1|NULL|NULL\n");
}

TEST(csv_bom_is_skipped) {
  CHECK_READS("\xef\xbb\xbfid,name\n1,x\n", "id:int32,name:utf8\n1|[x]\n");
}

TEST(csv_blank_lines) {
  /* Skipped with several columns (and before the header)... */
  CHECK_READS("\n\na,b\n\n1,2\n\r\n\n3,4\n\n", "a:int32,b:int32\n1|2\n3|4\n");
  /* ...a NULL row with one column (the last line end is not a row). */
  CHECK_READS("a\n1\n\n2\n\n", "a:int32\n1\nNULL\n2\nNULL\n");
  CHECK_READS("a\r\n\r\n\r\nx\r\n", "a:utf8\nNULL\nNULL\n[x]\n");
}

TEST(csv_header_only_and_empty_names) {
  CHECK_READS("a,b\n", "a:utf8,b:utf8\n");
  CHECK_READS("a,b", "a:utf8,b:utf8\n");
  CHECK_READS(",\"\",c\n1,2,3\n",
              "column1:int32,column2:int32,c:int32\n1|2|3\n");
  CHECK_READS("\"a,b\",\"c\"\"d\"\n1,2\n", "a,b:int32,c\"d:int32\n1|2\n");
}

TEST(csv_empty_file_is_an_error) {
  CHECK_READ_FAILS("", NULL, WUDF_ERR_MALFORMED, "t.csv: the file is empty");
  CHECK_READ_FAILS("\n\r\n", NULL, WUDF_ERR_MALFORMED, "empty");
  CHECK_READ_FAILS("\xef\xbb\xbf", NULL, WUDF_ERR_MALFORMED, "empty");
}

TEST(csv_trailing_delimiter_is_an_empty_field) {
  CHECK_READS("a,b\n1,\n2,", "a:int32,b:utf8\n1|NULL\n2|NULL\n");
}

TEST(csv_other_delimiters) {
  wudf_csv_options o;
  wudf_csv_options_init(&o);
  o.delimiter = ';';
  char *got = NULL;
  wudf_error err;
  wudf_error_init(&err);
  const char *text = "a;b\n1,5;\"x;y\"\n";
  CHECK_STATUS(read_text_opts(text, strlen(text), &o, 10, false, &got, &err),
               WUDF_OK, &err);
  CHECK_STR(got, "a:utf8,b:utf8\n[1,5]|[x;y]\n");
  free(got);
  o.delimiter = '\t';
  text = "a\tb\n1\t2.5\n";
  CHECK_STATUS(read_text_opts(text, strlen(text), &o, 10, false, &got, &err),
               WUDF_OK, &err);
  CHECK_STR(got, "a:int32,b:float64\n1|2.5\n");
  free(got);
  const char bad[] = {'"', '\n', 'e', '5', '.', '-', (char)0xc3, 0};
  for (int i = 0; bad[i]; i++) {
    o.delimiter = bad[i];
    CHECK_STATUS(read_text_opts("a\n", 2, &o, 10, false, &got, &err),
                 WUDF_ERR_ARG, &err);
    free(got);
  }
}

TEST(csv_line_numbers) {
  wudf_csv_options o;
  wudf_csv_options_init(&o);
  char *got = NULL;
  wudf_error err;
  wudf_error_init(&err);
  const char *text = "a,b\n1,\"x\ny\"\n\n2,z\r\n\"3\r\n\",w\n4,v";
  CHECK_STATUS(read_text_opts(text, strlen(text), &o, 2, true, &got, &err),
               WUDF_OK, &err);
  CHECK_STR(got,
            "a:utf8,b:utf8\nL2:[1]|[x\ny]\nL5:[2]|[z]\nL6:[3\r\n]|[w]\n"
            "L8:[4]|[v]\n");
  free(got);
}

/* ---- Errors ------------------------------------------------------------- */

TEST(csv_ragged_rows) {
  CHECK_READ_FAILS("a,b,c\n1,2,3\n4,5\n", NULL, WUDF_ERR_MALFORMED,
                   "t.csv: line 3: 2 fields, the header has 3");
  CHECK_READ_FAILS("a,b\n1,2\n1,2\n1,2,3,4\n", NULL, WUDF_ERR_MALFORMED,
                   "line 4: 4 fields, the header has 2");
  CHECK_READ_FAILS("a,b\n\"x\ny\"\n", NULL, WUDF_ERR_MALFORMED,
                   "line 2: 1 field, the header has 2");
}

TEST(csv_ragged_row_after_the_sample) {
  /* The first batch holds the good rows; the error comes with the bad one. */
  wudf_csv_options o;
  wudf_csv_options_init(&o);
  o.sample_rows = 2;
  const char *text = "a,b\n1,2\n3,4\n5,6\n7\n";
  FILE *f = text_file(text, strlen(text));
  CHECK(f);
  wudf_csv_reader *r;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_csv_open_file(f, "r.csv", &o, &r, &err), WUDF_OK, &err);
  wudf_csv_batch b = {0};
  CHECK_STATUS(wudf_csv_read_batch(r, 3, &b, &err), WUDF_OK, &err);
  CHECK_EQ_INT(b.nrows, 3);
  wudf_csv_batch_reset(&b);
  CHECK_STATUS(wudf_csv_read_batch(r, 3, &b, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "r.csv: line 5: 1 field, the header has 2");
  CHECK(b.nrows == 0 && b.columns == NULL);
  /* The reader stays failed. */
  CHECK_STATUS(wudf_csv_read_batch(r, 3, &b, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "line 5");
  wudf_csv_reader_free(r);
  fclose(f);
}

TEST(csv_unterminated_quote) {
  CHECK_READ_FAILS("a,b\n1,2\n3,\"x\n\ny\n", NULL, WUDF_ERR_MALFORMED,
                   "t.csv: line 3, column 'b': unterminated quote");
  CHECK_READ_FAILS("a,\"b", NULL, WUDF_ERR_MALFORMED,
                   "line 1, column 2: unterminated quote");
  CHECK_READ_FAILS("a\n\"", NULL, WUDF_ERR_MALFORMED, "line 2");
}

TEST(csv_character_after_closing_quote) {
  CHECK_READ_FAILS("a,b\n\"x\"y,2\n", NULL, WUDF_ERR_MALFORMED,
                   "line 2, column 'a': 'y' after a closing quote");
  CHECK_READ_FAILS("a,b\n1,\"x\" \n", NULL, WUDF_ERR_MALFORMED,
                   "column 'b': ' ' after a closing quote");
}

TEST(csv_invalid_utf8) {
  CHECK_READ_FAILS("a,b\n1,ok\n2,\"bad \xff\"\n", NULL, WUDF_ERR_MALFORMED,
                   "t.csv: line 3, column 'b': invalid UTF-8");
  /* In a numeric column too, and an overlong encoding, and a surrogate. */
  CHECK_READ_FAILS("n,s\n1,x\n\xc0\xaf,y\n", NULL, WUDF_ERR_MALFORMED,
                   "line 3, column 'n': invalid UTF-8");
  CHECK_READ_FAILS("n,s\n1,\xed\xa0\x80\n", NULL, WUDF_ERR_MALFORMED,
                   "line 2, column 's': invalid UTF-8");
  CHECK_READ_FAILS("n,\xe2\x82\n", NULL, WUDF_ERR_MALFORMED,
                   "line 1, column 2: the header name is not valid UTF-8");
  /* Valid multi-byte text is fine. */
  CHECK_READS("n\xc3\xa9,s\n1,\xe2\x82\xac \xf0\x9f\x98\x80\n",
              "n\xc3\xa9:int32,s:utf8\n1|[\xe2\x82\xac \xf0\x9f\x98\x80]\n");
}

TEST(csv_type_mismatch_after_the_sample) {
  wudf_csv_options o;
  wudf_csv_options_init(&o);
  o.sample_rows = 3;
  CHECK_READ_FAILS("id,balance\n1,10\n2,20\n3,30\n4,40\n5,abc\n", &o,
                   WUDF_ERR_TYPE,
                   "t.csv: line 6, column 'balance': 'abc' is not an int32 "
                   "(inferred from the first 3 rows)");
  CHECK_READ_FAILS("id,balance\n1,10\n2,20\n3,30\n4,3000000000\n", &o,
                   WUDF_ERR_TYPE, "'3000000000' is not an int32");
  CHECK_READ_FAILS("x\n1.5\n2\n3\n4.5e\n", &o, WUDF_ERR_TYPE,
                   "line 5, column 'x': '4.5e' is not a float64");
  CHECK_READ_FAILS("x\ntrue\nfalse\nTRUE\nyes\n", &o, WUDF_ERR_TYPE,
                   "'yes' is not a bool");
  CHECK_READ_FAILS("x\n3000000000\n1\n1\n1.5\n", &o, WUDF_ERR_TYPE,
                   "'1.5' is not an int64");
  /* Long values are cut in the message. */
  char text[400];
  snprintf(text, sizeof text, "x\n1\n2\n3\n%0200d\n", 7);
  memset(text + 10, 'z', 150);
  CHECK_READ_FAILS(text, &o, WUDF_ERR_TYPE, "zzz...' is not an int32");
}

TEST(csv_record_limit_and_io_errors) {
  wudf_csv_reader *r = NULL;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_csv_open("/nonexistent/x.csv", NULL, &r, &err), WUDF_ERR_IO,
               &err);
  CHECK_CONTAINS(err.message, "cannot open '/nonexistent/x.csv'");
  CHECK(r == NULL);
  CHECK_STATUS(wudf_csv_open(NULL, NULL, &r, &err), WUDF_ERR_ARG, &err);
  /* A directory opens but cannot be read. */
  CHECK_STATUS(wudf_csv_open("/", NULL, &r, &err), WUDF_ERR_IO, &err);
  CHECK_CONTAINS(err.message, "/: read error");
}

/* ---- Type inference ----------------------------------------------------- */

TEST(csv_infer_each_type) {
  CHECK_READS(
      "i,l,d,b,s\n"
      "1,2147483648,1.5,true,x\n"
      "-2147483648,-9223372036854775808,-2,FALSE,1\n"
      "2147483647,9223372036854775807,1e3,True,true\n",
      "i:int32,l:int64,d:float64,b:bool,s:utf8\n"
      "1|2147483648|1.5|true|[x]\n"
      "-2147483648|-9223372036854775808|-2|false|[1]\n"
      "2147483647|9223372036854775807|1000|true|[true]\n");
}

TEST(csv_infer_mixed_and_nulls) {
  CHECK_READS(
      "a,b,c,d,e\n"
      ",,,,\n"
      "1,,x,,2147483647\n"
      ",2.5,,,\n"
      "-3,7,1,,-2147483649\n",
      "a:int32,b:float64,c:utf8,d:utf8,e:int64\n"
      "NULL|NULL|NULL|NULL|NULL\n"
      "1|NULL|[x]|NULL|2147483647\n"
      "NULL|2.5|NULL|NULL|NULL\n"
      "-3|7|[1]|NULL|-2147483649\n");
  /* Integers beyond int64 are numbers: float64. */
  CHECK_READS("x\n9223372036854775808\n1\n",
              "x:float64\n9.2233720368547758e+18\n1\n");
  /* bool mixed with numbers is text. */
  CHECK_READS("x\ntrue\n1\n", "x:utf8\n[true]\n[1]\n");
}

TEST(csv_classify_values) {
  static const struct {
    const char *text;
    wudf_csv_kind kind;
  } cases[] = {
      {"0", WUDF_CSV_KIND_INT32},
      {"+7", WUDF_CSV_KIND_INT32},
      {"007", WUDF_CSV_KIND_INT32},
      {"-0", WUDF_CSV_KIND_INT32},
      {"2147483648", WUDF_CSV_KIND_INT64},
      {"-2147483649", WUDF_CSV_KIND_INT64},
      {"99999999999999999999", WUDF_CSV_KIND_FLOAT},
      {"1.", WUDF_CSV_KIND_FLOAT},
      {".5", WUDF_CSV_KIND_FLOAT},
      {"-.5e-3", WUDF_CSV_KIND_FLOAT},
      {"1E+5", WUDF_CSV_KIND_FLOAT},
      {"NaN", WUDF_CSV_KIND_FLOAT},
      {"-inf", WUDF_CSV_KIND_FLOAT},
      {"Infinity", WUDF_CSV_KIND_FLOAT},
      {"tRuE", WUDF_CSV_KIND_BOOL},
      {"false", WUDF_CSV_KIND_BOOL},
      {" 1", WUDF_CSV_KIND_TEXT},
      {"1 ", WUDF_CSV_KIND_TEXT},
      {"1_000", WUDF_CSV_KIND_TEXT},
      {"1,5", WUDF_CSV_KIND_TEXT},
      {"0x10", WUDF_CSV_KIND_TEXT},
      {"-", WUDF_CSV_KIND_TEXT},
      {"+", WUDF_CSV_KIND_TEXT},
      {".", WUDF_CSV_KIND_TEXT},
      {"e5", WUDF_CSV_KIND_TEXT},
      {"1e", WUDF_CSV_KIND_TEXT},
      {"1e+", WUDF_CSV_KIND_TEXT},
      {"1.2.3", WUDF_CSV_KIND_TEXT},
      {"--1", WUDF_CSV_KIND_TEXT},
      {"nan(1)", WUDF_CSV_KIND_TEXT},
      {"infinit", WUDF_CSV_KIND_TEXT},
      {"t", WUDF_CSV_KIND_TEXT},
      {"yes", WUDF_CSV_KIND_TEXT},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wudf_csv_kind k = wudf_csv_classify((const uint8_t *)cases[i].text,
                                        strlen(cases[i].text));
    CHECK_MSG(k == cases[i].kind, "'%s': kind %d, expected %d", cases[i].text,
              (int)k, (int)cases[i].kind);
  }
}

TEST(csv_set_type) {
  const char *text = "a,b,c\n1,2.5,x\n2,3,y\n";
  FILE *f = text_file(text, strlen(text));
  CHECK(f);
  wudf_csv_reader *r;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_csv_open_file(f, "s.csv", NULL, &r, &err), WUDF_OK, &err);
  CHECK_STATUS(wudf_csv_reader_set_type(r, 0, WUDF_TYPE_UTF8, &err), WUDF_OK,
               &err);
  CHECK_STATUS(wudf_csv_reader_set_type(r, 1, WUDF_TYPE_FLOAT32, &err), WUDF_OK,
               &err);
  CHECK_STATUS(wudf_csv_reader_set_type(r, 3, WUDF_TYPE_UTF8, &err),
               WUDF_ERR_ARG, &err);
  CHECK_STATUS(wudf_csv_reader_set_type(r, 0, (wudf_type)99, &err),
               WUDF_ERR_ARG, &err);
  CHECK(wudf_csv_reader_schema(r)->types[1] == WUDF_TYPE_FLOAT32);
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_status st = drain(r, 10, false, &sb, &err);
  char *got = wudf_strbuf_take(&sb);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK_STR(got, "[1]|2.5|[x]\n[2]|3|[y]\n");
  free(got);
  CHECK_STATUS(wudf_csv_reader_set_type(r, 0, WUDF_TYPE_INT32, &err),
               WUDF_ERR_ARG, &err);
  wudf_csv_reader_free(r);
  fclose(f);
  /* A forced type that does not fit says so. */
  f = text_file(text, strlen(text));
  CHECK(f);
  CHECK_STATUS(wudf_csv_open_file(f, "s.csv", NULL, &r, &err), WUDF_OK, &err);
  CHECK_STATUS(wudf_csv_reader_set_type(r, 2, WUDF_TYPE_INT64, &err), WUDF_OK,
               &err);
  wudf_csv_batch b = {0};
  CHECK_STATUS(wudf_csv_read_batch(r, 10, &b, &err), WUDF_ERR_TYPE, &err);
  CHECK_CONTAINS(err.message,
                 "line 2, column 'c': 'x' is not an int64 (the type given "
                 "for the column)");
  wudf_csv_reader_free(r);
  fclose(f);
}

TEST(csv_sample_zero_means_text) {
  wudf_csv_options o;
  wudf_csv_options_init(&o);
  o.sample_rows = 0;
  char *got = NULL;
  wudf_error err;
  wudf_error_init(&err);
  const char *text = "a,b\n1,2\n";
  CHECK_STATUS(read_text_opts(text, strlen(text), &o, 10, false, &got, &err),
               WUDF_OK, &err);
  CHECK_STR(got, "a:utf8,b:utf8\n[1]|[2]\n");
  free(got);
}

/* ---- Numbers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

static bool same_double(double a, double b) {
  return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

TEST(csv_parse_double_matches_strtod) {
  static const char *hard[] = {
      "0.1",
      "5765.22",
      "1e23",
      "9007199254740993",
      "9007199254740992.5",
      "2.2250738585072011e-308",
      "2.2250738585072014e-308",
      "4.9406564584124654e-324",
      "2.4703282292062327e-324",
      "1.7976931348623157e308",
      "1.7976931348623159e308",
      "1e-400",
      "1e400",
      "-0",
      "-0.0e10",
      "0e999999999",
      "123456789012345678901234567890",
      "0.000000000000000000000000000000000000001",
      "7.038531e-26",
      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "+.5",
      "12345678901234567890e-10",
      "3.0000000000000003",
      "1e22",
      "1e-22",
      "8.98846567431158e307"};
  for (size_t i = 0; i < sizeof hard / sizeof hard[0]; i++) {
    double got = 0, want = strtod(hard[i], NULL);
    CHECK(wudf_csv_parse_double((const uint8_t *)hard[i], strlen(hard[i]),
                                &got) == WUDF_CSV_NUM_OK);
    CHECK_MSG(same_double(got, want), "%s: %a, strtod %a", hard[i], got, want);
  }
  /* Random decimals of every shape. */
  for (int i = 0; i < 200000; i++) {
    char text[64];
    uint64_t r = rnd();
    int digits = (int)(r % 20) + 1, exp = (int)((r >> 8) % 60) - 30;
    uint64_t m = rnd() % 10000000000000000000ull;
    while (digits < 20 && m >= 1 && m / 10 > 0 && (r >> 20) % 3 == 0) m /= 10;
    switch ((r >> 16) % 4) {
      case 0:
        snprintf(text, sizeof text, "%llu", (unsigned long long)m);
        break;
      case 1:
        snprintf(text, sizeof text, "%llue%d", (unsigned long long)m, exp);
        break;
      case 2:
        snprintf(text, sizeof text, "-0.%llu", (unsigned long long)m);
        break;
      default:
        snprintf(text, sizeof text, "%llu.%llue%d",
                 (unsigned long long)(m % 100000), (unsigned long long)(m / 7),
                 exp * 10);
    }
    double got = 0, want = strtod(text, NULL);
    CHECK(wudf_csv_parse_double((const uint8_t *)text, strlen(text), &got) ==
          WUDF_CSV_NUM_OK);
    CHECK_MSG(same_double(got, want), "%s: %a, strtod %a", text, got, want);
    float fgot = 0, fwant = strtof(text, NULL);
    CHECK(wudf_csv_parse_float((const uint8_t *)text, strlen(text), &fgot) ==
          WUDF_CSV_NUM_OK);
    CHECK_MSG(memcmp(&fgot, &fwant, 4) == 0, "%s: %a, strtof %a", text,
              (double)fgot, (double)fwant);
  }
}

TEST(csv_parse_int64_edges) {
  static const struct {
    const char *text;
    wudf_csv_num r;
    int64_t v;
  } cases[] = {
      {"9223372036854775807", WUDF_CSV_NUM_OK, INT64_MAX},
      {"-9223372036854775808", WUDF_CSV_NUM_OK, INT64_MIN},
      {"9223372036854775808", WUDF_CSV_NUM_RANGE, 0},
      {"-9223372036854775809", WUDF_CSV_NUM_RANGE, 0},
      {"18446744073709551616", WUDF_CSV_NUM_RANGE, 0},
      {"000000000000000000000000042", WUDF_CSV_NUM_OK, 42},
      {"99999999999999999999999x", WUDF_CSV_NUM_SYNTAX, 0},
      {"", WUDF_CSV_NUM_SYNTAX, 0},
      {"-", WUDF_CSV_NUM_SYNTAX, 0},
      {"1-", WUDF_CSV_NUM_SYNTAX, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t v = 0;
    wudf_csv_num r = wudf_csv_parse_int64((const uint8_t *)cases[i].text,
                                          strlen(cases[i].text), &v);
    CHECK_MSG(r == cases[i].r, "'%s': %d", cases[i].text, (int)r);
    if (r == WUDF_CSV_NUM_OK) CHECK_EQ_INT(v, cases[i].v);
  }
}

/* ---- Float formatting --------------------------------------------------- */

TEST(csv_format_double_known) {
  static const struct {
    double v;
    const char *text;
  } cases[] = {
      /* Python repr() (without its ".0" on integral values). */
      {0x1.999999999999ap-4, "0.1"},
      {0x1.249ad2594c37dp+332, "1e+100"},
      {0x1.6853851eb851fp+12, "5765.22"},
      {0x1.3333333333334p-2, "0.30000000000000004"},
      {0x1.4f8b588e368f1p-17, "1e-05"},
      {0x1.a36e2eb1c432dp-14, "0.0001"},
      {0x1.b69b4ba630f35p+56, "1.2345678901234568e+17"},
      {0x0.0000000000001p-1022, "5e-324"},
      {0x1.fffffffffffffp+1023, "1.7976931348623157e+308"},
      {0x1.0000000000000p-1022, "2.2250738585072014e-308"},
      {0x1.0000000000000p+53, "9007199254740992"},
      {0x1.c6bf526340000p+49, "1000000000000000"},
      {0x1.1c37937e08000p+53, "1e+16"},
      {0x1.9000000000000p+6, "100"},
      {0x1.8000000000000p+0, "1.5"},
      {0x1.5555555555555p-1, "0.6666666666666666"},
      {0x1.52d02c7e14af6p+76, "1e+23"},
      {0x1.6853851eb8520p+12, "5765.220000000001"},
      {0x1.6793851eb851fp+12, "5753.22"},
      {0x1.921f9f01b866ep+1, "3.14159"},
      {0x1.b1ae4d6e2ef50p+69, "1e+21"},
      {0x1.1666666666666p+2, "4.35"},
      {0x1.01f31f46ed246p-13, "0.000123"},
      {0x1.ad7f29abcaf48p-24, "1e-07"},
      {0x1.aabdf2145b430p+66, "1.23e+20"},
      {-0.0, "-0"},
      {0.0, "0"},
      {-1.5, "-1.5"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char buf[32];
    int n = wudf_format_double(cases[i].v, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, cases[i].text) == 0, "%a: got %s, expected %s",
              cases[i].v, buf, cases[i].text);
    CHECK_EQ_INT(n, strlen(cases[i].text));
  }
  char buf[8];
  CHECK_EQ_INT(wudf_format_double(NAN, buf, sizeof buf), 3);
  CHECK_STR(buf, "nan");
  wudf_format_double(INFINITY, buf, sizeof buf);
  CHECK_STR(buf, "inf");
  wudf_format_double(-INFINITY, buf, sizeof buf);
  CHECK_STR(buf, "-inf");
  /* Truncation works like snprintf. */
  CHECK_EQ_INT(wudf_format_double(0x1.3333333333334p-2, buf, sizeof buf), 19);
  CHECK_STR(buf, "0.30000");
}

TEST(csv_format_float_known) {
  static const struct {
    uint32_t bits;
    const char *text;
  } cases[] = {
      /* Exact search in Python: the fewest digits that round (exactly) back
       * to the float, nearest first. */
      {0x45b429c3, "5765.22"},   {0x46be00ae, "24320.34"},
      {0x45d1cecc, "6713.8496"}, {0x4638dc90, "11831.141"},
      {0x3eeb851f, "0.46"},      {0x3dcccccd, "0.1"},
      {0x4b800000, "16777216"},  {0x7f7fffff, "3.4028235e+38"},
      {0x00000001, "1e-45"},     {0x00800000, "1.1754944e-38"},
      {0x47f12065, "123456.79"}, {0x501502f9, "10000000000"},
      {0x40e00000, "7"},         {0x3e99999a, "0.3"},
      {0x5a0e1bca, "1e+16"},     {0x4c000000, "33554432"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    float v;
    memcpy(&v, &cases[i].bits, 4);
    char buf[32];
    wudf_format_float(v, buf, sizeof buf);
    CHECK_MSG(strcmp(buf, cases[i].text) == 0, "%a: got %s, expected %s",
              (double)v, buf, cases[i].text);
  }
  char buf[32];
  wudf_format_float(-0.0f, buf, sizeof buf);
  CHECK_STR(buf, "-0");
  wudf_format_float(-NAN, buf, sizeof buf);
  CHECK_STR(buf, "nan");
}

/* Significant digits in a formatted number. */
static int sig_digits(const char *s) {
  char d[40];
  int n = 0;
  for (; *s && *s != 'e' && n < 40; s++)
    if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0')) d[n++] = *s;
  while (n > 1 && d[n - 1] == '0') n--;
  return n ? n : 1;
}

/* Fewest significant digits that printf("%.*e") needs to read back. */
static int printf_shortest(double v, bool is_float) {
  for (int n = 1; n <= 17; n++) {
    char text[64];
    snprintf(text, sizeof text, "%.*e", n - 1, v);
    if (is_float ? strtof(text, NULL) == (float)v : strtod(text, NULL) == v)
      return n;
  }
  return 17;
}

static double random_double(void) {
  uint64_t r = rnd(), bits;
  double v;
  switch (r % 4) {
    case 0: /* any bit pattern */
      bits = rnd();
      memcpy(&v, &bits, 8);
      return v;
    case 1: /* a short decimal, as in data */
      return (double)(int64_t)(rnd() % 2000000001 - 1000000000) /
             (double)(1ull << (rnd() % 7)) / 100.0;
    case 2: /* computed values */
      return (double)(rnd() % 100000) * 0.01 * (double)(rnd() % 1000) / 7.0;
    default: /* wide exponents */
      return ldexp((double)(rnd() >> 11), (int)(rnd() % 200) - 100);
  }
}

TEST(csv_format_double_round_trips_and_is_shortest) {
  for (int i = 0; i < 300000; i++) {
    double v = random_double();
    if (!isfinite(v)) continue;
    char buf[32];
    int n = wudf_format_double(v, buf, sizeof buf);
    CHECK(n > 0 && n <= 24 && (size_t)n == strlen(buf));
    double back = strtod(buf, NULL);
    CHECK_MSG(same_double(back, v), "%a formats as %s, reads back as %a", v,
              buf, back);
    if (v == 0) continue;
    int want = printf_shortest(v, false), got = sig_digits(buf);
    CHECK_MSG(got == want, "%a: %s has %d digits, %d needed", v, buf, got,
              want);
  }
}

TEST(csv_format_float_round_trips_and_is_shortest) {
  for (int i = 0; i < 300000; i++) {
    uint32_t bits = (uint32_t)rnd();
    float v;
    if (i % 2) {
      memcpy(&v, &bits, 4);
    } else {
      v = (float)((double)(int32_t)(bits % 20000001 - 10000000) / 100.0);
    }
    if (!isfinite(v)) continue;
    char buf[32];
    int n = wudf_format_float(v, buf, sizeof buf);
    CHECK(n > 0 && n <= 17 && (size_t)n == strlen(buf));
    float back = strtof(buf, NULL);
    CHECK_MSG(memcmp(&back, &v, 4) == 0, "%a formats as %s, reads back as %a",
              (double)v, buf, (double)back);
    if (v == 0) continue;
    int want = printf_shortest((double)v, true), got = sig_digits(buf);
    CHECK_MSG(got == want, "%a: %s has %d digits, %d needed", (double)v, buf,
              got, want);
  }
}

/* ---- Writer ------------------------------------------------------------- */

/* A utf8 array from strings (NULL pointer = NULL value). */
static bool utf8_array(const char *const *v, size_t n, struct ArrowArray *a) {
  wudf_array_builder *b;
  if (wudf_array_builder_new(WUDF_TYPE_UTF8, 4, &b, NULL) != WUDF_OK)
    return false;
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++)
    ok = (v[i] ? wudf_array_builder_append_string(b, v[i], strlen(v[i]))
               : wudf_array_builder_append_null(b)) == WUDF_OK;
  ok = ok && wudf_array_builder_finish(b, NULL, a, NULL, NULL) == WUDF_OK;
  wudf_array_builder_free(b);
  return ok;
}

/* An array of `type` from doubles; NAN_NULL marks a NULL. */
#define NULLV 1234.5678e300
static bool num_array(wudf_type type, const double *v, size_t n,
                      struct ArrowArray *a) {
  wudf_array_builder *b;
  if (wudf_array_builder_new(type, 4, &b, NULL) != WUDF_OK) return false;
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    wudf_status st;
    if (v[i] == NULLV)
      st = wudf_array_builder_append_null(b);
    else if (type == WUDF_TYPE_BOOL)
      st = wudf_array_builder_append_bool(b, v[i] != 0);
    else if (type == WUDF_TYPE_INT32 || type == WUDF_TYPE_INT64)
      st = wudf_array_builder_append_int(b, (int64_t)v[i]);
    else
      st = wudf_array_builder_append_double(b, v[i]);
    ok = st == WUDF_OK;
  }
  ok = ok && wudf_array_builder_finish(b, NULL, a, NULL, NULL) == WUDF_OK;
  wudf_array_builder_free(b);
  return ok;
}

/* Writes the columns with `format` into a string (free()). */
static char *write_text(wudf_output_format format, uint32_t ncols,
                        const char *const *names, const wudf_type *types,
                        struct ArrowArray *arrays,
                        const struct ArrowArray *selection, wudf_error *err) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return NULL;
  const struct ArrowArray *cols[16];
  for (uint32_t k = 0; k < ncols; k++) cols[k] = &arrays[k];
  wudf_csv_writer *w = NULL;
  wudf_status st = wudf_csv_writer_new(f, format, ncols, names, types, &w, err);
  if (st == WUDF_OK) st = wudf_csv_writer_write(w, cols, selection, err);
  if (st == WUDF_OK) st = wudf_csv_writer_finish(w, err);
  wudf_csv_writer_free(w);
  fclose(f);
  if (st != WUDF_OK) {
    free(text);
    return NULL;
  }
  return text;
}

static void release_all(struct ArrowArray *a, uint32_t n) {
  for (uint32_t k = 0; k < n; k++)
    if (a[k].release) a[k].release(&a[k]);
}

static const char *nasty[] = {
    "plain",
    "with, comma",
    "say \"hi\"",
    "\"",
    "line\nbreak",
    "cr\ronly",
    "crlf\r\nx",
    " leading",
    "trailing ",
    "\ttab",
    "",
    NULL,
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    "a,\"b\"\n,c",
    "123",
    "   ",
    "x\"",
    "\"\"",
};
#define NNASTY (sizeof nasty / sizeof nasty[0])

TEST(csv_writer_round_trip_nasty_strings) {
  const double ids[NNASTY] = {1,  2,  3,  4,  5,  6,     7,  8,  9,
                              10, 11, 12, 13, 14, NULLV, 16, 17, 18};
  double reals[NNASTY];
  for (size_t i = 0; i < NNASTY; i++)
    reals[i] = i == 3 ? NULLV : (double)i * 0.1 + 1e-7 * (double)(i * i);
  struct ArrowArray arrays[3] = {{0}};
  CHECK(num_array(WUDF_TYPE_INT32, ids, NNASTY, &arrays[0]));
  CHECK(utf8_array(nasty, NNASTY, &arrays[1]));
  CHECK(num_array(WUDF_TYPE_FLOAT64, reals, NNASTY, &arrays[2]));
  const char *names[3] = {"id", "text, \"quoted\"", " r"};
  wudf_type types[3] = {WUDF_TYPE_INT32, WUDF_TYPE_UTF8, WUDF_TYPE_FLOAT64};
  wudf_error err;
  wudf_error_init(&err);
  char *csv = write_text(WUDF_OUTPUT_CSV, 3, names, types, arrays, NULL, &err);
  release_all(arrays, 3);
  CHECK_MSG(csv, "%s", err.message);
  /* Read back: the values must be those written. */
  FILE *f = text_file(csv, strlen(csv));
  free(csv);
  CHECK(f);
  wudf_csv_reader *r;
  CHECK_STATUS(wudf_csv_open_file(f, "rt.csv", NULL, &r, &err), WUDF_OK, &err);
  const wudf_csv_schema *s = wudf_csv_reader_schema(r);
  CHECK_EQ_INT(s->ncols, 3);
  CHECK_STR(s->names[1], names[1]);
  CHECK_STR(s->names[2], names[2]);
  CHECK(s->types[0] == WUDF_TYPE_INT32 && s->types[1] == WUDF_TYPE_UTF8 &&
        s->types[2] == WUDF_TYPE_FLOAT64);
  wudf_csv_batch b = {0};
  CHECK_STATUS(wudf_csv_read_batch(r, 100, &b, &err), WUDF_OK, &err);
  CHECK_EQ_INT(b.nrows, NNASTY);
  wudf_column c[3];
  for (uint32_t k = 0; k < 3; k++)
    CHECK(wudf_column_from_arrow(&b.columns[k], &b.schemas[k], k, &c[k],
                                 NULL) == WUDF_OK);
  for (size_t i = 0; i < NNASTY; i++) {
    CHECK(wudf_column_valid(&c[0], (int64_t)i) == (ids[i] != NULLV));
    if (ids[i] != NULLV)
      CHECK_EQ_INT(wudf_column_int32(&c[0], (int64_t)i), ids[i]);
    CHECK(wudf_column_valid(&c[1], (int64_t)i) == (nasty[i] != NULL));
    if (nasty[i]) {
      size_t n;
      const uint8_t *t = wudf_column_utf8(&c[1], (int64_t)i, &n);
      CHECK_MSG(n == strlen(nasty[i]) && memcmp(t, nasty[i], n) == 0,
                "row %zu: '%.*s' != '%s'", i, (int)n, t, nasty[i]);
    }
    CHECK(wudf_column_valid(&c[2], (int64_t)i) == (reals[i] != NULLV));
    if (reals[i] != NULLV)
      CHECK(same_double(wudf_column_float64(&c[2], (int64_t)i), reals[i]));
  }
  wudf_csv_batch_reset(&b);
  wudf_csv_reader_free(r);
  fclose(f);
}

TEST(csv_writer_csv_text) {
  const double i32[3] = {1, NULLV, -7};
  const double f32[3] = {5765.22, NULLV, 1e-7};
  const double f64[3] = {0.1, NAN, -INFINITY};
  const double bl[3] = {1, 0, NULLV};
  const char *s[3] = {"a b", "", NULL};
  struct ArrowArray a[5] = {{0}};
  CHECK(num_array(WUDF_TYPE_INT32, i32, 3, &a[0]));
  CHECK(num_array(WUDF_TYPE_FLOAT32, f32, 3, &a[1]));
  CHECK(num_array(WUDF_TYPE_FLOAT64, f64, 3, &a[2]));
  CHECK(num_array(WUDF_TYPE_BOOL, bl, 3, &a[3]));
  CHECK(utf8_array(s, 3, &a[4]));
  const char *names[5] = {"i", "f", "d", "b", "s"};
  wudf_type types[5] = {WUDF_TYPE_INT32, WUDF_TYPE_FLOAT32, WUDF_TYPE_FLOAT64,
                        WUDF_TYPE_BOOL, WUDF_TYPE_UTF8};
  wudf_error err;
  wudf_error_init(&err);
  char *csv = write_text(WUDF_OUTPUT_CSV, 5, names, types, a, NULL, &err);
  char *json = write_text(WUDF_OUTPUT_JSONL, 5, names, types, a, NULL, &err);
  char *table = write_text(WUDF_OUTPUT_TABLE, 5, names, types, a, NULL, &err);
  release_all(a, 5);
  CHECK_STR(csv,
            "i,f,d,b,s\n1,5765.22,0.1,true,a b\n,,nan,false,\"\"\n"
            "-7,1e-07,-inf,,\n");
  CHECK_STR(json,
            "{\"i\":1,\"f\":5765.22,\"d\":0.1,\"b\":true,\"s\":\"a b\"}\n"
            "{\"i\":null,\"f\":null,\"d\":null,\"b\":false,\"s\":\"\"}\n"
            "{\"i\":-7,\"f\":1e-07,\"d\":null,\"b\":null,\"s\":null}\n");
  CHECK_STR(
      table,
      " i           | f              | d                  | b     | s\n"
      " int32       | float32        | float64            | bool  | utf8\n"
      "-------------+----------------+--------------------+-------+--"
      "------------------------\n"
      "           1 |        5765.22 |                0.1 | true  | a b\n"
      "        NULL |           NULL |                nan | false | \n"
      "          -7 |          1e-07 |               -inf | NULL  | NULL\n"
      "(3 rows)\n");
  free(csv);
  free(json);
  free(table);
}

TEST(csv_writer_selection) {
  const double v[5] = {10, 20, 30, 40, 50};
  const double sel[5] = {1, 0, NULLV, 1, 0};
  struct ArrowArray a[1] = {{0}}, s = {0};
  CHECK(num_array(WUDF_TYPE_INT64, v, 5, &a[0]));
  CHECK(num_array(WUDF_TYPE_BOOL, sel, 5, &s));
  const char *names[1] = {"v"};
  wudf_type types[1] = {WUDF_TYPE_INT64};
  wudf_error err;
  wudf_error_init(&err);
  char *csv = write_text(WUDF_OUTPUT_CSV, 1, names, types, a, &s, &err);
  CHECK_STR(csv, "v\n10\n40\n");
  free(csv);
  /* A selection of another length is refused. */
  struct ArrowArray s3 = {0};
  CHECK(num_array(WUDF_TYPE_BOOL, sel, 3, &s3));
  csv = write_text(WUDF_OUTPUT_CSV, 1, names, types, a, &s3, &err);
  CHECK(csv == NULL);
  CHECK_CONTAINS(err.message, "the selection has 3 rows, the columns 5");
  s.release(&s);
  s3.release(&s3);
  release_all(a, 1);
}

TEST(csv_writer_json_escaping) {
  const char *s[4] = {"q\"b\\s/", "\n\r\t\b\f\x01\x1f\x7f",
                      "\xc3\xa9\xe2\x82\xac", NULL};
  struct ArrowArray a[1] = {{0}};
  CHECK(utf8_array(s, 4, &a[0]));
  const char *names[1] = {"k\"\n"};
  wudf_type types[1] = {WUDF_TYPE_UTF8};
  wudf_error err;
  wudf_error_init(&err);
  char *json = write_text(WUDF_OUTPUT_JSONL, 1, names, types, a, NULL, &err);
  release_all(a, 1);
  CHECK_STR(json,
            "{\"k\\\"\\n\":\"q\\\"b\\\\s/\"}\n"
            "{\"k\\\"\\n\":\"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"}\n"
            "{\"k\\\"\\n\":\"\xc3\xa9\xe2\x82\xac\"}\n"
            "{\"k\\\"\\n\":null}\n");
  free(json);
  /* Invalid UTF-8 cannot be JSON. */
  const char *bad[1] = {"x"};
  CHECK(utf8_array(bad, 1, &a[0]));
  ((uint8_t *)(uintptr_t)a[0].buffers[2])[0] = 0xff;
  json = write_text(WUDF_OUTPUT_JSONL, 1, names, types, a, NULL, &err);
  CHECK(json == NULL);
  CHECK_CONTAINS(err.message, "not valid UTF-8");
  release_all(a, 1);
}

TEST(csv_writer_table_cuts_long_text) {
  const char *s[3] = {"0123456789012345678901234567890123456789", "short\ttab",
                      "\xc3\xa9\xc3\xa9"};
  const double n[3] = {1, 2, 3};
  struct ArrowArray a[2] = {{0}};
  CHECK(utf8_array(s, 3, &a[0]));
  CHECK(num_array(WUDF_TYPE_INT32, n, 3, &a[1]));
  const char *names[2] = {"text", "n"};
  wudf_type types[2] = {WUDF_TYPE_UTF8, WUDF_TYPE_INT32};
  wudf_error err;
  wudf_error_init(&err);
  char *t = write_text(WUDF_OUTPUT_TABLE, 2, names, types, a, NULL, &err);
  release_all(a, 2);
  CHECK_STR(t,
            " text                     | n\n"
            " utf8                     | int32\n"
            "--------------------------+-------------\n"
            " 012345678901234567890... |           1\n"
            " short\\ttab               |           2\n"
            " \xc3\xa9\xc3\xa9                       |           3\n"
            "(3 rows)\n");
  free(t);
}

TEST(csv_writer_header_only_and_one_column_nulls) {
  const char *s[3] = {"x", NULL, ""};
  struct ArrowArray a[1] = {{0}};
  CHECK(utf8_array(s, 3, &a[0]));
  const char *names[1] = {""};
  wudf_type types[1] = {WUDF_TYPE_UTF8};
  wudf_error err;
  wudf_error_init(&err);
  char *csv = write_text(WUDF_OUTPUT_CSV, 1, names, types, a, NULL, &err);
  release_all(a, 1);
  CHECK_STR(csv, "\"\"\nx\n\n\"\"\n");
  /* It reads back: the blank line is the NULL. */
  char *got = NULL;
  CHECK_STATUS(read_text(csv, &got, &err), WUDF_OK, &err);
  CHECK_STR(got, "column1:utf8\n[x]\nNULL\n[]\n");
  free(got);
  free(csv);
  /* No rows: just the header. */
  wudf_csv_writer *w;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  const char *n2[2] = {"a", "b"};
  wudf_type t2[2] = {WUDF_TYPE_INT32, WUDF_TYPE_UTF8};
  CHECK_STATUS(wudf_csv_writer_new(f, WUDF_OUTPUT_CSV, 2, n2, t2, &w, &err),
               WUDF_OK, &err);
  CHECK_STATUS(wudf_csv_writer_finish(w, &err), WUDF_OK, &err);
  CHECK_EQ_INT(wudf_csv_writer_rows(w), 0);
  wudf_csv_writer_free(w);
  fclose(f);
  CHECK_STR(text, "a,b\n");
  free(text);
}

TEST(csv_writer_io_error) {
  FILE *f = fopen("/dev/full", "w");
  if (!f) return; /* no /dev/full here */
  const double v[1] = {1};
  struct ArrowArray a[1] = {{0}};
  CHECK(num_array(WUDF_TYPE_INT32, v, 1, &a[0]));
  const char *names[1] = {"v"};
  wudf_type types[1] = {WUDF_TYPE_INT32};
  wudf_error err;
  wudf_error_init(&err);
  wudf_csv_writer *w;
  CHECK_STATUS(
      wudf_csv_writer_new(f, WUDF_OUTPUT_CSV, 1, names, types, &w, &err),
      WUDF_OK, &err);
  const struct ArrowArray *cols[1] = {&a[0]};
  CHECK_STATUS(wudf_csv_writer_write(w, cols, NULL, &err), WUDF_OK, &err);
  CHECK_STATUS(wudf_csv_writer_finish(w, &err), WUDF_ERR_IO, &err);
  CHECK_CONTAINS(err.message, "writing the output failed");
  wudf_csv_writer_free(w);
  fclose(f);
  release_all(a, 1);
}

/* ---- Bigger files ------------------------------------------------------- */

/* Writes rows "i,name_i,i*0.25,bool" for i in [0, rows) to path. */
static bool generate(const char *path, int64_t rows, const char *extra) {
  FILE *f = fopen(path, "w");
  if (!f) return false;
  char *buf = malloc(1 << 20);
  if (!buf) {
    fclose(f);
    return false;
  }
  size_t len = (size_t)snprintf(buf, 1 << 20, "id,name,value,flag\n");
  for (int64_t i = 0; i < rows; i++) {
    if (len > (1 << 20) - 256) {
      fwrite(buf, 1, len, f);
      len = 0;
    }
    len += (size_t)snprintf(buf + len, 256,
                            "%lld,\"name %lld, the \"\"%lld\"\"\",%.2f,%s\n",
                            (long long)i, (long long)i, (long long)(i % 97),
                            (double)i * 0.25, i % 3 ? "true" : "false");
  }
  if (extra) len += (size_t)snprintf(buf + len, 256, "%s", extra);
  bool ok = fwrite(buf, 1, len, f) == len;
  free(buf);
  return fclose(f) == 0 && ok;
}

/* Checks rows of a generated file; *next is the next expected id. */
static bool check_generated(const wudf_csv_batch *b, int64_t *next) {
  wudf_column c[4];
  for (uint32_t k = 0; k < 4; k++)
    if (wudf_column_from_arrow(&b->columns[k], &b->schemas[k], k, &c[k],
                               NULL) != WUDF_OK)
      return false;
  if (c[0].type != WUDF_TYPE_INT32 || c[2].type != WUDF_TYPE_FLOAT64 ||
      c[3].type != WUDF_TYPE_BOOL || c[1].type != WUDF_TYPE_UTF8)
    return false;
  for (int64_t i = 0; i < b->nrows; i++, (*next)++) {
    char want[64];
    size_t n;
    const uint8_t *s = wudf_column_utf8(&c[1], i, &n);
    int w = snprintf(want, sizeof want, "name %lld, the \"%lld\"",
                     (long long)*next, (long long)(*next % 97));
    if (wudf_column_int32(&c[0], i) != *next || (size_t)w != n ||
        memcmp(s, want, n) != 0 ||
        wudf_column_float64(&c[2], i) != (double)*next * 0.25 ||
        wudf_column_bool(&c[3], i) != (*next % 3 != 0) ||
        b->lines[i] != *next + 2)
      return false;
  }
  return true;
}

TEST(csv_file_bigger_than_sample_and_buffer) {
  char path[512];
  snprintf(path, sizeof path, "%s/gen.csv", test_tmpdir());
  CHECK(generate(path, 20000, NULL));
  int64_t sizes[3] = {1, 777, 100000};
  for (int k = 0; k < 3; k++) {
    wudf_csv_options o;
    wudf_csv_options_init(&o);
    o.sample_rows = 100;
    o.buffer_bytes = 4096;
    wudf_csv_reader *r;
    wudf_error err;
    wudf_error_init(&err);
    CHECK_STATUS(wudf_csv_open(path, &o, &r, &err), WUDF_OK, &err);
    int64_t next = 0;
    for (;;) {
      wudf_csv_batch b = {0};
      CHECK_STATUS(wudf_csv_read_batch(r, sizes[k], &b, &err), WUDF_OK, &err);
      bool ok = check_generated(&b, &next);
      int64_t n = b.nrows;
      wudf_csv_batch_reset(&b);
      CHECK_MSG(ok, "batch size %lld: wrong rows near id %lld",
                (long long)sizes[k], (long long)next);
      CHECK(n <= sizes[k]);
      if (n == 0) break;
      if (sizes[k] == 777 && next < 20000) CHECK_EQ_INT(n, 777);
    }
    CHECK_EQ_INT(next, 20000);
    /* End of file stays end of file. */
    wudf_csv_batch b = {0};
    CHECK_STATUS(wudf_csv_read_batch(r, 10, &b, &err), WUDF_OK, &err);
    CHECK_EQ_INT(b.nrows, 0);
    CHECK_EQ_INT(b.ncols, 4);
    wudf_csv_batch_reset(&b);
    wudf_csv_reader_free(r);
  }
  /* A bad value far past the sample names its line. */
  CHECK(generate(path, 20000, "20000,x,oops,true\n"));
  wudf_csv_options o;
  wudf_csv_options_init(&o);
  o.sample_rows = 100;
  wudf_csv_reader *r;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_csv_open(path, &o, &r, &err), WUDF_OK, &err);
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_status st = drain(r, 4096, false, &sb, &err);
  wudf_strbuf_reset(&sb);
  CHECK_STATUS(st, WUDF_ERR_TYPE, &err);
  CHECK_CONTAINS(err.message,
                 "line 20002, column 'value': 'oops' is not a float64 "
                 "(inferred from the first 100 rows)");
  wudf_csv_reader_free(r);
  unlink(path);
}

TEST(csv_long_records_grow_the_buffer) {
  size_t n = 100000;
  char *text = malloc(2 * n + 64);
  CHECK(text);
  strcpy(text, "a,b\n\"");
  size_t len = strlen(text);
  for (size_t i = 0; i < n; i++) text[len++] = i % 1000 == 999 ? '\n' : 'x';
  len += (size_t)sprintf(text + len, "\",1\n2,3\n");
  wudf_csv_options o;
  wudf_csv_options_init(&o);
  o.buffer_bytes = 64;
  char *got = NULL;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status st = read_text_opts(text, len, &o, 1, true, &got, &err);
  free(text);
  bool start = got && strncmp(got, "a:utf8,b:int32\nL2:[xxx", 22) == 0;
  /* 100 line ends inside the quotes: the next row starts on line 103. */
  bool end = got && strstr(got, "]|1\nL103:[2]|3\n");
  free(got);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK(start && end);
}

/* Peak resident memory of this process, in KiB (VmHWM). */
static long peak_rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
  fclose(f);
  return kib;
}

static bool reset_peak_rss(void) {
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  bool ok = fputs("5", f) >= 0;
  return fclose(f) == 0 && ok;
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

TEST(csv_streaming_keeps_memory_bounded) {
  /* ~200 MB of CSV read in batches of 64K rows: the peak RSS must stay far
   * below the file's size. (Not measured under ASan, whose quarantine keeps
   * freed batches.) */
  char path[512];
  snprintf(path, sizeof path, "%s/big.csv", test_tmpdir());
  int64_t rows = 4300000;
  CHECK(generate(path, rows, NULL));
  FILE *f = fopen(path, "rb");
  CHECK(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  CHECK(size > 200L * 1000 * 1000);
  bool measure = reset_peak_rss();
#ifdef UNDER_ASAN
  measure = false;
#endif
  long before = peak_rss_kib();
  wudf_csv_reader *r;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_csv_open(path, NULL, &r, &err), WUDF_OK, &err);
  int64_t next = 0;
  for (;;) {
    wudf_csv_batch b = {0};
    CHECK_STATUS(wudf_csv_read_batch(r, 65536, &b, &err), WUDF_OK, &err);
    bool ok = check_generated(&b, &next);
    int64_t n = b.nrows;
    wudf_csv_batch_reset(&b);
    CHECK_MSG(ok, "wrong rows near id %lld", (long long)next);
    if (n == 0) break;
  }
  wudf_csv_reader_free(r);
  unlink(path);
  CHECK_EQ_INT(next, rows);
  long after = peak_rss_kib();
  if (measure && before > 0 && after > 0) {
    /* One batch of 64K rows is ~5 MB of Arrow data, plus the 1 MiB buffer
     * and the sample; 64 MiB leaves room for malloc's habits. */
    CHECK_MSG(after - before < 64 * 1024,
              "peak RSS grew by %ld KiB reading a %ld-byte file",
              after - before, size);
  }
}

/* ---- Fuzz regressions --------------------------------------------------- */

/* fuzz: a malformed row inside the sample with err == NULL crashed open. */
TEST(csv_fuzz_errors_without_an_error_struct) {
  const char *text = "a,b\n1,2\n3\n\"open";
  FILE *f = text_file(text, strlen(text));
  CHECK(f);
  wudf_csv_reader *r = NULL;
  CHECK(wudf_csv_open_file(f, "x", NULL, &r, NULL) == WUDF_ERR_MALFORMED);
  CHECK(r == NULL);
  fclose(f);
  wudf_csv_options o;
  wudf_csv_options_init(&o);
  o.sample_rows = 1;
  f = text_file(text, strlen(text));
  CHECK(f);
  CHECK(wudf_csv_open_file(f, "x", &o, &r, NULL) == WUDF_OK);
  wudf_csv_batch b = {0};
  CHECK(wudf_csv_read_batch(r, 1, &b, NULL) == WUDF_OK);
  wudf_csv_batch_reset(&b);
  CHECK(wudf_csv_read_batch(r, 1, &b, NULL) == WUDF_ERR_MALFORMED);
  CHECK(wudf_csv_read_batch(r, 1, &b, NULL) == WUDF_ERR_MALFORMED);
  wudf_csv_reader_free(r);
  fclose(f);
}

/* ---- Internals ---------------------------------------------------------- */

TEST(csv_batch_stops_before_utf8_passes_int32_max) {
  wudf_csv_builder b;
  wudf_type types[2] = {WUDF_TYPE_INT32, WUDF_TYPE_UTF8};
  CHECK_STATUS(wudf_csv_builder_init(&b, 2, types, 4, NULL), WUDF_OK, NULL);
  /* Pretend the utf8 column already holds INT32_MAX - 7 bytes. */
  size_t saved = b.cols[1].data_len;
  b.cols[1].data_len = (size_t)INT32_MAX - 7;
  wudf_csv_span spans[8] = {{0, 1}, {0, 3}, {0, 1}, {0, 4},
                            {0, 1}, {0, 1}, {0, 1}, {0, 0}};
  CHECK_EQ_INT(wudf_csv_builder_fit(&b, spans, 4), 2); /* 3 + 4 = 7 fits */
  b.cols[1].data_len = (size_t)INT32_MAX - 6;
  CHECK_EQ_INT(wudf_csv_builder_fit(&b, spans, 4), 1);
  b.cols[1].data_len = (size_t)INT32_MAX;
  CHECK_EQ_INT(wudf_csv_builder_fit(&b, spans, 4), 0);
  b.cols[1].data_len = 0;
  CHECK_EQ_INT(wudf_csv_builder_fit(&b, spans, 4), 4);
  b.cols[1].data_len = saved;
  wudf_csv_builder_reset(&b);
}

TEST(csv_writer_long_values_in_slices) {
  /* 300 KB with quotes, delimiters and control characters: more than one
   * 64 KiB slice; CSV reads back the same, JSON has every byte escaped. */
  size_t n = 300000;
  char *v = malloc(n + 1);
  CHECK(v);
  for (size_t i = 0; i < n; i++) v[i] = "ab\",\n\x01 "[i % 7];
  v[n] = '\0';
  const char *vals[2] = {v, "short"};
  struct ArrowArray a[1] = {{0}};
  bool built = utf8_array(vals, 2, &a[0]);
  const char *names[1] = {"s"};
  wudf_type types[1] = {WUDF_TYPE_UTF8};
  wudf_error err;
  wudf_error_init(&err);
  char *csv = built
                  ? write_text(WUDF_OUTPUT_CSV, 1, names, types, a, NULL, &err)
                  : NULL;
  char *json =
      built ? write_text(WUDF_OUTPUT_JSONL, 1, names, types, a, NULL, &err)
            : NULL;
  release_all(a, 1);
  char *got = NULL;
  wudf_status st = csv ? read_text(csv, &got, &err) : WUDF_ERR_ARG;
  /* Expected JSON length: {"s":" + escaped + "}\n + {"s":"short"}\n */
  size_t esc = 0;
  for (size_t i = 0; i < n; i++)
    esc += v[i] == '"' || v[i] == '\n' ? 2 : v[i] == '\x01' ? 6 : 1;
  bool json_ok = json && strlen(json) == 6 + esc + 3 + 14 &&
                 strncmp(json, "{\"s\":\"ab\\\",\\n\\u0001 ab", 22) == 0;
  bool csv_ok = got && strlen(got) == 7 + 1 + n + 2 + 8 &&
                memcmp(got + 8, v, n) == 0 &&
                strcmp(got + 8 + n, "]\n[short]\n") == 0;
  free(v);
  free(csv);
  free(json);
  free(got);
  CHECK(built);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK(csv_ok);
  CHECK(json_ok);
}
