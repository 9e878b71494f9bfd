#include "decode/nprobe_decoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace flowlake {
namespace {

// ---- helpers ----

struct Rejected {
  std::string source;
  uint64_t line;
  uint64_t offset;
  int64_t array_index;
  std::string reason;
  std::string record;
};

class CollectingSink : public RejectSink {
 public:
  void Reject(const SourcePosition& pos, std::string_view reason,
              std::string_view record) override {
    rejects.push_back({std::string(pos.source), pos.line, pos.offset, pos.array_index,
                       std::string(reason), std::string(record)});
  }
  std::vector<Rejected> rejects;
};

struct Decoded {
  FlowBatch batch;
  CollectingSink sink;
  DecoderStats stats;
  uint64_t newlines = 0;
};

// Decodes `text` as one chunk, zero-copy (padded like a reader's buffer).
void DecodeInto(const std::string& text, Decoded& d, DecoderConfig config = {}) {
  NprobeDecoder decoder(config);
  std::string padded = text + std::string(kDecoderPadding, 'x');  // padding content is irrelevant
  d.newlines = decoder.DecodeChunk(padded.data(), text.size(), padded.size(), "test.json", 1, 0,
                                   d.batch, d.sink);
  d.stats = decoder.stats();
}

using Val = std::variant<std::monostate, int64_t, double, std::string>;
using Row = std::map<FlowCol, Val>;

// Checks all 46 columns of `row`: those not in `want` must be null.
void ExpectRow(const FlowBatch& b, size_t row, const Row& want) {
  ASSERT_LT(row, b.num_rows());
  for (size_t c = 0; c < kFlowColumnCount; ++c) {
    const Column& col = b.column(c);
    ASSERT_EQ(col.size(), b.num_rows()) << "ragged column " << FlowSchema().field(c).name;
    const std::string name(FlowSchema().field(c).name);
    auto it = want.find(static_cast<FlowCol>(c));
    if (it == want.end() || std::holds_alternative<std::monostate>(it->second)) {
      EXPECT_FALSE(col.IsValid(row)) << "row " << row << " column " << name << " should be null";
      continue;
    }
    ASSERT_TRUE(col.IsValid(row)) << "row " << row << " column " << name << " is null";
    switch (col.type()) {
      case ColumnType::kString:
        EXPECT_EQ(col.String(row), std::get<std::string>(it->second)) << name;
        break;
      case ColumnType::kBool:
      case ColumnType::kInt32:
        EXPECT_EQ(col.Int32(row), std::get<int64_t>(it->second)) << name;
        break;
      case ColumnType::kInt64:
      case ColumnType::kTimestampMs:
        EXPECT_EQ(col.Int64(row), std::get<int64_t>(it->second)) << name;
        break;
      case ColumnType::kDouble:
        EXPECT_DOUBLE_EQ(col.Double(row), std::get<double>(it->second)) << name;
        break;
    }
  }
}

std::string ReadSample(const std::string& name) {
  const char* dir = std::getenv("FLOWLAKE_SAMPLES");
  std::string path = std::string(dir ? dir : "test/fixtures") + "/nprobe/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Byte offset where 1-based line `line` starts.
uint64_t LineOffset(const std::string& text, int line) {
  uint64_t off = 0;
  for (int l = 1; l < line; ++l) off = text.find('\n', off) + 1;
  return off;
}

// A minimal valid flow, for tests that vary one field.
std::string Flow(const std::string& extra) {
  return R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":1000)" +
         (extra.empty() ? "" : "," + extra) + "}";
}

// ---- golden tests over the shared samples ----

TEST(NprobeDecoderGoldenTest, LabelsSample) {
  const std::string text = ReadSample("labels.ndjson");
  Decoded d;
  DecodeInto(text, d);
  EXPECT_TRUE(d.sink.rejects.empty());
  ASSERT_EQ(d.batch.num_rows(), 4u);
  ExpectRow(d.batch, 0,
            {{kProbe, "dc1-probe-a"},
             {kExporterIp, "192.0.2.10"},
             {kSrcIp, "10.20.1.15"},
             {kDstIp, "203.0.113.80"},
             {kSrcPort, 51544L},
             {kDstPort, 443L},
             {kProtocol, 6L},
             {kIpVersion, 4L},
             {kL7Master, 91L},
             {kL7App, 126L},
             {kL7Name, "TLS.Google"},
             {kInBytes, 1874L},
             {kOutBytes, 48211L},
             {kInPkts, 14L},
             {kOutPkts, 39L},
             {kStartTime, 1764579601123L},
             {kEndTime, 1764579604877L},
             {kDurationMs, 3754L},
             {kTcpFlags, 27L},
             {kClientTcpFlags, 27L},
             {kServerTcpFlags, 26L},
             {kSrcMac, "00:25:90:d4:cc:f9"},
             {kDstMac, "00:00:5e:00:53:01"},
             {kVlan, 0L},
             {kInputSnmp, 3L},
             {kOutputSnmp, 7L},
             {kSrcTos, 0L},
             {kMinTtl, 63L},
             {kMaxTtl, 64L},
             {kRetransmittedInPkts, 0L},
             {kRetransmittedOutPkts, 1L},
             {kClientLatencyMs, 0.412},
             {kServerLatencyMs, 11.907},
             {kApplLatencyMs, 23.5},
             {kTlsServerName, "www.google.com"},
             {kTlsVersion, 772L},
             {kJa3cHash, "cd08e31494f9531f560d64c695473da9"},
             {kJa3sHash, "15af977ce25de452b96affa2addb1036"}});
  // DNS_QUERY, HTTP_URL, HTTP_HOST are "" in row 0: null, checked above.
  ExpectRow(d.batch, 1,
            {{kProbe, "dc1-probe-a"},
             {kExporterIp, "192.0.2.10"},
             {kSrcMac, "00:25:90:d4:cc:f9"},
             {kDstMac, "00:00:5e:00:53:01"},
             {kVlan, 0L},
             {kSrcIp, "10.20.1.15"},
             {kDstIp, "10.20.0.2"},
             {kSrcPort, 40211L},
             {kDstPort, 53L},
             {kIpVersion, 4L},
             {kProtocol, 17L},
             {kL7Master, 5L},
             {kL7App, 178L},
             {kL7Name, "DNS.Amazon"},
             {kInBytes, 71L},
             {kInPkts, 1L},
             {kOutBytes, 135L},
             {kOutPkts, 1L},
             {kStartTime, 1764579600512L},
             {kEndTime, 1764579600531L},
             {kDurationMs, 19L},
             {kTcpFlags, 0L},
             {kDnsQuery, "s3.us-east-1.amazonaws.com"},
             {kDnsQueryType, 1L},
             {kDnsRetCode, 0L}});
  ExpectRow(d.batch, 2,
            {{kProbe, "dc1-probe-b"},
             {kSrcMac, "00:25:90:11:22:33"},
             {kDstMac, "00:00:5e:00:53:02"},
             {kSrcIp, "2001:db8:10::15"},
             {kDstIp, "2001:db8:ff::443"},
             {kSrcPort, 60001L},
             {kDstPort, 443L},
             {kIpVersion, 6L},
             {kProtocol, 17L},
             {kL7Master, 188L},
             {kL7App, 0L},
             {kL7Name, "QUIC"},
             {kInBytes, 9120L},
             {kInPkts, 12L},
             {kOutBytes, 310022L},
             {kOutPkts, 231L},
             {kStartTime, 1764579610000L},
             {kEndTime, 1764579642000L},
             {kDurationMs, 32000L}});
  ExpectRow(d.batch, 3,
            {{kProbe, "dc1-probe-b"},
             {kSrcIp, "10.20.3.4"},
             {kDstIp, "198.51.100.7"},
             {kSrcPort, 50112L},
             {kDstPort, 80L},
             {kIpVersion, 4L},
             {kProtocol, 6L},
             {kL7Master, 7L},
             {kL7App, 0L},
             {kL7Name, "HTTP"},
             {kInBytes, 512L},
             {kInPkts, 5L},
             {kOutBytes, 20480L},
             {kOutPkts, 16L},
             {kStartTime, 1764583199900L},
             {kEndTime, 1764583200300L},
             {kDurationMs, 400L},
             {kHttpUrl, "/search?q=\"flows\"&lang=fr-\xc3\xa9"},
             {kHttpHost, "example.org"},
             {kHttpMethod, "GET"},
             {kHttpRetCode, 200L}});
  EXPECT_EQ(d.stats.records, 4u);
  EXPECT_EQ(d.stats.flows, 4u);
  EXPECT_EQ(d.stats.rejected, 0u);
  EXPECT_EQ(d.stats.unknown_fields, 0u);
  EXPECT_EQ(d.stats.field_errors, 0u);
  EXPECT_EQ(d.newlines, 4u);
}

TEST(NprobeDecoderGoldenTest, NumericKeysSample) {
  Decoded d;
  DecodeInto(ReadSample("numeric-keys.ndjson"), d);
  EXPECT_TRUE(d.sink.rejects.empty());
  ASSERT_EQ(d.batch.num_rows(), 2u);
  ExpectRow(d.batch, 0,
            {{kProbe, "edge-7"},
             {kSrcIp, "10.1.1.20"},
             {kDstIp, "192.0.2.200"},
             {kSrcPort, 44321L},
             {kDstPort, 22L},
             {kProtocol, 6L},
             {kIpVersion, 4L},
             {kInBytes, 5120L},
             {kInPkts, 40L},
             {kOutBytes, 88231L},
             {kOutPkts, 71L},
             {kStartTime, 1764579700000L},
             {kEndTime, 1764579760250L},
             {kDurationMs, 60250L},
             {kTcpFlags, 27L},
             {kClientTcpFlags, 2L},
             {kServerTcpFlags, 18L},
             {kL7Master, 92L},
             {kL7App, 0L},
             {kL7Name, "SSH"},
             {kClientLatencyMs, 1.25},
             {kServerLatencyMs, 3.5}});
  ExpectRow(d.batch, 1,
            {{kSrcIp, "10.1.1.21"},
             {kDstIp, "192.0.2.201"},
             {kSrcPort, 5353L},
             {kDstPort, 5353L},
             {kProtocol, 17L},
             {kIpVersion, 4L},  // derived from the source address
             {kInBytes, 420L},
             {kInPkts, 3L},
             {kOutBytes, 0L},
             {kOutPkts, 0L},
             {kStartTime, 1764579705000L},  // FIRST_SWITCHED seconds, as a string
             {kEndTime, 1764579706000L},
             {kDurationMs, 1000L},
             {kL7Master, 8L},
             {kL7App, 0L},
             {kL7Name, "MDNS"},
             {kExporterIp, "192.0.2.1"}});
  EXPECT_EQ(d.stats.unknown_fields, 1u);  // "42"
  EXPECT_EQ(d.stats.field_errors, 0u);
}

TEST(NprobeDecoderGoldenTest, BatchSample) {
  Decoded d;
  DecodeInto(ReadSample("batch.json"), d);
  EXPECT_TRUE(d.sink.rejects.empty());
  ASSERT_EQ(d.batch.num_rows(), 2u);
  ExpectRow(d.batch, 0,
            {{kProbe, "dc2"},
             {kSrcIp, "172.16.5.5"},
             {kDstIp, "172.16.0.10"},
             {kSrcPort, 49822L},
             {kDstPort, 445L},
             {kProtocol, 6L},
             {kIpVersion, 4L},
             {kL7Master, 41L},
             {kL7App, 0L},
             {kL7Name, "SMBv23"},
             {kInBytes, 20480L},
             {kInPkts, 30L},
             {kOutBytes, 1024000L},
             {kOutPkts, 700L},
             {kStartTime, 1764579800000L},
             {kEndTime, 1764579830000L},
             {kDurationMs, 30000L}});
  ExpectRow(d.batch, 1,
            {{kProbe, "dc2"},
             {kSrcIp, "172.16.5.6"},
             {kDstIp, "8.8.8.8"},
             {kProtocol, 1L},
             {kIpVersion, 4L},
             {kIcmpType, 2048L},
             {kL7Master, 81L},
             {kL7App, 0L},
             {kL7Name, "ICMP"},
             {kInBytes, 84L},
             {kInPkts, 1L},
             {kOutBytes, 84L},
             {kOutPkts, 1L},
             {kStartTime, 1764579801000L},
             {kEndTime, 1764579801020L},
             {kDurationMs, 20L}});
  EXPECT_EQ(d.stats.records, 1u);
  EXPECT_EQ(d.stats.flows, 2u);
}

TEST(NprobeDecoderGoldenTest, BadSample) {
  const std::string text = ReadSample("bad.ndjson");
  Decoded d;
  DecodeInto(text, d);
  ASSERT_EQ(d.batch.num_rows(), 2u);
  ExpectRow(d.batch, 0,
            {{kProbe, "dc1"},
             {kSrcIp, "10.0.0.1"},
             {kDstIp, "10.0.0.2"},
             {kIpVersion, 4L},
             {kProtocol, 6L},
             {kStartTime, 1764579900000L},
             {kEndTime, 1764579900100L},
             {kDurationMs, 100L}});
  ExpectRow(d.batch, 1,
            {{kProbe, "dc1"},
             {kSrcIp, "10.0.0.3"},
             {kDstIp, "10.0.0.4"},
             {kIpVersion, 4L},
             {kStartTime, 1764579900200L}});  // dst_port "http" -> null

  const auto& r = d.sink.rejects;
  ASSERT_EQ(r.size(), 3u);
  // line 2: truncated
  EXPECT_EQ(r[0].line, 2u);
  EXPECT_EQ(r[0].offset, LineOffset(text, 2));
  EXPECT_EQ(r[0].array_index, -1);
  EXPECT_EQ(r[0].source, "test.json");
  EXPECT_EQ(r[0].reason.rfind("invalid JSON: ", 0), 0u) << r[0].reason;
  EXPECT_EQ(r[0].record, R"({"PROBEID":"dc1","IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":)");
  // line 3: [1,2,3] holds no flow object at all: one reject for the line
  EXPECT_EQ(r[1].line, 3u);
  EXPECT_EQ(r[1].offset, LineOffset(text, 3));
  EXPECT_EQ(r[1].array_index, -1);
  EXPECT_EQ(r[1].reason, "not an object: got an array of 3 elements and no flow object [1,2,3]");
  EXPECT_EQ(r[1].record, "[1,2,3]");
  // line 4: no source address
  EXPECT_EQ(r[2].line, 4u);
  EXPECT_EQ(r[2].offset, LineOffset(text, 4));
  EXPECT_EQ(r[2].reason, "missing src address (IPV4_SRC_ADDR/IPV6_SRC_ADDR)");
  EXPECT_EQ(r[2].record,
            R"({"PROBEID":"dc1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":1764579900000})");

  EXPECT_EQ(d.stats.records, 5u);
  EXPECT_EQ(d.stats.flows, 2u);
  EXPECT_EQ(d.stats.rejected, 3u);
  EXPECT_EQ(d.stats.rejected_invalid_json, 1u);
  EXPECT_EQ(d.stats.rejected_not_object, 1u);
  EXPECT_EQ(d.stats.rejected_missing_fields, 1u);
  EXPECT_EQ(d.stats.rejected_too_large, 0u);
  EXPECT_EQ(d.stats.field_errors, 1u);
  EXPECT_EQ(d.stats.field_errors_by_column[kDstPort], 1u);
}

// ---- key styles ----

TEST(NprobeDecoderTest, KeyStylesMixedInOneRecord) {
  Decoded d;
  DecodeInto(R"({"8":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","35632.118":"7.178",)"
             R"("35632.57591":"HTTP.Amazon","57595":2.5,"152":1000,"L4_DST_PORT":80,)"
             R"("35632.360":"POST","58":12,"SSL_SERVER_NAME":"a.example","9999":1})",
             d);
  ASSERT_EQ(d.batch.num_rows(), 1u);
  ExpectRow(d.batch, 0,
            {{kSrcIp, "10.0.0.1"},
             {kDstIp, "10.0.0.2"},
             {kIpVersion, 4L},
             {kL7Master, 7L},
             {kL7App, 178L},
             {kL7Name, "HTTP.Amazon"},
             {kClientLatencyMs, 2.5},
             {kStartTime, 1000L},
             {kDstPort, 80L},
             {kHttpMethod, "POST"},
             {kVlan, 12L},
             {kTlsServerName, "a.example"}});
  EXPECT_EQ(d.stats.unknown_fields, 1u);
}

TEST(NprobeDecoderTest, EscapedKeysAreUnescaped) {
  Decoded d;
  // "IPV4\u005fSRC_ADDR" is IPV4_SRC_ADDR spelled with an escape.
  DecodeInto(R"({"IPV4\u005fSRC_ADDR":"10.0.0.9","IPV4_DST_ADDR":"10.0.0.2",)"
             R"("FLOW_START_MILLISECONDS":5,"X\"Y":1})",
             d);
  ASSERT_EQ(d.batch.num_rows(), 1u);
  EXPECT_EQ(d.batch.column(kSrcIp).String(0), "10.0.0.9");
  EXPECT_EQ(d.stats.unknown_fields, 1u);
}

