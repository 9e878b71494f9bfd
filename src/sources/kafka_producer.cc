#include "sources/kafka_producer.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "core/log_limiter.h"

namespace flowlake {

namespace {

constexpr auto kQueueFullWait = std::chrono::seconds(1);

// The one place that picks the code for "try again later" (status.h has no
// kUnavailable yet).
Status Unavailable(std::string m) { return Status::ResourceExhausted(std::move(m)); }

int64_t WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status KafkaProducerConfig::Validate() const {
  if (brokers.empty()) return Status::InvalidArgument("kafka.producer: brokers is empty");
  if (topic.empty()) return Status::InvalidArgument("kafka.producer: topic is empty");
  if (flush_timeout_ms < 0) {
    return Status::InvalidArgument("kafka.producer: flush_timeout_ms must be >= 0, got " +
                                   std::to_string(flush_timeout_ms));
  }
  for (const auto& [k, v] : properties) {
    if (k.empty()) return Status::InvalidArgument("kafka.producer: properties: empty key");
  }
  // Without idempotence a retry after a lost acknowledgement duplicates an
  // event; detections must be published once.
  if (auto it = properties.find("enable.idempotence"); it != properties.end() && it->second != "true") {
    return Status::InvalidArgument(
        "kafka.producer: property 'enable.idempotence' must be 'true' (events are published "
        "exactly once), got '" + it->second + "'");
  }
  return Status::Ok();
}

struct KafkaProducer::Handle {
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* rkt = nullptr;
  std::mutex log_mu;  // callbacks run on the application's threads and librdkafka's
  LogLimiter error_log{1, 5};
  ~Handle() {
    if (rkt) rd_kafka_topic_destroy(rkt);
    if (rk) rd_kafka_destroy(rk);
  }
  // Logs through the limiter, with the count of lines it held back.
  template <typename... Args>
  void Warn(spdlog::format_string_t<Args...> fmt, Args&&... args) {
    std::lock_guard<std::mutex> lock(log_mu);
    if (!error_log.Allow()) return;
    spdlog::warn(fmt, std::forward<Args>(args)...);
    if (uint64_t n = error_log.TakeSuppressed()) {
      spdlog::warn("kafka.producer: {} similar message(s) suppressed", n);
    }
  }
};

struct KafkaProducerCallbacks {
  static void Delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* self = static_cast<KafkaProducer*>(opaque);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->delivered_.fetch_add(1);
      return;
    }
    self->failed_.fetch_add(1);
    self->last_error_ms_.store(WallClockMs());
    // Not rd_kafka_message_errstr(): for a producer it may read the payload.
    self->h_->Warn("kafka.producer: delivery to topic {} failed: {}: {}", self->config_.topic,
                   rd_kafka_err2name(m->err), rd_kafka_err2str(m->err));
  }

  static void Error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<KafkaProducer*>(opaque);
    self->last_error_ms_.store(WallClockMs());
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      // Once: librdkafka raises a fatal error a single time.
      if (!self->fatal_.exchange(true)) {
        char detail[512];
        const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(rk, detail, sizeof detail);
        spdlog::error("kafka.producer: fatal error on topic {}: {}: {}; no more events will be "
                      "published until the producer is recreated",
                      self->config_.topic, rd_kafka_err2name(cause), detail);
      }
      return;
    }
    // Broker down, all brokers down, ...: librdkafka retries by itself.
    self->h_->Warn("kafka.producer: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
                   reason);
  }

  // librdkafka's own log lines (its threads): warnings and worse, through
  // the same limiter, since an outage repeats them per broker and retry.
  static void Log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
    if (level > 4) return;
    auto* self = static_cast<KafkaProducer*>(rd_kafka_opaque(rk));
    self->h_->Warn("kafka.producer: [{}] {}", fac, buf);
  }
};

KafkaProducer::KafkaProducer(KafkaProducerConfig config) : config_(std::move(config)) {}

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(KafkaProducerConfig config) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<KafkaProducer> self(new KafkaProducer(std::move(config)));
  const KafkaProducerConfig& c = self->config_;
  // flowlake's defaults first, then the user's properties on top.
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", c.brokers},
      // Events should be out within milliseconds; 5 ms still batches bursts.
      {"linger.ms", "5"},
      // Events are small JSON: lz4 is cheap on the CPU and still halves them.
      {"compression.codec", "lz4"},
      // Same key, same partition as the Java clients would choose.
      {"partitioner", "murmur2_random"},
      {"client.id", "flowlake-events"},
  };
  for (const auto& [k, v] : c.properties) props[k] = v;
  props["enable.idempotence"] = "true";  // Validate() refused anything else

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("kafka.producer: property '" + k + "' = '" + v + "': " + err);
    }
  }
  rd_kafka_conf_set_opaque(conf, self.get());
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaProducerCallbacks::Delivery);
  rd_kafka_conf_set_error_cb(conf, &KafkaProducerCallbacks::Error);
  rd_kafka_conf_set_log_cb(conf, &KafkaProducerCallbacks::Log);

  // The Handle exists before librdkafka's threads do: their log callback uses it.
  self->h_ = std::make_unique<Handle>();
  Handle* h = self->h_.get();
  h->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (h->rk == nullptr) {
    // rd_kafka_new() fails on conflicting properties (e.g. acks=1 with
    // idempotence); its message names them.
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka.producer: cannot create producer: ") + err);
  }
  h->rkt = rd_kafka_topic_new(h->rk, c.topic.c_str(), nullptr);
  if (h->rkt == nullptr) {
    return Status::IoError("kafka.producer: topic " + c.topic + ": " +
                           rd_kafka_err2str(rd_kafka_last_error()));
  }
  spdlog::info("kafka.producer: publishing to topic {} via {}", c.topic, c.brokers);
  return self;
}

