/* Internal structure of the public objects (engine, module, instance). */
#ifndef WUDF_API_INTERNAL_H
#define WUDF_API_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "load/debuginfo.h"
#include "load/wasm_info.h"
#include "runtime/rt.h"
#include "runtime/wasi.h"
#include "translate/cache.h"
#include "translate/shim_gen.h"
#include "translate/toolchain.h"
#include "wudf.h"

/* An import the embedder defined with wudf_engine_define_*(). Heap-allocated
 * so that instances can keep pointers to it. */
typedef struct wudf_host_item {
  char *module_name, *name;
  wudf_extern_kind kind;
  wudf_wasm_functype type; /* functions */
  wudf_host_func fn;
  void *user;
  wudf_shim_val value; /* globals */
  uint8_t valtype;
  bool mutable_;
  wudf_wasm_limits limits; /* memories and tables, as declared */
  wasm_rt_memory_t memory;
  wasm_rt_funcref_table_t table;
} wudf_host_item;

typedef struct wudf_registered {
  char *name;
  wudf_instance *instance;
} wudf_registered;

struct wudf_engine {
  wudf_engine_config config; /* strings below are owned copies */
  char *cc, *wasm2c;
  wudf_cache cache;
  wudf_toolchain toolchain;
  pthread_mutex_t lock; /* guards items and registered */
  wudf_host_item **items;
  uint32_t nitems, items_cap;
  wudf_registered *registered;
  uint32_t nregistered, registered_cap;
};

struct wudf_module {
  wudf_engine *engine;
  char *name; /* for messages */
  wudf_wasm_info info;
  wudf_shim_source shim; /* import slots; texts freed after the build */
  void *dl;
  const wudf_shim_module *desc;
  bool was_cached;
  /* The function types its initialisation registered, released on free. */
  wudf_rt_typeset types;
  uint32_t *exports_by_name; /* export indices sorted by name */
  wudf_extern_info *export_infos, *import_infos;
  wudf_valtype *valtypes; /* storage for the infos' params/results */
  wudf_udf_sig *udfs;     /* UDF signatures, checked against exports */
  uint32_t *udf_exports;  /* export index of each UDF */
  uint32_t nudfs;
  uint32_t alloc_export, reset_export; /* wudf_alloc / wudf_reset, or ~0 */
  uint8_t *build_wasm; /* the bytes given to wasm2c; freed after the build */
  size_t build_wasm_len;
  wudf_wasm_debuginfo debug; /* function names and lines, for traps */
  wudf_shim_code *code_map;  /* desc->code sorted by address */
  uint32_t ncode;
};

struct wudf_instance {
  wudf_module *module;
  wudf_instance_config config;
  void *storage; /* the generated instance struct */
  wudf_shim_imports *imports;
  wudf_wasi_ctx wasi;
  bool live;          /* storage holds an instantiated module */
  bool needs_rebuild; /* trapped: rebuild before the next call */
  /* The running call, for wudf_instance_interrupt(); `abandoned` when a
   * host function left a call by longjmp (wudf_runtime_recover()). */
  wudf_rt_intr intr;
  wudf_rt_call_opts opts;
};

/* link.c: resolving imports. */
wudf_status wudf_link_check(wudf_engine *engine, const wudf_module *module,
                            wudf_error *err);
wudf_status wudf_link_resolve(wudf_instance *instance, wudf_error *err);

/* values.c: conversions between the API's and the binary format's types. */
bool wudf_valtype_from_wasm(uint8_t wasm, wudf_valtype *out);
uint8_t wudf_valtype_to_wasm(wudf_valtype type);
/* Writes "(i32, f32) -> i32" into buf. */
void wudf_functype_str(const wudf_wasm_functype *ft, char *buf, size_t size);
wudf_status wudf_val_to_shim(const wudf_val *in, uint8_t wasm_type,
                             wudf_shim_val *out, wudf_error *err);
