/* UDF signatures: the text form, wudf.udfs sections, the WebAssembly type a
 * signature requires (docs/abi.md) and the widening table. Error columns are
 * counted by hand (1-based byte positions). */
#include <stdlib.h>

#include "batch/batch_internal.h"
#include "harness.h"
#include "wudf.h"

/* Parses `text`; expects an error whose message is exactly `message`. */
static int parse_fails(const char *text, size_t len, const char *message) {
  wudf_udf_sig sig;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status st = wudf_udf_sig_parse(text, len, &sig, &err);
  if (st == WUDF_ERR_ARG && strcmp(err.message, message) == 0) return 1;
  fprintf(stderr, "    %s: got %s \"%s\"\n    expected \"%s\"\n", text,
          wudf_status_name(st), err.message, message);
  return 0;
}

static int parse_str(const char *text, wudf_udf_sig *sig) {
  wudf_error err;
  wudf_error_init(&err);
  if (wudf_udf_sig_parse(text, strlen(text), sig, &err) == WUDF_OK) return 1;
  fprintf(stderr, "    %s: %s\n", text, err.message);
  return 0;
}

/* Formats `sig` and expects `text`. */
static int formats_as(const wudf_udf_sig *sig, const char *text) {
  char buf[512];
  wudf_udf_sig_format(sig, buf, sizeof buf);
  if (strcmp(buf, text) == 0) return 1;
  fprintf(stderr, "    formatted \"%s\", expected \"%s\"\n", buf, text);
  return 0;
}

static int sig_equal(const wudf_udf_sig *a, const wudf_udf_sig *b) {
  if (strcmp(a->name, b->name) || a->nparams != b->nparams ||
      a->result != b->result || a->sees_nulls != b->sees_nulls)
    return 0;
  for (uint32_t i = 0; i < a->nparams; i++)
    if (a->params[i] != b->params[i]) return 0;
  return 1;
}

/* ---- parsing and formatting --------------------------------------------- */

TEST(sig_parse_header_examples) {
  wudf_udf_sig s;
  CHECK(parse_str("calculate_adj_bal(int32, float32) -> float32", &s));
  CHECK(strcmp(s.name, "calculate_adj_bal") == 0 && s.nparams == 2);
  CHECK(s.params[0] == WUDF_TYPE_INT32 && s.params[1] == WUDF_TYPE_FLOAT32);
  CHECK(s.result == WUDF_TYPE_FLOAT32 && !s.sees_nulls);
  CHECK(parse_str("email_domain(utf8) -> utf8", &s));
  CHECK(s.nparams == 1 && s.params[0] == WUDF_TYPE_UTF8 &&
        s.result == WUDF_TYPE_UTF8);
  CHECK(parse_str("coalesce(int32, int32) -> int32 nulls", &s));
  CHECK(s.nparams == 2 && s.sees_nulls && s.result == WUDF_TYPE_INT32);
  CHECK(formats_as(&s, "coalesce(int32, int32) -> int32 nulls"));
}

TEST(sig_aliases_spaces_and_case) {
  wudf_udf_sig s, again;
  CHECK(
      parse_str("  f ( int , bigint,long,float ,double,\tboolean,string,"
                "text, int64 ,float32,float64,bool,utf8,INT32 )->int  "
                "NULLS ",
                &s));
  CHECK(formats_as(&s,
                   "f(int32, int64, int64, float32, float64, bool, utf8, utf8, "
                   "int64, float32, float64, bool, utf8, int32) -> int32 "
                   "nulls"));
  char text[512];
  wudf_udf_sig_format(&s, text, sizeof text);
  CHECK(parse_str(text, &again) && sig_equal(&s, &again));
  CHECK(parse_str("Mixed_Case_9(Utf8)->BooL", &s));
  CHECK(formats_as(&s, "Mixed_Case_9(utf8) -> bool"));
  CHECK(parse_str("now() -> int64", &s) && s.nparams == 0);
  CHECK(formats_as(&s, "now() -> int64"));
  CHECK(parse_str("_( \t ) -> double", &s) && s.nparams == 0);
  CHECK(formats_as(&s, "_() -> float64"));
}

