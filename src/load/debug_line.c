/*
 * DWARF line programs (`.debug_line`, versions 2 to 5, 32- and 64-bit
 * DWARF) reduced to one row per function: the first row whose address lies
 * in the function's body. Every read is checked against the end of the
 * unit; a unit that goes wrong is abandoned and the next one is tried (its
 * length is known), so hostile content costs at most one pass over the
 * section.
 */
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "load/debuginfo.h"

enum {
  DW_LNS_copy = 1,
  DW_LNS_advance_pc,
  DW_LNS_advance_line,
  DW_LNS_set_file,
  DW_LNS_set_column,
  DW_LNS_negate_stmt,
  DW_LNS_set_basic_block,
  DW_LNS_const_add_pc,
  DW_LNS_fixed_advance_pc,
  DW_LNE_end_sequence = 1,
  DW_LNE_set_address = 2,
  DW_LNCT_path = 1,
  DW_FORM_block = 0x09,
  DW_FORM_block1 = 0x0a,
  DW_FORM_data1 = 0x0b,
  DW_FORM_data2 = 0x05,
  DW_FORM_data4 = 0x06,
  DW_FORM_data8 = 0x07,
  DW_FORM_data16 = 0x1e,
  DW_FORM_string = 0x08,
  DW_FORM_strp = 0x0e,
  DW_FORM_udata = 0x0f,
  DW_FORM_line_strp = 0x1f,
  DW_FORM_strx = 0x1a,
  DW_FORM_strx1 = 0x25,
  DW_FORM_strx2 = 0x26,
  DW_FORM_strx3 = 0x27,
  DW_FORM_strx4 = 0x28,
};

/* Most file entries read per unit, format entries per table, and distinct
 * files kept for the functions' rows (the others' file is unknown). */
#define MAX_FILES 65536u
#define MAX_KEPT_FILES 1024u
#define MAX_FORMATS 16u

typedef struct cursor {
  const uint8_t *p;
  size_t pos, end;
  bool bad; /* a read went past `end`: every later read fails too */
} cursor;

static const uint8_t *take(cursor *c, size_t n) {
  if (c->bad || c->pos > c->end || n > c->end - c->pos) {
    c->bad = true;
    return NULL;
  }
  const uint8_t *at = c->p + c->pos;
  c->pos += n;
  return at;
}

static uint64_t fixed(cursor *c, unsigned n) {
  const uint8_t *b = take(c, n);
  uint64_t v = 0;
  for (unsigned i = 0; b && i < n; i++) v |= (uint64_t)b[i] << (8 * i);
  return v;
}

/* LEB128s longer than 10 bytes are refused; bits beyond 64 are dropped. */
static uint64_t uleb(cursor *c) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    const uint8_t *b = take(c, 1);
    if (!b) return 0;
    if (shift < 64) v |= (uint64_t)(*b & 0x7f) << shift;
    if (!(*b & 0x80)) return v;
  }
  c->bad = true;
  return 0;
}

static int64_t sleb(cursor *c) {
  uint64_t v = 0;
  unsigned shift = 0;
  for (; shift < 70; shift += 7) {
    const uint8_t *b = take(c, 1);
    if (!b) return 0;
    if (shift < 64) v |= (uint64_t)(*b & 0x7f) << shift;
    if (!(*b & 0x80)) {
      shift += 7;
      if (shift < 64 && (*b & 0x40)) v |= ~(uint64_t)0 << shift;
      return (int64_t)v;
    }
  }
  c->bad = true;
  return 0;
}

/* A NUL-terminated string inside the cursor's range. */
static const char *cstring(cursor *c, size_t *len) {
  if (c->bad || c->pos >= c->end) {
    c->bad = true;
    return NULL;
  }
  const uint8_t *s = c->p + c->pos;
  const uint8_t *nul = memchr(s, 0, c->end - c->pos);
  if (!nul) {
    c->bad = true;
    return NULL;
  }
  *len = (size_t)(nul - s);
  c->pos += *len + 1;
  return (const char *)s;
}

/* A string at `off` in a string section, or NULL. */
static const char *section_string(const uint8_t *sec, size_t sec_len,
                                  uint64_t off, size_t *len) {
  if (!sec || off >= sec_len) return NULL;
  cursor c = {sec, (size_t)off, sec_len, false};
  return cstring(&c, len);
}

typedef struct file_ref {
  const char *name; /* not NUL-terminated in general; NULL: none */
  size_t len;
} file_ref;

/* One unit's header, as far as running its program needs. */
typedef struct unit {
  uint16_t version;
  bool dwarf64;
  uint8_t min_inst_len, line_base_u, line_range, opcode_base;
  const uint8_t *std_lengths; /* opcode_base - 1 entries */
  file_ref *files;
  uint32_t nfiles, files_cap;
} unit;

