"""DuckDB, Polars, pandas and pyarrow.compute running wudf UDFs in real
queries, checked against the same logic written in Python."""
import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest

N = 10000


def adj_bal(balance, rate):
    # float32 arithmetic, as the C function does it.
    return (np.float32(balance) * np.float32(rate) +
            np.float32(balance // 1000))


@pytest.fixture(scope="module")
def accounts():
    rng = np.random.default_rng(5)
    balance = rng.integers(0, 100000, N).astype(np.int32)
    rate = rng.integers(0, 100, N).astype(np.float32) / np.float32(100)
    email = ["user%d@%s" % (i, ["mtv.com", "bbc.co.uk", "ünï.de"][i % 3])
             for i in range(N)]
    return pd.DataFrame({"id": np.arange(1, N + 1, dtype=np.int32),
                         "balance": balance, "rate": rate, "email": email})


def test_duckdb_sql(examples, accounts):
    con = duckdb.connect()
    examples["calculate_adj_bal"].udf("calculate_adj_bal").register_duckdb(
        con, "calculate_adj_bal")
    examples["email_domain"].udf("email_domain").register_duckdb(
        con, "email_domain")
    examples["is_rich"].udf("is_rich").register_duckdb(con, "is_rich")
    con.register("accounts_df", accounts)
    con.execute("CREATE TABLE accounts AS SELECT * FROM accounts_df")
    con.execute("INSERT INTO accounts VALUES (NULL, NULL, 0.5, NULL)")
    rows = con.execute("SELECT id, calculate_adj_bal(balance, rate), "
                   "email_domain(email) FROM accounts ORDER BY id "
                   "NULLS LAST").fetchall()
    assert len(rows) == N + 1
    assert rows[-1] == (None, None, None)
    for (ident, adj, dom), b, r, e in zip(rows, accounts.balance,
                                          accounts.rate, accounts.email):
        assert adj == float(adj_bal(b, r))
        assert dom == e.rsplit("@", 1)[1]
    n = con.execute("SELECT count(*) FROM accounts WHERE is_rich(balance)"
                ).fetchone()[0]
    assert n == int((accounts.balance > 50000).sum())
    # DuckDB widens compatible columns to the declared types.
    got = con.execute("SELECT calculate_adj_bal(1000::SMALLINT, 1.5::FLOAT)").fetchone()
    assert got[0] == 1501.0


def test_duckdb_parallel_query(examples):
    con = duckdb.connect()
    con.execute("SET threads = 4")
    examples["calculate_adj_bal"].udf("calculate_adj_bal").register_duckdb(
        con, "adj")
    got = con.execute("SELECT sum(adj(i::INTEGER, 0.5::FLOAT)) FROM "
                  "range(300000) t(i)").fetchone()[0]
    want = sum(float(np.float32(i) * np.float32(0.5) + np.float32(i // 1000))
               for i in range(300000))
    assert got == pytest.approx(want, rel=1e-9)


def test_polars_map_batches(examples, accounts):
    f = examples["calculate_adj_bal"].udf("calculate_adj_bal")
    dom = examples["email_domain"].udf("email_domain")
    df = pl.from_pandas(accounts)
    out = df.with_columns(
        adj=pl.struct("balance", "rate").map_batches(
            lambda s: f(s.struct.field("balance"), s.struct.field("rate"))),
        domain=pl.col("email").map_batches(dom),
        twice=pl.col("balance").map_batches(
            examples["is_rich"].udf("is_rich")))
    assert out["adj"].dtype == pl.Float32
    assert out["adj"].to_list() == [float(adj_bal(b, r)) for b, r in
                                    zip(accounts.balance, accounts.rate)]
    assert out["domain"].to_list() == [e.rsplit("@", 1)[1]
                                       for e in accounts.email]
    assert out["twice"].to_list() == list(accounts.balance > 50000)
    kept = df.filter(examples["is_rich"].udf("is_rich").filter(df["balance"]))
    assert kept.height == int((accounts.balance > 50000).sum())


def test_pandas_assign(examples, accounts):
    f = examples["calculate_adj_bal"].udf("calculate_adj_bal")
    df = accounts.assign(adj=f(accounts.balance, accounts.rate))
    want = [float(adj_bal(b, r)) for b, r in zip(accounts.balance,
                                                 accounts.rate)]
    assert df.adj.tolist() == want
    s = f.pandas(accounts.balance, accounts.rate)
    assert s.index.equals(accounts.index) and s.tolist() == want
    rich = examples["is_rich"].udf("is_rich").filter(accounts.balance)
    assert len(accounts[rich.to_numpy(zero_copy_only=False)]) == \
        int((accounts.balance > 50000).sum())


def test_pyarrow_compute(examples, accounts):
    f = examples["calculate_adj_bal"].udf("calculate_adj_bal")
    f.register_pyarrow("wudf_adj_bal_test")
    t = pa.Table.from_pandas(accounts)
    got = pc.call_function("wudf_adj_bal_test", [t["balance"], t["rate"]])
    assert got.to_pylist() == [float(adj_bal(b, r)) for b, r in
                               zip(accounts.balance, accounts.rate)]
    # Scalars are broadcast.
    got = pc.call_function("wudf_adj_bal_test",
                           [pa.scalar(1000, pa.int32()),
                            pa.array([1.5, 2.0], pa.float32())])
    assert got.to_pylist() == [1501.0, 2001.0]
    got = pc.call_function("wudf_adj_bal_test",
                           [pa.scalar(1000, pa.int32()),
                            pa.scalar(1.5, pa.float32())])
    assert got.as_py() == 1501.0
