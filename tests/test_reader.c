/* WebAssembly binary reader (src/load): structure, unsupported features,
 * malformed input, limits. Valid modules come from wat2wasm; malformed ones
 * are written out byte by byte, with expected values worked out by hand. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "load/wasm_info.h"

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
/* (type (func)) and one function of that type. */
#define TYPE_FUNC0 0x01, 0x04, 0x01, 0x60, 0x00, 0x00
#define FUNC1 0x03, 0x02, 0x01, 0x00

/* ---- helpers ------------------------------------------------------------- */

static bool info_is_empty(const wudf_wasm_info *info) {
  return !info->types && !info->ntypes && !info->imports && !info->nimports &&
         !info->func_import_types && !info->func_types && !info->nfuncs &&
         !info->tables && !info->memories && !info->globals && !info->exports &&
         !info->customs && !info->ncustoms && !info->has_start &&
         !info->code_bytes && !info->max_locals;
}

/* Parses and frees; a failed parse must leave *info reset. */
static wudf_status parse_lim(const uint8_t *b, size_t n,
                             const wudf_wasm_parse_limits *lim,
                             wudf_error *err) {
  wudf_wasm_info info;
  wudf_error_init(err);
  wudf_status st = wudf_wasm_parse(b, n, lim, &info, err);
  if (st != WUDF_OK && !info_is_empty(&info)) {
    fprintf(stderr, "    info not reset after failure\n");
    st = WUDF_ERR_ARG;
  }
  wudf_wasm_info_reset(&info);
  return st;
}

static wudf_status parse(const uint8_t *b, size_t n, wudf_error *err) {
  return parse_lim(b, n, NULL, err);
}

#define PARSE(arr, err) parse(arr, sizeof arr, err)

/* Assembles `text` with wat2wasm and extra `flags`; returns the malloc'ed
 * binary, or NULL when wat2wasm fails. */
static uint8_t *wat(const char *text, const char *flags, size_t *len) {
  static int seq;
  char wat_path[512], wasm_path[512], cmd[1200];
  snprintf(wat_path, sizeof wat_path, "%s/reader%d.wat", test_tmpdir(), seq);
  snprintf(wasm_path, sizeof wasm_path, "%s/reader%d.wasm", test_tmpdir(),
           seq++);
  FILE *f = fopen(wat_path, "w");
  if (!f) return NULL;
  fputs(text, f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "wat2wasm %s '%s' -o '%s'", flags, wat_path,
           wasm_path);
  if (system(cmd) != 0) return NULL;
  f = fopen(wasm_path, "rb");
  if (!f) return NULL;
  uint8_t *buf = malloc(1 << 16);
  *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
  fclose(f);
  return buf;
}

/* Module with one function `() -> ()` (and memory 1 when `memory`) whose
 * body is `n` instruction bytes followed by the final end. */
static size_t func_module(uint8_t *out, bool memory, const uint8_t *instrs,
                          size_t n) {
  static const uint8_t head[] = {HDR, TYPE_FUNC0, FUNC1};
  static const uint8_t mem[] = {0x05, 0x03, 0x01, 0x00, 0x01};
  size_t k = 0;
  memcpy(out, head, sizeof head);
  k += sizeof head;
  if (memory) memcpy(out + k, mem, sizeof mem), k += sizeof mem;
  out[k++] = 0x0a;             /* code section */
  out[k++] = (uint8_t)(n + 4); /* count, body size, locals, end */
  out[k++] = 0x01;             /* one body */
  out[k++] = (uint8_t)(n + 2); /* body size */
  out[k++] = 0x00;             /* no locals */
  memcpy(out + k, instrs, n);
  k += n;
  out[k++] = 0x0b;
  return k;
}

static wudf_status parse_body(bool memory, const uint8_t *instrs, size_t n,
                              wudf_error *err) {
  uint8_t m[256];
  return parse(m, func_module(m, memory, instrs, n), err);
}

#define BODY(err, ...)                              \
  parse_body(false, (const uint8_t[]){__VA_ARGS__}, \
             sizeof((const uint8_t[]){__VA_ARGS__}), err)
#define BODY_MEM(err, ...)                         \
  parse_body(true, (const uint8_t[]){__VA_ARGS__}, \
             sizeof((const uint8_t[]){__VA_ARGS__}), err)

/* ---- a module with every section ---------------------------------------- */

static const char k_full_wat[] =
    "(module\n"
    "  (type $t0 (func (param i32 i64) (result f32)))\n"
    "  (type $t1 (func))\n"
    "  (import \"env\" \"f\" (func $imp (type $t0)))\n"
    "  (import \"env\" \"tab\" (table 2 10 funcref))\n"
    "  (import \"env\" \"g\" (global $gi (mut i64)))\n"
    "  (import \"env\" \"g2\" (global $gf f64))\n"
    "  (func $a (type $t1) (local i32 i32 f64)\n"
    "    (block (loop (if (i32.const 1) (then (block (nop))) (else (nop))))))\n"
    "  (func $b (param f32 f32) (result f32) (local i64 i64) (local.get 0))\n"
    "  (table $t2 1 externref)\n"
    "  (memory 1 2)\n"
    "  (global $g (mut i32) (i32.const 7))\n"
    "  (export \"a\" (func $a))\n"
    "  (export \"mem\" (memory 0))\n"
    "  (export \"g\" (global $g))\n"
    "  (export \"tab\" (table 0))\n"
    "  (start $a)\n"
    "  (elem (i32.const 0) $a $b)\n"
    "  (data (i32.const 0) \"hi\")\n"
    "  (data \"passive\")\n"
    "  (func $c (data.drop 1)))\n";

