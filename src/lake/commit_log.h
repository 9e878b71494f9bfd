// CommitLog: the lake's own record of which Kafka offsets are durably in it.
//
// The protocol (docs/commit-protocol.md has the full argument):
//   1. A writer stages its files under <lake>/_flowlake/staging/<writer_id>/
//      (invisible to readers: engines skip paths that start with "_").
//   2. Commit() writes one immutable record <lake>/_flowlake/log/<seq>.json
//      naming the staged files and, per topic-partition, the offset range
//      [first, next) they hold. The record appears with put-if-absent (write
//      a temp file, fsync, link(2) to the final name, which fails if it
//      exists), so of two writers racing for the same seq exactly one wins.
//      Before writing, the writer checks that each range starts where the
//      log says that partition's data ends; a range that does not is fenced
//      (another writer owns the partition now) and Commit() fails with
//      kAborted without writing anything. The record is the commit point.
//      (A writer that paused so long that compaction freed its seq again
//      sees a checkpoint past it after the link, and withdraws the record:
//      readers ignore records at or below the latest checkpoint.)
//   3. The staged files are renamed to their final paths (publication). A
//      crash here is repaired by Recover(), which rolls committed records
//      forward; renames are idempotent.
//   4. Only then may the caller commit the offsets to Kafka (for lag
//      monitoring only; on start the consumer seeks to State()).
//   Staged files that no record names belong to a crashed writer (its lock
//   is free) and are deleted by Recover().
//   Every `checkpoint_every` records, a checkpoint <seq>.checkpoint.json
//   holds the whole offset state as of seq (written only once every record
//   up to seq is published); records up to the previous checkpoint, and
//   older checkpoints, are then deleted, so the log stays bounded.
//
// Thread-safety: a CommitLog is used by one thread. Several processes (or
// CommitLog objects) may share one lake: they coordinate only through the
// file system (link(2), rename(2), flock(2) on a local file system).
// Errors: I/O failures are kIoError; a fenced or lost race is kAborted (call
// State() again, seek to it, and discard what was staged); a log that does
// not parse is kCorruption.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "core/topic_partition.h"

namespace flowlake {

// Offsets [first, next) of one topic-partition. `first` is the position the
// writer started from (the log's next offset for that partition, or where
// the consumer began if the log had none), not necessarily the offset of the
// first message (Kafka offsets can have gaps).
struct OffsetRange {
  TopicPartition tp;
  int64_t first = 0;
  int64_t next = 0;
};

// A finished file waiting in staging. Paths are relative to the lake root.
struct StagedFile {
  std::string staging_path;  // "_flowlake/staging/<writer_id>/<name>"
  std::string final_path;    // e.g. "flows/date=2026-12-04/hour=17/<name>"
  uint64_t rows = 0;
  uint64_t bytes = 0;
};

struct CommitRecord {
  uint64_t seq = 0;
  std::string writer_id;
  int64_t committed_at_ms = 0;  // wall clock
  std::vector<OffsetRange> ranges;
  std::vector<StagedFile> files;
};

struct CommitLogConfig {
  std::string root;  // the lake directory
  bool sync = true;  // fsync records, checkpoints, directories and published files' dirs
  uint32_t checkpoint_every = 64;  // >= 1; the log holds about 2x this many records
  Status Validate() const;
};

struct CommitLogStats {
  uint64_t commits = 0;
  uint64_t aborted = 0;         // Commit() calls that returned kAborted (fenced or out of retries)
  uint64_t races_lost = 0;      // seqs taken by another writer first (retried, then won or aborted)
  uint64_t files_published = 0;
  uint64_t rolled_forward = 0;  // other writers' committed files published by this one
                                // (Recover(), or before a checkpoint)
  uint64_t files_missing = 0;   // committed files found neither staged nor published (deleted
                                // by hand or by retention); counted and skipped
  uint64_t orphans_deleted = 0;
  uint64_t checkpoints = 0;
  uint64_t records_deleted = 0;  // records and checkpoints removed by compaction
  uint64_t states_adopted = 0;   // dead writers' state directories taken over
};

class CommitLog {
 public:
  // Creates <root>/_flowlake/{log,staging}/ if missing, and locks
  // staging/<writer_id>.lock with flock(2) for the life of the object (so
  // Recover() elsewhere knows this writer is alive). `writer_id` must be
  // unique per process run (e.g. NewRunId()) and a valid file name
  // ([A-Za-z0-9._-], not starting with '.'). `clock` must outlive the log.
  // Errors: kInvalidArgument (config or id), kAborted (a live CommitLog
  // holds this writer id), kIoError.
  static Result<std::unique_ptr<CommitLog>> Open(CommitLogConfig config, std::string writer_id,
                                                 const Clock& clock = SystemClock::Default());
  // Releases the lock. Does not delete staged files; an empty staging
  // directory and its lock file are removed.
  ~CommitLog();
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // "_flowlake/staging/<writer_id>", relative to the root, where this
  // writer's files must be staged (the directory exists after Open()).
  const std::string& staging_dir() const;

