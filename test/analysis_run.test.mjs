// The analysis of `flowlake run` is the analysis of `flowlake ingest`: the
// same flows, produced to the mock cluster by kcat, give the same rollups and
// the same events; events are also published to `netflows-events`, where
// kcat reads them back.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ingest, listFiles, run, tmpDir } from './lib/flowlake.mjs';
import { exitOf, kcat, kcatCount, kcatProduce, startCluster, startRun, waitFor } from './lib/kafka.mjs';

const GROUP_TIMEOUTS = [
  '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=500', '-X', 'max.poll.interval.ms=10000',
];
const T0 = 1764547200000; // 2025-12-01T00:00:00Z

const readLines = (files) => files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l));
const rollupLines = (lake) => readLines(listFiles(path.join(lake, 'rollups', 'host_1m')).filter((f) => f.endsWith('.json')));
const eventObjects = (lake) => readLines(listFiles(path.join(lake, 'events')).filter((f) => f.endsWith('.json'))).map((l) => JSON.parse(l));
const withoutClock = (events) => events.map(({ detected_at: _, ...rest }) => JSON.stringify(rest)).sort();
// Rollup records without the sketches (whose exact-mode bytes keep the order
// values arrived in) as sorted JSON text.
const withoutSketches = (lines) => lines.map((l) => {
  const { peers_contacted_sketch: _a, peers_contacting_sketch: _b, dst_ports_contacted_sketch: _c, ...rest } = JSON.parse(l);
  return JSON.stringify(rest);
}).sort();

function generate(dir, flows, batch = 20, spanMs = 5 * 60000) {
  const file = path.join(dir, 'flows.json');
  const truth = path.join(dir, 'truth.jsonl');
  const blocklist = path.join(dir, 'blocklist.txt');
  const r = run(['generate', '--flows', String(flows), '--seed', '11', '--start-ms', String(T0),
    '--span-ms', String(spanMs), '--batch', String(batch), '--attacks', '--truth', truth,
    '--blocklist-out', blocklist]);
  assert.equal(r.code, 0, r.stderr);
  fs.writeFileSync(file, r.stdout);
  return { file, truth, blocklist };
}

async function runAll(bootstrap, group, lake, blocklist) {
  const r = startRun(['--brokers', bootstrap, '--topic', 'netflows', '--group', group, '--lake', lake,
    '--blocklist', blocklist, '--exit-at-end', '--commit-interval-s', '2', ...GROUP_TIMEOUTS]);
  assert.equal(await exitOf(r.proc, 180000), 0, r.out.stderr);
  const line = r.out.stdout.trim().split('\n').find((l) => l.startsWith('{'));
  return JSON.parse(line);
}

