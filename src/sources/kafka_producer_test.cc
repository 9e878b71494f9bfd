// KafkaProducer against librdkafka's in-process mock cluster: the real Kafka
// protocol over loopback TCP, read back with a plain librdkafka consumer.
#include "sources/kafka_producer.h"

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace flowlake {

struct KafkaProducerTestPeer {
  static rd_kafka_t* Handle(KafkaProducer& p) { return p.rk(); }
};

namespace {

using std::chrono::steady_clock;

// A mock cluster hosted by a throwaway producer handle.
class MockCluster {
 public:
  MockCluster(int brokers, const std::string& topic, int partitions) : brokers_(brokers) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    host_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    EXPECT_NE(host_, nullptr) << err;
    cluster_ = rd_kafka_mock_cluster_new(host_, brokers);
    EXPECT_NE(cluster_, nullptr);
    EXPECT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ~MockCluster() {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(host_);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void SetAllBrokers(bool up) {
    for (int id = 1; id <= brokers_; ++id) {
      if (up) {
        rd_kafka_mock_broker_set_up(cluster_, id);
      } else {
        rd_kafka_mock_broker_set_down(cluster_, id);
      }
    }
  }

 private:
  int brokers_;
  rd_kafka_t* host_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

struct Record {
  std::string key;
  std::string value;
  int32_t partition;
};

// Reads partitions [0, partitions) from the beginning until `expected`
// records arrived (then 300 ms more, to catch duplicates) or `timeout`.
std::vector<Record> ConsumeAll(const std::string& bootstraps, const std::string& topic,
                               int partitions, size_t expected,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : std::map<std::string, std::string>{{"bootstrap.servers", bootstraps},
                                                               {"group.id", "verify"},
                                                               {"enable.auto.commit", "false"},
                                                               {"log_level", "3"}}) {
    EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err), RD_KAFKA_CONF_OK)
        << err;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  EXPECT_NE(rk, nullptr) << err;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  EXPECT_EQ(rd_kafka_assign(rk, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(parts);

  std::vector<Record> out;
  auto deadline = steady_clock::now() + timeout;
  bool extra = false;
  while (steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 50);
    if (m != nullptr) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out.push_back({std::string(static_cast<const char*>(m->key), m->key_len),
                       std::string(static_cast<const char*>(m->payload), m->len), m->partition});
      }
      rd_kafka_message_destroy(m);
    }
    if (!extra && out.size() >= expected) {
      extra = true;
      deadline = steady_clock::now() + std::chrono::milliseconds(300);
    }
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

// Records stored in the topic, from the brokers' high watermarks: counts
// duplicates even if the consumer missed them.
int64_t StoredRecords(const std::string& bootstraps, const std::string& topic, int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t lo = 0, hi = 0;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 5000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    total += hi - lo;
  }
  rd_kafka_destroy(rk);
  return total;
}

KafkaProducerConfig ConfigFor(const MockCluster& cluster,
                              const std::map<std::string, std::string>& extra = {}) {
  KafkaProducerConfig c;
  c.brokers = cluster.bootstraps();
  // Back after an outage within a second, not librdkafka's 10 s backoff cap.
  c.properties = {{"reconnect.backoff.max.ms", "500"}, {"log_level", "3"}};
  c.properties.insert(extra.begin(), extra.end());
  // Tests flush explicitly; a destructor with brokers down need not wait.
  c.flush_timeout_ms = 200;
  return c;
}

constexpr char kTopic[] = "netflows-events";

// The producer, or null (with the failure recorded) if Create() failed.
std::unique_ptr<KafkaProducer> MustCreate(KafkaProducerConfig config) {
  auto p = KafkaProducer::Create(std::move(config));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

// Produces values e<from>..e<to - 1> keyed key(i); false at the first error.
template <typename KeyFn>
bool ProduceRange(KafkaProducer& producer, int from, int to, KeyFn key) {
  for (int i = from; i < to; ++i) {
    const Status st = producer.Produce(key(i), "e" + std::to_string(i));
    if (!st.ok()) {
      ADD_FAILURE() << "event " << i << ": " << st.ToString();
      return false;
    }
  }
  return true;
}

TEST(KafkaProducer, ThousandKeyedEventsArriveIntactAndKeysStayInOnePartition) {
  constexpr int kPartitions = 4;
  MockCluster cluster(3, kTopic, kPartitions);
  std::unique_ptr<KafkaProducer> producer = MustCreate(ConfigFor(cluster));
  ASSERT_NE(producer, nullptr);
  std::map<std::string, std::string> key_of;  // value -> key
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "host-" + std::to_string(i % 37);
    const std::string value = R"({"event":"scan","seq":)" + std::to_string(i) + "}";
    key_of[value] = key;
    ASSERT_TRUE(producer->Produce(key, value).ok());
    if (i % 100 == 0) producer->Poll();
  }
  ASSERT_TRUE(producer->Flush(10000).ok());
  const KafkaProducerStats s = producer->stats();
  EXPECT_EQ(s.produced, 1000u);
  EXPECT_EQ(s.delivered, 1000u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.outstanding(), 0u);

  const std::vector<Record> got = ConsumeAll(cluster.bootstraps(), kTopic, kPartitions, 1000);
  ASSERT_EQ(got.size(), 1000u);
  std::set<std::string> values;
  std::map<std::string, int32_t> partition_of;  // key -> partition
  std::set<int32_t> used;
  for (const Record& r : got) {
    values.insert(r.value);
    ASSERT_TRUE(key_of.contains(r.value)) << r.value;
    EXPECT_EQ(r.key, key_of[r.value]);
    auto [it, inserted] = partition_of.emplace(r.key, r.partition);
    EXPECT_EQ(it->second, r.partition) << "key " << r.key << " in two partitions";
    used.insert(r.partition);
  }
  EXPECT_EQ(values.size(), 1000u);
  EXPECT_EQ(partition_of.size(), 37u);
  EXPECT_GT(used.size(), 1u) << "keys should spread over partitions";
  EXPECT_EQ(StoredRecords(cluster.bootstraps(), kTopic, kPartitions), 1000);
}

TEST(KafkaProducer, IsAlwaysIdempotent) {
  MockCluster cluster(1, kTopic, 1);
  std::unique_ptr<KafkaProducer> producer = MustCreate(ConfigFor(cluster));
  ASSERT_NE(producer, nullptr);
  const rd_kafka_conf_t* conf = rd_kafka_conf(KafkaProducerTestPeer::Handle(*producer));
  char value[64];
  size_t size = sizeof value;
  ASSERT_EQ(rd_kafka_conf_get(conf, "enable.idempotence", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "true");
  size = sizeof value;
  ASSERT_EQ(rd_kafka_conf_get(conf, "linger.ms", value, &size), RD_KAFKA_CONF_OK);
  EXPECT_STREQ(value, "5");

  for (const char* off : {"false", "0"}) {
    KafkaProducerConfig c = ConfigFor(cluster);
    c.properties["enable.idempotence"] = off;
    auto refused = KafkaProducer::Create(c);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("enable.idempotence"), std::string::npos)
        << refused.status().ToString();
  }
  // acks=1 cannot go with idempotence: librdkafka refuses, naming acks.
  KafkaProducerConfig c = ConfigFor(cluster);
  c.properties["acks"] = "1";
  auto refused = KafkaProducer::Create(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("acks"), std::string::npos) << refused.status().ToString();
}

TEST(KafkaProducer, BrokerOutageDeliversEveryEventExactlyOnce) {
  constexpr int kPartitions = 3;
  MockCluster cluster(3, kTopic, kPartitions);
  std::unique_ptr<KafkaProducer> producer = MustCreate(ConfigFor(cluster));
  ASSERT_NE(producer, nullptr);
  // Some events in flight when the brokers go, the rest produced while down.
  auto key = [](int i) { return "k" + std::to_string(i % 7); };
  ASSERT_TRUE(ProduceRange(*producer, 0, 50, key));
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
  cluster.SetAllBrokers(false);
  ASSERT_TRUE(ProduceRange(*producer, 50, 100, key));
  const auto down_until = steady_clock::now() + std::chrono::seconds(2);
  while (steady_clock::now() < down_until) {
    producer->Poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(producer->stats().outstanding(), 0u);
  cluster.SetAllBrokers(true);
  ASSERT_TRUE(producer->Flush(15000).ok());
  const KafkaProducerStats s = producer->stats();
  EXPECT_EQ(s.produced, 100u);
  EXPECT_EQ(s.delivered, 100u);
  EXPECT_EQ(s.failed, 0u);

  const std::vector<Record> got = ConsumeAll(cluster.bootstraps(), kTopic, kPartitions, 100);
  std::set<std::string> values;
  for (const Record& r : got) values.insert(r.value);
  EXPECT_EQ(got.size(), 100u);
  EXPECT_EQ(values.size(), 100u);
  EXPECT_EQ(StoredRecords(cluster.bootstraps(), kTopic, kPartitions), 100);
}

TEST(KafkaProducer, ConfigErrorsNameTheField) {
  struct Case {
    const char* field;
    void (*mutate)(KafkaProducerConfig&);
  };
  const Case cases[] = {
      {"brokers", [](KafkaProducerConfig& c) { c.brokers.clear(); }},
      {"topic", [](KafkaProducerConfig& c) { c.topic.clear(); }},
      {"flush_timeout_ms", [](KafkaProducerConfig& c) { c.flush_timeout_ms = -1; }},
      {"properties", [](KafkaProducerConfig& c) { c.properties[""] = "x"; }},
      {"no.such.property", [](KafkaProducerConfig& c) { c.properties["no.such.property"] = "1"; }},
      {"linger.ms", [](KafkaProducerConfig& c) { c.properties["linger.ms"] = "soon"; }},
      {"compression.codec", [](KafkaProducerConfig& c) { c.properties["compression.codec"] = "rar"; }},
  };
  for (const Case& tc : cases) {
    KafkaProducerConfig c;
    c.brokers = "127.0.0.1:1";
    tc.mutate(c);
    auto p = KafkaProducer::Create(c);
    ASSERT_FALSE(p.ok()) << tc.field;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << tc.field;
    EXPECT_NE(p.status().message().find(tc.field), std::string::npos) << p.status().ToString();
  }
  KafkaProducerConfig ok;
  ok.brokers = "127.0.0.1:1";
  EXPECT_TRUE(ok.Validate().ok());
}

TEST(KafkaProducer, FlushPastTheTimeoutWhileBrokersAreDownIsUnavailable) {
  MockCluster cluster(1, kTopic, 1);
  std::unique_ptr<KafkaProducer> producer =
      MustCreate(ConfigFor(cluster, {{"message.timeout.ms", "1500"}}));
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(producer->Produce("a", "warm-up").ok());
  ASSERT_TRUE(producer->Flush(5000).ok());
  cluster.SetAllBrokers(false);
  ASSERT_TRUE(ProduceRange(*producer, 0, 10, [](int) { return std::string("a"); }));

  const Status st = producer->Flush(300);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("10 event(s) still undelivered"), std::string::npos) << st.ToString();
  KafkaProducerStats s = producer->stats();
  EXPECT_EQ(s.produced, 11u);
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.outstanding(), 10u);

  // Past message.timeout.ms the events fail: counted, nothing outstanding.
  EXPECT_TRUE(producer->Flush(5000).ok());
  s = producer->stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.failed, 10u);
  EXPECT_EQ(s.outstanding(), 0u);
  EXPECT_GT(s.last_error_ms, 0);
}

