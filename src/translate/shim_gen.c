/* Generates the shim: see shim_abi.h for its contract. */
#include "translate/shim_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

/* Per-type spellings used in generated code. */
typedef struct type_spelling {
  uint8_t type;
  const char *ctype; /* C type of a value */
  const char *field; /* member of wudf_shim_val */
  char multi;        /* letter in wasm2c's struct wasm_multi_* names */
} type_spelling;

static const type_spelling k_types[] = {
    {WUDF_WASM_I32, "u32", "i32", 'i'},
    {WUDF_WASM_I64, "u64", "i64", 'j'},
    {WUDF_WASM_F32, "f32", "f32", 'f'},
    {WUDF_WASM_F64, "f64", "f64", 'd'},
    {WUDF_WASM_FUNCREF, "wasm_rt_funcref_t", "funcref", 'r'},
    {WUDF_WASM_EXTERNREF, "wasm_rt_externref_t", "externref", 'e'},
};

static const type_spelling *spelling(uint8_t type) {
  for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
    if (k_types[i].type == type) return &k_types[i];
  return &k_types[0]; /* the reader admits no other value types */
}

/* Redefines wasm2c's CALL_INDIRECT so that a failed call_indirect reports
 * whether the slot was empty or the type differed (wasm2c has one trap). */
static const char k_call_indirect_override[] =
    "#undef CALL_INDIRECT\n"
    "#define CALL_INDIRECT(table, t, ft, x, ...)                       \\\n"
    "  ((LIKELY((x) < table.size && table.data[x].func &&              \\\n"
    "           table.data[x].func_type == func_types[ft])) ||         \\\n"
    "       (wudf_shim_call_indirect_trap(&table, x, func_types[ft]), 0), \\\n"
    "   ((t)table.data[x].func)(__VA_ARGS__))\n";

/* Copies a string result; short ones (most are) without a call to memcpy,
 * never reading or writing outside [s, s + n) and [d, d + n). */
static const char k_batch_helpers[] =
    "static inline void wudf_shim_copy(uint8_t *d, const uint8_t *s, uint32_t "
    "n) "
    "{\n"
    "  if (n >= 8 && n <= 16) {\n"
    "    uint64_t a, b;\n"
    "    __builtin_memcpy(&a, s, 8);\n"
    "    __builtin_memcpy(&b, s + n - 8, 8);\n"
    "    __builtin_memcpy(d, &a, 8);\n"
    "    __builtin_memcpy(d + n - 8, &b, 8);\n"
    "  } else if (n >= 4 && n < 8) {\n"
    "    uint32_t a, b;\n"
    "    __builtin_memcpy(&a, s, 4);\n"
    "    __builtin_memcpy(&b, s + n - 4, 4);\n"
    "    __builtin_memcpy(d, &a, 4);\n"
    "    __builtin_memcpy(d + n - 4, &b, 4);\n"
    "  } else if (n < 4) {\n"
    "    for (uint32_t k = 0; k < n; k++) d[k] = s[k];\n"
    "  } else {\n"
    "    __builtin_memcpy(d, s, n);\n"
    "  }\n"
    "}\n";

/* Host runtime services, and definitions of the wasm_rt_* functions that the
 * generated code calls, forwarding to them. The trap entries are never
 * inlined, so that their return address lies in the function that
 * trapped. */
