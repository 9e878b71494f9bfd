#include "sources/kafka_consumer.h"

#include <cstring>

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include "core/log_limiter.h"

namespace flowlake {

Status KafkaSourceConfig::Validate() const {
  if (brokers.empty()) return Status::InvalidArgument("kafka: brokers is empty");
  if (topics.empty()) return Status::InvalidArgument("kafka: no topic to consume");
  for (const std::string& t : topics) {
    if (t.empty()) return Status::InvalidArgument("kafka: empty topic name");
  }
  if (group.empty()) return Status::InvalidArgument("kafka: group is empty");
  if (auto_offset_reset != "earliest" && auto_offset_reset != "latest") {
    return Status::InvalidArgument("kafka: auto_offset_reset must be earliest or latest, got '" +
                                   auto_offset_reset + "'");
  }
  return Status::Ok();
}

KafkaMessage::KafkaMessage(rd_kafka_message_s* m)
    : m_(m),
      payload_(static_cast<const char*>(m->payload)),
      size_(m->len),
      topic_(rd_kafka_topic_name(m->rkt)),
      partition_(m->partition),
      offset_(m->offset) {}

KafkaMessage& KafkaMessage::operator=(KafkaMessage&& o) noexcept {
  if (this != &o) {
    if (m_) rd_kafka_message_destroy(m_);
    m_ = o.m_;
    payload_ = o.payload_;
    size_ = o.size_;
    topic_ = o.topic_;
    partition_ = o.partition_;
    offset_ = o.offset_;
    o.m_ = nullptr;
  }
  return *this;
}

KafkaMessage::~KafkaMessage() {
  if (m_) rd_kafka_message_destroy(m_);
}

struct KafkaConsumer::Handle {
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* queue = nullptr;
  LogLimiter error_log{1, 5};
  ~Handle() {
    if (queue) rd_kafka_queue_destroy(queue);
    if (rk) rd_kafka_destroy(rk);
  }
};

namespace {

std::vector<TopicPartition> ToVector(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  out.reserve(list->cnt);
  for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
  return out;
}

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

PartitionList ToList(const std::vector<TopicPartition>& tps) {
  PartitionList l(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const TopicPartition& tp : tps) rd_kafka_topic_partition_list_add(l.get(), tp.topic.c_str(), tp.partition);
  return l;
}

}  // namespace

struct KafkaCallbacks {
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<KafkaConsumer*>(opaque);
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    std::vector<TopicPartition> tps = ToVector(parts);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      ++self->stats_.assignments;
      std::vector<int64_t> offsets = self->listener_->OnAssign(tps);
      for (int i = 0; i < parts->cnt && i < static_cast<int>(offsets.size()); ++i) {
        parts->elems[i].offset = offsets[i];
        self->start_offsets_[tps[i]] = offsets[i];
      }
      rd_kafka_error_t* e = nullptr;
      rd_kafka_resp_err_t re = RD_KAFKA_RESP_ERR_NO_ERROR;
      if (cooperative) {
        e = rd_kafka_incremental_assign(rk, parts);
      } else {
        re = rd_kafka_assign(rk, parts);
      }
      if (e) {
        spdlog::error("kafka: assign failed: {}", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      } else if (re) {
        spdlog::error("kafka: assign failed: {}", rd_kafka_err2str(re));
      }
      if (cooperative) {
        self->assignment_.insert(self->assignment_.end(), tps.begin(), tps.end());
      } else {
        self->assignment_ = tps;
      }
      if (self->paused_) rd_kafka_pause_partitions(rk, parts);
      spdlog::info("kafka: assigned {} partition(s), {} in total", tps.size(),
                   self->assignment_.size());
    } else {
      ++self->stats_.revocations;
      if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) self->listener_->OnRevoke(tps);
      if (cooperative) {
        rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rd_kafka_error_destroy(e);
        std::erase_if(self->assignment_, [&](const TopicPartition& tp) {
          for (const TopicPartition& r : tps) {
            if (r == tp) return true;
          }
          return false;
        });
      } else {
        rd_kafka_assign(rk, nullptr);
        self->assignment_.clear();
      }
      spdlog::info("kafka: revoked {} partition(s)", tps.size());
    }
  }

  static void Error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<KafkaConsumer*>(opaque);
    ++self->stats_.errors;
    if (self->h_ && self->h_->error_log.Allow()) {
      spdlog::warn("kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
                   reason);
    }
  }

  static void Log(const rd_kafka_t*, int level, const char* fac, const char* buf) {
    // librdkafka's own log lines: only warnings and worse.
    if (level <= 4) spdlog::warn("kafka: [{}] {}", fac, buf);
  }
};

KafkaConsumer::KafkaConsumer(Listener* listener) : listener_(listener) {}

