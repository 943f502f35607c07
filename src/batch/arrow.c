/*
 * The Arrow C Data Interface side of batches: type names and formats, the
 * arrays and schemas wudf produces (the builder, fixed-width outputs), and
 * the checks on arrays that callers pass in.
 *
 * Arrays wudf produces keep their buffers in private_data (owned_array), so
 * that release() can free them however the struct was moved.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch/batch_internal.h"
#include "common/alloc.h"
#include "common/budget.h"
#include "common/error.h"

/* ---- Types -------------------------------------------------------------- */

static const struct {
  const char *name, *format;
} type_names[] = {
    [WUDF_TYPE_INT32] = {"int32", "i"},
    [WUDF_TYPE_INT64] = {"int64", "l"},
    [WUDF_TYPE_FLOAT32] = {"float32", "f"},
    [WUDF_TYPE_FLOAT64] = {"float64", "g"},
    [WUDF_TYPE_BOOL] = {"bool", "b"},
    [WUDF_TYPE_UTF8] = {"utf8", "u"},
    [WUDF_TYPE_LARGE_UTF8] = {"large_utf8", "U"},
    [WUDF_TYPE_UTF8_VIEW] = {"utf8_view", "vu"},
};

static bool type_known(wudf_type type) {
  return (unsigned)type <= (unsigned)WUDF_TYPE_UTF8_VIEW;
}

/* The types wudf produces arrays of (the others are read only). */
static bool type_built(wudf_type type) {
  return (unsigned)type <= (unsigned)WUDF_TYPE_UTF8;
}

const char *wudf_type_str(wudf_type type) {
  return type_known(type) ? type_names[type].name : "unknown";
}

const char *wudf_type_arrow_format(wudf_type type) {
  return type_known(type) ? type_names[type].format : "";
}

bool wudf_type_from_arrow_format(const char *format, wudf_type *out) {
  if (!format || !out) return false;
  for (unsigned t = 0; t <= (unsigned)WUDF_TYPE_UTF8_VIEW; t++) {
    if (strcmp(format, type_names[t].format) == 0) {
      *out = (wudf_type)t;
      return true;
    }
  }
  return false;
}

/* Bytes per value of a fixed-width type; 0 for bool (bits) and utf8. */
static size_t type_width(wudf_type type) {
  switch (type) {
    case WUDF_TYPE_INT32:
    case WUDF_TYPE_FLOAT32:
      return 4;
    case WUDF_TYPE_INT64:
    case WUDF_TYPE_FLOAT64:
      return 8;
    default:
      return 0;
  }
}

static size_t bitmap_bytes(int64_t rows) {
  return (size_t)(rows / 8 + (rows % 8 != 0));
}

/* Size of buffers[1] for `rows` rows; false if it does not fit in size_t.
 * utf8: rows + 1 int32 offsets. */
static bool values_bytes(wudf_type type, int64_t rows, size_t *out) {
  if (rows < 0) return false;
  if (type == WUDF_TYPE_BOOL) {
    *out = bitmap_bytes(rows);
    return true;
  }
  size_t width = type == WUDF_TYPE_UTF8 ? 4 : type_width(type);
  uint64_t n = (uint64_t)rows + (type == WUDF_TYPE_UTF8);
  if (width == 0 || n > SIZE_MAX / width) return false;
  *out = (size_t)n * width;
  return true;
}

/* Set bits of a 64-bit word, without the popcnt instruction (not in the
 * x86-64 baseline: __builtin_popcount becomes a call into libgcc). */
static int popcount64(uint64_t x) {
  x -= (x >> 1) & UINT64_C(0x5555555555555555);
  x = (x & UINT64_C(0x3333333333333333)) +
      ((x >> 2) & UINT64_C(0x3333333333333333));
  x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
  return (int)((x * UINT64_C(0x0101010101010101)) >> 56);
}

