/* The compiled-module cache; see cache.h. */
#include "translate/cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/strbuf.h"

#define STALE_SECONDS (24 * 60 * 60)

static const char *errstr(int e, char *buf, size_t n) {
  return strerror_r(e, buf, n);
}

/* ------------------------------------------------------------------------ */
/* Choosing and checking the directory                                      */
/* ------------------------------------------------------------------------ */

static const char *nonempty_env(const char *name) {
  const char *v = getenv(name);
  return v && *v ? v : NULL;
}

/* The home directory from the password database, appended to sb. */
static bool passwd_home(wudf_strbuf *sb) {
  struct passwd pw, *found = NULL;
  char buf[4096];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) != 0 || !found ||
      !pw.pw_dir || !*pw.pw_dir)
    return false;
  wudf_strbuf_puts(sb, pw.pw_dir);
  return true;
}

/* Appends the configured directory to sb. XDG_CACHE_HOME counts only when
 * absolute, as the XDG Base Directory specification asks. */
static wudf_status default_dir(wudf_strbuf *sb, wudf_error *err) {
  const char *v;
  if ((v = nonempty_env("XDG_CACHE_HOME")) && v[0] == '/') {
    wudf_strbuf_printf(sb, "%s/wudf", v);
  } else if ((v = nonempty_env("HOME"))) {
    wudf_strbuf_printf(sb, "%s/.cache/wudf", v);
  } else if (passwd_home(sb)) {
    wudf_strbuf_puts(sb, "/.cache/wudf");
  } else {
    return wudf_fail(err, WUDF_ERR_CACHE,
                     "no cache directory: give one or set HOME");
  }
  return WUDF_OK;
}

/* Prepends the working directory to a relative path in sb. */
static wudf_status make_absolute(wudf_strbuf *sb, wudf_error *err) {
  if (!sb->data || sb->data[0] == '/') return WUDF_OK;
  char eb[128];
  char *cwd = getcwd(NULL, 0);
  if (!cwd)
    return wudf_fail(err, WUDF_ERR_CACHE, "cache directory %s: getcwd: %s",
                     sb->data, errstr(errno, eb, sizeof eb));
  wudf_strbuf abs;
  wudf_strbuf_init(&abs);
  wudf_strbuf_printf(&abs, "%s/%s", cwd, sb->data);
  wudf_free(cwd);
  wudf_strbuf_reset(sb);
  *sb = abs;
  return WUDF_OK;
}

/* The directory as an absolute path without trailing slashes (a trailing
 * slash would make lstat follow a symbolic link). Owned. */
static wudf_status resolve_dir(const char *dir, char **out, wudf_error *err) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_status st = WUDF_OK;
  if (dir && *dir)
    wudf_strbuf_puts(&sb, dir);
  else
    st = default_dir(&sb, err);
  if (st == WUDF_OK) st = make_absolute(&sb, err);
  while (sb.len > 1 && sb.data[sb.len - 1] == '/') sb.data[--sb.len] = '\0';
  if (st == WUDF_OK && (sb.oom || sb.len == 0))
    st = wudf_fail(err, WUDF_ERR_NOMEM, "cache directory path");
  if (st == WUDF_OK) *out = wudf_strbuf_take(&sb);
  wudf_strbuf_reset(&sb);
  return st;
}

/* Refuses a directory that anyone but us could have put files into. */
static wudf_status check_private_dir(const char *path, wudf_error *err) {
  char eb[128];
  struct stat st;
  if (lstat(path, &st) != 0)
    return wudf_fail(err, WUDF_ERR_CACHE, "cache directory %s: %s", path,
                     errstr(errno, eb, sizeof eb));
  if (S_ISLNK(st.st_mode))
    return wudf_fail(err, WUDF_ERR_CACHE,
                     "cache directory %s is a symbolic link; use the real "
                     "path",
                     path);
  if (!S_ISDIR(st.st_mode))
    return wudf_fail(err, WUDF_ERR_CACHE,
                     "cache directory %s is not a directory", path);
  if (st.st_uid != geteuid())
    return wudf_fail(err, WUDF_ERR_CACHE,
                     "cache directory %s is owned by uid %ld, not by the "
                     "current user (uid %ld)",
                     path, (long)st.st_uid, (long)geteuid());
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return wudf_fail(err, WUDF_ERR_CACHE,
                     "cache directory %s is writable by group or others "
                     "(mode %04o); make it private (chmod 700)",
                     path, (unsigned)(st.st_mode & 07777));
  return WUDF_OK;
}

static wudf_status make_dir(const char *path, mode_t mode, wudf_error *err) {
  char eb[128];
  if (mkdir(path, mode) == 0 || errno == EEXIST) return WUDF_OK;
  return wudf_fail(err, WUDF_ERR_CACHE, "cannot create cache directory %s: %s",
                   path, errstr(errno, eb, sizeof eb));
}

/* mkdir -p: missing parents 0755, the directory itself 0700. `path` is
 * absolute and writable (separators are restored). */
static wudf_status make_dirs(char *path, wudf_error *err) {
  for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
    *p = '\0';
    struct stat st;
    wudf_status s = WUDF_OK;
    if (stat(path, &st) != 0) s = make_dir(path, 0755, err);
    *p = '/';
    if (s != WUDF_OK) return s;
  }
  return make_dir(path, 0700, err);
}

/* Creates (if needed) and checks a subdirectory of the cache. Owned path in
 * *out if out is not NULL. */