/* Per function, the best row so far. */
typedef struct best_row {
  uint32_t addr; /* UINT32_MAX: none yet */
  uint32_t line;
  file_ref file;
} best_row;

typedef struct run_state {
  const wudf_dwarf_strings *strings;
  const wudf_wasm_body_range *bodies;
  uint32_t nbodies;
  best_row *best;
} run_state;

/* ---- file tables -------------------------------------------------------- */

static bool push_file(unit *u, const char *name, size_t len) {
  if (u->nfiles >= u->files_cap) return false;
  u->files[u->nfiles++] = (file_ref){name, len};
  return true;
}

/* DWARF 2-4: include_directories, then file_names (name, dir, mtime,
 * length), each list ended by an empty string. */
static void v4_tables(cursor *c, unit *u) {
  size_t len;
  const char *s;
  while ((s = cstring(c, &len)) && len) continue;
  while ((s = cstring(c, &len)) && len) {
    uleb(c);
    uleb(c);
    uleb(c);
    if (!c->bad && !push_file(u, s, len)) return;
  }
}

/* Reads one attribute value of `form`; a path is returned in *name. */
static void read_form(cursor *c, const unit *u, const wudf_dwarf_strings *ss,
                      uint64_t form, file_ref *name) {
  size_t len = 0;
  const char *s = NULL;
  unsigned off_size = u->dwarf64 ? 8 : 4;
  switch (form) {
    case DW_FORM_string:
      s = cstring(c, &len);
      break;
    case DW_FORM_line_strp:
      s = section_string(ss->line_str, ss->line_str_len, fixed(c, off_size),
                         &len);
      break;
    case DW_FORM_strp:
      s = section_string(ss->str, ss->str_len, fixed(c, off_size), &len);
      break;
    case DW_FORM_udata:
    case DW_FORM_strx:
      uleb(c);
      break;
    case DW_FORM_data1:
    case DW_FORM_strx1:
      take(c, 1);
      break;
    case DW_FORM_data2:
    case DW_FORM_strx2:
      take(c, 2);
      break;
    case DW_FORM_strx3:
      take(c, 3);
      break;
    case DW_FORM_data4:
    case DW_FORM_strx4:
      take(c, 4);
      break;
    case DW_FORM_data8:
      take(c, 8);
      break;
    case DW_FORM_data16:
      take(c, 16);
      break;
    case DW_FORM_block:
      take(c, (size_t)uleb(c));
      break;
    case DW_FORM_block1:
      take(c, (size_t)fixed(c, 1));
      break;
    default:
      c->bad = true; /* a form whose size is unknown */
  }
  if (name && s) *name = (file_ref){s, len};
}

/* DWARF 5: an entry format, then the entries. Directories are skipped;
 * files keep their DW_LNCT_path. */
static void v5_table(cursor *c, unit *u, const wudf_dwarf_strings *ss,
                     bool files) {
  uint64_t fmt[MAX_FORMATS][2];
  unsigned nfmt = (unsigned)fixed(c, 1);
  if (nfmt > MAX_FORMATS) {
    c->bad = true;
    return;
  }
  for (unsigned i = 0; i < nfmt; i++) {
    fmt[i][0] = uleb(c);
    fmt[i][1] = uleb(c);
  }
  uint64_t count = uleb(c);
  /* Every form takes a byte at least: more entries than bytes left, or
   * entries of no attribute at all, cannot be real (and would not make the
   * loop below read anything). */
  if (count > c->end - c->pos || (count && nfmt == 0)) {
    c->bad = true;
    return;
  }
  for (uint64_t k = 0; k < count && !c->bad; k++) {
    file_ref path = {NULL, 0};
    for (unsigned i = 0; i < nfmt; i++)
      read_form(c, u, ss, fmt[i][1], fmt[i][0] == DW_LNCT_path ? &path : NULL);
    if (files && !c->bad && !push_file(u, path.name, path.len)) return;
  }
}

/* ---- the header --------------------------------------------------------- */

