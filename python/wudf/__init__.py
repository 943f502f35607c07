"""wudf: sandboxed WebAssembly user-defined functions over Arrow columns.

    import wudf
    m = wudf.compile('''
        float calculate_adj_bal(int balance, float rate) {
          return balance * rate + balance / 1000;
        }''')
    f = m.udf("calculate_adj_bal")
    f(balance, rate)          # a pyarrow Array

See docs/python.md for the whole API.
"""
from ._wudf import (  # noqa: F401  (re-exported)
    CompileError,
    Error,
    LimitError,
    LIBRARY_VERSION,
    TrapError,
    TypeError,
)
from ._core import UDF, Module, compile, load  # noqa: F401

__version__ = "0.1.0"

__all__ = [
    "compile",
    "load",
    "Module",
    "UDF",
    "Error",
    "TrapError",
    "LimitError",
    "TypeError",
    "CompileError",
]
