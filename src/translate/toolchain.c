/* Running wasm2c and the C compiler; see toolchain.h for the recipe. */
#include "translate/toolchain.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "translate/process.h"

/* The one place the build flags are written down; all of it is hashed into
 * the toolchain id, so changing a flag changes every cache key. */
static const char *const k_cc_flags[] = {
    "-O3",
    "-fPIC",
    "-shared",
    "-fvisibility=hidden",
    "-fno-optimize-sibling-calls",
    /* Cold blocks (the calls to traps) stay inside their function, where
     * the shim's table of function addresses places them (api/locate.c). */
    "-fno-reorder-blocks-and-partition",
    "-fstack-clash-protection",
    "-fno-strict-aliasing",
    /* Keeps x*1.0, x-0.0 etc.: WebAssembly requires them to quiet NaNs. */
    "-fsignaling-nans",
    "-DNDEBUG",
    "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1",
    "-w",
    "-Wl,--no-undefined",
    "-Wl,-z,noexecstack",
};
#define N_CC_FLAGS (sizeof k_cc_flags / sizeof k_cc_flags[0])
static const char *const k_cc_libs = "-lm"; /* after the source file */
static const char *const k_unit_c = "unit.c";
static const char *const k_module_wasm = "module.wasm";
static const char *const k_module_c = "module.c";
static const char *const k_wasm2c_name_opt = "--module-name=";
/* Version of this recipe (file names, patching, unit layout). */
static const char *const k_recipe = "wudf-toolchain-recipe-1";

#define TOOL_OUTPUT_MAX ((size_t)64 * 1024)
#define WASM2C_ERROR_LINES 3
#define CC_ERROR_LINES 10

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

static const char *errstr(int e, char *buf, size_t n) {
  return strerror_r(e, buf, n);
}

/* Writes the concatenation of `n` parts to `path` (created or truncated). */
static wudf_status write_parts(const char *path, const char *const parts[],
                               const size_t lens[], size_t n, wudf_error *err) {
  char eb[128];
  int fd =
      open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) goto fail;
  for (size_t i = 0; i < n; i++)
    if (wudf_write_all(fd, parts[i], lens[i]) != WUDF_OK) goto fail;
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  return WUDF_OK;
fail:;
  int e = errno;
  if (fd >= 0) close(fd);
  return wudf_fail(err, WUDF_ERR_IO, "writing %s: %s", path,
                   errstr(e, eb, sizeof eb));
}

/* Reads a whole file; *data is owned and NUL-terminated. */
static wudf_status read_file(const char *path, char **data, size_t *len,
                             wudf_error *err) {
  char eb[128];
  char *buf = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) goto fail;
  size_t size = (size_t)st.st_size, got = 0;
  if (st.st_size < 0 || (uint64_t)st.st_size >= SIZE_MAX) {
    close(fd);
    return wudf_fail(err, WUDF_ERR_LIMIT, "reading %s: file too large", path);
  }
  buf = wudf_malloc(size + 1);
  if (!buf) goto nomem;
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) goto fail;
    if (r == 0) break; /* shrank meanwhile: keep what is there */
    got += (size_t)r;
  }
  close(fd);
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return WUDF_OK;
nomem:
  if (fd >= 0) close(fd);
  return wudf_fail(err, WUDF_ERR_NOMEM, "reading %s: out of memory", path);
fail:;
  int e = errno;
  if (fd >= 0) close(fd);
  wudf_free(buf);
  return wudf_fail(err, WUDF_ERR_IO, "reading %s: %s", path,
                   errstr(e, eb, sizeof eb));
}

static char *path_join(const char *dir, const char *name) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_strbuf_printf(&sb, "%s/%s", dir, name);
  return wudf_strbuf_take(&sb);
}

/* ------------------------------------------------------------------------ */
/* Tool output                                                              */
/* ------------------------------------------------------------------------ */

/* Length of an absolute path to an object file followed by ": " at p (the
 * compiler driver's temporary objects, as in "ld: /tmp/ccAbc123.o: in
 * function ..."), else 0. */
static size_t temp_object_at(const char *p, const char *end) {
  if (*p != '/') return 0;
  const char *q = p;
  while (q < end && *q != ' ' && *q != ':') q++;
  if (end - q < 2 || q[0] != ':' || q[1] != ' ') return 0;
  if (q - p < 3 || q[-2] != '.' || q[-1] != 'o') return 0;
  return (size_t)(q + 2 - p);
}

