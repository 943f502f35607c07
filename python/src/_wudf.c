/*
 * wudf._wudf — the CPython extension over libwudf.
 *
 * Low-level objects; the Python package (wudf/__init__.py, wudf/_core.py)
 * builds the public API on them:
 *
 *   Engine(cache_dir=None, cc=None, wasm2c=None)
 *       .load(data, name=None, signatures=None) -> Module
 *       .cache_dir
 *   Module   a loaded module: .udfs(), .wasm, .was_cached
 *   Function(module, udf, memory_bytes=0, timeout_ms=-1)
 *       .check(schema_capsules)          types, before any row runs
 *       .map(schema_capsules, array_capsules) -> (schema, array) capsules
 *       .filter(schema_capsules, array_capsules) -> (schema, array, selected)
 *   compile(source, ...) -> (wasm, signatures, diagnostics, was_cached)
 *
 * Columns cross as Arrow PyCapsules ("arrow_schema", "arrow_array"):
 * borrowed for the call, read in place. Results are new capsules that own
 * their structs until pyarrow moves them out.
 *
 * The GIL is released while a module loads or compiles, while an instance
 * is created and while a batch runs. A Function keeps a pool of instances:
 * each running call takes one of its own (created on demand), so threads
 * run batches in parallel and an instance is never used by two threads at
 * once. The pool is only touched with the GIL held.
 *
 * Exception classes and types live in the module state (PEP 489, PEP 573).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "wudf.h"
#include "wudf_compile.h"

/* ------------------------------------------------------------------------ */
/* Module state                                                             */
/* ------------------------------------------------------------------------ */

typedef struct {
  PyObject *Error, *TrapError, *LimitError, *TypeError, *CompileError;
  PyTypeObject *EngineType, *ModuleType, *FunctionType;
} wudf_state;

static wudf_state *state_of_module(PyObject *m) {
  return (wudf_state *)PyModule_GetState(m);
}

