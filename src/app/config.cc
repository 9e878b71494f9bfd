#include "app/config.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <utility>

#include <toml++/toml.h>

#include "parquet/writer_options.h"

namespace flowlake {
namespace {

// The schema. Every key is described once, here: its path in the file, its
// allowed values and its documentation. VisitKeys() walks the keys in file
// order with one of three visitors: ConfigReader (TOML -> RunConfig),
// ConfigChecker (Validate()) and ConfigPrinter (DefaultConfigToml()), so the
// parser, the checks and the printed defaults cannot drift apart.

constexpr int64_t kMiB = int64_t{1} << 20;

using StringCheck = Status (*)(std::string_view path, std::string_view value);

struct SectionKey {
  std::string_view name;
  std::string_view doc;
};
// An integer key. The file holds the value in its own unit; the field holds
// value * scale (e.g. file_target_mb -> file_target_bytes).
struct IntKey {
  std::string_view path;
  int64_t min;
  int64_t max;
  int64_t scale;
  std::string_view doc;
};
struct RealKey {
  std::string_view path;
  double min;
  double max;
  std::string_view doc;
};
struct StringKey {
  std::string_view path;
  StringCheck check;
  std::string_view doc;
};
using StringListCheck = Status (*)(std::string_view path, const std::vector<std::string>& value);
struct StringListKey {
  std::string_view path;
  StringListCheck check;
  std::string_view doc;
};
// An array of integers, each in [min, max].
struct IntListKey {
  std::string_view path;
  int64_t min;
  int64_t max;
  std::string_view doc;
};
// Keys with no constraint beyond their type (booleans, kafka.consumer).
struct PlainKey {
  std::string_view path;
  std::string_view doc;
};

Status Invalid(std::string_view path, std::string_view what) {
  return Status::InvalidArgument("config: " + std::string(path) + " " + std::string(what));
}

// "detect.suspicious_ports[1]": element `i` of the list at `path`.
std::string ElementPath(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

Status CheckNotEmpty(std::string_view path, std::string_view value) {
  return value.empty() ? Invalid(path, "must not be empty") : Status::Ok();
}

Status CheckAnyString(std::string_view, std::string_view) { return Status::Ok(); }

// "must be a, b or c, got 'd'"
Status CheckOneOf(std::string_view path, std::string_view value,
                  std::initializer_list<std::string_view> allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return Status::Ok();
  std::string list;
  size_t i = 0;
  for (std::string_view a : allowed) {
    if (i > 0) list += (i + 1 == allowed.size()) ? " or " : ", ";
    list += a;
    ++i;
  }
  return Invalid(path, "must be " + list + ", got '" + std::string(value) + "'");
}

Status CheckOffsetReset(std::string_view path, std::string_view value) {
  return CheckOneOf(path, value, {"earliest", "latest"});
}

Status CheckLogFormat(std::string_view path, std::string_view value) {
  return CheckOneOf(path, value, {"auto", "text", "json"});
}

// Defers to the Parquet writer, so a codec it learns is accepted here too.
Status CheckCompression(std::string_view path, std::string_view value) {
  Result<parquet::Compression> c = parquet::ParseCompression(value);
  return c.ok() ? Status::Ok() : Invalid(path, "is invalid: " + c.status().message());
}

// Kafka's own rule (kafka.common.internals.Topic), so a bad name fails at
// start-up rather than as a subscription error later; '^' starts a regex.
bool IsTopicName(std::string_view t) {
  bool legal = !t.empty() && t.size() <= 249 && t != "." && t != "..";
  for (char c : t) {
    legal = legal && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-');
  }
  return legal;
}

Status CheckTopics(std::string_view path, const std::vector<std::string>& topics) {
  if (topics.empty()) return Invalid(path, "must list at least one topic");
  for (size_t i = 0; i < topics.size(); ++i) {
    const std::string& t = topics[i];
    if (t.size() > 1 && t[0] == '^') continue;
    if (!IsTopicName(t)) {
      return Invalid(ElementPath(path, i),
                     "must be a topic name (1-249 letters, digits, '.', '_' or '-') or a "
                     "regular expression starting with '^', got '" + t + "'");
    }
  }
  return Status::Ok();
}

// Properties that have a key of their own: two places for one setting would
// leave the reader guessing which wins.
Status CheckConsumerProperty(std::string_view path, std::string_view name) {
  if (name.empty()) return Invalid(path, "has a property with an empty name");
  static constexpr std::pair<std::string_view, std::string_view> kOwnKeys[] = {
      {"bootstrap.servers", "kafka.brokers"},
      {"metadata.broker.list", "kafka.brokers"},
      {"group.id", "kafka.group"},
      {"auto.offset.reset", "kafka.auto_offset_reset"},
  };
  for (const auto& [property, key] : kOwnKeys) {
    if (name == property) {
      return Invalid(std::string(path) + "." + std::string(name),
                     "is not allowed here: set " + std::string(key) + " instead");
    }
  }
  return Status::Ok();
}

constexpr SectionKey kKafka{"kafka", "Kafka: where the flows come from."};
constexpr StringKey kBrokers{"kafka.brokers", CheckNotEmpty,
                             "Bootstrap brokers: \"host:port\", several separated by commas."};
constexpr StringListKey kTopics{
    "kafka.topics", CheckTopics,
    "Topics to consume; a name starting with ^ is a regular expression."};
constexpr StringKey kGroup{
    "kafka.group", CheckNotEmpty,
    "Kafka consumer group; the service instances of one group share the partitions."};
constexpr StringKey kAutoOffsetReset{
    "kafka.auto_offset_reset", CheckOffsetReset,
    "Where to start a partition the lake holds no offset for: \"earliest\" or \"latest\"."};
constexpr IntKey kPollTimeoutMs{"kafka.poll_timeout_ms", 1, 60'000, 1,
                                "Longest wait of one poll for messages, in milliseconds."};
Status CheckEventsTopic(std::string_view path, std::string_view value) {
  if (value.empty() || IsTopicName(value)) return Status::Ok();
  return Invalid(path, "must be a topic name (1-249 letters, digits, '.', '_' or '-') or \"\", got '" +
                           std::string(value) + "'");
}
constexpr StringKey kEventsTopic{
    "kafka.events_topic", CheckEventsTopic,
    "Topic the detection events are published to (idempotent producer, keyed by the main "
    "host); \"\" publishes none (the lake's events/ has them all anyway)."};
constexpr PlainKey kConsumer{
    "kafka.consumer",
    "Any librdkafka consumer property (librdkafka's CONFIGURATION.md), passed through "
    "verbatim; values may be strings, integers or booleans. Quote names with dots. "
    "bootstrap.servers, group.id and auto.offset.reset come from the keys above. "
    "SASL over TLS, for example:\n"
    "  \"security.protocol\" = \"SASL_SSL\"\n"
    "  \"sasl.mechanisms\" = \"SCRAM-SHA-512\"\n"
    "  \"sasl.username\" = \"flowlake\"\n"
    "  \"sasl.password\" = \"change-me\"\n"
    "  \"ssl.ca.location\" = \"/etc/flowlake/kafka-ca.pem\""};

constexpr SectionKey kLake{"lake", "The Parquet lake: where the flows go (docs/lake-layout.md)."};
constexpr StringKey kLakePath{"lake.path", CheckNotEmpty,
                              "Lake directory, created if missing."};
constexpr StringKey kCompression{"lake.compression", CheckCompression,
                                 "Parquet compression: \"zstd\", \"snappy\" or \"none\"."};
constexpr IntKey kZstdLevel{"lake.zstd_level", 1, 22, 1,
                            "zstd level: higher compresses more and costs more CPU."};
constexpr IntKey kRowGroupRows{"lake.row_group_rows", 1, int64_t{1} << 30, 1,
                               "Most rows in one Parquet row group."};
constexpr IntKey kFileMaxRows{"lake.file_max_rows", 1, 1'000'000'000, 1,
                              "A file is committed when it holds this many rows, when it "
                              "reaches file_target_mb, or service.commit_interval_s after it "
                              "opened, whichever comes first."};
constexpr IntKey kFileTargetMb{
    "lake.file_target_mb", 1, 65'536, kMiB,
    "A file is committed when it reaches about this many MiB (see file_max_rows)."};
constexpr IntKey kMaxOpenPartitions{
    "lake.max_open_partitions", 1, 65'536, 1,
    "Most partitions (hours) a worker has a file open in; past it, the least recently "
    "written file is committed."};
constexpr IntKey kCheckpointEvery{
    "lake.checkpoint_every", 1, 1'000'000, 1,
    "Commit records between two checkpoints of the lake's commit log (_flowlake/log); the "
    "log keeps at most about twice this many records (docs/commit-protocol.md)."};
constexpr PlainKey kSync{"lake.sync",
                         "fdatasync each file and fsync its directory on commit; false is "
                         "faster, but a machine crash may lose committed files."};

constexpr SectionKey kDecode{"decode", "Decoding nProbe JSON (docs/schema.md)."};
constexpr IntKey kMaxRecordMb{
    "decode.max_record_mb", 1, 4'095, kMiB,
    "A larger record (Kafka message) is rejected to the dead letters unparsed, in MiB."};
constexpr RealKey kLogPerSecond{
    "decode.log_per_second", 0, 1e6,
    "Warnings per second about rejected records and bad fields (all are counted anyway)."};
constexpr RealKey kLogBurst{"decode.log_burst", 0, 1e6,
                            "Warnings allowed in a burst above decode.log_per_second."};

constexpr SectionKey kService{"service", "The service."};
constexpr IntKey kThreads{"service.threads", 0, 1'024, 1,
                          "Decode/write worker threads; 0: one per core."};
constexpr IntKey kMemoryLimitMb{
    "service.memory_limit_mb", 256, int64_t{1} << 20, 1,
    "Memory for the whole process (RSS), in MiB: the message queue, row-group buffers and "
    "librdkafka's prefetch are sized from it, and consumption pauses while the lake writer "
    "is behind."};
constexpr IntKey kCommitIntervalS{
    "service.commit_interval_s", 1, 86'400, 1,
    "Longest time data waits before a commit, in seconds; also the age at which a lake "
    "file is committed."};
constexpr StringKey kLogFormat{
    "service.log_format", CheckLogFormat,
    "Log format: \"auto\" (text when stderr is a TTY, else JSON), \"text\" or \"json\"."};
constexpr PlainKey kProgress{"service.progress",
                             "Show a one-line status on stderr when it is a TTY."};

Status CheckNetworks(std::string_view path, const std::vector<std::string>& networks) {
  for (size_t i = 0; i < networks.size(); ++i) {
    if (networks[i].empty()) {
      return Invalid(ElementPath(path, i), "must not be empty");
    }
  }
  return Status::Ok();  // the CIDR syntax is DetectorConfig::Validate()'s
}

constexpr SectionKey kAnalysis{
    "analysis", "Real-time analysis: 1-minute host rollups and detections (docs/analysis.md)."};
constexpr PlainKey kAnalysisEnabled{
    "analysis.enabled", "Compute rollups and detections; false writes the flows only."};
constexpr IntKey kLatenessS{
    "analysis.lateness_s", 0, 86'400, 1000,
    "Allowed lateness in seconds: a window closes once the newest flow start seen is this "
    "far past its end; later flows are counted as late_flows and dropped."};
Status CheckLatePolicy(std::string_view path, std::string_view value) {
  return CheckOneOf(path, value, {"drop", "correction"});
}
std::string_view LatePolicyName(RollupConfig::LatePolicy policy) {
  return policy == RollupConfig::LatePolicy::kCorrection ? "correction" : "drop";
}
constexpr StringKey kLatePolicy{
    "analysis.late_policy", CheckLatePolicy,
    "What happens to a flow whose window is already closed (it is counted in late_flows "
    "either way): \"drop\", or \"correction\": its counts go into a correction record "
    "(\"correction\":true) for that window, emitted with the next closed window; corrections "
    "add up with the original record like any partial record."};
constexpr IntKey kIdleTimeoutS{
    "analysis.idle_timeout_s", 0, 86'400, 1000,
    "With no flow for this many seconds, wall-clock time advances the watermark so that "
    "an idle stream still closes its windows."};
constexpr IntKey kMaxHostsPerWindow{
    "analysis.max_hosts_per_window", 1, 100'000'000, 1,
    "Hosts with a rollup record of their own per minute; the rest share the \"other\" "
    "record (memory bound)."};
constexpr IntKey kAnalysisMaxMemoryMb{
    "analysis.max_memory_mb", 0, int64_t{1} << 20, 1,
    "Memory for the analysis state (the open windows of rollups and detectors), in MiB, half "
    "each; over it new hosts share the \"other\" record and new detector keys are not "
    "tracked (both counted). 0: a quarter of service.memory_limit_mb. At most "
    "(service.memory_limit_mb - 128) / 2."};

constexpr SectionKey kDetect{"detect",
                             "Detectors: thresholds per 1-minute window (docs/detections.md)."};
constexpr StringListKey kLocalNetworks{
    "detect.local_networks", CheckNetworks,
    "CIDRs of the networks you own: exfiltration and suspicious_port look at traffic "
    "crossing their border."};
constexpr StringKey kBlocklist{
    "detect.blocklist", CheckAnyString,
    "File of IPs and CIDRs (one per line, # comments) for the blocklist detector, reloaded "
    "when it changes; \"\" turns that detector off."};
constexpr IntKey kBlocklistCheckS{"detect.blocklist_check_s", 0, 86'400, 1000,
                                  "Seconds between two checks of the blocklist file."};
constexpr IntKey kCooldownS{
    "detect.cooldown_s", 0, 86'400, 1000,
    "After a detector fires for a key, it stays quiet for that key for this many seconds "
    "of event time (whole windows)."};
constexpr IntKey kMaxKeysPerWindow{
    "detect.max_keys_per_window", 1, 100'000'000, 1,
    "Keys each detector tracks per window (memory bound); more are counted and skipped."};
constexpr IntKey kVerticalScanPorts{
    "detect.vertical_scan_ports", 1, 65'536, 1,
    "port_scan.vertical: distinct destination ports from one source to one destination."};
constexpr IntKey kHorizontalScanHosts{
    "detect.horizontal_scan_hosts", 1, 100'000'000, 1,
    "port_scan.horizontal: distinct destinations from one source on one port."};
constexpr IntKey kSynFloodFlows{
    "detect.syn_flood_flows", 1, 100'000'000, 1,
    "syn_flood: TCP flows with SYN and without ACK to one destination."};
constexpr RealKey kVolumetricBps{
    "detect.volumetric_bps", 1, 1e15,
    "volumetric: bits per second to one destination, averaged over the window."};
constexpr RealKey kVolumetricPps{
    "detect.volumetric_pps", 1, 1e12,
    "volumetric: or packets per second to one destination, averaged over the window."};
constexpr IntKey kVolumetricSources{
    "detect.volumetric_sources", 1, 100'000'000, 1,
    "volumetric: only with at least this many distinct sources."};
constexpr RealKey kIcmpFloodPps{
    "detect.icmp_flood_pps", 1, 1e12,
    "icmp_flood: ICMP packets per second to one destination, averaged over the window."};
constexpr IntKey kDnsTunnelQueries{
    "detect.dns_tunnel_queries", 1, 100'000'000, 1,
    "dns_tunnel: suspicious queries from one source to one registered domain."};
constexpr IntKey kDnsLongLabel{
    "detect.dns_long_label", 1, 253, 1,
    "dns_tunnel: a label longer than this many characters is suspicious."};
constexpr RealKey kDnsEntropyBits{
    "detect.dns_entropy_bits", 0, 8,
    "dns_tunnel: a long label with at least this Shannon entropy (bits per character) is "
    "suspicious."};
constexpr IntKey kExfiltrationBytes{
    "detect.exfiltration_bytes", 1, int64_t{1} << 50, 1,
    "exfiltration: bytes one local source sends outside local_networks in a window "
    "(10^9 = 1 GB)."};
constexpr IntListKey kSuspiciousPorts{
    "detect.suspicious_ports", 1, 65'535,
    "suspicious_port: destination ports that traffic from outside local_networks should "
    "never reach (telnet, SMB, RDP)."};

// Every key, in file order. C is RunConfig or const RunConfig.
template <typename Visitor, typename C>
Status VisitKeys(Visitor& v, C& c) {
  FLOWLAKE_RETURN_IF_ERROR(v.Section(kKafka));
  FLOWLAKE_RETURN_IF_ERROR(v.String(kBrokers, c.kafka.brokers));
  FLOWLAKE_RETURN_IF_ERROR(v.StringList(kTopics, c.kafka.topics));
  FLOWLAKE_RETURN_IF_ERROR(v.String(kGroup, c.kafka.group));
  FLOWLAKE_RETURN_IF_ERROR(v.String(kAutoOffsetReset, c.kafka.auto_offset_reset));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kPollTimeoutMs, c.kafka.poll_timeout_ms));
  FLOWLAKE_RETURN_IF_ERROR(v.String(kEventsTopic, c.kafka.events_topic));
  FLOWLAKE_RETURN_IF_ERROR(v.Consumer(kConsumer, c.kafka.consumer));

