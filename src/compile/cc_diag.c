/* Diagnostics: the list, and reading them out of clang's, wasm-ld's and
 * wat2wasm's output. The tools run with -fno-caret-diagnostics, so each
 * diagnostic is one line; wudf shows the source line itself, from the
 * user's text, never from a file the tool read. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "compile/compile_internal.h"

void wudf_cc_diags_add(wudf_cc_diags *d, wudf_severity severity, uint32_t line,
                       uint32_t column, const char *fmt, ...) {
  if (d->oom) return;
  if (d->n == d->cap) {
    uint32_t cap = d->cap ? d->cap * 2 : 8;
    wudf_cc_diag *p = wudf_realloc(d->items, cap * sizeof *p);
    if (!p) {
      d->oom = true;
      return;
    }
    d->items = p;
    d->cap = cap;
  }
  va_list ap;
  va_start(ap, fmt);
  char *msg = wudf_vasprintf(fmt, ap);
  va_end(ap);
  if (!msg) {
    d->oom = true;
    return;
  }
  d->items[d->n++] = (wudf_cc_diag){severity, line, line ? column : 0, msg};
}

void wudf_cc_diags_reset(wudf_cc_diags *d) {
  if (!d) return;
  for (uint32_t i = 0; i < d->n; i++) wudf_free(d->items[i].message);
  wudf_free(d->items);
  memset(d, 0, sizeof *d);
}

uint32_t wudf_cc_diags_errors(const wudf_cc_diags *d) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < d->n; i++)
    if (d->items[i].severity == WUDF_SEVERITY_ERROR) n++;
  return n;
}

/* ------------------------------------------------------------------------ */
/* Parsing                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct parse_state {
  const wudf_cc_output_names *names;
  wudf_cc_diags *out;
  wudf_strbuf *other;
  uint32_t include_line; /* main-file line of the current include chain */
} parse_state;

static const struct {
  const char *word;
  wudf_severity severity;
} k_severities[] = {
    {"fatal error", WUDF_SEVERITY_ERROR}, {"error", WUDF_SEVERITY_ERROR},
    {"warning", WUDF_SEVERITY_WARNING},   {"note", WUDF_SEVERITY_NOTE},
    {"remark", WUDF_SEVERITY_REMARK},
};

/* Reads "SEVERITY: " at p; returns the text after it, or NULL. */
static const char *read_severity(const char *p, wudf_severity *sev) {
  for (size_t i = 0; i < sizeof k_severities / sizeof k_severities[0]; i++) {
    size_t n = strlen(k_severities[i].word);
    if (!strncmp(p, k_severities[i].word, n) && p[n] == ':' &&
        p[n + 1] == ' ') {
      *sev = k_severities[i].severity;
      return p + n + 2;
    }
  }
  return NULL;
}

/* Reads decimal digits at *p (at least one, value below 10^9). */
static bool read_number(const char **p, uint32_t *v) {
  const char *s = *p;
  uint32_t n = 0;
  int digits = 0;
  while (*s >= '0' && *s <= '9' && digits < 9) {
    n = n * 10 + (uint32_t)(*s++ - '0');
    digits++;
  }
  if (!digits || (*s >= '0' && *s <= '9')) return false;
  *p = s;
  *v = n;
  return true;
}

typedef struct located {
  const char *file; /* not NUL-terminated: file_len bytes */
  size_t file_len;
  uint32_t line, column;
  wudf_severity severity;
  const char *message;
} located;

/* "FILE:LINE:COL: SEVERITY: MESSAGE", FILE the text before the first
 * ':' that starts such a tail. */
static bool parse_located(const char *s, located *loc) {
  for (const char *c = strchr(s, ':'); c; c = strchr(c + 1, ':')) {
    const char *p = c + 1;
    if (c == s || !read_number(&p, &loc->line) || *p++ != ':' ||
        !read_number(&p, &loc->column) || *p++ != ':' || *p++ != ' ')
      continue;
    loc->message = read_severity(p, &loc->severity);
    if (!loc->message) continue;
    loc->file = s;
    loc->file_len = (size_t)(c - s);
    return true;
  }
  return false;
}

/* "SEVERITY: MESSAGE" or "TOOL: SEVERITY: MESSAGE" (TOOL one word). */
static const char *parse_unlocated(const char *s, wudf_severity *sev) {
  const char *m = read_severity(s, sev);
  if (m) return m;
  size_t w = strcspn(s, " :");
  if (w == 0 || s[w] != ':' || s[w + 1] != ' ') return NULL;
  return read_severity(s + w + 2, sev);
}

static bool is_summary(const char *s) {
  size_t n = strlen(s);
  const char *tail = " generated.";
  size_t tl = strlen(tail);
  return n > tl && !strcmp(s + n - tl, tail) && s[0] >= '0' && s[0] <= '9';
}

static bool same_file(const located *loc, const char *name) {
  return name && strlen(name) == loc->file_len &&
         !memcmp(loc->file, name, loc->file_len);
}

/* Whether the located file is the user's source: its name, or its name
 * under the work directory. */
static bool is_main(const parse_state *ps, const located *loc) {
  const wudf_cc_output_names *n = ps->names;
  if (same_file(loc, n->main_name)) return true;
  size_t wl = n->work_dir ? strlen(n->work_dir) : 0;
  return wl && loc->file_len > wl + 1 && !memcmp(loc->file, n->work_dir, wl) &&
         loc->file[wl] == '/' &&
         strlen(n->main_name) == loc->file_len - wl - 1 &&
         !memcmp(loc->file + wl + 1, n->main_name, loc->file_len - wl - 1);
}

