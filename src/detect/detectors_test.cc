#include "detect/detectors.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "stream/event_time.h"
#include "synth/attack_scenario.h"
#include "synth/decoded_traffic.h"
#include "synth/traffic_generator.h"

namespace flowlake {
namespace {

constexpr int64_t kT0 = 1764547200000;  // 2025-12-01T00:00:00Z
constexpr int64_t kMin = 60000;
constexpr int64_t kWall = 1796415667123;  // 2026-12-04T20:21:07.123Z

// One flow; unset fields are null.
struct F {
  std::string src = "45.155.205.10";
  std::string dst = "10.20.100.10";
  std::optional<int32_t> dst_port = 80;
  int32_t protocol = 6;
  int64_t in_bytes = 60;
  int64_t in_pkts = 1;
  int64_t out_pkts = 0;
  int64_t start = kT0;
  std::optional<int64_t> end;
  std::optional<int32_t> tcp_flags;
  std::optional<std::string> dns_query;
  std::string probe = "p1";
};

void Append(FlowBatch& b, const F& f) {
  for (size_t c = 0; c < kFlowColumnCount; ++c) {
    Column& col = b.column(c);
    switch (c) {
      case kProbe: col.AppendString(f.probe); break;
      case kSrcIp: col.AppendString(f.src); break;
      case kDstIp: col.AppendString(f.dst); break;
      case kDstPort: col.AppendInt32OrNull(f.dst_port.value_or(0), f.dst_port.has_value()); break;
      case kProtocol: col.AppendInt32(f.protocol); break;
      case kInBytes: col.AppendInt64(f.in_bytes); break;
      case kInPkts: col.AppendInt64(f.in_pkts); break;
      case kOutPkts: col.AppendInt64(f.out_pkts); break;
      case kStartTime: col.AppendInt64(f.start); break;
      case kEndTime: col.AppendInt64(f.end.value_or(f.start)); break;
      case kTcpFlags:
        col.AppendInt32OrNull(f.tcp_flags.value_or(0), f.tcp_flags.has_value());
        break;
      case kDnsQuery:
        col.AppendStringOrNull(f.dns_query.value_or(""), f.dns_query.has_value());
        break;
      default: col.AppendNull();
    }
  }
}

FlowBatch Batch(const std::vector<F>& flows) {
  FlowBatch b;
  for (const F& f : flows) Append(b, f);
  return b;
}

class TempFile {
 public:
  explicit TempFile(std::string_view text) {
    path_ = (std::filesystem::temp_directory_path() /
             fmt::format("detectors_test_{}_{}.txt", getpid(), counter_++))
                .string();
    Write(text);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  void Write(std::string_view text) const {
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp, std::ios::binary) << text;
    std::filesystem::rename(tmp, path_);  // a new inode: the reload sees it
  }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

constexpr std::string_view kBlocklistText = "198.18.0.0/15\n2001:db8:bad::/48\n";

// Hosts of test key `k`.
std::string Outside(int k) { return fmt::format("45.155.205.{}", 10 + k); }
std::string Inside(int k) { return fmt::format("10.20.100.{}", 10 + k); }
std::string Listed(int k) { return fmt::format("198.18.0.{}", 10 + k); }

// One detector's pattern: flow i of key k in the window starting at `w`;
// `units` flows reach its threshold at default config.
struct Pattern {
  DetectionType type;
  int units;
  std::function<F(int i, int k, int64_t w)> flow;
  std::function<std::vector<std::string>(int k)> keys;  // JSON fragments naming the key
  std::string evidence;                                 // fragment of the evidence at the crossing
  std::string threshold;                                // the threshold object
};

std::vector<Pattern> Patterns() {
  const auto at = [](int64_t w, int i) { return w + 1000 + i; };
  std::vector<Pattern> p;
  p.push_back({DetectionType::kPortScanVertical, 100,
               [=](int i, int k, int64_t w) {
                 F f;
                 f.src = Outside(k);
                 f.dst = Inside(0);
                 f.dst_port = 1000 + i;
                 f.start = at(w, i);
                 return f;
               },
               [](int k) {
                 return std::vector<std::string>{R"("src_ip":")" + Outside(k) + '"',
                                                 R"("dst_ip":")" + Inside(0) + '"'};
               },
               R"({"distinct_dst_ports":100,"samples":{"dst_ports":[1000,1001,1002,1003,1004]}})",
               R"({"distinct_dst_ports":100})"});
  p.push_back(
      {DetectionType::kPortScanHorizontal, 64,
       [=](int i, int k, int64_t w) {
         F f;
         f.src = Outside(k);
         f.dst = fmt::format("10.30.{}.{}", i / 200, i % 200 + 1);
         f.dst_port = 22;
         f.start = at(w, i);
         return f;
       },
       [](int k) {
         return std::vector<std::string>{R"("src_ip":")" + Outside(k) + '"', R"("dst_port":22)"};
       },
       R"({"distinct_dst_ips":64,"samples":{"dst_ips":["10.30.0.1","10.30.0.2","10.30.0.3","10.30.0.4","10.30.0.5"]}})",
       R"({"distinct_dst_ips":64})"});
  p.push_back(
      {DetectionType::kSynFlood, 256,
       [=](int i, int k, int64_t w) {
         F f;
         f.src = fmt::format("77.1.{}.{}", i / 200, i % 200 + 1);
         f.dst = Inside(k);
         f.dst_port = 443;
         f.tcp_flags = 0x02 | 0x08;  // SYN, PSH: no ACK
         f.start = at(w, i);
         return f;
       },
       [](int k) { return std::vector<std::string>{R"("dst_ip":")" + Inside(k) + '"'}; },
       R"({"syn_flows":256,"samples":{"src_ips":["77.1.0.1","77.1.0.2","77.1.0.3","77.1.0.4","77.1.0.5"]}})",
       R"({"syn_flows":256})"});
  p.push_back({DetectionType::kVolumetric, 10,
               [=](int i, int k, int64_t w) {
                 F f;
                 f.src = fmt::format("77.2.0.{}", i + 1);
                 f.dst = Inside(k);
                 f.protocol = 17;
                 f.dst_port = 5000 + i;  // no scan: one dst port per source
                 f.in_pkts = 120000;     // 10 x 120k = 1.2M packets = 20k/s over a minute
                 f.in_bytes = 120000 * 64;
                 f.start = at(w, i);
                 return f;
               },
               [](int k) { return std::vector<std::string>{R"("dst_ip":")" + Inside(k) + '"'}; },
               R"({"in_bytes":76800000,"in_pkts":1200000,"bps":10240000,"pps":20000,"sources":10,)",
               R"({"bps":1000000000,"pps":20000,"sources":10})"});
  p.push_back({DetectionType::kIcmpFlood, 10,
               [=](int i, int k, int64_t w) {
                 F f;
                 f.src = fmt::format("77.3.0.{}", i + 1);
                 f.dst = Inside(k);
                 f.protocol = k % 2 == 0 ? 1 : 58;
                 f.dst_port = 0;
                 f.in_pkts = 1500;  // 10 x 1500 = 15000 = 250/s over a minute
                 f.in_bytes = 1500 * 84;
                 f.start = at(w, i);
                 return f;
               },
               [](int k) { return std::vector<std::string>{R"("dst_ip":")" + Inside(k) + '"'}; },
               R"({"icmp_pkts":15000,"pps":250})", R"({"pps":250})"});
  p.push_back({DetectionType::kBlocklist, 1,
               [=](int i, int k, int64_t w) {
                 F f;
                 f.src = Listed(k);
                 f.dst = Inside(0);
                 f.dst_port = 443;
                 f.start = at(w, i);
                 return f;
               },
               [](int k) {
                 return std::vector<std::string>{R"("src_ip":")" + Listed(k) + '"',
                                                 R"("dst_ip":")" + Inside(0) + '"'};
               },
               R"({"flows":1,"listed":"src","first_dst_port":443})", R"({"flows":1})"});
  p.push_back(
      {DetectionType::kDnsTunnel, 50,
       [=](int i, int k, int64_t w) {
         F f;
         f.src = Inside(k);
         f.dst = "10.20.100.2";
         f.protocol = 17;
         f.dst_port = 53;
         f.dns_query = fmt::format("{}{:04}.t.Tunnel-Example.com", std::string(50, 'x'), i);
         f.start = at(w, i);
         return f;
       },
       [](int k) {
         return std::vector<std::string>{R"("src_ip":")" + Inside(k) + '"',
                                         R"("domain":"tunnel-example.com")"};
       },
       R"({"suspicious_queries":50,"last_query":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx0049.t.Tunnel-Example.com"})",
       R"({"suspicious_queries":50,"long_label":52,"entropy_bits":4})"});
  p.push_back({DetectionType::kExfiltration, 10,
               [=](int i, int k, int64_t w) {
                 F f;
                 f.src = Inside(k);
                 f.dst = fmt::format("45.133.1.{}", i + 1);
                 f.dst_port = 443;
                 f.in_bytes = 100'000'000;
                 f.in_pkts = 70000;
                 f.start = at(w, i);
                 return f;
               },
               [](int k) { return std::vector<std::string>{R"("src_ip":")" + Inside(k) + '"'}; },
               R"({"in_bytes_to_outside":1000000000})", R"({"in_bytes_to_outside":1000000000})"});
  p.push_back({DetectionType::kSuspiciousPort, 1,
               [=](int i, int k, int64_t w) {
                 F f;
                 f.src = Outside(k);
                 f.dst = Inside(0);
                 f.dst_port = 3389;
                 f.start = at(w, i);
                 return f;
               },
               [](int k) {
                 return std::vector<std::string>{R"("src_ip":")" + Outside(k) + '"',
                                                 R"("dst_ip":")" + Inside(0) + '"',
                                                 R"("dst_port":3389)"};
               },
               R"({"flows":1})", R"({"flows":1,"dst_ports":[23,445,3389]})"});
  return p;
}

