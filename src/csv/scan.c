/*
 * The CSV record scanner: a state machine over a large read buffer. Field
 * boundaries are found 16 bytes at a time (SSE2 where available): only the
 * delimiter, '"', CR and LF stop it. A record cut by the end of the buffer
 * is scanned again from its start once more input is in, which keeps the
 * machine free of resumable state; records are small next to the buffer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "csv/csv_internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- Buffer ------------------------------------------------------------- */

static size_t clamp_cap(size_t cap) {
  if (cap < 16) return 16;
  return cap > WUDF_CSV_MAX_BUFFER ? WUDF_CSV_MAX_BUFFER : cap;
}

wudf_status wudf_csv_scanner_init(wudf_csv_scanner *s, FILE *f, size_t cap,
                                  uint8_t delim, wudf_error *err) {
  memset(s, 0, sizeof *s);
  s->cap = clamp_cap(cap);
  /* calloc: the pad past the data is read (and ignored) by the scanner. */
  s->buf = wudf_calloc(s->cap + WUDF_CSV_PAD, 1);
  if (!s->buf)
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "out of memory for a %zu-byte read buffer", s->cap);
  s->f = f;
  s->delim = delim;
  s->line = 1;
  return WUDF_OK;
}

void wudf_csv_scanner_reset(wudf_csv_scanner *s) {
  wudf_free(s->buf);
  memset(s, 0, sizeof *s);
}

/* Reads into [end, cap). Sets eof when the input has no more bytes. */
static wudf_status fill(wudf_csv_scanner *s, const char *name,
                        wudf_error *err) {
  size_t want = s->cap - s->end;
  size_t got = want ? fread(s->buf + s->end, 1, want, s->f) : 0;
  s->end += got;
  s->buf[s->end] = 0;
  if (got == want) return WUDF_OK;
  if (ferror(s->f))
    return wudf_fail(err, WUDF_ERR_IO, "%s: read error: %s", name,
                     strerror(errno ? errno : EIO));
  s->eof = true;
  return WUDF_OK;
}

static bool grow(wudf_csv_scanner *s) {
  if (s->cap >= WUDF_CSV_MAX_BUFFER) return false;
  size_t cap =
      s->cap * 2 > WUDF_CSV_MAX_BUFFER ? WUDF_CSV_MAX_BUFFER : s->cap * 2;
  uint8_t *p = wudf_realloc(s->buf, cap + WUDF_CSV_PAD);
  if (!p) return false;
  memset(p + s->cap + WUDF_CSV_PAD, 0, cap - s->cap);
  s->buf = p;
  s->cap = cap;
  return true;
}

void wudf_csv_scanner_compact(wudf_csv_scanner *s, size_t cap) {
  size_t n = s->end - s->pos;
  if (s->pos > 0) memmove(s->buf, s->buf + s->pos, n);
  s->end = n;
  s->pos = 0;
  s->buf[n] = 0;
  cap = clamp_cap(cap);
  if (s->cap <= cap || n >= cap) return;
  /* A sample or a long record grew the buffer: give the memory back. */
  uint8_t *p = wudf_realloc(s->buf, cap + WUDF_CSV_PAD);
  if (!p) return;
  memset(p + n, 0, cap + WUDF_CSV_PAD - n);
  s->buf = p;
  s->cap = cap;
}

wudf_status wudf_csv_scanner_skip_bom(wudf_csv_scanner *s, const char *name,
                                      wudf_error *err) {
  while (s->end < 3 && !s->eof) {
    wudf_status st = fill(s, name, err);
    if (st != WUDF_OK) return st;
  }
  if (s->end >= 3 && memcmp(s->buf, "\xef\xbb\xbf", 3) == 0) s->pos = 3;
  return WUDF_OK;
}

bool wudf_csv_ascii(const uint8_t *p, size_t n) {
  size_t i = 0;
  uint64_t acc = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    memcpy(w, p + i, 32);
    acc |= w[0] | w[1] | w[2] | w[3];
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    acc |= w;
  }
  if (acc & UINT64_C(0x8080808080808080)) return false;
  for (; i < n; i++)
    if (p[i] & 0x80) return false;
  return true;
}

/* ---- Finding the next special byte -------------------------------------- */

/* First byte in [p, end) that is the delimiter, '"', CR or LF; end if none.
 * May read up to 15 bytes past end (the buffer's pad). */
#if defined(__SSE2__)
typedef struct finder {
  __m128i d, q, r, n;
} finder;

static inline finder finder_make(uint8_t delim) {
  finder f = {_mm_set1_epi8((char)delim), _mm_set1_epi8('"'),
              _mm_set1_epi8('\r'), _mm_set1_epi8('\n')};
  return f;
}

static inline const uint8_t *find_special(const finder *f, const uint8_t *p,
                                          const uint8_t *end) {
  for (; p < end; p += 16) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, f->d), _mm_cmpeq_epi8(x, f->q)),
        _mm_or_si128(_mm_cmpeq_epi8(x, f->r), _mm_cmpeq_epi8(x, f->n)));
    unsigned bits = (unsigned)_mm_movemask_epi8(m);
    if (bits) {
      const uint8_t *at = p + __builtin_ctz(bits);
      return at < end ? at : end;
    }
  }
  return end;
}
#else
typedef struct finder {
  uint8_t special[256];
} finder;