  FLOWLAKE_RETURN_IF_ERROR(v.Section(kLake));
  FLOWLAKE_RETURN_IF_ERROR(v.String(kLakePath, c.lake.root));
  FLOWLAKE_RETURN_IF_ERROR(v.Compression(kCompression, c.lake.parquet.compression));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kZstdLevel, c.lake.parquet.zstd_level));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kRowGroupRows, c.lake.row_group_rows));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kFileMaxRows, c.lake.file_max_rows));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kFileTargetMb, c.lake.file_target_bytes));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kMaxOpenPartitions, c.lake.max_open_partitions));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kCheckpointEvery, c.checkpoint_every));
  FLOWLAKE_RETURN_IF_ERROR(v.Bool(kSync, c.lake.sync));

  FLOWLAKE_RETURN_IF_ERROR(v.Section(kDecode));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kMaxRecordMb, c.decoder.max_record_bytes));
  FLOWLAKE_RETURN_IF_ERROR(v.Real(kLogPerSecond, c.decoder.log_per_second));
  FLOWLAKE_RETURN_IF_ERROR(v.Real(kLogBurst, c.decoder.log_burst));

  FLOWLAKE_RETURN_IF_ERROR(v.Section(kAnalysis));
  FLOWLAKE_RETURN_IF_ERROR(v.Bool(kAnalysisEnabled, c.analysis.enabled));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kLatenessS, c.analysis.rollups.lateness_ms));
  FLOWLAKE_RETURN_IF_ERROR(v.LatePolicy(kLatePolicy, c.analysis.rollups.late_policy));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kIdleTimeoutS, c.analysis.rollups.idle_timeout_ms));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kMaxHostsPerWindow, c.analysis.rollups.max_hosts_per_window));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kAnalysisMaxMemoryMb, c.analysis.max_memory_mb));

  FLOWLAKE_RETURN_IF_ERROR(v.Section(kDetect));
  FLOWLAKE_RETURN_IF_ERROR(v.StringList(kLocalNetworks, c.analysis.detect.local_networks));
  FLOWLAKE_RETURN_IF_ERROR(v.String(kBlocklist, c.analysis.detect.blocklist_path));
  FLOWLAKE_RETURN_IF_ERROR(
      v.Int(kBlocklistCheckS, c.analysis.detect.blocklist_check_interval_ms));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kCooldownS, c.analysis.detect.cooldown_ms));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kMaxKeysPerWindow, c.analysis.detect.max_keys_per_window));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kVerticalScanPorts, c.analysis.detect.vertical_scan_ports));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kHorizontalScanHosts, c.analysis.detect.horizontal_scan_hosts));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kSynFloodFlows, c.analysis.detect.syn_flood_flows));
  FLOWLAKE_RETURN_IF_ERROR(v.Real(kVolumetricBps, c.analysis.detect.volumetric_bps));
  FLOWLAKE_RETURN_IF_ERROR(v.Real(kVolumetricPps, c.analysis.detect.volumetric_pps));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kVolumetricSources, c.analysis.detect.volumetric_sources));
  FLOWLAKE_RETURN_IF_ERROR(v.Real(kIcmpFloodPps, c.analysis.detect.icmp_flood_pps));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kDnsTunnelQueries, c.analysis.detect.dns_tunnel_queries));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kDnsLongLabel, c.analysis.detect.dns_long_label));
  FLOWLAKE_RETURN_IF_ERROR(v.Real(kDnsEntropyBits, c.analysis.detect.dns_entropy_bits));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kExfiltrationBytes, c.analysis.detect.exfiltration_bytes));
  FLOWLAKE_RETURN_IF_ERROR(v.IntList(kSuspiciousPorts, c.analysis.detect.suspicious_ports));

  FLOWLAKE_RETURN_IF_ERROR(v.Section(kService));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kThreads, c.service.threads));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kMemoryLimitMb, c.service.memory_limit_mb));
  FLOWLAKE_RETURN_IF_ERROR(v.Int(kCommitIntervalS, c.service.commit_interval_s));
  FLOWLAKE_RETURN_IF_ERROR(v.String(kLogFormat, c.service.log_format));
  return v.Bool(kProgress, c.service.progress);
}