std::string Name(DetectionType t) { return std::string(DetectionTypeName(t)); }

class DetectorsTest : public ::testing::TestWithParam<Pattern> {
 protected:
  DetectorsTest() : clock_(kWall), blocklist_(kBlocklistText) {}

  std::unique_ptr<Detectors> Make(DetectorConfig config = {}) {
    config.blocklist_path = blocklist_.path();
    auto d = std::make_unique<Detectors>(config, clock_);
    EXPECT_TRUE(d->Start().ok());
    return d;
  }
  // Feeds flows [0, n) of key k in window w one per batch; returns the events
  // and, in *fired_at, after which flow the first one came.
  std::vector<DetectionEvent> Feed(Detectors& d, int n, int k, int64_t w, int* fired_at = nullptr) {
    std::vector<DetectionEvent> all;
    for (int i = 0; i < n; ++i) {
      d.Consume(Batch({GetParam().flow(i, k, w)}));
      for (DetectionEvent& e : d.TakeEvents()) {
        if (fired_at != nullptr && all.empty()) *fired_at = i;
        all.push_back(std::move(e));
      }
    }
    return all;
  }

  ManualClock clock_;
  TempFile blocklist_;
};

TEST_P(DetectorsTest, BelowThresholdNothing) {
  const Pattern& p = GetParam();
  auto d = Make();
  EXPECT_TRUE(Feed(*d, p.units - 1, 0, kT0).empty());
  d->Flush();
  EXPECT_TRUE(d->TakeEvents().empty());
  EXPECT_EQ(d->stats().events, 0u);
}

TEST_P(DetectorsTest, FiresOnceAtTheCrossingFlow) {
  const Pattern& p = GetParam();
  auto d = Make();
  int fired_at = -1;
  // Twice the threshold: still one event in the window.
  const std::vector<DetectionEvent> events = Feed(*d, 2 * p.units, 0, kT0 + 3 * kMin, &fired_at);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(fired_at, p.units - 1);
  EXPECT_EQ(d->stats().windows_closed, 0u);  // before any window closed
  const DetectionEvent& e = events[0];
  EXPECT_EQ(e.type, Name(p.type));
  EXPECT_EQ(e.window_start_ms, kT0 + 3 * kMin);
  EXPECT_EQ(e.window_end_ms, kT0 + 4 * kMin);
  EXPECT_EQ(e.detected_at_ms, kWall);
  EXPECT_EQ(e.id.size(), 16u);
  EXPECT_EQ(e.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  for (const std::string& key : p.keys(0))
    EXPECT_NE(e.json.find(key), std::string::npos) << key << "\n" << e.json;
  EXPECT_NE(e.json.find(R"(,"evidence":)" + p.evidence), std::string::npos) << e.json;
  EXPECT_NE(e.json.find(R"(,"threshold":)" + p.threshold + "}"), std::string::npos) << e.json;
  EXPECT_EQ(
      e.json.rfind(
          fmt::format(
              R"({{"id":"{}","type":"{}","severity":"{}","window_start":"2025-12-01T00:03:00Z",)"
              R"("window_end":"2025-12-01T00:04:00Z","detected_at":"2026-12-04T20:21:07.123Z",)",
              e.id, e.type, e.severity),
          0),
      0u)
      << e.json;
  EXPECT_NE(e.json.find(R"("probe":"p1")"), std::string::npos);
  EXPECT_EQ(e.json.find('\n'), std::string::npos);
  EXPECT_EQ(d->stats().events, 1u);
  EXPECT_EQ(d->stats().events_by_type[static_cast<size_t>(p.type)], 1u);
}

TEST_P(DetectorsTest, CooldownSuppressesThenAllows) {
  const Pattern& p = GetParam();
  auto d = Make();  // cooldown 5 minutes
  EXPECT_EQ(Feed(*d, p.units, 0, kT0).size(), 1u);
  EXPECT_EQ(Feed(*d, p.units, 0, kT0 + kMin).size(), 0u);
  EXPECT_EQ(Feed(*d, p.units, 0, kT0 + 4 * kMin).size(), 0u);
  EXPECT_EQ(d->stats().suppressed_by_cooldown, 2u);
  const std::vector<DetectionEvent> later = Feed(*d, p.units, 0, kT0 + 5 * kMin);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].window_start_ms, kT0 + 5 * kMin);
}

TEST_P(DetectorsTest, NoCooldownFiresEveryWindow) {
  const Pattern& p = GetParam();
  DetectorConfig config;
  config.cooldown_ms = 0;
  auto d = Make(config);
  EXPECT_EQ(Feed(*d, p.units, 0, kT0).size(), 1u);
  EXPECT_EQ(Feed(*d, p.units, 0, kT0 + kMin).size(), 1u);
}

TEST_P(DetectorsTest, ADifferentKeyFiresIndependently) {
  const Pattern& p = GetParam();
  auto d = Make();
  const std::vector<DetectionEvent> first = Feed(*d, p.units, 0, kT0);
  const std::vector<DetectionEvent> second = Feed(*d, p.units, 1, kT0);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  for (const std::string& key : p.keys(1))
    EXPECT_NE(second[0].json.find(key), std::string::npos) << key;
  EXPECT_NE(first[0].id, second[0].id);
}

TEST_P(DetectorsTest, LateFlowsAreIgnored) {
  const Pattern& p = GetParam();
  auto d = Make();
  F newer = p.flow(0, 7, kT0 + 10 * kMin);  // watermark to minute 8: minute 0 closes
  newer.src = "10.9.9.9";
  newer.dst = "10.9.9.8";
  newer.in_bytes = newer.in_pkts = 0;
  d->Consume(Batch({newer}));
  EXPECT_TRUE(Feed(*d, p.units, 0, kT0).empty());
  EXPECT_EQ(d->stats().late_flows, static_cast<uint64_t>(p.units));
}

// The state handed over halfway to the threshold: the new instance fires at
// the same flow, with the same event, as one instance would have.
TEST_P(DetectorsTest, StateHandoverFiresAtTheSameFlow) {
  const int units = GetParam().units;
  auto one = Make();
  int one_at = -1;
  const std::vector<DetectionEvent> expected = Feed(*one, units + 3, 0, kT0, &one_at);
  ASSERT_EQ(expected.size(), 1u);

  auto first = Make();
  const int half = units / 2;
  EXPECT_TRUE(Feed(*first, half, 0, kT0).empty());
  auto second = Make();
  ASSERT_TRUE(second->MergeState(first->SaveState()).ok());
  EXPECT_TRUE(second->TakeEvents().empty()) << "a merge never fires";
  std::vector<DetectionEvent> after;
  for (int i = half; i < units + 3; ++i) {
    second->Consume(Batch({GetParam().flow(i, 0, kT0)}));
    for (DetectionEvent& e : second->TakeEvents()) {
      if (after.empty()) {
        EXPECT_EQ(i, one_at);
      }
      after.push_back(std::move(e));
    }
  }
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].json, expected[0].json);

  // Handed over after firing: the fired marker and the cooldown survive.
  auto third = Make();
  ASSERT_TRUE(third->MergeState(second->SaveState()).ok());
  EXPECT_TRUE(Feed(*third, units + 3, 0, kT0).empty());
  EXPECT_TRUE(Feed(*third, units + 3, 0, kT0 + kMin).empty());
  EXPECT_GE(third->stats().suppressed_by_cooldown, 1u);
}

