/* Primitive decoders of the binary format: bytes, LEB128, names, types. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "load/load_internal.h"

wudf_status wudf_load_fail(const wudf_load_ctx *ctx, size_t at,
                           wudf_status status, const char *fmt, ...) {
  char msg[WUDF_ERROR_MESSAGE_SIZE];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (ctx->where && ctx->in_func)
    return wudf_fail(ctx->err, status,
                     "at byte 0x%zx (%s, function %" PRIu32 "): %s", at,
                     ctx->where, ctx->func, msg);
  if (ctx->where)
    return wudf_fail(ctx->err, status, "at byte 0x%zx (%s): %s", at, ctx->where,
                     msg);
  return wudf_fail(ctx->err, status, "at byte 0x%zx: %s", at, msg);
}

static wudf_status unexpected_end(const wudf_load_ctx *ctx) {
  return wudf_load_fail(
      ctx, ctx->pos, WUDF_ERR_MALFORMED,
      ctx->in_func ? "unexpected end of function body" : "unexpected end");
}

wudf_status wudf_load_byte(wudf_load_ctx *ctx, uint8_t *out) {
  if (ctx->pos >= ctx->end) return unexpected_end(ctx);
  *out = ctx->bytes[ctx->pos++];
  return WUDF_OK;
}

wudf_status wudf_load_skip(wudf_load_ctx *ctx, size_t n) {
  if (n > wudf_load_left(ctx)) return unexpected_end(ctx);
  ctx->pos += n;
  return WUDF_OK;
}

/* Checks the last byte an LEB128 of `bits` bits may have: it holds
 * `used` value bits; the bits above them must be zero (unsigned) or copies
 * of the sign bit (signed). */
static bool last_byte_ok(uint8_t b, unsigned used, bool is_signed) {
  unsigned rest = (unsigned)(b & 0x7f) >> (is_signed ? used - 1 : used);
  if (!is_signed) return rest == 0;
  return rest == 0 || rest == (0x7fu >> (used - 1));
}

static wudf_status read_leb(wudf_load_ctx *ctx, unsigned bits, bool is_signed,
                            uint64_t *out) {
  size_t start = ctx->pos;
  unsigned max_bytes = (bits + 6) / 7;
  uint64_t value = 0;
  unsigned shift = 0;
  uint8_t b = 0;
  for (unsigned i = 0; i < max_bytes; i++) {
    if (ctx->pos >= ctx->end) return unexpected_end(ctx);
    b = ctx->bytes[ctx->pos++];
    value |= (uint64_t)(b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
    if (i + 1 == max_bytes)
      return wudf_load_fail(ctx, start, WUDF_ERR_MALFORMED,
                            "integer representation too long (more than %u "
                            "bytes for a %u-bit LEB128)",
                            max_bytes, bits);
  }
  if (shift == 7 * max_bytes &&
      !last_byte_ok(b, bits - 7 * (max_bytes - 1), is_signed))
    return wudf_load_fail(ctx, start, WUDF_ERR_MALFORMED,
                          "integer too large for a %u-bit LEB128", bits);
  if (is_signed && shift < 64 && (b & 0x40)) value |= ~UINT64_C(0) << shift;
  *out = value;
  return WUDF_OK;
}

wudf_status wudf_load_u32(wudf_load_ctx *ctx, uint32_t *out) {
  uint64_t v;
  wudf_status st = read_leb(ctx, 32, false, &v);
  if (st == WUDF_OK) *out = (uint32_t)v;
  return st;
}

wudf_status wudf_load_s32(wudf_load_ctx *ctx, int32_t *out) {
  uint64_t v;
  wudf_status st = read_leb(ctx, 32, true, &v);
  if (st == WUDF_OK) *out = (int32_t)(int64_t)v;
  return st;
}

wudf_status wudf_load_s33(wudf_load_ctx *ctx, int64_t *out) {
  uint64_t v;
  wudf_status st = read_leb(ctx, 33, true, &v);
  if (st == WUDF_OK) *out = (int64_t)v;
  return st;
}

wudf_status wudf_load_s64(wudf_load_ctx *ctx, int64_t *out) {
  uint64_t v;
  wudf_status st = read_leb(ctx, 64, true, &v);
  if (st == WUDF_OK) *out = (int64_t)v;
  return st;
}

wudf_status wudf_load_count(wudf_load_ctx *ctx, size_t min_size,
                            const char *what, uint32_t *out) {
  size_t at = ctx->pos;
  uint32_t n;
  wudf_status st = wudf_load_u32(ctx, &n);
  if (st != WUDF_OK) return st;
  if (n > wudf_load_left(ctx) / min_size)
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "%" PRIu32
                          " %s declared but only %zu bytes are "
                          "left",
                          n, what, wudf_load_left(ctx));
  *out = n;
  return WUDF_OK;
}

