#include "stream/host_rollups.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stream/hash.h"

namespace flowlake {
namespace {

constexpr int64_t kT0 = 1764547200000;  // 2025-12-01T00:00:00Z
constexpr int64_t kMin = 60000;
constexpr const char* kA = "10.0.0.1";
constexpr const char* kB = "10.0.0.2";

struct TestFlow {
  std::optional<std::string> probe = "p1";
  std::optional<std::string> src = kA;
  std::optional<std::string> dst = kB;
  std::optional<int32_t> dst_port = 443;
  std::optional<int32_t> protocol = 6;
  std::optional<std::string> l7;
  std::optional<int64_t> in_bytes = 0;
  std::optional<int64_t> out_bytes = 0;
  std::optional<int64_t> in_pkts = 0;
  std::optional<int64_t> out_pkts = 0;
  std::optional<int64_t> start = kT0;
  std::optional<int64_t> end;  // null: same as start
  std::optional<int64_t> duration;
  std::optional<int32_t> tcp_flags;
};

void Append(FlowBatch& b, const TestFlow& f) {
  for (size_t c = 0; c < kFlowColumnCount; ++c) {
    Column& col = b.column(c);
    const auto str = [&](const std::optional<std::string>& v) {
      col.AppendStringOrNull(v.value_or(""), v.has_value());
    };
    const auto i32 = [&](std::optional<int32_t> v) { col.AppendInt32OrNull(v.value_or(0), v.has_value()); };
    const auto i64 = [&](std::optional<int64_t> v) { col.AppendInt64OrNull(v.value_or(0), v.has_value()); };
    switch (c) {
      case kProbe: str(f.probe); break;
      case kSrcIp: str(f.src); break;
      case kDstIp: str(f.dst); break;
      case kDstPort: i32(f.dst_port); break;
      case kProtocol: i32(f.protocol); break;
      case kL7Name: str(f.l7); break;
      case kInBytes: i64(f.in_bytes); break;
      case kOutBytes: i64(f.out_bytes); break;
      case kInPkts: i64(f.in_pkts); break;
      case kOutPkts: i64(f.out_pkts); break;
      case kStartTime: i64(f.start); break;
      case kEndTime: i64(f.end); break;
      case kDurationMs: i64(f.duration); break;
      case kTcpFlags: i32(f.tcp_flags); break;
      default: col.AppendNull();
    }
  }
}

FlowBatch Batch(const std::vector<TestFlow>& flows) {
  FlowBatch b;
  for (const TestFlow& f : flows) Append(b, f);
  return b;
}

// Consumes `flows` in one batch, flushes, returns every record.
std::vector<HostRollupRecord> RunAll(const std::vector<TestFlow>& flows, RollupConfig config = {},
                                     RollupStats* stats = nullptr) {
  ManualClock clock;
  HostRollups rollups(config, clock);
  rollups.Consume(Batch(flows));
  rollups.Flush();
  if (stats != nullptr) *stats = rollups.stats();
  return rollups.TakeClosed();
}

std::string Sketch(const std::vector<uint64_t>& hashes) {
  DistinctCounter c;
  for (uint64_t h : hashes) c.Add(h);
  return c.Serialize();
}

const HostRollupRecord* Find(const std::vector<HostRollupRecord>& rs, int64_t window_start,
                             std::string_view host) {
  for (const auto& r : rs) {
    if (r.window_start_ms == window_start && r.host == host) return &r;
  }
  return nullptr;
}

TEST(RollupConfigTest, ValidateNamesTheField) {
  EXPECT_TRUE(RollupConfig{}.Validate().ok());
  RollupConfig c;
  c.window_ms = 0;
  EXPECT_EQ(c.Validate().message(), "rollup window_ms must be > 0, got 0");
  c = {};
  c.lateness_ms = -1;
  EXPECT_EQ(c.Validate().message(), "rollup lateness_ms must be >= 0, got -1");
  c = {};
  c.max_hosts_per_window = 0;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c = {};
  c.max_spread_ms = 86400001;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
}

// Two hosts, three flows in one minute: every field by hand.
TEST(HostRollupsTest, KnownAnswersForTwoHosts) {
  const std::vector<TestFlow> flows = {
      // A -> B, TLS, SYN|ACK|PSH: not SYN-only.
      {.probe = "p1", .src = kA, .dst = kB, .dst_port = 443, .protocol = 6, .l7 = "TLS",
       .in_bytes = 1000, .out_bytes = 5000, .in_pkts = 10, .out_pkts = 8, .start = kT0 + 1000,
       .end = kT0 + 3000, .duration = 2000, .tcp_flags = 0x1A},
      // A -> B, HTTP, a lone SYN.
      {.probe = "p2", .src = kA, .dst = kB, .dst_port = 80, .protocol = 6, .l7 = "HTTP",
       .in_bytes = 60, .out_bytes = 0, .in_pkts = 1, .out_pkts = 0, .start = kT0 + 5000,
       .end = kT0 + 5000, .duration = 0, .tcp_flags = 0x02},
      // B -> A, DNS over UDP; the duration comes from end - start.
      {.probe = "p1", .src = kB, .dst = kA, .dst_port = 53, .protocol = 17, .l7 = "DNS",
       .in_bytes = 100, .out_bytes = 200, .in_pkts = 1, .out_pkts = 1, .start = kT0 + 10000,
       .end = kT0 + 10010},
  };
  RollupStats stats;
  const auto rs = RunAll(flows, {}, &stats);
  ASSERT_EQ(rs.size(), 2u);

  HostRollupRecord a;
  a.window_start_ms = kT0;
  a.window_end_ms = kT0 + kMin;
  a.host = kA;
  a.flows_as_src = 2;
  a.flows_as_dst = 1;
  a.bytes_sent = 1000 + 60 + 200;  // in_bytes as src, out_bytes as dst
  a.bytes_received = 5000 + 0 + 100;
  a.pkts_sent = 10 + 1 + 1;
  a.pkts_received = 8 + 0 + 1;
  a.peers_contacted = 1;
  a.peers_contacting = 1;
  a.dst_ports_contacted = 2;
  a.peers_contacted_sketch = Sketch({HashBytes(kB)});
  a.peers_contacting_sketch = Sketch({HashBytes(kB)});
  a.dst_ports_contacted_sketch = Sketch({HashU64(443), HashU64(80)});
  a.tcp_syn_only_as_src = 1;
  a.top_l7 = {{"TLS", 6000}, {"DNS", 300}, {"HTTP", 60}};
  a.avg_duration_ms = (2000 + 0 + 10) / 3.0;
  a.probes = {"p1", "p2"};
  EXPECT_EQ(rs[0], a);

  HostRollupRecord b = a;
  b.host = kB;
  b.flows_as_src = 1;
  b.flows_as_dst = 2;
  b.bytes_sent = 5000 + 0 + 100;
  b.bytes_received = 1000 + 60 + 200;
  b.pkts_sent = 8 + 0 + 1;
  b.pkts_received = 10 + 1 + 1;
  b.dst_ports_contacted = 1;
  b.peers_contacted_sketch = Sketch({HashBytes(kA)});
  b.peers_contacting_sketch = Sketch({HashBytes(kA)});
  b.dst_ports_contacted_sketch = Sketch({HashU64(53)});
  b.tcp_syn_only_as_src = 0;
  EXPECT_EQ(rs[1], b);

  const std::string json = ToNdjson(rs[0]);
  const std::string prefix =
      R"({"window_start":"2025-12-01T00:00:00Z","window_end":"2025-12-01T00:01:00Z",)"
      R"("host":"10.0.0.1","flows_as_src":2,"flows_as_dst":1,"bytes_sent":1260,)"
      R"("bytes_received":5100,"pkts_sent":12,"pkts_received":9,"peers_contacted":1,)"
      R"("peers_contacting":1,"dst_ports_contacted":2,"tcp_syn_only_as_src":1,)"
      R"("top_l7":[{"name":"TLS","bytes":6000},{"name":"DNS","bytes":300},)"
      R"({"name":"HTTP","bytes":60}],"avg_duration_ms":670,"probes":["p1","p2"],)"
      R"("peers_contacted_sketch":"01010c)";
  EXPECT_EQ(json.substr(0, prefix.size()), prefix);
  EXPECT_NE(json.find(R"("dst_ports_contacted_sketch":"01010c)"), std::string::npos);
  EXPECT_EQ(json.back(), '}');
  EXPECT_EQ(json.find('\n'), std::string::npos);

  EXPECT_EQ(stats.flows, 3u);
  EXPECT_EQ(stats.windows_closed, 1u);
  EXPECT_EQ(stats.records, 2u);
  EXPECT_EQ(stats.late_flows, 0u);
}

TEST(HostRollupsTest, NullSidesAndCountersAreSkipped) {
  const auto rs = RunAll({
      {.src = kA, .dst = std::nullopt, .dst_port = std::nullopt, .in_bytes = 10,
       .out_bytes = std::nullopt, .in_pkts = std::nullopt, .out_pkts = 2},
      {.probe = std::nullopt, .src = std::nullopt, .dst = kA, .in_bytes = 7},
  });
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].host, kA);
  EXPECT_EQ(rs[0].flows_as_src, 1);
  EXPECT_EQ(rs[0].flows_as_dst, 1);
  EXPECT_EQ(rs[0].bytes_sent, 10);
  EXPECT_EQ(rs[0].bytes_received, 7 + 0);
  EXPECT_EQ(rs[0].pkts_sent, 0);
  EXPECT_EQ(rs[0].pkts_received, 2);
  EXPECT_EQ(rs[0].peers_contacted, 0u);
  EXPECT_EQ(rs[0].peers_contacting, 0u);
  EXPECT_EQ(rs[0].dst_ports_contacted, 0u);
  EXPECT_FALSE(rs[0].avg_duration_ms.has_value());
  EXPECT_EQ(rs[0].probes, std::vector<std::string>{"p1"});
  EXPECT_EQ(ToNdjson(rs[0]).find(R"("avg_duration_ms":null,)") != std::string::npos, true);
}