int64_t wudf_bits_count(const uint8_t *bits, int64_t from, int64_t n) {
  int64_t count = 0, i = from, end = from + n;
  for (; i < end && (i & 7); i++) count += (bits[i >> 3] >> (i & 7)) & 1;
  for (; i + 64 <= end; i += 64) {
    uint64_t w;
    memcpy(&w, bits + (i >> 3), 8);
    count += popcount64(w);
  }
  for (; i + 8 <= end; i += 8) count += popcount64(bits[i >> 3]);
  for (; i < end; i++) count += (bits[i >> 3] >> (i & 7)) & 1;
  return count;
}

/* ---- Arrays and schemas wudf owns --------------------------------------- */

typedef struct owned_array {
  const void *buffers[3]; /* what array->buffers points to */
  void *owned[3];         /* the same pointers, freed on release */
  wudf_budget *budget;    /* charged[i]: bytes of it buffer i holds */
  uint64_t charged[3];
} owned_array;

/* Frees buffer i and credits what it held. */
static void owned_array_drop(owned_array *p, int i) {
  wudf_free(p->owned[i]);
  p->owned[i] = NULL;
  p->buffers[i] = NULL;
  wudf_budget_credit(p->budget, p->charged[i]);
  p->charged[i] = 0;
}

static void owned_array_release(struct ArrowArray *a) {
  if (!a || !a->release) return;
  owned_array *p = a->private_data;
  if (p) {
    for (int i = 0; i < 3; i++) owned_array_drop(p, i);
    wudf_free(p);
  }
  a->buffers = NULL;
  a->private_data = NULL;
  a->release = NULL;
}

static void owned_array_set(owned_array *p, int i, void *buf) {
  p->owned[i] = buf;
  p->buffers[i] = buf;
}

wudf_arrow_owner *wudf_arrow_owner_new(void) {
  return wudf_calloc(1, sizeof(owned_array));
}

void wudf_arrow_owner_free(wudf_arrow_owner *o) {
  wudf_free(o);
}

void wudf_arrow_adopt(wudf_arrow_owner *o, struct ArrowArray *out,
                      int64_t length, int64_t null_count, int64_t n_buffers,
                      void *validity, void *values, void *data) {
  owned_array *p = (owned_array *)o;
  owned_array_set(p, 0, validity);
  owned_array_set(p, 1, values);
  owned_array_set(p, 2, data);
  memset(out, 0, sizeof *out);
  out->length = length;
  out->null_count = null_count;
  out->n_buffers = n_buffers;
  out->buffers = p->buffers;
  out->release = owned_array_release;
  out->private_data = p;
}

/* Fills *out as an array of `length` rows with no buffers yet. */
static owned_array *owned_array_new(int64_t length, int64_t n_buffers,
                                    struct ArrowArray *out) {
  owned_array *p = wudf_calloc(1, sizeof *p);
  if (!p) return NULL;
  memset(out, 0, sizeof *out);
  out->length = length;
  out->n_buffers = n_buffers;
  out->buffers = p->buffers;
  out->release = owned_array_release;
  out->private_data = p;
  return p;
}

wudf_status wudf_arrow_new_values(wudf_type type, int64_t length,
                                  uint8_t *validity, struct ArrowArray *out,
                                  wudf_error *err) {
  size_t bytes;
  if (!out || !type_built(type) || type == WUDF_TYPE_UTF8 || length < 0) {
    wudf_free(validity);
    return wudf_fail(err, WUDF_ERR_ARG,
                     "cannot make a fixed-width array of type %s, %lld rows",
                     wudf_type_str(type), (long long)length);
  }
  if (!values_bytes(type, length, &bytes)) {
    wudf_free(validity);
    return wudf_fail(err, WUDF_ERR_NOMEM, "%lld rows of %s are too many",
                     (long long)length, wudf_type_str(type));
  }
  void *values = wudf_malloc(bytes ? bytes : 1);
  owned_array *p = values ? owned_array_new(length, 2, out) : NULL;
  if (!p) {
    wudf_free(values);
    wudf_free(validity);
    memset(out, 0, sizeof *out);
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "out of memory for an array of %lld rows of %s",
                     (long long)length, wudf_type_str(type));
  }
  owned_array_set(p, 0, validity);
  owned_array_set(p, 1, values);
  out->null_count = validity ? -1 : 0;
  return WUDF_OK;
}