static const char k_runtime_forwarders[] =
    "static const wudf_shim_rt *wudf_shim_rt_ptr;\n"
    "__attribute__((noinline, noreturn, cold)) static void\n"
    "wudf_shim_call_indirect_trap(const wasm_rt_funcref_table_t *t, uint32_t "
    "i,\n"
    "                             uint32_t ft) {\n"
    "  wudf_shim_rt_ptr->note_trap_pc((const char "
    "*)__builtin_return_address(0) - 1);\n"
    "  wudf_shim_rt_ptr->call_indirect_trap(t, i, ft);\n"
    "  __builtin_unreachable();\n"
    "}\n"
    "__attribute__((noinline, cold)) void wasm_rt_trap(wasm_rt_trap_t code) {\n"
    "  wudf_shim_rt_ptr->note_trap_pc((const char "
    "*)__builtin_return_address(0) - 1);\n"
    "  wudf_shim_rt_ptr->trap(code);\n"
    "  __builtin_unreachable();\n"
    "}\n"
    "bool wasm_rt_is_initialized(void) { return true; }\n"
    "uint32_t wasm_rt_register_func_type(uint32_t np, uint32_t nr, ...) {\n"
    "  wasm_rt_type_t local[32], *types = local;\n"
    "  uint64_t n = (uint64_t)np + nr;\n"
    "  if (n > 32) types = malloc(n * sizeof *types);\n"
    "  if (!types) return wudf_shim_rt_ptr->register_func_type(np, nr, NULL);\n"
    "  va_list ap;\n"
    "  va_start(ap, nr);\n"
    "  for (uint64_t i = 0; i < n; i++) types[i] = (wasm_rt_type_t)va_arg(ap, "
    "int);\n"
    "  va_end(ap);\n"
    "  uint32_t index = wudf_shim_rt_ptr->register_func_type(np, nr, types);\n"
    "  if (types != local) free(types);\n"
    "  return index;\n"
    "}\n"
    "void wasm_rt_allocate_memory(wasm_rt_memory_t *m, uint32_t i, uint32_t x) "
    "{\n"
    "  wudf_shim_rt_ptr->allocate_memory(m, i, x);\n"
    "}\n"
    "uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *m, uint32_t d) {\n"
    "  return wudf_shim_rt_ptr->grow_memory(m, d);\n"
    "}\n"
    "void wasm_rt_free_memory(wasm_rt_memory_t *m) {\n"
    "  wudf_shim_rt_ptr->free_memory(m);\n"
    "}\n"
    "void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *t, uint32_t "
    "e,\n"
    "                                    uint32_t x) {\n"
    "  wudf_shim_rt_ptr->allocate_funcref_table(t, e, x);\n"
    "}\n"
    "void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t *t,\n"
    "                                      uint32_t e, uint32_t x) {\n"
    "  wudf_shim_rt_ptr->allocate_externref_table(t, e, x);\n"
    "}\n"
    "void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *t) {\n"
    "  wudf_shim_rt_ptr->free_funcref_table(t);\n"
    "}\n"
    "void wasm_rt_free_externref_table(wasm_rt_externref_table_t *t) {\n"
    "  wudf_shim_rt_ptr->free_externref_table(t);\n"
    "}\n"
    "uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t *t, uint32_t "
    "d,\n"
    "                                    wasm_rt_funcref_t v) {\n"
    "  return wudf_shim_rt_ptr->grow_funcref_table(t, d, v);\n"
    "}\n"
    "uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t *t,\n"
    "                                      uint32_t d, wasm_rt_externref_t v) "
    "{\n"
    "  return wudf_shim_rt_ptr->grow_externref_table(t, d, v);\n"
    "}\n";

void wudf_shim_mangle(wudf_strbuf *sb, const char *name, uint32_t len) {
  static const char hex[] = "0123456789ABCDEF";
  for (uint32_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Y') ||
                 (c >= '0' && c <= '9') || c == '_';
    if (plain) {
      wudf_strbuf_append(sb, (const char *)&c, 1);
    } else {
      char esc[3] = {'Z', hex[c >> 4], hex[c & 15]};
      wudf_strbuf_append(sb, esc, 3);
    }
  }
}

/* A C string literal holding arbitrary bytes (octal escapes are used for
 * anything unusual: they take at most three digits, so they cannot run into
 * the following character). */
static void c_string(wudf_strbuf *sb, const char *s, uint32_t len) {
  wudf_strbuf_puts(sb, "\"");
  for (uint32_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
                 c == ' ';
    if (plain)
      wudf_strbuf_append(sb, (const char *)&c, 1);
    else
      wudf_strbuf_printf(sb, "\\%03o", c);
  }
  wudf_strbuf_puts(sb, "\"");
}

