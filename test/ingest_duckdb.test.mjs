// End-to-end: `flowlake ingest` input -> lake, read back by DuckDB.
// Expected values come from the JSON inputs (read by hand, or by DuckDB's own
// JSON reader), never from flowlake's output.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openDuckDB, sqlString } from './lib/duckdb.mjs';
import { BIN, SAMPLES, run, ingest, tmpDir, listFiles, flowsGlob } from './lib/flowlake.mjs';

const db = await openDuckDB();
const scan = (lake) => `read_parquet(${sqlString(flowsGlob(lake))}, hive_partitioning = true)`;
const sample = (name) => path.join(SAMPLES, 'nprobe', name);

// Rows of a lake as JS objects keyed by column, ordered by start_time, src_ip.
async function lakeRows(lake) {
  return db.all(`SELECT * EXCLUDE (date, hour), epoch_ms(start_time) AS start_ms,
                        epoch_ms(end_time) AS end_ms
                 FROM ${scan(lake)} ORDER BY start_time, src_ip`);
}

const ALL_NULL = {
  probe: null, exporter_ip: null, src_port: null, dst_port: null, protocol: null,
  ip_version: null, l7_master: null, l7_app: null, l7_name: null, in_bytes: null,
  out_bytes: null, in_pkts: null, out_pkts: null, end_ms: null, duration_ms: null,
  tcp_flags: null, client_tcp_flags: null, server_tcp_flags: null, src_mac: null,
  dst_mac: null, vlan: null, input_snmp: null, output_snmp: null, src_tos: null,
  min_ttl: null, max_ttl: null, icmp_type: null, retransmitted_in_pkts: null,
  retransmitted_out_pkts: null, client_latency_ms: null, server_latency_ms: null,
  appl_latency_ms: null, dns_query: null, dns_query_type: null, dns_ret_code: null,
  http_url: null, http_host: null, http_method: null, http_ret_code: null,
  tls_server_name: null, tls_version: null, ja3c_hash: null, ja3s_hash: null,
};

// Compares the columns named in `expected` (plus every other column as null).
function assertRow(actual, expected, label) {
  const want = { ...ALL_NULL, ...expected };
  for (const [k, v] of Object.entries(want)) {
    let got = actual[k];
    if (typeof got === 'bigint') got = Number(got);
    assert.deepEqual(got, v, `${label}: column ${k}`);
  }
}

test('the lake has exactly the 46 documented columns with their types', async () => {
  const lake = tmpDir('schema');
  ingest(sample('labels.ndjson'), lake);
  const cols = await db.all(`DESCRIBE SELECT * FROM ${scan(lake)}`);
  const expected = [
    ['probe', 'VARCHAR'], ['exporter_ip', 'VARCHAR'], ['src_ip', 'VARCHAR'], ['dst_ip', 'VARCHAR'],
    ['src_port', 'INTEGER'], ['dst_port', 'INTEGER'], ['protocol', 'INTEGER'], ['ip_version', 'INTEGER'],
    ['l7_master', 'INTEGER'], ['l7_app', 'INTEGER'], ['l7_name', 'VARCHAR'], ['in_bytes', 'BIGINT'],
    ['out_bytes', 'BIGINT'], ['in_pkts', 'BIGINT'], ['out_pkts', 'BIGINT'],
    ['start_time', 'TIMESTAMP WITH TIME ZONE'], ['end_time', 'TIMESTAMP WITH TIME ZONE'],
    ['duration_ms', 'BIGINT'], ['tcp_flags', 'INTEGER'], ['client_tcp_flags', 'INTEGER'],
    ['server_tcp_flags', 'INTEGER'], ['src_mac', 'VARCHAR'], ['dst_mac', 'VARCHAR'], ['vlan', 'INTEGER'],
    ['input_snmp', 'INTEGER'], ['output_snmp', 'INTEGER'], ['src_tos', 'INTEGER'], ['min_ttl', 'INTEGER'],
    ['max_ttl', 'INTEGER'], ['icmp_type', 'INTEGER'], ['retransmitted_in_pkts', 'BIGINT'],
    ['retransmitted_out_pkts', 'BIGINT'], ['client_latency_ms', 'DOUBLE'], ['server_latency_ms', 'DOUBLE'],
    ['appl_latency_ms', 'DOUBLE'], ['dns_query', 'VARCHAR'], ['dns_query_type', 'INTEGER'],
    ['dns_ret_code', 'INTEGER'], ['http_url', 'VARCHAR'], ['http_host', 'VARCHAR'], ['http_method', 'VARCHAR'],
    ['http_ret_code', 'INTEGER'], ['tls_server_name', 'VARCHAR'], ['tls_version', 'INTEGER'],
    ['ja3c_hash', 'VARCHAR'], ['ja3s_hash', 'VARCHAR'],
    ['date', 'DATE'], ['hour', 'BIGINT'],
  ];
  assert.deepEqual(cols.map((c) => [c.column_name, c.column_type]), expected);
});

