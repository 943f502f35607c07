/* The executor: running a UDF's generated batch loop over columns on an
 * instance (execute.c), and the string results it builds
 * (string_results.c). Internal to src/api. */
#ifndef WUDF_API_EXECUTE_H
#define WUDF_API_EXECUTE_H

#include <stdint.h>

#include "batch/batch_internal.h"
#include "wudf.h"

/* The utf8 result of a MAP being built: row i's bytes are
 * data[offsets[i] .. offsets[i + 1]). The batch loop writes offsets and data
 * directly (translate/shim_abi.h); these functions allocate, grow, check and
 * hand the buffers over. */
typedef struct wudf_string_results {
  int64_t n;        /* rows */
  int32_t *offsets; /* n + 1, offsets[0] = 0 */
  uint8_t *data;
  uint64_t cap; /* bytes allocated for data, at most max */
  uint64_t max; /* most data bytes: INT32_MAX (int32 offsets) */
} wudf_string_results;

/* Room for n rows and about `expect` bytes (grown on demand). */
wudf_status wudf_string_results_init(wudf_string_results *r, int64_t n,
                                     uint64_t expect, wudf_error *err);
/* Makes data hold at least `need` bytes: WUDF_OK, WUDF_ERR_LIMIT past
 * r->max, or WUDF_ERR_NOMEM. Not async-signal-safe (realloc). */
wudf_status wudf_string_results_reserve(wudf_string_results *r, uint64_t need);
/* The first of rows [from, to) whose bytes are not valid UTF-8, or -1. */
int64_t wudf_string_results_first_invalid(const wudf_string_results *r,
                                          int64_t from, int64_t to);
/* Moves the buffers and `validity` (malloc'd, may be NULL; owned from now
 * on, freed on failure too) into *out, a utf8 array. */
wudf_status wudf_string_results_finish(wudf_string_results *r,
                                       uint8_t *validity,
                                       struct ArrowArray *out, wudf_error *err);
void wudf_string_results_reset(wudf_string_results *r);

#endif
