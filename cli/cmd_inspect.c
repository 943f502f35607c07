/*
 * wudf inspect [--cache-dir DIR] MODULE.wasm
 *   Describes a module: its size, whether its native code is already in the
 *   cache (asked before loading), its imports and exports with their types,
 *   its memories' limits and its UDF signatures. Loading validates the
 *   module (and compiles it to native code if it was not cached, as `wudf
 *   call` would).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define INSPECT_USAGE "wudf inspect [--cache-dir DIR] MODULE.wasm"

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    wudf_cli_error("%s: %s", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 65536;
      uint8_t *p = cap > ((size_t)1 << 31) ? NULL : realloc(buf, cap);
      if (!p) {
        wudf_cli_error("%s: too large", path);
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = p;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) break;
  }
  bool bad = ferror(f);
  fclose(f);
  if (bad) {
    wudf_cli_error("%s: read error", path);
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

static const char *kind_str(wudf_extern_kind k) {
  switch (k) {
    case WUDF_EXTERN_FUNC:
      return "func";
    case WUDF_EXTERN_TABLE:
      return "table";
    case WUDF_EXTERN_MEMORY:
      return "memory";
    default:
      return "global";
  }
}

static void print_types(const wudf_valtype *t, uint32_t n) {
  printf("(");
  for (uint32_t i = 0; i < n; i++)
    printf("%s%s", i ? ", " : "", wudf_valtype_str(t[i]));
  printf(")");
}

static void print_limits(const char *unit, const wudf_extern_info *x) {
  printf("min %llu %s, max ", (unsigned long long)x->min, unit);
  if (x->max == UINT64_MAX)
    printf("none");
  else
    printf("%llu %s", (unsigned long long)x->max, unit);
}

/* The type of an import or export, in text form. */
static void print_type(const wudf_extern_info *x) {
  switch (x->kind) {
    case WUDF_EXTERN_FUNC:
      print_types(x->params, x->nparams);
      printf(" -> ");
      print_types(x->results, x->nresults);
      break;
    case WUDF_EXTERN_GLOBAL:
      printf("%s%s", x->mutable_ ? "mut " : "",
             x->nresults ? wudf_valtype_str(x->results[0]) : "?");
      break;
    case WUDF_EXTERN_MEMORY:
      print_limits("pages", x);
      break;
    default:
      print_limits("elements", x);
      break;
  }
}

static void print_externs(const wudf_module *m, bool imports) {
  uint32_t n =
      imports ? wudf_module_import_count(m) : wudf_module_export_count(m);
  printf("%s (%u):\n", imports ? "imports" : "exports", n);
  for (uint32_t i = 0; i < n; i++) {
    wudf_extern_info x;
    if (imports)
      wudf_module_import(m, i, &x);
    else
      wudf_module_export(m, i, &x);
    printf("  %-6s ", kind_str(x.kind));
    if (imports) printf("%s.", x.module_name);
    printf("%s ", x.name);
    print_type(&x);
    printf("\n");
  }
}

/* Memories are described by the imports and exports that name them. */
static void print_memories(const wudf_module *m) {
  bool any = false;
  for (int pass = 0; pass < 2; pass++) {
    uint32_t n =
        pass ? wudf_module_export_count(m) : wudf_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
      wudf_extern_info x;
      if (pass ? wudf_module_export(m, i, &x) : wudf_module_import(m, i, &x))
        continue;
      if (x.kind != WUDF_EXTERN_MEMORY) continue;
      printf("memory %s%s%s: ", pass ? "exported as " : "imported from ",
             pass ? "" : x.module_name, pass ? x.name : "");
      if (!pass) printf(".%s", x.name);
      print_limits("pages", &x);
      printf(" (64 KiB each)\n");
      any = true;
    }
  }
  if (!any) printf("memory: none visible (not imported or exported)\n");
}

static void print_udfs(const wudf_module *m) {
  uint32_t n = wudf_module_udf_count(m);
  printf("UDFs (%u):\n", n);
  for (uint32_t i = 0; i < n; i++) {
    wudf_udf_sig sig;
    char text[512];
    wudf_module_udf(m, i, &sig);
    wudf_udf_sig_format(&sig, text, sizeof text);
    printf("  %s\n", text);
  }
}

static int inspect(wudf_engine *e, const char *path) {
  size_t len = 0;
  uint8_t *bytes = read_all(path, &len);
  if (!bytes) return 1;
  wudf_error err = {0};
  wudf_load_options lo = {.name = path};
  bool cached = false;
  wudf_module *m = NULL;
  int rc = 1;
  printf("module: %s\nsize: %zu bytes\n", path, len);
  if (wudf_module_is_cached(e, bytes, len, &lo, &cached, &err)) goto fail;
  printf("native code: %s (cache %s)\n", cached ? "cached" : "not cached",
         wudf_engine_cache_dir(e));
  if (wudf_module_load_ex(e, bytes, len, &lo, &m, &err)) goto fail;
  print_externs(m, true);
  print_externs(m, false);
  print_memories(m);
  print_udfs(m);
  rc = 0;
  goto out;
fail:
  wudf_cli_error("%s", err.message);
out:
  wudf_module_free(m);
  free(bytes);
  return rc;
}

static int cmd_inspect(int argc, char **argv) {
  const char *cache_dir = NULL, *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--cache-dir") && i + 1 < argc)
      cache_dir = argv[++i];
    else if (argv[i][0] != '-' && !path)
      path = argv[i];
    else {
      path = NULL;
      break;
    }
  }
  if (!path) {
    wudf_cli_usage(stderr, "inspect");
    return 2;
  }
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = cache_dir;
  wudf_cli_engine_env(&cfg);
  wudf_engine *e;
  wudf_error err = {0};
  if (wudf_engine_new(&cfg, &e, &err)) {
    wudf_cli_error("%s", err.message);
    return 1;
  }
  int rc = inspect(e, path);
  wudf_engine_free(e);
  return rc;
}

WUDF_CLI_COMMAND("inspect", cmd_inspect, INSPECT_USAGE)
