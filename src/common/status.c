/* Names and descriptions of status codes. */
#include "wudf.h"

typedef struct status_desc {
  wudf_status status;
  const char *name;
  const char *text;
} status_desc;

static const status_desc k_status[] = {
    {WUDF_OK, "WUDF_OK", "success"},
    {WUDF_ERR_ARG, "WUDF_ERR_ARG", "invalid argument"},
    {WUDF_ERR_NOMEM, "WUDF_ERR_NOMEM", "out of memory"},
    {WUDF_ERR_IO, "WUDF_ERR_IO", "input/output error"},
    {WUDF_ERR_MALFORMED, "WUDF_ERR_MALFORMED", "malformed input"},
    {WUDF_ERR_INVALID, "WUDF_ERR_INVALID", "invalid module"},
    {WUDF_ERR_UNSUPPORTED, "WUDF_ERR_UNSUPPORTED", "unsupported feature"},
    {WUDF_ERR_IMPORT, "WUDF_ERR_IMPORT", "import refused"},
    {WUDF_ERR_LIMIT, "WUDF_ERR_LIMIT", "beyond configured limits"},
    {WUDF_ERR_COMPILE, "WUDF_ERR_COMPILE", "compilation failed"},
    {WUDF_ERR_CACHE, "WUDF_ERR_CACHE", "cache directory unusable"},
    {WUDF_ERR_NOT_FOUND, "WUDF_ERR_NOT_FOUND", "no such export"},
    {WUDF_ERR_TYPE, "WUDF_ERR_TYPE", "type mismatch"},
    {WUDF_ERR_SYSTEM, "WUDF_ERR_SYSTEM", "operating-system facility failed"},
    {WUDF_ERR_HOST_MEMORY, "WUDF_ERR_HOST_MEMORY",
     "host-memory budget exceeded"},
    {WUDF_ERR_CANCELLED, "WUDF_ERR_CANCELLED", "cancelled"},
    {WUDF_TRAP_OOB, "WUDF_TRAP_OOB", "out-of-bounds memory access"},
    {WUDF_TRAP_DIV_BY_ZERO, "WUDF_TRAP_DIV_BY_ZERO", "integer divide by zero"},
    {WUDF_TRAP_INT_OVERFLOW, "WUDF_TRAP_INT_OVERFLOW", "integer overflow"},
    {WUDF_TRAP_INVALID_CONVERSION, "WUDF_TRAP_INVALID_CONVERSION",
     "invalid conversion to integer"},
    {WUDF_TRAP_UNREACHABLE, "WUDF_TRAP_UNREACHABLE", "unreachable executed"},
    {WUDF_TRAP_INDIRECT_TYPE, "WUDF_TRAP_INDIRECT_TYPE",
     "indirect call type mismatch"},
    {WUDF_TRAP_UNDEFINED_ELEMENT, "WUDF_TRAP_UNDEFINED_ELEMENT",
     "undefined table element"},
    {WUDF_TRAP_STACK_EXHAUSTED, "WUDF_TRAP_STACK_EXHAUSTED",
     "call stack exhausted"},
    {WUDF_TRAP_TIMEOUT, "WUDF_TRAP_TIMEOUT", "time limit exceeded"},
    {WUDF_TRAP_INTERRUPTED, "WUDF_TRAP_INTERRUPTED", "interrupted"},
    {WUDF_TRAP_MEMORY_LIMIT, "WUDF_TRAP_MEMORY_LIMIT", "memory limit exceeded"},
    {WUDF_TRAP_EXIT, "WUDF_TRAP_EXIT", "exited"},
};

static const status_desc *find(wudf_status status) {
  for (size_t i = 0; i < sizeof k_status / sizeof k_status[0]; i++)
    if (k_status[i].status == status) return &k_status[i];
  return NULL;
}

const char *wudf_status_str(wudf_status status) {
  const status_desc *d = find(status);
  return d ? d->text : "unknown status";
}

const char *wudf_status_name(wudf_status status) {
  const status_desc *d = find(status);
  return d ? d->name : "WUDF_UNKNOWN";
}

bool wudf_status_is_trap(wudf_status status) {
  return status >= WUDF_TRAP_OOB && status <= WUDF_TRAP_EXIT;
}

const char *wudf_valtype_str(wudf_valtype type) {
  switch (type) {
    case WUDF_I32:
      return "i32";
    case WUDF_I64:
      return "i64";
    case WUDF_F32:
      return "f32";
    case WUDF_F64:
      return "f64";
    case WUDF_FUNCREF:
      return "funcref";
    case WUDF_EXTERNREF:
      return "externref";
  }
  return "?";
}

const char *wudf_phase_str(wudf_phase phase) {
  switch (phase) {
    case WUDF_PHASE_PARSE:
      return "parse";
    case WUDF_PHASE_CACHE:
      return "cache";
    case WUDF_PHASE_TRANSLATE:
      return "translate";
    case WUDF_PHASE_CC:
      return "cc";
    case WUDF_PHASE_LINK:
      return "link";
    case WUDF_PHASE_COMPILE:
      return "compile";
    case WUDF_PHASE_DONE:
      return "done";
  }
  return "unknown";
}
