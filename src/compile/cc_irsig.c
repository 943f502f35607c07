/*
 * Signatures of the user's functions, read from the LLVM IR clang writes
 * with -S -emit-llvm -g. Each `define` line names a symbol, its linkage and
 * its debug-info subprogram (!dbg !N); the subprogram gives the source name,
 * file and line, and its subroutine type lists the source-level types of
 * the result and parameters, typedef names included (so `wudf_string`,
 * `int32_t` and `size_t` are seen as written). This is clang's own view of
 * the declarations, whatever macros or headers produced them, and unlike an
 * AST dump it holds only what the module will contain.
 *
 * The IR is produced by the sandboxed compiler from hostile source, so it is
 * parsed defensively: bounded recursion, bounded copies, unknown shapes
 * become "no signature", never a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "compile/compile_internal.h"

#define MAX_TYPE_DEPTH 16
#define MAX_FIELD 512
#define MAX_TUPLE (WUDF_MAX_UDF_PARAMS * 2 + 8)

typedef struct ir {
  const char *text;
  size_t len;
  const char **meta; /* start of the line defining !N, or NULL */
  size_t nmeta;
} ir;

/* ------------------------------------------------------------------------ */
/* Lines and metadata nodes                                                 */
/* ------------------------------------------------------------------------ */

static size_t line_len(const ir *r, const char *p) {
  const char *end = memchr(p, '\n', (size_t)(r->text + r->len - p));
  return end ? (size_t)(end - p) : (size_t)(r->text + r->len - p);
}

/* "!123 = " at p: the number, else SIZE_MAX. */
static size_t meta_number(const char *p, size_t n) {
  if (n < 4 || p[0] != '!' || p[1] < '0' || p[1] > '9') return SIZE_MAX;
  size_t v = 0, i = 1;
  for (; i < n && p[i] >= '0' && p[i] <= '9' && v < SIZE_MAX / 20; i++)
    v = v * 10 + (size_t)(p[i] - '0');
  if (i + 3 > n || memcmp(p + i, " = ", 3) != 0) return SIZE_MAX;
  return v;
}

static wudf_status index_metadata(ir *r, wudf_error *err) {
  size_t lines = 1;
  for (size_t i = 0; i < r->len; i++) lines += r->text[i] == '\n';
  /* Metadata numbers are dense from 0, so they stay below the line count. */
  r->nmeta = lines;
  r->meta = wudf_calloc(r->nmeta, sizeof *r->meta);
  if (!r->meta) return wudf_fail(err, WUDF_ERR_NOMEM, "indexing the IR");
  for (const char *p = r->text; p < r->text + r->len;) {
    size_t n = line_len(r, p);
    size_t k = meta_number(p, n);
    if (k < r->nmeta) r->meta[k] = p;
    p += n + 1;
  }
  return WUDF_OK;
}

/* The text of node !k after "= " (and "distinct "), up to the line end;
 * NULL when there is no such node. */
static const char *node(const ir *r, size_t k, size_t *n) {
  if (k >= r->nmeta || !r->meta[k]) return NULL;
  const char *p = r->meta[k];
  size_t len = line_len(r, p);
  const char *eq = memchr(p, '=', len);
  if (!eq || eq + 2 > p + len) return NULL;
  const char *s = eq + 2;
  if (!strncmp(s, "distinct ", 9)) s += 9;
  *n = len - (size_t)(s - p);
  return s;
}

/* ------------------------------------------------------------------------ */
/* Fields: `!DIKind(key: value, key: value)`                                */
/* ------------------------------------------------------------------------ */

/* Length of the value starting at p (up to a ", " or the closing bracket at
 * depth 0), honouring strings and nested brackets. */
static size_t value_len(const char *p, const char *end) {
  int depth = 0;
  bool in_str = false;
  const char *s = p;
  for (; s < end; s++) {
    if (in_str) {
      if (*s == '\\' && s + 1 < end)
        s++;
      else if (*s == '"')
        in_str = false;
    } else if (*s == '"') {
      in_str = true;
    } else if (*s == '(' || *s == '{') {
      depth++;
    } else if (*s == ')' || *s == '}') {
      if (depth-- == 0) break;
    } else if (*s == ',' && depth == 0) {
      break;
    }
  }
  return (size_t)(s - p);
}