/* Appends line [p, end) without the temporary paths in it: every occurrence
 * of `strip` and the compiler's temporary object names. */
static void append_stripped(wudf_strbuf *sb, const char *p, const char *end,
                            const char *strip) {
  size_t sl = strip ? strlen(strip) : 0;
  while (p < end) {
    size_t skip = temp_object_at(p, end);
    if (!skip && sl && (size_t)(end - p) >= sl && memcmp(p, strip, sl) == 0)
      skip = sl;
    if (skip) {
      p += skip;
      continue;
    }
    wudf_strbuf_append(sb, p, 1);
    p++;
  }
}

/* The first `max_lines` non-empty lines of a tool's output, without the work
 * directory's path (if not NULL) and without a leading "module.wasm:". */
static void first_lines(const char *out, const char *work_dir, int max_lines,
                        char *buf, size_t size) {
  wudf_strbuf sb, strip;
  wudf_strbuf_init(&sb);
  wudf_strbuf_init(&strip);
  if (work_dir) wudf_strbuf_printf(&strip, "%s/", work_dir);
  const char *p = out ? out : "";
  for (int n = 0; *p && n < max_lines;) {
    const char *end = strchr(p, '\n');
    if (!end) end = p + strlen(p);
    size_t ml = strlen(k_module_wasm);
    if ((size_t)(end - p) > ml && memcmp(p, k_module_wasm, ml) == 0 &&
        p[ml] == ':')
      p += ml + 1;
    if (end > p) {
      if (n++ > 0) wudf_strbuf_append(&sb, "\n", 1);
      append_stripped(&sb, p, end, strip.data);
    }
    p = *end ? end + 1 : end;
  }
  snprintf(buf, size, "%s", sb.data && !sb.oom ? sb.data : "(no output)");
  wudf_strbuf_reset(&sb);
  wudf_strbuf_reset(&strip);
}

/* Runs a tool with the build limits; `cancel` may be NULL. */
static wudf_status run_tool(const wudf_toolchain *tc, const char *const argv[],
                            const char *cwd, const wudf_cancel *cancel,
                            wudf_process_result *res, wudf_error *err) {
  wudf_process_opts opts = {
      .timeout_s = tc->timeout_s,
      .max_memory_bytes = WUDF_TOOLCHAIN_MAX_MEMORY,
      .max_file_bytes = WUDF_TOOLCHAIN_MAX_FILE,
      .cwd = cwd,
      .max_output = TOOL_OUTPUT_MAX,
      .cancel = cancel,
  };
  return wudf_process_run(argv, &opts, res, err);
}

double wudf_clock_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

wudf_status wudf_build_step(const wudf_build_input *in, wudf_phase phase,
                            wudf_error *err) {
  if (in->progress)
    in->progress(in->progress_user, phase, wudf_clock_seconds() - in->started);
  if (wudf_cancel_is_set(in->cancel))
    return wudf_fail(err, WUDF_ERR_CANCELLED, "cancelled before %s",
                     wudf_phase_str(phase));
  return WUDF_OK;
}

/* WUDF_ERR_COMPILE for a tool that did not exit with status 0, or OK. */
static wudf_status check_tool(const wudf_toolchain *tc, const char *what,
                              const wudf_process_result *res,
                              const char *work_dir, wudf_error *err) {
  char lines[768];
  if (res->timed_out)
    return wudf_fail(err, WUDF_ERR_COMPILE, "%s timed out after %u s", what,
                     tc->timeout_s);
  if (res->exit_code == 0 && res->term_signal == 0) return WUDF_OK;
  first_lines(res->output, work_dir, CC_ERROR_LINES, lines, sizeof lines);
  if (res->term_signal)
    return wudf_fail(err, WUDF_ERR_COMPILE, "%s was killed by signal %d: %s",
                     what, res->term_signal, lines);
  return wudf_fail(err, WUDF_ERR_COMPILE, "%s failed (exit status %d): %s",
                   what, res->exit_code, lines);
}

/* ------------------------------------------------------------------------ */
/* Identity                                                                 */
/* ------------------------------------------------------------------------ */

/* A presence byte, a 64-bit little-endian length, then the bytes. */
static void hash_field(wudf_sha256_ctx *h, const void *data, size_t len,
                       bool present) {
  uint8_t head[9];
  uint64_t n = present ? (uint64_t)len : 0;
  head[0] = present ? 1 : 0;
  for (int i = 0; i < 8; i++) head[1 + i] = (uint8_t)(n >> (8 * i));
  wudf_sha256_update(h, head, sizeof head);
  if (present && len) wudf_sha256_update(h, data, len);
}