// ---- value types ----

TEST(NprobeDecoderTest, NumbersAsStringsAndIntegralFloats) {
  Decoded d;
  DecodeInto(Flow(R"("IN_BYTES":"123","OUT_BYTES":12.0,"IN_PKTS":"7.0","OUT_PKTS":1e3,)"
                  R"("L4_SRC_PORT":"-5","CLIENT_NW_LATENCY_MS":"0.25","SERVER_NW_LATENCY_MS":3,)"
                  R"("RETRANSMITTED_IN_PKTS":-2,"PROBEID":17,"L7_PROTO_NAME":1.50)"),
             d);
  ASSERT_EQ(d.batch.num_rows(), 1u);
  ExpectRow(d.batch, 0,
            {{kSrcIp, "10.0.0.1"},
             {kDstIp, "10.0.0.2"},
             {kIpVersion, 4L},
             {kStartTime, 1000L},
             {kInBytes, 123L},
             {kOutBytes, 12L},
             {kInPkts, 7L},
             {kOutPkts, 1000L},
             {kSrcPort, -5L},
             {kClientLatencyMs, 0.25},
             {kServerLatencyMs, 3.0},
             {kRetransmittedInPkts, -2L},  // negative counters are kept
             {kProbe, "17"},               // numbers for strings keep their text
             {kL7Name, "1.50"}});
  EXPECT_EQ(d.stats.field_errors, 0u);
}

