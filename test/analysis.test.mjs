// The analysis of `flowlake ingest`: 1-minute host rollups and detections,
// checked from the outside.
//  * Rollups against DuckDB's own computation over the flows lake (the
//    spreading rule of docs/rollups.md written again in SQL).
//  * Detections against the ground truth of `flowlake generate --attacks`:
//    every injected attack found, nothing else reported.
//  * The same results whatever the thread count and input shape.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openDuckDB, sqlString } from './lib/duckdb.mjs';
import { ingest, listFiles, run, tmpDir } from './lib/flowlake.mjs';

const db = await openDuckDB();
const T0 = 1764547200000; // 2025-12-01T00:00:00Z

// Generates flows with labelled attacks; returns {file, truth, blocklist}.
function generate(name, { flows = 60000, spanMs = 6 * 60000, batch = 0, seed = 7 } = {}) {
  const dir = tmpDir(name);
  const file = path.join(dir, 'flows.json');
  const truth = path.join(dir, 'truth.jsonl');
  const blocklist = path.join(dir, 'blocklist.txt');
  const r = run(['generate', '--flows', String(flows), '--seed', String(seed), '--start-ms',
    String(T0), '--span-ms', String(spanMs), '--batch', String(batch), '--attacks', '--truth',
    truth, '--blocklist-out', blocklist], { timeoutMs: 120000 });
  assert.equal(r.code, 0, r.stderr);
  fs.writeFileSync(file, r.stdout);
  return { dir, file, truth, blocklist };
}

const readLines = (files) => files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l));
const rollupFiles = (lake) => listFiles(path.join(lake, 'rollups', 'host_1m')).filter((f) => f.endsWith('.json'));
const eventFiles = (lake) => listFiles(path.join(lake, 'events')).filter((f) => f.endsWith('.json'));
const rollups = (lake) => readLines(rollupFiles(lake)).map((l) => JSON.parse(l));
const events = (lake) => readLines(eventFiles(lake)).map((l) => JSON.parse(l));