static void hash_str(wudf_sha256_ctx *h, const char *s) {
  hash_field(h, s, s ? strlen(s) : 0, s != NULL);
}

static void hash_recipe(wudf_sha256_ctx *h) {
  hash_str(h, k_recipe);
  for (size_t i = 0; i < N_CC_FLAGS; i++) hash_str(h, k_cc_flags[i]);
  hash_str(h, k_cc_libs);
  hash_str(h, k_unit_c);
  hash_str(h, k_module_wasm);
  hash_str(h, k_module_c);
  hash_str(h, k_wasm2c_name_opt);
}

/* Runs `tool --version`; the output is owned by the caller. */
static wudf_status tool_version(const wudf_toolchain *tc, const char *tool,
                                const char *package, wudf_process_result *res,
                                wudf_error *err) {
  const char *argv[] = {tool, "--version", NULL};
  wudf_status st = run_tool(tc, argv, NULL, NULL, res, err);
  if (st == WUDF_OK) st = check_tool(tc, tool, res, NULL, err);
  if (st == WUDF_OK) return WUDF_OK;
  wudf_error_prefix(err,
                    "%s is missing or broken (install it with "
                    "\"apt-get install %s\")",
                    tool, package);
  if (err) err->status = WUDF_ERR_COMPILE;
  return WUDF_ERR_COMPILE;
}

/* Finds the path of wasm-rt.h in `cc -M` output (make dependency syntax:
 * space-separated, "\ " escapes a space, "\<newline>" continues). */
static char *find_header_in_deps(const char *deps, const char *header) {
  wudf_strbuf tok;
  wudf_strbuf_init(&tok);
  size_t hl = strlen(header);
  for (const char *p = deps;; p++) {
    bool sep = *p == '\0' || *p == ' ' || *p == '\n' || *p == '\t' ||
               (*p == '\\' && p[1] == '\n');
    if (!sep) {
      if (*p == '\\' && p[1] == ' ') p++;
      wudf_strbuf_append(&tok, p, 1);
      continue;
    }
    if (tok.len > hl && tok.data[tok.len - hl - 1] == '/' &&
        strcmp(tok.data + tok.len - hl, header) == 0)
      return wudf_strbuf_take(&tok);
    if (*p == '\0' || tok.oom) break;
    tok.len = 0;
  }
  wudf_strbuf_reset(&tok);
  return NULL;
}

/* Reads the wasm-rt.h that the compiler resolves for the generated code. */
static wudf_status read_runtime_header(const wudf_toolchain *tc, char **text,
                                       size_t *len, wudf_error *err) {
  const char *argv[] = {tc->cc,      "-M",       "-x",        "c",
                        "/dev/null", "-include", "wasm-rt.h", NULL};
  wudf_process_result res = {0};
  wudf_status st = run_tool(tc, argv, NULL, NULL, &res, err);
  if (st == WUDF_OK) st = check_tool(tc, tc->cc, &res, NULL, err);
  char *path =
      st == WUDF_OK ? find_header_in_deps(res.output, "wasm-rt.h") : NULL;
  wudf_process_result_reset(&res);
  if (!path) {
    if (st == WUDF_OK)
      wudf_fail(err, WUDF_ERR_COMPILE, "%s resolved no wasm-rt.h", tc->cc);
    wudf_error_prefix(err,
                      "the wasm2c runtime header is missing (install "
                      "it with \"apt-get install wabt\")");
    if (err) err->status = WUDF_ERR_COMPILE;
    return WUDF_ERR_COMPILE;
  }
  st = read_file(path, text, len, err);
  wudf_free(path);
  return st;
}

static wudf_status compute_id(wudf_toolchain *tc, wudf_error *err) {
  wudf_process_result w = {0}, c = {0};
  char *header = NULL;
  size_t header_len = 0;
  wudf_status st = tool_version(tc, tc->wasm2c, "wabt", &w, err);
  if (st == WUDF_OK) st = tool_version(tc, tc->cc, "gcc", &c, err);
  if (st == WUDF_OK) st = read_runtime_header(tc, &header, &header_len, err);
  if (st == WUDF_OK) {
    wudf_sha256_ctx h;
    uint8_t digest[WUDF_SHA256_DIGEST_SIZE];
    wudf_sha256_init(&h);
    hash_field(&h, w.output, w.output_len, true);
    hash_field(&h, c.output, c.output_len, true);
    hash_field(&h, header, header_len, true);
    hash_recipe(&h);
    wudf_sha256_final(&h, digest);
    wudf_sha256_to_hex(digest, tc->id_hex);
  }
  wudf_free(header);
  wudf_process_result_reset(&w);
  wudf_process_result_reset(&c);
  return st;
}