// Shortest text that reads back as the same double, never in exponent form
// ("1000000", "0.5").
std::string FormatReal(double value) {
  char buf[512];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : "?";
}

// "<path> must be <min>-<max>, got <value>" unless value is in range.
template <typename T>
Status CheckIntRange(std::string_view path, int64_t min, int64_t max, T value) {
  if (std::cmp_greater_equal(value, min) && std::cmp_less_equal(value, max)) return Status::Ok();
  return Invalid(path, "must be " + std::to_string(min) + "-" + std::to_string(max) + ", got " +
                           std::to_string(value));
}

template <typename T>
Status CheckRange(const IntKey& key, T value) {
  return CheckIntRange(key.path, key.min, key.max, value);
}

Status CheckRange(const RealKey& key, double value) {
  if (std::isfinite(value) && value >= key.min && value <= key.max) return Status::Ok();
  return Invalid(key.path, "must be " + FormatReal(key.min) + "-" + FormatReal(key.max) +
                               ", got " + FormatReal(value));
}

// Element `index` of an integer list, named "<path>[<index>]".
template <typename T>
Status CheckListElement(const IntListKey& key, size_t index, T value) {
  return CheckIntRange(ElementPath(key.path, index), key.min, key.max, value);
}

std::string_view LastComponent(std::string_view path) {
  return path.substr(path.rfind('.') + 1);  // npos + 1 == 0
}

