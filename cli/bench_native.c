/*
 * The native side of `wudf bench`: the UDF's C source compiled by gcc -O2
 * into a shared object, with a generated loop that calls it over plain
 * arrays, the way a native engine would run it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "udf_file.h"

extern char **environ;

typedef void (*loop_fn)(int64_t n, const void *const *in, void *const *out);
typedef void (*reset_fn)(void);

struct bench_native {
  void *dl;
  loop_fn loop;
  reset_fn reset;
  const wudf_udf_sig *sig;
};

static const char *c_type(wudf_type t) {
  switch (t) {
    case WUDF_TYPE_INT32:
      return "int32_t";
    case WUDF_TYPE_INT64:
      return "int64_t";
    case WUDF_TYPE_FLOAT32:
      return "float";
    case WUDF_TYPE_FLOAT64:
      return "double";
    default:
      return "uint8_t"; /* bool, one byte per row */
  }
}

/* Declarations of the loop's inputs: one array per parameter, two
 * (offsets, bytes) for utf8. */
static void gen_inputs(FILE *f, const wudf_udf_sig *sig) {
  uint32_t slot = 0;
  for (uint32_t j = 0; j < sig->nparams; j++) {
    if (sig->params[j] == WUDF_TYPE_UTF8) {
      fprintf(f, "  const int32_t *o%u = (const int32_t *)in[%u];\n", j, slot);
      fprintf(f, "  const char *d%u = (const char *)in[%u];\n", j, slot + 1);
      slot += 2;
    } else {
      fprintf(f, "  const %s *a%u = (const %s *)in[%u];\n",
              c_type(sig->params[j]), j, c_type(sig->params[j]), slot++);
    }
  }
}

static void gen_call(FILE *f, const wudf_udf_sig *sig) {
  fprintf(f, "%s(", sig->name);
  for (uint32_t j = 0; j < sig->nparams; j++) {
    if (j) fputs(", ", f);
    if (sig->params[j] == WUDF_TYPE_UTF8)
      fprintf(f, "d%u + o%u[i], o%u[i + 1] - o%u[i]", j, j, j, j);
    else if (sig->params[j] == WUDF_TYPE_BOOL)
      fprintf(f, "a%u[i] != 0", j);
    else
      fprintf(f, "a%u[i]", j);
    if (sig->sees_nulls) fputs(", 0", f);
  }
  fputc(')', f);
}

static void gen_loop(FILE *f, const char *source, const wudf_udf_sig *sig,
                     bool cpp) {
  const char *ext = cpp ? "extern \"C\" " : "";
  fprintf(f, "#include <stdbool.h>\n#include <stdint.h>\n#include \"%s\"\n",
          source);
  fprintf(f,
          "%svoid wudf_bench_loop(int64_t n, const void *const *in, "
          "void *const *out) {\n",
          ext);
  gen_inputs(f, sig);
  if (sig->result == WUDF_TYPE_UTF8) {
    fputs("  const char **rp = (const char **)out[0];\n", f);
    fputs("  int32_t *rl = (int32_t *)out[1];\n", f);
    fputs("  for (int64_t i = 0; i < n; i++) {\n    wudf_string s = ", f);
    gen_call(f, sig);
    fputs(
        ";\n    rp[i] = wudf_string_ptr(s);\n"
        "    rl[i] = wudf_string_len(s);\n  }\n}\n",
        f);
  } else {
    const char *t = c_type(sig->result);
    fprintf(f, "  %s *r = (%s *)out[0];\n", t, t);
    fprintf(f, "  for (int64_t i = 0; i < n; i++) r[i] = (%s)(", t);
    gen_call(f, sig);
    fputs(");\n}\n", f);
  }
  /* The guest header's native allocator, if the source uses it. */
  fprintf(f,
          "%svoid wudf_bench_reset(void) {\n"
          "#if defined(WUDF_GUEST_H) && !defined(WUDF_GUEST_NO_ALLOCATOR)\n"
          "  wudf_reset();\n#endif\n}\n",
          ext);
}

