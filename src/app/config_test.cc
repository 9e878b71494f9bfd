#include "app/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace flowlake {
namespace {

namespace fs = std::filesystem;

// Every field, including those without a TOML key, so that a parser that
// disturbs one is caught.
void ExpectSameConfig(const RunConfig& got, const RunConfig& want) {
  EXPECT_EQ(got.kafka, want.kafka);
  EXPECT_EQ(got.service, want.service);
  EXPECT_EQ(got.lake.root, want.lake.root);
  EXPECT_EQ(got.lake.table, want.lake.table);
  EXPECT_EQ(got.lake.parquet.compression, want.lake.parquet.compression);
  EXPECT_EQ(got.lake.parquet.zstd_level, want.lake.parquet.zstd_level);
  EXPECT_EQ(got.lake.parquet.page_target_bytes, want.lake.parquet.page_target_bytes);
  EXPECT_EQ(got.lake.parquet.dictionary, want.lake.parquet.dictionary);
  EXPECT_EQ(got.lake.parquet.sync_on_finish, want.lake.parquet.sync_on_finish);
  EXPECT_EQ(got.lake.row_group_rows, want.lake.row_group_rows);
  EXPECT_EQ(got.lake.row_group_bytes, want.lake.row_group_bytes);
  EXPECT_EQ(got.lake.file_max_rows, want.lake.file_max_rows);
  EXPECT_EQ(got.lake.file_target_bytes, want.lake.file_target_bytes);
  EXPECT_EQ(got.lake.max_file_age_ms, want.lake.max_file_age_ms);
  EXPECT_EQ(got.lake.max_buffered_bytes, want.lake.max_buffered_bytes);
  EXPECT_EQ(got.lake.max_open_partitions, want.lake.max_open_partitions);
  EXPECT_EQ(got.lake.sync, want.lake.sync);
  EXPECT_EQ(got.decoder.max_record_bytes, want.decoder.max_record_bytes);
  EXPECT_EQ(got.decoder.log_per_second, want.decoder.log_per_second);
  EXPECT_EQ(got.decoder.log_burst, want.decoder.log_burst);
}

RunConfig MustParse(std::string_view text) {
  Result<RunConfig> r = ParseRunConfig(text, "test.toml");
  EXPECT_TRUE(r.ok()) << r.status().message() << "\n--- input:\n" << text;
  return r.ok() ? r.value() : RunConfig{};
}

TEST(ConfigTest, DefaultsAreValid) { EXPECT_TRUE(RunConfig{}.Validate().ok()); }

TEST(ConfigTest, DefaultConfigTomlRoundTrips) {
  ExpectSameConfig(MustParse(DefaultConfigToml()), RunConfig{});
}

TEST(ConfigTest, EmptyFileGivesDefaults) {
  ExpectSameConfig(MustParse(""), RunConfig{});
  ExpectSameConfig(MustParse("[kafka]\n[lake]\n[decode]\n[service]\n"), RunConfig{});
}

TEST(ConfigTest, DefaultConfigTomlDocumentsEveryKey) {
  const std::string text = DefaultConfigToml();
  for (std::string_view key :
       {"brokers", "topics", "group", "auto_offset_reset", "poll_timeout_ms", "[kafka.consumer]",
        "path", "compression", "zstd_level", "row_group_rows", "file_max_rows", "file_target_mb",
        "max_open_partitions", "sync", "max_record_mb", "log_per_second", "log_burst", "threads",
        "memory_limit_mb", "commit_interval_s", "log_format", "progress", "max_hosts_per_window",
        "max_memory_mb"}) {
    EXPECT_NE(text.find("\n" + std::string(key)), std::string::npos) << key;
  }
  std::istringstream lines(text);
  std::string line, previous;
  while (std::getline(lines, line)) {
    EXPECT_LE(line.size(), 80u) << line;
    if (!line.empty() && line[0] != '#' && line[0] != '[') {
      EXPECT_EQ(previous[0], '#') << "no comment above: " << line;
    }
    previous = line;
  }
}

// docs/configuration.md has a row "| `section.key` | `default` | ... |" for
// each key, with the default exactly as DefaultConfigToml() prints it.
std::string ReadDocs() {
  const char* dir = std::getenv("FLOWLAKE_SOURCE_DIR");
  fs::path path = fs::path(dir ? dir : ".") / "docs" / "configuration.md";
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path << " (set FLOWLAKE_SOURCE_DIR)";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ConfigTest, DocsListEveryKeyWithItsDefault) {
  const std::string docs = ReadDocs();
  ASSERT_FALSE(docs.empty());
  std::istringstream lines(DefaultConfigToml());
  std::string line, section;
  int keys = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line.substr(1, line.size() - 2);
      EXPECT_NE(docs.find("| `" + section + "."), std::string::npos) << section;
      continue;
    }
    size_t eq = line.find(" = ");
    ASSERT_NE(eq, std::string::npos) << line;
    std::string row = "| `" + section + "." + line.substr(0, eq) + "` | `" +
                      line.substr(eq + 3) + "` |";
    EXPECT_NE(docs.find(row), std::string::npos) << "missing in docs/configuration.md: " << row;
    ++keys;
  }
  EXPECT_EQ(keys, 46);
}

