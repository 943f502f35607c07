/*
 * wudf_pg.h — the PostgreSQL languages wasm_c and wasm.
 *
 * wudf_pg.c    _PG_init: settings (GUCs), the engine, signal wrapping
 * pl_def.c     a pg_proc row: argument and result types, source, symbol
 * pl_load.c    source or module to a loaded wudf_module with its signature
 * pl_call.c    the call handlers and validators; per-function cache
 * pl_error.c   wudf statuses to SQLSTATEs and ereport
 */
#ifndef WUDF_PG_H
#define WUDF_PG_H

#include "postgres.h"

#include "access/htup.h"
#include "fmgr.h"

#include "wudf.h"
#include "wudf_compile.h"

typedef enum WpgLang
{
	WPG_LANG_C,					/* LANGUAGE wasm_c: C source */
	WPG_LANG_WASM				/* LANGUAGE wasm: bytea hex or WAT text */
} WpgLang;

/* ---- wudf_pg.c ---- */

/* Settings; see docs/postgres.md, "Limits". */
extern int	wpg_memory_limit_mb;
extern int	wpg_max_memory_limit_mb;
extern int	wpg_timeout_ms;
extern int	wpg_max_timeout_ms;

/* The limits an instance gets now: the user's values, capped by the
 * superuser's ceilings. */
extern uint64 wpg_memory_limit_bytes(void);
extern uint32 wpg_call_timeout_ms(void);

/* The backend's engine, created on first use (ereports on failure). */
extern wudf_engine *wpg_engine(void);
/* The cluster's cache of compiled code: $PGDATA/wudf_cache. */
extern const char *wpg_cache_dir(void);

/* What SIGINT/SIGTERM stop besides setting PostgreSQL's flags: the call
 * running in `instance`, the compile or load watching `cancel`. Set right
 * before and cleared (NULL) right after. */
extern void wpg_set_running(wudf_instance *instance);
extern void wpg_set_cancel(wudf_cancel *cancel);
/* Wraps PostgreSQL's SIGINT and SIGTERM handlers once per backend. */
extern void wpg_signals_ensure(void);

/* ---- pl_def.c ---- */

/* What a pg_proc row declares. Strings are palloc'd. */
typedef struct WpgDef
{
	Oid			fn_oid;
	char	   *name;			/* SQL name */
	char	   *symbol;			/* the UDF in the source or module */
	WpgLang		lang;
	bool		strict;
	int			nargs;
	Oid			argtypes[WUDF_MAX_UDF_PARAMS];
	Oid			rettype;
	wudf_udf_sig want;			/* the signature the SQL types need */
	char	   *source;
	size_t		source_len;
} WpgDef;

/* Reads and checks the row (types, kind); ereports what SQL cannot have. */
extern void wpg_def_from_proc(HeapTuple proctup, WpgLang lang, WpgDef *def);
/* The wudf type of a SQL type; false if there is none. */
extern bool wpg_type_of(Oid typid, wudf_type *out);

/* ---- pl_load.c ---- */

/* Compiles (wasm_c, WAT) or decodes (hex) the source, checks the UDF's
 * signature against the SQL declaration and loads the module. Owned by the
 * caller: wudf_module_free(). *sig receives the UDF's signature. */
extern wudf_module *wpg_load(const WpgDef *def, wudf_udf_sig *sig);

/* ---- pl_call.c ---- */

extern Datum wpg_call_handler(FunctionCallInfo fcinfo, WpgLang lang);
extern Datum wpg_validator(FunctionCallInfo fcinfo, WpgLang lang);
extern void wpg_invalidate(Datum arg, int cacheid, uint32 hashvalue);

/* ---- pl_error.c ---- */

/* Raises the ERROR for a failed call of function `fname`. For an
 * interrupt it first lets PostgreSQL raise its own cancel or terminate
 * error. Does not return. */
extern void wpg_raise_call(const char *fname, const wudf_error *err)
			pg_attribute_noreturn();
/* The SQLSTATE of a status. */
extern int	wpg_sqlstate(wudf_status status);

#endif							/* WUDF_PG_H */