std::string ParamName(const ::testing::TestParamInfo<Pattern>& info) {
  std::string name = Name(info.param.type);
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(EachDetector, DetectorsTest, ::testing::ValuesIn(Patterns()), ParamName);

// Every pattern in a few windows, interleaved, with some late and long flows.
std::vector<F> MixedStream() {
  std::vector<F> flows;
  int k = 0;
  for (const Pattern& p : Patterns()) {
    for (int w = 0; w < 3; ++w) {
      for (int i = 0; i < p.units + 3; ++i)
        flows.push_back(p.flow(i, k + w % 2, kT0 + (w * 2 + k % 2) * kMin));
    }
    ++k;
  }
  // Interleave deterministically by start time, then a few stragglers.
  std::stable_sort(flows.begin(), flows.end(),
                   [](const F& a, const F& b) { return a.start < b.start; });
  F spread;
  spread.src = "10.20.1.1";
  spread.dst = "45.133.1.200";
  spread.in_bytes = 3'000'000'000;
  spread.start = kT0 + 30000;
  spread.end = kT0 + 3 * kMin + 30000;  // 1e9 bytes per whole minute
  flows.insert(flows.begin() + static_cast<ptrdiff_t>(flows.size() / 2), spread);
  return flows;
}

std::vector<std::string> RunInBatches(const std::vector<F>& flows, size_t batch_rows,
                                      const std::string& blocklist) {
  ManualClock clock(kWall);
  DetectorConfig config;
  config.blocklist_path = blocklist;
  Detectors d(config, clock);
  EXPECT_TRUE(d.Start().ok());
  for (size_t i = 0; i < flows.size(); i += batch_rows) {
    FlowBatch b;
    for (size_t j = i; j < std::min(flows.size(), i + batch_rows); ++j) Append(b, flows[j]);
    d.Consume(b);
  }
  d.Flush();
  std::vector<std::string> out;
  for (const DetectionEvent& e : d.TakeEvents()) out.push_back(e.json);
  return out;
}

TEST(DetectorsStreamTest, BatchSizesDoNotChangeTheEvents) {
  TempFile blocklist(kBlocklistText);
  const std::vector<F> flows = MixedStream();
  const std::vector<std::string> one = RunInBatches(flows, 1, blocklist.path());
  EXPECT_GE(one.size(), 9u);
  EXPECT_EQ(RunInBatches(flows, 7, blocklist.path()), one);
  EXPECT_EQ(RunInBatches(flows, 1000, blocklist.path()), one);
  std::set<std::string> ids;
  for (const std::string& json : one) ids.insert(json.substr(0, 26));
  EXPECT_EQ(ids.size(), one.size()) << "ids must differ across keys and windows";
}

// A backlog over two Kafka partitions: partition 1 (30 minutes of benign
// flows) is read before partition 2, which holds a SYN flood in its first
// minute. With the batches naming their partition and the assigned ones,
// the flood is detected as in a stream read in order; untagged, the flood's
// flows come 28 minutes after the watermark passed them and are late.
TEST(DetectorsStreamTest, APartitionReadAheadDoesNotHideAnothersAttack) {
  const Pattern syn = Patterns()[2];
  ASSERT_EQ(syn.type, DetectionType::kSynFlood);
  const FlowBatch::SourceSet assigned =
      std::make_shared<const std::vector<uint32_t>>(std::vector<uint32_t>{1, 2});
  for (const bool tagged : {true, false}) {
    SCOPED_TRACE(tagged ? "batches name their partition" : "untagged batches");
    ManualClock clock(kWall);
    Detectors d({}, clock);
    ASSERT_TRUE(d.Start().ok());
    const auto consume = [&](uint32_t partition, const std::vector<F>& flows) {
      FlowBatch b;
      if (tagged) {
        b.BeginSource(partition);
        b.set_expected_sources(assigned);
      }
      for (const F& f : flows) Append(b, f);
      d.Consume(b);
    };
    std::vector<F> benign;
    for (int i = 0; i < 300; ++i) {
      F f;
      f.src = Inside(1);
      f.dst = "3.5.0.1";
      f.dst_port = 443;
      f.tcp_flags = 0x18;  // PSH ACK: data, no attempt
      f.start = kT0 + i * 6000;
      benign.push_back(f);
    }
    consume(1, benign);
    std::vector<F> flood;
    for (int i = 0; i < syn.units; ++i) flood.push_back(syn.flow(i, 0, kT0));
    consume(2, flood);
    d.Flush();
    const std::vector<DetectionEvent> events = d.TakeEvents();
    if (tagged) {
      EXPECT_EQ(d.stats().late_flows, 0u);
      ASSERT_EQ(events.size(), 1u);
      EXPECT_NE(events[0].json.find(R"("type":"syn_flood")"), std::string::npos) << events[0].json;
      EXPECT_NE(events[0].json.find(syn.evidence), std::string::npos) << events[0].json;
    } else {
      EXPECT_EQ(d.stats().late_flows, static_cast<uint64_t>(syn.units));
      EXPECT_TRUE(events.empty());
    }
  }
}

// A snapshot taken while an assigned partition that has delivered nothing
// holds the watermark back has a max start but no watermark yet: it saves,
// restores to the same bytes, and the restored detector goes on as the
// original (the silent partition holds it back again until it delivers).
TEST(DetectorsStreamTest, SnapshotWithAMaxStartAndNoWatermarkYetRoundTrips) {
  const Pattern syn = Patterns()[2];
  const FlowBatch::SourceSet assigned =
      std::make_shared<const std::vector<uint32_t>>(std::vector<uint32_t>{1, 2});
  const auto batch = [&](uint32_t partition, int from, int to, int64_t w) {
    FlowBatch b;
    b.BeginSource(partition);
    b.set_expected_sources(assigned);
    for (int i = from; i < to; ++i) Append(b, syn.flow(i, 0, w));
    return b;
  };
  ManualClock clock(kWall);
  Detectors d({}, clock);
  d.Consume(batch(1, 0, 100, kT0 + 30 * kMin));  // partition 2: nothing yet
  EXPECT_EQ(d.stats().watermark_ms, INT64_MIN);
  const std::string state = d.SaveState();
  Detectors restored({}, clock);
  ASSERT_TRUE(restored.MergeState(state).ok());
  EXPECT_EQ(restored.SaveState(), state);
  EXPECT_EQ(restored.stats().watermark_ms, INT64_MIN);
  // Partition 2's flood, half an hour behind, is counted in both.
  for (Detectors* x : {&d, &restored}) {
    x->Consume(batch(1, 100, 150, kT0 + 30 * kMin));
    x->Consume(batch(2, 0, syn.units, kT0));
    x->Flush();
    EXPECT_EQ(x->stats().late_flows, 0u);
    const std::vector<DetectionEvent> events = x->TakeEvents();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_NE(events[0].json.find(R"("window_start":"2025-12-01T00:00:00Z")"), std::string::npos)
        << events[0].json;
  }
}

TEST(DetectorsStreamTest, IdIsStableAcrossFlowOrder) {
  const Pattern p = Patterns()[0];  // vertical scan
  std::vector<F> flows;
  for (int i = 0; i < 120; ++i) flows.push_back(p.flow(i, 0, kT0));
  std::vector<F> reversed(flows.rbegin(), flows.rend());
  TempFile blocklist(kBlocklistText);
  const std::vector<std::string> a = RunInBatches(flows, 10, blocklist.path());
  const std::vector<std::string> b = RunInBatches(reversed, 10, blocklist.path());
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].substr(0, 26), b[0].substr(0, 26));
  EXPECT_NE(a[0],
            b[0]);  // the samples differ: the smallest ports seen up to the crossing
}

