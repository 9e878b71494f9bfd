// flowlake: command-line entry point.
//
// Exit codes: 0 success, 2 usage or configuration error, 1 runtime failure.
// stdout carries results (the ingest summary, generated JSON); logs go to
// stderr.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "app/ingest.h"
#include "parquet/file_writer.h"
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

struct IngestFlags {
  std::string input;
  std::string lake;
  std::string compression = "zstd";
  int zstd_level = 3;
  uint64_t row_group_rows = LakeWriterConfig{}.row_group_rows;
  unsigned threads = 0;
  bool no_sync = false;
};

int RunIngestCommand(const IngestFlags& f) {
  IngestConfig config;
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

struct GenerateFlags {
  synth::TrafficConfig traffic;
  std::string key_style = "labels";
};

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
  Status valid = config.Validate();
  if (!valid.ok()) return Fail(valid);
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (ingest_cmd->parsed()) return RunIngestCommand(ingest);
  if (generate_cmd->parsed()) return RunGenerateCommand(generate);
  return kExitUsage;
}

}  // namespace
}  // namespace flowlake

int main(int argc, char** argv) { return flowlake::Main(argc, argv); }
