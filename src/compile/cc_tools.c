/* Finding the toolchain once per process, and working out exactly which
 * host files each sandbox must show: the tool's binary, the shared
 * libraries `ldd` lists for it, and for clang its resource directory and the
 * WASI sysroot (with the targets of the symbolic links in them, such as
 * Debian's libc++ for wasm32 under /usr/lib/llvm-19). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/sha256.h"
#include "compile/compile_internal.h"

#define WALK_MAX_DEPTH 12
#define TOOL_QUERY_TIMEOUT_S 30
#define TOOL_QUERY_OUTPUT ((size_t)64 * 1024)

/* The sysroot clang is given (--sysroot=/usr): Debian's wasi-libc. */
static const char *const k_sysroot_dirs[] = {"/usr/include/wasm32-wasi",
                                             "/usr/lib/wasm32-wasi"};
static const char *const k_clang_packages =
    "apt-get install clang-19 lld-19 wasi-libc libc++-19-dev-wasm32 "
    "libc++abi-19-dev-wasm32";
/* Version of the recipe (sandbox layout, pipeline); part of the id. */
static const char *const k_recipe = "wudf-compile-recipe-1";

/* One toolchain per set of tool names (wudf_compile_options clang,
 * wat2wasm, bwrap), kept until exit. */
typedef struct tools_entry {
  struct tools_entry *next;
  char *names[3];
  wudf_cc_tools tools;
} tools_entry;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static tools_entry *g_entries;

/* ------------------------------------------------------------------------ */
/* Paths                                                                    */
/* ------------------------------------------------------------------------ */

static bool is_executable_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* `name` looked up in PATH (as is when it holds a '/'); owned, or NULL. */
static char *find_in_path(const char *name) {
  if (strchr(name, '/'))
    return is_executable_file(name) ? wudf_strdup(name) : NULL;
  const char *path = getenv("PATH");
  if (!path || !*path) path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path; *p;) {
    size_t n = strcspn(p, ":");
    wudf_strbuf sb;
    wudf_strbuf_init(&sb);
    wudf_strbuf_printf(&sb, "%.*s/%s", (int)n, p, name);
    char *cand = wudf_strbuf_take(&sb);
    if (cand && n && is_executable_file(cand)) return cand;
    wudf_free(cand);
    p += n;
    if (*p) p++;
  }
  return NULL;
}

static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return wudf_strdup(".");
  return wudf_strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* realpath(dirname(path)) + "/" + basename(path): where a library's name
 * lives once the directory's links are resolved (the name itself may be a
 * soname link, which the loader needs under that name). */
static char *canonical_dir_path(const char *path) {
  char *dir = dir_of(path);
  char *real = dir ? wudf_realpath(dir) : NULL;
  const char *base = strrchr(path, '/');
  char *out = real && base ? wudf_cc_path_join(real, base + 1) : NULL;
  wudf_free(dir);
  wudf_free(real);
  return out;
}

/* Removes "." and ".." components of an absolute path without resolving
 * links (the sandbox builds real directories along bind destinations). */
static void normalize_path(char *p) {
  char *out = p;
  for (const char *s = p; *s;) {
    while (*s == '/') s++;
    size_t n = strcspn(s, "/");
    if (n == 1 && s[0] == '.') {
    } else if (n == 2 && s[0] == '.' && s[1] == '.') {
      while (out > p && *--out != '/') {
      }
    } else if (n) {
      *out++ = '/';
      memmove(out, s, n);
      out += n;
    }
    s += n;
  }
  if (out == p) *out++ = '/';
  *out = '\0';
}

/* ------------------------------------------------------------------------ */
/* Binds                                                                    */
/* ------------------------------------------------------------------------ */

static bool binds_has_dst(const wudf_cc_binds *b, const char *dst) {
  for (size_t i = 0; i < b->n; i++)
    if (!strcmp(b->items[i].dst, dst)) return true;
  return false;
}