/* Copies the raw value of field `key` of a node into buf. */
static bool field(const char *n, size_t len, const char *key, char *buf,
                  size_t size) {
  const char *open = memchr(n, '(', len);
  if (!open) return false;
  const char *end = n + len;
  size_t kl = strlen(key);
  for (const char *p = open + 1; p < end;) {
    while (p < end && *p == ' ') p++;
    size_t vl = value_len(p, end);
    if (vl > kl + 2 && !memcmp(p, key, kl) && p[kl] == ':' &&
        p[kl + 1] == ' ') {
      size_t copy = vl - kl - 2 < size - 1 ? vl - kl - 2 : size - 1;
      memcpy(buf, p + kl + 2, copy);
      buf[copy] = '\0';
      return true;
    }
    p += vl;
    if (p >= end || *p != ',') break;
    p++;
  }
  return false;
}

/* A string field, its \XX escapes decoded. */
static bool field_str(const char *n, size_t len, const char *key, char *buf,
                      size_t size) {
  char raw[MAX_FIELD];
  if (!field(n, len, key, raw, sizeof raw) || raw[0] != '"') return false;
  size_t o = 0;
  for (const char *s = raw + 1; *s && *s != '"' && o + 1 < size; s++) {
    unsigned v;
    if (*s == '\\' && sscanf(s + 1, "%2x", &v) == 1 && s[1] && s[2]) {
      buf[o++] = (char)v;
      s += 2;
    } else {
      buf[o++] = *s;
    }
  }
  buf[o] = '\0';
  return true;
}

/* A "!N" field: N, else SIZE_MAX ("null" or absent). */
static size_t field_ref(const char *n, size_t len, const char *key) {
  char v[32];
  if (!field(n, len, key, v, sizeof v) || v[0] != '!') return SIZE_MAX;
  char *e;
  unsigned long long k = strtoull(v + 1, &e, 10);
  return *e == '\0' && e != v + 1 ? (size_t)k : SIZE_MAX;
}

static long long field_num(const char *n, size_t len, const char *key) {
  char v[32];
  return field(n, len, key, v, sizeof v) ? strtoll(v, NULL, 10) : -1;
}

static bool node_is(const char *n, size_t len, const char *kind) {
  size_t kl = strlen(kind);
  return len > kl && !memcmp(n, kind, kl) && n[kl] == '(';
}

/* The elements of a tuple node !{!1, null, !3}: SIZE_MAX for null. */
static int tuple(const ir *r, size_t k, size_t *items, int max) {
  size_t len;
  const char *n = node(r, k, &len);
  if (!n || len < 3 || n[0] != '!' || n[1] != '{') return -1;
  int count = 0;
  const char *end = n + len;
  const char *p = n + 2;
  while (p < end && *p != '}' && count < max) {
    while (p < end && *p == ' ') p++;
    size_t vl = value_len(p, end);
    if (vl >= 2 && *p == '!')
      items[count++] = (size_t)strtoull(p + 1, NULL, 10);
    else if (vl == 4 && !memcmp(p, "null", 4))
      items[count++] = SIZE_MAX;
    else
      return -1;
    p += vl;
    if (p < end && *p == ',') p++;
  }
  while (p < end && *p == ' ') p++;
  return p < end && *p == '}' ? count : -1; /* -1: more than max */
}

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum ty_kind {
  TY_VOID,
  TY_INT,
  TY_FLOAT,
  TY_BOOL,
  TY_CHAR,
  TY_POINTER,
  TY_OTHER,
} ty_kind;

typedef struct ty {
  ty_kind kind;
  long long bits;
  bool is_signed;
  bool is_long;       /* C's `long` (32 bits here) */
  bool wudf_string;   /* a typedef named wudf_string on the way */
  bool to_char;       /* pointer to (const) char */
  char spelling[128]; /* for messages */
} ty;

/* t->spelling = a b c (which may include t->spelling itself). */
static void spell(ty *t, const char *a, const char *b, const char *c) {
  char tmp[sizeof t->spelling];
  const char *parts[3] = {a, b, c};
  size_t o = 0;
  for (int i = 0; i < 3; i++)
    for (const char *s = parts[i]; *s && o + 1 < sizeof tmp; s++) tmp[o++] = *s;
  tmp[o] = '\0';
  memcpy(t->spelling, tmp, o + 1);
}

