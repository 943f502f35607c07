"""The pandas part of `make bench` (bench/run.sh, bench/compare.py).

    /usr/bin/python3 compare_pandas.py mem --csv FILE [--runs K] [--apply-runs K]
    /usr/bin/python3 compare_pandas.py e2e --csv FILE --out DIR [--runs K]

mem: the CSV file read into a DataFrame (not timed), then each workload
  pandas-vec    as the vectorized expression a pandas user writes;
  pandas-apply  as a row-wise Python function through DataFrame.apply(axis=1),
                the way a UDF is written for Dask (ddf.apply) or called per
                row by PySpark's @udf.
e2e: read_csv, the vectorized expression, to_csv, timed together.

pandas is single-threaded. Prints one JSON object per line (times in ms,
taken inside this process: the interpreter and `import pandas` are not
counted), as compare_mem does. Uses Debian's python3-pandas.
"""
import argparse
import json
import os
import sys
import time

import pandas as pd


# The UDFs as row-wise Python functions (the same logic as the C sources).
def calculate_adj_bal(balance, rate):
    return balance * rate + balance // 1000


def is_rich(balance):
    return balance > 50000


def email_domain(email):
    at = email.rfind("@")
    return email[at + 1:] if at >= 0 else ""


def add_two(ident):
    return ident + 2


def vectorized(df, workload):
    if workload == "adj_bal":
        return df.balance * df.rate + df.balance // 1000
    if workload == "filter":
        return df.balance > 50000
    if workload == "email_domain":
        return df.email.str.extract(r"@([^@]*)$", expand=False).fillna("")
    return df.id + 2


def row_wise(df, workload):
    if workload == "adj_bal":
        return df.apply(lambda r: calculate_adj_bal(r["balance"], r["rate"]),
                        axis=1)
    if workload == "filter":
        return df.apply(lambda r: is_rich(r["balance"]), axis=1)
    if workload == "email_domain":
        return df.apply(lambda r: email_domain(r["email"]), axis=1)
    return df.apply(lambda r: add_two(r["id"]), axis=1)


def digest(workload, result):
    if workload == "email_domain":
        return float(result.str.len().sum())
    return float(result.sum())


WORKLOADS = ["adj_bal", "filter", "email_domain", "add_two"]
RESULT_NAME = {
    "adj_bal": "calculate_adj_bal_RESULT",
    "email_domain": "email_domain_RESULT",
    "add_two": "add_two_RESULT",
}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def timed(runs, fn):
    ms, cpu_ms, result = [], [], None
    for _ in range(runs):
        result = None  # free the previous result before the next run
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        ms.append((time.perf_counter() - t0) * 1e3)
        cpu_ms.append((time.process_time() - c0) * 1e3)
    return ms, cpu_ms, result


def mem(a):
    df = pd.read_csv(a.csv)
    rows = len(df)
    for w in WORKLOADS:
        for engine, fn, runs in (("pandas-vec", vectorized, a.runs),
                                 ("pandas-apply", row_wise, a.apply_runs)):
            if runs <= 0:
                continue
            ms, _, result = timed(runs, lambda: fn(df, w))
            emit({"workload": w, "engine": engine, "rows": rows, "threads": 1,
                  "digest": digest(w, result), "ms": ms,
                  "version": pd.__version__})


def e2e_one(csv, out, workload):
    df = pd.read_csv(csv)
    if workload == "filter":
        df = df[df.balance > 50000]
    else:
        df[RESULT_NAME[workload]] = vectorized(df, workload)
    df.to_csv(out, index=False)


def e2e(a):
    for w in WORKLOADS:
        if a.only and a.only != w:
            continue
        out = os.path.join(a.out, "pandas-%s.csv" % w)
        ms, cpu_ms, _ = timed(a.runs, lambda: e2e_one(a.csv, out, w))
        emit({"workload": w, "engine": "pandas", "threads": 1, "ms": ms,
              "cpu_ms": cpu_ms, "output": out, "version": pd.__version__})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["mem", "e2e"])
    p.add_argument("--csv", required=True)
    p.add_argument("--out")
    p.add_argument("--only")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--apply-runs", type=int, default=1)
    a = p.parse_args()
    if a.mode == "mem":
        mem(a)
    else:
        e2e(a)


if __name__ == "__main__":
    main()