TEST(HostRollupsTest, NullStartTimeIsCountedAndDropped) {
  RollupStats stats;
  const auto rs = RunAll({{.in_bytes = 5, .start = std::nullopt}}, {}, &stats);
  EXPECT_TRUE(rs.empty());
  EXPECT_EQ(stats.flows_without_start, 1u);
}

TEST(HostRollupsTest, SynOnlyNeedsTcpSynWithoutAck) {
  const auto rs = RunAll({
      {.protocol = 6, .tcp_flags = 0x02},           // SYN: yes
      {.protocol = 6, .tcp_flags = 0x06},           // SYN|RST: yes
      {.protocol = 6, .tcp_flags = 0x12},           // SYN|ACK: no
      {.protocol = 6, .tcp_flags = 0x00},           // no
      {.protocol = 6, .tcp_flags = std::nullopt},   // no
      {.protocol = 17, .tcp_flags = 0x02},          // not TCP: no
      {.protocol = std::nullopt, .tcp_flags = 0x02},  // no
  });
  ASSERT_NE(Find(rs, kT0, kA), nullptr);
  EXPECT_EQ(Find(rs, kT0, kA)->tcp_syn_only_as_src, 2);
  EXPECT_EQ(Find(rs, kT0, kB)->tcp_syn_only_as_src, 0);  // never counted as dst
}

TEST(HostRollupsTest, TopL7IsFiveByBytesThenName) {
  std::vector<TestFlow> flows;
  const std::vector<std::pair<std::string, int64_t>> l7 = {
      {"a", 10}, {"c", 50}, {"b", 50}, {"d", 30}, {"e", 20}, {"f", 5}, {"g", 40}, {"a", 15}};
  for (const auto& [name, bytes] : l7) flows.push_back({.l7 = name, .in_bytes = bytes});
  flows.push_back({.l7 = std::nullopt, .in_bytes = 1000});  // no name: not listed
  const auto rs = RunAll(flows);
  const std::vector<L7Bytes> want = {{"b", 50}, {"c", 50}, {"g", 40}, {"d", 30}, {"a", 25}};
  EXPECT_EQ(Find(rs, kT0, kA)->top_l7, want);
  EXPECT_EQ(Find(rs, kT0, kB)->top_l7, want);
}

// 00:00:30 to 00:03:30: 30 s, 60 s, 60 s, 30 s of 180 s.
TEST(HostRollupsTest, SpreadsBytesOfAThreeMinuteFlowByOverlap) {
  RollupStats stats;
  const auto rs = RunAll({{.l7 = "QUIC", .in_bytes = 1800, .out_bytes = 1, .in_pkts = 7,
                           .out_pkts = 0, .start = kT0 + 30000, .end = kT0 + 210000,
                           .duration = 180000}},
                         {}, &stats);
  ASSERT_EQ(rs.size(), 8u);
  // Cumulative floors: in_bytes 300|900|1500|1800, in_pkts 1|3|5|7, out_bytes 0|0|0|1.
  const int64_t sent[] = {300, 600, 600, 300};
  const int64_t pkts[] = {1, 2, 2, 2};
  const int64_t recv[] = {0, 0, 0, 1};
  for (int m = 0; m < 4; ++m) {
    SCOPED_TRACE(m);
    const HostRollupRecord* a = Find(rs, kT0 + m * kMin, kA);
    const HostRollupRecord* b = Find(rs, kT0 + m * kMin, kB);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(a->bytes_sent, sent[m]);
    EXPECT_EQ(a->pkts_sent, pkts[m]);
    EXPECT_EQ(a->bytes_received, recv[m]);
    EXPECT_EQ(b->bytes_received, sent[m]);
    EXPECT_EQ(b->pkts_received, pkts[m]);
    EXPECT_EQ(b->bytes_sent, recv[m]);
    EXPECT_EQ(a->top_l7, (std::vector<L7Bytes>{{"QUIC", sent[m] + recv[m]}}));
    // Flow count, peers, ports and duration: the start minute only.
    EXPECT_EQ(a->flows_as_src, m == 0 ? 1 : 0);
    EXPECT_EQ(b->flows_as_dst, m == 0 ? 1 : 0);
    EXPECT_EQ(a->peers_contacted, m == 0 ? 1u : 0u);
    EXPECT_EQ(a->dst_ports_contacted, m == 0 ? 1u : 0u);
    EXPECT_EQ(a->avg_duration_ms.has_value(), m == 0);
  }
  EXPECT_EQ(stats.late_bytes, 0);
}

TEST(HostRollupsTest, LateFlowsAreCountedAndDropped) {
  ManualClock clock;
  HostRollups rollups({}, clock);  // lateness 2 min
  rollups.Consume(Batch({{.in_bytes = 1, .start = kT0 + 5 * kMin}}));
  EXPECT_EQ(rollups.stats().watermark_ms, kT0 + 3 * kMin);
  EXPECT_TRUE(rollups.TakeClosed().empty());  // nothing was open before

  rollups.Consume(Batch({
      // Minute 1 is closed: all of it is late.
      {.in_bytes = 100, .start = kT0 + kMin + 10000},
      // Minute 2 closed, minute 3 open: half is late, half still counts.
      {.in_bytes = 600, .start = kT0 + 2 * kMin + 30000, .end = kT0 + 3 * kMin + 30000},
      // Starts exactly at the watermark: minute 3 is still open.
      {.src = "10.0.0.9", .in_bytes = 5, .start = kT0 + 3 * kMin},
  }));
  EXPECT_EQ(rollups.stats().late_flows, 2u);
  EXPECT_EQ(rollups.stats().late_bytes, 100 + 300);
  rollups.Flush();
  const auto rs = rollups.TakeClosed();
  const HostRollupRecord* a3 = Find(rs, kT0 + 3 * kMin, kA);
  ASSERT_NE(a3, nullptr);
  EXPECT_EQ(a3->bytes_sent, 300);
  EXPECT_EQ(a3->flows_as_src, 0);  // its flow count belonged to closed minute 2
  const HostRollupRecord* late_src = Find(rs, kT0 + 3 * kMin, "10.0.0.9");
  ASSERT_NE(late_src, nullptr);
  EXPECT_EQ(late_src->flows_as_src, 1);
  EXPECT_EQ(Find(rs, kT0 + kMin, kA), nullptr);
  EXPECT_EQ(Find(rs, kT0 + 2 * kMin, kA), nullptr);
  EXPECT_NE(Find(rs, kT0 + 5 * kMin, kA), nullptr);
}

TEST(HostRollupsTest, IdleTickClosesWindowsByWallTime) {
  ManualClock clock(1000000);
  RollupConfig config;  // lateness 120 s, idle timeout 10 s
  HostRollups rollups(config, clock);
  rollups.Consume(Batch({{.in_bytes = 1, .start = kT0 + 10000}}));
  // Minute 0 closes once last_start + idle - lateness >= its end:
  // idle >= 60 s - 10 s + 120 s = 170 s.
  clock.AdvanceMs(9999);
  rollups.Tick();  // not idle yet
  EXPECT_EQ(rollups.stats().watermark_ms, kT0 + 10000 - 120000);
  EXPECT_EQ(rollups.stats().idle_advances, 0u);
  clock.AdvanceMs(1);
  rollups.Tick();
  EXPECT_EQ(rollups.stats().watermark_ms, kT0 + 10000 + 10000 - 120000);
  EXPECT_EQ(rollups.stats().idle_advances, 1u);
  clock.AdvanceMs(169999 - 10000);
  rollups.Tick();
  EXPECT_TRUE(rollups.TakeClosed().empty());
  clock.AdvanceMs(1);
  rollups.Tick();
  const auto rs = rollups.TakeClosed();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].window_start_ms, kT0);
  EXPECT_EQ(rollups.stats().windows_closed, 1u);
  // The watermark never goes back: an older flow is now late.
  rollups.Consume(Batch({{.start = kT0 + 20000}}));
  EXPECT_EQ(rollups.stats().late_flows, 1u);
}

