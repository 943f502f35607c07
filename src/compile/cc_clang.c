/*
 * C and C++: two sandboxed runs of clang.
 *
 *   1. udf.c -> udf.ll   (-S -emit-llvm -g): every diagnostic of the source;
 *                         the IR gives the functions and their types
 *   2. udf.ll -> udf.wasm (a WASI reactor): each chosen function exported,
 *                         wudf's allocator added when strings come in
 *
 * Debug information does not change the code LLVM generates; it is how the
 * types of the source reach wudf, and the linker strips it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "compile/compile_internal.h"

const char *const wudf_cc_clang_flags[] = {"--target=wasm32-wasi",
                                           "--sysroot=/usr",
                                           "-O2",
                                           "-g",
                                           "-S",
                                           "-emit-llvm",
                                           "-fno-color-diagnostics",
                                           "-fno-caret-diagnostics",
                                           "-fmessage-length=0",
                                           "-ferror-limit=50",
                                           "-Wall",
                                           NULL};
const char *const wudf_cc_cxx_flags[] = {"--driver-mode=g++", "-fno-exceptions",
                                         NULL};
const char *const wudf_cc_link_flags[] = {"--target=wasm32-wasi",
                                          "--sysroot=/usr",
                                          "-O2",
                                          "-mexec-model=reactor",
                                          "-fno-color-diagnostics",
                                          "-fno-caret-diagnostics",
                                          "-Xlinker",
                                          "--strip-debug",
                                          NULL};

static const char *const k_ir = "udf.ll";
static const char *const k_out = "udf.wasm";
static const char *const k_alloc = "wudf_alloc.c";
static const char *const k_alloc_text =
    "/* wudf's batch allocator, for UDFs that take strings. */\n"
    "#include \"" WUDF_CC_GUEST_HEADER "\"\n";

#define MAX_ARGS 512

typedef struct args {
  const char *v[MAX_ARGS + 1];
  size_t n;
  bool full;
} args;

static void arg(args *a, const char *s) {
  if (a->n < MAX_ARGS)
    a->v[a->n++] = s;
  else
    a->full = true;
  a->v[a->n] = NULL;
}

static void arg_list(args *a, const char *const *list) {
  for (; *list; list++) arg(a, *list);
}

static const char *main_name(const wudf_cc_job *job) {
  return job->lang == WUDF_LANG_CXX ? "udf.cpp" : "udf.c";
}

static const char *include_dir(const wudf_cc_env *env, char **owned) {
  *owned = NULL;
  if (!env->guest_header) return NULL;
  if (env->sandboxed) return WUDF_CC_SANDBOX_INCLUDE;
  const char *slash = strrchr(env->guest_header, '/');
  *owned = slash ? wudf_strndup(env->guest_header,
                                (size_t)(slash - env->guest_header))
                 : wudf_strdup(".");
  return *owned;
}

/* Parses a tool's output into job->diags; a failure without an error
 * message still gets one. WUDF_ERR_COMPILE when the tool failed. */
static wudf_status read_outcome(wudf_cc_job *job, const char *tool,
                                const wudf_process_result *res) {
  const char *objects[] = {k_ir, NULL};
  wudf_cc_output_names names = {main_name(job), job->env.opts->file_name,
                                wudf_cc_tool_dir(&job->env), objects};
  wudf_strbuf other;
  wudf_strbuf_init(&other);
  uint32_t before = wudf_cc_diags_errors(&job->diags);
  wudf_cc_parse_output(res->output, &names, &job->diags, &other);
  bool failed = res->exit_code != 0 || res->term_signal != 0;
  /* bwrap passes a signal on as exit status 128 + signal. */
  int sig = res->term_signal ? res->term_signal
            : job->env.sandboxed && res->exit_code > 128 && res->exit_code < 193
                ? res->exit_code - 128
                : 0;
  char how[64];
  snprintf(how, sizeof how,
           sig ? "crashed (signal %d)"
               : "failed (exit "
                 "status %d)",
           sig ? sig : res->exit_code);
  if (failed && wudf_cc_diags_errors(&job->diags) == before)
    wudf_cc_diags_add(&job->diags, WUDF_SEVERITY_ERROR, 0, 0, "%s %s%s%.*s",
                      tool, how, other.len ? ": " : "",
                      (int)(other.len > 600 ? 600 : other.len),
                      other.data ? other.data : "");
  wudf_strbuf_reset(&other);
  return failed ? WUDF_ERR_COMPILE : WUDF_OK;
}

static wudf_status run_clang(wudf_cc_job *job, const char *what, const args *a,
                             wudf_error *err) {
  if (a->full) return wudf_fail(err, WUDF_ERR_LIMIT, "too many functions");
  wudf_process_result res = {0};
  wudf_status st =
      wudf_cc_run(&job->env, WUDF_CC_CLANG, what, a->v + 1, &res, err);
  if (st == WUDF_OK) st = read_outcome(job, what, &res);
  wudf_process_result_reset(&res);
  return st;
}

