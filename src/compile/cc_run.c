/* Running a compiler on hostile source: in a bubblewrap sandbox that shows
 * only the tool, its libraries, its inputs (the sysroot, wudf_guest.h) and
 * the work directory; no network, no /proc, /dev, /etc or home; a new
 * session, no capabilities, an unprivileged uid, an empty environment. Time,
 * address space and file size are limited by wudf_process_run(), CPU time
 * by prlimit(1) in front of bwrap. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "compile/compile_internal.h"

#define TOOL_OUTPUT_MAX ((size_t)256 * 1024)
#define SANDBOX_UID "65534" /* nobody */

static const char *const k_opt_out =
    "to compile trusted sources without the sandbox, set "
    "wudf_compile_options.unsandboxed (wudf compile --no-sandbox, or "
    "WUDF_UNSANDBOXED_COMPILE=1 for the wudf command)";

/* ------------------------------------------------------------------------ */
/* Argument vectors                                                         */
/* ------------------------------------------------------------------------ */

typedef struct strvec {
  char **v; /* NULL-terminated; every string owned */
  size_t n, cap;
  bool oom;
} strvec;

static void sv_push(strvec *sv, const char *s) {
  if (sv->oom) return;
  if (sv->n + 2 > sv->cap) {
    size_t cap = sv->cap ? sv->cap * 2 : 64;
    char **p = wudf_realloc(sv->v, cap * sizeof *p);
    if (!p) {
      sv->oom = true;
      return;
    }
    sv->v = p;
    sv->cap = cap;
  }
  char *c = s ? wudf_strdup(s) : NULL;
  if (!c) {
    sv->oom = true;
    return;
  }
  sv->v[sv->n++] = c;
  sv->v[sv->n] = NULL;
}

static void sv_reset(strvec *sv) {
  for (size_t i = 0; i < sv->n; i++) wudf_free(sv->v[i]);
  wudf_free(sv->v);
  memset(sv, 0, sizeof *sv);
}

/* ------------------------------------------------------------------------ */
/* The command line                                                         */
/* ------------------------------------------------------------------------ */

const char *wudf_cc_tool_dir(const wudf_cc_env *env) {
  return env->sandboxed ? WUDF_CC_SANDBOX_DIR : env->work_dir;
}

static const char *program(const wudf_cc_env *env, wudf_cc_tool tool) {
  return tool == WUDF_CC_CLANG ? env->tools->clang : env->tools->wat2wasm;
}

/* prlimit: CPU time (SIGXCPU at the limit, SIGKILL a second later) and no
 * core files. */
static void push_cpu_limit(strvec *sv, const wudf_cc_env *env) {
  if (!env->tools->prlimit) return;
  unsigned long long s = env->opts->cpu_s;
  char buf[64];
  snprintf(buf, sizeof buf, "--cpu=%llu:%llu", s, s + 1);
  sv_push(sv, env->tools->prlimit);
  sv_push(sv, buf);
  sv_push(sv, "--core=0:0");
  sv_push(sv, "--");
}

static void push_binds(strvec *sv, const wudf_cc_binds *b) {
  for (size_t i = 0; i < b->n; i++) {
    sv_push(sv, "--ro-bind");
    sv_push(sv, b->items[i].src);
    sv_push(sv, b->items[i].dst);
  }
}

static void push_setenv(strvec *sv, const char *name, const char *value) {
  sv_push(sv, "--setenv");
  sv_push(sv, name);
  sv_push(sv, value ? value : "");
}

static void push_sandbox(strvec *sv, const wudf_cc_env *env,
                         wudf_cc_tool tool) {
  const wudf_cc_tools *t = env->tools;
  bool clang = tool == WUDF_CC_CLANG;
  const char *isolation[] = {"--unshare-all", "--die-with-parent",
                             "--new-session", "--cap-drop",
                             "ALL",           "--uid",
                             SANDBOX_UID,     "--gid",
                             SANDBOX_UID,     "--clearenv"};
  sv_push(sv, t->bwrap);
  for (size_t i = 0; i < sizeof isolation / sizeof isolation[0]; i++)
    sv_push(sv, isolation[i]);
  push_setenv(sv, "PATH", "/nonexistent");
  push_setenv(sv, "LD_LIBRARY_PATH",
              clang ? t->clang_lib_path : t->wat_lib_path);
  push_setenv(sv, "TMPDIR", WUDF_CC_SANDBOX_DIR);
  push_setenv(sv, "LC_ALL", "C");
  push_binds(sv, clang ? &t->clang_binds : &t->wat_binds);
  if (clang) {
    sv_push(sv, "--symlink");
    sv_push(sv, t->lld);
    sv_push(sv, t->wasm_ld);
  }
  if (clang && env->guest_header) {
    sv_push(sv, "--ro-bind");
    sv_push(sv, env->guest_header);
    sv_push(sv, WUDF_CC_SANDBOX_INCLUDE "/" WUDF_CC_GUEST_HEADER);
  }
  sv_push(sv, "--bind");
  sv_push(sv, env->work_dir);
  sv_push(sv, WUDF_CC_SANDBOX_DIR);
  sv_push(sv, "--chdir");
  sv_push(sv, WUDF_CC_SANDBOX_DIR);
  sv_push(sv, "--remount-ro");
  sv_push(sv, "/");
  sv_push(sv, "--");
}

/* Without the sandbox, the same clean environment: the output must not
 * depend on it (clang's driver runs any wasm-opt it finds in PATH). */
