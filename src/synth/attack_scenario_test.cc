#include "synth/attack_scenario.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "synth/flow_record.h"
#include "synth/heavy_hitter_scenario.h"
#include "synth/nprobe_json_encoder.h"
#include "synth/traffic_generator.h"

namespace flowlake::synth {
namespace {

// A reference implementation of the nine detectors, written from their
// definitions, independent of the generator: per 1-minute window (by flow
// start), per key. The DNS tunnel's "high entropy" is our reading: a label of
// >= 20 characters with >= 4 bits of Shannon entropy per character.
constexpr int64_t kWindowMs = 60000;

std::string IpKey(const IpAddress& ip) {
  std::string s;
  if (ip.is_v6) {
    AppendIpv6(ip.v6, &s);
  } else {
    AppendIpv4(ip.v4, &s);
  }
  return s;
}

bool IsLocal(const IpAddress& ip) {
  if (ip.is_v6) return (ip.v6[0] & 0xfe00) == 0xfc00;  // fc00::/7
  const uint32_t a = ip.v4;
  return (a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) || (a >> 16) == ((192u << 8) | 168);
}

bool IsBlocklisted(const IpAddress& ip) {
  if (ip.is_v6) return ip.v6[0] == 0x2001 && ip.v6[1] == 0x0db8 && ip.v6[2] == 0x0bad;  // 2001:db8:bad::/48
  return (ip.v4 >> 17) == (Ipv4(198, 18, 0, 0) >> 17);                                  // 198.18.0.0/15
}

std::vector<std::string_view> Labels(std::string_view name) {
  std::vector<std::string_view> labels;
  size_t pos = 0;
  while (pos <= name.size()) {
    const size_t dot = std::min(name.find('.', pos), name.size());
    labels.push_back(name.substr(pos, dot - pos));
    pos = dot + 1;
  }
  return labels;
}

// eTLD+1 with the few two-level public suffixes the synthetic names use.
std::string RegisteredDomain(std::string_view name) {
  const auto labels = Labels(name);
  if (labels.size() < 2) return std::string(name);
  size_t take = 2;
  const std::string_view sld = labels[labels.size() - 2];
  if (labels.size() >= 3 && (sld == "co" || sld == "com" || sld == "in-addr")) take = 3;
  std::string out;
  for (size_t i = labels.size() - take; i < labels.size(); ++i) {
    if (!out.empty()) out.push_back('.');
    out.append(labels[i]);
  }
  return out;
}

double Entropy(std::string_view label) {
  std::map<char, int> counts;
  for (char c : label) ++counts[c];
  double h = 0;
  for (const auto& [c, n] : counts) {
    const double p = static_cast<double>(n) / static_cast<double>(label.size());
    h -= p * std::log2(p);
  }
  return h;
}

bool SuspiciousName(std::string_view name) {
  for (std::string_view label : Labels(name)) {
    if (label.size() > AttackScenario::kDnsLongLabel) return true;
    if (label.size() >= 20 && Entropy(label) >= 4.0) return true;
  }
  return false;
}

std::string K(int64_t window, std::initializer_list<std::string_view> parts) {
  std::string k = std::to_string(window);
  for (std::string_view p : parts) {
    k.push_back('|');
    k.append(p);
  }
  return k;
}

struct Volume {
  uint64_t in_bytes = 0;
  uint64_t in_pkts = 0;
  std::unordered_set<std::string> sources;
};

struct Detectors {
  std::unordered_map<std::string, std::unordered_set<uint16_t>> vertical;     // w|src|dst -> ports
  std::unordered_map<std::string, std::unordered_set<std::string>> horizontal;  // w|src|port -> dsts
  std::unordered_map<std::string, uint64_t> syn;                               // w|dst -> SYN-only flows
  std::unordered_map<std::string, Volume> volume;                              // w|dst
  std::unordered_map<std::string, uint64_t> icmp;                              // w|dst -> packets
  std::unordered_map<std::string, uint64_t> blocklist;                         // w|src|dst -> flows
  std::unordered_map<std::string, uint64_t> tunnel;     // w|src|domain -> suspicious queries
  std::unordered_map<std::string, uint64_t> dns_all;    // w|src|domain -> all queries
  std::unordered_map<std::string, uint64_t> exfil;      // w|src -> bytes to outside
  std::unordered_map<std::string, uint64_t> internal_bytes;  // w|src -> bytes to inside
  std::unordered_map<std::string, uint64_t> suspicious;  // w|src|dst|port -> flows

