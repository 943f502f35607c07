// The Node.js part of `make bench` (bench/run.sh, bench/compare.py): the
// benchmark's UDFs run by V8 on the same WebAssembly modules wudf runs, and
// the same computations as SQL in DuckDB.
//
//   node compare_js.mjs mem --cols DIR --csv FILE --wasm DIR --loops FILE
//                           [--runs K] [--batch ROWS]
//   node compare_js.mjs e2e --csv FILE --out DIR --threads N [--runs K]
//                           [--only WORKLOAD]
//
// mem: the columns written by compare_mem --dump (DIR), in batches of ROWS
// rows (default 8192), each batch into a new output, as compare_mem does:
//   v8-row    a JavaScript loop calling the module's export once per row
//             (wudf's modules, from --wasm DIR);
//   v8-loop   the batch copied into linear memory, one call of a loop
//             compiled into the module (bench/v8_loops.c, --loops FILE),
//             the result copied out;
//   duckdb    the SQL expression over a table loaded from the CSV file, one
//             thread, the result materialized (a FILTER counts its rows).
// e2e: DuckDB's COPY (SELECT ... FROM read_csv(FILE)) TO 'DIR/...' with N
// threads.
//
// Prints one JSON object per line, as compare_mem does; times in ms, taken
// inside this process (Node.js and DuckDB start-up are not counted).
import fs from 'node:fs';
import path from 'node:path';

const WORKLOADS = ['adj_bal', 'filter', 'email_domain', 'add_two'];