// The additive counters of rollup records summed per key(record), as
// [key, sums] pairs sorted by key.
function counterSums(records, key) {
  const out = new Map();
  for (const r of records) {
    const k = key(r);
    const a = out.get(k) ?? [0, 0, 0, 0, 0, 0, 0];
    [r.flows_as_src, r.flows_as_dst, r.bytes_sent, r.bytes_received, r.pkts_sent, r.pkts_received,
      r.tcp_syn_only_as_src].forEach((v, i) => { a[i] += v; });
    out.set(k, a);
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// Ingests the shared input with a flowlake.toml holding `toml`; returns
// {lake, summary}.
function ingestWithConfig(name, toml) {
  const config = path.join(tmpDir(name), 'flowlake.toml');
  fs.writeFileSync(config, toml);
  const out = tmpDir(`${name}-lake`);
  return { lake: out, summary: ingest(input.file, out, ['--config', config, '--blocklist', input.blocklist]) };
}

// Events without the wall-clock field, as sorted JSON text.
const comparableEvents = (lake) => events(lake).map((e) => {
  const { detected_at: _, ...rest } = e;
  return JSON.stringify(rest);
}).sort();

const input = generate('analysis');
const lake = tmpDir('analysis-lake');
const summary = ingest(input.file, lake, ['--blocklist', input.blocklist, '--threads', '2']);

test('ingest writes rollups (NDJSON and Parquet) and events in Hive partitions', () => {
  assert.ok(summary.rollup_records > 0, JSON.stringify(summary));
  assert.equal(summary.late_flows, 0, 'the generator stays within the allowed lateness');
  const files = rollupFiles(lake);
  assert.ok(files.length > 0);
  for (const f of [...files, ...eventFiles(lake)]) {
    assert.match(path.relative(lake, f), /^(rollups\/host_1m|events)\/date=\d{4}-\d\d-\d\d\/hour=\d{1,2}\/[^/]+\.json$/);
  }
  assert.equal(rollups(lake).length, summary.rollup_records);
  assert.equal(events(lake).length, summary.events);
});

test('the Parquet rollups hold the same records as the NDJSON ones', async () => {
  const glob = sqlString(path.join(lake, 'rollups', 'host_1m_parquet', '**', '*.parquet'));
  const rows = await db.all(`SELECT epoch_ms(window_start) AS ws, host, flows_as_src, bytes_sent,
      peers_contacted, peers_contacted_sketch FROM read_parquet(${glob}) ORDER BY ws, host`);
  const nd = rollups(lake).map((r) => ({
    ws: Date.parse(r.window_start), host: r.host, flows_as_src: r.flows_as_src,
    bytes_sent: r.bytes_sent, peers_contacted: r.peers_contacted,
    peers_contacted_sketch: r.peers_contacted_sketch,
  })).sort((a, b) => a.ws - b.ws || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  assert.equal(rows.length, nd.length);
  for (let i = 0; i < rows.length; i++) {
    assert.deepEqual({ ...rows[i], ws: Number(rows[i].ws), flows_as_src: Number(rows[i].flows_as_src),
      bytes_sent: Number(rows[i].bytes_sent), peers_contacted: Number(rows[i].peers_contacted) }, nd[i]);
  }
});

test('rollups equal DuckDB\'s own per-host aggregation of the flows lake', async () => {
  const flows = sqlString(path.join(lake, 'flows', '**', '*.parquet'));
  const W = 60000;
  // One row per flow and minute it overlaps, with its bytes/packets share:
  // cumulative floors, as docs/rollups.md specifies.
  const expected = await db.all(`
    WITH f AS (
      SELECT src_ip, dst_ip, dst_port, protocol, tcp_flags, probe, l7_name, duration_ms,
             coalesce(in_bytes, 0)::HUGEINT AS ib, coalesce(out_bytes, 0)::HUGEINT AS ob,
             coalesce(in_pkts, 0)::HUGEINT AS ipk, coalesce(out_pkts, 0)::HUGEINT AS opk,
             epoch_ms(start_time) AS s, coalesce(epoch_ms(end_time), epoch_ms(start_time)) AS e
      FROM read_parquet(${flows}) WHERE start_time IS NOT NULL),
    g AS (
      SELECT *, (e > s AND e - s <= 3600000) AS spread, (s // ${W}) * ${W} AS w0 FROM f),
    m AS (
      SELECT g.*, unnest(CASE WHEN spread THEN range(w0, ((e - 1) // ${W}) * ${W} + 1, ${W})
                              ELSE [w0] END) AS w FROM g),
    sh AS (
      SELECT *, CASE WHEN spread THEN
          (ib * (least(e, w + ${W}) - s)) // (e - s) - (ib * (greatest(s, w) - s)) // (e - s)
          ELSE ib END AS sib,
        CASE WHEN spread THEN
          (ob * (least(e, w + ${W}) - s)) // (e - s) - (ob * (greatest(s, w) - s)) // (e - s)
          ELSE ob END AS sob,
        CASE WHEN spread THEN
          (ipk * (least(e, w + ${W}) - s)) // (e - s) - (ipk * (greatest(s, w) - s)) // (e - s)
          ELSE ipk END AS sipk,
        CASE WHEN spread THEN
          (opk * (least(e, w + ${W}) - s)) // (e - s) - (opk * (greatest(s, w) - s)) // (e - s)
          ELSE opk END AS sopk,
        (w = w0) AS starts
      FROM m),
    sides AS (
      SELECT w, src_ip AS host, 1 AS as_src, sib AS sent, sob AS received, sipk AS ps, sopk AS pr,
             starts, dst_ip AS peer, dst_port, protocol, tcp_flags, probe FROM sh WHERE src_ip IS NOT NULL
      UNION ALL
      SELECT w, dst_ip, 0, sob, sib, sopk, sipk, starts, src_ip, NULL, protocol, tcp_flags, probe
      FROM sh WHERE dst_ip IS NOT NULL)
    SELECT w, host,
      count(*) FILTER (WHERE starts AND as_src = 1)::BIGINT AS flows_as_src,
      count(*) FILTER (WHERE starts AND as_src = 0)::BIGINT AS flows_as_dst,
      sum(sent)::BIGINT AS bytes_sent, sum(received)::BIGINT AS bytes_received,
      sum(ps)::BIGINT AS pkts_sent, sum(pr)::BIGINT AS pkts_received,
      count(DISTINCT peer) FILTER (WHERE starts AND as_src = 1)::BIGINT AS peers_contacted,
      count(DISTINCT peer) FILTER (WHERE starts AND as_src = 0)::BIGINT AS peers_contacting,
      count(DISTINCT dst_port) FILTER (WHERE starts AND as_src = 1)::BIGINT AS dst_ports_contacted,
      count(*) FILTER (WHERE starts AND as_src = 1 AND protocol = 6 AND (tcp_flags & 2) <> 0
                       AND (tcp_flags & 16) = 0)::BIGINT AS tcp_syn_only_as_src,
      list_sort(list_distinct(list(probe) FILTER (WHERE starts))) AS probes
    FROM sides GROUP BY w, host`);
  const key = (w, h) => `${w}|${h}`;
  const want = new Map(expected.map((r) => [key(Number(r.w), r.host), r]));
  const got = new Map(rollups(lake).map((r) => [key(Date.parse(r.window_start), r.host), r]));
  const sums = ['flows_as_src', 'flows_as_dst', 'bytes_sent', 'bytes_received', 'pkts_sent',
    'pkts_received', 'tcp_syn_only_as_src'];
  const distincts = ['peers_contacted', 'peers_contacting', 'dst_ports_contacted'];
  let compared = 0; let estimated = 0;
  for (const [k, w] of want) {
    const g = got.get(k);
    if (!g) {
      // Only a window that got nothing but zero shares may lack a record.
      assert.ok(sums.every((c) => Number(w[c]) === 0), `missing rollup ${k}`);
      continue;
    }
    compared++;
    for (const c of sums) assert.equal(g[c], Number(w[c]), `${k} ${c}`);
    for (const c of distincts) {
      const exact = Number(w[c]);
      if (exact <= 256) {
        assert.equal(g[c], exact, `${k} ${c} (exact up to 256)`);
      } else {
        estimated++;
        assert.ok(Math.abs(g[c] - exact) <= 0.05 * exact, `${k} ${c}: HLL ${g[c]} vs ${exact}`);
      }
    }
    assert.deepEqual(g.probes, (w.probes ?? []).filter((p) => p !== null), `${k} probes`);
  }
  for (const k of got.keys()) {
    assert.ok(want.has(k) || got.get(k).host === 'other', `unexpected rollup ${k}`);
  }
  assert.ok(compared > 1000, `compared ${compared} records`);
  assert.ok(estimated > 0, 'some hosts are past the exact bound (the HLL path is exercised)');
});

test('every injected attack is detected, and nothing else', () => {
  const truth = readLines([input.truth]).map((l) => JSON.parse(l));
  const got = events(lake);
  const matches = (e, t) => e.type === t.type && e.window_start === t.window_start &&
    ['src_ip', 'dst_ip', 'dst_port', 'domain'].every((k) => t[k] === undefined || e[k] === undefined || e[k] === t[k]);
  const missed = truth.filter((t) => !got.some((e) => matches(e, t)));
  assert.deepEqual(missed, [], 'recall: every attack found');
  const extra = got.filter((e) => !truth.some((t) => matches(e, t)));
  assert.deepEqual(extra, [], 'no event outside the ground truth (false positives)');
  const ids = new Set(got.map((e) => e.id));
  assert.equal(ids.size, got.length, 'event ids are unique');
  for (const e of got) {
    assert.match(e.id, /^[0-9a-f]{16}$/);
    assert.ok(e.severity && e.evidence && e.threshold && e.window_end && e.detected_at, JSON.stringify(e));
  }
});

test('results do not depend on threads or input shape (NDJSON vs batch arrays)', () => {
  const lake1 = tmpDir('analysis-t1');
  ingest(input.file, lake1, ['--blocklist', input.blocklist, '--threads', '1']);
  assert.deepEqual(readLines(rollupFiles(lake1)).sort(), readLines(rollupFiles(lake)).sort());
  assert.deepEqual(comparableEvents(lake1), comparableEvents(lake));

  const batched = generate('analysis-batched', { batch: 37 });
  const lake2 = tmpDir('analysis-b');
  ingest(batched.file, lake2, ['--blocklist', batched.blocklist, '--threads', '2']);
  assert.deepEqual(readLines(rollupFiles(lake2)).sort(), readLines(rollupFiles(lake)).sort());
  assert.deepEqual(comparableEvents(lake2), comparableEvents(lake));
});

test('--no-analysis writes flows only', () => {
  const lake3 = tmpDir('analysis-off');
  const s = ingest(input.file, lake3, ['--no-analysis']);
  assert.equal(s.rollup_records, 0);
  assert.equal(fs.existsSync(path.join(lake3, 'rollups')), false);
  assert.equal(fs.existsSync(path.join(lake3, 'events')), false);
  assert.equal(s.flows_written, summary.flows_written);
});

test('a missing blocklist fails at start-up, naming the file', () => {
  const r = run(['ingest', '--input', input.file, '--lake', tmpDir('analysis-bad'), '--blocklist',
    '/nonexistent/blocklist.txt']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /\/nonexistent\/blocklist\.txt/);
});

test('late_policy = "correction": late flows come back as correction records that add up', async () => {
  // No lateness at all: every flow that starts before the newest one seen,
  // in an earlier minute, is late.
  const { lake: lateLake, summary: s } =
    ingestWithConfig('analysis-late', '[analysis]\nlateness_s = 0\nlate_policy = "correction"\n');
  assert.ok(s.late_flows > 0, JSON.stringify(s));
  const records = rollups(lateLake);
  assert.ok(records.some((r) => r.correction === true), 'correction records were written');
  // The Parquet copy marks the same records.
  const [p] = await db.all(`SELECT count(*) FILTER (WHERE correction)::BIGINT AS corrections,
      count(*) FILTER (WHERE NOT correction)::BIGINT AS others
    FROM read_parquet(${sqlString(path.join(lateLake, 'rollups', 'host_1m_parquet', '**', '*.parquet'))})`);
  const corrections = records.filter((r) => r.correction === true).length;
  assert.deepEqual({ corrections: Number(p.corrections), others: Number(p.others) },
    { corrections, others: records.length - corrections });
  const sums = (rs) => counterSums(rs, (r) => `${r.window_start} ${r.host}`);
  assert.deepEqual(sums(records), sums(rollups(lake)), 'originals + corrections = every flow, once');

  const { lake: dropLake, summary: d } = ingestWithConfig('analysis-drop', '[analysis]\nlateness_s = 0\n');
  assert.equal(d.late_flows, s.late_flows);
  assert.ok(!rollups(dropLake).some((r) => r.correction), 'no corrections when dropping');
  const total = (rs) => rs.reduce((n, r) => n + r.flows_as_src, 0);
  assert.equal(total(rollups(dropLake)), total(rollups(lake)) - d.late_flows, 'dropped: exactly the late flows');
});

test('analysis.max_memory_mb: over budget, new hosts go to "other", nothing is lost', () => {
  // 1 MiB: half for the rollups, half for the detectors, far below what the
  // ~60k flows' windows hold unbounded.
  const { lake: small, summary: s } = ingestWithConfig('analysis-memory', '[analysis]\nmax_memory_mb = 1\n');
  assert.equal(s.flows_written, summary.flows_written);
  assert.ok(s.rollup_windows_over_memory > 0, JSON.stringify(s));
  assert.ok(s.detector_keys_over_memory > 0, JSON.stringify(s));
  assert.equal(summary.rollup_windows_over_memory, 0, 'the default budget is not reached');
  assert.equal(summary.detector_keys_over_memory, 0);

  const limited = rollups(small);
  const full = new Map(rollups(lake).map((r) => [`${r.window_start} ${r.host}`, r]));
  assert.ok(limited.some((r) => r.host === 'other'), 'hosts over the budget share "other"');
  assert.ok(limited.length < full.size, `${limited.length} records, ${full.size} without a budget`);
  // Every host that has a record of its own was taken before the budget was
  // reached and kept counting: its record is the unbounded one.
  for (const r of limited) {
    if (r.host === 'other') continue;
    assert.deepEqual(r, full.get(`${r.window_start} ${r.host}`), `${r.window_start} ${r.host}`);
  }
  // Per window, the counters add up to the same totals: "other" holds the rest.
  const totals = (rs) => counterSums(rs, (r) => r.window_start);
  assert.deepEqual(totals(limited), totals(rollups(lake)));
});