static bool read_header(cursor *c, unit *u, const wudf_dwarf_strings *ss) {
  u->version = (uint16_t)fixed(c, 2);
  if (c->bad || u->version < 2 || u->version > 5) return false;
  if (u->version >= 5) {
    uint8_t addr_size = (uint8_t)fixed(c, 1);
    fixed(c, 1); /* segment selector size */
    if (addr_size != 4 && addr_size != 8) return false;
  }
  uint64_t header_len = fixed(c, u->dwarf64 ? 8 : 4);
  if (c->bad || header_len > c->end - c->pos) return false;
  size_t program = c->pos + (size_t)header_len;
  u->min_inst_len = (uint8_t)fixed(c, 1);
  if (u->version >= 4) fixed(c, 1); /* maximum operations per instruction */
  fixed(c, 1);                      /* default_is_stmt */
  u->line_base_u = (uint8_t)fixed(c, 1);
  u->line_range = (uint8_t)fixed(c, 1);
  u->opcode_base = (uint8_t)fixed(c, 1);
  if (c->bad || u->line_range == 0 || u->opcode_base == 0) return false;
  u->std_lengths = take(c, u->opcode_base - 1u);
  if (c->bad || c->pos > program) return false; /* header_len too short */
  cursor tables = {c->p, c->pos, program, false};
  if (u->version >= 5) {
    v5_table(&tables, u, ss, false);
    v5_table(&tables, u, ss, true);
  } else {
    v4_tables(&tables, u);
  }
  c->pos = program;
  return !c->bad;
}

/* ---- the program -------------------------------------------------------- */

/* Index of the body holding `addr`, or nbodies. */
static uint32_t body_of(const run_state *rs, uint64_t addr) {
  uint32_t lo = 0, hi = rs->nbodies;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (addr < rs->bodies[mid].start)
      hi = mid;
    else if (addr >= rs->bodies[mid].end)
      lo = mid + 1;
    else
      return mid;
  }
  return rs->nbodies;
}

typedef struct regs {
  uint64_t addr, file;
  int64_t line;
} regs;

static void emit_row(run_state *rs, const unit *u, const regs *r) {
  uint32_t f = body_of(rs, r->addr);
  if (f == rs->nbodies || r->line <= 0 || r->line > UINT32_MAX) return;
  best_row *b = &rs->best[f];
  if (b->addr != UINT32_MAX && r->addr >= b->addr) return;
  /* DWARF 5 numbers files from 0, earlier versions from 1. */
  uint64_t k = u->version >= 5 ? r->file : r->file - 1;
  file_ref file = k < u->nfiles ? u->files[k] : (file_ref){NULL, 0};
  *b = (best_row){(uint32_t)r->addr, (uint32_t)r->line, file};
}

static void reset_regs(regs *r) {
  *r = (regs){0, 1, 1};
}

static void extended_op(cursor *c, regs *r) {
  uint64_t len = uleb(c);
  if (c->bad || len == 0 || len > c->end - c->pos) {
    c->bad = true;
    return;
  }
  size_t next = c->pos + (size_t)len;
  uint8_t op = (uint8_t)fixed(c, 1);
  if (op == DW_LNE_end_sequence) {
    reset_regs(r);
  } else if (op == DW_LNE_set_address && (len == 5 || len == 9)) {
    r->addr = fixed(c, (unsigned)len - 1);
  }
  c->pos = next;
}

static void standard_op(cursor *c, run_state *rs, const unit *u, regs *r,
                        uint8_t op) {
  switch (op) {
    case DW_LNS_copy:
      emit_row(rs, u, r);
      break;
    case DW_LNS_advance_pc:
      r->addr += uleb(c) * u->min_inst_len;
      break;
    case DW_LNS_advance_line:
      r->line += sleb(c);
      break;
    case DW_LNS_set_file:
      r->file = uleb(c);
      break;
    case DW_LNS_const_add_pc:
      r->addr +=
          (uint64_t)((255u - u->opcode_base) / u->line_range) * u->min_inst_len;
      break;
    case DW_LNS_fixed_advance_pc:
      r->addr += fixed(c, 2);
      break;
    default:
      /* Other standard opcodes (set_column, negate_stmt, ...) change
       * nothing kept here; skip their operands as the header says. */
      for (unsigned i = 0; i < u->std_lengths[op - 1] && !c->bad; i++) uleb(c);
  }
}

static void run_program(cursor *c, run_state *rs, const unit *u) {
  regs r;
  reset_regs(&r);
  while (c->pos < c->end && !c->bad) {
    uint8_t op = (uint8_t)fixed(c, 1);
    if (op >= u->opcode_base) {
      unsigned adj = op - u->opcode_base;
      r.addr += (uint64_t)(adj / u->line_range) * u->min_inst_len;
      r.line += (int8_t)u->line_base_u + (int64_t)(adj % u->line_range);
      emit_row(rs, u, &r);
    } else if (op == 0) {
      extended_op(c, &r);
    } else {
      standard_op(c, rs, u, &r, op);
    }
  }
}

/* Runs the unit at c->pos; leaves c->pos after it. False when the section
 * cannot be walked further. */
