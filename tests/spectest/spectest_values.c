/* Values of spec test scripts: parsing, comparing and printing. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spectest.h"

static bool parse_type(const char *s, wudf_valtype *out) {
  static const struct {
    const char *name;
    wudf_valtype type;
  } k_types[] = {
      {"i32", WUDF_I32},         {"i64", WUDF_I64},
      {"f32", WUDF_F32},         {"f64", WUDF_F64},
      {"funcref", WUDF_FUNCREF}, {"externref", WUDF_EXTERNREF},
  };
  for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++) {
    if (strcmp(s, k_types[i].name) == 0) {
      *out = k_types[i].type;
      return true;
    }
  }
  return false;
}

/* Decimal string of an unsigned bit pattern of at most `max`. */
static bool parse_bits(const char *s, uint64_t max, uint64_t *out) {
  if (!s || *s < '0' || *s > '9') return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v > max) return false;
  *out = (uint64_t)v;
  return true;
}

/* Host reference N travels as pointer N + 1; null as NULL. */
static bool parse_ref(const char *s, void **out) {
  uint64_t n;
  if (strcmp(s, "null") == 0) {
    *out = NULL;
    return true;
  }
  if (!parse_bits(s, UINTPTR_MAX - 1, &n)) return false;
  *out = (void *)(uintptr_t)(n + 1);
  return true;
}

static bool parse_number(wudf_valtype type, const char *s, wudf_val *out) {
  uint64_t bits;
  switch (type) {
    case WUDF_I32:
      if (!parse_bits(s, UINT32_MAX, &bits)) return false;
      out->of.i32 = (int32_t)(uint32_t)bits;
      return true;
    case WUDF_I64:
      if (!parse_bits(s, UINT64_MAX, &bits)) return false;
      out->of.i64 = (int64_t)bits;
      return true;
    case WUDF_F32: {
      if (!parse_bits(s, UINT32_MAX, &bits)) return false;
      uint32_t b32 = (uint32_t)bits;
      memcpy(&out->of.f32, &b32, sizeof b32);
      return true;
    }
    case WUDF_F64:
      if (!parse_bits(s, UINT64_MAX, &bits)) return false;
      memcpy(&out->of.f64, &bits, sizeof bits);
      return true;
    case WUDF_FUNCREF:
      /* Scripts can only name the null function reference. */
      if (strcmp(s, "null") != 0) return false;
      out->of.ref = NULL;
      return true;
    case WUDF_EXTERNREF:
      return parse_ref(s, &out->of.ref);
  }
  return false;
}

static bool parse_typed(const json_t *j, wudf_val *out, const char **value,
                        const char **why) {
  const char *type = json_string_value(json_object_get(j, "type"));
  memset(out, 0, sizeof *out);
  if (!type) {
    *why = "value without a type";
    return false;
  }
  if (!parse_type(type, &out->type)) {
    *why = strcmp(type, "v128") == 0 ? "v128 values are not supported"
                                     : "unknown value type";
    return false;
  }
  *value = json_string_value(json_object_get(j, "value"));
  return true;
}

bool spec_parse_val(const json_t *j, wudf_val *out, const char **why) {
  const char *value = NULL;
  if (!parse_typed(j, out, &value, why)) return false;
  if (!value || !parse_number(out->type, value, out)) {
    *why = "value does not parse";
    return false;
  }
  return true;
}

bool spec_parse_expect(const json_t *j, spec_expect *out, const char **why) {
  const char *value = NULL;
  out->kind = SPEC_EXACT;
  if (!parse_typed(j, &out->val, &value, why)) return false;
  bool is_ref =
      out->val.type == WUDF_FUNCREF || out->val.type == WUDF_EXTERNREF;
  bool is_float = out->val.type == WUDF_F32 || out->val.type == WUDF_F64;
  if (!value && is_ref) {
    out->kind = SPEC_REF_NONNULL;
    return true;
  }
  if (value && is_float && strcmp(value, "nan:canonical") == 0) {
    out->kind = SPEC_NAN_CANONICAL;
    return true;
  }
  if (value && is_float && strcmp(value, "nan:arithmetic") == 0) {
    out->kind = SPEC_NAN_ARITHMETIC;
    return true;
  }
  if (!value || !parse_number(out->val.type, value, &out->val)) {
    *why = "expected value does not parse";
    return false;
  }
  return true;
}

static uint32_t f32_bits(float f) {
  uint32_t b;
  memcpy(&b, &f, sizeof b);
  return b;
}

static uint64_t f64_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

/* Canonical NaN: only the quiet bit set in the payload, either sign.
 * Arithmetic NaN: exponent all ones and the quiet bit set. */
