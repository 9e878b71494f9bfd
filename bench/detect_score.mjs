// Scores detection events against the ground truth of `flowlake generate
// --attacks`: per detector, the injected instances found (recall) and the
// events that match no instance (false positives).
//
//   node bench/detect_score.mjs TRUTH.jsonl LAKE
//
// An event matches an instance when type and window_start agree, and every
// key the instance names (src_ip, dst_ip, dst_port, domain) is the event's.
// Exit status 1 if any instance is missed or any event is unexplained.
import fs from 'node:fs';
import path from 'node:path';

const [truthFile, lake] = process.argv.slice(2);
if (!truthFile || !lake) {
  console.error('usage: node bench/detect_score.mjs TRUTH.jsonl LAKE');
  process.exit(2);
}
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l).map((l) => JSON.parse(l));
const files = (dir) => (fs.existsSync(dir)
  ? fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, f)).filter((f) => f.endsWith('.json'))
  : []);
const truth = lines(truthFile);
const events = files(path.join(lake, 'events')).flatMap(lines);
const matches = (e, t) => e.type === t.type && e.window_start === t.window_start &&
  ['src_ip', 'dst_ip', 'dst_port', 'domain'].every((k) => t[k] === undefined || e[k] === undefined || e[k] === t[k]);

const types = [...new Set([...truth.map((t) => t.type), ...events.map((e) => e.type)])].sort();
let bad = 0;
console.log(`${'detector'.padEnd(22)} ${'injected'.padStart(8)} ${'found'.padStart(6)} ${'recall'.padStart(7)} ${'events'.padStart(7)} ${'false+'.padStart(7)}`);
for (const type of types) {
  const inst = truth.filter((t) => t.type === type);
  const ev = events.filter((e) => e.type === type);
  const found = inst.filter((t) => ev.some((e) => matches(e, t))).length;
  const fp = ev.filter((e) => !inst.some((t) => matches(e, t))).length;
  bad += inst.length - found + fp;
  const recall = inst.length ? `${((100 * found) / inst.length).toFixed(0)}%` : '-';
  console.log(`${type.padEnd(22)} ${String(inst.length).padStart(8)} ${String(found).padStart(6)} ${recall.padStart(7)} ${String(ev.length).padStart(7)} ${String(fp).padStart(7)}`);
}
const found = truth.filter((t) => events.some((e) => matches(e, t))).length;
const fp = events.filter((e) => !truth.some((t) => matches(e, t))).length;
console.log(`${'all'.padEnd(22)} ${String(truth.length).padStart(8)} ${String(found).padStart(6)} ${`${((100 * found) / Math.max(1, truth.length)).toFixed(0)}%`.padStart(7)} ${String(events.length).padStart(7)} ${String(fp).padStart(7)}`);
process.exit(bad ? 1 : 0);
