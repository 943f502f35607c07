"""What a UDF accepts: pyarrow, numpy, pandas, polars, Arrow PyCapsule
objects; empty, one-row, chunked and sliced columns; and what it refuses,
before any row runs."""
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import wudf

SOURCE = r"""
#include <stdint.h>
#include "wudf_guest.h"
int64_t lin(int32_t a, double b) { return (int64_t)a * 3 + (int64_t)(b * 2.0); }
bool odd(int32_t a) { return a % 2 != 0; }
int32_t blen(const char *s, int32_t n) { (void)s; return n; }
bool flip(bool b) { return !b; }
/* Traps on every row: shows that a refusal comes before any row runs. */
int32_t boom(int32_t a) { (void)a; __builtin_trap(); }
"""


@pytest.fixture(scope="module")
def m(compile_c):
    return compile_c(SOURCE, file_name="inputs.c")


def lin(a, b):
    return None if a is None or b is None else a * 3 + int(b * 2.0)


A = [5, None, -2, 7, 100, 0, None, 13, 21, 8, 9, 1]
B = [0.5, 1.0, None, 2.25, -1.0, 3.0, 4.0, 0.0, 1.5, 2.5, None, 7.0]


def test_pyarrow(m):
    got = m.udf("lin")(pa.array(A, pa.int32()), pa.array(B))
    assert isinstance(got, pa.Array) and got.type == pa.int64()
    assert got.to_pylist() == [lin(a, b) for a, b in zip(A, B)]


def test_numpy(m):
    a = np.arange(-50, 50, dtype=np.int32)
    b = np.linspace(-3, 3, 100)
    got = m.udf("lin")(a, b)
    assert got.to_pylist() == [lin(int(x), float(y)) for x, y in zip(a, b)]
    # Strided arrays are read through Arrow too.
    assert m.udf("lin")(a[::2], b[::2]).to_pylist() == got.to_pylist()[::2]


def test_numpy_bool(m):
    b = np.array([True, False, True])
    assert m.udf("flip")(b).to_pylist() == [False, True, False]


def test_pandas(m):
    df = pd.DataFrame({"a": pd.array(A, dtype="Int32"), "b": B})
    got = m.udf("lin")(df.a, df.b)
    # pandas' missing values (pd.NA, NaN) are NULLs.
    assert got.to_pylist() == [lin(a, b) for a, b in zip(A, B)]
    s = m.udf("lin").pandas(df.a, df.b)
    assert isinstance(s, pd.Series) and list(s.index) == list(df.index)
    out = df.assign(y=m.udf("lin")(df.a, df.b))
    assert [None if pd.isna(v) else int(v) for v in out.y] == \
        [lin(a, b) for a, b in zip(A, B)]


def test_pandas_strings(m):
    s = pd.Series(["a", "héllo", None, "日本"])
    assert m.udf("blen")(s).to_pylist() == [1, 6, None, 6]


def test_polars(m):
    a = pl.Series("a", A, dtype=pl.Int32)
    b = pl.Series("b", B, dtype=pl.Float64)
    got = m.udf("lin")(a, b)
    assert isinstance(got, pl.Series)
    assert got.to_list() == [lin(x, y) for x, y in zip(A, B)]


def test_polars_strings_are_utf8_view(m):
    s = pl.Series(["a", "héllo", None, "日本"])
    assert m.udf("blen")(s).to_list() == [1, 6, None, 6]


def test_large_utf8_and_utf8_view(m):
    xs = ["a", "héllo", None, "日本"]
    for t in (pa.large_string(), pa.string_view()):
        assert m.udf("blen")(pa.array(xs, t)).to_pylist() == [1, 6, None, 6]


class CArray:
    """Only the Arrow PyCapsule interface (array)."""

    def __init__(self, arr):
        self.arr = arr

    def __arrow_c_array__(self, requested_schema=None):
        return self.arr.__arrow_c_array__(requested_schema)


class CStream:
    """Only the Arrow PyCapsule interface (stream)."""

    def __init__(self, arr):
        self.arr = arr

    def __arrow_c_stream__(self, requested_schema=None):
        return self.arr.__arrow_c_stream__(requested_schema)


def test_pycapsule_objects(m):
    a = pa.array(A, pa.int32())
    b = pa.array(B)
    want = [lin(x, y) for x, y in zip(A, B)]
    assert m.udf("lin")(CArray(a), CArray(b)).to_pylist() == want
    chunked = pa.chunked_array([a.slice(0, 5), a.slice(5)])
    got = m.udf("lin")(CStream(chunked), b)
    assert isinstance(got, pa.ChunkedArray)
    assert got.to_pylist() == want


def test_empty(m):
    got = m.udf("lin")(pa.array([], pa.int32()), pa.array([], pa.float64()))
    assert got.type == pa.int64() and len(got) == 0
    got = m.udf("odd").filter(pa.array([], pa.int32()))
    assert got.type == pa.bool_() and len(got) == 0
    got = m.udf("blen")(pa.chunked_array([], pa.string()))
    assert isinstance(got, pa.ChunkedArray) and len(got) == 0