TEST(DetectorsStreamTest, ScansCountOnlyConnectionAttempts) {
  // A busy client: 200 HTTPS connections with data to distinct servers, and
  // 200 answered QUIC flows, and 150 ports of one server with data.
  ManualClock clock(kWall);
  Detectors d({}, clock);
  FlowBatch b;
  for (int i = 0; i < 200; ++i) {
    F tls;
    tls.src = "10.20.10.20";
    tls.dst = fmt::format("3.5.{}.{}", i / 100, i % 100 + 1);
    tls.dst_port = 443;
    tls.tcp_flags = 0x1b;  // SYN ACK PSH FIN
    tls.start = kT0 + i;
    Append(b, tls);
    F quic = tls;
    quic.protocol = 17;
    quic.tcp_flags.reset();
    quic.out_pkts = 10;
    Append(b, quic);
  }
  for (int i = 0; i < 150; ++i) {
    F f;
    f.src = "10.20.10.21";
    f.dst = "10.20.100.5";
    f.dst_port = 1000 + i;
    f.tcp_flags = 0x1a;  // SYN ACK PSH
    f.start = kT0 + i;
    Append(b, f);
  }
  d.Consume(b);
  EXPECT_TRUE(d.TakeEvents().empty());
  // The same flows, refused (SYN, RST+ACK back): scans.
  for (size_t row = 0; row < b.num_rows(); ++row) {
    b.column(kTcpFlags).SetInt32(row, 0x16);
    b.column(kOutPkts).SetInt64(row, 0);
  }
  d.Consume(b);
  const std::vector<DetectionEvent> events = d.TakeEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "port_scan.horizontal");
  EXPECT_EQ(events[1].type, "port_scan.vertical");
}

TEST(EventTimeTest, SpreadsAsDocsRollupsExample) {
  // docs/rollups.md: 00:00:30 to 00:03:30, 1800 bytes and 7 packets.
  std::vector<std::array<int64_t, 3>> shares;
  const auto add = [&](int64_t w, const std::array<int64_t, 2>& s) {
    shares.push_back({w, s[0], s[1]});
  };
  EXPECT_TRUE(SpreadOverWindows<2>(30000, 210000, kMin, 3600000, {1800, 7}, add));
  const std::vector<std::array<int64_t, 3>> expected = {
      {0, 300, 1}, {kMin, 600, 2}, {2 * kMin, 600, 2}, {3 * kMin, 300, 2}};
  EXPECT_EQ(shares, expected);
  shares.clear();
  EXPECT_FALSE(SpreadOverWindows<2>(30000, 210000, kMin, 60000, {1800, 7},
                                    add));  // too long
  EXPECT_EQ(shares, (std::vector<std::array<int64_t, 3>>{{0, 1800, 7}}));
  shares.clear();
  EXPECT_TRUE(SpreadOverWindows<2>(-1, -1, kMin, 60000, {5, 0}, add));  // negative time
  EXPECT_EQ(shares, (std::vector<std::array<int64_t, 3>>{{-kMin, 5, 0}}));
}

TEST(DetectorsStreamTest, SpreadsLongFlowsLikeTheRollups) {
  // 3 GB from 00:00:30 to 00:03:30: 0.5, 1, 1, 0.5 GB in minutes 0..3.
  ManualClock clock(kWall);
  Detectors d({}, clock);
  F f;
  f.src = "10.20.1.1";
  f.dst = "45.133.1.200";
  f.in_bytes = 3'000'000'000;
  f.start = kT0 + 30000;
  f.end = kT0 + 3 * kMin + 30000;
  d.Consume(Batch({f}));
  const std::vector<DetectionEvent> events = d.TakeEvents();
  ASSERT_EQ(events.size(),
            1u);  // minute 1 reaches 1 GB; minute 2 is in cooldown
  EXPECT_EQ(events[0].type, "exfiltration");
  EXPECT_EQ(events[0].window_start_ms, kT0 + kMin);
  EXPECT_NE(events[0].json.find(R"("in_bytes_to_outside":1000000000})"), std::string::npos);
  EXPECT_EQ(d.stats().suppressed_by_cooldown, 1u);
}

TEST(DetectorsStreamTest, TickClosesIdleWindowsAndFlushClosesAll) {
  ManualClock clock(kWall);
  Detectors d({}, clock);
  F f;
  f.start = kT0 + 1000;
  d.Consume(Batch({f}));
  d.Tick();
  EXPECT_EQ(d.stats().windows_closed, 0u);
  clock.AdvanceMs(120000 + 59000 + 1);  // lateness, then the rest of the minute
  d.Tick();
  EXPECT_EQ(d.stats().windows_closed, 1u);
  EXPECT_EQ(d.stats().idle_advances, 1u);
  d.Consume(Batch({f}));
  EXPECT_EQ(d.stats().late_flows, 1u);
  f.start = kT0 + 5 * kMin;
  d.Consume(Batch({f}));
  d.Flush();
  EXPECT_EQ(d.stats().windows_closed, 2u);
}

TEST(DetectorsStreamTest, KeysPastTheCapAreNotTracked) {
  ManualClock clock(kWall);
  DetectorConfig config;
  config.max_keys_per_window = 2;
  Detectors d(config, clock);
  const Pattern p = Patterns()[7];  // exfiltration: one key per inside src
  for (int k = 0; k < 3; ++k) {
    for (int i = 0; i < p.units; ++i) d.Consume(Batch({p.flow(i, k, kT0)}));
  }
  EXPECT_EQ(d.stats().events_by_type[static_cast<size_t>(DetectionType::kExfiltration)], 2u);
  EXPECT_GT(d.stats().keys_overflow, 0u);
}

TEST(DetectorsStreamTest, AddressTextIsTheAddressWhateverItsSpelling) {
  // The parse cache keys on text: every spelling of an address must still
  // be the one address (and inside, when it is), and text that is not an
  // address must be counted every time it comes, cached length or not.
  ManualClock clock(kWall);
  Detectors d({}, clock);
  const std::vector<std::string> spellings = {"10.20.1.5", "::ffff:10.20.1.5",
                                              "0:0:0:0:0:ffff:a14:105", "::FFFF:0A14:0105"};
  std::vector<F> flows;
  for (const std::string& src : spellings) {
    F f;
    f.src = src;
    f.dst = "45.133.1.200";
    f.in_bytes = 250'000'000;  // 4 x 250 MB: one inside host reaches 1 GB
    f.start = kT0 + 1000;
    flows.push_back(f);
  }
  const std::vector<std::string> bad = {
      "10.20.1.256", "10.20.1.5 ", "zz:zz", "not an address",
      "1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17"};  // 41 bytes: never cached
  for (int round = 0; round < 2; ++round) {
    for (const std::string& text : bad) {
      F f;
      f.src = text;
      f.start = kT0 + 2000;
      flows.push_back(f);
    }
  }
  FlowBatch b = Batch(flows);
  F no_start;
  no_start.src = "10.20.1.256";
  Append(b, no_start);
  b.column(kStartTime).SetNull(b.num_rows() - 1);  // dropped before its addresses are read
  d.Consume(b);
  d.Consume(Batch(std::vector<F>(flows.end() - 5, flows.end())));
  const std::vector<DetectionEvent> events = d.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "exfiltration");
  EXPECT_EQ(events[0].key_host, "10.20.1.5");
  EXPECT_EQ(d.stats().unparsed_ips, 3 * bad.size());
  EXPECT_EQ(d.stats().flows_without_start, 1u);
}

// A blocklist of one IPv4 range, and a flow from inside to an address in it.
constexpr std::string_view kListedRange = "198.18.0.0/15\n";
F InsideToListed() {
  F f;
  f.src = "10.20.1.5";
  f.dst = "198.19.255.254";
  return f;
}

TEST(DetectorsBlocklistTest, Ipv4AndIpv6AndReload) {
  TempFile file(kListedRange);
  ManualClock clock(kWall);
  DetectorConfig config;
  config.blocklist_path = file.path();
  config.cooldown_ms = 0;
  Detectors d(config, clock);
  ASSERT_TRUE(d.Start().ok());
  F v4 = InsideToListed();
  F v6;
  v6.src = "fd3c:5a7e:1001:a::5";
  v6.dst = "2001:db8:bad:771e::a7c6";
  d.Consume(Batch({v4, v6}));
  std::vector<DetectionEvent> events = d.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key_host,
            "10.20.1.5");  // the inside peer of the listed address
  EXPECT_NE(events[0].json.find(R"("listed":"dst")"), std::string::npos);

  file.Write("2001:db8:bad::/48\n");
  clock.AdvanceMs(5000);
  v4.start = v6.start = kT0 + kMin;
  d.Consume(Batch({v4, v6}));
  events = d.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].json.find(R"("dst_ip":"2001:db8:bad:771e::a7c6")"), std::string::npos)
      << events[0].json;
  EXPECT_EQ(events[0].key_host, "fd3c:5a7e:1001:a::5");
  EXPECT_EQ(d.stats().blocklist_reloads, 2u);
}