// "flowlake.toml:12:3"
std::string Where(std::string_view source, const toml::source_region& region) {
  std::string s(source.empty() ? "<config>" : source);
  if (region.begin.line == 0) return s;
  return s + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::none: break;
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "nothing";
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

// The known key a typo most likely meant, if any is close.
std::optional<std::string> Suggest(std::string_view typo, const std::vector<std::string>& known) {
  std::optional<std::string> best;
  size_t best_distance = std::min<size_t>(3, typo.size());
  for (const std::string& k : known) {
    size_t d = EditDistance(typo, k);
    if (d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  return best;
}

// TOML basic string: quotes, backslashes and control characters escaped.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// TOML -> RunConfig. Keys the file leaves out keep the field's value. Each
// section remembers the keys asked for, so that a key nobody asked for (a
// typo) is an error rather than a silently ignored line.
class ConfigReader {
 public:
  // `root` must outlive the reader.
  ConfigReader(const toml::table& root, std::string_view source)
      : root_(root), source_(source) {}

  Status Section(const SectionKey& section) {
    FLOWLAKE_RETURN_IF_ERROR(FinishSection());
    root_known_.emplace_back(section.name);
    prefix_ = std::string(section.name) + ".";
    const toml::node* node = root_.get(section.name);
    if (node != nullptr && !node->is_table()) return WrongType(section.name, "a table", *node);
    table_ = node != nullptr ? node->as_table() : nullptr;
    return Status::Ok();
  }

  // After the last key: rejects the unknown keys of the last section and the
  // unknown top-level keys and tables.
  Status Finish() {
    FLOWLAKE_RETURN_IF_ERROR(FinishSection());
    return RejectUnknown(&root_, "", root_known_);
  }

  template <typename T>
  Status Int(const IntKey& key, T& field) {
    const toml::node* node = Find(key.path);
    if (node == nullptr) return Status::Ok();
    const toml::value<int64_t>* v = node->as_integer();
    if (v == nullptr) return WrongType(key.path, "an integer", *node);
    FLOWLAKE_RETURN_IF_ERROR(At(CheckRange(key, v->get()), *node));
    field = static_cast<T>(v->get() * key.scale);  // fits: CheckRange bounds it
    return Status::Ok();
  }

  Status Real(const RealKey& key, double& field) {
    const toml::node* node = Find(key.path);
    if (node == nullptr) return Status::Ok();
    double value = 0;
    if (const toml::value<double>* f = node->as_floating_point()) {
      value = f->get();
    } else if (const toml::value<int64_t>* i = node->as_integer()) {
      value = static_cast<double>(i->get());
    } else {
      return WrongType(key.path, "a number", *node);
    }
    FLOWLAKE_RETURN_IF_ERROR(At(CheckRange(key, value), *node));
    field = value;
    return Status::Ok();
  }

  Status String(const StringKey& key, std::string& field) {
    const toml::node* node = Find(key.path);
    if (node == nullptr) return Status::Ok();
    const toml::value<std::string>* v = node->as_string();
    if (v == nullptr) return WrongType(key.path, "a string", *node);
    FLOWLAKE_RETURN_IF_ERROR(At(key.check(key.path, v->get()), *node));
    field = v->get();
    return Status::Ok();
  }

  Status LatePolicy(const StringKey& key, RollupConfig::LatePolicy& field) {
    std::string name(LatePolicyName(field));
    FLOWLAKE_RETURN_IF_ERROR(String(key, name));
    field = name == "correction" ? RollupConfig::LatePolicy::kCorrection
                                 : RollupConfig::LatePolicy::kDrop;  // checked by String()
    return Status::Ok();
  }

  Status Compression(const StringKey& key, parquet::Compression& field) {
    std::string name(parquet::CompressionName(field));
    FLOWLAKE_RETURN_IF_ERROR(String(key, name));
    field = parquet::ParseCompression(name).value();  // checked by String()
    return Status::Ok();
  }

  Status Bool(const PlainKey& key, bool& field) {
    const toml::node* node = Find(key.path);
    if (node == nullptr) return Status::Ok();
    const toml::value<bool>* v = node->as_boolean();
    if (v == nullptr) return WrongType(key.path, "a boolean (true or false)", *node);
    field = v->get();
    return Status::Ok();
  }

  Status StringList(const StringListKey& key, std::vector<std::string>& field) {
    const toml::node* node = Find(key.path);
    if (node == nullptr) return Status::Ok();
    const toml::array* array = node->as_array();
    if (array == nullptr) return WrongType(key.path, "an array of strings", *node);
    std::vector<std::string> topics;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      const toml::value<std::string>* s = element.as_string();
      if (s == nullptr) {
        return WrongType(ElementPath(key.path, i), "a string", element);
      }
      topics.push_back(s->get());
    }
    FLOWLAKE_RETURN_IF_ERROR(At(key.check(key.path, topics), *node));
    field = std::move(topics);
    return Status::Ok();
  }

  template <typename T>
  Status IntList(const IntListKey& key, std::vector<T>& field) {
    const toml::node* node = Find(key.path);
    if (node == nullptr) return Status::Ok();
    const toml::array* array = node->as_array();
    if (array == nullptr) return WrongType(key.path, "an array of integers", *node);
    std::vector<T> values;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& element = *array->get(i);
      const toml::value<int64_t>* v = element.as_integer();
      if (v == nullptr) return WrongType(ElementPath(key.path, i), "an integer", element);
      FLOWLAKE_RETURN_IF_ERROR(At(CheckListElement(key, i, v->get()), element));
      values.push_back(static_cast<T>(v->get()));
    }
    field = std::move(values);
    return Status::Ok();
  }

  Status Consumer(const PlainKey& key, std::map<std::string, std::string>& field) {
    const toml::node* node = Find(key.path);
    if (node == nullptr) return Status::Ok();
    const toml::table* table = node->as_table();
    if (table == nullptr) return WrongType(key.path, "a table", *node);
    field.clear();
    return FlattenConsumer(key.path, *table, "", field);
  }

 private:
  // Unquoted dotted names (security.protocol = "SSL") are nested tables in
  // TOML; joining the parts back with '.' lets them mean what they look like.
  Status FlattenConsumer(std::string_view path, const toml::table& table,
                         const std::string& name_prefix,
                         std::map<std::string, std::string>& out) const {
    for (auto&& [key, node] : table) {
      std::string name = name_prefix + std::string(key.str());
      std::string property_path = std::string(path) + "." + name;
      if (const toml::table* nested = node.as_table()) {
        FLOWLAKE_RETURN_IF_ERROR(FlattenConsumer(path, *nested, name + ".", out));
        continue;
      }
      std::string value;
      if (const toml::value<std::string>* s = node.as_string()) {
        value = s->get();
      } else if (const toml::value<int64_t>* i = node.as_integer()) {
        value = std::to_string(i->get());
      } else if (const toml::value<bool>* b = node.as_boolean()) {
        value = b->get() ? "true" : "false";
      } else {
        return WrongType(property_path, "a string, integer or boolean", node);
      }
      FLOWLAKE_RETURN_IF_ERROR(At(CheckConsumerProperty(path, name), node));
      if (!out.emplace(name, std::move(value)).second) {
        return At(Invalid(property_path, "is set twice (quoted and as dotted keys)"), node);
      }
    }
    return Status::Ok();
  }

  // The node at `path` in the current section, or null; marks the key known.
  const toml::node* Find(std::string_view path) {
    assert(path.starts_with(prefix_) && "key outside the current section");
    std::string_view key = path.substr(prefix_.size());
    known_.emplace_back(key);
    return table_ != nullptr ? table_->get(key) : nullptr;
  }

  Status FinishSection() {
    Status st = RejectUnknown(table_, prefix_, known_);
    table_ = nullptr;
    known_.clear();
    return st;
  }

  // Reports the unknown key that comes first in the file.
  Status RejectUnknown(const toml::table* table, std::string_view prefix,
                       const std::vector<std::string>& known) const {
    if (table == nullptr) return Status::Ok();
    const toml::key* first = nullptr;
    const toml::node* first_node = nullptr;
    for (auto&& [key, node] : *table) {
      if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
      if (first == nullptr || key.source().begin < first->source().begin) {
        first = &key;
        first_node = &node;
      }
    }
    if (first == nullptr) return Status::Ok();
    std::string message = "config: unknown " +
                          std::string(first_node->is_table() ? "table" : "key") + " '" +
                          std::string(prefix) + std::string(first->str()) + "' in " +
                          Where(source_, first->source());
    if (std::optional<std::string> guess = Suggest(first->str(), known)) {
      message += " (did you mean '" + std::string(prefix) + *guess + "'?)";
    }
    return Status::InvalidArgument(std::move(message));
  }

  Status WrongType(std::string_view path, std::string_view expected,
                   const toml::node& node) const {
    return At(Invalid(path, "must be " + std::string(expected) + ", got " +
                                std::string(TypeName(node))),
              node);
  }

  // Adds the node's position to an error.
  Status At(Status st, const toml::node& node) const {
    if (st.ok()) return st;
    return Status(st.code(), st.message() + " in " + Where(source_, node.source()));
  }

  const toml::table& root_;
  std::string_view source_;
  std::vector<std::string> root_known_;
  const toml::table* table_ = nullptr;  // the current section; null when absent
  std::string prefix_;                  // "lake."
  std::vector<std::string> known_;      // keys of the current section
};

// Validate(): the same checks as the reader, on fields.
class ConfigChecker {
 public:
  Status Section(const SectionKey&) { return Status::Ok(); }
  template <typename T>
  Status Int(const IntKey& key, const T& field) {
    return CheckRange(key, field / key.scale);
  }
  Status Real(const RealKey& key, double field) { return CheckRange(key, field); }
  Status String(const StringKey& key, const std::string& field) {
    return key.check(key.path, field);
  }
  Status Compression(const StringKey&, parquet::Compression) { return Status::Ok(); }
  Status LatePolicy(const StringKey&, RollupConfig::LatePolicy) { return Status::Ok(); }
  Status Bool(const PlainKey&, bool) { return Status::Ok(); }
  Status StringList(const StringListKey& key, const std::vector<std::string>& field) {
    return key.check(key.path, field);
  }
  template <typename T>
  Status IntList(const IntListKey& key, const std::vector<T>& field) {
    for (size_t i = 0; i < field.size(); ++i) {
      FLOWLAKE_RETURN_IF_ERROR(CheckListElement(key, i, field[i]));
    }
    return Status::Ok();
  }
  Status Consumer(const PlainKey& key, const std::map<std::string, std::string>& field) {
    for (const auto& [name, value] : field) {
      FLOWLAKE_RETURN_IF_ERROR(CheckConsumerProperty(key.path, name));
    }
    return Status::Ok();
  }
};

// DefaultConfigToml(): each key with its documentation as a comment.
class ConfigPrinter {
 public:
  explicit ConfigPrinter(std::string header) : out_(std::move(header)) {}
  std::string Take() && { return std::move(out_); }

  Status Section(const SectionKey& section) {
    out_ += '\n';
    Comment(section.doc);
    out_ += "[" + std::string(section.name) + "]\n";
    return Status::Ok();
  }
  template <typename T>
  Status Int(const IntKey& key, const T& field) {
    std::string range =
        " Range: " + std::to_string(key.min) + "-" + std::to_string(key.max) + ".";
    return Line(key.path, std::string(key.doc) + range, std::to_string(field / key.scale));
  }
  Status Real(const RealKey& key, double field) {
    std::string range = " Range: " + FormatReal(key.min) + "-" + FormatReal(key.max) + ".";
    std::string value = FormatReal(field);
    if (value.find('.') == std::string::npos) value += ".0";  // a TOML float, not an integer
    return Line(key.path, std::string(key.doc) + range, value);
  }
  Status String(const StringKey& key, const std::string& field) {
    return Line(key.path, key.doc, Quote(field));
  }
  Status LatePolicy(const StringKey& key, RollupConfig::LatePolicy field) {
    return Line(key.path, key.doc, Quote(LatePolicyName(field)));
  }
  Status Compression(const StringKey& key, parquet::Compression field) {
    return Line(key.path, key.doc, Quote(parquet::CompressionName(field)));
  }
  Status Bool(const PlainKey& key, bool field) {
    return Line(key.path, key.doc, field ? "true" : "false");
  }
  Status StringList(const StringListKey& key, const std::vector<std::string>& field) {
    std::string list;
    for (const std::string& t : field) list += (list.empty() ? "" : ", ") + Quote(t);
    return Line(key.path, key.doc, "[" + list + "]");
  }
  template <typename T>
  Status IntList(const IntListKey& key, const std::vector<T>& field) {
    std::string list;
    for (T v : field) list += (list.empty() ? "" : ", ") + std::to_string(v);
    std::string range =
        " Range: " + std::to_string(key.min) + "-" + std::to_string(key.max) + ".";
    return Line(key.path, std::string(key.doc) + range, "[" + list + "]");
  }
  Status Consumer(const PlainKey& key, const std::map<std::string, std::string>& field) {
    out_ += '\n';
    Comment(key.doc);
    out_ += "[" + std::string(key.path) + "]\n";
    for (const auto& [name, value] : field) out_ += Quote(name) + " = " + Quote(value) + "\n";
    return Status::Ok();
  }

 private:
  Status Line(std::string_view path, std::string_view doc, const std::string& value) {
    Comment(doc);
    out_ += std::string(LastComponent(path)) + " = " + value + "\n";
    return Status::Ok();
  }

  // "# "-prefixed, wrapped at 78 columns; '\n' in `text` forces a line
  // break and keeps the next line's indentation (for examples).
  void Comment(std::string_view text) {
    constexpr size_t kWidth = 78;
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string_view::npos) end = text.size();
      std::string_view paragraph = text.substr(start, end - start);
      std::string line = "#";
      size_t pos = 0;
      while (pos < paragraph.size()) {
        size_t word_end = paragraph.find(' ', pos + 1);
        if (word_end == std::string_view::npos) word_end = paragraph.size();
        std::string_view word = paragraph.substr(pos, word_end - pos);  // with its leading ' '
        if (pos == 0) {
          line += " ";
        } else if (line.size() + word.size() > kWidth) {
          out_ += line + "\n";
          line = "#";
        }
        line += word;
        pos = word_end;
      }
      out_ += line + "\n";
      start = end + 1;
    }
  }

  std::string out_;
};

}  // namespace

