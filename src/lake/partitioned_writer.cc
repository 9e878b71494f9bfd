#include "lake/partitioned_writer.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "core/writable_file.h"
#include "lake/partition.h"

namespace flowlake {

Status LakeWriterConfig::Validate() const {
  if (root.empty()) return Status::InvalidArgument("lake: root directory is empty");
  if (table.empty() || table.find('/') != std::string::npos || table[0] == '.' || table[0] == '_') {
    return Status::InvalidArgument("lake: invalid table name '" + table + "'");
  }
  if (row_group_rows < 1 || row_group_rows > (1u << 30)) {
    return Status::InvalidArgument("lake: row_group_rows must be in [1, 2^30], got " +
                                   std::to_string(row_group_rows));
  }
  if (row_group_bytes < (1u << 16)) {
    return Status::InvalidArgument("lake: row_group_bytes must be at least 64 KiB");
  }
  if (file_max_rows < 1) return Status::InvalidArgument("lake: file_max_rows must be positive");
  if (file_target_bytes < (1u << 16)) {
    return Status::InvalidArgument("lake: file_target_bytes must be at least 64 KiB");
  }
  if (max_file_age_ms < 1) return Status::InvalidArgument("lake: max_file_age_ms must be positive");
  if (max_buffered_bytes < row_group_bytes / 8) {
    return Status::InvalidArgument("lake: max_buffered_bytes must be at least row_group_bytes / 8");
  }
  if (!staging_dir.empty() && (staging_dir[0] == '/' || staging_dir.find("..") != std::string::npos)) {
    return Status::InvalidArgument("lake: staging_dir must be relative to the root, got '" +
                                   staging_dir + "'");
  }
  if (max_open_partitions < 1) {
    return Status::InvalidArgument("lake: max_open_partitions must be at least 1");
  }
  return parquet.Validate();
}

void LakeWriterStats::Add(const LakeWriterStats& o) {
  rows_written += o.rows_written;
  files += o.files;
  row_groups += o.row_groups;
  bytes += o.bytes;
  closed_by_size += o.closed_by_size;
  closed_by_age += o.closed_by_age;
  closed_by_eviction += o.closed_by_eviction;
  early_row_groups += o.early_row_groups;
}

struct PartitionedWriter::Partition {
  FlowBatch buffer;
  std::unique_ptr<parquet::FileWriter> file;
  std::string name;      // file name, without directory
  std::string tmp_path;  // absolute path under _tmp/
  int64_t opened_ms = 0;
  uint64_t last_write = 0;
  uint64_t rows_in_file = 0;  // encoded rows, excluding `buffer`
  uint64_t buffer_bytes = 0;  // buffer.ByteSize() as last counted
};

PartitionedWriter::PartitionedWriter(LakeWriterConfig config, std::string file_prefix,
                                     const Clock& clock)
    : config_(std::move(config)), prefix_(std::move(file_prefix)), clock_(&clock) {}

PartitionedWriter::~PartitionedWriter() = default;

uint64_t PartitionedWriter::buffered_rows() const {
  uint64_t n = 0;
  for (const auto& [bucket, p] : open_) n += p->buffer.num_rows();
  return n;
}

Status PartitionedWriter::Write(const FlowBatch& batch) {
  FLOWLAKE_RETURN_IF_ERROR(error_);
  const size_t n = batch.num_rows();
  if (n == 0) return CloseAged();
  const auto starts = batch.column(kStartTime).int64_values();

  // Group row indexes by hour. Input is mostly time-ordered, so nearly every
  // batch has one or two groups; a linear scan of the group list wins over a
  // map here.
  for (auto& g : groups_) g.second.clear();
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t bucket = HourBucket(starts[i]);
    size_t g = 0;
    while (g < used && groups_[g].first != bucket) ++g;
    if (g == used) {
      if (used == groups_.size()) groups_.emplace_back();
      groups_[used].first = bucket;
      groups_[used].second.clear();
      ++used;
    }
    groups_[g].second.push_back(static_cast<uint32_t>(i));
  }
  for (size_t g = 0; g < used; ++g) {
    Status st = WriteSelected(groups_[g].first, batch, groups_[g].second);
    if (st.ok()) st = EnforceBufferBudget();
    if (!st.ok()) return error_ = st;
  }
  return CloseAged();
}

