#include "decode/nprobe_fields.h"

#include <gtest/gtest.h>

#include <string>

namespace flowlake {
namespace {

TEST(NprobeFieldsTest, LabelsIdsAndQualifiedIds) {
  struct Case {
    std::string key;
    NprobeField want;
  } cases[] = {
      {"IPV4_SRC_ADDR", NprobeField::kIpv4Src},
      {"8", NprobeField::kIpv4Src},
      {"0.8", NprobeField::kUnknown},  // only ntop's PEN is understood
      {"L7_PROTO", NprobeField::kL7Proto},
      {"57590", NprobeField::kL7Proto},
      {"35632.57590", NprobeField::kL7Proto},
      {"35632.118", NprobeField::kL7Proto},
      {"35632.123", NprobeField::kClientNwLatencyMs},
      {"57595", NprobeField::kClientNwLatencyMs},
      {"SRC_VLAN", NprobeField::kSrcVlan},
      {"58", NprobeField::kSrcVlan},
      {"HTTP_METHOD", NprobeField::kHttpMethod},
      {"57832", NprobeField::kHttpMethod},
      {"35632.360", NprobeField::kHttpMethod},
      {"PROBEID", NprobeField::kProbeId},
      {"SSL_SERVER_NAME", NprobeField::kTlsServerName},
      {"TLS_SERVER_NAME", NprobeField::kTlsServerName},
      {"CLIENT_NW_DELAY_MS", NprobeField::kClientNwLatencyMs},
      {"SERVER_NW_DELAY_MS", NprobeField::kServerNwLatencyMs},
      {"HTTP_SITE", NprobeField::kUnknown},  // a different element (57833)
      {"57833", NprobeField::kUnknown},
      {"42", NprobeField::kUnknown},
      {"008", NprobeField::kUnknown},
      {"8.5", NprobeField::kUnknown},
      {"35632.", NprobeField::kUnknown},
      {"35632.x", NprobeField::kUnknown},
      {"99999999999", NprobeField::kUnknown},
      {"ipv4_src_addr", NprobeField::kUnknown},
      {"IPV4_SRC_ADD", NprobeField::kUnknown},
      {"IPV4_SRC_ADDRX", NprobeField::kUnknown},
      {"", NprobeField::kUnknown},
      {"X", NprobeField::kUnknown},
  };
  for (const Case& c : cases) EXPECT_EQ(LookupKey(c.key), c.want) << c.key;
}

TEST(NprobeFieldsTest, EveryFieldIsReachableByLabelAndId) {
  for (size_t i = 1; i < kNprobeFieldCount; ++i) {
    const NprobeFieldInfo& info = FieldInfo(static_cast<NprobeField>(i));
    EXPECT_EQ(static_cast<size_t>(info.field), i);
    EXPECT_EQ(LookupKey(info.label), info.field) << info.label;
    if (info.element_id == 0) continue;
    EXPECT_EQ(LookupKey(std::to_string(info.element_id)), info.field) << info.label;
    if (info.element_id >= kNtopIdBase) {
      EXPECT_EQ(LookupKey("35632." + std::to_string(info.element_id - kNtopIdBase)), info.field)
          << info.label;
      EXPECT_EQ(LookupKey("35632." + std::to_string(info.element_id)), info.field) << info.label;
    }
  }
}

// The README's element-id list, read independently of nprobe_fields.cc.
TEST(NprobeFieldsTest, MatchesSampleReadmeIds) {
  struct Case {
    const char* label;
    int id;
  } cases[] = {
      {"IN_BYTES", 1}, {"IN_PKTS", 2}, {"PROTOCOL", 4}, {"SRC_TOS", 5}, {"TCP_FLAGS", 6},
      {"L4_SRC_PORT", 7}, {"IPV4_SRC_ADDR", 8}, {"INPUT_SNMP", 10}, {"L4_DST_PORT", 11},
      {"IPV4_DST_ADDR", 12}, {"OUTPUT_SNMP", 14}, {"LAST_SWITCHED", 21},
      {"FIRST_SWITCHED", 22}, {"OUT_BYTES", 23}, {"OUT_PKTS", 24}, {"IPV6_SRC_ADDR", 27},
      {"IPV6_DST_ADDR", 28}, {"ICMP_TYPE", 32}, {"MIN_TTL", 52}, {"MAX_TTL", 53},
      {"IN_SRC_MAC", 56}, {"OUT_DST_MAC", 57}, {"SRC_VLAN", 58}, {"IP_PROTOCOL_VERSION", 60},
      {"EXPORTER_IPV4_ADDRESS", 130}, {"FLOW_START_MILLISECONDS", 152},
      {"FLOW_END_MILLISECONDS", 153}, {"CLIENT_TCP_FLAGS", 57550},
      {"SERVER_TCP_FLAGS", 57551}, {"RETRANSMITTED_IN_PKTS", 57581},
      {"RETRANSMITTED_OUT_PKTS", 57582}, {"L7_PROTO", 57590}, {"L7_PROTO_NAME", 57591},
      {"CLIENT_NW_LATENCY_MS", 57595}, {"SERVER_NW_LATENCY_MS", 57596},
      {"APPL_LATENCY_MS", 57597}, {"HTTP_URL", 57652}, {"HTTP_RET_CODE", 57653},
      {"HTTP_HOST", 57659}, {"TLS_SERVER_NAME", 57660}, {"DNS_QUERY", 57677},
      {"DNS_QUERY_TYPE", 57679}, {"DNS_RET_CODE", 57680}, {"HTTP_METHOD", 57832},
      {"JA3C_HASH", 57961}, {"JA3S_HASH", 57962}, {"TLS_VERSION", 57967},
      // and the timestamp fallbacks of the issue
      {"FLOW_START_SEC", 150}, {"FLOW_END_SEC", 151}, {"FLOW_START_MICROSECONDS", 154},
      {"FLOW_END_MICROSECONDS", 155}, {"EXPORTER_IPV6_ADDRESS", 131},
  };
  for (const Case& c : cases) {
    NprobeField f = LookupKey(c.label);
    ASSERT_NE(f, NprobeField::kUnknown) << c.label;
    EXPECT_EQ(LookupKey(std::to_string(c.id)), f) << c.label;
  }
}

}  // namespace
}  // namespace flowlake
