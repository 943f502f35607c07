/* Child processes with limits: fork + execvp, output through one pipe read
 * with poll() against a deadline. Many threads may run children at once, so
 * every descriptor is close-on-exec and the child does nothing between fork
 * and exec that is not async-signal-safe. */
#include "translate/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/strbuf.h"

/* What the child reports through the report pipe when it cannot exec. */
enum { STEP_CHDIR = 1, STEP_EXEC = 2 };

/* Everything the child needs, prepared by the parent before fork. */
typedef struct child_setup {
  const char *const *argv;
  const char *cwd;
  struct rlimit as, fsize;
  bool set_as, set_fsize;
  int null_fd, out_fd, report_fd;
  pid_t parent;
  struct sigaction dfl;
  sigset_t empty;
} child_setup;

typedef struct deadline {
  bool set;
  struct timespec at;        /* CLOCK_MONOTONIC */
  const wudf_cancel *cancel; /* ends the wait early too; may be NULL */
  bool cancelled;            /* the child was killed for it */
} deadline;

static const char *errstr(int e, char *buf, size_t n) {
  return strerror_r(e, buf, n);
}

/* ---- child side: async-signal-safe calls only ---- */

static void child_report(int fd, int step, int e) {
  int msg[2] = {step, e};
  ssize_t ignored = write(fd, msg, sizeof msg);
  (void)ignored;
}

/* Output of dup2 must not be close-on-exec, even when the descriptor is
 * already in place (dup2 is then a no-op that keeps the flag). */
static int child_place(int fd, int target) {
  if (fd == target) return fcntl(fd, F_SETFD, 0);
  return dup2(fd, target) < 0 ? -1 : 0;
}

static void child_reset_signals(const child_setup *cs) {
  /* Handlers do not survive exec but ignored signals do (Python ignores
   * SIGPIPE); the compiler should see the defaults. */
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &cs->dfl, NULL);
  sigprocmask(SIG_SETMASK, &cs->empty, NULL);
}

__attribute__((noreturn)) static void child_exec(const child_setup *cs) {
  setpgid(0, 0);
#ifdef __linux__
  /* A compiler outliving a killed host would run on unsupervised. The
   * forking thread waits for the child, so it cannot end first. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != cs->parent) _exit(127);
#endif
  child_reset_signals(cs);
  if (cs->set_as) setrlimit(RLIMIT_AS, &cs->as);
  if (cs->set_fsize) setrlimit(RLIMIT_FSIZE, &cs->fsize);
  if (cs->cwd && chdir(cs->cwd) != 0) {
    child_report(cs->report_fd, STEP_CHDIR, errno);
    _exit(127);
  }
  if (child_place(cs->null_fd, 0) != 0 || child_place(cs->out_fd, 1) != 0 ||
      child_place(cs->out_fd, 2) != 0) {
    child_report(cs->report_fd, STEP_EXEC, errno);
    _exit(127);
  }
  execvp(cs->argv[0], (char *const *)cs->argv);
  child_report(cs->report_fd, STEP_EXEC, errno);
  _exit(127);
}

/* ---- parent side ---- */

/* A limit the child cannot raise again; never above `now`'s hard limit,
 * which an unprivileged process could not set. */
static bool prepare_limit(uint64_t bytes, int got_now, const struct rlimit *now,
                          struct rlimit *out) {
  if (bytes == 0) return false;
  rlim_t want =
      bytes > (uint64_t)RLIM_INFINITY - 1 ? RLIM_INFINITY - 1 : (rlim_t)bytes;
  if (got_now == 0 && now->rlim_max != RLIM_INFINITY && now->rlim_max < want)
    want = now->rlim_max;
  out->rlim_cur = out->rlim_max = want;
  return true;
}

/* Moves fd above 0..2 so that placing the child's stdio cannot clobber it
 * (a daemon host may run with stdio closed). */
static int fd_above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

static void deadline_start(deadline *d, uint32_t timeout_s,
                           const wudf_cancel *cancel) {
  d->cancel = cancel;
  d->cancelled = false;
  d->set = timeout_s > 0;
  if (!d->set) return;
  clock_gettime(CLOCK_MONOTONIC, &d->at);
  d->at.tv_sec += (time_t)timeout_s;
}

/* Milliseconds left (0 when passed), or -1 for no deadline. */
static int deadline_left_ms(const deadline *d) {
  if (!d->set) return -1;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  double ms = (double)(d->at.tv_sec - now.tv_sec) * 1e3 +
              (double)(d->at.tv_nsec - now.tv_nsec) / 1e6;
  if (ms <= 0) return 0;
  return ms > 1e9 ? 1000000000 : (int)ms + 1;
}

static void kill_group(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL); /* in case neither setpgid has happened yet */
}

