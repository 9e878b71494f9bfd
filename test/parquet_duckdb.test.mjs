// Reads the Parquet writer's fixture files with DuckDB, an independent
// reader, and checks every value, the schema, the statistics and the page
// layout against answers computed here from the formulas documented in
// src/parquet/parquet_fixture.cc (recomputed below, not read from the writer).
//
// Run: PARQUET_FIXTURE_BIN=build/.../parquet_fixture node --test parquet_duckdb.test.mjs
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDuckDB, sqlString } from './lib/duckdb.mjs';

const BIN = process.env.PARQUET_FIXTURE_BIN;
if (!BIN) throw new Error('PARQUET_FIXTURE_BIN is not set: point it at the parquet_fixture binary');
if (!fs.existsSync(BIN)) throw new Error(`PARQUET_FIXTURE_BIN=${BIN} does not exist`);

const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'parquet-fixture-'));
execFileSync(BIN, [DIR], { stdio: 'inherit' });
const file = (name) => path.join(DIR, name);

// ---- The fixture formulas (see parquet_fixture.cc) ----
const INT32_MIN = -2147483648, INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n), INT64_MAX = 2n ** 63n - 1n;
const LOW = ['alpha', 'βeta', '日本語', '', 'emoji 🚀'];
const PORTS = [80, 443, 53, 8080];
const ROWS = 2501;
const GROUPS = [[0, 1000], [1000, 2000], [2000, 2500], [2500, 2501]];

function expectedRow(i) {
  const bi = BigInt(i);
  return {
    id: bi,
    i32: i % 7 === 3 ? null : i % 11 === 0 ? INT32_MIN : i % 11 === 1 ? INT32_MAX : ((i * 7919) % 20001) - 10000,
    i64: i % 5 === 1 ? null : i % 13 === 0 ? INT64_MIN : i % 13 === 2 ? INT64_MAX : (bi - 1500n) * 1000000007n,
    dbl: i % 9 === 4 ? null : i % 17 === 0 ? NaN : i % 17 === 1 ? -0 : i % 17 === 2 ? 0 : (i - 1000) / 8,
    ts: i % 6 === 5 ? null : 1700000000000n + 1000n * bi + BigInt(i % 3),
    s_low: i % 10 === 9 ? null : LOW[i % 5],
    s_high: i % 4 === 2 ? null : `row-${i}-${(Number((bi * 2654435761n) % 4294967296n)).toString(16)}`,
    s_long: i % 8 === 7 ? null : 'long/' + 'é'.repeat(40) + '/' + String(i).padStart(6, '0'),
    port: PORTS[i % 4],
    all_null: null,
    const_i64: 42n,
    dzero: i % 4 === 0 ? null : 0,
    dnegzero: i % 4 === 0 ? null : -0,
    dnan: i % 4 === 0 ? null : NaN,
    flag: i % 5 === 2 ? null : (i * i) % 3 === 1,
  };
}
const EXPECTED = Array.from({ length: ROWS }, (_, i) => expectedRow(i));

const COLUMNS = {
  id: 'BIGINT', i32: 'INTEGER', i64: 'BIGINT', dbl: 'DOUBLE', ts: 'TIMESTAMP WITH TIME ZONE',
  s_low: 'VARCHAR', s_high: 'VARCHAR', s_long: 'VARCHAR', port: 'INTEGER', all_null: 'VARCHAR',
  const_i64: 'BIGINT', dzero: 'DOUBLE', dnegzero: 'DOUBLE', dnan: 'DOUBLE', flag: 'BOOLEAN',
};

