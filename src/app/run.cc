#include "app/run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "app/analysis_stage.h"
#include "app/ingest.h"
#include "core/crash_point.h"
#include "core/log_limiter.h"
#include "decode/nprobe_decoder.h"
#include "lake/commit_log.h"
#include "lake/dead_letter.h"
#include "lake/partitioned_writer.h"
#include "sources/kafka_consumer.h"

namespace flowlake {

std::string RunSummary::ToJson() const {
  char buf[1280];
  std::snprintf(
      buf, sizeof buf,
      "{\"messages\":%llu,\"flows_read\":%llu,\"flows_written\":%llu,\"rejected\":%llu,"
      "\"files\":%llu,\"commits\":%llu,\"aborted_commits\":%llu,\"pauses\":%llu,"
      "\"offsets_skipped\":%llu,\"rebalances\":%llu,\"rollup_records\":%llu,"
      "\"events\":%llu,\"events_published\":%llu,\"late_flows\":%llu,"
      "\"rollup_windows_over_memory\":%llu,\"detector_keys_over_memory\":%llu,"
      "\"seconds\":%.3f,\"active_seconds\":%.3f,\"flows_per_second\":%.0f}",
      static_cast<unsigned long long>(messages), static_cast<unsigned long long>(flows_read),
      static_cast<unsigned long long>(flows_written), static_cast<unsigned long long>(rejected),
      static_cast<unsigned long long>(files), static_cast<unsigned long long>(commits),
      static_cast<unsigned long long>(aborted_commits), static_cast<unsigned long long>(pauses),
      static_cast<unsigned long long>(offsets_skipped), static_cast<unsigned long long>(rebalances),
      static_cast<unsigned long long>(rollup_records), static_cast<unsigned long long>(events),
      static_cast<unsigned long long>(events_published),
      static_cast<unsigned long long>(late_flows),
      static_cast<unsigned long long>(rollup_windows_over_memory),
      static_cast<unsigned long long>(detector_keys_over_memory), seconds, active_seconds,
      active_seconds > 0 ? static_cast<double>(flows_read) / active_seconds : 0.0);
  return buf;
}

namespace {

using Clock = std::chrono::steady_clock;

// A unit of work for one worker: messages to decode and write, or (empty,
// flush=true) the commit barrier.
struct WorkItem {
  std::vector<KafkaMessage> messages;
  // The analysis's source of each message (one per partition, for
  // per-partition event time): (first message, source) runs, in order.
  std::vector<std::pair<uint32_t, uint32_t>> source_runs;
  // The sources of the partitions assigned when the item was dispatched.
  FlowBatch::SourceSet sources;
  int64_t polled_ms = 0;  // SystemClock monotonic time the messages were polled
  uint64_t bytes = 0;
  uint64_t seq = 0;  // dispatch order, for the analysis (not for flushes)
  bool flush = false;
};

// State shared by the polling thread and the workers.
struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t inflight_bytes = 0;  // payload handed to workers, not yet written
  std::atomic<uint64_t> flows{0};  // decoded so far (for the progress line)
  int pending_flushes = 0;
  bool stopping = false;
  Status error;  // first worker error; fatal
};

class Worker {
 public:
  // `analysis` may be null (analysis off); it must outlive the worker.
  Worker(unsigned index, const RunConfig& config, const std::string& run_id,
         const std::string& staging_dir, DeadLetterWriter& dead_letter, Shared& shared,
         AnalysisStage* analysis)
      : decoder_(config.decoder),
        writer_(WriterConfig(config, staging_dir), "part-" + run_id + "-w" + std::to_string(index)),
        dead_letter_(dead_letter),
        shared_(shared),
        analysis_(analysis),
        batch_(std::make_unique<FlowBatch>()) {
    thread_ = std::thread([this] { Loop(); });
  }

  ~Worker() { Join(); }

  void Push(std::unique_ptr<WorkItem> item) {
    std::lock_guard<std::mutex> lock(shared_.mu);
    PushLocked(std::move(item));
  }
  void PushLocked(std::unique_ptr<WorkItem> item) {  // under shared.mu
    queue_.push_back(std::move(item));
    shared_.cv.notify_all();
  }

  size_t queued() const { return queue_.size(); }  // under shared.mu
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Only while the worker is idle (after a barrier): the barrier's mutex
  // hand-off orders these with the worker's own accesses.
  PartitionedWriter& writer() { return writer_; }
  const NprobeDecoder& decoder() const { return decoder_; }
  bool has_staged() const { return has_staged_.load(std::memory_order_relaxed); }
  void clear_has_staged() { has_staged_ = false; }

