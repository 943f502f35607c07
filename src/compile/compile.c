/*
 * The public compile API (include/wudf_compile.h): options, dispatch by
 * language, the cache around the pipelines, and the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "compile/compile_internal.h"
#include "translate/toolchain.h"

/* When the calling thread's compile started (wudf_clock_seconds()), for
 * progress reports; per thread, as compiles run on several at once. */
static _Thread_local double t_started;

/* Reports `phase` to the options' progress callback, then
 * WUDF_ERR_CANCELLED if their cancel flag is set. */
static wudf_status step(const wudf_compile_options *o, wudf_phase phase,
                        wudf_error *err) {
  wudf_build_input in = {.cancel = o->cancel,
                         .progress = o->progress,
                         .progress_user = o->progress_user,
                         .started = t_started};
  return wudf_build_step(&in, phase, err);
}

#define DEFAULT_TIMEOUT_S 60
#define DEFAULT_CPU_S 60
#define DEFAULT_MEMORY (UINT64_C(2) << 30)
#define DEFAULT_OUTPUT (UINT64_C(256) << 20)
#define MAX_SOURCE ((size_t)64 << 20)
#define MAX_HEADER ((size_t)1 << 20)

struct wudf_compile_result {
  wudf_lang lang;
  char *file_name;
  wudf_cc_diags diags;
  char **lines; /* the source line of each diagnostic */
  uint8_t *wasm;
  size_t wasm_len;
  wudf_udf_sig *udfs;
  uint32_t nudfs;
  bool was_cached;
};

/* ------------------------------------------------------------------------ */
/* Languages and options                                                    */
/* ------------------------------------------------------------------------ */

const char *wudf_lang_str(wudf_lang lang) {
  switch (lang) {
    case WUDF_LANG_C:
      return "c";
    case WUDF_LANG_CXX:
      return "c++";
    case WUDF_LANG_WAT:
      return "wat";
    case WUDF_LANG_WASM:
      return "wasm";
    default:
      return "auto";
  }
}

wudf_lang wudf_lang_from_name(const char *name) {
  static const struct {
    const char *ext;
    wudf_lang lang;
  } k_exts[] = {{".c", WUDF_LANG_C},      {".cc", WUDF_LANG_CXX},
                {".cpp", WUDF_LANG_CXX},  {".cxx", WUDF_LANG_CXX},
                {".c++", WUDF_LANG_CXX},  {".C", WUDF_LANG_CXX},
                {".wat", WUDF_LANG_WAT},  {".wast", WUDF_LANG_WAT},
                {".wasm", WUDF_LANG_WASM}};
  const char *dot = name ? strrchr(name, '.') : NULL;
  if (!dot || strchr(dot, '/')) return WUDF_LANG_AUTO;
  for (size_t i = 0; i < sizeof k_exts / sizeof k_exts[0]; i++)
    if (!strcmp(dot, k_exts[i].ext)) return k_exts[i].lang;
  return WUDF_LANG_AUTO;
}

const char *wudf_severity_str(wudf_severity severity) {
  switch (severity) {
    case WUDF_SEVERITY_ERROR:
      return "error";
    case WUDF_SEVERITY_WARNING:
      return "warning";
    case WUDF_SEVERITY_NOTE:
      return "note";
    default:
      return "remark";
  }
}

void wudf_compile_options_init(wudf_compile_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->timeout_s = DEFAULT_TIMEOUT_S;
  o->cpu_s = DEFAULT_CPU_S;
  o->memory_bytes = DEFAULT_MEMORY;
  o->output_bytes = DEFAULT_OUTPUT;
}

static wudf_lang pick_lang(const wudf_compile_options *o, const char *src,
                           size_t len) {
  if (o->lang != WUDF_LANG_AUTO) return o->lang;
  wudf_lang l = wudf_lang_from_name(o->file_name);
  if (l != WUDF_LANG_AUTO) return l;
  if (len >= 4 && !memcmp(src, "\0asm", 4)) return WUDF_LANG_WASM;
  return WUDF_LANG_C;
}

static const char *default_name(wudf_lang lang) {
  switch (lang) {
    case WUDF_LANG_CXX:
      return "udf.cpp";
    case WUDF_LANG_WAT:
      return "udf.wat";
    case WUDF_LANG_WASM:
      return "udf.wasm";
    default:
      return "udf.c";
  }
}

