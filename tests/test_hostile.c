/*
 * Hostile UDFs (the corpus in tests/hostile/): every way a module can try
 * to escape or exhaust its sandbox ends in a clear error — the exact status
 * and a message that names it — and the process goes on and loses nothing:
 * after each case a benign call succeeds on the same instance and on a
 * fresh one, and a long-lived instance of another module keeps its state.
 *
 * Expected outcomes come from the WebAssembly semantics (checked against
 * wabt's reference interpreter, spectest-interp, for the WAT cases: see
 * tests/hostile/README.md) and from C. Limits are small so that the file
 * runs fast: 100 ms for the calls that must time out, 4 MiB of memory,
 * 16 KiB of output.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"

#define HOSTILE_DIR "tests/hostile/"
#define TIMEOUT_MS 100
#define MEMORY_CAP (4u << 20)
#define OUTPUT_CAP (16u << 10)

/* wudf_val initializers. */
// clang-format off
#define I32(x) {WUDF_I32, {.i32 = (x)}}
#define I64(x) {WUDF_I64, {.i64 = (x)}}
#define F32(x) {WUDF_F32, {.f32 = (x)}}
#define F64(x) {WUDF_F64, {.f64 = (x)}}
// clang-format on

/* ---- modules --------------------------------------------------------------
 */

static wudf_engine *g_engine;

static wudf_engine *engine(void) {
  if (g_engine) return g_engine;
  wudf_limits lim;
  wudf_limits_init(&lim);
  /* The default time limit (10 s) for every instance but those of the
   * cases that must time out, so that a loaded machine cannot turn a slow
   * case (a recursion filling 8 MiB of stack) into a time-out. */
  lim.memory_bytes = MEMORY_CAP;
  lim.output_bytes = OUTPUT_CAP;
  g_engine = test_engine("hostile", &lim);
  return g_engine;
}

/* tests/hostile/<file> as a module: C compiled with clang-19, WAT assembled
 * with wat2wasm. NULL (and a message on stderr) if that fails. */
static uint8_t *hostile_bytes(const char *file, size_t *len) {
  char path[256];
  snprintf(path, sizeof path, HOSTILE_DIR "%s", file);
  char *text = (char *)test_read_file(path, NULL);
  size_t n = strlen(file);
  uint8_t *bytes = NULL;
  if (text && n > 2 && !strcmp(file + n - 2, ".c"))
    bytes = test_c_to_wasm(text, len);
  else if (text)
    bytes = test_wat(text, NULL, len);
  if (!bytes) fprintf(stderr, "    %s: cannot read or build it\n", path);
  free(text);
  return bytes;
}

/* The UDF signatures declared for a corpus file (exports of other kinds are
 * called with wudf_instance_call). */
static uint32_t udf_sigs(const char *file, wudf_udf_sig *sigs) {
  static const char *const text[] = {
      "raw(int64) -> utf8", "hello(int64) -> utf8", "len(utf8) -> int32"};
  uint32_t first = 0, n = 0;
  if (!strcmp(file, "udfs.c")) n = 2;
  if (!strcmp(file, "traps.wat")) n = 1;
  if (!strcmp(file, "bad_alloc.wat")) {
    first = 2;
    n = 1;
  }
  for (uint32_t i = 0; i < n; i++) {
    const char *t = text[first + i];
    if (wudf_udf_sig_parse(t, strlen(t), &sigs[i], NULL)) return 0;
  }
  return n;
}

/* Loads tests/hostile/<file> on the hostile engine. */
static wudf_status load(const char *file, wudf_module **out, wudf_error *err) {
  *out = NULL;
  size_t len;
  uint8_t *bytes = engine() ? hostile_bytes(file, &len) : NULL;
  if (!bytes) {
    snprintf(err->message, sizeof err->message, "cannot build %s", file);
    return WUDF_ERR_ARG;
  }
  wudf_udf_sig sigs[2];
  wudf_load_options o = {
      .name = file, .udfs = sigs, .nudfs = udf_sigs(file, sigs)};
  wudf_status st = wudf_module_load_ex(g_engine, bytes, len, &o, out, err);
  free(bytes);
  return st;
}

/* Modules used by several tests are loaded (and compiled) once. */
typedef struct module_slot {
  const char *file;
  wudf_module *module;
} module_slot;

static module_slot g_modules[] = {{"udfs.c", NULL},
                                  {"traps.wat", NULL},
                                  {"benign.wat", NULL},
                                  {"bad_alloc.wat", NULL}};

static wudf_module *module(const char *file) {
  for (size_t i = 0; i < sizeof g_modules / sizeof g_modules[0]; i++) {
    module_slot *s = &g_modules[i];
    if (strcmp(s->file, file)) continue;
    wudf_error err = {0};
    if (!s->module && load(file, &s->module, &err) != WUDF_OK)
      fprintf(stderr, "    %s: %s\n", file, err.message);
    return s->module;
  }
  return NULL;
}

__attribute__((destructor)) static void free_modules(void) {
  for (size_t i = 0; i < sizeof g_modules / sizeof g_modules[0]; i++)
    wudf_module_free(g_modules[i].module);
  wudf_engine_free(g_engine);
}

static wudf_instance *instance_ms(wudf_module *m, uint32_t timeout_ms) {
  wudf_instance *inst = NULL;
  wudf_instance_config cfg;
  wudf_instance_config_init(engine(), &cfg);
  if (timeout_ms) cfg.limits.timeout_ms = timeout_ms;
  wudf_error err = {0};
  if (m && wudf_instance_new(m, &cfg, &inst, &err) != WUDF_OK)
    fprintf(stderr, "    instance: %s\n", err.message);
  return inst;
}

static wudf_instance *instance(wudf_module *m) {
  return instance_ms(m, 0);
}

/* An instance for a case: with the short time limit if it must time out. */
static wudf_instance *case_instance(wudf_module *m, wudf_status want) {
  return instance_ms(m, want == WUDF_TRAP_TIMEOUT ? TIMEOUT_MS : 0);
}

/* ---- what must hold after every case --------------------------------------
 */

/* add(a, b) on `inst` gives a + b. */
static bool add_works(wudf_instance *inst, int32_t a, int32_t b) {
  wudf_val args[2] = {I32(a), I32(b)}, r;
  wudf_error err = {0};
  wudf_status st = wudf_instance_call(inst, "add", args, 2, &r, 1, &err);
  if (st != WUDF_OK) fprintf(stderr, "    add: %s\n", err.message);
  return st == WUDF_OK && r.of.i32 == a + b;
}

/* A long-lived instance of benign.wat that keeps its state on a trap: its
 * counter must go up by exactly one at every check, whatever the hostile
 * cases did meanwhile. */
static wudf_instance *g_witness;
static int32_t g_witness_count;

static bool witness_intact(void) {
  wudf_module *m = module("benign.wat");
  wudf_error err = {0};
  if (!g_witness && m) {
    wudf_instance_config cfg;
    wudf_instance_config_init(engine(), &cfg);
    cfg.keep_state_on_trap = true;
    if (wudf_instance_new(m, &cfg, &g_witness, &err) != WUDF_OK) return false;
  }
  wudf_val r;
  if (!g_witness ||
      wudf_instance_call(g_witness, "bump", NULL, 0, &r, 1, &err) != WUDF_OK)
    return false;
  return r.of.i32 == ++g_witness_count;
}

__attribute__((destructor)) static void free_witness(void) {
  wudf_instance_free(g_witness);
}

/* After a case on `inst` (may be NULL): the same instance and a fresh
 * instance of `m` still add, a fresh instance of benign.wat too, and the
 * witness is intact. */
