// flowlake-testkafka: the mock Kafka cluster that the streaming tests and the
// demo will use, checked with Debian's kcat as an independent Kafka client.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { run, tmpDir } from './lib/flowlake.mjs';
import { TESTKAFKA, exitOf, kcat, startCluster } from './lib/kafka.mjs';

test('kcat produces to and consumes from the mock cluster; SIGTERM stops it cleanly', async () => {
  const { bootstrap, proc } = await startCluster(['--topic', 'netflows:4', '--topic', 'netflows-events:1']);
  assert.match(bootstrap, /^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)*$/);
  const flows = run(['generate', '--flows', '2000', '--seed', '9']).stdout;
  const dir = tmpDir('kcat');
  fs.writeFileSync(path.join(dir, 'flows.ndjson'), flows);
  kcat(['-b', bootstrap, '-P', '-t', 'netflows', '-l', path.join(dir, 'flows.ndjson')]);

  const meta = kcat(['-b', bootstrap, '-L', '-t', 'netflows']);
  assert.match(meta, /topic "netflows" with 4 partitions/);
  const consumed = kcat(['-b', bootstrap, '-C', '-t', 'netflows', '-o', 'beginning', '-e', '-q']);
  const sent = flows.trim().split('\n').sort();
  const got = consumed.trim().split('\n').sort();
  assert.equal(got.length, 2000);
  assert.deepEqual(got, sent);

  proc.kill('SIGTERM');
  assert.equal(await exitOf(proc, 10000), 0);
});

test('--duration-s stops by itself; bad arguments exit 2', async () => {
  const { proc } = await startCluster(['--topic', 'netflows', '--duration-s', '1']);
  assert.equal(await exitOf(proc, 10000), 0);
  const bad = spawnSync(TESTKAFKA, ['--topic', 'netflows:0'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /netflows:0/);
  assert.equal(spawnSync(TESTKAFKA, [], { timeout: 10000 }).status, 2);
});

test('--produce publishes the synthetic generator\'s flows; SIGUSR1/SIGUSR2 take brokers down and up', async () => {
  const k = await startCluster(['--topic', 'netflows:4', '--produce', 'netflows', '--flows', '3000', '--seed', '4']);
  for (let i = 0; i < 100 && !/produced 3000/.test(k.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(k.stderr(), /produced 3000/);
  const got = kcat(['-b', k.bootstrap, '-C', '-t', 'netflows', '-o', 'beginning', '-e', '-q']).trim().split('\n');
  assert.equal(got.length, 3000);
  // nProbe-shaped flows whose times follow the wall clock, spread over every
  // partition.
  for (const line of got) {
    const f = JSON.parse(line);
    assert.ok(f.IPV4_SRC_ADDR || f.IPV6_SRC_ADDR, line);
    const start = f.FLOW_START_MILLISECONDS ?? f.FIRST_SWITCHED * 1000;
    assert.ok(Number.isInteger(start) && Math.abs(start - Date.now()) < 3600e3, line);
  }
  const parts = new Set(kcat(['-b', k.bootstrap, '-C', '-t', 'netflows', '-o', 'beginning', '-e', '-q', '-f', '%p\n'])
    .trim().split('\n'));
  assert.equal(parts.size, 4);

  k.proc.kill('SIGUSR1');
  for (let i = 0; i < 50 && !/brokers down/.test(k.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(k.stderr(), /brokers down/);
  const down = spawnSync('kcat', ['-b', k.bootstrap, '-L', '-m', '2'], { encoding: 'utf8', timeout: 20000 });
  assert.notEqual(down.status, 0, 'metadata request fails while the brokers are down');
  k.proc.kill('SIGUSR2');
  for (let i = 0; i < 50 && !/brokers up/.test(k.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(kcat(['-b', k.bootstrap, '-L', '-t', 'netflows']), /4 partitions/);
  k.proc.kill('SIGTERM');
  assert.equal(await exitOf(k.proc, 10000), 0);
});
