/* Internal interface of the columnar batch layer (src/batch/): checking and
 * reading the Arrow arrays callers pass in, producing Arrow arrays, and UDF
 * signatures. The public side is in include/wudf.h. */
#ifndef WUDF_BATCH_INTERNAL_H
#define WUDF_BATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wudf.h"

/* Most UDFs one wudf.udfs section may declare (each must be an exported
 * function, and modules have at most 50,000 functions by default). */
#define WUDF_BATCH_MAX_UDFS 50000

/* ---- Reading input columns ---------------------------------------------- */

typedef struct wudf_column {
  wudf_type type;
  int64_t length; /* rows */
  int64_t offset; /* the array's offset, applied by the accessors below */
  /* NULL when the array has no nulls (null_count == 0) */
  const uint8_t *validity;
  /* buffers[1] as given (fixed width, bool bitmap, utf8 and large_utf8
   * offsets, utf8_view views) */
  const void *values;
  const uint8_t *data; /* utf8, large_utf8: buffers[2] */
  /* utf8_view: the variadic data buffers (buffers[2 ..]) */
  const void *const *variadic;
  int64_t nvariadic;
  /* schema name, or "column N" (1-based) when empty/NULL */
  char name[64];
} wudf_column;

/* Whether `type` holds strings: utf8, large_utf8 or utf8_view. */
static inline bool wudf_type_is_string(wudf_type type) {
  return type == WUDF_TYPE_UTF8 || type == WUDF_TYPE_LARGE_UTF8 ||
         type == WUDF_TYPE_UTF8_VIEW;
}

/* Validates one input column and describes it. `index` is 0-based, for
   messages. Refuses (WUDF_ERR_ARG/WUDF_ERR_TYPE, naming the column): a released
   array or schema, an unsupported format (name it: "column 'x' has Arrow type
   'tsu' ..."), children or a dictionary, negative length/offset, n_buffers not
   2 (fixed, bool) or 3 (utf8, large_utf8), fewer than 3 (utf8_view: views,
   the variadic data buffers, their int64 sizes), NULL value buffers when
   length > 0, utf8 or large_utf8 offsets that decrease or are negative over
   the rows used (check offsets[offset .. offset+length]), and
   (WUDF_ERR_MALFORMED) a utf8_view view of a non-NULL row used whose length
   is negative or whose bytes lie outside its data buffer (index, offset and
   length checked against the sizes buffer); null_count inconsistent with the
   absence of a validity
   buffer (null_count > 0 but buffers[0] == NULL). null_count -1 (unknown) is
   allowed: then count.
   Also refused: a NULL array or schema, offset + length overflowing, null_count
   below -1 or above length. A utf8 data buffer may be NULL only when the rows
   used hold no bytes; *out then points `data` at a static empty buffer. The
   column borrows the caller's buffers: it is valid while the array is. */
wudf_status wudf_column_from_arrow(const struct ArrowArray *a,
                                   const struct ArrowSchema *s, uint32_t index,
                                   wudf_column *out, wudf_error *err);

/* Row i not NULL. */
static inline bool wudf_column_valid(const wudf_column *c, int64_t i) {
  if (!c->validity) return true;
  int64_t j = c->offset + i;
  return (c->validity[j >> 3] >> (j & 7)) & 1;
}

/* Value of row i (0 <= i < length; NULL rows hold unspecified values). The
 * loads go through memcpy so that unaligned caller buffers are not UB. */
static inline int32_t wudf_column_int32(const wudf_column *c, int64_t i) {
  int32_t v;
  memcpy(&v, (const uint8_t *)c->values + (size_t)(c->offset + i) * 4, 4);
  return v;
}
static inline int64_t wudf_column_int64(const wudf_column *c, int64_t i) {
  int64_t v;
  memcpy(&v, (const uint8_t *)c->values + (size_t)(c->offset + i) * 8, 8);
  return v;
}
static inline float wudf_column_float32(const wudf_column *c, int64_t i) {
  float v;
  memcpy(&v, (const uint8_t *)c->values + (size_t)(c->offset + i) * 4, 4);
  return v;
}
static inline double wudf_column_float64(const wudf_column *c, int64_t i) {
  double v;
  memcpy(&v, (const uint8_t *)c->values + (size_t)(c->offset + i) * 8, 8);
  return v;
}
static inline bool wudf_column_bool(const wudf_column *c, int64_t i) {
  int64_t j = c->offset + i;
  return (((const uint8_t *)c->values)[j >> 3] >> (j & 7)) & 1;
}
/* Bytes of row i of a utf8_view column; a NULL row is empty (its view
 * was not checked). */