/* Kills the child's group when the cancel flag is set; true then. */
static bool cancel_now(deadline *d, pid_t pid) {
  if (!d->cancelled && !wudf_cancel_is_set(d->cancel)) return false;
  if (!d->cancelled) kill_group(pid);
  d->cancelled = true;
  return true;
}

/* How long one poll may wait: the deadline's time left, at most the
 * cancel polling interval when the run is cancellable. */
static int poll_ms(const deadline *d) {
  int left = deadline_left_ms(d);
  if (!d->cancel) return left;
  return left < 0 || left > WUDF_PROCESS_CANCEL_POLL_MS
             ? WUDF_PROCESS_CANCEL_POLL_MS
             : left;
}

static void keep_output(wudf_strbuf *out, size_t max, const char *buf,
                        size_t n) {
  size_t room = max > out->len ? max - out->len : 0;
  wudf_strbuf_append(out, buf, n < room ? n : room);
}

/* Reads the pipe to EOF or to the deadline, whichever is first. On the
 * deadline kills the child's process group and sets *timed_out. */
static wudf_status collect_output(int fd, pid_t pid, deadline *d, size_t max,
                                  wudf_strbuf *out, bool *timed_out,
                                  wudf_error *err) {
  char buf[4096];
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (cancel_now(d, pid)) return WUDF_OK;
    if (deadline_left_ms(d) == 0) {
      kill_group(pid);
      *timed_out = true;
      return WUDF_OK;
    }
    int r = poll(&p, 1, poll_ms(d));
    if (r < 0 && errno != EINTR) goto io_error;
    if (r <= 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return WUDF_OK;
    if (n < 0 && errno != EINTR && errno != EAGAIN) goto io_error;
    if (n > 0) keep_output(out, max, buf, (size_t)n);
  }
io_error:;
  char eb[128];
  kill_group(pid);
  return wudf_fail(err, WUDF_ERR_IO, "reading a child's output: %s",
                   errstr(errno, eb, sizeof eb));
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Waits (without reaping) until the child has exited or the deadline has
 * passed; kills its group on the deadline. Its output is closed already, so
 * this is normally immediate. */
static void await_exit(pid_t pid, deadline *d, bool *timed_out) {
  long nap = 1;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int flags = WEXITED | WNOWAIT | (d->set || d->cancel ? WNOHANG : 0);
    int r = waitid(P_PID, (id_t)pid, &si, flags);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || si.si_pid == pid) return;
    if (cancel_now(d, pid)) continue; /* killed: wait for it to end */
    if (deadline_left_ms(d) == 0) {
      kill_group(pid);
      *timed_out = true;
      return;
    }
    sleep_ms(nap);
    if (nap < 50) nap *= 2;
  }
}

/* Reaps the child; kills whatever it left behind in its process group first
 * (the unreaped zombie keeps the group id from being reused). */
static wudf_status reap(pid_t pid, int *status, wudf_error *err) {
  kill(-pid, SIGKILL);
  for (;;) {
    if (waitpid(pid, status, 0) == pid) return WUDF_OK;
    if (errno != EINTR) break;
  }
  char eb[128];
  return wudf_fail(err, WUDF_ERR_SYSTEM, "waiting for child process %ld: %s",
                   (long)pid, errstr(errno, eb, sizeof eb));
}

/* Returns true and fills *step and *e if the child reported that it could not
 * exec; EOF (the report pipe closed by a successful exec) returns false. */
static bool exec_failed(int fd, int *step, int *e) {
  int msg[2];
  ssize_t n;
  do {
    n = read(fd, msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  if (n != (ssize_t)sizeof msg) return false;
  *step = msg[0];
  *e = msg[1];
  return true;
}

static wudf_status open_fds(child_setup *cs, int out[2], int rep[2],
                            wudf_error *err) {
  char eb[128];
  cs->null_fd = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (cs->null_fd < 0) goto fail;
  if (pipe2(out, O_CLOEXEC) != 0) goto fail;
  out[0] = fd_above_stdio(out[0]);
  out[1] = fd_above_stdio(out[1]);
  if (out[0] < 0 || out[1] < 0) goto fail;
  if (pipe2(rep, O_CLOEXEC) != 0) goto fail;
  rep[0] = fd_above_stdio(rep[0]);
  rep[1] = fd_above_stdio(rep[1]);
  if (rep[0] < 0 || rep[1] < 0) goto fail;
  cs->out_fd = out[1];
  cs->report_fd = rep[1];
  return WUDF_OK;
fail:
  return wudf_fail(err, WUDF_ERR_SYSTEM,
                   "creating pipes for a child process: %s",
                   errstr(errno, eb, sizeof eb));
}

static void prepare_setup(child_setup *cs, const char *const argv[],
                          const wudf_process_opts *opts) {
  memset(cs, 0, sizeof *cs);
  cs->argv = argv;
  cs->cwd = opts->cwd;
  struct rlimit now;
  int got = getrlimit(RLIMIT_AS, &now);
  cs->set_as = prepare_limit(opts->max_memory_bytes, got, &now, &cs->as);
  got = getrlimit(RLIMIT_FSIZE, &now);
  cs->set_fsize = prepare_limit(opts->max_file_bytes, got, &now, &cs->fsize);
  cs->null_fd = cs->out_fd = cs->report_fd = -1;
  cs->parent = getpid();
  cs->dfl.sa_handler = SIG_DFL;
  sigemptyset(&cs->dfl.sa_mask);
  sigemptyset(&cs->empty);
}

/* fork with every signal blocked, so that no handler of the host runs in the
 * child before it has reset the dispositions. */
static pid_t fork_child(const child_setup *cs) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) child_exec(cs);
  int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return pid;
}

static void fill_result(wudf_process_result *result, int status,
                        bool timed_out) {
  result->timed_out = timed_out;
  result->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static wudf_status start_failure(const char *const argv[], const char *cwd,
                                 int step, int e, wudf_error *err) {
  char eb[128];
  if (step == STEP_CHDIR)
    return wudf_fail(err, WUDF_ERR_IO, "cannot run \"%s\": directory %s: %s",
                     argv[0], cwd, errstr(e, eb, sizeof eb));
  return wudf_fail(err, WUDF_ERR_IO, "cannot run \"%s\": %s", argv[0],
                   errstr(e, eb, sizeof eb));
}

/* After a successful exec: output, exit, reaping. */
static wudf_status supervise(const char *name, pid_t pid, int out_fd,
                             deadline *d, size_t max_output,
                             wudf_process_result *result, wudf_error *err) {
  wudf_strbuf out;
  wudf_strbuf_init(&out);
  bool timed_out = false;
  int status = 0;
  wudf_status st =
      collect_output(out_fd, pid, d, max_output, &out, &timed_out, err);
  if (st == WUDF_OK && !timed_out && !d->cancelled)
    await_exit(pid, d, &timed_out);
  wudf_status reaped = reap(pid, &status, err);
  if (st == WUDF_OK) st = reaped;
  if (st == WUDF_OK && d->cancelled)
    st = wudf_fail(err, WUDF_ERR_CANCELLED, "cancelled: \"%s\" was stopped",
                   name);
  if (st == WUDF_OK && out.oom)
    st = wudf_fail(err, WUDF_ERR_NOMEM, "keeping a child's output");
  if (st != WUDF_OK) {
    wudf_strbuf_reset(&out);
    return st;
  }
  result->output_len = out.len;
  result->output = wudf_strbuf_take(&out);
  if (!result->output)
    return wudf_fail(err, WUDF_ERR_NOMEM, "keeping a child's output");
  fill_result(result, status, timed_out);
  return WUDF_OK;
}

wudf_status wudf_process_run(const char *const argv[],
                             const wudf_process_opts *opts,
                             wudf_process_result *result, wudf_error *err) {
  if (!argv || !argv[0] || !result)
    return wudf_fail(err, WUDF_ERR_ARG, "wudf_process_run: no program given");
  wudf_process_opts none = {0};
  if (!opts) opts = &none;
  memset(result, 0, sizeof *result);
  if (wudf_cancel_is_set(opts->cancel))
    return wudf_fail(err, WUDF_ERR_CANCELLED, "cancelled before \"%s\" ran",
                     argv[0]);
  child_setup cs;
  prepare_setup(&cs, argv, opts);
  int out[2] = {-1, -1}, rep[2] = {-1, -1}, step = 0, e = 0;
  wudf_status st = open_fds(&cs, out, rep, err);
  if (st != WUDF_OK) goto done;
  deadline d;
  deadline_start(&d, opts->timeout_s, opts->cancel);
  pid_t pid = fork_child(&cs);
  if (pid < 0) {
    char eb[128];
    st = wudf_fail(err, WUDF_ERR_SYSTEM, "cannot run \"%s\": fork: %s", argv[0],
                   errstr(errno, eb, sizeof eb));
    goto done;
  }
  setpgid(pid, pid); /* also here, so that a timeout kill finds the group */
  close_fd(&out[1]);
  close_fd(&rep[1]);
  if (exec_failed(rep[0], &step, &e)) {
    int status;
    st = reap(pid, &status, err);
    if (st == WUDF_OK) st = start_failure(argv, opts->cwd, step, e, err);
    goto done;
  }
  st = supervise(argv[0], pid, out[0], &d, opts->max_output, result, err);
done:
  close_fd(&cs.null_fd);
  close_fd(&out[0]);
  close_fd(&out[1]);
  close_fd(&rep[0]);
  close_fd(&rep[1]);
  if (st != WUDF_OK) wudf_process_result_reset(result);
  return st;
}

void wudf_process_result_reset(wudf_process_result *result) {
  if (!result) return;
  wudf_free(result->output);
  memset(result, 0, sizeof *result);
}