def test_one_row(m):
    assert m.udf("lin")(pa.array([4], pa.int32()),
                        pa.array([0.5])).to_pylist() == [13]
    assert m.udf("blen")(pa.array(["é"])).to_pylist() == [2]


def test_chunked_with_different_boundaries(m):
    a = pa.chunked_array([pa.array(A[:3], pa.int32()),
                          pa.array(A[3:10], pa.int32()),
                          pa.array([], pa.int32()),
                          pa.array(A[10:], pa.int32())])
    b = pa.chunked_array([pa.array(B[:7]), pa.array(B[7:])])
    got = m.udf("lin")(a, b)
    assert isinstance(got, pa.ChunkedArray)
    assert got.to_pylist() == [lin(x, y) for x, y in zip(A, B)]
    # Chunked with a plain array.
    assert m.udf("lin")(a, pa.array(B)).to_pylist() == got.to_pylist()
    mask = m.udf("odd").filter(a)
    assert isinstance(mask, pa.ChunkedArray)
    assert mask.to_pylist() == [x is not None and x % 2 != 0 for x in A]


def test_sliced_arrays(m):
    big_a = pa.array(list(range(-20, 80)) + [None] * 5, pa.int32())
    big_b = pa.array([i * 0.25 if i % 7 else None for i in range(105)])
    for start, length in ((0, 10), (3, 50), (13, 77), (99, 6), (104, 1)):
        a = big_a.slice(start, length)
        b = big_b.slice(start, length)
        assert a.offset == start
        got = m.udf("lin")(a, b).to_pylist()
        assert got == [lin(x, y) for x, y in
                       zip(a.to_pylist(), b.to_pylist())]
    bools = pa.array([i % 3 == 0 if i % 5 else None for i in range(40)])
    for start in (1, 3, 7, 9, 17):
        s = bools.slice(start, 20)
        assert m.udf("flip")(s).to_pylist() == [
            None if x is None else not x for x in s.to_pylist()]
    words = pa.array(["aé", None, "日本語", "", "xyz", "ü" * 9, None, "q"])
    for start in range(1, 6):
        s = words.slice(start, 3)
        assert m.udf("blen")(s).to_pylist() == [
            None if x is None else len(x.encode()) for x in s.to_pylist()]


def test_filter_mask(m):
    a = pa.array(A, pa.int32())
    mask = m.udf("odd").filter(a)
    assert mask.type == pa.bool_() and mask.null_count == 0
    assert mask.to_pylist() == [x is not None and x % 2 != 0 for x in A]
    assert a.filter(mask).to_pylist() == [x for x in A
                                          if x is not None and x % 2]


@pytest.mark.parametrize("bad", [
    [1, 2, 3], (1, 2), {"a": 1}, None, 3, "text", b"bytes", object(),
    np.zeros((2, 2), np.int32), np.array([{"x": 1}], dtype=object),
])
def test_non_columns_are_refused(m, bad):
    with pytest.raises(wudf.TypeError) as e:
        m.udf("boom")(bad)
    assert "argument 1" in str(e.value)


@pytest.mark.parametrize("column", [
    pa.array([1, 2], pa.int64()),
    pa.array([1, 2], pa.uint32()),
    pa.array([1, 2], pa.int16()),
    pa.array(["a", "b"]),
    pa.array([1.5, 2.5]),
    pa.array([1, 2], pa.timestamp("us")),
    pa.array(["a", "b"]).dictionary_encode(),
    pa.array([{"x": 1}, {"x": 2}]),
    pa.array([[1], [2]]),
    pa.array([b"a", b"b"]),
])
def test_wrong_types_are_refused_before_any_row(m, column):
    # boom traps on every row: a TypeError (not a TrapError) shows that
    # nothing ran.
    with pytest.raises(wudf.TypeError) as e:
        m.udf("boom")(column)
    assert isinstance(e.value, wudf.Error)
    msg = str(e.value)
    assert "parameter 1" in msg or "not support" in msg
    assert "argument 1" in msg or "parameter 1" in msg
    with pytest.raises(wudf.TrapError):
        m.udf("boom")(pa.array([1, 2], pa.int32()))


def test_column_names_in_refusals(m):
    df = pd.DataFrame({"balance": np.array([1, 2], np.int64)})
    with pytest.raises(wudf.TypeError, match="'balance'"):
        m.udf("boom")(df.balance)
    with pytest.raises(wudf.TypeError, match="argument 2"):
        m.udf("lin")(pa.array([1], pa.int32()), pa.array(["x"]))


def test_argument_count(m):
    with pytest.raises(wudf.TypeError, match="takes 2 columns, 1 given"):
        m.udf("lin")(pa.array([1], pa.int32()))
    with pytest.raises(wudf.TypeError):
        m.udf("odd")()


def test_mismatched_lengths(m):
    with pytest.raises(ValueError, match="different lengths"):
        m.udf("lin")(pa.array([1, 2], pa.int32()), pa.array([1.0]))


def test_unknown_udf(m):
    with pytest.raises(KeyError):
        m.udf("nope")
    with pytest.raises(TypeError):
        m.udf(3)