  void Add(const FlowRecord& f) {
    const int64_t w = f.start_ms / kWindowMs * kWindowMs;
    const std::string src = IpKey(f.src);
    const std::string dst = IpKey(f.dst);
    const std::string port = std::to_string(f.dst_port);
    if (f.protocol == 6 || f.protocol == 17) {
      vertical[K(w, {src, dst})].insert(f.dst_port);
      horizontal[K(w, {src, port})].insert(dst);
    }
    if (f.protocol == 6 && (f.tcp_flags() & kSyn) != 0 && (f.tcp_flags() & kAck) == 0) ++syn[K(w, {dst})];
    Volume& v = volume[K(w, {dst})];
    v.in_bytes += f.in_bytes;
    v.in_pkts += f.in_pkts;
    v.sources.insert(src);
    if (f.protocol == 1) icmp[K(w, {dst})] += f.in_pkts;
    if (IsBlocklisted(f.src) || IsBlocklisted(f.dst)) ++blocklist[K(w, {src, dst})];
    if (f.detail == L7Detail::kDns && !f.dns_query.empty()) {
      const std::string domain = RegisteredDomain(f.dns_query);
      ++dns_all[K(w, {src, domain})];
      if (SuspiciousName(f.dns_query)) ++tunnel[K(w, {src, domain})];
    }
    (IsLocal(f.dst) ? internal_bytes : exfil)[K(w, {src})] += f.in_bytes;
    if (!IsLocal(f.src) && (f.dst_port == 23 || f.dst_port == 445 || f.dst_port == 3389) &&
        (f.protocol == 6 || f.protocol == 17)) {
      ++suspicious[K(w, {src, dst, port})];
    }
  }

  static bool VolumetricFires(const Volume& v) {
    return v.sources.size() >= AttackScenario::kVolumetricSources &&
           (v.in_bytes >= AttackScenario::kVolumetricBytes || v.in_pkts >= AttackScenario::kVolumetricPackets);
  }

  // The highest (key, window) value of each counting detector over its threshold.
  std::map<std::string, double> MaxRatios() const {
    std::map<std::string, double> r;
    const auto keep = [&](const char* name, double v, double threshold) {
      r[name] = std::max(r[name], v / threshold);
    };
    for (const auto& [k, ports] : vertical) keep("port_scan.vertical", ports.size(), AttackScenario::kVerticalPorts);
    for (const auto& [k, dsts] : horizontal) keep("port_scan.horizontal", dsts.size(), AttackScenario::kHorizontalDsts);
    for (const auto& [k, n] : syn) keep("syn_flood", n, AttackScenario::kSynFlows);
    for (const auto& [k, v] : volume) {
      if (v.sources.size() < AttackScenario::kVolumetricSources) continue;
      keep("volumetric.bytes", v.in_bytes, AttackScenario::kVolumetricBytes);
      keep("volumetric.packets", v.in_pkts, AttackScenario::kVolumetricPackets);
    }
    for (const auto& [k, n] : icmp) keep("icmp_flood", n, AttackScenario::kIcmpPackets);
    for (const auto& [k, n] : tunnel) keep("dns_tunnel", n, AttackScenario::kDnsQueries);
    for (const auto& [k, n] : exfil) keep("exfiltration", n, AttackScenario::kExfilBytes);
    return r;
  }