static bool nan_matches(spec_expect_kind kind, const wudf_val *got) {
  if (got->type == WUDF_F32) {
    uint32_t b = f32_bits(got->of.f32) & 0x7fffffffu;
    return kind == SPEC_NAN_CANONICAL ? b == 0x7fc00000u
                                      : (b & 0x7fc00000u) == 0x7fc00000u;
  }
  uint64_t b = f64_bits(got->of.f64) & 0x7fffffffffffffffu;
  return kind == SPEC_NAN_CANONICAL
             ? b == 0x7ff8000000000000u
             : (b & 0x7ff8000000000000u) == 0x7ff8000000000000u;
}

bool spec_val_matches(const spec_expect *want, const wudf_val *got) {
  if (want->val.type != got->type) return false;
  switch (want->kind) {
    case SPEC_NAN_CANONICAL:
    case SPEC_NAN_ARITHMETIC:
      return nan_matches(want->kind, got);
    case SPEC_REF_NONNULL:
      return got->of.ref != NULL;
    case SPEC_EXACT:
      break;
  }
  switch (got->type) {
    case WUDF_I32:
      return want->val.of.i32 == got->of.i32;
    case WUDF_I64:
      return want->val.of.i64 == got->of.i64;
    case WUDF_F32:
      return f32_bits(want->val.of.f32) == f32_bits(got->of.f32);
    case WUDF_F64:
      return f64_bits(want->val.of.f64) == f64_bits(got->of.f64);
    case WUDF_FUNCREF:
    case WUDF_EXTERNREF:
      return want->val.of.ref == got->of.ref;
  }
  return false;
}

static void format_ref(const wudf_val *v, char *buf, size_t size) {
  const char *type = wudf_valtype_str(v->type);
  if (!v->of.ref) {
    snprintf(buf, size, "%s:null", type);
  } else if (v->type == WUDF_EXTERNREF) {
    snprintf(buf, size, "%s:%" PRIuPTR, type, (uintptr_t)v->of.ref - 1);
  } else {
    snprintf(buf, size, "%s:%p", type, v->of.ref);
  }
}

void spec_val_format(const wudf_val *v, char *buf, size_t size) {
  switch (v->type) {
    case WUDF_I32:
      snprintf(buf, size, "i32:%" PRIu32 " (%" PRId32 ")", (uint32_t)v->of.i32,
               v->of.i32);
      return;
    case WUDF_I64:
      snprintf(buf, size, "i64:%" PRIu64 " (%" PRId64 ")", (uint64_t)v->of.i64,
               v->of.i64);
      return;
    case WUDF_F32:
      snprintf(buf, size, "f32:0x%08" PRIx32 " (%.9g)", f32_bits(v->of.f32),
               (double)v->of.f32);
      return;
    case WUDF_F64:
      snprintf(buf, size, "f64:0x%016" PRIx64 " (%.17g)", f64_bits(v->of.f64),
               v->of.f64);
      return;
    case WUDF_FUNCREF:
    case WUDF_EXTERNREF:
      format_ref(v, buf, size);
      return;
  }
  snprintf(buf, size, "?");
}

void spec_expect_format(const spec_expect *e, char *buf, size_t size) {
  const char *type = wudf_valtype_str(e->val.type);
  switch (e->kind) {
    case SPEC_NAN_CANONICAL:
      snprintf(buf, size, "%s:nan:canonical", type);
      return;
    case SPEC_NAN_ARITHMETIC:
      snprintf(buf, size, "%s:nan:arithmetic", type);
      return;
    case SPEC_REF_NONNULL:
      snprintf(buf, size, "%s:non-null", type);
      return;
    case SPEC_EXACT:
      spec_val_format(&e->val, buf, size);
      return;
  }
}

bool spec_trap_for_text(const char *text, wudf_status *out) {
  /* Prefixes: scripts sometimes add detail ("uninitialized element 2"). */
  static const struct {
    const char *text;
    wudf_status status;
  } k_traps[] = {
      {"integer divide by zero", WUDF_TRAP_DIV_BY_ZERO},
      {"integer overflow", WUDF_TRAP_INT_OVERFLOW},
      {"invalid conversion to integer", WUDF_TRAP_INVALID_CONVERSION},
      {"unreachable", WUDF_TRAP_UNREACHABLE},
      {"out of bounds memory access", WUDF_TRAP_OOB},
      {"out of bounds table access", WUDF_TRAP_OOB},
      {"undefined element", WUDF_TRAP_UNDEFINED_ELEMENT},
      {"uninitialized element", WUDF_TRAP_UNDEFINED_ELEMENT},
      {"indirect call type mismatch", WUDF_TRAP_INDIRECT_TYPE},
      {"call stack exhausted", WUDF_TRAP_STACK_EXHAUSTED},
  };
  if (!text) return false;
  for (size_t i = 0; i < sizeof k_traps / sizeof k_traps[0]; i++) {
    if (strncmp(text, k_traps[i].text, strlen(k_traps[i].text)) == 0) {
      *out = k_traps[i].status;
      return true;
    }
  }
  return false;
}