TEST(sig_round_trip_every_type) {
  static const wudf_type types[] = {WUDF_TYPE_INT32,   WUDF_TYPE_INT64,
                                    WUDF_TYPE_FLOAT32, WUDF_TYPE_FLOAT64,
                                    WUDF_TYPE_BOOL,    WUDF_TYPE_UTF8};
  for (int r = 0; r < 6; r++) {
    for (int nulls = 0; nulls < 2; nulls++) {
      wudf_udf_sig s = {0}, back;
      snprintf(s.name, sizeof s.name, "udf_%d", r);
      s.nparams = (uint32_t)r + 1;
      for (int i = 0; i <= r; i++) s.params[i] = types[(r + i) % 6];
      s.result = types[r];
      s.sees_nulls = nulls;
      char text[512];
      wudf_udf_sig_format(&s, text, sizeof text);
      CHECK(parse_str(text, &back));
      CHECK_MSG(sig_equal(&s, &back), "round trip of %s", text);
    }
  }
}

TEST(sig_limits) {
  char text[600];
  wudf_udf_sig s;
  /* 16 parameters: accepted; a 17th: refused where it starts. */
  strcpy(text, "f(");
  for (int i = 0; i < 16; i++) strcat(text, "int32,");
  strcpy(text + strlen(text) - 1, ") -> int32");
  CHECK(parse_str(text, &s) && s.nparams == 16);
  strcpy(text, "f(");
  for (int i = 0; i < 16; i++) strcat(text, "int32,");
  strcat(text, "int32) -> int32"); /* "f(" + 16 * 6 bytes: column 99 */
  CHECK(
      parse_fails(text, strlen(text), "at column 99: more than 16 parameters"));
  /* Names of 127 bytes: accepted; 128: refused. */
  memset(text, 'n', 127);
  strcpy(text + 127, "() -> bool");
  CHECK(parse_str(text, &s) && strlen(s.name) == 127);
  memset(text, 'n', 128);
  strcpy(text + 128, "() -> bool");
  CHECK(parse_fails(text, strlen(text),
                    "at column 1: the function name is longer than 127 bytes"));
}

TEST(sig_errors_name_their_column) {
  CHECK(parse_fails(
      "", 0, "at column 1: expected a function name, found end of text"));
  CHECK(parse_fails(
      NULL, 0, "at column 1: expected a function name, found end of text"));
  CHECK(parse_fails("1f() -> int32", 13,
                    "at column 1: expected a function name, found '1'"));
  CHECK(parse_fails("f int32) -> int32", 17,
                    "at column 3: expected '(', found 'i'"));
  CHECK(parse_fails("f(int32 int32) -> int32", 23,
                    "at column 9: expected ')' or ',', found 'i'"));
  CHECK(parse_fails("email_domain(utf8 utf8) -> utf8", 31,
                    "at column 19: expected ')' or ',', found 'u'"));
  CHECK(parse_fails("f(int32,) -> int32", 18,
                    "at column 9: expected a type, found ')'"));
  CHECK(parse_fails("f(,) -> int32", 13,
                    "at column 3: expected a type or ')', found ','"));
  CHECK(parse_fails("f(", 2,
                    "at column 3: expected a type or ')', found end of text"));
  CHECK(parse_fails("f(integer) -> int32", 19,
                    "at column 3: unknown type 'integer' (types: int32, int64, "
                    "float32, float64, bool, utf8)"));
  CHECK(parse_fails("f(int32) int32", 14,
                    "at column 10: expected '->', found 'i'"));
  CHECK(parse_fails("f(int32) - > int32", 18,
                    "at column 10: expected '->', found '-'"));
  CHECK(parse_fails("f(int32) ->", 11,
                    "at column 12: expected a result type, found end of text"));
  CHECK(
      parse_fails("f(int32) -> int32 null", 22,
                  "at column 19: expected 'nulls' or end of text, found 'n'"));
  CHECK(parse_fails("f(int32) -> int32 nulls x", 25,
                    "at column 25: expected end of text, found 'x'"));
  CHECK(parse_fails("f(int32) -> int32\n", 18,
                    "at column 18: expected 'nulls' or end of text, found byte "
                    "0x0a"));
  CHECK(
      parse_fails("f\x01()", 4, "at column 2: expected '(', found byte 0x01"));
  CHECK(parse_fails("f(\0int32) -> int32", 18,
                    "at column 3: expected a type or ')', found byte 0x00"));
  CHECK(parse_fails("f\xc3\xa9() -> int32", 14,
                    "at column 2: expected '(', found byte 0xc3"));
  wudf_udf_sig s;
  CHECK_STATUS(wudf_udf_sig_parse("f() -> int32", 12, NULL, NULL), WUDF_ERR_ARG,
               NULL);
  /* Only `len` bytes are read. */
  CHECK_STATUS(wudf_udf_sig_parse("f() -> int32 nulls", 12, &s, NULL), WUDF_OK,
               NULL);
  CHECK(!s.sees_nulls);
}