Status PartitionedWriter::WriteSelected(int64_t bucket, const FlowBatch& batch,
                                        std::span<const uint32_t> rows) {
  FLOWLAKE_ASSIGN_OR_RETURN(Partition * p, GetPartition(bucket));
  p->last_write = ++write_tick_;
  // Append in slices so every row group holds exactly row_group_rows rows
  // (the last one of a file excepted).
  while (!rows.empty()) {
    const uint64_t room = config_.row_group_rows - p->buffer.num_rows();
    const size_t take = static_cast<size_t>(std::min<uint64_t>(room, rows.size()));
    // Time-ordered input makes most selections one contiguous run: copy it
    // in bulk instead of gathering row by row.
    if (take > 0 && rows[take - 1] - rows[0] + 1 == take) {
      p->buffer.AppendRange(batch, rows[0], take);
    } else {
      p->buffer.AppendSelected(batch, rows.subspan(0, take));
    }
    rows = rows.subspan(take);
    const uint64_t bytes = p->buffer.ByteSize();
    buffered_bytes_ += bytes - p->buffer_bytes;
    p->buffer_bytes = bytes;
    if (p->buffer.num_rows() >= config_.row_group_rows || bytes >= config_.row_group_bytes) {
      FLOWLAKE_RETURN_IF_ERROR(FlushRowGroup(*p));
      if (p->rows_in_file >= config_.file_max_rows ||
          p->file->bytes_written() >= config_.file_target_bytes) {
        ++stats_.closed_by_size;
        FLOWLAKE_RETURN_IF_ERROR(Commit(bucket));
        if (!rows.empty()) {
          FLOWLAKE_ASSIGN_OR_RETURN(p, GetPartition(bucket));
          p->last_write = write_tick_;
        }
      }
    }
  }
  return Status::Ok();
}

Result<PartitionedWriter::Partition*> PartitionedWriter::GetPartition(int64_t bucket) {
  auto it = open_.find(bucket);
  if (it != open_.end()) return it->second.get();
  if (open_.size() >= config_.max_open_partitions) {
    auto lru = std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
      return a.second->last_write < b.second->last_write;
    });
    ++stats_.closed_by_eviction;
    FLOWLAKE_RETURN_IF_ERROR(Commit(lru->first));
  }
  auto p = std::make_unique<Partition>();
  p->opened_ms = clock_->MonotonicMs();
  char seq[24];
  std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(++next_seq_));
  p->name = prefix_ + "-" + seq + ".parquet";
  p->tmp_path = config_.root + "/" + WorkDir() + "/" + p->name;
  Partition* raw = p.get();
  open_.emplace(bucket, std::move(p));
  return raw;
}

Status PartitionedWriter::EnforceBufferBudget() {
  // Out-of-order input spreads rows over many partitions. Encoding the
  // largest buffer early keeps memory flat and its file open, which costs a
  // smaller row group instead of a small file.
  while (buffered_bytes_ > config_.max_buffered_bytes) {
    Partition* largest = nullptr;
    for (auto& [bucket, p] : open_) {
      if (largest == nullptr || p->buffer_bytes > largest->buffer_bytes) largest = p.get();
    }
    if (largest == nullptr || largest->buffer.num_rows() == 0) break;
    ++stats_.early_row_groups;
    FLOWLAKE_RETURN_IF_ERROR(FlushRowGroup(*largest));
  }
  return Status::Ok();
}