  // Rolls forward every committed record whose files are still staged, and
  // deletes the staging directories of writers whose lock is free (crashed
  // or finished) together with the files in them that no record names.
  // Never touches a live writer's staging directory. Call it on start-up,
  // before State(). Errors: kIoError, kCorruption.
  Status Recover();

  // The next offset to consume for every topic-partition the log knows,
  // read fresh from the file system (latest checkpoint + later records).
  // Errors: kIoError, kCorruption.
  Result<std::map<TopicPartition, int64_t>> State();

  // Atomically commits `files` (all under staging_dir()) as holding exactly
  // `ranges`, then publishes them. Ranges with first == next are allowed (a
  // partition with nothing new) and are not recorded. On kAborted nothing
  // was written; the caller deletes its staged files (DiscardStaged()).
  // An error after the record was written (during publication or the
  // checkpoint) is kIoError whose message says the commit stands; Recover()
  // finishes it. Returns the record's seq; with nothing to record, writes
  // nothing and returns the log's latest seq (0 for an empty log).
  // Errors: kInvalidArgument (first > next, a partition twice, a file not
  // in staging_dir() or missing, an unsafe final path), kAborted, kIoError,
  // kCorruption.
  Result<uint64_t> Commit(const std::vector<OffsetRange>& ranges,
                          const std::vector<StagedFile>& files);

  // Deletes the given staged files (after kAborted). Already gone is fine.
  Status DiscardStaged(const std::vector<StagedFile>& files);

  const CommitLogStats& stats() const;

  // Every record still in the log after the latest checkpoint, in seq
  // order (for tests and `flowlake lake-status`-style tools).
  Result<std::vector<CommitRecord>> ReadRecords();

  // --- State handover (docs/commit-protocol.md, "Analysis state") ---
  // A writer whose output depends on what it consumed before (open rollup
  // windows, detector counts) commits a snapshot of that state with every
  // record, so that the state matches the offsets the log holds. Snapshots
  // live in <root>/_flowlake/state/<writer_id>/; when a writer dies, the
  // next writer to start adopts its latest snapshot, exactly once.

  // Writes `payload` into staging as this writer's next snapshot; pass the
  // returned file to Commit() together with the data it reflects. The
  // snapshot records the names of the snapshots it supersedes (this
  // writer's earlier ones and the ones it adopted), so a later adopter never
  // counts one twice, even if PruneState() did not run. Errors: kIoError.
  Result<StagedFile> StageState(std::string_view payload);
  // After the Commit() of a StageState() file: deletes this writer's older
  // and adopted snapshots. Errors: kIoError.
  Status PruneState(const StagedFile& committed);
  // Call after Recover(), before consuming: moves the state directories of
  // dead writers (their lock is free) under this writer's, and returns the
  // payloads the caller must merge into its state: the snapshots no other
  // snapshot there supersedes. rename(2) makes each adoption exclusive: of
  // two writers starting at once, one gets a dead writer's state. Errors:
  // kIoError, kCorruption (a snapshot without its header).
  Result<std::vector<std::string>> AdoptState();
  // The payloads AdoptState() returned, read again, adopting nothing more:
  // after a Commit(), its snapshot (which supersedes the earlier and
  // adopted ones); before any, the adopted snapshots. That is the state the
  // log's offsets for this writer reflect: what to go back to after a
  // fenced commit. Errors: kIoError, kCorruption.
  Result<std::vector<std::string>> CommittedState();

 private:
  class Impl;
  explicit CommitLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowlake
