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
TEST(HostRollupsTest, OutputDoesNotDependOnBatchSize) {
  std::vector<TestFlow> flows;
  uint64_t state = 42;
  const auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % n;
  };
  for (int i = 0; i < 3000; ++i) {
    const int64_t start = kT0 + i * 200 - static_cast<int64_t>(next(180000));
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
                     .tcp_flags = static_cast<int32_t>(next(32))});
  }
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

}  // namespace
}  // namespace flowlake
