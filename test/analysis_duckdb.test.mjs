// Reads the rollup and event files AnalysisWriter writes (through
// src/lake/analysis_writer_fixture.cc) with DuckDB, an independent reader:
// the NDJSON with read_json_auto, the Parquet with read_parquet, both with
// Hive partitioning. Checks every column's type and value against the golden
// rows below (the fixture's records, written out by hand here), and that the
// NDJSON and Parquet files hold the same rows.
//
// Run: ANALYSIS_FIXTURE_BIN=build/.../analysis_writer_fixture node --test analysis_duckdb.test.mjs
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDuckDB, sqlString } from './lib/duckdb.mjs';

const BIN = process.env.ANALYSIS_FIXTURE_BIN;
if (!BIN) throw new Error('ANALYSIS_FIXTURE_BIN is not set: point it at analysis_writer_fixture');
if (!fs.existsSync(BIN)) throw new Error(`ANALYSIS_FIXTURE_BIN=${BIN} does not exist`);

const LAKE = fs.mkdtempSync(path.join(os.tmpdir(), 'analysis-fixture-'));
execFileSync(BIN, [LAKE], { stdio: 'inherit' });
const glob = (dir, ext) => sqlString(path.join(LAKE, dir, '*', '*', `*.${ext}`));
const NDJSON = `read_json_auto(${glob('rollups/host_1m', 'json')}, hive_partitioning=true)`;
const PARQUET = `read_parquet(${glob('rollups/host_1m_parquet', 'parquet')}, hive_partitioning=true)`;
const EVENTS = `read_json_auto(${glob('events', 'json')}, hive_partitioning=true)`;

// ---- The fixture's records (analysis_writer_fixture.cc), by hand ----
const EMPTY = '01010c';  // an empty exact DistinctCounter
const zero = {
  flows_as_src: 0, flows_as_dst: 0, bytes_sent: 0n, bytes_received: 0, pkts_sent: 0,
  pkts_received: 0, peers_contacted: 0, peers_contacting: 0, dst_ports_contacted: 0,
  tcp_syn_only_as_src: 0, top_l7: [], avg_duration_ms: null, probes: [],
  peers_contacted_sketch: EMPTY, peers_contacting_sketch: EMPTY, dst_ports_contacted_sketch: EMPTY,
  correction: false,
};
const GOLDEN = [
  {
    ...zero, window_start: '2025-12-01T00:07:00Z', window_end: '2025-12-01T00:08:00Z',
    host: '10.0.0.1', date: '2025-12-01', hour: 0,
    flows_as_src: 5, flows_as_dst: 2, bytes_sent: 123456789012n, bytes_received: 42,
    pkts_sent: 1000, pkts_received: 7, peers_contacted: 3, peers_contacting: 1,
    dst_ports_contacted: 2, tcp_syn_only_as_src: 1,
    top_l7: [{ name: 'TLS.Google', bytes: 1000 }, { name: 'DNS', bytes: 24 }],
    avg_duration_ms: 12.25, probes: ['p1', 'p2'],
    peers_contacted_sketch: '01010c0100000000000000', peers_contacting_sketch: '01010c',
    dst_ports_contacted_sketch: '02ff00',
  },
  {
    ...zero, window_start: '2025-12-01T00:07:00Z', window_end: '2025-12-01T00:08:00Z',
    host: '2001:db8::1', date: '2025-12-01', hour: 0,
  },
  {
    ...zero, window_start: '2025-12-01T23:59:00Z', window_end: '2025-12-02T00:00:00Z',
    host: 'other', date: '2025-12-01', hour: 23,
    flows_as_src: 1, bytes_sent: 9223372036854775807n,
    top_l7: [{ name: 'Ünïcode "q" \\b', bytes: 9 }], avg_duration_ms: 0.1,
    probes: ['dc-1 "x"'], peers_contacted_sketch: 'abcd',
  },
  {
    ...zero, window_start: '2025-12-02T01:00:00Z', window_end: '2025-12-02T01:01:00Z',
    host: '192.168.1.1', date: '2025-12-02', hour: 1,
    flows_as_dst: 4, bytes_received: 4096, pkts_received: 4, peers_contacting: 4,
    avg_duration_ms: 3, probes: ['p3'],
    peers_contacting_sketch: '01010c' + '11'.repeat(32), correction: true,
  },
];
const GOLDEN_EVENTS = [
  { kind: 'port_scan', host: '10.0.0.1', ports: 120, note: null, score: null, date: '2025-12-01', hour: 0 },
  { kind: 'syn_flood', host: '10.0.0.2', ports: null, note: 'ü "q"', score: null, date: '2025-12-01', hour: 0 },
  { kind: 'blocklisted_peer', host: '192.168.1.1', ports: null, note: null, score: 0.5, date: '2025-12-02', hour: 1 },
];