test('labels.ndjson: every column of every flow', async () => {
  const lake = tmpDir('labels');
  const s = ingest(sample('labels.ndjson'), lake);
  assert.equal(s.flows_read, 4);
  assert.equal(s.flows_written, 4);
  assert.equal(s.rejected, 0);
  const rows = await lakeRows(lake);
  assert.equal(rows.length, 4);
  const [dns, tls, quic, http] = rows;  // ordered by start time
  assertRow(dns, {
    probe: 'dc1-probe-a', exporter_ip: '192.0.2.10', src_ip: '10.20.1.15', dst_ip: '10.20.0.2',
    src_port: 40211, dst_port: 53, protocol: 17, ip_version: 4, l7_master: 5, l7_app: 178,
    l7_name: 'DNS.Amazon', in_bytes: 71, out_bytes: 135, in_pkts: 1, out_pkts: 1,
    start_ms: 1764579600512, end_ms: 1764579600531, duration_ms: 19, tcp_flags: 0,
    src_mac: '00:25:90:d4:cc:f9', dst_mac: '00:00:5e:00:53:01', vlan: 0,
    dns_query: 's3.us-east-1.amazonaws.com', dns_query_type: 1, dns_ret_code: 0,
  }, 'dns');
  assertRow(tls, {
    probe: 'dc1-probe-a', exporter_ip: '192.0.2.10', src_ip: '10.20.1.15', dst_ip: '203.0.113.80',
    src_port: 51544, dst_port: 443, protocol: 6, ip_version: 4, l7_master: 91, l7_app: 126,
    l7_name: 'TLS.Google', in_bytes: 1874, out_bytes: 48211, in_pkts: 14, out_pkts: 39,
    start_ms: 1764579601123, end_ms: 1764579604877, duration_ms: 3754, tcp_flags: 27,
    client_tcp_flags: 27, server_tcp_flags: 26, src_mac: '00:25:90:d4:cc:f9',
    dst_mac: '00:00:5e:00:53:01', vlan: 0, input_snmp: 3, output_snmp: 7, src_tos: 0,
    min_ttl: 63, max_ttl: 64, retransmitted_in_pkts: 0, retransmitted_out_pkts: 1,
    client_latency_ms: 0.412, server_latency_ms: 11.907, appl_latency_ms: 23.5,
    tls_server_name: 'www.google.com', tls_version: 772,
    ja3c_hash: 'cd08e31494f9531f560d64c695473da9', ja3s_hash: '15af977ce25de452b96affa2addb1036',
  }, 'tls');
  assertRow(quic, {
    probe: 'dc1-probe-b', src_ip: '2001:db8:10::15', dst_ip: '2001:db8:ff::443',
    src_port: 60001, dst_port: 443, protocol: 17, ip_version: 6, l7_master: 188, l7_app: 0,
    l7_name: 'QUIC', in_bytes: 9120, out_bytes: 310022, in_pkts: 12, out_pkts: 231,
    start_ms: 1764579610000, end_ms: 1764579642000, duration_ms: 32000,
    src_mac: '00:25:90:11:22:33', dst_mac: '00:00:5e:00:53:02',
  }, 'quic');
  assertRow(http, {
    probe: 'dc1-probe-b', src_ip: '10.20.3.4', dst_ip: '198.51.100.7', src_port: 50112,
    dst_port: 80, protocol: 6, ip_version: 4, l7_master: 7, l7_app: 0, l7_name: 'HTTP',
    in_bytes: 512, out_bytes: 20480, in_pkts: 5, out_pkts: 16, start_ms: 1764583199900,
    end_ms: 1764583200300, duration_ms: 400, http_url: '/search?q="flows"&lang=fr-\u00e9',
    http_host: 'example.org', http_method: 'GET', http_ret_code: 200,
  }, 'http');
  // Partitions come from start_time in UTC.
  const parts = await db.all(`SELECT DISTINCT date::VARCHAR AS d, hour FROM ${scan(lake)}`);
  assert.deepEqual(parts, [{ d: '2025-12-01', hour: 9n }]);
});

