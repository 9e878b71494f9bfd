// analysis_writer_fixture DIR: writes a small lake of host rollups and
// events into DIR with AnalysisWriter (direct mode), for
// test/analysis_duckdb.test.mjs, which holds the same values as its golden
// rows and reads the files back with DuckDB. Change both together.
//
// Two flushes: the first writes record 0 alone, the second the others and
// the events, so the first partition holds two files of each kind.
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "lake/analysis_writer.h"

namespace flowlake {
namespace {

constexpr int64_t kDec1 = 1764547200000;  // 2025-12-01T00:00:00Z
constexpr int64_t kMinuteMs = 60000;

HostRollupRecord Record(int64_t window_start_ms, std::string host) {
  HostRollupRecord r;
  r.window_start_ms = window_start_ms;
  r.window_end_ms = window_start_ms + kMinuteMs;
  r.host = std::move(host);
  return r;
}

std::vector<HostRollupRecord> Records() {
  std::vector<HostRollupRecord> out;
  HostRollupRecord r = Record(kDec1 + 7 * kMinuteMs, "10.0.0.1");  // 2025-12-01T00:07:00Z
  r.flows_as_src = 5;
  r.flows_as_dst = 2;
  r.bytes_sent = 123456789012;
  r.bytes_received = 42;
  r.pkts_sent = 1000;
  r.pkts_received = 7;
  r.peers_contacted = 3;
  r.peers_contacting = 1;
  r.dst_ports_contacted = 2;
  r.tcp_syn_only_as_src = 1;
  r.top_l7 = {{"TLS.Google", 1000}, {"DNS", 24}};
  r.avg_duration_ms = 12.25;
  r.probes = {"p1", "p2"};
  r.peers_contacted_sketch = std::string("\x01\x01\x0c\x01\x00\x00\x00\x00\x00\x00\x00", 11);
  r.peers_contacting_sketch = std::string("\x01\x01\x0c", 3);
  r.dst_ports_contacted_sketch = std::string("\x02\xff\x00", 3);
  out.push_back(r);

  // Nothing seen: zero counts, empty exact counters (what Serialize() gives).
  const std::string empty_counter("\x01\x01\x0c", 3);
  r = Record(kDec1 + 7 * kMinuteMs, "2001:db8::1");
  r.peers_contacted_sketch = r.peers_contacting_sketch = r.dst_ports_contacted_sketch =
      empty_counter;
  out.push_back(r);

  r = Record(kDec1 + (24 * 60 - 1) * kMinuteMs, "other");  // 2025-12-01T23:59:00Z
  r.flows_as_src = 1;
  r.bytes_sent = std::numeric_limits<int64_t>::max();
  r.top_l7 = {{"Ünïcode \"q\" \\b", 9}};
  r.avg_duration_ms = 0.1;
  r.probes = {"dc-1 \"x\""};
  r.peers_contacted_sketch = "\xab\xcd";
  r.peers_contacting_sketch = r.dst_ports_contacted_sketch = empty_counter;
  out.push_back(r);

  r = Record(kDec1 + 25 * 60 * kMinuteMs, "192.168.1.1");  // 2025-12-02T01:00:00Z
  r.flows_as_dst = 4;
  r.bytes_received = 4096;
  r.pkts_received = 4;
  r.peers_contacting = 4;
  r.avg_duration_ms = 3.0;
  r.probes = {"p3"};
  r.peers_contacted_sketch = r.dst_ports_contacted_sketch = empty_counter;
  r.peers_contacting_sketch = std::string("\x01\x01\x0c", 3) + std::string(32, '\x11');
  r.correction = true;
  out.push_back(r);
  return out;
}

int Run(const std::string& dir) {
  AnalysisWriterConfig config;
  config.root = dir;
  config.sync = false;
  if (Status st = config.Validate(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  AnalysisWriter writer(config, "fixture");
  const std::vector<HostRollupRecord> records = Records();
  Status st = writer.AddRollups({records[0]});
  if (st.ok()) st = writer.Flush();
  if (st.ok()) st = writer.AddRollups({records.begin() + 1, records.end()});
  if (st.ok()) {
    st = writer.AddEvent(kDec1 + 7 * kMinuteMs,
                         R"({"kind":"port_scan","host":"10.0.0.1","ports":120})");
  }
  if (st.ok()) {
    st = writer.AddEvent(kDec1 + 8 * kMinuteMs,
                         "{\"kind\":\"syn_flood\",\"host\":\"10.0.0.2\",\"note\":\"ü \\\"q\\\"\"}");
  }
  if (st.ok()) {
    st = writer.AddEvent(kDec1 + 25 * 60 * kMinuteMs,
                         R"({"kind":"blocklisted_peer","host":"192.168.1.1","score":0.5})");
  }
  if (st.ok()) st = writer.Flush();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace flowlake

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: analysis_writer_fixture DIR\n");
    return 2;
  }
  return flowlake::Run(argv[1]);
}
