// The flow schema: the 46 columns of every flow in the lake, in lake order.
//
// This is flowlake's public data contract (docs/schema.md documents each
// column and the nProbe fields it comes from). Changing the order, a name or
// a type is a breaking change for every query written against the lake.
#pragma once

#include "core/column_batch.h"

namespace flowlake {

// Column indexes into FlowSchema(), in lake order.
enum FlowCol : unsigned char {
  kProbe = 0,
  kExporterIp,
  kSrcIp,
  kDstIp,
  kSrcPort,
  kDstPort,
  kProtocol,
  kIpVersion,
  kL7Master,
  kL7App,
  kL7Name,
  kInBytes,
  kOutBytes,
  kInPkts,
  kOutPkts,
  kStartTime,
  kEndTime,
  kDurationMs,
  kTcpFlags,
  kClientTcpFlags,
  kServerTcpFlags,
  kSrcMac,
  kDstMac,
  kVlan,
  kInputSnmp,
  kOutputSnmp,
  kSrcTos,
  kMinTtl,
  kMaxTtl,
  kIcmpType,
  kRetransmittedInPkts,
  kRetransmittedOutPkts,
  kClientLatencyMs,
  kServerLatencyMs,
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
  kFlowColumnCount,
};
static_assert(kFlowColumnCount == 46, "the lake schema has exactly 46 columns");

// The static flow schema (lives for the whole process).
const Schema& FlowSchema();

// A ColumnBatch over FlowSchema().
class FlowBatch : public ColumnBatch {
 public:
  FlowBatch() : ColumnBatch(FlowSchema()) {}
};

}  // namespace flowlake
