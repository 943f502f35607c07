/*
 * pl_call.c — the call handlers and validators of wasm_c and wasm.
 *
 * Each backend keeps one entry per (function, user) in a hash table: the
 * loaded module and one instance, built on the first call. fn_extra points
 * at the entry; a pg_proc invalidation (CREATE OR REPLACE, DROP, ALTER)
 * bumps a generation counter, and the next call compares the row's xmin
 * and ctid with the entry's before trusting it, as PL/pgSQL does. Keying by
 * user as well means that whatever a function keeps in its memory between
 * calls is never seen by a call made under another role (SET ROLE,
 * SECURITY DEFINER).
 *
 * Calls: a UDF with only numeric and boolean types is called directly
 * (wudf_instance_call_export); one with text runs as a one-row
 * wudf_instance_map over Arrow arrays that point at the arguments, the
 * only way the library passes strings into a sandbox today.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "wudf_pg.h"

PG_FUNCTION_INFO_V1(wudf_wasm_c_call_handler);
PG_FUNCTION_INFO_V1(wudf_wasm_call_handler);
PG_FUNCTION_INFO_V1(wudf_wasm_c_validator);
PG_FUNCTION_INFO_V1(wudf_wasm_validator);

typedef struct WpgFnKey
{
	Oid			fn_oid;
	Oid			user_id;
} WpgFnKey;

typedef struct WpgFn
{
	WpgFnKey	key;			/* hash key: must be first */
	bool		ready;			/* module loaded for this xmin/tid */
	uint64		generation;		/* g_generation when last validated */
	TransactionId xmin;
	ItemPointerData tid;
	char		name[NAMEDATALEN];
	int			nargs;
	Oid			argtypes[WUDF_MAX_UDF_PARAMS];
	Oid			rettype;
	wudf_udf_sig sig;
	bool		has_text;		/* called through a one-row map */
	uint32		export_index;
	wudf_module *module;
	wudf_instance *instance;
	uint64		inst_memory;	/* the limits the instance was built with */
	uint32		inst_timeout;
} WpgFn;

static HTAB *g_fns;
static uint64 g_generation = 1;

/* Filled by wudf only when a call fails; kept out of the per-row path. */
static wudf_error g_err;

void
wpg_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	g_generation++;
}

/* ---- the per-function entry ---- */

static HTAB *
fn_table(void)
{
	HASHCTL		ctl;

	if (g_fns != NULL)
		return g_fns;
	memset(&ctl, 0, sizeof ctl);
	ctl.keysize = sizeof(WpgFnKey);
	ctl.entrysize = sizeof(WpgFn);
	g_fns = hash_create("wudf functions", 32, &ctl, HASH_ELEM | HASH_BLOBS);
	return g_fns;
}

static void
fn_release(WpgFn *fn)
{
	fn->ready = false;
	wudf_instance_free(fn->instance);
	fn->instance = NULL;
	wudf_module_free(fn->module);
	fn->module = NULL;
}

static bool
fn_current(const WpgFn *fn, HeapTuple proctup)
{
	return fn->ready &&
		fn->xmin == HeapTupleHeaderGetRawXmin(proctup->t_data) &&
		ItemPointerEquals((ItemPointer) &fn->tid, &proctup->t_self);
}

static bool
sig_has_text(const wudf_udf_sig *sig)
{
	uint32		i;

	if (sig->result == WUDF_TYPE_UTF8)
		return true;
	for (i = 0; i < sig->nparams; i++)
		if (sig->params[i] == WUDF_TYPE_UTF8)
			return true;
	return false;
}

/* Loads the module of the row into a released entry. */
static void
fn_build(WpgFn *fn, HeapTuple proctup, WpgLang lang)
{
	WpgDef		def;
	wudf_udf_sig sig;
	wudf_module *m;
	int64		x;

	wpg_def_from_proc(proctup, lang, &def);
	m = wpg_load(&def, &sig);
	x = wudf_module_export_index(m, sig.name, strlen(sig.name));
	if (x < 0)
	{
		wudf_module_free(m);
		elog(ERROR, "function \"%s\": module has no export \"%s\"", def.name,
			 sig.name);
	}
	strlcpy(fn->name, def.name, sizeof fn->name);
	fn->nargs = def.nargs;
	memcpy(fn->argtypes, def.argtypes, sizeof fn->argtypes);
	fn->rettype = def.rettype;
	fn->sig = sig;
	fn->has_text = sig_has_text(&sig);
	fn->export_index = (uint32) x;
	fn->module = m;
	fn->xmin = HeapTupleHeaderGetRawXmin(proctup->t_data);
	fn->tid = proctup->t_self;
	fn->ready = true;
}

