"""Every type and NULLs, with expectations computed in Python (numpy for
float32 arithmetic), independently of the UDFs' C code."""
import random
import struct

import numpy as np
import pyarrow as pa
import pytest

import wudf

SOURCE = r"""
#include <stdbool.h>
#include <stdint.h>
#include "wudf_guest.h"

int32_t i32(int32_t x) { return (int32_t)((uint32_t)x * 3u - 7u); }
int64_t i64(int64_t x) { return (int64_t)((uint64_t)x * 5u + 11u); }
float f32(float x) { return x * 0.5f + 1.25f; }
double f64(double x) { return x * x - 2.5; }
bool not_b(bool b) { return !b; }
int32_t nbytes(const char *s, int32_t len) { (void)s; return len; }
int32_t ncodepoints(const char *s, int32_t len) {
  int32_t n = 0;
  for (int32_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}
/* Code points in reverse order: a new string, valid UTF-8. */
wudf_string reverse(const char *s, int32_t len) {
  char *out = (char *)wudf_alloc_bytes((size_t)len);
  if (!out) __builtin_trap();
  int32_t i = len;
  int32_t o = 0;
  while (i > 0) {
    int32_t start = i - 1;
    while (start > 0 && ((unsigned char)s[start] & 0xC0) == 0x80) start--;
    for (int32_t k = start; k < i; k++) out[o++] = s[k];
    i = start;
  }
  return WUDF_STRING(out, len);
}
double mix(int32_t a, int64_t b, float c, double d, bool e) {
  return (double)a + (double)b + (double)c + d + (e ? 1000.0 : 0.0);
}
double widen(int64_t a, double b) { return (double)a * 2.0 + b; }

WUDF_UDF("coalesce(int32, int32) -> int32 nulls");
WUDF_EXPORT(coalesce)
int32_t coalesce(int32_t a, int32_t a_null, int32_t b, int32_t b_null) {
  (void)b_null;
  return a_null ? b : a;
}
"""

N = 2000


@pytest.fixture(scope="module")
def m(compile_c):
    return compile_c(SOURCE, file_name="types.c")


def with_nulls(values, rng, rate=0.1):
    return [None if rng.random() < rate else v for v in values]


def wrap32(v):
    return (v + 2**31) % 2**32 - 2**31


def wrap64(v):
    return (v + 2**63) % 2**64 - 2**63


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def test_signatures_from_the_source(m):
    fs = m.functions
    assert fs["i32"] == "i32(int32) -> int32"
    assert fs["i64"] == "i64(int64) -> int64"
    assert fs["f32"] == "f32(float32) -> float32"
    assert fs["f64"] == "f64(float64) -> float64"
    assert fs["not_b"] == "not_b(bool) -> bool"
    assert fs["nbytes"] == "nbytes(utf8) -> int32"
    assert fs["reverse"] == "reverse(utf8) -> utf8"
    assert fs["coalesce"] == "coalesce(int32, int32) -> int32 nulls"
    f = m.udf("mix")
    assert f.signature == ("mix(int32, int64, float32, float64, bool) "
                           "-> float64")
    assert f.params == ["int32", "int64", "float32", "float64", "bool"]
    assert f.result == "float64"


def test_int32(m):
    rng = random.Random(1)
    xs = with_nulls([rng.randint(-2**31, 2**31 - 1) for _ in range(N)], rng)
    got = m.udf("i32")(pa.array(xs, pa.int32()))
    assert got.type == pa.int32()
    assert got.to_pylist() == [None if x is None else wrap32(x * 3 - 7)
                               for x in xs]


def test_int64(m):
    rng = random.Random(2)
    xs = with_nulls([rng.randint(-2**63, 2**63 - 1) for _ in range(N)], rng)
    got = m.udf("i64")(pa.array(xs, pa.int64()))
    assert got.type == pa.int64()
    assert got.to_pylist() == [None if x is None else wrap64(x * 5 + 11)
                               for x in xs]