/* Step 1: the source to LLVM IR. */
static wudf_status compile_ir(wudf_cc_job *job, wudf_error *err) {
  char *owned;
  const char *inc = include_dir(&job->env, &owned);
  args a = {.n = 0};
  arg(&a, "clang");
  arg_list(&a, wudf_cc_clang_flags);
  if (job->lang == WUDF_LANG_CXX) arg_list(&a, wudf_cc_cxx_flags);
  if (inc) {
    arg(&a, "-I");
    arg(&a, inc);
  }
  arg(&a, "-x");
  arg(&a, job->lang == WUDF_LANG_CXX ? "c++" : "c");
  arg(&a, main_name(job));
  arg(&a, "-o");
  arg(&a, k_ir);
  wudf_status st = run_clang(job, "the compiler", &a, err);
  wudf_free(owned);
  return st;
}

/* The candidates the link must export: those the choice may take. */
static bool to_export(const wudf_cc_job *job, const wudf_cc_func *f) {
  if (!f->c_linkage || !wudf_cc_is_identifier(f->name)) return false;
  if (job->nfunctions == 0) return !wudf_cc_reserved_name(f->name);
  for (uint32_t i = 0; i < job->nfunctions; i++)
    if (job->functions[i] && !strcmp(job->functions[i], f->name)) return true;
  return false;
}

/* Whether strings come in, so that the module needs wudf_alloc; an error
 * when wudf_guest.h, which provides it, is not available. */
static bool needs_alloc(wudf_cc_job *job, const wudf_cc_funcs *fs) {
  for (uint32_t i = 0; i < fs->n; i++) {
    const wudf_cc_func *f = &fs->items[i];
    if (!to_export(job, f) || !f->ok || !f->needs_alloc) continue;
    if (job->env.guest_header) return true;
    wudf_cc_diags_add(&job->diags, WUDF_SEVERITY_ERROR, f->line, f->column,
                      "function '%s' takes a string, so the module needs the "
                      "allocator of " WUDF_CC_GUEST_HEADER
                      ", which was not found (set include_dir, or "
                      "WUDF_INCLUDE_DIR for the wudf command)",
                      f->name);
    return false;
  }
  return false;
}

static void export_names(args *a, const wudf_cc_job *job,
                         const wudf_cc_funcs *fs, wudf_strbuf *opts) {
  /* Options are built in one buffer first, then pointed at: the buffer
   * must not move once pointers into it exist. */
  size_t count = 0;
  for (uint32_t i = 0; i < fs->n; i++)
    if (to_export(job, &fs->items[i])) {
      wudf_strbuf_printf(opts, "--export=%s", fs->items[i].name);
      wudf_strbuf_append(opts, "", 1);
      count++;
    }
  const char *p = opts->data;
  for (size_t i = 0; !opts->oom && i < count; i++) {
    arg(a, "-Xlinker");
    arg(a, p);
    p += strlen(p) + 1;
  }
  if (opts->oom) a->full = true;
}

/* The linker names no position; an undefined symbol is placed where the
 * source first mentions it. */
static void place_link_errors(wudf_cc_job *job, uint32_t from) {
  const char *key = "undefined symbol: ";
  for (uint32_t i = from; i < job->diags.n; i++) {
    wudf_cc_diag *d = &job->diags.items[i];
    const char *sym = d->line ? NULL : strstr(d->message, key);
    if (!sym) continue;
    sym += strlen(key);
    char name[WUDF_MAX_UDF_NAME];
    size_t n = strcspn(sym, " \t'\"");
    if (n == 0 || n >= sizeof name) continue;
    memcpy(name, sym, n);
    name[n] = '\0';
    wudf_cc_find_word(job->source, job->len, name, &d->line, &d->column);
  }
}

/* Strings held by the link's arguments. */
typedef struct link_strings {
  wudf_strbuf exports, fuse;
  char *include;
} link_strings;

static const char *const k_alloc_args[] = {
    "-Xlinker", "--export-if-defined=wudf_alloc", "-Xlinker",
    "--export-if-defined=wudf_reset", NULL};

static void link_args(const wudf_cc_job *job, const wudf_cc_funcs *fs,
                      bool alloc, args *a, link_strings *ls) {
  const char *inc = include_dir(&job->env, &ls->include);
  arg(a, "clang");
  arg_list(a, wudf_cc_link_flags);
  if (job->lang == WUDF_LANG_CXX) arg(a, wudf_cc_cxx_flags[0]);
  arg(a, k_ir);
  if (alloc) {
    const char *more[] = {"-x", "c", "-I", inc, k_alloc, NULL};
    arg_list(a, more);
    arg_list(a, k_alloc_args);
  }
  wudf_strbuf_printf(&ls->fuse, "-fuse-ld=%s", job->env.tools->wasm_ld);
  arg(a, ls->fuse.data ? ls->fuse.data : "");
  export_names(a, job, fs, &ls->exports);
  arg(a, "-o");
  arg(a, k_out);
  if (ls->fuse.oom) a->full = true;
}

