// The flow schema: the 46 columns of every flow in the lake, in lake order.
//
// This is flowlake's public data contract (docs/schema.md documents each
// column and the nProbe fields it comes from). Changing the order, a name or
// a type is a breaking change for every query written against the lake.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

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

// A ColumnBatch over FlowSchema(), and where its rows came from.
//
// Sources are for event time (stream/event_time.h): a stream read from
// several Kafka partitions keeps one watermark per partition, so that a
// partition read ahead of the others does not make their flows late. A
// source is a small id the producer of the batch chooses (one per assigned
// partition); a batch without source runs is all of source 0 (a file).
class FlowBatch : public ColumnBatch {
 public:
  // Rows [first_row, next run's first_row) are of `source`.
  struct SourceRun {
    uint32_t first_row = 0;
    uint32_t source = 0;
  };
  // The sources a stream may deliver from now on, ascending (the assigned
  // partitions), shared by the batches of one assignment.
  using SourceSet = std::shared_ptr<const std::vector<uint32_t>>;

  FlowBatch() : ColumnBatch(FlowSchema()) {}

  // The rows appended from now on are of `source`.
  void BeginSource(uint32_t source) {
    const auto row = static_cast<uint32_t>(num_rows());
    if (!source_runs_.empty() && source_runs_.back().source == source) return;
    if (!source_runs_.empty() && source_runs_.back().first_row == row) {
      source_runs_.back().source = source;  // the last run got no row
      return;
    }
    source_runs_.push_back({row, source});
  }
  // In row order; empty: every row is of source 0.
  std::span<const SourceRun> source_runs() const { return source_runs_; }
  void set_expected_sources(SourceSet sources) { expected_sources_ = std::move(sources); }
  // Null: not known (only the sources of the batches seen count).
  const SourceSet& expected_sources() const { return expected_sources_; }
  // When the input received these rows (monotonic ms, as Clock::MonotonicMs():
  // for Kafka, when they were polled), INT64_MIN if not set. Event time
  // judges sources idle by it, so rows held up in a stalled pipeline do not
  // make their sources look idle.
  void set_input_time_ms(int64_t ms) { input_time_ms_ = ms; }
  int64_t input_time_ms() const { return input_time_ms_; }

  // Drops the rows (keeping capacity), the source runs, the source set and
  // the input time.
  void Clear() {
    ColumnBatch::Clear();
    source_runs_.clear();
    expected_sources_.reset();
    input_time_ms_ = INT64_MIN;
  }

 private:
  std::vector<SourceRun> source_runs_;
  SourceSet expected_sources_;
  int64_t input_time_ms_ = INT64_MIN;
};

// The source of each row of a FlowBatch, for rows visited in ascending order.
class SourceCursor {
 public:
  explicit SourceCursor(const FlowBatch& batch) : runs_(batch.source_runs()) {}
  uint32_t At(size_t row) {
    while (next_ < runs_.size() && runs_[next_].first_row <= row) source_ = runs_[next_++].source;
    return source_;
  }

 private:
  std::span<const FlowBatch::SourceRun> runs_;
  size_t next_ = 0;
  uint32_t source_ = 0;
};

}  // namespace flowlake