// Statistics as Parquet's TypeDefinedOrder defines them, formatted the way
// DuckDB's parquet_metadata() prints them.
const utf8Less = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
function truncMin(s) {
  const b = Buffer.from(s);
  if (b.length <= 64) return { v: s, exact: true };
  let cut = 64;
  while ((b[cut] & 0xc0) === 0x80) cut--;  // do not split a character
  return { v: b.subarray(0, cut).toString(), exact: false };
}
function truncMax(s) {
  const t = truncMin(s);
  if (t.exact) return t;
  const cps = Array.from(t.v, (c) => c.codePointAt(0));
  while (cps.length && cps[cps.length - 1] === 0x10ffff) cps.pop();
  let last = cps.pop() + 1;
  if (last === 0xd800) last = 0xe000;
  cps.push(last);
  return { v: String.fromCodePoint(...cps), exact: false };
}
const fmtDouble = (x) => (Object.is(x, -0) ? '-0.0' : Number.isInteger(x) ? x.toFixed(1) : String(x));

function expectedStats(col, lo, hi) {
  const vals = EXPECTED.slice(lo, hi).map((r) => r[col]);
  const present = vals.filter((v) => v !== null);
  const nullCount = vals.length - present.length;
  const type = COLUMNS[col];
  let min = null, max = null, minExact = true, maxExact = true;
  if (type === 'VARCHAR') {
    if (present.length) {
      let mn = present[0], mx = present[0];
      for (const v of present) { if (utf8Less(v, mn)) mn = v; if (utf8Less(mx, v)) mx = v; }
      const a = truncMin(mn), b = truncMax(mx);
      min = a.v; max = b.v; minExact = a.exact; maxExact = b.exact;
    }
  } else if (type === 'DOUBLE') {
    const nums = present.filter((v) => !Number.isNaN(v));
    if (nums.length) {
      let mn = Math.min(...nums), mx = Math.max(...nums);
      if (mn === 0) mn = -0;  // spec: a zero min is written as -0.0
      if (mx === 0) mx = 0;   // and a zero max as +0.0
      min = fmtDouble(mn); max = fmtDouble(mx);
    }
  } else if (type === 'BOOLEAN') {
    if (present.length) {  // false < true
      min = String(present.every((v) => v)); max = String(present.some((v) => v));
    }
  } else if (present.length) {
    const big = present.map((v) => BigInt(v));
    let mn = big[0], mx = big[0];
    for (const v of big) { if (v < mn) mn = v; if (v > mx) mx = v; }
    if (type === 'TIMESTAMP WITH TIME ZONE') { min = Number(mn); max = Number(mx); }
    else { min = String(mn); max = String(mx); }
  }
  const distinct = new Set(present.map((v) => (typeof v === 'number' && Object.is(v, -0) ? 'neg0' : String(v)))).size;
  return { nullCount, min, max, minExact, maxExact, distinct };
}

// DuckDB prints TIMESTAMPTZ stats like '2023-11-14 22:13:21.001+00'.
const tsStatToMs = (s) => Date.parse(s.replace(' ', 'T').replace(/\+00$/, 'Z'));

// ---- A minimal Thrift compact reader, to walk page headers ----
function readStruct(buf, pos) {
  const out = {};
  let last = 0;
  const varint = () => {
    let v = 0n, shift = 0n;
    for (;;) { const b = buf[pos.p++]; v |= BigInt(b & 0x7f) << shift; shift += 7n; if (!(b & 0x80)) return v; }
  };
  const zz = () => { const v = varint(); return Number((v >> 1n) ^ -(v & 1n)); };
  const value = (t) => {
    switch (t) {
      case 1: return true;
      case 2: return false;
      case 3: return buf[pos.p++];
      case 4: case 5: case 6: return zz();
      case 7: pos.p += 8; return null;
      case 8: { const n = Number(varint()); const s = buf.subarray(pos.p, pos.p + n); pos.p += n; return s; }
      case 9: {
        const h = buf[pos.p++]; let n = h >> 4; const et = h & 15;
        if (n === 15) n = Number(varint());
        return Array.from({ length: n }, () => (et === 2 ? buf[pos.p++] === 1 : value(et)));
      }
      case 12: return readStruct(buf, pos);
      default: throw new Error(`thrift type ${t} at ${pos.p}`);
    }
  };
  for (;;) {
    const h = buf[pos.p++];
    if (h === 0) return out;
    const delta = h >> 4, t = h & 15;
    const id = delta ? last + delta : zz();
    last = id;
    out[id] = value(t);
  }
}

