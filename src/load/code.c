/* Instruction decoder: reads every instruction with its immediates, so that
 * the opcodes of unsupported proposals are found wherever they are, and
 * checks block structure (else inside if, every block ended). */
#include <inttypes.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "load/load_internal.h"

enum {
  OP_BLOCK = 0x02,
  OP_LOOP = 0x03,
  OP_IF = 0x04,
  OP_ELSE = 0x05,
  OP_END = 0x0b,
  OP_GLOBAL_GET = 0x23,
  OP_I32_CONST = 0x41,
  OP_I64_CONST = 0x42,
  OP_F32_CONST = 0x43,
  OP_F64_CONST = 0x44,
  OP_REF_NULL = 0xd0,
  OP_REF_FUNC = 0xd2,
  OP_PREFIX_GC = 0xfb,
  OP_PREFIX_MISC = 0xfc,
  OP_PREFIX_SIMD = 0xfd,
  OP_PREFIX_ATOMIC = 0xfe,
};

/* Kinds of open blocks. */
enum { FRAME_FUNC, FRAME_BLOCK, FRAME_IF, FRAME_ELSE };

void wudf_load_code_free(wudf_load_code *code) {
  wudf_free(code->frames);
  *code = (wudf_load_code){0};
}

static wudf_status push_frame(wudf_load_ctx *ctx, wudf_load_code *code,
                              uint8_t kind) {
  if (code->depth == code->cap) {
    /* Each block takes at least two bytes, so depth stays below the module
     * size and the doubling cannot overflow before allocation fails. */
    uint32_t cap = code->cap ? code->cap * 2 : 64;
    if (cap < code->cap) cap = UINT32_MAX;
    uint8_t *frames = wudf_realloc(code->frames, cap);
    if (!frames)
      return wudf_load_fail(ctx, ctx->pos, WUDF_ERR_NOMEM,
                            "out of memory for %" PRIu32 " nested blocks",
                            code->depth);
    code->frames = frames;
    code->cap = cap;
  }
  code->frames[code->depth++] = kind;
  if (code->depth - 1 > code->max_depth) code->max_depth = code->depth - 1;
  return WUDF_OK;
}

/* ---- unsupported proposals ---------------------------------------------- */

typedef struct op_feature {
  uint8_t op;
  const char *name, *feature, *advice;
} op_feature;

static const char k_eh_advice[] =
    "wudf does not support the exception-handling proposal; compile without "
    "-fwasm-exceptions";
static const char k_tail_advice[] =
    "wasm2c 1.0.32 cannot translate tail calls; compile without -mtail-call";
static const char k_gc_advice[] =
    "wudf does not support the GC and typed function-references proposals";

static const op_feature k_op_features[] = {
    {0x06, "try", "exception-handling", k_eh_advice},
    {0x07, "catch", "exception-handling", k_eh_advice},
    {0x08, "throw", "exception-handling", k_eh_advice},
    {0x09, "rethrow", "exception-handling", k_eh_advice},
    {0x0a, "throw_ref", "exception-handling", k_eh_advice},
    {0x18, "delegate", "exception-handling", k_eh_advice},
    {0x19, "catch_all", "exception-handling", k_eh_advice},
    {0x1f, "try_table", "exception-handling", k_eh_advice},
    {0x12, "return_call", "tail-call", k_tail_advice},
    {0x13, "return_call_indirect", "tail-call", k_tail_advice},
    {0x14, "call_ref", "function-references", k_gc_advice},
    {0x15, "return_call_ref", "function-references", k_gc_advice},
    {0xd3, "ref.as_non_null", "function-references", k_gc_advice},
    {0xd4, "br_on_null", "function-references", k_gc_advice},
    {0xd5, "ref.eq", "GC", k_gc_advice},
    {0xd6, "br_on_non_null", "function-references", k_gc_advice},
    {OP_PREFIX_GC, "0xfb-prefixed", "GC", k_gc_advice},
};

/* Fails for the opcodes of proposals wudf does not run; WUDF_OK for any
 * other opcode. */
static wudf_status unsupported_op(const wudf_load_ctx *ctx, size_t at,
                                  uint8_t op) {
  if (op == OP_PREFIX_SIMD)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "SIMD instruction (0xfd prefix) is not supported: "
                          "wasm2c 1.0.32 cannot translate SIMD; compile "
                          "without -msimd128");
  if (op == OP_PREFIX_ATOMIC)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "atomic instruction (0xfe prefix, threads proposal) "
                          "is not supported: wudf runs modules without shared "
                          "memory; compile without -pthread and -matomics");
  for (size_t i = 0; i < sizeof k_op_features / sizeof k_op_features[0]; i++) {
    const op_feature *f = &k_op_features[i];
    if (f->op == op)
      return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                            "%s instruction %s (0x%02x) is not supported: %s",
                            f->feature, f->name, op, f->advice);
  }
  return WUDF_OK;
}