/* Copies the options with the defaults filled in. */
static void resolve_options(const wudf_compile_options *in,
                            wudf_compile_options *o, const char *src,
                            size_t len, wudf_lang *lang) {
  if (in)
    *o = *in;
  else
    wudf_compile_options_init(o);
  if (!o->timeout_s) o->timeout_s = DEFAULT_TIMEOUT_S;
  if (!o->cpu_s) o->cpu_s = DEFAULT_CPU_S;
  if (!o->memory_bytes) o->memory_bytes = DEFAULT_MEMORY;
  if (!o->output_bytes) o->output_bytes = DEFAULT_OUTPUT;
  *lang = pick_lang(o, src, len);
  if (!o->file_name || !*o->file_name) o->file_name = default_name(*lang);
}

/* ------------------------------------------------------------------------ */
/* wudf_guest.h                                                             */
/* ------------------------------------------------------------------------ */

static char *header_in(const char *dir) {
  if (!dir || !*dir) return NULL;
  char *path = wudf_cc_path_join(dir, WUDF_CC_GUEST_HEADER);
  char *real = path ? wudf_realpath(path) : NULL;
  struct stat st;
  wudf_free(path);
  if (real && stat(real, &st) == 0 && S_ISREG(st.st_mode)) return real;
  wudf_free(real);
  return NULL;
}

/* <directory of the running program>/../include */
static char *header_near_program(void) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return NULL;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return NULL;
  strcpy(slash, "/../include");
  return header_in(exe);
}

/* The real path of the wudf_guest.h to show the compiler, or NULL. */
static char *find_guest_header(const wudf_compile_options *o) {
  if (o->include_dir) return header_in(o->include_dir);
  char *h = header_near_program();
  if (!h) h = header_in("/usr/local/include");
  if (!h) h = header_in("/usr/include");
  return h;
}

/* ------------------------------------------------------------------------ */
/* Results                                                                  */
/* ------------------------------------------------------------------------ */

static char *source_line(const char *src, size_t len, uint32_t line) {
  const char *p = src, *end = src + len;
  for (uint32_t l = 1; line && p && l < line; l++) {
    p = memchr(p, '\n', (size_t)(end - p));
    if (p) p++;
  }
  if (!line || !p || p > end) return wudf_strdup("");
  const char *e = memchr(p, '\n', (size_t)(end - p));
  size_t n = e ? (size_t)(e - p) : (size_t)(end - p);
  if (n && p[n - 1] == '\r') n--;
  return wudf_strndup(p, n);
}

static void free_lines(char **lines, uint32_t n) {
  for (uint32_t i = 0; lines && i < n; i++) wudf_free(lines[i]);
  wudf_free(lines);
}

static wudf_status new_result(wudf_cc_job *job, const char *file_name,
                              wudf_compile_result **out, wudf_error *err) {
  uint32_t n = job->diags.n;
  wudf_compile_result *r = wudf_calloc(1, sizeof *r);
  char **lines = wudf_calloc(n + 1u, sizeof *lines);
  char *name = wudf_strdup(file_name);
  bool ok = r && lines && name && !job->diags.oom;
  for (uint32_t i = 0; ok && i < n; i++)
    ok = (lines[i] = source_line(job->source, job->len,
                                 job->diags.items[i].line)) != NULL;
  if (!ok) {
    free_lines(lines, n);
    wudf_free(name);
    wudf_free(r);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for the result");
  }
  r->lang = job->lang;
  r->file_name = name;
  r->lines = lines;
  r->diags = job->diags;
  memset(&job->diags, 0, sizeof job->diags);
  r->wasm = job->wasm;
  r->wasm_len = job->wasm_len;
  r->udfs = job->udfs;
  r->nudfs = job->nudfs;
  job->wasm = NULL;
  job->udfs = NULL;
  *out = r;
  return WUDF_OK;
}

