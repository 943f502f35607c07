/*
 * Which functions become UDFs, and the module's `wudf.udfs` section.
 *
 * The signatures the source wrote itself (WUDF_UDF in wudf_guest.h) come
 * first and win; then every candidate the source's types describe: all
 * functions with C linkage, or only those the caller named. The section the
 * linker produced is replaced by one listing exactly the chosen UDFs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "compile/compile_internal.h"
#include "load/udfs_section.h"

/* ------------------------------------------------------------------------ */
/* Candidates                                                               */
/* ------------------------------------------------------------------------ */

wudf_status wudf_cc_funcs_push(wudf_cc_funcs *f, wudf_cc_func **slot,
                               wudf_error *err) {
  if (f->n == f->cap) {
    uint32_t cap = f->cap ? f->cap * 2 : 16;
    wudf_cc_func *p = wudf_realloc(f->items, cap * sizeof *p);
    if (!p) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for UDFs");
    f->items = p;
    f->cap = cap;
  }
  *slot = &f->items[f->n++];
  memset(*slot, 0, sizeof **slot);
  return WUDF_OK;
}

void wudf_cc_funcs_reset(wudf_cc_funcs *f) {
  if (!f) return;
  wudf_free(f->items);
  memset(f, 0, sizeof *f);
}

bool wudf_cc_is_identifier(const char *s) {
  if (!s ||
      !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_'))
      return false;
  return true;
}

bool wudf_cc_reserved_name(const char *name) {
  return !strcmp(name, "main") || !strcmp(name, "_start") ||
         !strcmp(name, "_initialize") || !strncmp(name, "wudf_", 5) ||
         !strncmp(name, "__", 2);
}

/* Start of line `line` (1-based) of text, or NULL. */
static const char *line_start(const char *text, size_t len, uint32_t line) {
  const char *p = text, *end = text + len;
  for (uint32_t l = 1; p && l < line; l++) {
    p = memchr(p, '\n', (size_t)(end - p));
    if (p) p++;
  }
  return p && p <= end && line > 0 ? p : NULL;
}

static bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

uint32_t wudf_cc_name_column(const char *source, size_t len, uint32_t line,
                             const char *name) {
  const char *p = source ? line_start(source, len, line) : NULL;
  if (!p || !name || !*name) return 0;
  const char *end = memchr(p, '\n', (size_t)(source + len - p));
  if (!end) end = source + len;
  size_t n = strlen(name);
  for (const char *s = p; s + n <= end; s++)
    if (!memcmp(s, name, n) && (s == p || !ident_char(s[-1])) &&
        (s + n == end || !ident_char(s[n])))
      return (uint32_t)(s - p) + 1;
  return 0;
}

bool wudf_cc_find_word(const char *source, size_t len, const char *word,
                       uint32_t *line, uint32_t *column) {
  uint32_t n = 1;
  for (const char *p = source; p && p < source + len; n++) {
    uint32_t col = wudf_cc_name_column(source, len, n, word);
    if (col) {
      *line = n;
      *column = col;
      return true;
    }
    p = memchr(p, '\n', (size_t)(source + len - p));
    if (p) p++;
  }
  return false;
}

/* ------------------------------------------------------------------------ */
/* Choosing                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct chooser {
  const wudf_cc_udf_input *in;
  wudf_cc_diags *diags;
  wudf_udf_sig *sigs;
  uint32_t n, cap;
  bool *named_done; /* per in->functions entry: added or diagnosed */
  bool oom;
} chooser;

static int64_t find_sig(const chooser *c, const char *name) {
  for (uint32_t i = 0; i < c->n; i++)
    if (!strcmp(c->sigs[i].name, name)) return i;
  return -1;
}

/* Index of `name` among the names the caller chose; -1 if not chosen (or
 * the caller chose none). */
static int64_t named_index(const chooser *c, const char *name) {
  for (uint32_t i = 0; i < c->in->nfunctions; i++)
    if (c->in->functions[i] && !strcmp(c->in->functions[i], name)) return i;
  return -1;
}