/* Bytes a value of the type occupies in generated code's storage. */
size_t wudf_shim_val_size(uint8_t wasm_type);
void wudf_val_from_shim(const wudf_shim_val *in, uint8_t wasm_type,
                        wudf_val *out);

/* udfs.c: collecting and checking a module's UDF signatures. */
/* The signatures the wudf.udfs section of a parsed module declares (*sigs
 * owned by the caller; NULL and 0 without the section). */
wudf_status wudf_module_section_udfs(const wudf_wasm_info *info,
                                     const uint8_t *bytes, wudf_udf_sig **sigs,
                                     uint32_t *n, wudf_error *err);
wudf_status wudf_module_collect_udfs(wudf_module *module, const uint8_t *bytes,
                                     const wudf_load_options *options,
                                     wudf_error *err);

/* instance.c: running guest code on an instance. prepare() rebuilds the
 * instance if a trap left it unusable and clears its output; rebuild() only
 * rebuilds; guarded() runs body(arg) under the instance's limits and marks it
 * for rebuilding if it traps; report() fills err for a failed guarded()
 * ("<module>: <what>: <trap>"). rewind_output() drops the output written
 * since it was `len` bytes long. */
wudf_status wudf_instance_prepare(wudf_instance *instance, wudf_error *err);
wudf_status wudf_instance_rebuild(wudf_instance *instance, wudf_error *err);
void wudf_instance_rewind_output(wudf_instance *instance, size_t len,
                                 bool truncated);
wudf_status wudf_instance_guarded(wudf_instance *instance, wudf_rt_body body,
                                  void *arg, wudf_rt_outcome *outcome);
wudf_status wudf_instance_report(const wudf_instance *instance,
                                 const char *what,
                                 const wudf_rt_outcome *outcome,
                                 wudf_error *err);
/* Memory 0 of the instance, or NULL. */
wasm_rt_memory_t *wudf_instance_memory0(const wudf_instance *instance);

/* module.c */
/* Parses a module under the engine's limits (size, functions, tables,
 * memory, block nesting) into *info; *info is left reset on failure. */
wudf_status wudf_module_parse(const wudf_engine *engine, const void *bytes,
                              size_t len, wudf_wasm_info *info,
                              wudf_error *err);
/* The steps of loading up to the build: parse (unless `parsed`, which
 * wudf_module_parse() filled and which is taken over and zeroed), index the
 * exports, collect and check the UDFs, read the debug names and lines,
 * generate the shim. *m is zeroed but for `engine`. */
wudf_status wudf_module_prepare(wudf_module *m, const void *bytes, size_t len,
                                const wudf_load_options *options,
                                wudf_wasm_info *parsed, wudf_error *err);
/* wudf_module_load_ex() of a module wudf_module_parse() already read into
 * *parsed (NULL: parse it). *parsed is taken over and zeroed, also on
 * failure. */
wudf_status wudf_module_load_parsed(wudf_engine *engine, const void *bytes,
                                    size_t len, wudf_wasm_info *parsed,
                                    const wudf_load_options *options,
                                    wudf_module **out, wudf_error *err);
/* What the cache key is computed from, for a prepared module. */
void wudf_module_build_input(const wudf_module *m, const void *bytes,
                             size_t len, wudf_build_input *in);
/* locate.c: sorts the compiled module's code addresses (after the shared
 * object is open). */
wudf_status wudf_module_index_code(wudf_module *module, wudf_error *err);
/* After a guarded call on `module` ended with a trap and err was filled for
 * it (on this thread, before its next guarded call): fills
 * err->wasm_function, and source_file and source_line when known, from
 * where the trap happened, and rebuilds the message. Does nothing when
 * err->status is not a trap or the place is unknown (time limits,
 * interrupts, traps raised by host functions). */
void wudf_locate_trap(const wudf_module *module, wudf_error *err);
/* Index of export `name` (of any kind), or -1. */
int64_t wudf_module_find_export(const wudf_module *module, const char *name,
                                uint32_t len);

#endif
