// KafkaConsumer: one member of a Kafka consumer group (librdkafka), whose
// start offsets come from the caller, not from Kafka.
//
// flowlake's lake is the source of truth for what has been consumed (see
// docs/commit-protocol.md): on every assignment the Listener says where each
// partition starts, and offsets are committed to Kafka only afterwards, for
// lag monitoring. Auto-commit and the offset store are therefore off.
//
// Rebalances are eager by default (every member gives up all its partitions
// and gets a new set); cooperative assignors set through `properties` work
// too. Listener callbacks run on the thread calling Poll() or Close().
//
// Thread-safety: one thread calls everything, except that KafkaMessage
// objects may be released on any thread. Errors: Create() fails with
// kInvalidArgument for a bad property; Poll() never fails (broker errors are
// retried by librdkafka, counted and logged at a limited rate).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/topic_partition.h"

struct rd_kafka_message_s;

namespace flowlake {

struct KafkaSourceConfig {
  std::string brokers = "127.0.0.1:9092";
  std::vector<std::string> topics = {"netflows"};
  std::string group = "flowlake";
  // Where a partition the lake has never seen starts: earliest or latest.
  std::string auto_offset_reset = "earliest";
  // Any librdkafka consumer property; overrides flowlake's defaults.
  std::map<std::string, std::string> properties;
  Status Validate() const;
};

// Offsets the Listener may return besides a real one.
inline constexpr int64_t kOffsetBeginning = -2;
inline constexpr int64_t kOffsetEnd = -1;

// Owns one fetched message (move-only; releases it on destruction). The
// accessors are inline: they run once per message on the hot path.
class KafkaMessage {
 public:
  KafkaMessage() = default;
  explicit KafkaMessage(rd_kafka_message_s* m);
  KafkaMessage(KafkaMessage&& o) noexcept { *this = std::move(o); }
  KafkaMessage& operator=(KafkaMessage&& o) noexcept;
  ~KafkaMessage();

  std::string_view payload() const { return {payload_, size_}; }
  // Stable for the consumer's life: equal topics have equal data() pointers.
  std::string_view topic() const { return topic_; }
  int32_t partition() const { return partition_; }
  int64_t offset() const { return offset_; }

 private:
  rd_kafka_message_s* m_ = nullptr;
  const char* payload_ = nullptr;
  size_t size_ = 0;
  std::string_view topic_;
  int32_t partition_ = 0;
  int64_t offset_ = 0;
};

struct KafkaConsumerStats {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t errors = 0;  // error events from librdkafka (broker down, ...)
  uint64_t assignments = 0;
  uint64_t revocations = 0;
};

class KafkaConsumer {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Before `partitions` are taken away. Must finish (commit) the work
    // consumed from them: another member may start on them right after.
    virtual void OnRevoke(const std::vector<TopicPartition>& partitions) = 0;
    // When `partitions` are assigned: returns, in order, the offset to start
    // each at (a real offset, kOffsetBeginning or kOffsetEnd).
    virtual std::vector<int64_t> OnAssign(const std::vector<TopicPartition>& partitions) = 0;
  };

  // Joins no group yet: subscription happens here, the group join in Poll().
  static Result<std::unique_ptr<KafkaConsumer>> Create(const KafkaSourceConfig& config,
                                                       Listener* listener);
  ~KafkaConsumer();  // closes if Close() was not called

  // Appends up to `max` messages to `out`, waiting at most `timeout_ms` for
  // the first. Serves rebalances and error events. Returns how many.
  size_t Poll(std::vector<KafkaMessage>& out, size_t max, int timeout_ms);

  // Moves the fetch position of an assigned partition (after a fenced
  // commit, to where the lake says it ends). Messages fetched before the
  // seek are not returned afterwards.
  Status Seek(const TopicPartition& tp, int64_t offset);

  // Stops / restarts fetching for every assigned partition (backpressure);
  // partitions assigned while paused start paused.
  void Pause();
  void Resume();
  bool paused() const { return paused_; }

  // Commits offsets to Kafka asynchronously (for lag monitoring only).
  void CommitOffsets(const std::map<TopicPartition, int64_t>& next_offsets);

  // Sum over assigned partitions of (high watermark - position), from
  // librdkafka's cached watermarks; -1 while any partition's is unknown.
  int64_t Lag() const;
  const std::vector<TopicPartition>& assignment() const { return assignment_; }
  const KafkaConsumerStats& stats() const { return stats_; }

  // Leaves the group (OnRevoke is called for the current assignment).
  Status Close();

 private:
  struct Handle;
  friend struct KafkaCallbacks;
  explicit KafkaConsumer(Listener* listener);

  std::unique_ptr<Handle> h_;
  Listener* listener_;
  bool paused_ = false;
  bool closed_ = false;
  std::vector<TopicPartition> assignment_;
  // Where each assigned partition started (for Lag() before its first message).
  std::map<TopicPartition, int64_t> start_offsets_;
  KafkaConsumerStats stats_;
};

}  // namespace flowlake