test('numeric-keys.ndjson: element ids, PEN-qualified ids, numbers as strings', async () => {
  const lake = tmpDir('numeric');
  const s = ingest(sample('numeric-keys.ndjson'), lake);
  assert.equal(s.flows_written, 2);
  assert.ok(s.unknown_fields >= 1, 'key "42" is unknown and counted');
  const [ssh, mdns] = await lakeRows(lake);
  assertRow(ssh, {
    probe: 'edge-7', src_ip: '10.1.1.20', dst_ip: '192.0.2.200', src_port: 44321, dst_port: 22,
    protocol: 6, ip_version: 4, in_bytes: 5120, in_pkts: 40, out_bytes: 88231, out_pkts: 71,
    start_ms: 1764579700000, end_ms: 1764579760250, duration_ms: 60250, tcp_flags: 27,
    client_tcp_flags: 2, server_tcp_flags: 18, l7_master: 92, l7_app: 0, l7_name: 'SSH',
    client_latency_ms: 1.25, server_latency_ms: 3.5,
  }, 'ssh');
  assertRow(mdns, {
    src_ip: '10.1.1.21', dst_ip: '192.0.2.201', src_port: 5353, dst_port: 5353, protocol: 17,
    ip_version: 4, in_bytes: 420, in_pkts: 3, out_bytes: 0, out_pkts: 0,
    start_ms: 1764579705000, end_ms: 1764579706000, duration_ms: 1000, l7_master: 8, l7_app: 0,
    l7_name: 'MDNS', exporter_ip: '192.0.2.1',
  }, 'mdns');
});

test('batch.json: a JSON array of flows with counters as strings', async () => {
  const lake = tmpDir('batch');
  const s = ingest(sample('batch.json'), lake);
  assert.equal(s.flows_written, 2);
  const [smb, icmp] = await lakeRows(lake);
  assertRow(smb, {
    probe: 'dc2', src_ip: '172.16.5.5', dst_ip: '172.16.0.10', src_port: 49822, dst_port: 445,
    protocol: 6, ip_version: 4, l7_master: 41, l7_app: 0, l7_name: 'SMBv23', in_bytes: 20480,
    in_pkts: 30, out_bytes: 1024000, out_pkts: 700, start_ms: 1764579800000,
    end_ms: 1764579830000, duration_ms: 30000,
  }, 'smb');
  assertRow(icmp, {
    probe: 'dc2', src_ip: '172.16.5.6', dst_ip: '8.8.8.8', protocol: 1, ip_version: 4,
    icmp_type: 2048, l7_master: 81, l7_app: 0, l7_name: 'ICMP', in_bytes: 84, in_pkts: 1,
    out_bytes: 84, out_pkts: 1, start_ms: 1764579801000, end_ms: 1764579801020, duration_ms: 20,
  }, 'icmp');
});

