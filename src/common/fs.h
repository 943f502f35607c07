/* File system helpers shared by the cache and the compiler. */
#ifndef WUDF_COMMON_FS_H
#define WUDF_COMMON_FS_H

#include <stddef.h>

#include "wudf.h"

/* Removes `name` under the directory `parent_fd` (AT_FDCWD for a path) and
 * everything below it, at most 16 levels deep, never following a symbolic
 * link. Best effort: leftovers of a build must not fail the build. */
void wudf_remove_tree(int parent_fd, const char *name);

/* Writes all `n` bytes to fd, retrying after EINTR and short writes.
 * WUDF_OK or WUDF_ERR_IO (errno tells why). */
wudf_status wudf_write_all(int fd, const void *p, size_t n);

#endif