for (const partitions of [1, 4]) {
  test(`run over ${partitions} partition(s) gives ingest's rollups and events; events reach Kafka`, async (t) => {
    const { bootstrap, proc: kafka } = await startCluster(['--topic', `netflows:${partitions}`,
      '--topic', 'netflows-events:2']);
    t.after(() => kafka.kill('SIGTERM'));
    const dir = tmpDir(`analysis-run-${partitions}`);
    const input = generate(dir, 30000);
    const messages = fs.readFileSync(input.file, 'utf8').split('\n').filter((l) => l).length;
    // One partition: kcat keeps the file's order. Several: kcat spreads the
    // messages, and the order across partitions is Kafka's to choose.
    kcat(['-b', bootstrap, '-P', '-t', 'netflows', '-z', 'zstd', '-X', 'linger.ms=20', '-l', input.file]);
    assert.equal(kcatCount(bootstrap, 'netflows'), messages, 'the mock kept every message');

    const lake = path.join(dir, 'lake');
    const summary = await runAll(bootstrap, `a${partitions}`, lake, input.blocklist);
    const ref = path.join(dir, 'ref');
    const refSummary = ingest(input.file, ref, ['--blocklist', input.blocklist]);
    assert.equal(summary.flows_written, refSummary.flows_written);
    assert.equal(summary.late_flows, 0);
    assert.ok(refSummary.events >= 9, JSON.stringify(refSummary));

    if (partitions === 1) {
      assert.deepEqual(rollupLines(lake).sort(), rollupLines(ref).sort(), 'identical rollup records');
      assert.deepEqual(withoutClock(eventObjects(lake)), withoutClock(eventObjects(ref)), 'identical events');
    } else {
      assert.deepEqual(withoutSketches(rollupLines(lake)), withoutSketches(rollupLines(ref)),
        'identical rollup counts');
      const ident = (events) => events.map((e) => `${e.id} ${e.type} ${e.window_start}`).sort();
      assert.deepEqual(ident(eventObjects(lake)), ident(eventObjects(ref)), 'the same events');
    }

    // Every lake event was published, keyed by one of its hosts.
    const published = kcat(['-b', bootstrap, '-C', '-t', 'netflows-events', '-o', 'beginning', '-e', '-q',
      '-f', '%k\t%s\n']).split('\n').filter((l) => l);
    const lakeEvents = eventObjects(lake);
    assert.equal(summary.events_published, lakeEvents.length);
    const byId = new Map(published.map((l) => {
      const [key, value] = [l.slice(0, l.indexOf('\t')), l.slice(l.indexOf('\t') + 1)];
      return [JSON.parse(value).id, { key, value }];
    }));
    assert.equal(byId.size, lakeEvents.length, 'each event published once');
    for (const e of lakeEvents) {
      const p = byId.get(e.id);
      assert.ok(p, `event ${e.id} is on netflows-events`);
      assert.deepEqual(JSON.parse(p.value), e);
      assert.ok([e.src_ip, e.dst_ip].includes(p.key), `key ${p.key} is a host of ${JSON.stringify(e)}`);
    }
  });
}

// A backlog of sparse traffic over many partitions: 2 hours of flows, one
// per message, 16 partitions of ~2 MB. The consumer reads each partition a
// fetch (1 MB, ~an hour of its flows) at a time, so the partitions it reads
// first run far ahead of the others in event time. The watermark waits for
// the partition behind (per-partition event time): no flow is late, and the
// rollups and events are ingest's.
test('a backlog over 16 partitions read unevenly: no flow late, ingest\'s rollups and events', async (t) => {
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:16',
    '--topic', 'netflows-events:1']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('analysis-run-backlog');
  const input = generate(dir, 40000, 1, 120 * 60000);
  const messages = fs.readFileSync(input.file, 'utf8').split('\n').filter((l) => l).length;
  kcat(['-b', bootstrap, '-P', '-t', 'netflows', '-z', 'zstd', '-X', 'linger.ms=20', '-l', input.file]);
  assert.equal(kcatCount(bootstrap, 'netflows'), messages, 'the mock kept every message');

  const lake = path.join(dir, 'lake');
  const summary = await runAll(bootstrap, 'backlog', lake, input.blocklist);
  const refSummary = ingest(input.file, path.join(dir, 'ref'), ['--blocklist', input.blocklist]);
  assert.equal(summary.flows_written, refSummary.flows_written);
  assert.equal(refSummary.late_flows, 0);
  assert.equal(summary.late_flows, 0, 'no flow is late for the partitions read ahead');
  assert.deepEqual(withoutSketches(rollupLines(lake)), withoutSketches(rollupLines(path.join(dir, 'ref'))),
    'identical rollup counts');
  const ident = (events) => events.map((e) => `${e.id} ${e.type} ${e.window_start}`).sort();
  assert.ok(refSummary.events >= 9, JSON.stringify(refSummary));
  assert.deepEqual(ident(eventObjects(lake)), ident(eventObjects(path.join(dir, 'ref'))), 'the same events');
});

