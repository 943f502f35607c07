/* The process-wide settings (include/wudf.h, "The process"): fixed once,
 * by wudf_runtime_init() or by the first use of the runtime with the
 * defaults, and read without locks afterwards. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "runtime/rt_internal.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool g_started;
/* Written under g_lock before g_started is set; read-only after. */
static wudf_runtime_config g_config;

void wudf_runtime_config_init(wudf_runtime_config *config) {
  if (!config) return;
  memset(config, 0, sizeof *config);
  config->timer_signal = SIGRTMIN + 3;
  config->faults = WUDF_FAULTS_INSTALL;
}

bool wudf_rt_started(void) {
  return atomic_load_explicit(&g_started, memory_order_acquire);
}

int wudf_rt_timer_signal(void) {
  return g_config.timer_signal;
}

wudf_fault_mode wudf_rt_fault_mode(void) {
  return g_config.faults;
}

static const char *mode_name(wudf_fault_mode m) {
  return m == WUDF_FAULTS_HOST ? "WUDF_FAULTS_HOST" : "WUDF_FAULTS_INSTALL";
}

/* The settings with 0 replaced by the default; WUDF_ERR_ARG if invalid. */
static wudf_status normalize(const wudf_runtime_config *in,
                             wudf_runtime_config *out, wudf_error *err) {
  *out = *in;
  if (out->timer_signal == 0) out->timer_signal = SIGRTMIN + 3;
  if (out->timer_signal < SIGRTMIN || out->timer_signal > SIGRTMAX)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "runtime: timer signal %d is not a real-time signal "
                     "(%d..%d)",
                     out->timer_signal, SIGRTMIN, SIGRTMAX);
  if (out->faults != WUDF_FAULTS_INSTALL && out->faults != WUDF_FAULTS_HOST)
    return wudf_fail(err, WUDF_ERR_ARG, "runtime: unknown fault mode %d",
                     (int)out->faults);
  if (!out->realloc) out->realloc_user = NULL;
  return WUDF_OK;
}

/* The runtime already started: the same settings are fine. */
static wudf_status compare(const wudf_runtime_config *c, wudf_error *err) {
  const wudf_runtime_config *g = &g_config;
  if (c->realloc != g->realloc || c->realloc_user != g->realloc_user)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "runtime: already started with another allocator; "
                     "call wudf_runtime_init() before any other wudf call");
  if (c->timer_signal != g->timer_signal)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "runtime: already started with timer signal %d, not %d; "
                     "call wudf_runtime_init() before any other wudf call",
                     g->timer_signal, c->timer_signal);
  if (c->faults != g->faults)
    return wudf_fail(err, WUDF_ERR_ARG,
                     "runtime: already started in %s mode, not %s; call "
                     "wudf_runtime_init() before any other wudf call",
                     mode_name(g->faults), mode_name(c->faults));
  return WUDF_OK;
}

/* Under g_lock: fixes the settings and installs the handlers. */
static wudf_status start(const wudf_runtime_config *c, wudf_error *err) {
  if (!wudf_alloc_set(c->realloc, c->realloc_user))
    return wudf_fail(err, WUDF_ERR_ARG,
                     "runtime: libwudf already allocated memory with the C "
                     "library's allocator; call wudf_runtime_init() before "
                     "any other wudf call");
  g_config = *c;
  wudf_status st = wudf_rt_signals_install(c->timer_signal, c->faults, err);
  if (st == WUDF_OK)
    atomic_store_explicit(&g_started, true, memory_order_release);
  return st;
}

static wudf_status init_locked(const wudf_runtime_config *config,
                               wudf_error *err) {
  wudf_runtime_config c;
  wudf_status st = normalize(config, &c, err);
  if (st != WUDF_OK) return st;
  int rc = pthread_mutex_lock(&g_lock);
  if (rc != 0)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "runtime: locking: %s",
                     strerror(rc));
  st = wudf_rt_started() ? compare(&c, err) : start(&c, err);
  (void)pthread_mutex_unlock(&g_lock);
  return st;
}

wudf_status wudf_runtime_init(const wudf_runtime_config *config,
                              wudf_error *err) {
  if (!config) return wudf_fail(err, WUDF_ERR_ARG, "runtime: config is NULL");
  return init_locked(config, err);
}

wudf_status wudf_rt_init(wudf_error *err) {
  if (wudf_rt_started()) return WUDF_OK;
  wudf_runtime_config c;
  wudf_runtime_config_init(&c);
  wudf_status st = init_locked(&c, err);
  /* Another thread may have started it with other settings meanwhile. */
  return st == WUDF_ERR_ARG && wudf_rt_started() ? WUDF_OK : st;
}

wudf_status wudf_runtime_check(bool repair, wudf_error *err) {
  if (!wudf_rt_started()) return WUDF_OK; /* nothing installed yet */
  int rc = pthread_mutex_lock(&g_lock);
  if (rc != 0)
    return wudf_fail(err, WUDF_ERR_SYSTEM, "runtime: locking: %s",
                     strerror(rc));
  wudf_status st = wudf_rt_signals_check(repair, err);
  (void)pthread_mutex_unlock(&g_lock);
  return st;
}