TEST(HostRollupsTest, HostCapFoldsTheRestIntoOther) {
  RollupConfig config;
  config.max_hosts_per_window = 2;
  RollupStats stats;
  const auto rs = RunAll(
      {
          {.src = kA, .dst = kB, .in_bytes = 1},
          {.src = "10.0.0.3", .dst = "10.0.0.4", .in_bytes = 10},
          {.src = "10.0.0.5", .dst = kA, .in_bytes = 100},
          {.src = "10.0.0.3", .dst = kB, .in_bytes = 1000},
      },
      config, &stats);
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].host, kA);
  EXPECT_EQ(rs[1].host, kB);
  EXPECT_EQ(rs[2].host, "other");
  EXPECT_EQ(rs[0].flows_as_src, 1);
  EXPECT_EQ(rs[0].flows_as_dst, 1);
  EXPECT_EQ(rs[0].bytes_received, 100);
  EXPECT_EQ(rs[1].bytes_received, 1 + 1000);
  EXPECT_EQ(rs[2].flows_as_src, 3);  // .3 twice, .5 once
  EXPECT_EQ(rs[2].flows_as_dst, 1);  // .4
  EXPECT_EQ(rs[2].bytes_sent, 10 + 100 + 1000);
  EXPECT_EQ(rs[2].bytes_received, 10);
  EXPECT_EQ(rs[2].peers_contacted, 3u);  // .4, A, B
  EXPECT_EQ(stats.overflow_hosts, 3u);  // .3, .4, .5
}

TEST(HostRollupsTest, DistinctCountsAreExactUnderTheBound) {
  std::vector<TestFlow> flows;
  for (int rep = 0; rep < 2; ++rep) {
    for (int i = 0; i < 250; ++i) {
      flows.push_back({.src = kA, .dst = "10.1.0." + std::to_string(i % 200),
                       .dst_port = 1000 + i, .start = kT0 + rep * 1000 + i});
    }
  }
  const auto rs = RunAll(flows);
  const HostRollupRecord* a = Find(rs, kT0, kA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->flows_as_src, 500);
  EXPECT_EQ(a->peers_contacted, 200u);
  EXPECT_EQ(a->dst_ports_contacted, 250u);
  EXPECT_EQ(static_cast<uint8_t>(a->dst_ports_contacted_sketch[0]), DistinctCounter::kTagExact);
  const HostRollupRecord* peer = Find(rs, kT0, "10.1.0.7");
  ASSERT_NE(peer, nullptr);
  EXPECT_EQ(peer->flows_as_dst, 4);  // i = 7 and 207, in both passes
}

// Same flows, batches of 1, 7 and 1000, TakeClosed after each batch: the same
// NDJSON, byte for byte, although many flows are late and span minutes.
// `n` flows between 40 sources and 40 destinations, starting `step_ms` apart
// give or take up to `jitter_ms` (earlier), lasting up to 4 minutes.
std::vector<TestFlow> RandomFlows(int n, uint64_t seed, int64_t step_ms, int64_t jitter_ms) {
  std::vector<TestFlow> flows;
  uint64_t state = seed;
  const auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  for (int i = 0; i < n; ++i) {
    const int64_t start = kT0 + i * step_ms - static_cast<int64_t>(next(jitter_ms));
    flows.push_back({.probe = next(2) == 0 ? "p1" : "p2",
                     .src = "10.0.0." + std::to_string(next(40)),
                     .dst = "10.0.1." + std::to_string(next(40)),
                     .dst_port = static_cast<int32_t>(next(100)),
                     .protocol = next(2) == 0 ? 6 : 17,
                     .l7 = "app" + std::to_string(next(8)),
                     .in_bytes = static_cast<int64_t>(next(100000)),
                     .out_bytes = static_cast<int64_t>(next(100000)),
                     .in_pkts = static_cast<int64_t>(next(100)),
                     .out_pkts = static_cast<int64_t>(next(100)),
                     .start = start,
                     .end = start + static_cast<int64_t>(next(240000)),
                     .duration = next(3) == 0 ? std::nullopt
                                              : std::optional<int64_t>(next(5000)),
                     .tcp_flags = static_cast<int32_t>(next(32))});
  }
  return flows;
}

// Consumes `flows` in batches of `batch_size`, taking the records after each
// and after Flush(); their NDJSON lines.
std::string NdjsonInBatches(const std::vector<TestFlow>& flows, const RollupConfig& config,
                            size_t batch_size, RollupStats* stats = nullptr) {
  ManualClock clock;
  HostRollups rollups(config, clock);
  std::string out;
  for (size_t i = 0; i < flows.size(); i += batch_size) {
    const std::vector<TestFlow> part(flows.begin() + i,
                                     flows.begin() + std::min(flows.size(), i + batch_size));
    rollups.Consume(Batch(part));
    for (const auto& r : rollups.TakeClosed()) out += ToNdjson(r) + "\n";
  }
  rollups.Flush();
  for (const auto& r : rollups.TakeClosed()) out += ToNdjson(r) + "\n";
  if (stats != nullptr) *stats = rollups.stats();
  return out;
}

TEST(HostRollupsTest, OutputDoesNotDependOnBatchSize) {
  const std::vector<TestFlow> flows = RandomFlows(3000, 42, 200, 180000);
  RollupConfig config;
  config.lateness_ms = 60000;
  config.max_hosts_per_window = 60;
  std::vector<std::string> outputs;
  std::vector<uint64_t> late;
  for (const size_t batch_size : {1, 7, 1000}) {
    RollupStats stats;
    outputs.push_back(NdjsonInBatches(flows, config, batch_size, &stats));
    late.push_back(stats.late_flows);
  }
  EXPECT_GT(late[0], 100u);  // lateness matters in this stream
  EXPECT_GT(outputs[0].size(), 10000u);
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_EQ(outputs[0], outputs[2]);
  EXPECT_EQ(late[0], late[1]);
  EXPECT_EQ(late[0], late[2]);
}