static wudf_state *state_of_type(PyTypeObject *t) {
  return (wudf_state *)PyType_GetModuleState(t);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* The exception class for a status: limits (time, memory) first, then
 * traps, type refusals, the rest. */
static PyObject *error_class(wudf_state *st, wudf_status s) {
  switch (s) {
    case WUDF_TRAP_TIMEOUT:
    case WUDF_TRAP_MEMORY_LIMIT:
    case WUDF_ERR_LIMIT:
    case WUDF_ERR_HOST_MEMORY:
      return st->LimitError;
    case WUDF_ERR_TYPE:
      return st->TypeError;
    default:
      return wudf_status_is_trap(s) ? st->TrapError : st->Error;
  }
}

static int set_attr_str(PyObject *o, const char *name, const char *v) {
  PyObject *s = v && *v
                    ? PyUnicode_DecodeUTF8(v, (Py_ssize_t)strlen(v), "replace")
                    : Py_NewRef(Py_None);
  if (!s) return -1;
  int rc = PyObject_SetAttrString(o, name, s);
  Py_DECREF(s);
  return rc;
}

static int set_attr_i64(PyObject *o, const char *name, int64_t v) {
  PyObject *n = v >= 0 ? PyLong_FromLongLong(v) : Py_NewRef(Py_None);
  if (!n) return -1;
  int rc = PyObject_SetAttrString(o, name, n);
  Py_DECREF(n);
  return rc;
}

/* Raises the exception for `err`, with its fields as attributes: kind
 * (the status name), status, row, first_row, last_row, function (the UDF,
 * `udf` when the error does not name one), wasm_function, column,
 * column_name, detail, message. Returns NULL. */
static PyObject *raise_error_as(PyObject *cls, const wudf_error *err,
                                const char *udf) {
  const char *msg =
      err->message[0] ? err->message : wudf_status_str(err->status);
  /* Messages quote names from modules: bytes that may not be UTF-8. */
  PyObject *text =
      PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
  if (!text) return NULL;
  PyObject *exc = PyObject_CallOneArg(cls, text);
  Py_DECREF(text);
  if (!exc) return NULL;
  PyObject *status = PyLong_FromLong((long)err->status);
  int bad = !status || PyObject_SetAttrString(exc, "status", status) < 0;
  Py_XDECREF(status);
  bad = bad || set_attr_str(exc, "kind", wudf_status_name(err->status)) < 0;
  bad = bad || set_attr_str(exc, "message", msg) < 0;
  bad = bad || set_attr_str(exc, "detail", err->detail) < 0;
  bad = bad || set_attr_str(exc, "function", err->udf[0] ? err->udf : udf) < 0;
  bad = bad || set_attr_str(exc, "wasm_function", err->wasm_function) < 0;
  bad = bad || set_attr_i64(exc, "row", err->row) < 0;
  bad = bad || set_attr_i64(exc, "first_row", err->first_row) < 0;
  bad = bad || set_attr_i64(exc, "last_row", err->last_row) < 0;
  bad = bad || set_attr_i64(exc, "column", err->column) < 0;
  bad = bad || set_attr_str(exc, "column_name", err->column_name) < 0;
  if (!bad) PyErr_SetObject(cls, exc);
  Py_DECREF(exc);
  return NULL;
}

static PyObject *raise_error(wudf_state *st, const wudf_error *err,
                             const char *udf) {
  return raise_error_as(error_class(st, err->status), err, udf);
}

/* A status and message from the Python side (no wudf_error yet). */
static PyObject *raise_status(wudf_state *st, wudf_status s, const char *udf,
                              const char *msg) {
  wudf_error err;
  wudf_error_init(&err);
  err.status = s;
  snprintf(err.message, sizeof err.message, "%s", msg);
  snprintf(err.detail, sizeof err.detail, "%s", msg);
  return raise_error(st, &err, udf);
}

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* A str or None argument as a borrowed UTF-8 pointer (NULL for None). */
static int opt_str(PyObject *o, const char **out) {
  if (o == Py_None) {
    *out = NULL;
    return 0;
  }
  if (!PyUnicode_Check(o)) {
    PyErr_Format(PyExc_TypeError, "expected str or None, not %.100s",
                 Py_TYPE(o)->tp_name);
    return -1;
  }
  *out = PyUnicode_AsUTF8(o);
  return *out ? 0 : -1;
}

/* Paths may be str or os.PathLike: fsencoded into *keep. */
static int opt_path(PyObject *o, PyObject **keep, const char **out) {
  *keep = NULL;
  *out = NULL;
  if (o == Py_None) return 0;
  if (!PyUnicode_FSConverter(o, keep)) return -1;
  *out = PyBytes_AS_STRING(*keep);
  return 0;
}

static void free_schema_struct(struct ArrowSchema *s) {
  if (s->release) s->release(s);
  free(s);
}

static void free_array_struct(struct ArrowArray *a) {
  if (a->release) a->release(a);
  free(a);
}

static void schema_capsule_destructor(PyObject *cap) {
  struct ArrowSchema *s = PyCapsule_GetPointer(cap, "arrow_schema");
  if (s)
    free_schema_struct(s);
  else
    PyErr_Clear();
}

static void array_capsule_destructor(PyObject *cap) {
  struct ArrowArray *a = PyCapsule_GetPointer(cap, "arrow_array");
  if (a)
    free_array_struct(a);
  else
    PyErr_Clear();
}

/* Capsules owning *s and *a (heap structs); on failure both are freed. */
static PyObject *result_capsules(struct ArrowSchema *s, struct ArrowArray *a) {
  PyObject *sc = PyCapsule_New(s, "arrow_schema", schema_capsule_destructor);
  if (!sc) {
    free_schema_struct(s);
    free_array_struct(a);
    return NULL;
  }
  PyObject *ac = PyCapsule_New(a, "arrow_array", array_capsule_destructor);
  if (!ac) {
    Py_DECREF(sc);
    free_array_struct(a);
    return NULL;
  }
  PyObject *t = PyTuple_Pack(2, sc, ac);
  Py_DECREF(sc);
  Py_DECREF(ac);
  return t;
}

/* The schema of a selection: boolean, no NULLs, static strings. */
static void release_bool_schema(struct ArrowSchema *s) {
  s->release = NULL;
}

static void bool_schema(struct ArrowSchema *s) {
  memset(s, 0, sizeof *s);
  s->format = "b";
  s->name = "";
  s->release = release_bool_schema;
}

/* ------------------------------------------------------------------------ */
/* Fault handlers                                                           */
/* ------------------------------------------------------------------------ */

/* libwudf installs SIGSEGV and SIGBUS handlers on first use: sandboxed code
 * touching a guard page. A handler installed later (faulthandler.enable()
 * after wudf's first call) would see those faults first and end the
 * process. So wudf's handlers are noted after the first batch and put back
 * before each batch if something replaced them; faults that are not the
 * sandbox's then go to the handler that was there before wudf's.
 * Process-wide state, touched with the GIL held. */
static struct sigaction g_wudf_segv, g_wudf_bus;
static int g_handlers_noted;

static void note_fault_handlers(void) {
  struct sigaction segv, bus;
  if (g_handlers_noted) return;
  if (sigaction(SIGSEGV, NULL, &segv) != 0) return;
  if (sigaction(SIGBUS, NULL, &bus) != 0) return;
  if (!(segv.sa_flags & SA_SIGINFO) || !(bus.sa_flags & SA_SIGINFO)) return;
  g_wudf_segv = segv;
  g_wudf_bus = bus;
  g_handlers_noted = 1;
}

static void restore_one(int sig, const struct sigaction *want) {
  struct sigaction cur;
  if (sigaction(sig, NULL, &cur) != 0) return;
  if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == want->sa_sigaction)
    return;
  (void)sigaction(sig, want, NULL);
}

static void restore_fault_handlers(void) {
  if (!g_handlers_noted) return;
  restore_one(SIGSEGV, &g_wudf_segv);
  restore_one(SIGBUS, &g_wudf_bus);
}

/* ------------------------------------------------------------------------ */
/* Engine                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD wudf_engine *engine;
} EngineObject;

static int Engine_init(EngineObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"cache_dir", "cc", "wasm2c", NULL};
  PyObject *cache = Py_None, *cc = Py_None, *w2c = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOO:Engine", kwlist, &cache, &cc,
                                   &w2c))
    return -1;
  if (self->engine) {
    PyErr_SetString(PyExc_RuntimeError, "Engine already initialised");
    return -1;
  }
  PyObject *kc = NULL, *kcc = NULL, *kw2 = NULL;
  wudf_engine_config cfg;
  wudf_engine_config_init(&cfg);
  int rc = -1;
  if (opt_path(cache, &kc, &cfg.cache_dir) < 0) goto done;
  if (opt_path(cc, &kcc, &cfg.cc) < 0) goto done;
  if (opt_path(w2c, &kw2, &cfg.wasm2c) < 0) goto done;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status s;
  PyThreadState *ts = PyEval_SaveThread();
  s = wudf_engine_new(&cfg, &self->engine, &err);
  PyEval_RestoreThread(ts);
  if (s != WUDF_OK) {
    self->engine = NULL;
    raise_error(state_of_type(Py_TYPE(self)), &err, NULL);
    goto done;
  }
  rc = 0;
done:
  Py_XDECREF(kc);
  Py_XDECREF(kcc);
  Py_XDECREF(kw2);
  return rc;
}

static void Engine_dealloc(EngineObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  wudf_engine_free(self->engine);
  tp->tp_free((PyObject *)self);
  Py_DECREF(tp);
}

static int check_engine(EngineObject *self) {
  if (self->engine) return 0;
  PyErr_SetString(PyExc_RuntimeError, "Engine not initialised");
  return -1;
}

static PyObject *Engine_cache_dir(EngineObject *self, void *closure) {
  (void)closure;
  if (check_engine(self) < 0) return NULL;
  return PyUnicode_DecodeFSDefault(wudf_engine_cache_dir(self->engine));
}

typedef struct {
  PyObject_HEAD PyObject *engine; /* EngineObject: outlives the module */
  wudf_module *module;
  PyObject *wasm; /* bytes */
  PyObject *name; /* str or None */
} ModuleObject;