KafkaProducer::~KafkaProducer() {
  if (!h_ || h_->rk == nullptr) return;  // Create() failed half-way
  Status st = Flush(config_.flush_timeout_ms);
  if (!st.ok() && stats().outstanding() > 0) {
    // Whatever is still queued is lost: report it, then purge so the
    // delivery reports count it as failed.
    spdlog::error("kafka.producer: closing: {}; {} event(s) dropped", st.ToString(),
                  stats().outstanding());
    rd_kafka_purge(h_->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(h_->rk, 0);
  }
  // Destroyed here, while every member the callbacks touch is still alive.
  if (h_->rkt) rd_kafka_topic_destroy(h_->rkt);
  h_->rkt = nullptr;
  rd_kafka_destroy(h_->rk);
  h_->rk = nullptr;
}

Status KafkaProducer::FatalStatus() const {
  char detail[512];
  const rd_kafka_resp_err_t cause = rd_kafka_fatal_error(h_->rk, detail, sizeof detail);
  return Status::Aborted("kafka.producer: topic " + config_.topic + ": fatal error " +
                         rd_kafka_err2name(cause) + ": " + detail + "; recreate the producer");
}

Status KafkaProducer::Produce(std::string_view key, std::string_view value) {
  if (fatal_.load()) return FatalStatus();
  // Counted before handing over, so that a concurrent stats() never sees
  // more delivered than produced.
  produced_.fetch_add(1);
  const auto deadline = std::chrono::steady_clock::now() + kQueueFullWait;
  bool waited = false;
  for (;;) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        h_->rk, RD_KAFKA_V_RKT(h_->rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && std::chrono::steady_clock::now() < deadline) {
      if (!waited) queue_full_.fetch_add(1);
      waited = true;
      // Serving delivery reports is what frees the queue.
      rd_kafka_poll(h_->rk, 10);
      continue;
    }
    produced_.fetch_sub(1);
    switch (err) {
      case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return Unavailable("kafka.producer: topic " + config_.topic +
                           ": librdkafka's queue stayed full for 1 s (brokers down or too slow)");
      case RD_KAFKA_RESP_ERR__FATAL:
        fatal_.store(true);
        return FatalStatus();
      case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return Status::InvalidArgument("kafka.producer: topic " + config_.topic + ": event of " +
                                       std::to_string(key.size() + value.size()) +
                                       " bytes exceeds message.max.bytes");
      default:
        return Status::IoError("kafka.producer: topic " + config_.topic + ": " +
                               rd_kafka_err2name(err) + ": " + rd_kafka_err2str(err));
    }
  }
}

rd_kafka_t* KafkaProducer::rk() const { return h_->rk; }

void KafkaProducer::Poll() { rd_kafka_poll(h_->rk, 0); }

Status KafkaProducer::Flush(int64_t timeout_ms) {
  if (fatal_.load()) return FatalStatus();
  const int wait_ms = static_cast<int>(std::clamp<int64_t>(timeout_ms, 0, INT32_MAX));
  const rd_kafka_resp_err_t err = rd_kafka_flush(h_->rk, wait_ms);
  if (fatal_.load()) return FatalStatus();
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return Unavailable("kafka.producer: topic " + config_.topic + ": " +
                       std::to_string(stats().outstanding()) + " event(s) still undelivered after " +
                       std::to_string(timeout_ms) + " ms");
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::IoError("kafka.producer: flush: " + std::string(rd_kafka_err2str(err)));
  }
  return Status::Ok();
}

KafkaProducerStats KafkaProducer::stats() const {
  KafkaProducerStats s;
  // Outcomes before `produced` (counted before a message is handed over):
  // outstanding() never goes negative.
  s.delivered = delivered_.load();
  s.failed = failed_.load();
  s.produced = produced_.load();
  s.queue_full = queue_full_.load();
  s.last_error_ms = last_error_ms_.load();
  return s;
}

}  // namespace flowlake
