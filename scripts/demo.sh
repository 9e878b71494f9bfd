#!/usr/bin/env bash
# The demo, no outside server needed:
#   1. a synthetic traffic sample -> flowlake ingest -> ./demo-lake;
#   2. an embedded mock Kafka cluster (librdkafka's) with a synthetic nProbe
#      producer publishing to `netflows` at a steady rate, and the service,
#      flowlake run, consuming it into the same lake until Ctrl-C (or
#      DEMO_SECONDS; 150 s when not on a terminal: the producer's attacks
#      fall in the first whole minute of its traffic);
#   3. DuckDB queries over the lake.
set -euo pipefail
BIN=${1:-build/release/flowlake}
FLOWS=${2:-300000}
TESTKAFKA=${TESTKAFKA:-$(dirname "$BIN")/flowlake-testkafka}
# 1000 flows/s: the synthetic network is a mid-size site; much faster, its
# benign heavy hitters really do cross the default detector thresholds.
RATE=${DEMO_RATE:-1000}
if [ -z "${DEMO_SECONDS:-}" ]; then
  if [ -t 0 ]; then DEMO_SECONDS=0; else DEMO_SECONDS=150; fi
fi
mkdir -p demo-data
rm -rf demo-lake

echo "== 1. batch: $FLOWS synthetic nProbe JSON flows with labelled attacks (demo-data/flows.ndjson) -> flowlake ingest"
"$BIN" generate --flows "$FLOWS" --seed 42 --attacks --truth demo-data/truth.jsonl \
  --blocklist-out demo-data/blocklist.txt > demo-data/flows.ndjson
ls -lh demo-data/flows.ndjson | awk '{print "   " $5 " of JSON"}'
echo "   first record:"
head -c 600 demo-data/flows.ndjson | head -n 1 | cut -c1-400 | sed 's/^/   /'
"$BIN" ingest --input demo-data/flows.ndjson --lake demo-lake --blocklist demo-data/blocklist.txt \
  | tee demo-data/summary.json
echo "   detections against the generator's ground truth (bench/detect_score.mjs):"
node bench/detect_score.mjs demo-data/truth.jsonl demo-lake | sed 's/^/   /'

echo "== 2. streaming: mock Kafka + a producer at $RATE flows/s -> flowlake run -> ./demo-lake"
rm -f demo-data/bootstrap
# Its own session, so Ctrl-C stops the service (which then commits) and not Kafka.
# The producer's attacks fall in the one whole minute of its 150 s of traffic.
setsid "$TESTKAFKA" --topic netflows:8 --topic netflows-events:1 --bootstrap-file demo-data/bootstrap \
  --produce netflows --rate "$RATE" --flows $((RATE * 150)) --attacks \
  > /dev/null 2> demo-data/testkafka.log &
KAFKA_PID=$!
trap 'kill "$KAFKA_PID" 2> /dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s demo-data/bootstrap ] && break; sleep 0.1; done
BS=$(cat demo-data/bootstrap)
echo "   mock cluster at $BS, topic netflows (8 partitions); attacks injected within 2.5 minutes"
# Detections as they are published, read back from netflows-events by kcat.
setsid kcat -b "$BS" -C -t netflows-events -o end -u -q \
  -f '   >> event on netflows-events (key %k): %s\n' 2> /dev/null &
KCAT_PID=$!
trap 'kill "$KAFKA_PID" "$KCAT_PID" 2> /dev/null || true' EXIT
if [ "$DEMO_SECONDS" = 0 ]; then
  echo "   consuming until Ctrl-C (commits every 10 s; query the lake meanwhile from another shell)"
  DURATION=()
else
  echo "   consuming for $DEMO_SECONDS s (DEMO_SECONDS=0 runs until Ctrl-C)"
  DURATION=(--duration-s "$DEMO_SECONDS")
fi
echo "   flowlake run --brokers $BS --topic netflows --group flowlake --lake demo-lake --commit-interval-s 10"
# The service handles SIGINT itself (stop consuming, commit, exit 0); the
# script waits for it and goes on.
trap '' INT
"$BIN" run --brokers "$BS" --topic netflows --group flowlake --lake demo-lake \
  --blocklist demo-data/blocklist.txt --commit-interval-s 10 --stats-interval-s 5 "${DURATION[@]}" \
  -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 | tee demo-data/run-summary.json
trap - INT
kill "$KAFKA_PID" "$KCAT_PID" 2> /dev/null || true

echo "== 3. the lake"
find demo-lake/flows -name '*.parquet' | sort | tail -n 8 | sed 's/^/   /'
echo "   commit log: $(ls demo-lake/_flowlake/log | wc -l) file(s) in demo-lake/_flowlake/log; the latest:"
ls demo-lake/_flowlake/log | tail -n 1 | xargs -I{} cut -c1-300 demo-lake/_flowlake/log/{} | sed 's/^/   /'
du -sh demo-lake | awk '{print "   " $1 " on disk"}'

Q="node test/tools/lake-query.mjs demo-lake"
echo "== DuckDB: flows per partition (the 2025 sample from the file, today's from Kafka)"
$Q "SELECT date::VARCHAR AS date, hour, count(*) AS flows, sum(in_bytes + out_bytes) AS bytes FROM flows GROUP BY ALL ORDER BY ALL"
echo "== DuckDB: top applications by traffic"
$Q "SELECT l7_name, count(*) AS flows, sum(in_bytes + out_bytes) AS bytes FROM flows GROUP BY ALL ORDER BY bytes DESC LIMIT 8"
echo "== DuckDB: detections in the lake (events/, NDJSON), by type"
$Q "SELECT type, severity, count(*) AS events FROM events GROUP BY ALL ORDER BY ALL"
echo "== DuckDB: the busiest hosts of the last minutes (rollups/host_1m_parquet)"
$Q "SELECT window_start, host, bytes_sent + bytes_received AS bytes, peers_contacted, top_l7 FROM rollups ORDER BY window_start DESC, bytes DESC LIMIT 5"
echo "== DuckDB: top talkers"
$Q "SELECT src_ip, count(*) AS flows, sum(in_bytes) AS sent FROM flows GROUP BY ALL ORDER BY sent DESC LIMIT 5"

cat <<'HELP'
== query it yourself
   node test/tools/lake-query.mjs demo-lake "SELECT * FROM flows LIMIT 5"
   duckdb -c "SELECT count(*) FROM read_parquet('demo-lake/flows/**/*.parquet', hive_partitioning=true)"
   spark.read.parquet("demo-lake/flows")      # Spark discovers date/hour partitions
== run the service against your own Kafka
   build/release/flowlake config --print-defaults > flowlake.toml   # edit brokers, lake path
   build/release/flowlake run --config flowlake.toml
HELP