TEST(NprobeDecoderTest, WrongTypesBecomeNullAndAreCounted) {
  struct Case {
    std::string field;
    FlowCol column;
  } cases[] = {
      {R"("L4_DST_PORT":"http")", kDstPort},
      {R"("L4_DST_PORT":true)", kDstPort},
      {R"("L4_DST_PORT":{"a":[1]})", kDstPort},
      {R"("L4_DST_PORT":[1,2])", kDstPort},
      {R"("L4_DST_PORT":2147483648)", kDstPort},     // > INT32
      {R"("L4_DST_PORT":"-2147483649")", kDstPort},  // < INT32
      {R"("L4_DST_PORT":1.5)", kDstPort},
      {R"("IN_BYTES":9223372036854775808)", kInBytes},  // > INT64
      {R"("IN_BYTES":"99999999999999999999")", kInBytes},
      {R"("IN_BYTES":1e300)", kInBytes},
      {R"("IN_BYTES":" 12")", kInBytes},
      {R"("IN_BYTES":"0x10")", kInBytes},
      {R"("IN_BYTES":"inf")", kInBytes},
      {R"("CLIENT_NW_LATENCY_MS":"fast")", kClientLatencyMs},
      {R"("CLIENT_NW_LATENCY_MS":false)", kClientLatencyMs},
      {R"("PROBEID":{"x":1})", kProbe},
      {R"("PROBEID":true)", kProbe},
      {R"("IN_SRC_MAC":"00:11:22:33:44")", kSrcMac},
      {R"("IN_SRC_MAC":5)", kSrcMac},
      {R"("EXPORTER_IPV4_ADDRESS":"300.1.1.1")", kExporterIp},
      {R"("EXPORTER_IPV6_ADDRESS":"1::2::3")", kExporterIp},
      {R"("L7_PROTO":"7.x")", kL7Master},
      {R"("L7_PROTO":"-1")", kL7Master},
      {R"("L7_PROTO":true)", kL7Master},
      {R"("FLOW_END_MILLISECONDS":"soon")", kEndTime},
      {R"("FLOW_END_MILLISECONDS":-1)", kEndTime},  // before 1970
  };
  for (const Case& c : cases) {
    Decoded d;
    DecodeInto(Flow(c.field), d);
    ASSERT_EQ(d.batch.num_rows(), 1u) << c.field;
    EXPECT_FALSE(d.batch.column(c.column).IsValid(0)) << c.field;
    EXPECT_EQ(d.stats.field_errors, 1u) << c.field;
    EXPECT_EQ(d.stats.field_errors_by_column[c.column], 1u) << c.field;
    EXPECT_TRUE(d.sink.rejects.empty()) << c.field;
  }
}

