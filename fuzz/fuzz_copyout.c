/* libFuzzer target for the copy-out of string results: a fixed module's UDF
 * returns a (length, address) pair chosen by the input, absolute or
 * relative to the row's input string (whose bytes the input chooses too),
 * and wudf_instance_map() must give exactly the bytes of the module's
 * memory there, or a clean error for the first row whose result lies
 * outside memory (WUDF_TRAP_OOB) or is not UTF-8 (WUDF_ERR_TYPE) — never
 * read outside the memory. The expected outcome is computed here from a
 * model of the module's memory and an RFC 3629 check of its own.
 *
 * Input: byte 0 & 7: pages to grow the one-page memory by; (byte 0 >> 3)
 * % 3: the string column's layout (u, U or vu, whose UDF sees the same
 * bytes); byte 1: L; then
 * L bytes, every row's input string; then rows of 9 bytes: a mode byte
 * (bit 0: address relative to the row's string, bit 1: the row is NULL)
 * and the UDF's int64 argument, little-endian (length << 32 | address).
 *
 * The module is compiled once per process, cached under /tmp. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wudf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* (module
 *   (memory (export "memory") 1 8)
 *   ;; the batch's strings always go to address 1024
 *   (func (export "wudf_alloc") (param i32) (result i32) (i32.const 1024))
 *   (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
 *   (func (export "pick") (param $p i32) (param $n i32) (param $x i64)
 *                         (param $m i32) (result i64)
 *     (if (result i64) (i32.and (local.get $m) (i32.const 1))
 *       (then
 *         (i64.or (i64.and (local.get $x) (i64.const 0xffffffff00000000))
 *                 (i64.extend_i32_u
 *                   (i32.add (local.get $p) (i32.wrap_i64 (local.get $x))))))
 *       (else (local.get $x)))))
 * assembled by wat2wasm 1.0.32. */
static const uint8_t k_module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0e, 0x02, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x04, 0x7f, 0x7f, 0x7e, 0x7f, 0x01, 0x7e,
    0x03, 0x04, 0x03, 0x00, 0x00, 0x01, 0x05, 0x04, 0x01, 0x01, 0x01, 0x08,
    0x07, 0x25, 0x04, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,
    0x0a, 0x77, 0x75, 0x64, 0x66, 0x5f, 0x61, 0x6c, 0x6c, 0x6f, 0x63, 0x00,
    0x00, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x01, 0x04, 0x70, 0x69, 0x63,
    0x6b, 0x00, 0x02, 0x0a, 0x2d, 0x03, 0x05, 0x00, 0x41, 0x80, 0x08, 0x0b,
    0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b, 0x1e, 0x00, 0x20, 0x03, 0x41,
    0x01, 0x71, 0x04, 0x7e, 0x20, 0x02, 0x42, 0x80, 0x80, 0x80, 0x80, 0x70,
    0x83, 0x20, 0x00, 0x20, 0x02, 0xa7, 0x6a, 0xad, 0x84, 0x05, 0x20, 0x02,
    0x0b, 0x0b};

#define PAGE 65536u
#define BLOCK 1024u /* where wudf_alloc puts the strings */
#define MAX_ROWS 64

static wudf_engine *g_engine;
static wudf_module *g_module;

static void die(const char *what, const wudf_error *err) {
  fprintf(stderr, "fuzz_copyout: %s: %s\n", what, err->message);
  abort();
}

static void setup(void) {
  char dir[256];
  snprintf(dir, sizeof dir, "/tmp/wudf-fuzz-copyout-%d", (int)getuid());
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  cfg.cache_dir = dir;
  wudf_error err = {0};
  if (wudf_engine_new(&cfg, &g_engine, &err) != WUDF_OK) die("engine", &err);
  static const char sig_text[] = "pick(utf8, int64, int32) -> utf8";
  wudf_udf_sig sig;
  if (wudf_udf_sig_parse(sig_text, sizeof sig_text - 1, &sig, &err))
    die("signature", &err);
  wudf_load_options o = {.name = "copyout.wasm", .udfs = &sig, .nudfs = 1};
  if (wudf_module_load_ex(g_engine, k_module, sizeof k_module, &o, &g_module,
                          &err) != WUDF_OK)
    die("load", &err);
}

