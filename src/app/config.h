// RunConfig: the configuration of the `flowlake run` service, read from a
// TOML file. docs/configuration.md lists every key with its default.
//
// Contract: ParseRunConfig() and LoadRunConfig() return either a complete,
// validated RunConfig or an error; a key the file leaves out keeps its
// default. A file is strict: an unknown key or table (a typo) and a value
// of the wrong type are errors rather than silently falling back to a
// default. Every error message starts with "config: " and names the key
// path as written in TOML (e.g. "lake.zstd_level"), the rejected value, and
// where the parser knows it, the position ("flowlake.toml:12:14").
//
// Thread-safety: plain values and free functions; nothing is shared.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "app/analysis_config.h"
#include "core/status.h"
#include "decode/nprobe_decoder.h"
#include "lake/partitioned_writer.h"

namespace flowlake {

// [kafka]
struct KafkaConfig {
  std::string brokers = "127.0.0.1:9092";  // bootstrap servers: "host:port,host:port"
  // Topic names, or regular expressions when they start with '^' (librdkafka
  // subscription syntax).
  std::vector<std::string> topics = {"netflows"};
  std::string group = "flowlake";
  // Where to start a partition the lake has never seen: "earliest" | "latest".
  std::string auto_offset_reset = "earliest";
  // [kafka.consumer]: librdkafka properties, passed through verbatim. The
  // parser converts TOML integers and booleans to their text ("42", "true").
  // Never holds bootstrap.servers, metadata.broker.list, group.id or
  // auto.offset.reset: those come from the keys above.
  std::map<std::string, std::string> consumer;
  int64_t poll_timeout_ms = 100;
  // Where detection events are published; empty: nowhere (lake only).
  std::string events_topic = "netflows-events";

  bool operator==(const KafkaConfig&) const = default;
};

// [service]
struct ServiceConfig {
  unsigned threads = 0;             // decode/write workers; 0: one per core
  uint64_t memory_limit_mb = 1024;  // RSS budget of the process; buffers are sized from it
  int64_t commit_interval_s = 60;   // max time data waits before a commit; also the file max age
  // "auto" (text on a TTY, JSON otherwise) | "text" | "json".
  std::string log_format = "auto";
  bool progress = true;  // one-line status on stderr when it is a TTY

  bool operator==(const ServiceConfig&) const = default;
};

// Where the lake is when the file does not say: the conventional state
// directory of a daemon.
inline constexpr std::string_view kDefaultLakePath = "/var/lib/flowlake";

struct RunConfig {
  KafkaConfig kafka;
  // [lake]. TOML keys and the fields they set: path -> root, compression and
  // zstd_level -> parquet.*, row_group_rows, file_max_rows, file_target_mb ->
  // file_target_bytes, max_open_partitions, sync. max_file_age_ms is not a
  // TOML key: it is service.commit_interval_s in milliseconds (the defaults,
  // 60 s and 60000 ms, agree).
  LakeWriterConfig lake{.root = std::string(kDefaultLakePath)};
  // [lake] checkpoint_every: CommitLogConfig::checkpoint_every.
  uint32_t checkpoint_every = 64;
  // [decode]: max_record_mb -> max_record_bytes, log_per_second, log_burst.
  DecoderConfig decoder;
  // [analysis] and [detect]: lateness_s, idle_timeout_s (-> rollups.*_ms),
  // max_hosts_per_window; the detector thresholds (docs/detections.md).
  AnalysisConfig analysis;
  ServiceConfig service;

  // Range and consistency checks, with the same messages the parser gives
  // (without the file position), e.g.
  // "config: lake.zstd_level must be 1-22, got 40". Also fails when
  // lake.max_file_age_ms is not service.commit_interval_s * 1000: a caller
  // that overrides one must override the other. Then runs
  // LakeWriterConfig::Validate() and DecoderConfig::Validate(), which cover
  // the fields that have no TOML key. Error code: kInvalidArgument.
  Status Validate() const;
};

// The analysis state budget in bytes: analysis.max_memory_mb, or when that is
// 0 a quarter of service.memory_limit_mb. The same for `ingest --config` and
// `run`, so both give the same results for the same flows.
uint64_t AnalysisMemoryBytes(const RunConfig& config);

// Parses a TOML document, then Validate()s the result. `source_name` (a file
// name) only appears in messages. Errors, all kInvalidArgument:
//  * TOML syntax: "config: syntax error in flowlake.toml:3:7: <what>";
//  * an unknown key or table: "config: unknown key 'lake.compresion' in
//    flowlake.toml:4:1 (did you mean 'lake.compression'?)";
//  * a wrong type: "config: lake.zstd_level must be an integer, got a
//    string in flowlake.toml:5:14";
//  * a bad value: "config: lake.zstd_level must be 1-22, got 40 in
//    flowlake.toml:5:14", and the Validate() errors.
[[nodiscard]] Result<RunConfig> ParseRunConfig(std::string_view toml_text,
                                               std::string_view source_name);

// Reads the file at `path` and parses it with `path` as the source name.
// Errors: kNotFound when the file does not exist, kIoError when it cannot be
// read (both "config: cannot read <path>: <reason>"), else as ParseRunConfig.
[[nodiscard]] Result<RunConfig> LoadRunConfig(const std::string& path);

// A complete TOML file with every key at its default value and a comment
// saying what it does (`flowlake config --print-defaults`). Generated from
// RunConfig{}, so ParseRunConfig(DefaultConfigToml()) gives the defaults.
std::string DefaultConfigToml();

}  // namespace flowlake