// A state rebuilt at run time (AnalysisStage::RestoreState) takes the
// loaded list and its reloader instead of reading the file again: it still
// fires on the list, and still sees the file change.
TEST(DetectorsBlocklistTest, TakeBlocklistMovesTheListAndItsReloader) {
  TempFile file(kListedRange);
  ManualClock clock(kWall);
  DetectorConfig config;
  config.blocklist_path = file.path();
  Detectors old_state(config, clock);
  ASSERT_TRUE(old_state.Start().ok());
  file.Write("192.0.2.0/24\n");  // unseen until a reload: the loaded list stays
  Detectors fresh(config, clock);
  fresh.TakeBlocklist(old_state);
  EXPECT_EQ(fresh.stats().blocklist_reloads, 1u);
  F to_new_range = InsideToListed();
  to_new_range.dst = "192.0.2.7";
  to_new_range.start = kT0 + 1;
  fresh.Consume(Batch({InsideToListed(), to_new_range}));
  std::vector<DetectionEvent> events = fresh.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].json.find(R"("dst_ip":"198.19.255.254")"), std::string::npos);
  // The reloader came along: after its check interval the new file is read.
  clock.AdvanceMs(5000);
  to_new_range.start = kT0 + kMin;
  fresh.Consume(Batch({to_new_range}));
  events = fresh.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].json.find(R"("dst_ip":"192.0.2.7")"), std::string::npos);
  EXPECT_EQ(fresh.stats().blocklist_reloads, 2u);
  // The old state has no list left.
  old_state.Consume(Batch({InsideToListed()}));
  EXPECT_TRUE(old_state.TakeEvents().empty());
}

TEST(DetectorsBlocklistTest, StartFailsFastNamingThePath) {
  ManualClock clock;
  DetectorConfig config;
  config.blocklist_path = "/nonexistent/blocklist.txt";
  Detectors d(config, clock);
  const Status st = d.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("/nonexistent/blocklist.txt"), std::string::npos) << st.ToString();
}

TEST(DetectorConfigTest, ValidateNamesTheField) {
  EXPECT_TRUE(DetectorConfig{}.Validate().ok());
  for (const uint64_t budget : {uint64_t{0}, uint64_t{1}, UINT64_MAX}) {
    DetectorConfig config;
    config.max_state_bytes = budget;
    EXPECT_TRUE(config.Validate().ok()) << "max_state_bytes " << budget;
  }
  const struct {
    std::function<void(DetectorConfig&)> change;
    std::string field;
  } kCases[] = {
      {[](DetectorConfig& c) { c.window_ms = 0; }, "window_ms"},
      {[](DetectorConfig& c) { c.lateness_ms = -1; }, "lateness_ms"},
      {[](DetectorConfig& c) { c.cooldown_ms = -1; }, "cooldown_ms"},
      {[](DetectorConfig& c) { c.max_spread_ms = 86400001; }, "max_spread_ms"},
      {[](DetectorConfig& c) { c.max_keys_per_window = 0; }, "max_keys_per_window"},
      {[](DetectorConfig& c) { c.vertical_scan_ports = 0; }, "vertical_scan_ports"},
      {[](DetectorConfig& c) { c.volumetric_bps = -1; }, "volumetric_bps"},
      {[](DetectorConfig& c) { c.dns_entropy_bits = 9; }, "dns_entropy_bits"},
      {[](DetectorConfig& c) { c.suspicious_ports = {70000}; }, "suspicious_ports"},
      {[](DetectorConfig& c) { c.local_networks = {"10.0.0.0/33"}; }, "10.0.0.0/33"},
      {[](DetectorConfig& c) { c.local_networks = {"bogus"}; }, "local_networks"},
  };
  for (const auto& c : kCases) {
    DetectorConfig config;
    c.change(config);
    const Status st = config.Validate();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(st.ToString().find(c.field), std::string::npos) << st.ToString();
  }
}

// --- Quality: synthetic traffic with labelled attacks --------------------

// The value of "key" in a flat JSON object line ("" if absent).
std::string Field(std::string_view json, std::string_view key) {
  const std::string needle = fmt::format(R"("{}":)", key);
  const size_t at = json.find(needle);
  if (at == std::string_view::npos) return "";
  size_t begin = at + needle.size();
  size_t end;
  if (json[begin] == '"') {
    ++begin;
    end = json.find('"', begin);
  } else {
    end = json.find_first_of(",}", begin);
  }
  return std::string(json.substr(begin, end - begin));
}

// The keys an event of `type` names, which a truth line must agree with.
std::vector<std::string_view> KeyFields(std::string_view type) {
  if (type == "port_scan.vertical" || type == "blocklist") return {"src_ip", "dst_ip"};
  if (type == "port_scan.horizontal") return {"src_ip", "dst_port"};
  if (type == "syn_flood" || type == "volumetric" || type == "icmp_flood") return {"dst_ip"};
  if (type == "dns_tunnel") return {"src_ip", "domain"};
  if (type == "exfiltration") return {"src_ip"};
  return {"src_ip", "dst_ip", "dst_port"};
}

bool Matches(std::string_view event_json, std::string_view truth_line) {
  const std::string type = Field(event_json, "type");
  if (type != Field(truth_line, "type")) return false;
  if (Field(event_json, "window_start") != Field(truth_line, "window_start")) return false;
  for (std::string_view key : KeyFields(type)) {
    if (Field(event_json, key) != Field(truth_line, key)) return false;
  }
  return true;
}

synth::TrafficConfig AttackTraffic(uint64_t seed, uint64_t flows) {
  synth::TrafficConfig traffic;
  traffic.seed = seed;
  traffic.attacks = true;
  traffic.span_ms = 8 * kMin;
  traffic.flows = flows;
  return traffic;
}

// The traffic as decoded batches of up to `batch_rows`.
std::vector<FlowBatch> Decode(synth::TrafficGenerator& generator, size_t batch_rows) {
  synth::DecodedTraffic decoded = synth::DecodeTraffic(generator, batch_rows);
  EXPECT_EQ(decoded.rejected, 0u);
  return std::move(decoded.batches);
}

void CheckRecallAndPrecision(uint64_t seed) {
  // 5k flows a minute, 6x the default rate, plus heavy hitters.
  synth::TrafficGenerator generator(AttackTraffic(seed, 40000));
  const std::vector<FlowBatch> batches = Decode(generator, 1000);
  TempFile blocklist(synth::AttackScenario::BlocklistText());

  ManualClock clock(kWall);
  DetectorConfig config;
  config.blocklist_path = blocklist.path();
  Detectors detectors(config, clock);
  ASSERT_TRUE(detectors.Start().ok());
  for (const FlowBatch& batch : batches) detectors.Consume(batch);
  detectors.Flush();

  const std::string truth = generator.attacks()->GroundTruthJsonl();
  std::vector<std::string> lines;
  for (size_t at = 0; at < truth.size();) {
    const size_t nl = truth.find('\n', at);
    lines.push_back(truth.substr(at, nl - at));
    at = nl + 1;
  }
  const std::vector<DetectionEvent> events = detectors.TakeEvents();
  for (const std::string& line : lines) {
    const bool found = std::any_of(events.begin(), events.end(),
                                   [&](const DetectionEvent& e) { return Matches(e.json, line); });
    EXPECT_TRUE(found) << "missed: " << line;
  }
  for (const DetectionEvent& e : events) {
    const bool labelled = std::any_of(
        lines.begin(), lines.end(), [&](const std::string& line) { return Matches(e.json, line); });
    EXPECT_TRUE(labelled) << "false positive: " << e.json;
  }
  EXPECT_EQ(detectors.stats().late_flows, 0u);
}

TEST(DetectorsQualityTest, EveryAttackFoundAndNothingElseSeed1) { CheckRecallAndPrecision(1); }
TEST(DetectorsQualityTest, EveryAttackFoundAndNothingElseSeed7) { CheckRecallAndPrecision(7); }

// --- State snapshots: SaveState / MergeState ------------------------------

// The quality test's input at half the size, in batches of up to 500 rows.
std::vector<FlowBatch> AttackBatches(uint64_t seed) {
  synth::TrafficGenerator generator(AttackTraffic(seed, 20000));
  return Decode(generator, 500);
}