/* Parses the signature texts of `seq` (a sequence of str) into *out. */
static int parse_signatures(wudf_state *st, PyObject *seq, wudf_udf_sig **out,
                            uint32_t *n) {
  *out = NULL;
  *n = 0;
  if (seq == Py_None) return 0;
  PyObject *fast = PySequence_Fast(seq, "signatures must be a sequence of str");
  if (!fast) return -1;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(fast);
  if (count > 50000) {
    Py_DECREF(fast);
    PyErr_SetString(PyExc_ValueError, "too many signatures");
    return -1;
  }
  wudf_udf_sig *sigs = count ? calloc((size_t)count, sizeof *sigs) : NULL;
  if (count && !sigs) {
    Py_DECREF(fast);
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < count; i++) {
    PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
    Py_ssize_t len;
    const char *text =
        PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &len) : NULL;
    if (!text) {
      if (!PyErr_Occurred())
        PyErr_Format(PyExc_TypeError, "signature %zd is %.100s, not str", i + 1,
                     Py_TYPE(item)->tp_name);
      goto fail;
    }
    wudf_error err;
    wudf_error_init(&err);
    if (wudf_udf_sig_parse(text, (size_t)len, &sigs[i], &err) != WUDF_OK) {
      PyErr_Format(st->TypeError, "signature '%s': %s", text, err.message);
      goto fail;
    }
  }
  Py_DECREF(fast);
  *out = sigs;
  *n = (uint32_t)count;
  return 0;
fail:
  Py_DECREF(fast);
  free(sigs);
  return -1;
}

static PyObject *Engine_load(EngineObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"data", "name", "signatures", NULL};
  Py_buffer buf;
  PyObject *name = Py_None, *sigs_obj = Py_None;
  if (check_engine(self) < 0) return NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "y*|OO:load", kwlist, &buf, &name,
                                   &sigs_obj))
    return NULL;
  wudf_state *st = state_of_type(Py_TYPE(self));
  PyObject *wasm = NULL, *result = NULL;
  wudf_udf_sig *sigs = NULL;
  uint32_t nsigs = 0;
  const char *cname = NULL;
  if (opt_str(name, &cname) < 0) goto done;
  if (parse_signatures(st, sigs_obj, &sigs, &nsigs) < 0) goto done;
  wasm = PyBytes_FromStringAndSize(buf.buf, buf.len);
  if (!wasm) goto done;
  wudf_load_options o = {0};
  o.name = cname;
  o.udfs = sigs;
  o.nudfs = nsigs;
  wudf_error err;
  wudf_error_init(&err);
  wudf_module *m = NULL;
  wudf_status s;
  const char *bytes = PyBytes_AS_STRING(wasm);
  size_t len = (size_t)PyBytes_GET_SIZE(wasm);
  PyThreadState *ts = PyEval_SaveThread();
  s = wudf_module_load_ex(self->engine, bytes, len, &o, &m, &err);
  PyEval_RestoreThread(ts);
  if (s != WUDF_OK) {
    raise_error(st, &err, NULL);
    goto done;
  }
  ModuleObject *mo = PyObject_New(ModuleObject, st->ModuleType);
  if (!mo) {
    wudf_module_free(m);
    goto done;
  }
  mo->engine = Py_NewRef((PyObject *)self);
  mo->module = m;
  mo->wasm = Py_NewRef(wasm);
  mo->name = Py_NewRef(name);
  result = (PyObject *)mo;
done:
  PyBuffer_Release(&buf);
  Py_XDECREF(wasm);
  free(sigs);
  return result;
}