/* The module above with a custom section "note" (empty) after the header
 * and "wudf.sig" ("abc") at the end. */
static uint8_t *full_module(size_t *len) {
  size_t n;
  uint8_t *w = wat(k_full_wat, "", &n);
  if (!w) return NULL;
  static const uint8_t note[] = {0x00, 0x05, 0x04, 'n', 'o', 't', 'e'};
  static const uint8_t sig[] = {0x00, 0x0c, 0x08, 'w', 'u', 'd', 'f',
                                '.',  's',  'i',  'g', 'a', 'b', 'c'};
  uint8_t *m = malloc(n + sizeof note + sizeof sig);
  if (m) {
    memcpy(m, w, 8);
    memcpy(m + 8, note, sizeof note);
    memcpy(m + 8 + sizeof note, w + 8, n - 8);
    memcpy(m + n + sizeof note, sig, sizeof sig);
    *len = n + sizeof note + sizeof sig;
  }
  free(w);
  return m;
}

static bool name_is(const wudf_wasm_name *name, const char *s) {
  return name->str && name->len == strlen(s) &&
         !memcmp(name->str, s, name->len);
}

static void check_full_types(const wudf_wasm_info *info) {
  CHECK_EQ_INT(info->ntypes, 3);
  const wudf_wasm_functype *t = info->types;
  CHECK_EQ_INT(t[0].nparams, 2);
  CHECK_EQ_INT(t[0].nresults, 1);
  CHECK(t[0].types[0] == WUDF_WASM_I32 && t[0].types[1] == WUDF_WASM_I64 &&
        t[0].types[2] == WUDF_WASM_F32);
  CHECK(t[1].nparams == 0 && t[1].nresults == 0);
  CHECK(t[2].nparams == 2 && t[2].nresults == 1);
  CHECK(t[2].types[0] == WUDF_WASM_F32 && t[2].types[2] == WUDF_WASM_F32);
}

static void check_full_imports(const wudf_wasm_info *info, const uint8_t *m) {
  CHECK_EQ_INT(info->nimports, 4);
  const wudf_wasm_import *im = info->imports;
  CHECK(name_is(&im[0].module, "env") && name_is(&im[0].name, "f"));
  CHECK(im[0].kind == WUDF_EXTERN_FUNC && im[0].u.type_index == 0);
  CHECK(m[im[0].offset] == 3 && !memcmp(m + im[0].offset + 1, "env", 3));
  CHECK(name_is(&im[1].name, "tab") && im[1].kind == WUDF_EXTERN_TABLE);
  CHECK(im[1].u.table.elem == WUDF_WASM_FUNCREF);
  CHECK(im[1].u.table.limits.min == 2 && im[1].u.table.limits.has_max &&
        im[1].u.table.limits.max == 10);
  CHECK(im[2].kind == WUDF_EXTERN_GLOBAL && name_is(&im[2].name, "g"));
  CHECK(im[2].u.global.valtype == WUDF_WASM_I64 && im[2].u.global.mutable_);
  CHECK(im[3].u.global.valtype == WUDF_WASM_F64 && !im[3].u.global.mutable_);
  CHECK(im[0].offset < im[1].offset && im[2].offset < im[3].offset);
  CHECK_EQ_INT(info->nfunc_imports, 1);
  CHECK_EQ_INT(info->ntable_imports, 1);
  CHECK_EQ_INT(info->nmemory_imports, 0);
  CHECK_EQ_INT(info->nglobal_imports, 2);
}

static void check_full_definitions(const wudf_wasm_info *info) {
  CHECK_EQ_INT(info->nfuncs, 3);
  CHECK(info->func_types[0] == 1 && info->func_types[1] == 2 &&
        info->func_types[2] == 1);
  CHECK_EQ_INT(info->ntables, 1);
  CHECK(info->tables[0].elem == WUDF_WASM_EXTERNREF);
  CHECK(info->tables[0].limits.min == 1 && !info->tables[0].limits.has_max);
  CHECK_EQ_INT(info->nmemories, 1);
  CHECK(info->memories[0].min == 1 && info->memories[0].max == 2);
  CHECK_EQ_INT(info->nglobals, 1);
  CHECK(info->globals[0].valtype == WUDF_WASM_I32 && info->globals[0].mutable_);
  CHECK(info->has_start && info->start == 1);
  CHECK_EQ_INT(info->nelems, 1);
  CHECK_EQ_INT(info->ndatas, 2);
  CHECK(info->has_data_count);
  /* Body sizes 23 + 6 + 5, as listed by wasm-objdump -x. */
  CHECK_EQ_INT(info->code_bytes, 34);
  /* $a: block > loop > if > block. $b: 2 params + 2 locals. */
  CHECK_EQ_INT(info->max_block_depth, 4);
  CHECK_EQ_INT(info->max_locals, 4);
}

static void check_full_exports(const wudf_wasm_info *info, size_t len) {
  CHECK_EQ_INT(info->nexports, 4);
  const wudf_wasm_export *ex = info->exports;
  CHECK(name_is(&ex[0].name, "a") && ex[0].kind == WUDF_EXTERN_FUNC &&
        ex[0].index == 1);
  CHECK(name_is(&ex[1].name, "mem") && ex[1].kind == WUDF_EXTERN_MEMORY &&
        ex[1].index == 0);
  CHECK(name_is(&ex[2].name, "g") && ex[2].kind == WUDF_EXTERN_GLOBAL &&
        ex[2].index == 2);
  CHECK(name_is(&ex[3].name, "tab") && ex[3].kind == WUDF_EXTERN_TABLE &&
        ex[3].index == 0);
  CHECK_EQ_INT(info->ncustoms, 2);
  CHECK(name_is(&info->customs[0].name, "note"));
  CHECK(info->customs[0].offset == 15 && info->customs[0].size == 0);
  CHECK(name_is(&info->customs[1].name, "wudf.sig"));
  CHECK(info->customs[1].offset == len - 3 && info->customs[1].size == 3);
}

