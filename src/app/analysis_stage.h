// AnalysisStage: the real-time analysis of the flow stream, on its own
// thread: 1-minute host rollups (stream/host_rollups.h) and the detectors
// (detect/detectors.h), with their outputs handed to an AnalysisWriter (the
// lake) and, for events, an optional KafkaProducer.
//
// Order: the decode workers finish their batches out of order, but event
// time windows, lateness and "fires when the threshold is crossed" depend on
// the order flows are seen. So every batch carries the sequence number of
// the chunk (ingest) or work item (run) it came from, and the stage analyses
// batches strictly in sequence order. The results are then the same for any
// number of workers and any batch size (docs/analysis.md).
//
// Ownership: workers get empty batches from NewBatch() and give them back
// with Submit(); the stage recycles them, so no batch is allocated per chunk
// in the steady state. Memory: at most `max_pending_batches` batches wait
// out of order; Submit() blocks past that (never for the batch that is due
// next, so no deadlock).
//
// Threads: Submit() and NewBatch() from any worker; Drain(), Finish() and
// stats() from one controlling thread. The analysis (rollups, detectors,
// publishing events to Kafka as they fire) runs, by the constructor's
// `where`, on a thread of the stage's own (kOwnThread: Submit() only queues)
// or on the workers (kSubmitter: the Submit() that hands in the batch due
// next analyses it, and every batch ready after it, in order, before it
// returns; the others only queue theirs; one worker analyses at a time).
// The stage also runs a thread that closes the windows of an idle stream by
// wall time (the analysis thread itself with kOwnThread), and the output
// thread (rendering closed records and events into the AnalysisWriter:
// NDJSON, Parquet, files), so that the analysis is not held up by I/O and
// encoding. The writer is used by the output thread, and by `fn` inside
// Drain() while the analysis and the output are idle; the writer and
// producer must outlive the stage.
//
// Errors: an AnalysisWriter error (from the output thread) is sticky and
// returned by Drain() and Finish(); a Kafka publishing error is counted and
// logged (the lake keeps every event), never fatal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/analysis_config.h"
#include "core/clock.h"
#include "core/flow_schema.h"
#include "core/log_limiter.h"
#include "core/status.h"
#include "detect/detectors.h"
#include "lake/analysis_writer.h"
#include "sources/kafka_producer.h"
#include "stream/host_rollups.h"

namespace flowlake {

struct AnalysisStats {
  uint64_t flows = 0;
  uint64_t batches = 0;
  uint64_t late_flows = 0;
  uint64_t rollup_records = 0;
  uint64_t windows_closed = 0;
  uint64_t events = 0;
  uint64_t events_published = 0;  // handed to the Kafka producer
  uint64_t publish_errors = 0;
  uint64_t events_by_type[kDetectionTypeCount] = {};
  int64_t watermark_ms = INT64_MIN;
  // The memory budget (AnalysisConfig::SetMemoryBudget): windows in which
  // new hosts went to "other" for it, detector keys or values not tracked
  // for it.
  uint64_t rollup_windows_over_memory = 0;
  uint64_t detector_keys_over_memory = 0;
};

class AnalysisStage {
 public:
  // Which thread analyses the batches (see "Threads" above). kSubmitter
  // analyses a batch on the core that decoded it, while it is still in its
  // cache: `ingest` is 3-15% faster so (bench/ingest). kOwnThread leaves the
  // workers free to take their next unit of work: `run`, whose workers share
  // the cores with librdkafka's threads, streams ~20% faster so
  // (bench/kafka).
  enum class Threading : uint8_t { kOwnThread, kSubmitter };

  // `producer` may be null (no Kafka: events go to the lake only).
  AnalysisStage(AnalysisConfig config, const Clock& clock, AnalysisWriter& writer,
                KafkaProducer* producer, Threading where = Threading::kOwnThread);
  // Stops the thread; what was not Finish()ed is dropped.
  ~AnalysisStage();
  AnalysisStage(const AnalysisStage&) = delete;
  AnalysisStage& operator=(const AnalysisStage&) = delete;

  // Loads the blocklist (fails fast on a bad path) and starts the thread.
  Status Start();

  // An empty batch to decode into (recycled when possible).
  std::unique_ptr<FlowBatch> NewBatch();
  // Hands over the decoded rows of sequence number `seq`. Every seq from 0
  // up must be submitted exactly once (an empty batch for a unit of work
  // that had no rows). With kSubmitter, if `seq` is the one due, analyses it
  // and the batches ready after it before returning, and returns the last of
  // them, cleared, for the caller to decode into next (the memory its core
  // touched last); otherwise returns null at once.
  std::unique_ptr<FlowBatch> Submit(uint64_t seq, std::unique_ptr<FlowBatch> batch);