wudf_status wudf_arrow_new_fixed(wudf_type type, int64_t length,
                                 bool with_validity, struct ArrowArray *out,
                                 wudf_error *err) {
  wudf_status st = wudf_arrow_new_values(type, length, NULL, out, err);
  if (st != WUDF_OK) return st;
  size_t bytes = 0, vbytes = bitmap_bytes(length);
  (void)values_bytes(type, length, &bytes); /* succeeded just above */
  memset((void *)out->buffers[1], 0, bytes);
  if (!with_validity) return WUDF_OK;
  uint8_t *validity = wudf_calloc(vbytes ? vbytes : 1, 1);
  if (!validity) {
    out->release(out);
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "out of memory for an array of %lld rows of %s",
                     (long long)length, wudf_type_str(type));
  }
  wudf_arrow_set_validity(out, validity);
  return WUDF_OK;
}

void wudf_arrow_set_validity(struct ArrowArray *a, uint8_t *validity) {
  if (!a || a->release != owned_array_release) return;
  owned_array *p = a->private_data;
  owned_array_drop(p, 0);
  owned_array_set(p, 0, validity);
  a->null_count = validity ? -1 : 0;
}

void wudf_arrow_hold_charge(struct ArrowArray *a, int i, wudf_budget *budget,
                            uint64_t bytes) {
  if (!a || a->release != owned_array_release || i < 0 || i > 2 ||
      (((owned_array *)a->private_data)->budget &&
       ((owned_array *)a->private_data)->budget != budget)) {
    wudf_budget_credit(budget, bytes);
    return;
  }
  owned_array *p = a->private_data;
  p->budget = budget;
  p->charged[i] += bytes;
}

void wudf_arrow_finish_nulls(struct ArrowArray *a) {
  if (!a || !a->buffers || a->length < 0 || a->offset < 0) return;
  const uint8_t *bits = a->buffers[0];
  if (!bits) {
    a->null_count = 0;
    return;
  }
  a->null_count = a->length - wudf_bits_count(bits, a->offset, a->length);
  if (a->null_count == 0) wudf_arrow_set_validity(a, NULL);
}

typedef struct owned_schema {
  char *format, *name;
} owned_schema;

static void owned_schema_release(struct ArrowSchema *s) {
  if (!s || !s->release) return;
  owned_schema *p = s->private_data;
  if (p) {
    wudf_free(p->format);
    wudf_free(p->name);
    wudf_free(p);
  }
  s->format = NULL;
  s->name = NULL;
  s->private_data = NULL;
  s->release = NULL;
}

wudf_status wudf_arrow_schema_new(wudf_type type, const char *name,
                                  bool nullable, struct ArrowSchema *out,
                                  wudf_error *err) {
  if (!out || !type_known(type))
    return wudf_fail(err, WUDF_ERR_ARG, "cannot make a schema of type %s",
                     wudf_type_str(type));
  owned_schema *p = wudf_calloc(1, sizeof *p);
  if (!p) goto fail;
  p->format = wudf_strdup(type_names[type].format);
  p->name = name ? wudf_strdup(name) : NULL;
  if (!p->format || (name && !p->name)) goto fail;
  memset(out, 0, sizeof *out);
  out->format = p->format;
  out->name = p->name;
  out->flags = nullable ? ARROW_FLAG_NULLABLE : 0;
  out->release = owned_schema_release;
  out->private_data = p;
  return WUDF_OK;
fail:
  if (p) {
    wudf_free(p->format);
    wudf_free(p->name);
  }
  wudf_free(p);
  return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a schema");
}

/* ---- Builder ------------------------------------------------------------ */

/* A buffer that grows geometrically; bytes past `len` are always zero. */
typedef struct growbuf {
  uint8_t *p;
  size_t len, cap;
} growbuf;

static bool growbuf_reserve(growbuf *g, size_t need) {
  if (need <= g->cap) return true;
  size_t cap = g->cap < 64 ? 64 : g->cap;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  /* calloc for the first block: large capacities stay untouched pages. */
  uint8_t *p = g->p ? wudf_realloc(g->p, cap) : wudf_calloc(cap, 1);
  if (!p) return false;
  if (g->p) memset(p + g->cap, 0, cap - g->cap);
  g->p = p;
  g->cap = cap;
  return true;
}