// Two Kafka partitions of one stream, the first read to its end before the
// second (a backlog): with the batches naming their partition and the
// assigned ones, the watermark waits for the partition behind and the
// records are those of the stream read in order; without, the second
// partition's flows are late.
TEST(HostRollupsTest, APartitionReadAheadDoesNotMakeAnothersFlowsLate) {
  const std::vector<TestFlow> flows = RandomFlows(2000, 7, 900, 1);  // 30 minutes, in order
  RollupConfig config;
  const std::string in_order = NdjsonInBatches(flows, config, 1000);
  const auto sorted_lines = [](const std::string& text) {
    std::vector<std::string> lines;
    size_t at = 0;
    for (size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
      lines.push_back(text.substr(at, nl - at));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  };
  const FlowBatch::SourceSet assigned =
      std::make_shared<const std::vector<uint32_t>>(std::vector<uint32_t>{1, 2});
  for (const bool tagged : {true, false}) {
    SCOPED_TRACE(tagged ? "batches name their partition" : "untagged batches");
    ManualClock clock;
    HostRollups rollups(config, clock);
    std::string out;
    for (const uint32_t partition : {1u, 2u}) {
      for (size_t i = 0; i < flows.size(); i += 250) {
        FlowBatch b;
        if (tagged) {
          b.BeginSource(partition);
          b.set_expected_sources(assigned);
        }
        for (size_t j = i; j < i + 250; ++j) {
          if (j % 2 == partition - 1) Append(b, flows[j]);  // even flows to 1, odd to 2
        }
        rollups.Consume(b);
        for (const auto& r : rollups.TakeClosed()) out += ToNdjson(r) + "\n";
      }
    }
    rollups.Flush();
    for (const auto& r : rollups.TakeClosed()) out += ToNdjson(r) + "\n";
    if (tagged) {
      EXPECT_EQ(rollups.stats().late_flows, 0u);
      const std::vector<std::string> got = sorted_lines(out);
      const std::vector<std::string> want = sorted_lines(in_order);
      EXPECT_GT(want.size(), 1000u);
      EXPECT_EQ(got.size(), want.size());
      EXPECT_TRUE(got == want);
    } else {
      EXPECT_GT(rollups.stats().late_flows, 800u);
    }
  }
}

TEST(HostRollupsTest, RecordsAreOrderedByWindowThenHost) {
  const auto rs = RunAll({
      {.src = "10.0.0.9", .dst = kB, .start = kT0 + kMin},
      {.src = "10.0.0.8", .dst = kA, .start = kT0},
  });
  std::vector<std::pair<int64_t, std::string>> got;
  for (const auto& r : rs) got.emplace_back(r.window_start_ms, r.host);
  const std::vector<std::pair<int64_t, std::string>> want = {
      {kT0, kA}, {kT0, "10.0.0.8"}, {kT0 + kMin, kB}, {kT0 + kMin, "10.0.0.9"}};
  EXPECT_EQ(got, want);
}

// Host names of every length from 1 to 48 bytes (the table compares and
// hashes them by words), many sharing long prefixes or differing only in the
// last byte or in length, with more L7 names and probes per host than are
// kept inline: each is its own host, and the records are ordered by name.
TEST(HostRollupsTest, HostsOfEveryLengthAndSharedPrefixesStayApart) {
  const std::string base = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff:0123:45";
  std::vector<std::string> hosts;
  for (size_t len = 1; len <= 48; ++len) {
    std::string h = (base + base).substr(0, len);
    hosts.push_back(h);
    h.back() = h.back() == 'z' ? 'y' : 'z';  // same length, other last byte
    hosts.push_back(h);
  }
  hosts.push_back(std::string("10.0.0.1\0", 9));  // an embedded NUL: not "10.0.0.1"
  std::vector<TestFlow> flows;
  for (size_t i = 0; i < hosts.size(); ++i) {
    for (size_t k = 0; k <= i % 5; ++k) {
      flows.push_back({.probe = "p" + std::to_string((i + k) % 4),
                       .src = hosts[i],
                       .dst = kA,
                       .l7 = "L7." + std::to_string(k),
                       .in_bytes = static_cast<int64_t>(10 * (k + 1))});
    }
  }
  const auto rs = RunAll(flows);
  ASSERT_EQ(rs.size(), hosts.size() + 1);
  std::vector<std::string> got;
  for (const auto& r : rs) got.push_back(r.host);
  std::vector<std::string> want = hosts;
  want.emplace_back(kA);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  for (size_t i = 0; i < hosts.size(); ++i) {
    const HostRollupRecord* r = Find(rs, kT0, hosts[i]);
    ASSERT_NE(r, nullptr) << i;
    const auto n = static_cast<int64_t>(i % 5 + 1);
    EXPECT_EQ(r->flows_as_src, n) << i;
    EXPECT_EQ(r->bytes_sent, 5 * n * (n + 1)) << i;
    EXPECT_EQ(r->peers_contacted, 1u) << i;
    ASSERT_EQ(r->top_l7.size(), static_cast<size_t>(n)) << i;
    for (int64_t k = 0; k < n; ++k) {  // bytes descending
      EXPECT_EQ(r->top_l7[k].name, "L7." + std::to_string(n - 1 - k)) << i;
      EXPECT_EQ(r->top_l7[k].bytes, 10 * (n - k)) << i;
    }
    std::vector<std::string> probes;
    for (int64_t k = 0; k < std::min<int64_t>(n, 4); ++k) {
      probes.push_back("p" + std::to_string((i + k) % 4));
    }
    std::sort(probes.begin(), probes.end());
    EXPECT_EQ(r->probes, probes) << i;
  }
  const HostRollupRecord* a = Find(rs, kT0, kA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->flows_as_dst, static_cast<int64_t>(flows.size()));
  EXPECT_EQ(a->peers_contacting, hosts.size());
  EXPECT_EQ(a->probes, (std::vector<std::string>{"p0", "p1", "p2", "p3"}));
}

std::string Ndjson(const std::vector<HostRollupRecord>& records) {
  std::string out;
  for (const auto& r : records) out += ToNdjson(r) + "\n";
  return out;
}

void ExpectSameStats(const RollupStats& a, const RollupStats& b) {
  EXPECT_EQ(a.flows, b.flows);
  EXPECT_EQ(a.flows_without_start, b.flows_without_start);
  EXPECT_EQ(a.late_flows, b.late_flows);
  EXPECT_EQ(a.late_bytes, b.late_bytes);
  EXPECT_EQ(a.late_pkts, b.late_pkts);
  EXPECT_EQ(a.long_flows_unspread, b.long_flows_unspread);
  EXPECT_EQ(a.windows_closed, b.windows_closed);
  EXPECT_EQ(a.records, b.records);
  EXPECT_EQ(a.overflow_hosts, b.overflow_hosts);
  EXPECT_EQ(a.watermark_ms, b.watermark_ms);
  EXPECT_EQ(a.idle_advances, b.idle_advances);
  EXPECT_EQ(a.late_dropped, b.late_dropped);
  EXPECT_EQ(a.corrections_emitted, b.corrections_emitted);
}

// Small enough that some counters pass the exact bound and become
// HyperLogLog, and some windows fold hosts into "other".
RollupConfig SnapshotTestConfig() {
  RollupConfig config;
  config.lateness_ms = 60000;
  config.max_hosts_per_window = 60;
  config.distinct.precision = 8;
  config.distinct.exact_limit = 16;
  return config;
}

// The handover of docs/commit-protocol.md: a process consumes the start of a
// stream and dies after its snapshot; the next one merges the snapshot and
// consumes the rest. Together they emit what one process would have, byte
// for byte, wherever the stream was cut: under kCorrection too, with
// corrections pending at some cuts.
TEST(HostRollupsStateTest, SplitAnywhereEqualsOneProcess) {
  const std::vector<TestFlow> flows = RandomFlows(3000, 7, 200, 180000);
  for (const auto policy :
       {RollupConfig::LatePolicy::kDrop, RollupConfig::LatePolicy::kCorrection}) {
    const bool correct = policy == RollupConfig::LatePolicy::kCorrection;
    SCOPED_TRACE(correct ? "kCorrection" : "kDrop");
    RollupConfig config = SnapshotTestConfig();
    config.late_policy = policy;
    ManualClock clock;
    HostRollups one(config, clock);
    one.Consume(Batch(flows));
    one.Flush();
    const std::string want = Ndjson(one.TakeClosed());
    ASSERT_GT(one.stats().late_flows, 100u);
    ASSERT_GT(one.stats().overflow_hosts, 0u);
    ASSERT_NE(want.find("\"peers_contacted_sketch\":\"02"), std::string::npos);  // HyperLogLog
    ASSERT_EQ(one.stats().corrections_emitted > 100u, correct);

    size_t pending = 0;  // corrections pending in a snapshot
    for (const size_t cut : {size_t{0}, size_t{1}, size_t{17}, size_t{1000}, size_t{1001},
                             size_t{2222}, size_t{2999}, size_t{3000}}) {
      SCOPED_TRACE(cut);
      const std::vector<TestFlow> a(flows.begin(), flows.begin() + cut);
      const std::vector<TestFlow> b(flows.begin() + cut, flows.end());
      HostRollups r1(config, clock);
      if (!a.empty()) r1.Consume(Batch(a));
      std::string got = Ndjson(r1.TakeClosed());
      const std::string bytes = r1.SaveState();
      r1.Flush();
      for (const auto& r : r1.TakeClosed()) pending += r.correction ? 1 : 0;
      HostRollups r2(config, clock);
      ASSERT_TRUE(r2.MergeState(bytes).ok());
      EXPECT_EQ(r2.SaveState(), bytes);  // round trip, pending corrections included
      if (!b.empty()) r2.Consume(Batch(b));
      r2.Flush();
      got += Ndjson(r2.TakeClosed());
      EXPECT_EQ(got, want);
      ExpectSameStats(r2.stats(), one.stats());
    }
    EXPECT_EQ(pending > 0, correct);
  }
}

// Two live processes that each consumed half of a stream (interleaved, all
// within lateness) merge into one with the sums of one process and distinct
// counts that are the DistinctCounter merge of the halves.
TEST(HostRollupsStateTest, MergingDisjointHalvesSumsAndMergesSketches) {
  RollupConfig config = SnapshotTestConfig();
  config.lateness_ms = 3600000;  // nothing is late in either half
  config.max_hosts_per_window = 1000;
  const std::vector<TestFlow> flows = RandomFlows(2000, 11, 100, 30000);
  std::vector<TestFlow> even, odd;
  for (size_t i = 0; i < flows.size(); ++i) (i % 2 == 0 ? even : odd).push_back(flows[i]);
  ManualClock clock;
  HostRollups p1(config, clock), p2(config, clock), merged(config, clock), one(config, clock);
  p1.Consume(Batch(even));
  p2.Consume(Batch(odd));
  one.Consume(Batch(flows));
  ASSERT_TRUE(merged.MergeState(p1.SaveState()).ok());
  ASSERT_TRUE(merged.MergeState(p2.SaveState()).ok());
  EXPECT_EQ(merged.stats().flows, 2000u);
  merged.Flush();
  one.Flush();
  p1.Flush();
  p2.Flush();
  const auto got = merged.TakeClosed();
  const auto want = one.TakeClosed();
  EXPECT_EQ(Ndjson(got), Ndjson(want));
  EXPECT_EQ(merged.stats().late_flows, 0u);

  const auto half1 = p1.TakeClosed();
  const auto half2 = p2.TakeClosed();
  size_t hll = 0;
  for (const HostRollupRecord& r : got) {
    const HostRollupRecord* x = Find(half1, r.window_start_ms, r.host);
    const HostRollupRecord* y = Find(half2, r.window_start_ms, r.host);
    ASSERT_TRUE(x != nullptr || y != nullptr) << r.host;
    EXPECT_EQ(r.flows_as_src, (x ? x->flows_as_src : 0) + (y ? y->flows_as_src : 0));
    EXPECT_EQ(r.bytes_sent, (x ? x->bytes_sent : 0) + (y ? y->bytes_sent : 0));
    EXPECT_EQ(r.pkts_received, (x ? x->pkts_received : 0) + (y ? y->pkts_received : 0));
    DistinctCounter c(config.distinct);
    for (const HostRollupRecord* part : {x, y}) {
      if (part == nullptr) continue;
      auto d = DistinctCounter::Deserialize(part->peers_contacted_sketch, config.distinct);
      ASSERT_TRUE(d.ok());
      ASSERT_TRUE(c.Merge(*d).ok());
    }
    EXPECT_EQ(r.peers_contacted_sketch, c.Serialize());
    EXPECT_EQ(r.peers_contacted, c.Count());
    if (!c.is_exact()) ++hll;
  }
  EXPECT_GT(hll, 0u);
}

TEST(HostRollupsStateTest, EmptyState) {
  ManualClock clock;
  HostRollups empty(RollupConfig{}, clock);
  const std::string bytes = empty.SaveState();
  EXPECT_LT(bytes.size(), 32u);
  HostRollups r(RollupConfig{}, clock);
  ASSERT_TRUE(r.MergeState(bytes).ok());
  EXPECT_EQ(r.SaveState(), bytes);
  EXPECT_EQ(r.stats().watermark_ms, INT64_MIN);
  clock.AdvanceMs(3600000);
  r.Tick();
  r.Flush();
  EXPECT_TRUE(r.TakeClosed().empty());
  EXPECT_EQ(r.stats().idle_advances, 0u);
}

TEST(HostRollupsStateTest, SaveMergeSaveRoundTrip) {
  const RollupConfig config = SnapshotTestConfig();
  ManualClock clock;
  HostRollups r1(config, clock);
  r1.Consume(Batch(RandomFlows(1500, 3, 200, 180000)));
  const std::string bytes = r1.SaveState();
  HostRollups r2(config, clock);
  ASSERT_TRUE(r2.MergeState(bytes).ok());
  EXPECT_EQ(r2.SaveState(), bytes);
  ExpectSameStats(r2.stats(), r1.stats());
}

TEST(HostRollupsStateTest, MergingItselfDoublesSumsNotDistinctCounts) {
  ManualClock clock;
  HostRollups r(RollupConfig{}, clock);
  r.Consume(Batch({{.dst_port = 80, .in_bytes = 100, .in_pkts = 2, .duration = 10},
                   {.dst = "10.0.0.3", .dst_port = 443, .in_bytes = 50, .duration = 40}}));
  ASSERT_TRUE(r.MergeState(r.SaveState()).ok());
  EXPECT_EQ(r.stats().flows, 4u);
  r.Flush();
  const auto rs = r.TakeClosed();
  const HostRollupRecord* a = Find(rs, kT0, kA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->flows_as_src, 4);
  EXPECT_EQ(a->bytes_sent, 300);
  EXPECT_EQ(a->pkts_sent, 4);
  EXPECT_EQ(a->peers_contacted, 2u);
  EXPECT_EQ(a->dst_ports_contacted, 2u);
  EXPECT_EQ(a->avg_duration_ms, 25.0);
  EXPECT_EQ(a->probes, std::vector<std::string>{"p1"});
}

TEST(HostRollupsStateTest, MergedWatermarkClosesWindowsAndIdleClockRestarts) {
  ManualClock clock;
  RollupConfig config;
  HostRollups old_process(config, clock);
  old_process.Consume(Batch({{.start = kT0}}));
  HostRollups r(config, clock);
  r.Consume(Batch({{.src = "10.0.0.7", .start = kT0 + 10 * kMin}}));
  ASSERT_TRUE(r.TakeClosed().empty());
  // The snapshot's window ended long before r's watermark: it closes at once.
  ASSERT_TRUE(r.MergeState(old_process.SaveState()).ok());
  const auto rs = r.TakeClosed();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].window_start_ms, kT0);
  EXPECT_EQ(r.stats().windows_closed, 1u);

  // A snapshot with a later watermark moves ours, and the idle clock restarts.
  HostRollups newer(config, clock);
  newer.Consume(Batch({{.start = kT0 + 20 * kMin}}));
  clock.AdvanceMs(config.idle_timeout_ms * 5);
  ASSERT_TRUE(r.MergeState(newer.SaveState()).ok());
  EXPECT_EQ(r.stats().watermark_ms, kT0 + 20 * kMin - config.lateness_ms);
  EXPECT_EQ(r.TakeClosed().size(), 2u);  // the window of 10.0.0.7
  clock.AdvanceMs(config.idle_timeout_ms - 1);
  r.Tick();
  EXPECT_EQ(r.stats().idle_advances, 0u);
  clock.AdvanceMs(1);
  r.Tick();
  EXPECT_EQ(r.stats().idle_advances, 1u);
}

