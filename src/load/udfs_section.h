/*
 * The lines of a `wudf.udfs` custom section (docs/abi.md): one UDF
 * signature per line, blank lines and lines starting with '#' ignored,
 * lines ending in LF or CRLF. The one walker both the loader
 * (wudf_udf_sigs_parse_section) and `wudf compile` (which reports every bad
 * line with its place in the source) read the section with.
 */
#ifndef WUDF_LOAD_UDFS_SECTION_H
#define WUDF_LOAD_UDFS_SECTION_H

#include <stddef.h>

#include "wudf.h"

#define WUDF_UDFS_SECTION "wudf.udfs"

/* Called with a line that holds a signature, without its line end (LF or
 * CRLF) and surrounding spaces and tabs; `line` is 1-based. A status other than
 * WUDF_OK stops the walk. */
typedef wudf_status (*wudf_udfs_line_fn)(void *user, const char *text,
                                         size_t len, size_t line);

/* Calls fn for every signature line of text[0..len); returns the first
 * status other than WUDF_OK fn returned, or WUDF_OK. */
wudf_status wudf_udfs_section_lines(const char *text, size_t len,
                                    wudf_udfs_line_fn fn, void *user);

#endif /* WUDF_LOAD_UDFS_SECTION_H */