static inline finder finder_make(uint8_t delim) {
  finder f;
  memset(&f, 0, sizeof f);
  f.special[delim] = f.special['"'] = f.special['\r'] = f.special['\n'] = 1;
  return f;
}

static inline const uint8_t *find_special(const finder *f, const uint8_t *p,
                                          const uint8_t *end) {
  while (p < end && !f->special[*p]) p++;
  return p;
}
#endif

/* ---- The record state machine ------------------------------------------- */

typedef enum scan_result {
  SCAN_OK,
  SCAN_BLANK,
  SCAN_MORE,
  SCAN_EOF,
  SCAN_BAD
} scan_result;

/* State of one scan over [p, e) of the buffer. */
typedef struct scan {
  const uint8_t *buf, *p, *e;
  bool eof;
  uint8_t delim;
  finder fd;
  wudf_csv_span *fields;
  uint32_t maxf, nf;
  int64_t nl; /* line ends inside quoted fields so far */
  const uint8_t *fs, *fe, *after;
  uint32_t flags;
} scan;

/* Length of the line end at q (CR, LF or CRLF); 0 when the input ends
 * right after a CR and more may come (CRLF could be cut in two). */
static size_t line_end_len(const scan *sc, const uint8_t *q) {
  if (*q == '\n') return 1;
  if (q + 1 < sc->e) return q[1] == '\n' ? 2 : 1;
  return sc->eof ? 1 : 0;
}

/* A quoted field from sc->p (at the opening quote). */
static scan_result scan_quoted(scan *sc, wudf_csv_record *rec) {
  const uint8_t *q = sc->p + 1;
  int64_t nl_at_quote = sc->nl;
  sc->fs = q;
  sc->flags = WUDF_CSV_QUOTED;
  for (;;) {
    q = find_special(&sc->fd, q, sc->e);
    if (q == sc->e) {
      if (!sc->eof) return SCAN_MORE;
      rec->error = WUDF_CSV_ERR_UNTERMINATED;
      rec->error_line = rec->line + nl_at_quote;
      rec->error_field = sc->nf;
      return SCAN_BAD;
    }
    if (*q == '"') {
      if (q + 1 == sc->e && !sc->eof) return SCAN_MORE;
      if (q + 1 < sc->e && q[1] == '"') {
        sc->flags |= WUDF_CSV_ESCAPED;
        q += 2;
        continue;
      }
      break;
    }
    if (*q == '\r' || *q == '\n') {
      size_t n = line_end_len(sc, q);
      if (n == 0) return SCAN_MORE;
      sc->nl++;
      q += n;
      continue;
    }
    q++; /* the delimiter: data inside quotes */
  }
  sc->fe = q;
  sc->after = q + 1;
  if (sc->after == sc->e) return sc->eof ? SCAN_OK : SCAN_MORE;
  uint8_t c = *sc->after;
  if (c == sc->delim || c == '\n' || c == '\r') return SCAN_OK;
  rec->error = WUDF_CSV_ERR_AFTER_QUOTE;
  rec->error_line = rec->line + sc->nl;
  rec->error_field = sc->nf;
  rec->error_char = c;
  return SCAN_BAD;
}

/* An unquoted field from sc->p. A quote inside it is data. */
static scan_result scan_plain(scan *sc) {
  const uint8_t *q = sc->p;
  sc->fs = q;
  sc->flags = 0;
  for (;;) {
    q = find_special(&sc->fd, q, sc->e);
    if (q == sc->e) {
      if (!sc->eof) return SCAN_MORE;
      break;
    }
    if (*q != '"') break;
    q++;
  }
  sc->fe = sc->after = q;
  return SCAN_OK;
}

static void store_field(scan *sc) {
  if (sc->nf < sc->maxf) {
    sc->fields[sc->nf].off = (uint32_t)(sc->fs - sc->buf);
    sc->fields[sc->nf].len = (uint32_t)(sc->fe - sc->fs) | sc->flags;
  }
  sc->nf++;
}

/* A blank line at sc->p: consumed bytes in *used. */
static scan_result scan_blank(scan *sc, size_t *used) {
  size_t n = line_end_len(sc, sc->p);
  if (n == 0) return SCAN_MORE;
  *used = n;
  return SCAN_BLANK;
}

/* Scans one record at s->pos. On SCAN_OK or SCAN_BLANK *used is the number
 * of bytes it takes, line end included. */
