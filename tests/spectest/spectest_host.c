/* The engine of a spec test run and the `spectest` host module. */
#include <stdint.h>
#include <stdlib.h>

#include "spectest.h"

/* Generous limits: the scripts probe the WebAssembly limits themselves. */
#define SPEC_MEMORY_BYTES ((UINT64_C(1) << 32) - 65536)
#define SPEC_TABLE_ELEMENTS 10000000u
/* Spec scripts never loop forever; this only stops a runaway bug. */
#define SPEC_TIMEOUT_MS 60000u

/* print, print_i32, ...: the scripts only check that calls link and run. */
static wudf_status spec_print(void *user, const wudf_val *args,
                              wudf_val *results) {
  (void)user;
  (void)args;
  (void)results;
  return WUDF_OK;
}

static wudf_status define_prints(wudf_engine *engine, wudf_error *err) {
  static const struct {
    const char *name;
    uint32_t nparams;
    wudf_valtype params[2];
  } k_prints[] = {
      {"print", 0, {WUDF_I32, WUDF_I32}},
      {"print_i32", 1, {WUDF_I32, WUDF_I32}},
      {"print_i64", 1, {WUDF_I64, WUDF_I64}},
      {"print_f32", 1, {WUDF_F32, WUDF_F32}},
      {"print_f64", 1, {WUDF_F64, WUDF_F64}},
      {"print_i32_f32", 2, {WUDF_I32, WUDF_F32}},
      {"print_f64_f64", 2, {WUDF_F64, WUDF_F64}},
  };
  for (size_t i = 0; i < sizeof k_prints / sizeof k_prints[0]; i++) {
    wudf_status st = wudf_engine_define_func(
        engine, "spectest", k_prints[i].name, k_prints[i].params,
        k_prints[i].nparams, NULL, 0, spec_print, NULL, err);
    if (st != WUDF_OK) return st;
  }
  return WUDF_OK;
}

static wudf_status define_globals(wudf_engine *engine, wudf_error *err) {
  wudf_val v[4] = {
      {.type = WUDF_I32, .of.i32 = 666},
      {.type = WUDF_I64, .of.i64 = 666},
      {.type = WUDF_F32, .of.f32 = 666.6f},
      {.type = WUDF_F64, .of.f64 = 666.6},
  };
  static const char *const k_names[4] = {"global_i32", "global_i64",
                                         "global_f32", "global_f64"};
  for (size_t i = 0; i < 4; i++) {
    wudf_status st = wudf_engine_define_global(engine, "spectest", k_names[i],
                                               v[i], false, err);
    if (st != WUDF_OK) return st;
  }
  return WUDF_OK;
}

static wudf_status define_spectest(wudf_engine *engine, wudf_error *err) {
  wudf_status st = define_prints(engine, err);
  if (st == WUDF_OK) st = define_globals(engine, err);
  if (st == WUDF_OK)
    st = wudf_engine_define_table(engine, "spectest", "table", 10, 20, err);
  if (st == WUDF_OK)
    st = wudf_engine_define_memory(engine, "spectest", "memory", 1, 2, err);
  return st;
}

wudf_status spec_engine_new(wudf_engine **out, wudf_error *err) {
  wudf_engine_config config;
  wudf_engine *engine = NULL;
  wudf_engine_config_init(&config);
  /* run.sh names the cache; the library reads no environment variable. */
  config.cache_dir = getenv("WUDF_CACHE_DIR");
  config.limits.memory_bytes = SPEC_MEMORY_BYTES;
  config.limits.table_elements = SPEC_TABLE_ELEMENTS;
  config.limits.timeout_ms = SPEC_TIMEOUT_MS;
  wudf_status st = wudf_engine_new(&config, &engine, err);
  if (st != WUDF_OK) return st;
  st = define_spectest(engine, err);
  if (st != WUDF_OK) {
    wudf_engine_free(engine);
    return st;
  }
  *out = engine;
  return WUDF_OK;
}

void spec_instance_config(const wudf_engine *engine,
                          wudf_instance_config *config) {
  wudf_instance_config_init(engine, config);
  config->keep_state_on_trap = true;
}
