// The nProbe fields flowlake reads, and the lookup from a JSON key to one.
//
// nProbe names a field in JSON by its label ("IPV4_SRC_ADDR", with
// --json-labels), by its NetFlow v9 element id ("8"), or by an IPFIX
// enterprise-qualified id ("35632.118" or "35632.57590" for ntop's PEN). All
// three spellings of a field map to the same NprobeField. docs/schema.md is
// the human-readable form of the table in nprobe_fields.cc.
//
// Thread-safety: the lookup tables are immutable after first use (built in a
// function-local static), so LookupKey() may be called from any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/flow_schema.h"

namespace flowlake {

// One per distinct nProbe information element. Aliases (an older label for
// the same element, e.g. SSL_SERVER_NAME) map to the same value.
enum class NprobeField : uint8_t {
  kUnknown = 0,
  kProbeId,
  kExporterIpv4,
  kExporterIpv6,
  kIpv4Src,
  kIpv6Src,
  kIpv4Dst,
  kIpv6Dst,
  kL4SrcPort,
  kL4DstPort,
  kProtocol,
  kIpProtocolVersion,
  kL7Proto,
  kL7ProtoName,
  kInBytes,
  kOutBytes,
  kInPkts,
  kOutPkts,
  kFlowStartMs,
  kFlowEndMs,
  kFlowStartUs,
  kFlowEndUs,
  kFlowStartSec,
  kFlowEndSec,
  kFirstSwitched,
  kLastSwitched,
  kTcpFlags,
  kClientTcpFlags,
  kServerTcpFlags,
  kInSrcMac,
  kOutDstMac,
  kSrcVlan,
  kInputSnmp,
  kOutputSnmp,
  kSrcTos,
  kMinTtl,
  kMaxTtl,
  kIcmpType,
  kRetransmittedInPkts,
  kRetransmittedOutPkts,
  kClientNwLatencyMs,
  kServerNwLatencyMs,
  kApplLatencyMs,
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
inline constexpr size_t kNprobeFieldCount = static_cast<size_t>(NprobeField::kCount);

// How a field's JSON value is read.
enum class FieldKind : uint8_t {
  kString,     // JSON string; a JSON number is kept as its raw text
  kInt32,      // integer (number or numeric string) that fits INT32
  kInt64,      // integer that fits INT64
  kDouble,     // any finite number (or numeric string)
  kIpv4,       // dotted quad, inet_pton(AF_INET) rules
  kIpv6,       // inet_pton(AF_INET6) rules
  kMac,        // xx:xx:xx:xx:xx:xx
  kL7Proto,    // "master.app", "id", or a JSON number split on its raw text
  kTimeMs,     // integer epoch milliseconds
  kTimeUs,     // integer epoch microseconds
  kTimeSec,    // integer epoch seconds
};

struct NprobeFieldInfo {
  NprobeField field;
  std::string_view label;  // nProbe's current label
  uint16_t element_id;     // NetFlow v9 / nProbe id; 0 = none (custom field)
  FieldKind kind;
  FlowCol column;  // the lake column the field feeds
};

namespace internal {
using F = NprobeField;
using K = FieldKind;
// Ids checked against nProbe's `nprobe -H` template list (NetFlow v9 column;
// ntop fields are 57472 + their IPFIX id under PEN 35632).
inline constexpr NprobeFieldInfo kFieldTable[kNprobeFieldCount] = {
    {F::kUnknown, "", 0, K::kString, kProbe},
    {F::kProbeId, "PROBEID", 0, K::kString, kProbe},
    {F::kExporterIpv4, "EXPORTER_IPV4_ADDRESS", 130, K::kIpv4, kExporterIp},
    {F::kExporterIpv6, "EXPORTER_IPV6_ADDRESS", 131, K::kIpv6, kExporterIp},
    {F::kIpv4Src, "IPV4_SRC_ADDR", 8, K::kIpv4, kSrcIp},
    {F::kIpv6Src, "IPV6_SRC_ADDR", 27, K::kIpv6, kSrcIp},
    {F::kIpv4Dst, "IPV4_DST_ADDR", 12, K::kIpv4, kDstIp},
    {F::kIpv6Dst, "IPV6_DST_ADDR", 28, K::kIpv6, kDstIp},
    {F::kL4SrcPort, "L4_SRC_PORT", 7, K::kInt32, kSrcPort},
    {F::kL4DstPort, "L4_DST_PORT", 11, K::kInt32, kDstPort},
    {F::kProtocol, "PROTOCOL", 4, K::kInt32, kProtocol},
    {F::kIpProtocolVersion, "IP_PROTOCOL_VERSION", 60, K::kInt32, kIpVersion},
    {F::kL7Proto, "L7_PROTO", 57590, K::kL7Proto, kL7Master},
    {F::kL7ProtoName, "L7_PROTO_NAME", 57591, K::kString, kL7Name},
    {F::kInBytes, "IN_BYTES", 1, K::kInt64, kInBytes},
    {F::kOutBytes, "OUT_BYTES", 23, K::kInt64, kOutBytes},
    {F::kInPkts, "IN_PKTS", 2, K::kInt64, kInPkts},
    {F::kOutPkts, "OUT_PKTS", 24, K::kInt64, kOutPkts},
    {F::kFlowStartMs, "FLOW_START_MILLISECONDS", 152, K::kTimeMs, kStartTime},
    {F::kFlowEndMs, "FLOW_END_MILLISECONDS", 153, K::kTimeMs, kEndTime},
    {F::kFlowStartUs, "FLOW_START_MICROSECONDS", 154, K::kTimeUs, kStartTime},
    {F::kFlowEndUs, "FLOW_END_MICROSECONDS", 155, K::kTimeUs, kEndTime},
    {F::kFlowStartSec, "FLOW_START_SEC", 150, K::kTimeSec, kStartTime},
    {F::kFlowEndSec, "FLOW_END_SEC", 151, K::kTimeSec, kEndTime},
    {F::kFirstSwitched, "FIRST_SWITCHED", 22, K::kTimeSec, kStartTime},
    {F::kLastSwitched, "LAST_SWITCHED", 21, K::kTimeSec, kEndTime},
    {F::kTcpFlags, "TCP_FLAGS", 6, K::kInt32, kTcpFlags},
    {F::kClientTcpFlags, "CLIENT_TCP_FLAGS", 57550, K::kInt32, kClientTcpFlags},
    {F::kServerTcpFlags, "SERVER_TCP_FLAGS", 57551, K::kInt32, kServerTcpFlags},
    {F::kInSrcMac, "IN_SRC_MAC", 56, K::kMac, kSrcMac},
    {F::kOutDstMac, "OUT_DST_MAC", 57, K::kMac, kDstMac},
    {F::kSrcVlan, "SRC_VLAN", 58, K::kInt32, kVlan},
    {F::kInputSnmp, "INPUT_SNMP", 10, K::kInt32, kInputSnmp},
    {F::kOutputSnmp, "OUTPUT_SNMP", 14, K::kInt32, kOutputSnmp},
    {F::kSrcTos, "SRC_TOS", 5, K::kInt32, kSrcTos},
    {F::kMinTtl, "MIN_TTL", 52, K::kInt32, kMinTtl},
    {F::kMaxTtl, "MAX_TTL", 53, K::kInt32, kMaxTtl},
    {F::kIcmpType, "ICMP_TYPE", 32, K::kInt32, kIcmpType},
    {F::kRetransmittedInPkts, "RETRANSMITTED_IN_PKTS", 57581, K::kInt64, kRetransmittedInPkts},
    {F::kRetransmittedOutPkts, "RETRANSMITTED_OUT_PKTS", 57582, K::kInt64,
     kRetransmittedOutPkts},
    {F::kClientNwLatencyMs, "CLIENT_NW_LATENCY_MS", 57595, K::kDouble, kClientLatencyMs},
    {F::kServerNwLatencyMs, "SERVER_NW_LATENCY_MS", 57596, K::kDouble, kServerLatencyMs},
    {F::kApplLatencyMs, "APPL_LATENCY_MS", 57597, K::kDouble, kApplLatencyMs},
    {F::kDnsQuery, "DNS_QUERY", 57677, K::kString, kDnsQuery},
    {F::kDnsQueryType, "DNS_QUERY_TYPE", 57679, K::kInt32, kDnsQueryType},
    {F::kDnsRetCode, "DNS_RET_CODE", 57680, K::kInt32, kDnsRetCode},
    {F::kHttpUrl, "HTTP_URL", 57652, K::kString, kHttpUrl},
    {F::kHttpHost, "HTTP_HOST", 57659, K::kString, kHttpHost},
    {F::kHttpMethod, "HTTP_METHOD", 57832, K::kString, kHttpMethod},
    {F::kHttpRetCode, "HTTP_RET_CODE", 57653, K::kInt32, kHttpRetCode},
    {F::kTlsServerName, "TLS_SERVER_NAME", 57660, K::kString, kTlsServerName},
    {F::kTlsVersion, "TLS_VERSION", 57967, K::kInt32, kTlsVersion},
    {F::kJa3cHash, "JA3C_HASH", 57961, K::kString, kJa3cHash},
    {F::kJa3sHash, "JA3S_HASH", 57962, K::kString, kJa3sHash},
};
static_assert(
    [] {
      for (size_t i = 0; i < kNprobeFieldCount; ++i) {
        if (kFieldTable[i].field != static_cast<NprobeField>(i)) return false;
      }
      return true;
    }(),
    "kFieldTable is indexed by NprobeField");
}  // namespace internal

// Metadata of `field` (kUnknown has an empty label; kCount is invalid).
// constexpr, so the decoder can specialise its per-field code on it.
constexpr const NprobeFieldInfo& FieldInfo(NprobeField field) {
  return internal::kFieldTable[static_cast<size_t>(field)];
}

// ntop's private enterprise number, and the offset nProbe adds to ntop's
// IPFIX ids to get its NetFlow v9 ids ("35632.118" == "57590").
inline constexpr uint32_t kNtopPen = 35632;
inline constexpr uint32_t kNtopIdBase = 57472;

// Maps a JSON key (already unescaped, without quotes) to a field, or kUnknown.
// Accepts a label (exact, case-sensitive), a decimal element id without
// leading zeros, or "35632.<id>" where <id> is either ntop's IPFIX id (< 57472)
// or the NetFlow v9 id. Other enterprise numbers are unknown.
NprobeField LookupKey(std::string_view key);

}  // namespace flowlake
