/*
 * WebAssembly text: one sandboxed run of wat2wasm. The UDFs are the
 * exported functions whose type maps to a signature (i32 -> int32,
 * i64 -> int64, f32 -> float32, f64 -> float64, one result), and the
 * signatures the text declares with the custom-section annotation
 *
 *     (@custom "wudf.udfs" "email_domain(utf8) -> utf8\n")
 *
 * which wabt 1.0.32 accepts with --enable-annotations but does not emit:
 * wudf reads it from the text itself.
 */
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "compile/compile_internal.h"
#include "load/derive.h"
#include "load/wasm_info.h"

static const char *const k_src = "udf.wat";
static const char *const k_out = "udf.wasm";

/* ------------------------------------------------------------------------ */
/* The annotation                                                           */
/* ------------------------------------------------------------------------ */

typedef struct lexer {
  const char *p, *end;
} lexer;

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Skips blanks and comments (";;" to the line end, nested "(; ;)"). */
static void skip_space(lexer *lx) {
  for (;;) {
    while (lx->p < lx->end && strchr(" \t\r\n", *lx->p)) lx->p++;
    if (lx->end - lx->p >= 2 && lx->p[0] == ';' && lx->p[1] == ';') {
      while (lx->p < lx->end && *lx->p != '\n') lx->p++;
    } else if (lx->end - lx->p >= 2 && lx->p[0] == '(' && lx->p[1] == ';') {
      int depth = 0;
      do {
        if (lx->end - lx->p >= 2 && lx->p[0] == '(' && lx->p[1] == ';') {
          depth++;
          lx->p += 2;
        } else if (lx->end - lx->p >= 2 && lx->p[0] == ';' && lx->p[1] == ')') {
          depth--;
          lx->p += 2;
        } else {
          lx->p++;
        }
      } while (depth > 0 && lx->p < lx->end);
    } else {
      return;
    }
  }
}

/* Reads a string token at lx->p (which is '"'), decoding its escapes into
 * out (if not NULL). */
static void read_string(lexer *lx, wudf_strbuf *out) {
  static const char *const simple = "n\nt\tr\r\\\\''\"\"";
  for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
    char c = *lx->p;
    if (c == '\\' && lx->p + 1 < lx->end) {
      const char *s = strchr(simple, lx->p[1]);
      if (s && (s - simple) % 2 == 0) {
        c = s[1];
        lx->p++;
      } else if (lx->p + 2 < lx->end && hex(lx->p[1]) >= 0 &&
                 hex(lx->p[2]) >= 0) {
        c = (char)(hex(lx->p[1]) * 16 + hex(lx->p[2]));
        lx->p += 2;
      }
    }
    if (out) wudf_strbuf_append(out, &c, 1);
  }
  if (lx->p < lx->end) lx->p++;
}

/* After "(@custom": if the name is wudf.udfs, appends the data strings. */
static void read_custom(lexer *lx, wudf_strbuf *out) {
  wudf_strbuf name;
  wudf_strbuf_init(&name);
  skip_space(lx);
  if (lx->p < lx->end && *lx->p == '"') read_string(lx, &name);
  bool ours = name.data && !strcmp(name.data, WUDF_CC_UDFS_SECTION);
  wudf_strbuf_reset(&name);
  for (int depth = 0; lx->p < lx->end;) {
    skip_space(lx);
    if (lx->p >= lx->end) break;
    if (*lx->p == '"') {
      read_string(lx, depth == 0 && ours ? out : NULL);
    } else if (*lx->p == '(') {
      depth++;
      lx->p++;
    } else if (*lx->p == ')') {
      lx->p++;
      if (depth-- == 0) break;
    } else {
      lx->p++;
    }
  }
}

/* The text of every (@custom "wudf.udfs" ...) annotation. */
static void scan_annotations(const char *src, size_t len, wudf_strbuf *out) {
  lexer lx = {src, src + len};
  const char *key = "(@custom";
  size_t kl = strlen(key);
  while (lx.p < lx.end) {
    skip_space(&lx);
    if (lx.p >= lx.end) break;
    if (*lx.p == '"') {
      read_string(&lx, NULL);
    } else if ((size_t)(lx.end - lx.p) > kl && !memcmp(lx.p, key, kl) &&
               strchr(" \t\r\n\"", lx.p[kl])) {
      lx.p += kl;
      read_custom(&lx, out);
    } else {
      lx.p++;
    }
  }
}

/* ------------------------------------------------------------------------ */
/* Exports                                                                  */
/* ------------------------------------------------------------------------ */

/* The rule `wudf run` applies to an export nothing declares (derive.h),
 * without columns: each parameter and the result its own type. */
static bool map_functype(const wudf_wasm_functype *ft, wudf_cc_func *f) {
  wudf_derive_opts o = {NULL, 0, false, NULL};
  if (ft && wudf_udf_sig_derive(f->name, ft, &o, &f->sig, NULL) == WUDF_OK)
    return true;
  f->sig.name[0] = '\0';
  return false;
}

/* Line and column of `"name"` in the text, for diagnostics. */
static void place_export(const wudf_cc_job *job, wudf_cc_func *f) {
  char quoted[sizeof f->name + 2];
  size_t n = strlen(f->name);
  quoted[0] = '"';
  memcpy(quoted + 1, f->name, n);
  quoted[n + 1] = '"';
  const char *hit = memmem(job->source, job->len, quoted, n + 2);
  if (!hit) return;
  const char *start = job->source;
  f->line = 1;
  for (const char *p = job->source; p < hit; p++)
    if (*p == '\n') {
      f->line++;
      start = p + 1;
    }
  f->column = (uint32_t)(hit - start) + 1;
}

