/*
 * pl_error.c — failed calls as PostgreSQL errors.
 *
 *   WUDF_TRAP_DIV_BY_ZERO                 22012 division_by_zero
 *   WUDF_TRAP_INT_OVERFLOW                22003 numeric_value_out_of_range
 *   WUDF_TRAP_INTERRUPTED                 PostgreSQL's own cancel or
 *                                         terminate error (57014, 57P01)
 *   WUDF_TRAP_TIMEOUT (wudf.timeout_ms)   57014 query_canceled
 *   WUDF_TRAP_MEMORY_LIMIT, _STACK_EXHAUSTED, WUDF_ERR_LIMIT
 *                                         54000 program_limit_exceeded
 *   WUDF_ERR_NOMEM, WUDF_ERR_HOST_MEMORY  53200 out_of_memory
 *   WUDF_ERR_SYSTEM                       58000 system_error
 *   any other trap or error               38000 external_routine_exception
 */
#include "postgres.h"

#include "miscadmin.h"

#include "wudf_pg.h"

int
wpg_sqlstate(wudf_status status)
{
	switch (status)
	{
		case WUDF_TRAP_DIV_BY_ZERO:
			return ERRCODE_DIVISION_BY_ZERO;
		case WUDF_TRAP_INT_OVERFLOW:
			return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
		case WUDF_TRAP_INTERRUPTED:
		case WUDF_TRAP_TIMEOUT:
		case WUDF_ERR_CANCELLED:
			return ERRCODE_QUERY_CANCELED;
		case WUDF_TRAP_MEMORY_LIMIT:
		case WUDF_TRAP_STACK_EXHAUSTED:
		case WUDF_ERR_LIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case WUDF_ERR_NOMEM:
		case WUDF_ERR_HOST_MEMORY:
			return ERRCODE_OUT_OF_MEMORY;
		case WUDF_ERR_SYSTEM:
			return ERRCODE_SYSTEM_ERROR;
		default:
			return ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
	}
}

static int
limit_hint(wudf_status status)
{
	switch (status)
	{
		case WUDF_TRAP_TIMEOUT:
			return errhint("Each call may run for wudf.timeout_ms, at most wudf.max_timeout_ms (now %u ms).",
						   wpg_call_timeout_ms());
		case WUDF_TRAP_MEMORY_LIMIT:
			return errhint("Each function's memory is limited by wudf.memory_limit_mb, at most wudf.max_memory_limit_mb (now %d MB).",
						   (int) (wpg_memory_limit_bytes() >> 20));
		default:
			return 0;
	}
}

void
wpg_raise_call(const char *fname, const wudf_error *err)
{
	wudf_status st = err->status;

	/* statement_timeout, pg_cancel_backend, pg_terminate_backend: the
	 * flags are set; PostgreSQL raises its own error with its own text. */
	if (st == WUDF_TRAP_INTERRUPTED || st == WUDF_ERR_CANCELLED)
		CHECK_FOR_INTERRUPTS();
	if (wudf_status_is_trap(st))
		ereport(ERROR,
				(errcode(wpg_sqlstate(st)),
				 errmsg("function \"%s\" trapped: %s", fname,
						wudf_status_str(st)),
				 errdetail("%s: %s", wudf_status_name(st), err->message),
				 limit_hint(st)));
	ereport(ERROR,
			(errcode(wpg_sqlstate(st)),
			 errmsg("function \"%s\" failed: %s", fname, err->detail),
			 errdetail("%s: %s", wudf_status_name(st), err->message)));
}
