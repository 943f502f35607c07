/*
 * WebAssembly spec test runner: runs one JSON script written by
 * `wast2json` (wabt 1.0.32) against wudf's public API.
 *
 * Only include/wudf.h is used, so the runner tests the library as an
 * embedder sees it. Values in the JSON are decimal strings of the unsigned
 * bit pattern; references are "null" or a number N, which the runner maps to
 * the host pointer N + 1 (so that host reference 0 differs from null).
 */
#ifndef WUDF_SPECTEST_H
#define WUDF_SPECTEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "wudf.h"

/* Outcome counts of one category of commands. */
typedef struct spec_counts {
  unsigned passed, failed, skipped;
} spec_counts;

/* A module the script loaded, kept (with its instance, if any) until the end
 * of the script: later instances may hold references into it. */
typedef struct spec_entry {
  char *name; /* "$M" or NULL */
  wudf_module *module;
  wudf_instance *instance; /* NULL if instantiation failed */
} spec_entry;

typedef struct spec_run {
  wudf_engine *engine;
  const char *dir;         /* directory of the JSON file, for module files */
  bool expect_unsupported; /* SIMD refusal mode */
  char *simd_free; /* refusal mode: "\nA.wasm\nB.wasm\n", SIMD-free files */
  spec_entry *entries;
  size_t nentries, cap;
  long current;           /* index in entries; -1 when the last module failed */
  bool current_refused;   /* refusal mode: the last module was refused */
  spec_counts assertions; /* assert_return/trap/exhaustion, action */
  spec_counts validation; /* assert_invalid/malformed/unlinkable/... */
  spec_counts modules;    /* module and register commands */
  spec_counts simd;       /* refusal mode: modules refused (or loaded) */
} spec_run;

/* Largest number of values an action passes or returns. */
#define SPEC_MAX_VALUES 32

/* ---- spectest_values.c ---- */

/* Expected value of an assertion: an exact value or a NaN class. */
typedef enum spec_expect_kind {
  SPEC_EXACT,
  SPEC_NAN_CANONICAL,
  SPEC_NAN_ARITHMETIC,
  SPEC_REF_NONNULL, /* reference without a value: any non-null one */
} spec_expect_kind;

typedef struct spec_expect {
  spec_expect_kind kind;
  wudf_val val; /* type always set; value when kind == SPEC_EXACT */
} spec_expect;

/* Parses {"type", "value"} as an argument. False (with *why) when the type
 * is unknown (e.g. v128) or the value does not parse. */
bool spec_parse_val(const json_t *j, wudf_val *out, const char **why);

/* Parses {"type", "value"} as an expected result. */
bool spec_parse_expect(const json_t *j, spec_expect *out, const char **why);

/* Whether `got` satisfies `want` (floats bitwise, NaN classes, refs). */
bool spec_val_matches(const spec_expect *want, const wudf_val *got);

/* Writes "i32:5" / "f32:0x7fc00000 (nan)" / "externref:3" into buf. */
void spec_val_format(const wudf_val *v, char *buf, size_t size);
void spec_expect_format(const spec_expect *e, char *buf, size_t size);

/* The trap code that the spec's trap text names; false if no clear one. */
bool spec_trap_for_text(const char *text, wudf_status *out);

/* ---- spectest_host.c ---- */

/* Creates the engine (cache from $WUDF_CACHE_DIR, generous limits) and
 * defines the `spectest` module's imports. */
wudf_status spec_engine_new(wudf_engine **out, wudf_error *err);

/* Instance configuration for spec semantics (state kept after a trap). */
void spec_instance_config(const wudf_engine *engine,
                          wudf_instance_config *config);

/* ---- spectest_modules.c ---- */

/* module, register, assert_invalid, assert_malformed, assert_unlinkable,
 * assert_uninstantiable; in refusal mode, every command naming a binary
 * module goes to spec_cmd_refusal() unless the module is SIMD-free. */
void spec_cmd_module(spec_run *run, const json_t *cmd, long line);
void spec_cmd_register(spec_run *run, const json_t *cmd, long line);
void spec_cmd_rejected(spec_run *run, const json_t *cmd, long line);
void spec_cmd_unlinkable(spec_run *run, const json_t *cmd, long line);
void spec_cmd_uninstantiable(spec_run *run, const json_t *cmd, long line);
void spec_cmd_refusal(spec_run *run, const json_t *cmd, long line);

/* Whether refusal mode applies to this command's module file. */
bool spec_expects_refusal(const spec_run *run, const json_t *cmd);

/* The instance of module `name` (NULL: the current one), or NULL. */
wudf_instance *spec_find_instance(const spec_run *run, const char *name);

/* ---- spectest_actions.c ---- */

/* assert_return, assert_trap (of an action), assert_exhaustion, action. */
void spec_cmd_assert_return(spec_run *run, const json_t *cmd, long line);
void spec_cmd_assert_trap(spec_run *run, const json_t *cmd, long line);
void spec_cmd_assert_exhaustion(spec_run *run, const json_t *cmd, long line);
void spec_cmd_action(spec_run *run, const json_t *cmd, long line);

/* ---- spectest.c ---- */

/* Records one failure in `counts` and prints it with the command's line. */
void spec_fail(spec_counts *counts, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records one skipped command and prints why. */
void spec_skip(spec_counts *counts, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
