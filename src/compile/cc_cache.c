/*
 * The cache of compiled sources: <cache>/compile/<key[0..1]>/<key>.wudfc,
 * in the engine's cache directory and under its rules (translate/cache.h):
 * the directories belong to the user and nobody else may write them, an
 * entry is used only if it is a regular file of ours, entries appear by an
 * atomic rename. An entry holds the module and the warnings of the compile
 * that made it (failed compiles are not cached):
 *
 *     "WUDFCC1\n" <count>"\n" { <severity> <line> <column> <message>"\n" }
 *     <module length>"\n" <module bytes>
 *
 * An entry that does not parse exactly (cut short by a crash, say) is a
 * miss.
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
#include "common/sha256.h"
#include "compile/compile_internal.h"
#include "translate/cache.h"

#define MAGIC "WUDFCC1\n"
#define MAX_ENTRY ((size_t)512 << 20)
#define MAX_STORED_DIAGS 1000

/* ------------------------------------------------------------------------ */
/* Directories                                                              */
/* ------------------------------------------------------------------------ */

/* Creates `path` (0700) if needed and checks it as the cache does. */
static wudf_status private_dir(const char *path, wudf_error *err) {
  struct stat st;
  if (mkdir(path, 0700) != 0 && errno != EEXIST)
    return wudf_fail(err, WUDF_ERR_CACHE, "cannot create %s: %s", path,
                     strerror(errno));
  if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return wudf_fail(err, WUDF_ERR_CACHE, "%s is not a directory", path);
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
    return wudf_fail(err, WUDF_ERR_CACHE,
                     "%s is not private to the current user (owner uid %ld, "
                     "mode %04o)",
                     path, (long)st.st_uid, (unsigned)(st.st_mode & 07777));
  return WUDF_OK;
}

wudf_status wudf_cc_cache_open(wudf_cc_cache *c, const char *dir,
                               wudf_error *err) {
  memset(c, 0, sizeof *c);
  wudf_cache base = {0};
  wudf_status st = wudf_cache_open(&base, dir, err);
  if (st != WUDF_OK) return st;
  c->dir = wudf_cc_path_join(base.dir, "compile");
  c->tmp = wudf_cc_path_join(base.dir, "tmp");
  wudf_cache_reset(&base);
  if (!c->dir || !c->tmp) st = wudf_fail(err, WUDF_ERR_NOMEM, "cache path");
  if (st == WUDF_OK) st = private_dir(c->dir, err);
  if (st != WUDF_OK) wudf_cc_cache_reset(c);
  return st;
}

