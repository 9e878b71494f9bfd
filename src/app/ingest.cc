#include "app/ingest.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "decode/record_framer.h"
#include "lake/dead_letter.h"

namespace flowlake {

Status IngestConfig::Validate() const {
  if (input.empty()) return Status::InvalidArgument("ingest: --input is required");
  if (threads > 256) return Status::InvalidArgument("ingest: --threads must be at most 256");
  FLOWLAKE_RETURN_IF_ERROR(lake.Validate());
  FLOWLAKE_RETURN_IF_ERROR(decoder.Validate());
  if (analysis.enabled) FLOWLAKE_RETURN_IF_ERROR(analysis.Validate());
  return reader.Validate();
}

std::string IngestSummary::ToJson() const {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"flows_read\":%llu,\"flows_written\":%llu,\"rejected\":%llu,\"files\":%llu,"
                "\"seconds\":%.3f,\"flows_per_second\":%.0f,\"row_groups\":%llu,"
                "\"field_errors\":%llu,\"unknown_fields\":%llu,\"bytes_read\":%llu,"
                "\"bytes_written\":%llu,\"rollup_records\":%llu,\"events\":%llu,"
                "\"late_flows\":%llu,\"rollup_windows_over_memory\":%llu,"
                "\"detector_keys_over_memory\":%llu}",
                static_cast<unsigned long long>(flows_read),
                static_cast<unsigned long long>(flows_written),
                static_cast<unsigned long long>(rejected), static_cast<unsigned long long>(files),
                seconds, seconds > 0 ? static_cast<double>(flows_read) / seconds : 0.0,
                static_cast<unsigned long long>(row_groups),
                static_cast<unsigned long long>(field_errors),
                static_cast<unsigned long long>(unknown_fields),
                static_cast<unsigned long long>(bytes_read),
                static_cast<unsigned long long>(bytes_written),
                static_cast<unsigned long long>(rollup_records),
                static_cast<unsigned long long>(events),
                static_cast<unsigned long long>(late_flows),
                static_cast<unsigned long long>(rollup_windows_over_memory),
                static_cast<unsigned long long>(detector_keys_over_memory));
  return buf;
}

std::string NewRunId() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  std::random_device rd;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%08x", stamp, rd());
  return buf;
}

namespace {

size_t ChunkBoundary(const char* data, size_t size) {
  return LastRecordBoundary(std::string_view(data, size));
}

// A bounded MPMC queue of chunk pointers; Close() wakes every waiter.
class ChunkQueue {
 public:
  void Push(Chunk* c) {
    std::lock_guard<std::mutex> lock(mu_);
    q_.push_back(c);
    cv_.notify_one();
  }
  // nullptr when closed and drained.
  Chunk* Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return nullptr;
    Chunk* c = q_.front();
    q_.pop_front();
    return c;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk*> q_;
  bool closed_ = false;
};

}  // namespace