TEST(HostRollupsStateTest, HostCapHoldsOnMerge) {
  ManualClock clock;
  RollupConfig config;
  HostRollups full(config, clock);
  full.Consume(Batch({{.src = "10.0.0.5", .dst = "10.0.0.6", .in_bytes = 10}}));
  config.max_hosts_per_window = 1;
  HostRollups small(config, clock);
  ASSERT_TRUE(small.MergeState(full.SaveState()).ok());
  small.Flush();
  const auto rs = small.TakeClosed();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].host, "10.0.0.5");
  EXPECT_EQ(rs[1].host, HostRollupRecord::kOtherHost);
  EXPECT_EQ(rs[1].bytes_received, 10);
  EXPECT_EQ(small.stats().overflow_hosts, 1u);
}

TEST(HostRollupsStateTest, OtherConfigIsInvalidArgument) {
  ManualClock clock;
  HostRollups a(RollupConfig{}, clock);
  RollupConfig other;
  other.window_ms = 30000;
  HostRollups b(other, clock);
  const Status st = b.MergeState(a.SaveState());
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("window_ms 60000"), std::string::npos) << st.message();
}

// Truncations and many random corruptions of a real snapshot: an error
// (or, for some flips, a valid other state), never a crash or a read out of
// bounds (ASan), and on error the state is unchanged.
TEST(HostRollupsStateTest, BadBytesAreErrorsAndLeaveTheStateUnchanged) {
  const RollupConfig config = SnapshotTestConfig();
  ManualClock clock;
  HostRollups source(config, clock);
  source.Consume(Batch(RandomFlows(120, 5, 200, 180000)));
  const std::string good = source.SaveState();
  ASSERT_GT(good.size(), 1000u);

  HostRollups target(config, clock);
  target.Consume(Batch({{.start = kT0}}));
  const std::string before = target.SaveState();
  // Every prefix of the header and first windows and of the end, every 13th
  // in between (each is a full decode: all of them take too long under ASan).
  for (size_t n = 0; n < good.size(); n += (n < 600 || n + 100 > good.size()) ? 1 : 13) {
    const Status st = target.MergeState(std::string_view(good).substr(0, n));
    ASSERT_EQ(st.code(), StatusCode::kCorruption) << n;
    ASSERT_EQ(target.SaveState(), before) << n;
  }
  EXPECT_EQ(target.MergeState(good + '\0').code(), StatusCode::kCorruption);
  const Status magic = target.MergeState("FLHX");
  EXPECT_NE(magic.message().find("magic"), std::string::npos) << magic.message();

  uint64_t rng = 99;
  const auto next = [&](uint64_t n) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (rng >> 33) % n;
  };
  size_t errors = 0;
  for (int i = 0; i < 800; ++i) {
    std::string bad = good;
    const uint64_t flips = 1 + next(3);
    for (uint64_t f = 0; f < flips; ++f) bad[next(bad.size())] ^= static_cast<char>(1 + next(255));
    HostRollups r(config, clock);
    r.Consume(Batch({{.start = kT0}}));
    const Status st = r.MergeState(bad);
    if (!st.ok()) {
      ++errors;
      ASSERT_TRUE(st.code() == StatusCode::kCorruption ||
                  st.code() == StatusCode::kInvalidArgument)
          << st.ToString();
      ASSERT_EQ(r.SaveState(), before);
    } else {
      r.Flush();  // whatever it decoded closes without trouble
      (void)r.TakeClosed();
    }
  }
  EXPECT_GT(errors, 300u);
}

// Late-flow policies (docs/rollups.md, "Late flows").

RollupConfig CorrectionConfig() {
  RollupConfig config;
  config.lateness_ms = 60000;
  config.late_policy = RollupConfig::LatePolicy::kCorrection;
  return config;
}

TEST(HostRollupsLateTest, DropPolicyCountsEveryLateFlowAsDropped) {
  RollupStats stats;
  const auto rs = RunAll({{.start = kT0 + 5 * kMin}, {.in_bytes = 7, .start = kT0}}, {}, &stats);
  EXPECT_EQ(stats.late_flows, 1u);
  EXPECT_EQ(stats.late_dropped, 1u);
  EXPECT_EQ(stats.late_bytes, 7);
  EXPECT_EQ(stats.corrections_emitted, 0u);
  for (const auto& r : rs) EXPECT_FALSE(r.correction);
}

// The sums of a (window, host) over its records: what SQL gets by adding
// partial records and merging their sketches (docs/rollup-sketches.md).
struct MergedRecord {
  int64_t flows_as_src = 0, flows_as_dst = 0, bytes_sent = 0, bytes_received = 0;
  int64_t pkts_sent = 0, pkts_received = 0, tcp_syn_only_as_src = 0;
  double duration_sum_ms = 0;  // avg_duration_ms x flows (every test flow has one)
  std::map<std::string, int64_t> l7;
  std::vector<std::string> probes;
  DistinctCounter peers_contacted, peers_contacting, dst_ports_contacted;
};

using MergedRecords = std::map<std::pair<int64_t, std::string>, MergedRecord>;

void MergeRecords(const std::vector<HostRollupRecord>& records, MergedRecords& out) {
  for (const HostRollupRecord& r : records) {
    MergedRecord& m = out[{r.window_start_ms, r.host}];
    m.flows_as_src += r.flows_as_src;
    m.flows_as_dst += r.flows_as_dst;
    m.bytes_sent += r.bytes_sent;
    m.bytes_received += r.bytes_received;
    m.pkts_sent += r.pkts_sent;
    m.pkts_received += r.pkts_received;
    m.tcp_syn_only_as_src += r.tcp_syn_only_as_src;
    if (r.avg_duration_ms) {
      m.duration_sum_ms += *r.avg_duration_ms * static_cast<double>(r.flows_as_src + r.flows_as_dst);
    }
    for (const L7Bytes& e : r.top_l7) m.l7[e.name] += e.bytes;
    for (const std::string& p : r.probes) {
      if (std::find(m.probes.begin(), m.probes.end(), p) == m.probes.end()) m.probes.push_back(p);
    }
    std::sort(m.probes.begin(), m.probes.end());
    for (const auto& [into, sketch] :
         {std::pair{&m.peers_contacted, &r.peers_contacted_sketch},
          std::pair{&m.peers_contacting, &r.peers_contacting_sketch},
          std::pair{&m.dst_ports_contacted, &r.dst_ports_contacted_sketch}}) {
      auto c = DistinctCounter::Deserialize(*sketch, DistinctCounterConfig{});
      ASSERT_TRUE(c.ok());
      ASSERT_TRUE(into->Merge(*c).ok());
    }
  }
}

// Random flows where the merge is exact: at most 4 L7 names (top_l7 keeps
// 5), a duration on every flow and src != dst (so avg_duration_ms x flows is
// the duration sum).
std::vector<TestFlow> MergeableFlows(int n, uint64_t seed) {
  std::vector<TestFlow> flows = RandomFlows(n, seed, 200, 180000);
  for (size_t i = 0; i < flows.size(); ++i) {
    flows[i].l7 = "app" + std::to_string(i % 4);
    flows[i].duration = static_cast<int64_t>(i % 5000);
  }
  return flows;
}

// The key property: original + correction records add up, per window and
// host, to what a stream without lateness limit gives.
TEST(HostRollupsLateTest, CorrectionsAddUpToTheStreamWithoutLateness) {
  const std::vector<TestFlow> flows = MergeableFlows(3000, 42);
  RollupStats stats;
  const auto got = RunAll(flows, CorrectionConfig(), &stats);
  RollupConfig unlimited;
  unlimited.lateness_ms = int64_t{10} * 86400000;
  RollupStats want_stats;
  const auto want = RunAll(flows, unlimited, &want_stats);
  ASSERT_EQ(want_stats.late_flows, 0u);
  EXPECT_GT(stats.late_flows, 100u);
  EXPECT_EQ(stats.late_dropped, 0u);
  EXPECT_EQ(stats.late_bytes, 0);
  EXPECT_EQ(stats.late_pkts, 0);
  EXPECT_GT(stats.corrections_emitted, 100u);
  EXPECT_EQ(stats.records, got.size());

  MergedRecords g, w;
  MergeRecords(got, g);
  MergeRecords(want, w);
  ASSERT_EQ(g.size(), w.size());
  for (const auto& [key, m] : w) {
    SCOPED_TRACE(key.second + " at " + std::to_string(key.first));
    auto it = g.find(key);
    ASSERT_NE(it, g.end());
    const MergedRecord& x = it->second;
    EXPECT_EQ(x.flows_as_src, m.flows_as_src);
    EXPECT_EQ(x.flows_as_dst, m.flows_as_dst);
    EXPECT_EQ(x.bytes_sent, m.bytes_sent);
    EXPECT_EQ(x.bytes_received, m.bytes_received);
    EXPECT_EQ(x.pkts_sent, m.pkts_sent);
    EXPECT_EQ(x.pkts_received, m.pkts_received);
    EXPECT_EQ(x.tcp_syn_only_as_src, m.tcp_syn_only_as_src);
    EXPECT_NEAR(x.duration_sum_ms, m.duration_sum_ms, 1e-6 * (1 + m.duration_sum_ms));
    EXPECT_EQ(x.l7, m.l7);
    EXPECT_EQ(x.probes, m.probes);
    EXPECT_EQ(x.peers_contacted.Serialize(), m.peers_contacted.Serialize());
    EXPECT_EQ(x.peers_contacting.Serialize(), m.peers_contacting.Serialize());
    EXPECT_EQ(x.dst_ports_contacted.Serialize(), m.dst_ports_contacted.Serialize());
  }

  // A correction comes after the original records of its window (if it had
  // any: the first windows of this stream get only late flows), and a
  // window's correction records never repeat a host within one step (a host
  // gets a second correction only from flows that came later).
  std::map<int64_t, size_t> first_original;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!got[i].correction) first_original.try_emplace(got[i].window_start_ms, i);
  }
  size_t corrections = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!got[i].correction) continue;
    ++corrections;
    const auto original = first_original.find(got[i].window_start_ms);
    if (original != first_original.end()) {
      EXPECT_LT(original->second, i);
    }
    if (i > 0 && got[i - 1].correction) {
      EXPECT_LT(std::pair(got[i - 1].window_start_ms, got[i - 1].host),
                std::pair(got[i].window_start_ms, got[i].host));
    }
  }
  EXPECT_EQ(corrections, stats.corrections_emitted);
}

// Batches of 1, 7 and 1000, taking the queue after each: the same records.
TEST(HostRollupsLateTest, CorrectionsDoNotDependOnBatchSize) {
  const std::vector<TestFlow> flows = RandomFlows(2000, 9, 200, 180000);
  RollupConfig config = CorrectionConfig();
  config.max_hosts_per_window = 60;  // corrections get an "other" too
  std::vector<std::string> outputs;
  for (const size_t batch_size : {1, 7, 1000}) {
    outputs.push_back(NdjsonInBatches(flows, config, batch_size));
  }
  EXPECT_NE(outputs[0].find(R"("host":"other")"), std::string::npos);
  EXPECT_NE(outputs[0].find(R"(,"correction":true})"), std::string::npos);
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_EQ(outputs[0], outputs[2]);
}

