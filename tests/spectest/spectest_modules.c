/* Spec script commands that load modules: module, register, and the
 * assertions about modules that must be rejected or fail to instantiate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spectest.h"

static const char *cmd_str(const json_t *cmd, const char *key) {
  return json_string_value(json_object_get(cmd, key));
}

static bool is_text_module(const json_t *cmd) {
  const char *type = cmd_str(cmd, "module_type");
  return type && strcmp(type, "text") == 0;
}

static wudf_status load(spec_run *run, const json_t *cmd, wudf_module **out,
                        wudf_error *err) {
  const char *file = cmd_str(cmd, "filename");
  char path[4096];
  if (!file) {
    snprintf(err->message, sizeof err->message, "command has no filename");
    return err->status = WUDF_ERR_ARG;
  }
  int n = snprintf(path, sizeof path, "%s/%s", run->dir, file);
  if (n < 0 || (size_t)n >= sizeof path) {
    snprintf(err->message, sizeof err->message, "path of %s too long", file);
    return err->status = WUDF_ERR_ARG;
  }
  return wudf_module_load_file(run->engine, path, out, err);
}

/* Keeps the module (and instance) until the end of the script; on failure
 * frees them and records the failure. Returns the entry's index or -1. */
static long add_entry(spec_run *run, const char *name, wudf_module *module,
                      wudf_instance *instance, long line) {
  char *copy = NULL;
  if (run->nentries == run->cap) {
    size_t cap = run->cap ? run->cap * 2 : 16;
    spec_entry *grown = realloc(run->entries, cap * sizeof *grown);
    if (!grown) goto fail;
    run->entries = grown;
    run->cap = cap;
  }
  if (name && !(copy = strdup(name))) goto fail;
  run->entries[run->nentries] =
      (spec_entry){.name = copy, .module = module, .instance = instance};
  return (long)run->nentries++;
fail:
  wudf_instance_free(instance);
  wudf_module_free(module);
  spec_fail(&run->modules, line, "out of memory");
  return -1;
}

static void set_current(spec_run *run, long index, bool refused) {
  run->current = index;
  run->current_refused = refused;
}

void spec_cmd_module(spec_run *run, const json_t *cmd, long line) {
  wudf_error err = {0};
  wudf_module *module = NULL;
  wudf_instance *instance = NULL;
  wudf_instance_config config;
  const char *file = cmd_str(cmd, "filename");
  set_current(run, -1, false);
  if (load(run, cmd, &module, &err) != WUDF_OK) {
    spec_fail(&run->modules, line, "module %s: load failed: %s: %s",
              file ? file : "?", wudf_status_name(err.status), err.message);
    return;
  }
  spec_instance_config(run->engine, &config);
  if (wudf_instance_new(module, &config, &instance, &err) != WUDF_OK) {
    spec_fail(&run->modules, line, "module %s: instantiation failed: %s: %s",
              file ? file : "?", wudf_status_name(err.status), err.message);
    add_entry(run, NULL, module, NULL, line);
    return;
  }
  long index = add_entry(run, cmd_str(cmd, "name"), module, instance, line);
  if (index < 0) return;
  run->modules.passed++;
  set_current(run, index, false);
}

wudf_instance *spec_find_instance(const spec_run *run, const char *name) {
  if (!name) {
    return run->current >= 0 ? run->entries[run->current].instance : NULL;
  }
  for (size_t i = run->nentries; i-- > 0;) {
    const spec_entry *e = &run->entries[i];
    if (e->name && strcmp(e->name, name) == 0) return e->instance;
  }
  return NULL;
}

void spec_cmd_register(spec_run *run, const json_t *cmd, long line) {
  wudf_error err = {0};
  const char *name = cmd_str(cmd, "name");
  const char *as = cmd_str(cmd, "as");
  wudf_instance *instance = spec_find_instance(run, name);
  if (!instance && run->expect_unsupported) {
    spec_skip(&run->modules, line, "register: module was refused");
    return;
  }
  if (!instance || !as) {
    spec_fail(&run->modules, line, "register %s as %s: no such instance",
              name ? name : "(current)", as ? as : "?");
    return;
  }
  if (wudf_engine_register_instance(run->engine, as, instance, &err) !=
      WUDF_OK) {
    spec_fail(&run->modules, line, "register as %s: %s: %s", as,
              wudf_status_name(err.status), err.message);
    return;
  }
  run->modules.passed++;
}

static bool is_rejection(wudf_status st) {
  return st == WUDF_ERR_INVALID || st == WUDF_ERR_MALFORMED ||
         st == WUDF_ERR_UNSUPPORTED;
}

/* assert_invalid and assert_malformed. Text-format modules test wast2json's
 * parser, not wudf, and are only counted as skipped. */