static bool process_goes_on(wudf_module *m, wudf_instance *inst) {
  bool ok = !inst || add_works(inst, 2, 3);
  wudf_instance *fresh = instance(m);
  ok = ok && (!m || (fresh && add_works(fresh, 40, 2)));
  wudf_instance_free(fresh);
  wudf_instance *other = instance(module("benign.wat"));
  ok = ok && other && add_works(other, -1, 1);
  wudf_instance_free(other);
  return ok && witness_intact();
}

/* ---- calls -----------------------------------------------------------------
 */

typedef struct call_case {
  const char *file;  /* in tests/hostile/ */
  const char *setup; /* an export called first without arguments, or NULL */
  const char *func;
  uint32_t nargs;
  wudf_val args[2];
  wudf_status want;
  const char *text; /* in the message (NULL for WUDF_OK) */
  /* WUDF_OK: the (first) result; WUDF_TRAP_EXIT: the exit code. */
  int64_t result;
  bool any_result; /* WUDF_OK: the result is checked by a test of its own */
  bool fresh_only; /* the outcome holds on a fresh instance only */
  bool at_cap;     /* the outcome is the instance's memory cap's doing */
} call_case;

#define TIMEOUT "time limit exceeded"
#define STACK "call stack exhausted"
#define OOB "out-of-bounds memory access"
#define UNREACHABLE "unreachable executed"
#define DIV0 "integer divide by zero"
#define OVERFLOW "integer overflow"
#define BAD_TYPE "indirect call type mismatch"
#define NO_ELEM "undefined table element"

/* Table entries (designated, so that fields left out are zero). */
// clang-format off
#define TRAPS_AFTER(s, f, fn, st, txt, n, ...)                      \
  {.file = (f), .setup = (s), .func = (fn), .nargs = (n),           \
   .args = {__VA_ARGS__}, .want = (st), .text = (txt)}
#define TRAPS(f, fn, st, txt, n, ...)                               \
  TRAPS_AFTER(NULL, f, fn, st, txt, n, __VA_ARGS__)
#define TRAPS_ON_FRESH(f, fn, st, txt, n, ...)                      \
  {.file = (f), .func = (fn), .nargs = (n), .args = {__VA_ARGS__},  \
   .want = (st), .text = (txt), .fresh_only = true}
#define RETURNS_AFTER(s, f, fn, res, n, ...)                        \
  {.file = (f), .setup = (s), .func = (fn), .nargs = (n),           \
   .args = {__VA_ARGS__}, .want = WUDF_OK, .result = (res)}
#define RETURNS(f, fn, res, n, ...)                                 \
  RETURNS_AFTER(NULL, f, fn, res, n, __VA_ARGS__)
#define RETURNS_AT_CAP(f, fn, res, n, ...)                          \
  {.file = (f), .func = (fn), .nargs = (n), .args = {__VA_ARGS__},  \
   .want = WUDF_OK, .result = (res), .at_cap = true}
#define ANY_RESULT(f, fn, n, ...)                                   \
  {.file = (f), .func = (fn), .nargs = (n), .args = {__VA_ARGS__},  \
   .want = WUDF_OK, .any_result = true}
#define EXITS(f, fn, txt, code, n, ...)                             \
  {.file = (f), .func = (fn), .nargs = (n), .args = {__VA_ARGS__},  \
   .want = WUDF_TRAP_EXIT, .text = (txt), .result = (code)}
// clang-format on

