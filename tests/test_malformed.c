/*
 * Malformed input through the public entry points: WebAssembly binaries
 * through wudf_module_load() (truncated at every byte, bad headers, bad
 * LEB128, lying sizes and counts, duplicate sections) and CSV data through
 * wudf_run() (truncated, ragged, invalid UTF-8, numbers out of range,
 * schema mismatches). Each ends in its error, naming where, and the next
 * benign load or run succeeds. (The reader's own tests, tests/test_reader.c
 * and tests/test_csv.c, cover the same ground below the API.)
 *
 * Which prefixes of a module are themselves valid modules is decided by
 * wabt's wasm-validate, not by wudf; byte offsets in messages are counted
 * by hand from the bytes below.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"
#include "wudf_run.h"

static wudf_engine *g_engine;

static wudf_engine *engine(void) {
  if (!g_engine) g_engine = test_engine("malformed", NULL);
  return g_engine;
}

static wudf_module *g_data_module;

__attribute__((destructor)) static void free_engine(void) {
  wudf_module_free(g_data_module);
  wudf_engine_free(g_engine);
}

static wudf_status load(const uint8_t *bytes, size_t len, wudf_error *err) {
  wudf_module *m = NULL;
  wudf_status st =
      engine() ? wudf_module_load(g_engine, bytes, len, "bad.wasm", &m, err)
               : WUDF_ERR_ARG;
  wudf_module_free(m);
  return st;
}

/* A benign module loads and runs on the same engine. */
static bool benign_loads(void) {
  wudf_error err = {0};
  wudf_module *m =
      test_load_wat(engine(),
                    "(module (func (export \"sq\") (param i32) (result i32)\n"
                    "  local.get 0 local.get 0 i32.mul))",
                    &err);
  wudf_instance *inst = NULL;
  wudf_val a = test_i32(12), r = test_i32(0);
  if (m && !wudf_instance_new(m, NULL, &inst, &err))
    wudf_instance_call(inst, "sq", &a, 1, &r, 1, &err);
  wudf_instance_free(inst);
  wudf_module_free(m);
  return r.of.i32 == 144;
}

/* ---- truncated at every byte -----------------------------------------------
 */

/* Every section kind a module without extensions can have, and a custom
 * "name" section at the end. */
static const char k_full_wat[] =
    "(module\n"
    "  (type $t (func (param i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param "
    "i32)))\n"
    "  (func $f (type $t) (i32.add (local.get 0) (i32.const 1)))\n"
    "  (func $s (global.set $g (i32.const 8)))\n"
    "  (table 2 funcref)\n"
    "  (memory 1 2)\n"
    "  (global $g (mut i32) (i32.const 7))\n"
    "  (export \"f\" (func $f))\n"
    "  (export \"memory\" (memory 0))\n"
    "  (start $s)\n"
    "  (elem (i32.const 0) $f)\n"
    "  (func $d (memory.init $p (i32.const 0) (i32.const 0) (i32.const 0)))\n"
    "  (data (i32.const 16) \"hi\")\n"
    "  (data $p \"passive\"))\n";

/* Writes each prefix of `m` to a file and asks wasm-validate which are
 * valid modules; valid[n] is set for the prefix of n bytes. */
static bool validate_prefixes(const uint8_t *m, size_t len, bool *valid) {
  char dir[512], cmd[1400], path[600];
  snprintf(dir, sizeof dir, "%s/prefixes", test_tmpdir());
  if (mkdir(dir, 0700) != 0) return false;
  for (size_t n = 0; n < len; n++) {
    snprintf(path, sizeof path, "%s/%zu.wasm", dir, n);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(m, 1, n, f) != n || fclose(f) != 0) return false;
  }
  snprintf(cmd, sizeof cmd,
           "cd '%s' && for f in *.wasm; do wasm-validate \"$f\" >/dev/null "
           "2>&1 && echo \"${f%%.wasm}\"; done > valid.txt; true",
           dir);
  if (system(cmd) != 0) return false;
  snprintf(path, sizeof path, "%s/valid.txt", dir);
  FILE *f = fopen(path, "r");
  size_t n;
  while (f && fscanf(f, "%zu", &n) == 1)
    if (n < len) valid[n] = true;
  return f && fclose(f) == 0;
}

