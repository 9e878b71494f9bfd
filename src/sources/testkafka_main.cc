// flowlake-testkafka: a Kafka cluster for tests and the demo, from
// librdkafka's mock cluster (the real Kafka protocol over loopback TCP).
// Not a user-facing command.
//
//   flowlake-testkafka --topic netflows:4 [--topic netflows-events:1]
//                      [--brokers N] [--bootstrap-file PATH] [--duration-s S]
//                      [--produce TOPIC --rate FLOWS_PER_S --flows N ...]
//
// Prints the bootstrap address ("127.0.0.1:PORT,...") as one line on stdout
// and, with --bootstrap-file, writes it there atomically (temp + rename), so a
// test can wait for the file. Runs until SIGINT or SIGTERM (exit 0), or for
// --duration-s seconds. Ports are chosen by the kernel: librdkafka 2.0.2
// cannot fix them.
//
// Outage drills: SIGUSR1 takes every broker down, SIGUSR2 brings them back
// (rd_kafka_mock_broker_set_down/up); each prints "brokers down"/"brokers
// up" on stderr.
//
// With --produce, a synthetic nProbe producer (the synth generator) publishes
// to TOPIC at --rate flows/s (0: as fast as the mock takes them), with flow
// times following the wall clock, until --flows are sent or the process
// stops; it prints "produced N" on stderr when done. For the demo and
// benchmarks; tests use kcat as an independent producer.
//
// Know the mock's limits (../shared/RECIPES.md): it keeps only about 5 MiB per
// partition and silently drops older data.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "synth/traffic_generator.h"

