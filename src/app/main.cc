// flowlake: command-line entry point.
//
// Exit codes: 0 success, 2 usage or configuration error, 1 runtime failure.
// stdout carries results (the ingest summary, generated JSON); logs go to
// stderr.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "app/config.h"
#include "app/ingest.h"
#include "app/run.h"
#include "core/json_string.h"
#include "parquet/file_writer.h"
#include "synth/attack_scenario.h"
#include "synth/network.h"
#include "synth/traffic_generator.h"

namespace flowlake {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitUsage = 2;

int Fail(const Status& st) {
  const bool usage = st.code() == StatusCode::kInvalidArgument;
  spdlog::error("{}", st.message());
  return usage ? kExitUsage : kExitRuntime;
}

// Flags of the analysis, shared by ingest and run; they override the file.
struct AnalysisFlags {
  bool no_analysis = false;
  std::string blocklist;

  void Add(CLI::App* cmd) {
    cmd->add_flag("--no-analysis", no_analysis, "no rollups and no detections, flows only");
    cmd->add_option("--blocklist", blocklist,
                    "file of IPs and CIDRs for the blocklist detector (reloaded when it changes)");
  }
  void Apply(AnalysisConfig& config) const {
    if (no_analysis) config.enabled = false;
    if (!blocklist.empty()) config.detect.blocklist_path = blocklist;
  }
};

// --config for ingest and run: a missing file is a usage error (exit 2).
Result<RunConfig> LoadConfigFlag(const std::string& path) {
  Result<RunConfig> loaded = LoadRunConfig(path);
  if (!loaded.ok() && loaded.status().code() == StatusCode::kNotFound) {
    return Status::InvalidArgument(loaded.status().message());
  }
  return loaded;
}

struct IngestFlags {
  std::string config_path;
  AnalysisFlags analysis;
  std::string input;
  std::string lake;
  std::string compression = "zstd";
  int zstd_level = parquet::WriterOptions{}.zstd_level;
  uint64_t row_group_rows = LakeWriterConfig{}.row_group_rows;
  unsigned threads = 0;
  bool no_sync = false;
};

int RunIngestCommand(const IngestFlags& f) {
  IngestConfig config;
  RunConfig service;  // the defaults, or --config's
  if (!f.config_path.empty()) {
    // The same analysis and decoding settings as the service, so a file
    // replayed through ingest gives what `run` gave.
    Result<RunConfig> loaded = LoadConfigFlag(f.config_path);
    if (!loaded.ok()) return Fail(loaded.status());
    service = std::move(loaded).value();
    config.analysis = service.analysis;
    config.decoder = service.decoder;
  }
  config.analysis.SetMemoryBudget(AnalysisMemoryBytes(service));
  f.analysis.Apply(config.analysis);
  config.input = f.input;
  config.lake.root = f.lake;
  config.lake.row_group_rows = f.row_group_rows;
  config.lake.sync = !f.no_sync;
  Result<parquet::Compression> compression = parquet::ParseCompression(f.compression);
  if (!compression.ok()) return Fail(compression.status());
  config.lake.parquet.compression = *compression;
  config.lake.parquet.zstd_level = f.zstd_level;
  config.threads = f.threads;
  Status valid = config.Validate();
  if (!valid.ok()) return Fail(valid);

  Result<IngestSummary> summary = RunIngest(config);
  if (!summary.ok()) return Fail(summary.status());
  std::printf("%s\n", summary->ToJson().c_str());
  std::fflush(stdout);
  return kExitOk;
}

// --- run ---

std::atomic<bool> g_stop{false};

extern "C" void OnStopSignal(int) { g_stop.store(true); }

// `%*` in a log pattern: the message as a JSON string (for log_format=json).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string out;
    AppendJsonString(out, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

void SetLogFormat(const std::string& format) {
  const bool json = format == "json" || (format == "auto" && !::isatty(STDERR_FILENO));
  if (!json) return;
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<JsonMessageFlag>('*').set_pattern(
      R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%*})");
  spdlog::set_formatter(std::move(formatter));
}

struct RunFlags {
  std::string config_path;
  std::string brokers;
  std::vector<std::string> topics;
  std::string group;
  std::string lake;
  std::vector<std::string> kafka_properties;  // KEY=VALUE
  unsigned threads = 0;
  int64_t commit_interval_s = 0;
  uint64_t memory_limit_mb = 0;
  double duration_s = 0;
  bool exit_at_end = false;
  double stats_interval_s = 10;
  bool no_sync = false;
  bool no_progress = false;
  uint64_t test_throttle_bytes_per_s = 0;
  AnalysisFlags analysis;
  std::string events_topic;
};

int RunRunCommand(const RunFlags& f) {
  RunConfig config;
  if (!f.config_path.empty()) {
    Result<RunConfig> loaded = LoadConfigFlag(f.config_path);
    if (!loaded.ok()) return Fail(loaded.status());
    config = std::move(loaded).value();
  }
  f.analysis.Apply(config.analysis);
  if (!f.events_topic.empty()) config.kafka.events_topic = f.events_topic;
  // Flags override the file.
  if (!f.brokers.empty()) config.kafka.brokers = f.brokers;
  if (!f.topics.empty()) config.kafka.topics = f.topics;
  if (!f.group.empty()) config.kafka.group = f.group;
  if (!f.lake.empty()) config.lake.root = f.lake;
  for (const std::string& kv : f.kafka_properties) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(Status::InvalidArgument("run: -X takes KEY=VALUE, got '" + kv + "'"));
    }
    config.kafka.consumer[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (f.threads) config.service.threads = f.threads;
  if (f.commit_interval_s) {
    config.service.commit_interval_s = f.commit_interval_s;
    config.lake.max_file_age_ms = f.commit_interval_s * 1000;
  }
  if (f.memory_limit_mb) config.service.memory_limit_mb = f.memory_limit_mb;
  if (f.no_sync) config.lake.sync = false;
  if (f.no_progress) config.service.progress = false;
  config.lake.throttle_bytes_per_s = f.test_throttle_bytes_per_s;
  Status valid = config.Validate();
  if (!valid.ok()) return Fail(valid);
  SetLogFormat(config.service.log_format);

  struct sigaction sa {};
  sa.sa_handler = &OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  RunOptions options;
  options.stop = &g_stop;
  options.duration_s = f.duration_s;
  options.exit_at_end = f.exit_at_end;
  options.stats_interval_s = f.stats_interval_s;
  options.progress_tty = config.service.progress && ::isatty(STDERR_FILENO);
  Result<RunSummary> summary = RunService(config, options);
  if (!summary.ok()) return Fail(summary.status());
  std::printf("%s\n", summary->ToJson().c_str());
  std::fflush(stdout);
  return kExitOk;
}

struct GenerateFlags {
  synth::TrafficConfig traffic;
  std::string key_style = "labels";
  std::string truth_path;      // with --attacks: the ground truth, one JSON line per instance
  std::string blocklist_path;  // with --attacks: the blocklist the attacks use
};

Status WriteTextFile(const std::string& path, std::string_view text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::IoError("generate: cannot create " + path + ": " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !written) {
    return Status::IoError("generate: writing " + path + " failed: " + std::strerror(errno));
  }
  return Status::Ok();
}

int RunGenerateCommand(const GenerateFlags& f) {
  synth::TrafficConfig config = f.traffic;
  if (f.key_style == "labels") {
    config.key_style = synth::TrafficConfig::KeyStyle::kLabels;
  } else if (f.key_style == "ids") {
    config.key_style = synth::TrafficConfig::KeyStyle::kElementIds;
  } else if (f.key_style == "mixed") {
    config.key_style = synth::TrafficConfig::KeyStyle::kMixed;
  } else {
    return Fail(Status::InvalidArgument("generate: --keys must be labels, ids or mixed, got '" +
                                        f.key_style + "'"));
  }
  if (config.attacks && f.truth_path.empty()) {
    return Fail(Status::InvalidArgument("generate: --attacks needs --truth FILE for the ground truth"));
  }
  if (!config.attacks && (!f.truth_path.empty() || !f.blocklist_path.empty())) {
    return Fail(Status::InvalidArgument("generate: --truth and --blocklist-out need --attacks"));
  }
  Status valid = config.Validate();
  if (!valid.ok()) return Fail(valid);
  if (config.attacks) {
    // The schedule is a pure function of the config: the generator rebuilds the same one.
    const synth::Network network(config.probes);
    const synth::AttackScenario attacks(network, config.start_ms, config.span_ms, config.seed);
    Status truth = WriteTextFile(f.truth_path, attacks.GroundTruthJsonl());
    if (!truth.ok()) return Fail(truth);
    if (!f.blocklist_path.empty()) {
      Status blocklist = WriteTextFile(f.blocklist_path, synth::AttackScenario::BlocklistText());
      if (!blocklist.ok()) return Fail(blocklist);
    }
  }
  Status st = synth::WriteNprobeJson(config, stdout);
  if (!st.ok()) return Fail(st);
  if (std::fflush(stdout) != 0) return Fail(Status::IoError("write stdout failed"));
  return kExitOk;
}

int Main(int argc, char** argv) {
  auto logger = spdlog::stderr_color_mt("flowlake");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  CLI::App app{"flowlake: real-time analysis of network flow data"};
  app.set_version_flag("--version", "flowlake 0.1.0");
  app.require_subcommand(1);

  IngestFlags ingest;
  CLI::App* ingest_cmd = app.add_subcommand(
      "ingest", "Read nProbe JSON (NDJSON or arrays) and write it into the Parquet lake.");
  ingest_cmd->add_option("--input", ingest.input, "input file, or - for stdin")->required();
  ingest_cmd->add_option("--lake", ingest.lake, "lake directory (created if missing)")
      ->required();
  ingest_cmd->add_option("--compression", ingest.compression, "zstd, snappy or none")
      ->capture_default_str();
  ingest_cmd->add_option("--zstd-level", ingest.zstd_level, "zstd level (1-22)")
      ->capture_default_str();
  ingest_cmd->add_option("--row-group-rows", ingest.row_group_rows, "rows per Parquet row group")
      ->capture_default_str();
  ingest_cmd->add_option("--threads", ingest.threads, "worker threads (0: one per core)")
      ->capture_default_str();
  ingest_cmd->add_flag("--no-sync", ingest.no_sync,
                       "skip fsync on commit (faster; a crash may lose committed files)");
  ingest_cmd->add_option("--config", ingest.config_path,
                         "take the [analysis], [detect] and [decode] settings from this "
                         "flowlake.toml (the service's)");
  ingest.analysis.Add(ingest_cmd);

  GenerateFlags generate;
  CLI::App* generate_cmd = app.add_subcommand(
      "generate", "Write realistic synthetic nProbe JSON flows to stdout.");
  generate_cmd->add_option("--flows", generate.traffic.flows, "number of flows")
      ->capture_default_str();
  generate_cmd->add_option("--seed", generate.traffic.seed, "random seed (same seed, same output)")
      ->capture_default_str();
  generate_cmd->add_option("--start-ms", generate.traffic.start_ms,
                           "first flow start, epoch milliseconds")
      ->capture_default_str();
  generate_cmd->add_option("--span-ms", generate.traffic.span_ms,
                           "flow start times spread over this many milliseconds")
      ->capture_default_str();
  generate_cmd->add_option("--keys", generate.key_style,
                           "key style: labels, ids (NetFlow element ids) or mixed")
      ->capture_default_str();
  generate_cmd->add_option("--batch", generate.traffic.batch_size,
                           "flows per JSON array line (0: one object per line)")
      ->capture_default_str();
  generate_cmd->add_flag("--attacks", generate.traffic.attacks,
                         "add labelled attacks (every detector's pattern) and benign heavy hitters");
  generate_cmd->add_option("--truth", generate.truth_path,
                           "with --attacks: write the ground truth here (one JSON line per attack)");
  generate_cmd->add_option("--blocklist-out", generate.blocklist_path,
                           "with --attacks: write the blocklist (CIDRs) the attacks use here");

  RunFlags run;
  CLI::App* run_cmd = app.add_subcommand(
      "run", "Consume nProbe JSON from Kafka into the lake, exactly once, until stopped.");
  run_cmd->add_option("--config", run.config_path, "TOML configuration file (see `flowlake config`)");
  run_cmd->add_option("--brokers", run.brokers, "Kafka bootstrap servers HOST:PORT[,...]");
  run_cmd->add_option("--topic", run.topics, "topic to consume (repeatable; default netflows)");
  run_cmd->add_option("--group", run.group, "consumer group (default flowlake)");
  run_cmd->add_option("--lake", run.lake, "lake directory (default /var/lib/flowlake)");
  run_cmd->add_option("-X,--kafka-property", run.kafka_properties,
                      "librdkafka consumer property KEY=VALUE (repeatable)");
  run_cmd->add_option("--threads", run.threads, "worker threads (0: one per core)");
  run_cmd->add_option("--commit-interval-s", run.commit_interval_s,
                      "longest time data waits before it is committed (default 60)");
  run_cmd->add_option("--memory-limit-mb", run.memory_limit_mb,
                      "memory (RSS) budget of the process; buffers are sized from it (default 1024)");
  run_cmd->add_option("--duration-s", run.duration_s, "stop by itself after this many seconds");
  run_cmd->add_flag("--exit-at-end", run.exit_at_end,
                    "stop once every assigned partition is consumed to its end (backfills)");
  run_cmd->add_option("--stats-interval-s", run.stats_interval_s,
                      "seconds between progress log lines when stderr is not a TTY")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  run_cmd->add_flag("--no-sync", run.no_sync, "skip fsync (faster; a machine crash may lose data)");
  run_cmd->add_flag("--no-progress", run.no_progress, "no status line on a TTY");
  run.analysis.Add(run_cmd);
  run_cmd->add_option("--events-topic", run.events_topic,
                      "Kafka topic for detection events (default netflows-events)");
  run_cmd->add_option("--test-throttle-bytes-per-s", run.test_throttle_bytes_per_s)
      ->group("");  // tests only: slows the lake writer

  bool print_defaults = false;
  CLI::App* config_cmd = app.add_subcommand("config", "Configuration helpers for `flowlake run`.");
  config_cmd->add_flag("--print-defaults", print_defaults,
                       "print a complete, commented flowlake.toml with every default")
      ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (ingest_cmd->parsed()) return RunIngestCommand(ingest);
  if (generate_cmd->parsed()) return RunGenerateCommand(generate);
  if (run_cmd->parsed()) return RunRunCommand(run);
  if (config_cmd->parsed()) {
    std::fputs(DefaultConfigToml().c_str(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitRuntime;
  }
  return kExitUsage;
}

}  // namespace
}  // namespace flowlake

int main(int argc, char** argv) { return flowlake::Main(argc, argv); }
