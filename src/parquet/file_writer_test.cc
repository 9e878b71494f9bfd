// FileWriter contract tests over an in-memory WritableFile with fault
// injection. Content correctness is checked by an independent reader
// (DuckDB) in test/parquet_duckdb.test.mjs.
#include "parquet/file_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/flow_schema.h"

namespace flowlake::parquet {
namespace {

struct FileLog {
  std::string bytes;
  int appends = 0;
  int syncs = 0;
  bool closed = false;
};

class MemoryFile final : public WritableFile {
 public:
  // Fails the append numbered `fail_append` (1-based; 0 = never).
  MemoryFile(FileLog* log, int fail_append = 0, bool fail_sync = false)
      : log_(log), fail_append_(fail_append), fail_sync_(fail_sync) {}
  Status Append(std::string_view data) override {
    if (++log_->appends == fail_append_) return Status::IoError("write /mem: disk full");
    log_->bytes.append(data);
    return Status::Ok();
  }
  Status Sync() override {
    ++log_->syncs;
    return fail_sync_ ? Status::IoError("fdatasync /mem: EIO") : Status::Ok();
  }
  Status Close() override {
    log_->closed = true;
    return Status::Ok();
  }
  uint64_t Size() const override { return log_->bytes.size(); }

 private:
  FileLog* log_;
  int fail_append_;
  bool fail_sync_;
};

const Schema& TwoColumns() {
  static const Schema schema({{"name", ColumnType::kString}, {"n", ColumnType::kInt64}});
  return schema;
}

std::unique_ptr<FileWriter> MakeWriter(FileLog* log, WriterOptions options = {},
                                       int fail_append = 0, bool fail_sync = false) {
  auto w = FileWriter::Create(std::make_unique<MemoryFile>(log, fail_append, fail_sync),
                              TwoColumns(), std::move(options));
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return std::move(w).value();
}

void FillBatch(ColumnBatch* b, int rows) {
  for (int i = 0; i < rows; ++i) {
    b->column(0).AppendString(i % 3 ? "x" : "y");
    b->column(1).AppendInt64(i);
  }
}

uint32_t FooterLength(const std::string& f) {
  uint32_t n;
  std::memcpy(&n, f.data() + f.size() - 8, 4);
  return n;
}

TEST(FileWriter, EmptyFileFraming) {
  FileLog log;
  auto w = MakeWriter(&log);
  EXPECT_EQ(log.bytes.size(), 0u) << "Create writes nothing";
  auto summary = w->Finish();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  const std::string& f = log.bytes;
  EXPECT_EQ(f.substr(0, 4), "PAR1");
  EXPECT_EQ(f.substr(f.size() - 4), "PAR1");
  EXPECT_EQ(FooterLength(f) + 12, f.size());
  // FileMetaData starts with field 1 (i32, short header 0x15) = version 1 (zigzag 2).
  EXPECT_EQ(f.substr(4, 2), std::string("\x15\x02", 2));
  EXPECT_EQ(summary->rows, 0u);
  EXPECT_EQ(summary->row_groups, 0u);
  EXPECT_EQ(summary->bytes, f.size());
  EXPECT_EQ(log.syncs, 1);
  EXPECT_TRUE(log.closed);
}

TEST(FileWriter, RowGroupsAndSummary) {
  FileLog log;
  WriterOptions o;
  o.sync_on_finish = false;
  o.created_by = "unit test";
  auto w = MakeWriter(&log, o);
  ColumnBatch batch(TwoColumns());
  EXPECT_TRUE(w->WriteRowGroup(batch).ok());  // empty: no-op
  EXPECT_EQ(w->bytes_written(), 0u);
  FillBatch(&batch, 10);
  ASSERT_TRUE(w->WriteRowGroup(batch).ok());
  ASSERT_TRUE(w->WriteRowGroup(batch).ok());
  EXPECT_EQ(w->rows_written(), 20u);
  EXPECT_GT(w->bytes_written(), 4u);
  auto summary = w->Finish();
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->rows, 20u);
  EXPECT_EQ(summary->row_groups, 2u);
  EXPECT_EQ(log.syncs, 0);
  EXPECT_NE(log.bytes.find("unit test"), std::string::npos);
  EXPECT_EQ(FooterLength(log.bytes) + 12 <= log.bytes.size(), true);
}

TEST(FileWriter, FinishTwiceAndWriteAfterFinish) {
  FileLog log;
  auto w = MakeWriter(&log);
  ASSERT_TRUE(w->Finish().ok());
  EXPECT_EQ(w->Finish().status().code(), StatusCode::kInvalidArgument);
  ColumnBatch batch(TwoColumns());
  FillBatch(&batch, 1);
  EXPECT_EQ(w->WriteRowGroup(batch).code(), StatusCode::kInvalidArgument);
}

TEST(FileWriter, RejectsBatchOfAnotherSchema) {
  FileLog log;
  auto w = MakeWriter(&log);
  const Schema lookalike({{"name", ColumnType::kString}, {"n", ColumnType::kInt64}});
  ColumnBatch other(lookalike);
  FillBatch(&other, 3);
  EXPECT_EQ(w->WriteRowGroup(other).code(), StatusCode::kInvalidArgument);
  ColumnBatch good(TwoColumns());
  FillBatch(&good, 3);
  EXPECT_TRUE(w->WriteRowGroup(good).ok()) << "a rejected batch leaves the writer usable";
}

TEST(FileWriter, RejectsColumnsOfUnequalLength) {
  FileLog log;
  auto w = MakeWriter(&log);
  ColumnBatch batch(TwoColumns());
  FillBatch(&batch, 3);
  batch.column(1).AppendInt64(99);
  const Status st = w->WriteRowGroup(batch);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("column 'n' has 4 rows, expected 3"), std::string::npos)
      << st.message();
}