wudf_status wudf_toolchain_init(wudf_toolchain *tc, const char *cc,
                                const char *wasm2c, uint32_t timeout_s,
                                wudf_error *err) {
  if (!tc) return wudf_fail(err, WUDF_ERR_ARG, "toolchain: NULL argument");
  memset(tc, 0, sizeof *tc);
  if (!cc || !*cc || !wasm2c || !*wasm2c)
    return wudf_fail(err, WUDF_ERR_ARG, "toolchain: empty command name");
  tc->cc = wudf_strdup(cc);
  tc->wasm2c = wudf_strdup(wasm2c);
  tc->timeout_s = timeout_s;
  if (!tc->cc || !tc->wasm2c) {
    wudf_toolchain_reset(tc);
    return wudf_fail(err, WUDF_ERR_NOMEM, "toolchain: copying command names");
  }
  wudf_status st = compute_id(tc, err);
  if (st != WUDF_OK) wudf_toolchain_reset(tc);
  return st;
}

void wudf_toolchain_reset(wudf_toolchain *tc) {
  if (!tc) return;
  wudf_free(tc->cc);
  wudf_free(tc->wasm2c);
  memset(tc, 0, sizeof *tc);
}

void wudf_toolchain_key(const wudf_toolchain *tc, const wudf_build_input *in,
                        char hex[65]) {
  wudf_sha256_ctx h;
  uint8_t digest[WUDF_SHA256_DIGEST_SIZE];
  wudf_sha256_init(&h);
  hash_str(&h, "wudf-build-key-1");
  hash_field(&h, tc->id_hex, strlen(tc->id_hex), true);
  hash_field(&h, in->wasm, in->wasm_len, in->wasm != NULL);
  hash_str(&h, in->module_name);
  hash_str(&h, in->prelude);
  hash_str(&h, in->postlude);
  hash_str(&h, in->call_indirect_override);
  wudf_sha256_final(&h, digest);
  wudf_sha256_to_hex(digest, hex);
}

/* ------------------------------------------------------------------------ */
/* Build steps                                                              */
/* ------------------------------------------------------------------------ */

