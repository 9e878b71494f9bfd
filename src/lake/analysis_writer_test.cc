#include "lake/analysis_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace flowlake {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDec1 = 1764547200000;  // 2025-12-01T00:00:00Z
constexpr int64_t kHourMs = 3600000;
constexpr int64_t kMinuteMs = 60000;

std::string EmptyLake(const std::string& name) {
  fs::path p = fs::path(::testing::TempDir()) / ("analysis_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

AnalysisWriterConfig Config(const std::string& root) {
  AnalysisWriterConfig c;
  c.root = root;
  c.sync = false;
  return c;
}

HostRollupRecord Rollup(int64_t window_start_ms, std::string host) {
  HostRollupRecord r;
  r.window_start_ms = window_start_ms;
  r.window_end_ms = window_start_ms + kMinuteMs;
  r.host = std::move(host);
  r.flows_as_src = 3;
  r.bytes_sent = 1500;
  r.top_l7 = {{"TLS", 1000}, {"DNS", 500}};
  r.avg_duration_ms = 12.5;
  r.probes = {"p1"};
  r.peers_contacted = 1;
  r.peers_contacted_sketch = std::string("\x01\x01\x0c", 3) + std::string(8, '\x07');
  r.peers_contacting_sketch = std::string("\x01\x01\x0c", 3);  // an empty exact counter
  r.dst_ports_contacted_sketch = std::string("\x01\x01\x0c", 3);
  return r;
}

// Regular files under root/dir, relative to root, sorted.
std::vector<std::string> FilesUnder(const std::string& root, const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(root + "/" + dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root + "/" + dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(AnalysisWriterTest, PartitionsByWindowStartAcrossHoursAndDays) {
  const std::string root = EmptyLake("partitions");
  AnalysisWriter w(Config(root), "a-run1");
  const int64_t last_minute = kDec1 + 24 * kHourMs - kMinuteMs;  // 2025-12-01T23:59
  const std::vector<HostRollupRecord> records = {
      Rollup(kDec1, "10.0.0.1"), Rollup(kDec1 + 59 * kMinuteMs, "10.0.0.2"),
      Rollup(last_minute, "10.0.0.1"), Rollup(last_minute + kMinuteMs, "10.0.0.1"),
      Rollup(kDec1 + 25 * kHourMs + 30 * kMinuteMs, "::1")};
  ASSERT_TRUE(w.AddRollups(records).ok());
  ASSERT_TRUE(w.AddEvent(kDec1 + 5 * kMinuteMs, R"({"kind":"scan","n":1})").ok());
  ASSERT_TRUE(w.AddEvent(last_minute + kMinuteMs, R"({"kind":"scan","n":2})").ok());
  ASSERT_TRUE(w.AddEvent(kDec1 + 7 * kMinuteMs, R"({"kind":"flood","n":3})").ok());
  EXPECT_GT(w.buffered_bytes(), 0u);
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(w.buffered_bytes(), 0u);

  // Hour buckets in order: 12-01 h0, 12-01 h23, 12-02 h0, 12-02 h1. A rollup
  // pair shares its sequence number; events take the next one.
  EXPECT_EQ(FilesUnder(root, "rollups/host_1m"),
            (std::vector<std::string>{
                "rollups/host_1m/date=2025-12-01/hour=0/a-run1-000001.json",
                "rollups/host_1m/date=2025-12-01/hour=23/a-run1-000003.json",
                "rollups/host_1m/date=2025-12-02/hour=0/a-run1-000004.json",
                "rollups/host_1m/date=2025-12-02/hour=1/a-run1-000006.json",
            }));
  EXPECT_EQ(FilesUnder(root, "rollups/host_1m_parquet"),
            (std::vector<std::string>{
                "rollups/host_1m_parquet/date=2025-12-01/hour=0/a-run1-000001.parquet",
                "rollups/host_1m_parquet/date=2025-12-01/hour=23/a-run1-000003.parquet",
                "rollups/host_1m_parquet/date=2025-12-02/hour=0/a-run1-000004.parquet",
                "rollups/host_1m_parquet/date=2025-12-02/hour=1/a-run1-000006.parquet",
            }));
  EXPECT_EQ(FilesUnder(root, "events"),
            (std::vector<std::string>{"events/date=2025-12-01/hour=0/a-run1-000002.json",
                                      "events/date=2025-12-02/hour=0/a-run1-000005.json"}));

  // NDJSON: ToNdjson() lines in the order given; events byte for byte.
  EXPECT_EQ(Slurp(root + "/rollups/host_1m/date=2025-12-01/hour=0/a-run1-000001.json"),
            ToNdjson(records[0]) + "\n" + ToNdjson(records[1]) + "\n");
  EXPECT_EQ(Slurp(root + "/events/date=2025-12-01/hour=0/a-run1-000002.json"),
            "{\"kind\":\"scan\",\"n\":1}\n{\"kind\":\"flood\",\"n\":3}\n");
  const std::string parquet =
      Slurp(root + "/rollups/host_1m_parquet/date=2025-12-01/hour=0/a-run1-000001.parquet");
  ASSERT_GT(parquet.size(), 8u);
  EXPECT_EQ(parquet.substr(0, 4), "PAR1");
  EXPECT_EQ(parquet.substr(parquet.size() - 4), "PAR1");

  // Direct mode leaves nothing behind in _tmp.
  EXPECT_TRUE(FilesUnder(root, "_tmp").empty());
  EXPECT_EQ(w.stats().rollup_records, 5u);
  EXPECT_EQ(w.stats().events, 3u);
  EXPECT_EQ(w.stats().files, 10u);
  uint64_t bytes = 0;
  for (const char* dir : {"rollups", "events"}) {
    for (const std::string& f : FilesUnder(root, dir)) bytes += fs::file_size(root + "/" + f);
  }
  EXPECT_EQ(w.stats().bytes, bytes);
  EXPECT_TRUE(w.TakeStaged().empty());  // direct mode stages nothing
}

TEST(AnalysisWriterTest, EmptyFlushWritesNothing) {
  const std::string root = EmptyLake("empty");
  AnalysisWriter w(Config(root), "a");
  ASSERT_TRUE(w.Flush().ok());
  ASSERT_TRUE(w.AddRollups({}).ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_TRUE(fs::is_empty(root));
  EXPECT_EQ(w.stats().files, 0u);
}

TEST(AnalysisWriterTest, SecondFlushWritesNewFilesOnly) {
  const std::string root = EmptyLake("twice");
  AnalysisWriter w(Config(root), "a");
  ASSERT_TRUE(w.AddRollups({Rollup(kDec1, "h1")}).ok());
  ASSERT_TRUE(w.Flush().ok());
  ASSERT_TRUE(w.Flush().ok());  // nothing new
  ASSERT_TRUE(w.AddRollups({Rollup(kDec1, "h2")}).ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(FilesUnder(root, "rollups/host_1m"),
            (std::vector<std::string>{"rollups/host_1m/date=2025-12-01/hour=0/a-000001.json",
                                      "rollups/host_1m/date=2025-12-01/hour=0/a-000002.json"}));
}

// Flushed buffers are reused (emptied) for later partitions: a file holds
// only the records and events added since the last flush, whichever hour
// its buffer served before.
TEST(AnalysisWriterTest, ReusedBuffersHoldOnlyRecordsSinceTheLastFlush) {
  const std::string root = EmptyLake("reuse");
  AnalysisWriterConfig c = Config(root);
  c.parquet.compression = parquet::Compression::kNone;  // file sizes follow the rows
  AnalysisWriter w(c, "a");
  const HostRollupRecord h0a = Rollup(kDec1, "10.0.0.1");
  const HostRollupRecord h1a = Rollup(kDec1 + kHourMs, "10.0.0.2");
  ASSERT_TRUE(w.AddRollups({h0a, h1a}).ok());
  ASSERT_TRUE(w.AddEvent(kDec1, R"({"n":1})").ok());
  ASSERT_TRUE(w.Flush().ok());  // files 1 (rollups h0), 2 (events h0), 3 (rollups h1)

  // Hour 2 and hour 0 again: both take a spare buffer.
  const HostRollupRecord h2 = Rollup(kDec1 + 2 * kHourMs, "10.0.0.3");
  const HostRollupRecord h0b = Rollup(kDec1 + kMinuteMs, "10.0.0.4");
  ASSERT_TRUE(w.AddRollups({h2, h0b}).ok());
  ASSERT_TRUE(w.AddEvent(kDec1 + 2 * kHourMs, R"({"n":2})").ok());
  ASSERT_TRUE(w.Flush().ok());  // files 4 (rollups h0), 5 (rollups h2), 6 (events h2)

  const std::string dir = root + "/rollups/host_1m/date=2025-12-01/";
  EXPECT_EQ(Slurp(dir + "hour=0/a-000001.json"), ToNdjson(h0a) + "\n");
  EXPECT_EQ(Slurp(dir + "hour=1/a-000003.json"), ToNdjson(h1a) + "\n");
  EXPECT_EQ(Slurp(dir + "hour=0/a-000004.json"), ToNdjson(h0b) + "\n");
  EXPECT_EQ(Slurp(dir + "hour=2/a-000005.json"), ToNdjson(h2) + "\n");
  EXPECT_EQ(Slurp(root + "/events/date=2025-12-01/hour=0/a-000002.json"), "{\"n\":1}\n");
  EXPECT_EQ(Slurp(root + "/events/date=2025-12-01/hour=2/a-000006.json"), "{\"n\":2}\n");
  EXPECT_EQ(FilesUnder(root, "events").size(), 2u);  // no empty event file for hour 0
  EXPECT_EQ(FilesUnder(root, "rollups/host_1m_parquet").size(), 4u);
  // The Parquet twins hold one row each: uncompressed, they are as large as
  // the first flush's files, which held one row each of the same widths (a
  // leftover row would add its values).
  const std::string pdir = root + "/rollups/host_1m_parquet/date=2025-12-01/";
  EXPECT_EQ(fs::file_size(pdir + "hour=0/a-000004.parquet"),
            fs::file_size(pdir + "hour=0/a-000001.parquet"));
  EXPECT_EQ(fs::file_size(pdir + "hour=2/a-000005.parquet"),
            fs::file_size(pdir + "hour=1/a-000003.parquet"));
}

TEST(AnalysisWriterTest, StagedModeListsFilesAndPublishesNothing) {
  const std::string root = EmptyLake("staged");
  AnalysisWriterConfig c = Config(root);
  c.staging_dir = "_flowlake/staging/run1";
  AnalysisWriter w(c, "analysis-run1");
  ASSERT_TRUE(w.AddRollups({Rollup(kDec1 + 2 * kHourMs, "10.0.0.9")}).ok());
  ASSERT_TRUE(w.AddEvent(kDec1 + 2 * kHourMs, R"({"e":1})").ok());
  ASSERT_TRUE(w.Flush().ok());

  EXPECT_TRUE(FilesUnder(root, "rollups").empty());
  EXPECT_TRUE(FilesUnder(root, "events").empty());
  const std::vector<StagedFile> staged = w.TakeStaged();
  ASSERT_EQ(staged.size(), 3u);
  const std::string partition = "date=2025-12-01/hour=2/";
  EXPECT_EQ(staged[0].final_path, "rollups/host_1m/" + partition + "analysis-run1-000001.json");
  EXPECT_EQ(staged[1].final_path,
            "rollups/host_1m_parquet/" + partition + "analysis-run1-000001.parquet");
  EXPECT_EQ(staged[2].final_path, "events/" + partition + "analysis-run1-000002.json");
  for (const StagedFile& f : staged) {
    EXPECT_EQ(f.rows, 1u) << f.final_path;
    const std::string name = f.final_path.substr(f.final_path.rfind('/') + 1);
    EXPECT_EQ(f.staging_path, "_flowlake/staging/run1/" + name);
    ASSERT_TRUE(fs::exists(root + "/" + f.staging_path)) << f.staging_path;
    EXPECT_EQ(fs::file_size(root + "/" + f.staging_path), f.bytes);
  }
  EXPECT_TRUE(w.TakeStaged().empty());
}

TEST(AnalysisWriterTest, DiscardAllDeletesStagedFilesAndDropsBuffers) {
  const std::string root = EmptyLake("discard");
  AnalysisWriterConfig c = Config(root);
  c.staging_dir = "_flowlake/staging/run2";
  AnalysisWriter w(c, "a");
  ASSERT_TRUE(w.AddRollups({Rollup(kDec1, "h")}).ok());
  ASSERT_TRUE(w.Flush().ok());
  ASSERT_TRUE(w.AddEvent(kDec1, "{}").ok());  // still buffered
  EXPECT_EQ(FilesUnder(root, "_flowlake").size(), 2u);

  w.DiscardAll();
  EXPECT_TRUE(FilesUnder(root, "_flowlake").empty());
  EXPECT_EQ(w.buffered_bytes(), 0u);
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_TRUE(w.TakeStaged().empty());
  EXPECT_TRUE(FilesUnder(root, "_flowlake").empty());
}

TEST(AnalysisWriterTest, FlushesEarlyPastTheBufferLimit) {
  const std::string root = EmptyLake("early");
  AnalysisWriterConfig c = Config(root);
  c.max_buffered_bytes = 4096;
  AnalysisWriter w(c, "a");
  const std::string event = R"({"kind":"scan","padding":")" + std::string(200, 'x') + "\"}";
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(w.AddEvent(kDec1, event).ok());
    EXPECT_LE(w.buffered_bytes(), c.max_buffered_bytes);
  }
  EXPECT_GT(w.stats().early_flushes, 0u);
  ASSERT_TRUE(w.Flush().ok());
  // Every event is in exactly one file, in order.
  std::string all;
  const std::vector<std::string> files = FilesUnder(root, "events");
  EXPECT_GT(files.size(), 1u);
  for (const std::string& f : files) all += Slurp(root + "/" + f);
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += event + "\n";
  EXPECT_EQ(all, expected);
  EXPECT_EQ(w.stats().early_flushes + 1, files.size());
}

TEST(AnalysisWriterTest, RejectsEventsThatAreNotOneLine) {
  const std::string root = EmptyLake("badevent");
  AnalysisWriter w(Config(root), "a");
  const Status multi = w.AddEvent(kDec1, "{\"a\":\n1}");
  EXPECT_EQ(multi.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(multi.message().find("line break"), std::string::npos) << multi.message();
  EXPECT_EQ(w.AddEvent(kDec1, "").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.buffered_bytes(), 0u);
  ASSERT_TRUE(w.AddEvent(kDec1, "{}").ok());  // not sticky: nothing was written
}

TEST(AnalysisWriterTest, IoErrorsAreStickyUntilDiscardAll) {
  const std::string root = EmptyLake("ioerror");
  std::ofstream(root + "/_tmp") << "a file where the work directory should be";
  AnalysisWriter w(Config(root), "a");
  ASSERT_TRUE(w.AddEvent(kDec1, "{}").ok());
  EXPECT_FALSE(w.Flush().ok());
  EXPECT_FALSE(w.AddEvent(kDec1, "{}").ok());
  fs::remove(root + "/_tmp");
  w.DiscardAll();
  ASSERT_TRUE(w.AddEvent(kDec1, "{}").ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(FilesUnder(root, "events").size(), 1u);
}

TEST(AnalysisWriterConfigTest, RejectsBadValues) {
  AnalysisWriterConfig c = Config("/tmp/x");
  EXPECT_TRUE(c.Validate().ok());
  c.staging_dir = "../escape";
  EXPECT_FALSE(c.Validate().ok());
  c.staging_dir = "/abs";
  EXPECT_FALSE(c.Validate().ok());
  c.staging_dir = "";
  c.max_buffered_bytes = 100;
  EXPECT_FALSE(c.Validate().ok());
  EXPECT_FALSE(AnalysisWriterConfig{}.Validate().ok());  // no root
}

TEST(AnalysisWriterTest, RollupSchemaNamesMatchTheNdjsonKeys) {
  // Column names, in order, are the NDJSON keys of ToNdjson() (of a
  // correction record: others have no "correction" key).
  HostRollupRecord r = Rollup(kDec1, "h");
  r.correction = true;
  const std::string json = ToNdjson(r);
  size_t pos = 0;
  for (const Field& f : AnalysisWriter::RollupSchema().fields()) {
    const std::string key = "\"" + std::string(f.name) + "\":";
    const size_t at = json.find(key, pos);
    ASSERT_NE(at, std::string::npos) << f.name;
    pos = at + key.size();
  }
  EXPECT_EQ(AnalysisWriter::RollupSchema().size(), 20u);
}

}  // namespace
}  // namespace flowlake
