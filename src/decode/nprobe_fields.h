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
extern const NprobeFieldInfo kFieldTable[kNprobeFieldCount];
}
// Metadata of `field` (kUnknown has an empty label; kCount is invalid).
inline const NprobeFieldInfo& FieldInfo(NprobeField field) {
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