TEST(malformed_module_truncated_at_every_byte) {
  size_t len;
  uint8_t *m = test_wat(k_full_wat, "--debug-names", &len);
  CHECK(m);
  bool *valid = calloc(len, sizeof *valid);
  CHECK(valid);
  bool validated = validate_prefixes(m, len, valid);
  int bad = 0, nvalid = 0;
  for (size_t n = 0; validated && n < len; n++) {
    wudf_error err = {0};
    wudf_status st = load(m, n, &err);
    bool ok = valid[n] ? st == WUDF_OK
                       : st == WUDF_ERR_MALFORMED &&
                             strstr(err.message, "at byte 0x");
    nvalid += valid[n];
    if (!ok && bad++ < 8)
      fprintf(stderr, "    prefix of %zu bytes (%s): %s: %s\n", n,
              valid[n] ? "valid" : "invalid", wudf_status_name(st),
              err.message);
  }
  wudf_error err = {0};
  wudf_status whole = load(m, len, &err);
  free(valid);
  free(m);
  CHECK(validated);
  CHECK_EQ_INT(bad, 0);
  /* The header alone, the module up to the type section, up to the import
   * section, and everything but the "name" section. */
  CHECK_EQ_INT(nvalid, 4);
  CHECK_STATUS(whole, WUDF_OK, &err);
  CHECK(benign_loads());
}

/* ---- hand-made binaries ----------------------------------------------------
 */

#define HDR 0, 'a', 's', 'm', 1, 0, 0, 0
/* Type section with one type, (i32) -> (i32). */
#define TYPE1 1, 6, 1, 0x60, 1, 0x7f, 1, 0x7f
/* Function section with one function of type 0. */
#define FUNC1 3, 2, 1, 0
/* Code section with one body: local.get 0, end. */
#define CODE1 10, 6, 1, 4, 0, 0x20, 0, 0x0b

typedef struct bin_case {
  const char *what;
  uint8_t bytes[40];
  size_t len;
  wudf_status want;
  const char *text[2];
} bin_case;

// clang-format off
#define BIN(what_, st, t0, t1, ...)                                     \
  {.what = (what_), .bytes = {__VA_ARGS__},                             \
   .len = sizeof((const uint8_t[]){__VA_ARGS__}), .want = (st),         \
   .text = {(t0), (t1)}}
// clang-format on

