// The SQL merge recipe of docs/rollup-sketches.md, run as it stands in the
// doc, against DistinctCounter::Merge: partial sketches made by
// flowlake-sketch (FLOWLAKE_SKETCH_BIN) are written to one Parquet file each,
// read back with DuckDB, merged per host, and the estimate must equal the C++
// merge's to 1e-9 relative.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDuckDB, sqlString } from './lib/duckdb.mjs';

const BIN = process.env.FLOWLAKE_SKETCH_BIN;
if (!BIN) throw new Error('FLOWLAKE_SKETCH_BIN is not set (ctest sets it to flowlake-sketch)');
const DOC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../docs/rollup-sketches.md');

// The one ```sql block of the doc.
function recipe() {
  const blocks = [...fs.readFileSync(DOC, 'utf8').matchAll(/```sql\n([\s\S]*?)```/g)];
  assert.equal(blocks.length, 1, 'docs/rollup-sketches.md has exactly one sql block');
  return blocks[0][1];
}

// Runs flowlake-sketch; returns {parts: [{hex, estimate}], merged: {hex, estimate}}.
function sketch(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => l.split('\t'));
  const last = lines.pop();
  assert.equal(last[0], 'merged');
  return {
    parts: lines.map(([hex, est]) => ({ hex, estimate: Number(est) })),
    merged: { hex: last[1], estimate: Number(last[2]) },
  };
}

// host -> SPECs of its partials, each from a different "process".
const HOSTS = {
  'hll-overlapping': ['a:0:3000', 'a:2000:6000', 'a:5000:40000'],
  'exact-under-bound': ['b:0:100', 'b:50:200'],
  'exact-over-bound': ['c:0:200', 'c:100:300'],
  'exact-and-hll': ['d:0:50', 'd:0:5000', 'x:0:10'],
  'linear-counting-range': ['e:0:1500', 'e:1000:2500'],
  'large': ['f:0:150000', 'f:100000:300000'],
  'empty': ['g:0:0', 'g:5:5'],
  'single-exact': ['h:0:256'],
};

test('the SQL recipe merges partial sketches from several files like DistinctCounter::Merge', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowlake-sketch-sql-'));
  const db = await openDuckDB();
  const expected = {};
  let file = 0;
  for (const [host, specs] of Object.entries(HOSTS)) {
    const out = sketch(specs);
    expected[host] = out.merged;
    for (const part of out.parts) {
      await db.all(`COPY (SELECT ${sqlString(host)} AS host, TIMESTAMP '2026-12-04 10:01:00' AS window_start,
                                 unhex(${sqlString(part.hex)}) AS sketch)
                    TO ${sqlString(path.join(dir, `part-${file++}.parquet`))} (FORMAT parquet)`);
    }
  }
  await db.all(`CREATE VIEW partials AS
                SELECT * FROM read_parquet(${sqlString(path.join(dir, '*.parquet'))})`);
  await db.all(recipe());
  const rows = await db.all('SELECT host, exact, distinct_estimate FROM merged_distinct ORDER BY host');
  assert.deepEqual(rows.map((r) => r.host).sort(), Object.keys(HOSTS).sort());
  for (const row of rows) {
    const want = expected[row.host];
    const wantExact = want.hex.startsWith('01');
    assert.equal(row.exact, wantExact, `${row.host}: exact`);
    const rel = Math.abs(row.distinct_estimate - want.estimate) / Math.max(1, want.estimate);
    assert.ok(rel <= 1e-9, `${row.host}: SQL ${row.distinct_estimate} vs C++ ${want.estimate}`);
  }
  // The cases cover both forms of the result and both estimator branches.
  assert.equal(expected['exact-under-bound'].estimate, 200);
  assert.equal(expected['empty'].estimate, 0);
  assert.equal(expected['single-exact'].estimate, 256);
  assert.ok(expected['exact-over-bound'].hex.startsWith('02'));
  assert.ok(Math.abs(expected['large'].estimate / 300000 - 1) < 3 * 0.01625);
  db.close();
});

test('the SQL recipe refuses to merge sketches of different precisions', async () => {
  const db = await openDuckDB();
  const p12 = sketch(['a:0:1000']).parts[0].hex;
  const p10 = sketch(['--precision', '10', 'a:0:1000']).parts[0].hex;
  await db.all(`CREATE TABLE partials AS SELECT * FROM (VALUES
                  ('h', TIMESTAMP '2026-12-04 10:01:00', unhex(${sqlString(p12)})),
                  ('h', TIMESTAMP '2026-12-04 10:01:00', unhex(${sqlString(p10)})))
                  t(host, window_start, sketch)`);
  await db.all(recipe());
  await assert.rejects(db.all('SELECT * FROM merged_distinct'), /sketches of different precision/);
  db.close();
});