TEST(HostRollupsLateTest, CorrectionsComeWithTheNextStepAndPastTheHorizonAreDropped) {
  ManualClock clock;
  RollupConfig config;
  config.lateness_ms = 0;
  config.late_policy = RollupConfig::LatePolicy::kCorrection;
  config.correction_horizon_ms = 2 * kMin;
  HostRollups rollups(config, clock);
  rollups.Consume(Batch({{.in_bytes = 1, .start = kT0 + 9 * kMin},
                         {.in_bytes = 2, .start = kT0 + 10 * kMin}}));
  ASSERT_EQ(rollups.TakeClosed().size(), 2u);  // minute 9
  rollups.Consume(Batch({
      // Minute 9 ended 0 ms before the watermark: corrected.
      {.src = "10.0.0.3", .in_bytes = 10, .start = kT0 + 9 * kMin + 1000},
      // Minute 0 ended 9 minutes before: dropped.
      {.in_bytes = 20, .in_pkts = 3, .start = kT0},
      // Minute 8 ended 1 minute before: corrected (nothing was there).
      {.in_bytes = 40, .start = kT0 + 8 * kMin, .duration = 6},
      // Minute 9 again, same host: adds to its pending correction.
      {.src = "10.0.0.3", .in_bytes = 5, .start = kT0 + 9 * kMin + 2000},
  }));
  EXPECT_TRUE(rollups.TakeClosed().empty());  // no window closed: pending
  EXPECT_EQ(rollups.stats().late_flows, 4u);
  EXPECT_EQ(rollups.stats().late_dropped, 1u);
  EXPECT_EQ(rollups.stats().late_bytes, 20);
  EXPECT_EQ(rollups.stats().late_pkts, 3);

  // Minute 10 closes: the corrections first, in window order, then minute 10.
  rollups.Consume(Batch({{.in_bytes = 3, .start = kT0 + 11 * kMin}}));
  const auto rs = rollups.TakeClosed();
  std::vector<std::tuple<int64_t, std::string, bool, int64_t>> got;
  for (const auto& r : rs) got.emplace_back(r.window_start_ms, r.host, r.correction, r.bytes_sent);
  const std::vector<std::tuple<int64_t, std::string, bool, int64_t>> want = {
      {kT0 + 8 * kMin, kA, true, 40},        {kT0 + 8 * kMin, kB, true, 0},
      {kT0 + 9 * kMin, kB, true, 0},         {kT0 + 9 * kMin, "10.0.0.3", true, 15},
      {kT0 + 10 * kMin, kA, false, 2},       {kT0 + 10 * kMin, kB, false, 0},
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(rs[0].flows_as_src, 1);
  EXPECT_EQ(rs[0].avg_duration_ms, 6.0);
  EXPECT_EQ(rs[3].flows_as_src, 2);
  EXPECT_EQ(rs[2].flows_as_dst, 2);
  EXPECT_EQ(rs[2].peers_contacting, 1u);
  EXPECT_TRUE(ToNdjson(rs[3]).ends_with(R"(","correction":true})")) << ToNdjson(rs[3]);
  EXPECT_EQ(ToNdjson(rs[4]).find("correction"), std::string::npos);
  EXPECT_EQ(rollups.stats().corrections_emitted, 4u);
  EXPECT_EQ(rollups.stats().records, 2u + 6u);

  // Never twice: a later step has only what came late since.
  rollups.Consume(Batch({{.start = kT0 + 12 * kMin}}));
  EXPECT_EQ(rollups.TakeClosed().size(), 2u);  // minute 11, no correction
  rollups.Flush();
  EXPECT_EQ(rollups.TakeClosed().size(), 2u);  // minute 12
  EXPECT_EQ(rollups.stats().corrections_emitted, 4u);
}

TEST(HostRollupsLateTest, IdleTickAndFlushEmitPendingCorrections) {
  ManualClock clock;
  RollupConfig config = CorrectionConfig();
  HostRollups rollups(config, clock);
  rollups.Consume(Batch({{.start = kT0}, {.start = kT0 + 2 * kMin}}));
  ASSERT_EQ(rollups.TakeClosed().size(), 2u);  // minute 0
  rollups.Consume(Batch({{.in_bytes = 9, .start = kT0 + 1000}}));
  clock.AdvanceMs(config.idle_timeout_ms - 1);
  rollups.Tick();
  EXPECT_TRUE(rollups.TakeClosed().empty());  // not idle yet
  clock.AdvanceMs(1);
  rollups.Tick();  // idle: the watermark moves within minute 1, no window closes
  auto rs = rollups.TakeClosed();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_TRUE(rs[0].correction);
  EXPECT_EQ(rs[0].bytes_sent, 9);

  rollups.Consume(Batch({{.in_bytes = 4, .start = kT0 + 2000}}));
  rollups.Flush();
  rs = rollups.TakeClosed();
  ASSERT_EQ(rs.size(), 4u);  // the correction of minute 0, then minute 2
  EXPECT_TRUE(rs[0].correction);
  EXPECT_EQ(rs[0].window_start_ms, kT0);
  EXPECT_EQ(rs[0].bytes_sent, 4);
  EXPECT_FALSE(rs[2].correction);
  EXPECT_EQ(rs[2].window_start_ms, kT0 + 2 * kMin);
  rollups.Flush();  // nothing left
  EXPECT_TRUE(rollups.TakeClosed().empty());
  EXPECT_EQ(rollups.stats().corrections_emitted, 4u);
}

TEST(HostRollupsLateTest, ZeroHorizonDropsLikeTheDropPolicy) {
  const std::vector<TestFlow> flows = RandomFlows(1000, 5, 200, 180000);
  RollupConfig config = CorrectionConfig();
  config.correction_horizon_ms = 0;
  RollupStats stats;
  RollupConfig drop = config;
  drop.late_policy = RollupConfig::LatePolicy::kDrop;
  RollupStats drop_stats;
  EXPECT_EQ(Ndjson(RunAll(flows, config, &stats)), Ndjson(RunAll(flows, drop, &drop_stats)));
  EXPECT_GT(stats.late_flows, 10u);
  EXPECT_EQ(stats.late_dropped, stats.late_flows);
  ExpectSameStats(stats, drop_stats);
}

TEST(RollupConfigTest, CorrectionHorizonIsBounded) {
  RollupConfig c;
  c.correction_horizon_ms = -1;
  EXPECT_EQ(c.Validate().message(),
            "rollup correction_horizon_ms must be in [0, 31622400000], got -1");
  c.correction_horizon_ms = 0;
  EXPECT_TRUE(c.Validate().ok());
}

std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Svarint(int64_t v) {
  return Varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

// A version 1 snapshot, written by hand per docs/rollups.md: one open
// window, kA sent 100 bytes in 2 packets in one flow; no corrections.
TEST(HostRollupsStateTest, ReadsVersion1) {
  std::string v1 = "FLHR" + Varint(1) + Varint(60000) + Varint(12) + Varint(256) + Varint(3) +
                   Svarint(kT0) + Svarint(kT0 - 120000);
  v1 += Varint(1) + Varint(0) + Varint(2);  // flows, flows_without_start, late_flows
  v1 += Svarint(30) + Svarint(1);           // late_bytes, late_pkts
  for (int i = 0; i < 5; ++i) v1 += Varint(0);
  v1 += Varint(1) + Svarint(kT0) + Varint(1) + Varint(8) + kA;
  for (const uint64_t v : {1, 0, 100, 0, 2, 0, 0, 0, 0}) v1 += Varint(v);
  v1 += Varint(0) + Varint(0) + Varint(0) + Varint(0) + Varint(0);  // counters, L7, probes
  v1 += Varint(0) + Varint(0);                                      // no other, empty sketch

  ManualClock clock;
  HostRollups r(CorrectionConfig(), clock);
  const Status st = r.MergeState(v1);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(r.stats().late_flows, 2u);
  EXPECT_EQ(r.stats().late_dropped, 2u);  // version 1 dropped every late flow
  EXPECT_EQ(r.SaveState().substr(0, 5), std::string("FLHR") + '\x02');
  r.Flush();
  const auto rs = r.TakeClosed();
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].host, kA);
  EXPECT_EQ(rs[0].flows_as_src, 1);
  EXPECT_EQ(rs[0].bytes_sent, 100);
  EXPECT_EQ(rs[0].pkts_sent, 2);
  EXPECT_FALSE(rs[0].correction);

  std::string v3 = v1;
  v3[4] = '\x03';
  const Status bad = r.MergeState(v3);
  EXPECT_EQ(bad.code(), StatusCode::kCorruption);
  EXPECT_NE(bad.message().find("unknown version 3"), std::string::npos) << bad.message();
}

TEST(HostRollupsStateTest, CorrectionOfAnOpenWindowIsCorruption) {
  ManualClock clock;
  HostRollups r(CorrectionConfig(), clock);
  r.Consume(Batch({{.start = kT0}, {.start = kT0 + 3 * kMin}, {.start = kT0 + 1000}}));
  std::string bytes = r.SaveState();
  // The last window of the snapshot is the correction of minute 0: make it
  // minute 5, which the watermark (minute 2) has not closed.
  const std::string minute0 = Svarint(kT0);
  const size_t at = bytes.rfind(minute0);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, minute0.size(), Svarint(kT0 + 5 * kMin));
  HostRollups target(CorrectionConfig(), clock);
  const Status st = target.MergeState(bytes);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("still open"), std::string::npos) << st.message();
}

// The byte budget (docs/rollups.md, "Memory").

// The i-th of up to 2^24 distinct addresses.
std::string HostNumber(int i) {
  return "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
         std::to_string(i & 255);
}

// `n` flows from n distinct hosts to one server in the window of kT0, in
// batches of `batch_rows`.
std::vector<FlowBatch> ManyHostsToOneServer(int n, int batch_rows) {
  std::vector<FlowBatch> batches;
  std::vector<TestFlow> part;
  for (int i = 0; i < n; ++i) {
    part.push_back({.src = HostNumber(i), .dst = "192.168.0.1", .dst_port = 443,
                    .l7 = "app" + std::to_string(i % 4), .in_bytes = i + 1, .out_bytes = 2,
                    .in_pkts = 1, .start = kT0 + i % 50000, .duration = i % 7});
    if (static_cast<int>(part.size()) == batch_rows || i + 1 == n) {
      batches.push_back(Batch(part));
      part.clear();
    }
  }
  return batches;
}

// 50k hosts in one window under a 2 MB budget. Hosts are 384-byte entries
// in chunks of 128, 256, .. 2048, then 4096 entries (1.5 MiB): the first five
// chunks (3968 entries) fit, the sixth would not. So the server and the
// first 3967 sources keep their own records, the same as without a budget,
// and the rest share "other"; the state never passes the budget by more
// than what admitted hosts allocate afterwards (here the server's peer
// sketch and the sketch of the folded hosts: under one host's worst case,
// three HyperLogLogs).
TEST(HostRollupsMemoryTest, BudgetFoldsNewHostsAndKeepsAdmittedOnesExact) {
  constexpr int kHosts = 50000;
  constexpr uint64_t kBudget = 2000000;
  const uint64_t slack = 3 * (sizeof(HyperLogLog) + 4096);
  const std::vector<FlowBatch> batches = ManyHostsToOneServer(kHosts, 1000);
  ManualClock clock;
  HostRollups unlimited(RollupConfig{}, clock);
  HostRollups limited(RollupConfig{.max_state_bytes = kBudget}, clock);
  std::vector<uint64_t> state_bytes;  // after each batch
  for (const FlowBatch& b : batches) {
    unlimited.Consume(b);
    limited.Consume(b);
    ASSERT_EQ(limited.StateBytes(), limited.CountStateBytes());
    state_bytes.push_back(limited.StateBytes());
  }
  const uint64_t peak = *std::max_element(state_bytes.begin(), state_bytes.end());
  EXPECT_LE(peak, kBudget + slack);
  EXPECT_GT(peak, kBudget * 3 / 4);  // the budget, not something else, stopped it
  EXPECT_GT(unlimited.StateBytes(), uint64_t{kHosts} * 384);
  unlimited.Flush();
  limited.Flush();
  const auto want = unlimited.TakeClosed();
  const auto got = limited.TakeClosed();
  ASSERT_EQ(want.size(), kHosts + 1u);

  constexpr int kAdmittedSources = 128 + 256 + 512 + 1024 + 2048 - 1;  // and the server
  ASSERT_EQ(got.size(), kAdmittedSources + 2u);
  int64_t flows = 0;
  for (const HostRollupRecord& r : got) flows += r.flows_as_src;
  EXPECT_EQ(flows, kHosts);
  for (int i = 0; i < kHosts; ++i) {
    const std::string host = HostNumber(i);
    const HostRollupRecord* g = Find(got, kT0, host);
    if (i >= kAdmittedSources) {
      ASSERT_EQ(g, nullptr) << host;  // folded, and never admitted later
      continue;
    }
    ASSERT_NE(g, nullptr) << host;
    EXPECT_EQ(ToNdjson(*g), ToNdjson(*Find(want, kT0, host)));
  }
  // The server kept updating: every source is among its peers.
  const HostRollupRecord* server = Find(got, kT0, "192.168.0.1");
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(ToNdjson(*server), ToNdjson(*Find(want, kT0, "192.168.0.1")));
  const HostRollupRecord& other = got.back();
  ASSERT_EQ(other.host, HostRollupRecord::kOtherHost);
  const int folded = kHosts - kAdmittedSources;
  EXPECT_EQ(other.flows_as_src, folded);
  EXPECT_EQ(other.flows_as_dst, 0);
  int64_t folded_bytes = 0;
  for (int i = kAdmittedSources; i < kHosts; ++i) folded_bytes += i + 1;
  EXPECT_EQ(other.bytes_sent, folded_bytes);
  EXPECT_EQ(other.peers_contacted, 1u);
  // overflow_hosts estimates the folded hosts (HyperLogLog, 1.6% standard
  // error at the default precision).
  EXPECT_NEAR(static_cast<double>(limited.stats().overflow_hosts), folded, 0.05 * folded);
  EXPECT_EQ(limited.stats().windows_over_memory, 1u);
  EXPECT_EQ(unlimited.stats().windows_over_memory, 0u);
  EXPECT_EQ(unlimited.stats().overflow_hosts, 0u);
}

