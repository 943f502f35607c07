/*
 * wudf_pg.c — module initialisation: settings, the engine, signals.
 *
 * Signals. PostgreSQL's SIGINT handler (query cancel, statement_timeout,
 * which sends SIGINT to the backend itself) and SIGTERM handler
 * (pg_terminate_backend) only set flags that CHECK_FOR_INTERRUPTS() reads;
 * a WebAssembly loop never reads them. Each backend therefore wraps both
 * handlers: the wrapper calls PostgreSQL's handler, then stops the running
 * sandbox call with wudf_instance_interrupt() (async-signal-safe); the call
 * ends with WUDF_TRAP_INTERRUPTED and the caller runs
 * CHECK_FOR_INTERRUPTS(), which raises PostgreSQL's own error.
 *
 * Faults. PostgreSQL installs no SIGSEGV or SIGBUS handler, so wudf
 * installs its own (WUDF_FAULTS_INSTALL): guard-page faults of sandboxed
 * code become traps, and any other fault goes to the previous (default)
 * action, so a bug in the server still crashes and is restarted by the
 * postmaster exactly as without wudf.
 */
#include "postgres.h"

#include <limits.h>
#include <signal.h>
#include <sys/stat.h>

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "wudf_pg.h"

PG_MODULE_MAGIC;

/* The runtime's timer signal, fixed so that our handlers can block it. */
#define WPG_TIMER_SIGNAL (SIGRTMIN + 3)

int			wpg_memory_limit_mb = 64;
int			wpg_max_memory_limit_mb = 256;
int			wpg_timeout_ms = 0;
int			wpg_max_timeout_ms = 10000;

static wudf_engine *g_engine;
static char *g_cache_dir;

static wudf_instance *volatile g_running;
static wudf_cancel *volatile g_cancel;

static struct sigaction g_prev_int;
static struct sigaction g_prev_term;
static pid_t g_wrapped_pid;

void		_PG_init(void);

static void
define_gucs(void)
{
	DefineCustomIntVariable("wudf.max_memory_limit_mb",
							"Ceiling on the linear memory of one WebAssembly function instance.",
							"wudf.memory_limit_mb may only lower it.",
							&wpg_max_memory_limit_mb, 256, 1, 4096,
							PGC_SUSET, GUC_UNIT_MB, NULL, NULL, NULL);
	DefineCustomIntVariable("wudf.memory_limit_mb",
							"Linear memory of one WebAssembly function instance.",
							"Capped by wudf.max_memory_limit_mb.",
							&wpg_memory_limit_mb, 64, 1, 4096,
							PGC_USERSET, GUC_UNIT_MB, NULL, NULL, NULL);
	DefineCustomIntVariable("wudf.max_timeout_ms",
							"Ceiling on the time one call of a WebAssembly function may run.",
							"0 sets no ceiling; wudf.timeout_ms may only lower it.",
							&wpg_max_timeout_ms, 10000, 0, INT_MAX,
							PGC_SUSET, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("wudf.timeout_ms",
							"Time one call of a WebAssembly function may run.",
							"0 sets no limit of its own; capped by wudf.max_timeout_ms.",
							&wpg_timeout_ms, 0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS, NULL, NULL, NULL);
	MarkGUCPrefixReserved("wudf");
}

uint64
wpg_memory_limit_bytes(void)
{
	int			mb = Min(wpg_memory_limit_mb, wpg_max_memory_limit_mb);

	return (uint64) mb << 20;
}

uint32
wpg_call_timeout_ms(void)
{
	if (wpg_max_timeout_ms == 0)
		return (uint32) wpg_timeout_ms;
	if (wpg_timeout_ms == 0)
		return (uint32) wpg_max_timeout_ms;
	return (uint32) Min(wpg_timeout_ms, wpg_max_timeout_ms);
}

static void
init_runtime(void)
{
	wudf_runtime_config config;
	wudf_error	err;

	wudf_error_init(&err);
	wudf_runtime_config_init(&config);
	config.timer_signal = WPG_TIMER_SIGNAL;
	config.faults = WUDF_FAULTS_INSTALL;
	if (wudf_runtime_init(&config, &err) != WUDF_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not start the WebAssembly runtime"),
				 errdetail("%s", err.message)));
}

void
_PG_init(void)
{
	define_gucs();
	init_runtime();
	CacheRegisterSyscacheCallback(PROCOID, wpg_invalidate, (Datum) 0);
}