static void resolve(const ir *r, size_t k, ty *t, int depth);

static void basic_type(const char *n, size_t len, ty *t) {
  char enc[64], name[96];
  if (!field(n, len, "encoding", enc, sizeof enc)) enc[0] = '\0';
  if (!field_str(n, len, "name", name, sizeof name)) strcpy(name, "?");
  t->bits = field_num(n, len, "size");
  spell(t, name, "", "");
  t->is_long = !strcmp(name, "long") || !strcmp(name, "long int");
  if (!strcmp(enc, "DW_ATE_signed") || !strcmp(enc, "DW_ATE_unsigned")) {
    t->kind = TY_INT;
    t->is_signed = !strcmp(enc, "DW_ATE_signed");
  } else if (!strcmp(enc, "DW_ATE_signed_char") ||
             !strcmp(enc, "DW_ATE_unsigned_char")) {
    t->kind = TY_CHAR;
  } else if (!strcmp(enc, "DW_ATE_float")) {
    t->kind = TY_FLOAT;
  } else if (!strcmp(enc, "DW_ATE_boolean")) {
    t->kind = TY_BOOL;
  } else {
    t->kind = TY_OTHER;
  }
}

static void derived_type(const ir *r, const char *n, size_t len, ty *t,
                         int depth) {
  char tag[64], name[96];
  if (!field(n, len, "tag", tag, sizeof tag)) tag[0] = '\0';
  size_t base = field_ref(n, len, "baseType");
  if (!strcmp(tag, "DW_TAG_typedef")) {
    if (!field_str(n, len, "name", name, sizeof name)) strcpy(name, "?");
    resolve(r, base, t, depth + 1);
    t->wudf_string |= !strcmp(name, "wudf_string");
    spell(t, name, "", "");
  } else if (!strcmp(tag, "DW_TAG_pointer_type")) {
    ty pointee = {0};
    resolve(r, base, &pointee, depth + 1);
    t->kind = TY_POINTER;
    t->to_char = pointee.kind == TY_CHAR;
    spell(t, pointee.spelling, " *", "");
  } else if (!strcmp(tag, "DW_TAG_const_type") ||
             !strcmp(tag, "DW_TAG_volatile_type") ||
             !strcmp(tag, "DW_TAG_restrict_type") ||
             !strcmp(tag, "DW_TAG_atomic_type")) {
    resolve(r, base, t, depth + 1);
    if (!strcmp(tag, "DW_TAG_const_type")) spell(t, "const ", t->spelling, "");
  } else {
    ty inner = {0};
    resolve(r, base, &inner, depth + 1);
    t->kind = TY_OTHER;
    spell(t, inner.spelling, strstr(tag, "reference") ? " &" : " (derived)",
          "");
  }
}

static void composite_type(const char *n, size_t len, ty *t) {
  char tag[64], name[96];
  if (!field(n, len, "tag", tag, sizeof tag)) tag[0] = '\0';
  if (!field_str(n, len, "name", name, sizeof name)) strcpy(name, "");
  const char *what = strstr(tag, "enumeration") ? "enum"
                     : strstr(tag, "union")     ? "union"
                     : strstr(tag, "array")     ? "array"
                     : strstr(tag, "class")     ? "class"
                                                : "struct";
  t->kind = TY_OTHER;
  spell(t, what, *name ? " " : "", name);
}

static void resolve(const ir *r, size_t k, ty *t, int depth) {
  size_t len;
  const char *n = k == SIZE_MAX ? NULL : node(r, k, &len);
  if (k == SIZE_MAX) {
    t->kind = TY_VOID;
    spell(t, "void", "", "");
  } else if (!n || depth > MAX_TYPE_DEPTH) {
    t->kind = TY_OTHER;
    spell(t, "(unknown type)", "", "");
  } else if (node_is(n, len, "!DIBasicType")) {
    basic_type(n, len, t);
  } else if (node_is(n, len, "!DIDerivedType")) {
    derived_type(r, n, len, t, depth);
  } else if (node_is(n, len, "!DICompositeType")) {
    composite_type(n, len, t);
  } else {
    t->kind = TY_OTHER;
    spell(t, node_is(n, len, "!DISubroutineType") ? "function" : "?", "", "");
  }
}

