#include "synth/nprobe_json_encoder.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>

namespace flowlake::synth {
namespace {

std::string Ip6(std::array<uint16_t, 8> w) {
  std::string s;
  AppendIpv6(w, &s);
  return s;
}

TEST(AppendIpv6Test, FollowsRfc5952) {
  EXPECT_EQ(Ip6({0, 0, 0, 0, 0, 0, 0, 0}), "::");
  EXPECT_EQ(Ip6({0, 0, 0, 0, 0, 0, 0, 1}), "::1");
  EXPECT_EQ(Ip6({1, 0, 0, 0, 0, 0, 0, 0}), "1::");
  EXPECT_EQ(Ip6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}), "2001:db8::1");
  // Ties compress the first run; a single zero group is not compressed.
  EXPECT_EQ(Ip6({0x2001, 0xdb8, 0, 0, 1, 0, 0, 1}), "2001:db8::1:0:0:1");
  EXPECT_EQ(Ip6({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1}), "2001:db8:0:1:1:1:1:1");
  EXPECT_EQ(Ip6({0x2001, 0xdb8, 0, 0, 1, 0, 0, 0}), "2001:db8:0:0:1::");
  EXPECT_EQ(Ip6({0xfd3c, 0x5a7e, 0x1001, 0x14, 0xabcd, 0x00ef, 0x0100, 0x000a}),
            "fd3c:5a7e:1001:14:abcd:ef:100:a");
}

TEST(AppendFormattingTest, Ipv4MacAndMillis) {
  std::string s;
  AppendIpv4(Ipv4(192, 0, 2, 10), &s);
  EXPECT_EQ(s, "192.0.2.10");
  s.clear();
  AppendMac(0x002590D4CCF9ULL, &s);
  EXPECT_EQ(s, "00:25:90:D4:CC:F9");
  const std::pair<uint32_t, const char*> cases[] = {
      {23500, "23.5"}, {412, "0.412"}, {1000, "1"}, {1, "0.001"}, {11907, "11.907"}, {10010, "10.01"}};
  for (const auto& [micros, text] : cases) {
    s.clear();
    AppendMillisFromMicros(micros, &s);
    EXPECT_EQ(s, text);
  }
}

TEST(AppendJsonStringTest, EscapedStringsRoundTripThroughAParser) {
  const std::string raw = "/search?q=\"flows\"&lang=fr-\xc3\xa9\\x\t\n\x01 end";
  std::string json = "{\"k\":";
  AppendJsonString(raw, &json);
  json += "}";
  simdjson::dom::parser parser;
  std::string_view parsed;
  ASSERT_EQ(parser.parse(json)["k"].get(parsed), simdjson::SUCCESS) << json;
  EXPECT_EQ(parsed, raw);
}

FlowRecord DnsFlow() {
  FlowRecord f;
  f.src = IpAddress::V4(Ipv4(10, 20, 1, 15));
  f.dst = IpAddress::V4(Ipv4(10, 20, 0, 2));
  f.src_port = 40211;
  f.dst_port = 53;
  f.protocol = 17;
  f.l7_master = 5;
  f.l7_master_name = "DNS";
  f.l7_app = 178;
  f.l7_app_name = "Amazon";
  f.in_bytes = 71;
  f.in_pkts = 1;
  f.out_bytes = 135;
  f.out_pkts = 1;
  f.start_ms = 1764579600512;
  f.end_ms = 1764579600531;
  f.detail = L7Detail::kDns;
  f.dns_query = "s3.us-east-1.amazonaws.com";
  f.dns_query_type = 1;
  return f;
}