static void binds_add(wudf_cc_binds *b, const char *src, const char *dst) {
  if (b->oom || !src || !dst) {
    b->oom = true;
    return;
  }
  if (binds_has_dst(b, dst)) return;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 32;
    wudf_cc_bind *p = wudf_realloc(b->items, cap * sizeof *p);
    if (!p) {
      b->oom = true;
      return;
    }
    b->items = p;
    b->cap = cap;
  }
  char *s = wudf_strdup(src), *d = wudf_strdup(dst);
  if (!s || !d) {
    wudf_free(s);
    wudf_free(d);
    b->oom = true;
    return;
  }
  b->items[b->n++] = (wudf_cc_bind){s, d};
}

static void binds_reset(wudf_cc_binds *b) {
  for (size_t i = 0; i < b->n; i++) {
    wudf_free(b->items[i].src);
    wudf_free(b->items[i].dst);
  }
  wudf_free(b->items);
  memset(b, 0, sizeof *b);
}

/* Whether `path` lies in a directory some bind already shows. */
static bool covered(const wudf_cc_binds *b, const char *path) {
  for (size_t i = 0; i < b->n; i++) {
    size_t n = strlen(b->items[i].dst);
    if (!strncmp(path, b->items[i].dst, n) &&
        (path[n] == '/' || path[n] == '\0'))
      return true;
  }
  return false;
}

static void walk_links(wudf_cc_binds *b, const char *dir, int depth);

/* A link inside a shown directory must lead somewhere shown: its target is
 * bound where the link, read literally, points. */
static void follow_link(wudf_cc_binds *b, const char *dir, const char *link,
                        int depth) {
  char target[PATH_MAX];
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0) return;
  target[n] = '\0';
  char *lexical =
      target[0] == '/' ? wudf_strdup(target) : wudf_cc_path_join(dir, target);
  char *real = wudf_realpath(link);
  if (lexical) normalize_path(lexical);
  if (lexical && real && !covered(b, lexical)) {
    binds_add(b, real, lexical);
    struct stat st;
    if (stat(real, &st) == 0 && S_ISDIR(st.st_mode))
      walk_links(b, lexical, depth + 1);
  }
  wudf_free(lexical);
  wudf_free(real);
}

static void walk_links(wudf_cc_binds *b, const char *dir, int depth) {
  if (depth > WALK_MAX_DEPTH) return;
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    char *path = wudf_cc_path_join(dir, e->d_name);
    struct stat st;
    if (path && lstat(path, &st) == 0) {
      if (S_ISLNK(st.st_mode)) follow_link(b, dir, path, depth);
      if (S_ISDIR(st.st_mode)) walk_links(b, path, depth + 1);
    }
    wudf_free(path);
  }
  closedir(d);
}

/* Binds directory `dir` (resolved) at its own path, then what its links
 * lead to. */
static void bind_tree(wudf_cc_binds *b, const char *dir) {
  char *real = wudf_realpath(dir);
  if (!real) return;
  binds_add(b, real, dir);
  walk_links(b, dir, 0);
  wudf_free(real);
}

/* ------------------------------------------------------------------------ */
/* Asking the tools                                                         */
/* ------------------------------------------------------------------------ */

/* Runs argv (trusted: the toolchain itself, outside any sandbox) and
 * returns its output when it exits with 0. Owned, or NULL. */
static char *query(const char *const argv[]) {
  wudf_process_opts o = {.timeout_s = TOOL_QUERY_TIMEOUT_S,
                         .max_output = TOOL_QUERY_OUTPUT};
  wudf_process_result r = {0};
  char *out = NULL;
  if (wudf_process_run(argv, &o, &r, NULL) == WUDF_OK && r.exit_code == 0 &&
      !r.timed_out) {
    out = r.output;
    r.output = NULL;
  }
  wudf_process_result_reset(&r);
  return out;
}

static void trim(char *s) {
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
    s[--n] = '\0';
}

/* Appends `dir` to a ':'-separated list unless it is there. */
static void add_search_dir(wudf_strbuf *list, const char *dir) {
  size_t n = strlen(dir);
  for (const char *p = list->data; p && *p;) {
    size_t m = strcspn(p, ":");
    if (m == n && !strncmp(p, dir, n)) return;
    p += m;
    if (*p) p++;
  }
  if (list->len) wudf_strbuf_puts(list, ":");
  wudf_strbuf_puts(list, dir);
}