// A lake so slow that the workers stall for seconds while writing: the
// analysis must not take the stalled stream for an idle one. Idle closing by
// the wall clock (1 s here) and sources judged idle by the time the analysis
// gets to them would both make the flows held up in the workers late
// (lateness 5 s here); the stream is in order, so none is.
test('a slow lake stalls the workers: the stream is not idle, no flow is late', async (t) => {
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:16']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('analysis-run-stall');
  const file = path.join(dir, 'flows.json');
  const g = run(['generate', '--flows', '4000', '--seed', '5', '--start-ms', String(T0),
    '--span-ms', String(10 * 60000)]);
  assert.equal(g.code, 0, g.stderr);
  fs.writeFileSync(file, g.stdout);
  const config = path.join(dir, 'flowlake.toml');
  fs.writeFileSync(config, '[analysis]\nlateness_s = 5\nidle_timeout_s = 3\n' +
    '[lake]\nrow_group_rows = 100\nfile_max_rows = 200\n');
  kcat(['-b', bootstrap, '-P', '-t', 'netflows', '-z', 'zstd', '-X', 'linger.ms=20', '-l', file]);
  const messages = kcatCount(bootstrap, 'netflows');
  assert.ok(messages >= 2000, `the mock kept ${messages} messages`);

  const lake = path.join(dir, 'lake');
  const r = startRun(['--brokers', bootstrap, '--topic', 'netflows', '--group', 'stall', '--lake', lake,
    '--config', config, '--exit-at-end', '--commit-interval-s', '2', '--test-throttle-bytes-per-s', '10000',
    ...GROUP_TIMEOUTS]);
  assert.equal(await exitOf(r.proc, 180000), 0, r.out.stderr);
  const summary = JSON.parse(r.out.stdout.trim().split('\n').find((l) => l.startsWith('{')));
  assert.equal(summary.flows_written, messages);
  assert.ok(summary.files >= 10, `the lake wrote ${summary.files} files: the workers stalled often`);
  assert.equal(summary.late_flows, 0, 'no flow is late behind a stalled lake');
  // The same flows in order through ingest (kcat kept a prefix of them).
  const kept = path.join(dir, 'kept.json');
  fs.writeFileSync(kept, g.stdout.split('\n').slice(0, messages).join('\n') + '\n');
  const ref = ingest(kept, path.join(dir, 'ref'), ['--config', config]);
  assert.equal(ref.late_flows, 0);
  assert.deepEqual(withoutSketches(rollupLines(lake)), withoutSketches(rollupLines(path.join(dir, 'ref'))),
    'identical rollup counts');
});