static bool name_eq(const wudf_wasm_name *a, const wudf_wasm_name *b) {
  return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

static bool functype_eq(const wudf_wasm_functype *a,
                        const wudf_wasm_functype *b) {
  return a->nparams == b->nparams && a->nresults == b->nresults &&
         memcmp(a->types, b->types, a->nparams + a->nresults) == 0;
}

static bool import_type_eq(const wudf_wasm_info *info,
                           const wudf_wasm_import *a,
                           const wudf_wasm_import *b) {
  if (a->kind != b->kind) return false;
  switch (a->kind) {
    case WUDF_EXTERN_FUNC:
      return functype_eq(&info->types[a->u.type_index],
                         &info->types[b->u.type_index]);
    case WUDF_EXTERN_TABLE:
      return a->u.table.elem == b->u.table.elem;
    case WUDF_EXTERN_MEMORY:
      return true;
    case WUDF_EXTERN_GLOBAL:
      return a->u.global.valtype == b->u.global.valtype;
  }
  return false;
}

/* Assigns each import a slot: one per distinct (module, name). */
static wudf_status assign_slots(const wudf_wasm_info *info,
                                wudf_shim_source *out, wudf_error *err) {
  out->import_slot = wudf_calloc(info->nimports ? info->nimports : 1,
                                 sizeof *out->import_slot);
  if (!out->import_slot) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  for (uint32_t i = 0; i < info->nimports; i++) {
    const wudf_wasm_import *im = &info->imports[i];
    uint32_t j = 0;
    while (j < i && !(name_eq(&info->imports[j].module, &im->module) &&
                      name_eq(&info->imports[j].name, &im->name)))
      j++;
    if (j == i) {
      out->import_slot[i] = out->nslots++;
      continue;
    }
    if (!import_type_eq(info, &info->imports[j], im) && !out->conflict) {
      out->conflict = true;
      wudf_fail(err, WUDF_ERR_UNSUPPORTED,
                "at byte 0x%x: import '%s'.'%s' appears twice with "
                "different types, which wasm2c 1.0.32 cannot translate",
                im->offset, im->module.str, im->name.str);
    }
    out->import_slot[i] = out->import_slot[j];
  }
  return WUDF_OK;
}

/* Picks a module name that no import module name mangles to. */
static void choose_module_name(const wudf_wasm_info *info,
                               wudf_shim_source *out) {
  for (unsigned n = 0;; n++) {
    snprintf(out->module_name, sizeof out->module_name, "wudf_m%u", n);
    bool clash = false;
    for (uint32_t i = 0; i < info->nimports && !clash; i++) {
      wudf_strbuf sb;
      wudf_strbuf_init(&sb);
      const wudf_wasm_name *m = &info->imports[i].module;
      wudf_shim_mangle(&sb, m->str, m->len);
      clash = sb.data && strcmp(sb.data, out->module_name) == 0;
      wudf_strbuf_reset(&sb);
    }
    if (!clash) return;
  }
}

static void return_type(wudf_strbuf *sb, const wudf_wasm_functype *ft) {
  const uint8_t *res = ft->types + ft->nparams;
  if (ft->nresults == 0) {
    wudf_strbuf_puts(sb, "void");
  } else if (ft->nresults == 1) {
    wudf_strbuf_puts(sb, spelling(res[0])->ctype);
  } else {
    wudf_strbuf_puts(sb, "struct wasm_multi_");
    for (uint32_t i = 0; i < ft->nresults; i++)
      wudf_strbuf_append(sb, &spelling(res[i])->multi, 1);
  }
}

/* ", u32 a0, f32 a1" (with names) or ", u32, f32" (without). */
static void param_list(wudf_strbuf *sb, const wudf_wasm_functype *ft,
                       bool named) {
  for (uint32_t i = 0; i < ft->nparams; i++) {
    wudf_strbuf_printf(sb, ", %s", spelling(ft->types[i])->ctype);
    if (named) wudf_strbuf_printf(sb, " a%u", i);
  }
}

/* Stores results held in `v` (a single value or a multi-value struct) into
 * wudf_shim_val array `dst`. */
static void store_results(wudf_strbuf *sb, const wudf_wasm_functype *ft,
                          const char *dst, const char *v) {
  const uint8_t *res = ft->types + ft->nparams;
  if (ft->nresults == 1) {
    wudf_strbuf_printf(sb, "  %s[0].%s = %s;\n", dst, spelling(res[0])->field,
                       v);
    return;
  }
  for (uint32_t i = 0; i < ft->nresults; i++) {
    const type_spelling *s = spelling(res[i]);
    wudf_strbuf_printf(sb, "  %s[%u].%s = %s.%c%u;\n", dst, i, s->field, v,
                       s->multi, i);
  }
}

static void import_symbol(wudf_strbuf *sb, const wudf_wasm_import *im) {
  wudf_strbuf_puts(sb, "Z_");
  wudf_shim_mangle(sb, im->module.str, im->module.len);
  wudf_strbuf_puts(sb, "Z_");
  wudf_shim_mangle(sb, im->name.str, im->name.len);
}

static void import_struct(wudf_strbuf *sb, const wudf_wasm_import *im) {
  wudf_strbuf_puts(sb, "struct Z_");
  wudf_shim_mangle(sb, im->module.str, im->module.len);
  wudf_strbuf_puts(sb, "_instance_t");
}

/* The generic path of a function import: pack, call, unpack. */
static void import_generic_call(wudf_strbuf *sb, const wudf_wasm_functype *ft) {
  wudf_strbuf_printf(sb, "  wudf_shim_val wa[%u], wr[%u];\n",
                     ft->nparams ? ft->nparams : 1,
                     ft->nresults ? ft->nresults : 1);
  for (uint32_t i = 0; i < ft->nparams; i++)
    wudf_strbuf_printf(sb, "  wa[%u].%s = a%u;\n", i,
                       spelling(ft->types[i])->field, i);
  wudf_strbuf_puts(sb, "  s->generic(s->ctx, wa, wr);\n");
  const uint8_t *res = ft->types + ft->nparams;
  if (ft->nresults == 1) {
    wudf_strbuf_printf(sb, "  return wr[0].%s;\n", spelling(res[0])->field);
  } else if (ft->nresults > 1) {
    wudf_strbuf_puts(sb, "  ");
    return_type(sb, ft);
    wudf_strbuf_puts(sb, " r;\n");
    for (uint32_t i = 0; i < ft->nresults; i++) {
      const type_spelling *s = spelling(res[i]);
      wudf_strbuf_printf(sb, "  r.%c%u = wr[%u].%s;\n", s->multi, i, i,
                         s->field);
    }
    wudf_strbuf_puts(sb, "  return r;\n");
  }
}

static void import_func(wudf_strbuf *sb, const wudf_wasm_info *info,
                        const wudf_wasm_import *im, uint32_t slot) {
  const wudf_wasm_functype *ft = &info->types[im->u.type_index];
  return_type(sb, ft);
  wudf_strbuf_puts(sb, " ");
  import_symbol(sb, im);
  wudf_strbuf_puts(sb, "(");
  import_struct(sb, im);
  wudf_strbuf_puts(sb, " *wudf_p");
  param_list(sb, ft, true);
  wudf_strbuf_printf(sb,
                     ") {\n  wudf_shim_import *s = "
                     "&(*(wudf_shim_imports **)wudf_p)->slot[%u];\n"
                     "  if (s->fn) {\n    ",
                     slot);
  if (ft->nresults) wudf_strbuf_puts(sb, "return ");
  wudf_strbuf_puts(sb, "((");
  return_type(sb, ft);
  wudf_strbuf_puts(sb, " (*)(void *");
  param_list(sb, ft, false);
  wudf_strbuf_puts(sb, "))s->fn)(s->ctx");
  for (uint32_t i = 0; i < ft->nparams; i++) wudf_strbuf_printf(sb, ", a%u", i);
  wudf_strbuf_puts(sb, ");\n");
  if (!ft->nresults) wudf_strbuf_puts(sb, "    return;\n");
  wudf_strbuf_puts(sb, "  }\n");
  import_generic_call(sb, ft);
  wudf_strbuf_puts(sb, "}\n");
}

static const char *storage_type(wudf_extern_kind kind, uint8_t type) {
  switch (kind) {
    case WUDF_EXTERN_MEMORY:
      return "wasm_rt_memory_t";
    case WUDF_EXTERN_TABLE:
      return type == WUDF_WASM_FUNCREF ? "wasm_rt_funcref_table_t"
                                       : "wasm_rt_externref_table_t";
    default:
      return spelling(type)->ctype;
  }
}

static void import_accessor(wudf_strbuf *sb, const wudf_wasm_import *im,
                            uint32_t slot) {
  uint8_t type =
      im->kind == WUDF_EXTERN_TABLE ? im->u.table.elem : im->u.global.valtype;
  const char *t = storage_type(im->kind, type);
  wudf_strbuf_printf(sb, "%s *", t);
  import_symbol(sb, im);
  wudf_strbuf_puts(sb, "(");
  import_struct(sb, im);
  wudf_strbuf_printf(sb,
                     " *wudf_p) {\n  return (%s *)(*(wudf_shim_imports "
                     "**)wudf_p)->slot[%u].ptr;\n}\n",
                     t, slot);
}

static void gen_imports(wudf_strbuf *sb, const wudf_wasm_info *info,
                        const wudf_shim_source *src) {
  uint32_t next = 0;
  wudf_strbuf_printf(sb,
                     "static const wudf_shim_import_desc "
                     "wudf_shim_import_descs[%u] = {\n",
                     src->nslots ? src->nslots : 1);
  for (uint32_t i = 0; i < info->nimports; i++) {
    const wudf_wasm_import *im = &info->imports[i];
    if (src->import_slot[i] != next) continue; /* a repeated name */
    next++;
    wudf_strbuf_puts(sb, "  {");
    c_string(sb, im->module.str, im->module.len);
    wudf_strbuf_puts(sb, ", ");
    c_string(sb, im->name.str, im->name.len);
    wudf_strbuf_printf(sb, ", %u, %u, %u},\n", im->module.len, im->name.len,
                       (unsigned)im->kind);
  }
  wudf_strbuf_puts(sb, "};\n");
  next = 0;
  for (uint32_t i = 0; i < info->nimports; i++) {
    const wudf_wasm_import *im = &info->imports[i];
    if (src->import_slot[i] != next) continue;
    next++;
    if (im->kind == WUDF_EXTERN_FUNC)
      import_func(sb, info, im, src->import_slot[i]);
    else
      import_accessor(sb, im, src->import_slot[i]);
  }
}

static void export_symbol(wudf_strbuf *sb, const wudf_shim_source *src,
                          const wudf_wasm_export *ex) {
  wudf_strbuf_printf(sb, "Z_%sZ_", src->module_name);
  wudf_shim_mangle(sb, ex->name.str, ex->name.len);
}

static void export_invoker(wudf_strbuf *sb, const wudf_wasm_info *info,
                           const wudf_shim_source *src, uint32_t n) {
  const wudf_wasm_export *ex = &info->exports[n];
  const wudf_wasm_functype *ft = wudf_wasm_func_type(info, ex->index);
  wudf_strbuf_printf(sb,
                     "static void wudf_shim_invoke_%u(void *inst, const "
                     "wudf_shim_val *a, wudf_shim_val *r) {\n  (void)a;\n  "
                     "(void)r;\n  ",
                     n);
  if (ft->nresults) {
    return_type(sb, ft);
    wudf_strbuf_puts(sb, " v = ");
  }
  export_symbol(sb, src, ex);
  wudf_strbuf_printf(sb, "((Z_%s_instance_t *)inst", src->module_name);
  for (uint32_t i = 0; i < ft->nparams; i++)
    wudf_strbuf_printf(sb, ", a[%u].%s", i, spelling(ft->types[i])->field);
  wudf_strbuf_puts(sb, ");\n");
  if (ft->nresults) store_results(sb, ft, "r", "v");
  wudf_strbuf_puts(sb, "}\n");
}

static void export_getter(wudf_strbuf *sb, const wudf_shim_source *src,
                          const wudf_wasm_export *ex, uint32_t n) {
  wudf_strbuf_printf(sb,
                     "static void *wudf_shim_get_%u(void *inst) {\n"
                     "  return (void *)",
                     n);
  export_symbol(sb, src, ex);
  wudf_strbuf_printf(sb, "((Z_%s_instance_t *)inst);\n}\n", src->module_name);
}

static void gen_exports(wudf_strbuf *sb, const wudf_wasm_info *info,
                        const wudf_shim_source *src) {
  for (uint32_t n = 0; n < info->nexports; n++) {
    if (info->exports[n].kind == WUDF_EXTERN_FUNC)
      export_invoker(sb, info, src, n);
    else
      export_getter(sb, src, &info->exports[n], n);
  }
  wudf_strbuf_printf(sb,
                     "static const wudf_shim_export wudf_shim_exports[%u] "
                     "= {\n",
                     info->nexports ? info->nexports : 1);
  for (uint32_t n = 0; n < info->nexports; n++) {
    const wudf_wasm_export *ex = &info->exports[n];
    wudf_strbuf_puts(sb, "  {");
    c_string(sb, ex->name.str, ex->name.len);
    wudf_strbuf_printf(sb, ", %u, %u, ", ex->name.len, (unsigned)ex->kind);
    if (ex->kind == WUDF_EXTERN_FUNC) {
      wudf_strbuf_printf(sb, "wudf_shim_invoke_%u, (void (*)(void))", n);
      export_symbol(sb, src, ex);
      wudf_strbuf_puts(sb, ", 0},\n");
    } else {
      wudf_strbuf_printf(sb, "0, 0, wudf_shim_get_%u},\n", n);
    }
  }
  wudf_strbuf_puts(sb, "};\n");
}

/* --- UDF batch loops --------------------------------------------------- */

/* C element type of a fixed-width column. */
static const char *column_ctype(wudf_type t) {
  switch (t) {
    case WUDF_TYPE_INT32:
      return "s32";
    case WUDF_TYPE_INT64:
      return "s64";
    case WUDF_TYPE_FLOAT32:
      return "f32";
    case WUDF_TYPE_FLOAT64:
      return "f64";
    default:
      return "uint8_t"; /* bool bitmap */
  }
}

static void batch_decls(wudf_strbuf *sb, const wudf_udf_sig *sig) {
  for (uint32_t j = 0; j < sig->nparams; j++) {
    wudf_type t = sig->params[j];
    if (t == WUDF_TYPE_UTF8)
      wudf_strbuf_printf(sb,
                         "  const s32 *p%u = (const s32 *)b->values[%u];\n"
                         "  const u32 sb%u = b->str_base[%u];\n",
                         j, j, j, j);
    else
      wudf_strbuf_printf(sb, "  const %s *p%u = (const %s *)b->values[%u];\n",
                         column_ctype(t), j, column_ctype(t), j);
    if (t == WUDF_TYPE_BOOL)
      wudf_strbuf_printf(sb, "  const int64_t bo%u = b->bit_offset[%u];\n", j,
                         j);
    if (sig->sees_nulls)
      wudf_strbuf_printf(sb,
                         "  const uint8_t *nv%u = b->param_valid[%u];\n"
                         "  const int64_t no%u = b->param_valid_offset[%u];\n",
                         j, j, j, j);
  }
  if (sig->result == WUDF_TYPE_UTF8)
    wudf_strbuf_puts(sb,
                     "  wasm_rt_memory_t *const mem = b->mem;\n"
                     "  s32 *const oo = b->str_offsets;\n"
                     "  uint8_t *sd = b->str_data;\n"
                     "  u64 cap = b->str_cap, so = (u64)(u32)oo[0];\n");
  else
    wudf_strbuf_printf(sb, "  %s *out = (%s *)b->out;\n",
                       column_ctype(sig->result), column_ctype(sig->result));
}

/* Per-row locals: is-null flags of a UDF that sees NULLs. */
static void batch_row_nulls(wudf_strbuf *sb, const wudf_udf_sig *sig) {
  if (!sig->sees_nulls) return;
  for (uint32_t j = 0; j < sig->nparams; j++)
    wudf_strbuf_printf(
        sb,
        "      const u32 n%u = nv%u && !((nv%u[(no%u + i) >> 3] >> "
        "((no%u + i) & 7)) & 1);\n",
        j, j, j, j, j);
}

/* The WebAssembly argument(s) for parameter j of row i. */
static void batch_arg(wudf_strbuf *sb, const wudf_udf_sig *sig, uint32_t j) {
  const char *guard = "";
  char buf[32];
  if (sig->sees_nulls) {
    snprintf(buf, sizeof buf, "n%u ? 0 : ", j);
    guard = buf;
  }
  switch (sig->params[j]) {
    case WUDF_TYPE_INT32:
      wudf_strbuf_printf(sb, ", %s(u32)p%u[i]", guard, j);
      break;
    case WUDF_TYPE_INT64:
      wudf_strbuf_printf(sb, ", %s(u64)p%u[i]", guard, j);
      break;
    case WUDF_TYPE_FLOAT32:
    case WUDF_TYPE_FLOAT64:
      wudf_strbuf_printf(sb, ", %sp%u[i]", guard, j);
      break;
    case WUDF_TYPE_BOOL:
      wudf_strbuf_printf(
          sb, ", %s(u32)((p%u[(bo%u + i) >> 3] >> ((bo%u + i) & 7)) & 1)",
          guard, j, j, j);
      break;
    case WUDF_TYPE_UTF8:
    case WUDF_TYPE_LARGE_UTF8: /* never a parameter type: see wudf.h */
    case WUDF_TYPE_UTF8_VIEW:
      wudf_strbuf_printf(sb,
                         ", sb%u + (u32)p%u[i], %s(u32)(p%u[i + 1] - p%u[i])",
                         j, j, guard, j, j);
      break;
  }
  if (sig->sees_nulls) wudf_strbuf_printf(sb, ", n%u", j);
}

/* Stores the result r of row i. */
static void batch_store(wudf_strbuf *sb, const wudf_udf_sig *sig) {
  switch (sig->result) {
    case WUDF_TYPE_INT32:
      wudf_strbuf_puts(sb, "      out[i] = (s32)r;\n");
      break;
    case WUDF_TYPE_INT64:
      wudf_strbuf_puts(sb, "      out[i] = (s64)r;\n");
      break;
    case WUDF_TYPE_FLOAT32:
    case WUDF_TYPE_FLOAT64:
      wudf_strbuf_puts(sb, "      out[i] = r;\n");
      break;
    case WUDF_TYPE_BOOL:
      /* Branch-free: on data where the result is unpredictable, a branch
       * is mispredicted on every other row (FILTERs ran 5x slower). */
      wudf_strbuf_puts(sb, "      acc |= (u32)(r != 0) << (i & 7);\n");
      break;
    case WUDF_TYPE_UTF8:
      /* The common case copies in place; the host handles the rest. */
      wudf_strbuf_puts(
          sb,
          "      const u32 rp = (u32)r, rl = (u32)(r >> 32);\n"
          "      if (LIKELY((u64)rp + rl <= mem->size && so + rl <= cap)) {\n"
          "        wudf_shim_copy(sd + so, mem->data + rp, rl);\n"
          "        so += rl;\n"
          "      } else {\n"
          "        so = b->put_string(b, i, rp, rl, so);\n"
          "        sd = b->str_data;\n"
          "        cap = b->str_cap;\n"
          "      }\n"
          "      oo[i + 1] = (s32)so;\n");
      break;
    case WUDF_TYPE_LARGE_UTF8: /* never a result type: see wudf.h */
    case WUDF_TYPE_UTF8_VIEW:
      break;
  }
}

/* What a strict UDF's loop does with a row it skips (a NULL argument). */
static const char *batch_skip(const wudf_udf_sig *sig) {
  switch (sig->result) {
    case WUDF_TYPE_BOOL:
      return "continue;";
    case WUDF_TYPE_UTF8:
      return "{ oo[i + 1] = (s32)so; continue; }";
    default:
      return "{ out[i] = 0; continue; }";
  }
}

static const char *result_ctype(wudf_type t) {
  switch (t) {
    case WUDF_TYPE_INT64:
    case WUDF_TYPE_UTF8:
      return "u64";
    case WUDF_TYPE_FLOAT32:
      return "f32";
    case WUDF_TYPE_FLOAT64:
      return "f64";
    default:
      return "u32";
  }
}

/* The body for row i: skip, track, call, store. */
static void batch_row(wudf_strbuf *sb, const wudf_shim_source *src,
                      const wudf_wasm_export *ex, const wudf_udf_sig *sig,
                      bool strict, bool track) {
  if (strict)
    wudf_strbuf_printf(sb, "      if (!((v[i >> 3] >> (i & 7)) & 1)) %s\n",
                       batch_skip(sig));
  if (track) wudf_strbuf_puts(sb, "      b->row = i;\n");
  batch_row_nulls(sb, sig);
  wudf_strbuf_printf(sb, "      const %s r = ", result_ctype(sig->result));
  export_symbol(sb, src, ex);
  wudf_strbuf_puts(sb, "(I");
  for (uint32_t j = 0; j < sig->nparams; j++) batch_arg(sb, sig, j);
  wudf_strbuf_puts(sb, ");\n");
  batch_store(sb, sig);
}

/* One loop over the rows; `strict` skips rows whose bit in b->valid is
 * clear, `track` stores the row index before each call. A bool result is
 * gathered eight rows at a time and stored a byte at a time. */
static void batch_loop(wudf_strbuf *sb, const wudf_shim_source *src,
                       const wudf_wasm_export *ex, const wudf_udf_sig *sig,
                       bool strict, bool track) {
  bool bits = sig->result == WUDF_TYPE_BOOL;
  if (bits)
    wudf_strbuf_puts(sb,
                     "    for (int64_t i8 = 0; i8 < n; i8 += 8) {\n"
                     "     u32 acc = 0;\n"
                     "     const int64_t e = n - i8 < 8 ? n : i8 + 8;\n"
                     "     for (int64_t i = i8; i < e; i++) {\n");
  else
    wudf_strbuf_puts(sb, "    for (int64_t i = 0; i < n; i++) {\n");
  batch_row(sb, src, ex, sig, strict, track);
  if (bits) wudf_strbuf_puts(sb, "     }\n     out[i8 >> 3] = (uint8_t)acc;\n");
  wudf_strbuf_puts(sb, "    }\n");
}

static void gen_udf(wudf_strbuf *sb, const wudf_wasm_info *info,
                    const wudf_shim_source *src, const wudf_udf_sig *sig,
                    uint32_t export_index, uint32_t k) {
  const wudf_wasm_export *ex = &info->exports[export_index];
  wudf_strbuf_printf(sb,
                     "static void wudf_shim_batch_%u(void *inst, "
                     "wudf_shim_batch *b) {\n"
                     "  Z_%s_instance_t *I = (Z_%s_instance_t *)inst;\n"
                     "  const int64_t n = b->n;\n"
                     "  const uint8_t *v = b->valid;\n",
                     k, src->module_name, src->module_name);
  batch_decls(sb, sig);
  for (int track = 1; track >= 0; track--) {
    wudf_strbuf_puts(sb, track ? "  if (b->track_rows) {\n" : "  } else {\n");
    wudf_strbuf_puts(sb, "   if (v) {\n");
    batch_loop(sb, src, ex, sig, true, track);
    wudf_strbuf_puts(sb, "   } else {\n");
    batch_loop(sb, src, ex, sig, false, track);
    wudf_strbuf_puts(sb, "   }\n");
  }
  wudf_strbuf_puts(sb, "  }\n}\n");
}

static void gen_udfs(wudf_strbuf *sb, const wudf_wasm_info *info,
                     const wudf_shim_source *src, const wudf_udf_sig *udfs,
                     const uint32_t *exports, uint32_t nudfs) {
  for (uint32_t k = 0; k < nudfs; k++)
    gen_udf(sb, info, src, &udfs[k], exports[k], k);
  wudf_strbuf_printf(sb, "static const wudf_shim_udf wudf_shim_udfs[%u] = {\n",
                     nudfs ? nudfs : 1);
  for (uint32_t k = 0; k < nudfs; k++) {
    wudf_strbuf_puts(sb, "  {");
    c_string(sb, udfs[k].name, (uint32_t)strlen(udfs[k].name));
    wudf_strbuf_printf(sb, ", %u, wudf_shim_batch_%u},\n", exports[k], k);
  }
  wudf_strbuf_puts(sb, "};\n");
}

/* --- where code lies ---------------------------------------------------- */

/* {(void (*)(void))<name><n>, func}, */
static void code_entry(wudf_strbuf *sb, const char *name, uint32_t n,
                       uint32_t func) {
  wudf_strbuf_printf(sb, "  {(void (*)(void))%s%u, %u},\n", name, n, func);
}

/* Each defined function under the name wasm2c gives it from the name
 * section wudf writes (wudf_shim_rename_functions), then the shim
 * functions that run one function each. */
static uint32_t gen_code_table(wudf_strbuf *sb, const wudf_wasm_info *info,
                               const wudf_shim_source *src,
                               const uint32_t *udf_exports, uint32_t nudfs) {
  uint32_t n = 0, first = info->nfunc_imports;
  wudf_strbuf_puts(sb,
                   "static const wudf_shim_code wudf_shim_code_table[] = "
                   "{\n  {0, 0},\n");
  char w2c[sizeof src->func_prefix + 4];
  snprintf(w2c, sizeof w2c, "w2c_%s", src->func_prefix);
  for (uint32_t i = 0; i < info->nfuncs; i++, n++)
    code_entry(sb, w2c, i, first + i);
  for (uint32_t x = 0; x < info->nexports; x++) {
    const wudf_wasm_export *ex = &info->exports[x];
    if (ex->kind != WUDF_EXTERN_FUNC || ex->index < first) continue;
    code_entry(sb, "wudf_shim_invoke_", x, ex->index);
    wudf_strbuf_puts(sb, "  {(void (*)(void))");
    export_symbol(sb, src, ex);
    wudf_strbuf_printf(sb, ", %u},\n", ex->index);
    n += 2;
  }
  for (uint32_t k = 0; k < nudfs; k++) {
    uint32_t func = info->exports[udf_exports[k]].index;
    if (func < first) continue;
    code_entry(sb, "wudf_shim_batch_", k, func);
    n++;
  }
  wudf_strbuf_puts(sb, "};\n");
  return n;
}

static uint32_t count_import_modules(const wudf_wasm_info *info) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < info->nimports; i++) {
    uint32_t j = 0;
    while (j < i &&
           !name_eq(&info->imports[j].module, &info->imports[i].module))
      j++;
    if (j == i) n++;
  }
  return n;
}

