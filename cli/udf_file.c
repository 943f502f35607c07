/* --udf FILE for `wudf run` and `wudf bench`: read or compile, then load. */
#include "udf_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wudf_compile.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

wudf_cli_udf_kind wudf_cli_udf_kind_of(const char *path) {
  if (ends_with(path, ".wasm")) return WUDF_CLI_UDF_WASM;
  if (ends_with(path, ".c")) return WUDF_CLI_UDF_C;
  if (ends_with(path, ".cpp") || ends_with(path, ".cc") ||
      ends_with(path, ".cxx"))
    return WUDF_CLI_UDF_CPP;
  if (ends_with(path, ".wat")) return WUDF_CLI_UDF_WAT;
  return WUDF_CLI_UDF_UNKNOWN;
}

uint8_t *wudf_cli_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    wudf_cli_error("cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  bool bad = false;
  for (size_t got = 1; got && !bad;) {
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 65536;
      uint8_t *p = ncap > cap ? realloc(buf, ncap) : NULL;
      if (!p) {
        bad = true;
        break;
      }
      buf = p;
      cap = ncap;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  }
  bad = bad || ferror(f);
  fclose(f);
  if (bad) {
    wudf_cli_error("cannot read %s", path);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static void show_diagnostics(const wudf_compile_result *r) {
  uint32_t n = r ? wudf_compile_result_diagnostic_count(r) : 0;
  for (uint32_t i = 0; i < n; i++) {
    wudf_diagnostic d;
    char text[4096];
    if (wudf_compile_result_diagnostic(r, i, &d)) continue;
    wudf_diagnostic_format(&d, text, sizeof text);
    fprintf(stderr, "%s\n", text);
  }
}

static uint8_t *compile_source(const char *path, const char *function,
                               const char *cache_dir, size_t *len) {
  wudf_compile_options o;
  wudf_compile_options_init(&o);
  const char *fns[1] = {function};
  o.functions = fns;
  o.nfunctions = function ? 1 : 0;
  o.cache_dir = cache_dir;
  wudf_cli_compile_env(&o);
  wudf_compile_result *r = NULL;
  wudf_error err = {0};
  wudf_status st = wudf_compile_file(path, &o, &r, &err);
  show_diagnostics(r);
  size_t n = 0;
  const uint8_t *wasm = st == WUDF_OK ? wudf_compile_result_wasm(r, &n) : NULL;
  uint8_t *copy = wasm ? malloc(n ? n : 1) : NULL;
  if (copy) {
    memcpy(copy, wasm, n);
    *len = n;
  } else if (st == WUDF_OK) {
    wudf_cli_error("%s: out of memory", path);
  } else if (st == WUDF_ERR_COMPILE && r) {
    uint32_t errors = wudf_compile_result_error_count(r);
    wudf_cli_error("%s does not compile (%u error%s)", path, errors,
                   errors == 1 ? "" : "s");
  } else {
    wudf_cli_error("%s", err.message);
  }
  wudf_compile_result_free(r);
  return copy;
}

uint8_t *wudf_cli_udf_bytes(const char *path, const char *function,
                            const char *cache_dir, size_t *len) {
  wudf_cli_udf_kind kind = wudf_cli_udf_kind_of(path);
  if (kind == WUDF_CLI_UDF_UNKNOWN) {
    wudf_cli_error("%s: --udf takes a .c, .cpp, .wat or .wasm file", path);
    return NULL;
  }
  if (kind == WUDF_CLI_UDF_WASM) return wudf_cli_read_file(path, len);
  return compile_source(path, function, cache_dir, len);
}

int wudf_cli_udf_load(wudf_engine *engine, const char *path,
                      const char *function, const wudf_type *col_types,
                      uint32_t ncols, wudf_run_op op, wudf_type result,
                      wudf_module **out) {
  size_t len = 0;
  uint8_t *bytes =
      wudf_cli_udf_bytes(path, function, wudf_engine_cache_dir(engine), &len);
  if (!bytes) return 1;
  wudf_error err = {0};
  wudf_status st =
      wudf_run_module_load(engine, bytes, len, path, function, col_types, ncols,
                           op, result, out, &err);
  free(bytes);
  if (st) wudf_cli_error("%s", err.message);
  return st ? 1 : 0;
}
