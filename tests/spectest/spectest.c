/*
 * spectest: runs one WebAssembly spec test script (JSON from wast2json)
 * against wudf.
 *
 *   spectest FILE.json
 *   spectest --expect-unsupported [--simd-free LIST] FILE.json
 *
 * The second form is for the SIMD scripts: every binary module must be
 * refused cleanly (WUDF_ERR_UNSUPPORTED, or a rejection for modules the
 * script expects to be invalid or malformed); modules named in LIST (one
 * file name a line) use no SIMD and run normally.
 *
 * Prints each failure with the script's line, then the counts, and last a
 * line "counts: AP AF AS VP VF VS MP MF MS SP SF SS" (passed, failed and
 * skipped assertions, validation assertions, module commands and refused
 * SIMD modules) for tests/spectest/run.sh. Exit status 0 if nothing failed,
 * 1 if something did, 2 if the script could not be run at all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spectest.h"

void spec_fail(spec_counts *counts, long line, const char *fmt, ...) {
  va_list ap;
  counts->failed++;
  printf("  line %ld: ", line);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

void spec_skip(spec_counts *counts, long line, const char *fmt, ...) {
  va_list ap;
  counts->skipped++;
  printf("  line %ld: skipped: ", line);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
}

typedef void (*spec_handler)(spec_run *run, const json_t *cmd, long line);

static spec_handler handler_for(const char *type) {
  static const struct {
    const char *type;
    spec_handler fn;
  } k_handlers[] = {
      {"module", spec_cmd_module},
      {"register", spec_cmd_register},
      {"assert_return", spec_cmd_assert_return},
      {"assert_trap", spec_cmd_assert_trap},
      {"assert_exhaustion", spec_cmd_assert_exhaustion},
      {"action", spec_cmd_action},
      {"assert_invalid", spec_cmd_rejected},
      {"assert_malformed", spec_cmd_rejected},
      {"assert_unlinkable", spec_cmd_unlinkable},
      {"assert_uninstantiable", spec_cmd_uninstantiable},
  };
  for (size_t i = 0; i < sizeof k_handlers / sizeof k_handlers[0]; i++) {
    if (strcmp(type, k_handlers[i].type) == 0) return k_handlers[i].fn;
  }
  return NULL;
}

static void run_command(spec_run *run, const json_t *cmd) {
  const char *type = json_string_value(json_object_get(cmd, "type"));
  long line = (long)json_integer_value(json_object_get(cmd, "line"));
  spec_handler fn = type ? handler_for(type) : NULL;
  if (!fn) {
    spec_fail(&run->modules, line, "unknown command type %s",
              type ? type : "(none)");
    return;
  }
  if (spec_expects_refusal(run, cmd)) {
    spec_cmd_refusal(run, cmd, line);
    return;
  }
  fn(run, cmd, line);
}

/* Reads LIST into "\nA\nB\n" so that a name is found as "\nNAME\n". */
static char *read_list(const char *path) {
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) != 0) goto fail;
  long size = ftell(f);
  if (size < 0 || fseek(f, 0, SEEK_SET) != 0) goto fail;
  buf = malloc((size_t)size + 3);
  if (!buf) goto fail;
  buf[0] = '\n';
  size_t n = fread(buf + 1, 1, (size_t)size, f);
  if (n != (size_t)size) goto fail;
  buf[n + 1] = '\n';
  buf[n + 2] = '\0';
  fclose(f);
  return buf;
fail:
  free(buf);
  fclose(f);
  return NULL;
}

static void free_run(spec_run *run) {
  /* Instances first, newest first: an instance may import from older ones;
   * then the modules, which must outlive their instances. */
  for (size_t i = run->nentries; i-- > 0;)
    wudf_instance_free(run->entries[i].instance);
  for (size_t i = run->nentries; i-- > 0;) {
    wudf_module_free(run->entries[i].module);
    free(run->entries[i].name);
  }
  free(run->entries);
  free(run->simd_free);
  wudf_engine_free(run->engine);
}

static bool any_failed(const spec_run *run) {
  return run->assertions.failed || run->validation.failed ||
         run->modules.failed || run->simd.failed;
}

static void print_counts(const spec_run *run) {
  const spec_counts *a = &run->assertions, *v = &run->validation,
                    *m = &run->modules, *s = &run->simd;
  printf("assertions: %u passed, %u failed, %u skipped\n", a->passed, a->failed,
         a->skipped);
  printf("validation: %u passed, %u failed, %u skipped (text modules)\n",
         v->passed, v->failed, v->skipped);
  printf("modules: %u passed, %u failed, %u skipped\n", m->passed, m->failed,
         m->skipped);
  if (run->expect_unsupported)
    printf("simd: %u modules refused cleanly, %u failed\n", s->passed,
           s->failed);
  printf("counts: %u %u %u %u %u %u %u %u %u %u %u %u\n", a->passed, a->failed,
         a->skipped, v->passed, v->failed, v->skipped, m->passed, m->failed,
         m->skipped, s->passed, s->failed, s->skipped);
}

typedef struct spec_args {
  bool expect_unsupported;
  const char *simd_free;
  const char *json;
} spec_args;

static bool parse_args(int argc, char **argv, spec_args *out) {
  memset(out, 0, sizeof *out);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--expect-unsupported") == 0) {
      out->expect_unsupported = true;
    } else if (strcmp(argv[i], "--simd-free") == 0 && i + 1 < argc) {
      out->simd_free = argv[++i];
    } else if (argv[i][0] != '-' && !out->json) {
      out->json = argv[i];
    } else {
      return false;
    }
  }
  return out->json != NULL;
}

/* Sets up run (directory, engine, SIMD-free list); prints why it cannot. */
static bool start_run(spec_run *run, const spec_args *args, char *dir) {
  wudf_error err = {0};
  char *slash = strrchr(dir, '/');
  if (slash) {
    *slash = '\0';
    run->dir = slash == dir ? "/" : dir;
  } else {
    run->dir = ".";
  }
  run->current = -1;
  run->expect_unsupported = args->expect_unsupported;
  if (args->simd_free && !(run->simd_free = read_list(args->simd_free))) {
    fprintf(stderr, "spectest: cannot read %s\n", args->simd_free);
    return false;
  }
  if (spec_engine_new(&run->engine, &err) != WUDF_OK) {
    fprintf(stderr, "spectest: engine: %s: %s\n", wudf_status_name(err.status),
            err.message);
    return false;
  }
  return true;
}

int main(int argc, char **argv) {
  spec_args args;
  spec_run run = {0};
  json_error_t jerr;
  json_t *root = NULL;
  char *dir = NULL;
  int status = 2;
  setvbuf(stdout, NULL, _IOLBF, 0); /* keep output written before a crash */
  if (!parse_args(argc, argv, &args)) {
    fprintf(stderr,
            "usage: spectest [--expect-unsupported [--simd-free "
            "LIST]] FILE.json\n");
    return 2;
  }
  root = json_load_file(args.json, JSON_ALLOW_NUL, &jerr);
  if (!root) {
    fprintf(stderr, "spectest: %s:%d: %s\n", args.json, jerr.line, jerr.text);
    goto done;
  }
  if (!(dir = strdup(args.json)) || !start_run(&run, &args, dir)) goto done;
  const json_t *commands = json_object_get(root, "commands");
  for (size_t i = 0; i < json_array_size(commands); i++)
    run_command(&run, json_array_get(commands, i));
  print_counts(&run);
  status = any_failed(&run) ? 1 : 0;
done:
  free_run(&run);
  free(dir);
  json_decref(root);
  return status;
}
