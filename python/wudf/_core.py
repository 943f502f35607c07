"""The public API over the extension (wudf._wudf): modules, UDFs, inputs.

Columns are handed to libwudf through the Arrow C Data Interface (PyCapsules)
and read in place; nothing goes through Python lists.
"""
import builtins
import hashlib
import inspect
import os
import sys
import threading
import weakref

import pyarrow as pa
import pyarrow.compute as pc

from . import _wudf
from ._wudf import Error, TypeError as WudfTypeError

_INCLUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "include")

# wudf type name -> pyarrow type, DuckDB type.
_ARROW_TYPES = {
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "utf8": pa.string(),
}
_DUCKDB_TYPES = {
    "int32": "INTEGER",
    "int64": "BIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "utf8": "VARCHAR",
}

# ---------------------------------------------------------------------------
# Process-wide caches: one engine per cache directory; modules by content.
# ---------------------------------------------------------------------------

_lock = threading.Lock()
_engines = {}
_modules = weakref.WeakValueDictionary()
_compiled = {}
_COMPILED_MAX = 256


def _cache_key(cache_dir):
    return None if cache_dir is None else os.fsdecode(os.fspath(cache_dir))


def _engine(cache_dir):
    key = _cache_key(cache_dir)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _wudf.Engine(cache_dir=key)
            _engines[key] = engine
        return engine


def _check_signatures(signatures):
    if signatures is None:
        return ()
    if isinstance(signatures, (str, bytes)):
        raise builtins.TypeError("signatures must be a list of str, "
                                 "not a single string")
    sigs = tuple(signatures)
    for s in sigs:
        if not isinstance(s, str):
            raise builtins.TypeError("signatures must be str, not %s"
                                     % type(s).__name__)
    return sigs


def load(path_or_bytes, signatures=None, *, cache_dir=None, name=None):
    """Loads a WebAssembly module from a file path or from bytes.

    signatures: UDF signatures in text form ("f(int32, float32) ->
    float32"), for modules without a wudf.udfs section or to override its
    entries. cache_dir: where compiled native code is kept (None: the
    library's default, ~/.cache/wudf). The same bytes and signatures load
    once per process.
    """
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        path = os.fspath(path_or_bytes)
        with open(path, "rb") as f:
            data = f.read()
        if name is None:
            name = os.path.basename(os.fsdecode(path))
    else:
        raise builtins.TypeError("load() takes a path or bytes, not %s"
                                 % type(path_or_bytes).__name__)
    sigs = _check_signatures(signatures)
    key = (_cache_key(cache_dir), hashlib.sha256(data).hexdigest(), sigs)
    with _lock:
        module = _modules.get(key)
    if module is not None:
        return module
    raw = _engine(cache_dir).load(data, name, list(sigs) or None)
    module = Module(raw, sigs, cache_dir)
    with _lock:
        return _modules.setdefault(key, module)


def compile(source, lang="c", *, cache_dir=None, functions=None,
            file_name=None, unsandboxed=False, clang=None, wat2wasm=None,
            bwrap=None):
    """Compiles C, C++ or WebAssembly text into a Module, in a sandbox.

    lang: "c", "c++", "wat" (or "wasm" for a binary, "auto" for the file
    name's extension). functions: the names that become UDFs (default:
    every function with external linkage). Raises CompileError, whose
    `diagnostics` is a list of (line, column, message) of the errors.
    Compiled sources are cached on disk by content (in cache_dir) and in
    the process.
    """
    if isinstance(source, str):
        source = source.encode("utf-8")
    elif isinstance(source, (bytearray, memoryview)):
        source = bytes(source)
    elif not isinstance(source, bytes):
        raise builtins.TypeError("source must be str or bytes, not %s"
                                 % type(source).__name__)
    if not isinstance(lang, str):
        raise builtins.TypeError("lang must be a str")
    funcs = None if functions is None else tuple(functions)
    key = (hashlib.sha256(source).hexdigest(), lang, file_name, funcs,
           _cache_key(cache_dir), unsandboxed, clang, wat2wasm, bwrap)
    with _lock:
        hit = _compiled.get(key)
    if hit is None:
        try:
            hit = _wudf.compile(
                source, lang, file_name=file_name,
                cache_dir=_cache_key(cache_dir), include_dir=_INCLUDE_DIR,
                functions=None if funcs is None else list(funcs),
                clang=clang, wat2wasm=wat2wasm, bwrap=bwrap,
                unsandboxed=unsandboxed)
        except _wudf.CompileError as e:
            e.diagnostics = [(line, col, msg)
                             for sev, line, col, msg, _ in e.all_diagnostics
                             if sev == "error"]
            raise
        with _lock:
            if len(_compiled) >= _COMPILED_MAX:
                _compiled.pop(next(iter(_compiled)))
            _compiled[key] = hit
    wasm, _sigs, diagnostics, _cached = hit
    module = load(wasm, cache_dir=cache_dir, name=file_name)
    module.diagnostics = [(sev, line, col, msg)
                          for sev, line, col, msg, _ in diagnostics]
    return module