/* ---- immediates ---------------------------------------------------------- */

/* A memory index where MVP has a reserved zero byte: another index is
 * multi-memory; a zero spelled in more than one byte is malformed. */
static wudf_status read_memidx(wudf_load_ctx *ctx) {
  size_t at = ctx->pos;
  uint32_t idx;
  wudf_status st = wudf_load_u32(ctx, &idx);
  if (st != WUDF_OK) return st;
  if (idx != 0)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "memory index %" PRIu32
                          " (multi-memory) is not "
                          "supported: wudf supports one memory",
                          idx);
  if (ctx->pos - at != 1)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "zero byte expected for the memory index");
  return WUDF_OK;
}

static wudf_status read_memarg(wudf_load_ctx *ctx) {
  size_t at = ctx->pos;
  uint32_t align, offset;
  wudf_status st = wudf_load_u32(ctx, &align);
  if (st != WUDF_OK) return st;
  /* Bit 6 of the alignment announces a memory index (multi-memory); no
   * valid single-memory alignment has it. */
  if (align & 0x40)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "memory access with an explicit memory index "
                          "(multi-memory) is not supported: wudf supports "
                          "one memory");
  return wudf_load_u32(ctx, &offset);
}

static wudf_status read_u32s(wudf_load_ctx *ctx, uint32_t n) {
  uint32_t v;
  for (uint32_t i = 0; i < n; i++) {
    wudf_status st = wudf_load_u32(ctx, &v);
    if (st != WUDF_OK) return st;
  }
  return WUDF_OK;
}

/* Block type: empty (0x40), one value type, or a type index as s33. */
static wudf_status read_blocktype(wudf_load_ctx *ctx) {
  size_t at = ctx->pos;
  if (ctx->pos >= ctx->end) return wudf_load_skip(ctx, 1);
  uint8_t b = ctx->bytes[ctx->pos];
  if (b == 0x40) return wudf_load_skip(ctx, 1);
  if (b >= 0x40 && b < 0x80) {
    ctx->pos++;
    return wudf_load_check_valtype(ctx, at, b, "block type");
  }
  int64_t idx;
  wudf_status st = wudf_load_s33(ctx, &idx);
  if (st != WUDF_OK) return st;
  if (idx < 0)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "malformed block type %" PRId64, idx);
  return WUDF_OK;
}

/* ref.null's immediate: a reference type; the heap types of later
 * proposals (abstract ones, or a type index) are unsupported. */
static wudf_status read_heaptype(wudf_load_ctx *ctx) {
  size_t at = ctx->pos;
  if (ctx->pos < ctx->end && ctx->bytes[ctx->pos] < 0x40)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "ref.null of a type index (typed function-"
                          "references proposal) is not supported");
  uint8_t t;
  return wudf_load_reftype(ctx, "ref.null", &t);
}

static wudf_status read_br_table(wudf_load_ctx *ctx) {
  uint32_t n;
  wudf_status st = wudf_load_count(ctx, 1, "br_table labels", &n);
  if (st != WUDF_OK) return st;
  st = read_u32s(ctx, n); /* the labels, then the default */
  return st == WUDF_OK ? read_u32s(ctx, 1) : st;
}

static wudf_status read_select_types(wudf_load_ctx *ctx) {
  uint32_t n;
  uint8_t t;
  wudf_status st = wudf_load_count(ctx, 1, "select types", &n);
  for (uint32_t i = 0; st == WUDF_OK && i < n; i++)
    st = wudf_load_valtype(ctx, "select operand", &t);
  return st;
}

/* 0xfc sub-opcodes: saturating truncation, bulk memory, table ops. */
static wudf_status read_misc(wudf_load_ctx *ctx, wudf_load_code *code,
                             size_t at) {
  uint32_t sub;
  wudf_status st = wudf_load_u32(ctx, &sub);
  if (st != WUDF_OK) return st;
  if (sub <= 7) return WUDF_OK;
  if ((sub == 8 || sub == 9) && !code->has_data_count)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "%s needs a data count section",
                          sub == 8 ? "memory.init" : "data.drop");
  switch (sub) {
    case 8:
      st = read_u32s(ctx, 1);
      return st == WUDF_OK ? read_memidx(ctx) : st;
    case 10:
      st = read_memidx(ctx);
      return st == WUDF_OK ? read_memidx(ctx) : st;
    case 11:
      return read_memidx(ctx);
    case 12:
    case 14:
      return read_u32s(ctx, 2);
    case 9:
    case 13:
    case 15:
    case 16:
    case 17:
      return read_u32s(ctx, 1);
    default:
      return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                            "unknown instruction 0xfc %" PRIu32, sub);
  }
}

/* ---- instructions -------------------------------------------------------- */

