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
  uint64_t cap;        /* bytes allocated for data, at most max */
  uint64_t max;        /* most data bytes: INT32_MAX (int32 offsets) */
  wudf_budget *budget; /* may be NULL */
  uint64_t charged;    /* bytes of it the buffers hold */
} wudf_string_results;

/* Room for n rows and about `expect` bytes (grown on demand), charged to
 * `budget` (may be NULL): WUDF_ERR_HOST_MEMORY when it would pass it. */
wudf_status wudf_string_results_init(wudf_string_results *r, int64_t n,
                                     uint64_t expect, wudf_budget *budget,
                                     wudf_error *err);
/* Makes data hold at least `need` bytes: WUDF_OK, WUDF_ERR_LIMIT past
 * r->max, WUDF_ERR_HOST_MEMORY past the budget, or WUDF_ERR_NOMEM. Not
 * async-signal-safe (realloc). */
wudf_status wudf_string_results_reserve(wudf_string_results *r, uint64_t need);
/* The first of rows [from, to) whose bytes are not valid UTF-8, or -1. */
int64_t wudf_string_results_first_invalid(const wudf_string_results *r,
                                          int64_t from, int64_t to);
/* Moves the buffers and `validity` (malloc'd, may be NULL; owned from now
 * on, freed on failure too; `validity_charge` bytes of the budget are its)
 * into *out, a utf8 array whose release credits the budget. */
wudf_status wudf_string_results_finish(wudf_string_results *r,
                                       uint8_t *validity,
                                       uint64_t validity_charge,
                                       struct ArrowArray *out, wudf_error *err);
/* Frees the buffers and credits what they held. */
void wudf_string_results_reset(wudf_string_results *r);

/* ---- String arguments (string_args.c) ----------------------------------- */

/* A string argument of one chunk in the layout the batch loop reads: row i
 * is data[offsets[i] .. offsets[i + 1]). A utf8 column's own buffers; for
 * large_utf8 rebased offsets over the caller's bytes; for utf8_view offsets
 * and the bytes gathered. The own_* buffers are reused from chunk to chunk
 * and charged to `budget` (set it before the first select). */
typedef struct wudf_string_arg {
  const int32_t *offsets; /* rows + 1 */
  const uint8_t *data;
  int32_t *own_offsets;
  uint8_t *own_data;
  uint64_t offsets_cap, data_cap; /* bytes */
  wudf_budget *budget;
} wudf_string_arg;

/* Bytes rows [from, to) of string column `c` hold. */
uint64_t wudf_string_arg_bytes(const wudf_column *c, int64_t from, int64_t to);
/* Points *a at rows [from, from + rows) of `c`, converting them if `c` is
 * not utf8. Errors: WUDF_ERR_HOST_MEMORY, WUDF_ERR_NOMEM, WUDF_ERR_LIMIT
 * (more than 2 GiB in the chunk). */
wudf_status wudf_string_arg_select(wudf_string_arg *a, const wudf_column *c,
                                   int64_t from, int64_t rows, wudf_error *err);
/* Frees the conversion buffers and credits them; keeps the budget. */
void wudf_string_arg_reset(wudf_string_arg *a);

#endif
