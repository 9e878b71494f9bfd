// `flowlake run`: Kafka (the librdkafka mock cluster, fed by Debian's kcat)
// into the lake, read back with DuckDB. Exactly once through kill -9 at every
// step of the commit protocol, a rebalance, a broker outage; bounded memory
// when the lake is slow.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, ingest, listFiles, run, tmpDir } from './lib/flowlake.mjs';
import { openDuckDB, sqlString } from './lib/duckdb.mjs';
import {
  exitOf, kcat, kcatCount, kcatProduce, rssBytes, sleep, startCluster, startRun, waitFor,
} from './lib/kafka.mjs';

// RSS is measured on the Release build: ASan's shadow memory would swamp it.
const RELEASE_BIN = process.env.FLOWLAKE_RELEASE_BIN;
if (!RELEASE_BIN || !fs.existsSync(RELEASE_BIN)) {
  throw new Error(`FLOWLAKE_RELEASE_BIN (${RELEASE_BIN}) is missing: \`make test\` builds it (make release)`);
}

const GROUP_TIMEOUTS = [
  // The mock only forgets a vanished member after these (RECIPES.md).
  "-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500", "-X", "max.poll.interval.ms=10000",
];
const T0 = 1764547200000; // 2025-12-01T00:00:00Z

// Start times spread over three hours and 50 minutes, out of order.
const spreadStart = (id) => T0 + (id % 3) * 3600000 + (id % 3000) * 1000;

// One flow with a unique id carried in IN_BYTES (and OUT_BYTES = 2 * id), so
// every produced flow can be found again. Written here, independently of
// flowlake's own generator.
function flowLine(id, startOf = spreadStart) {
  const start = startOf(id);
  return JSON.stringify({
    PROBEID: 'p' + (id % 4),
    IPV4_SRC_ADDR: `10.${(id >> 16) & 255}.${(id >> 8) & 255}.${id & 255}`,
    IPV4_DST_ADDR: '192.168.7.9',
    L4_SRC_PORT: 1024 + (id % 60000),
    L4_DST_PORT: 443,
    PROTOCOL: 6,
    IN_BYTES: id,
    OUT_BYTES: 2 * id,
    IN_PKTS: 1 + (id % 5),
    OUT_PKTS: 1,
    FLOW_START_MILLISECONDS: start,
    FLOW_END_MILLISECONDS: start + 250,
    L7_PROTO: '91.178',
  });
}

// Writes flows [from, to) (and optional extra raw lines) to a file.
function writeFlows(file, from, to, extra = [], startOf = spreadStart) {
  const lines = [];
  for (let id = from; id < to; id++) lines.push(flowLine(id, startOf));
  fs.writeFileSync(file, [...lines, ...extra].join('\n') + '\n');
}

const glob = (lake) => sqlString(path.join(lake, 'flows', '*', '*', '*.parquet'));

// {rows, ids, dups, min, max} of the ids in the lake (zeros if empty).
async function idStats(db, lake) {
  if (!listFiles(path.join(lake, 'flows')).some((f) => f.endsWith('.parquet'))) {
    return { rows: 0, ids: 0, dups: 0, min: null, max: null };
  }
  const [r] = await db.all(`SELECT count(*)::BIGINT AS rows, count(DISTINCT in_bytes)::BIGINT AS ids,
      min(in_bytes) AS min, max(in_bytes) AS max,
      count(*) FILTER (WHERE out_bytes <> 2 * in_bytes)::BIGINT AS bad
    FROM read_parquet(${glob(lake)})`);
  assert.equal(Number(r.bad), 0, 'every row is whole (out_bytes = 2 * in_bytes)');
  return { rows: Number(r.rows), ids: Number(r.ids), dups: Number(r.rows) - Number(r.ids),
    min: r.min === null ? null : Number(r.min), max: r.max === null ? null : Number(r.max) };
}

function stagingFiles(lake) {
  return listFiles(path.join(lake, '_flowlake', 'staging')).filter((f) => !f.endsWith('.lock'));
}

function summaryOf(out) {
  const lines = out.stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  assert.equal(lines.length, 1, `one summary line on stdout, got: ${out.stdout}\n${out.stderr}`);
  return JSON.parse(lines[0]);
}

function writeConfig(dir, text) {
  const file = path.join(dir, 'flowlake.toml');
  fs.writeFileSync(file, text);
  return file;
}