/* Length of the UTF-8 sequence starting with `b`, and the smallest code
 * point it may encode (anything smaller is an overlong form). */
static size_t utf8_seq_len(uint8_t b, uint32_t *min_cp) {
  if (b < 0x80) return *min_cp = 0, 1;
  if (b >= 0xc2 && b <= 0xdf) return *min_cp = 0x80, 2;
  if (b >= 0xe0 && b <= 0xef) return *min_cp = 0x800, 3;
  if (b >= 0xf0 && b <= 0xf4) return *min_cp = 0x10000, 4;
  return 0;
}

bool wudf_load_utf8_valid(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint32_t min_cp;
    size_t len = utf8_seq_len(p[i], &min_cp);
    if (len == 0 || len > n - i) return false;
    uint32_t cp = len == 1 ? p[i] : (uint32_t)(p[i] & (0x7f >> len));
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (uint32_t)(p[i + k] & 0x3f);
    }
    if (cp < min_cp || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

wudf_status wudf_load_name(wudf_load_ctx *ctx, wudf_wasm_name *out) {
  size_t at = ctx->pos;
  uint32_t len;
  wudf_status st = wudf_load_u32(ctx, &len);
  if (st != WUDF_OK) return st;
  if (len > wudf_load_left(ctx))
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "name of %" PRIu32
                          " bytes but only %zu bytes are "
                          "left",
                          len, wudf_load_left(ctx));
  const uint8_t *p = ctx->bytes + ctx->pos;
  if (!wudf_load_utf8_valid(p, len))
    return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                          "name is not valid UTF-8");
  ctx->pos += len;
  if (!out) return WUDF_OK;
  out->str = wudf_malloc((size_t)len + 1);
  if (!out->str)
    return wudf_load_fail(ctx, at, WUDF_ERR_NOMEM,
                          "out of memory copying a name");
  memcpy(out->str, p, len);
  out->str[len] = '\0';
  out->len = len;
  return WUDF_OK;
}

/* Reference and heap type bytes of later proposals, so that modules using
 * them are told which feature is missing rather than "malformed". */
static const char *ref_proposal(uint8_t type) {
  switch (type) {
    case 0x63:
    case 0x64:
      return "typed function references";
    case 0x6a:
    case 0x6b:
    case 0x6c:
    case 0x6d:
    case 0x6e:
    case 0x71:
    case 0x72:
    case 0x73:
      return "GC";
    case 0x69:
    case 0x74:
      return "exception handling (exnref)";
    default:
      return NULL;
  }
}

wudf_status wudf_load_check_valtype(const wudf_load_ctx *ctx, size_t at,
                                    uint8_t type, const char *what) {
  switch (type) {
    case WUDF_WASM_I32:
    case WUDF_WASM_I64:
    case WUDF_WASM_F32:
    case WUDF_WASM_F64:
    case WUDF_WASM_FUNCREF:
    case WUDF_WASM_EXTERNREF:
      return WUDF_OK;
    case WUDF_WASM_V128:
      return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                            "v128 %s (SIMD) is not supported: wasm2c 1.0.32 "
                            "cannot translate SIMD; compile without "
                            "-msimd128",
                            what);
    default:
      break;
  }
  const char *proposal = ref_proposal(type);
  if (proposal)
    return wudf_load_fail(ctx, at, WUDF_ERR_UNSUPPORTED,
                          "%s of reference type 0x%02x (%s proposal) is not "
                          "supported",
                          what, type, proposal);
  return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                        "malformed value type 0x%02x for a %s", type, what);
}

wudf_status wudf_load_valtype(wudf_load_ctx *ctx, const char *what,
                              uint8_t *out) {
  size_t at = ctx->pos;
  wudf_status st = wudf_load_byte(ctx, out);
  if (st != WUDF_OK) return st;
  return wudf_load_check_valtype(ctx, at, *out, what);
}

wudf_status wudf_load_reftype(wudf_load_ctx *ctx, const char *what,
                              uint8_t *out) {
  size_t at = ctx->pos;
  wudf_status st = wudf_load_byte(ctx, out);
  if (st != WUDF_OK) return st;
  if (*out == WUDF_WASM_FUNCREF || *out == WUDF_WASM_EXTERNREF) return WUDF_OK;
  if (ref_proposal(*out)) return wudf_load_check_valtype(ctx, at, *out, what);
  return wudf_load_fail(ctx, at, WUDF_ERR_MALFORMED,
                        "malformed reference type 0x%02x for a %s", *out, what);
}