test('bad.ndjson: bad records are dead-lettered with reasons, good ones kept', async () => {
  const lake = tmpDir('bad');
  const s = ingest(sample('bad.ndjson'), lake);
  assert.equal(s.flows_read, 5);
  assert.equal(s.flows_written, 2);
  assert.equal(s.rejected, 3);
  assert.equal(s.field_errors, 1);
  const rows = await lakeRows(lake);
  assertRow(rows[0], {
    probe: 'dc1', src_ip: '10.0.0.1', dst_ip: '10.0.0.2', protocol: 6, ip_version: 4,
    start_ms: 1764579900000, end_ms: 1764579900100, duration_ms: 100,
  }, 'line 1');
  assertRow(rows[1], {
    probe: 'dc1', src_ip: '10.0.0.3', dst_ip: '10.0.0.4', ip_version: 4, start_ms: 1764579900200,
  }, 'line 5 (dst_port "http" is null)');

  const rejected = listFiles(path.join(lake, '_rejected'));
  assert.equal(rejected.length, 1);
  const entries = fs.readFileSync(rejected[0], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  entries.sort((a, b) => a.line - b.line);
  assert.deepEqual(entries.map((e) => e.line), [2, 3, 4]);
  const lines = fs.readFileSync(sample('bad.ndjson'), 'utf8').split('\n');
  for (const e of entries) {
    assert.equal(e.source, sample('bad.ndjson'));
    assert.equal(e.record.trim(), lines[e.line - 1].trim(), `record text of line ${e.line}`);
    const offset = lines.slice(0, e.line - 1).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    assert.equal(e.offset, offset, `byte offset of line ${e.line}`);
    assert.ok(e.reason.length > 0);
  }
  assert.match(entries[0].reason, /JSON/i);
  assert.match(entries[1].reason, /object/i);
  assert.match(entries[2].reason, /src|SRC/);
  // Nothing half-written is left behind.
  assert.deepEqual(listFiles(path.join(lake, '_tmp')), []);
});

test('one stream mixing every sample shape, with CRLF and pretty-printed records', async () => {
  const dir = tmpDir('mixed');
  // JSON.stringify would print 7.180 as 7.18: write the number's text by hand.
  const pretty = JSON.stringify([
    { IPV4_SRC_ADDR: '10.9.9.1', IPV4_DST_ADDR: '10.9.9.2', FLOW_START_MILLISECONDS: 1764579999000, L7_PROTO: 'X' },
    { IPV4_SRC_ADDR: '10.9.9.3', IPV4_DST_ADDR: '10.9.9.4', FLOW_START_MILLISECONDS: 1764579999001, L7_PROTO: '7.18' },
  ], null, 2).replace('"X"', '7.180');
  assert.ok(pretty.includes('"L7_PROTO": 7.180') && pretty.split('\n').length > 8);
  const input = [
    fs.readFileSync(sample('labels.ndjson'), 'utf8').trim(),
    fs.readFileSync(sample('batch.json'), 'utf8').trim().replaceAll('\n', '\r\n'),
    fs.readFileSync(sample('bad.ndjson'), 'utf8').trim(),
    pretty,
    fs.readFileSync(sample('numeric-keys.ndjson'), 'utf8').trim(),
  ].join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'in.json'), input);
  const lake = path.join(dir, 'lake');
  const s = ingest(path.join(dir, 'in.json'), lake);
  assert.equal(s.flows_written, 4 + 2 + 2 + 2 + 2);
  assert.equal(s.rejected, 3);
  const l7 = await db.all(`SELECT l7_master, l7_app FROM ${scan(lake)} WHERE src_ip LIKE '10.9.9.%' ORDER BY src_ip`);
  // JSON number 7.180 keeps its text: app 180, not 18.
  assert.deepEqual(l7, [{ l7_master: 7, l7_app: 180 }, { l7_master: 7, l7_app: 18 }]);
});