// A budget below an empty window's own bytes: every host goes to "other",
// in every window, and each such window is counted once.
TEST(HostRollupsMemoryTest, TinyBudgetFoldsEveryHost) {
  RollupConfig config;
  config.max_state_bytes = 1;
  RollupStats stats;
  const auto rs = RunAll({{.src = kA, .dst = kB, .in_bytes = 5, .start = kT0},
                          {.src = kB, .dst = kA, .in_bytes = 7, .start = kT0 + 1},
                          {.src = kA, .dst = "10.0.0.3", .in_bytes = 11, .start = kT0 + kMin}},
                         config, &stats);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].host, HostRollupRecord::kOtherHost);
  EXPECT_EQ(rs[0].flows_as_src, 2);
  EXPECT_EQ(rs[0].flows_as_dst, 2);
  EXPECT_EQ(rs[0].bytes_sent, 12);
  EXPECT_EQ(rs[0].bytes_received, 12);
  EXPECT_EQ(rs[1].host, HostRollupRecord::kOtherHost);
  EXPECT_EQ(rs[1].window_start_ms, kT0 + kMin);
  EXPECT_EQ(rs[1].bytes_sent, 11);
  EXPECT_EQ(stats.overflow_hosts, 2u + 2u);
  EXPECT_EQ(stats.windows_over_memory, 2u);
}

// A budget never reached changes nothing, with late flows, corrections,
// spread flows, the host cap and HyperLogLog counters about.
TEST(HostRollupsMemoryTest, UnreachedBudgetChangesNothing) {
  const std::vector<TestFlow> flows = RandomFlows(3000, 42, 200, 180000);
  RollupConfig config = SnapshotTestConfig();
  config.late_policy = RollupConfig::LatePolicy::kCorrection;
  RollupStats without, with;
  const std::string want = NdjsonInBatches(flows, config, 100, &without);
  config.max_state_bytes = uint64_t{1} << 40;
  const std::string got = NdjsonInBatches(flows, config, 100, &with);
  EXPECT_EQ(got, want);
  ExpectSameStats(with, without);
  EXPECT_GT(without.overflow_hosts, 0u);
  EXPECT_EQ(with.windows_over_memory, 0u);
}

// StateBytes() grows with the hosts of a window, by at least their 384-byte
// entries and at most twice that (chunks, a half-empty table) plus names and
// records; it is what a walk of the state counts; and it is 0 again once the
// windows are emitted and their records taken.
TEST(HostRollupsMemoryTest, StateBytesGrowWithHostsAndReturnToZero) {
  ManualClock clock;
  HostRollups rollups(RollupConfig{}, clock);
  EXPECT_EQ(rollups.StateBytes(), 0u);
  uint64_t last = 0;
  int hosts = 1;  // the server
  for (const FlowBatch& b : ManyHostsToOneServer(20000, 2000)) {
    rollups.Consume(b);
    hosts += static_cast<int>(b.num_rows());
    const uint64_t bytes = rollups.StateBytes();
    EXPECT_GE(bytes, last);  // chunks of entries are counted whole
    EXPECT_GE(bytes, uint64_t{384} * hosts);
    EXPECT_LE(bytes, uint64_t{384} * 2 * (hosts + 128) + uint64_t{64} * hosts + 64 * 1024);
    EXPECT_EQ(bytes, rollups.CountStateBytes());
    last = bytes;
  }
  EXPECT_GT(last, uint64_t{384} * 20000);
  rollups.Flush();
  EXPECT_GT(rollups.StateBytes(), 0u);  // the queued records
  EXPECT_EQ(rollups.StateBytes(), rollups.CountStateBytes());
  EXPECT_EQ(rollups.TakeClosed().size(), 20001u);
  EXPECT_EQ(rollups.StateBytes(), 0u);
  EXPECT_EQ(rollups.CountStateBytes(), 0u);
}

// The same through many windows, spread flows, late flows and corrections:
// the running count is the walk's at every batch, and 0 at the end.
TEST(HostRollupsMemoryTest, StateBytesFollowWindowsAndCorrections) {
  const std::vector<TestFlow> flows = RandomFlows(3000, 9, 200, 180000);
  RollupConfig config = SnapshotTestConfig();
  config.late_policy = RollupConfig::LatePolicy::kCorrection;
  ManualClock clock;
  HostRollups rollups(config, clock);
  for (size_t i = 0; i < flows.size(); i += 50) {
    rollups.Consume(Batch({flows.begin() + i, flows.begin() + std::min(flows.size(), i + 50)}));
    ASSERT_EQ(rollups.StateBytes(), rollups.CountStateBytes()) << i;
    if (i % 500 == 0) (void)rollups.TakeClosed();
    ASSERT_EQ(rollups.StateBytes(), rollups.CountStateBytes()) << i;
  }
  EXPECT_GT(rollups.stats().corrections_emitted, 0u);
  rollups.Flush();
  EXPECT_EQ(rollups.StateBytes(), rollups.CountStateBytes());
  (void)rollups.TakeClosed();
  EXPECT_EQ(rollups.StateBytes(), 0u);
}

// A restored snapshot holds the same state, so it counts the same bytes
// (every interned name is used by some host here).
TEST(HostRollupsMemoryTest, SnapshotRoundTripKeepsStateBytes) {
  RollupConfig config = SnapshotTestConfig();
  config.late_policy = RollupConfig::LatePolicy::kCorrection;
  const std::vector<TestFlow> flows = RandomFlows(3000, 13, 200, 180000);
  ManualClock clock;
  for (const size_t cut : {size_t{1}, size_t{1000}, size_t{2500}, size_t{3000}}) {
    SCOPED_TRACE(cut);
    HostRollups r1(config, clock);
    r1.Consume(Batch({flows.begin(), flows.begin() + cut}));
    (void)r1.TakeClosed();  // not part of a snapshot
    HostRollups r2(config, clock);
    ASSERT_TRUE(r2.MergeState(r1.SaveState()).ok());
    EXPECT_GT(r2.StateBytes(), 0u);
    EXPECT_EQ(r2.StateBytes(), r1.StateBytes());
    EXPECT_EQ(r2.StateBytes(), r2.CountStateBytes());
  }
}

// Under a budget that is reached, a process restored from a snapshot goes on
// exactly as the one that saved it (which took its records at the cut too):
// the same records, and windows_over_memory adding up.
TEST(HostRollupsMemoryTest, SplitUnderABudgetEqualsOneProcess) {
  std::vector<TestFlow> flows;
  for (int i = 0; i < 6000; ++i) {
    flows.push_back({.src = HostNumber(i % 3000), .dst = HostNumber(3000 + i % 97),
                     .dst_port = i % 300, .l7 = "app" + std::to_string(i % 5),
                     .in_bytes = i, .start = kT0 + i * 40, .end = kT0 + i * 40 + i % 90000});
  }
  RollupConfig config;
  config.lateness_ms = 30000;
  config.max_state_bytes = 300000;
  ManualClock clock;
  for (const size_t cut : {size_t{700}, size_t{2000}, size_t{4321}}) {
    SCOPED_TRACE(cut);
    const std::vector<TestFlow> a(flows.begin(), flows.begin() + cut);
    const std::vector<TestFlow> b(flows.begin() + cut, flows.end());
    HostRollups one(config, clock);
    one.Consume(Batch(a));
    std::string want = Ndjson(one.TakeClosed());
    one.Consume(Batch(b));
    one.Flush();
    want += Ndjson(one.TakeClosed());
    ASSERT_GT(one.stats().windows_over_memory, 1u);

    HostRollups r1(config, clock);
    r1.Consume(Batch(a));
    std::string got = Ndjson(r1.TakeClosed());
    HostRollups r2(config, clock);
    ASSERT_TRUE(r2.MergeState(r1.SaveState()).ok());
    EXPECT_EQ(r2.StateBytes(), r1.StateBytes());
    r2.Consume(Batch(b));
    r2.Flush();
    got += Ndjson(r2.TakeClosed());
    EXPECT_EQ(got, want);
    EXPECT_EQ(r1.stats().windows_over_memory + r2.stats().windows_over_memory,
              one.stats().windows_over_memory);
  }
}

}  // namespace
}  // namespace flowlake