TEST(ConfigTest, DocsExamplesParse) {
  const std::string docs = ReadDocs();
  int examples = 0;
  for (size_t start = docs.find("```toml\n"); start != std::string::npos;
       start = docs.find("```toml\n", start)) {
    start += 8;
    size_t end = docs.find("```", start);
    ASSERT_NE(end, std::string::npos);
    std::string example = docs.substr(start, end - start);
    Result<RunConfig> r = ParseRunConfig(example, "docs/configuration.md");
    EXPECT_TRUE(r.ok()) << r.status().message() << "\n--- example:\n" << example;
    ++examples;
  }
  EXPECT_GE(examples, 3);
}

TEST(ConfigTest, ParsesKafka) {
  RunConfig c = MustParse(R"(
[kafka]
brokers = "kafka-1:9092,kafka-2:9092"
topics = ["netflows", "netflows.v2", "^probe-[0-9]+$"]
group = "lake-eu"
auto_offset_reset = "latest"
poll_timeout_ms = 250
)");
  EXPECT_EQ(c.kafka.brokers, "kafka-1:9092,kafka-2:9092");
  EXPECT_EQ(c.kafka.topics,
            (std::vector<std::string>{"netflows", "netflows.v2", "^probe-[0-9]+$"}));
  EXPECT_EQ(c.kafka.group, "lake-eu");
  EXPECT_EQ(c.kafka.auto_offset_reset, "latest");
  EXPECT_EQ(c.kafka.poll_timeout_ms, 250);
  EXPECT_TRUE(c.kafka.consumer.empty());
}