test('run lands what kcat produced exactly as ingest does; bad messages are dead-lettered with their offsets', async (t) => {
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:3']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('run-basic');
  // Real-looking traffic in both nProbe shapes: one object per message and
  // arrays of 25 flows (batch mode), plus three bad messages.
  const ndjson = path.join(dir, 'flows.ndjson');
  fs.writeFileSync(ndjson, run(['generate', '--flows', '12000', '--seed', '5', '--keys', 'mixed']).stdout);
  const arrays = path.join(dir, 'arrays.ndjson');
  fs.writeFileSync(arrays, run(['generate', '--flows', '5000', '--seed', '6', '--batch', '25']).stdout);
  const bad = ['not json at all', '[1,2,3]', '{"IPV4_SRC_ADDR":"10.0.0.1"}'];
  const badFile = path.join(dir, 'bad.ndjson');
  fs.writeFileSync(badFile, bad.join('\n') + '\n');
  for (const f of [ndjson, badFile, arrays]) kcatProduce(bootstrap, 'netflows', f);

  const lake = path.join(dir, 'lake');
  // The printed defaults are a valid configuration, and flags override it
  // (its brokers and lake path are wrong here on purpose).
  const defaults = run(['config', '--print-defaults']);
  assert.equal(defaults.code, 0);
  assert.match(defaults.stdout, /\[kafka\][\s\S]*brokers = "127\.0\.0\.1:9092"/);
  const config = writeConfig(dir, defaults.stdout);
  const typo = path.join(dir, 'typo.toml');
  fs.writeFileSync(typo, '[lake]\ncompresion = "zstd"\n');
  const typoRun = run(['run', '--config', typo]);
  assert.equal(typoRun.code, 2, 'an unknown key is a configuration error');
  assert.match(typoRun.stderr, /unknown key 'lake\.compresion'.*did you mean 'lake\.compression'/);
  assert.equal(run(['run', '--config', path.join(dir, 'missing.toml')]).code, 2);
  const r = startRun(['--config', config, '--brokers', bootstrap, '--topic', 'netflows', '--group', 'basic',
    '--lake', lake, '--commit-interval-s', '1', ...GROUP_TIMEOUTS]);
  const db = await openDuckDB();
  const count = async () => listFiles(path.join(lake, 'flows')).length === 0 ? 0
    : Number((await db.all(`SELECT count(*)::BIGINT AS n FROM read_parquet(${glob(lake)})`))[0].n);
  assert.ok(await waitFor(async () => (await count()) === 17000, { timeoutMs: 90000, everyMs: 500 }),
    `all 17000 flows landed; stderr:\n${r.out.stderr}`);
  r.proc.kill('SIGTERM');
  assert.equal(await exitOf(r.proc, 30000), 0, r.out.stderr);
  const summary = summaryOf(r.out);
  assert.equal(summary.flows_written, 17000);
  assert.equal(summary.rejected, 3);
  assert.ok(summary.commits >= 1);
  assert.equal(kcatCount(bootstrap, 'netflows'), 12000 + 3 + 5000 / 25, 'the mock kept every message');

  // The same bytes through `flowlake ingest`: identical rows, both ways.
  const ref = path.join(dir, 'ref');
  ingest(ndjson, ref);
  ingest(arrays, path.join(dir, 'ref2'));
  const cols = '* EXCLUDE (date, hour)';
  const lakeRows = `SELECT ${cols} FROM read_parquet(${glob(lake)}, hive_partitioning=true)`;
  const refRows = `SELECT ${cols} FROM read_parquet([${glob(ref)}, ${glob(path.join(dir, 'ref2'))}], hive_partitioning=true)`;
  const [d1] = await db.all(`SELECT count(*)::BIGINT AS n FROM (${lakeRows} EXCEPT ALL ${refRows})`);
  const [d2] = await db.all(`SELECT count(*)::BIGINT AS n FROM (${refRows} EXCEPT ALL ${lakeRows})`);
  assert.equal(Number(d1.n), 0);
  assert.equal(Number(d2.n), 0);
  // Hive partitions agree with start_time.
  const [p] = await db.all(`SELECT count(*)::BIGINT AS n FROM read_parquet(${glob(lake)}, hive_partitioning=true)
    WHERE date <> strftime(start_time AT TIME ZONE 'UTC', '%Y-%m-%d') OR hour <> hour(start_time AT TIME ZONE 'UTC')`);
  assert.equal(Number(p.n), 0);

  // Dead letters: one line per bad message, naming topic/partition and the
  // Kafka offset where kcat finds that very payload.
  const where = new Map();
  for (const line of kcat(['-b', bootstrap, '-C', '-t', 'netflows', '-o', 'beginning', '-e', '-q',
    '-f', '%p %o %s\n']).split('\n')) {
    const m = line.match(/^(\d+) (\d+) (.*)$/);
    if (m && bad.includes(m[3])) where.set(m[3], `netflows/${m[1]} ${m[2]}`);
  }
  const dead = listFiles(path.join(lake, '_rejected')).flatMap((f) =>
    fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
  assert.equal(dead.length, 3);
  for (const d of dead) {
    assert.equal(`${d.source} ${d.offset}`, where.get(d.record), JSON.stringify(d));
    assert.ok(d.reason.length > 0);
  }
  assert.deepEqual(stagingFiles(lake), [], 'nothing left in staging');
  db.close();
});

test('exactly once through kill -9 at every commit step and at random moments', async (t) => {
  const N = 1000000;
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:8']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('run-crash');
  const file = path.join(dir, 'flows.ndjson');
  const badLines = ['{"broken":', 'garbage'];
  writeFlows(file, 0, N, badLines);
  kcatProduce(bootstrap, 'netflows', file);
  const lake = path.join(dir, 'lake');
  // Small files and frequent commits, so every run has many commits to die in.
  const config = writeConfig(dir, `
[kafka]
brokers = "${bootstrap}"
group = "crash"
[kafka.consumer]
"session.timeout.ms" = 6000
"heartbeat.interval.ms" = 500
"max.poll.interval.ms" = 10000
[lake]
path = "${lake}"
file_max_rows = 2000
row_group_rows = 1000
checkpoint_every = 3
sync = false
[service]
commit_interval_s = 1
threads = 2
memory_limit_mb = 256
`);
  const db = await openDuckDB();
  const rounds = [
    { crash: 'commit.before_record:1' },   // files staged, no record: orphans
    { crash: 'commit.after_record:1' },    // committed, nothing published yet
    { crash: 'commit.mid_publish:1' },     // committed, half published
    { crash: 'run.after_commit:2' },       // published, Kafka offsets not committed
    { crash: 'checkpoint.written:1' },     // checkpoint written, old records not deleted
    { randomMs: 700 },
    { crash: 'run.before_commit:2' },      // between the barrier and the record
    { randomMs: 1200 },
  ];
  let kills = 0;
  let last = { rows: 0 };
  for (const round of rounds) {
    const env = round.crash ? { FLOWLAKE_CRASH_AT: round.crash } : {};
    // A slowed lake (50 kB/s per file) so that each round leaves data for the next.
    const r = startRun(['--config', config, '--duration-s', '60', '--test-throttle-bytes-per-s', '50000'], { env });
    if (round.randomMs) {
      await waitFor(() => /assigned/.test(r.out.stderr), { timeoutMs: 30000, everyMs: 50 });
      await sleep(round.randomMs + Math.floor(Math.random() * 500));
      r.proc.kill('SIGKILL');
    }
    const code = await exitOf(r.proc, 60000);
    if (code === 'SIGKILL') kills++;
    assert.equal(code, 'SIGKILL', `round ${JSON.stringify(round)} died by SIGKILL (stderr:\n${r.out.stderr})`);
    // At every moment in between: no duplicate, no partial file, progress only forward.
    const s = await idStats(db, lake);
    assert.equal(s.dups, 0, `no duplicate after ${JSON.stringify(round)}`);
    assert.ok(s.rows >= last.rows, 'committed data never disappears');
    assert.ok(s.rows < N, `round ${JSON.stringify(round)} left data for the next (${s.rows} landed)`);
    last = s;
  }
  assert.ok(kills >= 5);
  assert.ok(last.rows < N, `data was left for the final run (got ${last.rows})`);

  // The last run recovers (deleting orphans, rolling records forward),
  // consumes to the end of every partition and stops by itself.
  const r = startRun(['--config', config, '--exit-at-end']);
  assert.equal(await exitOf(r.proc, 120000), 0, r.out.stderr);
  assert.match(r.out.stderr, /consumed to its end/);

  const s = await idStats(db, lake);
  assert.deepEqual(s, { rows: N, ids: N, dups: 0, min: 0, max: N - 1 });
  assert.equal(kcatCount(bootstrap, 'netflows'), N + badLines.length, 'the mock kept every message');
  const dead = listFiles(path.join(lake, '_rejected')).flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n'));
  assert.equal(dead.length, badLines.length, 'each bad message dead-lettered exactly once');
  assert.deepEqual(stagingFiles(lake), [], 'no staged file left behind');
  const log = fs.readdirSync(path.join(lake, '_flowlake', 'log'));
  assert.ok(log.some((f) => f.endsWith('.checkpoint.json')), 'the log was checkpointed');
  assert.ok(log.filter((f) => /^\d+\.json$/.test(f)).length <= 2 * 3 + 1, `the log stays bounded: ${log}`);
  db.close();
});

test('two members share a 4-partition topic; one stops mid-stream; every flow lands once', async (t) => {
  const N = 120000;
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:4']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('run-rebalance');
  const lake = path.join(dir, 'lake');
  const first = path.join(dir, 'a.ndjson');
  writeFlows(first, 0, N / 2);
  kcatProduce(bootstrap, 'netflows', first);
  // A slow lake (200 kB/s per file) keeps both members busy long enough.
  const args = ['--brokers', bootstrap, '--group', 'pair', '--lake', lake, '--commit-interval-s', '1',
    '--threads', '1', '--test-throttle-bytes-per-s', '200000', ...GROUP_TIMEOUTS];
  const a = startRun(args);
  const b = startRun(args);
  const both = await waitFor(() => /assigned 2 partition/.test(a.out.stderr) && /assigned 2 partition/.test(b.out.stderr),
    { timeoutMs: 30000, everyMs: 100 });
  assert.ok(both, `both members got 2 partitions:\nA:${a.out.stderr}\nB:${b.out.stderr}`);
  const db = await openDuckDB();
  await waitFor(async () => (await idStats(db, lake)).rows > 0, { timeoutMs: 30000 });
  const second = path.join(dir, 'b.ndjson');
  writeFlows(second, N / 2, N);
  kcatProduce(bootstrap, 'netflows', second);
  // Stop A mid-stream: it commits what it has and leaves; B takes all 4.
  a.proc.kill('SIGTERM');
  assert.equal(await exitOf(a.proc, 30000), 0, a.out.stderr);
  const sa = summaryOf(a.out);
  assert.ok(sa.flows_written > 0, 'A wrote part of the stream');
  assert.ok(await waitFor(() => /assigned 4 partition/.test(b.out.stderr), { timeoutMs: 30000 }), b.out.stderr);
  const done = await waitFor(async () => (await idStats(db, lake)).rows >= N, { timeoutMs: 120000, everyMs: 1000 });
  assert.ok(done, `all flows landed; B:\n${b.out.stderr}`);
  b.proc.kill('SIGTERM');
  assert.equal(await exitOf(b.proc, 60000), 0, b.out.stderr);
  const sb = summaryOf(b.out);
  assert.equal(sa.flows_written + sb.flows_written, N, 'the two members wrote disjoint shares');
  assert.deepEqual(await idStats(db, lake), { rows: N, ids: N, dups: 0, min: 0, max: N - 1 });
  assert.equal(kcatCount(bootstrap, 'netflows'), N);
  db.close();
});

test('a member frozen past its session comes back as a zombie: its commit is fenced, nothing lands twice', async (t) => {
  const N = 300000;
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:2']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('run-zombie');
  const lake = path.join(dir, 'lake');
  // One flow per millisecond (five minutes in all) and an hour of
  // lateness: no flow is late for the rollups, so they must count each one
  // exactly once. (B resumes the two partitions where A's commit left them,
  // which can be minutes apart in event time: with the default 2 minutes,
  // the lagging partition's flows would be late and dropped.)
  writeFlows(path.join(dir, 'a.ndjson'), 0, N, [], (id) => T0 + id);
  kcatProduce(bootstrap, 'netflows', path.join(dir, 'a.ndjson'));
  const config = path.join(dir, 'flowlake.toml');
  fs.writeFileSync(config, '[analysis]\nlateness_s = 3600\n');
  // A slow lake, so A always has consumed data that is not committed yet.
  const args = ['--config', config, '--brokers', bootstrap, '--group', 'zombie', '--lake', lake,
    '--commit-interval-s', '1', '--threads', '1', '--test-throttle-bytes-per-s', '200000', ...GROUP_TIMEOUTS];
  const a = startRun(args);
  t.after(() => { a.proc.kill('SIGCONT'); a.proc.kill('SIGKILL'); });
  const db = await openDuckDB();
  // Backpressure means A holds more consumed messages than its lake has
  // written, so nothing A commits can cover them yet: frozen now, A surely
  // wakes with data the group has since given to B. (Waiting for A's first
  // commit instead let a fast build commit everything it had consumed.)
  assert.ok(await waitFor(() => /pausing consumption/.test(a.out.stderr), { timeoutMs: 30000, everyMs: 20 }),
    a.out.stderr);
  a.proc.kill('SIGSTOP'); // frozen: no heartbeats, no commits
  const b = startRun(args.filter((x) => x !== '200000' && x !== '--test-throttle-bytes-per-s'));
  t.after(() => b.proc.kill('SIGKILL'));
  // The group drops A after its session timeout and B takes both partitions.
  assert.ok(await waitFor(() => /assigned 2 partition/.test(b.out.stderr), { timeoutMs: 40000 }), b.out.stderr);
  assert.ok(await waitFor(async () => (await idStats(db, lake)).rows >= N, { timeoutMs: 60000, everyMs: 500 }),
    `B finished; B:\n${b.out.stderr}`);
  a.proc.kill('SIGCONT'); // A wakes up believing it still owns its partitions
  assert.ok(await waitFor(() => /commit fenced/.test(a.out.stderr), { timeoutMs: 30000 }),
    `A's stale commit was refused; A:\n${a.out.stderr}`);
  await sleep(2000);
  for (const m of [a, b]) m.proc.kill('SIGTERM');
  assert.equal(await exitOf(a.proc, 60000), 0, a.out.stderr);
  assert.equal(await exitOf(b.proc, 30000), 0, b.out.stderr);
  assert.ok(summaryOf(a.out).aborted_commits >= 1);
  assert.deepEqual(await idStats(db, lake), { rows: N, ids: N, dups: 0, min: 0, max: N - 1 });
  assert.deepEqual(stagingFiles(lake), [], 'the fenced files were discarded');
  // The rollups count every flow once too: when its commit was fenced, A's
  // analysis went back to the state of its last commit. (Each flow's bytes
  // are sent by one host and received by another: 2 * (id + 2 * id).)
  const [r] = await db.all(`SELECT sum(flows_as_src)::BIGINT AS flows,
      sum(bytes_sent + bytes_received)::BIGINT AS bytes
    FROM read_parquet(${sqlString(path.join(lake, 'rollups', 'host_1m_parquet', '*', '*', '*.parquet'))})`);
  assert.deepEqual({ flows: Number(r.flows), bytes: Number(r.bytes) }, { flows: N, bytes: 3 * N * (N - 1) },
    'rollups: every flow counted once');
  db.close();
});

test('a state snapshot that does not parse stops run, naming where the snapshots are', async (t) => {
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:1']);
  t.after(() => kafka.kill('SIGTERM'));
  const lake = path.join(tmpDir('run-bad-state'), 'lake');
  // A stopped writer's committed state, damaged: the next member adopts it.
  const dead = path.join(lake, '_flowlake', 'state', 'dead-writer');
  fs.mkdirSync(dead, { recursive: true });
  const name = 'dead-writer-00000000000000000001.state';
  fs.writeFileSync(path.join(dead, name), `{"snapshot":"${name}","supersedes":[]}\nnot a snapshot`);
  const r = startRun(['--brokers', bootstrap, '--group', 'bad-state', '--lake', lake, ...GROUP_TIMEOUTS]);
  t.after(() => r.proc.kill('SIGKILL'));
  assert.notEqual(await exitOf(r.proc, 30000), 0, r.out.stderr);
  assert.match(r.out.stderr, /a state snapshot without its magic \(state snapshots under .*\/_flowlake\/state\/[^/ ]+\/\)/,
    r.out.stderr);
});

test('a broker outage pauses the service, which resumes without loss', async (t) => {
  const N = 60000;
  const kafkaUp = await startCluster(['--topic', 'netflows:2']);
  const { bootstrap, proc: kafka } = kafkaUp;
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('run-outage');
  const lake = path.join(dir, 'lake');
  writeFlows(path.join(dir, 'a.ndjson'), 0, N / 2);
  kcatProduce(bootstrap, 'netflows', path.join(dir, 'a.ndjson'));
  const r = startRun(['--brokers', bootstrap, '--group', 'outage', '--lake', lake, '--commit-interval-s', '1',
    ...GROUP_TIMEOUTS, '-X', 'reconnect.backoff.max.ms=1000']);
  const db = await openDuckDB();
  assert.ok(await waitFor(async () => (await idStats(db, lake)).rows === N / 2, { timeoutMs: 60000 }), r.out.stderr);

  kafka.kill('SIGUSR1');
  assert.ok(await waitFor(() => /brokers down/.test(kafkaUp.stderr()), { timeoutMs: 5000, everyMs: 50 }));
  await sleep(5000);
  assert.equal(r.proc.exitCode, null, 'still running during the outage');
  kafka.kill('SIGUSR2');
  assert.ok(await waitFor(() => /brokers up/.test(kafkaUp.stderr()), { timeoutMs: 5000, everyMs: 50 }));
  writeFlows(path.join(dir, 'b.ndjson'), N / 2, N);
  kcatProduce(bootstrap, 'netflows', path.join(dir, 'b.ndjson'));
  const done = await waitFor(async () => (await idStats(db, lake)).rows >= N, { timeoutMs: 90000, everyMs: 500 });
  assert.ok(done, `resumed after the outage; stderr:\n${r.out.stderr}`);
  await sleep(1500);
  r.proc.kill('SIGINT'); // Ctrl-C: the same graceful stop as SIGTERM
  assert.equal(await exitOf(r.proc, 30000), 0, r.out.stderr);
  assert.equal(summaryOf(r.out).flows_written, N);
  assert.deepEqual(await idStats(db, lake), { rows: N, ids: N, dups: 0, min: 0, max: N - 1 });
  db.close();
});

test('a slow lake makes the consumer pause: RSS stays under the memory limit', async (t) => {
  const N = 800000;
  const LIMIT_MB = 256;
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:16']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('run-backpressure');
  const lake = path.join(dir, 'lake');
  writeFlows(path.join(dir, 'a.ndjson'), 0, N);
  kcatProduce(bootstrap, 'netflows', path.join(dir, 'a.ndjson'));
  // ~230 MB of JSON waiting in Kafka (more than the limit), a lake that
  // takes 50 kB/s per file.
  const r = startRun(['--brokers', bootstrap, '--group', 'slow', '--lake', lake, '--commit-interval-s', '2',
    '--memory-limit-mb', String(LIMIT_MB), '--test-throttle-bytes-per-s', '50000', '--threads', '2'],
  { bin: RELEASE_BIN });
  let peak = 0;
  const until = Date.now() + 12000;
  while (Date.now() < until && r.proc.exitCode === null) {
    peak = Math.max(peak, rssBytes(r.proc.pid));
    await sleep(100);
  }
  r.proc.kill('SIGTERM');
  assert.equal(await exitOf(r.proc, 60000), 0, r.out.stderr);
  const s = summaryOf(r.out);
  console.log(`peak RSS ${(peak / 1048576).toFixed(1)} MB, limit ${LIMIT_MB} MB, summary ${JSON.stringify(s)}`);
  assert.ok(s.pauses >= 1, `the consumer paused (summary ${JSON.stringify(s)})`);
  assert.ok(s.flows_written > 0 && s.flows_written < N, 'the slow lake got only part of it');
  assert.ok(s.messages < N, `part of the topic stayed in Kafka, not in memory (${s.messages} read)`);
  assert.ok(peak > 0 && peak < LIMIT_MB * 1024 * 1024, `peak RSS ${(peak / 1048576).toFixed(0)} MB < ${LIMIT_MB} MB`);
  const db = await openDuckDB();
  const st = await idStats(db, lake);
  assert.equal(st.rows, s.flows_written);
  assert.equal(st.dups, 0);
  db.close();
});

test('on a terminal, run keeps a one-line status (flows/s, lag, files, commits) up to date', async (t) => {
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:2', '--produce', 'netflows', '--rate', '2000']);
  t.after(() => kafka.kill('SIGTERM'));
  const lake = path.join(tmpDir('run-tty'), 'lake');
  // util-linux `script` gives the service a pseudo-terminal as stderr.
  const cmd = [BIN, 'run', '--brokers', bootstrap, '--lake', lake, '--no-sync', '--duration-s', '7',
    '--commit-interval-s', '2'].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qefc', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stdout);
  const lines = r.stdout.split('\r').filter((l) => /flows\/s +lag -?\d+ +files \d+ +commits \d+ +partitions \d+/.test(l));
  assert.ok(lines.length >= 2, `status redrawn in place at least twice:\n${JSON.stringify(r.stdout.slice(0, 2000))}`);
  assert.ok(lines.some((l) => /partitions 2/.test(l)), 'shows the assignment');
  assert.match(r.stdout, /"flows_written":[1-9]/, 'and prints the summary at the end');
});
