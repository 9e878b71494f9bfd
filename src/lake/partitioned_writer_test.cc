#include "lake/partitioned_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "lake/partition.h"

namespace flowlake {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDec1 = 1764547200000;  // 2025-12-01T00:00:00Z

std::string FreshDir(const std::string& name) {
  fs::path p = fs::path(::testing::TempDir()) / ("lake_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// Appends a minimal valid flow starting at `start_ms`.
void AddFlow(FlowBatch& b, int64_t start_ms, int32_t port) {
  for (size_t c = 0; c < b.num_columns(); ++c) {
    Column& col = b.column(c);
    switch (c) {
      case kSrcIp: col.AppendString("10.0.0.1"); break;
      case kDstIp: col.AppendString("10.0.0.2"); break;
      case kStartTime: col.AppendInt64(start_ms); break;
      case kDstPort: col.AppendInt32(port); break;
      default: col.AppendNull();
    }
  }
}

std::vector<fs::path> ParquetFiles(const std::string& root) {
  std::vector<fs::path> out;
  if (!fs::exists(root + "/flows")) return out;
  for (const auto& e : fs::recursive_directory_iterator(root + "/flows")) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool TmpIsEmpty(const std::string& root) {
  return !fs::exists(root + "/_tmp") || fs::is_empty(root + "/_tmp");
}

LakeWriterConfig Config(const std::string& root) {
  LakeWriterConfig c;
  c.root = root;
  c.sync = false;
  return c;
}

TEST(PartitionedWriterTest, SpreadsTenHoursIntoTenPartitions) {
  std::string root = FreshDir("ten_hours");
  LakeWriterConfig c = Config(root);
  c.max_open_partitions = 10;
  PartitionedWriter w(c, "part-test-w0");
  FlowBatch b;
  for (int i = 0; i < 1000; ++i) AddFlow(b, kDec1 + (i % 10) * kMsPerHour + i, i);
  ASSERT_TRUE(w.Write(b).ok());
  // Nothing is visible before commit.
  EXPECT_TRUE(ParquetFiles(root).empty());
  ASSERT_TRUE(w.Flush().ok());
  auto files = ParquetFiles(root);
  ASSERT_EQ(files.size(), 10u);
  std::set<std::string> dirs;
  for (const auto& f : files) dirs.insert(f.parent_path().lexically_relative(root).string());
  EXPECT_TRUE(dirs.count("flows/date=2025-12-01/hour=0"));
  EXPECT_TRUE(dirs.count("flows/date=2025-12-01/hour=9"));
  EXPECT_EQ(w.stats().rows_written, 1000u);
  EXPECT_EQ(w.stats().files, 10u);
  uint64_t rows = 0;
  for (const auto& c : w.committed()) {
    rows += c.rows;
    EXPECT_EQ(c.rows, 100u);
    EXPECT_TRUE(fs::exists(root + "/" + c.path)) << c.path;
    EXPECT_EQ(fs::file_size(root + "/" + c.path), c.bytes);
  }
  EXPECT_EQ(rows, 1000u);
  EXPECT_TRUE(TmpIsEmpty(root));
}

TEST(PartitionedWriterTest, FilesAreValidParquetWithMagicAtBothEnds) {
  std::string root = FreshDir("magic");
  PartitionedWriter w(Config(root), "p");
  FlowBatch b;
  for (int i = 0; i < 10; ++i) AddFlow(b, kDec1 + i, i);
  ASSERT_TRUE(w.Write(b).ok());
  ASSERT_TRUE(w.Flush().ok());
  auto files = ParquetFiles(root);
  ASSERT_EQ(files.size(), 1u);
  std::ifstream in(files[0], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  ASSERT_GT(bytes.size(), 12u);
  EXPECT_EQ(bytes.substr(0, 4), "PAR1");
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "PAR1");
}

TEST(PartitionedWriterTest, RowGroupsHoldExactlyTheConfiguredRows) {
  std::string root = FreshDir("row_groups");
  LakeWriterConfig c = Config(root);
  c.row_group_rows = 300;
  PartitionedWriter w(c, "p");
  FlowBatch b;
  for (int i = 0; i < 1000; ++i) AddFlow(b, kDec1 + i, i);
  ASSERT_TRUE(w.Write(b).ok());
  EXPECT_EQ(w.stats().row_groups, 3u);  // 900 rows encoded, 100 buffered
  EXPECT_EQ(w.buffered_rows(), 100u);
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(w.stats().row_groups, 4u);
  EXPECT_EQ(w.stats().rows_written, 1000u);
}

TEST(PartitionedWriterTest, FileClosesAtMaxRows) {
  std::string root = FreshDir("max_rows");
  LakeWriterConfig c = Config(root);
  c.row_group_rows = 100;
  c.file_max_rows = 250;  // closes after the row group that crosses it
  PartitionedWriter w(c, "p");
  FlowBatch b;
  for (int i = 0; i < 1000; ++i) AddFlow(b, kDec1 + i, i);
  ASSERT_TRUE(w.Write(b).ok());
  EXPECT_EQ(w.stats().files, 3u);  // 300 + 300 + 300 committed
  EXPECT_EQ(w.stats().closed_by_size, 3u);
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(w.stats().files, 4u);
  EXPECT_EQ(ParquetFiles(root).size(), 4u);
}

TEST(PartitionedWriterTest, FileClosesByAge) {
  std::string root = FreshDir("age");
  ManualClock clock(1000);
  LakeWriterConfig c = Config(root);
  c.max_file_age_ms = 60'000;
  PartitionedWriter w(c, "p", clock);
  FlowBatch b;
  AddFlow(b, kDec1, 1);
  ASSERT_TRUE(w.Write(b).ok());
  clock.AdvanceMs(59'999);
  ASSERT_TRUE(w.CloseAged().ok());
  EXPECT_TRUE(ParquetFiles(root).empty());
  clock.AdvanceMs(1);
  ASSERT_TRUE(w.CloseAged().ok());
  EXPECT_EQ(ParquetFiles(root).size(), 1u);
  EXPECT_EQ(w.stats().closed_by_age, 1u);
}

TEST(PartitionedWriterTest, LeastRecentlyWrittenPartitionIsEvicted) {
  std::string root = FreshDir("evict");
  LakeWriterConfig c = Config(root);
  c.max_open_partitions = 2;
  PartitionedWriter w(c, "p");
  for (int h : {0, 1, 0, 2}) {  // hour 1 is the least recently written when 2 arrives
    FlowBatch b;
    AddFlow(b, kDec1 + h * kMsPerHour, h);
    ASSERT_TRUE(w.Write(b).ok());
  }
  ASSERT_EQ(w.committed().size(), 1u);
  EXPECT_EQ(w.committed()[0].path.substr(0, 32), "flows/date=2025-12-01/hour=1/p-0");
  EXPECT_EQ(w.stats().closed_by_eviction, 1u);
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(ParquetFiles(root).size(), 3u);
}

TEST(PartitionedWriterTest, BufferBudgetEncodesEarlyAndKeepsFilesOpen) {
  std::string root = FreshDir("budget");
  LakeWriterConfig c = Config(root);
  c.row_group_bytes = 1 << 20;
  c.max_buffered_bytes = 256 << 10;  // far below 10 partitions x one row group
  PartitionedWriter w(c, "p");
  uint64_t peak = 0;
  for (int round = 0; round < 40; ++round) {  // interleaved hours: out-of-order input
    FlowBatch b;
    for (int i = 0; i < 500; ++i) AddFlow(b, kDec1 + (i % 10) * kMsPerHour + round, i);
    ASSERT_TRUE(w.Write(b).ok());
    peak = std::max(peak, w.buffered_bytes());
  }
  EXPECT_LE(peak, c.max_buffered_bytes);
  EXPECT_GT(w.stats().early_row_groups, 0u);
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(w.buffered_bytes(), 0u);
  // One file per hour, not one per eviction.
  EXPECT_EQ(ParquetFiles(root).size(), 10u);
  EXPECT_EQ(w.stats().rows_written, 40u * 500u);
  EXPECT_GT(w.stats().row_groups, 10u);
}

TEST(PartitionedWriterTest, UnwritableRootIsAStickyError) {
  LakeWriterConfig c = Config("/proc/flowlake-cannot-write-here");
  c.row_group_rows = 1;
  PartitionedWriter w(c, "p");
  FlowBatch b;
  AddFlow(b, kDec1, 1);
  Status st = w.Write(b);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("/proc/flowlake-cannot-write-here"), std::string::npos);
  EXPECT_FALSE(w.Flush().ok());
}

LakeWriterConfig StagedConfig(const std::string& root, const std::string& staging_dir,
                              uint64_t file_max_rows, uint64_t row_group_rows) {
  LakeWriterConfig c = Config(root);
  c.staging_dir = staging_dir;
  c.file_max_rows = file_max_rows;
  c.row_group_rows = row_group_rows;
  return c;
}

TEST(PartitionedWriterTest, StagedModeKeepsFilesInvisibleUntilTaken) {
  std::string root = FreshDir("staged");
  PartitionedWriter w(StagedConfig(root, "_flowlake/staging/w", 100, 50), "part-s");
  FlowBatch b;
  for (int i = 0; i < 250; ++i) AddFlow(b, kDec1 + (i % 2) * kMsPerHour + i, i);
  ASSERT_TRUE(w.Write(b).ok());
  // Two hours, 125 rows each, 100 per file: one full file per hour so far.
  EXPECT_EQ(w.staged_files(), 2u);
  ASSERT_TRUE(w.Flush().ok());
  std::vector<StagedFile> staged = w.TakeStaged();
  ASSERT_EQ(staged.size(), 4u);
  EXPECT_EQ(w.staged_files(), 0u);
  EXPECT_TRUE(ParquetFiles(root).empty());  // nothing published
  uint64_t rows = 0;
  for (const StagedFile& f : staged) {
    rows += f.rows;
    EXPECT_EQ(f.staging_path.rfind("_flowlake/staging/w/part-s-", 0), 0u) << f.staging_path;
    EXPECT_TRUE(fs::exists(root + "/" + f.staging_path)) << f.staging_path;
    EXPECT_EQ(fs::file_size(root + "/" + f.staging_path), f.bytes);
    const std::string name = f.staging_path.substr(f.staging_path.rfind('/') + 1);
    EXPECT_TRUE(f.final_path == "flows/date=2025-12-01/hour=0/" + name ||
                f.final_path == "flows/date=2025-12-01/hour=1/" + name)
        << f.final_path;
  }
  EXPECT_EQ(rows, 250u);
}

TEST(PartitionedWriterTest, DiscardAllDeletesOpenAndStagedFiles) {
  std::string root = FreshDir("discard");
  PartitionedWriter w(StagedConfig(root, "stage", 10, 10), "part-d");
  FlowBatch b;
  for (int i = 0; i < 15; ++i) AddFlow(b, kDec1 + i, i);
  ASSERT_TRUE(w.Write(b).ok());  // one staged file, one open with 5 buffered rows
  ASSERT_EQ(w.staged_files(), 1u);
  w.DiscardAll();
  EXPECT_EQ(w.staged_files(), 0u);
  EXPECT_EQ(w.buffered_rows(), 0u);
  EXPECT_TRUE(fs::is_empty(root + "/stage"));
  // Usable again afterwards.
  ASSERT_TRUE(w.Write(b).ok());
  ASSERT_TRUE(w.Flush().ok());
  EXPECT_EQ(w.TakeStaged().size(), 2u);
}

TEST(LakeWriterConfigTest, RejectsBadValues) {
  {
    LakeWriterConfig c = Config("/tmp/x");
    c.staging_dir = "../escape";
    EXPECT_FALSE(c.Validate().ok());
    c.staging_dir = "/abs";
    EXPECT_FALSE(c.Validate().ok());
  }
  LakeWriterConfig c;
  EXPECT_FALSE(c.Validate().ok());  // no root
  c.root = "/tmp/x";
  EXPECT_TRUE(c.Validate().ok());
  c.row_group_rows = 0;
  EXPECT_FALSE(c.Validate().ok());
  c.row_group_rows = 10;
  c.table = "../escape";
  EXPECT_FALSE(c.Validate().ok());
}

}  // namespace
}  // namespace flowlake
