#include "app/analysis_stage.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace flowlake {

AnalysisStage::AnalysisStage(AnalysisConfig config, const Clock& clock, AnalysisWriter& writer,
                             KafkaProducer* producer, Threading where)
    : config_(std::move(config)),
      where_(where),
      clock_(clock),
      writer_(writer),
      producer_(producer),
      rollups_(std::make_unique<HostRollups>(config_.rollups, clock)),
      detectors_(std::make_unique<Detectors>(config_.SyncedDetect(), clock)) {}

AnalysisStage::~AnalysisStage() {
  Stop();
  StopOutput();
}

Status AnalysisStage::Start() {
  FLOWLAKE_RETURN_IF_ERROR(detectors_->Start());
  out_thread_ = std::thread([this] { OutputLoop(); });
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void AnalysisStage::StopOutput() {
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    out_stopping_ = true;
    out_cv_.notify_all();
  }
  if (out_thread_.joinable()) out_thread_.join();
}

void AnalysisStage::OutputLoop() {
  for (;;) {
    OutputJob job;
    {
      std::unique_lock<std::mutex> lock(out_mu_);
      out_cv_.wait(lock, [&] { return out_stopping_ || !out_queue_.empty(); });
      if (out_queue_.empty()) return;
      job = std::move(out_queue_.front());
      out_queue_.pop_front();
      out_busy_ = true;
      out_cv_.notify_all();  // room for the analysis
    }
    Status st;
    for (auto& [window_start_ms, json] : job.events) {
      if (st.ok()) st = writer_.AddEvent(window_start_ms, json);
    }
    if (st.ok() && !job.rollups.empty()) st = writer_.AddRollups(job.rollups);
    std::lock_guard<std::mutex> lock(out_mu_);
    if (!st.ok() && out_error_.ok()) out_error_ = st;
    out_busy_ = false;
    out_cv_.notify_all();
  }
}

Status AnalysisStage::WaitOutputIdle() {
  std::unique_lock<std::mutex> lock(out_mu_);
  out_cv_.wait(lock, [&] { return (out_queue_.empty() && !out_busy_) || !out_thread_.joinable(); });
  return out_error_;
}

void AnalysisStage::Stop() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
    queue_cv_.notify_all();
    tick_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<FlowBatch> AnalysisStage::NewBatch() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (!pool_.empty()) {
      std::unique_ptr<FlowBatch> batch = std::move(pool_.back());
      pool_.pop_back();
      return batch;
    }
  }
  return std::make_unique<FlowBatch>();
}

std::unique_ptr<FlowBatch> AnalysisStage::Submit(uint64_t seq, std::unique_ptr<FlowBatch> batch) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  // The batch due next always gets in: it is what frees the others.
  queue_cv_.wait(lock, [&] {
    return stopping_ || seq == next_seq_ || ready_.size() < config_.max_pending_batches;
  });
  if (stopping_) return nullptr;
  ready_.emplace(seq, std::move(batch));
  if (where_ == Threading::kOwnThread) {
    queue_cv_.notify_all();
    return nullptr;
  }
  if (analysing_ || !ready_.contains(next_seq_)) return nullptr;
  // This thread analyses its own batch (still in this core's cache) and
  // whatever is ready after it. A batch submitted meanwhile by another worker
  // is picked up by AnalyseReady()'s loop: `analysing_` and the search for
  // the next seq change under queue_mu_ together, so a batch is never left
  // waiting with nobody to analyse it.
  return AnalyseReady(lock);
}

std::unique_ptr<FlowBatch> AnalysisStage::AnalyseReady(std::unique_lock<std::mutex>& lock) {
  analysing_ = true;
  std::unique_ptr<FlowBatch> reuse;
  while (!stopping_) {
    auto it = ready_.find(next_seq_);
    if (it == ready_.end()) break;
    std::unique_ptr<FlowBatch> b = std::move(it->second);
    ready_.erase(it);
    lock.unlock();
    {
      std::lock_guard<std::mutex> state(state_mu_);
      Analyse(*b);
      TakeOutputs();
    }
    b->Clear();
    lock.lock();
    ++next_seq_;
    // The batch analysed last, the warmest, goes back to the caller.
    if (reuse) pool_.push_back(std::move(reuse));
    reuse = std::move(b);
    queue_cv_.notify_all();
  }
  analysing_ = false;
  return reuse;
}