/* The ELF interpreter (PT_INTERP) of a 64-bit little-endian executable;
 * owned, or NULL. */
static char *elf_interpreter(const char *binary) {
  FILE *f = fopen(binary, "rbe");
  unsigned char eh[64], ph[56];
  char *interp = NULL;
  if (!f || fread(eh, 1, sizeof eh, f) != sizeof eh ||
      memcmp(eh, "\177ELF", 4) || eh[4] != 2 || eh[5] != 1)
    goto done;
  uint64_t phoff = 0;
  uint16_t phnum = (uint16_t)(eh[56] | eh[57] << 8);
  for (int i = 7; i >= 0; i--) phoff = phoff << 8 | eh[32 + i];
  for (uint16_t k = 0; k < phnum && k < 64 && !interp; k++) {
    if (fseeko(f, (off_t)(phoff + 56u * k), SEEK_SET) != 0 ||
        fread(ph, 1, sizeof ph, f) != sizeof ph || ph[0] != 3 || ph[1] ||
        ph[2] || ph[3])
      continue;
    uint64_t off = 0, size = 0;
    for (int i = 7; i >= 0; i--) off = off << 8 | ph[8 + i];
    for (int i = 7; i >= 0; i--) size = size << 8 | ph[32 + i];
    if (size < 2 || size > PATH_MAX || fseeko(f, (off_t)off, SEEK_SET) != 0)
      break;
    interp = wudf_calloc(1, (size_t)size + 1);
    if (interp && fread(interp, 1, (size_t)size, f) != size) {
      wudf_free(interp);
      interp = NULL;
    }
  }
done:
  if (f) fclose(f);
  return interp;
}

/* The output of `ldd binary`, asked of the dynamic loader directly (ldd is
 * a shell script around it, ten times slower). */
static char *list_libraries(const char *binary) {
  char *interp = elf_interpreter(binary);
  const char *direct[] = {interp, "--list", binary, NULL};
  const char *script[] = {"ldd", binary, NULL};
  char *out = interp && interp[0] == '/' ? query(direct) : NULL;
  wudf_free(interp);
  return out ? out : query(script);
}

/* Adds the libraries `ldd` lists for `binary`, and their directories to
 * *lib_path. Returns false when one is "not found" or ldd fails. */
static bool bind_libraries(wudf_cc_binds *b, const char *binary,
                           wudf_strbuf *lib_path) {
  char *out = list_libraries(binary);
  if (!out) return false;
  bool ok = !strstr(out, "not found");
  char *save = NULL;
  for (char *line = strtok_r(out, "\n", &save); ok && line;
       line = strtok_r(NULL, "\n", &save)) {
    char *arrow = strstr(line, "=> ");
    char *path = arrow ? arrow + 3 : line + strspn(line, " \t");
    if (*path != '/') continue;
    path[strcspn(path, " \t")] = '\0';
    if (!arrow) { /* the ELF interpreter: needed under its literal path */
      binds_add(b, path, path);
      continue;
    }
    char *dst = canonical_dir_path(path);
    char *dir = dst ? dir_of(dst) : NULL;
    if (dir) add_search_dir(lib_path, dir);
    binds_add(b, path, dst);
    wudf_free(dst);
    wudf_free(dir);
  }
  wudf_free(out);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* clang, lld, the sysroot                                                  */
/* ------------------------------------------------------------------------ */

static void clang_problem(wudf_cc_tools *t, const char *what) {
  snprintf(t->clang_problem, sizeof t->clang_problem, "%s (install it: %s)",
           what, k_clang_packages);
  wudf_free(t->clang);
  t->clang = NULL;
}

static bool find_clang(wudf_cc_tools *t, const char *name) {
  if (!name || !*name) name = "clang-19";
  char *found = find_in_path(name);
  t->clang = found ? wudf_realpath(found) : NULL;
  wudf_free(found);
  if (!t->clang) {
    char what[160];
    snprintf(what, sizeof what, "%s was not found in PATH", name);
    clang_problem(t, what);
    return false;
  }
  char *dir = dir_of(t->clang);
  t->wasm_ld = dir ? wudf_cc_path_join(dir, "wasm-ld") : NULL;
  wudf_free(dir);
  t->lld = t->wasm_ld ? wudf_realpath(t->wasm_ld) : NULL;
  if (!t->lld) {
    clang_problem(t, "wasm-ld was not found next to clang");
    return false;
  }
  const char *argv[] = {t->clang, "-print-resource-dir", NULL};
  t->resource_dir = query(argv);
  if (t->resource_dir) trim(t->resource_dir);
  if (!t->resource_dir || t->resource_dir[0] != '/') {
    clang_problem(t, "clang does not tell its resource directory");
    return false;
  }
  return true;
}

static bool sysroot_present(void) {
  struct stat st;
  return stat("/usr/include/wasm32-wasi/stdlib.h", &st) == 0 &&
         stat("/usr/lib/wasm32-wasi/libc.a", &st) == 0;
}

static void bind_resource_dir(wudf_cc_binds *b, const char *res) {
  const char *subdirs[] = {"include", "lib/wasi"};
  for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
    char *d = wudf_cc_path_join(res, subdirs[i]);
    struct stat st;
    if (d && stat(d, &st) == 0 && S_ISDIR(st.st_mode)) bind_tree(b, d);
    wudf_free(d);
  }
}

static void setup_clang(wudf_cc_tools *t, const char *name) {
  if (!find_clang(t, name)) return;
  if (!sysroot_present()) {
    clang_problem(t,
                  "the WASI sysroot (/usr/include/wasm32-wasi, "
                  "/usr/lib/wasm32-wasi) is missing");
    return;
  }
  wudf_cc_binds *b = &t->clang_binds;
  wudf_strbuf lib_path;
  wudf_strbuf_init(&lib_path);
  binds_add(b, t->clang, t->clang);
  binds_add(b, t->lld, t->lld);
  bool ok = bind_libraries(b, t->clang, &lib_path) &&
            bind_libraries(b, t->lld, &lib_path);
  bind_resource_dir(b, t->resource_dir);
  for (size_t i = 0; i < sizeof k_sysroot_dirs / sizeof k_sysroot_dirs[0]; i++)
    bind_tree(b, k_sysroot_dirs[i]);
  t->clang_lib_path = wudf_strbuf_take(&lib_path);
  if (!ok) clang_problem(t, "ldd cannot list the libraries of clang or lld");
}

static void setup_wat2wasm(wudf_cc_tools *t, const char *name) {
  if (!name || !*name) name = "wat2wasm";
  char *found = find_in_path(name);
  t->wat2wasm = found ? wudf_realpath(found) : NULL;
  wudf_free(found);
  if (!t->wat2wasm) {
    snprintf(t->wat_problem, sizeof t->wat_problem,
             "%s was not found in PATH (install it: apt-get install wabt)",
             name);
    return;
  }
  wudf_strbuf lib_path;
  wudf_strbuf_init(&lib_path);
  binds_add(&t->wat_binds, t->wat2wasm, t->wat2wasm);
  bool ok = bind_libraries(&t->wat_binds, t->wat2wasm, &lib_path);
  t->wat_lib_path = wudf_strbuf_take(&lib_path);
  if (!ok) {
    snprintf(t->wat_problem, sizeof t->wat_problem,
             "ldd cannot list the libraries of %s", t->wat2wasm);
    wudf_free(t->wat2wasm);
    t->wat2wasm = NULL;
  }
}

/* ------------------------------------------------------------------------ */
/* Identity                                                                 */
/* ------------------------------------------------------------------------ */

static void hash_str(wudf_sha256_ctx *h, const char *s) {
  uint64_t n = s ? strlen(s) : UINT64_MAX;
  wudf_sha256_update(h, &n, sizeof n);
  if (s) wudf_sha256_update(h, s, strlen(s));
}

/* A file's identity: size, modification time and inode of what the sandbox
 * shows (a package upgrade changes them; running `clang --version` would
 * cost 50 ms per process and tell no more). */
static void hash_files(wudf_sha256_ctx *h, const wudf_cc_binds *b) {
  for (size_t i = 0; i < b->n; i++) {
    struct stat st;
    int64_t v[4] = {0};
    if (stat(b->items[i].src, &st) == 0) {
      v[0] = (int64_t)st.st_size;
      v[1] = (int64_t)st.st_mtim.tv_sec;
      v[2] = (int64_t)st.st_mtim.tv_nsec;
      v[3] = (int64_t)st.st_ino;
    }
    hash_str(h, b->items[i].dst);
    wudf_sha256_update(h, v, sizeof v);
  }
}