Result<IngestSummary> RunIngest(const IngestConfig& config) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  const auto t0 = std::chrono::steady_clock::now();
  const unsigned threads =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());

  FLOWLAKE_ASSIGN_OR_RETURN(std::unique_ptr<ChunkReader> reader,
                            ChunkReader::Open(config.input, &ChunkBoundary, config.reader));
  FLOWLAKE_RETURN_IF_ERROR(CreateDirectories(config.lake.root));

  const std::string run_id = NewRunId();
  DeadLetterWriter dead_letter({.root = config.lake.root}, "rejected-" + run_id);

  // The analysis sees the chunks in input order (see AnalysisStage), so its
  // results do not depend on `threads` or the chunk size.
  std::unique_ptr<AnalysisWriter> analysis_writer;
  std::unique_ptr<AnalysisStage> analysis;
  if (config.analysis.enabled) {
    AnalysisWriterConfig wc;
    wc.root = config.lake.root;
    wc.parquet = config.lake.parquet;
    wc.sync = config.lake.sync;
    analysis_writer = std::make_unique<AnalysisWriter>(wc, "analysis-" + run_id);
    analysis = std::make_unique<AnalysisStage>(config.analysis, SystemClock::Default(),
                                               *analysis_writer, nullptr,
                                               AnalysisStage::Threading::kSubmitter);
    FLOWLAKE_RETURN_IF_ERROR(analysis->Start());
  }

  // Chunks circulate between `free` and `work`: 2 per worker bounds memory
  // and lets the reader fill one while workers decode the others.
  std::vector<Chunk> chunks(2 * threads);
  std::vector<uint64_t> chunk_seq(chunks.size());  // input order, by chunk index
  ChunkQueue free_chunks, work;
  for (Chunk& c : chunks) free_chunks.Push(&c);

  std::atomic<bool> failed{false};
  std::mutex error_mu;
  Status first_error;
  auto fail = [&](const Status& st) {
    std::lock_guard<std::mutex> lock(error_mu);
    if (first_error.ok()) first_error = st;
    failed = true;
  };

  struct Worker {
    std::unique_ptr<NprobeDecoder> decoder;
    std::unique_ptr<PartitionedWriter> writer;
    std::thread thread;
  };
  std::vector<Worker> workers(threads);
  const std::string source = reader->source_name();
  for (unsigned i = 0; i < threads; ++i) {
    Worker& w = workers[i];
    w.decoder = std::make_unique<NprobeDecoder>(config.decoder);
    w.writer = std::make_unique<PartitionedWriter>(
        config.lake, "part-" + run_id + "-w" + std::to_string(i));
    w.thread = std::thread([&, &w = w] {
      std::unique_ptr<FlowBatch> batch = std::make_unique<FlowBatch>();
      while (Chunk* c = work.Pop()) {
        const uint64_t seq = chunk_seq[static_cast<size_t>(c - chunks.data())];
        if (analysis && !batch) batch = analysis->NewBatch();
        batch->Clear();
        if (!failed) {
          w.decoder->DecodeChunk(c->data(), c->size, c->capacity(), source, c->first_line,
                                 c->base_offset, *batch, dead_letter);
          Status st = w.writer->Write(*batch);
          if (!st.ok()) fail(st);
        }
        free_chunks.Push(c);
        if (analysis) batch = analysis->Submit(seq, std::move(batch));
      }
      if (!failed) {
        Status st = w.writer->Flush();
        if (!st.ok()) fail(st);
      }
    });
  }

  Status read_status;
  uint64_t next_seq = 0;
  while (!failed) {
    Chunk* c = free_chunks.Pop();
    Result<bool> more = reader->Next(*c);
    if (!more.ok()) {
      read_status = more.status();
      free_chunks.Push(c);
      break;
    }
    if (!*more) {
      free_chunks.Push(c);
      break;
    }
    chunk_seq[static_cast<size_t>(c - chunks.data())] = next_seq++;
    work.Push(c);
  }
  work.Close();
  // Two tails that do not depend on each other: the workers flush their
  // last row groups while the analysis closes its last windows and writes
  // them (every chunk read is submitted, failed or not, so Finish() ends).
  std::thread analysis_finish;
  if (analysis) {
    analysis_finish = std::thread([&] {
      Status st = analysis->Finish(next_seq);
      if (!st.ok()) fail(st);
    });
  }
  for (Worker& w : workers) w.thread.join();
  if (analysis_finish.joinable()) analysis_finish.join();
  if (!read_status.ok()) fail(read_status);
  Status dl = dead_letter.Close();
  if (!dl.ok()) fail(dl);
  if (failed) return first_error;

  IngestSummary s;
  DecoderStats decoded;
  LakeWriterStats written;
  for (Worker& w : workers) {
    decoded.Add(w.decoder->stats());
    written.Add(w.writer->stats());
  }
  s.flows_written = written.rows_written;
  s.rejected = decoded.rejected;
  s.flows_read = decoded.flows + decoded.rejected;
  s.files = written.files;
  s.row_groups = written.row_groups;
  s.field_errors = decoded.field_errors;
  s.unknown_fields = decoded.unknown_fields;
  s.bytes_read = reader->stats().bytes;
  s.bytes_written = written.bytes;
  if (analysis) {
    const AnalysisStats a = analysis->stats();
    s.rollup_records = a.rollup_records;
    s.events = a.events;
    s.late_flows = a.late_flows;
    s.rollup_windows_over_memory = a.rollup_windows_over_memory;
    s.detector_keys_over_memory = a.detector_keys_over_memory;
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace flowlake
