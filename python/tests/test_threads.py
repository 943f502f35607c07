"""Python threads run batches at once, each on a sandbox instance of its
own; results stay correct."""
import threading

import numpy as np
import pyarrow as pa

from conftest import example_source


def test_four_threads(compile_c):
    f = compile_c(example_source("calculate_adj_bal")).udf(
        "calculate_adj_bal")
    rng = np.random.default_rng(11)
    inputs, wants = [], []
    for t in range(4):
        bal = rng.integers(0, 100000, 200000, dtype=np.int32)
        rate = rng.random(200000, dtype=np.float32)
        inputs.append((bal, rate))
        # Independent expectation: the same float32 arithmetic in numpy.
        wants.append(bal.astype(np.float32) * rate +
                     (bal // 1000).astype(np.float32))
    results = [[] for _ in range(4)]
    errors = []
    start = threading.Barrier(4)

    def work(t):
        try:
            start.wait()
            for _ in range(10):
                results[t].append(f(*inputs[t]))
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    for t in range(4):
        assert len(results[t]) == 10
        for r in results[t]:
            np.testing.assert_array_equal(r.to_numpy(), wants[t])
    # Never more instances than threads calling at once.
    assert 1 <= f.instances <= 4


def test_strings_in_threads(examples):
    f = examples["email_domain"].udf("email_domain")
    cols = [pa.array(["u%d@d%d.example" % (i, t) for i in range(50000)])
            for t in range(4)]
    out = [None] * 4

    def work(t):
        out[t] = f(cols[t])

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in range(4):
        assert out[t].to_pylist() == ["d%d.example" % t] * 50000


def test_the_gil_is_released_while_a_batch_runs(compile_c):
    f = compile_c("int slow(int x) { volatile int s = 0;"
                  " for (int i = 0; i < 3000; i++) s += i ^ x; return s; }"
                  ).udf("slow")
    col = pa.array(np.arange(100000, dtype=np.int32))
    done = threading.Event()

    def work():
        f(col)
        done.set()

    th = threading.Thread(target=work)
    th.start()
    spins = 0
    while not done.is_set():  # Python runs here only without the GIL held
        spins += 1
    th.join()
    assert spins > 1000