/* err for a source that did not compile: its first error. */
static wudf_status compile_error(const wudf_compile_result *r,
                                 wudf_error *err) {
  uint32_t errors = wudf_compile_result_error_count(r);
  for (uint32_t i = 0; i < r->diags.n; i++) {
    const wudf_cc_diag *d = &r->diags.items[i];
    if (d->severity != WUDF_SEVERITY_ERROR) continue;
    char pos[64] = "";
    if (d->line && d->column)
      snprintf(pos, sizeof pos, ":%u:%u", d->line, d->column);
    else if (d->line)
      snprintf(pos, sizeof pos, ":%u", d->line);
    char more[64] = "";
    if (errors > 1)
      snprintf(more, sizeof more, " (and %u more error%s)", errors - 1,
               errors > 2 ? "s" : "");
    return wudf_fail(err, WUDF_ERR_COMPILE, "%s%s: error: %s%s", r->file_name,
                     pos, d->message, more);
  }
  return wudf_fail(err, WUDF_ERR_COMPILE, "%s does not compile", r->file_name);
}

/* Fills the UDF list from the module's own section (cache hits, binary
 * modules). A section that does not parse is the source's error. */
static void udfs_from_section(wudf_cc_job *job) {
  size_t off, size;
  if (!wudf_cc_find_custom(job->wasm, job->wasm_len, WUDF_CC_UDFS_SECTION, &off,
                           &size))
    return;
  wudf_error e = {0};
  if (wudf_cc_parse_udfs((const char *)job->wasm + off, size, &job->udfs,
                         &job->nudfs, &e) != WUDF_OK)
    wudf_cc_diags_add(&job->diags, WUDF_SEVERITY_ERROR, 0, 0, "%s", e.message);
}

/* ------------------------------------------------------------------------ */
/* Compiling                                                                */
/* ------------------------------------------------------------------------ */

