/*
 * pl_load.c — from a function's source to a loaded module.
 *
 * wasm_c: the C source is compiled in wudf's bubblewrap sandbox; the UDF's
 * signature comes from the source and must match the SQL declaration.
 * wasm: a module as bytea hex, or WebAssembly text compiled in the same
 * sandbox; the SQL declaration is the UDF's signature (declared at load,
 * so a module without a wudf.udfs section works), and the module's export
 * must have the WebAssembly type it implies.
 *
 * Both compiles and loads are cached on disk by content (wpg_cache_dir()),
 * so a second backend that runs the function finds the native code ready.
 * No ERROR is raised while a wudf object is held, except inside PG_TRY.
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "wudf_pg.h"

#ifndef WPG_INCLUDE_DIR
#error "WPG_INCLUDE_DIR (where wudf_guest.h is installed) must be defined"
#endif

/* ---- errors ---- */

static int
load_sqlstate(wudf_status st)
{
	switch (st)
	{
		case WUDF_ERR_LIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case WUDF_ERR_NOMEM:
		case WUDF_ERR_HOST_MEMORY:
			return ERRCODE_OUT_OF_MEMORY;
		case WUDF_ERR_CANCELLED:
			return ERRCODE_QUERY_CANCELED;
		case WUDF_ERR_COMPILE:
		case WUDF_ERR_CACHE:
		case WUDF_ERR_IO:
		case WUDF_ERR_SYSTEM:
			return ERRCODE_SYSTEM_ERROR;
		default:
			/* MALFORMED, INVALID, UNSUPPORTED, IMPORT, TYPE, NOT_FOUND, ARG */
			return ERRCODE_INVALID_FUNCTION_DEFINITION;
	}
}

static void
raise_tool_failure(const WpgDef *def, const char *what, const wudf_error *err)
		pg_attribute_noreturn();

static void
raise_tool_failure(const WpgDef *def, const char *what, const wudf_error *err)
{
	if (err->status == WUDF_ERR_CANCELLED)
		CHECK_FOR_INTERRUPTS();
	if (err->status == WUDF_ERR_UNSUPPORTED && def->lang == WPG_LANG_C)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not %s function \"%s\"", what, def->name),
				 errdetail("%s", err->message),
				 errhint("The compiler runs only inside its bubblewrap sandbox, which needs unprivileged user namespaces for the server's user (see docs/postgres.md).")));
	ereport(ERROR,
			(errcode(load_sqlstate(err->status)),
			 errmsg("could not %s function \"%s\"", what, def->name),
			 errdetail("%s", err->message)));
}

/* Every diagnostic, clang-style, one after the other. */
static void
format_diagnostics(const wudf_compile_result *r, StringInfo buf)
{
	uint32		n = wudf_compile_result_diagnostic_count(r);
	uint32		i;

	for (i = 0; i < n; i++)
	{
		wudf_diagnostic d;
		size_t		len;
		char	   *text;

		if (wudf_compile_result_diagnostic(r, i, &d) != WUDF_OK)
			continue;
		len = wudf_diagnostic_format(&d, NULL, 0);
		text = palloc(len + 1);
		wudf_diagnostic_format(&d, text, len + 1);
		while (len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		if (buf->len > 0)
			appendStringInfoChar(buf, '\n');
		appendStringInfoString(buf, text);
		pfree(text);
	}
}

/* Frees `r`. */
static void
raise_compile_errors(const WpgDef *def, wudf_compile_result *r,
					 const wudf_error *err) pg_attribute_noreturn();

static void
raise_compile_errors(const WpgDef *def, wudf_compile_result *r,
					 const wudf_error *err)
{
	StringInfoData buf;

	initStringInfo(&buf);
	PG_TRY();
	{
		format_diagnostics(r, &buf);
	}
	PG_FINALLY();
	{
		wudf_compile_result_free(r);
	}
	PG_END_TRY();
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
			 errmsg("function \"%s\" does not compile: %s", def->name,
					err->message),
			 errdetail("%s", buf.data)));
}