static void mark_named(chooser *c, const char *name) {
  int64_t k = named_index(c, name);
  if (k >= 0) c->named_done[k] = true;
}

static void add_sig(chooser *c, const wudf_udf_sig *sig) {
  if (c->n == c->cap) {
    uint32_t cap = c->cap ? c->cap * 2 : 16;
    wudf_udf_sig *p = wudf_realloc(c->sigs, cap * sizeof *p);
    if (!p) {
      c->oom = true;
      return;
    }
    c->sigs = p;
    c->cap = cap;
  }
  c->sigs[c->n++] = *sig;
  mark_named(c, sig->name);
}

/* Where in the source a declared signature's text appears. */
static void place_text(const wudf_cc_udf_input *in, const char *s, size_t n,
                       uint32_t *line, uint32_t *col) {
  *line = *col = 0;
  const char *hit =
      in->source && n ? memmem(in->source, in->source_len, s, n) : NULL;
  if (!hit) return;
  const char *start = in->source;
  *line = 1;
  for (const char *p = in->source; p < hit; p++)
    if (*p == '\n') {
      (*line)++;
      start = p + 1;
    }
  *col = (uint32_t)(hit - start) + 1;
}

static wudf_status declared_line(void *user, const char *s, size_t n,
                                 size_t line_no) {
  chooser *c = user;
  (void)line_no; /* the place reported is the text's place in the source */
  uint32_t line, col;
  place_text(c->in, s, n, &line, &col);
  wudf_udf_sig sig;
  wudf_error e = {0};
  if (wudf_udf_sig_parse(s, n, &sig, &e) != WUDF_OK) {
    wudf_cc_diags_add(c->diags, WUDF_SEVERITY_ERROR, line, col,
                      "UDF signature \"%.*s\" is not valid: %s",
                      (int)(n > 200 ? 200 : n), s, e.message);
  } else if (find_sig(c, sig.name) >= 0) {
    wudf_cc_diags_add(c->diags, WUDF_SEVERITY_ERROR, line, col,
                      "UDF '%s' is declared more than once", sig.name);
  } else if (c->in->nfunctions == 0 || named_index(c, sig.name) >= 0) {
    add_sig(c, &sig);
  }
  return WUDF_OK;
}

/* Every line is read, so that each bad one is reported. */
static void declared(chooser *c) {
  const char *s = c->in->section;
  wudf_udfs_section_lines(s, s ? c->in->section_len : 0, declared_line, c);
}

static void candidate(chooser *c, const wudf_cc_func *f) {
  bool chosen = c->in->nfunctions == 0 ? !wudf_cc_reserved_name(f->name)
                                       : named_index(c, f->name) >= 0;
  if (!f->c_linkage || !chosen || find_sig(c, f->name) >= 0) return;
  if (f->ok) {
    add_sig(c, &f->sig);
    if (f->warning[0])
      wudf_cc_diags_add(c->diags, WUDF_SEVERITY_WARNING, f->line, f->column,
                        "%s", f->warning);
  } else if (!f->optional || c->in->nfunctions) {
    mark_named(c, f->name);
    wudf_cc_diags_add(c->diags, WUDF_SEVERITY_ERROR, f->line, f->column,
                      "function '%s' cannot be a UDF: %s", f->name, f->problem);
  }
}

static const wudf_cc_func *find_func(const wudf_cc_funcs *fs, const char *name,
                                     bool c_linkage) {
  for (uint32_t i = 0; fs && i < fs->n; i++)
    if (fs->items[i].c_linkage == c_linkage && !strcmp(fs->items[i].name, name))
      return &fs->items[i];
  return NULL;
}

/* A function with C++ linkage whose mangled symbol holds `name` ("" for
 * any). */