  // Every (key, window) that crosses a threshold, as "detector key".
  std::vector<std::string> Firing() const {
    std::vector<std::string> out;
    for (const auto& [k, ports] : vertical) {
      if (ports.size() >= AttackScenario::kVerticalPorts) out.push_back("port_scan.vertical " + k);
    }
    for (const auto& [k, dsts] : horizontal) {
      if (dsts.size() >= AttackScenario::kHorizontalDsts) out.push_back("port_scan.horizontal " + k);
    }
    for (const auto& [k, n] : syn) {
      if (n >= AttackScenario::kSynFlows) out.push_back("syn_flood " + k);
    }
    for (const auto& [k, v] : volume) {
      if (VolumetricFires(v)) out.push_back("volumetric " + k);
    }
    for (const auto& [k, n] : icmp) {
      if (n >= AttackScenario::kIcmpPackets) out.push_back("icmp_flood " + k);
    }
    for (const auto& [k, n] : blocklist) out.push_back("blocklist " + k);
    for (const auto& [k, n] : tunnel) {
      if (n >= AttackScenario::kDnsQueries) out.push_back("dns_tunnel " + k);
    }
    for (const auto& [k, n] : exfil) {
      if (n >= AttackScenario::kExfilBytes) out.push_back("exfiltration " + k);
    }
    for (const auto& [k, n] : suspicious) out.push_back("suspicious_port " + k);
    return out;
  }
};

template <typename Map>
uint64_t Get(const Map& m, const std::string& k) {
  const auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

// The labelled stream, once for all tests (about 50k flows).
struct Labelled {
  TrafficConfig config;
  std::vector<AttackInstance> instances;
  std::string truth;
  Detectors all;
  Detectors benign;
  std::vector<FlowRecord> benign_flows;
  std::map<std::string, uint64_t> flows_by_scenario;
  std::vector<std::string> attack_lines;
};

const Labelled& Stream() {
  static const Labelled* stream = [] {
    auto* s = new Labelled;
    s->config.flows = 40000;  // 2,000 benign flows a minute: denser than the default 833
    s->config.span_ms = 20 * 60 * 1000;
    s->config.seed = 11;
    s->config.attacks = true;
    s->config.key_style = TrafficConfig::KeyStyle::kMixed;
    TrafficGenerator gen(s->config);
    s->instances = gen.attacks()->instances();
    s->truth = gen.attacks()->GroundTruthJsonl();
    std::string line;
    while (gen.Next(line)) {
      const FlowRecord& f = *gen.last_flow();
      const std::string_view scenario = gen.last_scenario();
      ++s->flows_by_scenario[std::string(scenario)];
      s->all.Add(f);
      if (scenario.starts_with("benign")) s->benign.Add(f);
      if (scenario == "benign") s->benign_flows.push_back(f);
      if (scenario.starts_with("attack.")) s->attack_lines.push_back(line);
      line.clear();
    }
    return s;
  }();
  return *stream;
}

TEST(AttackScenarioTest, FormatsWindowStartInUtc) {
  EXPECT_EQ(FormatUtcSeconds(1764547200000), "2025-12-01T00:00:00Z");
  EXPECT_EQ(FormatUtcSeconds(1764547200000 + 7 * 60000 + 999), "2025-12-01T00:07:00Z");
  EXPECT_EQ(FormatUtcSeconds(951782400000), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatUtcSeconds(0), "1970-01-01T00:00:00Z");
}

TEST(AttackScenarioTest, EveryPatternAtLeastOnceInOneWholeWindowWellAboveThreshold) {
  const Labelled& s = Stream();
  std::set<AttackType> types;
  for (const AttackInstance& a : s.instances) {
    types.insert(a.type);
    SCOPED_TRACE(std::string(AttackTypeName(a.type)) + " at " + FormatUtcSeconds(a.window_start_ms));
    EXPECT_EQ(a.window_start_ms % kWindowMs, 0);
    EXPECT_GE(a.window_start_ms, s.config.start_ms);
    EXPECT_LE(a.window_start_ms + kWindowMs, s.config.start_ms + s.config.span_ms);
    if (a.threshold > 1) {
      EXPECT_GE(a.expected_count * 2, a.threshold * 3) << "below 1.5x the threshold";
      EXPECT_LE(a.expected_count, a.threshold * 3) << "above 3x the threshold";
    } else {
      EXPECT_GE(a.expected_count, 1u);
    }
    ASSERT_FALSE(a.flows.empty());
    for (const FlowRecord& f : a.flows) {
      EXPECT_GE(f.start_ms, a.window_start_ms);
      EXPECT_LT(f.end_ms, a.window_start_ms + kWindowMs);
      EXPECT_LE(f.start_ms, f.end_ms);
    }
  }
  EXPECT_EQ(types.size(), static_cast<size_t>(AttackType::kCount));
}

TEST(AttackScenarioTest, RecomputedCountsReachEveryGroundTruthInstance) {
  const Labelled& s = Stream();
  const Detectors& d = s.all;
  for (const AttackInstance& a : s.instances) {
    SCOPED_TRACE(std::string(AttackTypeName(a.type)) + " at " + FormatUtcSeconds(a.window_start_ms));
    const int64_t w = a.window_start_ms;
    const std::string src = IpKey(a.src);
    const std::string dst = IpKey(a.dst);
    const std::string port = std::to_string(a.dst_port);
    uint64_t seen = 0;
    switch (a.type) {
      case AttackType::kPortScanVertical: {
        const auto it = d.vertical.find(K(w, {src, dst}));
        seen = it == d.vertical.end() ? 0 : it->second.size();
        break;
      }
      case AttackType::kPortScanHorizontal: {
        const auto it = d.horizontal.find(K(w, {src, port}));
        seen = it == d.horizontal.end() ? 0 : it->second.size();
        break;
      }
      case AttackType::kSynFlood: seen = Get(d.syn, K(w, {dst})); break;
      case AttackType::kVolumetric: {
        const auto it = d.volume.find(K(w, {dst}));
        ASSERT_NE(it, d.volume.end());
        EXPECT_TRUE(Detectors::VolumetricFires(it->second));
        EXPECT_GE(it->second.sources.size(), a.sources);
        // Averaged over the window: bits per second and packets per second.
        EXPECT_GE(it->second.in_bytes * 8 / 60, 2 * 1'000'000'000ull);
        EXPECT_GE(it->second.in_pkts / 60, 2 * 20'000ull);
        seen = it->second.in_bytes;
        break;
      }
      case AttackType::kIcmpFlood: seen = Get(d.icmp, K(w, {dst})); break;
      case AttackType::kBlocklist:
        EXPECT_TRUE(IsBlocklisted(a.src) || IsBlocklisted(a.dst));
        seen = Get(d.blocklist, K(w, {src, dst}));
        break;
      case AttackType::kDnsTunnel: seen = Get(d.tunnel, K(w, {src, a.domain})); break;
      case AttackType::kExfiltration:
        EXPECT_TRUE(IsLocal(a.src));
        EXPECT_FALSE(IsLocal(a.dst));
        seen = Get(d.exfil, K(w, {src}));
        break;
      case AttackType::kSuspiciousPort:
        EXPECT_FALSE(IsLocal(a.src));
        seen = Get(d.suspicious, K(w, {src, dst, port}));
        break;
      case AttackType::kCount: FAIL();
    }
    EXPECT_GE(seen, a.expected_count);
    EXPECT_GE(seen, a.threshold);
  }
}

TEST(AttackScenarioTest, BenignTrafficWithHeavyHittersCrossesNoThreshold) {
  const Labelled& s = Stream();
  const auto firing = s.benign.Firing();
  EXPECT_TRUE(firing.empty()) << firing.size() << " benign detections, first: " << firing.front();
  for (const std::string& f : firing) ADD_FAILURE() << f;
  // Not just under: how close the busiest benign key comes (for the record).
  for (const auto& [name, ratio] : s.benign.MaxRatios()) {
    EXPECT_LT(ratio, 1.0) << name;
    if (std::getenv("FLOWLAKE_PRINT_RATIOS") != nullptr) std::printf("%s %.3f\n", name.c_str(), ratio);
  }
}

TEST(AttackScenarioTest, HeavyHittersAreThereAndAreNearMisses) {
  const Labelled& s = Stream();
  EXPECT_EQ(s.flows_by_scenario.at("benign"), s.config.flows);
  EXPECT_EQ(s.flows_by_scenario.at("benign.web_server"), 20u * HeavyHitterScenario::kWebFlowsPerMinute);
  EXPECT_EQ(s.flows_by_scenario.at("benign.dns_resolver"), 20u * HeavyHitterScenario::kResolverQueriesPerMinute);
  // The backup runs in 10 of the 20 minutes.
  EXPECT_EQ(s.flows_by_scenario.at("benign.backup"), 10u * HeavyHitterScenario::kBackupStreams);
  uint64_t max_dst_sources = 0;     // distinct sources to one dst in a window
  uint64_t max_internal_bytes = 0;  // bytes from one src to inside addresses
  uint64_t max_domain_queries = 0;  // queries from one src to one registered domain
  for (const auto& [k, v] : s.benign.volume) max_dst_sources = std::max<uint64_t>(max_dst_sources, v.sources.size());
  for (const auto& [k, n] : s.benign.internal_bytes) max_internal_bytes = std::max(max_internal_bytes, n);
  for (const auto& [k, n] : s.benign.dns_all) max_domain_queries = std::max(max_domain_queries, n);
  EXPECT_GE(max_dst_sources, 50u);
  EXPECT_GE(max_internal_bytes, AttackScenario::kExfilBytes);
  EXPECT_GE(max_domain_queries, AttackScenario::kDnsQueries);
}

TEST(AttackScenarioTest, AttacksLeaveTheBenignFlowsAlone) {
  const Labelled& s = Stream();
  TrafficConfig plain = s.config;
  plain.attacks = false;
  TrafficGenerator gen(plain);
  std::string line;
  size_t i = 0;
  while (gen.Next(line)) {
    ASSERT_LT(i, s.benign_flows.size());
    const FlowRecord& a = *gen.last_flow();
    const FlowRecord& b = s.benign_flows[i++];
    ASSERT_EQ(IpKey(a.src), IpKey(b.src)) << "flow " << i;
    ASSERT_EQ(IpKey(a.dst), IpKey(b.dst)) << "flow " << i;
    ASSERT_EQ(a.start_ms, b.start_ms) << "flow " << i;
    ASSERT_EQ(a.in_bytes, b.in_bytes) << "flow " << i;
    ASSERT_EQ(a.dns_query, b.dns_query) << "flow " << i;
    line.clear();
  }
  EXPECT_EQ(i, s.benign_flows.size());
}

TEST(AttackScenarioTest, AttackFlowsEncodeToValidJson) {
  const Labelled& s = Stream();
  ASSERT_GT(s.attack_lines.size(), 1000u);
  simdjson::dom::parser parser;
  for (const std::string& line : s.attack_lines) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
  }
}

TEST(AttackScenarioTest, GroundTruthIsOneJsonObjectPerInstance) {
  const Labelled& s = Stream();
  simdjson::dom::parser parser;
  size_t n = 0;
  size_t pos = 0;
  while (pos < s.truth.size()) {
    const size_t nl = s.truth.find('\n', pos);
    ASSERT_NE(nl, std::string::npos);
    const std::string line = s.truth.substr(pos, nl - pos);
    pos = nl + 1;
    ASSERT_LT(n, s.instances.size());
    const AttackInstance& a = s.instances[n++];
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line).get(doc), simdjson::SUCCESS) << line;
    std::string_view type;
    std::string_view window;
    uint64_t expected = 0;
    ASSERT_EQ(doc["type"].get(type), simdjson::SUCCESS);
    ASSERT_EQ(doc["window_start"].get(window), simdjson::SUCCESS);
    ASSERT_EQ(doc["expected_count"].get(expected), simdjson::SUCCESS);
    EXPECT_EQ(type, AttackTypeName(a.type));
    EXPECT_EQ(window, FormatUtcSeconds(a.window_start_ms));
    EXPECT_EQ(expected, a.expected_count);
    std::string_view ip;
    EXPECT_EQ(doc["src_ip"].get(ip) == simdjson::SUCCESS, a.has_src) << line;
    if (a.has_src) {
      EXPECT_EQ(ip, IpKey(a.src));
    }
    EXPECT_EQ(doc["dst_ip"].get(ip) == simdjson::SUCCESS, a.has_dst) << line;
    if (a.has_dst) {
      EXPECT_EQ(ip, IpKey(a.dst));
    }
  }
  EXPECT_EQ(n, s.instances.size());
  // The documented shape, field order included.
  const std::string first = std::string("{\"type\":\"port_scan.vertical\",\"window_start\":\"") +
                            FormatUtcSeconds(s.instances[0].window_start_ms) + "\",\"src_ip\":\"" +
                            IpKey(s.instances[0].src) + "\",\"dst_ip\":\"" + IpKey(s.instances[0].dst) +
                            "\",\"expected_count\":250,\"count_of\":\"distinct_dst_ports\",\"threshold\":100,";
  EXPECT_TRUE(s.truth.starts_with(first)) << s.truth.substr(0, s.truth.find('\n'));
}

TEST(AttackScenarioTest, BlocklistListsTheRangesAttacksUse) {
  EXPECT_EQ(AttackScenario::BlocklistText().find("198.18.0.0/15\n") != std::string_view::npos, true);
  EXPECT_EQ(AttackScenario::BlocklistText().find("2001:db8:bad::/48\n") != std::string_view::npos, true);
}

TEST(AttackScenarioTest, SameSeedSameScheduleOtherSeedOtherMinutes) {
  const Network network(3);
  const int64_t start = 1764547200000;
  const AttackScenario a(network, start, 2 * 3600 * 1000, 5);
  const AttackScenario b(network, start, 2 * 3600 * 1000, 5);
  const AttackScenario c(network, start, 2 * 3600 * 1000, 6);
  EXPECT_EQ(a.GroundTruthJsonl(), b.GroundTruthJsonl());
  EXPECT_NE(a.GroundTruthJsonl(), c.GroundTruthJsonl());
}

TEST(AttackScenarioTest, ShortSpansAreRejectedWithAttacks) {
  TrafficConfig config;
  config.attacks = true;
  config.span_ms = 90000;
  const Status st = config.Validate();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("too short for attacks"), std::string::npos) << st.ToString();
  config.span_ms = 120000;
  EXPECT_TRUE(config.Validate().ok());
  // Not aligned to the minute: still one whole minute inside.
  config.start_ms += 59999;
  TrafficGenerator gen(config);
  for (const AttackInstance& a : gen.attacks()->instances()) {
    EXPECT_GE(a.window_start_ms, config.start_ms);
    EXPECT_LE(a.window_start_ms + kWindowMs, config.start_ms + config.span_ms);
  }
}

}  // namespace
}  // namespace flowlake::synth