 private:
  static LakeWriterConfig WriterConfig(const RunConfig& config, const std::string& staging_dir) {
    LakeWriterConfig c = config.lake;
    c.staging_dir = staging_dir;
    return c;
  }

  void Loop() {
    std::string source;  // "topic/partition" of the last message, for rejects
    std::string_view last_topic;
    int32_t last_partition = -1;
    for (;;) {
      std::unique_ptr<WorkItem> item;
      {
        std::unique_lock<std::mutex> lock(shared_.mu);
        shared_.cv.wait(lock, [&] { return !queue_.empty() || shared_.stopping; });
        if (queue_.empty()) return;
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      Status st;
      if (item->flush) {
        st = writer_.Flush();
      } else {
        if (!batch_) batch_ = analysis_->NewBatch();
        batch_->Clear();
        batch_->set_expected_sources(item->sources);
        batch_->set_input_time_ms(item->polled_ms);
        last_partition = -1;  // the topic pointer is only trusted within an item
        size_t next_run = 0;
        for (size_t i = 0; i < item->messages.size(); ++i) {
          const KafkaMessage& m = item->messages[i];
          if (next_run < item->source_runs.size() && item->source_runs[next_run].first == i) {
            batch_->BeginSource(item->source_runs[next_run++].second);
          }
          // Topic names are interned by librdkafka: compare pointers.
          if (m.partition() != last_partition || m.topic().data() != last_topic.data()) {
            last_topic = m.topic();
            last_partition = m.partition();
            source.assign(last_topic);
            source += '/';
            source += std::to_string(last_partition);
          }
          SourcePosition pos{source, 0, static_cast<uint64_t>(m.offset()), -1};
          decoder_.DecodeMessage(m.payload(), pos, *batch_, dead_letter_);
        }
        item->messages.clear();  // gives librdkafka its buffers back early
        shared_.flows.fetch_add(batch_->num_rows(), std::memory_order_relaxed);
        st = writer_.Write(*batch_);
        if (st.ok() && writer_.staged_files() > 0) has_staged_ = true;
        if (analysis_ != nullptr) batch_ = analysis_->Submit(item->seq, std::move(batch_));
      }
      std::lock_guard<std::mutex> lock(shared_.mu);
      if (!st.ok() && shared_.error.ok()) shared_.error = st;
      shared_.inflight_bytes -= item->bytes;
      if (item->flush) --shared_.pending_flushes;
      shared_.cv.notify_all();
    }
  }

  NprobeDecoder decoder_;
  PartitionedWriter writer_;
  DeadLetterWriter& dead_letter_;
  Shared& shared_;
  AnalysisStage* const analysis_;
  std::unique_ptr<FlowBatch> batch_;  // Submit()'s batch to reuse, or null
  std::deque<std::unique_ptr<WorkItem>> queue_;  // guarded by shared_.mu
  std::atomic<bool> has_staged_{false};
  std::thread thread_;
};

// Per assigned partition: the offsets consumed since the last commit.
struct Track {
  int64_t first = -1;  // where this commit's range starts; -1: not known yet
  int64_t next = -1;   // one past the last offset handed to a worker
  // A seek to `first` failed (e.g. the partition is being revoked): its
  // messages are ignored until a retry succeeds or the partition goes.
  bool seek_pending = false;
  int64_t seek_to = 0;  // the offset to retry it at
  uint32_t source = 0;  // the analysis's source id of the partition
};

class Service final : public KafkaConsumer::Listener {
 public:
  Service(const RunConfig& config, const RunOptions& options)
      : config_(config), options_(options) {
    // One memory limit bounds the whole process. A fixed reserve (kReserve)
    // covers what does not follow our settings: the program, librdkafka's
    // fetch pipeline (about 60 MiB measured with 16 partitions at any queue
    // setting), Parquet page buffers and zstd contexts per open file, and
    // the heap's slack. The analysis state gets its own budget
    // (analysis.max_memory_mb, by default a quarter of the limit; the
    // config allows at most half of what the reserve leaves). The rest is shared out: an eighth at
    // most for messages handed to workers (inflight_limit_; a few MiB per
    // worker keep them busy, and a short queue keeps commit barriers
    // short), a quarter for the writers' row-group buffers, an eighth (64
    // MiB at most) for librdkafka's prefetch queue.
    constexpr uint64_t kReserve = 128ULL << 20;
    const uint64_t limit = std::max<uint64_t>(config_.service.memory_limit_mb << 20, 2 * kReserve);
    uint64_t analysis_bytes = 0;
    if (config_.analysis.enabled) {
      analysis_bytes = std::min(AnalysisMemoryBytes(config_), (limit - kReserve) / 2);
      config_.analysis.SetMemoryBudget(analysis_bytes);
    }
    const uint64_t usable = limit - kReserve - analysis_bytes;
    threads_ = config_.service.threads ? config_.service.threads
                                       : std::max(1u, std::thread::hardware_concurrency());
    inflight_limit_ = std::min<uint64_t>(usable / 8, threads_ * (8ULL << 20));
    const uint64_t per_writer = usable / 4 / threads_;
    config_.lake.max_buffered_bytes = std::min(config_.lake.max_buffered_bytes, per_writer);
    config_.lake.row_group_bytes = std::min(config_.lake.row_group_bytes, per_writer);
    // The prefetch queue is what keeps the workers fed: below ~64 MiB,
    // throughput drops by a third (bench/kafka), since librdkafka refetches
    // only once the queue has drained.
    if (!config_.kafka.consumer.contains("queued.max.messages.kbytes")) {
      config_.kafka.consumer["queued.max.messages.kbytes"] =
          std::to_string(std::min<uint64_t>(65536, (usable >> 10) / 8));
    }
    // One fetch response is held whole while its messages live: cap it too
    // (librdkafka's default is 50 MiB, compressed).
    if (!config_.kafka.consumer.contains("fetch.max.bytes")) {
      config_.kafka.consumer["fetch.max.bytes"] =
          std::to_string(std::clamp<uint64_t>(usable / 16, 1 << 20, 50ULL << 20));
    }
  }