static WpgFn *
fn_lookup(Oid fn_oid, WpgLang lang)
{
	WpgFnKey	key;
	WpgFn	   *fn;
	bool		found;
	HeapTuple	proctup;
	uint64		generation = g_generation;

	memset(&key, 0, sizeof key);
	key.fn_oid = fn_oid;
	key.user_id = GetUserId();
	fn = hash_search(fn_table(), &key, HASH_ENTER, &found);
	if (!found)
	{
		memset((char *) fn + sizeof key, 0, sizeof *fn - sizeof key);
		fn->key = key;
	}
	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(proctup))
		elog(ERROR, "cache lookup failed for function %u", fn_oid);
	if (!fn_current(fn, proctup))
	{
		fn_release(fn);
		fn_build(fn, proctup, lang);
	}
	ReleaseSysCache(proctup);
	fn->generation = generation;
	return fn;
}

static WpgFn *
fn_get(FunctionCallInfo fcinfo, WpgLang lang)
{
	WpgFn	   *fn = (WpgFn *) fcinfo->flinfo->fn_extra;

	if (likely(fn != NULL && fn->ready && fn->generation == g_generation &&
			   fn->key.user_id == GetUserId()))
		return fn;
	fn = fn_lookup(fcinfo->flinfo->fn_oid, lang);
	fcinfo->flinfo->fn_extra = fn;
	return fn;
}

/* The instance, rebuilt when the limits in force changed. */
static void
fn_instance(WpgFn *fn)
{
	uint64		memory = wpg_memory_limit_bytes();
	uint32		timeout = wpg_call_timeout_ms();
	wudf_instance_config config;

	if (likely(fn->instance != NULL && fn->inst_memory == memory &&
			   fn->inst_timeout == timeout))
		return;
	wudf_instance_free(fn->instance);
	fn->instance = NULL;
	wpg_signals_ensure();
	/* Another library may have taken SIGSEGV since: take it back, keeping
	 * that handler for faults that are not the sandbox's. */
	if (wudf_runtime_check(true, &g_err) != WUDF_OK)
		wpg_raise_call(fn->name, &g_err);
	wudf_instance_config_init(wpg_engine(), &config);
	config.limits.memory_bytes = memory;
	config.limits.timeout_ms = timeout;
	if (wudf_instance_new(fn->module, &config, &fn->instance, &g_err) != WUDF_OK)
	{
		fn->instance = NULL;
		wpg_raise_call(fn->name, &g_err);
	}
	fn->inst_memory = memory;
	fn->inst_timeout = timeout;
}

/* ---- running a call ---- */

/* Marks the call as the one SIGINT/SIGTERM stop. A cancel that arrived
 * just before is raised here instead of starting the call. */
static inline void
call_begin(WpgFn *fn)
{
	wpg_set_running(fn->instance);
	if (unlikely(InterruptPending))
	{
		wpg_set_running(NULL);
		CHECK_FOR_INTERRUPTS();
		wpg_set_running(fn->instance);
	}
}

static inline void
call_end(WpgFn *fn, wudf_status st)
{
	wpg_set_running(NULL);
	if (unlikely(st != WUDF_OK))
		wpg_raise_call(fn->name, &g_err);
}

static wudf_valtype
valtype_of(wudf_type t)
{
	switch (t)
	{
		case WUDF_TYPE_INT64:
			return WUDF_I64;
		case WUDF_TYPE_FLOAT32:
			return WUDF_F32;
		case WUDF_TYPE_FLOAT64:
			return WUDF_F64;
		default:
			return WUDF_I32;	/* int32, bool */
	}
}

static wudf_val
to_val(wudf_type t, Oid typid, Datum d, bool isnull)
{
	wudf_val	v;

	memset(&v, 0, sizeof v);
	v.type = valtype_of(t);
	if (isnull)
		return v;
	switch (t)
	{
		case WUDF_TYPE_INT32:
			v.of.i32 = typid == INT2OID ? DatumGetInt16(d) : DatumGetInt32(d);
			break;
		case WUDF_TYPE_INT64:
			v.of.i64 = DatumGetInt64(d);
			break;
		case WUDF_TYPE_FLOAT32:
			v.of.f32 = DatumGetFloat4(d);
			break;
		case WUDF_TYPE_FLOAT64:
			v.of.f64 = DatumGetFloat8(d);
			break;
		default:
			v.of.i32 = DatumGetBool(d) ? 1 : 0;
			break;
	}
	return v;
}

static Datum
int32_result(const WpgFn *fn, int32 v)
{
	if (fn->rettype == INT2OID && (v < PG_INT16_MIN || v > PG_INT16_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("function \"%s\" returned %d, out of range for type smallint",
						fn->name, v)));
	return fn->rettype == INT2OID ? Int16GetDatum((int16) v) : Int32GetDatum(v);
}