void AnalysisStage::Loop() {
  // kOwnThread: analyses the batches as they become due. Both ways, closes
  // the windows of an idle stream by wall time: Tick() acts only after
  // idle_timeout_ms without a flow, so a busy stream is not affected, and
  // not at all while the input says flows are in flight (a stalled stream
  // is not idle).
  const auto tick = std::chrono::milliseconds(config_.tick_interval_ms);
  auto last_tick = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      if (where_ == Threading::kOwnThread) {
        queue_cv_.wait_for(lock, tick, [&] { return stopping_ || ready_.contains(next_seq_); });
        if (stopping_) return;
        if (std::unique_ptr<FlowBatch> last = AnalyseReady(lock)) pool_.push_back(std::move(last));
      } else {
        tick_cv_.wait_for(lock, tick, [&] { return stopping_; });
        if (stopping_) return;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_tick < tick) continue;
    last_tick = now;
    if (input_in_flight_.load(std::memory_order_relaxed)) continue;
    std::lock_guard<std::mutex> state(state_mu_);
    rollups_->Tick();
    detectors_->Tick();
    TakeOutputs();
  }
}

void AnalysisStage::Analyse(const FlowBatch& batch) {
  rollups_->Consume(batch);
  detectors_->Consume(batch);
  ++stats_.batches;
  stats_.flows += batch.num_rows();
  const uint64_t over_memory =
      rollups_->stats().windows_over_memory + detectors_->stats().keys_over_memory;
  if (over_memory != over_memory_seen_) {
    over_memory_seen_ = over_memory;
    if (memory_log_.Allow()) {
      spdlog::warn(
          "analysis: the state reached its memory budget ({} MiB for rollups, {} MiB for "
          "detectors: analysis.max_memory_mb); new hosts share the \"other\" record and new "
          "detector keys are not tracked until windows close ({} rollup windows, {} detector "
          "keys so far)",
          config_.rollups.max_state_bytes >> 20, config_.detect.max_state_bytes >> 20,
          rollups_->stats().windows_over_memory, detectors_->stats().keys_over_memory);
    }
  }
}

void AnalysisStage::TakeOutputs() {
  OutputJob job;
  for (DetectionEvent& event : detectors_->TakeEvents()) {
    ++stats_.events;
    if (event_log_.Allow()) {
      spdlog::info("detection: {}", event.json);
    }
    // Published as soon as it fires; the lake gets it with the next commit.
    if (producer_ != nullptr) {
      Status st = producer_->Produce(event.key_host, event.json);
      if (st.ok()) {
        ++stats_.events_published;
      } else {
        ++stats_.publish_errors;
        if (publish_log_.Allow()) {
          spdlog::warn("events: cannot publish event {} to Kafka ({}); it is in the lake",
                       event.id, st.message());
        }
      }
    }
    job.events.emplace_back(event.window_start_ms, std::move(event.json));
  }
  if (producer_ != nullptr) producer_->Poll();
  job.rollups = rollups_->TakeClosed();
  stats_.rollup_records += job.rollups.size();
  if (job.events.empty() && job.rollups.empty()) return;
  outputs_.fetch_add(job.events.size() + job.rollups.size(), std::memory_order_relaxed);
  std::unique_lock<std::mutex> lock(out_mu_);
  // A bounded queue: when the output falls behind, so does the analysis
  // (and, through Submit(), the decoders).
  constexpr size_t kMaxQueuedJobs = 8;
  out_cv_.wait(lock, [&] { return out_queue_.size() < kMaxQueuedJobs || out_stopping_; });
  out_queue_.push_back(std::move(job));
  out_cv_.notify_all();
}

