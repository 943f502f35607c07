#!/usr/bin/env python3
"""`make bench-python`: wudf from Python beside what a Python user would pick
instead, on the workloads of `make bench` (bench/compare.py):

  calculate_adj_bal  numeric MAP     balance * rate + balance / 1000
  is_rich            FILTER          balance > 50000
  email_domain       string MAP      what follows the last '@'
  add_two            integer MAP     id + 2

    build/venv/bin/python python/bench/bench.py [--sizes 1000000,10000000]
        [--runs 3] [--sample 100000] [--only wudf,numpy,...]

Engines (one process, one after the other, same data in memory):

  wudf            UDF(...) on pyarrow arrays (the .wasm files below)
  wudf+duckdb     the same UDF registered in DuckDB (register_duckdb), SQL
  vectorized      numpy's expression (pyarrow.compute for email_domain:
                  numpy has no fast string kernel)
  pandas-apply    DataFrame.apply(axis=1), row-wise Python *
  duckdb-native   DuckDB Python UDF, native types (one Python call per row) *
  duckdb-arrow    DuckDB Python UDF, arrow types (pyarrow.compute inside)
  pyarrow-udf     pyarrow.compute.register_scalar_function, pyarrow.compute
                  inside
  wasmtime-row    wasmtime-py, the same .wasm called once per row *
  wasmtime-loop   wasmtime-py, a batch loop inside the module over columns
                  copied into its memory (bench/v8_loops.c)
  extism-row      Extism, one plugin call per row *
  extism-loop     Extism, one plugin call per batch

* row-wise engines run on a sample and their time is scaled to the full
size (linearly): pandas on the first --sample rows (default 100,000), DuckDB
native on 10 x --sample rows, Wasmtime and Extism per row on the first
--wasm-sample rows (default 20,000). The tables say so.

Extism cannot call a plain WebAssembly function with arguments: a plugin
export takes no parameters and reads its input through Extism's kernel
(extism:host/env). python/bench/extism_udfs.c wraps the same UDF sources
in that ABI by hand (no PDK), so Extism runs the same code per row (input
and output as bytes) and per batch.

Results are checked against the vectorized engine (a digest: the sum of
the results, of the selected rows, of the string lengths). Times: the
minimum of --runs runs (one for sampled engines and runs over 5 s).
"""
import argparse
import ctypes
import datetime
import os
import platform
import subprocess
import sys
import time

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import wudf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WASM_CC = ["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", "-O2",
           "-mexec-model=reactor", "-I" + os.path.join(ROOT, "include")]
WORKLOADS = ["adj_bal", "filter", "email_domain", "add_two"]
TITLE = {
    "adj_bal": "calculate_adj_bal (numeric MAP)",
    "filter": "is_rich (FILTER)",
    "email_domain": "email_domain (string MAP)",
    "add_two": "add_two (integer MAP)",
}
MODULE = {"adj_bal": ("examples/udfs/calculate_adj_bal.c", "calculate_adj_bal"),
          "filter": ("examples/udfs/is_rich.c", "is_rich"),
          "email_domain": ("examples/udfs/email_domain.c", "email_domain"),
          "add_two": ("bench/udfs/add_two.c", "add_two")}
DOMAINS = ["mtv.com", "mozilla.org", "amazon.com", "netvibes.com",
           "prweb.com", "usgs.gov", "example.com", "bbc.co.uk", "nasa.gov"]
SCALED = {"pandas-apply", "duckdb-native", "wasmtime-row", "extism-row"}
LABEL = {
    "wudf": "wudf (sandboxed), f(a, b)",
    "wudf+duckdb": "wudf in DuckDB SQL (register_duckdb)",
    "vectorized": "numpy vectorized",
    "pandas-apply": "pandas DataFrame.apply (row-wise)",
    "duckdb-native": "DuckDB Python UDF, native (per row)",
    "duckdb-arrow": "DuckDB Python UDF, arrow (pyarrow.compute)",
    "pyarrow-udf": "pyarrow.compute UDF in Python",
    "wasmtime-row": "Wasmtime, one call per row",
    "wasmtime-loop": "Wasmtime, batch loop in the module",
    "extism-row": "Extism, one call per row",
    "extism-loop": "Extism, one call per batch",
}