KafkaConsumer::~KafkaConsumer() {
  if (!closed_ && h_ && h_->rk) (void)Close();
}

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const KafkaSourceConfig& config,
                                                             Listener* listener) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<KafkaConsumer> self(new KafkaConsumer(listener));
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  // flowlake's defaults first, then the user's properties on top.
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", config.brokers},
      {"group.id", config.group},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", config.auto_offset_reset},
      // Bounded prefetch: librdkafka's default (64 MiB per partition queue)
      // would dominate RSS; 16 MiB keeps a fast consumer busy.
      {"queued.max.messages.kbytes", "16384"},
      {"client.id", "flowlake"},
  };
  for (const auto& [k, v] : config.properties) props[k] = v;
  // Not overridable: offsets belong to the lake (docs/commit-protocol.md).
  props["enable.auto.commit"] = "false";
  props["enable.auto.offset.store"] = "false";
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("kafka.consumer: property '" + k + "' = '" + v + "': " + err);
    }
  }
  rd_kafka_conf_set_opaque(conf, self.get());
  rd_kafka_conf_set_rebalance_cb(conf, &KafkaCallbacks::Rebalance);
  rd_kafka_conf_set_error_cb(conf, &KafkaCallbacks::Error);
  rd_kafka_conf_set_log_cb(conf, &KafkaCallbacks::Log);

  auto h = std::make_unique<Handle>();
  h->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (h->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka: cannot create consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(h->rk);
  h->queue = rd_kafka_queue_get_consumer(h->rk);
  self->h_ = std::move(h);

  PartitionList topics(rd_kafka_topic_partition_list_new(static_cast<int>(config.topics.size())));
  for (const std::string& t : config.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t e = rd_kafka_subscribe(self->h_->rk, topics.get());
  if (e) return Status::InvalidArgument(std::string("kafka: subscribe: ") + rd_kafka_err2str(e));
  return self;
}

size_t KafkaConsumer::Poll(std::vector<KafkaMessage>& out, size_t max, int timeout_ms) {
  constexpr size_t kChunk = 1024;
  rd_kafka_message_t* msgs[kChunk];
  size_t got = 0;
  while (got < max) {
    const size_t want = std::min(kChunk, max - got);
    const ssize_t n = rd_kafka_consume_batch_queue(h_->queue, got == 0 ? timeout_ms : 0, msgs, want);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = msgs[i];
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          ++stats_.errors;
          if (h_->error_log.Allow()) {
            spdlog::warn("kafka: {} [{}]: {}", m->rkt ? rd_kafka_topic_name(m->rkt) : "-",
                         m->partition, rd_kafka_message_errstr(m));
          }
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      ++stats_.messages;
      stats_.bytes += m->len;
      out.emplace_back(m);
      ++got;
    }
    if (static_cast<size_t>(n) < want) break;
  }
  return got;
}

Status KafkaConsumer::Seek(const TopicPartition& tp, int64_t offset) {
  PartitionList l = ToList({tp});
  l->elems[0].offset = offset;
  rd_kafka_error_t* e = rd_kafka_seek_partitions(h_->rk, l.get(), 5000);
  if (e) {
    std::string m = rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    return Status::IoError("kafka: seek " + tp.ToString() + " to " + std::to_string(offset) + ": " + m);
  }
  if (l->elems[0].err) {
    return Status::IoError("kafka: seek " + tp.ToString() + ": " + rd_kafka_err2str(l->elems[0].err));
  }
  return Status::Ok();
}

void KafkaConsumer::Pause() {
  if (paused_) return;
  paused_ = true;
  PartitionList l = ToList(assignment_);
  rd_kafka_pause_partitions(h_->rk, l.get());
}

void KafkaConsumer::Resume() {
  if (!paused_) return;
  paused_ = false;
  PartitionList l = ToList(assignment_);
  rd_kafka_resume_partitions(h_->rk, l.get());
}

void KafkaConsumer::CommitOffsets(const std::map<TopicPartition, int64_t>& next_offsets) {
  if (next_offsets.empty()) return;
  PartitionList l(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
  for (const auto& [tp, off] : next_offsets) {
    rd_kafka_topic_partition_list_add(l.get(), tp.topic.c_str(), tp.partition)->offset = off;
  }
  // Async: the lake already holds these offsets; Kafka's copy is for lag
  // dashboards, so a failure here is only logged (by the error callback).
  rd_kafka_commit(h_->rk, l.get(), 1);
}

int64_t KafkaConsumer::Lag() const {
  if (assignment_.empty()) return 0;
  PartitionList l = ToList(assignment_);
  if (rd_kafka_position(h_->rk, l.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
  int64_t lag = 0;
  for (int i = 0; i < l->cnt; ++i) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_get_watermark_offsets(h_->rk, l->elems[i].topic, l->elems[i].partition, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0) {
      return -1;  // not fetched from yet: unknown, not zero
    }
    // Before the first message the position is unset: use where the
    // partition was started (a real offset, or the beginning/end marker).
    int64_t pos = l->elems[i].offset;
    if (pos < 0) {
      auto it = start_offsets_.find({l->elems[i].topic, l->elems[i].partition});
      const int64_t start = it == start_offsets_.end() ? kOffsetBeginning : it->second;
      pos = start >= 0 ? start : (start == kOffsetEnd ? hi : lo);
    }
    if (hi > pos) lag += hi - pos;
  }
  return lag;
}

Status KafkaConsumer::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  rd_kafka_resp_err_t e = rd_kafka_consumer_close(h_->rk);
  if (e) return Status::IoError(std::string("kafka: close: ") + rd_kafka_err2str(e));
  return Status::Ok();
}

}  // namespace flowlake
