/* Filling wudf_error: each layer sets the fields it knows, and one
 * function, wudf_error_format(), writes the message from them. */
#include "common/error.h"

#include <stdio.h>
#include <string.h>

static void clear_location(wudf_error *err) {
  err->exit_code = 0;
  err->row = err->first_row = err->last_row = -1;
  err->module[0] = err->udf[0] = err->wasm_function[0] = '\0';
  err->source_file[0] = '\0';
  err->source_line = 0;
  err->input_row = err->input_row_end = -1;
  err->input_line = err->input_line_end = -1;
  err->input_name[0] = '\0';
  err->column = -1;
  err->column_name[0] = '\0';
}

void wudf_error_init(wudf_error *err) {
  if (!err) return;
  memset(err, 0, sizeof *err);
  clear_location(err);
}

wudf_status wudf_fail(wudf_error *err, wudf_status status, const char *fmt,
                      ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->status = status;
    clear_location(err);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    wudf_error_format(err);
  }
  return status;
}

void wudf_error_prefix(wudf_error *err, const char *fmt, ...) {
  if (!err) return;
  char prefix[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char old[WUDF_ERROR_MESSAGE_SIZE];
  memcpy(old, err->detail, sizeof old);
  old[sizeof old - 1] = '\0';
  size_t n = strlen(prefix), cap = sizeof err->detail;
  if (n > cap - 3) n = cap - 3;
  memcpy(err->detail, prefix, n);
  memcpy(err->detail + n, ": ", 2);
  size_t rest = cap - n - 3, m = strlen(old);
  if (m > rest) m = rest;
  memcpy(err->detail + n + 2, old, m);
  err->detail[n + 2 + m] = '\0';
  wudf_error_format(err);
}

void wudf_error_set_name(char *field, const char *value) {
  snprintf(field, WUDF_ERROR_NAME_SIZE, "%s", value ? value : "");
}

void wudf_error_set_module(wudf_error *err, const char *name) {
  if (!err) return;
  wudf_error_set_name(err->module, name);
  wudf_error_format(err);
}

/* Appends to a fixed buffer, truncating; formatting an error allocates
 * nothing (it also reports running out of memory). */
typedef struct outbuf {
  char *p;
  size_t len, cap;
} outbuf;

static void out(outbuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void out(outbuf *o, const char *fmt, ...) {
  if (o->len + 1 >= o->cap) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  o->len += (size_t)n;
  if (o->len >= o->cap) o->len = o->cap - 1;
}

/* "on line 5 of f.csv (row 3)", "on lines 5 to 9 of f.csv (rows 3 to 7)",
 * "on row 3", "on rows 3 to 7". */
static void format_input(outbuf *sb, const wudf_error *e) {
  bool range = e->input_row_end > e->input_row;
  if (e->input_line >= 0) {
    if (e->input_line_end > e->input_line)
      out(sb, " on lines %lld to %lld", (long long)e->input_line,
          (long long)e->input_line_end);
    else
      out(sb, " on line %lld", (long long)e->input_line);
    if (e->input_name[0]) out(sb, " of %s", e->input_name);
    if (e->input_row < 0) return;
    if (range)
      out(sb, " (rows %lld to %lld)", (long long)e->input_row,
          (long long)e->input_row_end);
    else
      out(sb, " (row %lld)", (long long)e->input_row);
    return;
  }
  if (e->input_row >= 0) {
    if (range)
      out(sb, " on rows %lld to %lld", (long long)e->input_row,
          (long long)e->input_row_end);
    else
      out(sb, " on row %lld", (long long)e->input_row);
    if (e->input_name[0]) out(sb, " of %s", e->input_name);
  } else if (e->first_row >= 0) {
    if (e->last_row > e->first_row)
      out(sb, " on rows %lld to %lld", (long long)e->first_row,
          (long long)e->last_row);
    else
      out(sb, " on row %lld", (long long)e->first_row);
  } else if (e->input_name[0]) {
    out(sb, " in %s", e->input_name);
  }
}

void wudf_error_format(wudf_error *e) {
  if (!e) return;
  char buf[WUDF_ERROR_MESSAGE_SIZE];
  outbuf o = {buf, 0, sizeof buf};
  buf[0] = '\0';
  if (e->module[0]) out(&o, "%s: ", e->module);
  if (e->udf[0]) out(&o, "%s: ", e->udf);
  out(&o, "%s", e->detail);
  if (e->column_name[0]) out(&o, " (column '%s')", e->column_name);
  if (e->wasm_function[0]) {
    out(&o, " in %s", e->wasm_function);
    if (e->source_line)
      out(&o, " (%s:%u)", e->source_file[0] ? e->source_file : "source",
          e->source_line);
  }
  format_input(&o, e);
  memcpy(e->message, buf, sizeof buf);
}