static PyMethodDef Engine_methods[] = {
    {"load", (PyCFunction)(void (*)(void))Engine_load,
     METH_VARARGS | METH_KEYWORDS,
     "load(data, name=None, signatures=None) -> Module\n\n"
     "Validates, translates, compiles (or finds in the cache) and loads a "
     "module. The GIL is released meanwhile."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Engine_getset[] = {
    {"cache_dir", (getter)Engine_cache_dir, NULL, "the cache directory", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot Engine_slots[] = {
    {Py_tp_doc, "A wudf engine: configuration and compiled-module cache."},
    {Py_tp_init, Engine_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, Engine_dealloc},
    {Py_tp_methods, Engine_methods},
    {Py_tp_getset, Engine_getset},
    {0, NULL}};

static PyType_Spec Engine_spec = {"wudf._wudf.Engine", sizeof(EngineObject), 0,
                                  Py_TPFLAGS_DEFAULT, Engine_slots};

/* ------------------------------------------------------------------------ */
/* Module                                                                   */
/* ------------------------------------------------------------------------ */

static void Module_dealloc(ModuleObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  wudf_module_free(self->module); /* before the engine it belongs to */
  Py_XDECREF(self->wasm);
  Py_XDECREF(self->name);
  Py_XDECREF(self->engine);
  PyObject_Free(self);
  Py_DECREF(tp);
}

/* (name, text, [param type names], result type name, sees_nulls) */
static PyObject *sig_tuple(const wudf_udf_sig *sig) {
  char text[1024];
  wudf_udf_sig_format(sig, text, sizeof text);
  PyObject *params = PyList_New(sig->nparams);
  if (!params) return NULL;
  for (uint32_t i = 0; i < sig->nparams; i++) {
    PyObject *t = PyUnicode_FromString(wudf_type_str(sig->params[i]));
    if (!t) {
      Py_DECREF(params);
      return NULL;
    }
    PyList_SET_ITEM(params, i, t);
  }
  return Py_BuildValue("(ssNsO)", sig->name, text, params,
                       wudf_type_str(sig->result),
                       sig->sees_nulls ? Py_True : Py_False);
}

static PyObject *Module_udfs(ModuleObject *self, PyObject *unused) {
  (void)unused;
  uint32_t n = wudf_module_udf_count(self->module);
  PyObject *list = PyList_New(n);
  if (!list) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    wudf_udf_sig sig;
    PyObject *t = NULL;
    if (wudf_module_udf(self->module, i, &sig) == WUDF_OK)
      t = sig_tuple(&sig);
    else
      PyErr_SetString(PyExc_RuntimeError, "cannot read a UDF signature");
    if (!t) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SET_ITEM(list, i, t);
  }
  return list;
}

static PyObject *Module_was_cached(ModuleObject *self, void *closure) {
  (void)closure;
  return PyBool_FromLong(wudf_module_was_cached(self->module));
}

static PyObject *Module_wasm(ModuleObject *self, void *closure) {
  (void)closure;
  return Py_NewRef(self->wasm);
}

static PyObject *Module_engine(ModuleObject *self, void *closure) {
  (void)closure;
  return Py_NewRef(self->engine);
}

static PyMethodDef Module_methods[] = {
    {"udfs", (PyCFunction)Module_udfs, METH_NOARGS,
     "udfs() -> [(name, signature, params, result, sees_nulls)]"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Module_getset[] = {
    {"was_cached", (getter)Module_was_cached, NULL,
     "whether the load found the native code in the cache", NULL},
    {"wasm", (getter)Module_wasm, NULL, "the module's bytes", NULL},
    {"engine", (getter)Module_engine, NULL, "the engine it was loaded on",
     NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot Module_slots[] = {
    {Py_tp_doc, "A loaded wudf module (made by Engine.load)."},
    {Py_tp_dealloc, Module_dealloc},
    {Py_tp_methods, Module_methods},
    {Py_tp_getset, Module_getset},
    {0, NULL}};

static PyType_Spec Module_spec = {
    "wudf._wudf.Module", sizeof(ModuleObject), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, Module_slots};

/* ------------------------------------------------------------------------ */
/* Function: one UDF with limits and a pool of instances                    */
/* ------------------------------------------------------------------------ */

typedef struct {
  PyObject_HEAD PyObject *module; /* ModuleObject */
  char udf[WUDF_MAX_UDF_NAME];
  wudf_udf_sig sig;
  wudf_instance_config config;
  wudf_instance **pool; /* idle instances; touched with the GIL held */
  Py_ssize_t npool, cap;
  Py_ssize_t created; /* instances made so far (for tests and stats) */
} FunctionObject;

static int Function_init(FunctionObject *self, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"module", "udf", "memory_bytes", "timeout_ms", NULL};
  PyObject *mod;
  const char *udf;
  unsigned long long memory_bytes = 0;
  long long timeout_ms = -1;
  if (!PyArg_ParseTupleAndKeywords(args, kw, "Os|KL:Function", kwlist, &mod,
                                   &udf, &memory_bytes, &timeout_ms))
    return -1;
  wudf_state *st = state_of_type(Py_TYPE(self));
  if (!PyObject_TypeCheck(mod, st->ModuleType)) {
    PyErr_SetString(PyExc_TypeError, "module must be a wudf._wudf.Module");
    return -1;
  }
  if (self->module) {
    PyErr_SetString(PyExc_RuntimeError, "Function already initialised");
    return -1;
  }
  ModuleObject *m = (ModuleObject *)mod;
  int64_t k = wudf_module_find_udf(m->module, udf);
  if (k < 0) {
    PyErr_Format(PyExc_KeyError, "the module has no UDF '%s'", udf);
    return -1;
  }
  if (wudf_module_udf(m->module, (uint32_t)k, &self->sig) != WUDF_OK) {
    PyErr_SetString(PyExc_RuntimeError, "cannot read the UDF's signature");
    return -1;
  }
  if (memory_bytes > (4ull << 30)) {
    PyErr_SetString(PyExc_ValueError, "memory limit above 4 GiB");
    return -1;
  }
  if (timeout_ms > (long long)UINT32_MAX) {
    PyErr_SetString(PyExc_ValueError, "time limit too large");
    return -1;
  }
  EngineObject *e = (EngineObject *)m->engine;
  wudf_instance_config_init(e->engine, &self->config);
  if (memory_bytes) {
    if (memory_bytes < 65536) {
      PyErr_SetString(PyExc_ValueError, "memory limit below one 64 KiB page");
      return -1;
    }
    self->config.limits.memory_bytes = memory_bytes;
  }
  if (timeout_ms >= 0) self->config.limits.timeout_ms = (uint32_t)timeout_ms;
  snprintf(self->udf, sizeof self->udf, "%s", udf);
  self->module = Py_NewRef(mod);
  return 0;
}

static void Function_dealloc(FunctionObject *self) {
  PyTypeObject *tp = Py_TYPE(self);
  for (Py_ssize_t i = 0; i < self->npool; i++)
    wudf_instance_free(self->pool[i]);
  PyMem_Free(self->pool);
  Py_XDECREF(self->module); /* after the instances made from it */
  tp->tp_free((PyObject *)self);
  Py_DECREF(tp);
}

static int check_function(FunctionObject *self) {
  if (self->module) return 0;
  PyErr_SetString(PyExc_RuntimeError, "Function not initialised");
  return -1;
}

static wudf_module *function_module(FunctionObject *self) {
  return ((ModuleObject *)self->module)->module;
}

/* Takes an idle instance, or makes one (GIL released meanwhile). */
static wudf_instance *pool_take(FunctionObject *self) {
  if (self->npool > 0) return self->pool[--self->npool];
  wudf_instance *inst = NULL;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status s;
  wudf_module *m = function_module(self);
  PyThreadState *ts = PyEval_SaveThread();
  s = wudf_instance_new(m, &self->config, &inst, &err);
  PyEval_RestoreThread(ts);
  if (s != WUDF_OK) {
    raise_error(state_of_type(Py_TYPE(self)), &err, self->udf);
    return NULL;
  }
  self->created++;
  return inst;
}

/* Returns an instance to the pool (a trapped one is rebuilt by the library
 * before its next call). */
static void pool_give(FunctionObject *self, wudf_instance *inst) {
  if (self->npool == self->cap) {
    Py_ssize_t cap = self->cap ? self->cap * 2 : 4;
    wudf_instance **p = PyMem_Realloc(self->pool, (size_t)cap * sizeof *p);
    if (!p) {
      wudf_instance_free(inst);
      return;
    }
    self->pool = p;
    self->cap = cap;
  }
  self->pool[self->npool++] = inst;
}

/* Borrowed struct pointers from a sequence of capsules named `name`. */
static int capsule_ptrs(PyObject *seq, const char *name, const void **out,
                        Py_ssize_t n) {
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *c = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyCapsule_IsValid(c, name)) {
      PyErr_Format(PyExc_TypeError, "argument %zd: expected a '%s' capsule",
                   i + 1, name);
      return -1;
    }
    out[i] = PyCapsule_GetPointer(c, name);
    if (!out[i]) return -1;
  }
  return 0;
}

typedef struct {
  PyObject *schemas_fast, *arrays_fast;
  const struct ArrowSchema *schemas[WUDF_MAX_UDF_PARAMS];
  const struct ArrowArray *arrays[WUDF_MAX_UDF_PARAMS];
  uint32_t n;
} columns;

static void columns_clear(columns *c) {
  Py_XDECREF(c->schemas_fast);
  Py_XDECREF(c->arrays_fast);
}

/* Reads the schema (and, if arrays_obj is not NULL, array) capsules. */
static int columns_get(FunctionObject *self, PyObject *schemas_obj,
                       PyObject *arrays_obj, columns *c) {
  memset(c, 0, sizeof *c);
  c->schemas_fast = PySequence_Fast(schemas_obj, "schemas must be a sequence");
  if (!c->schemas_fast) return -1;
  Py_ssize_t n = PySequence_Fast_GET_SIZE(c->schemas_fast);
  if (n != (Py_ssize_t)self->sig.nparams) {
    char text[1024], msg[1200];
    wudf_udf_sig_format(&self->sig, text, sizeof text);
    snprintf(msg, sizeof msg, "%zd column%s given for %s", n, n == 1 ? "" : "s",
             text);
    raise_status(state_of_type(Py_TYPE(self)), WUDF_ERR_TYPE, self->udf, msg);
    return -1;
  }
  c->n = (uint32_t)n;
  if (capsule_ptrs(c->schemas_fast, "arrow_schema", (const void **)c->schemas,
                   n) < 0)
    return -1;
  if (!arrays_obj) return 0;
  c->arrays_fast = PySequence_Fast(arrays_obj, "arrays must be a sequence");
  if (!c->arrays_fast) return -1;
  if (PySequence_Fast_GET_SIZE(c->arrays_fast) != n) {
    PyErr_SetString(PyExc_ValueError, "as many arrays as schemas are needed");
    return -1;
  }
  if (capsule_ptrs(c->arrays_fast, "arrow_array", (const void **)c->arrays, n) <
      0)
    return -1;
  for (uint32_t i = 0; i < c->n; i++)
    if (!c->schemas[i]->release || !c->arrays[i]->release) {
      PyErr_Format(PyExc_ValueError, "argument %u was released", i + 1);
      return -1;
    }
  return 0;
}

static PyObject *Function_check(FunctionObject *self, PyObject *schemas_obj) {
  if (check_function(self) < 0) return NULL;
  columns c;
  if (columns_get(self, schemas_obj, NULL, &c) < 0) {
    columns_clear(&c);
    return NULL;
  }
  wudf_error err;
  wudf_error_init(&err);
  wudf_status s = wudf_module_check_udf(function_module(self), self->udf,
                                        c.schemas, c.n, &err);
  columns_clear(&c);
  if (s != WUDF_OK)
    return raise_error(state_of_type(Py_TYPE(self)), &err, self->udf);
  Py_RETURN_NONE;
}

/* One batch, MAP or FILTER, with the GIL released while it runs. */
static PyObject *run_batch(FunctionObject *self, PyObject *args, bool filter) {
  PyObject *schemas_obj, *arrays_obj;
  if (check_function(self) < 0) return NULL;
  if (!PyArg_ParseTuple(args, "OO", &schemas_obj, &arrays_obj)) return NULL;
  wudf_state *st = state_of_type(Py_TYPE(self));
  columns c;
  struct ArrowSchema *os = NULL;
  struct ArrowArray *oa = NULL;
  PyObject *result = NULL;
  wudf_instance *inst = NULL;
  if (columns_get(self, schemas_obj, arrays_obj, &c) < 0) goto done;
  os = calloc(1, sizeof *os);
  oa = calloc(1, sizeof *oa);
  if (!os || !oa) {
    PyErr_NoMemory();
    goto done;
  }
  restore_fault_handlers();
  inst = pool_take(self);
  if (!inst) goto done;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status s;
  int64_t selected = 0;
  PyThreadState *ts = PyEval_SaveThread();
  if (filter)
    s = wudf_instance_filter(inst, self->udf, c.arrays, c.schemas, c.n, oa,
                             &selected, &err);
  else
    s = wudf_instance_map(inst, self->udf, c.arrays, c.schemas, c.n, oa, os,
                          &err);
  PyEval_RestoreThread(ts);
  note_fault_handlers();
  pool_give(self, inst);
  if (s != WUDF_OK) {
    raise_error(st, &err, self->udf);
    goto done;
  }
  if (filter) bool_schema(os);
  PyObject *caps = result_capsules(os, oa);
  os = NULL;
  oa = NULL;
  if (!caps) goto done;
  if (filter) {
    result = Py_BuildValue("(OOL)", PyTuple_GET_ITEM(caps, 0),
                           PyTuple_GET_ITEM(caps, 1), (long long)selected);
    Py_DECREF(caps);
  } else {
    result = caps;
  }
done:
  free(os);
  free(oa);
  columns_clear(&c);
  return result;
}

static PyObject *Function_map(FunctionObject *self, PyObject *args) {
  return run_batch(self, args, false);
}

static PyObject *Function_filter(FunctionObject *self, PyObject *args) {
  return run_batch(self, args, true);
}

static PyObject *Function_signature(FunctionObject *self, void *closure) {
  (void)closure;
  if (check_function(self) < 0) return NULL;
  return sig_tuple(&self->sig);
}

static PyObject *Function_instances(FunctionObject *self, void *closure) {
  (void)closure;
  return PyLong_FromSsize_t(self->created);
}

static PyObject *Function_limits(FunctionObject *self, void *closure) {
  (void)closure;
  return Py_BuildValue("(KI)",
                       (unsigned long long)self->config.limits.memory_bytes,
                       (unsigned)self->config.limits.timeout_ms);
}

static PyMethodDef Function_methods[] = {
    {"check", (PyCFunction)Function_check, METH_O,
     "check(schema_capsules): refuses columns of the wrong count or types"},
    {"map", (PyCFunction)Function_map, METH_VARARGS,
     "map(schema_capsules, array_capsules) -> (schema, array) capsules"},
    {"filter", (PyCFunction)Function_filter, METH_VARARGS,
     "filter(schema_capsules, array_capsules) -> (schema, array, selected)"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Function_getset[] = {
    {"signature", (getter)Function_signature, NULL,
     "(name, text, params, result, sees_nulls)", NULL},
    {"instances_created", (getter)Function_instances, NULL,
     "how many instances this function has made", NULL},
    {"limits", (getter)Function_limits, NULL, "(memory_bytes, timeout_ms)",
     NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot Function_slots[] = {
    {Py_tp_doc, "One UDF of a module, with limits and a pool of instances."},
    {Py_tp_init, Function_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, Function_dealloc},
    {Py_tp_methods, Function_methods},
    {Py_tp_getset, Function_getset},
    {0, NULL}};

static PyType_Spec Function_spec = {"wudf._wudf.Function",
                                    sizeof(FunctionObject), 0,
                                    Py_TPFLAGS_DEFAULT, Function_slots};

/* ------------------------------------------------------------------------ */
/* compile                                                                  */
/* ------------------------------------------------------------------------ */

static int parse_lang(const char *s, wudf_lang *out) {
  static const struct {
    const char *name;
    wudf_lang lang;
  } langs[] = {{"auto", WUDF_LANG_AUTO}, {"c", WUDF_LANG_C},
               {"c++", WUDF_LANG_CXX},   {"cpp", WUDF_LANG_CXX},
               {"cxx", WUDF_LANG_CXX},   {"wat", WUDF_LANG_WAT},
               {"wasm", WUDF_LANG_WASM}};
  for (size_t i = 0; i < sizeof langs / sizeof langs[0]; i++)
    if (strcmp(s, langs[i].name) == 0) {
      *out = langs[i].lang;
      return 0;
    }
  PyErr_Format(PyExc_ValueError,
               "lang must be 'c', 'c++', 'wat', 'wasm' or 'auto', not '%s'", s);
  return -1;
}

/* [(severity, line, column, message, formatted)] */
static PyObject *diagnostics_list(const wudf_compile_result *r) {
  uint32_t n = r ? wudf_compile_result_diagnostic_count(r) : 0;
  PyObject *list = PyList_New(n);
  if (!list) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    wudf_diagnostic d;
    if (wudf_compile_result_diagnostic(r, i, &d) != WUDF_OK) {
      Py_DECREF(list);
      PyErr_SetString(PyExc_RuntimeError, "cannot read a diagnostic");
      return NULL;
    }
    char text[4096];
    wudf_diagnostic_format(&d, text, sizeof text);
    const char *dm = d.message ? d.message : "";
    PyObject *t = Py_BuildValue(
        "(sIINN)", wudf_severity_str(d.severity), d.line, d.column,
        PyUnicode_DecodeUTF8(dm, (Py_ssize_t)strlen(dm), "replace"),
        PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace"));
    if (!t) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SET_ITEM(list, i, t);
  }
  return list;
}

static PyObject *signature_texts(const wudf_compile_result *r) {
  uint32_t n = wudf_compile_result_udf_count(r);
  PyObject *list = PyList_New(n);
  if (!list) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    wudf_udf_sig sig;
    char text[1024] = "";
    if (wudf_compile_result_udf(r, i, &sig) == WUDF_OK)
      wudf_udf_sig_format(&sig, text, sizeof text);
    PyObject *s = PyUnicode_FromString(text);
    if (!s) {
      Py_DECREF(list);
      return NULL;
    }
    PyList_SET_ITEM(list, i, s);
  }
  return list;
}

/* Borrowed C strings of a sequence of str (kept alive by `fast`). */
static int str_array(PyObject *seq, PyObject **fast, const char ***out,
                     uint32_t *n) {
  *fast = NULL;
  *out = NULL;
  *n = 0;
  if (seq == Py_None) return 0;
  *fast = PySequence_Fast(seq, "functions must be a sequence of str");
  if (!*fast) return -1;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(*fast);
  if (count == 0) return 0;
  if (count > 50000) {
    PyErr_SetString(PyExc_ValueError, "too many functions");
    return -1;
  }
  const char **names = PyMem_Calloc((size_t)count, sizeof *names);
  if (!names) {
    PyErr_NoMemory();
    return -1;
  }
  for (Py_ssize_t i = 0; i < count; i++)
    if (opt_str(PySequence_Fast_GET_ITEM(*fast, i), &names[i]) < 0 ||
        !names[i]) {
      if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "function names must be str");
      PyMem_Free(names);
      return -1;
    }
  *out = names;
  *n = (uint32_t)count;
  return 0;
}

static PyObject *raise_compile_error(wudf_state *st, const wudf_error *err,
                                     const wudf_compile_result *r) {
  PyObject *diags = diagnostics_list(r);
  if (!diags) return NULL;
  raise_error_as(st->CompileError, err, NULL);
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value && PyObject_SetAttrString(value, "all_diagnostics", diags) < 0) {
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    Py_DECREF(diags);
    return NULL;
  }
  Py_DECREF(diags);
  PyErr_Restore(type, value, tb);
  return NULL;
}

static PyObject *wudf_py_compile(PyObject *mod, PyObject *args, PyObject *kw) {
  static char *kwlist[] = {"source",      "lang",        "file_name",
                           "cache_dir",   "include_dir", "functions",
                           "clang",       "wat2wasm",    "bwrap",
                           "unsandboxed", "no_cache",    NULL};
  Py_buffer src;
  const char *lang_s = "c";
  PyObject *file_name = Py_None, *cache = Py_None, *inc = Py_None,
           *funcs = Py_None, *clang = Py_None, *w2w = Py_None, *bwrap = Py_None;
  int unsandboxed = 0, no_cache = 0;
  if (!PyArg_ParseTupleAndKeywords(
          args, kw, "s*|sOOOOOOOpp:compile", kwlist, &src, &lang_s, &file_name,
          &cache, &inc, &funcs, &clang, &w2w, &bwrap, &unsandboxed, &no_cache))
    return NULL;
  wudf_state *st = state_of_module(mod);
  PyObject *keep[5] = {NULL, NULL, NULL, NULL, NULL}, *ffast = NULL;
  PyObject *result = NULL;
  wudf_compile_result *r = NULL;
  wudf_compile_options o;
  wudf_compile_options_init(&o);
  const char **names = NULL;
  if (parse_lang(lang_s, &o.lang) < 0) goto done;
  if (opt_str(file_name, &o.file_name) < 0) goto done;
  if (opt_path(cache, &keep[0], &o.cache_dir) < 0) goto done;
  if (opt_path(inc, &keep[1], &o.include_dir) < 0) goto done;
  if (opt_path(clang, &keep[2], &o.clang) < 0) goto done;
  if (opt_path(w2w, &keep[3], &o.wat2wasm) < 0) goto done;
  if (opt_path(bwrap, &keep[4], &o.bwrap) < 0) goto done;
  if (str_array(funcs, &ffast, &names, &o.nfunctions) < 0) goto done;
  o.functions = names;
  o.unsandboxed = unsandboxed != 0;
  o.no_cache = no_cache != 0;
  wudf_error err;
  wudf_error_init(&err);
  wudf_status s;
  PyThreadState *ts = PyEval_SaveThread();
  s = wudf_compile(src.buf, (size_t)src.len, &o, &r, &err);
  PyEval_RestoreThread(ts);
  if (s != WUDF_OK) {
    if (s == WUDF_ERR_COMPILE) {
      raise_compile_error(st, &err, r);
    } else {
      raise_error(st, &err, NULL);
    }
    goto done;
  }
  size_t len = 0;
  const uint8_t *wasm = wudf_compile_result_wasm(r, &len);
  PyObject *diags = diagnostics_list(r);
  PyObject *sigs = diags ? signature_texts(r) : NULL;
  if (diags && sigs)
    result = Py_BuildValue(
        "(y#OOO)", (const char *)wasm, (Py_ssize_t)len, sigs, diags,
        wudf_compile_result_was_cached(r) ? Py_True : Py_False);
  Py_XDECREF(diags);
  Py_XDECREF(sigs);
done:
  wudf_compile_result_free(r);
  PyMem_Free(names);
  Py_XDECREF(ffast);
  for (int i = 0; i < 5; i++) Py_XDECREF(keep[i]);
  PyBuffer_Release(&src);
  return result;
}

static PyObject *wudf_py_parse_signature(PyObject *mod, PyObject *arg) {
  Py_ssize_t len;
  const char *text =
      PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &len) : NULL;
  if (!text) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "expected str");
    return NULL;
  }
  wudf_udf_sig sig;
  wudf_error err;
  wudf_error_init(&err);
  if (wudf_udf_sig_parse(text, (size_t)len, &sig, &err) != WUDF_OK) {
    PyErr_Format(state_of_module(mod)->TypeError, "signature '%s': %s", text,
                 err.message);
    return NULL;
  }
  return sig_tuple(&sig);
}

static PyObject *wudf_py_status_name(PyObject *mod, PyObject *arg) {
  (void)mod;
  long v = PyLong_AsLong(arg);
  if (v == -1 && PyErr_Occurred()) return NULL;
  return PyUnicode_FromString(wudf_status_name((wudf_status)v));
}

static PyMethodDef module_methods[] = {
    {"compile", (PyCFunction)(void (*)(void))wudf_py_compile,
     METH_VARARGS | METH_KEYWORDS,
     "compile(source, lang='c', file_name=None, cache_dir=None, "
     "include_dir=None, functions=None, clang=None, wat2wasm=None, "
     "bwrap=None, unsandboxed=False, no_cache=False)\n"
     "-> (wasm, signatures, diagnostics, was_cached)"},
    {"parse_signature", wudf_py_parse_signature, METH_O,
     "parse_signature(text) -> (name, text, params, result, sees_nulls)"},
    {"status_name", wudf_py_status_name, METH_O,
     "status_name(code) -> 'WUDF_...'"},
    {NULL, NULL, 0, NULL}};

/* ------------------------------------------------------------------------ */
/* Module init (multi-phase)                                                */
/* ------------------------------------------------------------------------ */

/* Every error has these attributes; None until raise_error() sets them. */
static const char *const error_fields[] = {
    "status", "kind",      "message",  "detail", "function",    "wasm_function",
    "row",    "first_row", "last_row", "column", "column_name", NULL};

static int add_exception(PyObject *m, PyObject **slot, const char *name,
                         PyObject *base, const char *doc) {
  char full[128];
  snprintf(full, sizeof full, "wudf.%s", name);
  PyObject *dict = PyDict_New();
  if (!dict) return -1;
  for (size_t i = 0; error_fields[i]; i++)
    if (PyDict_SetItemString(dict, error_fields[i], Py_None) < 0) {
      Py_DECREF(dict);
      return -1;
    }
  *slot = PyErr_NewExceptionWithDoc(full, doc, base, dict);
  Py_DECREF(dict);
  if (!*slot) return -1;
  return PyModule_AddObjectRef(m, name, *slot);
}

static int add_type(PyObject *m, PyTypeObject **slot, PyType_Spec *spec) {
  *slot = (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, NULL);
  if (!*slot) return -1;
  return PyModule_AddType(m, *slot);
}

static int wudf_exec(PyObject *m) {
  wudf_state *st = state_of_module(m);
  if (add_exception(m, &st->Error, "Error", PyExc_Exception,
                    "Base class of wudf's errors.") < 0)
    return -1;
  if (add_exception(m, &st->TrapError, "TrapError", st->Error,
                    "A UDF trapped on a row (kind, row, function).") < 0)
    return -1;
  if (add_exception(m, &st->LimitError, "LimitError", st->Error,
                    "A time or memory limit was reached.") < 0)
    return -1;
  PyObject *bases = PyTuple_Pack(2, st->Error, PyExc_TypeError);
  if (!bases) return -1;
  int rc = add_exception(m, &st->TypeError, "TypeError", bases,
                         "Columns refused before any row ran.");
  Py_DECREF(bases);
  if (rc < 0) return -1;
  if (add_exception(m, &st->CompileError, "CompileError", st->Error,
                    "A source did not compile (diagnostics).") < 0)
    return -1;
  if (add_type(m, &st->EngineType, &Engine_spec) < 0) return -1;
  if (add_type(m, &st->ModuleType, &Module_spec) < 0) return -1;
  if (add_type(m, &st->FunctionType, &Function_spec) < 0) return -1;
  if (PyModule_AddStringConstant(m, "LIBRARY_VERSION", WUDF_VERSION) < 0)
    return -1;
  return 0;
}

static int wudf_traverse(PyObject *m, visitproc visit, void *arg) {
  wudf_state *st = state_of_module(m);
  Py_VISIT(st->Error);
  Py_VISIT(st->TrapError);
  Py_VISIT(st->LimitError);
  Py_VISIT(st->TypeError);
  Py_VISIT(st->CompileError);
  Py_VISIT(st->EngineType);
  Py_VISIT(st->ModuleType);
  Py_VISIT(st->FunctionType);
  return 0;
}

static int wudf_clear(PyObject *m) {
  wudf_state *st = state_of_module(m);
  Py_CLEAR(st->Error);
  Py_CLEAR(st->TrapError);
  Py_CLEAR(st->LimitError);
  Py_CLEAR(st->TypeError);
  Py_CLEAR(st->CompileError);
  Py_CLEAR(st->EngineType);
  Py_CLEAR(st->ModuleType);
  Py_CLEAR(st->FunctionType);
  return 0;
}

static void wudf_free(void *m) {
  wudf_clear((PyObject *)m);
}

static PyModuleDef_Slot wudf_slots[] = {{Py_mod_exec, wudf_exec}, {0, NULL}};

static struct PyModuleDef wudf_module_def = {
    PyModuleDef_HEAD_INIT,
    "wudf._wudf",
    "The CPython extension over libwudf (see the wudf package).",
    sizeof(wudf_state),
    module_methods,
    wudf_slots,
    wudf_traverse,
    wudf_clear,
    wudf_free};

PyMODINIT_FUNC PyInit__wudf(void) {
  return PyModuleDef_Init(&wudf_module_def);
}
