/* ext/postgres/wudf--0.1.0.sql */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION wudf" to load this file. \quit

CREATE FUNCTION wasm_c_call_handler() RETURNS language_handler
	AS 'MODULE_PATHNAME', 'wudf_wasm_c_call_handler' LANGUAGE C;

CREATE FUNCTION wasm_c_validator(oid) RETURNS void
	AS 'MODULE_PATHNAME', 'wudf_wasm_c_validator' LANGUAGE C STRICT;

CREATE TRUSTED LANGUAGE wasm_c
	HANDLER wasm_c_call_handler VALIDATOR wasm_c_validator;

COMMENT ON LANGUAGE wasm_c IS
	'C source compiled to sandboxed WebAssembly at CREATE FUNCTION';

CREATE FUNCTION wasm_call_handler() RETURNS language_handler
	AS 'MODULE_PATHNAME', 'wudf_wasm_call_handler' LANGUAGE C;

CREATE FUNCTION wasm_validator(oid) RETURNS void
	AS 'MODULE_PATHNAME', 'wudf_wasm_validator' LANGUAGE C STRICT;

CREATE TRUSTED LANGUAGE wasm
	HANDLER wasm_call_handler VALIDATOR wasm_validator;

COMMENT ON LANGUAGE wasm IS
	'sandboxed WebAssembly module, given as bytea hex (\x0061736d...) or WebAssembly text';
