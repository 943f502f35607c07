/* Modules and instances end to end: calls, traps, limits, output, rebuild. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "testutil.h"

static const char k_basic_wat[] =
    "(module\n"
    "  (memory (export \"memory\") 1)\n"
    "  (global $count (export \"count\") (mut i32) (i32.const 0))\n"
    "  (func (export \"add\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 i32.add)\n"
    "  (func (export \"adj\") (param i32 f32) (result f32)\n"
    "    local.get 0 f32.convert_i32_s local.get 1 f32.mul\n"
    "    local.get 0 i32.const 1000 i32.div_s f32.convert_i32_s f32.add)\n"
    "  (func (export \"mix\") (param i64 f64) (result f64 i64)\n"
    "    local.get 1 local.get 0)\n"
    "  (func (export \"bump\") (result i32)\n"
    "    global.get $count i32.const 1 i32.add global.set $count\n"
    "    global.get $count)\n"
    "  (func (export \"div\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 i32.div_s)\n"
    "  (func (export \"trunc\") (param f64) (result i32)\n"
    "    local.get 0 i32.trunc_f64_s)\n"
    "  (func (export \"unreachable\") unreachable)\n"
    "  (func (export \"load\") (param i32) (result i32)\n"
    "    local.get 0 i32.load)\n"
    "  (func (export \"store\") (param i32 i32)\n"
    "    local.get 0 local.get 1 i32.store)\n"
    "  (func (export \"grow\") (param i32) (result i32)\n"
    "    local.get 0 memory.grow)\n"
    "  (func $rec (export \"recurse\") (param i32) (result i32)\n"
    "    local.get 0 i32.const 1 i32.add call $rec)\n"
    "  (func (export \"spin\") (loop br 0))\n"
    "  (type $ii (func (param i32) (result i32)))\n"
    "  (table 2 funcref)\n"
    "  (elem (i32.const 0) $id)\n"
    "  (func $id (param i32) (result i32) local.get 0)\n"
    "  (func (export \"indirect\") (param i32 i32) (result i32)\n"
    "    local.get 0 local.get 1 call_indirect (type $ii))\n"
    "  (func (export \"indirect_bad_type\") (result i32)\n"
    "    i32.const 0 call_indirect (result i32))\n"
    ")\n";

typedef struct fixture {
  wudf_engine *engine;
  wudf_module *module;
  wudf_instance *inst;
  wudf_error err;
} fixture;

static int setup(fixture *f, const wudf_limits *limits) {
  memset(f, 0, sizeof *f);
  f->engine = test_engine(NULL, limits);
  if (!f->engine) return -1;
  f->module = test_load_wat(f->engine, k_basic_wat, &f->err);
  if (!f->module) return -1;
  return wudf_instance_new(f->module, NULL, &f->inst, &f->err) ? -1 : 0;
}

static void teardown(fixture *f) {
  wudf_instance_free(f->inst);
  wudf_module_free(f->module);
  wudf_engine_free(f->engine);
}

static wudf_status call1(fixture *f, const char *name, wudf_val *args,
                         uint32_t nargs, wudf_val *result) {
  return wudf_instance_call(f->inst, name, args, nargs, result, result ? 1 : 0,
                            &f->err);
}

TEST(instance_calls_with_every_value_type) {
  fixture f;
  if (setup(&f, NULL)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  wudf_val a[2] = {test_i32(40), test_i32(2)}, r[2];
  CHECK_STATUS(call1(&f, "add", a, 2, r), WUDF_OK, &f.err);
  CHECK_EQ_INT(r[0].of.i32, 42);
  /* The seed's calculate_adj_bal: 12507 * 0.46f + 12507 / 1000. */
  a[0] = test_i32(12507);
  a[1] = test_f32(0.46f);
  CHECK_STATUS(call1(&f, "adj", a, 2, r), WUDF_OK, &f.err);
  CHECK(r[0].of.f32 == (float)12507 * 0.46f + 12.0f);
  a[0] = test_i64(-5000000000LL);
  a[1] = test_f64(2.5);
  CHECK_STATUS(wudf_instance_call(f.inst, "mix", a, 2, r, 2, &f.err), WUDF_OK,
               &f.err);
  CHECK(r[0].type == WUDF_F64 && r[0].of.f64 == 2.5);
  CHECK(r[1].type == WUDF_I64 && r[1].of.i64 == -5000000000LL);
  teardown(&f);
}

