// Detection latency of `flowlake run`: from the Kafka message holding the
// flow that crosses a threshold to the event on `netflows-events`.
//
//   node bench/detect_latency.mjs FLOWLAKE TESTKAFKA [ATTACKS] [BACKGROUND_FLOWS_PER_S]
//   LAT_X=fetch.wait.max.ms=50 node bench/detect_latency.mjs ...   (a librdkafka property for run)
//
// Starts the mock cluster (netflows:8, netflows-events:1) with its synthetic
// producer publishing benign traffic at BACKGROUND_FLOWS_PER_S, starts
// `flowlake run`, then sends ATTACKS SYN floods, one every 500 ms, each to its
// own victim: one Kafka message (keyed "attack-<n>") holding an nProbe batch
// array of 300 SYN-only flows starting now. Both ends are read back with
// kcat: the attack message's timestamp (CreateTime, set by kcat's producer)
// and the event's (set by flowlake's producer when the event fired). Prints
// the latencies' median, p90 and max; exits 1 if an attack goes undetected.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [BIN, TESTKAFKA, attacksArg, rateArg] = process.argv.slice(2);
if (!BIN || !TESTKAFKA) {
  console.error('usage: node bench/detect_latency.mjs FLOWLAKE TESTKAFKA [ATTACKS] [BACKGROUND_FLOWS_PER_S]');
  process.exit(2);
}
const ATTACKS = Number(attacksArg ?? 20);
const RATE = Number(rateArg ?? 10000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowlake-latency-'));

const bootstrapFile = path.join(dir, 'bootstrap');
const kafka = spawn(TESTKAFKA, ['--topic', 'netflows:8', '--topic', 'netflows-events:1', '--bootstrap-file',
  bootstrapFile, '--produce', 'netflows', '--rate', String(RATE), '--batch', '20'], { stdio: 'ignore' });
for (let i = 0; i < 100 && !fs.existsSync(bootstrapFile); i++) await sleep(100);
const bs = fs.readFileSync(bootstrapFile, 'utf8').trim();

let runErr = '';
const run = spawn(BIN, ['run', '--no-sync', '--brokers', bs, '--topic', 'netflows', '--group', 'latency',
  '--lake', path.join(dir, 'lake'), '--commit-interval-s', '10', '-X', 'session.timeout.ms=6000',
  '-X', 'heartbeat.interval.ms=500', ...(process.env.LAT_X ? ['-X', process.env.LAT_X] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
run.stderr.on('data', (d) => { runErr += d; });
const cleanup = () => { run.kill('SIGKILL'); kafka.kill('SIGKILL'); };
process.on('exit', cleanup);
// Wait until it consumes (the group join takes ~3 s on the mock).
for (let i = 0; i < 150 && !/partition\(s\) resume|start at the/.test(runErr); i++) await sleep(100);
await sleep(2000);

function synFlood(n) {
  const now = Date.now();
  const victim = `10.99.${n >> 8}.${n & 255}`;
  const flows = [];
  for (let i = 0; i < 300; i++) {
    flows.push({
      PROBEID: 'latency', IPV4_SRC_ADDR: `203.0.${(i >> 8) + 1}.${i & 255}`, IPV4_DST_ADDR: victim,
      L4_SRC_PORT: 10000 + i, L4_DST_PORT: 443, PROTOCOL: 6, TCP_FLAGS: 2, IN_BYTES: 60, OUT_BYTES: 0,
      IN_PKTS: 1, OUT_PKTS: 0, FLOW_START_MILLISECONDS: now - 300 + i, FLOW_END_MILLISECONDS: now - 300 + i,
    });
  }
  return { victim, line: `attack-${n}\t${JSON.stringify(flows)}\n` };
}

const victims = new Map();
const producer = spawn('kcat', ['-b', bs, '-P', '-t', 'netflows', '-K', '\t', '-X', 'linger.ms=0'],
  { stdio: ['pipe', 'ignore', 'inherit'] });
for (let n = 0; n < ATTACKS; n++) {
  const a = synFlood(n);
  victims.set(a.victim, `attack-${n}`);
  producer.stdin.write(a.line);
  await sleep(500);
}
producer.stdin.end();
await new Promise((r) => producer.on('exit', r));
await sleep(3000);

const kcat = (args) => spawnSync('kcat', ['-b', bs, '-C', '-e', '-q', '-o', 'beginning', ...args],
  { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 120000 }).stdout;
const sentAt = new Map();
for (const l of kcat(['-t', 'netflows', '-f', '%k %T\n']).split('\n')) {
  const m = l.match(/^(attack-\d+) (\d+)$/);
  if (m) sentAt.set(m[1], Number(m[2]));
}
if (sentAt.size !== ATTACKS) {
  console.error(`only ${sentAt.size} of ${ATTACKS} attack messages are still in the mock (it keeps ~5 MiB ` +
    'per partition): lower the background rate');
}
const latencies = [];
const detected = new Set();
for (const l of kcat(['-t', 'netflows-events', '-f', '%T\t%s\n']).split('\n')) {
  if (!l) continue;
  const [ts, value] = [Number(l.slice(0, l.indexOf('\t'))), JSON.parse(l.slice(l.indexOf('\t') + 1))];
  if (value.type !== 'syn_flood' || !victims.has(value.dst_ip)) continue;
  detected.add(value.dst_ip);
  const sent = sentAt.get(victims.get(value.dst_ip));
  if (sent !== undefined) latencies.push(ts - sent);
}
cleanup();
latencies.sort((a, b) => a - b);
const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
console.log(`background ${RATE} flows/s over 8 partitions; ${ATTACKS} SYN floods of 300 flows, one per message`);
console.log(`detected ${detected.size}/${ATTACKS}; latency (${latencies.length} measured) message -> event on netflows-events: ` +
  `median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${latencies[latencies.length - 1]} ms`);
if (detected.size !== ATTACKS) console.error(runErr.split('\n').slice(-20).join('\n'));
process.exit(detected.size === ATTACKS ? 0 : 1);