static int write_loop(const char *path, const char *source,
                      const wudf_udf_sig *sig, bool cpp) {
  FILE *f = fopen(path, "w");
  if (!f) {
    wudf_cli_error("bench: cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  gen_loop(f, source, sig, cpp);
  return fclose(f) == 0 ? 0 : -1;
}

static int run_compiler(char *const *argv) {
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
  if (rc) {
    wudf_cli_error("bench: cannot run %s: %s", argv[0], strerror(rc));
    return -1;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  wudf_cli_error("bench: %s failed to compile the native loop", argv[0]);
  return -1;
}

const char *bench_include_dir(void) {
  static char dir[PATH_MAX];
  const char *env = getenv("WUDF_INCLUDE_DIR");
  if (env && *env) return env;
  char exe[PATH_MAX - 64];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return NULL;
  exe[n] = '\0';
  /* build/wudf -> include/; build/<sub>/wudf -> include/ */
  for (int up = 1; up <= 3; up++) {
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = '\0';
    snprintf(dir, sizeof dir, "%s/include/wudf_guest.h", exe);
    if (access(dir, R_OK) == 0) {
      dir[strlen(dir) - strlen("/wudf_guest.h")] = '\0';
      return dir;
    }
  }
  return NULL;
}

static void remove_dir(const char *dir, const char *const *files, int n) {
  char path[PATH_MAX];
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  rmdir(dir);
}

static bench_native *load(const char *so, const wudf_udf_sig *sig) {
  bench_native *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if (b->dl) {
    /* memcpy: ISO C has no cast from object to function pointers. */
    void *loop = dlsym(b->dl, "wudf_bench_loop");
    void *reset = dlsym(b->dl, "wudf_bench_reset");
    memcpy(&b->loop, &loop, sizeof loop);
    memcpy(&b->reset, &reset, sizeof reset);
  }
  if (!b->loop || !b->reset) {
    wudf_cli_error("bench: loading the native loop: %s", dlerror());
    bench_native_free(b);
    return NULL;
  }
  b->sig = sig;
  return b;
}

bench_native *bench_native_build(const char *source, const wudf_udf_sig *sig) {
  bool cpp = wudf_cli_udf_kind_of(source) == WUDF_CLI_UDF_CPP;
  char src[PATH_MAX], dir[] = "/tmp/wudf-bench-XXXXXX", loop[PATH_MAX + 16],
                      so[PATH_MAX + 16], inc[PATH_MAX + 4];
  const char *idir = bench_include_dir();
  if (!realpath(source, src) || !mkdtemp(dir)) {
    wudf_cli_error("bench: %s: %s", source, strerror(errno));
    return NULL;
  }
  snprintf(loop, sizeof loop, "%s/%s", dir, cpp ? "loop.cpp" : "loop.c");
  snprintf(so, sizeof so, "%s/loop.so", dir);
  snprintf(inc, sizeof inc, "-I%s", idir ? idir : ".");
  char *argv[] = {cpp ? "g++" : "gcc",
                  "-O2",
                  "-fPIC",
                  "-shared",
                  inc,
                  "-o",
                  so,
                  loop,
                  NULL};
  bench_native *b = NULL;
  if (write_loop(loop, src, sig, cpp) == 0 && run_compiler(argv) == 0)
    b = load(so, sig);
  const char *files[] = {cpp ? "loop.cpp" : "loop.c", "loop.so"};
  remove_dir(dir, files, 2);
  return b;
}

void bench_native_run(bench_native *b, int64_t n, const bench_column *cols,
                      bench_native_out *out) {
  const void *in[2 * WUDF_MAX_UDF_PARAMS];
  uint32_t slot = 0;
  for (uint32_t j = 0; j < b->sig->nparams; j++) {
    const struct ArrowArray *a = &cols[j].array;
    if (cols[j].type == WUDF_TYPE_UTF8) {
      in[slot++] = a->buffers[1];
      in[slot++] = a->buffers[2];
    } else {
      in[slot++] =
          cols[j].type == WUDF_TYPE_BOOL ? cols[j].bytes : a->buffers[1];
    }
  }
  void *outs[2];
  outs[0] = out->values ? out->values : (void *)out->ptrs;
  outs[1] = out->lens;
  b->reset();
  b->loop(n, in, outs);
}

void bench_native_free(bench_native *b) {
  if (!b) return;
  if (b->dl) dlclose(b->dl);
  free(b);
}