function readPages(fileBuf, start, length) {
  const pages = [];
  const pos = { p: start };
  while (pos.p < start + length) {
    const offset = pos.p;
    const h = readStruct(fileBuf, pos);
    pages.push({ offset, type: h[1], uncompressed: h[2], compressed: h[3], data: h[5], dict: h[7] });
    pos.p += h[3];
  }
  assert.equal(pos.p, start + length, 'pages end exactly at the chunk end');
  return pages;
}

// ---- Tests ----
const db = await openDuckDB();
test.after(() => { db.close(); fs.rmSync(DIR, { recursive: true, force: true }); });

const TYPE_FILES = [
  ['types_zstd.parquet', 'ZSTD', true, true],
  ['types_snappy.parquet', 'SNAPPY', true, true],
  ['types_none.parquet', 'UNCOMPRESSED', true, true],
  ['types_default.parquet', 'ZSTD', true, false],
  ['plain_zstd.parquet', 'ZSTD', false, false],
];

for (const [name, codec, dictionary, smallPages] of TYPE_FILES) {
  const f = sqlString(file(name));

  test(`${name}: column types`, async () => {
    const rows = await db.all(`DESCRIBE SELECT * FROM read_parquet(${f})`);
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.column_name, r.column_type])), COLUMNS);
  });

  test(`${name}: every value, row by row, in file order`, async () => {
    const rows = await db.all(`SELECT file_row_number, id, i32, i64, dbl, epoch_ms(ts) AS ts, s_low, s_high,
        s_long, port, all_null, const_i64, dzero, dnegzero, dnan, flag
      FROM read_parquet(${f}, file_row_number = true) ORDER BY file_row_number`);
    assert.equal(rows.length, ROWS);
    for (let i = 0; i < ROWS; i++) {
      const got = rows[i], want = EXPECTED[i];
      assert.equal(got.file_row_number, BigInt(i));
      for (const col of Object.keys(COLUMNS)) {
        const g = got[col], w = want[col];
        const same = typeof w === 'number' ? Object.is(g, w) : g === w;
        assert.ok(same, `row ${i} column ${col}: got ${String(g)} (${typeof g}), want ${String(w)}`);
      }
    }
  });

  test(`${name}: schema annotations`, async () => {
    const rows = await db.json(`SELECT name, type, repetition_type, converted_type, logical_type, num_children
      FROM parquet_schema(${f})`);
    assert.equal(rows.length, 16);
    assert.equal(rows[0].num_children, '15');
    assert.equal(rows[0].repetition_type, null, 'the root has no repetition');
    const by = Object.fromEntries(rows.slice(1).map((r) => [r.name, r]));
    for (const col of ['s_low', 's_high', 's_long', 'all_null']) {
      assert.equal(by[col].type, 'BYTE_ARRAY');
      assert.equal(by[col].converted_type, 'UTF8');
      assert.match(by[col].logical_type, /^StringType/);
    }
    assert.equal(by.ts.type, 'INT64');
    assert.equal(by.ts.converted_type, 'TIMESTAMP_MILLIS');
    assert.match(by.ts.logical_type, /TimestampType\(isAdjustedToUTC=1, unit=TimeUnit\(MILLIS=MilliSeconds\(\)/);
    for (const [col, t] of [['i32', 'INT32'], ['port', 'INT32'], ['id', 'INT64'], ['dbl', 'DOUBLE'],
      ['flag', 'BOOLEAN']]) {
      assert.equal(by[col].type, t);
      assert.equal(by[col].converted_type, null);
    }
    for (const r of rows.slice(1)) assert.equal(r.repetition_type, 'OPTIONAL');
    const [meta] = await db.json(`SELECT * FROM parquet_file_metadata(${f})`);
    assert.equal(meta.created_by, 'flowlake version 0.1.0');
    assert.equal(meta.format_version, '1');
    assert.equal(meta.num_rows, String(ROWS));
    assert.equal(meta.num_row_groups, '4');
    assert.equal(meta.column_orders.length, 15);
    for (const o of meta.column_orders) assert.match(o, /TYPE_ORDER=TypeDefinedOrder/);
  });

  test(`${name}: row group statistics, encodings and compression`, async () => {
    const rows = await db.json(`SELECT * FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`);
    assert.equal(rows.length, 4 * 15);
    for (const r of rows) {
      const g = Number(r.row_group_id);
      const [lo, hi] = GROUPS[g];
      const col = r.path_in_schema;
      const where = `${name} row group ${g} column ${col}`;
      const want = expectedStats(col, lo, hi);
      assert.equal(r.row_group_num_rows, String(hi - lo), where);
      assert.equal(r.num_values, String(hi - lo), where);
      assert.equal(r.compression, codec, where);
      assert.equal(r.stats_null_count, String(want.nullCount), where);
      if (COLUMNS[col] === 'TIMESTAMP WITH TIME ZONE') {
        assert.equal(tsStatToMs(r.stats_min_value), want.min, where);
        assert.equal(tsStatToMs(r.stats_max_value), want.max, where);
      } else {
        assert.equal(r.stats_min_value, want.min, `${where} min`);
        assert.equal(r.stats_max_value, want.max, `${where} max`);
      }
      if (want.min !== null) {
        assert.equal(r.min_is_exact, want.minExact, where);
        assert.equal(r.max_is_exact, want.maxExact, where);
      }
      const usesDict = r.encodings.includes('RLE_DICTIONARY');
      assert.equal(usesDict, r.dictionary_page_offset !== null, where);
      assert.equal(r.encodings, usesDict ? 'PLAIN, RLE, RLE_DICTIONARY' : 'PLAIN, RLE', where);
      if (usesDict) assert.equal(r.stats_distinct_count, String(want.distinct), where);
      if (g < 3) {  // a 1-row group keeps PLAIN: a dictionary cannot pay
        const dictCols = ['s_low', 'port', 'const_i64'];
        assert.equal(usesDict, dictionary && dictCols.includes(col), `${where}: ${r.encodings}`);
      }
    }
  });

  test(`${name}: page layout`, async () => {
    const buf = fs.readFileSync(file(name));
    assert.equal(buf.subarray(0, 4).toString(), 'PAR1');
    assert.equal(buf.subarray(buf.length - 4).toString(), 'PAR1');
    const rows = await db.json(`SELECT row_group_id, path_in_schema, row_group_num_rows, dictionary_page_offset,
        data_page_offset, total_compressed_size FROM parquet_metadata(${f})`);
    for (const r of rows) {
      const start = Number(r.dictionary_page_offset ?? r.data_page_offset);
      const pages = readPages(buf, start, Number(r.total_compressed_size));
      const where = `${name} row group ${r.row_group_id} column ${r.path_in_schema}`;
      const dataPages = pages.filter((p) => p.type === 0);
      if (r.dictionary_page_offset !== null) {
        assert.equal(pages[0].type, 2, `${where}: dictionary page first`);
        assert.equal(pages[0].dict[2], 0, `${where}: dictionary page PLAIN`);
        assert.equal(dataPages.length, pages.length - 1);
      } else {
        assert.equal(dataPages.length, pages.length, where);
      }
      assert.equal(Number(r.data_page_offset), dataPages[0].offset, `${where}: data_page_offset`);
      const total = dataPages.reduce((n, p) => n + p.data[1], 0);
      assert.equal(total, Number(r.row_group_num_rows), `${where}: page num_values sum to the rows`);
      for (const p of dataPages) {
        assert.equal(p.data[3], 3, `${where}: definition levels RLE`);
        assert.equal(p.data[2], r.dictionary_page_offset !== null ? 8 : 0, `${where}: value encoding`);
      }
      if (smallPages && r.row_group_id === '0' && r.path_in_schema === 'id') {
        // 1000 INT64 values with a 256-byte page target: 32 pages of 32 rows.
        assert.equal(dataPages.length, 32, where);
      }
      if (smallPages && r.row_group_id === '0' && r.path_in_schema === 'flag') {
        // Booleans: a row per target byte (pages of bits): 4 pages.
        assert.equal(dataPages.length, 4, where);
      }
      if (!smallPages) assert.equal(dataPages.length, 1, where);
    }
  });

  test(`${name}: filters agree with a full scan (statistics are safe to prune on)`, async () => {
    const count = async (where) => Number((await db.all(`SELECT count(*) AS n FROM read_parquet(${f}) WHERE ${where}`))[0].n);
    const n = (pred) => EXPECTED.filter(pred).length;
    assert.equal(await count(`i64 = ${INT64_MAX}`), n((r) => r.i64 === INT64_MAX));
    assert.equal(await count(`i32 = ${INT32_MIN}`), n((r) => r.i32 === INT32_MIN));
    assert.equal(await count(`dbl = 0`), n((r) => r.dbl === 0));
    assert.equal(await count(`dzero = 0`), n((r) => r.dzero === 0));
    assert.equal(await count(`s_low = ''`), n((r) => r.s_low === ''));
    assert.equal(await count(`s_low IS NULL`), n((r) => r.s_low === null));
    const last = EXPECTED[2499].s_long;
    assert.equal(await count(`s_long = ${sqlString(last)}`), 1);
    assert.equal(await count(`s_long >= ${sqlString(last)}`), n((r) => r.s_long !== null && !utf8Less(r.s_long, last)));
    assert.equal(await count(`epoch_ms(ts) >= 1700002000000`), n((r) => r.ts !== null && r.ts >= 1700002000000n));
    assert.equal(await count(`flag`), n((r) => r.flag === true));
    assert.equal(await count(`NOT flag`), n((r) => r.flag === false));
  });
}

test('types_default.parquet: key/value metadata', async () => {
  const rows = await db.json(`SELECT key, value FROM parquet_kv_metadata(${sqlString(file('types_default.parquet'))})`);
  assert.deepEqual(rows.map((r) => [r.key, r.value]), [['flowlake.fixture', 'types'], ['k2', 'v2']]);
});

test('empty.parquet: schema and no rows', async () => {
  const f = sqlString(file('empty.parquet'));
  const [{ n }] = await db.json(`SELECT count(*) AS n FROM read_parquet(${f})`);
  assert.equal(n, '0');
  const cols = await db.all(`DESCRIBE SELECT * FROM read_parquet(${f})`);
  assert.deepEqual(Object.fromEntries(cols.map((r) => [r.column_name, r.column_type])), COLUMNS);
  const [meta] = await db.json(`SELECT num_rows, num_row_groups FROM parquet_file_metadata(${f})`);
  assert.deepEqual(meta, { num_rows: '0', num_row_groups: '0' });
});

test('flows.parquet: no larger than DuckDB writing the same flows with zstd', async () => {
  const ours = file('flows.parquet');
  const theirs = file('flows_duckdb.parquet');
  await db.all(`COPY (SELECT * FROM read_parquet(${sqlString(ours)})) TO ${sqlString(theirs)}
    (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`);
  const [{ n }] = await db.json(`SELECT count(*) AS n FROM read_parquet(${sqlString(ours)})`);
  assert.equal(n, '100000');
  const a = fs.statSync(ours).size, b = fs.statSync(theirs).size;
  console.log(`flows.parquet: flowlake ${a} B (${(a / 1e5).toFixed(1)} B/flow), DuckDB ${b} B (${(b / 1e5).toFixed(1)} B/flow)`);
  assert.ok(a <= b, `flowlake ${a} B > DuckDB ${b} B`);
  // Same content both ways.
  const [{ d }] = await db.json(`SELECT count(*) AS d FROM (SELECT * FROM read_parquet(${sqlString(ours)})
    EXCEPT ALL SELECT * FROM read_parquet(${sqlString(theirs)}))`);
  assert.equal(d, '0');
});