TEST(FileWriter, IoErrorMakesTheWriterUnusable) {
  FileLog log;
  auto w = MakeWriter(&log, {}, /*fail_append=*/3);
  ColumnBatch batch(TwoColumns());
  FillBatch(&batch, 5);
  const Status st = w->WriteRowGroup(batch);
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_NE(st.message().find("disk full"), std::string::npos);
  const Status again = w->WriteRowGroup(batch);
  EXPECT_EQ(again.code(), StatusCode::kIoError);
  EXPECT_NE(again.message().find("failed earlier: write /mem: disk full"), std::string::npos)
      << again.message();
  EXPECT_EQ(w->Finish().status().code(), StatusCode::kIoError);
}

TEST(FileWriter, SyncErrorIsReportedAndTheFileStillClosed) {
  FileLog log;
  auto w = MakeWriter(&log, {}, 0, /*fail_sync=*/true);
  const auto r = w->Finish();
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_TRUE(log.closed);
}

TEST(FileWriter, CreateValidates) {
  FileLog log;
  WriterOptions bad;
  bad.zstd_level = 99;
  EXPECT_EQ(
      FileWriter::Create(std::make_unique<MemoryFile>(&log), TwoColumns(), bad).status().code(),
      StatusCode::kInvalidArgument);
  const Schema empty({});
  EXPECT_FALSE(FileWriter::Create(std::make_unique<MemoryFile>(&log), empty, {}).ok());
  const Schema dup({{"a", ColumnType::kInt32}, {"a", ColumnType::kInt64}});
  const auto r = FileWriter::Create(std::make_unique<MemoryFile>(&log), dup, {});
  EXPECT_NE(r.status().message().find("duplicate field name 'a'"), std::string::npos);
  EXPECT_FALSE(FileWriter::Create(nullptr, TwoColumns(), {}).ok());
  EXPECT_EQ(log.appends, 0);
}

TEST(FileWriter, FlowSchemaAllNullAndAllValidColumns) {
  FileLog log;
  auto w = FileWriter::Create(std::make_unique<MemoryFile>(&log), FlowSchema(), {});
  ASSERT_TRUE(w.ok());
  FlowBatch batch;
  for (int i = 0; i < 100; ++i) {
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      Column& col = batch.column(c);
      if (c % 2) {
        col.AppendNull();
        continue;
      }
      switch (col.type()) {
        case ColumnType::kString:
          col.AppendString("s");
          break;
        case ColumnType::kInt32:
          col.AppendInt32(i);
          break;
        case ColumnType::kInt64:
        case ColumnType::kTimestampMs:
          col.AppendInt64(i);
          break;
        case ColumnType::kDouble:
          col.AppendDouble(i);
          break;
        case ColumnType::kBool:
          col.AppendBool(i % 2 == 0);
          break;
      }
    }
  }
  ASSERT_TRUE((*w)->WriteRowGroup(batch).ok());
  ASSERT_TRUE((*w)->Finish().ok());
}

// Regression: a string column whose values are all "" (alone or with nulls)
// passed a null pointer to memcmp/memcpy, in both the dictionary and the
// PLAIN path (UBSan in the debug build).
TEST(FileWriter, OnlyEmptyStringsWithAndWithoutNulls) {
  for (const bool dictionary : {true, false}) {
    for (const bool with_nulls : {false, true}) {
      SCOPED_TRACE(testing::Message() << "dictionary=" << dictionary
                                      << " with_nulls=" << with_nulls);
      FileLog log;
      WriterOptions options;
      options.dictionary = dictionary;
      auto w = MakeWriter(&log, options);
      ColumnBatch batch(TwoColumns());
      for (int i = 0; i < 10; ++i) {
        if (with_nulls && i % 3 == 0) {
          batch.column(0).AppendNull();
        } else {
          batch.column(0).AppendString("");
        }
        batch.column(1).AppendInt64(i);
      }
      ASSERT_TRUE(w->WriteRowGroup(batch).ok());
      ASSERT_TRUE(w->Finish().ok());
      EXPECT_EQ(log.bytes.substr(0, 4), "PAR1");
      EXPECT_EQ(log.bytes.substr(log.bytes.size() - 4), "PAR1");
    }
  }
}

}  // namespace
}  // namespace flowlake::parquet