/* ---- compiling ---- */

/* Runs wudf_compile with a cancel flag that SIGINT/SIGTERM trigger. */
static wudf_status
compile_cancellable(const WpgDef *def, wudf_compile_options *o,
					wudf_compile_result **r, wudf_error *err)
{
	wudf_cancel *cancel = NULL;
	wudf_status st;

	CHECK_FOR_INTERRUPTS();
	st = wudf_cancel_new(&cancel, err);
	if (st != WUDF_OK)
		return st;
	o->cancel = cancel;
	wpg_set_cancel(cancel);
	st = wudf_compile(def->source, def->source_len, o, r, err);
	wpg_set_cancel(NULL);
	wudf_cancel_free(cancel);
	/* A cancel that came while the compiler ran, whether or not it
	 * stopped it. */
	if (unlikely(InterruptPending))
	{
		PG_TRY();
		{
			CHECK_FOR_INTERRUPTS();
		}
		PG_CATCH();
		{
			wudf_compile_result_free(*r);
			*r = NULL;
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	return st;
}

static wudf_compile_result *
compile_source(const WpgDef *def, wudf_lang lang)
{
	wudf_compile_options o;
	wudf_compile_result *r = NULL;
	wudf_error	err;
	const char *functions[1];
	wudf_status st;

	wudf_error_init(&err);
	wudf_compile_options_init(&o);
	o.lang = lang;
	o.file_name = psprintf("%s.%s", def->name, lang == WUDF_LANG_C ? "c" : "wat");
	if (lang == WUDF_LANG_C)
	{
		functions[0] = def->symbol;
		o.functions = functions;
		o.nfunctions = 1;
	}
	o.cache_dir = wpg_cache_dir();
	o.include_dir = WPG_INCLUDE_DIR;
	st = compile_cancellable(def, &o, &r, &err);
	if (st == WUDF_OK)
		return r;
	if (st == WUDF_ERR_COMPILE && r != NULL)
		raise_compile_errors(def, r, &err);
	wudf_compile_result_free(r);
	raise_tool_failure(def, "compile", &err);
}

/* The module's bytes, copied out of the result into palloc'd memory. */
static uint8 *
result_bytes(const wudf_compile_result *r, size_t *len)
{
	const uint8_t *wasm = wudf_compile_result_wasm(r, len);
	uint8	   *copy = palloc(*len > 0 ? *len : 1);

	memcpy(copy, wasm, *len);
	return copy;
}

/* ---- signatures ---- */

static bool
find_udf(const wudf_compile_result *r, const char *name, wudf_udf_sig *out)
{
	uint32		n = wudf_compile_result_udf_count(r);
	uint32		i;

	for (i = 0; i < n; i++)
		if (wudf_compile_result_udf(r, i, out) == WUDF_OK &&
			strcmp(out->name, name) == 0)
			return true;
	return false;
}

static bool
same_types(const wudf_udf_sig *a, const wudf_udf_sig *b)
{
	uint32		i;

	if (a->nparams != b->nparams || a->result != b->result)
		return false;
	for (i = 0; i < a->nparams; i++)
		if (a->params[i] != b->params[i])
			return false;
	return true;
}

static void
raise_mismatch(const WpgDef *def, const wudf_udf_sig *got)
		pg_attribute_noreturn();

static void
raise_mismatch(const WpgDef *def, const wudf_udf_sig *got)
{
	char		want_text[512];
	char		got_text[512];
	wudf_udf_sig want = def->want;

	want.sees_nulls = got->sees_nulls;
	wudf_udf_sig_format(&want, want_text, sizeof want_text);
	wudf_udf_sig_format(got, got_text, sizeof got_text);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
			 errmsg("function \"%s\" does not match its source", def->name),
			 errdetail("The SQL declaration needs %s; the source defines %s.",
					   want_text, got_text),
			 errhint("smallint and integer are int, bigint is long long, real is float, double precision is double, boolean is bool, text and varchar are (const char *, int32_t) arguments and a wudf_string result.")));
}