static void gen_module(wudf_strbuf *sb, const wudf_wasm_info *info,
                       const wudf_shim_source *src, uint32_t nudfs,
                       uint32_t ncode) {
  const char *m = src->module_name;
  wudf_strbuf_printf(sb,
                     "static void wudf_shim_instantiate(void *inst, "
                     "wudf_shim_imports *imps) {\n  (void)imps;\n"
                     "  Z_%s_instantiate((Z_%s_instance_t *)inst",
                     m, m);
  uint32_t nmods = count_import_modules(info);
  for (uint32_t i = 0; i < nmods; i++) wudf_strbuf_puts(sb, ", (void *)imps");
  wudf_strbuf_printf(
      sb,
      ");\n}\n"
      "static void wudf_shim_free(void *inst) {\n"
      "  Z_%s_free((Z_%s_instance_t *)inst);\n}\n"
      "static const wudf_shim_module wudf_shim_desc = {\n"
      "  WUDF_SHIM_ABI_VERSION, sizeof(Z_%s_instance_t),\n"
      "  %u, wudf_shim_import_descs, %u, wudf_shim_exports,\n"
      "  Z_%s_init_module, wudf_shim_instantiate, wudf_shim_free,\n"
      "  %u, wudf_shim_udfs, %u, wudf_shim_code_table + 1,\n};\n"
      "__attribute__((visibility(\"default\"))) const wudf_shim_module *\n"
      "wudf_shim_entry_v1(const wudf_shim_rt *rt) {\n"
      "  if (!rt || rt->abi_version != WUDF_SHIM_ABI_VERSION) return 0;\n"
      "  wudf_shim_rt_ptr = rt;\n"
      "  return &wudf_shim_desc;\n}\n",
      m, m, m, src->nslots, info->nexports, m, nudfs, ncode);
}

