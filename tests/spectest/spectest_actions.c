/* Spec script commands that run an action (invoke an export or read a
 * global) and check its outcome. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spectest.h"

typedef struct action_outcome {
  wudf_status status;
  wudf_error err;
  wudf_val results[SPEC_MAX_VALUES];
  uint32_t nresults;
  char desc[512]; /* 'invoke "f"(i32:1)' */
} action_outcome;

static void append(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t size, const char *fmt, ...) {
  size_t len = strlen(buf);
  if (len + 1 >= size) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + len, size - len, fmt, ap);
  va_end(ap);
}

static void describe(const json_t *action, char *buf, size_t size) {
  const char *type = json_string_value(json_object_get(action, "type"));
  const char *module = json_string_value(json_object_get(action, "module"));
  const char *field = json_string_value(json_object_get(action, "field"));
  const json_t *args = json_object_get(action, "args");
  buf[0] = '\0';
  append(buf, size, "%s %s%s\"%s\"", type ? type : "?", module ? module : "",
         module ? "." : "", field ? field : "?");
  if (!type || strcmp(type, "invoke") != 0) return;
  append(buf, size, "(");
  for (size_t i = 0; i < json_array_size(args); i++) {
    const json_t *a = json_array_get(args, i);
    const char *t = json_string_value(json_object_get(a, "type"));
    const char *v = json_string_value(json_object_get(a, "value"));
    append(buf, size, "%s%s:%s", i ? ", " : "", t ? t : "?", v ? v : "?");
  }
  append(buf, size, ")");
}

static bool parse_args(const json_t *args, wudf_val *out, uint32_t *n,
                       const char **why) {
  size_t count = json_array_size(args);
  if (count > SPEC_MAX_VALUES) {
    *why = "too many arguments";
    return false;
  }
  for (size_t i = 0; i < count; i++) {
    if (!spec_parse_val(json_array_get(args, i), &out[i], why)) return false;
  }
  *n = (uint32_t)count;
  return true;
}

static void perform(wudf_instance *instance, const json_t *action,
                    const wudf_val *args, uint32_t nargs, action_outcome *out) {
  const char *type = json_string_value(json_object_get(action, "type"));
  const char *field = json_string_value(json_object_get(action, "field"));
  if (type && strcmp(type, "get") == 0) {
    out->status = out->nresults == 1
                      ? wudf_instance_get_global(instance, field,
                                                 &out->results[0], &out->err)
                      : WUDF_ERR_ARG;
    return;
  }
  /* By index: export names may contain NUL bytes. */
  const json_t *jfield = json_object_get(action, "field");
  int64_t x = wudf_module_export_index(wudf_instance_module(instance), field,
                                       json_string_length(jfield));
  if (x < 0) {
    out->status = WUDF_ERR_NOT_FOUND;
    snprintf(out->err.message, sizeof out->err.message, "no export %s", field);
    return;
  }
  out->status =
      wudf_instance_call_export(instance, (uint32_t)x, args, nargs,
                                out->results, out->nresults, &out->err);
}

/* Looks up the instance; false (recorded as failed or skipped) if none. */
static bool find_target(spec_run *run, const json_t *action, long line,
                        spec_counts *counts, wudf_instance **out) {
  const char *module = json_string_value(json_object_get(action, "module"));
  *out = spec_find_instance(run, module);
  if (*out) return true;
  if (run->expect_unsupported) {
    /* The module was refused: nothing to run, and nothing to report. */
    counts->skipped++;
    return false;
  }
  spec_fail(counts, line,
            "no instance for module %s (not loaded yet, or it failed)",
            module ? module : "(current)");
  return false;
}

/* Runs the command's action. False when it could not run; that is then
 * already recorded in `counts` as a failure or a skip. */
static bool run_action(spec_run *run, const json_t *cmd, long line,
                       spec_counts *counts, action_outcome *out) {
  const json_t *action = json_object_get(cmd, "action");
  const json_t *field = json_object_get(action, "field");
  wudf_val args[SPEC_MAX_VALUES];
  uint32_t nargs = 0;
  const char *why = NULL;
  wudf_instance *instance = NULL;
  memset(out, 0, sizeof *out);
  describe(action, out->desc, sizeof out->desc);
  if (!find_target(run, action, line, counts, &instance)) return false;
  if (!json_is_string(field)) {
    spec_fail(counts, line, "%s: action without a field", out->desc);
    return false;
  }
  if (!parse_args(json_object_get(action, "args"), args, &nargs, &why)) {
    spec_fail(counts, line, "%s: %s", out->desc, why);
    return false;
  }
  size_t nexpected = json_array_size(json_object_get(cmd, "expected"));
  if (nexpected > SPEC_MAX_VALUES) {
    spec_fail(counts, line, "%s: too many results", out->desc);
    return false;
  }
  out->nresults = (uint32_t)nexpected;
  perform(instance, action, args, nargs, out);
  return true;
}