static Datum
from_val(const WpgFn *fn, const wudf_val *v)
{
	switch (fn->sig.result)
	{
		case WUDF_TYPE_INT32:
			return int32_result(fn, v->of.i32);
		case WUDF_TYPE_INT64:
			return Int64GetDatum(v->of.i64);
		case WUDF_TYPE_FLOAT32:
			return Float4GetDatum(v->of.f32);
		case WUDF_TYPE_FLOAT64:
			return Float8GetDatum(v->of.f64);
		default:
			return BoolGetDatum(v->of.i32 != 0);
	}
}

/* Numeric and boolean UDFs: one direct call. */
static Datum
call_numeric(WpgFn *fn, FunctionCallInfo fcinfo)
{
	wudf_val	args[2 * WUDF_MAX_UDF_PARAMS];
	wudf_val	result;
	uint32		n = 0;
	int			i;
	wudf_status st;

	for (i = 0; i < fn->nargs; i++)
	{
		args[n++] = to_val(fn->sig.params[i], fn->argtypes[i],
						   fcinfo->args[i].value, fcinfo->args[i].isnull);
		if (fn->sig.sees_nulls)
		{
			memset(&args[n], 0, sizeof args[n]);
			args[n].type = WUDF_I32;
			args[n++].of.i32 = fcinfo->args[i].isnull ? 1 : 0;
		}
	}
	call_begin(fn);
	st = wudf_instance_call_export(fn->instance, fn->export_index, args, n,
								   &result, 1, &g_err);
	call_end(fn, st);
	return from_val(fn, &result);
}

/* ---- UDFs with text: a one-row map ---- */

/* One argument as a one-row Arrow array; buffers point at the fields. */
typedef struct WpgColumn
{
	struct ArrowArray array;
	struct ArrowSchema schema;
	const void *buffers[3];
	uint8		validity;
	int32		offsets[2];
	union
	{
		int32		i32;
		int64		i64;
		float4		f32;
		float8		f64;
		uint8		bits;
	}			value;
} WpgColumn;

/* The arrays are borrowed by the map; nothing to release. */
static void
release_array_noop(struct ArrowArray *array)
{
	array->release = NULL;
}

static void
release_schema_noop(struct ArrowSchema *schema)
{
	schema->release = NULL;
}

static void
column_text(WpgColumn *c, Datum d)
{
	text	   *t = DatumGetTextPP(d);
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *s = VARDATA_ANY(t);
	char	   *utf8 = pg_server_to_any(s, len, PG_UTF8);

	if (utf8 != s)
		len = strlen(utf8);
	c->offsets[1] = len;
	c->buffers[2] = utf8;
}

static void
column_fill(WpgColumn *c, wudf_type t, Oid typid, Datum d, bool isnull)
{
	wudf_val	v;

	memset(c, 0, sizeof *c);
	c->validity = isnull ? 0 : 1;
	c->buffers[0] = &c->validity;
	c->buffers[1] = t == WUDF_TYPE_UTF8 ? (const void *) c->offsets : &c->value;
	c->buffers[2] = "";
	if (t == WUDF_TYPE_UTF8 && !isnull)
		column_text(c, d);
	else if (t != WUDF_TYPE_UTF8)
	{
		v = to_val(t, typid, d, isnull);
		if (t == WUDF_TYPE_BOOL)
			c->value.bits = (uint8) v.of.i32;
		else
			memcpy(&c->value, &v.of, sizeof c->value);
	}
	c->array.length = 1;
	c->array.null_count = isnull ? 1 : 0;
	c->array.n_buffers = t == WUDF_TYPE_UTF8 ? 3 : 2;
	c->array.buffers = c->buffers;
	c->array.release = release_array_noop;
	c->schema.format = wudf_type_arrow_format(t);
	c->schema.name = "";
	c->schema.flags = ARROW_FLAG_NULLABLE;
	c->schema.release = release_schema_noop;
}

static bool
bit_at(const void *bitmap, int64 i)
{
	return (((const uint8 *) bitmap)[i >> 3] >> (i & 7)) & 1;
}

static Datum
text_result(const WpgFn *fn, const struct ArrowArray *out)
{
	const int32 *offsets = out->buffers[1];
	const char *data = out->buffers[2];
	int32		start = offsets[out->offset];
	int			len = offsets[out->offset + 1] - start;
	char	   *s = pg_any_to_server(data + start, len, PG_UTF8);

	if (s != data + start)
		len = strlen(s);
	return PointerGetDatum(cstring_to_text_with_len(s, len));
}