void spec_cmd_rejected(spec_run *run, const json_t *cmd, long line) {
  wudf_error err = {0};
  wudf_module *module = NULL;
  const char *type = cmd_str(cmd, "type");
  const char *text = cmd_str(cmd, "text");
  if (is_text_module(cmd)) {
    run->validation.skipped++;
    return;
  }
  wudf_status st = load(run, cmd, &module, &err);
  if (st == WUDF_OK) {
    wudf_module_free(module);
    spec_fail(&run->validation, line, "%s: module loaded, expected \"%s\"",
              type, text ? text : "");
  } else if (!is_rejection(st)) {
    spec_fail(&run->validation, line,
              "%s: expected \"%s\" (INVALID/MALFORMED/UNSUPPORTED), got %s: %s",
              type, text ? text : "", wudf_status_name(st), err.message);
  } else {
    run->validation.passed++;
  }
}

void spec_cmd_unlinkable(spec_run *run, const json_t *cmd, long line) {
  wudf_error err = {0};
  wudf_module *module = NULL;
  wudf_instance *instance = NULL;
  wudf_instance_config config;
  const char *text = cmd_str(cmd, "text");
  wudf_status st = load(run, cmd, &module, &err);
  if (st == WUDF_OK) {
    spec_instance_config(run->engine, &config);
    st = wudf_instance_new(module, &config, &instance, &err);
    /* Kept: a module that got this far may have code reachable from
     * registered tables. */
    add_entry(run, NULL, module, instance, line);
  }
  if (st == WUDF_ERR_IMPORT) {
    run->validation.passed++;
  } else if (st == WUDF_OK) {
    spec_fail(&run->validation, line,
              "assert_unlinkable: instantiated, expected \"%s\"",
              text ? text : "");
  } else {
    spec_fail(
        &run->validation, line,
        "assert_unlinkable: expected \"%s\" (WUDF_ERR_IMPORT), got %s: %s",
        text ? text : "", wudf_status_name(st), err.message);
  }
}

static void check_instantiation_trap(spec_run *run, const json_t *cmd,
                                     long line, wudf_status st,
                                     const wudf_error *err) {
  const char *text = cmd_str(cmd, "text");
  wudf_status want;
  if (st == WUDF_OK) {
    spec_fail(&run->validation, line,
              "assert_uninstantiable: instantiated, expected trap \"%s\"",
              text ? text : "");
  } else if (!wudf_status_is_trap(st)) {
    spec_fail(&run->validation, line,
              "assert_uninstantiable: expected trap \"%s\", got %s: %s",
              text ? text : "", wudf_status_name(st), err->message);
  } else if (spec_trap_for_text(text, &want) && want != st) {
    spec_fail(&run->validation, line,
              "assert_uninstantiable: expected trap \"%s\" (%s), got %s: %s",
              text, wudf_status_name(want), wudf_status_name(st), err->message);
  } else {
    run->validation.passed++;
  }
}

void spec_cmd_uninstantiable(spec_run *run, const json_t *cmd, long line) {
  wudf_error err = {0};
  wudf_module *module = NULL;
  wudf_instance *instance = NULL;
  wudf_instance_config config;
  wudf_status st = load(run, cmd, &module, &err);
  if (st != WUDF_OK) {
    spec_fail(&run->validation, line,
              "assert_uninstantiable: load failed: %s: %s",
              wudf_status_name(st), err.message);
    return;
  }
  spec_instance_config(run->engine, &config);
  st = wudf_instance_new(module, &config, &instance, &err);
  check_instantiation_trap(run, cmd, line, st, &err);
  /* Kept: segments written before the trap stay in shared tables and may
   * point at this module's functions (linking.wast calls them). */
  add_entry(run, NULL, module, instance, line);
}

bool spec_expects_refusal(const spec_run *run, const json_t *cmd) {
  const char *file = cmd_str(cmd, "filename");
  if (!run->expect_unsupported || !file || is_text_module(cmd)) return false;
  if (!run->simd_free) return true;
  size_t len = strlen(file);
  for (const char *p = run->simd_free; (p = strstr(p, file)) != NULL; p++) {
    if (p > run->simd_free && p[-1] == '\n' && p[len] == '\n') return false;
  }
  return true;
}

/* Refusal mode: the module uses SIMD and must be refused cleanly. */
void spec_cmd_refusal(spec_run *run, const json_t *cmd, long line) {
  wudf_error err = {0};
  wudf_module *module = NULL;
  const char *type = cmd_str(cmd, "type");
  const char *file = cmd_str(cmd, "filename");
  bool is_module = type && strcmp(type, "module") == 0;
  bool rejects = !is_module && type &&
                 (strcmp(type, "assert_invalid") == 0 ||
                  strcmp(type, "assert_malformed") == 0);
  wudf_status st = load(run, cmd, &module, &err);
  if (is_module) set_current(run, -1, true);
  if (st == WUDF_OK) {
    wudf_module_free(module);
    spec_fail(&run->simd, line, "%s %s: SIMD module loaded, expected refusal",
              type, file);
  } else if (st == WUDF_ERR_UNSUPPORTED || (rejects && is_rejection(st))) {
    run->simd.passed++;
  } else {
    spec_fail(&run->simd, line,
              "%s %s: expected WUDF_ERR_UNSUPPORTED, got %s: %s", type, file,
              wudf_status_name(st), err.message);
  }
}
