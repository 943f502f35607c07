/* Small pieces of the run API: option defaults, type names. */
#include <string.h>
#include <strings.h>

#include "run/run_internal.h"

void wudf_run_options_init(wudf_run_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->op = WUDF_RUN_MAP;
  o->format = WUDF_RUN_FORMAT_CSV;
  o->limit = -1;
}

static const struct {
  const char *name;
  wudf_type type;
} type_names[] = {
    {"int32", WUDF_TYPE_INT32},     {"int", WUDF_TYPE_INT32},
    {"integer", WUDF_TYPE_INT32},   {"int64", WUDF_TYPE_INT64},
    {"bigint", WUDF_TYPE_INT64},    {"long", WUDF_TYPE_INT64},
    {"float32", WUDF_TYPE_FLOAT32}, {"float", WUDF_TYPE_FLOAT32},
    {"float64", WUDF_TYPE_FLOAT64}, {"double", WUDF_TYPE_FLOAT64},
    {"bool", WUDF_TYPE_BOOL},       {"boolean", WUDF_TYPE_BOOL},
    {"utf8", WUDF_TYPE_UTF8},       {"string", WUDF_TYPE_UTF8},
    {"text", WUDF_TYPE_UTF8},
};

bool wudf_run_type_parse(const char *name, wudf_type *out) {
  if (!name || !out) return false;
  for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
    if (!strcasecmp(name, type_names[i].name)) {
      *out = type_names[i].type;
      return true;
    }
  return false;
}
