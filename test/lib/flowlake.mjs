// Runs the flowlake binary under test (FLOWLAKE_BIN) and reads what it made.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BIN = process.env.FLOWLAKE_BIN;
export const SAMPLES = process.env.FLOWLAKE_SAMPLES ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../fixtures');

if (!BIN) throw new Error('FLOWLAKE_BIN is not set (ctest sets it to the built flowlake binary)');

export function tmpDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `flowlake-${name}-`));
}

// Runs flowlake with args; returns {code, stdout, stderr}. Never throws on exit code.
export function run(args, { input, timeoutMs = 120000 } = {}) {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Runs `flowlake ingest` and returns the parsed summary line (asserting exit 0).
export function ingest(input, lake, extra = [], opts = {}) {
  const r = run(['ingest', '--input', input, '--lake', lake, '--no-sync', ...extra], opts);
  if (r.code !== 0) throw new Error(`ingest exited ${r.code}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  if (lines.length !== 1) throw new Error(`expected one summary line, got: ${r.stdout}`);
  return JSON.parse(lines[0]);
}

export function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.join(e.parentPath ?? e.path, e.name));
  }
  return out.sort();
}

export function flowsGlob(lake) {
  return path.join(lake, 'flows', '**', '*.parquet');
}
