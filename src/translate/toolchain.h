/* The external toolchain: wasm2c translates a validated module to C, the C
 * compiler turns that C plus wudf's generated shim into a shared object.
 *
 * Build recipe (the flag lists live in toolchain.c and are part of the id):
 *   wasm2c module.wasm -o module.c --module-name=NAME
 *   patch module.c: insert call_indirect_override after CALL_INDIRECT
 *   unit.c = prelude + #include "module.c" + postlude
 *   cc -O2 -fPIC -shared ... -o <temp next to out_so_path> unit.c -lm
 *   rename(temp, out_so_path)
 */
#ifndef WUDF_TRANSLATE_TOOLCHAIN_H
#define WUDF_TRANSLATE_TOOLCHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "wudf.h"

/* Limits on each wasm2c and compiler run (besides the time limit). */
#define WUDF_TOOLCHAIN_MAX_MEMORY (UINT64_C(4) << 30) /* RLIMIT_AS */
#define WUDF_TOOLCHAIN_MAX_FILE (UINT64_C(1) << 30)   /* RLIMIT_FSIZE */

typedef struct wudf_toolchain {
  char *cc, *wasm2c;  /* owned: the commands, looked up in PATH */
  uint32_t timeout_s; /* per run of either tool; 0: none */
  /* sha256 (hex) of: `wasm2c --version` output, `cc --version` output, the
   * contents of the wasm-rt.h that cc resolves, and the fixed flag lists.
   * Changes whenever anything that shapes the compiled code changes. */
  char id_hex[65];
} wudf_toolchain;

/* Fills *tc (which it initialises): copies the commands, runs both
 * `--version` commands once and asks cc where wasm-rt.h is.
 * Errors: WUDF_ERR_COMPILE when a tool is missing or broken, naming it and
 * how to install it ("apt-get install wabt"); WUDF_ERR_NOMEM; WUDF_ERR_ARG.
 * On failure *tc is left reset. Release with wudf_toolchain_reset().
 * Once initialised, *tc is read-only and may be shared between threads. */
wudf_status wudf_toolchain_init(wudf_toolchain *tc, const char *cc,
                                const char *wasm2c, uint32_t timeout_s,
                                wudf_error *err);

/* Frees what *tc owns and zeroes it. Accepts a zeroed struct. */
void wudf_toolchain_reset(wudf_toolchain *tc);

/* What to build. All borrowed. Strings are NUL-terminated; NULL prelude,
 * postlude or override count as absent (a NULL override skips the patch). */
typedef struct wudf_build_input {
  const uint8_t *wasm; /* the validated module */
  size_t wasm_len;
  const char *module_name; /* wasm2c --module-name (a C identifier) */
  const char *prelude;     /* C text placed before the wasm2c output */
  const char *postlude;    /* C text placed after it */
  /* C text inserted right after wasm2c's `#define CALL_INDIRECT(...)` macro
   * definition (after the first line from the #define on that does not end
   * with a backslash). */
  const char *call_indirect_override;
  /* Not part of the cache key. Set from any thread, `cancel` stops the
   * build (WUDF_ERR_CANCELLED, the running tool killed); `progress` is
   * told WUDF_PHASE_TRANSLATE and WUDF_PHASE_CC as they start, with the
   * seconds since `started` (wudf_clock_seconds()). Each may be NULL. */
  const wudf_cancel *cancel;
  wudf_phase_fn progress;
  void *progress_user;
  double started;
} wudf_build_input;

/* Seconds on the monotonic clock, for wudf_build_input.started. */
double wudf_clock_seconds(void);

/* Reports `phase` to in->progress, then WUDF_ERR_CANCELLED if in->cancel
 * is set, else WUDF_OK. */
wudf_status wudf_build_step(const wudf_build_input *in, wudf_phase phase,
                            wudf_error *err);

/* Cache key of a build: sha256 (hex) over tc->id_hex and every field of
 * `in`, each length-prefixed with a presence marker so that fields cannot run
 * into each other and NULL differs from "". */
void wudf_toolchain_key(const wudf_toolchain *tc, const wudf_build_input *in,
                        char hex[65]);

/* Builds `in` into the shared object `out_so_path`, working in `work_dir`
 * (which must exist and be private to this build; the files left there are
 * the caller's to remove). out_so_path appears atomically: the compiler
 * writes a temporary file in the same directory, renamed into place on
 * success and removed on failure; several builds of the same path may run at
 * once. Both tools run with tc->timeout_s and the WUDF_TOOLCHAIN_MAX_* limits.
 * Errors:
 *   WUDF_ERR_INVALID  wasm2c refused the module: "invalid module: 0000025:
 *                     error: type mismatch in i32.add, ..." (first lines)
 *   WUDF_ERR_COMPILE  a tool failed, crashed or timed out (first lines of its
 *                     output), or wasm2c's output lacks CALL_INDIRECT
 *   WUDF_ERR_ARG      module_name is not a C identifier, missing input
 *   WUDF_ERR_CANCELLED in->cancel was set (no output is left behind)
 *   WUDF_ERR_IO, WUDF_ERR_NOMEM
 * Thread-safe. */
wudf_status wudf_toolchain_build(const wudf_toolchain *tc,
                                 const wudf_build_input *in,
                                 const char *work_dir, const char *out_so_path,
                                 wudf_error *err);

#endif
