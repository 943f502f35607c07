/* Running a child process (wasm2c, the C compiler) with limits, capturing its
 * merged stdout and stderr. */
#ifndef WUDF_TRANSLATE_PROCESS_H
#define WUDF_TRANSLATE_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wudf.h"

typedef struct wudf_process_opts {
  uint32_t timeout_s;        /* kill (SIGKILL, whole process group) after this;
                                0: none */
  uint64_t max_memory_bytes; /* RLIMIT_AS for the child; 0: none */
  uint64_t max_file_bytes;   /* RLIMIT_FSIZE for the child; 0: none */
  const char *cwd;           /* the child's working directory; NULL: inherit */
  size_t max_output;         /* keep at most this many bytes of stdout+stderr
                                (merged); the rest is read and dropped.
                                0 keeps none. */
  /* When set (from any thread), the child's process group is killed and
   * the run returns WUDF_ERR_CANCELLED; polled every CANCEL_POLL_MS. A
   * flag already set starts nothing. NULL: not cancellable. */
  const wudf_cancel *cancel;
} wudf_process_opts;

typedef struct wudf_process_result {
  int exit_code;   /* -1 if killed by a signal */
  int term_signal; /* 0 if exited */
  bool timed_out;  /* killed because timeout_s passed (term_signal SIGKILL) */
  char *output;    /* owned, NUL-terminated, truncated to max_output */
  size_t output_len;
} wudf_process_result;

/* How often a running child's cancel flag is looked at. */
#define WUDF_PROCESS_CANCEL_POLL_MS 20

/* Runs argv[0] (looked up in PATH unless it contains a '/') with arguments
 * argv[1..] up to a NULL entry. The child gets stdin from /dev/null, stdout
 * and stderr into one pipe, its own process group, the limits in `opts`
 * (NULL: no limits, no output kept), default signal dispositions and an empty
 * signal mask; it inherits the environment.
 *
 * Returns WUDF_OK once the child has ended, however it ended (exit code,
 * signal or timeout: see *result). Errors: WUDF_ERR_CANCELLED (opts->cancel
 * was set: the child, if started, is killed with its group and reaped
 * before the return), WUDF_ERR_ARG, WUDF_ERR_NOMEM,
 * WUDF_ERR_IO (the program could not be started, e.g. "cannot run \"wasm2c\":
 * No such file or directory"; or pipe/fork/wait failed). On error *result is
 * reset (output NULL).
 *
 * *result must be zeroed or reset before the call; release it with
 * wudf_process_result_reset(). Thread-safe: every descriptor is opened
 * close-on-exec and nothing global is touched. The caller's process must not
 * reap children it did not start (waitpid(-1)) or ignore SIGCHLD. */
wudf_status wudf_process_run(const char *const argv[],
                             const wudf_process_opts *opts,
                             wudf_process_result *result, wudf_error *err);

/* Frees the output and zeroes *result. Accepts a zeroed struct. */
void wudf_process_result_reset(wudf_process_result *result);

#endif