  ~Service() override { StopWorkers(); }

  Result<RunSummary> Run() {
    const auto t0 = Clock::now();
    run_id_ = NewRunId();
    FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(config_.lake.root));
    FLOWLAKE_ASSIGN_OR_RETURN(
        log_, CommitLog::Open({.root = config_.lake.root,
                                  .sync = config_.lake.sync,
                                  .checkpoint_every = config_.checkpoint_every},
                                 run_id_));
    FLOWLAKE_RETURN_IF_ERROR(log_->Recover());
    if (log_->stats().rolled_forward || log_->stats().orphans_deleted) {
      spdlog::info("lake: recovered {} committed file(s), deleted {} orphan(s)",
                   log_->stats().rolled_forward, log_->stats().orphans_deleted);
    }
    dead_letter_ = std::make_unique<DeadLetterWriter>(
        DeadLetterConfig{.root = config_.lake.root, .staging_dir = log_->staging_dir()},
        "rejected-" + run_id_);

    FLOWLAKE_RETURN_IF_ERROR(StartAnalysis());
    for (unsigned i = 0; i < threads_; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, config_, run_id_, log_->staging_dir(),
                                                  *dead_letter_, shared_, analysis_.get()));
    }
    KafkaSourceConfig kc;
    kc.brokers = config_.kafka.brokers;
    kc.topics = config_.kafka.topics;
    kc.group = config_.kafka.group;
    kc.auto_offset_reset = config_.kafka.auto_offset_reset;
    kc.properties = config_.kafka.consumer;
    FLOWLAKE_ASSIGN_OR_RETURN(consumer_, KafkaConsumer::Create(kc, this));
    spdlog::info("run {}: consuming {} from {} as group '{}' into {}", run_id_,
                 fmt::join(kc.topics, ","), kc.brokers, kc.group, config_.lake.root);

    Status st = Loop(t0);
    if (st.ok() && fatal_.ok()) st = FinishAnalysis();
    if (st.ok() && fatal_.ok()) st = CommitNow("shutdown");
    // Leaving the group calls OnRevoke, which commits again (a no-op now).
    if (analysis_) {
      const AnalysisStats a = analysis_->stats();
      summary_.events = a.events;
      summary_.events_published = a.events_published;
      summary_.rollup_records = a.rollup_records;
      summary_.late_flows = a.late_flows;
      summary_.rollup_windows_over_memory = a.rollup_windows_over_memory;
      summary_.detector_keys_over_memory = a.detector_keys_over_memory;
    }
    Status close = consumer_->Close();
    if (!close.ok()) spdlog::warn("{}", close.message());
    StopWorkers();
    if (st.ok()) st = fatal_;
    if (options_.progress_tty) std::fputs("\n", stderr);
    if (!st.ok()) return st;