static const wudf_cc_func *find_cxx(const wudf_cc_funcs *fs, const char *name) {
  for (uint32_t i = 0; fs && i < fs->n; i++)
    if (!fs->items[i].c_linkage && strstr(fs->items[i].name, name))
      return &fs->items[i];
  return NULL;
}

static void unmatched_names(chooser *c) {
  for (uint32_t i = 0; i < c->in->nfunctions; i++) {
    const char *name = c->in->functions[i];
    if (!name || c->named_done[i] || find_func(c->in->funcs, name, true))
      continue;
    const wudf_cc_func *cxx = find_cxx(c->in->funcs, name);
    if (cxx)
      wudf_cc_diags_add(c->diags, WUDF_SEVERITY_ERROR, cxx->line, cxx->column,
                        "function '%s' has C++ linkage: declare it "
                        "extern \"C\" to make it a UDF",
                        name);
    else
      wudf_cc_diags_add(c->diags, WUDF_SEVERITY_ERROR, 0, 0,
                        "no function named '%s' with external linkage is "
                        "defined in this file",
                        name);
  }
}

static void nothing_chosen(chooser *c) {
  if (c->n || wudf_cc_diags_errors(c->diags)) return;
  const wudf_cc_func *cxx = find_cxx(c->in->funcs, "");
  if (cxx)
    wudf_cc_diags_add(c->diags, WUDF_SEVERITY_WARNING, cxx->line, cxx->column,
                      "no UDF in this file: functions with C++ linkage are "
                      "not UDFs; declare them extern \"C\"");
  else
    wudf_cc_diags_add(c->diags, WUDF_SEVERITY_WARNING, 0, 0,
                      "no UDF in this file: it defines no function that can "
                      "be one");
}

wudf_status wudf_cc_choose_udfs(const wudf_cc_udf_input *in,
                                wudf_cc_diags *diags, wudf_udf_sig **sigs,
                                uint32_t *n, wudf_error *err) {
  chooser c = {.in = in, .diags = diags};
  *sigs = NULL;
  *n = 0;
  c.named_done = wudf_calloc(in->nfunctions + 1u, sizeof *c.named_done);
  if (!c.named_done) return wudf_fail(err, WUDF_ERR_NOMEM, "choosing UDFs");
  declared(&c);
  for (uint32_t i = 0; in->funcs && i < in->funcs->n; i++)
    candidate(&c, &in->funcs->items[i]);
  unmatched_names(&c);
  nothing_chosen(&c);
  wudf_free(c.named_done);
  if (c.oom || diags->oom) {
    wudf_free(c.sigs);
    return wudf_fail(err, WUDF_ERR_NOMEM, "choosing UDFs");
  }
  *sigs = c.sigs;
  *n = c.n;
  return WUDF_OK;
}

char *wudf_cc_udfs_text(const wudf_udf_sig *sigs, uint32_t n, size_t *len) {
  wudf_strbuf sb;
  wudf_strbuf_init(&sb);
  char line[WUDF_MAX_UDF_NAME + 16 * WUDF_MAX_UDF_PARAMS + 64];
  for (uint32_t i = 0; i < n; i++) {
    wudf_udf_sig_format(&sigs[i], line, sizeof line);
    wudf_strbuf_printf(&sb, "%s\n", line);
  }
  *len = sb.len;
  return wudf_strbuf_take(&sb);
}

wudf_status wudf_cc_parse_udfs(const char *text, size_t len,
                               wudf_udf_sig **sigs, uint32_t *n,
                               wudf_error *err) {
  return wudf_udf_sigs_parse_section(text, len, sigs, n, err);
}

/* ------------------------------------------------------------------------ */
/* Custom sections                                                          */
/* ------------------------------------------------------------------------ */

static const uint8_t k_header[8] = {0, 'a', 's', 'm', 1, 0, 0, 0};

static bool read_u32(const uint8_t *p, size_t len, size_t *pos, uint32_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (*pos >= len) return false;
    uint8_t b = p[(*pos)++];
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = (uint32_t)r;
      return r <= UINT32_MAX;
    }
  }
  return false;
}