/* RFC 3629 UTF-8, written independently of wudf's validator. */
static bool utf8_ok(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    uint8_t c = s[i];
    size_t k;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      k = 1;
      cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
      k = 2;
      cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
      k = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (n - i - 1 < k) return false;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + j] & 0x3fu);
    }
    if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += k + 1;
  }
  return true;
}

static void no_release_array(struct ArrowArray *a) {
  a->release = NULL;
}
static void no_release_schema(struct ArrowSchema *s) {
  s->release = NULL;
}

typedef struct input {
  uint32_t pages; /* memory size after growing */
  int layout;     /* 0 u, 1 U (int64 offsets), 2 vu (views) */
  const uint8_t *blob;
  uint32_t blob_len;
  int nrows;
  uint8_t mode[MAX_ROWS];
  uint64_t x[MAX_ROWS];
} input;

static void parse(const uint8_t *data, size_t size, input *in) {
  memset(in, 0, sizeof *in);
  in->pages = 1 + (data[0] & 7u);
  in->layout = (data[0] >> 3) % 3;
  size_t l = data[1];
  if (l > size - 2) l = size - 2;
  in->blob = data + 2;
  in->blob_len = (uint32_t)l;
  const uint8_t *p = data + 2 + l;
  size_t left = size - 2 - l;
  for (; left >= 9 && in->nrows < MAX_ROWS; left -= 9, p += 9) {
    uint64_t x = 0;
    for (int b = 7; b >= 0; b--) x = (x << 8) | p[1 + b];
    in->mode[in->nrows] = p[0];
    in->x[in->nrows++] = x;
  }
}

/* The model of memory after the host copied the rows' strings in. */
static uint8_t *model_memory(const input *in) {
  uint8_t *mem = calloc(in->pages, PAGE);
  if (!mem) abort();
  for (int i = 0; i < in->nrows; i++)
    memcpy(mem + BLOCK + (size_t)i * in->blob_len, in->blob, in->blob_len);
  return mem;
}

/* Where row i's result points, as the module computes it. */
static void target(const input *in, int i, uint32_t *addr, uint32_t *len) {
  uint32_t lo = (uint32_t)in->x[i];
  *len = (uint32_t)(in->x[i] >> 32);
  *addr = in->mode[i] & 1 ? BLOCK + (uint32_t)i * in->blob_len + lo : lo;
}

/* The expected outcome: WUDF_OK, or the status and row of the first bad
 * row. */
static wudf_status expect(const input *in, const uint8_t *mem, int *bad_row) {
  uint64_t size = (uint64_t)in->pages * PAGE;
  for (int i = 0; i < in->nrows; i++) {
    if (in->mode[i] & 2) continue;
    uint32_t addr, len;
    target(in, i, &addr, &len);
    *bad_row = i;
    if ((uint64_t)addr + len > size) return WUDF_TRAP_OOB;
    if (!utf8_ok(mem + addr, len)) return WUDF_ERR_TYPE;
  }
  return WUDF_OK;
}

static void check_result(const input *in, const uint8_t *mem,
                         const struct ArrowArray *out) {
  if (out->length != in->nrows || out->n_buffers != 3) __builtin_trap();
  const uint8_t *valid = out->buffers[0];
  const int32_t *off = out->buffers[1];
  const uint8_t *chars = out->buffers[2];
  for (int i = 0; i < in->nrows; i++) {
    int64_t k = out->offset + i;
    bool is_valid = !valid || ((valid[k >> 3] >> (k & 7)) & 1);
    if (is_valid != !(in->mode[i] & 2)) __builtin_trap();
    if (!is_valid) continue;
    uint32_t addr, len;
    target(in, i, &addr, &len);
    if ((uint32_t)(off[k + 1] - off[k]) != len) __builtin_trap();
    if (len && memcmp(chars + off[k], mem + addr, len)) __builtin_trap();
  }
}

/* The three input columns, over buffers owned by the caller. */
typedef struct columns {
  int32_t offsets[MAX_ROWS + 1];
  int64_t offsets64[MAX_ROWS + 1];
  uint8_t views[MAX_ROWS][16];
  int64_t sizes[1];
  const void *buf_v[4]; /* views, the data buffer, its size */
  uint8_t *chars;
  int32_t modes[MAX_ROWS];
  uint8_t valid[MAX_ROWS / 8];
  const void *buf_s[3], *buf_x[2], *buf_m[2];
  struct ArrowArray a[3];
  struct ArrowSchema s[3];
} columns;