Status PartitionedWriter::FlushRowGroup(Partition& p) {
  if (p.buffer.num_rows() == 0) return Status::Ok();
  if (!p.file) {
    FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(config_.root + "/" + WorkDir()));
    FLOWLAKE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, NewPosixWritableFile(p.tmp_path));
    if (config_.throttle_bytes_per_s > 0) {
      f = NewThrottledWritableFile(std::move(f), config_.throttle_bytes_per_s);
    }
    parquet::WriterOptions options = config_.parquet;
    options.sync_on_finish = config_.sync;
    FLOWLAKE_ASSIGN_OR_RETURN(p.file,
                              parquet::FileWriter::Create(std::move(f), FlowSchema(), options));
  }
  FLOWLAKE_RETURN_IF_ERROR(p.file->WriteRowGroup(p.buffer));
  p.rows_in_file += p.buffer.num_rows();
  ++stats_.row_groups;
  p.buffer.Clear();
  buffered_bytes_ -= p.buffer_bytes;
  p.buffer_bytes = 0;
  return Status::Ok();
}

Status PartitionedWriter::Commit(int64_t bucket) {
  auto it = open_.find(bucket);
  if (it == open_.end()) return Status::Ok();
  std::unique_ptr<Partition> p = std::move(it->second);
  open_.erase(it);  // frees the partition's buffer once committed
  FLOWLAKE_RETURN_IF_ERROR(FlushRowGroup(*p));
  if (!p->file) return Status::Ok();
  FLOWLAKE_ASSIGN_OR_RETURN(parquet::FileSummary summary, p->file->Finish());
  const std::string rel_dir = config_.table + "/" + PartitionPath(bucket);
  if (!config_.staging_dir.empty()) {
    staged_.push_back({config_.staging_dir + "/" + p->name, rel_dir + "/" + p->name, summary.rows,
                       summary.bytes});
    committed_.push_back({staged_.back().final_path, bucket, summary.rows, summary.bytes});
    stats_.rows_written += summary.rows;
    stats_.bytes += summary.bytes;
    ++stats_.files;
    return Status::Ok();
  }
  const std::string dir = config_.root + "/" + rel_dir;
  FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(dir));
  FLOWLAKE_RETURN_IF_ERROR(RenameFile(p->tmp_path, dir + "/" + p->name));
  if (config_.sync) FLOWLAKE_RETURN_IF_ERROR(SyncDirectory(dir));
  committed_.push_back({rel_dir + "/" + p->name, bucket, summary.rows, summary.bytes});
  stats_.rows_written += summary.rows;
  stats_.bytes += summary.bytes;
  ++stats_.files;
  return Status::Ok();
}

std::string PartitionedWriter::WorkDir() const {
  return config_.staging_dir.empty() ? std::string("_tmp") : config_.staging_dir;
}

std::vector<StagedFile> PartitionedWriter::TakeStaged() {
  std::vector<StagedFile> out;
  out.swap(staged_);
  return out;
}

void PartitionedWriter::DiscardAll() {
  // Unfinished files are deleted without writing their footer: they were
  // never named by a commit, so nothing can refer to them.
  for (auto& [bucket, p] : open_) {
    p->file.reset();
    std::remove(p->tmp_path.c_str());
  }
  open_.clear();
  buffered_bytes_ = 0;
  for (const StagedFile& f : staged_) std::remove((config_.root + "/" + f.staging_path).c_str());
  staged_.clear();
  error_ = Status::Ok();
}

Status PartitionedWriter::CloseAged() {
  FLOWLAKE_RETURN_IF_ERROR(error_);
  const int64_t now = clock_->MonotonicMs();
  std::vector<int64_t> aged;
  for (const auto& [bucket, p] : open_) {
    if (now - p->opened_ms >= config_.max_file_age_ms) aged.push_back(bucket);
  }
  for (int64_t bucket : aged) {
    ++stats_.closed_by_age;
    Status st = Commit(bucket);
    if (!st.ok()) return error_ = st;
  }
  return Status::Ok();
}

Status PartitionedWriter::Flush() {
  FLOWLAKE_RETURN_IF_ERROR(error_);
  while (!open_.empty()) {
    Status st = Commit(open_.begin()->first);
    if (!st.ok()) return error_ = st;
  }
  return Status::Ok();
}

}  // namespace flowlake
