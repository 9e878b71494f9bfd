// AnalysisWriter: writes what the real-time analysis produces — host rollups
// and events — into the lake, beside the flows.
//
// Layout (partitions from each record's window start, UTC; the hour is not
// zero-padded, as for flows: docs/lake-layout.md):
//   <root>/rollups/host_1m/date=YYYY-MM-DD/hour=H/<prefix>-<seq>.json
//       NDJSON, one ToNdjson() object per line
//   <root>/rollups/host_1m_parquet/date=YYYY-MM-DD/hour=H/<prefix>-<seq>.parquet
//       the same rows, in the same order, as Parquet (RollupSchema())
//   <root>/events/date=YYYY-MM-DD/hour=H/<prefix>-<seq>.json
//       NDJSON, one event per line, byte for byte as given to AddEvent()
// A rollup NDJSON file and its Parquet twin share <seq>.
//
// Rollup Parquet columns, named like the NDJSON keys and in their order
// (all nullable in the schema; only avg_duration_ms is ever null):
//   window_start TIMESTAMP(ms, UTC)   window_end TIMESTAMP(ms, UTC)
//   host STRING
//   flows_as_src, flows_as_dst, bytes_sent, bytes_received, pkts_sent,
//   pkts_received, peers_contacted, peers_contacting, dst_ports_contacted,
//   tcp_syn_only_as_src INT64
//   top_l7 STRING        the JSON array text exactly as in the NDJSON
//   avg_duration_ms DOUBLE (null when absent)
//   probes STRING        the JSON array text exactly as in the NDJSON
//   peers_contacted_sketch, peers_contacting_sketch,
//   dst_ports_contacted_sketch STRING   lowercase hex, as in the NDJSON
//   correction BOOLEAN   true for a correction record (the NDJSON has
//                        "correction":true), false for every other record
//
// Records are buffered in memory per (kind, hour) partition and written by
// Flush(), one file per kind and partition. When the buffers pass
// `max_buffered_bytes`, Add*() flushes early (more, smaller files; memory
// stays bounded). Files appear atomically: direct mode writes under
// <root>/_tmp/, syncs and renames into the partition (then syncs the
// directory); staged mode (`staging_dir` set, as `flowlake run` uses it)
// writes into <root>/<staging_dir>/ and lists the files in TakeStaged() for
// the CommitLog to publish with the flows. Nothing buffered, no file.
//
// Thread-safety: none; one thread (or the caller's lock) at a time. Errors
// are sticky: after a failed call every later call fails too, until
// DiscardAll().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/column_batch.h"
#include "core/status.h"
#include "lake/commit_log.h"
#include "parquet/writer_options.h"
#include "stream/host_rollups.h"

namespace flowlake {

struct AnalysisWriterConfig {
  std::string root;  // the lake directory
  // Relative to root. Empty: files are published by Flush(). Set: files stay
  // staged there until the caller commits them (TakeStaged()).
  std::string staging_dir;
  parquet::WriterOptions parquet;
  bool sync = true;  // fdatasync files and fsync directories
  // Past this many buffered bytes, Add*() writes every buffer out early.
  uint64_t max_buffered_bytes = 16ULL << 20;

  // InvalidArgument: empty root, a staging_dir that is absolute or has "..",
  // max_buffered_bytes < 4 KiB, or bad Parquet options.
  Status Validate() const;
};

struct AnalysisWriterStats {
  uint64_t rollup_records = 0;  // records added
  uint64_t events = 0;          // events added
  uint64_t files = 0;           // files written (published or staged)
  uint64_t bytes = 0;           // bytes in those files
  uint64_t early_flushes = 0;   // flushes forced by max_buffered_bytes
};

class AnalysisWriter {
 public:
  // No I/O until the first Flush(). `file_prefix` must be unique to this
  // writer across runs and processes (e.g. "analysis-" + run id) and a valid
  // file name. `config` should have passed Validate(); Flush() returns its
  // error otherwise.
  AnalysisWriter(AnalysisWriterConfig config, std::string file_prefix);
  ~AnalysisWriter();
  AnalysisWriter(const AnalysisWriter&) = delete;
  AnalysisWriter& operator=(const AnalysisWriter&) = delete;

  // Buffers the records in the partitions of their window_start_ms.
  [[nodiscard]] Status AddRollups(const std::vector<HostRollupRecord>& records);
  // Buffers one event (a JSON object, kept as given) in the partition of
  // `window_start_ms`. InvalidArgument (and nothing buffered) if the text is
  // empty or holds a line break, which would split the NDJSON line.
  [[nodiscard]] Status AddEvent(int64_t window_start_ms, std::string_view event_json);
  // Writes every buffer as files (published, or staged in staged mode) and
  // empties them. I/O errors are kIoError, naming the file.
  [[nodiscard]] Status Flush();

  // Staged mode: the files written since the last call, in order.
  std::vector<StagedFile> TakeStaged();
  // Staged mode, after a failed or fenced commit: drops every buffer and
  // deletes every staged file not yet taken. Clears a sticky error.
  void DiscardAll();

  const AnalysisWriterStats& stats() const { return stats_; }
  uint64_t buffered_bytes() const { return buffered_bytes_; }

  // The rollup Parquet schema (a static object).
  static const Schema& RollupSchema();

 private:
  struct Partition {
    explicit Partition(const Schema& schema) : rollup_rows(schema) {}
    std::string rollup_lines;  // NDJSON, '\n'-terminated
    ColumnBatch rollup_rows;   // the same records, as Parquet rows
    std::string event_lines;   // NDJSON, '\n'-terminated
    uint64_t events = 0;
  };

  // The buffer of `hour_bucket`, made from a spare (flushed) one if any.
  Partition& PartitionFor(int64_t hour_bucket);
  Status AppendRollup(const HostRollupRecord& record);
  Status MaybeFlushEarly();
  Status FlushPartition(int64_t hour_bucket, Partition& p);
  // Writes `data` (or, if `rows` is set, Parquet) as <rel_dir>/<name>.
  Status WriteFile(const std::string& rel_dir, const std::string& name, std::string_view ndjson,
                   const ColumnBatch* rows, uint64_t records);
  std::string WorkDir() const;  // relative to root

  AnalysisWriterConfig config_;
  std::string prefix_;
  Status error_;
  uint64_t next_seq_ = 0;
  uint64_t buffered_bytes_ = 0;
  std::map<int64_t, Partition> partitions_;  // by hour bucket
  // Flushed partitions, emptied with their capacity kept (at most
  // kMaxSparePartitions): the next partitions reuse their memory instead of
  // growing new buffers page by page, which costs a page fault and a zeroed
  // page every 4 KiB (a busy hour writes hundreds of MB of rollups).
  std::vector<std::map<int64_t, Partition>::node_type> spare_;
  std::vector<StagedFile> staged_;
  AnalysisWriterStats stats_;
};

}  // namespace flowlake