static void hash_flags(wudf_sha256_ctx *h, const char *const *flags) {
  for (; *flags; flags++) hash_str(h, *flags);
  hash_str(h, NULL);
}

static void compute_id(wudf_cc_tools *t) {
  wudf_sha256_ctx h;
  uint8_t digest[WUDF_SHA256_DIGEST_SIZE];
  wudf_sha256_init(&h);
  hash_str(&h, k_recipe);
  hash_flags(&h, wudf_cc_clang_flags);
  hash_flags(&h, wudf_cc_cxx_flags);
  hash_flags(&h, wudf_cc_link_flags);
  /* The binaries and libraries themselves identify the versions. */
  hash_files(&h, &t->clang_binds);
  hash_files(&h, &t->wat_binds);
  wudf_sha256_final(&h, digest);
  wudf_sha256_to_hex(digest, t->id_hex);
}

static void tools_reset(wudf_cc_tools *t) {
  wudf_free(t->clang);
  wudf_free(t->wasm_ld);
  wudf_free(t->lld);
  wudf_free(t->resource_dir);
  wudf_free(t->wat2wasm);
  wudf_free(t->bwrap);
  wudf_free(t->prlimit);
  wudf_free(t->clang_lib_path);
  wudf_free(t->wat_lib_path);
  binds_reset(&t->clang_binds);
  binds_reset(&t->wat_binds);
  memset(t, 0, sizeof *t);
}

static wudf_status discover(wudf_cc_tools *t, const char *const names[3],
                            wudf_error *err) {
  memset(t, 0, sizeof *t);
  setup_clang(t, names[0]);
  setup_wat2wasm(t, names[1]);
  const char *bwrap = names[2];
  t->bwrap = find_in_path(bwrap && *bwrap ? bwrap : "bwrap");
  t->prlimit = find_in_path("prlimit");
  compute_id(t);
  if (t->clang_binds.oom || t->wat_binds.oom ||
      (t->clang && !t->clang_lib_path) || (t->wat2wasm && !t->wat_lib_path)) {
    tools_reset(t);
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "out of memory finding the "
                     "toolchain");
  }
  return WUDF_OK;
}

/* NULL and "" both mean the default name. */
static bool same_name(const char *a, const char *b) {
  return !strcmp(a ? a : "", b ? b : "");
}

static tools_entry *find_entry(const char *const names[3]) {
  for (tools_entry *e = g_entries; e; e = e->next)
    if (same_name(e->names[0], names[0]) && same_name(e->names[1], names[1]) &&
        same_name(e->names[2], names[2]))
      return e;
  return NULL;
}

static wudf_status add_entry(const char *const names[3], tools_entry **out,
                             wudf_error *err) {
  tools_entry *e = wudf_calloc(1, sizeof *e);
  bool ok = e != NULL;
  for (int i = 0; ok && i < 3; i++)
    ok = !names[i] || (e->names[i] = wudf_strdup(names[i])) != NULL;
  wudf_status st = ok ? discover(&e->tools, names, err)
                      : wudf_fail(err, WUDF_ERR_NOMEM,
                                  "out of memory finding the toolchain");
  if (st != WUDF_OK) {
    for (int i = 0; e && i < 3; i++) wudf_free(e->names[i]);
    wudf_free(e);
    return st;
  }
  e->next = g_entries;
  g_entries = e;
  *out = e;
  return WUDF_OK;
}

wudf_status wudf_cc_tools_get(const wudf_compile_options *o,
                              const wudf_cc_tools **out, wudf_error *err) {
  const char *names[3] = {o->clang, o->wat2wasm, o->bwrap};
  pthread_mutex_lock(&g_lock);
  tools_entry *e = find_entry(names);
  wudf_status st = e ? WUDF_OK : add_entry(names, &e, err);
  pthread_mutex_unlock(&g_lock);
  *out = st == WUDF_OK ? &e->tools : NULL;
  return st;
}
