/* Where errors happen: structured locations of traps (function, source
 * line), module names kept verbatim, the message layout, and hostile debug
 * sections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "harness.h"
#include "load/debuginfo.h"
#include "testutil.h"
#include "wudf_run.h"

#define CHECK_STR_EQ(a, b) \
  CHECK_MSG(strcmp((a), (b)) == 0, "'%s' is not '%s'", (a), (b))

/* ---- trap locations ------------------------------------------------------ */

static const char k_named_wat[] =
    "(module\n"
    "  (memory 1)\n"
    "  (func $helper (param i32) (result i32) local.get 0)\n"
    "  (func $divider (export \"div\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 i32.div_s)\n"
    "  (func $loader (export \"load\") (param i32) (result i32)\n"
    "    local.get 0 i32.load)\n"
    "  (func $stop (export \"stop\") unreachable))\n";

static wudf_module *load_bytes(wudf_engine *e, const uint8_t *bytes, size_t len,
                               const char *name, wudf_error *err) {
  wudf_module *m = NULL;
  wudf_module_load(e, bytes, len, name, &m, err);
  return m;
}

/* Calls `fn` on a fresh instance of m and returns the status, filling err. */
static wudf_status call2(wudf_module *m, const char *fn, int32_t a, int32_t b,
                         uint32_t nargs, uint32_t nresults, wudf_error *err) {
  wudf_instance *inst = NULL;
  wudf_status st = wudf_instance_new(m, NULL, &inst, err);
  if (st != WUDF_OK) return st;
  wudf_val args[2] = {test_i32(a), test_i32(b)}, res[1];
  st = wudf_instance_call(inst, fn, args, nargs, res, nresults, err);
  wudf_instance_free(inst);
  return st;
}

TEST(errors_trap_names_the_function_from_the_name_section) {
  wudf_engine *e = test_engine("errors", NULL);
  CHECK(e != NULL);
  size_t len;
  uint8_t *bytes = test_wat(k_named_wat, "--debug-names", &len);
  CHECK(bytes != NULL);
  wudf_error err;
  wudf_error_init(&err);
  wudf_module *m = load_bytes(e, bytes, len, "named.wasm", &err);
  free(bytes);
  CHECK_MSG(m != NULL, "%s", err.message);
  CHECK_STATUS(call2(m, "div", 1, 0, 2, 1, &err), WUDF_TRAP_DIV_BY_ZERO, &err);
  CHECK_STR_EQ(err.wasm_function, "divider");
  CHECK_STR_EQ(err.module, "named.wasm");
  CHECK_EQ_INT(err.source_line, 0);
  CHECK_CONTAINS(err.message, " in divider");
  /* A fault (out of bounds) is located from the signal's context. */
  CHECK_STATUS(call2(m, "load", 70000, 0, 1, 1, &err), WUDF_TRAP_OOB, &err);
  CHECK_STR_EQ(err.wasm_function, "loader");
  CHECK_STATUS(call2(m, "stop", 0, 0, 0, 0, &err), WUDF_TRAP_UNREACHABLE, &err);
  CHECK_STR_EQ(err.wasm_function, "stop");
  /* A call that does not trap leaves no location behind. */
  CHECK_STATUS(call2(m, "div", 6, 3, 2, 1, &err), WUDF_OK, &err);
  wudf_module_free(m);
  wudf_engine_free(e);
}

TEST(errors_trap_names_the_function_by_index_without_names) {
  wudf_engine *e = test_engine("errors", NULL);
  CHECK(e != NULL);
  size_t len;
  uint8_t *bytes = test_wat(k_named_wat, NULL, &len);
  CHECK(bytes != NULL);
  wudf_error err;
  wudf_error_init(&err);
  wudf_module *m = load_bytes(e, bytes, len, "plain.wasm", &err);
  free(bytes);
  CHECK_MSG(m != NULL, "%s", err.message);
  CHECK_STATUS(call2(m, "div", 1, 0, 2, 1, &err), WUDF_TRAP_DIV_BY_ZERO, &err);
  CHECK_STR_EQ(err.wasm_function, "$1");
  CHECK_STATUS(call2(m, "load", -4, 0, 1, 1, &err), WUDF_TRAP_OOB, &err);
  CHECK_STR_EQ(err.wasm_function, "$2");
  CHECK_CONTAINS(err.message, "plain.wasm: calling 'load': ");
  CHECK_CONTAINS(err.message, " in $2");
  wudf_module_free(m);
  wudf_engine_free(e);
}

/* Line 4 declares the function that traps. */
static const char k_dwarf_c[] =
    "#include <stdint.h>\n"
    "\n"
    "__attribute__((export_name(\"quot\")))\n"
    "int32_t quot(int32_t a, int32_t b) {\n"
    "  return a / b;\n"
    "}\n";

