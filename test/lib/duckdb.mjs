// DuckDB as an independent reader of what flowlake writes.
// Extensions are never auto-installed: this machine has no internet, and a
// test must not depend on it.
import { DuckDBInstance } from '@duckdb/node-api';

export async function openDuckDB() {
  const db = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    threads: '2',
  });
  const conn = await db.connect();
  return {
    // Rows as plain objects (BIGINT as BigInt, TIMESTAMP as DuckDB values).
    async all(sql) {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJS();
    },
    // Rows with every value converted to JSON-friendly JS (BIGINT -> string when large).
    async json(sql) {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJson();
    },
    close() { conn.closeSync?.(); },
  };
}

// Single-quotes a path for SQL.
export function sqlString(s) {
  return "'" + String(s).replaceAll("'", "''") + "'";
}