static inline const uint8_t *wudf_column_view(const wudf_column *c, int64_t i,
                                              size_t *len) {
  const uint8_t *v = (const uint8_t *)c->values + (size_t)(c->offset + i) * 16;
  int32_t n, index, at;
  memcpy(&n, v, 4);
  if (!wudf_column_valid(c, i) || n <= 0) {
    *len = 0;
    return v + 4;
  }
  *len = (size_t)n;
  if (n <= 12) return v + 4;
  memcpy(&index, v + 8, 4);
  memcpy(&at, v + 12, 4);
  return (const uint8_t *)c->variadic[index] + at;
}

/* Bytes of row i of a string column (not NUL-terminated); *len receives
 * their count. */
static inline const uint8_t *wudf_column_utf8(const wudf_column *c, int64_t i,
                                              size_t *len) {
  const uint8_t *o;
  if (c->type == WUDF_TYPE_UTF8_VIEW) return wudf_column_view(c, i, len);
  if (c->type == WUDF_TYPE_LARGE_UTF8) {
    int64_t lo, hi;
    o = (const uint8_t *)c->values + (size_t)(c->offset + i) * 8;
    memcpy(&lo, o, 8);
    memcpy(&hi, o + 8, 8);
    *len = (size_t)(hi - lo);
    return c->data + lo;
  }
  int32_t lo, hi;
  o = (const uint8_t *)c->values + (size_t)(c->offset + i) * 4;
  memcpy(&lo, o, 4);
  memcpy(&hi, o + 4, 4);
  *len = (size_t)(hi - lo);
  return c->data + lo;
}

/* ---- Producing arrays --------------------------------------------------- */

/* Allocates an output array of fixed-width or bool `type` with `length` rows:
   values zeroed; a validity bitmap (all bits 0) when with_validity. The caller
   writes buffers[0]/buffers[1] (cast away const), then calls
   wudf_arrow_finish_nulls(). The array owns its buffers (release frees them);
   null_count is -1 (unknown) until wudf_arrow_finish_nulls(). Buffers are never
   NULL, even when empty, except buffers[0] without validity. */
wudf_status wudf_arrow_new_fixed(wudf_type type, int64_t length,
                                 bool with_validity, struct ArrowArray *out,
                                 wudf_error *err);

/* Like wudf_arrow_new_fixed() but the values are not initialised (the caller
   writes every element, every byte of a bitmap), and `validity` (malloc'd,
   may be NULL) becomes buffers[0], owned by the array (freed on failure
   too). null_count is -1 with a validity bitmap, else 0. */
wudf_status wudf_arrow_new_values(wudf_type type, int64_t length,
                                  uint8_t *validity, struct ArrowArray *out,
                                  wudf_error *err);

/* Replaces the validity bitmap of an array made by wudf_arrow_new_fixed() or
   wudf_arrow_new_values() with `validity` (malloc'd, owned from now on):
   null_count becomes -1; or, with NULL, frees the bitmap: no NULLs,
   null_count 0. Other arrays are left alone. */
void wudf_arrow_set_validity(struct ArrowArray *a, uint8_t *validity);

/* Records that `bytes`, already charged to `budget`, are held by buffer i
   of `a`, an array made by wudf: they are credited when that buffer is
   freed (a->release, wudf_arrow_set_validity()). For any other array they
   are credited at once. */
void wudf_arrow_hold_charge(struct ArrowArray *a, int i, wudf_budget *budget,
                            uint64_t bytes);