static const call_case k_calls[] = {
    /* Time: a tight loop, a loop that calls, in C and in WAT. */
    TRAPS("udfs.c", "spin_tight", WUDF_TRAP_TIMEOUT, TIMEOUT, 1, I32(0)),
    TRAPS("udfs.c", "spin_calls", WUDF_TRAP_TIMEOUT, TIMEOUT, 1, I32(0)),
    TRAPS("traps.wat", "spin_calls", WUDF_TRAP_TIMEOUT, TIMEOUT, 0, I32(0)),
    /* Stack: deep but bounded recursion works; unbounded recursion, direct
     * (C) or through the table (WAT), exhausts the stack. */
    RETURNS("udfs.c", "recurse", 10000, 1, I32(10000)),
    TRAPS("udfs.c", "recurse", WUDF_TRAP_STACK_EXHAUSTED, STACK, 1,
          I32(1000000000)),
    TRAPS("udfs.c", "recurse_write", WUDF_TRAP_STACK_EXHAUSTED, STACK, 1,
          I32(0)),
    /* C's own stack, in linear memory, overflows below address 0. */
    RETURNS("udfs.c", "recurse_shadow", 100, 1, I32(100)),
    TRAPS("udfs.c", "recurse_shadow", WUDF_TRAP_OOB, OOB, 1, I32(1000000000)),
    TRAPS("traps.wat", "recurse_indirect", WUDF_TRAP_STACK_EXHAUSTED, STACK, 1,
          I32(0)),
    /* Memory growth stops exactly at the cap; past it memory.grow gives -1
     * (the module is told, nothing traps). */
    RETURNS("udfs.c", "grow_all", MEMORY_CAP >> 16, 0, I32(0)),
    RETURNS_AFTER("grow_all", "udfs.c", "grow_by", -1, 1, I32(1)),
    RETURNS("udfs.c", "grow_by", -1, 1, I32(65536)),
    RETURNS("udfs.c", "grow_by", -1, 1, I32(-1)),
    RETURNS("traps.wat", "grow", -1, 1, I32(-1)),
    RETURNS("traps.wat", "grow", 1, 1, I32(63)),
    RETURNS_AT_CAP("traps.wat", "grow", -1, 1, I32(64)),
    /* malloc until it fails: NULL, not a trap (see malloc_until_failure);
     * a trap afterwards says that memory ran out first. */
    ANY_RESULT("udfs.c", "malloc_all", 0, I32(0)),
    TRAPS("udfs.c", "malloc_then_trap", WUDF_TRAP_UNREACHABLE,
          "unreachable executed (memory.grow was refused earlier at the 4 MiB "
          "limit)",
          0, I32(0)),
    /* Loads and stores at the boundary and far past it. */
    RETURNS_AFTER("grow_all", "udfs.c", "load_at", 0, 1, I32(MEMORY_CAP - 4)),
    TRAPS_AFTER("grow_all", "udfs.c", "load_at", WUDF_TRAP_OOB, OOB, 1,
                I32(MEMORY_CAP - 3)),
    TRAPS_AFTER("grow_all", "udfs.c", "store_at", WUDF_TRAP_OOB, OOB, 2,
                I32(MEMORY_CAP), I32(1)),
    TRAPS("udfs.c", "load_at", WUDF_TRAP_OOB, OOB, 1, I32(-4)),
    TRAPS("udfs.c", "store_at", WUDF_TRAP_OOB, OOB, 2, I32(INT32_MAX), I32(1)),
    RETURNS("traps.wat", "load8_at", 0, 1, I32(65535)),
    /* (One page unless grown: see "grow" below.) */
    TRAPS_ON_FRESH("traps.wat", "load8_at", WUDF_TRAP_OOB, OOB, 1, I32(65536)),
    TRAPS("traps.wat", "load_far", WUDF_TRAP_OOB, OOB, 1, I32(-1)),
    TRAPS("traps.wat", "load_far", WUDF_TRAP_OOB, OOB, 1, I32(0)),
    TRAPS("traps.wat", "store_far", WUDF_TRAP_OOB, OOB, 1, I32(-1)),
    /* memcpy of 2 GiB into a 16-byte buffer: the module overwrites its own
     * memory up to the end, then traps. */
    TRAPS("udfs.c", "copy_from", WUDF_TRAP_OOB, OOB, 2, I32(0), I32(INT32_MIN)),
    TRAPS("udfs.c", "copy_from", WUDF_TRAP_OOB, OOB, 2, I32(-256), I32(256)),
    /* Bulk memory: in bounds up to the end exactly, one byte more traps. */
    RETURNS("traps.wat", "fill", 0, 2, I32(65530), I32(6)),
    TRAPS("traps.wat", "fill", WUDF_TRAP_OOB, OOB, 2, I32(65530), I32(7)),
    RETURNS("traps.wat", "fill", 0, 2, I32(65536), I32(0)),
    TRAPS("traps.wat", "fill", WUDF_TRAP_OOB, OOB, 2, I32(65537), I32(0)),
    TRAPS("traps.wat", "fill", WUDF_TRAP_OOB, OOB, 2, I32(0), I32(-1)),
    TRAPS("traps.wat", "copy_to_0", WUDF_TRAP_OOB, OOB, 2, I32(65535), I32(2)),
    TRAPS("traps.wat", "init_at", WUDF_TRAP_OOB, OOB, 2, I32(65534), I32(3)),
    TRAPS("traps.wat", "init_at", WUDF_TRAP_OOB, OOB, 2, I32(0), I32(4)),
    /* call_indirect: wrong type, null slot, past the end of the table. */
    TRAPS("udfs.c", "call_wrong_type", WUDF_TRAP_INDIRECT_TYPE, BAD_TYPE, 1,
          I32(1)),
    TRAPS("udfs.c", "call_slot", WUDF_TRAP_UNDEFINED_ELEMENT, NO_ELEM, 1,
          I32(0)),
    TRAPS("udfs.c", "call_slot", WUDF_TRAP_UNDEFINED_ELEMENT, NO_ELEM, 1,
          I32(1000000)),
    TRAPS("traps.wat", "call_as_void", WUDF_TRAP_INDIRECT_TYPE, BAD_TYPE, 0,
          I32(0)),
    RETURNS("traps.wat", "call_slot", 42, 1, I32(0)),
    TRAPS("traps.wat", "call_slot", WUDF_TRAP_UNDEFINED_ELEMENT, NO_ELEM, 1,
          I32(1)),
    TRAPS("traps.wat", "call_slot", WUDF_TRAP_UNDEFINED_ELEMENT, NO_ELEM, 1,
          I32(4)),
    TRAPS("traps.wat", "call_slot", WUDF_TRAP_UNDEFINED_ELEMENT, NO_ELEM, 1,
          I32(-1)),
    RETURNS("traps.wat", "table_grow", -1, 1, I32(-1)),
    /* unreachable, __builtin_trap(), abort(). */
    TRAPS("udfs.c", "trap", WUDF_TRAP_UNREACHABLE, UNREACHABLE, 0, I32(0)),
    TRAPS("udfs.c", "do_abort", WUDF_TRAP_UNREACHABLE, UNREACHABLE, 0, I32(0)),
    TRAPS("traps.wat", "unreachable_deep", WUDF_TRAP_UNREACHABLE, UNREACHABLE,
          1, I32(100)),
    RETURNS("traps.wat", "unreachable_deep", 0, 1, I32(3)),
    /* Integer division: by zero, INT_MIN / -1; INT_MIN % -1 is 0 in
     * WebAssembly (no trap, unlike x86's idiv). */
    TRAPS("udfs.c", "div", WUDF_TRAP_DIV_BY_ZERO, DIV0, 2, I32(1), I32(0)),
    TRAPS("udfs.c", "div", WUDF_TRAP_INT_OVERFLOW, OVERFLOW, 2, I32(INT32_MIN),
          I32(-1)),
    RETURNS("udfs.c", "rem", 0, 2, I32(INT32_MIN), I32(-1)),
    TRAPS("udfs.c", "div64", WUDF_TRAP_INT_OVERFLOW, OVERFLOW, 2,
          I64(INT64_MIN), I64(-1)),
    TRAPS("traps.wat", "div64", WUDF_TRAP_INT_OVERFLOW, OVERFLOW, 2,
          I64(INT64_MIN), I64(-1)),
    TRAPS("traps.wat", "rem_u", WUDF_TRAP_DIV_BY_ZERO, DIV0, 2, I32(5), I32(0)),
    /* Float to integer: out of range, negative to unsigned, NaN; the
     * saturating form does not trap. */
    TRAPS("traps.wat", "f32_to_i32", WUDF_TRAP_INT_OVERFLOW, OVERFLOW, 1,
          F32(3e9f)),
    TRAPS("traps.wat", "f64_to_u64", WUDF_TRAP_INT_OVERFLOW, OVERFLOW, 1,
          F64(-1.0)),
    TRAPS("traps.wat", "f64_to_i32", WUDF_TRAP_INVALID_CONVERSION,
          "invalid conversion to integer", 1, F64(__builtin_nan(""))),
    RETURNS("traps.wat", "f64_to_i32_sat", INT32_MAX, 1, F64(3e9)),
    /* WASI proc_exit, with 0 too: the call ends, the process does not. */
    EXITS("udfs.c", "exit_with", "calling 'exit_with': exited with code 3", 3,
          1, I32(3)),
    EXITS("udfs.c", "exit_with", "exited with code 0", 0, 1, I32(0)),
};

static wudf_status call(wudf_instance *inst, const char *func,
                        const wudf_val *args, uint32_t nargs, int64_t *result,
                        wudf_error *err) {
  wudf_module *m = wudf_instance_module(inst);
  int64_t x = wudf_module_export_index(m, func, strlen(func));
  wudf_extern_info info;
  if (x < 0 || wudf_module_export(m, (uint32_t)x, &info) != WUDF_OK)
    return WUDF_ERR_NOT_FOUND;
  wudf_val r[1] = {{0}};
  uint32_t nres = info.nresults ? 1 : 0;
  wudf_status st = wudf_instance_call(inst, func, args, nargs, r, nres, err);
  *result = r[0].type == WUDF_I64 ? r[0].of.i64 : r[0].of.i32;
  return st;
}

/* Runs case c on `inst`; false (with a message) if the outcome differs. */
static bool run_call_case(const call_case *c, wudf_instance *inst, bool fresh) {
  wudf_error err = {0};
  int64_t result = 0, ignored;
  if (c->setup) call(inst, c->setup, NULL, 0, &ignored, &err);
  wudf_status st = call(inst, c->func, c->args, c->nargs, &result, &err);
  bool ok = st == c->want;
  if (ok && c->text) ok = strstr(err.message, c->text) != NULL;
  if (ok && c->text) ok = strstr(err.message, c->func) != NULL;
  if (ok && st == WUDF_TRAP_EXIT) ok = err.exit_code == c->result;
  if (ok && st == WUDF_OK && fresh && !c->any_result) ok = result == c->result;
  if (!ok)
    fprintf(stderr, "    %s %s: got %s (%s), result %lld; expected %s (%s)\n",
            c->file, c->func, wudf_status_name(st), err.message,
            (long long)result, wudf_status_name(c->want),
            c->text ? c->text : "");
  return ok;
}

/* Each case on a fresh instance, then the benign checks. */
TEST(hostile_calls_end_in_their_error_and_the_process_goes_on) {
  int bad = 0;
  for (size_t i = 0; i < sizeof k_calls / sizeof k_calls[0]; i++) {
    const call_case *c = &k_calls[i];
    wudf_module *m = module(c->file);
    wudf_instance *inst = case_instance(m, c->want);
    CHECK_MSG(inst, "%s: no instance", c->file);
    bool ok = run_call_case(c, inst, true);
    if (ok && !process_goes_on(m, inst)) {
      fprintf(stderr, "    after %s %s: the process did not go on\n", c->file,
              c->func);
      ok = false;
    }
    wudf_instance_free(inst);
    bad += !ok;
  }
  CHECK_EQ_INT(bad, 0);
}

