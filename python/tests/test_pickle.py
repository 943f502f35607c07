"""A Module pickles as its bytes and signatures and runs in another
process (multiprocessing with spawn)."""
import multiprocessing
import pickle

import pyarrow as pa

import wudf

from conftest import example_source


def run_in_child(module, udf_name, values):
    f = module.udf(udf_name)
    return f(pa.array(values, pa.int32()), pa.array([0.5] * len(values),
                                                    pa.float32())).to_pylist()


def run_udf_in_child(f, values):
    return f(pa.array(values)).to_pylist()


def test_pickle_round_trip(compile_c):
    m = compile_c(example_source("calculate_adj_bal"))
    data = pickle.dumps(m)
    assert len(data) < len(m.wasm) + 1000
    m2 = pickle.loads(data)
    assert m2.functions == m.functions and m2.wasm == m.wasm


def test_module_in_a_spawned_process(compile_c):
    m = compile_c(example_source("calculate_adj_bal"))
    values = [1000, 2000, 25000]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        got = pool.apply(run_in_child, (m, "calculate_adj_bal", values))
    assert got == [v * 0.5 + v // 1000 for v in values]


def test_udf_in_a_spawned_process(compile_c):
    f = compile_c(example_source("email_domain")).udf("email_domain",
                                                      timeout_s=5)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        got = pool.starmap(run_udf_in_child,
                           [(f, ["a@b.c", "é@ü.de"]), (f, ["x"])])
    assert got == [["b.c", "ü.de"], [""]]


def test_errors_pickle():
    e = wudf.TrapError("boom")
    e.row = 3
    e2 = pickle.loads(pickle.dumps(e))
    assert isinstance(e2, wudf.TrapError) and str(e2) == "boom"
