#include "lake/analysis_writer.h"

#include <cstdio>


#include "core/writable_file.h"
#include "lake/partition.h"
#include "parquet/file_writer.h"

namespace flowlake {

namespace {

constexpr std::string_view kRollupDir = "rollups/host_1m";
constexpr std::string_view kRollupParquetDir = "rollups/host_1m_parquet";
constexpr std::string_view kEventDir = "events";
// Spare partition buffers kept for reuse: a stream's records fall into one
// or two hours at a time. Their capacity together is at most what the
// buffers reached at their largest (about 2 x max_buffered_bytes).
constexpr size_t kMaxSparePartitions = 4;

enum RollupColumn : size_t {
  kWindowStart,
  kWindowEnd,
  kHost,
  kFlowsAsSrc,
  kFlowsAsDst,
  kBytesSent,
  kBytesReceived,
  kPktsSent,
  kPktsReceived,
  kPeersContacted,
  kPeersContacting,
  kDstPortsContacted,
  kTcpSynOnlyAsSrc,
  kTopL7,
  kAvgDurationMs,
  kProbes,
  kPeersContactedSketch,
  kPeersContactingSketch,
  kDstPortsContactedSketch,
  kCorrection,
  kRollupColumnCount,
};

}  // namespace

Status AnalysisWriterConfig::Validate() const {
  if (root.empty()) return Status::InvalidArgument("analysis writer: root directory is empty");
  if (!staging_dir.empty() &&
      (staging_dir[0] == '/' || staging_dir.find("..") != std::string::npos)) {
    return Status::InvalidArgument("analysis writer: staging_dir must be relative to the root, got '" +
                                   staging_dir + "'");
  }
  if (max_buffered_bytes < 4096) {
    return Status::InvalidArgument("analysis writer: max_buffered_bytes must be at least 4096, got " +
                                   std::to_string(max_buffered_bytes));
  }
  return parquet.Validate();
}

const Schema& AnalysisWriter::RollupSchema() {
  static const Schema schema({
      {"window_start", ColumnType::kTimestampMs},
      {"window_end", ColumnType::kTimestampMs},
      {"host", ColumnType::kString},
      {"flows_as_src", ColumnType::kInt64},
      {"flows_as_dst", ColumnType::kInt64},
      {"bytes_sent", ColumnType::kInt64},
      {"bytes_received", ColumnType::kInt64},
      {"pkts_sent", ColumnType::kInt64},
      {"pkts_received", ColumnType::kInt64},
      {"peers_contacted", ColumnType::kInt64},
      {"peers_contacting", ColumnType::kInt64},
      {"dst_ports_contacted", ColumnType::kInt64},
      {"tcp_syn_only_as_src", ColumnType::kInt64},
      {"top_l7", ColumnType::kString},
      {"avg_duration_ms", ColumnType::kDouble},
      {"probes", ColumnType::kString},
      {"peers_contacted_sketch", ColumnType::kString},
      {"peers_contacting_sketch", ColumnType::kString},
      {"dst_ports_contacted_sketch", ColumnType::kString},
      {"correction", ColumnType::kBool},
  });
  return schema;
}

AnalysisWriter::AnalysisWriter(AnalysisWriterConfig config, std::string file_prefix)
    : config_(std::move(config)), prefix_(std::move(file_prefix)) {}

AnalysisWriter::~AnalysisWriter() = default;

Status AnalysisWriter::AddRollups(const std::vector<HostRollupRecord>& records) {
  FLOWLAKE_RETURN_IF_ERROR(error_);
  for (const HostRollupRecord& r : records) {
    Status st = AppendRollup(r);
    if (!st.ok()) return error_ = st;
  }
  return MaybeFlushEarly();
}

AnalysisWriter::Partition& AnalysisWriter::PartitionFor(int64_t hour_bucket) {
  auto it = partitions_.lower_bound(hour_bucket);
  if (it != partitions_.end() && it->first == hour_bucket) return it->second;
  if (spare_.empty()) return partitions_.try_emplace(it, hour_bucket, RollupSchema())->second;
  auto node = std::move(spare_.back());
  spare_.pop_back();
  node.key() = hour_bucket;
  return partitions_.insert(it, std::move(node))->second;
}

Status AnalysisWriter::AppendRollup(const HostRollupRecord& r) {
  Partition& p = PartitionFor(HourBucket(r.window_start_ms));
  const size_t line_begin = p.rollup_lines.size();
  // The Parquet row stores some JSON texts of the NDJSON line as they are:
  // taken from the line itself (not formatted a second time), so the two
  // files cannot disagree.
  RollupNdjsonSpans spans;
  AppendNdjson(r, &p.rollup_lines, &spans);
  p.rollup_lines += '\n';
  const auto part = [&](const RollupNdjsonSpans::Span& span) {
    return std::string_view(p.rollup_lines).substr(span.begin, span.end - span.begin);
  };
  ColumnBatch& b = p.rollup_rows;
  b.column(kWindowStart).AppendInt64(r.window_start_ms);
  b.column(kWindowEnd).AppendInt64(r.window_end_ms);
  b.column(kHost).AppendString(r.host);
  b.column(kFlowsAsSrc).AppendInt64(r.flows_as_src);
  b.column(kFlowsAsDst).AppendInt64(r.flows_as_dst);
  b.column(kBytesSent).AppendInt64(r.bytes_sent);
  b.column(kBytesReceived).AppendInt64(r.bytes_received);
  b.column(kPktsSent).AppendInt64(r.pkts_sent);
  b.column(kPktsReceived).AppendInt64(r.pkts_received);
  b.column(kPeersContacted).AppendInt64(static_cast<int64_t>(r.peers_contacted));
  b.column(kPeersContacting).AppendInt64(static_cast<int64_t>(r.peers_contacting));
  b.column(kDstPortsContacted).AppendInt64(static_cast<int64_t>(r.dst_ports_contacted));
  b.column(kTcpSynOnlyAsSrc).AppendInt64(r.tcp_syn_only_as_src);
  b.column(kTopL7).AppendString(part(spans.top_l7));
  b.column(kAvgDurationMs).AppendDoubleOrNull(r.avg_duration_ms.value_or(0),
                                              r.avg_duration_ms.has_value());
  b.column(kProbes).AppendString(part(spans.probes));
  b.column(kPeersContactedSketch).AppendString(part(spans.peers_contacted_sketch));
  b.column(kPeersContactingSketch).AppendString(part(spans.peers_contacting_sketch));
  b.column(kDstPortsContactedSketch).AppendString(part(spans.dst_ports_contacted_sketch));
  b.column(kCorrection).AppendBool(r.correction);
  // An upper bound, not a walk over the 20 columns per record: the row's
  // texts are parts of the line, and its other values take at most 8 bytes
  // each, plus a validity byte and a string reference per column.
  constexpr uint64_t kRowFixedBytes = kRollupColumnCount * (8 + 1 + sizeof(StringRef));
  buffered_bytes_ += 2 * (p.rollup_lines.size() - line_begin) + kRowFixedBytes;
  ++stats_.rollup_records;
  return Status::Ok();
}

Status AnalysisWriter::AddEvent(int64_t window_start_ms, std::string_view event_json) {
  FLOWLAKE_RETURN_IF_ERROR(error_);
  if (event_json.empty() || event_json.find_first_of("\r\n") != std::string_view::npos) {
    return Status::InvalidArgument(
        "analysis writer: an event must be one non-empty line of JSON, got " +
        std::to_string(event_json.size()) + " bytes" +
        (event_json.empty() ? std::string() : " with a line break"));
  }
  Partition& p = PartitionFor(HourBucket(window_start_ms));
  p.event_lines += event_json;
  p.event_lines += '\n';
  ++p.events;
  buffered_bytes_ += event_json.size() + 1;
  ++stats_.events;
  return MaybeFlushEarly();
}

Status AnalysisWriter::MaybeFlushEarly() {
  if (buffered_bytes_ <= config_.max_buffered_bytes) return Status::Ok();
  ++stats_.early_flushes;
  return Flush();
}

Status AnalysisWriter::Flush() {
  FLOWLAKE_RETURN_IF_ERROR(error_);
  if (partitions_.empty()) return Status::Ok();
  if (Status st = config_.Validate(); !st.ok()) return error_ = st;
  while (!partitions_.empty()) {
    auto it = partitions_.begin();
    Status st = FlushPartition(it->first, it->second);
    if (!st.ok()) return error_ = st;
    auto node = partitions_.extract(it);
    if (spare_.size() < kMaxSparePartitions) {
      Partition& p = node.mapped();
      p.rollup_lines.clear();
      p.rollup_rows.Clear();
      p.event_lines.clear();
      p.events = 0;
      spare_.push_back(std::move(node));
    }
  }
  buffered_bytes_ = 0;
  return Status::Ok();
}

Status AnalysisWriter::FlushPartition(int64_t hour_bucket, Partition& p) {
  const std::string partition = PartitionPath(hour_bucket);
  const auto name = [&](std::string_view ext) {
    char seq[24];
    std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(next_seq_));
    return prefix_ + "-" + seq + std::string(ext);
  };
  const uint64_t rollups = p.rollup_rows.num_rows();
  if (rollups > 0) {
    ++next_seq_;
    FLOWLAKE_RETURN_IF_ERROR(WriteFile(std::string(kRollupDir) + "/" + partition, name(".json"),
                                       p.rollup_lines, nullptr, rollups));
    FLOWLAKE_RETURN_IF_ERROR(WriteFile(std::string(kRollupParquetDir) + "/" + partition,
                                       name(".parquet"), {}, &p.rollup_rows, rollups));
  }
  if (p.events > 0) {
    ++next_seq_;
    FLOWLAKE_RETURN_IF_ERROR(WriteFile(std::string(kEventDir) + "/" + partition, name(".json"),
                                       p.event_lines, nullptr, p.events));
  }
  return Status::Ok();
}