uint64_t AnalysisMemoryBytes(const RunConfig& config) {
  const uint64_t mb = config.analysis.max_memory_mb != 0 ? config.analysis.max_memory_mb
                                                         : config.service.memory_limit_mb / 4;
  return mb << 20;
}

Status RunConfig::Validate() const {
  ConfigChecker checker;
  FLOWLAKE_RETURN_IF_ERROR(VisitKeys(checker, *this));
  // Safe from overflow: commit_interval_s is bounded above.
  const int64_t age_ms = service.commit_interval_s * 1000;
  if (lake.max_file_age_ms != age_ms) {
    return Invalid("lake.max_file_age_ms",
                   "must be service.commit_interval_s * 1000 = " + std::to_string(age_ms) +
                       ", got " + std::to_string(lake.max_file_age_ms));
  }
  FLOWLAKE_RETURN_IF_ERROR(lake.Validate());
  FLOWLAKE_RETURN_IF_ERROR(decoder.Validate());
  if (!analysis.enabled) return Status::Ok();
  // The rest of the process (past run's fixed 128 MiB reserve) needs at
  // least as much as the analysis.
  const uint64_t max_analysis_mb = (service.memory_limit_mb - 128) / 2;
  if (analysis.max_memory_mb > max_analysis_mb) {
    return Invalid("analysis.max_memory_mb",
                   "must be at most (service.memory_limit_mb - 128) / 2 = " +
                       std::to_string(max_analysis_mb) + ", got " +
                       std::to_string(analysis.max_memory_mb));
  }
  Status st = analysis.Validate();
  if (!st.ok() && st.message().rfind("config: ", 0) != 0) {
    return Status::InvalidArgument("config: " + st.message());
  }
  return st;
}

