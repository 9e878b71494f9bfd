// flowlake-testkafka: a Kafka cluster for tests and the demo, from
// librdkafka's mock cluster (the real Kafka protocol over loopback TCP).
// Not a user-facing command.
//
//   flowlake-testkafka --topic netflows:4 [--topic netflows-events:1]
//                      [--brokers N] [--bootstrap-file PATH] [--duration-s S]
//
// Prints the bootstrap address ("127.0.0.1:PORT,...") as one line on stdout
// and, with --bootstrap-file, writes it there atomically (temp + rename), so a
// test can wait for the file. Runs until SIGINT or SIGTERM (exit 0), or for
// --duration-s seconds. Ports are chosen by the kernel: librdkafka 2.0.2
// cannot fix them.
//
// Know the mock's limits (../shared/RECIPES.md): it keeps only about 5 MiB per
// partition and silently drops older data.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

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

  if (rc == 0) {
    // Wait for a stop signal, in one-second steps so --duration-s is honoured.
    const std::time_t until = duration_s > 0 ? std::time(nullptr) + duration_s : 0;
    timespec step{1, 0};
    while (until == 0 || std::time(nullptr) < until) {
      if (sigtimedwait(&stop, nullptr, &step) > 0) break;
    }
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return rc;
}