static void push_clean_env(strvec *sv, const wudf_cc_env *env) {
  wudf_strbuf tmp;
  wudf_strbuf_init(&tmp);
  wudf_strbuf_printf(&tmp, "TMPDIR=%s", env->work_dir);
  sv_push(sv, "env");
  sv_push(sv, "-i");
  sv_push(sv, "PATH=/nonexistent");
  sv_push(sv, "LC_ALL=C");
  sv_push(sv, tmp.oom ? NULL : tmp.data);
  wudf_strbuf_reset(&tmp);
}

static void build_argv(strvec *sv, const wudf_cc_env *env, wudf_cc_tool tool,
                       const char *const *args) {
  push_cpu_limit(sv, env);
  if (env->sandboxed)
    push_sandbox(sv, env, tool);
  else
    push_clean_env(sv, env);
  sv_push(sv, program(env, tool));
  for (; *args; args++) sv_push(sv, *args);
}

/* ------------------------------------------------------------------------ */
/* Outcomes                                                                 */
/* ------------------------------------------------------------------------ */

/* The signal that ended the tool: its own, or the one bwrap passes on as
 * exit status 128 + signal. */
static int ending_signal(const wudf_cc_env *env, const wudf_process_result *r) {
  if (r->term_signal) return r->term_signal;
  if (env->sandboxed && r->exit_code > 128 && r->exit_code < 128 + 65)
    return r->exit_code - 128;
  return 0;
}

static bool ran_out_of_memory(const wudf_process_result *r) {
  const char *o = r->output ? r->output : "";
  return r->exit_code != 0 &&
         (strstr(o, "out of memory") || strstr(o, "bad_alloc") ||
          strstr(o, "Allocation failed") || strstr(o, "Cannot allocate"));
}

static wudf_status classify(const wudf_cc_env *env, const char *what,
                            const wudf_process_result *r, wudf_error *err) {
  const wudf_compile_options *o = env->opts;
  int sig = ending_signal(env, r);
  if (r->timed_out)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "%s stopped: it ran past the time limit of %u s", what,
                     o->timeout_s);
  if (sig == SIGXCPU || (sig == SIGKILL && env->tools->prlimit))
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "%s stopped: it used up the CPU time limit of %u s", what,
                     o->cpu_s);
  if (sig == SIGXFSZ)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "%s stopped: it wrote a file larger than the limit of "
                     "%llu bytes",
                     what, (unsigned long long)o->output_bytes);
  if (ran_out_of_memory(r))
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "%s stopped: it ran out of the memory limit of %llu MiB",
                     what, (unsigned long long)(o->memory_bytes >> 20));
  /* Only bwrap itself starts its output with "bwrap: "; a compiler's
   * lines start with a file name. */
  if (env->sandboxed && r->exit_code == 1 && r->output &&
      !strncmp(r->output, "bwrap: ", 7)) {
    size_t n = strcspn(r->output, "\n");
    return wudf_fail(err, WUDF_ERR_UNSUPPORTED,
                     "cannot set up the compile sandbox: %.*s; %s", (int)n,
                     r->output, k_opt_out);
  }
  if (r->exit_code == 127 && r->output &&
      strstr(r->output, "error while loading shared libraries")) {
    size_t n = strcspn(r->output, "\n");
    return wudf_fail(
        err, WUDF_ERR_UNSUPPORTED, "the compiler cannot start%s: %.*s",
        env->sandboxed ? " in its sandbox" : "", (int)n, r->output);
  }
  return WUDF_OK;
}

static wudf_status check_runnable(const wudf_cc_env *env, wudf_cc_tool tool,
                                  wudf_error *err) {
  const wudf_cc_tools *t = env->tools;
  if (tool == WUDF_CC_CLANG && !t->clang)
    return wudf_fail(err, WUDF_ERR_UNSUPPORTED, "cannot compile C or C++: %s",
                     t->clang_problem);
  if (tool == WUDF_CC_WAT2WASM && !t->wat2wasm)
    return wudf_fail(err, WUDF_ERR_UNSUPPORTED,
                     "cannot compile WebAssembly text: %s", t->wat_problem);
  if (env->sandboxed && !t->bwrap)
    return wudf_fail(err, WUDF_ERR_UNSUPPORTED,
                     "cannot sandbox the compiler: bubblewrap (bwrap) is not "
                     "installed (apt-get install bubblewrap); %s",
                     k_opt_out);
  return WUDF_OK;
}

wudf_status wudf_cc_run(const wudf_cc_env *env, wudf_cc_tool tool,
                        const char *what, const char *const *args,
                        wudf_process_result *res, wudf_error *err) {
  wudf_status st = check_runnable(env, tool, err);
  if (st != WUDF_OK) return st;
  strvec sv = {0};
  build_argv(&sv, env, tool, args);
  if (sv.oom) {
    sv_reset(&sv);
    return wudf_fail(err, WUDF_ERR_NOMEM, "compiler arguments");
  }
  wudf_process_opts po = {
      .timeout_s = env->opts->timeout_s,
      .max_memory_bytes = env->opts->memory_bytes,
      .max_file_bytes = env->opts->output_bytes,
      .cwd = env->work_dir,
      .max_output = TOOL_OUTPUT_MAX,
      .cancel = env->opts->cancel,
  };
  st = wudf_process_run((const char *const *)sv.v, &po, res, err);
  if (st == WUDF_ERR_IO && env->sandboxed)
    wudf_error_prefix(err, "cannot start the compile sandbox");
  else if (st == WUDF_OK)
    st = classify(env, what, res, err);
  sv_reset(&sv);
  return st;
}