TEST(reader_full_module) {
  size_t len;
  uint8_t *m = full_module(&len);
  CHECK(m);
  wudf_wasm_info info;
  wudf_error err;
  wudf_status st = wudf_wasm_parse(m, len, NULL, &info, &err);
  if (st == WUDF_OK) {
    check_full_types(&info);
    check_full_imports(&info, m);
    check_full_definitions(&info);
    check_full_exports(&info, len);
    CHECK(wudf_wasm_func_type(&info, 0) == &info.types[0]);
    CHECK(wudf_wasm_func_type(&info, 1) == &info.types[1]);
    CHECK(wudf_wasm_func_type(&info, 2) == &info.types[2]);
    CHECK(wudf_wasm_func_type(&info, 4) == NULL);
  }
  wudf_wasm_info_reset(&info);
  free(m);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK(info_is_empty(&info));
}

/* Every strict prefix is malformed, except those ending exactly at a section
 * boundary, which may form a complete module. */
TEST(reader_truncated_at_every_length) {
  size_t len;
  uint8_t *m = full_module(&len);
  CHECK(m);
  bool boundary[4096] = {false};
  CHECK(len < sizeof boundary);
  for (size_t pos = 8; pos < len;) { /* walk the section headers */
    size_t p = pos + 1, size = 0;
    for (unsigned shift = 0; m[p] & 0x80; shift += 7)
      size |= (size_t)(m[p++] & 0x7f) << shift;
    size |= (size_t)m[p] << (7 * (p - pos - 1));
    boundary[pos] = true;
    pos = p + 1 + size;
  }
  int bad = 0;
  wudf_error err;
  for (size_t n = 0; n < len; n++) {
    wudf_status st = parse(m, n, &err);
    bool ok = st == WUDF_ERR_MALFORMED || (boundary[n] && st == WUDF_OK);
    if (!ok && bad++ < 5)
      fprintf(stderr, "    prefix %zu: %s %s\n", n, wudf_status_name(st),
              err.message);
  }
  free(m);
  CHECK_EQ_INT(bad, 0);
  CHECK_STATUS(parse((const uint8_t[]){HDR}, 8, &err), WUDF_OK, &err);
}