static void growbuf_reset(growbuf *g) {
  wudf_free(g->p);
  memset(g, 0, sizeof *g);
}

struct wudf_array_builder {
  wudf_type type;
  int64_t length, null_count;
  int64_t capacity; /* rows to allocate for when (re)starting */
  growbuf values;   /* fixed-width values, bool bits, or utf8 offsets */
  growbuf validity; /* in use once validity_on */
  bool validity_on;
  growbuf data; /* utf8 bytes */
  size_t max_data;
};

/* After new() or finish(): makes sure buffers[1] exists (sized for the
 * capacity) and a utf8 builder has its first offset, 0. */
static bool builder_start(wudf_array_builder *b) {
  if (!b->values.p) {
    size_t bytes = 0; /* values_bytes() succeeded in new() */
    if (!values_bytes(b->type, b->capacity, &bytes) || !bytes) bytes = 1;
    if (!growbuf_reserve(&b->values, bytes)) return false;
  }
  if (b->type == WUDF_TYPE_UTF8 && b->values.len == 0) {
    if (!growbuf_reserve(&b->values, 4)) return false;
    b->values.len = 4; /* offsets[0] = 0: the buffer is zeroed */
  }
  return true;
}

wudf_status wudf_array_builder_new(wudf_type type, int64_t capacity,
                                   wudf_array_builder **out, wudf_error *err) {
  size_t bytes;
  if (!out || !type_built(type) || capacity < 0)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "cannot make a builder of type %s with capacity %lld",
                     wudf_type_str(type), (long long)capacity);
  *out = NULL;
  if (!values_bytes(type, capacity, &bytes))
    return wudf_fail(err, WUDF_ERR_NOMEM, "capacity of %lld rows is too large",
                     (long long)capacity);
  wudf_array_builder *b = wudf_calloc(1, sizeof *b);
  if (!b) return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory for a builder");
  b->type = type;
  b->capacity = capacity;
  b->max_data = INT32_MAX;
  if (!builder_start(b)) {
    wudf_array_builder_free(b);
    return wudf_fail(err, WUDF_ERR_NOMEM,
                     "out of memory for a builder of %lld rows",
                     (long long)capacity);
  }
  *out = b;
  return WUDF_OK;
}

void wudf_array_builder_free(wudf_array_builder *b) {
  if (!b) return;
  growbuf_reset(&b->values);
  growbuf_reset(&b->validity);
  growbuf_reset(&b->data);
  wudf_free(b);
}

void wudf_array_builder_set_max_data(wudf_array_builder *b, size_t max) {
  if (b) b->max_data = max < INT32_MAX ? max : INT32_MAX;
}

/* Reserves room for one more row (and `extra` utf8 bytes) without writing
 * anything, so that a failed append leaves the builder as it was. The
 * validity bitmap comes last: once allocated, the append cannot fail. */
static wudf_status builder_reserve(wudf_array_builder *b, bool is_null,
                                   size_t extra) {
  size_t need;
  if (!builder_start(b)) return WUDF_ERR_NOMEM;
  if (b->length == INT64_MAX) return WUDF_ERR_LIMIT;
  if (!values_bytes(b->type, b->length + 1, &need)) return WUDF_ERR_NOMEM;
  if (!growbuf_reserve(&b->values, need)) return WUDF_ERR_NOMEM;
  if (b->data.len > b->max_data || extra > b->max_data - b->data.len)
    return WUDF_ERR_LIMIT;
  if (extra && !growbuf_reserve(&b->data, b->data.len + extra))
    return WUDF_ERR_NOMEM;
  if ((is_null || b->validity_on) &&
      !growbuf_reserve(&b->validity, bitmap_bytes(b->length + 1)))
    return WUDF_ERR_NOMEM;
  return WUDF_OK;
}

static void set_bit(uint8_t *bits, int64_t i) {
  bits[i >> 3] = (uint8_t)(bits[i >> 3] | (1u << (i & 7)));
}