static char *gen_prelude(void) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_strbuf_puts(&sb,
                   "/* Generated by wudf. */\n#include <stdarg.h>\n"
                   "#include <stdlib.h>\n#include <wasm-rt.h>\n");
  wudf_strbuf_puts(&sb, wudf_shim_abi_text);
  wudf_strbuf_puts(&sb, k_runtime_forwarders);
  wudf_strbuf_puts(&sb, k_batch_helpers);
  return wudf_strbuf_take(&sb);
}

static char *gen_postlude(const wudf_wasm_info *info,
                          const wudf_shim_source *src, const wudf_udf_sig *udfs,
                          const uint32_t *udf_exports, uint32_t nudfs) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_strbuf_puts(&sb, "\n/* wudf shim */\n");
  gen_imports(&sb, info, src);
  gen_exports(&sb, info, src);
  gen_udfs(&sb, info, src, udfs, udf_exports, nudfs);
  uint32_t ncode = gen_code_table(&sb, info, src, udf_exports, nudfs);
  gen_module(&sb, info, src, nudfs, ncode);
  return wudf_strbuf_take(&sb);
}

wudf_status wudf_shim_generate(const wudf_wasm_info *info,
                               const wudf_udf_sig *udfs,
                               const uint32_t *udf_exports, uint32_t nudfs,
                               wudf_shim_source *out, wudf_error *err) {
  memset(out, 0, sizeof *out);
  wudf_status st = assign_slots(info, out, err);
  if (st != WUDF_OK) goto fail;
  if (out->conflict) return WUDF_ERR_UNSUPPORTED; /* slots stay usable */
  choose_module_name(info, out);
  wudf_shim_choose_func_prefix(info, out);
  out->call_indirect_override = k_call_indirect_override;
  out->prelude = gen_prelude();
  out->postlude = gen_postlude(info, out, udfs, udf_exports, nudfs);
  if (!out->prelude || !out->postlude) {
    st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory generating the shim");
    goto fail;
  }
  return WUDF_OK;
fail:
  wudf_shim_source_reset(out);
  return st;
}

void wudf_shim_source_reset(wudf_shim_source *src) {
  wudf_free(src->prelude);
  wudf_free(src->postlude);
  wudf_free(src->import_slot);
  memset(src, 0, sizeof *src);
}