const char *
wpg_cache_dir(void)
{
	if (g_cache_dir == NULL)
		g_cache_dir = MemoryContextStrdup(TopMemoryContext,
										  psprintf("%s/wudf_cache", DataDir));
	return g_cache_dir;
}

wudf_engine *
wpg_engine(void)
{
	wudf_engine_config config;
	wudf_error	err;

	if (g_engine != NULL)
		return g_engine;
	wudf_error_init(&err);
	wudf_engine_config_init(&config);
	config.cache_dir = wpg_cache_dir();
	if (wudf_engine_new(&config, &g_engine, &err) != WUDF_OK)
	{
		g_engine = NULL;
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not create the WebAssembly engine"),
				 errdetail("%s", err.message)));
	}
	return g_engine;
}

/* ---- signals ---- */

void
wpg_set_running(wudf_instance *instance)
{
	g_running = instance;
}

void
wpg_set_cancel(wudf_cancel *cancel)
{
	g_cancel = cancel;
}

static void
call_previous(const struct sigaction *prev, int sig, siginfo_t *info,
			  void *uctx)
{
	if (prev->sa_flags & SA_SIGINFO)
	{
		if (prev->sa_sigaction != NULL)
			prev->sa_sigaction(sig, info, uctx);
	}
	else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN)
		prev->sa_handler(sig);
}

/* Runs PostgreSQL's handler first: its flags are set before the sandbox
 * call ends, so CHECK_FOR_INTERRUPTS() after the call sees them. */
static void
wrapper(int sig, siginfo_t *info, void *uctx)
{
	int			save_errno = errno;
	wudf_instance *running = g_running;
	wudf_cancel *cancel = g_cancel;

	call_previous(sig == SIGINT ? &g_prev_int : &g_prev_term, sig, info, uctx);
	if (running != NULL)
		wudf_instance_interrupt(running);
	if (cancel != NULL)
		wudf_cancel_trigger(cancel);
	errno = save_errno;
}

static void
wrap(int sig, struct sigaction *prev)
{
	struct sigaction sa;
	struct sigaction cur;

	if (sigaction(sig, NULL, &cur) != 0)
		elog(ERROR, "could not read the handler of signal %d: %m", sig);
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == wrapper)
		return;					/* inherited, already wrapped */
	*prev = cur;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = wrapper;
	sa.sa_flags = SA_SIGINFO | (prev->sa_flags & SA_RESTART);
	sa.sa_mask = prev->sa_mask;
	/* The interrupt is delivered as the timer signal, which jumps out of
	 * the sandbox call: it must wait until this handler has returned. */
	sigaddset(&sa.sa_mask, WPG_TIMER_SIGNAL);
	if (sigaction(sig, &sa, NULL) != 0)
		elog(ERROR, "could not wrap the handler of signal %d: %m", sig);
}

/* The runtime's timer signal ends a sandbox call by jumping out of it from
 * its handler. Were it delivered inside another handler that interrupted
 * the call (SIGALRM runs statement_timeout, which sends SIGINT), the jump
 * would abandon that handler half-way: PostgreSQL's timeout handler holds
 * interrupts while it runs, and they would stay held for good. Blocking
 * the timer signal in every handler PostgreSQL installed makes it wait
 * until the outermost handler has returned into the sandbox code. */
static void
defer_timer_in(int sig)
{
	struct sigaction cur;
	bool		is_func;

	if (sigaction(sig, NULL, &cur) != 0)
		elog(ERROR, "could not read the handler of signal %d: %m", sig);
	is_func = (cur.sa_flags & SA_SIGINFO) ? cur.sa_sigaction != NULL :
		(cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN);
	if (!is_func || sigismember(&cur.sa_mask, WPG_TIMER_SIGNAL))
		return;
	sigaddset(&cur.sa_mask, WPG_TIMER_SIGNAL);
	if (sigaction(sig, &cur, NULL) != 0)
		elog(ERROR, "could not change the handler of signal %d: %m", sig);
}

/* Once per backend, after PostgresMain has set its handlers (a library
 * preloaded into the postmaster runs _PG_init before that). */
void
wpg_signals_ensure(void)
{
	static const int others[] = {SIGHUP, SIGQUIT, SIGALRM, SIGUSR1, SIGUSR2,
	SIGCHLD, SIGPIPE};
	size_t		i;

	if (g_wrapped_pid == MyProcPid)
		return;
	wrap(SIGINT, &g_prev_int);
	wrap(SIGTERM, &g_prev_term);
	for (i = 0; i < lengthof(others); i++)
		defer_timer_in(others[i]);
	g_wrapped_pid = MyProcPid;
}
