/*
 * wudf compile [options] SRC
 *   Compiles a C, C++ or WebAssembly text source (a .wasm passes through)
 *   into a module with its wudf.udfs section, in the sandbox. Diagnostics go
 *   to stderr clang-style (FILE:LINE:COL: error: MESSAGE, the source line, a
 *   caret); the module to -o OUT (default: SRC with the extension .wasm).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "wudf_compile.h"

#define COMPILE_USAGE                                                        \
  "wudf compile [-o OUT.wasm] [--function NAME]... [--lang c|c++|wat|wasm] " \
  "[--no-sandbox] [--no-cache] [--cache-dir DIR] [--include-dir DIR] "       \
  "[--timeout S] SRC"

#define MAX_FUNCTIONS 256

typedef struct compile_opts {
  const char *src, *out;
  const char *functions[MAX_FUNCTIONS];
  uint32_t nfunctions;
  wudf_compile_options o;
} compile_opts;

static int parse_lang(const char *s, wudf_lang *out) {
  const wudf_lang all[] = {WUDF_LANG_C, WUDF_LANG_CXX, WUDF_LANG_WAT,
                           WUDF_LANG_WASM};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (!strcmp(s, wudf_lang_str(all[i]))) {
      *out = all[i];
      return 0;
    }
  return -1;
}

/* Options that take a value; returns -1 for an unknown one. */
static int value_opt(compile_opts *c, const char *opt, const char *v) {
  char *end;
  if (!strcmp(opt, "-o")) {
    c->out = v;
  } else if (!strcmp(opt, "--function")) {
    if (c->nfunctions == MAX_FUNCTIONS) return -1;
    c->functions[c->nfunctions++] = v;
  } else if (!strcmp(opt, "--lang")) {
    return parse_lang(v, &c->o.lang);
  } else if (!strcmp(opt, "--cache-dir")) {
    c->o.cache_dir = v;
  } else if (!strcmp(opt, "--include-dir")) {
    c->o.include_dir = v;
  } else if (!strcmp(opt, "--timeout")) {
    unsigned long t = strtoul(v, &end, 10);
    if (*end || end == v || t == 0 || t > 86400) return -1;
    c->o.timeout_s = c->o.cpu_s = (uint32_t)t;
  } else {
    return -1;
  }
  return 0;
}

static int parse_compile_opts(int argc, char **argv, compile_opts *c) {
  wudf_compile_options_init(&c->o);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--no-sandbox")) {
      c->o.unsandboxed = true;
    } else if (!strcmp(a, "--no-cache")) {
      c->o.no_cache = true;
    } else if (!strcmp(a, "--") && i + 2 == argc && !c->src) {
      c->src = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      if (i + 1 >= argc || value_opt(c, a, argv[i + 1])) return -1;
      i++;
    } else if (!c->src) {
      c->src = a;
    } else {
      return -1;
    }
  }
  c->o.functions = c->functions;
  c->o.nfunctions = c->nfunctions;
  wudf_cli_compile_env(&c->o);
  return c->src ? 0 : -1;
}

/* SRC with its extension replaced by .wasm; owned. */
static char *default_output(const char *src) {
  const char *base = strrchr(src, '/');
  base = base ? base + 1 : src;
  const char *dot = strrchr(base, '.');
  size_t stem = dot && dot != base ? (size_t)(dot - src) : strlen(src);
  char *out = malloc(stem + 6);
  if (out) {
    memcpy(out, src, stem);
    memcpy(out + stem, ".wasm", 6);
  }
  return out;
}

static void print_diagnostics(const wudf_compile_result *r) {
  char small[2048];
  for (uint32_t i = 0; i < wudf_compile_result_diagnostic_count(r); i++) {
    wudf_diagnostic d;
    wudf_compile_result_diagnostic(r, i, &d);
    size_t n = wudf_diagnostic_format(&d, small, sizeof small);
    if (n < sizeof small) {
      fputs(small, stderr);
      continue;
    }
    char *big = malloc(n + 1);
    if (big) wudf_diagnostic_format(&d, big, n + 1);
    fputs(big ? big : small, stderr);
    free(big);
  }
}

/* Writes through a temporary file renamed into place, so that a failed
 * write never leaves half a module under the name. */
static int write_module(const char *path, const uint8_t *wasm, size_t len) {
  size_t pl = strlen(path);
  char *tmp = malloc(pl + 16);
  if (!tmp) return -1;
  snprintf(tmp, pl + 16, "%s.tmp-XXXXXX", path);
  int fd = mkstemp(tmp);
  FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
  int rc = f && fwrite(wasm, 1, len, f) == len ? 0 : -1;
  if (f && fclose(f) != 0) rc = -1;
  if (!f && fd >= 0) close(fd);
  if (rc == 0 && rename(tmp, path) != 0) rc = -1;
  if (rc != 0) {
    wudf_cli_error("cannot write %s: %s", path, strerror(errno));
    if (fd >= 0) unlink(tmp);
  }
  free(tmp);
  return rc;
}

static void print_udfs(const wudf_compile_result *r, const char *out,
                       size_t len) {
  uint32_t n = wudf_compile_result_udf_count(r);
  printf("%s: %zu bytes, %u UDF%s%s\n", out, len, n, n == 1 ? "" : "s",
         wudf_compile_result_was_cached(r) ? " (cached)" : "");
  for (uint32_t i = 0; i < n; i++) {
    wudf_udf_sig sig;
    char text[512];
    wudf_compile_result_udf(r, i, &sig);
    wudf_udf_sig_format(&sig, text, sizeof text);
    printf("  %s\n", text);
  }
}

static int cmd_compile(int argc, char **argv) {
  compile_opts c = {0};
  if (parse_compile_opts(argc - 1, argv + 1, &c)) {
    wudf_cli_usage(stderr, "compile");
    return 2;
  }
  char *out = c.out ? NULL : default_output(c.src);
  const char *dest = c.out ? c.out : out;
  if (!dest || !strcmp(dest, c.src)) {
    wudf_cli_error("%s: give an output file with -o", c.src);
    free(out);
    return 2;
  }
  wudf_compile_result *r = NULL;
  wudf_error err = {0};
  wudf_status st = wudf_compile_file(c.src, &c.o, &r, &err);
  int rc = 1;
  if (r) print_diagnostics(r);
  if (st == WUDF_OK) {
    size_t len;
    const uint8_t *wasm = wudf_compile_result_wasm(r, &len);
    if (write_module(dest, wasm, len) == 0) {
      print_udfs(r, dest, len);
      rc = 0;
    }
  } else if (!r) {
    wudf_cli_error("%s", err.message);
  } else {
    uint32_t e = wudf_compile_result_error_count(r);
    fprintf(stderr, "%u error%s generated.\n", e, e == 1 ? "" : "s");
  }
  wudf_compile_result_free(r);
  free(out);
  return rc;
}

WUDF_CLI_COMMAND("compile", cmd_compile, COMPILE_USAGE)