static wudf_status private_subdir(const char *dir, const char *name, char **out,
                                  wudf_error *err) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_strbuf_printf(&sb, "%s/%s", dir, name);
  if (sb.oom) return wudf_fail(err, WUDF_ERR_NOMEM, "cache path");
  wudf_status st = make_dir(sb.data, 0700, err);
  if (st == WUDF_OK) st = check_private_dir(sb.data, err);
  if (st == WUDF_OK && out) {
    *out = wudf_strbuf_take(&sb);
    if (!*out) st = wudf_fail(err, WUDF_ERR_NOMEM, "cache path");
  }
  wudf_strbuf_reset(&sb);
  return st;
}

/* Removes work directories that builds killed mid-way left in <dir>/tmp
 * (a live build is far younger than STALE_SECONDS). Best effort. */
static void sweep_stale(const char *tmp_dir) {
  int fd = open(tmp_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    if (fd >= 0) close(fd);
    return;
  }
  time_t now = time(NULL);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    struct stat st;
    if (strncmp(e->d_name, "build-", 6) != 0 ||
        fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    if (now - st.st_mtime > STALE_SECONDS) wudf_remove_tree(fd, e->d_name);
  }
  closedir(d);
}

wudf_status wudf_cache_open(wudf_cache *cache, const char *dir,
                            wudf_error *err) {
  if (!cache) return wudf_fail(err, WUDF_ERR_ARG, "cache: NULL argument");
  memset(cache, 0, sizeof *cache);
  wudf_status st = resolve_dir(dir, &cache->dir, err);
  if (st == WUDF_OK) st = make_dirs(cache->dir, err);
  if (st == WUDF_OK) st = check_private_dir(cache->dir, err);
  char *tmp_dir = NULL;
  if (st == WUDF_OK) st = private_subdir(cache->dir, "tmp", &tmp_dir, err);
  if (st == WUDF_OK) sweep_stale(tmp_dir);
  wudf_free(tmp_dir);
  if (st != WUDF_OK) wudf_cache_reset(cache);
  return st;
}

void wudf_cache_reset(wudf_cache *cache) {
  if (!cache) return;
  wudf_free(cache->dir);
  memset(cache, 0, sizeof *cache);
}

/* ------------------------------------------------------------------------ */
/* Entries                                                                  */
/* ------------------------------------------------------------------------ */

static bool is_our_file(const struct stat *st) {
  return S_ISREG(st->st_mode) && st->st_uid == geteuid() &&
         !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Builds into `path` through a fresh work directory, removed afterwards. */
static wudf_status build_entry(const wudf_cache *cache,
                               const wudf_toolchain *tc,
                               const wudf_build_input *in, const char *path,
                               const char *shard, wudf_error *err) {
  char eb[128];
  char *tmp_dir = NULL;
  wudf_strbuf work;
  wudf_strbuf_init(&work);
  wudf_status st = private_subdir(cache->dir, shard, NULL, err);
  if (st == WUDF_OK) st = private_subdir(cache->dir, "tmp", &tmp_dir, err);
  if (st != WUDF_OK) goto done;
  wudf_strbuf_printf(&work, "%s/build-XXXXXX", tmp_dir);
  if (work.oom) {
    st = wudf_fail(err, WUDF_ERR_NOMEM, "cache work directory path");
    goto done;
  }
  if (!mkdtemp(work.data)) {
    st = wudf_fail(err, WUDF_ERR_CACHE,
                   "cannot create a work directory in "
                   "%s: %s",
                   tmp_dir, errstr(errno, eb, sizeof eb));
    goto done;
  }
  st = wudf_toolchain_build(tc, in, work.data, path, err);
  wudf_remove_tree(AT_FDCWD, work.data);
done:
  wudf_strbuf_reset(&work);
  wudf_free(tmp_dir);
  return st;
}

/* The entry's path, <dir>/<key[0..1]>/<key>.so, and its shard name. */
static wudf_status entry_path(const wudf_cache *cache, const wudf_toolchain *tc,
                              const wudf_build_input *in, char *out_path,
                              size_t out_size, char shard[3], wudf_error *err) {
  char key[65];
  wudf_toolchain_key(tc, in, key);
  memcpy(shard, key, 2);
  shard[2] = '\0';
  int n = snprintf(out_path, out_size, "%s/%s/%s.so", cache->dir, shard, key);
  if (n < 0 || (size_t)n >= out_size)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "cache lookup: path buffer of %zu bytes is too small",
                     out_size);
  return WUDF_OK;
}

static bool entry_present(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 && is_our_file(&st);
}

bool wudf_cache_has(const wudf_cache *cache, const wudf_toolchain *tc,
                    const wudf_build_input *in) {
  char path[4096], shard[3];
  return cache && cache->dir && tc && in &&
         entry_path(cache, tc, in, path, sizeof path, shard, NULL) == WUDF_OK &&
         entry_present(path);
}

wudf_status wudf_cache_get_or_build(const wudf_cache *cache,
                                    const wudf_toolchain *tc,
                                    const wudf_build_input *in, char *out_path,
                                    size_t out_size, bool *was_cached,
                                    wudf_error *err) {
  if (!cache || !cache->dir || !tc || !in || !out_path)
    return wudf_fail(err, WUDF_ERR_ARG, "cache lookup: NULL argument");
  char shard[3];
  wudf_status st = entry_path(cache, tc, in, out_path, out_size, shard, err);
  if (st != WUDF_OK) return st;
  if (was_cached) *was_cached = false;
  if (entry_present(out_path)) {
    if (was_cached) *was_cached = true;
    return WUDF_OK;
  }
  return build_entry(cache, tc, in, out_path, shard, err);
}