TEST(sig_format_truncates) {
  wudf_udf_sig s;
  CHECK(parse_str("coalesce(int32, int32) -> int32 nulls", &s));
  char buf[10];
  memset(buf, 'X', sizeof buf);
  wudf_udf_sig_format(&s, buf, sizeof buf);
  CHECK(strcmp(buf, "coalesce(") == 0);
  wudf_udf_sig_format(&s, buf, 1);
  CHECK(buf[0] == '\0');
  wudf_udf_sig_format(&s, buf, 0); /* writes nothing */
  wudf_udf_sig_format(NULL, buf, sizeof buf);
  CHECK(buf[0] == '\0');
}

/* ---- sections ----------------------------------------------------------- */

static int section_fails(const char *text, wudf_status status,
                         const char *message) {
  wudf_udf_sig *sigs = (wudf_udf_sig *)1;
  uint32_t n = 99;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status st =
      wudf_udf_sigs_parse_section(text, strlen(text), &sigs, &n, &err);
  if (st == status && err.status == status && sigs == NULL && n == 0 &&
      strcmp(err.message, message) == 0)
    return 1;
  fprintf(stderr, "    got %s \"%s\"\n    expected %s \"%s\"\n",
          wudf_status_name(st), err.message, wudf_status_name(status), message);
  if (st == WUDF_OK) free(sigs);
  return 0;
}

TEST(sig_section_comments_blank_crlf) {
  const char *text =
      "# UDFs of this module\n"
      "\n"
      "f(int32) -> int32\r\n"
      "  # an indented comment\r\n"
      "\t \r\n"
      "g(utf8, utf8) -> utf8 nulls\n"
      "h() -> bool";
  wudf_udf_sig *sigs;
  uint32_t n;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_udf_sigs_parse_section(text, strlen(text), &sigs, &n, &err),
               WUDF_OK, &err);
  int ok = n == 3 && strcmp(sigs[0].name, "f") == 0 &&
           strcmp(sigs[1].name, "g") == 0 && strcmp(sigs[2].name, "h") == 0 &&
           sigs[1].sees_nulls && sigs[1].nparams == 2 &&
           sigs[2].result == WUDF_TYPE_BOOL;
  free(sigs);
  CHECK(ok);
}

