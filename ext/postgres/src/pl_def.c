/*
 * pl_def.c — what a pg_proc row declares: the SQL types as wudf types, the
 * source, and the name of the UDF in it.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "wudf_pg.h"

/* A comment in the source may name the UDF when it is not the SQL name:
 *     // wudf-symbol: email_domain_v2
 * PostgreSQL takes only one AS item for languages other than C, so the
 * second item of AS 'source', 'symbol' is not available. */
#define SYMBOL_DIRECTIVE "wudf-symbol:"

bool
wpg_type_of(Oid typid, wudf_type *out)
{
	switch (typid)
	{
		case INT2OID:
		case INT4OID:
			*out = WUDF_TYPE_INT32;
			return true;
		case INT8OID:
			*out = WUDF_TYPE_INT64;
			return true;
		case FLOAT4OID:
			*out = WUDF_TYPE_FLOAT32;
			return true;
		case FLOAT8OID:
			*out = WUDF_TYPE_FLOAT64;
			return true;
		case BOOLOID:
			*out = WUDF_TYPE_BOOL;
			return true;
		case TEXTOID:
		case VARCHAROID:
			*out = WUDF_TYPE_UTF8;
			return true;
		default:
			return false;
	}
}

static void
refuse_type(const char *fname, Oid typid, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("function \"%s\" cannot %s type %s", fname, what,
					format_type_be(typid)),
			 errhint("The types are smallint, integer, bigint, real, double precision, boolean, text and varchar.")));
}

static bool
is_ident_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* The name after SYMBOL_DIRECTIVE, or NULL when the source has none. */
static char *
symbol_directive(const char *fname, const char *source)
{
	const char *p = strstr(source, SYMBOL_DIRECTIVE);
	const char *start;

	if (p == NULL)
		return NULL;
	p += strlen(SYMBOL_DIRECTIVE);
	while (*p == ' ' || *p == '\t')
		p++;
	start = p;
	if (is_ident_start(*p))
		while (is_ident_char(*p))
			p++;
	if (p == start || p - start >= WUDF_MAX_UDF_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("function \"%s\": \"%s\" must be followed by a C identifier of at most %d characters",
						fname, SYMBOL_DIRECTIVE, WUDF_MAX_UDF_NAME - 1)));
	return pnstrdup(start, p - start);
}

static void
check_kind(const char *fname, Form_pg_proc proc)
{
	if (proc->prokind != PROKIND_FUNCTION)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("\"%s\": only functions can be written in this language; procedures, aggregates and window functions cannot",
						fname)));
	if (proc->proretset)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function \"%s\" cannot return a set", fname)));
	if (proc->pronargs > WUDF_MAX_UDF_PARAMS)
		ereport(ERROR,
				(errcode(ERRCODE_TOO_MANY_ARGUMENTS),
				 errmsg("function \"%s\" has %d arguments; at most %d are supported",
						fname, proc->pronargs, WUDF_MAX_UDF_PARAMS)));
}

static void
fill_types(WpgDef *def, Form_pg_proc proc)
{
	int			i;

	def->nargs = proc->pronargs;
	def->rettype = proc->prorettype;
	if (!wpg_type_of(def->rettype, &def->want.result))
		refuse_type(def->name, def->rettype, "return");
	def->want.nparams = (uint32) def->nargs;
	for (i = 0; i < def->nargs; i++)
	{
		def->argtypes[i] = proc->proargtypes.values[i];
		if (!wpg_type_of(def->argtypes[i], &def->want.params[i]))
			refuse_type(def->name, def->argtypes[i], "take an argument of");
	}
}

static void
fill_source(WpgDef *def, HeapTuple proctup)
{
	bool		isnull;
	Datum		src = SysCacheGetAttr(PROCOID, proctup, Anum_pg_proc_prosrc,
									  &isnull);

	if (isnull)
		elog(ERROR, "null prosrc for function %u", def->fn_oid);
	def->source = TextDatumGetCString(src);
	def->source_len = strlen(def->source);
}

void
wpg_def_from_proc(HeapTuple proctup, WpgLang lang, WpgDef *def)
{
	Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(proctup);

	memset(def, 0, sizeof *def);
	def->fn_oid = proc->oid;
	def->lang = lang;
	def->name = pstrdup(NameStr(proc->proname));
	def->strict = proc->proisstrict;
	check_kind(def->name, proc);
	fill_types(def, proc);
	fill_source(def, proctup);
	def->symbol = symbol_directive(def->name, def->source);
	if (def->symbol == NULL)
		def->symbol = def->name;
	if (strlen(def->symbol) >= WUDF_MAX_UDF_NAME)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("function name \"%s\" is longer than %d characters",
						def->symbol, WUDF_MAX_UDF_NAME - 1)));
	strlcpy(def->want.name, def->symbol, sizeof def->want.name);
	/* A function that is not STRICT sees NULLs (LANGUAGE wasm; for wasm_c
	 * the source's signature says). */
	def->want.sees_nulls = !def->strict;
}