def test_float32(m):
    rng = random.Random(3)
    xs = with_nulls([f32(rng.uniform(-1e6, 1e6)) for _ in range(N)], rng)
    got = m.udf("f32")(pa.array(xs, pa.float32()))
    assert got.type == pa.float32()
    want = [None if x is None else
            float(np.float32(x) * np.float32(0.5) + np.float32(1.25))
            for x in xs]
    assert got.to_pylist() == want


def test_float64_with_nan_and_inf(m):
    rng = random.Random(4)
    xs = with_nulls([rng.uniform(-1e3, 1e3) for _ in range(N)], rng)
    xs[:3] = [float("inf"), float("-inf"), 0.0]
    got = m.udf("f64")(pa.array(xs, pa.float64())).to_pylist()
    assert got == [None if x is None else x * x - 2.5 for x in xs]
    nan = m.udf("f64")(pa.array([float("nan")])).to_pylist()[0]
    assert nan != nan


def test_bool(m):
    rng = random.Random(5)
    xs = with_nulls([rng.random() < 0.5 for _ in range(N)], rng)
    got = m.udf("not_b")(pa.array(xs, pa.bool_()))
    assert got.type == pa.bool_()
    assert got.to_pylist() == [None if x is None else not x for x in xs]


WORDS = ["", "a", "hello", "héllo", "日本語", "emoji 😀 here", "ünïcödé",
         "\u0000nul", "x" * 300, "Ελληνικά", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]


def test_utf8_multibyte(m):
    rng = random.Random(6)
    xs = with_nulls([rng.choice(WORDS) for _ in range(N)], rng)
    arr = pa.array(xs, pa.string())
    assert m.udf("nbytes")(arr).to_pylist() == [
        None if x is None else len(x.encode()) for x in xs]
    assert m.udf("ncodepoints")(arr).to_pylist() == [
        None if x is None else len(x) for x in xs]
    got = m.udf("reverse")(arr)
    assert got.type == pa.string()
    assert got.to_pylist() == [None if x is None else x[::-1] for x in xs]


def test_every_type_in_one_call(m):
    rng = random.Random(7)
    a = with_nulls([rng.randint(-1000, 1000) for _ in range(N)], rng)
    b = with_nulls([rng.randint(-10**12, 10**12) for _ in range(N)], rng)
    c = with_nulls([f32(rng.uniform(-10, 10)) for _ in range(N)], rng)
    d = with_nulls([rng.uniform(-10, 10) for _ in range(N)], rng)
    e = with_nulls([rng.random() < 0.5 for _ in range(N)], rng)
    got = m.udf("mix")(pa.array(a, pa.int32()), pa.array(b, pa.int64()),
                       pa.array(c, pa.float32()), pa.array(d),
                       pa.array(e)).to_pylist()
    want = [None if None in row else
            float(row[0]) + float(row[1]) + row[2] + row[3] +
            (1000.0 if row[4] else 0.0)
            for row in zip(a, b, c, d, e)]
    assert got == want


def test_sees_nulls(m):
    a = [1, None, 3, None]
    b = [10, 20, None, None]
    got = m.udf("coalesce")(pa.array(a, pa.int32()), pa.array(b, pa.int32()))
    # A UDF with `nulls` is called for every row; a NULL reads as 0.
    assert got.to_pylist() == [1, 20, 3, 0]


def test_widening(m):
    a = pa.array([1, None, -7], pa.int32())
    b = pa.array([0.5, 1.5, None], pa.float32())
    assert m.udf("widen")(a, b).to_pylist() == [2.5, None, None]


def test_narrowing_is_refused(m):
    with pytest.raises(wudf.TypeError) as e:
        m.udf("i32")(pa.array([1, 2], pa.int64()))
    assert "int64" in str(e.value) and "parameter 1" in str(e.value)
    assert e.value.kind == "WUDF_ERR_TYPE"
    with pytest.raises(TypeError):  # also a builtins.TypeError
        m.udf("f32")(pa.array([1.0], pa.float64()))