const INT_COLUMNS = ['flows_as_src', 'flows_as_dst', 'bytes_sent', 'bytes_received', 'pkts_sent',
  'pkts_received', 'peers_contacted', 'peers_contacting', 'dst_ports_contacted', 'tcp_syn_only_as_src'];
const SKETCHES = ['peers_contacted_sketch', 'peers_contacting_sketch', 'dst_ports_contacted_sketch'];
const COLUMN_ORDER = ['window_start', 'window_end', 'host', ...INT_COLUMNS.slice(0, 9),
  'tcp_syn_only_as_src', 'top_l7', 'avg_duration_ms', 'probes', ...SKETCHES, 'correction', 'date', 'hour'];
const PARQUET_TYPES = {
  window_start: 'TIMESTAMP WITH TIME ZONE', window_end: 'TIMESTAMP WITH TIME ZONE', host: 'VARCHAR',
  ...Object.fromEntries(INT_COLUMNS.map((c) => [c, 'BIGINT'])),
  top_l7: 'VARCHAR', avg_duration_ms: 'DOUBLE', probes: 'VARCHAR',
  ...Object.fromEntries(SKETCHES.map((c) => [c, 'VARCHAR'])), correction: 'BOOLEAN',
  date: 'DATE', hour: 'BIGINT',
};
// What DuckDB infers from the NDJSON: the arrays become typed lists.
const NDJSON_TYPES = {
  ...PARQUET_TYPES, window_start: 'TIMESTAMP', window_end: 'TIMESTAMP',
  top_l7: 'STRUCT("name" VARCHAR, bytes BIGINT)[]', probes: 'VARCHAR[]',
};

// The NDJSON has "correction" on correction records only (null elsewhere);
// the Parquet says false.
const CORRECTION = 'coalesce(correction, false)';

// Every value as text (BIGINT exact), timestamps as epoch ms, ordered.
const SELECT = (from, extra = '') => `
  SELECT epoch_ms(window_start)::VARCHAR AS window_start_ms, epoch_ms(window_end)::VARCHAR AS window_end_ms,
         host, ${INT_COLUMNS.map((c) => `${c}::VARCHAR AS ${c}`).join(', ')},
         avg_duration_ms, ${SKETCHES.join(', ')}, ${CORRECTION}::VARCHAR AS correction,
         date::VARCHAR AS date, hour::VARCHAR AS hour,
         filename ${extra}
  FROM ${from} ORDER BY window_start, host`;

function expectedScalars(g) {
  return {
    window_start_ms: String(Date.parse(g.window_start)), window_end_ms: String(Date.parse(g.window_end)),
    host: g.host, ...Object.fromEntries(INT_COLUMNS.map((c) => [c, String(g[c])])),
    avg_duration_ms: g.avg_duration_ms, ...Object.fromEntries(SKETCHES.map((c) => [c, g[c]])),
    correction: String(g.correction), date: g.date, hour: String(g.hour),
  };
}
const withoutFile = ({ filename, ...rest }) => rest;

async function describe(db, from) {
  const rows = await db.json(`DESCRIBE SELECT * FROM ${from}`);
  return Object.fromEntries(rows.map((r) => [r.column_name, r.column_type]));
}

test('rollups: files land in the partitions of their window start', () => {
  const list = (dir) => fs.readdirSync(path.join(LAKE, dir), { recursive: true })
    .filter((f) => fs.statSync(path.join(LAKE, dir, f)).isFile()).sort();
  assert.deepEqual(list('rollups/host_1m'), [
    'date=2025-12-01/hour=0/fixture-000001.json', 'date=2025-12-01/hour=0/fixture-000002.json',
    'date=2025-12-01/hour=23/fixture-000004.json', 'date=2025-12-02/hour=1/fixture-000005.json']);
  assert.deepEqual(list('rollups/host_1m_parquet'), [
    'date=2025-12-01/hour=0/fixture-000001.parquet', 'date=2025-12-01/hour=0/fixture-000002.parquet',
    'date=2025-12-01/hour=23/fixture-000004.parquet', 'date=2025-12-02/hour=1/fixture-000005.parquet']);
  assert.deepEqual(list('events'), [
    'date=2025-12-01/hour=0/fixture-000003.json', 'date=2025-12-02/hour=1/fixture-000006.json']);
  assert.ok(!fs.existsSync(path.join(LAKE, '_tmp')) || fs.readdirSync(path.join(LAKE, '_tmp')).length === 0);
});