TEST(KafkaProducer, FullQueueWaitsAboutASecondThenIsUnavailable) {
  MockCluster cluster(1, kTopic, 1);
  std::unique_ptr<KafkaProducer> producer =
      MustCreate(ConfigFor(cluster, {{"queue.buffering.max.messages", "10"}}));
  ASSERT_NE(producer, nullptr);
  cluster.SetAllBrokers(false);
  ASSERT_TRUE(ProduceRange(*producer, 0, 10, [](int) { return std::string(); }));
  const auto t0 = steady_clock::now();
  const Status st = producer->Produce("", "one too many");
  const auto waited = steady_clock::now() - t0;
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LT(waited, std::chrono::seconds(3));
  const KafkaProducerStats s = producer->stats();
  EXPECT_EQ(s.queue_full, 1u);
  EXPECT_EQ(s.produced, 10u);
}

TEST(KafkaProducer, FatalErrorStopsProducing) {
  MockCluster cluster(1, kTopic, 1);
  std::unique_ptr<KafkaProducer> producer = MustCreate(ConfigFor(cluster));
  ASSERT_NE(producer, nullptr);
  ASSERT_TRUE(producer->Produce("k", "before").ok());
  ASSERT_TRUE(producer->Flush(5000).ok());
  // librdkafka's hook for the errors a real cluster raises rarely
  // (sequence gaps after data loss on the broker).
  ASSERT_EQ(rd_kafka_test_fatal_error(KafkaProducerTestPeer::Handle(*producer),
                                      RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, "injected"),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  producer->Poll();
  const Status st = producer->Produce("k", "after");
  EXPECT_EQ(st.code(), StatusCode::kAborted) << st.ToString();
  EXPECT_NE(st.message().find("OUT_OF_ORDER_SEQUENCE_NUMBER"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(kTopic), std::string::npos) << st.ToString();
  EXPECT_EQ(producer->Flush(100).code(), StatusCode::kAborted);
  EXPECT_GT(producer->stats().last_error_ms, 0);
}

}  // namespace
}  // namespace flowlake