std::vector<std::string> Jsons(const std::vector<DetectionEvent>& events) {
  std::vector<std::string> out;
  for (const DetectionEvent& e : events) out.push_back(e.json);
  return out;
}

class DetectorsStateTest : public ::testing::Test {
 protected:
  DetectorsStateTest() : clock_(kWall), blocklist_(synth::AttackScenario::BlocklistText()) {}

  std::unique_ptr<Detectors> Make() {
    DetectorConfig config;
    config.blocklist_path = blocklist_.path();
    auto d = std::make_unique<Detectors>(config, clock_);
    EXPECT_TRUE(d->Start().ok());
    return d;
  }
  static void ConsumeRange(Detectors& d, const std::vector<FlowBatch>& batches, size_t begin,
                           size_t end) {
    for (size_t i = begin; i < end; ++i) d.Consume(batches[i]);
  }

  ManualClock clock_;
  TempFile blocklist_;
};

// One stream split anywhere into A then B: d1 consumes A, d2 merges d1's
// state and consumes B; d2 fires exactly what one instance fires after the
// split, and nothing d1 fired.
TEST_F(DetectorsStateTest, SplitAnywhereFiresWhatOneInstanceFires) {
  const std::vector<FlowBatch> batches = AttackBatches(1);
  const size_t n = batches.size();
  ASSERT_GE(n, 30u);
  int continued_windows = 0;  // splits where d2 fires in a window d1 already fired in
  for (const size_t split : {size_t{0}, size_t{1}, n / 5, n / 3, n / 2, 2 * n / 3, n - 1, n}) {
    SCOPED_TRACE(fmt::format("split before batch {} of {}", split, n));
    auto one = Make();
    ConsumeRange(*one, batches, 0, split);
    const std::vector<std::string> one_before = Jsons(one->TakeEvents());
    ConsumeRange(*one, batches, split, n);
    one->Flush();
    const std::vector<std::string> one_after = Jsons(one->TakeEvents());

    auto d1 = Make();
    ConsumeRange(*d1, batches, 0, split);
    const std::vector<DetectionEvent> d1_events = d1->TakeEvents();
    EXPECT_EQ(Jsons(d1_events), one_before);
    const std::string state = d1->SaveState();

    auto d2 = Make();
    ASSERT_TRUE(d2->MergeState(state).ok());
    EXPECT_EQ(d2->SaveState(), state) << "restored state saves to the same bytes";
    EXPECT_TRUE(d2->TakeEvents().empty());
    ConsumeRange(*d2, batches, split, n);
    d2->Flush();
    const std::vector<DetectionEvent> d2_events = d2->TakeEvents();
    EXPECT_EQ(Jsons(d2_events), one_after);
    EXPECT_EQ(d2->stats().events, one->stats().events);
    EXPECT_EQ(d2->stats().flows, one->stats().flows);
    EXPECT_EQ(d2->stats().suppressed_by_cooldown, one->stats().suppressed_by_cooldown);
    EXPECT_EQ(d2->stats().windows_closed, one->stats().windows_closed);

    std::set<std::string> d1_ids;
    int64_t last_d1_window = INT64_MIN;
    for (const DetectionEvent& e : d1_events) {
      d1_ids.insert(e.id);
      last_d1_window = std::max(last_d1_window, e.window_start_ms);
    }
    for (const DetectionEvent& e : d2_events) {
      EXPECT_EQ(d1_ids.count(e.id), 0u) << "fired again: " << e.json;
      if (e.window_start_ms <= last_d1_window) ++continued_windows;
    }
  }
  EXPECT_GT(continued_windows, 0) << "no split fell inside an attack's window";
}

TEST_F(DetectorsStateTest, EmptyStateRoundTrips) {
  auto empty = Make();
  const std::string bytes = empty->SaveState();
  EXPECT_EQ(bytes.substr(0, 4), "FLDS");
  auto d = Make();
  ASSERT_TRUE(d->MergeState(bytes).ok());
  EXPECT_EQ(d->SaveState(), bytes);
  EXPECT_EQ(d->stats().watermark_ms, INT64_MIN);

  // An empty state merged into a busy one changes nothing.
  const std::vector<FlowBatch> batches = AttackBatches(7);
  ConsumeRange(*d, batches, 0, batches.size() / 2);
  const std::string busy = d->SaveState();
  ASSERT_TRUE(d->MergeState(bytes).ok());
  EXPECT_EQ(d->SaveState(), busy);
}

// Two non-empty states of the same window: distinct sets union, and a key
// the merge puts over its threshold fires on its next new value, not at the
// merge.
TEST_F(DetectorsStateTest, MergingTwoStatesUnionsDistinctValues) {
  const auto scan = [](int from, int to) {
    std::vector<F> flows;
    for (int port = from; port < to; ++port) {
      F f;
      f.dst_port = port;
      f.start = kT0 + port;
      flows.push_back(f);
    }
    return Batch(flows);
  };
  const auto vertical = [](const std::vector<DetectionEvent>& events) {
    std::vector<std::string> out;
    for (const DetectionEvent& e : events) {
      if (e.type == "port_scan.vertical") out.push_back(e.json);
    }
    return out;
  };
  {  // 0..59 and 30..89: 90 distinct ports; 10 more reach the threshold.
    auto a = Make();
    auto b = Make();
    a->Consume(scan(0, 60));
    b->Consume(scan(30, 90));
    a->TakeEvents();  // suspicious_port (23)
    ASSERT_TRUE(a->MergeState(b->SaveState()).ok());
    EXPECT_TRUE(a->TakeEvents().empty());
    a->Consume(scan(90, 99));
    EXPECT_TRUE(vertical(a->TakeEvents()).empty());
    a->Consume(scan(99, 100));
    const std::vector<std::string> fired = vertical(a->TakeEvents());
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_NE(fired[0].find(R"("distinct_dst_ports":100,"samples":{"dst_ports":[0,1,2,3,4]})"),
              std::string::npos)
        << fired[0];
    EXPECT_EQ(a->stats().flows, 130u);
  }
  {  // 0..59 and 50..109: 110 distinct, neither fired: no event until a new
    // port.
    auto a = Make();
    auto b = Make();
    a->Consume(scan(0, 60));
    b->Consume(scan(50, 110));
    a->TakeEvents();
    ASSERT_TRUE(a->MergeState(b->SaveState()).ok());
    EXPECT_TRUE(a->TakeEvents().empty());
    a->Consume(scan(5, 6));  // not new
    EXPECT_TRUE(vertical(a->TakeEvents()).empty());
    a->Consume(scan(200, 201));
    const std::vector<std::string> fired = vertical(a->TakeEvents());
    ASSERT_EQ(fired.size(), 1u);
    EXPECT_NE(fired[0].find(R"("distinct_dst_ports":111)"), std::string::npos) << fired[0];
  }
  {  // One side fired: the merged key is done.
    auto a = Make();
    auto b = Make();
    a->Consume(scan(0, 100));
    EXPECT_EQ(vertical(a->TakeEvents()).size(), 1u);
    b->Consume(scan(100, 150));
    ASSERT_TRUE(b->MergeState(a->SaveState()).ok());
    b->Consume(scan(150, 300));
    EXPECT_TRUE(vertical(b->TakeEvents()).empty());
  }
}

TEST_F(DetectorsStateTest, MergeClosesWindowsBelowTheMergedWatermark) {
  auto old = Make();
  old->Consume(Batch({F{}}));  // window kT0
  auto later = Make();
  F f;
  f.start = kT0 + 10 * kMin;
  later->Consume(Batch({f}));
  ASSERT_TRUE(later->MergeState(old->SaveState()).ok());
  EXPECT_EQ(later->stats().windows_closed,
            1u);  // kT0, closed by later's watermark
  EXPECT_EQ(later->stats().watermark_ms, kT0 + 8 * kMin);
  auto restored = Make();
  ASSERT_TRUE(restored->MergeState(later->SaveState()).ok());
  restored->Consume(Batch({F{}}));
  EXPECT_EQ(restored->stats().late_flows, 1u);
}

