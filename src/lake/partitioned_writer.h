// PartitionedWriter: routes flow rows into Hive partitions and writes each
// partition's rows as Parquet files that appear atomically.
//
// Layout: <root>/<table>/date=YYYY-MM-DD/hour=H/<prefix>-<seq>.parquet, from
// each row's start_time (UTC). A file is written under <root>/_tmp/ and
// renamed into its partition only when complete (after fdatasync, and the
// partition directory is synced after the rename), so readers never see a
// partial file.
//
// Memory is bounded: each open partition buffers at most one row group
// (`row_group_rows` rows or `row_group_bytes` bytes) before encoding it into
// its file, and all partitions together buffer at most `max_buffered_bytes`
// (past that, the largest buffer is encoded early as a smaller row group,
// and its file stays open). At most `max_open_partitions` files are open
// (the least recently written is closed first). A file closes at
// `file_max_rows` rows, `file_target_bytes` bytes, or `max_file_age_ms`
// after it was opened.
//
// Staged mode (`staging_dir` set, as `flowlake run` uses it): files are
// written straight into <root>/<staging_dir>/ and, when complete, are not
// renamed but listed by TakeStaged(); the CommitLog publishes them together
// with the Kafka offsets they hold. Nothing becomes visible without a commit.
//
// Thread-safety: none. Give each worker thread its own writer with its own
// `file_prefix`; prefixes keep file names unique across writers and runs.
// Errors are sticky: after a failed call, every later call fails too.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/flow_schema.h"
#include "core/status.h"
#include "lake/commit_log.h"
#include "parquet/file_writer.h"

namespace flowlake {

struct LakeWriterConfig {
  std::string root;          // the lake directory
  std::string table = "flows";
  parquet::WriterOptions parquet;
  uint64_t row_group_rows = 65536;
  uint64_t row_group_bytes = 48ULL << 20;
  uint64_t file_max_rows = 8'000'000;
  uint64_t file_target_bytes = 256ULL << 20;
  int64_t max_file_age_ms = 60'000;
  uint64_t max_buffered_bytes = 96ULL << 20;
  uint32_t max_open_partitions = 32;
  bool sync = true;  // fdatasync files and fsync directories on commit
  // Relative to root. Empty: files are published on close (batch ingest).
  // Set: files stay staged there until the caller commits them.
  std::string staging_dir;
  // Test-only: limits each file's write speed (bytes/s; 0 = unlimited), to
  // prove the service's backpressure with a slow lake.
  uint64_t throttle_bytes_per_s = 0;

  Status Validate() const;
};

struct CommittedFile {
  std::string path;  // relative to the lake root
  int64_t hour_bucket = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

struct LakeWriterStats {
  uint64_t rows_written = 0;  // rows in committed files
  uint64_t files = 0;
  uint64_t row_groups = 0;
  uint64_t bytes = 0;
  uint64_t closed_by_size = 0;
  uint64_t closed_by_age = 0;
  uint64_t closed_by_eviction = 0;
  uint64_t early_row_groups = 0;  // encoded early to stay under max_buffered_bytes
  void Add(const LakeWriterStats& o);
};

class PartitionedWriter {
 public:
  // No I/O happens until the first Write().
  PartitionedWriter(LakeWriterConfig config, std::string file_prefix,
                    const Clock& clock = SystemClock::Default());
  ~PartitionedWriter();
  PartitionedWriter(const PartitionedWriter&) = delete;
  PartitionedWriter& operator=(const PartitionedWriter&) = delete;

  // Buffers the rows of `batch` in their partitions, encoding and committing
  // as limits are reached. Rows must have a valid start_time.
  Status Write(const FlowBatch& batch);
  // Commits files open longer than max_file_age_ms. Write() calls it too;
  // call it on a timer when input is idle.
  Status CloseAged();
  // Commits every open partition. The writer can be used again afterwards.
  Status Flush();

  const LakeWriterStats& stats() const { return stats_; }
  // Every file committed so far, in commit order (published or staged).
  const std::vector<CommittedFile>& committed() const { return committed_; }
  // Staged mode: the files completed since the last call, in order.
  std::vector<StagedFile> TakeStaged();
  size_t staged_files() const { return staged_.size(); }
  // Staged mode, after a failed or fenced commit: drops every open
  // partition (buffers and unfinished files) and every staged file not yet
  // taken, deleting them. Clears a sticky error; the writer starts afresh.
  void DiscardAll();
  uint64_t buffered_rows() const;
  uint64_t buffered_bytes() const { return buffered_bytes_; }

 private:
  struct Partition;
  Status WriteSelected(int64_t bucket, const FlowBatch& batch, std::span<const uint32_t> rows);
  Result<Partition*> GetPartition(int64_t bucket);
  Status FlushRowGroup(Partition& p);
  Status EnforceBufferBudget();
  Status Commit(int64_t bucket);
  std::string WorkDir() const;  // where unfinished files live, relative to root

  LakeWriterConfig config_;
  std::string prefix_;
  const Clock* clock_;
  Status error_;
  uint64_t next_seq_ = 0;
  uint64_t write_tick_ = 0;
  uint64_t buffered_bytes_ = 0;  // sum of the open partitions' buffer sizes
  std::map<int64_t, std::unique_ptr<Partition>> open_;
  std::vector<std::pair<int64_t, std::vector<uint32_t>>> groups_;  // scratch
  std::vector<CommittedFile> committed_;
  std::vector<StagedFile> staged_;
  LakeWriterStats stats_;
};

}  // namespace flowlake