static bool is_c_identifier(const char *s) {
  if (!s ||
      !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
    return false;
  for (; *s; s++)
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9')))
      return false;
  return true;
}

static wudf_status check_input(const wudf_toolchain *tc,
                               const wudf_build_input *in, const char *work_dir,
                               const char *out_so_path, wudf_error *err) {
  if (!tc || !tc->cc || !tc->wasm2c || !in || !work_dir || !out_so_path ||
      !*out_so_path)
    return wudf_fail(err, WUDF_ERR_ARG, "toolchain build: NULL argument");
  if (!in->wasm || in->wasm_len == 0)
    return wudf_fail(err, WUDF_ERR_ARG, "toolchain build: no module bytes");
  if (!is_c_identifier(in->module_name))
    return wudf_fail(err, WUDF_ERR_ARG,
                     "toolchain build: module name \"%s\" is not a C "
                     "identifier",
                     in->module_name ? in->module_name : "(null)");
  return WUDF_OK;
}

/* wasm2c validates as it translates; a refusal means an invalid module. */
static wudf_status run_wasm2c(const wudf_toolchain *tc,
                              const wudf_build_input *in, const char *work_dir,
                              wudf_error *err) {
  wudf_strbuf opt;
  wudf_strbuf_init(&opt);
  wudf_strbuf_printf(&opt, "%s%s", k_wasm2c_name_opt, in->module_name);
  if (opt.oom) return wudf_fail(err, WUDF_ERR_NOMEM, "wasm2c arguments");
  const char *argv[] = {tc->wasm2c, k_module_wasm, "-o",
                        k_module_c, opt.data,      NULL};
  wudf_process_result res = {0};
  wudf_status st = run_tool(tc, argv, work_dir, in->cancel, &res, err);
  if (st == WUDF_ERR_CANCELLED) {
    wudf_error_prefix(err, "translating the module");
  } else if (st != WUDF_OK) {
    wudf_error_prefix(err, "translating the module");
    if (err) err->status = WUDF_ERR_COMPILE;
    st = WUDF_ERR_COMPILE;
  } else if (res.exit_code > 0 && !res.timed_out) {
    char lines[768];
    first_lines(res.output, work_dir, WASM2C_ERROR_LINES, lines, sizeof lines);
    st = wudf_fail(err, WUDF_ERR_INVALID, "invalid module: %s", lines);
  } else {
    st = check_tool(tc, "wasm2c", &res, work_dir, err);
  }
  wudf_process_result_reset(&res);
  wudf_strbuf_reset(&opt);
  return st;
}

/* Offset just past the line that ends the CALL_INDIRECT macro definition,
 * or 0 if wasm2c's output has no such macro. */
static size_t call_indirect_end(const char *c) {
  static const char k_def[] = "#define CALL_INDIRECT";
  const size_t dl = sizeof k_def - 1;
  const char *p = c;
  while (p && !(strncmp(p, k_def, dl) == 0 &&
                (p[dl] == '(' || p[dl] == ' ' || p[dl] == '\t'))) {
    p = strchr(p, '\n');
    if (p) p++;
  }
  while (p && *p) {
    const char *nl = strchr(p, '\n');
    if (!nl) return (size_t)(p + strlen(p) - c);
    const char *last = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
    if (!(last > p && last[-1] == '\\')) return (size_t)(nl + 1 - c);
    p = nl + 1;
  }
  return 0;
}

static wudf_status patch_module_c(const wudf_build_input *in,
                                  const char *work_dir, wudf_error *err) {
  if (!in->call_indirect_override) return WUDF_OK;
  char *path = path_join(work_dir, k_module_c), *text = NULL;
  size_t len = 0;
  if (!path) return wudf_fail(err, WUDF_ERR_NOMEM, "module.c path");
  wudf_status st = read_file(path, &text, &len, err);
  size_t at = st == WUDF_OK ? call_indirect_end(text) : 0;
  if (st == WUDF_OK && at == 0)
    st = wudf_fail(err, WUDF_ERR_COMPILE,
                   "unexpected wasm2c output: no CALL_INDIRECT macro in "
                   "module.c");
  if (st == WUDF_OK) {
    const char *ov = in->call_indirect_override;
    size_t ol = strlen(ov);
    bool nl = ol > 0 && ov[ol - 1] != '\n';
    bool lead = text[at - 1] != '\n';
    const char *parts[] = {text, "\n", ov, "\n", text + at};
    size_t lens[] = {at, lead ? 1u : 0u, ol, nl ? 1u : 0u, len - at};
    st = write_parts(path, parts, lens, 5, err);
  }
  wudf_free(text);
  wudf_free(path);
  return st;
}

static wudf_status write_unit(const wudf_build_input *in, const char *work_dir,
                              wudf_error *err) {
  static const char k_include[] = "\n#include \"module.c\"\n";
  const char *pre = in->prelude ? in->prelude : "";
  const char *post = in->postlude ? in->postlude : "";
  char *path = path_join(work_dir, k_unit_c);
  if (!path) return wudf_fail(err, WUDF_ERR_NOMEM, "unit.c path");
  const char *parts[] = {pre, k_include, post, "\n"};
  size_t lens[] = {strlen(pre), sizeof k_include - 1, strlen(post), 1};
  wudf_status st = write_parts(path, parts, lens, 4, err);
  wudf_free(path);
  return st;
}

static wudf_status write_wasm(const wudf_build_input *in, const char *work_dir,
                              wudf_error *err) {
  char *path = path_join(work_dir, k_module_wasm);
  if (!path) return wudf_fail(err, WUDF_ERR_NOMEM, "module.wasm path");
  const char *parts[] = {(const char *)in->wasm};
  size_t lens[] = {in->wasm_len};
  wudf_status st = write_parts(path, parts, lens, 1, err);
  wudf_free(path);
  return st;
}

/* A fresh, unique temporary name next to out_so_path, absolute (the compiler
 * runs in the work directory). The empty file exists on success. */
static wudf_status temp_output(const char *out_so_path, char **tmp,
                               wudf_error *err) {
  char eb[128];
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  if (out_so_path[0] != '/') {
    char *cwd = getcwd(NULL, 0);
    if (!cwd)
      return wudf_fail(err, WUDF_ERR_IO, "getcwd: %s",
                       errstr(errno, eb, sizeof eb));
    wudf_strbuf_printf(&sb, "%s/", cwd);
    wudf_free(cwd);
  }
  wudf_strbuf_printf(&sb, "%s.tmp-XXXXXX", out_so_path);
  if (sb.oom) return wudf_fail(err, WUDF_ERR_NOMEM, "temporary output path");
  int fd = mkostemp(sb.data, O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    wudf_fail(err, WUDF_ERR_IO, "creating %s: %s", sb.data,
              errstr(e, eb, sizeof eb));
    wudf_strbuf_reset(&sb);
    return WUDF_ERR_IO;
  }
  close(fd);
  *tmp = wudf_strbuf_take(&sb);
  return WUDF_OK;
}

static wudf_status run_cc(const wudf_toolchain *tc, const char *work_dir,
                          const char *tmp_out, const wudf_cancel *cancel,
                          wudf_error *err) {
  const char *argv[N_CC_FLAGS + 6];
  size_t n = 0;
  argv[n++] = tc->cc;
  for (size_t i = 0; i < N_CC_FLAGS; i++) argv[n++] = k_cc_flags[i];
  argv[n++] = "-o";
  argv[n++] = tmp_out;
  argv[n++] = k_unit_c;
  argv[n++] = k_cc_libs;
  argv[n] = NULL;
  wudf_process_result res = {0};
  wudf_status st = run_tool(tc, argv, work_dir, cancel, &res, err);
  if (st == WUDF_OK) st = check_tool(tc, tc->cc, &res, work_dir, err);
  wudf_process_result_reset(&res);
  if (st == WUDF_ERR_CANCELLED) {
    wudf_error_prefix(err, "compiling the module");
  } else if (st != WUDF_OK) {
    wudf_error_prefix(err, "compiling the module");
    if (err) err->status = WUDF_ERR_COMPILE;
    st = WUDF_ERR_COMPILE;
  }
  return st;
}

/* Fixes the mode whatever the umask (the cache refuses group- or
 * world-writable files) and flushes the data before the rename publishes it,
 * so that a crash cannot leave a complete name on an empty file. */
static wudf_status seal_output(const char *tmp, wudf_error *err) {
  char eb[128];
  int fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0 && fchmod(fd, 0755) == 0 && fsync(fd) == 0) {
    close(fd);
    return WUDF_OK;
  }
  int e = errno;
  if (fd >= 0) close(fd);
  return wudf_fail(err, WUDF_ERR_IO, "finishing the compiled module %s: %s",
                   tmp, errstr(e, eb, sizeof eb));
}

