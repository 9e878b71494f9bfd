#!/usr/bin/env node
// Runs SQL over a flowlake lake with DuckDB and prints the result as a table.
//   node test/tools/lake-query.mjs LAKE_DIR "SELECT count(*) FROM flows"
// `flows` is a view over LAKE_DIR/flows/**/*.parquet with Hive partitions;
// `rollups` over rollups/host_1m_parquet and `events` over the events/ NDJSON
// (when the lake has them).
import fs from 'node:fs';
import path from 'node:path';
import { openDuckDB, sqlString } from '../lib/duckdb.mjs';

const [lake, ...sqlParts] = process.argv.slice(2);
if (!lake || sqlParts.length === 0) {
  console.error('usage: lake-query.mjs LAKE_DIR "SQL"');
  process.exit(2);
}
const db = await openDuckDB();
await db.all(`CREATE VIEW flows AS SELECT * FROM read_parquet(${sqlString(lake + '/flows/**/*.parquet')}, hive_partitioning = true)`);
const has = (dir) => fs.existsSync(path.join(lake, dir));
if (has('rollups/host_1m_parquet')) {
  await db.all(`CREATE VIEW rollups AS SELECT * FROM read_parquet(${sqlString(lake + '/rollups/host_1m_parquet/**/*.parquet')}, hive_partitioning = true)`);
}
if (has('events')) {
  await db.all(`CREATE VIEW events AS SELECT * FROM read_json(${sqlString(lake + '/events/**/*.json')}, format = 'newline_delimited', hive_partitioning = true)`);
}
const rows = await db.all(sqlParts.join(' '));
// Show numbers as numbers; only values past 2^53 stay exact strings.
const shown = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => {
  if (typeof v === 'bigint') return [k, Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()];
  if (v instanceof Date) return [k, v.toISOString()];
  return [k, v];
})));
console.table(shown);
