"""Errors: traps name their row, limits stop hostile UDFs, compile errors
carry diagnostics, bad modules are refused; the interpreter goes on."""
import pyarrow as pa
import pytest

import wudf

SOURCE = r"""
#include <stdint.h>
#include <stdlib.h>
#include "wudf_guest.h"

int32_t divide(int32_t a, int32_t b) { return a / b; }

int32_t spin(int32_t a) {
  volatile int32_t x = a;
  for (;;) x++;
  return x;
}

/* Grows memory until refused, then traps. */
int32_t blow(int32_t a) {
  for (;;) {
    volatile char *p = malloc(1 << 20);
    if (!p) __builtin_trap();
    p[0] = (char)a;
  }
}

/* Deep recursion: frames on the native stack and C's stack in memory. */
int32_t recurse(int32_t a) {
  volatile char frame[512];
  frame[a & 511] = (char)a;
  return recurse(a + 1) + frame[(a + 1) & 511];
}

int32_t ok(int32_t a) { return a + 1; }
"""


@pytest.fixture(scope="module")
def m(compile_c):
    return compile_c(SOURCE, file_name="hostile.c")


def still_works(m):
    assert m.udf("ok")(pa.array([1, 2], pa.int32())).to_pylist() == [2, 3]


def test_trap_names_its_row(m):
    f = m.udf("divide")
    a = pa.array(list(range(10)), pa.int32())
    b = pa.array([1, 2, 3, 4, 5, 0, 1, 1, 1, 1], pa.int32())
    with pytest.raises(wudf.TrapError) as e:
        f(a, b)
    err = e.value
    assert err.kind == "WUDF_TRAP_DIV_BY_ZERO"
    assert err.row == 5
    assert err.function == "divide"
    assert "row 5" in err.message and "divide" in err.message
    assert str(err) == err.message
    # The same UDF goes on (its instance is rebuilt).
    assert f(a, pa.array([1] * 10, pa.int32())).to_pylist() == list(range(10))


def test_trap_row_counts_from_the_first_row_of_a_chunked_input(m):
    a = pa.chunked_array([pa.array([1] * 7, pa.int32()),
                          pa.array([1] * 9, pa.int32())])
    b = pa.chunked_array([pa.array([1] * 7, pa.int32()),
                          pa.array([1, 1, 0] + [1] * 6, pa.int32())])
    with pytest.raises(wudf.TrapError) as e:
        m.udf("divide")(a, b)
    assert e.value.row == 9
    assert "row 9 of the input" in e.value.message


def test_null_rows_are_not_called(m):
    # A strict UDF is not called on a NULL: no division by a NULL zero.
    got = m.udf("divide")(pa.array([6, 6], pa.int32()),
                          pa.array([None, 3], pa.int32()))
    assert got.to_pylist() == [None, 2]


def test_endless_loop_times_out(m):
    f = m.udf("spin", timeout_s=0.2)
    with pytest.raises(wudf.LimitError) as e:
        f(pa.array([1, 2, 3], pa.int32()))
    assert e.value.kind == "WUDF_TRAP_TIMEOUT"
    assert e.value.function == "spin"
    assert isinstance(e.value, wudf.Error)
    still_works(m)


def test_memory_blow_up_is_stopped(m):
    f = m.udf("blow", memory_limit_mb=16)
    with pytest.raises(wudf.Error) as e:
        f(pa.array([1], pa.int32()))
    assert isinstance(e.value, (wudf.TrapError, wudf.LimitError))
    assert e.value.row == 0
    still_works(m)


def test_deep_recursion_is_stopped(m):
    with pytest.raises(wudf.TrapError) as e:
        m.udf("recurse")(pa.array([1], pa.int32()))
    assert e.value.kind in ("WUDF_TRAP_STACK_EXHAUSTED", "WUDF_TRAP_OOB")
    still_works(m)


def test_many_traps_in_a_row(m):
    f = m.udf("divide")
    for _ in range(20):
        with pytest.raises(wudf.TrapError):
            f(pa.array([1], pa.int32()), pa.array([0], pa.int32()))
    still_works(m)


def test_bad_limit_arguments(m):
    with pytest.raises(ValueError):
        m.udf("ok", memory_limit_mb=0)
    with pytest.raises(ValueError):
        m.udf("ok", timeout_s=-1)
    with pytest.raises(ValueError):
        m.udf("ok", memory_limit_mb=1 << 20)