// Rollups merged per host and minute, summed: what survives any split of
// the work into partial records (several members, restarts).
function mergedSums(lines) {
  const out = new Map();
  const cols = ['flows_as_src', 'flows_as_dst', 'bytes_sent', 'bytes_received', 'pkts_sent',
    'pkts_received', 'tcp_syn_only_as_src'];
  for (const l of lines) {
    const r = JSON.parse(l);
    const k = `${r.window_start} ${r.host}`;
    const acc = out.get(k) ?? Object.fromEntries(cols.map((c) => [c, 0]));
    for (const c of cols) acc[c] += r[c];
    out.set(k, acc);
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

test('kill -9 at every commit step: merged rollups and events equal ingest\'s, no event twice', async (t) => {
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:8', '--topic', 'netflows-events:1']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('analysis-crash');
  // One flow per message: a poll takes at most 8192 messages, so commits
  // come every few thousand flows and each round dies early.
  const input = generate(dir, 160000, 0);
  kcatProduce(bootstrap, 'netflows', input.file);
  const messages = fs.readFileSync(input.file, 'utf8').split('\n').filter((l) => l).length;
  assert.equal(kcatCount(bootstrap, 'netflows'), messages, 'the mock kept every message');
  const lake = path.join(dir, 'lake');
  // Lateness covers the whole input, so no flow is late whatever order the
  // partitions interleave in, across any number of restarts: the merged
  // rollups must then equal ingest's exactly.
  const config = path.join(dir, 'flowlake.toml');
  fs.writeFileSync(config, `
[kafka]
brokers = "${bootstrap}"
group = "crash"
[kafka.consumer]
"session.timeout.ms" = 6000
"heartbeat.interval.ms" = 500
"max.poll.interval.ms" = 60000
[lake]
path = "${lake}"
file_max_rows = 1500
row_group_rows = 500
sync = false
[analysis]
lateness_s = 3600
[detect]
blocklist = "${input.blocklist}"
[service]
commit_interval_s = 1
threads = 2
`);
  const rounds = ['commit.before_record:1', 'commit.mid_publish:1', 'run.after_commit:1',
    'run.before_commit:1'];
  for (const crash of rounds) {
    const r = startRun(['--config', config, '--duration-s', '60'],
      { env: { FLOWLAKE_CRASH_AT: crash } });
    assert.equal(await exitOf(r.proc, 60000), 'SIGKILL', `${crash}: ${r.out.stderr}`);
  }
  const r = startRun(['--config', config, '--exit-at-end']);
  assert.equal(await exitOf(r.proc, 120000), 0, r.out.stderr);
  assert.match(r.out.stderr, /adopted the state/);

  const ref = path.join(dir, 'ref');
  const refSummary = ingest(input.file, ref, ['--config', config]);
  assert.equal(refSummary.late_flows, 0);
  assert.deepEqual(mergedSums(rollupLines(lake)), mergedSums(rollupLines(ref)),
    'every flow counted once in the rollups, through four crashes');
  const got = eventObjects(lake);
  const ids = got.map((e) => e.id).sort();
  assert.equal(new Set(ids).size, ids.length, 'no event twice in the lake');
  assert.deepEqual(ids, eventObjects(ref).map((e) => e.id).sort(), 'the same events as ingest');
  assert.ok(ids.length >= 9);
});

test('an idle stream still closes its windows: the service commits them with no new flow', async (t) => {
  // One partition: with a lateness this short, which flows are late depends
  // on the order, and one partition keeps the file's.
  const { bootstrap, proc: kafka } = await startCluster(['--topic', 'netflows:1', '--topic', 'netflows-events:1']);
  t.after(() => kafka.kill('SIGTERM'));
  const dir = tmpDir('analysis-idle');
  const file = path.join(dir, 'flows.json');
  // Two minutes of traffic; lateness 5 s, idle after 3 s (longer than any
  // pause of this small stream, so only the end of the stream is idle).
  const r0 = run(['generate', '--flows', '4000', '--seed', '3', '--start-ms', String(T0), '--span-ms', '120000',
    '--batch', '20']);
  assert.equal(r0.code, 0, r0.stderr);
  fs.writeFileSync(file, r0.stdout);
  kcatProduce(bootstrap, 'netflows', file);
  const config = path.join(dir, 'flowlake.toml');
  fs.writeFileSync(config, '[analysis]\nlateness_s = 5\nidle_timeout_s = 3\n');
  const lake = path.join(dir, 'lake');
  const r = startRun(['--config', config, '--brokers', bootstrap, '--topic', 'netflows', '--group', 'idle',
    '--lake', lake, '--commit-interval-s', '1', '--duration-s', '90', ...GROUP_TIMEOUTS]);
  // Both minutes get their records while the service is still running: the
  // second one only by the clock (no flow after it ever comes).
  const lastWindow = new Date(T0 + 60000).toISOString().replace('.000', '');
  const closed = await waitFor(() => rollupLines(lake).some((l) => JSON.parse(l).window_start === lastWindow),
    { timeoutMs: 60000, everyMs: 500 });
  assert.ok(closed, `the last window was committed while idle; stderr:\n${r.out.stderr}`);
  assert.equal(r.proc.exitCode, null, 'the service is still running');
  r.proc.kill('SIGTERM');
  assert.equal(await exitOf(r.proc, 30000), 0, r.out.stderr);
  const ref = path.join(dir, 'ref');
  const refSummary = ingest(file, ref, ['--config', config]);
  assert.deepEqual(rollupLines(lake).sort(), rollupLines(ref).sort(), 'the same records as ingest');
  assert.ok(refSummary.rollup_records > 0);
});