/* Number of set bits among bits [from, from + n) of `bits`. */
int64_t wudf_bits_count(const uint8_t *bits, int64_t from, int64_t n);

/* Sets null_count from the validity bitmap; frees the bitmap and sets
   buffers[0] = NULL when there are no nulls. (Only arrays from
   wudf_arrow_new_fixed() or wudf_arrow_new_values() have their bitmap freed;
   for others only null_count is set.) */
void wudf_arrow_finish_nulls(struct ArrowArray *a);

/* A schema for `type` (format and name are owned copies; `name` may be NULL,
 * then the schema's name is NULL), flags ARROW_FLAG_NULLABLE when nullable.
 * Release with out->release. */
wudf_status wudf_arrow_schema_new(wudf_type type, const char *name,
                                  bool nullable, struct ArrowSchema *out,
                                  wudf_error *err);

/* Validates UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF). */
bool wudf_utf8_valid(const uint8_t *s, size_t len);

/* For tests: lowers the most utf8 data bytes `b` may hold (default
 * INT32_MAX, the largest int32 offset). */
void wudf_array_builder_set_max_data(wudf_array_builder *b, size_t max);

/* ---- UDF signatures ----------------------------------------------------- */

/* Parses the text of a wudf.udfs custom section: one signature per line; blank
   lines and lines starting with '#' ignored; CRLF accepted. Returns a malloc'd
   array (free()). A bad line -> WUDF_ERR_INVALID "wudf.udfs line 3: ...".
   Duplicate names -> error. Leading spaces or tabs before '#' are allowed. No
   signatures: *out = NULL, *count = 0. More than WUDF_BATCH_MAX_UDFS ->
   WUDF_ERR_LIMIT. On error *out is NULL and *count 0. */
wudf_status wudf_udf_sigs_parse_section(const char *text, size_t len,
                                        wudf_udf_sig **out, uint32_t *count,
                                        wudf_error *err);

/* The WebAssembly function type a signature requires (docs/abi.md): int32->i32,
   int64->i64, float32->f32, float64->f64, bool->i32; a utf8 parameter is two
   i32 (pointer, length); a utf8 result is one i64 ((length << 32) | pointer);
   with sees_nulls, each parameter's value(s) are followed by one i32 is-null
   flag. Writes wasm type bytes (0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64) into
   params[] / *result; returns false if more than `cap` params would be needed
   (or the signature holds an unknown type or more than WUDF_MAX_UDF_PARAMS
   parameters). */
bool wudf_udf_sig_wasm_type(const wudf_udf_sig *sig, uint8_t *params,
                            uint32_t cap, uint32_t *nparams, uint8_t *result);

/* Whether a column of type `column` can be passed to a parameter of type
   `param`: equal, or int32->int64, int32->float64, float32->float64,
   large_utf8 or utf8_view -> utf8. */
bool wudf_type_widens_to(wudf_type column, wudf_type param);

/* wudf_array_builder_append_string() for text the caller has already
 * checked to be valid UTF-8 (b must be a utf8 builder). */
wudf_status wudf_array_builder_append_valid_utf8(wudf_array_builder *b,
                                                 const char *s, size_t len);

/* The wudf type of a numeric WebAssembly value type byte (i32 -> int32,
 * i64 -> int64, f32 -> float32, f64 -> float64); false for others. */
bool wudf_type_from_wasm(uint8_t wasm, wudf_type *out);

/* Arrays whose buffers were malloc'd elsewhere (the CSV reader): an owner
 * is allocated first, so that nothing can fail once buffers are handed
 * over; wudf_arrow_adopt() then makes *out own up to three buffers (NULL
 * allowed), freed with free() by out->release. An owner not adopted is
 * freed with wudf_arrow_owner_free(). */
typedef struct wudf_arrow_owner wudf_arrow_owner;
wudf_arrow_owner *wudf_arrow_owner_new(void);
void wudf_arrow_owner_free(wudf_arrow_owner *o);
void wudf_arrow_adopt(wudf_arrow_owner *o, struct ArrowArray *out,
                      int64_t length, int64_t null_count, int64_t n_buffers,
                      void *validity, void *values, void *data);

#endif