static wudf_status read_else(wudf_load_ctx *ctx, wudf_load_code *code,
                             size_t at) {
  if (code->frames[code->depth - 1] != FRAME_IF)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "else without a matching if");
  code->frames[code->depth - 1] = FRAME_ELSE;
  return WUDF_OK;
}

static wudf_status open_block(wudf_load_ctx *ctx, wudf_load_code *code,
                              uint8_t kind) {
  wudf_status st = push_frame(ctx, code, kind);
  return st == WUDF_OK ? read_blocktype(ctx) : st;
}

/* Reads one instruction and its immediates; *op_out is its first byte. */
static wudf_status decode_instr(wudf_load_ctx *ctx, wudf_load_code *code,
                                uint8_t *op_out) {
  size_t at = ctx->pos;
  uint8_t op;
  wudf_status st = wudf_load_byte(ctx, &op);
  if (st != WUDF_OK) return st;
  *op_out = op;
  if (op >= 0x28 && op <= 0x3e) return read_memarg(ctx);
  if (op >= 0x45 && op <= 0xc4) return WUDF_OK; /* numeric, no immediate */
  switch (op) {
    case 0x00:
    case 0x01:
    case 0x0f:
    case 0x1a:
    case 0x1b:
    case 0xd1:
      return WUDF_OK;
    case OP_BLOCK:
    case OP_LOOP:
      return open_block(ctx, code, FRAME_BLOCK);
    case OP_IF:
      return open_block(ctx, code, FRAME_IF);
    case OP_ELSE:
      return read_else(ctx, code, at);
    case OP_END:
      code->depth--;
      return WUDF_OK;
    case 0x0c:
    case 0x0d:
    case 0x10:
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case OP_REF_FUNC:
      return read_u32s(ctx, 1);
    case 0x0e:
      return read_br_table(ctx);
    case 0x11:
      return read_u32s(ctx, 2); /* type index, table index */
    case 0x1c:
      return read_select_types(ctx);
    case 0x3f:
    case 0x40:
      return read_memidx(ctx);
    case OP_I32_CONST: {
      int32_t v;
      return wudf_load_s32(ctx, &v);
    }
    case OP_I64_CONST: {
      int64_t v;
      return wudf_load_s64(ctx, &v);
    }
    case OP_F32_CONST:
      return wudf_load_skip(ctx, 4);
    case OP_F64_CONST:
      return wudf_load_skip(ctx, 8);
    case OP_REF_NULL:
      return read_heaptype(ctx);
    case OP_PREFIX_MISC:
      return read_misc(ctx, code, at);
    default:
      break;
  }
  st = unsupported_op(ctx, at, op);
  if (st != WUDF_OK) return st;
  return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED, "unknown opcode 0x%02x",
                        op);
}

wudf_status wudf_load_body(wudf_load_ctx *ctx, wudf_load_code *code) {
  uint8_t op;
  code->depth = 0;
  wudf_status st = push_frame(ctx, code, FRAME_FUNC);
  while (st == WUDF_OK && code->depth > 0) st = decode_instr(ctx, code, &op);
  return st;
}

static bool is_const_op(uint8_t op) {
  return op == OP_END || op == OP_I32_CONST || op == OP_I64_CONST ||
         op == OP_F32_CONST || op == OP_F64_CONST || op == OP_REF_NULL ||
         op == OP_REF_FUNC || op == OP_GLOBAL_GET;
}

/* i32/i64 add, sub, mul: allowed by the extended-const proposal only. */
static bool is_extended_const_op(uint8_t op) {
  return (op >= 0x6a && op <= 0x6c) || (op >= 0x7c && op <= 0x7e);
}

/* A constant expression must leave exactly one value (wasm2c 1.0.32 accepts
 * an empty one and then writes C that does not compile). */
wudf_status wudf_load_const_expr(wudf_load_ctx *ctx, wudf_load_code *code) {
  uint8_t op;
  code->depth = 0;
  uint32_t saved_max = code->max_depth, values = 0;
  size_t start = ctx->pos;
  wudf_status st = push_frame(ctx, code, FRAME_FUNC);
  while (st == WUDF_OK && code->depth > 0) {
    size_t at = ctx->pos;
    st = decode_instr(ctx, code, &op);
    if (st == WUDF_OK && is_const_op(op) && op != OP_END) values++;
    if (st != WUDF_OK || is_const_op(op)) continue;
    if (is_extended_const_op(op))
      st = wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "arithmetic in a constant expression (extended-"
                          "const proposal) is not supported");
    else
      st = wudf_load_fail(ctx, at, WUDF_ERR_INVALID,
                          "instruction 0x%02x is not allowed in a constant "
                          "expression",
                          op);
  }
  code->max_depth = saved_max; /* blocks are refused here anyway */
  if (st == WUDF_OK && values != 1)
    st = wudf_load_fail(ctx, start, WUDF_ERR_INVALID,
                        "constant expression produces %u values, not one",
                        values);
  return st;
}