/* Ends the row being appended (its value written, if any). */
static void builder_end_row(wudf_array_builder *b, bool valid) {
  if (!valid && !b->validity_on) {
    /* First null: every earlier row was valid. */
    size_t full = (size_t)(b->length / 8);
    memset(b->validity.p, 0xff, full);
    if (b->length % 8)
      b->validity.p[full] = (uint8_t)((1u << (b->length % 8)) - 1);
    b->validity_on = true;
  }
  if (valid && b->validity_on) set_bit(b->validity.p, b->length);
  if (!valid) b->null_count++;
  b->length++;
  if (b->type != WUDF_TYPE_UTF8) return;
  int32_t end = (int32_t)b->data.len;
  memcpy(b->values.p + (size_t)b->length * 4, &end, 4);
  b->values.len += 4;
}

static bool kind_is(const wudf_array_builder *b, wudf_type t1, wudf_type t2) {
  return b && (b->type == t1 || b->type == t2);
}

wudf_status wudf_array_builder_append_null(wudf_array_builder *b) {
  if (!b) return WUDF_ERR_ARG;
  wudf_status st = builder_reserve(b, true, 0);
  if (st == WUDF_OK) builder_end_row(b, false);
  return st;
}

wudf_status wudf_array_builder_append_int(wudf_array_builder *b, int64_t v) {
  if (!b) return WUDF_ERR_ARG;
  if (!kind_is(b, WUDF_TYPE_INT32, WUDF_TYPE_INT64)) return WUDF_ERR_TYPE;
  if (b->type == WUDF_TYPE_INT32 && (v < INT32_MIN || v > INT32_MAX))
    return WUDF_ERR_TYPE;
  wudf_status st = builder_reserve(b, false, 0);
  if (st != WUDF_OK) return st;
  uint8_t *at = b->values.p + (size_t)b->length * type_width(b->type);
  if (b->type == WUDF_TYPE_INT32) {
    int32_t v32 = (int32_t)v;
    memcpy(at, &v32, 4);
  } else {
    memcpy(at, &v, 8);
  }
  builder_end_row(b, true);
  return WUDF_OK;
}

wudf_status wudf_array_builder_append_double(wudf_array_builder *b, double v) {
  if (!b) return WUDF_ERR_ARG;
  if (!kind_is(b, WUDF_TYPE_FLOAT32, WUDF_TYPE_FLOAT64)) return WUDF_ERR_TYPE;
  wudf_status st = builder_reserve(b, false, 0);
  if (st != WUDF_OK) return st;
  uint8_t *at = b->values.p + (size_t)b->length * type_width(b->type);
  if (b->type == WUDF_TYPE_FLOAT32) {
    float f = (float)v;
    memcpy(at, &f, 4);
  } else {
    memcpy(at, &v, 8);
  }
  builder_end_row(b, true);
  return WUDF_OK;
}

wudf_status wudf_array_builder_append_bool(wudf_array_builder *b, bool v) {
  if (!b) return WUDF_ERR_ARG;
  if (!kind_is(b, WUDF_TYPE_BOOL, WUDF_TYPE_BOOL)) return WUDF_ERR_TYPE;
  wudf_status st = builder_reserve(b, false, 0);
  if (st != WUDF_OK) return st;
  if (v) set_bit(b->values.p, b->length);
  builder_end_row(b, true);
  return WUDF_OK;
}

wudf_status wudf_array_builder_append_string(wudf_array_builder *b,
                                             const char *s, size_t len) {
  if (!b || (!s && len)) return WUDF_ERR_ARG;
  if (!kind_is(b, WUDF_TYPE_UTF8, WUDF_TYPE_UTF8)) return WUDF_ERR_TYPE;
  if (len && !wudf_utf8_valid((const uint8_t *)s, len)) return WUDF_ERR_TYPE;
  return wudf_array_builder_append_valid_utf8(b, s, len);
}

wudf_status wudf_array_builder_append_valid_utf8(wudf_array_builder *b,
                                                 const char *s, size_t len) {
  wudf_status st = builder_reserve(b, false, len);
  if (st != WUDF_OK) return st;
  if (len) memcpy(b->data.p + b->data.len, s, len);
  b->data.len += len;
  builder_end_row(b, true);
  return WUDF_OK;
}

