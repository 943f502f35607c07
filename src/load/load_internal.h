/*
 * Private to src/load: the bounded cursor the reader decodes with, and the
 * instruction decoder shared by function bodies and constant expressions.
 *
 * Every function here that returns a wudf_status has already filled ctx->err
 * with "at byte 0x.. (<where>[, function N]): ..." when it returns non-OK.
 */
#ifndef WUDF_LOAD_INTERNAL_H
#define WUDF_LOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "load/wasm_info.h"

/* Most locals (not counting parameters) one function may declare. */
#define WUDF_LOAD_MAX_LOCALS 50000u

typedef struct wudf_load_ctx {
  const uint8_t *bytes; /* the whole module; offsets are relative to it */
  size_t pos;           /* next byte to read */
  size_t end;           /* end of the region being read (module, section,
                           function body); never beyond the module */
  const char *where;    /* "type section" for messages; NULL in the header */
  bool in_func;         /* inside a function body: messages name `func` */
  uint32_t func;        /* in the function index space (imports first) */
  wudf_error *err;
} wudf_load_ctx;

/* Formats the error at module offset `at` and returns `status`. */
wudf_status wudf_load_fail(const wudf_load_ctx *ctx, size_t at,
                           wudf_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static inline size_t wudf_load_left(const wudf_load_ctx *ctx) {
  return ctx->end - ctx->pos;
}

/* Primitive decoders. All fail with WUDF_ERR_MALFORMED at the end of the
 * current region. LEB128s reject encodings longer than needed for their
 * width ("too long") and set bits beyond it ("too large"); signed ones must
 * sign-extend into the unused bits of their last byte. */
wudf_status wudf_load_byte(wudf_load_ctx *ctx, uint8_t *out);
wudf_status wudf_load_skip(wudf_load_ctx *ctx, size_t n);
wudf_status wudf_load_u32(wudf_load_ctx *ctx, uint32_t *out);
wudf_status wudf_load_s32(wudf_load_ctx *ctx, int32_t *out);
wudf_status wudf_load_s33(wudf_load_ctx *ctx, int64_t *out);
wudf_status wudf_load_s64(wudf_load_ctx *ctx, int64_t *out);

/* Reads a vector length; each element takes at least `min_size` (>= 1)
 * bytes, so a count that cannot fit in the rest of the region is refused
 * before anything is allocated for it. `what` names the elements. */
wudf_status wudf_load_count(wudf_load_ctx *ctx, size_t min_size,
                            const char *what, uint32_t *out);

/* Reads a name (length + UTF-8 bytes). With `out` it is copied into an owned
 * NUL-terminated string; with NULL it is only checked. */
wudf_status wudf_load_name(wudf_load_ctx *ctx, wudf_wasm_name *out);

/* True when p[0..n) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF). */
bool wudf_load_utf8_valid(const uint8_t *p, size_t n);

/* Reads a value type byte. v128 and the GC / function-references /
 * exception reference types are WUDF_ERR_UNSUPPORTED; other bytes
 * WUDF_ERR_MALFORMED. `what` says where it appears ("parameter"). */
wudf_status wudf_load_valtype(wudf_load_ctx *ctx, const char *what,
                              uint8_t *out);
/* Checks an already-read value type byte found at `at`. */
wudf_status wudf_load_check_valtype(const wudf_load_ctx *ctx, size_t at,
                                    uint8_t type, const char *what);
/* Reads funcref or externref; anything else as for wudf_load_valtype. */
wudf_status wudf_load_reftype(wudf_load_ctx *ctx, const char *what,
                              uint8_t *out);

/* Instruction decoder state, reused for every body and expression. */
typedef struct wudf_load_code {
  uint8_t *frames;     /* owned: kind of each open block, innermost last */
  uint32_t depth, cap; /* open blocks (the function's own counts as one) */
  uint32_t max_depth;  /* deepest nesting seen (function's own excluded) */
  bool has_data_count; /* memory.init and data.drop need the section */
} wudf_load_code;

/* Frees the decoder's storage and zeroes it. */
void wudf_load_code_free(wudf_load_code *code);

/* Decodes the instructions of a function body, from ctx->pos up to and
 * including the `end` that closes it; never reads past ctx->end. Raises
 * code->max_depth. Unsupported instructions are WUDF_ERR_UNSUPPORTED. */
wudf_status wudf_load_body(wudf_load_ctx *ctx, wudf_load_code *code);

/* Decodes a constant expression up to its `end`. Instructions other than
 * t.const, ref.null, ref.func and global.get are WUDF_ERR_INVALID (or
 * WUDF_ERR_UNSUPPORTED for proposals wudf does not run). */
wudf_status wudf_load_const_expr(wudf_load_ctx *ctx, wudf_load_code *code);

/* State of one wudf_wasm_parse() call, shared by the section readers. */
typedef struct wudf_load_reader {
  wudf_load_ctx ctx;
  wudf_wasm_info *info;
  wudf_wasm_parse_limits limits; /* zeros when none were given */
  wudf_load_code code;
  uint32_t customs_cap; /* allocated entries of info->customs */
  uint32_t nbodies;     /* entries of the code section */
  uint32_t data_count;  /* value of the data count section */
} wudf_load_reader;

/* Section readers: each reads its section's content, from ctx.pos up to at
 * most ctx.end, into r->info (sections.c, segments.c). */
wudf_status wudf_load_types(wudf_load_reader *r);
wudf_status wudf_load_imports(wudf_load_reader *r);
wudf_status wudf_load_functions(wudf_load_reader *r);
wudf_status wudf_load_tables(wudf_load_reader *r);
wudf_status wudf_load_memories(wudf_load_reader *r);
wudf_status wudf_load_globals(wudf_load_reader *r);
wudf_status wudf_load_exports(wudf_load_reader *r);
wudf_status wudf_load_start(wudf_load_reader *r);
wudf_status wudf_load_elements(wudf_load_reader *r);
wudf_status wudf_load_data_count(wudf_load_reader *r);
wudf_status wudf_load_code_section(wudf_load_reader *r);
wudf_status wudf_load_data(wudf_load_reader *r);

#endif /* WUDF_LOAD_INTERNAL_H */