TEST(sig_section_empty) {
  const char *texts[] = {"", "\n\n", "# nothing\r\n  #\n"};
  for (int i = 0; i < 3; i++) {
    wudf_udf_sig *sigs = (wudf_udf_sig *)1;
    uint32_t n = 7;
    CHECK_STATUS(wudf_udf_sigs_parse_section(texts[i], strlen(texts[i]), &sigs,
                                             &n, NULL),
                 WUDF_OK, NULL);
    CHECK(sigs == NULL && n == 0);
  }
  wudf_udf_sig *sigs;
  uint32_t n;
  CHECK_STATUS(wudf_udf_sigs_parse_section(NULL, 0, &sigs, &n, NULL), WUDF_OK,
               NULL);
  CHECK(n == 0);
  CHECK_STATUS(wudf_udf_sigs_parse_section(NULL, 1, &sigs, &n, NULL),
               WUDF_ERR_ARG, NULL);
}

TEST(sig_section_bad_line) {
  CHECK(section_fails("f(int32) -> int32\n\n# c\ng(int32 -> int32\n",
                      WUDF_ERR_INVALID,
                      "wudf.udfs line 4: at column 9: expected ')' or ',', "
                      "found '-'"));
  CHECK(section_fails("f(int32) -> int32\r\nf2(x) -> int32\r\n",
                      WUDF_ERR_INVALID,
                      "wudf.udfs line 2: at column 4: unknown type 'x' "
                      "(types: int32, int64, float32, float64, bool, utf8)"));
  /* A carriage return is only accepted at the end of a line. */
  CHECK(section_fails("f() -> int32\r\r\n", WUDF_ERR_INVALID,
                      "wudf.udfs line 1: at column 13: expected 'nulls' or "
                      "end of text, found byte 0x0d"));
}

TEST(sig_section_duplicates) {
  CHECK(section_fails("a() -> int32\nb() -> int32\n\na(int64) -> int64\n",
                      WUDF_ERR_INVALID,
                      "wudf.udfs line 4: UDF 'a' is already declared on line "
                      "1"));
  /* The earliest repeat is reported: 'b' on line 3. */
  CHECK(section_fails("b()->int32\na()->int32\nb()->int32\na()->int32\n",
                      WUDF_ERR_INVALID,
                      "wudf.udfs line 3: UDF 'b' is already declared on line "
                      "1"));
  /* Names are case-sensitive. */
  const char *text = "a() -> int32\nA() -> int32\n";
  wudf_udf_sig *sigs;
  uint32_t n;
  CHECK_STATUS(wudf_udf_sigs_parse_section(text, strlen(text), &sigs, &n, NULL),
               WUDF_OK, NULL);
  free(sigs);
  CHECK_EQ_INT(n, 2);
}

TEST(sig_section_udf_limit) {
  size_t cap = (size_t)(WUDF_BATCH_MAX_UDFS + 1) * 24;
  char *text = malloc(cap);
  CHECK(text != NULL);
  size_t len = 0;
  for (int i = 0; i < WUDF_BATCH_MAX_UDFS; i++)
    len += (size_t)snprintf(text + len, cap - len, "u%d()->int32\n", i);
  wudf_udf_sig *sigs;
  uint32_t n;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status st1 = wudf_udf_sigs_parse_section(text, len, &sigs, &n, &err);
  if (st1 == WUDF_OK) free(sigs);
  uint32_t n1 = n;
  len += (size_t)snprintf(text + len, cap - len, "extra()->int32\n");
  wudf_status st2 = wudf_udf_sigs_parse_section(text, len, &sigs, &n, &err);
  free(text);
  CHECK_EQ_INT(st1, WUDF_OK);
  CHECK_EQ_INT(n1, WUDF_BATCH_MAX_UDFS);
  CHECK_EQ_INT(st2, WUDF_ERR_LIMIT);
  CHECK_CONTAINS(err.message, "wudf.udfs line 50001: more than 50000 UDFs");
}

/* ---- WebAssembly types -------------------------------------------------- */