  // Before Start(): merges a snapshot taken by SaveState() (of this process
  // or of a dead one, see CommitLog::AdoptState) into the state.
  // Errors: kCorruption for a snapshot that does not parse.
  Status MergeState(std::string_view snapshot);
  // Only inside Drain()'s `fn`: the whole analysis state (open windows,
  // detector counters, fired events, cooldowns, watermark) as bytes.
  std::string SaveState() const;
  // Only inside Drain()'s `fn`: replaces the whole analysis state with the
  // merge of `snapshots` (SaveState() bytes; none: the empty state). The
  // blocklist is kept, and so are stats()' own counters (flows, batches,
  // events published...: what this process did). For a commit that was
  // fenced: the state goes back to what the lake's last commit recorded, so
  // that the flows consumed since then, which are read again (by this
  // member or another), are counted once (docs/commit-protocol.md).
  // Errors: kCorruption for a snapshot that does not parse, with the state
  // unchanged.
  Status RestoreState(const std::vector<std::string>& snapshots);

  // Waits until every seq < `next_seq` is analysed and its outputs are in
  // the writer, then runs `fn` with the stage's thread held off (e.g. to
  // flush the writer and take its staged files for a commit).
  Status Drain(uint64_t next_seq, const std::function<Status()>& fn);
  // End of input: analyses every seq < `next_seq`, closes every window,
  // and flushes the writer. The stage is stopped afterwards.
  Status Finish(uint64_t next_seq);

  // Any thread: whether the input has flows on their way that the analysis
  // has not seen yet (messages dispatched to workers, queued, or held back
  // by a pause). While it is true the idle tick does nothing: a stream whose
  // lake writer or workers are stalled is not idle, and advancing event
  // time by the wall clock then would make the flows in flight late.
  void SetInputInFlight(bool in_flight) {
    input_in_flight_.store(in_flight, std::memory_order_relaxed);
  }

  AnalysisStats stats() const;
  // Rollup records and events handed to the writer so far (any thread): a
  // change means there is output waiting for a commit, even on an idle
  // stream whose windows were closed by the clock.
  uint64_t outputs() const { return outputs_.load(std::memory_order_relaxed); }

 private:
  // What the analysis hands to the output thread.
  struct OutputJob {
    std::vector<HostRollupRecord> rollups;
    std::vector<std::pair<int64_t, std::string>> events;  // window start, JSON
  };

  void Loop();  // kOwnThread: the analysis; both: the idle tick
  // With queue_mu_ held by `lock` (released while analysing): analyses every
  // batch ready from next_seq_ on, in order; returns the last one, cleared
  // (null if none), and pools the others.
  std::unique_ptr<FlowBatch> AnalyseReady(std::unique_lock<std::mutex>& lock);
  void OutputLoop();
  void Analyse(const FlowBatch& batch);  // under state_mu_
  void TakeOutputs();                    // under state_mu_
  // Waits until the output thread has written every job; its error.
  Status WaitOutputIdle();
  void Stop();
  void StopOutput();

  const AnalysisConfig config_;
  const Threading where_;
  const Clock& clock_;
  AnalysisWriter& writer_;
  KafkaProducer* const producer_;

  // queue_mu_: the reorder buffer, the pool, the counters below.
  mutable std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable tick_cv_;  // kSubmitter: wakes the tick thread to stop
  std::map<uint64_t, std::unique_ptr<FlowBatch>> ready_;
  std::vector<std::unique_ptr<FlowBatch>> pool_;
  uint64_t next_seq_ = 0;  // the next seq to analyse
  bool stopping_ = false;
  bool analysing_ = false;  // AnalyseReady() is running

  // state_mu_: the analysis state.
  mutable std::mutex state_mu_;
  // Replaced whole by RestoreState().
  std::unique_ptr<HostRollups> rollups_;
  std::unique_ptr<Detectors> detectors_;
  AnalysisStats stats_;
  LogLimiter event_log_{5, 20};
  LogLimiter publish_log_{1, 5};
  LogLimiter memory_log_{0.1, 1};  // one warning per 10 s at most
  uint64_t over_memory_seen_ = 0;  // of the two over-memory counters, summed

  std::atomic<uint64_t> outputs_{0};
  std::atomic<bool> input_in_flight_{false};  // SetInputInFlight()
  std::thread thread_;

  // out_mu_: the output queue and the output thread's error.
  std::mutex out_mu_;
  std::condition_variable out_cv_;
  std::deque<OutputJob> out_queue_;
  bool out_busy_ = false;  // a job is being written
  bool out_stopping_ = false;
  Status out_error_;
  std::thread out_thread_;
};

}  // namespace flowlake