TEST(NprobeDecoderTest, BadIpProtocolVersionFallsBackToAddressFamily) {
  Decoded d;
  DecodeInto(Flow(R"("IP_PROTOCOL_VERSION":"four")"), d);
  ASSERT_EQ(d.batch.num_rows(), 1u);
  EXPECT_EQ(d.batch.column(kIpVersion).Int32(0), 4);
  EXPECT_EQ(d.stats.field_errors_by_column[kIpVersion], 1u);
}

TEST(NprobeDecoderTest, EmptyStringsAndJsonNullAreNullNotErrors) {
  Decoded d;
  DecodeInto(Flow(R"("PROBEID":"","L4_DST_PORT":"","IN_BYTES":null,"L7_PROTO":"",)"
                  R"("IN_SRC_MAC":"","EXPORTER_IPV4_ADDRESS":"","CLIENT_NW_LATENCY_MS":"")"),
             d);
  ASSERT_EQ(d.batch.num_rows(), 1u);
  ExpectRow(d.batch, 0,
            {{kSrcIp, "10.0.0.1"}, {kDstIp, "10.0.0.2"}, {kIpVersion, 4L}, {kStartTime, 1000L}});
  EXPECT_EQ(d.stats.field_errors, 0u);
}

TEST(NprobeDecoderTest, L7ProtoSplitsOnText) {
  struct Case {
    std::string value;
    int64_t master, app;
  } cases[] = {
      {R"("7.178")", 7, 178}, {R"("7.18")", 7, 18}, {R"("7.180")", 7, 180},
      {R"("13")", 13, 0},     {"13", 13, 0},        {"7.178", 7, 178},
      {"7.180", 7, 180},      {"7.18", 7, 18},      {R"("0")", 0, 0},
  };
  for (const Case& c : cases) {
    Decoded d;
    DecodeInto(Flow(R"("L7_PROTO":)" + c.value), d);
    ASSERT_EQ(d.batch.num_rows(), 1u) << c.value;
    EXPECT_EQ(d.batch.column(kL7Master).Int32(0), c.master) << c.value;
    EXPECT_EQ(d.batch.column(kL7App).Int32(0), c.app) << c.value;
    EXPECT_EQ(d.stats.field_errors, 0u) << c.value;
  }
}

// Each part of L7_PROTO is digits only and fits INT32 (leading zeros
// allowed); anything else makes the field null and counts an error.
TEST(NprobeDecoderTest, L7ProtoPartsAreInt32Digits) {
  struct Case {
    std::string value;
    bool ok;
    int64_t master, app;
  } cases[] = {
      {R"("007.0180")", true, 7, 180},   {R"("2147483647.1")", true, 2147483647, 1},
      {R"("2147483648.1")", false, 0, 0}, {R"("1.99999999999")", false, 0, 0},
      {R"("7.")", false, 0, 0},          {R"(".7")", false, 0, 0},
      {R"("7.1.2")", false, 0, 0},       {R"("-7")", false, 0, 0},
      {R"("+7")", false, 0, 0},          {R"("7a")", false, 0, 0},
      {R"(" 7")", false, 0, 0},          {"-7", false, 0, 0},
  };
  for (const Case& c : cases) {
    Decoded d;
    DecodeInto(Flow(R"("L7_PROTO":)" + c.value), d);
    ASSERT_EQ(d.batch.num_rows(), 1u) << c.value;
    EXPECT_EQ(d.batch.column(kL7Master).IsValid(0), c.ok) << c.value;
    EXPECT_EQ(d.stats.field_errors, c.ok ? 0u : 1u) << c.value;
    if (c.ok) {
      EXPECT_EQ(d.batch.column(kL7Master).Int32(0), c.master) << c.value;
      EXPECT_EQ(d.batch.column(kL7App).Int32(0), c.app) << c.value;
    }
  }
}

TEST(NprobeDecoderTest, WrongTypeIsLoggedWithFieldAndValueInRejectReasons) {
  Decoded d;
  DecodeInto(R"({"IPV4_SRC_ADDR":"10.0.0.999","IPV4_DST_ADDR":"10.0.0.2","152":1})" "\n"
             R"({"8":"x","IPV4_DST_ADDR":"10.0.0.2","152":1})" "\n"
             R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","152":"later"})",
             d);
  ASSERT_EQ(d.sink.rejects.size(), 3u);
  EXPECT_EQ(d.sink.rejects[0].reason, R"(IPV4_SRC_ADDR: expected IPv4 address, got "10.0.0.999")");
  EXPECT_EQ(d.sink.rejects[1].reason, R"(IPV4_SRC_ADDR (key "8"): expected IPv4 address, got "x")");
  EXPECT_EQ(d.sink.rejects[2].reason,
            R"(FLOW_START_MILLISECONDS (key "152"): expected integer, got "later")");
  EXPECT_EQ(d.stats.rejected_missing_fields, 3u);
}

// ---- addresses ----