TEST(ConfigTest, ParsesAnalysisAndDetect) {
  RunConfig c = MustParse(R"(
[kafka]
events_topic = "alerts"
[analysis]
enabled = false
lateness_s = 30
late_policy = "correction"
idle_timeout_s = 5
max_hosts_per_window = 5000
max_memory_mb = 100
[detect]
local_networks = ["10.0.0.0/8", "2001:db8::/32"]
blocklist = "/etc/flowlake/blocklist.txt"
blocklist_check_s = 60
cooldown_s = 0
syn_flood_flows = 500
volumetric_bps = 2e9
dns_entropy_bits = 3.5
exfiltration_bytes = 5000000000
suspicious_ports = [22, 3389]
)");
  EXPECT_EQ(c.kafka.events_topic, "alerts");
  EXPECT_FALSE(c.analysis.enabled);
  EXPECT_EQ(c.analysis.rollups.lateness_ms, 30000);
  EXPECT_EQ(c.analysis.rollups.late_policy, RollupConfig::LatePolicy::kCorrection);
  EXPECT_EQ(c.analysis.rollups.idle_timeout_ms, 5000);
  EXPECT_EQ(c.analysis.rollups.max_hosts_per_window, 5000u);
  EXPECT_EQ(c.analysis.max_memory_mb, 100u);
  EXPECT_EQ(AnalysisMemoryBytes(c), uint64_t{100} << 20);
  EXPECT_EQ(c.analysis.detect.local_networks,
            (std::vector<std::string>{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_EQ(c.analysis.detect.blocklist_path, "/etc/flowlake/blocklist.txt");
  EXPECT_EQ(c.analysis.detect.blocklist_check_interval_ms, 60000);
  EXPECT_EQ(c.analysis.detect.cooldown_ms, 0);
  EXPECT_EQ(c.analysis.detect.syn_flood_flows, 500u);
  EXPECT_EQ(c.analysis.detect.volumetric_bps, 2e9);
  EXPECT_EQ(c.analysis.detect.dns_entropy_bits, 3.5);
  EXPECT_EQ(c.analysis.detect.exfiltration_bytes, 5000000000u);
  EXPECT_EQ(c.analysis.detect.suspicious_ports, (std::vector<int>{22, 3389}));
  // Untouched keys keep their defaults.
  EXPECT_EQ(c.analysis.detect.vertical_scan_ports, DetectorConfig{}.vertical_scan_ports);
  // The detectors get the rollups' windowing.
  EXPECT_EQ(c.analysis.SyncedDetect().lateness_ms, 30000);
}

TEST(ConfigTest, ConsumerPropertiesOfEveryTypeBecomeText) {
  RunConfig c = MustParse(R"(
[kafka.consumer]
"security.protocol" = "SASL_SSL"
"session.timeout.ms" = 45000
"enable.ssl.certificate.verification" = false
"socket.keepalive.enable" = true
sasl.mechanisms = "PLAIN"
ssl.key.location = "/etc/flowlake/client.key"
ssl.key.password = "p\"w"
)");
  EXPECT_EQ(c.kafka.consumer, (std::map<std::string, std::string>{
                                  {"security.protocol", "SASL_SSL"},
                                  {"session.timeout.ms", "45000"},
                                  {"enable.ssl.certificate.verification", "false"},
                                  {"socket.keepalive.enable", "true"},
                                  {"sasl.mechanisms", "PLAIN"},
                                  {"ssl.key.location", "/etc/flowlake/client.key"},
                                  {"ssl.key.password", "p\"w"},
                              }));
  EXPECT_EQ(c.kafka.brokers, KafkaConfig{}.brokers);  // the [kafka] keys keep their defaults

  RunConfig inline_table = MustParse("[kafka]\nconsumer = { \"client.id\" = \"fl-1\" }\n");
  EXPECT_EQ(inline_table.kafka.consumer.at("client.id"), "fl-1");
}

TEST(ConfigTest, ParsesLake) {
  RunConfig c = MustParse(R"(
[lake]
path = "/data/lake"
compression = "snappy"
zstd_level = 9
row_group_rows = 10000
file_max_rows = 1000000
file_target_mb = 128
max_open_partitions = 4
sync = false
)");
  EXPECT_EQ(c.lake.root, "/data/lake");
  EXPECT_EQ(c.lake.parquet.compression, parquet::Compression::kSnappy);
  EXPECT_EQ(c.lake.parquet.zstd_level, 9);
  EXPECT_EQ(c.lake.row_group_rows, 10000u);
  EXPECT_EQ(c.lake.file_max_rows, 1000000u);
  EXPECT_EQ(c.lake.file_target_bytes, 128u << 20);
  EXPECT_EQ(c.lake.max_open_partitions, 4u);
  EXPECT_FALSE(c.lake.sync);
  EXPECT_EQ(c.lake.table, "flows");  // no key: untouched
}

// 0 (the default) is a quarter of the process's memory limit; the budget is
// split evenly between rollups and detectors.
TEST(ConfigTest, AnalysisMemoryBudgetDefaultsToAQuarterOfTheLimit) {
  RunConfig c = MustParse("[service]\nmemory_limit_mb = 2048\n");
  EXPECT_EQ(c.analysis.max_memory_mb, 0u);
  EXPECT_EQ(AnalysisMemoryBytes(c), uint64_t{512} << 20);
  EXPECT_EQ(AnalysisMemoryBytes(RunConfig{}), uint64_t{256} << 20);
  AnalysisConfig a;
  a.SetMemoryBudget(1001);
  EXPECT_EQ(a.rollups.max_state_bytes, 500u);
  EXPECT_EQ(a.detect.max_state_bytes, 501u);
}

TEST(ConfigTest, ParsesDecode) {
  RunConfig c = MustParse("[decode]\nmax_record_mb = 2\nlog_per_second = 0.5\nlog_burst = 3\n");
  EXPECT_EQ(c.decoder.max_record_bytes, size_t{2} << 20);
  EXPECT_EQ(c.decoder.log_per_second, 0.5);
  EXPECT_EQ(c.decoder.log_burst, 3.0);  // a TOML integer is accepted for a number
}

TEST(ConfigTest, ParsesServiceAndCommitIntervalSetsFileAge) {
  RunConfig c = MustParse(R"(
[service]
threads = 4
memory_limit_mb = 2048
commit_interval_s = 15
log_format = "json"
progress = false
)");
  EXPECT_EQ(c.service.threads, 4u);
  EXPECT_EQ(c.service.memory_limit_mb, 2048u);
  EXPECT_EQ(c.service.commit_interval_s, 15);
  EXPECT_EQ(c.service.log_format, "json");
  EXPECT_FALSE(c.service.progress);
  EXPECT_EQ(c.lake.max_file_age_ms, 15'000);
}

struct ErrorCase {
  const char* name;
  const char* toml;
  const char* message;  // expected substring of the error
};

class ConfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrorTest, FailsNamingTheKey) {
  Result<RunConfig> r = ParseRunConfig(GetParam().toml, "flowlake.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(GetParam().message), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().rfind("config: ", 0), 0u) << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ConfigErrorTest,
    ::testing::Values(
        // Unknown keys and tables, reported with position and a guess.
        ErrorCase{"UnknownKey", "[lake]\npath = \"/x\"\ncompresion = \"zstd\"\n",
                  "config: unknown key 'lake.compresion' in flowlake.toml:3:1 "
                  "(did you mean 'lake.compression'?)"},
        ErrorCase{"UnknownTable", "[kafak]\nbrokers = \"x:1\"\n",
                  "config: unknown table 'kafak' in flowlake.toml:1:2 (did you mean 'kafka'?)"},
        ErrorCase{"UnknownSubTable", "[lake.parquet]\npage_bytes = 1\n",
                  "config: unknown table 'lake.parquet' in flowlake.toml:1:"},
        ErrorCase{"UnknownTopLevelKey", "threads = 4\n", "config: unknown key 'threads'"},
        ErrorCase{"FirstUnknownInFileOrder", "[service]\nzzz = 1\naaa = 2\n",
                  "unknown key 'service.zzz' in flowlake.toml:2:1"},
        // Wrong types.
        ErrorCase{"StringForInteger", "[lake]\nzstd_level = \"3\"\n",
                  "config: lake.zstd_level must be an integer, got a string in "
                  "flowlake.toml:2:14"},
        ErrorCase{"FloatForInteger", "[service]\nthreads = 2.0\n",
                  "service.threads must be an integer, got a float"},
        ErrorCase{"IntegerForString", "[kafka]\nbrokers = 9092\n",
                  "kafka.brokers must be a string, got an integer"},
        ErrorCase{"StringForBoolean", "[lake]\nsync = \"no\"\n",
                  "lake.sync must be a boolean (true or false), got a string"},
        ErrorCase{"StringForNumber", "[decode]\nlog_burst = \"10\"\n",
                  "decode.log_burst must be a number, got a string"},
        ErrorCase{"TopicsAsString", "[kafka]\ntopics = \"netflows\"\n",
                  "kafka.topics must be an array of strings, got a string"},
        ErrorCase{"TopicNotString", "[kafka]\ntopics = [\"a\", 2]\n",
                  "kafka.topics[1] must be a string, got an integer"},
        ErrorCase{"SectionNotTable", "lake = \"/data\"\n", "config: lake must be a table"},
        ErrorCase{"ConsumerNotTable", "[kafka]\nconsumer = \"x\"\n",
                  "kafka.consumer must be a table, got a string"},
        ErrorCase{"ConsumerArray", "[kafka.consumer]\n\"client.id\" = [\"a\"]\n",
                  "kafka.consumer.client.id must be a string, integer or boolean, got an array"},
        ErrorCase{"ConsumerFloat", "[kafka.consumer]\nx = 1.5\n",
                  "kafka.consumer.x must be a string, integer or boolean, got a float"},
        // Values out of range.
        ErrorCase{"ZstdLevel", "[lake]\nzstd_level = 40\n",
                  "config: lake.zstd_level must be 1-22, got 40 in flowlake.toml:2:14"},
        ErrorCase{"NegativeThreads", "[service]\nthreads = -1\n",
                  "service.threads must be 0-1024, got -1"},
        ErrorCase{"MemoryLimit", "[service]\nmemory_limit_mb = 8\n",
                  "service.memory_limit_mb must be 256-1048576, got 8"},
        ErrorCase{"AnalysisMemoryOverHalf",
                  "[service]\nmemory_limit_mb = 512\n[analysis]\nmax_memory_mb = 257\n",
                  "analysis.max_memory_mb must be at most (service.memory_limit_mb - 128) / 2 = 192, "
                  "got 257"},
        ErrorCase{"CommitInterval", "[service]\ncommit_interval_s = 0\n",
                  "service.commit_interval_s must be 1-86400, got 0"},
        ErrorCase{"FileTarget", "[lake]\nfile_target_mb = 0\n",
                  "lake.file_target_mb must be 1-65536, got 0"},
        ErrorCase{"RecordSize", "[decode]\nmax_record_mb = 4096\n",
                  "decode.max_record_mb must be 1-4095, got 4096"},
        ErrorCase{"LogRate", "[decode]\nlog_per_second = -0.5\n",
                  "decode.log_per_second must be 0-1000000, got -0.5"},
        ErrorCase{"LogRateNan", "[decode]\nlog_burst = nan\n",
                  "decode.log_burst must be 0-1000000, got nan"},
        ErrorCase{"OffsetReset", "[kafka]\nauto_offset_reset = \"smallest\"\n",
                  "kafka.auto_offset_reset must be earliest or latest, got 'smallest'"},
        ErrorCase{"LogFormat", "[service]\nlog_format = \"xml\"\n",
                  "service.log_format must be auto, text or json, got 'xml'"},
        ErrorCase{"Compression", "[lake]\ncompression = \"lz4\"\n",
                  "lake.compression is invalid: unknown parquet compression 'lz4'"},
        ErrorCase{"EmptyPath", "[lake]\npath = \"\"\n", "lake.path must not be empty"},
        ErrorCase{"EmptyBrokers", "[kafka]\nbrokers = \"\"\n", "kafka.brokers must not be empty"},
        ErrorCase{"SuspiciousPortRange", "[detect]\nsuspicious_ports = [23, 70000]\n",
                  "config: detect.suspicious_ports[1] must be 1-65535, got 70000 in "
                  "flowlake.toml:2:"},
        ErrorCase{"SuspiciousPortType", "[detect]\nsuspicious_ports = [\"rdp\"]\n",
                  "detect.suspicious_ports[0] must be an integer, got a string"},
        ErrorCase{"LocalNetworkCidr", "[detect]\nlocal_networks = [\"10.0.0.0/33\"]\n",
                  "local_networks"},
        ErrorCase{"LatePolicy", "[analysis]\nlate_policy = \"keep\"\n",
                  "analysis.late_policy must be drop or correction, got 'keep'"},
        ErrorCase{"Lateness", "[analysis]\nlateness_s = -1\n",
                  "analysis.lateness_s must be 0-86400, got -1"},
        ErrorCase{"EntropyBits", "[detect]\ndns_entropy_bits = 9.5\n",
                  "detect.dns_entropy_bits must be 0-8, got 9.5"},
        ErrorCase{"EventsTopic", "[kafka]\nevents_topic = \"bad topic\"\n",
                  "kafka.events_topic must be a topic name"},
        ErrorCase{"NoTopics", "[kafka]\ntopics = []\n",
                  "kafka.topics must list at least one topic"},
        ErrorCase{"BadTopic", "[kafka]\ntopics = [\"ok\", \"net flows\"]\n",
                  "kafka.topics[1] must be a topic name"},
        ErrorCase{"ConsumerGroupId", "[kafka.consumer]\n\"group.id\" = \"g\"\n",
                  "kafka.consumer.group.id is not allowed here: set kafka.group instead"},
        ErrorCase{"ConsumerBootstrap", "[kafka.consumer]\nbootstrap.servers = \"b:1\"\n",
                  "kafka.consumer.bootstrap.servers is not allowed here: set kafka.brokers"},
        ErrorCase{"ConsumerTwice", "[kafka.consumer]\n\"a.b\" = 1\na.b = 2\n",
                  "kafka.consumer.a.b is set twice"},
        // TOML syntax.
        ErrorCase{"Syntax", "[lake]\npath = = 2\n", "config: syntax error in flowlake.toml:2:"},
        ErrorCase{"DuplicateKey", "[lake]\nsync = true\nsync = false\n",
                  "config: syntax error in flowlake.toml:3:"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(ConfigTest, ValidateChecksFieldsSetInCode) {
  RunConfig c;
  c.lake.parquet.zstd_level = 40;
  EXPECT_EQ(c.Validate().message(), "config: lake.zstd_level must be 1-22, got 40");

  c = RunConfig{};
  c.lake.file_target_bytes = 512ULL << 30;
  EXPECT_EQ(c.Validate().message(), "config: lake.file_target_mb must be 1-65536, got 524288");

  c = RunConfig{};
  c.kafka.consumer["group.id"] = "g";
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);

  c = RunConfig{};
  c.service.commit_interval_s = 10;  // without lake.max_file_age_ms
  EXPECT_EQ(c.Validate().message(),
            "config: lake.max_file_age_ms must be service.commit_interval_s * 1000 = 10000, "
            "got 60000");
}

class LoadConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "config_test";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  fs::path dir_;
};

TEST_F(LoadConfigTest, ReadsFile) {
  std::string path = (dir_ / "flowlake.toml").string();
  std::ofstream(path) << "[service]\nthreads = 3\n";
  Result<RunConfig> r = LoadRunConfig(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->service.threads, 3u);
}

TEST_F(LoadConfigTest, ErrorsNameTheFile) {
  std::string path = (dir_ / "bad.toml").string();
  std::ofstream(path) << "[service]\nthread = 3\n";
  Result<RunConfig> r = LoadRunConfig(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown key 'service.thread' in " + path + ":2:1"),
            std::string::npos)
      << r.status().message();
}

TEST_F(LoadConfigTest, MissingFile) {
  std::string path = (dir_ / "missing.toml").string();
  Result<RunConfig> r = LoadRunConfig(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "config: cannot read " + path + ": No such file or directory");
}

TEST_F(LoadConfigTest, DirectoryIsAnIoError) {
  Result<RunConfig> r = LoadRunConfig(dir_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find(dir_.string()), std::string::npos);
}

}  // namespace
}  // namespace flowlake
