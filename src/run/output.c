/*
 * Where a run writes: an output file is written to a temporary file in the
 * same directory and renamed over the path only when the run succeeds, so
 * a failed run never leaves a partial file nor replaces an existing one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "run/run_internal.h"

/* "<dir>/.<base>.<pid>-<n>.tmp": hidden, next to the output, so that the
 * rename stays in one file system. */
static char *temp_name(const char *path, unsigned n) {
  const char *slash = strrchr(path, '/');
  size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
  size_t size = strlen(path) + 64;
  char *t = wudf_malloc(size);
  if (t)
    snprintf(t, size, "%.*s.%s.%ld-%u.tmp", (int)dir_len, path, path + dir_len,
             (long)getpid(), n);
  return t;
}

/* Creates the temporary file. Its mode is that of the file it replaces, or
 * the usual 0666 less the umask (applied by open()). */
static int create_temp(wudf_run_sink *s, const char *path, wudf_error *err) {
  static _Atomic unsigned counter;
  struct stat old;
  bool exists = stat(path, &old) == 0;
  if (exists && S_ISDIR(old.st_mode)) {
    wudf_fail(err, WUDF_ERR_IO, "output %s is a directory", path);
    return -1;
  }
  for (int tries = 0; tries < 100; tries++) {
    wudf_free(s->tmp_path);
    s->tmp_path = temp_name(path, counter++);
    if (!s->tmp_path) {
      wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
      return -1;
    }
    int fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      if (exists) (void)fchmod(fd, old.st_mode & 07777);
      return fd;
    }
    if (errno != EEXIST) break;
  }
  wudf_fail(err, WUDF_ERR_IO, "cannot create a temporary file next to %s: %s",
            path, strerror(errno));
  wudf_free(s->tmp_path);
  s->tmp_path = NULL;
  return -1;
}

wudf_status wudf_run_sink_open(wudf_run_sink *s, const char *path, FILE *f,
                               wudf_error *err) {
  memset(s, 0, sizeof *s);
  if (!path) {
    s->f = f ? f : stdout;
    return WUDF_OK;
  }
  int fd = create_temp(s, path, err);
  if (fd < 0) return err ? err->status : WUDF_ERR_IO;
  s->f = fdopen(fd, "w");
  if (!s->f) {
    close(fd);
    wudf_run_sink_abort(s);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory");
  }
  s->owned = true;
  s->path = path;
  return WUDF_OK;
}

wudf_status wudf_run_sink_commit(wudf_run_sink *s, wudf_error *err) {
  if (!s->owned) {
    if (fflush(s->f) != 0 || ferror(s->f))
      return wudf_fail(err, WUDF_ERR_IO, "writing the output: %s",
                       strerror(errno));
    return WUDF_OK;
  }
  bool ok = fflush(s->f) == 0 && !ferror(s->f) && fsync(fileno(s->f)) == 0;
  int e = errno;
  ok = (fclose(s->f) == 0) && ok;
  s->f = NULL;
  if (ok && rename(s->tmp_path, s->path) == 0) {
    wudf_free(s->tmp_path);
    s->tmp_path = NULL;
    s->owned = false;
    return WUDF_OK;
  }
  if (ok) e = errno;
  wudf_run_sink_abort(s);
  return wudf_fail(err, WUDF_ERR_IO, "writing %s: %s", s->path, strerror(e));
}

void wudf_run_sink_abort(wudf_run_sink *s) {
  if (s->owned && s->f) fclose(s->f);
  if (s->tmp_path) unlink(s->tmp_path);
  wudf_free(s->tmp_path);
  memset(s, 0, sizeof *s);
}