def _unpickle_module(wasm, signatures):
    return load(wasm, signatures)


class Module:
    """A loaded module. Made by wudf.compile() and wudf.load().

    functions: {name: signature text} of its UDFs. wasm: its bytes.
    Pickles as its bytes and signatures.
    """

    def __init__(self, raw, declared, cache_dir):
        self._raw = raw
        self._declared = declared
        self._cache_dir = cache_dir
        self._sigs = {u[0]: u for u in raw.udfs()}
        self.diagnostics = []

    @property
    def functions(self):
        return {name: u[1] for name, u in self._sigs.items()}

    @property
    def wasm(self):
        return self._raw.wasm

    @property
    def was_cached(self):
        """Whether the native code came from the on-disk cache."""
        return self._raw.was_cached

    def udf(self, name, *, memory_limit_mb=None, timeout_s=None):
        """The UDF `name`, with a memory cap (MiB; default 256) and a time
        limit per batch of up to 65,536 rows (seconds; default 10; 0: none).
        """
        return UDF(self, name, memory_limit_mb=memory_limit_mb,
                   timeout_s=timeout_s)

    def __reduce__(self):
        return (_unpickle_module,
                (self.wasm, [u[1] for u in self._sigs.values()]))

    def __repr__(self):
        return "<wudf.Module %s>" % ", ".join(self.functions.values())


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def _arrow_errors():
    return (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError,
            builtins.TypeError, ValueError)


def _loaded_class(module, name):
    """module.name if `module` is imported (and done importing: another
    thread may be importing it right now), else None. Inputs of a library
    that is not imported cannot exist, so nothing is imported here."""
    mod = sys.modules.get(module)
    return getattr(mod, name, None) if mod is not None else None


def _to_arrow(x, i):
    """(pyarrow Array or ChunkedArray, column name or None) for argument i."""
    if isinstance(x, (pa.Array, pa.ChunkedArray)):
        return x, None
    try:
        series = _loaded_class("pandas", "Series")
        if series is not None and isinstance(x, series):
            name = x.name if isinstance(x.name, str) else None
            arr = pa.Array.from_pandas(x)
            if isinstance(arr, pa.ChunkedArray):  # pyarrow-backed dtypes
                arr = (arr.chunk(0) if arr.num_chunks == 1
                       else arr.combine_chunks())
            return arr, name
        series = _loaded_class("polars", "Series")
        if series is not None and isinstance(x, series):
            return x.to_arrow(), x.name or None
        ndarray = _loaded_class("numpy", "ndarray")
        if ndarray is not None and isinstance(x, ndarray):
            if x.ndim != 1:
                raise WudfTypeError("argument %d: a %d-dimensional array; "
                                    "columns are 1-dimensional"
                                    % (i + 1, x.ndim))
            return pa.array(x), None
        if hasattr(type(x), "__arrow_c_array__"):
            return pa.array(x), None
        if hasattr(type(x), "__arrow_c_stream__"):
            return pa.chunked_array(x), None
    except WudfTypeError:
        raise
    except _arrow_errors() as e:
        raise WudfTypeError("argument %d (%s) cannot be read as an Arrow "
                            "column: %s" % (i + 1, type(x).__name__, e)) from e
    raise WudfTypeError(
        "argument %d is a %s: expected a pyarrow Array or ChunkedArray, a "
        "numpy array, a pandas or polars Series, or an object with "
        "__arrow_c_array__ or __arrow_c_stream__"
        % (i + 1, type(x).__name__))


