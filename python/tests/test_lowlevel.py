"""The extension's objects (wudf._wudf) refuse bad arguments with
exceptions, never a crash: wrong types, wrong capsules, released arrays,
uninitialised objects."""
import gc

import pyarrow as pa
import pytest

import wudf
from wudf import _wudf

from test_errors import ADD_WASM

SIG = ["add(int32, int32) -> int32"]


@pytest.fixture(scope="module")
def fn(cache_dir):
    eng = _wudf.Engine(cache_dir=cache_dir)
    mod = eng.load(ADD_WASM, "add.wasm", SIG)
    return _wudf.Function(mod, "add")


def caps(arr, name=""):
    schema = pa.field(name, arr.type).__arrow_c_schema__()
    return schema, arr.__arrow_c_array__()[1]


def test_map_directly(fn):
    a = pa.array([1, 2], pa.int32())
    s1, a1 = caps(a)
    s2, a2 = caps(a)
    sc, ac = fn.map([s1, s2], [a1, a2])
    assert pa.Array._import_from_c_capsule(sc, ac).to_pylist() == [2, 4]
    sc, ac, selected = fn.filter([s1, s2], [a1, a2])
    assert selected == 2


@pytest.mark.parametrize("schemas,arrays", [
    (None, None), (3, 4), ([], []), ([1, 2], [3, 4]),
    (["a", "b"], ["c", "d"]),
])
def test_map_with_garbage(fn, schemas, arrays):
    with pytest.raises((TypeError, ValueError, wudf.Error)):
        fn.map(schemas, arrays)


def test_map_with_swapped_capsules(fn):
    a = pa.array([1, 2], pa.int32())
    s, c = caps(a)
    with pytest.raises(TypeError, match="capsule"):
        fn.map([c, c], [s, s])
    with pytest.raises(ValueError):
        fn.map([s, s], [c])


def test_map_with_a_moved_array(fn):
    a = pa.array([1, 2], pa.int32())
    s, c = caps(a)
    pa.Array._import_from_c_capsule(s, c)  # moves the array out
    s2, c2 = caps(a)
    with pytest.raises(ValueError, match="released"):
        fn.map([s2, s2], [c, c2])


def test_wrong_type_through_capsules(fn):
    a = pa.array([1.5], pa.float64())
    s, c = caps(a, "x")
    with pytest.raises(wudf.TypeError, match="'x'"):
        fn.map([s, s], [c, c])
    with pytest.raises(wudf.TypeError):
        fn.check([s, s])
    with pytest.raises(wudf.TypeError, match="1 column given"):
        fn.check([s])


def test_mismatched_lengths_through_capsules(fn):
    s1, a1 = caps(pa.array([1, 2], pa.int32()))
    s2, a2 = caps(pa.array([1], pa.int32()))
    with pytest.raises(wudf.Error):
        fn.map([s1, s2], [a1, a2])


def test_uninitialised_objects():
    e = _wudf.Engine.__new__(_wudf.Engine)
    with pytest.raises(RuntimeError):
        e.load(ADD_WASM)
    with pytest.raises(RuntimeError):
        e.cache_dir  # noqa: B018
    f = _wudf.Function.__new__(_wudf.Function)
    with pytest.raises(RuntimeError):
        f.map([], [])
    with pytest.raises(RuntimeError):
        f.check([])
    with pytest.raises(TypeError):
        _wudf.Module()


def test_bad_constructor_arguments(cache_dir):
    with pytest.raises(TypeError):
        _wudf.Engine(cache_dir=3)
    eng = _wudf.Engine(cache_dir=cache_dir)
    with pytest.raises(RuntimeError):
        eng.__init__(cache_dir=cache_dir)
    with pytest.raises(TypeError):
        eng.load("not bytes")
    with pytest.raises(TypeError):
        eng.load(ADD_WASM, 3)
    with pytest.raises(TypeError):
        eng.load(ADD_WASM, None, [1])
    mod = eng.load(ADD_WASM, None, SIG)
    with pytest.raises(TypeError):
        _wudf.Function("module", "add")
    with pytest.raises(KeyError):
        _wudf.Function(mod, "nope")
    with pytest.raises(ValueError):
        _wudf.Function(mod, "add", 1)  # below one page
    with pytest.raises(ValueError):
        _wudf.Function(mod, "add", 1 << 40)
    with pytest.raises((ValueError, OverflowError)):
        _wudf.Function(mod, "add", 0, 1 << 40)


def test_objects_outlive_their_references(cache_dir):
    # The function keeps its module, the module its engine.
    fn = _wudf.Function(_wudf.Engine(cache_dir=cache_dir).load(
        ADD_WASM, None, SIG), "add")
    gc.collect()
    s, c = caps(pa.array([3], pa.int32()))
    sc, ac = fn.map([s, s], [c, c])
    assert pa.Array._import_from_c_capsule(sc, ac).to_pylist() == [6]
    del fn
    gc.collect()


def test_compile_arguments():
    with pytest.raises(TypeError):
        _wudf.compile(3)
    with pytest.raises(ValueError):
        _wudf.compile("x", "fortran")
    with pytest.raises(TypeError):
        _wudf.compile("x", "c", functions=[3])
    with pytest.raises(TypeError):
        _wudf.compile("x", "c", cache_dir=3)
    assert _wudf.parse_signature("f(int, text) -> bool")[1] == \
        "f(int32, utf8) -> bool"
    with pytest.raises(wudf.TypeError):
        _wudf.parse_signature("f(")
    assert _wudf.status_name(101) == "WUDF_TRAP_DIV_BY_ZERO"
