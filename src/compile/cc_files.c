/* Work directories and their files. The compiler may have written anything
 * into a work directory, so reads never follow links and removal never
 * leaves the tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "compile/compile_internal.h"

static const char *errstr(int e, char *buf, size_t n) {
  return strerror_r(e, buf, n);
}

char *wudf_cc_path_join(const char *a, const char *b) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_strbuf_printf(&sb, "%s/%s", a, b);
  return wudf_strbuf_take(&sb);
}

wudf_status wudf_cc_workdir_new(const char *parent, char **out,
                                wudf_error *err) {
  char eb[128];
  if (!parent) parent = getenv("TMPDIR");
  if (!parent || parent[0] != '/') parent = "/tmp";
  char *path = wudf_cc_path_join(parent, "wudf-cc-XXXXXX");
  if (!path) return wudf_fail(err, WUDF_ERR_NOMEM, "work directory path");
  if (!mkdtemp(path)) {
    wudf_status st =
        wudf_fail(err, WUDF_ERR_IO, "cannot create a work directory in %s: %s",
                  parent, errstr(errno, eb, sizeof eb));
    wudf_free(path);
    return st;
  }
  *out = path;
  return WUDF_OK;
}

void wudf_cc_workdir_remove(const char *dir) {
  if (dir && *dir) wudf_remove_tree(AT_FDCWD, dir);
}

wudf_status wudf_cc_write_file(const char *dir, const char *name,
                               const void *data, size_t len, wudf_error *err) {
  char eb[128];
  char *path = wudf_cc_path_join(dir, name);
  if (!path) return wudf_fail(err, WUDF_ERR_NOMEM, "file path");
  int fd =
      open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  wudf_status st = fd < 0 ? WUDF_ERR_IO : wudf_write_all(fd, data, len);
  if (fd >= 0 && close(fd) != 0) st = WUDF_ERR_IO;
  if (st != WUDF_OK)
    wudf_fail(err, WUDF_ERR_IO, "writing %s: %s", path,
              errstr(errno, eb, sizeof eb));
  wudf_free(path);
  return st;
}

static wudf_status read_fd(int fd, size_t size, char **data, size_t *len) {
  char *buf = wudf_malloc(size + 1);
  if (!buf) return WUDF_ERR_NOMEM;
  size_t got = 0;
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      wudf_free(buf);
      return WUDF_ERR_IO;
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return WUDF_OK;
}

wudf_status wudf_cc_read_file(const char *dir, const char *name, size_t max,
                              char **data, size_t *len, wudf_error *err) {
  char eb[128];
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int fd = dfd < 0 ? -1
                   : openat(dfd, name,
                            O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  int e = errno;
  if (dfd >= 0) close(dfd);
  if (fd < 0 && e == ENOENT)
    return wudf_fail(err, WUDF_ERR_NOT_FOUND, "%s was not written", name);
  if (fd < 0)
    return wudf_fail(err, WUDF_ERR_IO, "reading %s: %s", name,
                     errstr(e, eb, sizeof eb));
  struct stat st;
  wudf_status s = WUDF_OK;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    s = wudf_fail(err, WUDF_ERR_IO, "reading %s: not a regular file", name);
  else if ((uint64_t)st.st_size > max)
    s = wudf_fail(err, WUDF_ERR_LIMIT, "%s is %lld bytes; the limit is %zu",
                  name, (long long)st.st_size, max);
  else if ((s = read_fd(fd, (size_t)st.st_size, data, len)) != WUDF_OK)
    wudf_fail(err, s, "reading %s", name);
  close(fd);
  return s;
}
