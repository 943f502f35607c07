/*
 * adj_bal_native.c — calculate_adj_bal as a native C function: the
 * baseline of make bench-postgres (never installed by the extension).
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(adj_bal_native);

Datum
adj_bal_native(PG_FUNCTION_ARGS)
{
	int32		balance = PG_GETARG_INT32(0);
	float4		rate = PG_GETARG_FLOAT4(1);

	PG_RETURN_FLOAT4(((float4) balance * rate) + (float4) (balance / 1000));
}
