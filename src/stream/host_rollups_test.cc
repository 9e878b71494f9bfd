#include "stream/host_rollups.h"

#include <gtest/gtest.h>

#include <cstdint>
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

TEST(HostRollupsTest, OutputDoesNotDependOnBatchSize) {
  const std::vector<TestFlow> flows = RandomFlows(3000, 42, 200, 180000);
  RollupConfig config;
  config.lateness_ms = 60000;
  config.max_hosts_per_window = 60;
  std::vector<std::string> outputs;
  std::vector<uint64_t> late;
  for (const size_t batch_size : {1, 7, 1000}) {
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
    outputs.push_back(out);
    late.push_back(rollups.stats().late_flows);
  }
  EXPECT_GT(late[0], 100u);  // lateness matters in this stream
  EXPECT_GT(outputs[0].size(), 10000u);
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_EQ(outputs[0], outputs[2]);
  EXPECT_EQ(late[0], late[1]);
  EXPECT_EQ(late[0], late[2]);
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
// for byte, wherever the stream was cut.
TEST(HostRollupsStateTest, SplitAnywhereEqualsOneProcess) {
  const std::vector<TestFlow> flows = RandomFlows(3000, 7, 200, 180000);
  const RollupConfig config = SnapshotTestConfig();
  ManualClock clock;
  HostRollups one(config, clock);
  one.Consume(Batch(flows));
  one.Flush();
  const std::string want = Ndjson(one.TakeClosed());
  ASSERT_GT(one.stats().late_flows, 100u);
  ASSERT_GT(one.stats().overflow_hosts, 0u);
  ASSERT_NE(want.find("\"peers_contacted_sketch\":\"02"), std::string::npos);  // HyperLogLog

  for (const size_t cut : {size_t{0}, size_t{1}, size_t{17}, size_t{1000}, size_t{2222},
                           size_t{2999}, size_t{3000}}) {
    SCOPED_TRACE(cut);
    const std::vector<TestFlow> a(flows.begin(), flows.begin() + cut);
    const std::vector<TestFlow> b(flows.begin() + cut, flows.end());
    HostRollups r1(config, clock);
    if (!a.empty()) r1.Consume(Batch(a));
    std::string got = Ndjson(r1.TakeClosed());
    HostRollups r2(config, clock);
    ASSERT_TRUE(r2.MergeState(r1.SaveState()).ok());
    if (!b.empty()) r2.Consume(Batch(b));
    r2.Flush();
    got += Ndjson(r2.TakeClosed());
    EXPECT_EQ(got, want);
    ExpectSameStats(r2.stats(), one.stats());
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

}  // namespace
}  // namespace flowlake
