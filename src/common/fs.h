/* File system helpers shared by the cache and the compiler. */
#ifndef WUDF_COMMON_FS_H
#define WUDF_COMMON_FS_H

/* Removes `name` under the directory `parent_fd` (AT_FDCWD for a path) and
 * everything below it, at most 16 levels deep, never following a symbolic
 * link. Best effort: leftovers of a build must not fail the build. */
void wudf_remove_tree(int parent_fd, const char *name);

#endif
