#include "synth/traffic_generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "synth/nprobe_field.h"

namespace flowlake::synth {
namespace {

using Value = std::variant<int64_t, double, std::string>;
using Flow = std::map<std::string, Value>;

std::string Generate(const TrafficConfig& config) {
  std::string out;
  const Status st = WriteNprobeJson(config, [&](std::string_view chunk) {
    out.append(chunk);
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    EXPECT_NE(nl, std::string::npos) << "last line has no newline";
    if (nl == std::string::npos) break;
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

Flow ToFlow(simdjson::dom::object obj) {
  Flow flow;
  for (auto [key, value] : obj) {
    Value v;
    switch (value.type()) {
      case simdjson::dom::element_type::INT64: v = int64_t(value); break;
      case simdjson::dom::element_type::UINT64: v = static_cast<int64_t>(uint64_t(value)); break;
      case simdjson::dom::element_type::DOUBLE: v = double(value); break;
      case simdjson::dom::element_type::STRING: v = std::string(std::string_view(value)); break;
      default: ADD_FAILURE() << "unexpected JSON type for " << key;
    }
    EXPECT_TRUE(flow.emplace(std::string(key), v).second) << "duplicate key " << key;
  }
  return flow;
}

// Parses NDJSON (objects) or batch output (arrays of objects).
std::vector<Flow> Parse(const std::string& text, std::vector<size_t>* array_sizes = nullptr) {
  simdjson::dom::parser parser;
  std::vector<Flow> flows;
  for (const std::string& line : Lines(text)) {
    simdjson::dom::element doc;
    const auto error = parser.parse(line).get(doc);
    EXPECT_EQ(error, simdjson::SUCCESS) << line;
    if (error) continue;
    if (doc.is_array()) {
      size_t n = 0;
      for (simdjson::dom::element e : simdjson::dom::array(doc)) {
        EXPECT_TRUE(e.is_object());
        flows.push_back(ToFlow(e));
        ++n;
      }
      if (array_sizes != nullptr) array_sizes->push_back(n);
    } else {
      EXPECT_TRUE(doc.is_object()) << line;
      flows.push_back(ToFlow(doc));
    }
  }
  return flows;
}

bool Has(const Flow& f, const std::string& key) { return f.count(key) != 0; }
int64_t Int(const Flow& f, const std::string& key) {
  const auto it = f.find(key);
  if (it == f.end() || !std::holds_alternative<int64_t>(it->second)) {
    ADD_FAILURE() << key << " is missing or not an integer";
    return -1;
  }
  return std::get<int64_t>(it->second);
}
std::string Str(const Flow& f, const std::string& key) {
  const auto it = f.find(key);
  if (it == f.end() || !std::holds_alternative<std::string>(it->second)) {
    ADD_FAILURE() << key << " is missing or not a string";
    return "";
  }
  return std::get<std::string>(it->second);
}
bool IsDecimal(const Flow& f, const std::string& key) {
  const auto it = f.find(key);
  return it != f.end() && !std::holds_alternative<std::string>(it->second);
}
int64_t StartMs(const Flow& f) {
  return Has(f, "FLOW_START_MILLISECONDS") ? Int(f, "FLOW_START_MILLISECONDS") : Int(f, "FIRST_SWITCHED") * 1000;
}
int64_t EndMs(const Flow& f) {
  return Has(f, "FLOW_END_MILLISECONDS") ? Int(f, "FLOW_END_MILLISECONDS") : Int(f, "LAST_SWITCHED") * 1000;
}
// Batch-mode exporters may write integers as strings ("6").
int64_t IntOrString(const Flow& f, const std::string& key) {
  const auto it = f.find(key);
  if (it != f.end() && std::holds_alternative<std::string>(it->second)) {
    return std::stoll(std::get<std::string>(it->second));
  }
  return Int(f, key);
}
bool IsV6(const Flow& f) { return IntOrString(f, "IP_PROTOCOL_VERSION") == 6; }
std::string SrcIp(const Flow& f) { return Str(f, IsV6(f) ? "IPV6_SRC_ADDR" : "IPV4_SRC_ADDR"); }

TrafficConfig Small(uint64_t flows) {
  TrafficConfig c;
  c.flows = flows;
  return c;
}

// Shared sample: 20k label-style flows.
const std::vector<Flow>& Sample() {
  static const std::vector<Flow> flows = Parse(Generate(Small(20000)));
  return flows;
}

TEST(TrafficGeneratorTest, SameSeedSameBytesOtherSeedOtherBytes) {
  TrafficConfig c = Small(3000);
  const std::string a = Generate(c);
  EXPECT_EQ(a, Generate(c));
  c.seed = 2;
  const std::string b = Generate(c);
  EXPECT_NE(a, b);
  EXPECT_EQ(Lines(b).size(), 3000u);
}

TEST(TrafficGeneratorTest, EmitsExactlyTheRequestedCount) {
  for (uint64_t n : {0, 1, 7, 1000}) {
    const std::string out = Generate(Small(n));
    EXPECT_EQ(Lines(out).size(), n);
  }
  TrafficGenerator gen(Small(5));
  std::string msg;
  int messages = 0;
  while (gen.Next(msg)) ++messages;
  EXPECT_EQ(messages, 5);
  EXPECT_EQ(gen.generated(), 5u);
  const std::string before = msg;
  EXPECT_FALSE(gen.Next(msg));
  EXPECT_EQ(msg, before);
}

TEST(TrafficGeneratorTest, FileOutputMatchesSinkOutput) {
  const TrafficConfig c = Small(500);
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ASSERT_TRUE(WriteNprobeJson(c, f).ok());
  std::rewind(f);
  std::string read;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) read.append(buf, n);
  std::fclose(f);
  EXPECT_EQ(read, Generate(c));
}

TEST(TrafficGeneratorTest, RejectsInvalidConfigs) {
  TrafficConfig c;
  c.probes = 0;
  Status st = c.Validate();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("probes 0"), std::string::npos) << st.message();
  c = TrafficConfig();
  c.span_ms = 0;
  EXPECT_NE(c.Validate().message().find("span_ms 0"), std::string::npos);
  c = TrafficConfig();
  c.start_ms = -5;
  EXPECT_FALSE(c.Validate().ok());
  c = TrafficConfig();
  c.batch_size = 1000000;
  EXPECT_FALSE(c.Validate().ok());
  EXPECT_FALSE(TrafficGenerator::Create(c).ok());
  EXPECT_EQ(WriteNprobeJson(c, [](std::string_view) { return Status::Ok(); }).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(TrafficConfig().Validate().ok());
}

TEST(TrafficGeneratorTest, SinkErrorStopsGeneration) {
  int calls = 0;
  const Status st = WriteNprobeJson(Small(20000), [&](std::string_view) {
    ++calls;
    return Status::IoError("disk full");
  });
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_EQ(calls, 1);
}

TEST(TrafficGeneratorTest, RequiredFieldsWithNprobeTypes) {
  const TrafficConfig c;
  std::set<std::string> probes;
  for (const Flow& f : Sample()) {
    probes.insert(Str(f, "PROBEID"));
    EXPECT_FALSE(Str(f, "EXPORTER_IPV4_ADDRESS").empty());
    EXPECT_FALSE(SrcIp(f).empty());
    EXPECT_FALSE(Str(f, IsV6(f) ? "IPV6_DST_ADDR" : "IPV4_DST_ADDR").empty());
    Int(f, "L4_SRC_PORT");
    Int(f, "L4_DST_PORT");
    Int(f, "PROTOCOL");
    Int(f, "TCP_FLAGS");
    EXPECT_FALSE(Str(f, "L7_PROTO").empty());
    EXPECT_FALSE(Str(f, "L7_PROTO_NAME").empty());
    const int64_t start = StartMs(f);
    EXPECT_GE(start, c.start_ms / 1000 * 1000);
    EXPECT_LT(start, c.start_ms + c.span_ms);
    EXPECT_GE(EndMs(f), start);
    EXPECT_LE(EndMs(f) - start, 120000) << "longer than nProbe's lifetime timeout";
    for (const char* latency : {"CLIENT_NW_LATENCY_MS", "SERVER_NW_LATENCY_MS", "APPL_LATENCY_MS"}) {
      if (Has(f, latency)) {
        EXPECT_TRUE(IsDecimal(f, latency)) << latency;
      }
    }
  }
  EXPECT_EQ(probes.size(), 3u);
}

TEST(TrafficGeneratorTest, MostlyMillisecondsSomeSeconds) {
  size_t seconds = 0;
  for (const Flow& f : Sample()) {
    EXPECT_NE(Has(f, "FLOW_START_MILLISECONDS"), Has(f, "FIRST_SWITCHED"));
    seconds += Has(f, "FIRST_SWITCHED");
  }
  EXPECT_GT(seconds, 20000 * 0.03);
  EXPECT_LT(seconds, 20000 * 0.07);
}

TEST(TrafficGeneratorTest, RoughlyTimeOrderedAndCrossesHours) {
  int64_t latest = 0;
  std::set<int64_t> hours;
  for (const Flow& f : Sample()) {
    const int64_t start = StartMs(f);
    // Up to 1.5 s of export jitter, plus 1 s lost by seconds-only timestamps.
    EXPECT_GE(start, latest - 2500) << "more than the export jitter out of order";
    latest = std::max(latest, start);
    hours.insert(start / 3600000);
  }
  EXPECT_EQ(hours.size(), 2u);  // the default 2 h span covers two hour partitions
}

TEST(TrafficGeneratorTest, ServicesHaveMatchingPortsAndDetails) {
  std::map<std::string, int> masters;
  for (const Flow& f : Sample()) {
    const std::string name = Str(f, "L7_PROTO_NAME");
    const std::string l7 = Str(f, "L7_PROTO");
    const std::string master_name = name.substr(0, name.find('.'));
    const std::string master_id = l7.substr(0, l7.find('.'));
    EXPECT_EQ(name.find('.') == std::string::npos, l7.find('.') == std::string::npos) << l7 << " " << name;
    ++masters[master_name];
    const int64_t dport = Int(f, "L4_DST_PORT");
    const int64_t proto = Int(f, "PROTOCOL");
    // Real nDPI ids (ndpi_protocol_ids.h).
    static const std::map<std::string, std::string> kIds = {
        {"DNS", "5"},    {"HTTP", "7"},     {"MDNS", "8"},       {"NTP", "9"},        {"NetBIOS", "10"},
        {"SSDP", "12"},  {"SNMP", "14"},    {"Syslog", "17"},    {"DHCP", "18"},      {"PostgreSQL", "19"},
        {"MySQL", "20"}, {"SMBv23", "41"},  {"STUN", "78"},      {"ICMP", "81"},      {"RDP", "88"},
        {"TLS", "91"},   {"SSH", "92"},     {"ICMPV6", "102"},   {"Kerberos", "111"}, {"LDAP", "112"},
        {"MsSQL-TDS", "114"}, {"LLMNR", "154"}, {"QUIC", "188"}};
    ASSERT_TRUE(kIds.count(master_name)) << name;
    EXPECT_EQ(kIds.at(master_name), master_id) << name;
    if (master_name == "DNS") {
      EXPECT_EQ(dport, 53);
      EXPECT_EQ(proto, 17);
      EXPECT_FALSE(Str(f, "DNS_QUERY").empty());
      Int(f, "DNS_QUERY_TYPE");
      Int(f, "DNS_RET_CODE");
    } else if (master_name == "TLS") {
      EXPECT_EQ(dport, 443);
      EXPECT_EQ(proto, 6);
      EXPECT_FALSE(Str(f, "TLS_SERVER_NAME").empty());
      const int64_t version = Int(f, "TLS_VERSION");
      EXPECT_TRUE(version == 771 || version == 772) << version;
      const std::string ja3 = Str(f, "JA3C_HASH");
      EXPECT_EQ(ja3.size(), 32u);
      EXPECT_EQ(ja3.find_first_not_of("0123456789abcdef"), std::string::npos) << ja3;
    } else if (master_name == "QUIC") {
      EXPECT_EQ(dport, 443);
      EXPECT_EQ(proto, 17);
      EXPECT_FALSE(Str(f, "TLS_SERVER_NAME").empty());
    } else if (master_name == "HTTP") {
      EXPECT_EQ(dport, 80);
      EXPECT_EQ(proto, 6);
      EXPECT_FALSE(Str(f, "HTTP_HOST").empty());
      EXPECT_EQ(Str(f, "HTTP_URL").substr(0, 1), "/");
      const std::string method = Str(f, "HTTP_METHOD");
      EXPECT_TRUE(method == "GET" || method == "POST") << method;
      const int64_t code = Int(f, "HTTP_RET_CODE");
      EXPECT_TRUE(code >= 200 && code < 600) << code;
    } else if (master_name == "ICMP") {
      EXPECT_EQ(proto, 1);
      const int64_t type = Int(f, "ICMP_TYPE");
      EXPECT_TRUE(type == 2048 || type / 256 == 3 || type / 256 == 11) << type;
    } else if (master_name == "ICMPV6") {
      EXPECT_EQ(proto, 58);
      EXPECT_TRUE(IsV6(f));
      Int(f, "ICMP_TYPE");
    } else if (master_name == "SSH") {
      EXPECT_EQ(dport, 22);
    } else if (master_name == "SMBv23") {
      EXPECT_EQ(dport, 445);
    } else if (master_name == "NTP") {
      EXPECT_EQ(dport, 123);
    }
    if (master_name != "DNS") {
      EXPECT_FALSE(Has(f, "DNS_QUERY_TYPE")) << name;
    }
    if (master_name != "TLS") {
      EXPECT_FALSE(Has(f, "JA3C_HASH")) << name;
    }
  }
  // A believable enterprise mix: DNS and TLS lead.
  EXPECT_GT(masters["DNS"], 20000 * 0.18);
  EXPECT_GT(masters["TLS"], 20000 * 0.25);
  for (const char* expected : {"QUIC", "HTTP", "SMBv23", "ICMP", "ICMPV6", "SSH", "NTP", "Kerberos"}) {
    EXPECT_GT(masters[expected], 0) << expected;
  }
}

TEST(TrafficGeneratorTest, AddressPlan) {
  size_t v6 = 0;
  size_t v4_with_placeholders = 0;
  size_t v6_with_placeholders = 0;
  for (const Flow& f : Sample()) {
    const std::string src = SrcIp(f);
    if (IsV6(f)) {
      ++v6;
      EXPECT_TRUE(src.rfind("2001:db8:", 0) == 0 || src.rfind("fd", 0) == 0) << src;
      // Both ends are IPv6: a real destination, never the "::" placeholder.
      ASSERT_TRUE(Has(f, "IPV6_DST_ADDR")) << src;
      EXPECT_NE(Str(f, "IPV6_DST_ADDR"), "::") << src;
      if (Has(f, "IPV4_SRC_ADDR")) {
        EXPECT_EQ(Str(f, "IPV4_SRC_ADDR"), "0.0.0.0");
        EXPECT_EQ(Str(f, "IPV4_DST_ADDR"), "0.0.0.0");
        ++v6_with_placeholders;
      }
    } else {
      const bool rfc1918 = src.rfind("10.", 0) == 0 || src.rfind("192.168.", 0) == 0 ||
                           (src.rfind("172.", 0) == 0 && std::stoi(src.substr(4)) >= 16 &&
                            std::stoi(src.substr(4)) <= 31);
      EXPECT_TRUE(rfc1918) << "sources are internal hosts: " << src;
      ASSERT_TRUE(Has(f, "IPV4_DST_ADDR")) << src;
      EXPECT_NE(Str(f, "IPV4_DST_ADDR"), "0.0.0.0") << src;
      if (Has(f, "IPV6_SRC_ADDR")) {
        EXPECT_EQ(Str(f, "IPV6_SRC_ADDR"), "::");
        ++v4_with_placeholders;
      }
    }
  }
  const double share = static_cast<double>(v6) / Sample().size();
  EXPECT_GT(share, 0.075);
  EXPECT_LT(share, 0.105);
  EXPECT_GT(v4_with_placeholders, 0u);
  EXPECT_GT(v6_with_placeholders, 0u);
  EXPECT_LT(v4_with_placeholders, Sample().size() - v6);  // "sometimes", not always
}

TEST(TrafficGeneratorTest, CountersAndTcpFlagsAreConsistent) {
  for (const Flow& f : Sample()) {
    const int64_t in_bytes = Int(f, "IN_BYTES");
    const int64_t in_pkts = Int(f, "IN_PKTS");
    const int64_t out_bytes = Int(f, "OUT_BYTES");
    const int64_t out_pkts = Int(f, "OUT_PKTS");
    EXPECT_GT(in_pkts, 0);
    EXPECT_LE(in_pkts, in_bytes / 20);
    EXPECT_LE(out_pkts, out_bytes / 20);
    EXPECT_EQ(out_bytes == 0, out_pkts == 0);
    const int64_t flags = Int(f, "TCP_FLAGS");
    if (Int(f, "PROTOCOL") != 6) {
      EXPECT_EQ(flags, 0);
      EXPECT_FALSE(Has(f, "CLIENT_NW_LATENCY_MS"));
      continue;
    }
    const int64_t client = Int(f, "CLIENT_TCP_FLAGS");
    const int64_t server = Int(f, "SERVER_TCP_FLAGS");
    EXPECT_EQ(flags, client | server);
    EXPECT_LE(Int(f, "RETRANSMITTED_OUT_PKTS"), out_pkts);
    // Latencies exist exactly when both sides' SYNs were seen.
    EXPECT_EQ(Has(f, "CLIENT_NW_LATENCY_MS"), (client & 2) != 0 && (server & 2) != 0);
    if ((server & 2) != 0) {
      EXPECT_NE(client & 2, 0) << "SYN-ACK without SYN";
    }
    if (out_pkts == 0) {
      EXPECT_EQ(client, 2) << "unanswered connections are bare SYNs";
    }
  }
}

TEST(TrafficGeneratorTest, PopularityIsHeavyTailed) {
  std::map<std::string, int> by_src;
  for (const Flow& f : Sample()) ++by_src[SrcIp(f)];
  std::vector<int> counts;
  for (const auto& [ip, n] : by_src) counts.push_back(n);
  std::sort(counts.rbegin(), counts.rend());
  const double mean = 20000.0 / counts.size();
  EXPECT_GT(counts[0], 10 * mean) << "the busiest host should stand out";
}

TEST(TrafficGeneratorTest, BatchModeEmitsArraysOfTheRequestedSize) {
  TrafficConfig c = Small(1050);
  c.batch_size = 100;
  std::vector<size_t> sizes;
  const std::string out = Generate(c);
  const std::vector<Flow> flows = Parse(out, &sizes);
  ASSERT_EQ(sizes.size(), 11u);
  for (size_t i = 0; i + 1 < sizes.size(); ++i) EXPECT_EQ(sizes[i], 100u);
  EXPECT_EQ(sizes.back(), 50u);
  EXPECT_EQ(flows.size(), 1050u);
  // The same flows as NDJSON, modulo numbers written as strings.
  const std::vector<Flow> plain = Parse(Generate(Small(1050)));
  for (size_t i = 0; i < flows.size(); ++i) {
    EXPECT_EQ(Str(flows[i], "L7_PROTO"), Str(plain[i], "L7_PROTO"));
    EXPECT_EQ(SrcIp(flows[i]), SrcIp(plain[i]));
  }
}

// Element-id output decodes to the same flows as label output.
TEST(TrafficGeneratorTest, ElementIdsCarryTheSameFlowsAsLabels) {
  std::map<std::string, std::string> label_of;
  for (const NprobeFieldInfo& info : kNprobeFields) {
    if (info.element_id == 0) continue;
    label_of[std::to_string(info.element_id)] = std::string(info.label);
    if (info.is_ntop()) label_of["35632." + std::to_string(info.element_id)] = std::string(info.label);
  }
  // Spot checks against shared/samples/nprobe/README.md.
  EXPECT_EQ(label_of["8"], "IPV4_SRC_ADDR");
  EXPECT_EQ(label_of["35632.57590"], "L7_PROTO");
  EXPECT_EQ(label_of["57595"], "CLIENT_NW_LATENCY_MS");

  TrafficConfig c = Small(2000);
  const std::vector<Flow> labels = Parse(Generate(c));
  c.key_style = TrafficConfig::KeyStyle::kElementIds;
  const std::vector<Flow> ids = Parse(Generate(c));
  ASSERT_EQ(labels.size(), ids.size());
  size_t quoted = 0;
  size_t qualified = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    Flow translated;
    bool any_quoted = false;
    for (const auto& [key, value] : ids[i]) {
      if (key == "PROBEID") {
        translated[key] = value;
        continue;
      }
      ASSERT_TRUE(label_of.count(key)) << "not a known element id: " << key;
      qualified += key.rfind("35632.", 0) == 0;
      Value v = value;
      // Integers may be written as strings; compare by value.
      const auto& label_value = labels[i].at(label_of[key]);
      if (std::holds_alternative<std::string>(v) && std::holds_alternative<int64_t>(label_value)) {
        v = static_cast<int64_t>(std::stoll(std::get<std::string>(v)));
        any_quoted = true;
      }
      translated[label_of[key]] = v;
    }
    quoted += any_quoted;
    EXPECT_EQ(translated, labels[i]) << "flow " << i;
  }
  EXPECT_GT(quoted, 2000 * 0.08);
  EXPECT_LT(quoted, 2000 * 0.25);
  EXPECT_GT(qualified, 0u);
}

TEST(TrafficGeneratorTest, MixedStyleMixesKeysPerRecord) {
  TrafficConfig c = Small(400);
  c.key_style = TrafficConfig::KeyStyle::kMixed;
  size_t labelled = 0;
  for (const Flow& f : Parse(Generate(c))) labelled += Has(f, "IN_BYTES");
  EXPECT_GT(labelled, 120u);
  EXPECT_LT(labelled, 280u);
}

}  // namespace
}  // namespace flowlake::synth
