#!/usr/bin/env bash
# The demo: synthetic nProbe traffic -> flowlake ingest -> ./demo-lake -> DuckDB.
set -euo pipefail
BIN=${1:-build/release/flowlake}
FLOWS=${2:-300000}
mkdir -p demo-data
rm -rf demo-lake

echo "== generating $FLOWS synthetic nProbe JSON flows (demo-data/flows.ndjson)"
"$BIN" generate --flows "$FLOWS" --seed 42 > demo-data/flows.ndjson
ls -lh demo-data/flows.ndjson | awk '{print "   " $5 " of JSON"}'
echo "   first record:"
head -c 600 demo-data/flows.ndjson | head -n 1 | cut -c1-400 | sed 's/^/   /'

echo "== ingesting into ./demo-lake"
"$BIN" ingest --input demo-data/flows.ndjson --lake demo-lake | tee demo-data/summary.json

echo "== the lake"
find demo-lake -name '*.parquet' | sort | head -n 20 | sed 's/^/   /'
du -sh demo-lake | awk '{print "   " $1 " on disk"}'

Q="node test/tools/lake-query.mjs demo-lake"
echo "== DuckDB: flows per partition"
$Q "SELECT date::VARCHAR AS date, hour, count(*) AS flows, sum(in_bytes + out_bytes) AS bytes FROM flows GROUP BY ALL ORDER BY ALL"
echo "== DuckDB: top applications by traffic"
$Q "SELECT l7_name, count(*) AS flows, sum(in_bytes + out_bytes) AS bytes FROM flows GROUP BY ALL ORDER BY bytes DESC LIMIT 8"
echo "== DuckDB: top talkers"
$Q "SELECT src_ip, count(*) AS flows, sum(in_bytes) AS sent FROM flows GROUP BY ALL ORDER BY sent DESC LIMIT 5"

cat <<'HELP'
== query it yourself
   node test/tools/lake-query.mjs demo-lake "SELECT * FROM flows LIMIT 5"
   duckdb -c "SELECT count(*) FROM read_parquet('demo-lake/flows/**/*.parquet', hive_partitioning=true)"
   spark.read.parquet("demo-lake/flows")      # Spark discovers date/hour partitions
HELP
