// KafkaProducer: publishes detection events to a Kafka topic (librdkafka).
//
// Always an idempotent producer (enable.idempotence=true, hence acks=all):
// librdkafka retries through broker outages without duplicating or
// reordering messages within a partition. Messages with a key are placed by
// murmur2 of the key, as Java clients do, so one key stays in one partition.
//
// Produce() only enqueues; delivery reports are served by Poll(), Flush()
// and the destructor. A message is either delivered, or failed (counted and
// logged at a limited rate; typically message.timeout.ms ran out), or still
// outstanding. If librdkafka raises a fatal error (the idempotence guarantee
// can no longer be kept), it is logged and every later Produce() and Flush()
// returns kAborted: the producer must be recreated.
//
// "Unavailable" below is StatusCode::kResourceExhausted (status.h has no
// kUnavailable): librdkafka's queue stayed full, or Flush() ran out of time.
//
// Thread-safety: every method may be called from any thread concurrently;
// delivery reports are counted on whichever thread serves them.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct rd_kafka_s;

namespace flowlake {

struct KafkaProducerConfig {
  std::string brokers;  // bootstrap.servers
  std::string topic = "netflows-events";
  // Any librdkafka producer property (SASL, TLS, ...); overrides flowlake's
  // defaults (linger.ms=5, compression.codec=lz4, partitioner=murmur2_random)
  // except enable.idempotence, which may only be "true".
  std::map<std::string, std::string> properties;
  int64_t flush_timeout_ms = 10000;  // the destructor waits this long for deliveries
  // kInvalidArgument naming the field.
  Status Validate() const;
};

struct KafkaProducerStats {
  uint64_t produced = 0;    // handed to librdkafka
  uint64_t delivered = 0;   // acknowledged by the brokers
  uint64_t failed = 0;      // delivery reports with an error
  uint64_t queue_full = 0;  // Produce() calls that found librdkafka's queue full and waited
  int64_t last_error_ms = 0;  // wall clock of the last failure or error event; 0: none
  // produced - delivered - failed: enqueued, outcome not known yet.
  uint64_t outstanding() const { return produced - delivered - failed; }
};

class KafkaProducer {
 public:
  // Creates the librdkafka producer; connections are made in the
  // background, so an unreachable cluster is not an error here. Errors:
  // kInvalidArgument for a bad config or property (the message names the
  // key, e.g. acks=1, which idempotence forbids), kIoError if librdkafka
  // cannot create the topic handle.
  static Result<std::unique_ptr<KafkaProducer>> Create(KafkaProducerConfig config);
  ~KafkaProducer();  // flushes up to flush_timeout_ms; what is left is purged and logged

  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Enqueues one message (an empty key means no key; both are copied).
  // When librdkafka's queue is full, serves delivery reports and retries for
  // about 1 s, then returns unavailable. kAborted after a fatal error;
  // kInvalidArgument for a message larger than message.max.bytes.
  Status Produce(std::string_view key, std::string_view value);

  // Serves delivery reports; never blocks. Call now and then (once a batch).
  void Poll();

  // Waits up to `timeout_ms` for every outstanding message: unavailable if
  // some are still undelivered, kAborted after a fatal error. Messages that
  // failed are not an error here: they are in stats().failed.
  Status Flush(int64_t timeout_ms);

  KafkaProducerStats stats() const;
  const std::string& topic() const { return config_.topic; }

 private:
  struct Handle;
  friend struct KafkaProducerCallbacks;
  friend struct KafkaProducerTestPeer;
  explicit KafkaProducer(KafkaProducerConfig config);
  Status FatalStatus() const;
  rd_kafka_s* rk() const;  // for KafkaProducerTestPeer

  KafkaProducerConfig config_;
  std::unique_ptr<Handle> h_;
  std::atomic<uint64_t> produced_{0};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> queue_full_{0};
  std::atomic<int64_t> last_error_ms_{0};
  std::atomic<bool> fatal_{false};
};

}  // namespace flowlake