static scan_result scan_record(const wudf_csv_scanner *s, wudf_csv_span *fields,
                               uint32_t maxf, wudf_csv_record *rec,
                               size_t *used, int64_t *newlines) {
  rec->line = s->line;
  scan sc = {.buf = s->buf,
             .p = s->buf + s->pos,
             .e = s->buf + s->end,
             .eof = s->eof,
             .delim = s->delim,
             .fields = fields,
             .maxf = maxf};
  sc.fd = finder_make(s->delim);
  if (sc.p == sc.e) return s->eof ? SCAN_EOF : SCAN_MORE;
  if (*sc.p == '\n' || *sc.p == '\r') return scan_blank(&sc, used);
  for (;;) {
    scan_result r =
        sc.p < sc.e && *sc.p == '"' ? scan_quoted(&sc, rec) : scan_plain(&sc);
    if (r != SCAN_OK) return r;
    store_field(&sc);
    if (sc.after == sc.e) break; /* end of input ends the record */
    if (*sc.after == sc.delim) {
      sc.p = sc.after + 1;
      continue;
    }
    size_t n = line_end_len(&sc, sc.after);
    if (n == 0) return SCAN_MORE;
    sc.after += n;
    break;
  }
  rec->nfields = sc.nf;
  *used = (size_t)(sc.after - (s->buf + s->pos));
  *newlines = sc.nl;
  return SCAN_OK;
}

/* Replaces each doubled quote of an escaped field by one, in place. */
static void unescape(uint8_t *buf, wudf_csv_span *f) {
  uint8_t *p = buf + f->off, *end = p + (f->len & WUDF_CSV_LEN_MASK), *w = p;
  while (p < end) {
    uint8_t *q = memchr(p, '"', (size_t)(end - p));
    if (!q) q = end;
    size_t n = (size_t)(q - p);
    memmove(w, p, n);
    w += n;
    p = q;
    if (p < end) { /* a doubled quote: keep one */
      *w++ = '"';
      p += 2;
    }
  }
  uint32_t len = (uint32_t)(w - (buf + f->off));
  f->len = len | (f->len & WUDF_CSV_QUOTED);
}

/* ---- Records with input management -------------------------------------- */

/* More input for a record cut at the end of the buffer. */
static wudf_status need_more(wudf_csv_scanner *s, const char *name, bool live,
                             bool grow_ok, bool *full, wudf_error *err) {
  *full = false;
  if (s->end < s->cap) return fill(s, name, err);
  if (!live && s->pos > 0) {
    wudf_csv_scanner_compact(s, s->cap);
    return fill(s, name, err);
  }
  if (live && !grow_ok) {
    *full = true;
    return WUDF_OK;
  }
  if (!grow(s)) {
    if (s->cap >= WUDF_CSV_MAX_BUFFER)
      return wudf_fail(
          err, WUDF_ERR_MALFORMED, "%s: line %lld: %s longer than %zu MiB",
          name, (long long)s->line,
          live ? "the header or the sampled rows are" : "a record is",
          WUDF_CSV_MAX_BUFFER >> 20);
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "%s: line %lld: out of memory growing the read buffer",
                     name, (long long)s->line);
  }
  return fill(s, name, err);
}

static void finish_record(wudf_csv_scanner *s, wudf_csv_span *fields,
                          uint32_t maxf, wudf_csv_record *rec, size_t used,
                          int64_t newlines) {
  uint32_t n = rec->nfields < maxf ? rec->nfields : maxf;
  for (uint32_t i = 0; i < n; i++)
    if (fields[i].len & WUDF_CSV_ESCAPED) unescape(s->buf, &fields[i]);
  rec->start = s->pos;
  s->pos += used;
  /* Line ends inside quotes count as lines of the file. */
  s->line += newlines + 1;
}

wudf_status wudf_csv_next_record(wudf_csv_scanner *s, const char *name,
                                 wudf_csv_span *fields, uint32_t maxf,
                                 bool live, bool grow_ok, bool blank_is_record,
                                 wudf_csv_record *rec, wudf_csv_rec *kind,
                                 wudf_error *err) {
  for (;;) {
    memset(rec, 0, sizeof *rec);
    size_t used = 0;
    int64_t newlines = 0;
    scan_result r = scan_record(s, fields, maxf, rec, &used, &newlines);
    if (r == SCAN_BLANK && !blank_is_record) {
      s->pos += used;
      s->line++;
      continue;
    }
    if (r == SCAN_BLANK) { /* one empty field, NULL */
      if (maxf > 0) fields[0] = (wudf_csv_span){(uint32_t)s->pos, 0};
      rec->nfields = 1;
      rec->line = s->line;
      rec->start = s->pos;
      s->pos += used;
      s->line++;
      *kind = WUDF_CSV_REC_OK;
      return WUDF_OK;
    }
    if (r == SCAN_OK) {
      finish_record(s, fields, maxf, rec, used, newlines);
      *kind = WUDF_CSV_REC_OK;
      return WUDF_OK;
    }
    if (r == SCAN_EOF || r == SCAN_BAD) {
      *kind = r == SCAN_EOF ? WUDF_CSV_REC_EOF : WUDF_CSV_REC_ERROR;
      return WUDF_OK;
    }
    bool full;
    wudf_status st = need_more(s, name, live, grow_ok, &full, err);
    if (st != WUDF_OK) return st;
    if (full) {
      *kind = WUDF_CSV_REC_FULL;
      return WUDF_OK;
    }
  }
}