TEST_F(DetectorsStateTest, BadBytesAreCorruptionNamingTheProblem) {
  auto d = Make();
  const std::vector<FlowBatch> batches = AttackBatches(7);
  ConsumeRange(*d, batches, 0, 6);
  const std::string state = d->SaveState();
  const std::string before = d->SaveState();

  const auto error = [&](std::string_view bytes) {
    auto target = Make();
    const std::string untouched = target->SaveState();
    Status st = target->MergeState(bytes);
    EXPECT_EQ(target->SaveState(), untouched) << "a failed merge merges nothing";
    return st;
  };
  Status st = error("JSON{}");
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("bad magic"), std::string::npos) << st.message();
  std::string v2 = state;
  v2[4] = 2;
  st = error(v2);
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("unknown version 2"), std::string::npos) << st.message();
  st = error(state + "x");
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("1 trailing bytes"), std::string::npos) << st.message();
  st = error(state.substr(0, state.size() - 1));
  EXPECT_EQ(st.code(), StatusCode::kCorruption);
  EXPECT_NE(st.message().find("truncated"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("window 1764547"), std::string::npos) << st.message();

  DetectorConfig two_minutes;
  two_minutes.window_ms = 2 * kMin;
  Detectors other(two_minutes, clock_);
  st = other.MergeState(state);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("window_ms 60000"), std::string::npos) << st.message();

  // Every truncation fails; random byte flips fail or merge, never crash
  // (ASan in debug builds), and what merges keeps working.
  const size_t step = std::max<size_t>(1, state.size() / 3000);
  for (size_t len = 0; len < state.size(); len += step) {
    EXPECT_EQ(error(std::string_view(state).substr(0, len)).code(), StatusCode::kCorruption) << len;
  }
  std::mt19937_64 rng(42);
  int merged = 0;
  for (int i = 0; i < 300; ++i) {
    std::string bad = state;
    for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
      bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    }
    auto target = Make();
    ConsumeRange(*target, batches, 6, 8);
    if (target->MergeState(bad).ok()) {
      ++merged;
      ConsumeRange(*target, batches, 8, 10);
      target->Tick();
      target->Flush();
      target->TakeEvents();
    }
  }
  EXPECT_GT(merged, 0);
  EXPECT_EQ(d->SaveState(), before) << "SaveState is const in effect";
}

// --- Memory: StateBytes() and max_state_bytes ----------------------------

// Flows of `sources` distinct srcs (77.x.y.z, outside) each to `hosts`
// inside dsts on port 443, in window kT0, in batches of 1000: scan attempts
// (no packet back) when `attempts`, else answered flows, which only the
// volumetric tables count. Below every threshold: none fires.
std::vector<FlowBatch> Flood(int sources, int hosts, bool attempts) {
  std::vector<FlowBatch> batches;
  std::vector<F> flows;
  for (int s = 0; s < sources; ++s) {
    for (int h = 0; h < hosts; ++h) {
      F f;
      f.src = fmt::format("77.{}.{}.{}", (s >> 16) & 255, (s >> 8) & 255, s & 255);
      f.dst = fmt::format("10.40.0.{}", h + 1);
      f.dst_port = 443;
      f.out_pkts = attempts ? 0 : 1;
      f.start = kT0 + 1000 + (s * hosts + h) % 50000;
      flows.push_back(std::move(f));
      if (flows.size() == 1000) batches.push_back(Batch(std::exchange(flows, {})));
    }
  }
  if (!flows.empty()) batches.push_back(Batch(flows));
  return batches;
}

// Scan attempts from `src` to Inside(0) on ports [from, to), in window kT0.
FlowBatch PortScan(const std::string& src, int from, int to) {
  std::vector<F> flows;
  for (int port = from; port < to; ++port) {
    F f;
    f.src = src;
    f.dst_port = port;
    f.start = kT0 + 55000 + port;
    flows.push_back(f);
  }
  return Batch(flows);
}

size_t CountType(const std::vector<DetectionEvent>& events, std::string_view type) {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                           [&](const DetectionEvent& e) { return e.type == type; }));
}

TEST(DetectorsMemoryTest, NoBudgetOrAGenerousOneChangesNothing) {
  const std::vector<FlowBatch> batches = AttackBatches(7);
  ManualClock clock(kWall);
  DetectorConfig generous;
  generous.max_state_bytes = uint64_t{1} << 30;
  Detectors unlimited(DetectorConfig{}, clock);
  Detectors budgeted(generous, clock);
  EXPECT_EQ(unlimited.StateBytes(), 0u);
  for (const FlowBatch& b : batches) {
    unlimited.Consume(b);
    budgeted.Consume(b);
    ASSERT_EQ(budgeted.StateBytes(), unlimited.StateBytes());
  }
  EXPECT_GT(unlimited.StateBytes(), 0u);
  unlimited.Flush();
  budgeted.Flush();
  const std::vector<std::string> events = Jsons(unlimited.TakeEvents());
  EXPECT_FALSE(events.empty());
  EXPECT_EQ(Jsons(budgeted.TakeEvents()), events);
  EXPECT_EQ(budgeted.stats().keys_over_memory, 0u);
  EXPECT_EQ(unlimited.stats().keys_over_memory, 0u);
}

// 100k sources each scanning 3 hosts: 300k (src, dst) and (src, dst, port)
// entries in one window, each at least a 40-byte key in a slot, ~15+ MB
// without a budget.
TEST(DetectorsMemoryTest, AFloodOfKeysStaysWithinTheBudget) {
  const std::vector<FlowBatch> flood = Flood(100000, 3, /*attempts=*/true);
  ManualClock clock(kWall);
  {
    Detectors unlimited(DetectorConfig{}, clock);
    for (const FlowBatch& b : flood) unlimited.Consume(b);
    EXPECT_GT(unlimited.StateBytes(), uint64_t{300000} * 40);
    EXPECT_EQ(unlimited.stats().keys_over_memory, 0u);
  }
  constexpr uint64_t kBudget = 4 << 20;
  // The documented overshoot: a window header per open window (one here),
  // no events, no cooldowns.
  constexpr uint64_t kSlack = 1024;
  DetectorConfig config;
  config.max_state_bytes = kBudget;
  Detectors d(config, clock);
  uint64_t peak = 0;
  for (const FlowBatch& b : flood) {
    d.Consume(b);
    peak = std::max(peak, d.StateBytes());
  }
  EXPECT_LE(peak, kBudget + kSlack);
  EXPECT_GT(d.stats().keys_over_memory, 0u);
  EXPECT_EQ(d.stats().keys_overflow, 0u) << "max_keys_per_window is not what refused them";
  EXPECT_EQ(d.stats().flows, 300000u);
  EXPECT_TRUE(d.TakeEvents().empty());
}

// A vertical scan tracked before a flood fills the budget still fires when
// it completes; a scan that starts once the budget is full does not. The
// budget is what an unlimited instance holds after the scan's start and
// the flood, so the budgeted one is exactly full then.
TEST(DetectorsMemoryTest, AKeyTrackedBeforeTheBudgetFilledStillFires) {
  const std::string scanner = Outside(0), late_scanner = Outside(1);
  const FlowBatch start = PortScan(scanner, 1000, 1050);  // 50 of 100 ports
  const std::vector<FlowBatch> flood = Flood(30000, 2, /*attempts=*/false);
  const FlowBatch rest = PortScan(scanner, 1050, 1100);
  const FlowBatch late = PortScan(late_scanner, 1000, 1100);
  ManualClock clock(kWall);

  Detectors unlimited(DetectorConfig{}, clock);
  unlimited.Consume(start);
  for (const FlowBatch& b : flood) unlimited.Consume(b);
  ASSERT_TRUE(unlimited.TakeEvents().empty());
  const uint64_t budget = unlimited.StateBytes();
  unlimited.Consume(rest);
  unlimited.Consume(late);
  EXPECT_EQ(CountType(unlimited.TakeEvents(), "port_scan.vertical"), 2u);

  DetectorConfig config;
  config.max_state_bytes = budget;
  Detectors d(config, clock);
  d.Consume(start);
  for (const FlowBatch& b : flood) d.Consume(b);
  EXPECT_EQ(d.StateBytes(), budget);
  EXPECT_EQ(d.stats().keys_over_memory, 0u);
  d.Consume(rest);
  d.Consume(late);
  const std::vector<DetectionEvent> events = d.TakeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "port_scan.vertical");
  EXPECT_EQ(events[0].key_host, scanner);
  EXPECT_NE(events[0].json.find(R"("distinct_dst_ports":100,)"), std::string::npos)
      << events[0].json;
  // The late scanner's (src, dst) key once per flow; both scanners' new
  // (src, port) keys once per flow.
  EXPECT_EQ(d.stats().keys_over_memory, 100u + 50u + 100u);
  EXPECT_EQ(d.stats().keys_overflow, 0u);
}