typedef struct section {
  size_t start, end; /* the whole section */
  size_t payload;    /* start of its contents */
  uint8_t id;
  const char *name; /* custom sections: not NUL-terminated */
  uint32_t name_len;
} section;

/* Reads the section at *pos; false when malformed. */
static bool next_section(const uint8_t *w, size_t len, size_t *pos,
                         section *s) {
  uint32_t size;
  s->start = *pos;
  s->id = w[(*pos)++];
  if (!read_u32(w, len, pos, &size) || size > len - *pos) return false;
  s->payload = *pos;
  s->end = *pos + size;
  s->name = NULL;
  s->name_len = 0;
  if (s->id == 0) {
    size_t p = *pos;
    if (!read_u32(w, s->end, &p, &s->name_len) || s->name_len > s->end - p)
      return false;
    s->name = (const char *)w + p;
    s->payload = p + s->name_len;
  }
  *pos = s->end;
  return true;
}

static bool named(const section *s, const char *name) {
  return s->id == 0 && s->name_len == strlen(name) &&
         !memcmp(s->name, name, s->name_len);
}

static bool walkable(const uint8_t *w, size_t len) {
  if (len < sizeof k_header || memcmp(w, k_header, sizeof k_header))
    return false;
  section s;
  for (size_t pos = sizeof k_header; pos < len;)
    if (!next_section(w, len, &pos, &s)) return false;
  return true;
}

bool wudf_cc_find_custom(const uint8_t *wasm, size_t len, const char *name,
                         size_t *offset, size_t *size) {
  if (!walkable(wasm, len)) return false;
  section s;
  for (size_t pos = sizeof k_header; pos < len;) {
    next_section(wasm, len, &pos, &s);
    if (named(&s, name)) {
      *offset = s.payload;
      *size = s.end - s.payload;
      return true;
    }
  }
  return false;
}

static void put_u32(wudf_strbuf *sb, uint32_t v) {
  do {
    char b = (char)(v & 0x7f);
    v >>= 7;
    if (v) b = (char)(b | 0x80);
    wudf_strbuf_append(sb, &b, 1);
  } while (v);
}

wudf_status wudf_cc_set_custom(uint8_t **wasm, size_t *len, const char *name,
                               const char *text, size_t tlen, wudf_error *err) {
  const uint8_t *w = *wasm;
  if (!walkable(w, *len))
    return wudf_fail(err, WUDF_ERR_MALFORMED,
                     "the linked module's sections cannot be read");
  size_t nl = strlen(name);
  if (tlen > UINT32_MAX - nl - 5)
    return wudf_fail(err, WUDF_ERR_LIMIT, "section %s is too large", name);
  wudf_strbuf out;
  wudf_strbuf_init(&out);
  wudf_strbuf_append(&out, (const char *)w, sizeof k_header);
  section s;
  for (size_t pos = sizeof k_header; pos < *len;) {
    next_section(w, *len, &pos, &s);
    if (!named(&s, name))
      wudf_strbuf_append(&out, (const char *)w + s.start, s.end - s.start);
  }
  if (tlen) {
    wudf_strbuf_append(&out, "", 1); /* id 0: custom */
    wudf_strbuf payload;
    wudf_strbuf_init(&payload);
    put_u32(&payload, (uint32_t)nl);
    put_u32(&out, (uint32_t)(payload.len + nl + tlen));
    wudf_strbuf_append(&out, payload.data, payload.len);
    wudf_strbuf_append(&out, name, nl);
    wudf_strbuf_append(&out, text, tlen);
    out.oom |= payload.oom;
    wudf_strbuf_reset(&payload);
  }
  if (out.oom) {
    wudf_strbuf_reset(&out);
    return wudf_fail(err, WUDF_ERR_NOMEM, "rewriting the module");
  }
  wudf_free(*wasm);
  *len = out.len;
  *wasm = (uint8_t *)wudf_strbuf_take(&out);
  return WUDF_OK;
}