static void format_results(const action_outcome *out, char *buf, size_t size) {
  char one[96];
  buf[0] = '\0';
  append(buf, size, "(");
  for (uint32_t i = 0; i < out->nresults; i++) {
    spec_val_format(&out->results[i], one, sizeof one);
    append(buf, size, "%s%s", i ? ", " : "", one);
  }
  append(buf, size, ")");
}

static bool parse_expected(const json_t *expected, spec_expect *out,
                           const char **why) {
  for (size_t i = 0; i < json_array_size(expected); i++) {
    if (!spec_parse_expect(json_array_get(expected, i), &out[i], why))
      return false;
  }
  return true;
}

static void format_expected(const spec_expect *want, size_t n, char *buf,
                            size_t size) {
  char one[96];
  buf[0] = '\0';
  append(buf, size, "(");
  for (size_t i = 0; i < n; i++) {
    spec_expect_format(&want[i], one, sizeof one);
    append(buf, size, "%s%s", i ? ", " : "", one);
  }
  append(buf, size, ")");
}

static bool all_match(const spec_expect *want, const action_outcome *out) {
  for (uint32_t i = 0; i < out->nresults; i++) {
    if (!spec_val_matches(&want[i], &out->results[i])) return false;
  }
  return true;
}

void spec_cmd_assert_return(spec_run *run, const json_t *cmd, long line) {
  action_outcome out;
  spec_expect want[SPEC_MAX_VALUES];
  char wbuf[1024], gbuf[1024];
  const char *why = NULL;
  if (!run_action(run, cmd, line, &run->assertions, &out)) return;
  if (!parse_expected(json_object_get(cmd, "expected"), want, &why)) {
    spec_fail(&run->assertions, line, "assert_return %s: %s", out.desc, why);
    return;
  }
  if (out.status != WUDF_OK) {
    spec_fail(&run->assertions, line, "assert_return %s: got %s: %s", out.desc,
              wudf_status_name(out.status), out.err.message);
    return;
  }
  if (!all_match(want, &out)) {
    format_expected(want, out.nresults, wbuf, sizeof wbuf);
    format_results(&out, gbuf, sizeof gbuf);
    spec_fail(&run->assertions, line, "assert_return %s: expected %s, got %s",
              out.desc, wbuf, gbuf);
    return;
  }
  run->assertions.passed++;
}

/* Checks that the action trapped with `want` (or any trap if !known). */
static void check_trap(spec_run *run, const action_outcome *out, long line,
                       const char *cmd_type, const char *text, wudf_status want,
                       bool known) {
  char gbuf[1024];
  if (out->status == WUDF_OK) {
    format_results(out, gbuf, sizeof gbuf);
    spec_fail(&run->assertions, line, "%s %s: expected trap \"%s\", got %s",
              cmd_type, out->desc, text, gbuf);
  } else if (!wudf_status_is_trap(out->status)) {
    spec_fail(&run->assertions, line,
              "%s %s: expected trap \"%s\", got error %s: %s", cmd_type,
              out->desc, text, wudf_status_name(out->status), out->err.message);
  } else if (known && out->status != want) {
    spec_fail(&run->assertions, line,
              "%s %s: expected trap \"%s\" (%s), got %s: %s", cmd_type,
              out->desc, text, wudf_status_name(want),
              wudf_status_name(out->status), out->err.message);
  } else {
    run->assertions.passed++;
  }
}

void spec_cmd_assert_trap(spec_run *run, const json_t *cmd, long line) {
  action_outcome out;
  const char *text = json_string_value(json_object_get(cmd, "text"));
  wudf_status want = WUDF_OK;
  bool known = spec_trap_for_text(text, &want);
  if (json_object_get(cmd, "filename")) {
    /* A trap while instantiating a module. */
    spec_cmd_uninstantiable(run, cmd, line);
    return;
  }
  if (!run_action(run, cmd, line, &run->assertions, &out)) return;
  check_trap(run, &out, line, "assert_trap", text ? text : "", want, known);
}

void spec_cmd_assert_exhaustion(spec_run *run, const json_t *cmd, long line) {
  action_outcome out;
  const char *text = json_string_value(json_object_get(cmd, "text"));
  if (!run_action(run, cmd, line, &run->assertions, &out)) return;
  check_trap(run, &out, line, "assert_exhaustion", text ? text : "",
             WUDF_TRAP_STACK_EXHAUSTED, true);
}

void spec_cmd_action(spec_run *run, const json_t *cmd, long line) {
  action_outcome out;
  if (!run_action(run, cmd, line, &run->assertions, &out)) return;
  if (out.status != WUDF_OK) {
    spec_fail(&run->assertions, line, "action %s: got %s: %s", out.desc,
              wudf_status_name(out.status), out.err.message);
    return;
  }
  run->assertions.passed++;
}