TEST(NprobeDecoderTest, AddressPlaceholdersAndPreference) {
  struct Case {
    std::string fields;
    std::string src, dst;
    int64_t version;
  } cases[] = {
      // v4 placeholders, v6 real
      {R"("IPV4_SRC_ADDR":"0.0.0.0","IPV4_DST_ADDR":"0.0.0.0","IPV6_SRC_ADDR":"2001:db8::1",)"
       R"("IPV6_DST_ADDR":"2001:db8::2")",
       "2001:db8::1", "2001:db8::2", 6},
      // both real, IP_PROTOCOL_VERSION 6 picks v6
      {R"("IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","IPV6_SRC_ADDR":"2001:db8::1",)"
       R"("IPV6_DST_ADDR":"2001:db8::2","IP_PROTOCOL_VERSION":6)",
       "2001:db8::1", "2001:db8::2", 6},
      // both real, no version: IPv4
      {R"("IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","IPV6_SRC_ADDR":"2001:db8::1",)"
       R"("IPV6_DST_ADDR":"2001:db8::2")",
       "10.0.0.1", "10.0.0.2", 4},
      // both real, version 4
      {R"("IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","IPV6_SRC_ADDR":"2001:db8::1",)"
       R"("IPV6_DST_ADDR":"2001:db8::2","IP_PROTOCOL_VERSION":4)",
       "10.0.0.1", "10.0.0.2", 4},
      // v6 placeholders, v4 real, numeric ids
      {R"("8":"10.0.0.1","12":"10.0.0.2","27":"::","28":"0:0::0")", "10.0.0.1", "10.0.0.2", 4},
      // canonical IPv6 text
      {R"("IPV6_SRC_ADDR":"2001:0DB8:0000:0000:0000:0000:0000:0001","IPV6_DST_ADDR":"FE80::A")",
       "2001:db8::1", "fe80::a", 6},
  };
  for (const Case& c : cases) {
    Decoded d;
    DecodeInto("{" + c.fields + R"(,"FLOW_START_MILLISECONDS":1})", d);
    ASSERT_EQ(d.batch.num_rows(), 1u) << c.fields;
    EXPECT_EQ(d.batch.column(kSrcIp).String(0), c.src) << c.fields;
    EXPECT_EQ(d.batch.column(kDstIp).String(0), c.dst) << c.fields;
    EXPECT_EQ(d.batch.column(kIpVersion).Int32(0), c.version) << c.fields;
  }
}

TEST(NprobeDecoderTest, PlaceholderOnlyAddressIsMissing) {
  Decoded d;
  DecodeInto(R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"0.0.0.0","IPV6_DST_ADDR":"::",)"
             R"("FLOW_START_MILLISECONDS":1})",
             d);
  ASSERT_EQ(d.sink.rejects.size(), 1u);
  EXPECT_EQ(d.sink.rejects[0].reason, "missing dst address (IPV4_DST_ADDR/IPV6_DST_ADDR)");
}

TEST(NprobeDecoderTest, ExporterPrefersIpv4AndSkipsPlaceholders) {
  Decoded d;
  DecodeInto(Flow(R"("EXPORTER_IPV4_ADDRESS":"192.0.2.1","EXPORTER_IPV6_ADDRESS":"2001:db8::9")") +
                 "\n" + Flow(R"("130":"0.0.0.0","131":"2001:DB8::9")") + "\n" +
                 Flow(R"("EXPORTER_IPV4_ADDRESS":"0.0.0.0")"),
             d);
  ASSERT_EQ(d.batch.num_rows(), 3u);
  EXPECT_EQ(d.batch.column(kExporterIp).String(0), "192.0.2.1");
  EXPECT_EQ(d.batch.column(kExporterIp).String(1), "2001:db8::9");
  EXPECT_FALSE(d.batch.column(kExporterIp).IsValid(2));
}

// ---- timestamps ----

TEST(NprobeDecoderTest, TimestampFallbackOrder) {
  struct Case {
    std::string fields;
    int64_t start;
    std::optional<int64_t> end;
  } cases[] = {
      {R"("FLOW_START_MILLISECONDS":5000,"FLOW_START_MICROSECONDS":1,"FLOW_START_SEC":1,)"
       R"("FIRST_SWITCHED":1,"FLOW_END_MILLISECONDS":6000)",
       5000, 6000},
      {R"("FLOW_START_MICROSECONDS":5000999,"FLOW_END_MICROSECONDS":"6000001","FLOW_START_SEC":1)",
       5000, 6000},
      {R"("154":5000000,"155":7000000)", 5000, 7000},
      {R"("FLOW_START_SEC":5,"FLOW_END_SEC":"6","FIRST_SWITCHED":1,"LAST_SWITCHED":2)", 5000,
       6000},
      {R"("150":5,"151":6)", 5000, 6000},
      {R"("FIRST_SWITCHED":5,"LAST_SWITCHED":9)", 5000, 9000},
      {R"("22":"5","21":"9")", 5000, 9000},
      {R"("FIRST_SWITCHED":5)", 5000, std::nullopt},
      // end before start: kept, but no duration
      {R"("FLOW_START_MILLISECONDS":5000,"FLOW_END_MILLISECONDS":4000)", 5000, 4000},
      // a bad primary falls back to the next source
      {R"("FLOW_START_MILLISECONDS":"x","FIRST_SWITCHED":5)", 5000, std::nullopt},
      // the bounds
      {R"("FLOW_START_MILLISECONDS":0)", 0, std::nullopt},
      {R"("FLOW_START_MILLISECONDS":253402300799999)", 253402300799999, std::nullopt},
  };
  for (const Case& c : cases) {
    Decoded d;
    DecodeInto(R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2",)" + c.fields + "}", d);
    ASSERT_EQ(d.batch.num_rows(), 1u) << c.fields;
    EXPECT_EQ(d.batch.column(kStartTime).Int64(0), c.start) << c.fields;
    ASSERT_EQ(d.batch.column(kEndTime).IsValid(0), c.end.has_value()) << c.fields;
    if (c.end) {
      EXPECT_EQ(d.batch.column(kEndTime).Int64(0), *c.end) << c.fields;
      bool has_duration = *c.end >= c.start;
      ASSERT_EQ(d.batch.column(kDurationMs).IsValid(0), has_duration) << c.fields;
      if (has_duration) {
        EXPECT_EQ(d.batch.column(kDurationMs).Int64(0), *c.end - c.start);
      }
    } else {
      EXPECT_FALSE(d.batch.column(kDurationMs).IsValid(0)) << c.fields;
    }
  }
}

TEST(NprobeDecoderTest, StartTimeOutOfRangeIsRejected) {
  struct Case {
    std::string field;
    std::string reason;
  } cases[] = {
      {R"("FLOW_START_MILLISECONDS":-1)",
       "FLOW_START_MILLISECONDS: timestamp out of range [1970-01-01, 9999-12-31], got -1"},
      {R"("FLOW_START_MILLISECONDS":253402300800000)",
       "FLOW_START_MILLISECONDS: timestamp out of range [1970-01-01, 9999-12-31], got "
       "253402300800000"},
      {R"("FIRST_SWITCHED":"9223372036854775807")",
       R"(FIRST_SWITCHED: timestamp out of range [1970-01-01, 9999-12-31], got "9223372036854775807")"},
      {R"("FLOW_START_MILLISECONDS":1e300)",
       "FLOW_START_MILLISECONDS: timestamp out of range [1970-01-01, 9999-12-31], got 1e300"},
      {R"("FIRST_SWITCHED":true)", "FIRST_SWITCHED: expected integer, got true"},
      {R"("PROBEID":"p")",
       "missing start time (FLOW_START_MILLISECONDS/FLOW_START_MICROSECONDS/FLOW_START_SEC/"
       "FIRST_SWITCHED)"},
  };
  for (const Case& c : cases) {
    Decoded d;
    DecodeInto(R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2",)" + c.field + "}", d);
    EXPECT_EQ(d.batch.num_rows(), 0u) << c.field;
    ASSERT_EQ(d.sink.rejects.size(), 1u) << c.field;
    EXPECT_EQ(d.sink.rejects[0].reason, c.reason);
    EXPECT_EQ(d.stats.rejected_missing_fields, 1u);
  }
}