namespace {
constexpr std::string_view kStateMagic = "flowlake-analysis-1\n";

void PutLength(std::string& out, uint64_t n) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
}
bool GetPart(std::string_view& in, std::string_view* part) {
  if (in.size() < 8) return false;
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  in.remove_prefix(8);
  if (n > in.size()) return false;
  *part = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

// Merges `snapshot` (SaveState() bytes) into `rollups` and `detectors`.
Status MergeSnapshot(std::string_view snapshot, HostRollups& rollups, Detectors& detectors) {
  std::string_view in = snapshot;
  std::string_view rollup_part, detector_part;
  if (!in.starts_with(kStateMagic)) {
    return Status::Corruption("analysis: a state snapshot without its magic");
  }
  in.remove_prefix(kStateMagic.size());
  if (!GetPart(in, &rollup_part) || !GetPart(in, &detector_part) || !in.empty()) {
    return Status::Corruption("analysis: a truncated state snapshot");
  }
  FLOWLAKE_RETURN_IF_ERROR(rollups.MergeState(rollup_part));
  return detectors.MergeState(detector_part);
}

}  // namespace

std::string AnalysisStage::SaveState() const {
  std::string out(kStateMagic);
  const std::string rollups = rollups_->SaveState();
  const std::string detectors = detectors_->SaveState();
  PutLength(out, rollups.size());
  out += rollups;
  PutLength(out, detectors.size());
  out += detectors;
  return out;
}

Status AnalysisStage::MergeState(std::string_view snapshot) {
  std::lock_guard<std::mutex> state(state_mu_);
  return MergeSnapshot(snapshot, *rollups_, *detectors_);
}

Status AnalysisStage::RestoreState(const std::vector<std::string>& snapshots) {
  // Built aside and swapped in whole: a bad snapshot leaves the state as it
  // was. Detectors::Start() would read the blocklist file again; the loaded
  // list (and its reloader) moves over instead.
  auto rollups = std::make_unique<HostRollups>(config_.rollups, clock_);
  auto detectors = std::make_unique<Detectors>(config_.SyncedDetect(), clock_);
  for (const std::string& snapshot : snapshots) {
    FLOWLAKE_RETURN_IF_ERROR(MergeSnapshot(snapshot, *rollups, *detectors));
  }
  detectors->TakeBlocklist(*detectors_);
  rollups_ = std::move(rollups);
  detectors_ = std::move(detectors);
  over_memory_seen_ = 0;
  return Status::Ok();
}

Status AnalysisStage::Drain(uint64_t next_seq, const std::function<Status()>& fn) {
  {
    std::unique_lock<std::mutex> lock(queue_mu_);
    queue_cv_.wait(lock, [&] { return stopping_ || next_seq_ >= next_seq; });
  }
  std::lock_guard<std::mutex> state(state_mu_);
  // The analysis is held off; once the output has written what it was
  // given, nothing else touches the writer.
  FLOWLAKE_RETURN_IF_ERROR(WaitOutputIdle());
  return fn();
}

Status AnalysisStage::Finish(uint64_t next_seq) {
  {
    std::unique_lock<std::mutex> lock(queue_mu_);
    queue_cv_.wait(lock, [&] { return stopping_ || next_seq_ >= next_seq; });
  }
  Stop();
  std::lock_guard<std::mutex> state(state_mu_);
  rollups_->Flush();
  detectors_->Flush();
  TakeOutputs();
  if (producer_ != nullptr) {
    Status st = producer_->Flush(10000);
    if (!st.ok()) spdlog::warn("events: {}", st.message());
  }
  FLOWLAKE_RETURN_IF_ERROR(WaitOutputIdle());
  StopOutput();
  return writer_.Flush();
}

AnalysisStats AnalysisStage::stats() const {
  std::lock_guard<std::mutex> state(state_mu_);
  AnalysisStats s = stats_;
  s.late_flows = rollups_->stats().late_flows;
  s.windows_closed = rollups_->stats().windows_closed;
  s.watermark_ms = rollups_->stats().watermark_ms;
  for (size_t i = 0; i < kDetectionTypeCount; ++i) {
    s.events_by_type[i] = detectors_->stats().events_by_type[i];
  }
  s.rollup_windows_over_memory = rollups_->stats().windows_over_memory;
  s.detector_keys_over_memory = detectors_->stats().keys_over_memory;
  return s;
}

}  // namespace flowlake