/* Every case in turn on one instance per module (those that must time out
 * on a second one, with the short limit): traps rebuild it, and each case
 * still ends the same way. */
TEST(hostile_calls_in_sequence_on_one_instance) {
  wudf_instance *inst[2][2] = {
      {instance(module("udfs.c")), instance_ms(module("udfs.c"), TIMEOUT_MS)},
      {instance(module("traps.wat")),
       instance_ms(module("traps.wat"), TIMEOUT_MS)}};
  bool ready = inst[0][0] && inst[0][1] && inst[1][0] && inst[1][1];
  int bad = 0;
  for (size_t i = 0; ready && i < sizeof k_calls / sizeof k_calls[0]; i++) {
    const call_case *c = &k_calls[i];
    wudf_instance *in =
        inst[strcmp(c->file, "udfs.c") != 0][c->want == WUDF_TRAP_TIMEOUT];
    if (c->fresh_only) continue;
    bad += !run_call_case(c, in, false) || !add_works(in, 7, 8);
  }
  bool witness = witness_intact();
  for (int k = 0; k < 4; k++) wudf_instance_free(inst[k / 2][k % 2]);
  CHECK(ready);
  CHECK_EQ_INT(bad, 0);
  CHECK(witness);
}

/* malloc until it fails: the module gets NULL once the next 1 MiB block
 * no longer fits under the cap. (4 MiB cap, the module's static data and
 * stack, malloc's headers: at least one block, at most three.) */
TEST(hostile_malloc_until_failure) {
  wudf_instance *inst = instance(module("udfs.c"));
  CHECK(inst);
  wudf_val r;
  wudf_error err = {0};
  wudf_status st = wudf_instance_call(inst, "malloc_all", NULL, 0, &r, 1, &err);
  int32_t blocks = r.of.i32;
  uint64_t size = wudf_instance_memory_size(inst);
  bool ok = add_works(inst, 1, 2);
  wudf_instance_free(inst);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK_MSG(blocks >= 1 && blocks <= 3, "%d blocks", blocks);
  CHECK_MSG(size <= MEMORY_CAP && size + (1u << 20) > MEMORY_CAP,
            "memory is %llu bytes", (unsigned long long)size);
  CHECK(ok);
}

/* Megabytes to stdout: the capture stops at the limit and says so; the
 * next call's output starts afresh. */
TEST(hostile_output_flood_is_bounded) {
  wudf_instance *inst = instance(module("udfs.c"));
  CHECK(inst);
  wudf_val r, a = I32(4096); /* 4 MiB */
  wudf_error err = {0};
  wudf_status st = wudf_instance_call(inst, "shout", &a, 1, &r, 1, &err);
  size_t len = 0;
  bool trunc = false, all_x = true;
  const char *out = wudf_instance_output(inst, &len, &trunc);
  for (size_t i = 0; i < len; i++)
    all_x &= out[i] == 'x' || (out[i] == '\n' && i % 1024 == 1023);
  a = test_i32(1);
  wudf_status st2 = wudf_instance_call(inst, "shout", &a, 1, &r, 1, &err);
  size_t len2 = 0;
  bool trunc2 = true;
  const char *out2 = wudf_instance_output(inst, &len2, &trunc2);
  bool tail = len2 >= 5 && !memcmp(out2 + len2 - 5, "done\n", 5);
  wudf_instance_free(inst);
  CHECK_STATUS(st, WUDF_OK, &err);
  CHECK_EQ_INT(len, OUTPUT_CAP);
  CHECK(trunc);
  CHECK(all_x);
  CHECK_STATUS(st2, WUDF_OK, &err);
  CHECK_EQ_INT(len2, 1024 + 5);
  CHECK(!trunc2);
  CHECK(tail);
}

/* ---- string results --------------------------------------------------------
 */

#define PACK(len, addr) ((int64_t)(((uint64_t)(len) << 32) | (uint32_t)(addr)))

typedef struct map_case {
  const char *file;
  int64_t row1; /* row 0 is the empty string at address 0 */
  wudf_status want;
  const char *text;
  uint32_t result_len; /* WUDF_OK: row 1's length (its bytes are zero) */
} map_case;

// clang-format off
#define OUTSIDE(len, addr)                                              \
  "the string result (" #len " bytes at address " #addr ") lies "       \
  "outside the module's memory"
#define MAP_FAILS(f, row, st, txt)                                      \
  {.file = (f), .row1 = (row), .want = (st), .text = (txt)}
#define MAP_GIVES(f, row, len)                                          \
  {.file = (f), .row1 = (row), .want = WUDF_OK, .result_len = (len)}
// clang-format on

static const map_case k_maps[] = {
    /* traps.wat has one page: 65536 bytes, all zero where these point. */
    MAP_GIVES("traps.wat", PACK(1, 65535), 1),
    MAP_GIVES("traps.wat", PACK(0, 65536), 0),
    MAP_FAILS("traps.wat", PACK(2, 65535), WUDF_TRAP_OOB, OUTSIDE(2, 65535)),
    MAP_FAILS("traps.wat", PACK(0, 65537), WUDF_TRAP_OOB, OUTSIDE(0, 65537)),
    MAP_FAILS("traps.wat", PACK(65537, 0), WUDF_TRAP_OOB, OUTSIDE(65537, 0)),
    /* Lengths and addresses near 4 GiB: no 32-bit wrap-around. */
    MAP_FAILS("udfs.c", PACK(0xffffffffu, 0), WUDF_TRAP_OOB,
              OUTSIDE(4294967295, 0)),
    MAP_FAILS("udfs.c", PACK(1, 0xffffffffu), WUDF_TRAP_OOB,
              OUTSIDE(1, 4294967295)),
    MAP_FAILS("udfs.c", PACK(0xffffffffu, 0xffffffffu), WUDF_TRAP_OOB,
              OUTSIDE(4294967295, 4294967295)),
    MAP_FAILS("udfs.c", PACK(0x80000000u, 0x80000000u), WUDF_TRAP_OOB,
              OUTSIDE(2147483648, 2147483648)),
    MAP_FAILS("udfs.c", PACK(0, 0xffffffffu), WUDF_TRAP_OOB,
              OUTSIDE(0, 4294967295)),
};

/* An int64 column of the given rows. */
static bool int64_column(const int64_t *rows, int n, struct ArrowArray *a,
                         struct ArrowSchema *s) {
  wudf_array_builder *b = NULL;
  wudf_error err = {0};
  if (wudf_array_builder_new(WUDF_TYPE_INT64, n, &b, &err)) return false;
  for (int i = 0; i < n; i++) wudf_array_builder_append_int(b, rows[i]);
  bool ok = wudf_array_builder_finish(b, "packed", a, s, &err) == WUDF_OK;
  wudf_array_builder_free(b);
  return ok;
}

/* Maps `udf` over the rows; on success checks that row i's string has
 * lens[i] zero bytes (or is "hello" for hello). */
static wudf_status map_rows(wudf_instance *inst, const char *udf,
                            const int64_t *rows, int n, const uint32_t *lens,
                            wudf_error *err) {
  struct ArrowArray col, out;
  struct ArrowSchema sch;
  if (!int64_column(rows, n, &col, &sch)) return WUDF_ERR_NOMEM;
  const struct ArrowArray *cp = &col;
  const struct ArrowSchema *sp = &sch;
  wudf_status st = wudf_instance_map(inst, udf, &cp, &sp, 1, &out, NULL, err);
  col.release(&col);
  sch.release(&sch);
  if (st != WUDF_OK) return st;
  const int32_t *o = out.buffers[1];
  const char *data = out.buffers[2];
  bool hello = !strcmp(udf, "hello");
  for (int i = 0; i < n && st == WUDF_OK; i++) {
    uint32_t want = hello ? 5 : lens[i];
    bool same = (uint32_t)(o[i + 1] - o[i]) == want;
    for (uint32_t k = 0; same && k < want; k++)
      same = data[o[i] + (int32_t)k] == (hello ? "hello"[k] : '\0');
    if (!same) {
      snprintf(err->message, sizeof err->message, "row %d: wrong string", i);
      st = WUDF_ERR_TYPE;
    }
  }
  out.release(&out);
  return st;
}