TEST(instance_refuses_wrong_calls) {
  fixture f;
  if (setup(&f, NULL)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  wudf_val a[2] = {test_i32(1), test_f32(2)}, r[1];
  CHECK_STATUS(call1(&f, "nope", a, 2, r), WUDF_ERR_NOT_FOUND, &f.err);
  CHECK_CONTAINS(f.err.message, "nope");
  CHECK_STATUS(call1(&f, "add", a, 1, r), WUDF_ERR_TYPE, &f.err);
  CHECK_STATUS(call1(&f, "add", a, 2, r), WUDF_ERR_TYPE, &f.err);
  CHECK_CONTAINS(f.err.message, "argument 2");
  CHECK_STATUS(call1(&f, "count", a, 0, r), WUDF_ERR_NOT_FOUND, &f.err);
  teardown(&f);
}

/* Each trap kind, named in the message, and the instance works afterwards. */
TEST(instance_traps_are_reported_and_recovered) {
  fixture f;
  if (setup(&f, NULL)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  struct {
    const char *fn;
    wudf_val args[2];
    uint32_t nargs, nres;
    wudf_status want;
    const char *text;
  } cases[] = {
      {"div",
       {{WUDF_I32, {.i32 = 1}}, {WUDF_I32, {.i32 = 0}}},
       2,
       1,
       WUDF_TRAP_DIV_BY_ZERO,
       "divide by zero"},
      {"div",
       {{WUDF_I32, {.i32 = INT32_MIN}}, {WUDF_I32, {.i32 = -1}}},
       2,
       1,
       WUDF_TRAP_INT_OVERFLOW,
       "integer overflow"},
      {"trunc",
       {{WUDF_F64, {.f64 = NAN}}},
       1,
       1,
       WUDF_TRAP_INVALID_CONVERSION,
       "invalid conversion"},
      {"trunc",
       {{WUDF_F64, {.f64 = 3e9}}},
       1,
       1,
       WUDF_TRAP_INT_OVERFLOW,
       "integer overflow"},
      {"unreachable", {{0}}, 0, 0, WUDF_TRAP_UNREACHABLE, "unreachable"},
      {"load",
       {{WUDF_I32, {.i32 = 65533}}},
       1,
       1,
       WUDF_TRAP_OOB,
       "out-of-bounds"},
      {"load", {{WUDF_I32, {.i32 = -1}}}, 1, 1, WUDF_TRAP_OOB, "out-of-bounds"},
      {"recurse",
       {{WUDF_I32, {.i32 = 0}}},
       1,
       1,
       WUDF_TRAP_STACK_EXHAUSTED,
       "stack exhausted"},
      {"indirect",
       {{WUDF_I32, {.i32 = 5}}, {WUDF_I32, {.i32 = 1}}},
       2,
       1,
       WUDF_TRAP_UNDEFINED_ELEMENT,
       "undefined table element"},
      {"indirect",
       {{WUDF_I32, {.i32 = 5}}, {WUDF_I32, {.i32 = 9}}},
       2,
       1,
       WUDF_TRAP_UNDEFINED_ELEMENT,
       "undefined table element"},
      {"indirect_bad_type",
       {{0}},
       0,
       1,
       WUDF_TRAP_INDIRECT_TYPE,
       "type mismatch"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wudf_val r[1];
    wudf_status st =
        wudf_instance_call(f.inst, cases[i].fn, cases[i].args, cases[i].nargs,
                           r, cases[i].nres, &f.err);
    CHECK_MSG(st == cases[i].want, "case %zu (%s): got %s: %s", i, cases[i].fn,
              wudf_status_name(st), f.err.message);
    CHECK_CONTAINS(f.err.message, cases[i].text);
    CHECK_CONTAINS(f.err.message, cases[i].fn);
    wudf_val a[2] = {test_i32(2), test_i32(3)};
    CHECK_STATUS(call1(&f, "add", a, 2, r), WUDF_OK, &f.err);
    CHECK_EQ_INT(r[0].of.i32, 5);
  }
  wudf_val a[2] = {test_i32(7), test_i32(0)}, r[1];
  CHECK_STATUS(call1(&f, "indirect", a, 2, r), WUDF_OK, &f.err);
  CHECK_EQ_INT(r[0].of.i32, 7);
  teardown(&f);
}

TEST(instance_is_rebuilt_after_a_trap) {
  fixture f;
  if (setup(&f, NULL)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  wudf_val r[1], a[2] = {test_i32(8), test_i32(1234)};
  CHECK_STATUS(call1(&f, "bump", NULL, 0, r), WUDF_OK, &f.err);
  CHECK_STATUS(call1(&f, "bump", NULL, 0, r), WUDF_OK, &f.err);
  CHECK_EQ_INT(r[0].of.i32, 2);
  CHECK_STATUS(call1(&f, "store", a, 2, NULL), WUDF_OK, &f.err);
  CHECK_STATUS(call1(&f, "unreachable", NULL, 0, NULL), WUDF_TRAP_UNREACHABLE,
               &f.err);
  /* Fresh state: the global starts over and memory is zero again. */
  CHECK_STATUS(call1(&f, "bump", NULL, 0, r), WUDF_OK, &f.err);
  CHECK_EQ_INT(r[0].of.i32, 1);
  CHECK_STATUS(call1(&f, "load", a, 1, r), WUDF_OK, &f.err);
  CHECK_EQ_INT(r[0].of.i32, 0);
  teardown(&f);
}

TEST(instance_keeps_state_on_trap_when_asked) {
  fixture f;
  if (setup(&f, NULL)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  wudf_instance *keep;
  wudf_instance_config cfg;
  wudf_instance_config_init(f.engine, &cfg);
  cfg.keep_state_on_trap = true;
  CHECK_STATUS(wudf_instance_new(f.module, &cfg, &keep, &f.err), WUDF_OK,
               &f.err);
  wudf_val r[1];
  wudf_instance_call(keep, "bump", NULL, 0, r, 1, &f.err);
  wudf_instance_call(keep, "unreachable", NULL, 0, NULL, 0, &f.err);
  wudf_status st = wudf_instance_call(keep, "bump", NULL, 0, r, 1, &f.err);
  wudf_val g;
  wudf_instance_get_global(keep, "count", &g, &f.err);
  wudf_instance_free(keep);
  teardown(&f);
  CHECK_EQ_INT(st, WUDF_OK);
  CHECK_EQ_INT(r[0].of.i32, 2);
  CHECK(g.type == WUDF_I32 && g.of.i32 == 2);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

TEST(instance_time_limit_stops_infinite_loop) {
  wudf_limits lim;
  wudf_limits_init(&lim);
  lim.timeout_ms = 100;
  fixture f;
  if (setup(&f, &lim)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  double t0 = now_ms();
  wudf_status st = call1(&f, "spin", NULL, 0, NULL);
  double took = now_ms() - t0;
  wudf_val a[2] = {test_i32(1), test_i32(1)}, r[1];
  wudf_status after = call1(&f, "add", a, 2, r);
  teardown(&f);
  CHECK_EQ_INT(st, WUDF_TRAP_TIMEOUT);
  /* Generous bound: the point is that it stops, not how precisely. */
  CHECK_MSG(took < 5000, "stopped after %.0f ms", took);
  CHECK_EQ_INT(after, WUDF_OK);
  CHECK_EQ_INT(r[0].of.i32, 2);
}

typedef struct interrupt_arg {
  wudf_instance *inst;
  int delay_ms;
} interrupt_arg;

static void *interrupter(void *p) {
  interrupt_arg *a = p;
  usleep((useconds_t)a->delay_ms * 1000);
  wudf_instance_interrupt(a->inst);
  return NULL;
}

TEST(instance_interrupt_from_another_thread) {
  wudf_limits lim;
  wudf_limits_init(&lim);
  lim.timeout_ms = 0; /* only the interrupt can stop it */
  fixture f;
  if (setup(&f, &lim)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  pthread_t t;
  interrupt_arg a = {f.inst, 50};
  pthread_create(&t, NULL, interrupter, &a);
  wudf_status st = call1(&f, "spin", NULL, 0, NULL);
  pthread_join(t, NULL);
  /* An interrupt while idle does nothing: a late one never stops the next
   * call. */
  wudf_instance_interrupt(f.inst);
  wudf_val args[2] = {test_i32(1), test_i32(1)}, r[1];
  wudf_status next = call1(&f, "add", args, 2, r);
  teardown(&f);
  CHECK_EQ_INT(st, WUDF_TRAP_INTERRUPTED);
  CHECK_EQ_INT(next, WUDF_OK);
  CHECK_EQ_INT(r[0].of.i32, 2);
}

TEST(instance_memory_limit_caps_growth) {
  wudf_limits lim;
  wudf_limits_init(&lim);
  lim.memory_bytes = 4u << 16; /* 4 pages */
  fixture f;
  if (setup(&f, &lim)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  wudf_val a[1] = {test_i32(3)}, r[1];
  CHECK_STATUS(call1(&f, "grow", a, 1, r), WUDF_OK, &f.err);
  CHECK_EQ_INT(r[0].of.i32, 1); /* old size in pages */
  CHECK_EQ_INT(wudf_instance_memory_size(f.inst), 4 << 16);
  a[0] = test_i32(1);
  CHECK_STATUS(call1(&f, "grow", a, 1, r), WUDF_OK, &f.err);
  CHECK_EQ_INT(r[0].of.i32, -1); /* refused at the cap */
  /* The last byte of page 4 is readable, the next is not. */
  a[0] = test_i32((4 << 16) - 4);
  CHECK_STATUS(call1(&f, "load", a, 1, r), WUDF_OK, &f.err);
  CHECK_EQ_INT(r[0].of.i32, 0);
  a[0] = test_i32(4 << 16);
  CHECK_STATUS(call1(&f, "load", a, 1, r), WUDF_TRAP_OOB, &f.err);
  teardown(&f);
}

TEST(instance_initial_memory_above_limit_is_refused) {
  wudf_limits lim;
  wudf_limits_init(&lim);
  lim.memory_bytes = 16u << 20;
  wudf_engine *e = test_engine(NULL, &lim);
  CHECK(e);
  wudf_error err = {0};
  wudf_module *m = test_load_wat(e, "(module (memory 1000))", &err);
  wudf_module_free(m);
  wudf_engine_free(e);
  CHECK(m == NULL);
  CHECK_EQ_INT(err.status, WUDF_ERR_LIMIT);
  CHECK_CONTAINS(err.message, "1000");
}

static const char k_wasi_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"fd_write\"\n"
    "    (func $fd_write (param i32 i32 i32 i32) (result i32)))\n"
    "  (import \"wasi_snapshot_preview1\" \"proc_exit\" (func $exit (param "
    "i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (data (i32.const 16) \"hello, sandbox\\n\")\n"
    "  (func (export \"say\") (param i32) (result i32)\n"
    "    (i32.store (i32.const 0) (i32.const 16))\n"
    "    (i32.store (i32.const 4) (i32.const 15))\n"
    "    (block (loop\n"
    "      (br_if 1 (i32.eqz (local.get 0)))\n"
    "      (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1)\n"
    "                            (i32.const 8)))\n"
    "      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))\n"
    "      (br 0)))\n"
    "    (i32.load (i32.const 8)))\n"
    "  (func (export \"quit\") (param i32) (call $exit (local.get 0)))\n"
    ")\n";

TEST(instance_captures_output_with_a_bound) {
  wudf_limits lim;
  wudf_limits_init(&lim);
  lim.output_bytes = 40;
  wudf_engine *e = test_engine(NULL, &lim);
  CHECK(e);
  wudf_error err = {0};
  wudf_module *m = test_load_wat(e, k_wasi_wat, &err);
  wudf_instance *inst = NULL;
  if (m) wudf_instance_new(m, NULL, &inst, &err);
  wudf_val a[1] = {test_i32(2)}, r[1];
  wudf_status st =
      inst ? wudf_instance_call(inst, "say", a, 1, r, 1, &err) : err.status;
  size_t len = 0;
  bool trunc = true;
  char out1[64] = "";
  if (inst) {
    const char *o = wudf_instance_output(inst, &len, &trunc);
    memcpy(out1, o, len < sizeof out1 ? len : sizeof out1 - 1);
  }
  a[0] = test_i32(10);
  wudf_status st2 =
      inst ? wudf_instance_call(inst, "say", a, 1, r, 1, &err) : err.status;
  size_t len2 = 0;
  bool trunc2 = false;
  if (inst) wudf_instance_output(inst, &len2, &trunc2);
  wudf_instance_free(inst);
  wudf_module_free(m);
  wudf_engine_free(e);
  CHECK_MSG(st == WUDF_OK, "%s", err.message);
  CHECK_EQ_INT(len, 30);
  CHECK(!trunc);
  CHECK_MSG(!strcmp(out1, "hello, sandbox\nhello, sandbox\n"), "output: [%s]",
            out1);
  CHECK_EQ_INT(st2, WUDF_OK);
  CHECK_EQ_INT(r[0].of.i32, 15); /* the module is told all was written */
  CHECK_EQ_INT(len2, 40);
  CHECK(trunc2);
}

TEST(instance_proc_exit_ends_the_call_with_its_code) {
  wudf_engine *e = test_engine(NULL, NULL);
  CHECK(e);
  wudf_error err = {0};
  wudf_module *m = test_load_wat(e, k_wasi_wat, &err);
  wudf_instance *inst = NULL;
  if (m) wudf_instance_new(m, NULL, &inst, &err);
  wudf_val a[1] = {test_i32(42)}, r[1];
  wudf_status st =
      inst ? wudf_instance_call(inst, "quit", a, 1, NULL, 0, &err) : err.status;
  int32_t code = err.exit_code;
  char msg[WUDF_ERROR_MESSAGE_SIZE];
  memcpy(msg, err.message, sizeof msg);
  a[0] = test_i32(1);
  wudf_status after =
      inst ? wudf_instance_call(inst, "say", a, 1, r, 1, &err) : err.status;
  wudf_instance_free(inst);
  wudf_module_free(m);
  wudf_engine_free(e);
  CHECK_EQ_INT(st, WUDF_TRAP_EXIT);
  CHECK_EQ_INT(code, 42);
  CHECK_CONTAINS(msg, "exited with code 42");
  CHECK_EQ_INT(after, WUDF_OK);
}

TEST(instance_start_function_trap_fails_instantiation) {
  wudf_engine *e = test_engine(NULL, NULL);
  CHECK(e);
  wudf_error err = {0};
  wudf_module *m =
      test_load_wat(e, "(module (func $s unreachable) (start $s))", &err);
  wudf_instance *inst = NULL;
  wudf_status st = m ? wudf_instance_new(m, NULL, &inst, &err) : err.status;
  wudf_instance_free(inst);
  wudf_module_free(m);
  wudf_engine_free(e);
  CHECK_EQ_INT(st, WUDF_TRAP_UNREACHABLE);
  CHECK_CONTAINS(err.message, "instantiating");
}

/* Many threads, each with its own instance of one module, calling and
 * trapping at once for a fixed number of iterations. */
typedef struct worker {
  wudf_module *module;
  int iterations, wrong, failures;
} worker;

static void *work(void *p) {
  worker *w = p;
  wudf_instance *inst;
  wudf_error err = {0};
  if (wudf_instance_new(w->module, NULL, &inst, &err)) {
    w->failures++;
    return NULL;
  }
  for (int i = 0; i < w->iterations; i++) {
    wudf_val a[2] = {test_i32(i), test_i32(i % 3)}, r[1];
    wudf_status st = wudf_instance_call(inst, "div", a, 2, r, 1, &err);
    if (i % 3 == 0 && st != WUDF_TRAP_DIV_BY_ZERO) w->wrong++;
    if (i % 3 != 0 && (st != WUDF_OK || r[0].of.i32 != i / (i % 3))) w->wrong++;
    a[0] = test_i32(i % 2 ? 70000 : 8);
    st = wudf_instance_call(inst, "load", a, 1, r, 1, &err);
    if (st != (i % 2 ? WUDF_TRAP_OOB : WUDF_OK)) w->wrong++;
  }
  wudf_instance_free(inst);
  return NULL;
}

TEST(instance_many_threads_call_and_trap_at_once) {
  fixture f;
  if (setup(&f, NULL)) {
    teardown(&f);
    CHECK_MSG(0, "setup: %s", f.err.message);
  }
  enum { N = 8 };
  pthread_t t[N];
  worker w[N];
  for (int i = 0; i < N; i++) {
    w[i] = (worker){f.module, 3000, 0, 0};
    pthread_create(&t[i], NULL, work, &w[i]);
  }
  int wrong = 0, failures = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    wrong += w[i].wrong;
    failures += w[i].failures;
  }
  teardown(&f);
  CHECK_EQ_INT(failures, 0);
  CHECK_EQ_INT(wrong, 0);
}