function parseArgs(argv) {
  const o = { mode: argv[0], runs: 5, batch: 8192, threads: 1 };
  for (let i = 1; i + 1 < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    o[key] = ['runs', 'batch', 'threads'].includes(key) ? Number(argv[i + 1])
                                                         : argv[i + 1];
  }
  return o;
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function timeRuns(runs, fn) {
  const ms = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

async function timeRunsAsync(runs, fn) {
  const ms = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

// ---- the data ---------------------------------------------------------------

function readTyped(dir, name, Type) {
  const buf = fs.readFileSync(path.join(dir, name));
  // A copy at offset 0: Buffer pools may not be aligned for the type.
  const bytes = new Uint8Array(buf.byteLength);
  bytes.set(buf);
  return new Type(bytes.buffer, 0, buf.byteLength / Type.BYTES_PER_ELEMENT);
}

function loadColumns(dir) {
  const c = {
    id: readTyped(dir, 'id.i32', Int32Array),
    balance: readTyped(dir, 'balance.i32', Int32Array),
    rate: readTyped(dir, 'rate.f32', Float32Array),
    emailOff: readTyped(dir, 'email.off', Int32Array),
    email: readTyped(dir, 'email.dat', Uint8Array),
  };
  c.rows = c.id.length;
  return c;
}

// Digests, as compare_mem computes them (sums in double, in row order).
function digestOf(workload, outs) {
  let d = 0;
  for (const o of outs) {
    if (workload === 'filter') {
      for (let i = 0; i < o.n; i++) d += (o.bits[i >> 3] >> (i & 7)) & 1;
    } else if (workload === 'email_domain') {
      d += o.offsets[o.n];
    } else {
      for (let i = 0; i < o.n; i++) d += o.values[i];
    }
  }
  return d;
}

// ---- V8, one call per row ---------------------------------------------------

async function instantiate(file) {
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(file), {});
  if (instance.exports._initialize) instance.exports._initialize();
  return instance.exports;
}

// Each returns a function running rows [at, at + n) into a new output.
function perRow(workload, x, c) {
  switch (workload) {
    case 'adj_bal': {
      const f = x.calculate_adj_bal;
      return (at, n) => {
        const values = new Float32Array(n);
        for (let i = 0; i < n; i++) values[i] = f(c.balance[at + i], c.rate[at + i]);
        return { n, values };
      };
    }
    case 'filter': {
      const f = x.is_rich;
      return (at, n) => {
        const bits = new Uint8Array((n + 7) >> 3);
        for (let i = 0; i < n; i++) if (f(c.balance[at + i])) bits[i >> 3] |= 1 << (i & 7);
        return { n, bits };
      };
    }
    case 'email_domain':
      return perRowStrings(x, c);
    default: {
      const f = x.add_two;
      return (at, n) => {
        const values = new Int32Array(n);
        for (let i = 0; i < n; i++) values[i] = f(c.id[at + i]);
        return { n, values };
      };
    }
  }
}

// As wudf's ABI does it: the batch's strings copied into the module's memory
// in one block (wudf_alloc), one call per row returning (length << 32) |
// address as an i64 (a BigInt in JavaScript), the bytes copied out.
function perRowStrings(x, c) {
  const f = x.email_domain;
  return (at, n) => {
    const off = c.emailOff;
    const first = off[at];
    const bytes = off[at + n] - first;
    x.wudf_reset();
    const base = x.wudf_alloc(bytes);
    const mem = new Uint8Array(x.memory.buffer); // after any growth
    mem.set(c.email.subarray(first, first + bytes), base);
    const offsets = new Int32Array(n + 1);
    const data = new Uint8Array(bytes);
    let w = 0;
    for (let i = 0; i < n; i++) {
      const r = f(base + off[at + i] - first, off[at + i + 1] - off[at + i]);
      const p = Number(r & 0xffffffffn);
      const len = Number(r >> 32n);
      offsets[i] = w;
      data.set(mem.subarray(p, p + len), w);
      w += len;
    }
    offsets[n] = w;
    return { n, offsets, data };
  };
}

// ---- V8, a loop inside the module --------------------------------------------

function loopRunner(workload, x, c, batch) {
  const heapI32 = () => new Int32Array(x.memory.buffer);
  const heapF32 = () => new Float32Array(x.memory.buffer);
  const heapU8 = () => new Uint8Array(x.memory.buffer);
  const a = x.bench_malloc(batch * 4);
  const b = x.bench_malloc(batch * 4);
  const out = x.bench_malloc(batch * 4 + 4);
  switch (workload) {
    case 'adj_bal':
      return (at, n) => {
        heapI32().set(c.balance.subarray(at, at + n), a >> 2);
        heapF32().set(c.rate.subarray(at, at + n), b >> 2);
        x.adj_bal_loop(a, b, out, n);
        return { n, values: heapF32().slice(out >> 2, (out >> 2) + n) };
      };
    case 'filter':
      return (at, n) => {
        heapI32().set(c.balance.subarray(at, at + n), a >> 2);
        x.is_rich_loop(a, out, n);
        return { n, bits: heapU8().slice(out, out + ((n + 7) >> 3)) };
      };
    case 'email_domain':
      return loopStrings(x, c, batch);
    default:
      return (at, n) => {
        heapI32().set(c.id.subarray(at, at + n), a >> 2);
        x.add_two_loop(a, out, n);
        return { n, values: heapI32().slice(out >> 2, (out >> 2) + n) };
      };
  }
}

function loopStrings(x, c, batch) {
  const off = c.emailOff;
  let most = 0;
  for (let at = 0; at < c.rows; at += batch) {
    const n = Math.min(batch, c.rows - at);
    most = Math.max(most, off[at + n] - off[at]);
  }
  const inOff = x.bench_malloc((batch + 1) * 4);
  const inData = x.bench_malloc(most + 1);
  const outOff = x.bench_malloc((batch + 1) * 4);
  const outData = x.bench_malloc(most + 1);
  return (at, n) => {
    const first = off[at];
    const bytes = off[at + n] - first;
    new Int32Array(x.memory.buffer).set(off.subarray(at, at + n + 1), inOff >> 2);
    new Uint8Array(x.memory.buffer).set(c.email.subarray(first, first + bytes), inData);
    const w = x.email_domain_loop(inOff, inData, n, outOff, outData);
    return {
      n,
      offsets: new Int32Array(x.memory.buffer).slice(outOff >> 2, (outOff >> 2) + n + 1),
      data: new Uint8Array(x.memory.buffer).slice(outData, outData + w),
    };
  };
}

function overBatches(rows, batch, run, keep) {
  const outs = [];
  for (let at = 0; at < rows; at += batch) {
    const o = run(at, Math.min(batch, rows - at));
    if (keep) outs.push(o);
  }
  return outs;
}

const MODULE_OF = {
  adj_bal: 'calculate_adj_bal.wasm',
  filter: 'is_rich.wasm',
  email_domain: 'email_domain.wasm',
  add_two: 'add_two.wasm',
};

async function v8Workload(o, c, workload) {
  const rowX = await instantiate(path.join(o.wasm, MODULE_OF[workload]));
  const loopX = await instantiate(o.loops);
  const kinds = [
    ['v8-row', perRow(workload, rowX, c)],
    ['v8-loop', loopRunner(workload, loopX, c, o.batch)],
  ];
  for (const [engine, run] of kinds) {
    const digest = digestOf(workload, overBatches(c.rows, o.batch, run, true));
    const ms = timeRuns(o.runs, () => overBatches(c.rows, o.batch, run, false));
    emit({ workload, engine, rows: c.rows, batch: o.batch, threads: 1, digest, ms });
  }
}

// ---- DuckDB -------------------------------------------------------------------

// The computations as a SQL user writes them, on DuckDB's inferred types
// (id and balance BIGINT, rate DOUBLE: the float expression is computed in
// double precision). email_domain: what follows the last '@', '' if none.
const SQL_EXPR = {
  adj_bal: 'balance * rate + balance // 1000',
  add_two: 'id + 2',
  email_domain: "regexp_extract(email, '@([^@]*)$', 1)",
};
const RESULT_NAME = {
  adj_bal: 'calculate_adj_bal_RESULT',
  email_domain: 'email_domain_RESULT',
  add_two: 'add_two_RESULT',
};

async function duckdb(threads) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const con = await db.connect();
  const one = async (sql) => (await con.runAndReadAll(sql)).getRows()[0][0];
  return { con, one };
}

function sqlString(s) {
  return "'" + s.replaceAll("'", "''") + "'";
}

async function duckdbMem(o, rows) {
  const { con, one } = await duckdb(1);
  const version = await one('SELECT version()');
  await con.run(`CREATE TABLE t AS SELECT * FROM read_csv(${sqlString(o.csv)})`);
  for (const workload of WORKLOADS) {
    let sql, digestSql;
    if (workload === 'filter') {
      sql = 'SELECT count(*) FROM t WHERE balance > 50000';
      digestSql = sql;
    } else {
      sql = `CREATE OR REPLACE TEMP TABLE r AS SELECT ${SQL_EXPR[workload]} AS v FROM t`;
      digestSql = workload === 'email_domain' ? 'SELECT sum(strlen(v)) FROM r'
                                             : 'SELECT sum(v) FROM r';
    }
    const ms = await timeRunsAsync(o.runs, () => con.run(sql));
    const digest = Number(await one(digestSql));
    emit({ workload, engine: 'duckdb', rows, threads: 1, digest, ms, version, sql });
  }
}

async function mem(o) {
  const c = loadColumns(o.cols);
  for (const workload of WORKLOADS) await v8Workload(o, c, workload);
  await duckdbMem(o, c.rows);
}

function copySql(workload, csv, out) {
  const src = `read_csv(${sqlString(csv)})`;
  const query = workload === 'filter'
      ? `SELECT * FROM ${src} WHERE balance > 50000`
      : `SELECT *, ${SQL_EXPR[workload]} AS ${RESULT_NAME[workload]} FROM ${src}`;
  return `COPY (${query}) TO ${sqlString(out)} (FORMAT csv, HEADER)`;
}

async function e2e(o) {
  const { con, one } = await duckdb(o.threads);
  const version = await one('SELECT version()');
  const threads = Number(await one("SELECT current_setting('threads')"));
  for (const workload of WORKLOADS) {
    if (o.only && o.only !== workload) continue;
    const out = path.join(o.out, `duckdb-${workload}.csv`);
    const sql = copySql(workload, o.csv, out);
    const ms = [], cpu_ms = [];
    for (let r = 0; r < o.runs; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await con.run(sql);
      ms.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu_ms.push((c.user + c.system) / 1000);
    }
    emit({ workload, engine: 'duckdb', threads, ms, cpu_ms, output: out, version, sql });
  }
}

const opts = parseArgs(process.argv.slice(2));
if (opts.mode === 'mem') await mem(opts);
else if (opts.mode === 'e2e') await e2e(opts);
else {
  process.stderr.write('usage: compare_js.mjs mem|e2e ... (see the top of the file)\n');
  process.exit(2);
}