static const bin_case k_bins[] = {
    BIN("three bytes", WUDF_ERR_MALFORMED, "at byte 0x3", "unexpected end", 0,
        'a', 's'),
    BIN("bad magic", WUDF_ERR_MALFORMED, "at byte 0x0", "magic", 0, 'a', 's',
        'n', 1, 0, 0, 0),
    BIN("ELF file", WUDF_ERR_MALFORMED, "at byte 0x0", "magic", 0x7f, 'E', 'L',
        'F', 2, 1, 1, 0),
    BIN("version 2", WUDF_ERR_MALFORMED, "at byte 0x4", "version", 0, 'a', 's',
        'm', 2, 0, 0, 0),
    BIN("pre-standard version 0xd", WUDF_ERR_MALFORMED, "at byte 0x4",
        "version", 0, 'a', 's', 'm', 0x0d, 0, 0, 0),
    BIN("a component, not a module", WUDF_ERR_MALFORMED, "at byte 0x4",
        "version", 0, 'a', 's', 'm', 0x0d, 0, 1, 0),
    /* LEB128: a size that does not end; six bytes for a u32; a fifth byte
     * with bits beyond 32. */
    BIN("section size cut short", WUDF_ERR_MALFORMED, "at byte 0xa", NULL, HDR,
        1, 0x80),
    BIN("section size in 6 bytes", WUDF_ERR_MALFORMED, "at byte 0x9", NULL, HDR,
        1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
    BIN("section size beyond 32 bits", WUDF_ERR_MALFORMED, "at byte 0x9", NULL,
        HDR, 1, 0xff, 0xff, 0xff, 0xff, 0x7f),
    BIN("type count beyond 32 bits", WUDF_ERR_MALFORMED, "at byte 0xa", NULL,
        HDR, 1, 5, 0x80, 0x80, 0x80, 0x80, 0x10),
    /* Sizes that lie. */
    BIN("section larger than the file", WUDF_ERR_MALFORMED, "at byte 0x", NULL,
        HDR, 1, 7, 1, 0x60, 1, 0x7f, 1, 0x7f),
    BIN("section smaller than its contents", WUDF_ERR_MALFORMED, "at byte 0x",
        NULL, HDR, 1, 3, 1, 0x60, 1, 0x7f, 1, 0x7f),
    BIN("vector count far beyond the section", WUDF_ERR_MALFORMED, "at byte 0x",
        NULL, HDR, 1, 6, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x60),
    BIN("body size beyond the section", WUDF_ERR_MALFORMED, "at byte 0x", NULL,
        HDR, TYPE1, FUNC1, 10, 6, 1, 100, 0, 0x20, 0, 0x0b),
    BIN("custom section name longer than the section", WUDF_ERR_MALFORMED,
        "at byte 0x", NULL, HDR, 0, 3, 10, 'a', 'b'),
    /* Sections. */
    BIN("two type sections", WUDF_ERR_MALFORMED, "at byte 0x10", NULL, HDR,
        TYPE1, TYPE1),
    BIN("two memory sections", WUDF_ERR_MALFORMED, "at byte 0xd", NULL, HDR, 5,
        3, 1, 0, 0, 5, 3, 1, 0, 0),
    BIN("memory section before the table section", WUDF_ERR_MALFORMED,
        "at byte 0xd", NULL, HDR, 5, 3, 1, 0, 0, 4, 4, 1, 0x70, 0, 0),
    BIN("unknown section id", WUDF_ERR_MALFORMED, "at byte 0x8", NULL, HDR,
        0x7f, 0),
    BIN("functions without code", WUDF_ERR_MALFORMED, "at byte 0x", NULL, HDR,
        TYPE1, FUNC1),
    BIN("code without functions", WUDF_ERR_MALFORMED, "at byte 0x", NULL, HDR,
        TYPE1, CODE1),
    BIN("trailing byte after the last section", WUDF_ERR_MALFORMED,
        "at byte 0x", NULL, HDR, TYPE1, FUNC1, CODE1, 1),
    /* Bodies and names. */
    BIN("illegal opcode", WUDF_ERR_MALFORMED, "at byte 0x19", "opcode 0xff",
        HDR, TYPE1, FUNC1, 10, 6, 1, 4, 0, 0xff, 0, 0x0b),
    BIN("body without end", WUDF_ERR_MALFORMED, "at byte 0x", NULL, HDR, TYPE1,
        FUNC1, 10, 5, 1, 3, 0, 0x20, 0),
    BIN("2^32 locals", WUDF_ERR_MALFORMED, "at byte 0x", "locals", HDR, TYPE1,
        FUNC1, 10, 16, 1, 14, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0xff, 0xff,
        0xff, 0xff, 0x0f, 0x7f, 0x0b),
    BIN("export name not UTF-8", WUDF_ERR_MALFORMED, "at byte 0x", "UTF-8", HDR,
        TYPE1, FUNC1, 7, 5, 1, 1, 0xff, 0, 0, CODE1),
    BIN("data count without data", WUDF_ERR_MALFORMED, "at byte 0x", NULL, HDR,
        5, 3, 1, 0, 1, 12, 1, 1),
};

TEST(malformed_module_headers_leb128_sizes_and_sections) {
  int bad = 0;
  for (size_t i = 0; i < sizeof k_bins / sizeof k_bins[0]; i++) {
    const bin_case *c = &k_bins[i];
    wudf_error err = {0};
    wudf_status st = load(c->bytes, c->len, &err);
    bool ok = st == c->want;
    for (int k = 0; ok && k < 2; k++)
      ok = !c->text[k] || strstr(err.message, c->text[k]);
    if (!ok)
      fprintf(stderr, "    %s: got %s (%s), expected %s (%s)\n", c->what,
              wudf_status_name(st), err.message, wudf_status_name(c->want),
              c->text[0]);
    bad += !ok;
  }
  CHECK_EQ_INT(bad, 0);
  CHECK(benign_loads());
}

/* ---- malformed data --------------------------------------------------------
 */

static const char k_data_wat[] =
    "(module\n"
    "  (memory (export \"memory\") 1)\n"
    "  (global $top (mut i32) (i32.const 1024))\n"
    "  (func (export \"wudf_reset\") (global.set $top (i32.const 1024)))\n"
    "  (func (export \"wudf_alloc\") (param i32) (result i32) (local i32)\n"
    "    (local.set 1 (global.get $top))\n"
    "    (if (i32.gt_u (i32.add (local.get 1) (local.get 0))\n"
    "                  (i32.shl (memory.size) (i32.const 16)))\n"
    "      (then (if (i32.eq (memory.grow (i32.add (i32.shr_u (local.get 0)\n"
    "                          (i32.const 16)) (i32.const 1))) (i32.const "
    "-1))\n"
    "        (then (return (i32.const 0))))))\n"
    "    (global.set $top (i32.add (local.get 1) (local.get 0)))\n"
    "    (local.get 1))\n"
    "  (func (export \"inc\") (param i32) (result i32)\n"
    "    (i32.add (local.get 0) (i32.const 1)))\n"
    "  (func (export \"big\") (param i64) (result i64) (local.get 0))\n"
    "  (func (export \"half\") (param f64) (result f64)\n"
    "    (f64.mul (local.get 0) (f64.const 0.5)))\n"
    "  (func (export \"len\") (param i32 i32) (result i32) (local.get 1)))\n";

static wudf_module *data_module(void) {
  if (g_data_module || !engine()) return g_data_module;
  static const char *const text[] = {
      "inc(int32) -> int32", "big(int64) -> int64", "half(float64) -> float64",
      "len(utf8) -> int32"};
  wudf_udf_sig sigs[4];
  wudf_error err = {0};
  for (int i = 0; i < 4; i++)
    if (wudf_udf_sig_parse(text[i], strlen(text[i]), &sigs[i], &err))
      return NULL;
  size_t len;
  uint8_t *bytes = test_wat(k_data_wat, NULL, &len);
  wudf_load_options o = {.name = "data.wat", .udfs = sigs, .nudfs = 4};
  if (bytes &&
      wudf_module_load_ex(g_engine, bytes, len, &o, &g_data_module, &err))
    fprintf(stderr, "    data.wat: %s\n", err.message);
  free(bytes);
  return g_data_module;
}

typedef struct data_case {
  const char *what;
  const char *csv;
  const char *function;
  const char *column, *column2; /* column2 may be NULL */
  int64_t sample_rows;          /* 0: the default */
  int op;                       /* 0 MAP, 1 FILTER; 2 MAP declaring float64 */
  wudf_status want;
  const char *text[2];
  int64_t line; /* stats.error_line, or -1 */
} data_case;

/* A malformed input (MAP with one column, the default sample) and a run
 * whose columns or result do not fit the UDF. */
// clang-format off
#define BAD_CSV(what_, csv_, fn, col, st, line_, ...)                    \
  {.what = (what_), .csv = (csv_), .function = (fn), .column = (col),   \
   .want = (st), .line = (line_), .text = {__VA_ARGS__}}
#define BAD_AFTER_SAMPLE(what_, csv_, fn, col, sample, st, line_, ...)   \
  {.what = (what_), .csv = (csv_), .function = (fn), .column = (col),   \
   .sample_rows = (sample), .want = (st), .line = (line_),              \
   .text = {__VA_ARGS__}}
#define MISFIT(what_, csv_, fn, col, col2_, op_, st, ...)                \
  {.what = (what_), .csv = (csv_), .function = (fn), .column = (col),   \
   .column2 = (col2_), .op = (op_), .want = (st), .line = -1,           \
   .text = {__VA_ARGS__}}
// clang-format on

static const data_case k_data[] = {
    /* Ragged and truncated records. */
    BAD_CSV("ragged row", "x,y\n1,2\n3\n4,5\n", "inc", "x", WUDF_ERR_MALFORMED,
            3, "data.csv: line 3: 1 field, the header has 2"),
    BAD_CSV("extra field", "x\n1\n2,3\n", "inc", "x", WUDF_ERR_MALFORMED, 3,
            "data.csv: line 3: 2 fields, the header has 1"),
    BAD_AFTER_SAMPLE("ragged row after the sample", "x,y\n1,2\n3,4\n5\n", "inc",
                     "x", 1, WUDF_ERR_MALFORMED, 4,
                     "line 4: 1 field, the header has 2"),
    BAD_CSV("truncated inside a quoted field", "x,s\n1,a\n2,\"ab\n", "inc", "x",
            WUDF_ERR_MALFORMED, 3, "line 3, column 's': unterminated quote"),
    BAD_CSV("text after a closing quote", "x,s\n1,\"ab\"c\n", "inc", "x",
            WUDF_ERR_MALFORMED, 2,
            "line 2, column 's': 'c' after a closing quote"),
    BAD_CSV("empty file", "", "inc", "x", WUDF_ERR_MALFORMED, -1,
            "the file is empty"),
    /* UTF-8: invalid bytes, an overlong form, a surrogate, a sequence cut
     * by the end of the file, the header. */
    BAD_CSV("invalid UTF-8", "x,s\n1,ok\n2,\xff\xfe\n", "len", "s",
            WUDF_ERR_MALFORMED, 3,
            "data.csv: line 3, column 's': invalid UTF-8"),
    BAD_CSV("overlong UTF-8", "s\nok\n\xc0\xaf\n", "len", "s",
            WUDF_ERR_MALFORMED, 3, "line 3, column 's': invalid UTF-8"),
    BAD_CSV("UTF-16 surrogate in UTF-8", "s\n\xed\xa0\x80\n", "len", "s",
            WUDF_ERR_MALFORMED, 2, "line 2, column 's': invalid UTF-8"),
    BAD_CSV("UTF-8 cut at the end of the file", "s\nok\n\xe2\x82", "len", "s",
            WUDF_ERR_MALFORMED, 3, "line 3, column 's': invalid UTF-8"),
    BAD_AFTER_SAMPLE(
        "invalid UTF-8 after the sample", "x,s\n1,a\n2,b\n3,\xff\n", "len", "s",
        1, WUDF_ERR_MALFORMED, 4, "line 4, column 's': invalid UTF-8"),
    BAD_CSV("header not UTF-8", "\xff\n1\n", "inc", "x", WUDF_ERR_MALFORMED, 1,
            "line 1, column 1: the header name is not valid"),
    /* Values that do not fit the type the sample gave their column. */
    BAD_AFTER_SAMPLE("int32 out of range after the sample",
                     "x\n1\n2\n3000000000\n", "inc", "x", 2, WUDF_ERR_TYPE, 4,
                     "line 4, column 'x': '3000000000' is not an int32 "
                     "(inferred from the first 2 rows)"),
    BAD_AFTER_SAMPLE("not a number after the sample", "x\n1\n2\nabc\n", "inc",
                     "x", 2, WUDF_ERR_TYPE, 4,
                     "line 4, column 'x': 'abc' is not an int32"),
    BAD_AFTER_SAMPLE("int64 out of range after the sample",
                     "x\n5000000000\n1\n99999999999999999999\n", "big", "x", 2,
                     WUDF_ERR_TYPE, 4,
                     "line 4, column 'x': '99999999999999999999' is not an "
                     "int64"),
    /* Schemas that do not fit the UDF: refused before any row runs. */
    MISFIT("a float64 column for an int32 parameter",
           "x\n1\n99999999999999999999\n", "inc", "x", NULL, 0, WUDF_ERR_TYPE,
           "a float64 column cannot be passed to parameter 1 (int32)",
           "(int32) -> int32 (column 'x')"),
    MISFIT("a utf8 column for a float64 parameter", "x\n1.5\nabc\n", "half",
           "x", NULL, 0, WUDF_ERR_TYPE, "a utf8 column",
           "(float64) -> float64 (column 'x')"),
    MISFIT("no such column", "x,y\n1,2\n", "inc", "nope", NULL, 0,
           WUDF_ERR_NOT_FOUND, "no column 'nope'", "x, y"),
    MISFIT("too many columns", "x,y\n1,2\n", "inc", "x", "y", 0, WUDF_ERR_TYPE,
           "2 columns given for inc(int32) -> int32"),
    MISFIT("declared result type not the UDF's", "x\n1\n", "inc", "x", NULL, 2,
           WUDF_ERR_TYPE, "int32", "float64"),
    MISFIT("FILTER on a float64 UDF", "x\n1.5\n", "half", "x", NULL, 1,
           WUDF_ERR_TYPE, "FILTER", "half"),
};

static bool write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) return false;
  fwrite(text, 1, strlen(text), f);
  return fclose(f) == 0;
}