/* Reads row 0 of the map's result; *isnull when it is NULL. */
static Datum
map_result(const WpgFn *fn, const struct ArrowArray *out, bool *isnull)
{
	const void *values = out->buffers[1];
	int64		i = out->offset;
	wudf_val	v;

	*isnull = out->buffers[0] != NULL && !bit_at(out->buffers[0], i);
	if (*isnull)
		return (Datum) 0;
	memset(&v, 0, sizeof v);
	switch (fn->sig.result)
	{
		case WUDF_TYPE_UTF8:
			return text_result(fn, out);
		case WUDF_TYPE_BOOL:
			v.of.i32 = bit_at(values, i);
			break;
		case WUDF_TYPE_INT32:
			v.of.i32 = ((const int32 *) values)[i];
			break;
		case WUDF_TYPE_INT64:
			v.of.i64 = ((const int64 *) values)[i];
			break;
		case WUDF_TYPE_FLOAT32:
			v.of.f32 = ((const float4 *) values)[i];
			break;
		default:
			v.of.f64 = ((const float8 *) values)[i];
			break;
	}
	return from_val(fn, &v);
}

static Datum
call_map(WpgFn *fn, FunctionCallInfo fcinfo)
{
	WpgColumn	cols[WUDF_MAX_UDF_PARAMS];
	const struct ArrowArray *arrays[WUDF_MAX_UDF_PARAMS];
	const struct ArrowSchema *schemas[WUDF_MAX_UDF_PARAMS];
	struct ArrowArray out;
	Datum		result = (Datum) 0;
	bool		isnull = false;
	int			i;
	wudf_status st;

	for (i = 0; i < fn->nargs; i++)
	{
		column_fill(&cols[i], fn->sig.params[i], fn->argtypes[i],
					fcinfo->args[i].value, fcinfo->args[i].isnull);
		arrays[i] = &cols[i].array;
		schemas[i] = &cols[i].schema;
	}
	memset(&out, 0, sizeof out);
	call_begin(fn);
	st = wudf_instance_map(fn->instance, fn->sig.name, arrays, schemas,
						   (uint32) fn->nargs, &out, NULL, &g_err);
	call_end(fn, st);
	PG_TRY();
	{
		result = map_result(fn, &out, &isnull);
	}
	PG_FINALLY();
	{
		out.release(&out);
	}
	PG_END_TRY();
	fcinfo->isnull = isnull;
	return result;
}

/* ---- entry points ---- */

static bool
has_null_arg(FunctionCallInfo fcinfo, int nargs)
{
	int			i;

	for (i = 0; i < nargs; i++)
		if (fcinfo->args[i].isnull)
			return true;
	return false;
}

Datum
wpg_call_handler(FunctionCallInfo fcinfo, WpgLang lang)
{
	WpgFn	   *fn;

	if (CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("WebAssembly functions cannot be triggers")));
	fn = fn_get(fcinfo, lang);
	/* A UDF without is-null flags gives NULL for NULL, without a call
	 * (what STRICT does for the functions declared so). */
	if (!fn->sig.sees_nulls && has_null_arg(fcinfo, fn->nargs))
		PG_RETURN_NULL();
	fn_instance(fn);
	if (fn->has_text)
		return call_map(fn, fcinfo);
	return call_numeric(fn, fcinfo);
}

Datum
wpg_validator(FunctionCallInfo fcinfo, WpgLang lang)
{
	Oid			fn_oid = PG_GETARG_OID(0);
	HeapTuple	proctup;
	WpgDef		def;
	wudf_udf_sig sig;

	if (!CheckFunctionValidatorAccess(fcinfo->flinfo->fn_oid, fn_oid))
		PG_RETURN_VOID();
	proctup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(proctup))
		elog(ERROR, "cache lookup failed for function %u", fn_oid);
	wpg_def_from_proc(proctup, lang, &def);
	/* check_function_bodies is off while pg_restore loads functions: the
	 * types are still checked, the source when the function first runs. */
	if (check_function_bodies)
		wudf_module_free(wpg_load(&def, &sig));
	ReleaseSysCache(proctup);
	PG_RETURN_VOID();
}

Datum
wudf_wasm_c_call_handler(PG_FUNCTION_ARGS)
{
	return wpg_call_handler(fcinfo, WPG_LANG_C);
}

Datum
wudf_wasm_call_handler(PG_FUNCTION_ARGS)
{
	return wpg_call_handler(fcinfo, WPG_LANG_WASM);
}

Datum
wudf_wasm_c_validator(PG_FUNCTION_ARGS)
{
	return wpg_validator(fcinfo, WPG_LANG_C);
}

Datum
wudf_wasm_validator(PG_FUNCTION_ARGS)
{
	return wpg_validator(fcinfo, WPG_LANG_WASM);
}