def test_compile_error_diagnostics(compile_c):
    src = "int f(int x) {\n  return x +;\n}\n"
    with pytest.raises(wudf.CompileError) as e:
        compile_c(src)
    d = e.value.diagnostics
    assert d and all(len(t) == 3 for t in d)
    line, column, message = d[0]
    assert line == 2 and column > 0 and "expected" in message
    assert isinstance(e.value, wudf.Error)
    assert e.value.kind == "WUDF_ERR_COMPILE"


def test_compile_wat(compile_c):
    m = compile_c('(module (func (export "add") (param i32 i32) (result i32)'
                  ' local.get 0 local.get 1 i32.add))', lang="wat")
    assert m.functions == {"add": "add(int32, int32) -> int32"}
    got = m.udf("add")(pa.array([1, 2], pa.int32()), pa.array([3, 4],
                                                              pa.int32()))
    assert got.to_pylist() == [4, 6]


def test_compile_bad_arguments(compile_c):
    with pytest.raises(ValueError):
        compile_c("int f(void) { return 1; }", lang="cobol")
    with pytest.raises(TypeError):
        wudf.compile(3)


# A module without a wudf.udfs section: add(i32, i32) -> i32.
ADD_WASM = bytes.fromhex(
    "0061736d01000000"
    "0107016002" "7f7f" "017f"
    "03020100"
    "070701036164640000"
    "0a09010700200020016a0b")


def test_load_with_declared_signatures(cache_dir):
    m = wudf.load(ADD_WASM, cache_dir=cache_dir)
    assert m.functions == {}
    m = wudf.load(ADD_WASM, ["add(int32, int32) -> int32"],
                  cache_dir=cache_dir)
    assert m.functions == {"add": "add(int32, int32) -> int32"}
    assert m.wasm == ADD_WASM
    got = m.udf("add")(pa.array([1], pa.int32()), pa.array([2], pa.int32()))
    assert got.to_pylist() == [3]


def test_load_from_a_path(tmp_path, cache_dir):
    p = tmp_path / "add.wasm"
    p.write_bytes(ADD_WASM)
    m = wudf.load(p, ["add(int32, int32) -> int32"], cache_dir=cache_dir)
    assert m.functions["add"] == "add(int32, int32) -> int32"
    assert wudf.load(str(p), ["add(int32, int32) -> int32"],
                     cache_dir=cache_dir) is m  # once per process


def test_load_refusals(cache_dir):
    with pytest.raises(wudf.TypeError):  # the export's type differs
        wudf.load(ADD_WASM, ["add(int64, int64) -> int64"],
                  cache_dir=cache_dir)
    with pytest.raises(wudf.TypeError):  # not a signature
        wudf.load(ADD_WASM, ["add(int32"], cache_dir=cache_dir)
    with pytest.raises(wudf.Error) as e:
        wudf.load(b"\0asm\x01\0\0\0\x99", cache_dir=cache_dir)
    assert e.value.kind == "WUDF_ERR_MALFORMED"
    with pytest.raises(wudf.Error):
        wudf.load(b"not wasm at all", cache_dir=cache_dir)
    with pytest.raises(TypeError):
        wudf.load(12)
    with pytest.raises(TypeError):
        wudf.load(ADD_WASM, "add(int32, int32) -> int32")
    with pytest.raises(FileNotFoundError):
        wudf.load("/nonexistent/x.wasm")


LATE_FAULTHANDLER = r"""
import faulthandler, sys
import pyarrow as pa
import wudf
m = wudf.compile("int rd(int x) { return *(volatile int *)(x * 65536 * 1024); }",
                 cache_dir=sys.argv[1])
f = m.udf("rd")
for late in (False, True):
    if late:
        faulthandler.enable()  # installed after wudf's handlers
    try:
        f(pa.array([1000], pa.int32()))
    except wudf.TrapError as e:
        print(e.kind)
print("alive")
"""


def test_faulthandler_enabled_after_first_use(cache_dir):
    # An out-of-bounds access is a fault on a guard page; a handler
    # installed after wudf's must not see it first.
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", LATE_FAULTHANDLER, cache_dir],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["WUDF_TRAP_OOB", "WUDF_TRAP_OOB", "alive"]