TEST(reader_element_segment_encodings) {
  size_t len;
  uint8_t *m =
      wat("(module (table $t 4 funcref) (table $t2 4 funcref)\n"
          "  (table $u 4 externref) (func $f)\n"
          "  (elem (i32.const 0) $f) (elem func $f)\n"
          "  (elem (table $t2) (i32.const 1) func $f) (elem declare func $f)\n"
          "  (elem (i32.const 2) funcref (ref.func $f) (ref.null func))\n"
          "  (elem funcref (ref.null func))\n"
          "  (elem (table $u) (i32.const 0) externref (ref.null extern)))\n",
          "", &len);
  CHECK(m);
  wudf_wasm_info info;
  wudf_error err;
  wudf_status st = wudf_wasm_parse(m, len, NULL, &info, &err);
  uint32_t nelems = info.nelems, ntables = info.ntables;
  wudf_wasm_info_reset(&info);
  free(m);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK_EQ_INT(nelems, 7);
  CHECK_EQ_INT(ntables, 3);
  /* Flags 7 (declarative, expressions), which wat2wasm does not emit. */
  const uint8_t decl7[] = {HDR,  TYPE_FUNC0, FUNC1, 0x09, 0x07, 0x01,
                           0x07, 0x70,       0x01,  0xd2, 0x00, 0x0b,
                           0x0a, 0x04,       0x01,  0x02, 0x00, 0x0b};
  CHECK_STATUS(PARSE(decl7, &err), WUDF_OK, &err);
  const uint8_t flags8[] = {HDR, 0x09, 0x02, 0x01, 0x08};
  CHECK_STATUS(PARSE(flags8, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "element segment flags 8");
  const uint8_t kind1[] = {HDR, 0x09, 0x04, 0x01, 0x01, 0x01, 0x00};
  CHECK_STATUS(PARSE(kind1, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "element kind 0x01");
}

TEST(reader_instruction_immediates) {
  wudf_error err;
  /* i32.const 0, br_table [0] 0 */
  CHECK_STATUS(BODY(&err, 0x41, 0x00, 0x0e, 0x01, 0x00, 0x00), WUDF_OK, &err);
  /* typed select: select (result i32) */
  CHECK_STATUS(
      BODY(&err, 0x41, 0x01, 0x41, 0x02, 0x41, 0x00, 0x1c, 0x01, 0x7f, 0x1a),
      WUDF_OK, &err);
  /* i64.const -1 in the full 10 bytes */
  CHECK_STATUS(BODY(&err, 0x42, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0x7f, 0x1a),
               WUDF_OK, &err);
  /* block with type index 0 (s33), ref.null func, ref.is_null */
  CHECK_STATUS(BODY(&err, 0x02, 0x00, 0x0b, 0xd0, 0x70, 0xd1, 0x1a), WUDF_OK,
               &err);
  /* f32.const, i32.trunc_sat_f32_s (0xfc 0) */
  CHECK_STATUS(BODY(&err, 0x43, 0, 0, 0, 0, 0xfc, 0x00, 0x1a), WUDF_OK, &err);
  /* i32.load offset 2^32-1, memory.size, memory.fill */
  CHECK_STATUS(BODY_MEM(&err, 0x41, 0x00, 0x28, 0x02, 0xff, 0xff, 0xff, 0xff,
                        0x0f, 0x1a, 0x3f, 0x00, 0x1a, 0x41, 0x00, 0x41, 0x00,
                        0x41, 0x00, 0xfc, 0x0b, 0x00),
               WUDF_OK, &err);
  /* sign extension i32.extend8_s */
  CHECK_STATUS(BODY(&err, 0x41, 0x00, 0xc0, 0x1a), WUDF_OK, &err);
}

/* ---- unsupported features ------------------------------------------------ */

static wudf_status parse_wat(const char *text, const char *flags,
                             wudf_error *err) {
  size_t len;
  uint8_t *m = wat(text, flags, &len);
  if (!m) {
    snprintf(err->message, sizeof err->message, "wat2wasm failed");
    return WUDF_ERR_ARG;
  }
  wudf_status st = parse(m, len, err);
  free(m);
  return st;
}

TEST(reader_unsupported_simd) {
  wudf_error err;
  CHECK_STATUS(parse_wat("(module (func (import \"m\" \"f\"))\n"
                         "  (func (result i32) (v128.const i32x4 1 2 3 4)\n"
                         "    (i32x4.extract_lane 0)))",
                         "", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK(strncmp(err.message, "at byte 0x", 10) == 0);
  CHECK_CONTAINS(err.message, "(code section, function 1)");
  CHECK_CONTAINS(err.message, "SIMD instruction (0xfd prefix)");
  CHECK_CONTAINS(err.message, "-msimd128");
  CHECK_STATUS(parse_wat("(module (func (param v128)))", "", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "v128 parameter");
  CHECK_STATUS(parse_wat("(module (func (local v128)))", "", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "v128 local");
  CHECK_STATUS(
      parse_wat("(module (global v128 (v128.const i64x2 0 0)))", "", &err),
      WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "v128 global");
  CHECK_STATUS(parse_wat("(module (func (block (result v128) unreachable)"
                         " drop))",
                         "", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "v128 block type");
}

TEST(reader_unsupported_threads) {
  wudf_error err;
  CHECK_STATUS(
      parse_wat("(module (memory 1 1 shared))", "--enable-threads", &err),
      WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "shared memory");
  CHECK_CONTAINS(err.message, "(memory section)");
  CHECK_STATUS(parse_wat("(module (memory 1 1) (func (result i32)\n"
                         "  (i32.atomic.load (i32.const 0))))",
                         "--enable-threads", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "atomic instruction (0xfe prefix");
  CHECK_CONTAINS(err.message, "function 0");
}

TEST(reader_unsupported_tail_calls) {
  wudf_error err;
  CHECK_STATUS(parse_wat("(module (func $f (result i32) (i32.const 1))\n"
                         "  (func (result i32) (return_call $f)))",
                         "--enable-tail-call", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "(code section, function 1)");
  CHECK_CONTAINS(err.message, "tail-call instruction return_call (0x12)");
  CHECK_STATUS(parse_wat("(module (type $t (func)) (table 1 funcref)\n"
                         "  (func (return_call_indirect (type $t)"
                         " (i32.const 0))))",
                         "--enable-tail-call", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "return_call_indirect (0x13)");
}

TEST(reader_unsupported_exceptions) {
  wudf_error err;
  CHECK_STATUS(parse_wat("(module (tag $e (param i32))\n"
                         "  (func (try (do (throw $e (i32.const 1)))"
                         " (catch $e drop))))",
                         "--enable-exceptions", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "tag section (exception-handling");
  CHECK_STATUS(parse_wat("(module (import \"m\" \"t\" (tag)))",
                         "--enable-exceptions", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "tag import");
  /* try/end, throw 0, and delegate without any tag section. */
  CHECK_STATUS(BODY(&err, 0x06, 0x40, 0x0b), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "exception-handling instruction try (0x06)");
  CHECK_STATUS(BODY(&err, 0x08, 0x00), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "throw (0x08)");
  CHECK_STATUS(BODY(&err, 0x19), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "catch_all (0x19)");
}

TEST(reader_unsupported_memory64) {
  wudf_error err;
  CHECK_STATUS(parse_wat("(module (memory i64 1))", "--enable-memory64", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "memory64");
  const uint8_t imported[] = {HDR,  0x02, 0x08, 0x01, 0x01, 'm',
                              0x01, 'm',  0x02, 0x04, 0x01};
  CHECK_STATUS(PARSE(imported, &err), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "(import section)");
  CHECK_CONTAINS(err.message, "memory64");
}

TEST(reader_unsupported_multi_memory) {
  wudf_error err;
  CHECK_STATUS(parse_wat("(module (memory 1) (memory $m2 1)\n"
                         "  (func (result i32) (i32.load $m2 (i32.const 0))))",
                         "--enable-multi-memory", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "multi-memory");
  CHECK_STATUS(parse_wat("(module (import \"a\" \"m\" (memory 1)) (memory 1))",
                         "--enable-multi-memory", &err),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "multi-memory");
  /* One memory, but memory.size 1, and a load with a memory index. */
  CHECK_STATUS(BODY_MEM(&err, 0x3f, 0x01, 0x1a), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "memory index 1 (multi-memory)");
  CHECK_STATUS(BODY_MEM(&err, 0x41, 0x00, 0x28, 0x42, 0x00, 0x00, 0x1a),
               WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "multi-memory");
  /* Data segment flags 2 with memory 1. */
  const uint8_t data[] = {HDR,  0x05, 0x03, 0x01, 0x00, 0x01, 0x0b, 0x07,
                          0x01, 0x02, 0x01, 0x41, 0x00, 0x0b, 0x00};
  CHECK_STATUS(PARSE(data, &err), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "memory 1 (multi-memory)");
}

TEST(reader_unsupported_gc_and_function_references) {
  wudf_error err;
  const uint8_t struct_type[] = {HDR, 0x01, 0x03, 0x01, 0x5f, 0x00};
  CHECK_STATUS(PARSE(struct_type, &err), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "GC");
  /* (func (param (ref null func))) */
  const uint8_t ref_param[] = {HDR,  0x01, 0x06, 0x01, 0x60,
                               0x01, 0x63, 0x70, 0x00};
  CHECK_STATUS(PARSE(ref_param, &err), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "function references");
  CHECK_STATUS(BODY(&err, 0xfb, 0x00), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "GC");
  CHECK_STATUS(BODY(&err, 0x14, 0x00), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "call_ref");
  CHECK_STATUS(BODY(&err, 0xd0, 0x00, 0x1a), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "function-references");
}

/* ---- malformed modules --------------------------------------------------- */

TEST(reader_bad_header) {
  wudf_error err;
  CHECK_STATUS(parse(NULL, 0, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_STATUS(parse((const uint8_t[]){0x00, 0x61, 0x73}, 3, &err),
               WUDF_ERR_MALFORMED, &err);
  const uint8_t magic[] = {0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00};
  CHECK_STATUS(PARSE(magic, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "magic");
  const uint8_t version[] = {0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00};
  CHECK_STATUS(PARSE(version, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "version 2");
  const uint8_t short_version[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00};
  CHECK_STATUS(PARSE(short_version, &err), WUDF_ERR_MALFORMED, &err);
}

TEST(reader_bad_leb128) {
  wudf_error err;
  /* Section size as u32 in 6 bytes: too long. */
  const uint8_t overlong[] = {HDR, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  CHECK_STATUS(PARSE(overlong, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "too long");
  /* 5-byte u32 with bit 32 set. */
  const uint8_t too_big[] = {HDR, 0x01, 0x80, 0x80, 0x80, 0x80, 0x10};
  CHECK_STATUS(PARSE(too_big, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "too large");
  /* Overlong but within 5 bytes is fine: type section size 1 as 81 80 80
   * 80 00... written as 0x81 0x80 0x00 (3 bytes). */
  const uint8_t long_ok[] = {HDR, 0x01, 0x81, 0x80, 0x00, 0x00};
  CHECK_STATUS(PARSE(long_ok, &err), WUDF_OK, &err);
  /* LEB cut by the end of the module. */
  const uint8_t cut[] = {HDR, 0x01, 0x80, 0x80};
  CHECK_STATUS(PARSE(cut, &err), WUDF_ERR_MALFORMED, &err);
  /* i32.const with unused bits that do not sign-extend. */
  CHECK_STATUS(BODY(&err, 0x41, 0x80, 0x80, 0x80, 0x80, 0x70, 0x1a),
               WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "too large");
  CHECK_STATUS(BODY(&err, 0x41, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x1a),
               WUDF_ERR_MALFORMED, &err);
  /* i64.const: tenth byte 0x02 is neither 0x00 nor 0x7f; 11 bytes. */
  CHECK_STATUS(BODY(&err, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                    0x80, 0x02, 0x1a),
               WUDF_ERR_MALFORMED, &err);
  CHECK_STATUS(BODY(&err, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                    0x80, 0x80, 0x00, 0x1a),
               WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "too long");
  /* s33 block type: -1 in two bytes is no value type; 6 bytes too long. */
  CHECK_STATUS(BODY(&err, 0x02, 0xff, 0x7f, 0x0b), WUDF_ERR_MALFORMED, &err);
  CHECK_STATUS(BODY(&err, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b),
               WUDF_ERR_MALFORMED, &err);
  /* memory.size reserved byte as a 2-byte zero. */
  CHECK_STATUS(BODY_MEM(&err, 0x3f, 0x80, 0x00, 0x1a), WUDF_ERR_MALFORMED,
               &err);
  CHECK_CONTAINS(err.message, "zero byte expected");
}

TEST(reader_bad_section_sizes) {
  wudf_error err;
  /* Declares 16 bytes; 4 are left. */
  const uint8_t past_end[] = {HDR, 0x01, 0x10, 0x01, 0x60, 0x00, 0x00};
  CHECK_STATUS(PARSE(past_end, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "at byte 0x8 (type section)");
  /* Declares 3 bytes; the type needs 4. */
  const uint8_t too_small[] = {HDR, 0x01, 0x03, 0x01, 0x60, 0x00, 0x00};
  CHECK_STATUS(PARSE(too_small, &err), WUDF_ERR_MALFORMED, &err);
  /* Declares 5 bytes; the content is 4. */
  const uint8_t too_big[] = {HDR, 0x01, 0x05, 0x01, 0x60, 0x00, 0x00, 0x00};
  CHECK_STATUS(PARSE(too_big, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "size mismatch");
  /* Custom section whose name is longer than the section. */
  const uint8_t custom[] = {HDR, 0x00, 0x02, 0x05, 'a', 'b', 'c', 'd', 'e'};
  CHECK_STATUS(PARSE(custom, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t custom_empty[] = {HDR, 0x00, 0x00};
  CHECK_STATUS(PARSE(custom_empty, &err), WUDF_ERR_MALFORMED, &err);
}

TEST(reader_section_order) {
  wudf_error err;
  const uint8_t dup[] = {HDR, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00};
  CHECK_STATUS(PARSE(dup, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "duplicate type section");
  const uint8_t order[] = {HDR, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00};
  CHECK_STATUS(PARSE(order, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "type section after the function section");
  /* Custom sections anywhere. */
  const uint8_t customs[] = {HDR,  0x00, 0x02, 0x01, 'x',  0x01, 0x01,
                             0x00, 0x00, 0x01, 0x00, 0x03, 0x01, 0x00,
                             0x00, 0x03, 0x01, 'y',  0x07};
  CHECK_STATUS(PARSE(customs, &err), WUDF_OK, &err);
  /* Data count goes between element and code; not after code or data. */
  const uint8_t dc_ok[] = {HDR,  0x09, 0x01, 0x00, 0x0c, 0x01, 0x00,
                           0x0a, 0x01, 0x00, 0x0b, 0x01, 0x00};
  CHECK_STATUS(PARSE(dc_ok, &err), WUDF_OK, &err);
  const uint8_t dc_after_code[] = {HDR, 0x0a, 0x01, 0x00, 0x0c, 0x01, 0x00};
  CHECK_STATUS(PARSE(dc_after_code, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t dc_after_data[] = {HDR, 0x0b, 0x01, 0x00, 0x0c, 0x01, 0x00};
  CHECK_STATUS(PARSE(dc_after_data, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t dc_twice[] = {HDR, 0x0c, 0x01, 0x00, 0x0c, 0x01, 0x00};
  CHECK_STATUS(PARSE(dc_twice, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t unknown[] = {HDR, 0x0e, 0x00};
  CHECK_STATUS(PARSE(unknown, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "section id 14");
}

TEST(reader_lying_vector_counts) {
  wudf_error err;
  /* Counts of 2^32-1 with nothing behind them are refused by the count
   * check itself (its message names the count), before any allocation. */
  static const uint8_t ids[] = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11};
  for (size_t i = 0; i < sizeof ids; i++) {
    const uint8_t m[] = {HDR, ids[i], 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f};
    CHECK_STATUS(PARSE(m, &err), WUDF_ERR_MALFORMED, &err);
    CHECK_CONTAINS(err.message, "4294967295");
  }
  /* A name length beyond the section. */
  const uint8_t name[] = {HDR, 0x00, 0x06, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'};
  CHECK_STATUS(PARSE(name, &err), WUDF_ERR_MALFORMED, &err);
  /* br_table with 2^32-1 labels. */
  CHECK_STATUS(BODY(&err, 0x41, 0x00, 0x0e, 0xff, 0xff, 0xff, 0xff, 0x0f),
               WUDF_ERR_MALFORMED, &err);
  /* 2 types declared, 1 given. */
  const uint8_t short_vec[] = {HDR, 0x01, 0x04, 0x02, 0x60, 0x00, 0x00};
  CHECK_STATUS(PARSE(short_vec, &err), WUDF_ERR_MALFORMED, &err);
}

TEST(reader_bad_limits_and_kinds) {
  wudf_error err;
  const uint8_t mem2[] = {HDR, 0x05, 0x03, 0x01, 0x02, 0x01};
  CHECK_STATUS(PARSE(mem2, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t mem3[] = {HDR, 0x05, 0x04, 0x01, 0x03, 0x01, 0x01};
  CHECK_STATUS(PARSE(mem3, &err), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "shared memory");
  const uint8_t mem8[] = {HDR, 0x05, 0x03, 0x01, 0x08, 0x01};
  CHECK_STATUS(PARSE(mem8, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t table2[] = {HDR, 0x04, 0x04, 0x01, 0x70, 0x02, 0x01};
  CHECK_STATUS(PARSE(table2, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t table_i32[] = {HDR, 0x04, 0x04, 0x01, 0x7f, 0x00, 0x01};
  CHECK_STATUS(PARSE(table_i32, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t global_mut2[] = {HDR,  0x06, 0x06, 0x01, 0x7f,
                                 0x02, 0x41, 0x00, 0x0b};
  CHECK_STATUS(PARSE(global_mut2, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t import5[] = {HDR, 0x02, 0x05, 0x01, 0x00, 0x00, 0x05, 0x00};
  CHECK_STATUS(PARSE(import5, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "import kind");
  const uint8_t export5[] = {HDR, 0x07, 0x04, 0x01, 0x00, 0x05, 0x00};
  CHECK_STATUS(PARSE(export5, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t valtype[] = {HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x40, 0x00};
  CHECK_STATUS(PARSE(valtype, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "value type 0x40");
  const uint8_t form[] = {HDR, 0x01, 0x04, 0x01, 0x61, 0x00, 0x00};
  CHECK_STATUS(PARSE(form, &err), WUDF_ERR_MALFORMED, &err);
}

TEST(reader_bad_utf8_names) {
  wudf_error err;
  /* Overlong "/" (c0 af), a surrogate (ed a0 80), 0xff, a cut sequence. */
  const uint8_t custom[] = {HDR, 0x00, 0x03, 0x02, 0xc0, 0xaf};
  CHECK_STATUS(PARSE(custom, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "UTF-8");
  const uint8_t import[] = {HDR,  0x01, 0x04, 0x01, 0x60, 0x00,
                            0x00, 0x02, 0x08, 0x01, 0x03, 0xed,
                            0xa0, 0x80, 0x00, 0x00, 0x00};
  CHECK_STATUS(PARSE(import, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "(import section)");
  const uint8_t export[] = {HDR,  TYPE_FUNC0, FUNC1, 0x07, 0x05, 0x01,
                            0x01, 0xff,       0x00,  0x00, 0x0a, 0x04,
                            0x01, 0x02,       0x00,  0x0b};
  CHECK_STATUS(PARSE(export, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t cut[] = {HDR, 0x00, 0x03, 0x02, 'a', 0xe2};
  CHECK_STATUS(PARSE(cut, &err), WUDF_ERR_MALFORMED, &err);
  /* Valid: U+10FFFF (f4 8f bf bf) and U+00E9 (c3 a9). */
  const uint8_t good[] = {HDR,  0x00, 0x07, 0x06, 0xf4,
                          0x8f, 0xbf, 0xbf, 0xc3, 0xa9};
  CHECK_STATUS(PARSE(good, &err), WUDF_OK, &err);
}

TEST(reader_function_bodies) {
  wudf_error err;
  CHECK_STATUS(BODY(&err, 0xff), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "unknown opcode 0xff");
  CHECK_CONTAINS(err.message, "(code section, function 0)");
  CHECK_STATUS(BODY(&err, 0x27), WUDF_ERR_MALFORMED, &err);
  CHECK_STATUS(BODY(&err, 0xfc, 0x12), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "0xfc 18");
  CHECK_STATUS(BODY(&err, 0x05), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "else");
  /* if ... else ... else */
  CHECK_STATUS(BODY(&err, 0x41, 0x00, 0x04, 0x40, 0x05, 0x05, 0x0b),
               WUDF_ERR_MALFORMED, &err);
  /* Unclosed block: the body ends first. */
  CHECK_STATUS(BODY(&err, 0x02, 0x40), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "unexpected end of function body");
  /* Bytes after the final end (the body size lies upwards). */
  CHECK_STATUS(BODY(&err, 0x0b), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "after the end of the function body");
  /* Body size larger than the code section. */
  const uint8_t body_past[] = {HDR,  TYPE_FUNC0, FUNC1, 0x0a, 0x04,
                               0x01, 0x09,       0x00,  0x0b};
  CHECK_STATUS(PARSE(body_past, &err), WUDF_ERR_MALFORMED, &err);
  /* memory.init / data.drop need a data count section. */
  CHECK_STATUS(BODY_MEM(&err, 0xfc, 0x09, 0x00), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "data count section");
}

/* Code section with one body declaring `locals` i32 locals (LEB of 3 bytes)
 * in one group, and one i64 in a second group. */
static wudf_status parse_locals(uint32_t locals, wudf_error *err) {
  uint8_t m[] = {HDR,
                 TYPE_FUNC0,
                 FUNC1,
                 0x0a,
                 0x0a,
                 0x01,
                 0x08,
                 0x02,
                 (uint8_t)(0x80 | (locals & 0x7f)),
                 (uint8_t)(0x80 | ((locals >> 7) & 0x7f)),
                 (uint8_t)(locals >> 14),
                 0x7f,
                 0x01,
                 0x7e,
                 0x0b};
  return PARSE(m, err);
}

TEST(reader_local_counts) {
  wudf_error err;
  CHECK_STATUS(parse_locals(49999, &err), WUDF_OK, &err);
  CHECK_STATUS(parse_locals(50000, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "too many locals");
  CHECK_STATUS(parse_locals(0x1fffff, &err), WUDF_ERR_MALFORMED, &err);
  /* Two groups of 2^32-1 locals must not wrap around. */
  const uint8_t wrap[] = {HDR,  TYPE_FUNC0, FUNC1, 0x0a, 0x10, 0x01, 0x0e,
                          0x02, 0xff,       0xff,  0xff, 0xff, 0x0f, 0x7f,
                          0xff, 0xff,       0xff,  0xff, 0x0f, 0x7e, 0x0b};
  CHECK_STATUS(PARSE(wrap, &err), WUDF_ERR_MALFORMED, &err);
}

TEST(reader_section_consistency) {
  wudf_error err;
  const uint8_t no_code[] = {HDR, TYPE_FUNC0, 0x03, 0x03, 0x02, 0x00, 0x00};
  CHECK_STATUS(PARSE(no_code, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "inconsistent");
  const uint8_t no_funcs[] = {HDR, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};
  CHECK_STATUS(PARSE(no_funcs, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t dc_more[] = {HDR,  0x0c, 0x01, 0x03, 0x0b, 0x05,
                             0x02, 0x01, 0x00, 0x01, 0x00};
  CHECK_STATUS(PARSE(dc_more, &err), WUDF_ERR_MALFORMED, &err);
  CHECK_CONTAINS(err.message, "data count");
  const uint8_t dc_no_data[] = {HDR, 0x0c, 0x01, 0x01};
  CHECK_STATUS(PARSE(dc_no_data, &err), WUDF_ERR_MALFORMED, &err);
  const uint8_t dc_ok[] = {HDR,  0x0c, 0x01, 0x02, 0x0b, 0x05,
                           0x02, 0x01, 0x00, 0x01, 0x00};
  CHECK_STATUS(PARSE(dc_ok, &err), WUDF_OK, &err);
}

TEST(reader_constant_expressions) {
  wudf_error err;
  /* global i32 = i32.const 1 i32.const 2 i32.add: extended-const. */
  const uint8_t ext[] = {HDR,  0x06, 0x09, 0x01, 0x7f, 0x00,
                         0x41, 0x01, 0x41, 0x02, 0x6a, 0x0b};
  CHECK_STATUS(PARSE(ext, &err), WUDF_ERR_UNSUPPORTED, &err);
  CHECK_CONTAINS(err.message, "extended-const");
  /* global i32 = nop: not a constant instruction. */
  const uint8_t nop[] = {HDR, 0x06, 0x06, 0x01, 0x7f, 0x00, 0x01, 0x41, 0x0b};
  CHECK_STATUS(PARSE(nop, &err), WUDF_ERR_INVALID, &err);
  /* Missing end. */
  const uint8_t no_end[] = {HDR, 0x06, 0x04, 0x01, 0x7f, 0x00, 0x41};
  CHECK_STATUS(PARSE(no_end, &err), WUDF_ERR_MALFORMED, &err);
  /* Element segment expression with an unknown opcode. */
  const uint8_t elem[] = {HDR, 0x09, 0x06, 0x01, 0x05, 0x70, 0x01, 0xf3, 0x0b};
  CHECK_STATUS(PARSE(elem, &err), WUDF_ERR_MALFORMED, &err);
}

TEST(reader_invalid_indices) {
  wudf_error err;
  const uint8_t type_idx[] = {HDR, TYPE_FUNC0, 0x03, 0x02, 0x01, 0x01};
  CHECK_STATUS(PARSE(type_idx, &err), WUDF_ERR_INVALID, &err);
  const uint8_t export_idx[] = {HDR, 0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00};
  CHECK_STATUS(PARSE(export_idx, &err), WUDF_ERR_INVALID, &err);
  CHECK_CONTAINS(err.message, "function 0");
  const uint8_t dup_export[] = {HDR,  TYPE_FUNC0, FUNC1, 0x07, 0x09, 0x02, 0x01,
                                'f',  0x00,       0x00,  0x01, 'f',  0x00, 0x00,
                                0x0a, 0x04,       0x01,  0x02, 0x00, 0x0b};
  CHECK_STATUS(PARSE(dup_export, &err), WUDF_ERR_INVALID, &err);
  CHECK_CONTAINS(err.message, "duplicate export name \"f\"");
  const uint8_t start[] = {HDR, 0x08, 0x01, 0x00};
  CHECK_STATUS(PARSE(start, &err), WUDF_ERR_INVALID, &err);
}

/* ---- limits -------------------------------------------------------------- */

TEST(reader_limits) {
  size_t len;
  uint8_t *m =
      wat("(module (import \"m\" \"f\" (func)) (func) (func)\n"
          "  (table 5 1000 funcref) (memory 2 65536))",
          "", &len);
  CHECK(m);
  wudf_error err;
  wudf_wasm_parse_limits lim = {.max_functions = 2};
  wudf_status st = parse_lim(m, len, &lim, &err);
  char msg[sizeof err.message];
  memcpy(msg, err.message, sizeof msg);
  lim = (wudf_wasm_parse_limits){3, 5, 2}; /* exactly at every limit */
  wudf_status st_at = parse_lim(m, len, &lim, &err);
  lim = (wudf_wasm_parse_limits){.max_table_elements = 4};
  wudf_status st_table = parse_lim(m, len, &lim, &err);
  free(m);
  CHECK_STATUS(st, WUDF_ERR_LIMIT, &err);
  CHECK_CONTAINS(msg, "3 functions");
  CHECK_CONTAINS(msg, "limit is 2");
  CHECK_STATUS(st_at, WUDF_OK, &err);
  CHECK_STATUS(st_table, WUDF_ERR_LIMIT, &err);
  CHECK_CONTAINS(err.message, "table 0 starts with 5 elements");
  CHECK_CONTAINS(err.message, "limit is 4");
  const uint8_t mem[] = {HDR, 0x05, 0x04, 0x01, 0x01, 0x03, 0x04};
  lim = (wudf_wasm_parse_limits){.max_memory_pages = 2};
  CHECK_STATUS(parse_lim(mem, sizeof mem, &lim, &err), WUDF_ERR_LIMIT, &err);
  CHECK_CONTAINS(err.message, "memory 0 starts at 3 pages");
  /* Imported memories and functions are checked as the imports come. */
  const uint8_t imem[] = {HDR, 0x02, 0x06, 0x01, 0x00, 0x00, 0x02, 0x00, 0x03};
  CHECK_STATUS(parse_lim(imem, sizeof imem, &lim, &err), WUDF_ERR_LIMIT, &err);
  const uint8_t ifuncs[] = {HDR,  TYPE_FUNC0, 0x02, 0x0d, 0x03, 0x00,
                            0x00, 0x00,       0x00, 0x00, 0x00, 0x00,
                            0x00, 0x00,       0x00, 0x00, 0x00};
  lim = (wudf_wasm_parse_limits){.max_functions = 2};
  CHECK_STATUS(parse_lim(ifuncs, sizeof ifuncs, &lim, &err), WUDF_ERR_LIMIT,
               &err);
  lim.max_functions = 3;
  CHECK_STATUS(parse_lim(ifuncs, sizeof ifuncs, &lim, &err), WUDF_OK, &err);
}

/* ---- API ----------------------------------------------------------------- */

TEST(reader_api_edges) {
  wudf_error err;
  wudf_wasm_info info = {0};
  CHECK_STATUS(wudf_wasm_parse((const uint8_t[]){HDR}, 8, NULL, NULL, &err),
               WUDF_ERR_ARG, &err);
  CHECK_STATUS(wudf_wasm_parse(NULL, 8, NULL, &info, &err), WUDF_ERR_ARG, &err);
  wudf_wasm_info_reset(&info);
  wudf_wasm_info_reset(NULL);
  CHECK(wudf_wasm_func_type(&info, 0) == NULL);
  CHECK(wudf_wasm_func_type(NULL, 0) == NULL);
  CHECK(strcmp(wudf_wasm_valtype_str(WUDF_WASM_I32), "i32") == 0);
  CHECK(strcmp(wudf_wasm_valtype_str(WUDF_WASM_F64), "f64") == 0);
  CHECK(strcmp(wudf_wasm_valtype_str(WUDF_WASM_EXTERNREF), "externref") == 0);
  CHECK(strcmp(wudf_wasm_valtype_str(0x42), "?") == 0);
  /* err may be NULL. */
  CHECK(wudf_wasm_parse((const uint8_t[]){0}, 1, NULL, &info, NULL) ==
        WUDF_ERR_MALFORMED);
}