namespace {

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

bool ParseTopic(const std::string& text, TopicSpec* out) {
  const size_t colon = text.rfind(':');
  out->name = text.substr(0, colon);
  out->partitions = 1;
  if (colon != std::string::npos) {
    try {
      size_t used = 0;
      out->partitions = std::stoi(text.substr(colon + 1), &used);
      if (used != text.size() - colon - 1) return false;
    } catch (const std::exception&) {
      return false;
    }
  }
  return !out->name.empty() && out->partitions >= 1 && out->partitions <= 1024;
}

bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = std::fputs(text.c_str(), f) >= 0 && std::fclose(f) == 0;
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

struct ProduceSpec {
  std::string topic;
  uint64_t rate = 0;
  uint64_t flows = 0;  // 0: until stopped
  uint64_t seed = 1;
  uint32_t batch = 0;
  std::string compression = "zstd";
  bool attacks = false;  // labelled attacks inside the span (the demo)
};

// Publishes synthetic flows; returns how many were acknowledged. Stops when
// `stop_requested` says so.
template <typename StopFn>
uint64_t Produce(const std::string& bootstraps, const ProduceSpec& spec, StopFn stop_requested) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> props[] = {
      {"bootstrap.servers", bootstraps},
      {"compression.codec", spec.compression},
      {"linger.ms", "20"},
      {"batch.size", "1000000"},
      {"sticky.partitioning.linger.ms", "0"},  // spread over partitions
      {"queue.buffering.max.kbytes", "65536"},
      {"log_level", "3"},
  };
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "flowlake-testkafka: %s: %s\n", k, errstr);
      rd_kafka_conf_destroy(conf);
      return 0;
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    std::fprintf(stderr, "flowlake-testkafka: producer: %s\n", errstr);
    return 0;
  }
  flowlake::synth::TrafficConfig traffic;
  traffic.seed = spec.seed;
  traffic.batch_size = spec.batch;
  traffic.attacks = spec.attacks;
  traffic.flows = spec.flows ? spec.flows : (1ULL << 40);
  // Flow times follow the wall clock at the configured rate (or, unpaced,
  // one hour of traffic).
  traffic.start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const double span_s =
      spec.rate ? static_cast<double>(traffic.flows) / static_cast<double>(spec.rate) : 3600.0;
  traffic.span_ms = static_cast<int64_t>(std::min(span_s, 366.0 * 86400 - 1) * 1000) + 1;
  flowlake::synth::TrafficGenerator gen(traffic);
  std::string msg;
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t sent = 0;
  while (!stop_requested()) {
    if (spec.rate) {
      // Pace in 10 ms steps: never ahead of rate * elapsed.
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (static_cast<double>(gen.generated()) >= elapsed * static_cast<double>(spec.rate)) {
        rd_kafka_poll(rk, 10);
        continue;
      }
    }
    msg.clear();
    if (!gen.Next(msg)) break;
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(spec.topic.c_str()), RD_KAFKA_V_VALUE(msg.data(), msg.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || stop_requested()) {
        std::fprintf(stderr, "flowlake-testkafka: produce: %s\n", rd_kafka_err2str(err));
        rd_kafka_destroy(rk);
        return sent;
      }
      rd_kafka_poll(rk, 10);
    }
    ++sent;
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_flush(rk, 30000);
  rd_kafka_destroy(rk);
  return gen.generated();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flowlake-testkafka: a librdkafka mock Kafka cluster on loopback (tests only)"};
  std::vector<std::string> topic_args;
  int brokers = 1;
  std::string bootstrap_file;
  int duration_s = 0;
  app.add_option("--topic", topic_args, "NAME[:PARTITIONS], repeatable")->required();
  app.add_option("--brokers", brokers, "number of mock brokers")->capture_default_str();
  app.add_option("--bootstrap-file", bootstrap_file, "also write the bootstrap address here");
  app.add_option("--duration-s", duration_s, "stop after this many seconds (0: until a signal)")
      ->capture_default_str();
  ProduceSpec produce;
  app.add_option("--produce", produce.topic, "publish synthetic nProbe flows to this topic");
  app.add_option("--rate", produce.rate, "flows per second (0: unpaced)")->capture_default_str();
  app.add_option("--flows", produce.flows, "flows to publish (0: until stopped)")
      ->capture_default_str();
  app.add_option("--seed", produce.seed, "generator seed")->capture_default_str();
  app.add_flag("--attacks", produce.attacks,
               "add labelled attacks (every detector's pattern) inside the --flows / --rate span");
  app.add_option("--batch", produce.batch, "flows per message as a JSON array (0: one object)")
      ->capture_default_str();
  app.add_option("--compression", produce.compression, "producer compression codec")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::vector<TopicSpec> topics;
  for (const std::string& t : topic_args) {
    TopicSpec spec;
    if (!ParseTopic(t, &spec)) {
      std::fprintf(stderr, "flowlake-testkafka: --topic must be NAME[:PARTITIONS 1-1024], got '%s'\n",
                   t.c_str());
      return 2;
    }
    topics.push_back(spec);
  }
  if (brokers < 1 || brokers > 16 || duration_s < 0) {
    std::fprintf(stderr, "flowlake-testkafka: --brokers must be 1-16 and --duration-s >= 0\n");
    return 2;
  }

  // Block the stop signals before any librdkafka thread starts, so every
  // thread inherits the mask and sigtimedwait() below receives them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGUSR1);
  sigaddset(&stop, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    std::fprintf(stderr, "flowlake-testkafka: rd_kafka_new: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "flowlake-testkafka: could not start the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  for (const TopicSpec& t : topics) {
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, t.name.c_str(), t.partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "flowlake-testkafka: create topic %s: %s\n", t.name.c_str(),
                   rd_kafka_err2str(err));
      rd_kafka_mock_cluster_destroy(cluster);
      rd_kafka_destroy(rk);
      return 1;
    }
  }
  const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
  std::printf("%s\n", bootstraps.c_str());
  std::fflush(stdout);
  int rc = 0;
  if (!bootstrap_file.empty() && !WriteFileAtomically(bootstrap_file, bootstraps + "\n")) {
    std::fprintf(stderr, "flowlake-testkafka: cannot write %s\n", bootstrap_file.c_str());
    rc = 1;
  }

  std::atomic<bool> stopping{false};
  std::thread producer;
  if (rc == 0 && !produce.topic.empty()) {
    producer = std::thread([&] {
      const uint64_t n = Produce(bootstraps, produce, [&] { return stopping.load(); });
      std::fprintf(stderr, "produced %llu\n", static_cast<unsigned long long>(n));
    });
  }
  if (rc == 0) {
    // Wait for a stop signal, in short steps so --duration-s is honoured.
    const std::time_t until = duration_s > 0 ? std::time(nullptr) + duration_s : 0;
    timespec step{0, 200'000'000};
    while (until == 0 || std::time(nullptr) < until) {
      const int sig = sigtimedwait(&stop, nullptr, &step);
      if (sig == SIGUSR1 || sig == SIGUSR2) {
        for (int id = 1; id <= brokers; ++id) {
          if (sig == SIGUSR1) {
            rd_kafka_mock_broker_set_down(cluster, id);
          } else {
            rd_kafka_mock_broker_set_up(cluster, id);
          }
        }
        std::fprintf(stderr, "brokers %s\n", sig == SIGUSR1 ? "down" : "up");
        continue;
      }
      if (sig > 0) break;
    }
  }
  stopping = true;
  if (producer.joinable()) producer.join();
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return rc;
}
