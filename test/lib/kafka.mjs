// Kafka test plumbing: the mock cluster (flowlake-testkafka), Debian's kcat
// as an independent client, and `flowlake run` as a child process.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, tmpDir } from './flowlake.mjs';

export const TESTKAFKA = process.env.FLOWLAKE_TESTKAFKA_BIN;
if (!TESTKAFKA) throw new Error('FLOWLAKE_TESTKAFKA_BIN is not set (ctest sets it)');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts a mock cluster; resolves with {bootstrap, proc, stderr()} once the
// bootstrap file appears.
export async function startCluster(args) {
  const dir = tmpDir('kafka');
  const file = path.join(dir, 'bootstrap');
  const proc = spawn(TESTKAFKA, [...args, '--bootstrap-file', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  proc.stdout.resume();
  for (let i = 0; i < 100 && !fs.existsSync(file); i++) await sleep(100);
  assert.ok(fs.existsSync(file), 'bootstrap file written within 10 s');
  return { bootstrap: fs.readFileSync(file, 'utf8').trim(), proc, stderr: () => err };
}

// Resolves with the exit code (or 'timeout' after killing it).
export function exitOf(proc, timeoutMs) {
  if (proc.exitCode !== null || proc.signalCode !== null) {
    return Promise.resolve(proc.exitCode ?? proc.signalCode);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); resolve('timeout'); }, timeoutMs);
    proc.on('exit', (code, signal) => { clearTimeout(timer); resolve(code ?? signal); });
  });
}

export function kcat(args, input) {
  const r = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 120000, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `kcat ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// Produces one message per line of `file` with kcat (zstd-compressed
// batches, spread over partitions so the mock's ~5 MiB per partition holds
// them).
export function kcatProduce(bootstrap, topic, file) {
  kcat(['-b', bootstrap, '-P', '-t', topic, '-z', 'zstd', '-X', 'linger.ms=20',
    '-X', 'sticky.partitioning.linger.ms=0', '-l', file]);
}

// Every message now in `topic`, read by kcat from the beginning: proves the
// mock kept all that was produced (it silently drops old data past ~5 MiB
// per partition), so a shortfall in the lake is the pipeline's fault.
export function kcatCount(bootstrap, topic) {
  const out = kcat(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%o\n']);
  return out.split('\n').filter((l) => l !== '').length;
}

// Starts `flowlake run` (stdout collected; stderr collected and optionally echoed).
export function startRun(args, { env = {}, bin = BIN } = {}) {
  const proc = spawn(bin, ['run', '--no-sync', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const out = { stdout: '', stderr: '' };
  proc.stdout.on('data', (d) => { out.stdout += d; });
  proc.stderr.on('data', (d) => { out.stderr += d; });
  return { proc, out };
}

// Polls `fn` every `everyMs` until it returns a truthy value or `timeoutMs`
// passes; returns the last value.
export async function waitFor(fn, { timeoutMs = 60000, everyMs = 250 } = {}) {
  const until = Date.now() + timeoutMs;
  let v;
  while (Date.now() < until) {
    v = await fn();
    if (v) return v;
    await sleep(everyMs);
  }
  return v;
}

// Resident set size of a live process in bytes (0 if it is gone).
export function rssBytes(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