/* Step 2: the IR (and the allocator) to a reactor module. */
static wudf_status link_module(wudf_cc_job *job, const wudf_cc_funcs *fs,
                               wudf_error *err) {
  bool alloc = needs_alloc(job, fs);
  if (wudf_cc_diags_errors(&job->diags)) return WUDF_ERR_COMPILE;
  wudf_status st =
      alloc ? wudf_cc_write_file(job->env.work_dir, k_alloc, k_alloc_text,
                                 strlen(k_alloc_text), err)
            : WUDF_OK;
  args a = {.n = 0};
  link_strings ls = {0};
  link_args(job, fs, alloc, &a, &ls);
  uint32_t first = job->diags.n;
  if (st == WUDF_OK) st = run_clang(job, "the linker", &a, err);
  place_link_errors(job, first);
  wudf_strbuf_reset(&ls.exports);
  wudf_strbuf_reset(&ls.fuse);
  wudf_free(ls.include);
  return st;
}

static wudf_status read_functions(wudf_cc_job *job, wudf_cc_funcs *fs,
                                  wudf_error *err) {
  char *ir = NULL, *dir = NULL;
  size_t len = 0;
  wudf_status st = wudf_cc_read_file(
      job->env.work_dir, k_ir, job->env.opts->output_bytes, &ir, &len, err);
  if (st == WUDF_OK && !job->env.sandboxed) {
    dir = wudf_realpath(job->env.work_dir);
    if (!dir) st = wudf_fail(err, WUDF_ERR_IO, "resolving the work directory");
  }
  if (st == WUDF_OK)
    st = wudf_cc_ir_functions(ir, len, main_name(job),
                              dir ? dir : WUDF_CC_SANDBOX_DIR, job->source,
                              job->len, fs, err);
  wudf_free(dir);
  wudf_free(ir);
  return st;
}

/* Chooses the UDFs and writes the section into the linked module. */
static wudf_status finish(wudf_cc_job *job, const wudf_cc_funcs *fs,
                          wudf_error *err) {
  size_t off = 0, size = 0;
  bool has =
      job->wasm && wudf_cc_find_custom(job->wasm, job->wasm_len,
                                       WUDF_CC_UDFS_SECTION, &off, &size);
  wudf_cc_udf_input in = {
      .funcs = fs,
      .section = has ? (const char *)job->wasm + off : NULL,
      .section_len = size,
      .source = job->source,
      .source_len = job->len,
      .functions = job->functions,
      .nfunctions = job->nfunctions,
  };
  wudf_status st =
      wudf_cc_choose_udfs(&in, &job->diags, &job->udfs, &job->nudfs, err);
  if (st != WUDF_OK) return st;
  if (wudf_cc_diags_errors(&job->diags) || !job->wasm) return WUDF_ERR_COMPILE;
  size_t tlen;
  char *text = wudf_cc_udfs_text(job->udfs, job->nudfs, &tlen);
  if (!text) return wudf_fail(err, WUDF_ERR_NOMEM, "UDF section");
  st = wudf_cc_set_custom(&job->wasm, &job->wasm_len, WUDF_CC_UDFS_SECTION,
                          text, tlen, err);
  wudf_free(text);
  return st;
}

static wudf_status read_module(wudf_cc_job *job, wudf_error *err) {
  char *data = NULL;
  size_t len = 0;
  wudf_status st = wudf_cc_read_file(
      job->env.work_dir, k_out, job->env.opts->output_bytes, &data, &len, err);
  job->wasm = (uint8_t *)data;
  job->wasm_len = len;
  return st;
}

wudf_status wudf_cc_build_clang(wudf_cc_job *job, wudf_error *err) {
  wudf_cc_funcs fs = {0};
  const char *name = main_name(job);
  wudf_status st =
      wudf_cc_write_file(job->env.work_dir, name, job->source, job->len, err);
  if (st == WUDF_OK) st = compile_ir(job, err);
  if (st == WUDF_OK) st = read_functions(job, &fs, err);
  if (st == WUDF_OK) st = link_module(job, &fs, err);
  if (st == WUDF_OK) st = read_module(job, err);
  /* A failed link still gets its candidates judged: both kinds of
   * problems are shown at once. */
  if (st == WUDF_OK || (st == WUDF_ERR_COMPILE && fs.n)) {
    wudf_status f = finish(job, &fs, err);
    if (st == WUDF_OK) st = f;
  }
  wudf_cc_funcs_reset(&fs);
  return st;
}