static wudf_status export_candidates(const wudf_cc_job *job,
                                     const wudf_wasm_info *info,
                                     wudf_cc_funcs *fs, wudf_error *err) {
  for (uint32_t i = 0; i < info->nexports; i++) {
    const wudf_wasm_export *ex = &info->exports[i];
    if (ex->kind != WUDF_EXTERN_FUNC ||
        ex->name.len >= sizeof fs->items->name ||
        strlen(ex->name.str) != ex->name.len)
      continue;
    wudf_cc_func *f;
    wudf_status st = wudf_cc_funcs_push(fs, &f, err);
    if (st != WUDF_OK) return st;
    memcpy(f->name, ex->name.str, ex->name.len + 1);
    f->c_linkage = f->optional = true;
    place_export(job, f);
    strcpy(f->sig.name, "");
    if (!wudf_cc_is_identifier(f->name) || strlen(f->name) >= WUDF_MAX_UDF_NAME)
      strcpy(f->problem, "its name is not an identifier of at most 127 bytes");
    else if (!map_functype(wudf_wasm_func_type(info, ex->index), f))
      strcpy(f->problem,
             "its type is not numeric with one result; declare "
             "its signature with (@custom \"wudf.udfs\" "
             "\"name(utf8) -> utf8\")");
    else
      f->ok = true;
  }
  return WUDF_OK;
}

/* ------------------------------------------------------------------------ */
/* The pipeline                                                             */
/* ------------------------------------------------------------------------ */

static wudf_status run_wat2wasm(wudf_cc_job *job, wudf_error *err) {
  const char *args[] = {"--enable-annotations", k_src, "-o", k_out, NULL};
  wudf_process_result res = {0};
  wudf_status st =
      wudf_cc_run(&job->env, WUDF_CC_WAT2WASM, "wat2wasm", args, &res, err);
  if (st == WUDF_OK) {
    wudf_cc_output_names names = {k_src, job->env.opts->file_name,
                                  wudf_cc_tool_dir(&job->env), NULL};
    uint32_t before = wudf_cc_diags_errors(&job->diags);
    wudf_cc_parse_output(res.output, &names, &job->diags, NULL);
    if (res.exit_code != 0 || res.term_signal != 0) {
      if (wudf_cc_diags_errors(&job->diags) == before)
        wudf_cc_diags_add(&job->diags, WUDF_SEVERITY_ERROR, 0, 0,
                          "wat2wasm failed (exit status %d)", res.exit_code);
      st = WUDF_ERR_COMPILE;
    }
  }
  wudf_process_result_reset(&res);
  return st;
}

static wudf_status choose(wudf_cc_job *job, const wudf_cc_funcs *fs,
                          wudf_error *err) {
  wudf_strbuf text;
  wudf_strbuf_init(&text);
  size_t off, size;
  if (wudf_cc_find_custom(job->wasm, job->wasm_len, WUDF_CC_UDFS_SECTION, &off,
                          &size))
    wudf_strbuf_append(&text, (const char *)job->wasm + off, size);
  else
    scan_annotations(job->source, job->len, &text);
  wudf_cc_udf_input in = {fs,       text.data,      text.len,       job->source,
                          job->len, job->functions, job->nfunctions};
  wudf_status st = text.oom ? wudf_fail(err, WUDF_ERR_NOMEM, "UDF annotations")
                            : wudf_cc_choose_udfs(&in, &job->diags, &job->udfs,
                                                  &job->nudfs, err);
  wudf_strbuf_reset(&text);
  if (st == WUDF_OK && wudf_cc_diags_errors(&job->diags)) st = WUDF_ERR_COMPILE;
  return st;
}

static wudf_status write_section(wudf_cc_job *job, wudf_error *err) {
  size_t tlen;
  char *text = wudf_cc_udfs_text(job->udfs, job->nudfs, &tlen);
  if (!text) return wudf_fail(err, WUDF_ERR_NOMEM, "UDF section");
  wudf_status st = wudf_cc_set_custom(&job->wasm, &job->wasm_len,
                                      WUDF_CC_UDFS_SECTION, text, tlen, err);
  wudf_free(text);
  return st;
}

/* The module as wudf reads it; a refusal (SIMD, say) is the source's
 * error. */
static wudf_status parse_module(wudf_cc_job *job, wudf_wasm_info *info) {
  wudf_error e = {0};
  if (wudf_wasm_parse(job->wasm, job->wasm_len, NULL, info, &e) == WUDF_OK)
    return WUDF_OK;
  if (e.status == WUDF_ERR_NOMEM) return WUDF_ERR_NOMEM;
  wudf_cc_diags_add(&job->diags, WUDF_SEVERITY_ERROR, 0, 0, "%s", e.message);
  return WUDF_ERR_COMPILE;
}

wudf_status wudf_cc_build_wat(wudf_cc_job *job, wudf_error *err) {
  wudf_cc_funcs fs = {0};
  wudf_wasm_info info = {0};
  char *data = NULL;
  wudf_status st =
      wudf_cc_write_file(job->env.work_dir, k_src, job->source, job->len, err);
  if (st == WUDF_OK) st = run_wat2wasm(job, err);
  if (st == WUDF_OK)
    st =
        wudf_cc_read_file(job->env.work_dir, k_out, job->env.opts->output_bytes,
                          &data, &job->wasm_len, err);
  job->wasm = (uint8_t *)data;
  if (st == WUDF_OK && (st = parse_module(job, &info)) == WUDF_ERR_NOMEM)
    st = wudf_fail(err, st, "reading the module");
  if (st == WUDF_OK) st = export_candidates(job, &info, &fs, err);
  if (st == WUDF_OK) st = choose(job, &fs, err);
  if (st == WUDF_OK) st = write_section(job, err);
  wudf_wasm_info_reset(&info);
  wudf_cc_funcs_reset(&fs);
  return st;
}