static wudf_status pass_through(wudf_cc_job *job, wudf_error *err) {
  static const uint8_t magic[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  if (job->len < sizeof magic || memcmp(job->source, magic, sizeof magic))
    return wudf_fail(err, WUDF_ERR_MALFORMED,
                     "%s is not a WebAssembly binary module (version 1)",
                     job->env.opts->file_name);
  job->wasm = wudf_malloc(job->len);
  if (!job->wasm) return wudf_fail(err, WUDF_ERR_NOMEM, "copying the module");
  memcpy(job->wasm, job->source, job->len);
  job->wasm_len = job->len;
  udfs_from_section(job);
  return wudf_cc_diags_errors(&job->diags) ? WUDF_ERR_COMPILE : WUDF_OK;
}

static wudf_status read_header(const char *path, char **text, size_t *len,
                               wudf_error *err) {
  *text = NULL;
  *len = 0;
  if (!path) return WUDF_OK;
  const char *slash = strrchr(path, '/');
  char *dir = wudf_strndup(path, (size_t)(slash - path));
  if (!dir) return wudf_fail(err, WUDF_ERR_NOMEM, "header path");
  wudf_status st =
      wudf_cc_read_file(dir, slash + 1, MAX_HEADER, text, len, err);
  wudf_free(dir);
  return st;
}

static wudf_status run_pipeline(wudf_cc_job *job, const char *tmp_parent,
                                wudf_error *err) {
  char *work = NULL;
  wudf_status st = wudf_cc_workdir_new(tmp_parent, &work, err);
  if (st != WUDF_OK) return st;
  job->env.work_dir = work;
  st = job->lang == WUDF_LANG_WAT ? wudf_cc_build_wat(job, err)
                                  : wudf_cc_build_clang(job, err);
  wudf_cc_workdir_remove(work);
  wudf_free(work);
  job->env.work_dir = NULL;
  return st;
}

/* With the cache around it (unless no_cache); *hit tells a cache hit. */
static wudf_status compile_source(wudf_cc_job *job, bool *hit,
                                  wudf_error *err) {
  const wudf_compile_options *o = job->env.opts;
  wudf_cc_cache cache = {0};
  char *header = NULL, key[65];
  size_t header_len = 0;
  wudf_status st = step(o, WUDF_PHASE_CACHE, err);
  if (st == WUDF_OK)
    st = read_header(job->env.guest_header, &header, &header_len, err);
  if (st == WUDF_OK && !o->no_cache)
    st = wudf_cc_cache_open(&cache, o->cache_dir, err);
  if (st != WUDF_OK) goto done;
  wudf_cc_cache_key(job, header, header_len, key);
  if (cache.dir && wudf_cc_cache_load(&cache, key, &job->wasm, &job->wasm_len,
                                      &job->diags)) {
    udfs_from_section(job);
    st = wudf_cc_diags_errors(&job->diags) ? WUDF_ERR_COMPILE : WUDF_OK;
    *hit = true;
    goto done;
  }
  st = step(o, WUDF_PHASE_COMPILE, err);
  if (st == WUDF_OK) st = run_pipeline(job, cache.tmp, err);
  if (st == WUDF_OK && cache.dir)
    wudf_cc_cache_store(&cache, key, job->wasm, job->wasm_len, &job->diags);
done:
  wudf_free(header);
  wudf_cc_cache_reset(&cache);
  return st;
}

static wudf_status compile_job(wudf_cc_job *job, bool *cached,
                               wudf_error *err) {
  if (job->lang == WUDF_LANG_WASM) return pass_through(job, err);
  wudf_status st = wudf_cc_tools_get(job->env.opts, &job->env.tools, err);
  if (st != WUDF_OK) return st;
  char *header = find_guest_header(job->env.opts);
  job->env.guest_header = header;
  st = compile_source(job, cached, err);
  job->env.guest_header = NULL;
  wudf_free(header);
  return st;
}

/* The result of a compile that ran: a module, or the source's errors. */
static wudf_status finish_result(wudf_cc_job *job, wudf_status st, bool cached,
                                 const char *file_name,
                                 wudf_compile_result **out, wudf_error *err) {
  if (st == WUDF_ERR_COMPILE) { /* neither a module nor UDFs */
    wudf_free(job->wasm);
    wudf_free(job->udfs);
    job->wasm = NULL;
    job->wasm_len = 0;
    job->udfs = NULL;
    job->nudfs = 0;
  }
  wudf_status made = new_result(job, file_name, out, err);
  if (made != WUDF_OK) return made;
  (*out)->was_cached = cached;
  if (st == WUDF_ERR_COMPILE) compile_error(*out, err);
  return st;
}

wudf_status wudf_compile(const char *source, size_t len,
                         const wudf_compile_options *options,
                         wudf_compile_result **out, wudf_error *err) {
  if (!out || (!source && len))
    return wudf_fail(err, WUDF_ERR_ARG, "compile: source or out is NULL");
  *out = NULL;
  if (len > MAX_SOURCE)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "the source is %zu bytes; the limit is %zu", len,
                     MAX_SOURCE);
  wudf_compile_options o;
  wudf_cc_job job = {.source = source ? source : "", .len = len};
  resolve_options(options, &o, job.source, len, &job.lang);
  job.env.opts = &o;
  job.env.sandboxed = !o.unsandboxed;
  job.functions = o.functions;
  job.nfunctions = o.functions ? o.nfunctions : 0;
  bool cached = false;
  t_started = wudf_clock_seconds();
  wudf_status st = compile_job(&job, &cached, err);
  if (st == WUDF_OK || st == WUDF_ERR_COMPILE)
    st = finish_result(&job, st, cached, o.file_name, out, err);
  if (st == WUDF_OK || st == WUDF_ERR_COMPILE)
    step(&o, WUDF_PHASE_DONE, NULL); /* finished: a late cancel is moot */
  wudf_cc_diags_reset(&job.diags);
  wudf_free(job.wasm);
  wudf_free(job.udfs);
  return st;
}

/* Reads the user's file (the calling process's own access, not the
 * sandbox's). */
static wudf_status read_source(const char *path, char **data, size_t *len,
                               wudf_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = fd < 0 ? errno : EINVAL;
    if (fd >= 0) close(fd);
    return wudf_fail(err, WUDF_ERR_IO, "%s: %s", path,
                     e == EINVAL ? "not a regular file" : strerror(e));
  }
  wudf_status s = WUDF_OK;
  size_t size = (size_t)st.st_size, got = 0;
  char *buf = (uint64_t)st.st_size > MAX_SOURCE ? NULL : wudf_malloc(size + 1);
  if (!buf) s = wudf_fail(err, WUDF_ERR_LIMIT, "%s is too large", path);
  while (s == WUDF_OK && got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) s = wudf_fail(err, WUDF_ERR_IO, "%s: %s", path, strerror(errno));
    if (r <= 0) break;
    got += (size_t)r;
  }
  close(fd);
  if (s != WUDF_OK) {
    wudf_free(buf);
    return s;
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return WUDF_OK;
}