TEST(NprobeJsonEncoderTest, LabelsMatchTheSampleShape) {
  Probe probe;
  probe.name = "dc1-probe-a";
  probe.exporter_ipv4 = Ipv4(192, 0, 2, 10);
  probe.json_template.l2_fields = false;
  std::string out;
  NprobeJsonEncoder().Encode(DnsFlow(), probe, RecordFormat{}, &out);
  EXPECT_EQ(out,
            "{\"PROBEID\":\"dc1-probe-a\",\"EXPORTER_IPV4_ADDRESS\":\"192.0.2.10\","
            "\"IPV4_SRC_ADDR\":\"10.20.1.15\",\"IPV4_DST_ADDR\":\"10.20.0.2\",\"L4_SRC_PORT\":40211,"
            "\"L4_DST_PORT\":53,\"IP_PROTOCOL_VERSION\":4,\"PROTOCOL\":17,\"L7_PROTO\":\"5.178\","
            "\"L7_PROTO_NAME\":\"DNS.Amazon\",\"IN_BYTES\":71,\"IN_PKTS\":1,\"OUT_BYTES\":135,\"OUT_PKTS\":1,"
            "\"FLOW_START_MILLISECONDS\":1764579600512,\"FLOW_END_MILLISECONDS\":1764579600531,"
            "\"TCP_FLAGS\":0,\"SRC_TOS\":0,\"MIN_TTL\":0,\"MAX_TTL\":0,"
            "\"DNS_QUERY\":\"s3.us-east-1.amazonaws.com\",\"DNS_QUERY_TYPE\":1,\"DNS_RET_CODE\":0}");
}

TEST(NprobeJsonEncoderTest, ElementIdsSecondsAndQuotedNumbers) {
  Probe probe;
  probe.name = "edge-7";
  probe.json_template.l2_fields = false;
  RecordFormat format;
  format.element_ids = true;
  format.numbers_as_strings = true;
  format.seconds_timestamps = true;
  std::string out;
  NprobeJsonEncoder().Encode(DnsFlow(), probe, format, &out);
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  ASSERT_EQ(parser.parse(out).get(obj), simdjson::SUCCESS) << out;
  std::string_view s;
  ASSERT_EQ(obj["PROBEID"].get(s), simdjson::SUCCESS);  // no element id: stays a label
  EXPECT_EQ(s, "edge-7");
  ASSERT_EQ(obj["8"].get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, "10.20.1.15");
  ASSERT_EQ(obj["1"].get(s), simdjson::SUCCESS);
  EXPECT_EQ(s, "71");
  ASSERT_EQ(obj["22"].get(s), simdjson::SUCCESS);  // FIRST_SWITCHED, seconds
  EXPECT_EQ(s, "1764579600");
  EXPECT_EQ(obj["152"].error(), simdjson::NO_SUCH_FIELD);
  // ntop's L7_PROTO: plain or qualified with PEN 35632, never both.
  const bool plain = obj["57590"].get(s) == simdjson::SUCCESS;
  const bool qualified = obj["35632.57590"].get(s) == simdjson::SUCCESS;
  EXPECT_NE(plain, qualified);
  EXPECT_EQ(s, "5.178");
}

TEST(NprobeJsonEncoderTest, DualStackTemplateWritesPlaceholders) {
  Probe probe;
  probe.name = "p";
  probe.json_template.dual_stack_addresses = true;
  probe.json_template.l2_fields = false;
  FlowRecord f = DnsFlow();
  std::string out;
  NprobeJsonEncoder().Encode(f, probe, RecordFormat{}, &out);
  EXPECT_NE(out.find("\"IPV6_SRC_ADDR\":\"::\",\"IPV6_DST_ADDR\":\"::\""), std::string::npos) << out;
  f.src = IpAddress::V6({0x2001, 0xdb8, 0x10, 0, 0, 0, 0, 0x15});
  f.dst = IpAddress::V6({0x2001, 0xdb8, 0xff, 0, 0, 0, 0, 0x443});
  out.clear();
  NprobeJsonEncoder().Encode(f, probe, RecordFormat{}, &out);
  EXPECT_NE(out.find("\"IPV4_SRC_ADDR\":\"0.0.0.0\",\"IPV4_DST_ADDR\":\"0.0.0.0\""), std::string::npos);
  EXPECT_NE(out.find("\"IPV6_SRC_ADDR\":\"2001:db8:10::15\",\"IPV6_DST_ADDR\":\"2001:db8:ff::443\""),
            std::string::npos);
  EXPECT_NE(out.find("\"IP_PROTOCOL_VERSION\":6"), std::string::npos);
}

}  // namespace
}  // namespace flowlake::synth
