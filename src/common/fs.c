#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define REMOVE_MAX_DEPTH 16

static void remove_at(int parent_fd, const char *name, int depth) {
  int fd =
      openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    unlinkat(parent_fd, name, 0);
    return;
  }
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (depth < REMOVE_MAX_DEPTH) remove_at(fd, e->d_name, depth + 1);
  }
  closedir(d);
  unlinkat(parent_fd, name, AT_REMOVEDIR);
}

void wudf_remove_tree(int parent_fd, const char *name) {
  remove_at(parent_fd, name, 0);
}

wudf_status wudf_write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return WUDF_ERR_IO;
    p += w;
    n -= (size_t)w;
  }
  return WUDF_OK;
}