void wudf_cc_cache_reset(wudf_cc_cache *c) {
  if (!c) return;
  wudf_free(c->dir);
  wudf_free(c->tmp);
  memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                     */
/* ------------------------------------------------------------------------ */

static void hash_bytes(wudf_sha256_ctx *h, const void *p, size_t n,
                       bool present) {
  uint64_t len = present ? (uint64_t)n : UINT64_MAX;
  wudf_sha256_update(h, &len, sizeof len);
  if (present && n) wudf_sha256_update(h, p, n);
}

static void hash_str(wudf_sha256_ctx *h, const char *s) {
  hash_bytes(h, s, s ? strlen(s) : 0, s != NULL);
}

void wudf_cc_cache_key(const wudf_cc_job *job, const char *header_text,
                       size_t header_len, char hex[65]) {
  wudf_sha256_ctx h;
  uint8_t digest[WUDF_SHA256_DIGEST_SIZE];
  wudf_sha256_init(&h);
  hash_str(&h, "wudf-compile-key-1");
  hash_str(&h, job->env.tools->id_hex);
  hash_str(&h, wudf_lang_str(job->lang));
  uint64_t n = job->nfunctions;
  wudf_sha256_update(&h, &n, sizeof n);
  for (uint32_t i = 0; i < job->nfunctions; i++)
    hash_str(&h, job->functions[i]);
  hash_bytes(&h, header_text, header_len, header_text != NULL);
  hash_bytes(&h, job->source, job->len, true);
  wudf_sha256_final(&h, digest);
  wudf_sha256_to_hex(digest, hex);
}

static char *entry_path(const wudf_cc_cache *c, const char *key, char **shard) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_strbuf_printf(&sb, "%s/%.2s", c->dir, key);
  *shard = wudf_strbuf_take(&sb);
  wudf_strbuf_printf(&sb, "%s/%.2s/%s.wudfc", c->dir, key, key);
  return wudf_strbuf_take(&sb);
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

/* Reads an entry that is a regular file of ours, not writable by others. */
static char *read_entry(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return NULL;
  struct stat st;
  char *buf = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
      !(st.st_mode & (S_IWGRP | S_IWOTH)) && st.st_size > 0 &&
      (size_t)st.st_size <= MAX_ENTRY) {
    size_t size = (size_t)st.st_size, got = 0;
    buf = wudf_malloc(size + 1);
    while (buf && got < size) {
      ssize_t r = read(fd, buf + got, size - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += (size_t)r;
    }
    if (buf && got != size) {
      wudf_free(buf);
      buf = NULL;
    }
    if (buf) buf[size] = '\0';
    *len = size;
  }
  close(fd);
  return buf;
}

typedef struct reader {
  const char *p, *end;
} reader;

static bool read_uint(reader *r, unsigned long long *v, char stop) {
  char *e;
  if (r->p >= r->end || *r->p < '0' || *r->p > '9') return false;
  errno = 0;
  *v = strtoull(r->p, &e, 10);
  if (errno || e >= r->end || *e != stop) return false;
  r->p = e + 1;
  return true;
}

static bool read_diag(reader *r, wudf_cc_diags *diags) {
  unsigned long long sev, line, col;
  if (!read_uint(r, &sev, ' ') || !read_uint(r, &line, ' ') ||
      !read_uint(r, &col, ' ') || sev > WUDF_SEVERITY_REMARK ||
      line > UINT32_MAX || col > UINT32_MAX)
    return false;
  const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
  if (!nl) return false;
  wudf_cc_diags_add(diags, (wudf_severity)sev, (uint32_t)line, (uint32_t)col,
                    "%.*s", (int)(nl - r->p), r->p);
  r->p = nl + 1;
  return true;
}

static bool parse_entry(const char *buf, size_t len, uint8_t **wasm,
                        size_t *wasm_len, wudf_cc_diags *diags) {
  reader r = {buf, buf + len};
  size_t ml = strlen(MAGIC);
  unsigned long long count, size;
  if (len < ml || memcmp(buf, MAGIC, ml)) return false;
  r.p += ml;
  if (!read_uint(&r, &count, '\n') || count > MAX_STORED_DIAGS) return false;
  for (unsigned long long i = 0; i < count; i++)
    if (!read_diag(&r, diags)) return false;
  if (!read_uint(&r, &size, '\n') || size != (size_t)(r.end - r.p) || size == 0)
    return false;
  *wasm = malloc((size_t)size);
  if (!*wasm) return false;
  memcpy(*wasm, r.p, (size_t)size);
  *wasm_len = (size_t)size;
  return true;
}

bool wudf_cc_cache_load(const wudf_cc_cache *c, const char *key, uint8_t **wasm,
                        size_t *len, wudf_cc_diags *diags) {
  *wasm = NULL;
  char *shard = NULL, *path = entry_path(c, key, &shard);
  size_t n = 0;
  char *buf = path ? read_entry(path, &n) : NULL;
  wudf_cc_diags got = {0};
  bool hit = buf && parse_entry(buf, n, wasm, len, &got) && !got.oom;
  for (uint32_t i = 0; hit && i < got.n; i++) {
    const wudf_cc_diag *d = &got.items[i];
    wudf_cc_diags_add(diags, d->severity, d->line, d->column, "%s", d->message);
  }
  if (!hit && buf) {
    wudf_free(*wasm);
    *wasm = NULL;
  }
  wudf_cc_diags_reset(&got);
  wudf_free(buf);
  wudf_free(path);
  wudf_free(shard);
  return hit;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                  */
/* ------------------------------------------------------------------------ */

static void put_diag(wudf_strbuf *sb, const wudf_cc_diag *d) {
  wudf_strbuf_printf(sb, "%u %u %u ", (unsigned)d->severity, d->line,
                     d->column);
  for (const char *m = d->message; *m; m++)
    wudf_strbuf_append(sb, *m == '\n' || *m == '\r' ? " " : m, 1);
  wudf_strbuf_puts(sb, "\n");
}

static bool write_whole(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Writes to a temporary name in the shard, then renames into place. */
static void publish(const char *shard, const char *path, const wudf_strbuf *sb,
                    const uint8_t *wasm, size_t len) {
  char *tmp = wudf_cc_path_join(shard, "entry-XXXXXX");
  int fd = tmp ? mkstemp(tmp) : -1;
  if (fd < 0) {
    wudf_free(tmp);
    return;
  }
  bool ok = fchmod(fd, 0644) == 0 && write_whole(fd, sb->data, sb->len) &&
            write_whole(fd, (const char *)wasm, len);
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) unlink(tmp);
  wudf_free(tmp);
}

void wudf_cc_cache_store(const wudf_cc_cache *c, const char *key,
                         const uint8_t *wasm, size_t len,
                         const wudf_cc_diags *diags) {
  if (!c || !c->dir || !wasm || !len || diags->n > MAX_STORED_DIAGS) return;
  char *shard = NULL, *path = entry_path(c, key, &shard);
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  wudf_strbuf_printf(&sb, "%s%u\n", MAGIC, diags->n);
  for (uint32_t i = 0; i < diags->n; i++) put_diag(&sb, &diags->items[i]);
  wudf_strbuf_printf(&sb, "%zu\n", len);
  if (path && shard && !sb.oom && private_dir(shard, NULL) == WUDF_OK)
    publish(shard, path, &sb, wasm, len);
  wudf_strbuf_reset(&sb);
  wudf_free(path);
  wudf_free(shard);
}
