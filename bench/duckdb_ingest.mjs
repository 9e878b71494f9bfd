// The peer: DuckDB turning the same nProbe JSON into the same 46-column,
// date/hour-partitioned, zstd Parquet lake. Used by bench/ingest.
//   node bench/duckdb_ingest.mjs INPUT.ndjson OUT_DIR
import { createRequire } from 'node:module';
const require = createRequire(new URL('../test/package.json', import.meta.url));
const { DuckDBInstance } = require('@duckdb/node-api');

const [input, out] = process.argv.slice(2);
const q = (s) => "'" + s.replaceAll("'", "''") + "'";

// Every source key typed explicitly: auto-detection would sample and could
// miss keys; explicit columns are also what a careful user would write.
const keys = {
  PROBEID: 'VARCHAR', EXPORTER_IPV4_ADDRESS: 'VARCHAR', EXPORTER_IPV6_ADDRESS: 'VARCHAR',
  IPV4_SRC_ADDR: 'VARCHAR', IPV4_DST_ADDR: 'VARCHAR', IPV6_SRC_ADDR: 'VARCHAR', IPV6_DST_ADDR: 'VARCHAR',
  L4_SRC_PORT: 'INTEGER', L4_DST_PORT: 'INTEGER', PROTOCOL: 'INTEGER', IP_PROTOCOL_VERSION: 'INTEGER',
  L7_PROTO: 'VARCHAR', L7_PROTO_NAME: 'VARCHAR', IN_BYTES: 'BIGINT', OUT_BYTES: 'BIGINT',
  IN_PKTS: 'BIGINT', OUT_PKTS: 'BIGINT', FLOW_START_MILLISECONDS: 'BIGINT', FLOW_END_MILLISECONDS: 'BIGINT',
  FIRST_SWITCHED: 'BIGINT', LAST_SWITCHED: 'BIGINT', TCP_FLAGS: 'INTEGER', CLIENT_TCP_FLAGS: 'INTEGER',
  SERVER_TCP_FLAGS: 'INTEGER', IN_SRC_MAC: 'VARCHAR', OUT_DST_MAC: 'VARCHAR', SRC_VLAN: 'INTEGER',
  INPUT_SNMP: 'INTEGER', OUTPUT_SNMP: 'INTEGER', SRC_TOS: 'INTEGER', MIN_TTL: 'INTEGER', MAX_TTL: 'INTEGER',
  ICMP_TYPE: 'INTEGER', RETRANSMITTED_IN_PKTS: 'BIGINT', RETRANSMITTED_OUT_PKTS: 'BIGINT',
  CLIENT_NW_LATENCY_MS: 'DOUBLE', SERVER_NW_LATENCY_MS: 'DOUBLE', APPL_LATENCY_MS: 'DOUBLE',
  DNS_QUERY: 'VARCHAR', DNS_QUERY_TYPE: 'INTEGER', DNS_RET_CODE: 'INTEGER', HTTP_URL: 'VARCHAR',
  HTTP_HOST: 'VARCHAR', HTTP_METHOD: 'VARCHAR', HTTP_RET_CODE: 'INTEGER', TLS_SERVER_NAME: 'VARCHAR',
  TLS_VERSION: 'INTEGER', JA3C_HASH: 'VARCHAR', JA3S_HASH: 'VARCHAR',
};
const columns = '{' + Object.entries(keys).map(([k, t]) => `${k}: '${t}'`).join(', ') + '}';
const ip = (v4, v6) => `coalesce(nullif(nullif(${v4}, ''), '0.0.0.0'), nullif(nullif(${v6}, ''), '::'))`;
const s = (k) => `nullif(${k}, '')`;
const sql = `
COPY (
  SELECT ${s('PROBEID')} AS probe, ${ip('EXPORTER_IPV4_ADDRESS', 'EXPORTER_IPV6_ADDRESS')} AS exporter_ip,
    ${ip('IPV4_SRC_ADDR', 'IPV6_SRC_ADDR')} AS src_ip, ${ip('IPV4_DST_ADDR', 'IPV6_DST_ADDR')} AS dst_ip,
    L4_SRC_PORT AS src_port, L4_DST_PORT AS dst_port, PROTOCOL AS protocol,
    coalesce(IP_PROTOCOL_VERSION, CASE WHEN IPV4_SRC_ADDR NOT IN ('', '0.0.0.0') THEN 4 ELSE 6 END) AS ip_version,
    TRY_CAST(split_part(L7_PROTO, '.', 1) AS INTEGER) AS l7_master,
    CASE WHEN contains(L7_PROTO, '.') THEN TRY_CAST(split_part(L7_PROTO, '.', 2) AS INTEGER) WHEN L7_PROTO IS NOT NULL THEN 0 END AS l7_app,
    ${s('L7_PROTO_NAME')} AS l7_name, IN_BYTES AS in_bytes, OUT_BYTES AS out_bytes,
    IN_PKTS AS in_pkts, OUT_PKTS AS out_pkts,
    make_timestamp(coalesce(FLOW_START_MILLISECONDS, FIRST_SWITCHED * 1000) * 1000)::TIMESTAMPTZ AS start_time,
    make_timestamp(coalesce(FLOW_END_MILLISECONDS, LAST_SWITCHED * 1000) * 1000)::TIMESTAMPTZ AS end_time,
    coalesce(FLOW_END_MILLISECONDS, LAST_SWITCHED * 1000) - coalesce(FLOW_START_MILLISECONDS, FIRST_SWITCHED * 1000) AS duration_ms,
    TCP_FLAGS AS tcp_flags, CLIENT_TCP_FLAGS AS client_tcp_flags, SERVER_TCP_FLAGS AS server_tcp_flags,
    lower(${s('IN_SRC_MAC')}) AS src_mac, lower(${s('OUT_DST_MAC')}) AS dst_mac, SRC_VLAN AS vlan,
    INPUT_SNMP AS input_snmp, OUTPUT_SNMP AS output_snmp, SRC_TOS AS src_tos, MIN_TTL AS min_ttl,
    MAX_TTL AS max_ttl, ICMP_TYPE AS icmp_type, RETRANSMITTED_IN_PKTS AS retransmitted_in_pkts,
    RETRANSMITTED_OUT_PKTS AS retransmitted_out_pkts, CLIENT_NW_LATENCY_MS AS client_latency_ms,
    SERVER_NW_LATENCY_MS AS server_latency_ms, APPL_LATENCY_MS AS appl_latency_ms,
    ${s('DNS_QUERY')} AS dns_query, DNS_QUERY_TYPE AS dns_query_type, DNS_RET_CODE AS dns_ret_code,
    ${s('HTTP_URL')} AS http_url, ${s('HTTP_HOST')} AS http_host, ${s('HTTP_METHOD')} AS http_method,
    HTTP_RET_CODE AS http_ret_code, coalesce(${s('TLS_SERVER_NAME')}, NULL) AS tls_server_name,
    TLS_VERSION AS tls_version, ${s('JA3C_HASH')} AS ja3c_hash, ${s('JA3S_HASH')} AS ja3s_hash,
    CAST(start_time AT TIME ZONE 'UTC' AS DATE) AS date, hour(start_time AT TIME ZONE 'UTC') AS hour
  FROM read_json(${q(input)}, format = 'newline_delimited', columns = ${columns})
) TO ${q(out)} (FORMAT parquet, PARTITION_BY (date, hour), COMPRESSION zstd)`;

const db = await DuckDBInstance.create(':memory:', {
  threads: '2', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false',
});
const conn = await db.connect();
await conn.run("SET TimeZone = 'UTC'");
await conn.run(sql);