static void make_columns(const input *in, columns *c) {
  memset(c, 0, sizeof *c);
  c->chars = malloc((size_t)in->nrows * in->blob_len + 1);
  if (!c->chars) abort();
  for (int i = 0; i < in->nrows; i++) {
    memcpy(c->chars + (size_t)i * in->blob_len, in->blob, in->blob_len);
    c->offsets[i + 1] = (int32_t)((uint32_t)(i + 1) * in->blob_len);
    c->modes[i] = in->mode[i];
    if (!(in->mode[i] & 2)) c->valid[i >> 3] |= (uint8_t)(1u << (i & 7));
  }
  c->buf_s[1] = c->offsets;
  c->buf_s[2] = c->chars;
  for (int i = 0; i <= in->nrows; i++) c->offsets64[i] = c->offsets[i];
  for (int i = 0; i < in->nrows; i++) { /* inline up to 12 bytes */
    int32_t len = (int32_t)in->blob_len, zero = 0, at = c->offsets[i];
    memcpy(c->views[i], &len, 4);
    memcpy(c->views[i] + 4, in->blob, len <= 12 ? in->blob_len : 4);
    if (len <= 12) continue;
    memcpy(c->views[i] + 8, &zero, 4);
    memcpy(c->views[i] + 12, &at, 4);
  }
  c->sizes[0] = c->offsets[in->nrows];
  c->buf_v[1] = c->views;
  c->buf_v[2] = c->chars;
  c->buf_v[3] = c->sizes;
  if (in->layout == 1) c->buf_s[1] = c->offsets64;
  c->buf_x[1] = in->x;
  c->buf_m[0] = c->valid;
  c->buf_m[1] = c->modes;
  const void **bufs[3] = {in->layout == 2 ? c->buf_v : c->buf_s, c->buf_x,
                          c->buf_m};
  static const char *const layouts[3] = {"u", "U", "vu"};
  const char *const formats[3] = {layouts[in->layout], "l", "i"};
  static const char *const names[3] = {"s", "x", "mode"};
  for (int k = 0; k < 3; k++) {
    c->a[k] = (struct ArrowArray){.length = in->nrows,
                                  .null_count = -1,
                                  .n_buffers = k > 0             ? 2
                                               : in->layout == 2 ? 4
                                                                 : 3,
                                  .buffers = bufs[k],
                                  .release = no_release_array};
    c->s[k] = (struct ArrowSchema){.format = formats[k],
                                   .name = names[k],
                                   .flags = ARROW_FLAG_NULLABLE,
                                   .release = no_release_schema};
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  if (!g_module) setup();
  input in;
  parse(data, size, &in);
  wudf_instance *inst = NULL;
  wudf_error err = {0};
  if (wudf_instance_new(g_module, NULL, &inst, &err) != WUDF_OK)
    die("instance", &err);
  wudf_val g = {WUDF_I32, {.i32 = (int32_t)in.pages - 1}}, r;
  if (wudf_instance_call(inst, "grow", &g, 1, &r, 1, &err) != WUDF_OK ||
      r.of.i32 != 1 || wudf_instance_memory_size(inst) != in.pages * PAGE)
    __builtin_trap();
  columns c;
  make_columns(&in, &c);
  const struct ArrowArray *cols[3] = {&c.a[0], &c.a[1], &c.a[2]};
  const struct ArrowSchema *schemas[3] = {&c.s[0], &c.s[1], &c.s[2]};
  struct ArrowArray out = {0};
  wudf_status st =
      wudf_instance_map(inst, "pick", cols, schemas, 3, &out, NULL, &err);
  uint8_t *mem = model_memory(&in);
  int bad_row = -1;
  wudf_status want = expect(&in, mem, &bad_row);
  if (st != want) __builtin_trap();
  if (st == WUDF_OK) {
    check_result(&in, mem, &out);
    out.release(&out);
  } else {
    uint32_t addr, len;
    target(&in, bad_row, &addr, &len);
    char text[96];
    /* UTF-8 is checked after the copy: that message has no address. */
    if (want == WUDF_TRAP_OOB)
      snprintf(text, sizeof text, "(%u bytes at address %u)", len, addr);
    else
      snprintf(text, sizeof text, "(%u bytes) is not valid UTF-8", len);
    if (err.row != bad_row || !strstr(err.message, text) || out.release)
      __builtin_trap();
  }
  free(mem);
  free(c.chars);
  wudf_instance_free(inst);
  return 0;
}