    const auto end = Clock::now();
    summary_.seconds = std::chrono::duration<double>(end - t0).count();
    if (first_message_) {
      summary_.active_seconds = std::chrono::duration<double>(end - *first_message_).count();
    }
    summary_.messages = consumer_->stats().messages;
    summary_.rebalances = consumer_->stats().assignments;
    DecoderStats decoded;
    for (auto& w : workers_) decoded.Add(w->decoder().stats());
    summary_.flows_read = decoded.flows + decoded.rejected;
    summary_.rejected = decoded.rejected;
    return summary_;
  }

  // --- KafkaConsumer::Listener (called inside Poll() / Close()) ---

  void OnRevoke(const std::vector<TopicPartition>& partitions) override {
    if (fatal_.ok()) {
      Status st = CommitNow("rebalance");
      if (!st.ok()) fatal_ = st;
    }
    for (const TopicPartition& tp : partitions) {
      track_.erase(tp);
      dropped_.erase(tp);
    }
    UpdateSources();
  }

  std::vector<int64_t> OnAssign(const std::vector<TopicPartition>& partitions) override {
    std::vector<int64_t> offsets(partitions.size(), FreshOffset());
    Result<std::map<TopicPartition, int64_t>> state = log_->State();
    if (!state.ok()) {
      // Without the lake's offsets any start could duplicate or skip data:
      // stop rather than guess.
      fatal_ = state.status();
      return offsets;
    }
    size_t resumed = 0;
    for (size_t i = 0; i < partitions.size(); ++i) {
      offsets[i] = StartFromLake(*state, partitions[i]);
      if (offsets[i] >= 0) ++resumed;
      spdlog::debug("kafka: {} starts at {}", partitions[i].ToString(), offsets[i]);
    }
    spdlog::info("kafka: {} partition(s) resume where the lake ends, {} new ones start at the {}",
                 resumed, partitions.size() - resumed,
                 FreshOffset() == kOffsetEnd ? "end (latest)" : "beginning (earliest)");
    UpdateSources();
    return offsets;
  }

 private:
  // The analysis writes into this run's staging directory, so rollups and
  // events are committed with the flows they come from; events also go to
  // Kafka as soon as they fire.
  Status StartAnalysis() {
    if (!config_.analysis.enabled) return Status::Ok();
    AnalysisWriterConfig wc;
    wc.root = config_.lake.root;
    wc.staging_dir = log_->staging_dir();
    wc.parquet = config_.lake.parquet;
    wc.sync = config_.lake.sync;
    analysis_writer_ = std::make_unique<AnalysisWriter>(wc, "analysis-" + run_id_);
    if (!config_.kafka.events_topic.empty()) {
      KafkaProducerConfig pc;
      pc.brokers = config_.kafka.brokers;
      pc.topic = config_.kafka.events_topic;
      // The connection settings of the consumer (TLS, SASL, client id) apply
      // to the producer too; consumer tuning does not.
      for (const auto& [name, value] : config_.kafka.consumer) {
        if (name.starts_with("security.") || name.starts_with("ssl.") ||
            name.starts_with("sasl.") || name == "client.id") {
          pc.properties[name] = value;
        }
      }
      FLOWLAKE_ASSIGN_OR_RETURN(producer_, KafkaProducer::Create(pc));
    }
    analysis_ = std::make_unique<AnalysisStage>(config_.analysis, SystemClock::Default(),
                                                *analysis_writer_, producer_.get());
    // The windows and counters of writers that died: their flows up to
    // their last commit are counted there and nowhere else.
    FLOWLAKE_ASSIGN_OR_RETURN(std::vector<std::string> states, log_->AdoptState());
    for (const std::string& state : states) {
      FLOWLAKE_RETURN_IF_ERROR(NamingStateDir(analysis_->MergeState(state)));
    }
    if (!states.empty()) {
      spdlog::info("analysis: adopted the state of {} stopped writer(s)", states.size());
    }
    return analysis_->Start();
  }

  // A state snapshot that does not merge stops the service: its error, with
  // the directory the snapshots were read from (adopted ones included).
  Status NamingStateDir(Status st) const {
    if (st.ok()) return st;
    return Status(st.code(), st.message() + " (state snapshots under " + config_.lake.root +
                                 "/_flowlake/state/" + run_id_ + "/)");
  }

  // At shutdown, the open windows are closed early and written as partial
  // rollups: a restarted member continues them, and partial records of one
  // host and window merge (docs/rollup-sketches.md). Nothing is lost.
  Status FinishAnalysis() {
    if (!analysis_) return Status::Ok();
    FLOWLAKE_RETURN_IF_ERROR(Barrier());
    Status st = analysis_->Finish(next_seq_);
    dirty_ = true;
    if (!st.ok()) fatal_ = st;
    return st;
  }

  Status Loop(Clock::time_point t0) {
    std::vector<KafkaMessage> msgs;
    msgs.reserve(8192);
    auto last_commit = Clock::now();
    auto last_progress = Clock::now();
    auto last_log = Clock::now();
    const auto stats_every = std::chrono::duration<double>(options_.stats_interval_s);
    uint64_t last_flows = 0;  // flows decoded at the last progress line
    const auto interval = std::chrono::seconds(config_.service.commit_interval_s);
    for (;;) {
      if (options_.stop && options_.stop->load()) break;
      if (options_.duration_s > 0 &&
          std::chrono::duration<double>(Clock::now() - t0).count() >= options_.duration_s) {
        break;
      }
      if (!fatal_.ok()) return fatal_;
      {
        std::lock_guard<std::mutex> lock(shared_.mu);
        if (!shared_.error.ok()) return shared_.error;
      }
      // Backpressure: hand out what waits, waiting up to a second for room
      // (ordinary flow control: a worker encoding a row group). If the
      // workers are still full, the lake is slow: pause fetching but keep
      // polling, which keeps this member in the group and serves
      // rebalances. (Pausing drops librdkafka's prefetched messages, so it
      // is not for short waits.)
      SendPending(pending_.empty() ? 0 : 1000);
      ApplyBackpressure();
      RetrySeeks();

      msgs.clear();
      consumer_->Poll(msgs, 8192,
                      pending_.empty() ? static_cast<int>(config_.kafka.poll_timeout_ms) : 0);
      if (!fatal_.ok()) return fatal_;
      if (!msgs.empty() && !first_message_) first_message_ = Clock::now();
      if (consumer_->paused()) DropWhilePaused(msgs);
      Dispatch(msgs);
      SendPending(0);
      if (options_.exit_at_end && msgs.empty() && pending_.empty() &&
          !consumer_->assignment().empty() && consumer_->Lag() == 0) {
        spdlog::info("every partition is consumed to its end; stopping (--exit-at-end)");
        break;
      }

      if (analysis_) {
        // Messages waiting for or held by workers are flows the analysis
        // has not seen: the stream is not idle, however long a slow lake
        // keeps them there.
        uint64_t inflight;
        {
          std::lock_guard<std::mutex> lock(shared_.mu);
          inflight = shared_.inflight_bytes;
        }
        analysis_->SetInputInFlight(inflight > 0 || !pending_.empty() || consumer_->paused());
      }
      // Windows closed by the clock on an idle stream still need a commit.
      if (analysis_ && analysis_->outputs() != committed_outputs_) dirty_ = true;
      const auto now = Clock::now();
      bool staged = false;
      for (auto& w : workers_) staged = staged || w->has_staged();
      if (staged || (now - last_commit >= interval && dirty_)) {
        FLOWLAKE_RETURN_IF_ERROR(CommitNow(staged ? "file size" : "interval"));
        last_commit = Clock::now();
      } else if (now - last_commit >= interval) {
        last_commit = now;
      }
      if (now - last_progress >= std::chrono::seconds(1)) {
        const double dt = std::chrono::duration<double>(now - last_progress).count();
        const uint64_t flows = shared_.flows.load(std::memory_order_relaxed);
        const bool log_line = now - last_log >= stats_every;
        Progress((flows - last_flows) / dt, log_line);
        if (log_line) last_log = now;
        last_flows = flows;
        last_progress = now;
      }
    }
    return Status::Ok();
  }

  void Dispatch(std::vector<KafkaMessage>& msgs) {
    if (msgs.empty()) return;
    // The analysis's clock (SystemClock), for its per-partition idle rule.
    const int64_t polled_ms = SystemClock::Default().MonotonicMs();
    constexpr uint64_t kItemBytes = 1 << 20;
    std::unique_ptr<WorkItem> item;
    // Messages come in runs from one partition: look the track up once per run.
    std::string_view run_topic;
    int32_t run_partition = -1;
    std::map<TopicPartition, Track>::iterator it = track_.end();
    for (KafkaMessage& m : msgs) {
      if (m.partition() != run_partition || m.topic().data() != run_topic.data()) {
        run_topic = m.topic();
        run_partition = m.partition();
        it = track_.find(TopicPartition{std::string(run_topic), run_partition});
      }
      if (it == track_.end()) continue;  // not ours (any more)
      Track& t = it->second;
      if (t.seek_pending) continue;
      if (t.next >= 0 && m.offset() < t.next) continue;  // already handed out
      if (t.next >= 0 && m.offset() > t.next) {
        // Offsets with no message: deleted by retention before we read
        // them, compacted, or transaction markers.
        summary_.offsets_skipped += static_cast<uint64_t>(m.offset() - t.next);
        if (gap_log_.Allow()) {
          spdlog::warn("kafka: {}: offsets {}..{} are not in Kafka (retention or compaction)",
                       it->first.ToString(), t.next, m.offset() - 1);
        }
      }
      if (t.first < 0) t.first = m.offset();
      t.next = m.offset() + 1;
      if (!item) {
        item = std::make_unique<WorkItem>();
        item->sources = sources_;
        item->polled_ms = polled_ms;
      }
      if (item->source_runs.empty() || item->source_runs.back().second != t.source) {
        item->source_runs.emplace_back(static_cast<uint32_t>(item->messages.size()), t.source);
      }
      item->bytes += m.payload().size();
      item->messages.push_back(std::move(m));
      if (item->bytes >= kItemBytes) pending_.push_back(std::move(item));
    }
    if (item) pending_.push_back(std::move(item));
    dirty_ = true;
  }

  // Hands pending items to the least loaded workers while they fit under
  // inflight_limit_, waiting up to `wait_ms` (-1: for ever) for room.
  void SendPending(int wait_ms) {
    if (pending_.empty()) return;
    const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(wait_ms, 0));
    std::unique_lock<std::mutex> lock(shared_.mu);
    while (!pending_.empty()) {
      std::unique_ptr<WorkItem>& item = pending_.front();
      // An item always fits into empty workers, however large.
      if (shared_.inflight_bytes > 0 &&
          shared_.inflight_bytes + item->bytes > inflight_limit_) {
        if (!shared_.error.ok()) return;  // workers stopped; the loop reports it
        if (wait_ms < 0) {
          shared_.cv.wait(lock);
        } else if (wait_ms == 0 ||
                   shared_.cv.wait_until(lock, deadline) == std::cv_status::timeout) {
          return;
        }
        continue;
      }
      shared_.inflight_bytes += item->bytes;
      item->seq = next_seq_++;
      Worker* target = workers_[next_worker_++ % workers_.size()].get();
      for (auto& w : workers_) {
        if (w->queued() < target->queued()) target = w.get();
      }
      target->PushLocked(std::move(item));
      pending_.pop_front();
    }
  }

  void ApplyBackpressure() {
    if (!pending_.empty() && !consumer_->paused()) {
      consumer_->Pause();
      ++summary_.pauses;
      if (pause_log_.Allow()) {
        spdlog::info("backpressure: the lake writer is behind; pausing consumption");
      }
    } else if (pending_.empty() && consumer_->paused()) {
      uint64_t inflight;
      {
        std::lock_guard<std::mutex> lock(shared_.mu);
        inflight = shared_.inflight_bytes;
      }
      if (inflight <= inflight_limit_ / 2) {
        consumer_->Resume();
        // Fetch again what was dropped while paused.
        for (const auto& [tp, offset] : dropped_) {
          if (!track_.contains(tp)) continue;  // revoked meanwhile
          Status st = consumer_->Seek(tp, offset);
          if (!st.ok() && fatal_.ok()) fatal_ = st;
        }
        dropped_.clear();
      }
    }
  }

  // While paused, librdkafka still hands out what it had prefetched. Each
  // message pins its whole decompressed batch, so keeping them would defeat
  // the pause: they are dropped (nothing was handed out, no offset moved)
  // and their partitions re-read from the first dropped offset on resume.
  void DropWhilePaused(std::vector<KafkaMessage>& msgs) {
    for (const KafkaMessage& m : msgs) {
      TopicPartition tp{std::string(m.topic()), m.partition()};
      auto it = dropped_.find(tp);
      if (it == dropped_.end()) {
        dropped_.emplace(std::move(tp), m.offset());
      } else if (m.offset() < it->second) {
        it->second = m.offset();
      }
    }
    msgs.clear();
  }

  // The barrier: every worker finishes its queue and closes its files.
  Status Barrier() {
    SendPending(-1);  // everything dispatched is in the offsets being committed
    {
      std::lock_guard<std::mutex> lock(shared_.mu);
      if (!shared_.error.ok()) return shared_.error;
    }
    for (auto& w : workers_) {
      auto item = std::make_unique<WorkItem>();
      item->flush = true;
      {
        std::lock_guard<std::mutex> lock(shared_.mu);
        ++shared_.pending_flushes;
      }
      w->Push(std::move(item));
    }
    std::unique_lock<std::mutex> lock(shared_.mu);
    shared_.cv.wait(lock, [&] { return shared_.pending_flushes == 0; });
    return shared_.error;
  }

  // Any failure is fatal: staged files may have been taken, so a retry
  // could record offsets without their rows. A restart recovers instead.
  Status CommitNow(const char* reason) {
    if (!fatal_.ok()) return fatal_;
    Status st = TryCommit(reason);
    if (!st.ok()) fatal_ = st;
    return st;
  }

  Status TryCommit(const char* reason) {
    if (!dirty_) return Status::Ok();
    FLOWLAKE_RETURN_IF_ERROR(Barrier());
    std::vector<StagedFile> files;
    uint64_t rows = 0;
    for (auto& w : workers_) {
      for (StagedFile& f : w->writer().TakeStaged()) {
        rows += f.rows;
        files.push_back(std::move(f));
      }
      w->clear_has_staged();
    }
    FLOWLAKE_ASSIGN_OR_RETURN(std::vector<StagedFile> rejected, dead_letter_->TakeStaged());
    for (StagedFile& f : rejected) files.push_back(std::move(f));
    size_t analysis_files = 0;
    std::optional<StagedFile> state_file;
    if (analysis_) {
      // Everything dispatched has been analysed; what it produced is flushed
      // into staging and committed with the flows' offsets.
      uint64_t outputs = 0;
      FLOWLAKE_RETURN_IF_ERROR(analysis_->Drain(next_seq_, [&]() -> Status {
        outputs = analysis_->outputs();  // exact: the analysis is held off here
        FLOWLAKE_RETURN_IF_ERROR(analysis_writer_->Flush());
        for (StagedFile& f : analysis_writer_->TakeStaged()) {
          files.push_back(std::move(f));
          ++analysis_files;
        }
        // The state goes with the offsets it reflects (docs/commit-protocol.md).
        FLOWLAKE_ASSIGN_OR_RETURN(state_file, log_->StageState(analysis_->SaveState()));
        files.push_back(*state_file);
        ++analysis_files;
        return Status::Ok();
      }));
      committed_outputs_ = std::max(committed_outputs_, outputs);
    }

    std::vector<OffsetRange> ranges;
    std::map<TopicPartition, int64_t> next_offsets;
    for (const auto& [tp, t] : track_) {
      if (t.first >= 0 && t.next > t.first) {
        ranges.push_back({tp, t.first, t.next});
        next_offsets[tp] = t.next;
      }
    }
    CrashPoint("run.before_commit");
    Result<uint64_t> seq = log_->Commit(ranges, files);
    if (!seq.ok() && seq.status().code() == StatusCode::kAborted) {
      spdlog::warn("commit fenced ({}); discarding {} staged file(s) and re-reading from the lake",
                   seq.status().message(), files.size());
      ++summary_.aborted_commits;
      FLOWLAKE_RETURN_IF_ERROR(log_->DiscardStaged(files));
      for (auto& w : workers_) w->writer().DiscardAll();
      dead_letter_->DiscardAll();
      if (analysis_) {
        // Every flow consumed since the last commit is read again, here or
        // by the partition's new owner: the analysis goes back to the state
        // that commit recorded, or those flows would count twice in the
        // rollups. Inside Drain(), because the idle tick may have written
        // outputs since the barrier.
        FLOWLAKE_RETURN_IF_ERROR(analysis_->Drain(next_seq_, [&]() -> Status {
          analysis_writer_->DiscardAll();
          committed_outputs_ = analysis_->outputs();  // nothing of it is waiting now
          FLOWLAKE_ASSIGN_OR_RETURN(std::vector<std::string> committed, log_->CommittedState());
          return NamingStateDir(analysis_->RestoreState(committed));
        }));
      }
      dirty_ = false;
      return SeekToLake();
    }
    if (!seq.ok()) return seq.status();
    CrashPoint("run.after_commit");
    if (state_file) FLOWLAKE_RETURN_IF_ERROR(log_->PruneState(*state_file));
    for (auto& [tp, t] : track_) {
      if (t.next >= 0) t.first = t.next;
    }
    consumer_->CommitOffsets(next_offsets);
    ++summary_.commits;
    summary_.files += files.size() - rejected.size() - analysis_files;
    summary_.flows_written += rows;
    dirty_ = false;
    spdlog::debug("commit {} ({}): {} file(s), {} flows", *seq, reason, files.size(), rows);
    return Status::Ok();
  }

  // Where a partition the lake has never seen starts.
  int64_t FreshOffset() const {
    return config_.kafka.auto_offset_reset == "latest" ? kOffsetEnd : kOffsetBeginning;
  }

  // Resets tp's track to where the lake ends and returns the offset to start
  // it at: the lake's, or FreshOffset() for a partition it has never seen.
  int64_t StartFromLake(const std::map<TopicPartition, int64_t>& state, const TopicPartition& tp) {
    auto it = state.find(tp);
    const int64_t start = it == state.end() ? -1 : it->second;
    Track& t = track_[tp];
    t.first = t.next = start;
    t.seek_pending = false;
    // One source id per partition for the life of the process, so the
    // analysis's per-source table stays as small as the partition count.
    t.source = source_ids_.try_emplace(tp, static_cast<uint32_t>(source_ids_.size())).first->second;
    return it == state.end() ? FreshOffset() : start;
  }

  // The assigned partitions' source ids, for the items dispatched from now
  // on: the analysis's watermark waits for each of them (EventTimeWatermark).
  void UpdateSources() {
    auto ids = std::make_shared<std::vector<uint32_t>>();
    for (const auto& [tp, t] : track_) ids->push_back(t.source);
    std::sort(ids->begin(), ids->end());
    sources_ = std::move(ids);
  }

  // After a fenced commit: start every partition again where the lake ends.
  // A fenced member is usually losing its partitions right then, and a seek
  // on a partition being revoked times out: that partition waits (its
  // messages ignored) and the seek is retried by RetrySeeks() until it
  // works or the partition is gone. Consuming it from anywhere else could
  // record offsets whose rows were never written.
  Status SeekToLake() {
    FLOWLAKE_ASSIGN_OR_RETURN(auto state, log_->State());
    for (auto& [tp, t] : track_) {
      const int64_t start = StartFromLake(state, tp);
      Status st = consumer_->Seek(tp, start);
      if (!st.ok()) {
        spdlog::warn("kafka: {} (will retry)", st.message());
        t.seek_pending = true;
        t.seek_to = start;
      }
    }
    return Status::Ok();
  }

  void RetrySeeks() {
    for (auto& [tp, t] : track_) {
      if (!t.seek_pending) continue;
      if (consumer_->Seek(tp, t.seek_to).ok()) t.seek_pending = false;
    }
  }

  void Progress(double rate, bool log_line) {
    const int64_t lag = consumer_->Lag();
    if (options_.progress_tty) {
      std::fprintf(stderr,
                   "\r\033[K%9.0f flows/s  lag %lld  files %llu  commits %llu  partitions %zu%s",
                   rate, static_cast<long long>(lag),
                   static_cast<unsigned long long>(summary_.files),
                   static_cast<unsigned long long>(summary_.commits),
                   consumer_->assignment().size(), consumer_->paused() ? "  (paused)" : "");
      std::fflush(stderr);
    } else if (log_line) {
      spdlog::info("progress flows_per_s={:.0f} lag={} files={} commits={} partitions={} paused={}",
                   rate, lag, summary_.files, summary_.commits, consumer_->assignment().size(),
                   consumer_->paused());
    }
  }

  void StopWorkers() {
    {
      std::lock_guard<std::mutex> lock(shared_.mu);
      shared_.stopping = true;
      shared_.cv.notify_all();
    }
    // Workers finish their queues first: every item they were given is
    // submitted to the analysis, which must still be alive for that.
    for (auto& w : workers_) w->Join();
    analysis_.reset();
  }

  RunConfig config_;  // a copy: limits are derived from memory_limit_mb
  const RunOptions& options_;
  std::string run_id_;
  std::unique_ptr<CommitLog> log_;
  std::unique_ptr<DeadLetterWriter> dead_letter_;
  std::unique_ptr<KafkaConsumer> consumer_;
  std::unique_ptr<AnalysisWriter> analysis_writer_;
  std::unique_ptr<KafkaProducer> producer_;
  std::unique_ptr<AnalysisStage> analysis_;  // null when analysis is off
  uint64_t next_seq_ = 0;           // the next work item's seq
  uint64_t committed_outputs_ = 0;  // analysis_->outputs() at the last commit
  Shared shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  size_t next_worker_ = 0;
  unsigned threads_ = 1;
  uint64_t inflight_limit_ = 0;
  std::map<TopicPartition, Track> track_;
  std::map<TopicPartition, uint32_t> source_ids_;  // never erased
  FlowBatch::SourceSet sources_;  // of the partitions in track_
  // Dispatched (offsets tracked) but not yet handed to a worker.
  std::deque<std::unique_ptr<WorkItem>> pending_;
  // Per partition, the first offset dropped while paused (re-read on resume).
  std::map<TopicPartition, int64_t> dropped_;
  bool dirty_ = false;  // something was handed out since the last commit
  std::optional<Clock::time_point> first_message_;
  Status fatal_;
  RunSummary summary_;
  LogLimiter gap_log_{1, 5};
  LogLimiter pause_log_{0.2, 1};
};

}  // namespace

Result<RunSummary> RunService(const RunConfig& config, const RunOptions& options) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  Service service(config, options);
  return service.Run();
}

}  // namespace flowlake