/* Hands the buffers to *p and leaves the builder empty. */
static void builder_move_buffers(wudf_array_builder *b, owned_array *p) {
  if (!b->validity_on) growbuf_reset(&b->validity);
  owned_array_set(p, 0, b->validity.p);
  owned_array_set(p, 1, b->values.p);
  owned_array_set(p, 2, b->data.p);
  memset(&b->values, 0, sizeof b->values);
  memset(&b->validity, 0, sizeof b->validity);
  memset(&b->data, 0, sizeof b->data);
  b->validity_on = false;
  b->length = 0;
  b->null_count = 0;
}

wudf_status wudf_array_builder_finish(wudf_array_builder *b, const char *name,
                                      struct ArrowArray *array,
                                      struct ArrowSchema *schema,
                                      wudf_error *err) {
  if (!b || !array)
    return wudf_fail(err, WUDF_ERR_ARG, "builder or array is NULL");
  /* Empty buffers are still allocated: some consumers mishandle NULL. */
  if (!builder_start(b) ||
      (b->type == WUDF_TYPE_UTF8 && !growbuf_reserve(&b->data, 1)))
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory finishing an array");
  struct ArrowSchema s = {0};
  if (schema) {
    wudf_status st = wudf_arrow_schema_new(b->type, name, true, &s, err);
    if (st != WUDF_OK) return st;
  }
  struct ArrowArray a;
  int64_t nbuf = b->type == WUDF_TYPE_UTF8 ? 3 : 2;
  owned_array *p = owned_array_new(b->length, nbuf, &a);
  if (!p) {
    if (s.release) s.release(&s);
    return wudf_fail(err, WUDF_ERR_NOMEM, "out of memory finishing an array");
  }
  a.null_count = b->null_count;
  builder_move_buffers(b, p);
  *array = a;
  if (schema) *schema = s;
  return WUDF_OK;
}

/* ---- Reading input columns ---------------------------------------------- */

/* "column 'x'" or "column N", for messages. */
typedef struct column_label {
  char text[96];
} column_label;

static void column_set_name(wudf_column *c, const struct ArrowSchema *s,
                            uint32_t index) {
  if (!s->name || !*s->name) {
    snprintf(c->name, sizeof c->name, "column %u", index + 1);
    return;
  }
  size_t n = strlen(s->name);
  if (n >= sizeof c->name) {
    n = sizeof c->name - 1;
    /* Do not cut a UTF-8 sequence in two. */
    while (n > 0 && ((unsigned char)s->name[n] & 0xc0) == 0x80) n--;
  }
  memcpy(c->name, s->name, n);
  c->name[n] = '\0';
}

/* Built for every column of every batch: no snprintf when it has a name. */
static column_label label_of(const wudf_column *c, const struct ArrowSchema *s,
                             uint32_t index) {
  column_label l;
  if (s && s->release && s->name && *s->name) {
    size_t n = strlen(c->name);
    memcpy(l.text, "column '", 8);
    memcpy(l.text + 8, c->name, n);
    memcpy(l.text + 8 + n, "'", 2);
  } else {
    snprintf(l.text, sizeof l.text, "column %u", index + 1);
  }
  return l;
}

static wudf_status check_schema(const struct ArrowSchema *s, wudf_column *c,
                                const char *label, wudf_error *err) {
  if (!s->format)
    return wudf_fail(err, WUDF_ERR_ARG, "%s has no Arrow format string", label);
  if (!wudf_type_from_arrow_format(s->format, &c->type))
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "%s has Arrow type '%.32s', which wudf does not support "
                     "(supported: i int32, l int64, f float32, g float64, "
                     "b bool, u utf8, U large_utf8, vu utf8_view)",
                     label, s->format);
  if (s->dictionary)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "%s is dictionary-encoded, which wudf does not support",
                     label);
  if (s->n_children != 0)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: schema of type %s has %lld children, expected none",
                     label, wudf_type_str(c->type), (long long)s->n_children);
  return WUDF_OK;
}