// Checks the column names and types of `from`, and every row against GOLDEN;
// `arrays` selects top_l7 and probes as JSON text.
async function checkGolden(from, expectedTypes, arrays) {
  const db = await openDuckDB();
  const types = await describe(db, from);
  assert.deepEqual(Object.keys(types), COLUMN_ORDER);
  assert.deepEqual(types, expectedTypes);
  const rows = await db.json(SELECT(from, arrays));
  assert.equal(rows.length, GOLDEN.length);
  rows.forEach((row, i) => {
    const { top_l7, probes, ...scalars } = withoutFile(row);
    assert.deepEqual(scalars, expectedScalars(GOLDEN[i]), `row ${i}`);
    assert.equal(typeof top_l7, 'string');
    assert.deepEqual(JSON.parse(top_l7), GOLDEN[i].top_l7, `row ${i} top_l7`);
    assert.deepEqual(JSON.parse(probes), GOLDEN[i].probes, `row ${i} probes`);
  });
  db.close();
}

test('rollups: Parquet columns, types and every value', async () => {
  await checkGolden(PARQUET, PARQUET_TYPES, ', top_l7, probes');
});

test('rollups: NDJSON columns, types and every value', async () => {
  await checkGolden(NDJSON, NDJSON_TYPES, ', to_json(top_l7) AS top_l7, to_json(probes) AS probes');
});

test('rollups: NDJSON and Parquet hold the same rows, file by file, in order', async () => {
  const db = await openDuckDB();
  // Timestamps as epoch ms: the NDJSON infers TIMESTAMP, the Parquet has
  // TIMESTAMPTZ, and comparing those would depend on the session time zone.
  const plain = COLUMN_ORDER.filter((c) => !['top_l7', 'probes', 'window_start', 'window_end'].includes(c))
    .map((c) => (c === 'correction' ? `${CORRECTION} AS correction` : c));
  const cols = (from) => `SELECT epoch_ms(window_start) AS s, epoch_ms(window_end) AS e, ${plain.join(', ')},
      regexp_extract(filename, '([^/]+)\\.[a-z]+$', 1) AS file FROM ${from}`;
  const diff = await db.json(`
    (${cols(NDJSON)} EXCEPT ALL ${cols(PARQUET)}) UNION ALL (${cols(PARQUET)} EXCEPT ALL ${cols(NDJSON)})`);
  assert.deepEqual(diff, []);
  db.close();

  // The Parquet top_l7/probes are the NDJSON's array text, byte for byte,
  // and each file's rows come in the same order.
  const parquetRows = await (async () => {
    const d = await openDuckDB();
    const r = await d.json(`SELECT filename, host, top_l7, probes FROM ${PARQUET}`);
    d.close();
    return r;
  })();
  const byFile = new Map();
  for (const r of parquetRows) {
    const name = path.basename(r.filename, '.parquet');
    byFile.set(name, [...(byFile.get(name) ?? []), r]);
  }
  assert.equal(byFile.size, 4);
  for (const [name, rows] of byFile) {
    const dir = path.dirname(path.relative(path.join(LAKE, 'rollups/host_1m_parquet'), rows[0].filename));
    const lines = fs.readFileSync(path.join(LAKE, 'rollups/host_1m', dir, `${name}.json`), 'utf8')
      .split('\n').filter(Boolean);
    assert.equal(lines.length, rows.length, name);
    rows.forEach((row, i) => {
      assert.equal(JSON.parse(lines[i]).host, row.host);
      assert.ok(lines[i].includes(`"top_l7":${row.top_l7},"avg_duration_ms":`), lines[i]);
      assert.ok(lines[i].includes(`"probes":${row.probes},"peers_contacted_sketch":`), lines[i]);
    });
  }
});

test('events: one line each, as given, in the partition of their window', async () => {
  const db = await openDuckDB();
  const types = await describe(db, EVENTS);
  assert.deepEqual(types, {
    kind: 'VARCHAR', host: 'VARCHAR', ports: 'BIGINT', note: 'VARCHAR', score: 'DOUBLE',
    date: 'DATE', hour: 'BIGINT',
  });
  const rows = await db.all(`SELECT kind, host, ports::INTEGER AS ports, note, score,
      date::VARCHAR AS date, hour::INTEGER AS hour FROM ${EVENTS} ORDER BY date, hour, kind`);
  assert.deepEqual(rows, GOLDEN_EVENTS);
  db.close();
  const text = fs.readFileSync(path.join(LAKE, 'events/date=2025-12-01/hour=0/fixture-000003.json'), 'utf8');
  assert.equal(text, '{"kind":"port_scan","host":"10.0.0.1","ports":120}\n' +
    '{"kind":"syn_flood","host":"10.0.0.2","note":"ü \\"q\\""}\n');
});