/* Compiles a wasm_c source; checks the UDF; returns the module bytes. */
static uint8 *
compile_c(const WpgDef *def, wudf_udf_sig *sig, size_t *len)
{
	wudf_compile_result *r = compile_source(def, WUDF_LANG_C);
	bool		found = find_udf(r, def->symbol, sig);
	uint8	   *bytes = NULL;

	if (found && same_types(sig, &def->want))
	{
		PG_TRY();
		{
			bytes = result_bytes(r, len);
		}
		PG_FINALLY();
		{
			wudf_compile_result_free(r);
		}
		PG_END_TRY();
		return bytes;
	}
	wudf_compile_result_free(r);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("function \"%s\": the source defines no function \"%s\"",
						def->name, def->symbol)));
	raise_mismatch(def, sig);
}

/* ---- LANGUAGE wasm ---- */

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* bytea hex format: "\x" then pairs of hex digits, blanks between pairs. */
static uint8 *
decode_hex(const WpgDef *def, size_t *len)
{
	const char *p = def->source + 2;
	uint8	   *out = palloc(def->source_len / 2 + 1);
	size_t		n = 0;

	for (;;)
	{
		int			hi,
					lo;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		hi = hex_value(p[0]);
		lo = hi < 0 ? -1 : hex_value(p[1]);
		if (lo < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
					 errmsg("function \"%s\": invalid hexadecimal digit at byte %d of the module text",
							def->name, (int) (p - def->source) + (hi < 0 ? 0 : 1))));
		out[n++] = (uint8) (hi << 4 | lo);
		p += 2;
	}
	*len = n;
	return out;
}

static bool
is_hex_module(const WpgDef *def)
{
	return def->source_len >= 2 && def->source[0] == '\\' &&
		(def->source[1] == 'x' || def->source[1] == 'X');
}

static uint8 *
module_bytes_wasm(const WpgDef *def, size_t *len)
{
	wudf_compile_result *r;
	uint8	   *bytes = NULL;

	if (is_hex_module(def))
		return decode_hex(def, len);
	r = compile_source(def, WUDF_LANG_WAT);
	PG_TRY();
	{
		bytes = result_bytes(r, len);
	}
	PG_FINALLY();
	{
		wudf_compile_result_free(r);
	}
	PG_END_TRY();
	return bytes;
}

/* ---- loading ---- */

static wudf_module *
load_module(const WpgDef *def, const uint8 *bytes, size_t len,
			const wudf_udf_sig *declared)
{
	wudf_load_options o;
	wudf_module *m = NULL;
	wudf_cancel *cancel = NULL;
	wudf_error	err;
	wudf_status st;
	wudf_engine *engine = wpg_engine();

	wudf_error_init(&err);
	memset(&o, 0, sizeof o);
	o.name = def->name;
	o.udfs = declared;
	o.nudfs = declared ? 1 : 0;
	st = wudf_cancel_new(&cancel, &err);
	if (st == WUDF_OK)
	{
		o.cancel = cancel;
		wpg_set_cancel(cancel);
		st = wudf_module_load_ex(engine, bytes, len, &o, &m, &err);
		wpg_set_cancel(NULL);
		wudf_cancel_free(cancel);
	}
	if (unlikely(InterruptPending))
	{
		PG_TRY();
		{
			CHECK_FOR_INTERRUPTS();
		}
		PG_CATCH();
		{
			wudf_module_free(m);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	if (st != WUDF_OK)
		raise_tool_failure(def, "load", &err);
	return m;
}

wudf_module *
wpg_load(const WpgDef *def, wudf_udf_sig *sig)
{
	size_t		len = 0;
	uint8	   *bytes;
	wudf_module *m;

	wpg_signals_ensure();
	if (def->lang == WPG_LANG_C)
	{
		bytes = compile_c(def, sig, &len);
		m = load_module(def, bytes, len, NULL);
	}
	else
	{
		*sig = def->want;
		bytes = module_bytes_wasm(def, &len);
		m = load_module(def, bytes, len, sig);
	}
	pfree(bytes);
	return m;
}