/* Compiled and linked without clang's driver running wasm-opt after the
 * link (it would rewrite the code without the DWARF). */
static uint8_t *c_to_wasm_g(const char *source, const char *flags,
                            size_t *len) {
  static int counter;
  char src[512], obj[512], dst[512], cmd[2400];
  int id = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
  snprintf(src, sizeof src, "%s/g%d.c", test_tmpdir(), id);
  snprintf(obj, sizeof obj, "%s/g%d.o", test_tmpdir(), id);
  snprintf(dst, sizeof dst, "%s/g%d.wasm", test_tmpdir(), id);
  FILE *f = fopen(src, "w");
  if (!f) return NULL;
  fputs(source, f);
  fclose(f);
  snprintf(cmd, sizeof cmd,
           "clang-19 --target=wasm32-wasi --sysroot=/usr -O0 %s -c -o '%s' "
           "'%s' && wasm-ld-19 --no-entry -o '%s' '%s'",
           flags, obj, src, dst, obj);
  if (system(cmd) != 0) return NULL;
  return test_read_file(dst, len);
}

static void check_dwarf_line(const char *flags) {
  wudf_engine *e = test_engine("errors", NULL);
  CHECK(e != NULL);
  size_t len;
  uint8_t *bytes = c_to_wasm_g(k_dwarf_c, flags, &len);
  CHECK(bytes != NULL);
  wudf_error err;
  wudf_error_init(&err);
  wudf_module *m = load_bytes(e, bytes, len, "dwarf.wasm", &err);
  free(bytes);
  CHECK_MSG(m != NULL, "%s", err.message);
  CHECK_STATUS(call2(m, "quot", 1, 0, 2, 1, &err), WUDF_TRAP_DIV_BY_ZERO, &err);
  CHECK_STR_EQ(err.wasm_function, "quot");
  CHECK_EQ_INT(err.source_line, 4);
  const char *file = err.source_file;
  size_t n = strlen(file);
  CHECK(n >= 2 && !strcmp(file + n - 2, ".c"));
  CHECK_CONTAINS(err.message, "integer divide by zero in quot (");
  CHECK_CONTAINS(err.message, ".c:4)");
  wudf_module_free(m);
  wudf_engine_free(e);
}

TEST(errors_trap_source_line_from_dwarf4) {
  check_dwarf_line("-gdwarf-4");
}

TEST(errors_trap_source_line_from_dwarf5) {
  check_dwarf_line("-gdwarf-5");
}

/* ---- module names -------------------------------------------------------- */

TEST(errors_module_name_is_kept_verbatim) {
  wudf_engine *e = test_engine("errors", NULL);
  CHECK(e != NULL);
  size_t len;
  uint8_t *bytes = test_wat(k_named_wat, NULL, &len);
  CHECK(bytes != NULL);
  wudf_error err;
  wudf_error_init(&err);
  wudf_module *m = load_bytes(e, bytes, len, "udf on row 2", &err);
  CHECK_MSG(m != NULL, "%s", err.message);
  CHECK_STATUS(call2(m, "div", 1, 0, 2, 1, &err), WUDF_TRAP_DIV_BY_ZERO, &err);
  CHECK_STR_EQ(err.module, "udf on row 2");
  CHECK(!strncmp(err.message, "udf on row 2: calling 'div': ", 29));
  CHECK_STR_EQ(err.detail, "calling 'div': integer divide by zero");
  wudf_module_free(m);
  /* A load error names the module in the field, not in the detail. */
  bytes[len - 1] ^= 0xff;
  m = load_bytes(e, bytes, len - 3, "udf on row 2", &err);
  free(bytes);
  CHECK(m == NULL);
  CHECK_STATUS(err.status, WUDF_ERR_MALFORMED, &err);
  CHECK_STR_EQ(err.module, "udf on row 2");
  CHECK(strstr(err.detail, "udf on row 2") == NULL);
  CHECK(!strncmp(err.message, "udf on row 2: ", 14));
  wudf_engine_free(e);
}

/* ---- the message layout -------------------------------------------------- */

static const char *format(wudf_error *e) {
  wudf_error_format(e);
  return e->message;
}

