/* Walking the lines of a wudf.udfs section (udfs_section.h). */
#include "load/udfs_section.h"

#include <string.h>

static bool blank(char c) {
  return c == ' ' || c == '\t';
}

wudf_status wudf_udfs_section_lines(const char *text, size_t len,
                                    wudf_udfs_line_fn fn, void *user) {
  wudf_status st = WUDF_OK;
  size_t start = 0, line = 1;
  while (st == WUDF_OK && text && start < len) {
    const char *nl = memchr(text + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - text) : len, a = start, b = end;
    if (nl && b > a && text[b - 1] == '\r') b--; /* CRLF */
    while (a < b && blank(text[a])) a++;
    while (b > a && blank(text[b - 1])) b--;
    if (a < b && text[a] != '#') st = fn(user, text + a, b - a, line);
    start = end + 1;
    line++;
  }
  return st;
}