/* Parses `text` and expects the wasm type `want` (params) -> `result`. */
static int wasm_type_is(const char *text, const char *want, uint8_t result) {
  wudf_udf_sig s;
  if (!parse_str(text, &s)) return 0;
  uint8_t params[64], r = 0;
  uint32_t n = 99;
  if (!wudf_udf_sig_wasm_type(&s, params, sizeof params, &n, &r)) return 0;
  size_t wn = strlen(want);
  int ok = n == wn && r == result;
  for (size_t i = 0; ok && i < wn; i++)
    ok = params[i] == (want[i] == 'i'   ? 0x7f
                       : want[i] == 'I' ? 0x7e
                       : want[i] == 'f' ? 0x7d
                                        : 0x7c);
  if (!ok) fprintf(stderr, "    wrong wasm type for %s\n", text);
  return ok;
}

/* want: one letter per wasm param: i i32, I i64, f f32, F f64. */
TEST(sig_wasm_types) {
  CHECK(wasm_type_is("a(int32, float32) -> float32", "if", 0x7d));
  CHECK(wasm_type_is("a(int64, float64, bool) -> bool", "IFi", 0x7f));
  CHECK(wasm_type_is("a(utf8) -> utf8", "ii", 0x7e));
  CHECK(wasm_type_is("a() -> float64", "", 0x7c));
  CHECK(wasm_type_is("a() -> int64", "", 0x7e));
  CHECK(wasm_type_is("a(int32, int32) -> int32 nulls", "iiii", 0x7f));
  CHECK(wasm_type_is("a(utf8, float64) -> int64 nulls", "iiiFi", 0x7e));
  CHECK(wasm_type_is("a(int64, float32, bool) -> utf8 nulls", "Iifiii", 0x7e));
}

TEST(sig_wasm_type_capacity) {
  wudf_udf_sig s;
  uint8_t params[64], r;
  uint32_t n;
  CHECK(parse_str("a(utf8, utf8) -> int32", &s));
  CHECK(!wudf_udf_sig_wasm_type(&s, params, 3, &n, &r));
  CHECK(wudf_udf_sig_wasm_type(&s, params, 4, &n, &r) && n == 4);
  char text[400];
  strcpy(text, "b(");
  for (int i = 0; i < 16; i++) strcat(text, i ? ", utf8" : "utf8");
  strcat(text, ") -> utf8 nulls");
  CHECK(parse_str(text, &s) && s.nparams == 16);
  CHECK(!wudf_udf_sig_wasm_type(&s, params, 47, &n, &r));
  CHECK(wudf_udf_sig_wasm_type(&s, params, 48, &n, &r) && n == 48);
  s.params[3] = (wudf_type)9;
  CHECK(!wudf_udf_sig_wasm_type(&s, params, 64, &n, &r));
  s.nparams = 17;
  CHECK(!wudf_udf_sig_wasm_type(&s, params, 64, &n, &r));
}

/* ---- widening ----------------------------------------------------------- */

TEST(sig_widening_table) {
  /* rows: column type; columns: parameter type (int32 int64 float32
   * float64 bool utf8). */
  static const bool widens[6][6] = {
      {1, 1, 0, 1, 0, 0}, /* int32 -> int32, int64, float64 */
      {0, 1, 0, 0, 0, 0}, /* int64 */
      {0, 0, 1, 1, 0, 0}, /* float32 -> float32, float64 */
      {0, 0, 0, 1, 0, 0}, /* float64 */
      {0, 0, 0, 0, 1, 0}, /* bool */
      {0, 0, 0, 0, 0, 1}, /* utf8 */
  };
  for (int c = 0; c < 6; c++)
    for (int p = 0; p < 6; p++)
      CHECK_MSG(wudf_type_widens_to((wudf_type)c, (wudf_type)p) == widens[c][p],
                "%s -> %s", wudf_type_str((wudf_type)c),
                wudf_type_str((wudf_type)p));
  CHECK(!wudf_type_widens_to((wudf_type)8, (wudf_type)8));
}