Status AnalysisWriter::WriteFile(const std::string& rel_dir, const std::string& name,
                                 std::string_view ndjson, const ColumnBatch* rows,
                                 uint64_t records) {
  const std::string work_dir = config_.root + "/" + WorkDir();
  const std::string work_path = work_dir + "/" + name;
  FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(work_dir));
  FLOWLAKE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, NewPosixWritableFile(work_path));
  uint64_t bytes = 0;
  Status st;
  if (rows != nullptr) {
    parquet::WriterOptions options = config_.parquet;
    options.sync_on_finish = config_.sync;
    Result<std::unique_ptr<parquet::FileWriter>> writer =
        parquet::FileWriter::Create(std::move(file), RollupSchema(), options);
    st = writer.status();
    if (st.ok()) st = (*writer)->WriteRowGroup(*rows);
    if (st.ok()) {
      Result<parquet::FileSummary> summary = (*writer)->Finish();
      st = summary.status();
      if (st.ok()) bytes = summary->bytes;
    }
  } else {
    st = file->Append(ndjson);
    if (st.ok() && config_.sync) st = file->Sync();
    if (st.ok()) st = file->Close();
    bytes = file->Size();
  }
  if (!st.ok()) {
    std::remove(work_path.c_str());
    return st;
  }
  const std::string final_path = rel_dir + "/" + name;
  if (!config_.staging_dir.empty()) {
    staged_.push_back({config_.staging_dir + "/" + name, final_path, records, bytes});
  } else {
    const std::string dir = config_.root + "/" + rel_dir;
    FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(dir));
    FLOWLAKE_RETURN_IF_ERROR(RenameFile(work_path, dir + "/" + name));
    if (config_.sync) FLOWLAKE_RETURN_IF_ERROR(SyncDirectory(dir));
  }
  ++stats_.files;
  stats_.bytes += bytes;
  return Status::Ok();
}

std::string AnalysisWriter::WorkDir() const {
  return config_.staging_dir.empty() ? std::string("_tmp") : config_.staging_dir;
}

std::vector<StagedFile> AnalysisWriter::TakeStaged() {
  std::vector<StagedFile> out;
  out.swap(staged_);
  return out;
}

void AnalysisWriter::DiscardAll() {
  partitions_.clear();
  buffered_bytes_ = 0;
  for (const StagedFile& f : staged_) std::remove((config_.root + "/" + f.staging_path).c_str());
  staged_.clear();
  error_ = Status::Ok();
}

}  // namespace flowlake
