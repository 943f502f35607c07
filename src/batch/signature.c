/*
 * UDF signatures: the text form (one per line of a wudf.udfs section), the
 * WebAssembly type a signature requires, and the widening rules.
 *
 *     signature := name '(' [type {',' type}] ')' '->' type ['nulls']
 *
 * Spaces and tabs may appear between tokens. Type names and `nulls` are
 * matched without regard to case; names are identifiers, case-sensitive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/error.h"
#include "load/udfs_section.h"

/* ---- Parsing one signature ---------------------------------------------- */

typedef struct sig_lexer {
  const char *s;
  size_t len, pos;
  wudf_error *err;
} sig_lexer;

static void skip_spaces(sig_lexer *lx) {
  while (lx->pos < lx->len && (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t'))
    lx->pos++;
}

static bool is_ident_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* What is at the current position, for "expected X, found Y". */
static void describe_found(const sig_lexer *lx, char *buf, size_t size) {
  if (lx->pos >= lx->len) {
    snprintf(buf, size, "end of text");
    return;
  }
  unsigned char c = (unsigned char)lx->s[lx->pos];
  if (c > 0x20 && c < 0x7f)
    snprintf(buf, size, "'%c'", c);
  else
    snprintf(buf, size, "byte 0x%02x", c);
}

static wudf_status expected(const sig_lexer *lx, const char *what) {
  char found[32];
  describe_found(lx, found, sizeof found);
  return wudf_fail(lx->err, WUDF_ERR_ARG,
                   "at column %zu: expected %s, found %s", lx->pos + 1, what,
                   found);
}

/* Length of the word ([A-Za-z0-9_]*) at the current position. */
static size_t word_len(const sig_lexer *lx) {
  size_t n = 0;
  while (lx->pos + n < lx->len && is_ident_char(lx->s[lx->pos + n])) n++;
  return n;
}

static bool word_is(const char *w, size_t n, const char *lower) {
  if (strlen(lower) != n) return false;
  for (size_t i = 0; i < n; i++) {
    char c = w[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

static const struct {
  const char *word;
  wudf_type type;
} type_words[] = {
    {"int32", WUDF_TYPE_INT32},    {"int", WUDF_TYPE_INT32},
    {"int64", WUDF_TYPE_INT64},    {"bigint", WUDF_TYPE_INT64},
    {"long", WUDF_TYPE_INT64},     {"float32", WUDF_TYPE_FLOAT32},
    {"float", WUDF_TYPE_FLOAT32},  {"float64", WUDF_TYPE_FLOAT64},
    {"double", WUDF_TYPE_FLOAT64}, {"bool", WUDF_TYPE_BOOL},
    {"boolean", WUDF_TYPE_BOOL},   {"utf8", WUDF_TYPE_UTF8},
    {"string", WUDF_TYPE_UTF8},    {"text", WUDF_TYPE_UTF8},
};

static wudf_status parse_name(sig_lexer *lx, wudf_udf_sig *out) {
  skip_spaces(lx);
  if (lx->pos >= lx->len || !is_ident_start(lx->s[lx->pos]))
    return expected(lx, "a function name");
  size_t n = word_len(lx);
  if (n >= WUDF_MAX_UDF_NAME)
    return wudf_fail(lx->err, WUDF_ERR_ARG,
                     "at column %zu: the function name is longer than %d bytes",
                     lx->pos + 1, WUDF_MAX_UDF_NAME - 1);
  memcpy(out->name, lx->s + lx->pos, n);
  out->name[n] = '\0';
  lx->pos += n;
  return WUDF_OK;
}

static wudf_status parse_type(sig_lexer *lx, const char *what, wudf_type *out) {
  skip_spaces(lx);
  size_t n = word_len(lx);
  if (n == 0) return expected(lx, what);
  const char *w = lx->s + lx->pos;
  for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++) {
    if (word_is(w, n, type_words[i].word)) {
      *out = type_words[i].type;
      lx->pos += n;
      return WUDF_OK;
    }
  }
  return wudf_fail(lx->err, WUDF_ERR_ARG,
                   "at column %zu: unknown type '%.*s' (types: int32, int64, "
                   "float32, float64, bool, utf8)",
                   lx->pos + 1, n > 40 ? 40 : (int)n, w);
}

/* Consumes `c` (after spaces) if it is there. */
static bool accept(sig_lexer *lx, char c) {
  skip_spaces(lx);
  if (lx->pos >= lx->len || lx->s[lx->pos] != c) return false;
  lx->pos++;
  return true;
}

static wudf_status parse_params(sig_lexer *lx, wudf_udf_sig *out) {
  if (!accept(lx, '(')) return expected(lx, "'('");
  if (accept(lx, ')')) return WUDF_OK;
  for (;;) {
    skip_spaces(lx);
    if (out->nparams == WUDF_MAX_UDF_PARAMS)
      return wudf_fail(lx->err, WUDF_ERR_ARG,
                       "at column %zu: more than %d parameters", lx->pos + 1,
                       WUDF_MAX_UDF_PARAMS);
    const char *what = out->nparams ? "a type" : "a type or ')'";
    wudf_status st = parse_type(lx, what, &out->params[out->nparams]);
    if (st != WUDF_OK) return st;
    out->nparams++;
    if (accept(lx, ')')) return WUDF_OK;
    if (!accept(lx, ',')) return expected(lx, "')' or ','");
  }
}

static wudf_status parse_result(sig_lexer *lx, wudf_udf_sig *out) {
  skip_spaces(lx);
  if (lx->len - lx->pos < 2 || memcmp(lx->s + lx->pos, "->", 2) != 0)
    return expected(lx, "'->'");
  lx->pos += 2;
  wudf_status st = parse_type(lx, "a result type", &out->result);
  if (st != WUDF_OK) return st;
  skip_spaces(lx);
  size_t n = word_len(lx);
  if (n && word_is(lx->s + lx->pos, n, "nulls")) {
    out->sees_nulls = true;
    lx->pos += n;
    skip_spaces(lx);
  }
  if (lx->pos < lx->len)
    return expected(lx,
                    out->sees_nulls ? "end of text" : "'nulls' or end of text");
  return WUDF_OK;
}

wudf_status wudf_udf_sig_parse(const char *text, size_t len, wudf_udf_sig *out,
                               wudf_error *err) {
  if (!out || (!text && len))
    return wudf_fail(err, WUDF_ERR_ARG, "signature text or output is NULL");
  memset(out, 0, sizeof *out);
  sig_lexer lx = {text ? text : "", len, 0, err};
  wudf_status st = parse_name(&lx, out);
  if (st == WUDF_OK) st = parse_params(&lx, out);
  if (st == WUDF_OK) st = parse_result(&lx, out);
  if (st != WUDF_OK) memset(out, 0, sizeof *out);
  return st;
}

/* ---- Formatting --------------------------------------------------------- */

/* Appends to buf[*pos..size); stops quietly when full. */
static void put(char *buf, size_t size, size_t *pos, const char *s) {
  size_t n = strlen(s);
  if (*pos >= size - 1) return;
  if (n > size - 1 - *pos) n = size - 1 - *pos;
  memcpy(buf + *pos, s, n);
  *pos += n;
  buf[*pos] = '\0';
}

void wudf_udf_sig_format(const wudf_udf_sig *sig, char *buf, size_t size) {
  if (!buf || size == 0) return;
  buf[0] = '\0';
  if (!sig) return;
  size_t pos = 0;
  char name[WUDF_MAX_UDF_NAME];
  memcpy(name, sig->name, sizeof name);
  name[sizeof name - 1] = '\0';
  put(buf, size, &pos, name);
  put(buf, size, &pos, "(");
  uint32_t n =
      sig->nparams > WUDF_MAX_UDF_PARAMS ? WUDF_MAX_UDF_PARAMS : sig->nparams;
  for (uint32_t i = 0; i < n; i++) {
    if (i) put(buf, size, &pos, ", ");
    put(buf, size, &pos, wudf_type_str(sig->params[i]));
  }
  put(buf, size, &pos, ") -> ");
  put(buf, size, &pos, wudf_type_str(sig->result));
  if (sig->sees_nulls) put(buf, size, &pos, " nulls");
}

/* ---- Sections ----------------------------------------------------------- */

typedef struct sig_list {
  wudf_udf_sig *sigs;
  size_t *lines; /* line of each signature, for duplicate messages */
  uint32_t n, cap;
} sig_list;

static void sig_list_reset(sig_list *l) {
  wudf_free(l->sigs);
  wudf_free(l->lines);
  memset(l, 0, sizeof *l);
}

static wudf_status sig_list_push(sig_list *l, const wudf_udf_sig *sig,
                                 size_t line, wudf_error *err) {
  if (l->n == WUDF_BATCH_MAX_UDFS)
    return wudf_fail(err, WUDF_ERR_LIMIT,
                     "wudf.udfs line %zu: more than %d UDFs", line,
                     WUDF_BATCH_MAX_UDFS);
  if (l->n == l->cap) {
    uint32_t cap = l->cap ? l->cap * 2 : 8;
    wudf_udf_sig *s = wudf_realloc(l->sigs, cap * sizeof *s);
    if (s) l->sigs = s;
    size_t *ln = s ? wudf_realloc(l->lines, cap * sizeof *ln) : NULL;
    if (!ln) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for UDFs");
    l->lines = ln;
    l->cap = cap;
  }
  l->sigs[l->n] = *sig;
  l->lines[l->n] = line;
  l->n++;
  return WUDF_OK;
}

typedef struct name_entry {
  const char *name;
  size_t line;
} name_entry;

static int cmp_entries(const void *x, const void *y) {
  const name_entry *a = x, *b = y;
  int c = strcmp(a->name, b->name);
  if (c) return c;
  return (a->line > b->line) - (a->line < b->line);
}

/* Sorting finds duplicates in O(n log n); the one reported is the earliest
 * line that repeats a name, whatever the order of the section. */
static wudf_status check_duplicates(const sig_list *l, wudf_error *err) {
  if (l->n < 2) return WUDF_OK;
  name_entry *e = wudf_malloc(l->n * sizeof *e);
  if (!e) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for UDFs");
  for (uint32_t i = 0; i < l->n; i++)
    e[i] = (name_entry){l->sigs[i].name, l->lines[i]};
  qsort(e, l->n, sizeof *e, cmp_entries);
  const name_entry *first = NULL, *dup = NULL;
  for (uint32_t i = 1; i < l->n; i++) {
    if (strcmp(e[i - 1].name, e[i].name) != 0) continue;
    if (!dup || e[i].line < dup->line) {
      first = &e[i - 1];
      dup = &e[i];
    }
  }
  wudf_status st = WUDF_OK;
  if (dup)
    st = wudf_fail(err, WUDF_ERR_INVALID,
                   "wudf.udfs line %zu: UDF '%s' is already declared on line "
                   "%zu",
                   dup->line, dup->name, first->line);
  wudf_free(e);
  return st;
}

typedef struct section_reader {
  sig_list *list;
  wudf_error *err;
} section_reader;

static wudf_status parse_line(void *user, const char *s, size_t n,
                              size_t line) {
  section_reader *r = user;
  wudf_udf_sig sig;
  if (wudf_udf_sig_parse(s, n, &sig, r->err) != WUDF_OK) {
    wudf_error_prefix(r->err, "wudf.udfs line %zu", line);
    if (r->err) r->err->status = WUDF_ERR_INVALID;
    return WUDF_ERR_INVALID;
  }
  return sig_list_push(r->list, &sig, line, r->err);
}

wudf_status wudf_udf_sigs_parse_section(const char *text, size_t len,
                                        wudf_udf_sig **out, uint32_t *count,
                                        wudf_error *err) {
  if (!out || !count || (!text && len))
    return wudf_fail(err, WUDF_ERR_ARG, "section text or output is NULL");
  *out = NULL;
  *count = 0;
  sig_list l = {0};
  section_reader r = {&l, err};
  wudf_status st = wudf_udfs_section_lines(text, len, parse_line, &r);
  if (st == WUDF_OK) st = check_duplicates(&l, err);
  if (st != WUDF_OK) {
    sig_list_reset(&l);
    return st;
  }
  wudf_free(l.lines);
  *out = l.sigs;
  *count = l.n;
  return WUDF_OK;
}

/* ---- WebAssembly types and widening ------------------------------------- */

static bool wasm_of(wudf_type t, uint8_t *out) {
  static const uint8_t wasm[] = {
      [WUDF_TYPE_INT32] = 0x7f,   [WUDF_TYPE_INT64] = 0x7e,
      [WUDF_TYPE_FLOAT32] = 0x7d, [WUDF_TYPE_FLOAT64] = 0x7c,
      [WUDF_TYPE_BOOL] = 0x7f,    [WUDF_TYPE_UTF8] = 0x7f,
  };
  if ((unsigned)t > (unsigned)WUDF_TYPE_UTF8) return false;
  *out = wasm[t];
  return true;
}

bool wudf_udf_sig_wasm_type(const wudf_udf_sig *sig, uint8_t *params,
                            uint32_t cap, uint32_t *nparams, uint8_t *result) {
  if (!sig || !nparams || !result || sig->nparams > WUDF_MAX_UDF_PARAMS)
    return false;
  uint32_t n = 0;
  for (uint32_t i = 0; i < sig->nparams; i++) {
    uint8_t w;
    if (!wasm_of(sig->params[i], &w)) return false;
    uint32_t values = sig->params[i] == WUDF_TYPE_UTF8 ? 2u : 1u;
    uint32_t k = values + sig->sees_nulls;
    if (k > cap - n || !params) return false;
    for (uint32_t j = 0; j < values; j++) params[n + j] = w;
    if (sig->sees_nulls) params[n + values] = 0x7f; /* is-null flag */
    n += k;
  }
  if (!wasm_of(sig->result, result)) return false;
  if (sig->result == WUDF_TYPE_UTF8) *result = 0x7e;
  *nparams = n;
  return true;
}

bool wudf_type_widens_to(wudf_type column, wudf_type param) {
  if (column == param) return (unsigned)column <= (unsigned)WUDF_TYPE_UTF8;
  if (param == WUDF_TYPE_UTF8)
    return column == WUDF_TYPE_LARGE_UTF8 || column == WUDF_TYPE_UTF8_VIEW;
  if (column == WUDF_TYPE_INT32)
    return param == WUDF_TYPE_INT64 || param == WUDF_TYPE_FLOAT64;
  return column == WUDF_TYPE_FLOAT32 && param == WUDF_TYPE_FLOAT64;
}

bool wudf_type_from_wasm(uint8_t wasm, wudf_type *out) {
  switch (wasm) {
    case 0x7f:
      *out = WUDF_TYPE_INT32;
      return true;
    case 0x7e:
      *out = WUDF_TYPE_INT64;
      return true;
    case 0x7d:
      *out = WUDF_TYPE_FLOAT32;
      return true;
    case 0x7c:
      *out = WUDF_TYPE_FLOAT64;
      return true;
    default:
      return false;
  }
}