def _piece(col, start, length):
    """Rows start..start+length of col as one Array (within one chunk)."""
    if isinstance(col, pa.Array):
        return col.slice(start, length)
    chunks = [c for c in col.slice(start, length).chunks if len(c)]
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return pa.array([], type=col.type)
    return pa.concat_arrays(chunks)


def _aligned(cols, n):
    """Batches of equal-length Arrays, one per run of rows that lies within
    one chunk of every column; with the first row of each."""
    if not any(isinstance(c, pa.ChunkedArray) for c in cols):
        return [(0, cols)]
    bounds = {0, n}
    for c in cols:
        if isinstance(c, pa.ChunkedArray):
            pos = 0
            for chunk in c.chunks:
                pos += len(chunk)
                bounds.add(pos)
    bounds = sorted(bounds)
    out = [(s, [_piece(c, s, e - s) for c in cols])
           for s, e in zip(bounds, bounds[1:]) if e > s]
    return out or [(0, [_piece(c, 0, 0) for c in cols])]


def _at_row(e, offset):
    """An error of the batch starting at row `offset`, with rows counted
    from the first row of the input."""
    if offset:
        for attr in ("row", "first_row", "last_row"):
            v = getattr(e, attr, None)
            if v is not None:
                setattr(e, attr, v + offset)
        where = ("row %d" % e.row if e.row is not None else
                 "rows %d to %d" % (e.first_row, e.last_row)
                 if e.first_row is not None else None)
        if where:
            e.message = "%s (%s of the input)" % (e.message, where)
            e.args = (e.message,)
    return e


# ---------------------------------------------------------------------------
# UDFs
# ---------------------------------------------------------------------------


def _unpickle_udf(module, name, memory_limit_mb, timeout_s):
    return UDF(module, name, memory_limit_mb=memory_limit_mb,
               timeout_s=timeout_s)