static wudf_status compile_into(const wudf_toolchain *tc,
                                const wudf_build_input *in,
                                const char *work_dir, const char *out_so_path,
                                wudf_error *err) {
  char eb[128];
  char *tmp = NULL;
  wudf_status st = temp_output(out_so_path, &tmp, err);
  if (st != WUDF_OK) return st;
  st = run_cc(tc, work_dir, tmp, in->cancel, err);
  if (st == WUDF_OK) st = seal_output(tmp, err);
  if (st == WUDF_OK && rename(tmp, out_so_path) != 0)
    st = wudf_fail(err, WUDF_ERR_IO, "renaming the compiled module to %s: %s",
                   out_so_path, errstr(errno, eb, sizeof eb));
  if (st != WUDF_OK) unlink(tmp);
  wudf_free(tmp);
  return st;
}

wudf_status wudf_toolchain_build(const wudf_toolchain *tc,
                                 const wudf_build_input *in,
                                 const char *work_dir, const char *out_so_path,
                                 wudf_error *err) {
  wudf_status st = check_input(tc, in, work_dir, out_so_path, err);
  if (st == WUDF_OK) st = write_wasm(in, work_dir, err);
  if (st == WUDF_OK) st = wudf_build_step(in, WUDF_PHASE_TRANSLATE, err);
  if (st == WUDF_OK) st = run_wasm2c(tc, in, work_dir, err);
  if (st == WUDF_OK) st = patch_module_c(in, work_dir, err);
  if (st == WUDF_OK) st = write_unit(in, work_dir, err);
  if (st == WUDF_OK) st = wudf_build_step(in, WUDF_PHASE_CC, err);
  if (st == WUDF_OK) st = compile_into(tc, in, work_dir, out_so_path, err);
  return st;
}