TEST(errors_format_layout_for_each_field) {
  wudf_error e;
  wudf_error_init(&e);
  snprintf(e.detail, sizeof e.detail, "boom");
  CHECK_STR_EQ(format(&e), "boom");
  snprintf(e.module, sizeof e.module, "m.wasm");
  CHECK_STR_EQ(format(&e), "m.wasm: boom");
  snprintf(e.udf, sizeof e.udf, "f");
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom");
  snprintf(e.column_name, sizeof e.column_name, "x");
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom (column 'x')");
  e.column_name[0] = '\0';
  snprintf(e.wasm_function, sizeof e.wasm_function, "$3");
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom in $3");
  e.source_line = 12;
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom in $3 (source:12)");
  snprintf(e.source_file, sizeof e.source_file, "a.c");
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom in $3 (a.c:12)");
  e.first_row = e.last_row = 2;
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom in $3 (a.c:12) on row 2");
  e.last_row = 5;
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom in $3 (a.c:12) on rows 2 to 5");
  e.input_row = e.input_row_end = 7;
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom in $3 (a.c:12) on row 7");
  snprintf(e.input_name, sizeof e.input_name, "in.csv");
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom in $3 (a.c:12) on row 7 of in.csv");
  e.input_line = e.input_line_end = 9;
  CHECK_STR_EQ(format(&e),
               "m.wasm: f: boom in $3 (a.c:12) on line 9 of in.csv (row 7)");
  e.input_line_end = 11;
  e.input_row_end = 9;
  CHECK_STR_EQ(format(&e),
               "m.wasm: f: boom in $3 (a.c:12) on lines 9 to 11 of in.csv "
               "(rows 7 to 9)");
  e.input_row = e.input_row_end = e.input_line = e.input_line_end = -1;
  e.first_row = e.last_row = -1;
  CHECK_STR_EQ(format(&e), "m.wasm: f: boom in $3 (a.c:12) in in.csv");
  wudf_error_format(NULL);
}

TEST(errors_set_module_rebuilds_the_message) {
  wudf_error e;
  wudf_error_init(&e);
  wudf_fail(&e, WUDF_ERR_INVALID, "bad %s", "thing");
  CHECK_STR_EQ(e.message, "bad thing");
  wudf_error_set_module(&e, "udf on row 2");
  CHECK_STR_EQ(e.message, "udf on row 2: bad thing");
  CHECK_STR_EQ(e.detail, "bad thing");
  wudf_error_set_module(&e, NULL);
  CHECK_STR_EQ(e.message, "bad thing");
  wudf_error_set_module(NULL, "x");
}

/* ---- hostile debug sections ---------------------------------------------- */

/* The names and lines read from a `name` and a `.debug_line` payload. */
static void read_both(const uint8_t *names, size_t nn, const uint8_t *lines,
                      size_t nl, wudf_wasm_debuginfo *out) {
  memset(out, 0, sizeof *out);
  static const wudf_wasm_body_range bodies[] = {{1, 10}, {10, 30}};
  wudf_error err;
  wudf_error_init(&err);
  wudf_wasm_names_parse(names, nn, 3, out, &err);
  wudf_dwarf_lines_parse(lines, nl, NULL, bodies, 2, out, &err);
}

TEST(errors_garbage_debug_sections_are_ignored) {
  uint8_t junk[512];
  uint32_t x = 12345;
  for (size_t i = 0; i < sizeof junk; i++) {
    x = x * 1103515245u + 12345u;
    junk[i] = (uint8_t)(x >> 16);
  }
  for (size_t n = 0; n <= sizeof junk; n += 7) {
    wudf_wasm_debuginfo d;
    read_both(junk, n, junk, n, &d);
    wudf_wasm_debuginfo_reset(&d);
  }
  /* Lengths that point past the end, and a count larger than the bytes. */
  static const uint8_t names[] = {1, 0x7f, 0xff, 0xff, 0xff, 0x0f, 0};
  static const uint8_t lines[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xff, 4,    0};
  wudf_wasm_debuginfo d;
  read_both(names, sizeof names, lines, sizeof lines, &d);
  CHECK_EQ_INT(d.nnames, 0);
  const char *file;
  uint32_t line;
  CHECK(!wudf_wasm_debuginfo_line(&d, 0, 0, &file, &line));
  wudf_wasm_debuginfo_reset(&d);
}

/* Regression (fuzz): a DWARF 5 header whose header_length ends before its
 * fixed fields, followed by file tables, read past the table array. */
TEST(errors_short_dwarf_header_is_refused) {
  static const uint8_t lines[] = {
      40, 0,   0,    0, /* unit_length */
      5,  0,   4,    0, /* version 5, address size 4, no segments */
      2,  0,   0,    0, /* header_length 2: shorter than what follows */
      1,  1,   1,    0xfb, 14, 13,  0, 1, 1, 1,    1,
      0,  0,   0,    1,    0,  0,   1, 1, 1, 0x08, /* directory format: path as
                                                      a string */
      3,  'a', 0,    'b',  0,  'c', 0,             /* three directories */
      1,  1,   0x08, 9,                            /* file format, nine files */
  };
  wudf_wasm_debuginfo d;
  read_both(NULL, 0, lines, sizeof lines, &d);
  const char *file;
  uint32_t line;
  CHECK(!wudf_wasm_debuginfo_line(&d, 0, 0, &file, &line));
  wudf_wasm_debuginfo_reset(&d);
}

