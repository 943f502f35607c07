/* The compiled-module cache: shared objects named by the build key.
 *
 * Layout: <dir>/<key[0..1]>/<key>.so, build work directories under
 * <dir>/tmp/. Only shared objects that wudf itself produced may ever be
 * loaded, so the directory must belong to the effective user and be writable
 * by nobody else, and entries are published by an atomic rename. */
#ifndef WUDF_TRANSLATE_CACHE_H
#define WUDF_TRANSLATE_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "translate/toolchain.h"
#include "wudf.h"

typedef struct wudf_cache {
  char *dir; /* owned; absolute, without a trailing slash */
} wudf_cache;

/* Opens the cache in `dir`, or when dir is NULL in $XDG_CACHE_HOME/wudf,
 * else $HOME/.cache/wudf, else <passwd home>/.cache/wudf.
 * Creates missing directories (the cache directory itself with mode 0700,
 * missing parents 0755) and <dir>/tmp, and removes work directories older
 * than a day from <dir>/tmp (left by builds whose process was killed).
 * Errors: WUDF_ERR_CACHE naming the path and the reason when the directory
 * cannot be created, is a symbolic link or not a directory, is not owned by
 * the effective uid, or is writable by group or others; WUDF_ERR_NOMEM.
 * On failure *cache is left reset. Release with wudf_cache_reset().
 * Once open, *cache is read-only and may be shared between threads. */
wudf_status wudf_cache_open(wudf_cache *cache, const char *dir,
                            wudf_error *err);

/* Frees what *cache owns and zeroes it. Accepts a zeroed struct. */
void wudf_cache_reset(wudf_cache *cache);

/* Writes into out_path (out_size bytes) the path of the shared object for
 * `in`, building it if needed. A hit (the entry exists as a regular file
 * owned by the effective uid, not group/world-writable, not a symlink) costs
 * the key's hash and one lstat; *was_cached is then true. Otherwise the
 * module is built in a fresh work directory under <dir>/tmp/, which is
 * removed afterwards whatever happened, and *was_cached is false.
 * was_cached may be NULL.
 * Errors: those of wudf_toolchain_build() (WUDF_ERR_INVALID,
 * WUDF_ERR_COMPILE, ...), WUDF_ERR_CACHE when the cache's directories are
 * unusable, WUDF_ERR_ARG when out_size is too small (needs
 * strlen(dir) + 72).
 * Thread-safe; several threads and processes may fill the same key at once
 * (each builds, the last rename wins, all succeed). */
wudf_status wudf_cache_get_or_build(const wudf_cache *cache,
                                    const wudf_toolchain *tc,
                                    const wudf_build_input *in, char *out_path,
                                    size_t out_size, bool *was_cached,
                                    wudf_error *err);

/* Whether the entry for `in` is in the cache (a regular file of ours that
 * nobody else may write), without building anything. */
bool wudf_cache_has(const wudf_cache *cache, const wudf_toolchain *tc,
                    const wudf_build_input *in);

#endif