/* ------------------------------------------------------------------------ */
/* Signatures                                                               */
/* ------------------------------------------------------------------------ */

static const char *const k_static_hint =
    "; declare it static if it is not meant to be a UDF";
static const char *const k_no_type =
    ", which has no wudf type (UDF types are int32_t/int, int64_t/long long, "
    "float, double, bool, and a string as const char *s, int32_t len)";

static bool numeric(const ty *t, wudf_type *out) {
  if (t->kind == TY_INT && t->is_signed && (t->bits == 32 || t->bits == 64)) {
    *out = t->bits == 32 ? WUDF_TYPE_INT32 : WUDF_TYPE_INT64;
    return true;
  }
  if (t->kind == TY_FLOAT && (t->bits == 32 || t->bits == 64)) {
    *out = t->bits == 32 ? WUDF_TYPE_FLOAT32 : WUDF_TYPE_FLOAT64;
    return true;
  }
  if (t->kind == TY_BOOL) {
    *out = WUDF_TYPE_BOOL;
    return true;
  }
  return false;
}

static bool is_length(const ty *t) {
  return t->kind == TY_INT && t->bits == 32;
}

typedef struct sig_ctx {
  const ir *r;
  size_t types[MAX_TUPLE];
  int ntypes;
  size_t locals; /* retainedNodes tuple, for parameter names */
  wudf_cc_func *f;
} sig_ctx;

/* The name of parameter `arg` (1-based) from the retained local
 * variables; "" when unknown. */
static void param_name(const sig_ctx *c, int arg, char *buf, size_t size) {
  size_t items[64];
  int n = c->locals == SIZE_MAX ? -1 : tuple(c->r, c->locals, items, 64);
  buf[0] = '\0';
  for (int i = 0; i < n; i++) {
    size_t len;
    const char *v = node(c->r, items[i], &len);
    if (v && node_is(v, len, "!DILocalVariable") &&
        field_num(v, len, "arg") == arg) {
      char name[96];
      if (field_str(v, len, "name", name, sizeof name))
        snprintf(buf, size, " ('%s')", name);
      return;
    }
  }
}

static bool fail_param(sig_ctx *c, int arg, const ty *t, const char *why) {
  char name[128];
  param_name(c, arg, name, sizeof name);
  snprintf(c->f->problem, sizeof c->f->problem,
           "parameter %d%.64s has type '%.100s'%.200s%s", arg, name,
           t->spelling, why, k_static_hint);
  return false;
}

static void note_long(sig_ctx *c, int arg) {
  if (c->f->warning[0]) return;
  char name[128];
  param_name(c, arg, name, sizeof name);
  snprintf(c->f->warning, sizeof c->f->warning,
           "%s of '%.128s' is 'long', which is 32 bits in WebAssembly: it is "
           "int32 (use int64_t or long long for int64)",
           arg ? "a parameter" : "the result", c->f->name);
}

/* One parameter (or a string pair) at types[*i]; advances *i. */
static bool map_param(sig_ctx *c, int *i, int arg) {
  ty t = {0}, next = {0};
  resolve(c->r, c->types[*i], &t, 0);
  wudf_udf_sig *s = &c->f->sig;
  if (s->nparams == WUDF_MAX_UDF_PARAMS) {
    snprintf(c->f->problem, sizeof c->f->problem,
             "it has more than %d parameters%s", WUDF_MAX_UDF_PARAMS,
             k_static_hint);
    return false;
  }
  if (t.kind == TY_POINTER && t.to_char) {
    if (*i + 1 < c->ntypes) resolve(c->r, c->types[*i + 1], &next, 0);
    if (!is_length(&next))
      return fail_param(c, arg, &t,
                        ", a string without a length: a utf8 parameter is "
                        "(const char *s, int32_t len)");
    s->params[s->nparams++] = WUDF_TYPE_UTF8;
    c->f->needs_alloc = true;
    *i += 2;
    return true;
  }
  if (!numeric(&t, &s->params[s->nparams]))
    return fail_param(c, arg, &t, k_no_type);
  if (t.is_long) note_long(c, arg);
  s->nparams++;
  *i += 1;
  return true;
}