static bool run_unit(cursor *c, run_state *rs, wudf_error *err,
                     wudf_status *st) {
  uint64_t len = fixed(c, 4);
  bool dwarf64 = len == 0xffffffffu;
  if (dwarf64) len = fixed(c, 8);
  if (c->bad || len > c->end - c->pos) return false;
  cursor uc = {c->p, c->pos, c->pos + (size_t)len, false};
  c->pos += (size_t)len;
  uint32_t cap = (uint32_t)(len / 2 < MAX_FILES ? len / 2 + 1 : MAX_FILES);
  unit u = {.dwarf64 = dwarf64,
            .files = wudf_malloc(cap * sizeof(file_ref)),
            .files_cap = cap};
  if (!u.files) {
    *st = wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for line programs");
    return false;
  }
  if (read_header(&uc, &u, rs->strings)) run_program(&uc, rs, &u);
  wudf_free(u.files);
  return true;
}

/* ---- results ------------------------------------------------------------ */

static int64_t find_file(const wudf_wasm_debuginfo *out, const file_ref *f,
                         size_t len) {
  for (uint32_t i = 0; i < out->nfiles; i++)
    if (strlen(out->files[i]) == len && !memcmp(out->files[i], f->name, len))
      return i;
  return -1;
}

static wudf_status intern_file(wudf_wasm_debuginfo *out, const file_ref *f,
                               uint32_t *index, wudf_error *err) {
  size_t len =
      f->len > WUDF_DEBUGINFO_MAX_NAME ? WUDF_DEBUGINFO_MAX_NAME : f->len;
  int64_t k = find_file(out, f, len);
  if (k >= 0 || out->nfiles >= MAX_KEPT_FILES) {
    *index = k >= 0 ? (uint32_t)k : UINT32_MAX;
    return WUDF_OK;
  }
  char **files = wudf_realloc(out->files, (out->nfiles + 1u) * sizeof *files);
  if (files) out->files = files;
  char *copy = files ? wudf_malloc(len + 1) : NULL;
  if (!copy)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for line programs");
  for (size_t i = 0; i < len; i++)
    copy[i] = (uint8_t)f->name[i] < 0x20 ? '?' : f->name[i];
  copy[len] = '\0';
  *index = out->nfiles;
  out->files[out->nfiles++] = copy;
  return WUDF_OK;
}

/* Files are interned with a linear search over at most MAX_KEPT_FILES. */
static wudf_status keep_best(const best_row *best, uint32_t n,
                             wudf_wasm_debuginfo *out, wudf_error *err) {
  out->lines = wudf_calloc(n ? n : 1, sizeof *out->lines);
  if (!out->lines)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for line programs");
  out->nlines = n;
  for (uint32_t i = 0; i < n; i++) {
    if (best[i].addr == UINT32_MAX) continue;
    uint32_t file = UINT32_MAX;
    if (best[i].file.name) {
      wudf_status st = intern_file(out, &best[i].file, &file, err);
      if (st != WUDF_OK) return st;
    }
    out->lines[i] = (wudf_wasm_func_line){best[i].line, file};
  }
  return WUDF_OK;
}

wudf_status wudf_dwarf_lines_parse(const uint8_t *p, size_t n,
                                   const wudf_dwarf_strings *strings,
                                   const wudf_wasm_body_range *bodies,
                                   uint32_t nbodies, wudf_wasm_debuginfo *out,
                                   wudf_error *err) {
  if (!p || !nbodies || out->lines) return WUDF_OK;
  best_row *best = wudf_malloc(nbodies * sizeof *best);
  if (!best)
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for line programs");
  for (uint32_t i = 0; i < nbodies; i++) best[i].addr = UINT32_MAX;
  wudf_dwarf_strings none = {0};
  run_state rs = {strings ? strings : &none, bodies, nbodies, best};
  cursor c = {p, 0, n, false};
  wudf_status st = WUDF_OK;
  while (c.pos < c.end && run_unit(&c, &rs, err, &st)) continue;
  if (st == WUDF_OK) st = keep_best(best, nbodies, out, err);
  wudf_free(best);
  return st;
}

bool wudf_wasm_debuginfo_line(const wudf_wasm_debuginfo *info,
                              uint32_t nfunc_imports, uint32_t index,
                              const char **file, uint32_t *line) {
  if (!info || index < nfunc_imports || index - nfunc_imports >= info->nlines)
    return false;
  const wudf_wasm_func_line *l = &info->lines[index - nfunc_imports];
  if (l->line == 0) return false;
  *file = l->file < info->nfiles ? info->files[l->file] : "";
  *line = l->line;
  return true;
}