/* Regression (fuzz): a DWARF 5 file table of 2^63 entries with no
 * attributes took minutes to walk. */
TEST(errors_dwarf_table_without_attributes_is_refused) {
  static const uint8_t lines[] = {
      37,   0,    0,    0, /* unit_length */
      5,    0,    4,    0, /* version 5, address size 4, no segments */
      25,   0,    0,    0, /* header_length */
      1,    1,    1,    0xfb, 14,   13,   0,    1,    1,    1,
      1,    0,    0,    0,    1,    0,    0,    1,    0,    /* no directory
                                                               attributes */
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, /* entries */
      0,    0,                                              /* no files */
  };
  wudf_wasm_debuginfo d;
  read_both(NULL, 0, lines, sizeof lines, &d);
  wudf_wasm_debuginfo_reset(&d);
}

TEST(errors_name_section_keeps_valid_names) {
  /* Subsection 0 (module name) skipped; function names 2 "b", 0 "a\n",
   * 9 (out of range), 2 again. */
  static const uint8_t names[] = {0, 2, 1,   'm',  1, 14, 4,   2, 1, 'b',
                                  0, 2, 'a', '\n', 9, 1,  'z', 2, 1, 'c'};
  wudf_wasm_debuginfo d;
  memset(&d, 0, sizeof d);
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_wasm_names_parse(names, sizeof names, 3, &d, &err), WUDF_OK,
               &err);
  CHECK_EQ_INT(d.nnames, 2);
  CHECK_STR_EQ(wudf_wasm_debuginfo_name(&d, 0), "a?");
  CHECK(wudf_wasm_debuginfo_name(&d, 1) == NULL);
  CHECK(wudf_wasm_debuginfo_name(&d, 2) != NULL);
  CHECK(wudf_wasm_debuginfo_name(&d, 9) == NULL);
  wudf_wasm_debuginfo_reset(&d);
}

TEST(errors_hostile_debug_sections_do_not_stop_a_load) {
  /* The module of k_named_wat with a `name` section whose map count lies
   * and a `.debug_line` of garbage appended. */
  size_t len;
  uint8_t *bytes = test_wat(k_named_wat, NULL, &len);
  CHECK(bytes != NULL);
  static const uint8_t extra[] = {
      0,   9,   4,   'n',  'a', 'm', 'e', 1,   0x7f, 0xff, 0xff, /* name */
      0,   16,  11,  '.',  'd', 'e', 'b', 'u', 'g',  '_',  'l',
      'i', 'n', 'e', 0x10, 0,   0,   0, /* unit length 16, then too little */
  };
  uint8_t *m2 = malloc(len + sizeof extra);
  CHECK(m2 != NULL);
  memcpy(m2, bytes, len);
  memcpy(m2 + len, extra, sizeof extra);
  free(bytes);
  wudf_engine *e = test_engine("errors", NULL);
  CHECK(e != NULL);
  wudf_error err;
  wudf_error_init(&err);
  wudf_module *m = load_bytes(e, m2, len + sizeof extra, "hostile.wasm", &err);
  free(m2);
  CHECK_MSG(m != NULL, "%s", err.message);
  CHECK_STATUS(call2(m, "div", 1, 0, 2, 1, &err), WUDF_TRAP_DIV_BY_ZERO, &err);
  CHECK_STR_EQ(err.wasm_function, "$1");
  CHECK_EQ_INT(err.source_line, 0);
  wudf_module_free(m);
  wudf_engine_free(e);
}

/* ---- one parse, under the engine's limits -------------------------------- */

TEST(errors_run_load_parses_under_the_engine_limits) {
  char dir[512];
  snprintf(dir, sizeof dir, "%s/errors", test_tmpdir());
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = dir;
  cfg.max_functions = 2;
  wudf_engine *e = NULL;
  wudf_error err;
  wudf_error_init(&err);
  CHECK_STATUS(wudf_engine_new(&cfg, &e, &err), WUDF_OK, &err);
  size_t len;
  uint8_t *bytes = test_wat(k_named_wat, NULL, &len);
  CHECK(bytes != NULL);
  wudf_module *m = NULL;
  wudf_type cols[2] = {WUDF_TYPE_INT32, WUDF_TYPE_INT32};
  /* Without the limits at the parse, the missing export was reported
   * (WUDF_ERR_NOT_FOUND) before the load refused the module. */
  wudf_status st =
      wudf_run_module_load(e, bytes, len, "limited.wasm", "nope", cols, 2,
                           WUDF_RUN_MAP, WUDF_TYPE_INT32, &m, &err);
  free(bytes);
  CHECK(m == NULL);
  CHECK_STATUS(st, WUDF_ERR_LIMIT, &err);
  CHECK_STR_EQ(err.module, "limited.wasm");
  CHECK(!strncmp(err.message, "limited.wasm: ", 14));
  wudf_engine_free(e);
}