/* Runs `function` over `csv`; the output (if the run succeeded) in *out. */
static wudf_status run_csv(const data_case *c, char **out, wudf_error *err,
                           wudf_run_stats *stats) {
  char path[512];
  snprintf(path, sizeof path, "%s/data.csv", test_tmpdir());
  if (!write_file(path, c->csv)) return WUDF_ERR_IO;
  const char *cols[2] = {c->column, c->column2};
  size_t size = 0;
  FILE *o = open_memstream(out, &size);
  if (!o) return WUDF_ERR_NOMEM;
  wudf_run_options opts;
  wudf_run_options_init(&opts);
  opts.input_path = path;
  opts.module = data_module();
  opts.function = c->function;
  opts.columns = cols;
  opts.ncolumns = c->column2 ? 2 : 1;
  opts.sample_rows = c->sample_rows;
  opts.op = c->op == 1 ? WUDF_RUN_FILTER : WUDF_RUN_MAP;
  opts.declared_result = c->op == 2;
  opts.result_type = WUDF_TYPE_FLOAT64;
  opts.output = o;
  opts.threads = 2;
  opts.batch_rows = 1;
  wudf_status st = wudf_run(&opts, stats, err);
  fclose(o);
  return st;
}

/* After each malformed case, a good file runs on the same module. */
static bool good_run_works(void) {
  data_case good = {
      .csv = "x,s\n1,h\xc3\xa9llo\n41,\n", .function = "len", .column = "s"};
  char *out = NULL;
  wudf_error err = {0};
  wudf_status st = run_csv(&good, &out, &err, NULL);
  bool ok = st == WUDF_OK && out &&
            !strcmp(out, "x,s,len_RESULT\n1,h\xc3\xa9llo,6\n41,,\n");
  if (!ok) fprintf(stderr, "    good run: %s [%s]\n", err.message, out);
  free(out);
  return ok;
}

TEST(malformed_data_names_line_and_column) {
  CHECK(data_module());
  int bad = 0;
  for (size_t i = 0; i < sizeof k_data / sizeof k_data[0]; i++) {
    const data_case *c = &k_data[i];
    char *out = NULL;
    wudf_error err = {0};
    wudf_run_stats stats = {0};
    stats.error_line = -1;
    wudf_status st = run_csv(c, &out, &err, &stats);
    free(out);
    bool ok = st == c->want;
    for (int k = 0; ok && k < 2; k++)
      ok = !c->text[k] || strstr(err.message, c->text[k]);
    if (ok) ok = stats.error_line == c->line;
    if (!ok)
      fprintf(stderr, "    %s: got %s (%s, line %lld), expected %s (%s)\n",
              c->what, wudf_status_name(st), err.message,
              (long long)stats.error_line, wudf_status_name(c->want),
              c->text[0]);
    bad += !ok || !good_run_works();
  }
  CHECK_EQ_INT(bad, 0);
}