// The one-flow detectors are outside the budget: with the budgeted tables
// full, a listed peer and a risky service from outside are still reported.
TEST(DetectorsMemoryTest, BlocklistAndSuspiciousPortFireWithTheBudgetFull) {
  TempFile file(kListedRange);
  ManualClock clock(kWall);
  DetectorConfig config;
  config.blocklist_path = file.path();
  const std::vector<FlowBatch> flood = Flood(20000, 2, /*attempts=*/true);
  uint64_t budget = 0;
  {
    Detectors unlimited(config, clock);
    ASSERT_TRUE(unlimited.Start().ok());
    for (const FlowBatch& b : flood) unlimited.Consume(b);
    budget = unlimited.StateBytes();
  }
  // Exactly what the flood holds: at the budget, no new key may enter.
  config.max_state_bytes = budget;
  Detectors d(config, clock);
  ASSERT_TRUE(d.Start().ok());
  for (const FlowBatch& b : flood) d.Consume(b);
  ASSERT_EQ(d.StateBytes(), budget);
  ASSERT_TRUE(d.TakeEvents().empty());
  F scan;  // a new key of a budgeted detector: refused
  scan.src = Outside(3);
  scan.dst = "10.20.100.98";
  scan.out_pkts = 0;
  const F listed = InsideToListed();
  F rdp;
  rdp.src = Outside(7);
  rdp.dst = "10.20.100.99";
  rdp.dst_port = 3389;
  const uint64_t refused = d.stats().keys_over_memory;
  d.Consume(Batch({scan, listed, rdp}));
  EXPECT_GT(d.stats().keys_over_memory, refused) << "the scan's keys";
  const std::vector<DetectionEvent> events = d.TakeEvents();
  EXPECT_EQ(CountType(events, "blocklist"), 1u);
  EXPECT_EQ(CountType(events, "suspicious_port"), 1u);
  EXPECT_EQ(events.size(), 2u);
  EXPECT_GT(d.StateBytes(), budget) << "their tables are counted, outside the budget";
}

TEST(DetectorsMemoryTest, StateBytesReturnsToZeroWhenEverythingCloses) {
  ManualClock clock(kWall);
  for (const uint64_t budget : {uint64_t{0}, uint64_t{4} << 20}) {
    SCOPED_TRACE(fmt::format("max_state_bytes {}", budget));
    DetectorConfig config;
    config.max_state_bytes = budget;
    config.cooldown_ms = 0;  // no cooldown entry outlives its window
    Detectors d(config, clock);
    for (const FlowBatch& b : Flood(20000, 3, true)) d.Consume(b);
    for (const FlowBatch& b : AttackBatches(1)) d.Consume(b);
    EXPECT_GT(d.StateBytes(), 0u);
    d.Flush();
    EXPECT_GT(d.StateBytes(), 0u) << "the queued events";
    EXPECT_FALSE(d.TakeEvents().empty());
    EXPECT_EQ(d.StateBytes(), 0u);
  }
  {  // With the default cooldown, its entries remain (one per fired key at
    // most, a tree node each) until they expire.
    Detectors d(DetectorConfig{}, clock);
    for (const FlowBatch& b : AttackBatches(1)) d.Consume(b);
    d.Flush();
    d.TakeEvents();
    EXPECT_LE(d.StateBytes(), d.stats().events * 128);
    F f;
    f.start = kT0 + 24 * 60 * kMin;  // a day later: every cooldown expires
    d.Consume(Batch({f}));
    d.Flush();
    d.TakeEvents();
    EXPECT_EQ(d.StateBytes(), 0u);
  }
}

// volumetric counts distinct sources per victim in a set that packs pairs of
// IPv4 addresses into a word and keeps the other pairs whole, with the pair
// 0.0.0.0 -> 0.0.0.0 apart (its word is the empty slot's): a source counts
// once whichever way it is kept, and a snapshot taken mid-way restores the
// same set, so the restored state fires at the same flow.
TEST(DetectorsVolumetricTest, SourcesCountOnceAcrossPackedWideAndZeroPairs) {
  ManualClock clock(kWall);
  const std::vector<std::pair<std::string, bool>> cases = {
      {"0.0.0.0", true}, {"0.0.0.0", false}, {"10.20.100.10", true}, {"2001:db8::10", true}};
  for (const auto& [victim, ipv6_sources] : cases) {
    SCOPED_TRACE(victim + (ipv6_sources ? ", IPv6 sources too" : ", IPv4 sources only"));
    std::vector<F> flows;
    const auto v6 = [&](int k) {
      return ipv6_sources ? fmt::format("2001:db8::{}", k) : fmt::format("77.2.1.{}", k);
    };
    const std::vector<std::string> sources = {"0.0.0.0",  "77.2.0.1", "77.2.0.2",        v6(1),
                                              "77.2.0.3", v6(2),      "77.2.0.4",
                                              "::ffff:1.2.3.4x",      v6(3),
                                              "77.2.0.5", "77.2.0.6"};
    for (size_t i = 0; i < sources.size(); ++i) {
      for (int repeat = 0; repeat < 2; ++repeat) {  // a repeat is not a new source
        F f;
        f.src = sources[i];
        f.dst = victim;
        f.protocol = 17;
        f.in_pkts = 60000;  // 20 such flows: the 1.2M packets of 20k/s over a minute
        f.in_bytes = 60000 * 64;
        f.start = kT0 + 1000 + static_cast<int64_t>(2 * i + repeat);
        flows.push_back(f);
      }
    }
    // "::ffff:1.2.3.4x" is no address (its flows count packets, no source):
    // the tenth source (77.2.0.6) arrives with flow 21, which brings the
    // packets to 21 x 60k = 1.26M, past the 1.2M of 20k/s; it fires there.
    const FlowBatch first = Batch({flows.begin(), flows.begin() + 18});
    const FlowBatch rest = Batch({flows.begin() + 18, flows.end()});
    Detectors a(DetectorConfig{}, clock);
    a.Consume(first);
    EXPECT_TRUE(a.TakeEvents().empty());
    const std::string state = a.SaveState();
    Detectors b(DetectorConfig{}, clock);
    ASSERT_TRUE(b.MergeState(state).ok());
    EXPECT_EQ(b.SaveState(), state);
    EXPECT_EQ(b.StateBytes(), a.StateBytes());
    for (Detectors* d : {&a, &b}) {
      d->Consume(rest);
      const std::vector<DetectionEvent> events = d->TakeEvents();
      ASSERT_EQ(events.size(), 1u);
      EXPECT_EQ(events[0].type, "volumetric");
      EXPECT_NE(events[0].json.find(R"("sources":10,)"), std::string::npos) << events[0].json;
      EXPECT_NE(events[0].json.find(R"("in_pkts":1260000,)"), std::string::npos)
          << events[0].json;
    }
  }
}

// A restored state holds the same tables at the same capacities: the same
// StateBytes() (tolerance 0), and both instances stay equal as they go on.
TEST(DetectorsMemoryTest, StateBytesSurvivesASnapshotRoundTrip) {
  const std::vector<FlowBatch> attack = AttackBatches(7);
  const std::vector<FlowBatch> flood = Flood(20000, 3, true);
  ManualClock clock(kWall);
  for (const uint64_t budget : {uint64_t{0}, uint64_t{2} << 20}) {
    SCOPED_TRACE(fmt::format("max_state_bytes {}", budget));
    DetectorConfig config;
    config.max_state_bytes = budget;
    Detectors a(config, clock);
    for (size_t i = 0; i < attack.size() / 2; ++i) a.Consume(attack[i]);
    for (const FlowBatch& b : flood) a.Consume(b);
    a.TakeEvents();
    if (budget != 0) {
      EXPECT_GT(a.stats().keys_over_memory, 0u);
    }
    const std::string state = a.SaveState();
    Detectors b(config, clock);
    ASSERT_TRUE(b.MergeState(state).ok());
    EXPECT_EQ(b.StateBytes(), a.StateBytes());
    EXPECT_EQ(b.SaveState(), state);
    for (size_t i = attack.size() / 2; i < attack.size(); ++i) {
      a.Consume(attack[i]);
      b.Consume(attack[i]);
      ASSERT_EQ(b.StateBytes(), a.StateBytes()) << "batch " << i;
    }
    EXPECT_EQ(Jsons(b.TakeEvents()), Jsons(a.TakeEvents()));
    a.Flush();
    b.Flush();
    a.TakeEvents();
    b.TakeEvents();
    EXPECT_EQ(b.StateBytes(), a.StateBytes());
  }
}

}  // namespace
}  // namespace flowlake