/* Length of a file name standing for the user's source at p (a path in the
 * work directory or an object name), else 0. */
static size_t stand_in_at(const wudf_cc_output_names *n, const char *p,
                          const char *start) {
  bool word_start = p == start || p[-1] == ' ' || p[-1] == '\'' ||
                    p[-1] == '"' || p[-1] == '(';
  if (!word_start) return 0;
  size_t wl = n->work_dir ? strlen(n->work_dir) : 0;
  if (wl && !strncmp(p, n->work_dir, wl) && p[wl] == '/')
    return wl + strcspn(p + wl, ": '\"()");
  const char *const *o = n->object_names;
  for (; o && *o; o++) {
    size_t ol = strlen(*o);
    if (!strncmp(p, *o, ol) && strchr(": '\"()", p[ol])) return ol;
  }
  size_t ml = strlen(n->main_name);
  if (!strncmp(p, n->main_name, ml) && strchr(": '\"()", p[ml])) return ml;
  return 0;
}

/* The message with the work directory's files replaced by the user's file
 * name. Owned; NULL when out of memory. */
static char *scrub(const wudf_cc_output_names *n, const char *msg) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  for (const char *p = msg; *p;) {
    size_t skip = stand_in_at(n, p, msg);
    if (skip) {
      wudf_strbuf_puts(&sb, n->display_name);
      p += skip;
    } else {
      wudf_strbuf_append(&sb, p++, 1);
    }
  }
  wudf_strbuf_puts(&sb, "");
  return wudf_strbuf_take(&sb);
}

static void add_unlocated(parse_state *ps, wudf_severity sev, const char *m) {
  char *clean = scrub(ps->names, m);
  if (!clean) {
    ps->out->oom = true;
    return;
  }
  /* "udf.o: undefined symbol: g" became "FILE: undefined ..."; the
   * diagnostic names the file already. */
  const char *m2 = clean;
  size_t dl = strlen(ps->names->display_name);
  if (!strncmp(m2, ps->names->display_name, dl) && !strncmp(m2 + dl, ": ", 2))
    m2 += dl + 2;
  wudf_cc_diags_add(ps->out, sev, 0, 0, "%s", m2);
  wudf_free(clean);
}

static void add_located(parse_state *ps, const located *loc) {
  if (is_main(ps, loc)) {
    ps->include_line = 0; /* clang repeats the chain when it goes back */
    wudf_cc_diags_add(ps->out, loc->severity, loc->line, loc->column, "%s",
                      loc->message);
  } else if (ps->include_line && loc->file[0] != '<') {
    wudf_cc_diags_add(ps->out, loc->severity, ps->include_line, 0,
                      "in %.*s:%u: %s", (int)loc->file_len, loc->file,
                      loc->line, loc->message);
  } else {
    wudf_cc_diags_add(ps->out, loc->severity, 0, 0, "%.*s:%u:%u: %s",
                      (int)loc->file_len, loc->file, loc->line, loc->column,
                      loc->message);
  }
}

/* "In file included from FILE:LINE:" */
static bool parse_include(parse_state *ps, const char *s) {
  const char *prefix = "In file included from ";
  size_t pl = strlen(prefix);
  if (strncmp(s, prefix, pl) != 0) return false;
  s += pl;
  size_t n = strlen(s);
  if (n < 3 || s[n - 1] != ':') return true;
  const char *c = s + n - 2;
  while (c > s && *c >= '0' && *c <= '9') c--;
  const char *digits = c + 1;
  uint32_t line;
  located loc = {.file = s, .file_len = (size_t)(c - s)};
  if (*c == ':' && read_number(&digits, &line) && is_main(ps, &loc))
    ps->include_line = line;
  return true;
}

static void parse_line(parse_state *ps, const char *s) {
  located loc;
  wudf_severity sev;
  const char *m;
  if (!*s || is_summary(s) || parse_include(ps, s)) return;
  if (parse_located(s, &loc)) {
    add_located(ps, &loc);
  } else if ((m = parse_unlocated(s, &sev)) != NULL) {
    /* The driver's echo of a linker failure adds nothing to the linker's
     * own messages. */
    if (!strstr(m, "linker command failed")) add_unlocated(ps, sev, m);
  } else if (ps->other) {
    wudf_strbuf_puts(ps->other, s);
    wudf_strbuf_puts(ps->other, "\n");
  }
}

void wudf_cc_parse_output(const char *output, const wudf_cc_output_names *n,
                          wudf_cc_diags *out, wudf_strbuf *other) {
  parse_state ps = {n, out, other, 0};
  wudf_strbuf line;
  wudf_strbuf_init(&line);
  for (const char *p = output ? output : ""; *p;) {
    size_t len = strcspn(p, "\n");
    size_t keep = len && p[len - 1] == '\r' ? len - 1 : len;
    line.len = 0;
    wudf_strbuf_append(&line, p, keep);
    wudf_strbuf_puts(&line, "");
    if (line.oom) {
      out->oom = true;
      break;
    }
    parse_line(&ps, line.data);
    p += len;
    if (*p) p++;
  }
  wudf_strbuf_reset(&line);
}