test('generated traffic: the lake equals DuckDB\'s own reading of the JSON', async () => {
  const dir = tmpDir('generated');
  const input = path.join(dir, 'flows.ndjson');
  const gen = run(['generate', '--flows', '30000', '--seed', '7']);
  assert.equal(gen.code, 0, gen.stderr);
  fs.writeFileSync(input, gen.stdout);
  const lake = path.join(dir, 'lake');
  const s = ingest(input, lake, ['--row-group-rows', '4096']);
  assert.equal(s.flows_read, 30000);
  assert.equal(s.flows_written, 30000);
  assert.equal(s.rejected, 0);

  // DuckDB's JSON reader is the independent decoder here.
  const j = (k) => `nullif(json->>'${k}', '')`;
  const ip = (v4, v6) => `coalesce(nullif(${j(v4)}, '0.0.0.0'), nullif(${j(v6)}, '::'))`;
  const expected = `
    SELECT ${j('PROBEID')} AS probe, ${ip('EXPORTER_IPV4_ADDRESS', 'EXPORTER_IPV6_ADDRESS')} AS exporter_ip,
      ${ip('IPV4_SRC_ADDR', 'IPV6_SRC_ADDR')} AS src_ip, ${ip('IPV4_DST_ADDR', 'IPV6_DST_ADDR')} AS dst_ip,
      ${j('L4_SRC_PORT')}::INT AS src_port, ${j('L4_DST_PORT')}::INT AS dst_port,
      ${j('PROTOCOL')}::INT AS protocol,
      coalesce(${j('IP_PROTOCOL_VERSION')}::INT, CASE WHEN ${j('IPV4_SRC_ADDR')} IS NOT NULL AND ${j('IPV4_SRC_ADDR')} <> '0.0.0.0' THEN 4 ELSE 6 END) AS ip_version,
      split_part(${j('L7_PROTO')}, '.', 1)::INT AS l7_master,
      CASE WHEN ${j('L7_PROTO')} IS NULL THEN NULL WHEN contains(${j('L7_PROTO')}, '.') THEN split_part(${j('L7_PROTO')}, '.', 2)::INT ELSE 0 END AS l7_app,
      ${j('L7_PROTO_NAME')} AS l7_name,
      ${j('IN_BYTES')}::BIGINT AS in_bytes, ${j('OUT_BYTES')}::BIGINT AS out_bytes,
      ${j('IN_PKTS')}::BIGINT AS in_pkts, ${j('OUT_PKTS')}::BIGINT AS out_pkts,
      coalesce(${j('FLOW_START_MILLISECONDS')}::BIGINT, ${j('FIRST_SWITCHED')}::BIGINT * 1000) AS start_ms,
      coalesce(${j('FLOW_END_MILLISECONDS')}::BIGINT, ${j('LAST_SWITCHED')}::BIGINT * 1000) AS end_ms,
      ${j('TCP_FLAGS')}::INT AS tcp_flags, ${j('CLIENT_TCP_FLAGS')}::INT AS client_tcp_flags,
      ${j('SERVER_TCP_FLAGS')}::INT AS server_tcp_flags, lower(${j('IN_SRC_MAC')}) AS src_mac,
      lower(${j('OUT_DST_MAC')}) AS dst_mac, ${j('SRC_VLAN')}::INT AS vlan,
      ${j('INPUT_SNMP')}::INT AS input_snmp, ${j('OUTPUT_SNMP')}::INT AS output_snmp,
      ${j('SRC_TOS')}::INT AS src_tos, ${j('MIN_TTL')}::INT AS min_ttl, ${j('MAX_TTL')}::INT AS max_ttl,
      ${j('ICMP_TYPE')}::INT AS icmp_type,
      ${j('RETRANSMITTED_IN_PKTS')}::BIGINT AS retransmitted_in_pkts,
      ${j('RETRANSMITTED_OUT_PKTS')}::BIGINT AS retransmitted_out_pkts,
      ${j('CLIENT_NW_LATENCY_MS')}::DOUBLE AS client_latency_ms,
      ${j('SERVER_NW_LATENCY_MS')}::DOUBLE AS server_latency_ms,
      ${j('APPL_LATENCY_MS')}::DOUBLE AS appl_latency_ms,
      ${j('DNS_QUERY')} AS dns_query, ${j('DNS_QUERY_TYPE')}::INT AS dns_query_type,
      ${j('DNS_RET_CODE')}::INT AS dns_ret_code, ${j('HTTP_URL')} AS http_url,
      ${j('HTTP_HOST')} AS http_host, ${j('HTTP_METHOD')} AS http_method,
      ${j('HTTP_RET_CODE')}::INT AS http_ret_code,
      coalesce(${j('TLS_SERVER_NAME')}, ${j('SSL_SERVER_NAME')}) AS tls_server_name,
      ${j('TLS_VERSION')}::INT AS tls_version, ${j('JA3C_HASH')} AS ja3c_hash, ${j('JA3S_HASH')} AS ja3s_hash
    FROM read_json_objects(${sqlString(input)}, format = 'newline_delimited')`;
  const actual = `
    SELECT probe, exporter_ip, src_ip, dst_ip, src_port, dst_port, protocol, ip_version, l7_master,
      l7_app, l7_name, in_bytes, out_bytes, in_pkts, out_pkts, epoch_ms(start_time) AS start_ms,
      epoch_ms(end_time) AS end_ms, tcp_flags, client_tcp_flags, server_tcp_flags, src_mac, dst_mac,
      vlan, input_snmp, output_snmp, src_tos, min_ttl, max_ttl, icmp_type, retransmitted_in_pkts,
      retransmitted_out_pkts, client_latency_ms, server_latency_ms, appl_latency_ms, dns_query,
      dns_query_type, dns_ret_code, http_url, http_host, http_method, http_ret_code, tls_server_name,
      tls_version, ja3c_hash, ja3s_hash
    FROM ${scan(lake)}`;
  const [missing] = await db.all(`SELECT count(*) AS n FROM ((${expected}) EXCEPT ALL (${actual}))`);
  const [extra] = await db.all(`SELECT count(*) AS n FROM ((${actual}) EXCEPT ALL (${expected}))`);
  if (missing.n !== 0n) {
    console.error(await db.json(`(${expected}) EXCEPT ALL (${actual}) LIMIT 2`));
    console.error(await db.json(`(${actual}) EXCEPT ALL (${expected}) LIMIT 2`));
  }
  assert.equal(missing.n, 0n, 'flows in the JSON but not in the lake');
  assert.equal(extra.n, 0n, 'flows in the lake but not in the JSON');

  // duration_ms = end - start wherever both are known and ordered.
  const [bad] = await db.all(`SELECT count(*) AS n FROM ${scan(lake)}
    WHERE duration_ms IS DISTINCT FROM CASE WHEN end_time >= start_time THEN epoch_ms(end_time) - epoch_ms(start_time) END`);
  assert.equal(bad.n, 0n);
  // Every row sits in the partition of its start_time (UTC).
  const [misplaced] = await db.all(`SELECT count(*) AS n FROM ${scan(lake)}
    WHERE date <> CAST(to_timestamp(epoch_ms(start_time) / 1000) AT TIME ZONE 'UTC' AS DATE)
       OR hour <> hour(to_timestamp(epoch_ms(start_time) / 1000) AT TIME ZONE 'UTC')`);
  assert.equal(misplaced.n, 0n);
  const parts = await db.all(`SELECT count(DISTINCT (date, hour)) AS n FROM ${scan(lake)}`);
  assert.ok(parts[0].n >= 2n, 'generated traffic spans several hours');

  // Row groups honour --row-group-rows, and statistics bound the data.
  const rg = await db.all(`SELECT file_name, row_group_id, max(row_group_num_rows) AS rows
    FROM parquet_metadata(${sqlString(flowsGlob(lake))}) GROUP BY ALL`);
  assert.ok(rg.length >= 30000 / 4096);
  for (const r of rg) assert.ok(r.rows <= 4096n);
  // Every row group but a file's last holds exactly 4096 rows, so a row's
  // group is file_row_number / 4096; recompute min/max/nulls per group.
  const mismatched = await db.all(`
    WITH truth AS (
      SELECT filename AS file_name, file_row_number // 4096 AS row_group_id,
             min(dst_port)::VARCHAR AS lo, max(dst_port)::VARCHAR AS hi,
             count(*) - count(dst_port) AS nulls,
             min(epoch_ms(start_time)) AS start_lo, max(epoch_ms(start_time)) AS start_hi
      FROM read_parquet(${sqlString(flowsGlob(lake))}, filename = true, file_row_number = true)
      GROUP BY ALL),
    meta AS (
      SELECT file_name, row_group_id, path_in_schema AS col, stats_min_value AS lo,
             stats_max_value AS hi, stats_null_count AS nulls
      FROM parquet_metadata(${sqlString(flowsGlob(lake))}))
    SELECT t.*, d.lo AS meta_lo, d.hi AS meta_hi, d.nulls AS meta_nulls,
           s.lo AS meta_start_lo, s.hi AS meta_start_hi
    FROM truth t
    JOIN meta d ON d.file_name = t.file_name AND d.row_group_id = t.row_group_id AND d.col = 'dst_port'
    JOIN meta s ON s.file_name = t.file_name AND s.row_group_id = t.row_group_id AND s.col = 'start_time'
    `);
  assert.equal(mismatched.length, rg.length, 'every row group has dst_port and start_time statistics');
  const wrong = mismatched.filter((r) => r.meta_lo !== r.lo || r.meta_hi !== r.hi ||
    BigInt(r.meta_nulls) !== BigInt(r.nulls) ||
    Date.parse(r.meta_start_lo.replace(' ', 'T').replace(/\+00$/, 'Z')) !== Number(r.start_lo) ||
    Date.parse(r.meta_start_hi.replace(' ', 'T').replace(/\+00$/, 'Z')) !== Number(r.start_hi));
  assert.deepEqual(wrong, []);
  const [groups] = await db.all(`SELECT count(*) AS n FROM (SELECT DISTINCT file_name, row_group_id
    FROM parquet_metadata(${sqlString(flowsGlob(lake))}))`);
  assert.equal(Number(groups.n), rg.length);
});