Result<RunConfig> ParseRunConfig(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("config: syntax error in " + Where(source_name, e.source()) +
                                   ": " + std::string(e.description()));
  }
  RunConfig config;
  ConfigReader reader(root, source_name);
  FLOWLAKE_RETURN_IF_ERROR(VisitKeys(reader, config));
  FLOWLAKE_RETURN_IF_ERROR(reader.Finish());
  config.lake.max_file_age_ms = config.service.commit_interval_s * 1000;
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  return config;
}

Result<RunConfig> LoadRunConfig(const std::string& path) {
  auto fail = [&path](int err) {
    std::string message = "config: cannot read " + path + ": " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(std::move(message))
                         : Status::IoError(std::move(message));
  };
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return fail(errno);
  std::string text;
  char buf[1 << 14];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), file.get())) > 0) text.append(buf, n);
  if (std::ferror(file.get())) return fail(errno);  // e.g. EISDIR
  return ParseRunConfig(text, path);
}

std::string DefaultConfigToml() {
  ConfigPrinter printer(
      "# flowlake run: service configuration (TOML).\n"
      "#\n"
      "# Every key is shown with its default value. A key left out keeps its\n"
      "# default, so a file needs only the keys it changes; an unknown key is an\n"
      "# error. docs/configuration.md describes each key.\n");
  const RunConfig defaults;
  Status st = VisitKeys(printer, defaults);
  assert(st.ok() && "the printer never fails");
  (void)st;
  return std::move(printer).Take();
}

}  // namespace flowlake
