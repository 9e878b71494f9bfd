// The nProbe JSON fields the generator emits: label, element id, and whether
// the id is one of ntop's enterprise fields (PEN 35632), which nProbe writes
// either plain ("57590") or qualified ("35632.57590").
//
// Deliberately a table of its own, not decode/nprobe_fields.h: generated
// data is an independent check of the decoder, and a wrong id in one shared
// table would pass every round trip unnoticed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace flowlake::synth {

enum class NprobeField : uint8_t {
  kProbeId,
  kExporterIpv4Address,
  kInSrcMac,
  kOutDstMac,
  kInputSnmp,
  kOutputSnmp,
  kSrcVlan,
  kIpv4SrcAddr,
  kIpv4DstAddr,
  kL4SrcPort,
  kL4DstPort,
  kIpv6SrcAddr,
  kIpv6DstAddr,
  kIpProtocolVersion,
  kProtocol,
  kL7Proto,
  kL7ProtoName,
  kInBytes,
  kInPkts,
  kOutBytes,
  kOutPkts,
  kFlowStartMilliseconds,
  kFlowEndMilliseconds,
  kFirstSwitched,
  kLastSwitched,
  kTcpFlags,
  kClientTcpFlags,
  kServerTcpFlags,
  kSrcTos,
  kMinTtl,
  kMaxTtl,
  kRetransmittedInPkts,
  kRetransmittedOutPkts,
  kClientNwLatencyMs,
  kServerNwLatencyMs,
  kApplLatencyMs,
  kIcmpType,
  kDnsQuery,
  kDnsQueryType,
  kDnsRetCode,
  kHttpUrl,
  kHttpHost,
  kHttpMethod,
  kHttpRetCode,
  kTlsServerName,
  kTlsVersion,
  kJa3cHash,
  kJa3sHash,
  kCount,
};

struct NprobeFieldInfo {
  std::string_view label;
  uint32_t element_id;  // 0: no element id, the label is used in every style
  // ntop enterprise field: element_id - 57472 is its IPFIX id under PEN 35632.
  bool is_ntop() const { return element_id > 57472; }
};

constexpr NprobeFieldInfo kNprobeFields[] = {
    {"PROBEID", 0},
    {"EXPORTER_IPV4_ADDRESS", 130},
    {"IN_SRC_MAC", 56},
    {"OUT_DST_MAC", 57},
    {"INPUT_SNMP", 10},
    {"OUTPUT_SNMP", 14},
    {"SRC_VLAN", 58},
    {"IPV4_SRC_ADDR", 8},
    {"IPV4_DST_ADDR", 12},
    {"L4_SRC_PORT", 7},
    {"L4_DST_PORT", 11},
    {"IPV6_SRC_ADDR", 27},
    {"IPV6_DST_ADDR", 28},
    {"IP_PROTOCOL_VERSION", 60},
    {"PROTOCOL", 4},
    {"L7_PROTO", 57590},
    {"L7_PROTO_NAME", 57591},
    {"IN_BYTES", 1},
    {"IN_PKTS", 2},
    {"OUT_BYTES", 23},
    {"OUT_PKTS", 24},
    {"FLOW_START_MILLISECONDS", 152},
    {"FLOW_END_MILLISECONDS", 153},
    {"FIRST_SWITCHED", 22},
    {"LAST_SWITCHED", 21},
    {"TCP_FLAGS", 6},
    {"CLIENT_TCP_FLAGS", 57550},
    {"SERVER_TCP_FLAGS", 57551},
    {"SRC_TOS", 5},
    {"MIN_TTL", 52},
    {"MAX_TTL", 53},
    {"RETRANSMITTED_IN_PKTS", 57581},
    {"RETRANSMITTED_OUT_PKTS", 57582},
    {"CLIENT_NW_LATENCY_MS", 57595},
    {"SERVER_NW_LATENCY_MS", 57596},
    {"APPL_LATENCY_MS", 57597},
    {"ICMP_TYPE", 32},
    {"DNS_QUERY", 57677},
    {"DNS_QUERY_TYPE", 57679},
    {"DNS_RET_CODE", 57680},
    {"HTTP_URL", 57652},
    {"HTTP_HOST", 57659},
    {"HTTP_METHOD", 57832},
    {"HTTP_RET_CODE", 57653},
    {"TLS_SERVER_NAME", 57660},
    {"TLS_VERSION", 57967},
    {"JA3C_HASH", 57961},
    {"JA3S_HASH", 57962},
};
static_assert(std::size(kNprobeFields) == static_cast<size_t>(NprobeField::kCount));

constexpr const NprobeFieldInfo& FieldInfo(NprobeField f) {
  return kNprobeFields[static_cast<size_t>(f)];
}

}  // namespace flowlake::synth