wudf_status wudf_compile_file(const char *path,
                              const wudf_compile_options *options,
                              wudf_compile_result **out, wudf_error *err) {
  if (!path || !out) return wudf_fail(err, WUDF_ERR_ARG, "compile: NULL path");
  *out = NULL;
  char *data = NULL;
  size_t len = 0;
  wudf_status st = read_source(path, &data, &len, err);
  if (st != WUDF_OK) return st;
  wudf_compile_options o;
  if (options)
    o = *options;
  else
    wudf_compile_options_init(&o);
  if (!o.file_name) o.file_name = path;
  st = wudf_compile(data, len, &o, out, err);
  wudf_free(data);
  return st;
}

/* ------------------------------------------------------------------------ */
/* Reading results                                                          */
/* ------------------------------------------------------------------------ */

void wudf_compile_result_free(wudf_compile_result *r) {
  if (!r) return;
  free_lines(r->lines, r->diags.n);
  wudf_cc_diags_reset(&r->diags);
  wudf_free(r->file_name);
  wudf_free(r->wasm);
  wudf_free(r->udfs);
  wudf_free(r);
}

const uint8_t *wudf_compile_result_wasm(const wudf_compile_result *r,
                                        size_t *len) {
  if (len) *len = r ? r->wasm_len : 0;
  return r ? r->wasm : NULL;
}

wudf_lang wudf_compile_result_lang(const wudf_compile_result *r) {
  return r ? r->lang : WUDF_LANG_AUTO;
}

bool wudf_compile_result_was_cached(const wudf_compile_result *r) {
  return r && r->was_cached;
}

uint32_t wudf_compile_result_udf_count(const wudf_compile_result *r) {
  return r ? r->nudfs : 0;
}

wudf_status wudf_compile_result_udf(const wudf_compile_result *r,
                                    uint32_t index, wudf_udf_sig *sig) {
  if (!r || !sig || index >= r->nudfs) return WUDF_ERR_ARG;
  *sig = r->udfs[index];
  return WUDF_OK;
}

uint32_t wudf_compile_result_diagnostic_count(const wudf_compile_result *r) {
  return r ? r->diags.n : 0;
}

wudf_status wudf_compile_result_diagnostic(const wudf_compile_result *r,
                                           uint32_t index, wudf_diagnostic *d) {
  if (!r || !d || index >= r->diags.n) return WUDF_ERR_ARG;
  const wudf_cc_diag *x = &r->diags.items[index];
  *d = (wudf_diagnostic){x->severity, r->file_name, x->line,
                         x->column,   x->message,   r->lines[index]};
  return WUDF_OK;
}

uint32_t wudf_compile_result_error_count(const wudf_compile_result *r) {
  return r ? wudf_cc_diags_errors(&r->diags) : 0;
}

size_t wudf_diagnostic_format(const wudf_diagnostic *d, char *buf,
                              size_t size) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_strbuf_puts(&sb, d->file ? d->file : "");
  if (d->line) wudf_strbuf_printf(&sb, ":%u", d->line);
  if (d->line && d->column) wudf_strbuf_printf(&sb, ":%u", d->column);
  wudf_strbuf_printf(&sb, ": %s: %s\n", wudf_severity_str(d->severity),
                     d->message ? d->message : "");
  const char *src = d->source_line ? d->source_line : "";
  if (d->line && *src) {
    wudf_strbuf_printf(&sb, "%s\n", src);
    size_t n = strlen(src);
    for (uint32_t i = 0; d->column && i + 1 < d->column && i < n; i++)
      wudf_strbuf_append(&sb, src[i] == '\t' ? "\t" : " ", 1);
    if (d->column) wudf_strbuf_puts(&sb, "^\n");
  }
  size_t total = sb.oom ? 0 : sb.len;
  if (size) snprintf(buf, size, "%s", sb.oom || !sb.data ? "" : sb.data);
  wudf_strbuf_reset(&sb);
  return total;
}
