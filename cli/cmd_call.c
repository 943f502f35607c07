/*
 * wudf call [options] MODULE.wasm FUNCTION [ARG...]
 *   Loads MODULE (validated, compiled, cached), instantiates it in a sandbox
 *   and calls FUNCTION with ARGs parsed by its parameter types. Prints what
 *   the module wrote to stdout/stderr, then the results.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CALL_USAGE                                                     \
  "wudf call [--timeout-ms N] [--memory-limit MIB] [--cache-dir DIR] " \
  "MODULE.wasm FUNCTION [ARG...]"

typedef struct call_opts {
  const char *cache_dir;
  long timeout_ms, memory_mib;
  const char *module, *function;
  char **args;
  int nargs;
} call_opts;

static int parse_long(const char *s, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 0) return -1;
  *out = v;
  return 0;
}

static int parse_call_opts(int argc, char **argv, call_opts *o) {
  int i = 0;
  o->timeout_ms = o->memory_mib = -1;
  for (; i < argc && !strncmp(argv[i], "--", 2); i += 2) {
    if (i + 1 >= argc) return -1;
    if (!strcmp(argv[i], "--timeout-ms")) {
      if (parse_long(argv[i + 1], &o->timeout_ms)) return -1;
    } else if (!strcmp(argv[i], "--memory-limit")) {
      if (parse_long(argv[i + 1], &o->memory_mib)) return -1;
    } else if (!strcmp(argv[i], "--cache-dir")) {
      o->cache_dir = argv[i + 1];
    } else {
      return -1;
    }
  }
  if (argc - i < 2) return -1;
  o->module = argv[i];
  o->function = argv[i + 1];
  o->args = argv + i + 2;
  o->nargs = argc - i - 2;
  return 0;
}

/* Parses `s` as a value of `type`. */
static int parse_val(const char *s, wudf_valtype type, wudf_val *out) {
  char *end;
  errno = 0;
  out->type = type;
  switch (type) {
    case WUDF_I32: {
      long long v = strtoll(s, &end, 0);
      if (v < INT32_MIN || v > UINT32_MAX) return -1;
      out->of.i32 = (int32_t)(uint32_t)v;
      break;
    }
    case WUDF_I64:
      out->of.i64 = strtoll(s, &end, 0);
      break;
    case WUDF_F32:
      out->of.f32 = strtof(s, &end);
      break;
    case WUDF_F64:
      out->of.f64 = strtod(s, &end);
      break;
    default:
      return -1;
  }
  return (errno || *end || end == s) ? -1 : 0;
}

static void print_val(const wudf_val *v) {
  switch (v->type) {
    case WUDF_I32:
      printf("%" PRId32 "\n", v->of.i32);
      break;
    case WUDF_I64:
      printf("%" PRId64 "\n", v->of.i64);
      break;
    case WUDF_F32:
      printf("%.9g\n", (double)v->of.f32);
      break;
    case WUDF_F64:
      printf("%.17g\n", v->of.f64);
      break;
    default:
      printf("%s:%p\n", wudf_valtype_str(v->type), v->of.ref);
      break;
  }
}

static int find_export(const wudf_module *m, const char *name,
                       wudf_extern_info *info) {
  for (uint32_t i = 0; i < wudf_module_export_count(m); i++) {
    wudf_module_export(m, i, info);
    if (info->kind == WUDF_EXTERN_FUNC && !strcmp(info->name, name)) return 0;
  }
  return -1;
}

static int parse_args(const call_opts *o, const wudf_extern_info *fn,
                      wudf_val *vals) {
  if ((uint32_t)o->nargs != fn->nparams) {
    fprintf(stderr, "wudf: %s takes %u arguments, %d given\n", o->function,
            fn->nparams, o->nargs);
    return -1;
  }
  for (int i = 0; i < o->nargs; i++)
    if (parse_val(o->args[i], fn->params[i], &vals[i])) {
      fprintf(stderr, "wudf: argument %d: '%s' is not a valid %s\n", i + 1,
              o->args[i], wudf_valtype_str(fn->params[i]));
      return -1;
    }
  return 0;
}

static void show_output(const wudf_instance *inst) {
  size_t len;
  bool truncated;
  const char *out = wudf_instance_output(inst, &len, &truncated);
  fwrite(out, 1, len, stdout);
  if (truncated) fprintf(stderr, "wudf: module output truncated\n");
}

static int run_call(const call_opts *o, wudf_engine *engine) {
  wudf_error err = {0};
  wudf_module *m = NULL;
  wudf_instance *inst = NULL;
  wudf_val args[64], results[64];
  wudf_extern_info fn;
  int rc = 1;
  if (wudf_module_load_file(engine, o->module, &m, &err)) goto fail;
  if (find_export(m, o->function, &fn)) {
    fprintf(stderr, "wudf: %s exports no function '%s'\n", o->module,
            o->function);
    goto out;
  }
  if (fn.nparams > 64 || fn.nresults > 64 || parse_args(o, &fn, args)) goto out;
  if (wudf_instance_new(m, NULL, &inst, &err)) goto fail;
  wudf_status st = wudf_instance_call(inst, o->function, args, fn.nparams,
                                      results, fn.nresults, &err);
  show_output(inst);
  if (st) goto fail;
  for (uint32_t i = 0; i < fn.nresults; i++) print_val(&results[i]);
  rc = 0;
  goto out;
fail:
  fprintf(stderr, "wudf: %s\n", err.message);
out:
  wudf_instance_free(inst);
  wudf_module_free(m);
  return rc;
}

static int cmd_call(int argc, char **argv) {
  call_opts o = {0};
  if (parse_call_opts(argc - 1, argv + 1, &o)) {
    wudf_cli_usage(stderr, "call");
    return 2;
  }
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = o.cache_dir;
  wudf_cli_engine_env(&cfg);
  if (o.timeout_ms >= 0) cfg.limits.timeout_ms = (uint32_t)o.timeout_ms;
  if (o.memory_mib >= 0) cfg.limits.memory_bytes = (uint64_t)o.memory_mib << 20;
  wudf_engine *engine;
  wudf_error err = {0};
  if (wudf_engine_new(&cfg, &engine, &err)) {
    fprintf(stderr, "wudf: %s\n", err.message);
    return 1;
  }
  int rc = run_call(&o, engine);
  wudf_engine_free(engine);
  return rc;
}

WUDF_CLI_COMMAND("call", cmd_call, CALL_USAGE)
