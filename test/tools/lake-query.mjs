#!/usr/bin/env node
// Runs SQL over a flowlake lake with DuckDB and prints the result as a table.
//   node test/tools/lake-query.mjs LAKE_DIR "SELECT count(*) FROM flows"
// `flows` is a view over LAKE_DIR/flows/**/*.parquet with Hive partitions.
import { openDuckDB, sqlString } from '../lib/duckdb.mjs';

const [lake, ...sqlParts] = process.argv.slice(2);
if (!lake || sqlParts.length === 0) {
  console.error('usage: lake-query.mjs LAKE_DIR "SQL"');
  process.exit(2);
}
const db = await openDuckDB();
await db.all(`CREATE VIEW flows AS SELECT * FROM read_parquet(${sqlString(lake + '/flows/**/*.parquet')}, hive_partitioning = true)`);
const rows = await db.json(sqlParts.join(' '));
console.table(rows);