static wudf_status check_shape(const struct ArrowArray *a, wudf_column *c,
                               const char *label, wudf_error *err) {
  if (a->dictionary)
    return wudf_fail(err, WUDF_ERR_TYPE,
                     "%s: the array has a dictionary, which wudf does not "
                     "support",
                     label);
  if (a->n_children != 0)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: array of type %s has %lld children, expected none",
                     label, wudf_type_str(c->type), (long long)a->n_children);
  if (a->length < 0 || a->offset < 0 || a->offset > INT64_MAX - a->length)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: invalid length %lld or offset %lld", label,
                     (long long)a->length, (long long)a->offset);
  int64_t want = wudf_type_is_string(c->type) ? 3 : 2;
  if (!a->buffers)
    return wudf_fail(err, WUDF_ERR_ARG, "%s: the buffers array is NULL", label);
  bool views = c->type == WUDF_TYPE_UTF8_VIEW;
  if (views ? a->n_buffers < want : a->n_buffers != want)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: array of type %s has %lld buffers, expected %s%lld",
                     label, wudf_type_str(c->type), (long long)a->n_buffers,
                     views ? "at least " : "", (long long)want);
  c->length = a->length;
  c->offset = a->offset;
  c->values = a->buffers[1];
  if (!c->values && a->length > 0)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: the values buffer (buffers[1]) is NULL", label);
  return WUDF_OK;
}

static wudf_status check_nulls(const struct ArrowArray *a, wudf_column *c,
                               const char *label, wudf_error *err) {
  const uint8_t *bits = a->buffers[0];
  if (a->null_count < -1 || a->null_count > a->length)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: null_count %lld is invalid for %lld rows", label,
                     (long long)a->null_count, (long long)a->length);
  if (a->null_count > 0 && !bits)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: null_count is %lld but there is no validity buffer "
                     "(buffers[0] is NULL)",
                     label, (long long)a->null_count);
  int64_t nulls = a->null_count;
  if (nulls == -1)
    nulls = bits ? a->length - wudf_bits_count(bits, a->offset, a->length) : 0;
  c->validity = nulls > 0 ? bits : NULL;
  return WUDF_OK;
}

/* Offset i of a utf8 (4-byte) or large_utf8 (8-byte) offsets buffer. */
static int64_t load_offset(const void *offsets, int64_t i, size_t width) {
  const uint8_t *p = (const uint8_t *)offsets + (size_t)i * width;
  if (width == 4) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
  }
  int64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* Offsets of a utf8 or large_utf8 column (named `kind` in messages) start
 * at 0 or more and never decrease; the data buffer may be NULL only when
 * every string is empty. */
static wudf_status check_offsets(const struct ArrowArray *a, wudf_column *c,
                                 size_t width, const char *kind,
                                 const char *label, wudf_error *err) {
  static const uint8_t empty[1];
  c->data = a->buffers[2];
  if (a->length == 0) {
    if (!c->data) c->data = empty;
    return WUDF_OK;
  }
  int64_t first = load_offset(c->values, a->offset, width), prev = first;
  if (prev < 0)
    return wudf_fail(err, WUDF_ERR_ARG, "%s: %s offset of row 0 is %lld", label,
                     kind, (long long)prev);
  for (int64_t i = 1; i <= a->length; i++) {
    int64_t o = load_offset(c->values, a->offset + i, width);
    if (o < prev)
      return wudf_fail(err, WUDF_ERR_ARG,
                       "%s: %s offsets decrease at row %lld (%lld after %lld)",
                       label, kind, (long long)(i - 1), (long long)o,
                       (long long)prev);
    prev = o;
  }
  if (!c->data && prev != first)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: the %s data buffer (buffers[2]) is NULL", label,
                     kind);
  if (!c->data) c->data = empty;
  return WUDF_OK;
}

/* Checks one view of a non-NULL row: its bytes must lie inside its data
 * buffer, whose size the last buffer gives. */