static bool map_result(sig_ctx *c) {
  ty t = {0};
  resolve(c->r, c->types[0], &t, 0);
  if (t.wudf_string) {
    c->f->sig.result = WUDF_TYPE_UTF8;
    return true;
  }
  if (numeric(&t, &c->f->sig.result)) {
    if (t.is_long) note_long(c, 0);
    return true;
  }
  const char *why = t.kind == TY_VOID ? ": a UDF returns a value"
                    : t.kind == TY_POINTER
                        ? ": return a wudf_string (wudf_guest.h) for a utf8 "
                          "result"
                        : ", which has no wudf type";
  snprintf(c->f->problem, sizeof c->f->problem, "it returns '%s'%s%s",
           t.spelling, why, k_static_hint);
  return false;
}

/* Fills f->sig from the subprogram's type, or f->problem. */
static bool map_signature(const ir *r, const char *sp, size_t splen,
                          wudf_cc_func *f) {
  sig_ctx c = {.r = r, .f = f, .locals = field_ref(sp, splen, "retainedNodes")};
  size_t type_len;
  const char *type = node(r, field_ref(sp, splen, "type"), &type_len);
  c.ntypes =
      type ? tuple(r, field_ref(type, type_len, "types"), c.types, MAX_TUPLE)
           : -1;
  if (c.ntypes < 1) {
    snprintf(f->problem, sizeof f->problem,
             "its type has more than %d parameters or cannot be read%s",
             WUDF_MAX_UDF_PARAMS, k_static_hint);
    return false;
  }
  char flags[MAX_FIELD];
  bool prototyped = field(sp, splen, "flags", flags, sizeof flags) &&
                    strstr(flags, "DIFlagPrototyped");
  if (c.types[c.ntypes - 1] == SIZE_MAX && c.ntypes > 1) {
    snprintf(f->problem, sizeof f->problem,
             "it takes a variable number of arguments%s", k_static_hint);
    return false;
  }
  if (!prototyped && c.ntypes > 1) {
    snprintf(f->problem, sizeof f->problem,
             "its definition has no prototype: declare the parameter types "
             "inside the parentheses%s",
             k_static_hint);
    return false;
  }
  strcpy(f->sig.name, f->name);
  if (!map_result(&c)) return false;
  for (int i = 1, arg = 1; i < c.ntypes; arg++)
    if (!map_param(&c, &i, arg)) return false;
  return true;
}

/* ------------------------------------------------------------------------ */
/* define lines                                                             */
/* ------------------------------------------------------------------------ */

static const char *const k_local_linkages[] = {"internal",
                                               "private",
                                               "linkonce",
                                               "linkonce_odr",
                                               "weak",
                                               "weak_odr",
                                               "available_externally",
                                               "extern_weak",
                                               "common",
                                               "appending"};

/* Whether a linkage word appears among the words of [p, end). */
static bool has_local_linkage(const char *p, const char *end) {
  while (p < end) {
    while (p < end && *p == ' ') p++;
    const char *w = p;
    while (p < end && *p != ' ') p++;
    size_t n = (size_t)(p - w);
    for (size_t i = 0; i < sizeof k_local_linkages / sizeof k_local_linkages[0];
         i++)
      if (strlen(k_local_linkages[i]) == n &&
          !memcmp(w, k_local_linkages[i], n))
        return true;
  }
  return false;
}

