/* Conversions between wudf_val / wudf_valtype and the binary format. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/error.h"

bool wudf_valtype_from_wasm(uint8_t wasm, wudf_valtype *out) {
  switch (wasm) {
    case WUDF_WASM_I32:
      *out = WUDF_I32;
      return true;
    case WUDF_WASM_I64:
      *out = WUDF_I64;
      return true;
    case WUDF_WASM_F32:
      *out = WUDF_F32;
      return true;
    case WUDF_WASM_F64:
      *out = WUDF_F64;
      return true;
    case WUDF_WASM_FUNCREF:
      *out = WUDF_FUNCREF;
      return true;
    case WUDF_WASM_EXTERNREF:
      *out = WUDF_EXTERNREF;
      return true;
    default:
      return false;
  }
}

uint8_t wudf_valtype_to_wasm(wudf_valtype type) {
  switch (type) {
    case WUDF_I32:
      return WUDF_WASM_I32;
    case WUDF_I64:
      return WUDF_WASM_I64;
    case WUDF_F32:
      return WUDF_WASM_F32;
    case WUDF_F64:
      return WUDF_WASM_F64;
    case WUDF_FUNCREF:
      return WUDF_WASM_FUNCREF;
    case WUDF_EXTERNREF:
      return WUDF_WASM_EXTERNREF;
  }
  return 0;
}

static void types_str(const uint8_t *types, uint32_t n, char *buf, size_t size,
                      size_t *pos) {
  for (uint32_t i = 0; i < n && *pos < size; i++) {
    int w = snprintf(buf + *pos, size - *pos, "%s%s", i ? ", " : "",
                     wudf_wasm_valtype_str(types[i]));
    if (w < 0) return;
    *pos += (size_t)w;
  }
}

void wudf_functype_str(const wudf_wasm_functype *ft, char *buf, size_t size) {
  size_t pos = 0;
  if (!size) return;
  buf[0] = '\0';
  pos += (size_t)snprintf(buf, size, "(");
  types_str(ft->types, ft->nparams, buf, size, &pos);
  if (pos < size) pos += (size_t)snprintf(buf + pos, size - pos, ") -> (");
  types_str(ft->types + ft->nparams, ft->nresults, buf, size, &pos);
  if (pos < size) snprintf(buf + pos, size - pos, ")");
}

wudf_status wudf_val_to_shim(const wudf_val *in, uint8_t wasm_type,
                             wudf_shim_val *out, wudf_error *err) {
  memset(out, 0, sizeof *out);
  if (wudf_valtype_to_wasm(in->type) != wasm_type)
    return wudf_fail(err, WUDF_ERR_TYPE, "expected %s, got %s",
                     wudf_wasm_valtype_str(wasm_type),
                     wudf_valtype_str(in->type));
  switch (in->type) {
    case WUDF_I32:
      out->i32 = (uint32_t)in->of.i32;
      break;
    case WUDF_I64:
      out->i64 = (uint64_t)in->of.i64;
      break;
    case WUDF_F32:
      out->f32 = in->of.f32;
      break;
    case WUDF_F64:
      out->f64 = in->of.f64;
      break;
    case WUDF_EXTERNREF:
      out->externref = in->of.ref;
      break;
    case WUDF_FUNCREF:
      /* Function references cannot be made from outside a module. */
      if (in->of.ref)
        return wudf_fail(err, WUDF_ERR_TYPE,
                         "only a null funcref can be passed in");
      out->funcref = wasm_rt_funcref_null_value;
      break;
  }
  return WUDF_OK;
}

void wudf_val_from_shim(const wudf_shim_val *in, uint8_t wasm_type,
                        wudf_val *out) {
  memset(out, 0, sizeof *out);
  wudf_valtype_from_wasm(wasm_type, &out->type);
  switch (out->type) {
    case WUDF_I32:
      out->of.i32 = (int32_t)in->i32;
      break;
    case WUDF_I64:
      out->of.i64 = (int64_t)in->i64;
      break;
    case WUDF_F32:
      out->of.f32 = in->f32;
      break;
    case WUDF_F64:
      out->of.f64 = in->f64;
      break;
    case WUDF_EXTERNREF:
      out->of.ref = in->externref;
      break;
    case WUDF_FUNCREF:
      /* An opaque, non-NULL handle for a non-null reference. */
      out->of.ref = (void *)(uintptr_t)in->funcref.func;
      break;
  }
}

size_t wudf_shim_val_size(uint8_t wasm_type) {
  switch (wasm_type) {
    case WUDF_WASM_I32:
    case WUDF_WASM_F32:
      return 4;
    case WUDF_WASM_FUNCREF:
      return sizeof(wasm_rt_funcref_t);
    case WUDF_WASM_EXTERNREF:
      return sizeof(wasm_rt_externref_t);
    default:
      return 8;
  }
}