// ---- records, arrays and framing ----

TEST(NprobeDecoderTest, ArraysMixedWithObjects) {
  const std::string text = Flow(R"("PROBEID":"a")") + "\n[" + Flow(R"("PROBEID":"b")") +
                           ", 7, " + Flow(R"("PROBEID":"c")") +
                           R"(, {"PROBEID":"no-src"}, "s", [1]])" + "\n" +
                           Flow(R"("PROBEID":"d")") + "\n[]\n";
  Decoded d;
  DecodeInto(text, d);
  ASSERT_EQ(d.batch.num_rows(), 4u);
  EXPECT_EQ(d.batch.column(kProbe).String(0), "a");
  EXPECT_EQ(d.batch.column(kProbe).String(1), "b");
  EXPECT_EQ(d.batch.column(kProbe).String(2), "c");
  EXPECT_EQ(d.batch.column(kProbe).String(3), "d");
  const auto& r = d.sink.rejects;
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].array_index, 1);
  EXPECT_EQ(r[0].reason, "not an object: got number 7");
  EXPECT_EQ(r[0].record, "7");
  EXPECT_EQ(r[1].array_index, 3);
  EXPECT_EQ(r[1].reason, "missing src address (IPV4_SRC_ADDR/IPV6_SRC_ADDR)");
  EXPECT_EQ(r[1].record, R"({"PROBEID":"no-src"})");
  EXPECT_EQ(r[2].array_index, 4);
  EXPECT_EQ(r[2].reason, R"(not an object: got string "s")");
  EXPECT_EQ(r[3].array_index, 5);
  EXPECT_EQ(r[3].reason, "not an object: got array");
  EXPECT_EQ(r[3].record, "[1]");
  for (const auto& x : r) {
    EXPECT_EQ(x.line, 2u);
    EXPECT_EQ(x.offset, LineOffset(text, 2));
  }
  EXPECT_EQ(d.stats.records, 4u);
  EXPECT_EQ(d.stats.flows, 4u);
  EXPECT_EQ(d.stats.rejected_not_object, 3u);
  EXPECT_EQ(d.stats.rejected_missing_fields, 1u);
}

TEST(NprobeDecoderTest, InvalidArrayIsRejectedWhole) {
  // The first element is fine, but the array is cut: the whole record goes
  // to the sink (with its good element), nothing is appended.
  const std::string bad = "[" + Flow("") + R"(, {"IPV4_SRC_ADDR": 1 2}])";
  Decoded d;
  DecodeInto(bad + "\n" + Flow(""), d);
  EXPECT_EQ(d.batch.num_rows(), 1u);
  ASSERT_EQ(d.sink.rejects.size(), 1u);
  EXPECT_EQ(d.sink.rejects[0].record, bad);
  EXPECT_EQ(d.sink.rejects[0].array_index, 1);
  EXPECT_EQ(d.sink.rejects[0].reason.rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(d.stats.flows, 1u);
  EXPECT_EQ(d.stats.rejected, 1u);
  EXPECT_EQ(d.stats.rejected_invalid_json, 1u);
}

TEST(NprobeDecoderTest, InvalidJsonAndTrailingContent) {
  const std::string cases[] = {
      Flow("") + " {}",                  // trailing content
      Flow("") + "}",                    // extra brace
      R"({"IPV4_SRC_ADDR":"10.0.0.1",})",  // trailing comma
      R"({"a" 1})",
      "{\"a\":\"\xff\"}",  // invalid UTF-8
      "nul",
      "{\"a\":\"unterminated}",
  };
  for (const std::string& c : cases) {
    Decoded d;
    DecodeInto(c, d);
    EXPECT_EQ(d.batch.num_rows(), 0u) << c;
    ASSERT_EQ(d.sink.rejects.size(), 1u) << c;
    EXPECT_EQ(d.sink.rejects[0].record, c);
    EXPECT_EQ(d.stats.rejected, 1u) << c;
    EXPECT_EQ(d.stats.rejected_invalid_json + d.stats.rejected_not_object, 1u) << c;
  }
}

TEST(NprobeDecoderTest, NonObjectRecord) {
  Decoded d;
  DecodeInto("42\n\"x\"\ntrue\n", d);
  ASSERT_EQ(d.sink.rejects.size(), 3u);
  EXPECT_EQ(d.sink.rejects[0].reason, "not an object: got number 42");
  EXPECT_EQ(d.sink.rejects[1].reason, "not an object: got string \"x\"");
  EXPECT_EQ(d.sink.rejects[2].reason, "not an object: got boolean true");
  EXPECT_EQ(d.stats.rejected_not_object, 3u);
}

TEST(NprobeDecoderTest, PrettyPrintedTruncatedAndCrLf) {
  const std::string pretty = "{\n  \"IPV4_SRC_ADDR\": \"10.0.0.1\",\n  \"IPV4_DST_ADDR\": "
                             "\"10.0.0.2\",\n  \"FLOW_START_MILLISECONDS\": 7\n}";
  const std::string text = pretty + "\r\n" + R"({"IPV4_SRC_ADDR": "10.0.0.5", "IPV4)" + "\r\n" +
                           "[" + Flow(R"("PROBEID":"x")") + "]\r\n\r\n" + Flow("") + "\r\n";
  Decoded d;
  DecodeInto(text, d);
  ASSERT_EQ(d.batch.num_rows(), 3u);
  EXPECT_EQ(d.batch.column(kStartTime).Int64(0), 7);
  EXPECT_EQ(d.batch.column(kProbe).String(1), "x");
  ASSERT_EQ(d.sink.rejects.size(), 1u);
  EXPECT_EQ(d.sink.rejects[0].line, 6u);
  EXPECT_EQ(d.sink.rejects[0].offset, LineOffset(text, 6));
  EXPECT_EQ(d.sink.rejects[0].record, R"({"IPV4_SRC_ADDR": "10.0.0.5", "IPV4)");
  EXPECT_EQ(d.newlines, 9u);
}

TEST(NprobeDecoderTest, TooLargeRecordIsRejected) {
  DecoderConfig config;
  config.max_record_bytes = 100;
  const std::string big = Flow(R"("PROBEID":")" + std::string(100, 'p') + "\"");
  Decoded d;
  DecodeInto(Flow("") + "\n" + big + "\n" + Flow(""), d, config);
  EXPECT_EQ(d.batch.num_rows(), 2u);
  ASSERT_EQ(d.sink.rejects.size(), 1u);
  EXPECT_EQ(d.sink.rejects[0].reason, "record too large: " + std::to_string(big.size()) +
                                          " bytes > max_record_bytes 100");
  EXPECT_EQ(d.sink.rejects[0].line, 2u);
  EXPECT_EQ(d.sink.rejects[0].record, big);
  EXPECT_EQ(d.stats.rejected_too_large, 1u);
  EXPECT_EQ(d.stats.records, 3u);
}