/* The symbol name after '@' (quoted names decoded); false if too long. */
static bool symbol_name(const char *p, const char *end, char *buf,
                        size_t size) {
  size_t o = 0;
  if (p < end && *p == '"') {
    for (p++; p < end && *p != '"'; p++) {
      unsigned v;
      char c = *p;
      if (c == '\\' && p + 2 < end && sscanf(p + 1, "%2x", &v) == 1) {
        c = (char)v;
        p += 2;
      }
      if (o + 1 >= size) return false;
      buf[o++] = c;
    }
  } else {
    for (; p < end && (strchr("$._-", *p) || (*p >= '0' && *p <= '9') ||
                       (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
         p++) {
      if (o + 1 >= size) return false;
      buf[o++] = *p;
    }
  }
  buf[o] = '\0';
  return o > 0;
}

/* The !dbg attachment of a define line: its node number, or SIZE_MAX. */
static size_t dbg_of(const char *p, size_t n) {
  const char *key = " !dbg !";
  size_t kl = strlen(key), found = SIZE_MAX;
  for (size_t i = 0; i + kl < n; i++)
    if (!memcmp(p + i, key, kl)) found = (size_t)strtoull(p + i + kl, NULL, 10);
  return found;
}

typedef struct main_file {
  const char *name, *dir;
  const char *source;
  size_t source_len;
} main_file;

static bool in_main_file(const ir *r, const char *sp, size_t splen,
                         const main_file *m) {
  size_t len;
  const char *file = node(r, field_ref(sp, splen, "file"), &len);
  char name[MAX_FIELD], dir[MAX_FIELD];
  if (!file || !field_str(file, len, "filename", name, sizeof name))
    return false;
  if (!field_str(file, len, "directory", dir, sizeof dir)) dir[0] = '\0';
  if (!strcmp(name, m->name)) return !strcmp(dir, m->dir);
  size_t dl = strlen(m->dir);
  return !strncmp(name, m->dir, dl) && name[dl] == '/' &&
         !strcmp(name + dl + 1, m->name);
}

static void describe(const ir *r, const char *sp, size_t splen,
                     const main_file *m, wudf_cc_func *f) {
  char source_name[2 * WUDF_MAX_UDF_NAME];
  bool named = field_str(sp, splen, "name", source_name, sizeof source_name);
  long long line = field_num(sp, splen, "line");
  f->line = line > 0 && line < UINT32_MAX ? (uint32_t)line : 0;
  f->column = wudf_cc_name_column(m->source, m->source_len, f->line,
                                  named ? source_name : f->name);
  char linkage_name[8];
  f->c_linkage =
      named && !strcmp(source_name, f->name) &&
      !field(sp, splen, "linkageName", linkage_name, sizeof linkage_name);
  if (!wudf_cc_is_identifier(f->name))
    snprintf(f->problem, sizeof f->problem,
             "its symbol name is not an identifier%s", k_static_hint);
  else if (strlen(f->name) >= WUDF_MAX_UDF_NAME)
    snprintf(f->problem, sizeof f->problem,
             "its name is longer than %d bytes%s", WUDF_MAX_UDF_NAME - 1,
             k_static_hint);
  else
    f->ok = map_signature(r, sp, splen, f);
}

static wudf_status scan_define(const ir *r, const char *p, size_t n,
                               const main_file *m, wudf_cc_funcs *out,
                               wudf_error *err) {
  const char *end = p + n, *at = memchr(p, '@', n);
  char name[2 * WUDF_MAX_UDF_NAME];
  if (!at || has_local_linkage(p + 7, at) ||
      !symbol_name(at + 1, end, name, sizeof name))
    return WUDF_OK;
  size_t splen;
  const char *sp = node(r, dbg_of(p, n), &splen);
  if (!sp || !node_is(sp, splen, "!DISubprogram") ||
      !in_main_file(r, sp, splen, m))
    return WUDF_OK;
  wudf_cc_func *f;
  wudf_status st = wudf_cc_funcs_push(out, &f, err);
  if (st != WUDF_OK) return st;
  memcpy(f->name, name, sizeof f->name);
  describe(r, sp, splen, m, f);
  return WUDF_OK;
}

wudf_status wudf_cc_ir_functions(const char *text, size_t len,
                                 const char *main_name, const char *main_dir,
                                 const char *source, size_t source_len,
                                 wudf_cc_funcs *out, wudf_error *err) {
  ir r = {.text = text, .len = len};
  main_file m = {main_name, main_dir, source, source_len};
  wudf_status st = index_metadata(&r, err);
  for (const char *p = text; st == WUDF_OK && p < text + len;) {
    size_t n = line_len(&r, p);
    if (n > 7 && !memcmp(p, "define ", 7))
      st = scan_define(&r, p, n, &m, out, err);
    p += n + 1;
  }
  wudf_free(r.meta);
  return st;
}