def log(msg):
    sys.stderr.write("bench-python: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# Data and modules
# ---------------------------------------------------------------------------


def make_data(n):
    rng = np.random.default_rng(20220518)
    ident = np.arange(1, n + 1, dtype=np.int32)
    balance = rng.integers(0, 100001, n, dtype=np.int32)
    rate = (rng.integers(0, 100, n).astype(np.float32) / np.float32(100))
    dom = pa.array(DOMAINS).take(pa.array(rng.integers(0, len(DOMAINS), n)))
    email = pc.binary_join_element_wise(
        "u", pc.cast(pa.array(ident), pa.string()), "@", dom, "")
    return {"id": ident, "balance": balance, "rate": rate,
            "email": email.cast(pa.string())}


def build_modules(out):
    os.makedirs(out, exist_ok=True)
    paths = {}
    for w, (src, _) in MODULE.items():
        p = os.path.join(out, os.path.basename(src)[:-2] + ".wasm")
        subprocess.run(WASM_CC + ["-o", p, os.path.join(ROOT, src)],
                       check=True)
        paths[w] = p
    loops = os.path.join(out, "v8_loops.wasm")
    subprocess.run(WASM_CC + ["-o", loops,
                              os.path.join(ROOT, "bench", "v8_loops.c")],
                   check=True)
    ext = os.path.join(out, "extism_udfs.wasm")
    subprocess.run(WASM_CC + ["-o", ext, os.path.join(HERE, "extism_udfs.c")],
                   check=True)
    return paths, loops, ext


# ---------------------------------------------------------------------------
# Engines: each returns a function of the data giving a result to check
# ---------------------------------------------------------------------------


def digest(w, r):
    """A number that two engines' results must share."""
    if isinstance(r, (pa.ChunkedArray, pa.Array)):
        if w == "email_domain":
            return int(pc.sum(pc.binary_length(r)).as_py() or 0)
        if w == "filter":
            return int(pc.sum(pc.cast(r, pa.int64())).as_py() or 0)
        return float(pc.sum(pc.cast(r, pa.float64())).as_py())
    if isinstance(r, pd.Series):
        if w == "email_domain":
            return int(r.str.len().sum())
        return float(r.astype("float64").sum()) if w != "filter" \
            else int(r.sum())
    if isinstance(r, list):
        if w == "email_domain":
            return sum(len(x.encode()) for x in r)
        return float(sum(r)) if w != "filter" else int(sum(r))
    if isinstance(r, (int, float)):
        return r
    a = np.asarray(r)
    if w == "filter":
        return int(a.sum())
    return float(a.astype(np.float64).sum())


def args_of(w, d, np_cols=False):
    cols = {"adj_bal": ["balance", "rate"], "filter": ["balance"],
            "email_domain": ["email"], "add_two": ["id"]}[w]
    return [d[c] for c in cols]


def eng_wudf(w, d, udfs):
    f = udfs[w]
    args = [pa.array(a) if isinstance(a, np.ndarray) else a
            for a in args_of(w, d)]
    if w == "filter":
        return lambda: f.filter(*args)
    return lambda: f(*args)


def eng_vectorized(w, d):
    if w == "adj_bal":
        b, r = d["balance"], d["rate"]
        return lambda: b.astype(np.float32) * r + (b // 1000).astype(
            np.float32)
    if w == "filter":
        b = d["balance"]
        return lambda: b > 50000
    if w == "add_two":
        i = d["id"]
        return lambda: i + np.int32(2)
    e = d["email"]
    return lambda: pc.extract_regex(e, r"@(?P<d>[^@]*)$").field("d")


def py_adj_bal(balance, rate):
    return balance * rate + balance // 1000


def py_is_rich(balance):
    return balance > 50000


def py_email_domain(email):
    at = email.rfind("@")
    return email[at + 1:] if at >= 0 else ""


def py_add_two(i):
    return i + 2


def eng_pandas_apply(w, d, sample):
    df = pd.DataFrame({k: (v[:sample] if isinstance(v, np.ndarray)
                           else v.slice(0, sample).to_pandas())
                       for k, v in d.items()})
    fn = {"adj_bal": lambda r: py_adj_bal(r["balance"], r["rate"]),
          "filter": lambda r: py_is_rich(r["balance"]),
          "email_domain": lambda r: py_email_domain(r["email"]),
          "add_two": lambda r: py_add_two(r["id"])}[w]
    return lambda: df.apply(fn, axis=1)


def duck_table(d, rows):
    t = pa.table({k: (pa.array(v[:rows]) if isinstance(v, np.ndarray)
                      else v.slice(0, rows)) for k, v in d.items()})
    con = duckdb.connect()
    con.register("src", t)
    con.execute("CREATE TABLE t AS SELECT * FROM src")
    return con


QUERY = {
    "adj_bal": "SELECT sum(f(balance, rate)) FROM t",
    "filter": "SELECT count(*) FROM t WHERE f(balance)",
    "email_domain": "SELECT sum(length(f(email))) FROM t",
    "add_two": "SELECT sum(f(id)) FROM t",
}
DTYPES = {"adj_bal": (["INTEGER", "FLOAT"], "FLOAT"),
          "filter": (["INTEGER"], "BOOLEAN"),
          "email_domain": (["VARCHAR"], "VARCHAR"),
          "add_two": (["INTEGER"], "INTEGER")}


def arrow_fn(w):
    if w == "adj_bal":
        return lambda b, r: pc.add(pc.multiply(pc.cast(b, pa.float32()), r),
                                   pc.cast(pc.divide(b, 1000), pa.float32()))
    if w == "filter":
        return lambda b: pc.greater(b, 50000)
    if w == "add_two":
        return lambda i: pc.add(i, pa.scalar(2, pa.int32()))
    return lambda e: pc.struct_field(pc.extract_regex(e, r"@(?P<d>[^@]*)$"),
                                     "d")


def eng_duckdb(w, d, kind, rows, udfs=None):
    con = duck_table(d, rows)
    params, ret = DTYPES[w]
    if kind == "wudf":
        udfs[w].register_duckdb(con, "f")
    elif kind == "native":
        fn = {"adj_bal": py_adj_bal, "filter": py_is_rich,
              "email_domain": py_email_domain, "add_two": py_add_two}[w]
        con.create_function("f", fn, params, ret)
    else:
        con.create_function("f", arrow_fn(w), params, ret, type="arrow")
    q = QUERY[w]
    return lambda: con.execute(q).fetchone()[0]


def duck_digest(w, v):
    return float(v) if w in ("adj_bal", "add_two") else int(v)


def eng_pyarrow_udf(w, d, name):
    params = {"adj_bal": [pa.int32(), pa.float32()], "filter": [pa.int32()],
              "email_domain": [pa.string()], "add_two": [pa.int32()]}[w]
    out = {"adj_bal": pa.float32(), "filter": pa.bool_(),
           "email_domain": pa.string(), "add_two": pa.int32()}[w]
    fn = arrow_fn(w)
    try:
        pc.register_scalar_function(
            lambda ctx, *a: fn(*a), name, {"summary": name, "description": ""},
            {"a%d" % i: t for i, t in enumerate(params)}, out)
    except pa.ArrowKeyError:
        pass  # already registered (a second size)
    args = [pa.array(a) if isinstance(a, np.ndarray) else a
            for a in args_of(w, d)]
    return lambda: pc.call_function(name, args)


# ---- Wasmtime --------------------------------------------------------------


class Wasmtime:
    def __init__(self, path):
        import wasmtime
        self.wt = wasmtime
        self.engine = wasmtime.Engine()
        self.store = wasmtime.Store(self.engine)
        self.store.set_wasi(wasmtime.WasiConfig())
        linker = wasmtime.Linker(self.engine)
        linker.define_wasi()
        module = wasmtime.Module.from_file(self.engine, path)
        self.inst = linker.instantiate(self.store, module)
        ex = self.inst.exports(self.store)
        if "_initialize" in ex:
            ex["_initialize"](self.store)
        self.ex = ex
        self.memory = ex["memory"]

    def view(self, ptr, nbytes):
        base = self.memory.data_ptr(self.store)
        addr = ctypes.addressof(base.contents) + ptr
        return (ctypes.c_uint8 * nbytes).from_address(addr)

    def np_view(self, ptr, count, dtype):
        return np.frombuffer(self.view(ptr, count * np.dtype(dtype).itemsize),
                             dtype=dtype)


def eng_wasmtime_row(w, d, path, sample):
    wt = Wasmtime(path)
    s = wt.store
    if w == "adj_bal":
        f = wt.ex["calculate_adj_bal"]
        b = d["balance"][:sample].tolist()
        r = d["rate"][:sample].tolist()
        return lambda: [f(s, x, y) for x, y in zip(b, r)]
    if w == "filter":
        f = wt.ex["is_rich"]
        b = d["balance"][:sample].tolist()
        return lambda: [f(s, x) for x in b]
    if w == "add_two":
        f = wt.ex["add_two"]
        b = d["id"][:sample].tolist()
        return lambda: [f(s, x) for x in b]
    f = wt.ex["email_domain"]
    alloc = wt.ex["wudf_alloc"]
    emails = [e.encode() for e in d["email"].slice(0, sample).to_pylist()]
    mem = wt.memory

    def run():
        out = []
        for e in emails:
            ptr = alloc(s, len(e))
            mem.write(s, e, ptr)
            res = f(s, ptr, len(e))
            p, n = res & 0xFFFFFFFF, res >> 32
            out.append(mem.read(s, p, p + n).decode())
            wt.ex["wudf_reset"](s)
        return out
    return run


def eng_wasmtime_loop(w, d, loops_path):
    wt = Wasmtime(loops_path)
    s = wt.store
    malloc = wt.ex["bench_malloc"]
    cols = args_of(w, d)
    n = len(cols[0])
    if w == "email_domain":
        e = cols[0]
        offs = np.frombuffer(e.buffers()[1], dtype=np.int32,
                             count=len(e) + 1, offset=e.offset * 4)
        data = e.buffers()[2]
        nbytes = int(offs[-1] - offs[0])
        p_off = malloc(s, 4 * (n + 1))
        p_data = malloc(s, max(nbytes, 1))
        p_ooff = malloc(s, 4 * (n + 1))
        p_odata = malloc(s, max(nbytes, 1))
        fn = wt.ex["email_domain_loop"]

        def run():
            wt.np_view(p_off, n + 1, np.int32)[:] = offs
            wt.np_view(p_data, nbytes, np.uint8)[:] = np.frombuffer(
                data, np.uint8, count=nbytes, offset=int(offs[0]))
            total = fn(s, p_off, p_data, n, p_ooff, p_odata)
            oo = wt.np_view(p_ooff, n + 1, np.int32).copy()
            od = bytes(wt.view(p_odata, total))
            return pa.StringArray.from_buffers(n, pa.py_buffer(oo.tobytes()),
                                               pa.py_buffer(od))
        return run
    ins = [malloc(s, 4 * n) for _ in cols]
    if w == "filter":
        out = malloc(s, (n + 7) // 8)
        fn = wt.ex["is_rich_loop"]

        def run():
            wt.np_view(ins[0], n, np.int32)[:] = cols[0]
            fn(s, ins[0], out, n)
            bits = np.frombuffer(bytes(wt.view(out, (n + 7) // 8)), np.uint8)
            return np.unpackbits(bits, bitorder="little")[:n].astype(bool)
        return run
    out = malloc(s, 4 * n)
    if w == "adj_bal":
        fn = wt.ex["adj_bal_loop"]

        def run():
            wt.np_view(ins[0], n, np.int32)[:] = cols[0]
            wt.np_view(ins[1], n, np.float32)[:] = cols[1]
            fn(s, ins[0], ins[1], out, n)
            return wt.np_view(out, n, np.float32).copy()
        return run
    fn = wt.ex["add_two_loop"]

    def run():
        wt.np_view(ins[0], n, np.int32)[:] = cols[0]
        fn(s, ins[0], out, n)
        return wt.np_view(out, n, np.int32).copy()
    return run


# ---- Extism ----------------------------------------------------------------


def eng_extism(w, d, path, per_row, sample):
    import extism
    with open(path, "rb") as f:
        plugin = extism.Plugin(f.read(), wasi=True)
    cols = args_of(w, d)
    if per_row:
        cols = [c[:sample] if isinstance(c, np.ndarray) else
                c.slice(0, sample) for c in cols]
    name = {"adj_bal": "adj_bal", "filter": "is_rich",
            "email_domain": "email_domain", "add_two": "add_two"}[w]
    if per_row:
        if w == "email_domain":
            rows = [e.encode() for e in cols[0].to_pylist()]
            return lambda: [bytes(plugin.call(name + "_row", e)).decode()
                            for e in rows]
        if w == "adj_bal":
            rows = [np.array([b], np.int32).tobytes() +
                    np.array([r], np.float32).tobytes()
                    for b, r in zip(cols[0], cols[1])]
            return lambda: [np.frombuffer(plugin.call(name + "_row", x),
                                          np.float32)[0] for x in rows]
        rows = [np.array([b], np.int32).tobytes() for b in cols[0]]
        dt = np.uint8 if w == "filter" else np.int32
        return lambda: [int(np.frombuffer(plugin.call(name + "_row", x),
                                          dt)[0]) for x in rows]
    if w == "email_domain":
        e = cols[0]
        n = len(e)
        offs = np.frombuffer(e.buffers()[1], np.int32, count=n + 1,
                             offset=e.offset * 4)
        data = np.frombuffer(e.buffers()[2], np.uint8,
                             count=int(offs[-1] - offs[0]),
                             offset=int(offs[0]))

        def run():
            payload = np.array([n], np.int32).tobytes() + \
                (offs - offs[0]).tobytes() + data.tobytes()
            out = bytes(plugin.call("email_domain_batch", payload))
            oo = out[:4 * (n + 1)]
            return pa.StringArray.from_buffers(
                n, pa.py_buffer(oo), pa.py_buffer(out[4 * (n + 1):]))
        return run
    payload_of = {
        "adj_bal": lambda: cols[0].tobytes() + cols[1].tobytes(),
        "filter": lambda: cols[0].tobytes(),
        "add_two": lambda: cols[0].tobytes()}[w]
    dt = {"adj_bal": np.float32, "filter": np.uint8, "add_two": np.int32}[w]
    return lambda: np.frombuffer(plugin.call(name + "_batch", payload_of()),
                                 dt)


# ---------------------------------------------------------------------------
# Running and reporting
# ---------------------------------------------------------------------------


def timed(fn, runs):
    """The minimum of `runs` runs (one run when it takes over 5 s)."""
    best, result = None, None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        dt = (time.perf_counter() - t0) * 1000
        best = dt if best is None or dt < best else best
        if dt > 5000:
            break
    return best, result


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return "%s, %d cores; %s; Python %s; pyarrow %s, numpy %s, pandas %s, " \
        "duckdb %s" % (cpu, os.cpu_count(), platform.platform(),
                       platform.python_version(), pa.__version__,
                       np.__version__, pd.__version__, duckdb.__version__)


def fmt_ms(ms):
    if ms >= 10000:
        return "%.1f s" % (ms / 1000)
    if ms >= 100:
        return "%.0f ms" % ms
    return "%.1f ms" % ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sample", type=int, default=100000)
    ap.add_argument("--wasm-sample", type=int, default=20000)
    ap.add_argument("--only", default="")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    only = set(a.only.split(",")) if a.only else None
    out = os.path.join(a.build, "bench-python")
    paths, loops, ext = build_modules(out)
    udfs = {w: wudf.load(paths[w]).udf(MODULE[w][1]) for w in WORKLOADS}
    started = time.time()
    print("# bench-python: %s" % datetime.datetime.now(
        datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    print("# machine: %s" % machine())
    print("# command: %s" % " ".join(sys.argv))
    with open("/proc/loadavg") as f:
        print("# load average at start: %s" % " ".join(f.read().split()[:3]))
    for n in sizes:
        log("data: %d rows" % n)
        d = make_data(n)
        sample = min(a.sample, n)
        wsample = min(a.wasm_sample, n)
        for w in a.workloads.split(","):
            rows = []
            engines = [
                ("wudf", lambda: eng_wudf(w, d, udfs), n),
                ("wudf+duckdb", lambda: eng_duckdb(w, d, "wudf", n, udfs), n),
                ("vectorized", lambda: eng_vectorized(w, d), n),
                ("pandas-apply", lambda: eng_pandas_apply(w, d, sample),
                 sample),
                ("duckdb-native",
                 lambda: eng_duckdb(w, d, "native", min(n, 10 * sample)),
                 min(n, 10 * sample)),
                ("duckdb-arrow", lambda: eng_duckdb(w, d, "arrow", n), n),
                ("pyarrow-udf", lambda: eng_pyarrow_udf(w, d, "py_" + w), n),
                ("wasmtime-row",
                 lambda: eng_wasmtime_row(w, d, paths[w], wsample), wsample),
                ("wasmtime-loop", lambda: eng_wasmtime_loop(w, d, loops), n),
                ("extism-row", lambda: eng_extism(w, d, ext, True, wsample),
                 wsample),
                ("extism-loop", lambda: eng_extism(w, d, ext, False, sample),
                 n),
            ]
            base = None
            for name, make, rows_run in engines:
                if only and name not in only and name != "wudf":
                    continue
                log("%s %d %s" % (w, n, name))
                fn = make()
                runs = 1 if rows_run < n else a.runs
                ms, res = timed(fn, runs)
                ms_full = ms * n / rows_run
                if name.startswith("wudf+duckdb") or name.startswith("duckdb"):
                    dg = duck_digest(w, res)
                else:
                    dg = digest(w, res)
                rows.append((name, ms_full, rows_run, dg))
                del fn, res
            ref = {r[0]: r for r in rows}
            wudf_ms = ref["wudf"][1]
            vec_ms = ref["vectorized"][1] if "vectorized" in ref else None
            vec_dg = ref["vectorized"][3] if "vectorized" in ref else None
            print()
            print("### %s, %s rows" % (TITLE[w], format(n, ",")))
            print()
            print("| engine | time | rows/s | vs vectorized | vs wudf | "
                  "check |")
            print("|---|---:|---:|---:|---:|---|")
            for name, ms, rows_run, dg in rows:
                scaled = " (scaled from %s rows)" % format(rows_run, ",") \
                    if rows_run < n else ""
                if vec_dg is None or rows_run < n:
                    check = "-"
                else:
                    ok = abs(dg - vec_dg) <= 1e-6 * max(1.0, abs(vec_dg))
                    check = "ok" if ok else "MISMATCH %r vs %r" % (dg, vec_dg)
                label = LABEL[name]
                if name == "vectorized" and w == "email_domain":
                    label = "pyarrow.compute vectorized (extract_regex)"
                print("| %s%s | %s | %s | %s | %s | %s |" % (
                    label, scaled, fmt_ms(ms),
                    "%.1fM" % (n / ms / 1000),
                    "%.2fx" % (ms / vec_ms) if vec_ms else "-",
                    "%.2fx" % (ms / wudf_ms), check))
            sys.stdout.flush()
    log("done in %.0f s" % (time.time() - started))


if __name__ == "__main__":
    main()