TEST(NprobeDecoderTest, UnpaddedChunkIsCopied) {
  NprobeDecoder decoder;
  FlowBatch batch;
  CollectingSink sink;
  const std::string text = Flow(R"("PROBEID":"p")") + "\n" + Flow("");
  // capacity == size: the decoder must not read past the end (ASan checks).
  auto buf = std::make_unique<char[]>(text.size());
  std::memcpy(buf.get(), text.data(), text.size());
  uint64_t lines =
      decoder.DecodeChunk(buf.get(), text.size(), text.size(), "f", 10, 500, batch, sink);
  EXPECT_EQ(lines, 1u);
  EXPECT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(batch.column(kProbe).String(0), "p");
}

TEST(NprobeDecoderTest, DecodeMessage) {
  NprobeDecoder decoder;
  FlowBatch batch;
  CollectingSink sink;
  SourcePosition pos{"flows/3", 0, 12345, -1};
  decoder.DecodeMessage(Flow(R"("PROBEID":"k1")"), pos, batch, sink);
  decoder.DecodeMessage("[" + Flow(R"("PROBEID":"k2")") + ",\n 1]", pos, batch, sink);
  decoder.DecodeMessage("{", pos, batch, sink);
  decoder.DecodeMessage("", pos, batch, sink);
  ASSERT_EQ(batch.num_rows(), 2u);
  EXPECT_EQ(batch.column(kProbe).String(1), "k2");
  ASSERT_EQ(sink.rejects.size(), 3u);
  EXPECT_EQ(sink.rejects[0].source, "flows/3");
  EXPECT_EQ(sink.rejects[0].offset, 12345u);
  EXPECT_EQ(sink.rejects[0].array_index, 1);
  EXPECT_EQ(sink.rejects[1].record, "{");
  EXPECT_EQ(sink.rejects[2].reason.rfind("invalid JSON", 0), 0u);
  EXPECT_EQ(decoder.stats().records, 4u);
}

TEST(NprobeDecoderTest, StatsAddAndConfigValidation) {
  DecoderStats a, b;
  a.flows = 2;
  a.field_errors_by_column[kDstPort] = 1;
  b.flows = 3;
  b.rejected = 1;
  b.field_errors_by_column[kDstPort] = 4;
  a.Add(b);
  EXPECT_EQ(a.flows, 5u);
  EXPECT_EQ(a.rejected, 1u);
  EXPECT_EQ(a.field_errors_by_column[kDstPort], 5u);

  DecoderConfig config;
  EXPECT_TRUE(config.Validate().ok());
  config.max_record_bytes = 0;
  EXPECT_FALSE(config.Validate().ok());
  EXPECT_THROW(NprobeDecoder{config}, std::invalid_argument);
  config.max_record_bytes = 10;
  config.log_per_second = -1;
  EXPECT_FALSE(config.Validate().ok());
}

TEST(NprobeDecoderTest, DecoderIsReusableAcrossChunks) {
  NprobeDecoder decoder;
  FlowBatch batch;
  CollectingSink sink;
  for (int i = 0; i < 3; ++i) {
    std::string text = Flow(R"("IN_BYTES":)" + std::to_string(i)) + "\n{bad\n";
    text.append(kDecoderPadding, ' ');
    decoder.DecodeChunk(text.data(), text.size() - kDecoderPadding, text.size(), "f", 1, 0, batch,
                        sink);
  }
  ASSERT_EQ(batch.num_rows(), 3u);
  EXPECT_EQ(batch.column(kInBytes).Int64(2), 2);
  EXPECT_EQ(decoder.stats().records, 6u);
  EXPECT_EQ(decoder.stats().rejected_invalid_json, 3u);
}

// Decodes `text` with the flat-object fast path and without it, and
// expects the same rows (bit for bit), rejects and counters.
void ExpectSameAsSimdjsonAlone(const std::string& text) {
  Decoded fast, slow;
  DecodeInto(text, fast);
  DecoderConfig config;
  config.flat_object_fast_path = false;
  DecodeInto(text, slow, config);

  ASSERT_EQ(fast.batch.num_rows(), slow.batch.num_rows());
  for (size_t c = 0; c < kFlowColumnCount; ++c) {
    const Column& a = fast.batch.column(c);
    const Column& b = slow.batch.column(c);
    const std::string name(FlowSchema().field(c).name);
    for (size_t r = 0; r < a.size(); ++r) {
      ASSERT_EQ(a.IsValid(r), b.IsValid(r)) << name << " row " << r;
      if (!a.IsValid(r)) continue;
      switch (a.type()) {
        case ColumnType::kString: EXPECT_EQ(a.String(r), b.String(r)) << name; break;
        case ColumnType::kBool:
        case ColumnType::kInt32: EXPECT_EQ(a.Int32(r), b.Int32(r)) << name; break;
        case ColumnType::kInt64:
        case ColumnType::kTimestampMs: EXPECT_EQ(a.Int64(r), b.Int64(r)) << name; break;
        case ColumnType::kDouble:
          EXPECT_EQ(std::memcmp(&a.double_values()[r], &b.double_values()[r], 8), 0) << name;
          break;
      }
    }
  }
  ASSERT_EQ(fast.sink.rejects.size(), slow.sink.rejects.size());
  for (size_t i = 0; i < fast.sink.rejects.size(); ++i) {
    EXPECT_EQ(fast.sink.rejects[i].reason, slow.sink.rejects[i].reason);
    EXPECT_EQ(fast.sink.rejects[i].record, slow.sink.rejects[i].record);
    EXPECT_EQ(fast.sink.rejects[i].line, slow.sink.rejects[i].line);
  }
  EXPECT_EQ(fast.stats.unknown_fields, slow.stats.unknown_fields);
  EXPECT_EQ(fast.stats.field_errors, slow.stats.field_errors);
  EXPECT_EQ(fast.stats.field_errors_by_column, slow.stats.field_errors_by_column);
  EXPECT_EQ(fast.stats.rejected_invalid_json, slow.stats.rejected_invalid_json);
  EXPECT_EQ(fast.stats.rejected_missing_fields, slow.stats.rejected_missing_fields);
}