static wudf_status check_view(const wudf_column *c, const void *sizes,
                              int64_t row, const char *label, wudf_error *err) {
  const uint8_t *v =
      (const uint8_t *)c->values + (size_t)(c->offset + row) * 16;
  int32_t n, index, at;
  memcpy(&n, v, 4);
  if (n < 0)
    return wudf_fail(err, WUDF_ERR_MALFORMED,
                     "%s: the view of row %lld has length %d", label,
                     (long long)row, n);
  if (n <= 12) return WUDF_OK;
  memcpy(&index, v + 8, 4);
  memcpy(&at, v + 12, 4);
  int64_t size = -1;
  if (index >= 0 && index < c->nvariadic && c->variadic[index] && sizes)
    memcpy(&size, (const uint8_t *)sizes + (size_t)index * 8, 8);
  if (at >= 0 && size >= 0 && (int64_t)at + n <= size) return WUDF_OK;
  return wudf_fail(err, WUDF_ERR_MALFORMED,
                   "%s: the view of row %lld (%d bytes at offset %d of data "
                   "buffer %d) lies outside the data buffers (%lld of them)",
                   label, (long long)row, n, at, index,
                   (long long)c->nvariadic);
}

static wudf_status check_views(const struct ArrowArray *a, wudf_column *c,
                               const char *label, wudf_error *err) {
  c->nvariadic = a->n_buffers - 3;
  c->variadic = a->buffers + 2;
  const void *sizes = a->buffers[a->n_buffers - 1];
  for (int64_t i = 0; i < a->length; i++) {
    if (!wudf_column_valid(c, i)) continue;
    wudf_status st = check_view(c, sizes, i, label, err);
    if (st != WUDF_OK) return st;
  }
  return WUDF_OK;
}

wudf_status wudf_column_from_arrow(const struct ArrowArray *a,
                                   const struct ArrowSchema *s, uint32_t index,
                                   wudf_column *out, wudf_error *err) {
  if (!out) return wudf_fail(err, WUDF_ERR_ARG, "no column to fill");
  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "column %u", index + 1);
  if (!a || !s)
    return wudf_fail(err, WUDF_ERR_ARG, "column %u: the %s is NULL", index + 1,
                     a ? "schema" : "array");
  /* A released schema's name may be gone: check before reading it. */
  if (!s->release)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "column %u: the schema is released (release is NULL)",
                     index + 1);
  column_set_name(out, s, index);
  column_label l = label_of(out, s, index);
  if (!a->release)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "%s: the array is released (release is NULL)", l.text);
  wudf_status st = check_schema(s, out, l.text, err);
  if (st == WUDF_OK) st = check_shape(a, out, l.text, err);
  if (st == WUDF_OK) st = check_nulls(a, out, l.text, err);
  if (st == WUDF_OK && out->type == WUDF_TYPE_UTF8)
    st = check_offsets(a, out, 4, "utf8", l.text, err);
  if (st == WUDF_OK && out->type == WUDF_TYPE_LARGE_UTF8)
    st = check_offsets(a, out, 8, "large_utf8", l.text, err);
  if (st == WUDF_OK && out->type == WUDF_TYPE_UTF8_VIEW)
    st = check_views(a, out, l.text, err);
  return st;
}

/* ---- UTF-8 -------------------------------------------------------------- */

/* Length of the sequence a lead byte starts (0: invalid lead byte), and the
 * smallest code point that length may encode (to refuse overlongs). */
static size_t utf8_lead(uint8_t c, uint32_t *cp, uint32_t *min) {
  if (c >= 0xc2 && c <= 0xdf) {
    *cp = c & 0x1fu;
    *min = 0x80;
    return 2;
  }
  if ((c & 0xf0) == 0xe0) {
    *cp = c & 0x0fu;
    *min = 0x800;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    *cp = c & 0x07u;
    *min = 0x10000;
    return 4;
  }
  return 0;
}

bool wudf_utf8_valid(const uint8_t *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    if (len - i >= 8) { /* eight ASCII bytes at once */
      uint64_t word;
      memcpy(&word, s + i, 8);
      if (!(word & UINT64_C(0x8080808080808080))) {
        i += 8;
        continue;
      }
    }
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    uint32_t cp, min;
    size_t n = utf8_lead(s[i], &cp, &min);
    if (n == 0 || len - i < n) return false;
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}
