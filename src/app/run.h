// Run: the streaming service. Consumes nProbe JSON from Kafka as one member
// of a consumer group and lands every flow in the lake exactly once.
//
// Threads: the calling thread polls Kafka, tracks offsets per partition,
// hands batches of messages to `threads` workers (each with its own decoder
// and staged PartitionedWriter, as in `ingest`), and runs every commit.
//
// Commits (docs/commit-protocol.md): every `commit_interval_s`, when a file
// reaches its size target, before partitions are revoked in a rebalance,
// and at shutdown. A commit is a barrier: the workers finish what they were
// given and close their files, then the CommitLog records the files with
// the offset ranges they hold and publishes them, and only then are the
// offsets committed to Kafka (for lag monitoring). On every assignment the
// consumer seeks to the offsets the lake recorded. A fenced commit (another
// member took a partition) discards what was staged and seeks back.
//
// Backpressure: when the messages handed to workers but not yet written
// exceed a share of `memory_limit_mb`, every partition is paused; polling
// goes on (so the group membership stays alive) and partitions resume once
// the workers have caught up.
//
// Errors: Kafka trouble (a broker down) is retried forever and logged; lake
// I/O errors stop the service with an error (a restart recovers). Bad input
// is dead-lettered with topic, partition and offset, never an error.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "app/config.h"
#include "core/status.h"

namespace flowlake {

struct RunOptions {
  // Set (e.g. by a signal handler) to stop gracefully: stop consuming,
  // commit, leave the group.
  const std::atomic<bool>* stop = nullptr;
  double duration_s = 0;   // > 0: stop by itself after this long
  // Stop once every assigned partition is consumed to its end (a backfill,
  // or a benchmark), after the first assignment.
  bool exit_at_end = false;
  double stats_interval_s = 10;  // the progress log line (not on a TTY)
  bool progress_tty = false;  // draw a one-line status on stderr every second
};

struct RunSummary {
  uint64_t messages = 0;
  uint64_t flows_read = 0;     // flows decoded + records rejected
  uint64_t flows_written = 0;  // rows in files committed by this process
  uint64_t rejected = 0;
  uint64_t files = 0;
  uint64_t commits = 0;
  uint64_t aborted_commits = 0;  // fenced by another member; re-consumed
  uint64_t pauses = 0;           // backpressure episodes
  uint64_t offsets_skipped = 0;  // gaps in Kafka offsets (retention, compaction)
  uint64_t rebalances = 0;
  uint64_t rollup_records = 0;
  uint64_t events = 0;
  uint64_t events_published = 0;  // handed to Kafka (delivery is the producer's)
  uint64_t late_flows = 0;
  uint64_t rollup_windows_over_memory = 0;  // the analysis memory budget was reached
  uint64_t detector_keys_over_memory = 0;
  double seconds = 0;
  double active_seconds = 0;  // from the first message to the end
  std::string ToJson() const;
};

Result<RunSummary> RunService(const RunConfig& config, const RunOptions& options);

}  // namespace flowlake