/* A string result the engine copies out: inside memory it is copied, else
 * a clean error naming the row, and the instance goes on. */
TEST(hostile_string_results_outside_memory) {
  int bad = 0;
  for (size_t i = 0; i < sizeof k_maps / sizeof k_maps[0]; i++) {
    const map_case *c = &k_maps[i];
    wudf_module *m = module(c->file);
    wudf_instance *inst = instance(m);
    CHECK_MSG(inst, "%s: no instance", c->file);
    int64_t rows[2] = {PACK(0, 0), c->row1};
    uint32_t lens[2] = {0, c->result_len};
    wudf_error err = {0};
    wudf_status st = map_rows(inst, "raw", rows, 2, lens, &err);
    bool ok = st == c->want &&
              (!c->text || (strstr(err.message, c->text) &&
                            strstr(err.message, "on row 1") && err.row == 1));
    if (!ok)
      fprintf(stderr, "    case %zu: got %s (%s), expected %s (%s)\n", i,
              wudf_status_name(st), err.message, wudf_status_name(c->want),
              c->text ? c->text : "");
    /* The same instance maps again; the C module's benign UDF too. */
    const char *udf = strcmp(c->file, "udfs.c") ? "raw" : "hello";
    if (ok && map_rows(inst, udf, rows, 1, lens, &err) != WUDF_OK) {
      fprintf(stderr, "    after case %zu: %s\n", i, err.message);
      ok = false;
    }
    ok = ok && process_goes_on(m, inst);
    wudf_instance_free(inst);
    bad += !ok;
  }
  CHECK_EQ_INT(bad, 0);
}

/* ---- modules refused at load or at instantiation ---------------------------
 */

typedef struct load_case {
  const char *file;
  bool at_instantiation; /* false: refused by wudf_module_load */
  wudf_status want;
  const char *text[3]; /* each in the message */
  int32_t exit_code;   /* WUDF_TRAP_EXIT */
} load_case;

// clang-format off
#define AT_INSTANTIATION(f, st, ...)                                    \
  {.file = (f), .at_instantiation = true, .want = (st),                 \
   .text = {__VA_ARGS__}}
#define AT_LOAD(f, st, ...) {.file = (f), .want = (st), .text = {__VA_ARGS__}}
// clang-format on

static const load_case k_loads[] = {
    AT_INSTANTIATION("start_spin.wat", WUDF_TRAP_TIMEOUT, "instantiating",
                     TIMEOUT),
    AT_INSTANTIATION("init_spin.wat", WUDF_TRAP_TIMEOUT, "instantiating",
                     TIMEOUT),
    AT_INSTANTIATION("start_recurse.wat", WUDF_TRAP_STACK_EXHAUSTED,
                     "instantiating", STACK),
    AT_INSTANTIATION("data_past_end.wat", WUDF_TRAP_OOB, "instantiating", OOB),
    AT_INSTANTIATION("elem_past_end.wat", WUDF_TRAP_OOB, "instantiating", OOB),
    {.file = "exit_in_init.wat",
     .at_instantiation = true,
     .want = WUDF_TRAP_EXIT,
     .text = {"instantiating: exited with code 7"},
     .exit_code = 7},
    AT_LOAD("huge_table.wat", WUDF_ERR_LIMIT, "10000001"),
    AT_LOAD("huge_memory.wat", WUDF_ERR_LIMIT, "65536"),
    AT_LOAD("imports_files.wat", WUDF_ERR_IMPORT, "2 imports refused",
            "'wasi_snapshot_preview1'.'path_open'",
            "'wasi_snapshot_preview1'.'sock_recv'"),
    AT_LOAD("imports_unknown.wat", WUDF_ERR_IMPORT, "4 imports refused",
            "'env'.'memory'", "'wasi_unstable'.'fd_write'"),
    AT_LOAD("imports_unknown.wat", WUDF_ERR_IMPORT, "'env'.'system'",
            "'host'.'secret'"),
};

static bool message_has(const wudf_error *err, const char *const *text,
                        size_t n) {
  for (size_t k = 0; k < n; k++)
    if (text[k] && !strstr(err->message, text[k])) return false;
  return true;
}

static bool run_load_case(const load_case *c) {
  wudf_module *m = NULL;
  wudf_instance *inst = NULL;
  wudf_error err = {0};
  wudf_status st = load(c->file, &m, &err);
  bool loaded = st == WUDF_OK;
  wudf_instance_config cfg;
  wudf_instance_config_init(engine(), &cfg);
  if (c->want == WUDF_TRAP_TIMEOUT) cfg.limits.timeout_ms = TIMEOUT_MS;
  if (loaded) st = wudf_instance_new(m, &cfg, &inst, &err);
  bool ok = st == c->want && loaded == c->at_instantiation && !inst &&
            message_has(&err, c->text, 3) &&
            (st != WUDF_TRAP_EXIT || err.exit_code == c->exit_code);
  if (!ok)
    fprintf(stderr, "    %s: got %s (%s), expected %s\n", c->file,
            wudf_status_name(st), err.message, wudf_status_name(c->want));
  /* A second instance of the same module fails the same way. */
  if (ok && loaded) {
    wudf_error again = {0};
    ok = wudf_instance_new(m, &cfg, &inst, &again) == c->want && !inst;
  }
  wudf_instance_free(inst);
  wudf_module_free(m);
  return ok && process_goes_on(NULL, NULL);
}

TEST(hostile_modules_refused_at_load_or_instantiation) {
  int bad = 0;
  for (size_t i = 0; i < sizeof k_loads / sizeof k_loads[0]; i++)
    bad += !run_load_case(&k_loads[i]);
  CHECK_EQ_INT(bad, 0);
}

/* Generated modules too large for the corpus. */

static size_t put_leb(uint8_t *p, uint32_t v) {
  size_t n = 0;
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    p[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
  } while (v);
  return n;
}

/* A module with `nfuncs` empty functions of type () -> (). */
static uint8_t *many_functions(uint32_t nfuncs, size_t *len) {
  size_t cap = 64 + (size_t)nfuncs * 4;
  uint8_t *b = malloc(cap), *p = b;
  if (!b) return NULL;
  static const uint8_t head[] = {0, 'a', 's', 'm', 1,    0, 0,
                                 0, 1,   4,   1,   0x60, 0, 0};
  memcpy(p, head, sizeof head);
  p += sizeof head;
  uint8_t count[5];
  size_t nc = put_leb(count, nfuncs);
  *p++ = 3; /* function section: count, then type 0 for each */
  p += put_leb(p, (uint32_t)(nc + nfuncs));
  memcpy(p, count, nc);
  p += nc;
  memset(p, 0, nfuncs);
  p += nfuncs;
  *p++ = 10; /* code section: count, then {size 2, no locals, end} each */
  p += put_leb(p, (uint32_t)(nc + (size_t)nfuncs * 3));
  memcpy(p, count, nc);
  p += nc;
  for (uint32_t i = 0; i < nfuncs; i++, p += 3) memcpy(p, "\x02\x00\x0b", 3);
  *len = (size_t)(p - b);
  return b;
}

/* One function whose body nests `depth` blocks. */
static uint8_t *nested_blocks(uint32_t depth, size_t *len) {
  size_t body = 1 + (size_t)depth * 3 + 1;
  uint8_t *b = malloc(64 + body), *p = b;
  if (!b) return NULL;
  static const uint8_t head[] = {0, 'a', 's',  'm', 1, 0, 0, 0, 1,
                                 4, 1,   0x60, 0,   0, 3, 2, 1, 0};
  memcpy(p, head, sizeof head);
  p += sizeof head;
  uint8_t size[5];
  size_t ns = put_leb(size, (uint32_t)body);
  *p++ = 10;
  p += put_leb(p, (uint32_t)(1 + ns + body));
  *p++ = 1;
  memcpy(p, size, ns);
  p += ns;
  *p++ = 0; /* no locals */
  for (uint32_t i = 0; i < depth; i++, p += 2) memcpy(p, "\x02\x40", 2);
  memset(p, 0x0b, (size_t)depth + 1);
  p += depth + 1;
  *len = (size_t)(p - b);
  return b;
}

TEST(hostile_huge_generated_modules_are_refused_before_compiling) {
  struct {
    uint8_t *(*make)(uint32_t, size_t *);
    uint32_t n;
    const char *text;
  } cases[] = {
      {many_functions, 100000, "100000"},
      {nested_blocks, 100000, "100000 deep"},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t len = 0;
    uint8_t *bytes = cases[i].make(cases[i].n, &len);
    CHECK(bytes && engine());
    wudf_module *m = NULL;
    wudf_error err = {0};
    wudf_status st = wudf_module_load(g_engine, bytes, len, "gen", &m, &err);
    free(bytes);
    wudf_module_free(m);
    bool ok = st == WUDF_ERR_LIMIT && strstr(err.message, cases[i].text);
    if (!ok)
      fprintf(stderr, "    case %zu: %s: %s\n", i, wudf_status_name(st),
              err.message);
    bad += !ok || !process_goes_on(NULL, NULL);
  }
  CHECK_EQ_INT(bad, 0);
}

/* ---- a hostile allocator ---------------------------------------------------
 */

typedef struct alloc_case {
  int32_t mode; /* see tests/hostile/bad_alloc.wat */
  bool empty;   /* the strings are all empty: a 0-byte block */
  wudf_status want;
  const char *text;
} alloc_case;

// clang-format off
#define BLOCK(addr)                                                     \
  "wudf_alloc(5) returned address " #addr ", outside the module's memory"
// clang-format on

static const alloc_case k_allocs[] = {
    {1, false, WUDF_TRAP_MEMORY_LIMIT,
     "wudf_alloc(5) returned 0 for column 's'"},
    {1, true, WUDF_OK, NULL},
    {2, false, WUDF_TRAP_OOB, BLOCK(65535)},
    {3, false, WUDF_TRAP_OOB, BLOCK(4294967295)},
    {4, false, WUDF_TRAP_UNREACHABLE, UNREACHABLE},
    {5, false, WUDF_TRAP_TIMEOUT, TIMEOUT},
    {6, false, WUDF_OK, NULL},
    {7, false, WUDF_TRAP_OOB, BLOCK(65532)},
    {9, false, WUDF_TRAP_UNREACHABLE, UNREACHABLE},
};

/* Maps len over two strings ("abc", "de", or two empty ones). */
static wudf_status map_len(wudf_instance *inst, bool empty, wudf_error *err) {
  wudf_array_builder *b = NULL;
  struct ArrowArray col, out;
  struct ArrowSchema sch;
  if (wudf_array_builder_new(WUDF_TYPE_UTF8, 2, &b, err)) return err->status;
  wudf_array_builder_append_string(b, empty ? "" : "abc", empty ? 0 : 3);
  wudf_array_builder_append_string(b, empty ? "" : "de", empty ? 0 : 2);
  wudf_status st = wudf_array_builder_finish(b, "s", &col, &sch, err);
  wudf_array_builder_free(b);
  if (st != WUDF_OK) return st;
  const struct ArrowArray *cp = &col;
  const struct ArrowSchema *sp = &sch;
  st = wudf_instance_map(inst, "len", &cp, &sp, 1, &out, NULL, err);
  col.release(&col);
  sch.release(&sch);
  if (st != WUDF_OK) return st;
  const int32_t *v = out.buffers[1];
  bool right = v[0] == (empty ? 0 : 3) && v[1] == (empty ? 0 : 2);
  out.release(&out);
  if (right) return WUDF_OK;
  snprintf(err->message, sizeof err->message, "len gave %d, %d", v[0], v[1]);
  return WUDF_ERR_TYPE;
}

/* The host copies a batch's strings into the block wudf_alloc returns: a
 * block that does not fit, no block, a trap or a hang in the allocator all
 * end the batch before its first row; the instance goes on. */
TEST(hostile_allocator_fails_the_batch_cleanly) {
  wudf_module *m = module("bad_alloc.wat");
  CHECK(m);
  int bad = 0;
  for (size_t i = 0; i < sizeof k_allocs / sizeof k_allocs[0]; i++) {
    const alloc_case *c = &k_allocs[i];
    wudf_instance *inst = case_instance(m, c->want);
    CHECK(inst);
    wudf_val mode = test_i32(c->mode), zero = test_i32(0);
    wudf_error err = {0};
    wudf_instance_call(inst, "set_mode", &mode, 1, NULL, 0, &err);
    wudf_status st = map_len(inst, c->empty, &err);
    bool ok = st == c->want;
    if (ok && c->text)
      ok = strstr(err.message, c->text) &&
           strstr(err.message, "len: preparing a batch: ") && err.row == -1;
    if (!ok)
      fprintf(stderr, "    mode %d: got %s (%s), expected %s (%s)\n", c->mode,
              wudf_status_name(st), err.message, wudf_status_name(c->want),
              c->text ? c->text : "");
    wudf_instance_call(inst, "set_mode", &zero, 1, NULL, 0, &err);
    if (ok && map_len(inst, false, &err) != WUDF_OK) {
      fprintf(stderr, "    after mode %d: %s\n", c->mode, err.message);
      ok = false;
    }
    ok = ok && process_goes_on(m, inst);
    wudf_instance_free(inst);
    bad += !ok;
  }
  CHECK_EQ_INT(bad, 0);
}

/* ---- threads ---------------------------------------------------------------
 */

typedef struct chaos_worker {
  int id, iterations, wrong;
} chaos_worker;

#define NCALLS (sizeof k_calls / sizeof k_calls[0])
#define NMAPS (sizeof k_maps / sizeof k_maps[0])

/* A worker's instances: c and t take the hostile calls (and their state
 * changes), cs and ts those that must time out, cm and tm the string
 * results. */
typedef struct chaos_set {
  wudf_instance *c, *t, *cs, *ts, *cm, *tm;
} chaos_set;

/* One hostile call and one hostile string result per iteration, each
 * followed by benign calls whose results are checked. Time-outs (100 ms
 * each) run on every 8th turn only, to keep the test short. */
static void chaos_turn(chaos_worker *w, const chaos_set *s, int i) {
  const call_case *h = &k_calls[(size_t)(w->id * 7 + i) % NCALLS];
  bool in_c = !strcmp(h->file, "udfs.c");
  if (h->want == WUDF_TRAP_TIMEOUT && i % 8 == 0)
    w->wrong += !run_call_case(h, in_c ? s->cs : s->ts, false);
  else if (h->want != WUDF_TRAP_TIMEOUT && !h->fresh_only)
    w->wrong += !run_call_case(h, in_c ? s->c : s->t, false);
  const map_case *mc = &k_maps[(size_t)(w->id + i) % NMAPS];
  int64_t rows[2] = {PACK(0, 0), mc->row1};
  uint32_t lens[2] = {0, mc->result_len};
  wudf_error err = {0};
  wudf_instance *mi = !strcmp(mc->file, "udfs.c") ? s->cm : s->tm;
  wudf_status st = map_rows(mi, "raw", rows, 2, lens, &err);
  if (st != mc->want)
    fprintf(stderr, "    raw %s: %s\n", mc->file, err.message);
  w->wrong += st != mc->want;
  w->wrong += !add_works(s->c, i, w->id) || !add_works(s->t, w->id, i);
  w->wrong += map_rows(s->cm, "hello", rows, 1, lens, &err) != WUDF_OK;
}

static void *chaos_run(void *p) {
  chaos_worker *w = p;
  wudf_module *c = module("udfs.c"), *t = module("traps.wat");
  chaos_set s = {instance(c),
                 instance(t),
                 instance_ms(c, TIMEOUT_MS),
                 instance_ms(t, TIMEOUT_MS),
                 instance(c),
                 instance(t)};
  bool ready = s.c && s.t && s.cs && s.ts && s.cm && s.tm;
  w->wrong += !ready;
  for (int i = 0; ready && i < w->iterations; i++) chaos_turn(w, &s, i);
  wudf_instance *all[] = {s.c, s.t, s.cs, s.ts, s.cm, s.tm};
  for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
    wudf_instance_free(all[k]);
  return NULL;
}

/* A number from /proc/self/status ("VmSize:" in kB), or -1. */
static long long proc_status(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long long v = -1;
  size_t n = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, n)) v = atoll(line + n);
  if (f) fclose(f);
  return v;
}

static int open_fds(void) {
  int n = 0;
  for (int fd = 0; fd < 4096; fd++) n += fcntl(fd, F_GETFD) != -1;
  return n;
}

/* Threads interleave hostile and benign calls on their own instances: every
 * benign result is right, every hostile call ends as it does alone, and
 * afterwards no memory reservation (8 GiB of address space each), timer or
 * file descriptor is left behind. */
TEST(hostile_and_benign_calls_from_many_threads) {
  CHECK(module("udfs.c") && module("traps.wat"));
  enum { N = 4, ITERATIONS = 120 };
  long long vm_before = proc_status("VmSize:");
  int fds_before = open_fds();
  pthread_t t[N];
  chaos_worker w[N];
  for (int i = 0; i < N; i++) {
    w[i] = (chaos_worker){i, ITERATIONS, 0};
    CHECK(pthread_create(&t[i], NULL, chaos_run, &w[i]) == 0);
  }
  int wrong = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    wrong += w[i].wrong;
  }
  long long vm_after = proc_status("VmSize:");
  int fds_after = open_fds();
  CHECK_EQ_INT(wrong, 0);
  CHECK(witness_intact());
  /* Thread arenas and cached thread stacks may stay; one leaked memory
   * reservation alone would be 8 GiB. */
  CHECK_MSG(vm_after - vm_before < (2ll << 20), "VmSize grew by %lld kB",
            vm_after - vm_before);
  CHECK_EQ_INT(fds_after, fds_before);
}

/* ---- stacks ----------------------------------------------------------------
 */

/* A recursive function with `nlocals` i64 locals loaded from memory before
 * the recursive call and summed after it: each frame holds them all, far
 * more than one 4 KiB guard page. */
static char *fat_frames_wat(int nlocals) {
  size_t cap = 256 + (size_t)nlocals * 128;
  char *w = malloc(cap);
  if (!w) return NULL;
  size_t n = (size_t)snprintf(
      w, cap,
      "(module (memory 1)\n (func $fat (export \"fat\") (param i32) (result "
      "i64)\n");
  for (int i = 0; i < nlocals; i++)
    n += (size_t)snprintf(w + n, cap - n, " (local i64)");
  for (int i = 0; i < nlocals; i++)
    n += (size_t)snprintf(
        w + n, cap - n, "\n  (local.set %d (i64.load offset=%d (i32.const 0)))",
        i + 1, (i * 8) % 65528);
  n += (size_t)snprintf(w + n, cap - n,
                        "\n  local.get 0 i32.eqz if (result i64) i64.const 0 "
                        "else local.get 0 i32.const 1 i32.sub call $fat");
  for (int i = 0; i < nlocals; i++)
    n += (size_t)snprintf(w + n, cap - n, " local.get %d i64.add", i + 1);
  snprintf(w + n, cap - n, " end))\n");
  return w;
}

typedef struct fat_call {
  wudf_instance *inst;
  wudf_status deep, shallow;
  int64_t result;
} fat_call;

static void *fat_run(void *p) {
  fat_call *f = p;
  wudf_val a = test_i32(1000000), r;
  wudf_error err = {0};
  f->deep = wudf_instance_call(f->inst, "fat", &a, 1, &r, 1, &err);
  a = test_i32(3);
  f->shallow = wudf_instance_call(f->inst, "fat", &a, 1, &r, 1, &err);
  f->result = r.of.i64;
  return NULL;
}

/* Frames of 8 KiB on a 256 KiB thread stack with one guard page: the
 * generated code probes each page of a large frame (stack clash
 * protection), so the overflow faults in the guard instead of jumping over
 * it into other memory, and is reported as stack exhaustion. */
TEST(hostile_huge_frames_on_a_small_thread_stack) {
  char *wat = fat_frames_wat(1024);
  CHECK(wat && engine());
  wudf_error err = {0};
  wudf_module *m = test_load_wat(g_engine, wat, &err);
  free(wat);
  CHECK_MSG(m, "%s", err.message);
  fat_call f = {instance(m), WUDF_OK, WUDF_ERR_ARG, -1};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 << 10);
  pthread_t t;
  bool started = f.inst && pthread_create(&t, &attr, fat_run, &f) == 0;
  if (started) pthread_join(t, NULL);
  pthread_attr_destroy(&attr);
  wudf_instance_free(f.inst);
  wudf_module_free(m);
  CHECK(started);
  CHECK_EQ_INT(f.deep, WUDF_TRAP_STACK_EXHAUSTED);
  CHECK_EQ_INT(f.shallow, WUDF_OK);
  CHECK_EQ_INT(f.result, 0); /* memory is zero */
  CHECK(process_goes_on(NULL, NULL));
}

static wudf_instance *g_co_inst;
static wudf_status g_co_status;
static wudf_error g_co_err;
static ucontext_t g_co_main, g_co_ctx;

static void co_body(void) {
  wudf_val a = test_i32(1000000000), r;
  g_co_status =
      wudf_instance_call(g_co_inst, "recurse", &a, 1, &r, 1, &g_co_err);
}

/* Stack exhaustion is caught in the guard region below the thread's own
 * stack. On another stack (a coroutine's, from makecontext) it could not
 * be, and unbounded recursion would write over the memory below that
 * stack: calls from such a stack are refused. */
TEST(hostile_call_from_a_coroutine_stack_is_refused) {
  wudf_instance *inst = instance(module("udfs.c"));
  CHECK(inst);
  size_t total = 1u << 20, size = 256u << 10;
  unsigned char *region = malloc(total);
  CHECK(region);
  memset(region, 0xab, total);
  g_co_inst = inst;
  g_co_status = WUDF_OK;
  getcontext(&g_co_ctx);
  g_co_ctx.uc_stack.ss_sp = region + total - size;
  g_co_ctx.uc_stack.ss_size = size;
  g_co_ctx.uc_link = &g_co_main;
  makecontext(&g_co_ctx, co_body, 0);
  swapcontext(&g_co_main, &g_co_ctx);
  size_t clobbered = 0;
  for (size_t i = 0; i < total - size; i++) clobbered += region[i] != 0xab;
  free(region);
  bool ok = add_works(inst, 1, 1);
  wudf_instance_free(inst);
  CHECK_STATUS(g_co_status, WUDF_ERR_UNSUPPORTED, &g_co_err);
  CHECK_CONTAINS(g_co_err.message, "stack");
  CHECK_EQ_INT(clobbered, 0);
  CHECK(ok);
}