class UDF:
    """One UDF of a module, callable on columns. Made by Module.udf().

    f(a, b, ...) runs the MAP: a pyarrow Array (a ChunkedArray when an
    input is chunked; a polars Series when an input is one). f.filter(...)
    runs the FILTER: a BooleanArray mask with no NULLs. Thread-safe: each
    running call uses a sandbox instance of its own, with the GIL released.
    """

    def __init__(self, module, name, *, memory_limit_mb=None, timeout_s=None):
        if not isinstance(module, Module):
            raise builtins.TypeError("module must be a wudf.Module")
        if not isinstance(name, str):
            raise builtins.TypeError("the UDF name must be a str")
        if name not in module._sigs:
            raise KeyError("the module has no UDF %r (it has: %s)"
                           % (name, ", ".join(module._sigs) or "none"))
        memory = 0
        if memory_limit_mb is not None:
            if not memory_limit_mb > 0:
                raise ValueError("memory_limit_mb must be positive")
            memory = int(memory_limit_mb * (1 << 20))
        timeout = -1
        if timeout_s is not None:
            if not timeout_s >= 0:
                raise ValueError("timeout_s must be 0 (no limit) or more")
            timeout = int(round(timeout_s * 1000))
            if timeout_s > 0 and timeout == 0:
                timeout = 1
        self._module = module
        self._memory_limit_mb = memory_limit_mb
        self._timeout_s = timeout_s
        self._fn = _wudf.Function(module._raw, name, memory, timeout)
        (self.name, self.signature, self.params, self.result,
         self.sees_nulls) = self._fn.signature
        self.result_type = _ARROW_TYPES[self.result]

    @property
    def module(self):
        return self._module

    @property
    def instances(self):
        """How many sandbox instances this UDF has created."""
        return self._fn.instances_created

    def __repr__(self):
        return "<wudf.UDF %s>" % self.signature

    def __reduce__(self):
        return (_unpickle_udf, (self._module, self.name,
                                self._memory_limit_mb, self._timeout_s))

    # -- running -----------------------------------------------------------

    def _prepare(self, args):
        if len(args) != len(self.params):
            raise WudfTypeError("%s takes %d column%s, %d given"
                                % (self.signature, len(self.params),
                                   "" if len(self.params) == 1 else "s",
                                   len(args)))
        cols, names, polars = [], [], None
        for i, a in enumerate(args):
            col, name = _to_arrow(a, i)
            cols.append(col)  # utf8, large_utf8 and utf8_view alike
            names.append(name or "argument %d" % (i + 1))
            series = _loaded_class("polars", "Series")
            if polars is None and series is not None and isinstance(a, series):
                polars = a
        lengths = {len(c) for c in cols}
        if len(lengths) > 1:
            raise ValueError("%s: columns of different lengths (%s)"
                             % (self.name,
                                ", ".join(str(len(c)) for c in cols)))
        schemas = [pa.field(nm, c.type).__arrow_c_schema__()
                   for nm, c in zip(names, cols)]
        self._fn.check(schemas)  # refused before any row runs
        n = lengths.pop() if lengths else 0
        return cols, schemas, n, polars

    def _run(self, args, filter):
        cols, schemas, n, polars = self._prepare(args)
        run = self._fn.filter if filter else self._fn.map
        out = []
        for start, batch in _aligned(cols, n):
            arrays = [a.__arrow_c_array__()[1] for a in batch]
            try:
                caps = run(schemas, arrays)
            except Error as e:
                raise _at_row(e, start) from None
            out.append(pa.Array._import_from_c_capsule(caps[0], caps[1]))
        chunked = any(isinstance(c, pa.ChunkedArray) for c in cols)
        if polars is not None:
            import polars as pl
            return pl.Series(polars.name, pa.chunked_array(out))
        if chunked:
            return pa.chunked_array(out, type=out[0].type)
        return out[0]

    def __call__(self, *args):
        """MAP over the columns; NULL where a (strict) UDF's argument is."""
        return self._run(args, False)

    def filter(self, *args):
        """FILTER: a BooleanArray, true where the UDF returned true."""
        return self._run(args, True)

    def pandas(self, *args):
        """MAP as a pandas Series, indexed like the first pandas argument."""
        import pandas as pd
        result = self._run(args, False)
        index = next((a.index for a in args if isinstance(a, pd.Series)),
                     None)
        return pd.Series(result.to_pandas(), index=index, name=self.name)

    # -- integrations ------------------------------------------------------

    def _scalar_call(self, args):
        """A call from an engine that may pass scalars: scalars are
        broadcast to the length of the array arguments."""
        n = next((len(a) for a in args
                  if not isinstance(a, pa.Scalar)), None)
        if n is None:
            arrays = [pa.array([a.as_py()], type=a.type) for a in args]
            return self._run(arrays, False)[0]
        arrays = [pa.repeat(a, n) if isinstance(a, pa.Scalar) else a
                  for a in args]
        return self._run(arrays, False)

    def register_pyarrow(self, name, *, doc=None):
        """Registers the MAP as a pyarrow.compute scalar function `name`:
        pyarrow.compute.call_function(name, [a, b]) then runs it."""
        def kernel(ctx, *args):
            return self._scalar_call(args)
        in_types = {"arg%d" % i: _ARROW_TYPES[t]
                    for i, t in enumerate(self.params)}
        pc.register_scalar_function(
            kernel, name,
            {"summary": doc or "wudf UDF %s" % self.signature,
             "description": "Runs %s in a wudf sandbox." % self.signature},
            in_types, _ARROW_TYPES[self.result])
        return name

    def register_duckdb(self, con, name):
        """Registers the MAP as a function `name` on the DuckDB connection
        `con` (Arrow-typed: batches cross as Arrow), usable in SQL:
        SELECT name(balance, rate) FROM t."""
        def call(*args):
            return self._run(args, False)
        # DuckDB counts the function's parameters.
        call.__signature__ = inspect.Signature([
            inspect.Parameter("arg%d" % i, inspect.Parameter.POSITIONAL_ONLY)
            for i in range(len(self.params))])
        kw = {"type": "arrow"}
        if self.sees_nulls:
            kw["null_handling"] = "special"
        con.create_function(name, call,
                            [_DUCKDB_TYPES[t] for t in self.params],
                            _DUCKDB_TYPES[self.result], **kw)
        return con