test('compression options produce the named codec, and the same data', async () => {
  const dir = tmpDir('codecs');
  const gen = run(['generate', '--flows', '5000', '--seed', '3']);
  const input = path.join(dir, 'in.ndjson');
  fs.writeFileSync(input, gen.stdout);
  const counts = {};
  for (const [flag, codec] of [['zstd', 'ZSTD'], ['snappy', 'SNAPPY'], ['none', 'UNCOMPRESSED']]) {
    const lake = path.join(dir, flag);
    ingest(input, lake, ['--compression', flag]);
    const codecs = await db.all(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(flowsGlob(lake))})`);
    assert.deepEqual(codecs.map((c) => c.compression), [codec]);
    const [h] = await db.all(`SELECT count(*) AS n, sum(hash(src_ip, dst_port, start_time, http_url)) AS h FROM ${scan(lake)}`);
    counts[flag] = `${h.n}/${h.h}`;
  }
  assert.equal(counts.zstd, counts.snappy);
  assert.equal(counts.zstd, counts.none);
});

test('stdin input and the summary line', async () => {
  const lake = tmpDir('stdin');
  const r = run(['ingest', '--input', '-', '--lake', lake, '--no-sync'],
    { input: fs.readFileSync(sample('labels.ndjson')) });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  for (const k of ['flows_read', 'flows_written', 'rejected', 'files', 'seconds']) assert.ok(k in s, k);
  assert.equal(s.flows_written, 4);
  assert.equal(s.files, listFiles(path.join(lake, 'flows')).length);
  const [c] = await db.all(`SELECT count(*) AS n FROM ${scan(lake)}`);
  assert.equal(c.n, 4n);
});

test('exit codes: 0 help, 2 usage or config, 1 runtime failure', () => {
  assert.equal(run(['--help']).code, 0);
  assert.equal(run(['ingest', '--help']).code, 0);
  assert.equal(run(['generate', '--help']).code, 0);
  assert.equal(run([]).code, 2);
  assert.equal(run(['ingest', '--input', sample('labels.ndjson')]).code, 2);
  const badCodec = run(['ingest', '--input', sample('labels.ndjson'), '--lake', tmpDir('x'), '--compression', 'lz5']);
  assert.equal(badCodec.code, 2);
  assert.match(badCodec.stderr, /lz5/);
  assert.equal(run(['ingest', '--input', sample('labels.ndjson'), '--lake', tmpDir('x'), '--row-group-rows', '0']).code, 2);
  const missing = run(['ingest', '--input', '/nonexistent/in.json', '--lake', tmpDir('x')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /\/nonexistent\/in\.json/);
  const unwritable = run(['ingest', '--input', sample('labels.ndjson'), '--lake', '/proc/flowlake']);
  assert.equal(unwritable.code, 1);
});

test('the lake does not depend on the number of threads', async () => {
  const dir = tmpDir('threads');
  const input = path.join(dir, 'in.ndjson');
  fs.writeFileSync(input, run(['generate', '--flows', '20000', '--seed', '11', '--keys', 'mixed']).stdout);
  const digests = [];
  for (const threads of ['1', '2', '3']) {
    const lake = path.join(dir, `t${threads}`);
    const s = ingest(input, lake, ['--threads', threads]);
    assert.equal(s.flows_written, 20000);
    // An order-independent digest of every row, all 46 columns.
    const [d] = await db.all(`SELECT count(*) AS n, sum(hash(t)::HUGEINT)::VARCHAR AS h
      FROM (SELECT * EXCLUDE (date, hour) FROM ${scan(lake)}) t`);
    digests.push(`${d.n}/${d.h}`);
  }
  assert.equal(digests[1], digests[0]);
  assert.equal(digests[2], digests[0]);
});