/* A host thread that starts with every signal blocked, as thread pools
 * often do: the time limit still fires, an out-of-bounds access is still a
 * trap (a blocked SIGSEGV would make the kernel kill the process), and the
 * benign call after them works. */
typedef struct blocked_call {
  wudf_status spin, oob;
  bool add_ok;
} blocked_call;

static void *blocked_run(void *p) {
  blocked_call *b = p;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  wudf_instance *inst = instance_ms(module("traps.wat"), TIMEOUT_MS);
  wudf_error err = {0};
  wudf_val a = test_i32(-1), r;
  if (inst) {
    b->spin = wudf_instance_call(inst, "spin_calls", NULL, 0, NULL, 0, &err);
    b->oob = wudf_instance_call(inst, "load_far", &a, 1, &r, 1, &err);
    b->add_ok = add_works(inst, 20, 22);
  }
  wudf_instance_free(inst);
  return NULL;
}

TEST(hostile_calls_on_a_thread_that_blocks_every_signal) {
  CHECK(module("traps.wat"));
  blocked_call b = {WUDF_OK, WUDF_OK, false};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, blocked_run, &b) == 0);
  pthread_join(t, NULL);
  CHECK_EQ_INT(b.spin, WUDF_TRAP_TIMEOUT);
  CHECK_EQ_INT(b.oob, WUDF_TRAP_OOB);
  CHECK(b.add_ok);
}

/* ---- the WAT cases against wabt's reference interpreter --------------------
 */

/* What wabt's spectest-interp says for each trap. */
static const char *wabt_text(wudf_status st) {
  switch (st) {
    case WUDF_TRAP_OOB:
      return "out of bounds";
    case WUDF_TRAP_DIV_BY_ZERO:
      return "integer divide by zero";
    case WUDF_TRAP_INT_OVERFLOW:
      return "integer overflow";
    case WUDF_TRAP_INVALID_CONVERSION:
      return "invalid conversion to integer";
    case WUDF_TRAP_UNREACHABLE:
      return "unreachable executed";
    case WUDF_TRAP_INDIRECT_TYPE:
      return "indirect call signature mismatch";
    case WUDF_TRAP_UNDEFINED_ELEMENT:
      return "table";
    default:
      return NULL;
  }
}

static void wast_value(FILE *f, const wudf_val *v) {
  const char *t = wudf_valtype_str(v->type);
  double d = v->type == WUDF_F32 ? (double)v->of.f32 : v->of.f64;
  if (v->type == WUDF_I32) fprintf(f, " (i32.const %d)", v->of.i32);
  if (v->type == WUDF_I64)
    fprintf(f, " (i64.const %lld)", (long long)v->of.i64);
  if ((v->type == WUDF_F32 || v->type == WUDF_F64) && d != d)
    fprintf(f, " (%s.const nan)", t);
  else if (v->type == WUDF_F32 || v->type == WUDF_F64)
    fprintf(f, " (%s.const %a)", t, d);
}

/* One assertion for case c, after a fresh copy of the module (`binary`).
 * Returns the wabt message expected on its line, "" for none, NULL if the
 * case is not for the interpreter (time-outs, the cap). */
static const char *wast_case(FILE *f, const char *binary, const call_case *c) {
  if (strcmp(c->file, "traps.wat") || c->want == WUDF_TRAP_TIMEOUT || c->at_cap)
    return NULL;
  wudf_module *m = module("traps.wat");
  wudf_extern_info info;
  int64_t x = wudf_module_export_index(m, c->func, strlen(c->func));
  if (x < 0 || wudf_module_export(m, (uint32_t)x, &info)) return NULL;
  fprintf(f, "%s\n", binary);
  bool stack = c->want == WUDF_TRAP_STACK_EXHAUSTED;
  fprintf(f, "(%s (invoke \"%s\"",
          c->want == WUDF_OK ? "assert_return"
          : stack            ? "assert_exhaustion"
                             : "assert_trap",
          c->func);
  for (uint32_t i = 0; i < c->nargs; i++) wast_value(f, &c->args[i]);
  fprintf(f, ")");
  wudf_val r = {info.nresults ? info.results[0] : WUDF_I32, {.i64 = 0}};
  if (r.type == WUDF_I32) r.of.i32 = (int32_t)c->result;
  if (r.type == WUDF_I64) r.of.i64 = c->result;
  if (c->want == WUDF_OK && info.nresults) wast_value(f, &r);
  fprintf(f, c->want == WUDF_OK ? ")\n" : " \"trap\")\n");
  return c->want == WUDF_OK || stack ? "" : wabt_text(c->want);
}

/* Runs the WAT cases' expectations through wast2json and spectest-interp,
 * a WebAssembly implementation that shares no code with wudf: each must
 * pass there, and each trap must be the one the table names. */
TEST(hostile_wat_expectations_match_the_reference_interpreter) {
  size_t len;
  uint8_t *bytes = hostile_bytes("traps.wat", &len);
  CHECK(bytes && module("traps.wat"));
  size_t cap = 32 + len * 4;
  char *binary = malloc(cap), dir[400], path[500], cmd[1400];
  CHECK(binary);
  size_t n = (size_t)snprintf(binary, cap, "(module binary \"");
  for (size_t i = 0; i < len; i++)
    n += (size_t)snprintf(binary + n, cap - n, "\\%02x", bytes[i]);
  snprintf(binary + n, cap - n, "\")");
  free(bytes);
  snprintf(dir, sizeof dir, "%s/wabt", test_tmpdir());
  snprintf(path, sizeof path, "%s/traps.wast", dir);
  FILE *f = mkdir(dir, 0700) == 0 ? fopen(path, "w") : NULL;
  const char *want[sizeof k_calls / sizeof k_calls[0] * 2 + 1] = {NULL};
  int line = 1, asserts = 0;
  for (size_t i = 0; f && i < sizeof k_calls / sizeof k_calls[0]; i++) {
    const char *w = wast_case(f, binary, &k_calls[i]);
    if (!w) continue;
    want[line + 1] = w; /* line `line` holds the module */
    line += 2;
    asserts++;
  }
  free(binary);
  CHECK(f && fclose(f) == 0);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && wast2json traps.wast -o traps.json && "
           "spectest-interp traps.json > out.txt 2>&1",
           dir);
  int rc = system(cmd);
  snprintf(path, sizeof path, "%s/out.txt", dir);
  FILE *out = fopen(path, "r");
  char text[512], summary[64];
  /* Each module command counts as a test too. */
  snprintf(summary, sizeof summary, "%d/%d tests passed.", 2 * asserts,
           2 * asserts);
  bool passed = false;
  int bad = 0, at;
  while (out && fgets(text, sizeof text, out)) {
    passed |= !strncmp(text, summary, strlen(summary));
    if (strstr(text, "tests passed.") && !passed)
      fprintf(stderr, "    wabt: %s", text);
    if (sscanf(text, "traps.wast:%d:", &at) != 1 || at <= 0 || at >= line)
      continue;
    if (want[at] && *want[at] && strstr(text, want[at])) continue;
    fprintf(stderr, "    wabt: %s", text);
    bad++;
  }
  if (out) fclose(out);
  CHECK_EQ_INT(rc, 0);
  CHECK_MSG(passed, "spectest-interp did not pass all %d assertions", asserts);
  CHECK_EQ_INT(bad, 0);
}