// The flat-object fast path must decode exactly as simdjson does, and hand
// everything it does not take (escapes, non-ASCII, nesting, exponents,
// malformed text, whitespace in odd places) to simdjson unchanged.
TEST(NprobeDecoderTest, FlatObjectFastPathMatchesSimdjson) {
  const std::string records[] = {
      Flow(""),
      Flow(R"("IN_BYTES":12,"OUT_BYTES":-0,"L4_SRC_PORT":"443","PROTOCOL":6.0)"),
      Flow(R"("IN_BYTES":1e3,"OUT_BYTES":123456789012345678901,"IN_PKTS":-9223372036854775808)"),
      Flow(R"("CLIENT_NW_LATENCY_MS":0.125,"SERVER_NW_LATENCY_MS":1.5e-3,"APPL_LATENCY_MS":"7")"),
      Flow(R"("CLIENT_NW_LATENCY_MS":123456789.123456789123456789,"APPL_LATENCY_MS":-0.0)"),
      Flow(R"("L7_PROTO":7.180,"L7_PROTO_NAME":"HTTP","TLS_VERSION":true,"SRC_VLAN":null)"),
      Flow(R"("L7_PROTO":"7.18","DNS_QUERY":"","HTTP_URL":"/a\"b","HTTP_HOST":"\u00e9.fr")"),
      Flow(R"("PROBEID":"caf\u00e9","HTTP_METHOD":"G\u0045T","JA3C_HASH":"é")"),
      Flow(R"("IN_SRC_MAC":"00:25:90:D4:CC:F9","OUT_DST_MAC":"bad","MIN_TTL":{"a":1},"MAX_TTL":[1])"),
      Flow(R"("UNKNOWN":{"nested":[1,2,{"x":null}]},"OTHER":[],"X":false,"Y":"z")"),
      Flow(R"("IPV6_SRC_ADDR":"2001:DB8::1","IPV6_DST_ADDR":"::","IP_PROTOCOL_VERSION":6)"),
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_SEC":17e2})",
      R"({"8":"10.0.0.1","12":"10.0.0.2","152":1000,"35632.118":"1.2","57591":"X"})",
      R"(  { "IPV4_SRC_ADDR" : "10.0.0.1" , "IPV4_DST_ADDR":"10.0.0.2",)"
      R"( "FLOW_START_MILLISECONDS" :	1000 }  )",
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":1000,})",
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":01})",
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":1000}x)",
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":1.})",
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":tru})",
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS")",
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","IN_BYTES":1,"IN_BYTES":"x",)"
      R"("FLOW_START_MILLISECONDS":1000})",
      R"({"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":99999999999999999})",
      R"({})",
      R"([{"IPV4_SRC_ADDR":"10.0.0.1","IPV4_DST_ADDR":"10.0.0.2","FLOW_START_MILLISECONDS":1000}])",
  };
  std::string text;
  // Twice, in two orders: the second pass runs with keys already predicted.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < std::size(records); ++i) {
      text += records[pass == 0 ? i : std::size(records) - 1 - i];
      text += '\n';
    }
  }
  ExpectSameAsSimdjsonAlone(text);
  EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 40);
}

// Latencies are doubles read without from_chars when short: every short
// decimal shape must give the same bits as simdjson's parse.
TEST(NprobeDecoderTest, FastPathDoublesMatchSimdjson) {
  std::mt19937_64 rng(7);
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    auto decimal = [&rng] {
      std::string v = (rng() % 4 == 0) ? "-" : "";
      if (rng() % 3 == 0) {
        v += '0';  // 0.151
      } else {
        v += static_cast<char>('1' + rng() % 9);
        const int more = static_cast<int>(rng() % 9);
        for (int d = 0; d < more; ++d) v += static_cast<char>('0' + rng() % 10);
      }
      const int frac_digits = static_cast<int>(rng() % 12);
      if (frac_digits > 0) {
        v += '.';
        for (int d = 0; d < frac_digits; ++d) v += static_cast<char>('0' + rng() % 10);
      }
      return v;
    };
    text += Flow(R"("CLIENT_NW_LATENCY_MS":)" + decimal() + R"(,"SERVER_NW_LATENCY_MS":)" +
                 decimal() + R"(,"APPL_LATENCY_MS":)" + decimal());
    text += '\n';
  }
  ExpectSameAsSimdjsonAlone(text);
}

// More than 19 digits ending in zeros: simdjson 3.0.1 (Debian 12's) reads
// 0.412764583199979700000 as 0.00693...; the decoder must not, on either
// path (a flat object takes the fast path, an array simdjson), in double
// and in integer fields.
TEST(NprobeDecoderTest, LongDecimalsAreReadCorrectly) {
  const std::string fields =
      R"("CLIENT_NW_LATENCY_MS":0.412764583199979700000,"SERVER_NW_LATENCY_MS":1.50000000000000000000,)"
      R"("IN_BYTES":1874.00000000000000000000,"OUT_BYTES":12345678901234567.0000)";
  const Row want = {{kClientLatencyMs, 0.4127645831999797}, {kServerLatencyMs, 1.5},
                    {kInBytes, 1874L}, {kOutBytes, 12345678901234568L},  // the nearest double
                    {kSrcIp, "10.0.0.1"}, {kDstIp, "10.0.0.2"}, {kIpVersion, 4L},
                    {kStartTime, 1000L}};
  for (const bool fast_path : {true, false}) {
    for (const std::string& text : {Flow(fields), "[" + Flow(fields) + "]"}) {
      SCOPED_TRACE(::testing::Message() << "fast path " << fast_path << ": " << text);
      Decoded d;
      DecoderConfig config;
      config.flat_object_fast_path = fast_path;
      DecodeInto(text, d, config);
      ASSERT_EQ(d.batch.num_rows(), 1u);
      ExpectRow(d.batch, 0, want);
      EXPECT_EQ(d.stats.field_errors, 0u);
    }
  }
}

// Keys predicted from earlier records must not stick: a record whose keys
// share prefixes with, or come in another order than, the previous ones.
TEST(NprobeDecoderTest, KeyPredictionFollowsChangingKeys) {
  const std::string text =
      Flow(R"("IN_BYTES":1,"OUT_BYTES":2)") + "\n" +
      Flow(R"("OUT_BYTES":3,"IN_BYTES":4)") + "\n" +
      Flow(R"("IN_BYTESX":5,"IN_BYTES":6)") + "\n" +
      Flow(R"("IN_BYTE":7,"IN_PKTS":8)") + "\n" +
      Flow(R"("IN_BYTES":9,"OUT_BYTES":10)") + "\n";
  Decoded d;
  DecodeInto(text, d);
  ASSERT_EQ(d.batch.num_rows(), 5u);
  const Column& in = d.batch.column(kInBytes);
  const Column& out = d.batch.column(kOutBytes);
  EXPECT_EQ(in.Int64(0), 1);
  EXPECT_EQ(out.Int64(0), 2);
  EXPECT_EQ(in.Int64(1), 4);
  EXPECT_EQ(out.Int64(1), 3);
  EXPECT_EQ(in.Int64(2), 6);
  EXPECT_FALSE(out.IsValid(2));
  EXPECT_FALSE(in.IsValid(3));
  EXPECT_EQ(d.batch.column(kInPkts).Int64(3), 8);
  EXPECT_EQ(in.Int64(4), 9);
  EXPECT_EQ(out.Int64(4), 10);
  EXPECT_EQ(d.stats.unknown_fields, 2u);
}

}  // namespace
}  // namespace flowlake
