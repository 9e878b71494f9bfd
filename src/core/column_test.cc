#include "core/column.h"

#include <gtest/gtest.h>

#include <iterator>
#include <string_view>
#include <vector>

#include "core/column_batch.h"
#include "core/flow_schema.h"
#include "core/status.h"

namespace flowlake {
namespace {

TEST(ColumnTest, AppendsValuesAndNulls) {
  Column c(ColumnType::kString);
  c.AppendString("a");
  c.AppendNull();
  c.AppendString("bcd");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_EQ(c.String(0), "a");
  EXPECT_FALSE(c.IsValid(1));
  EXPECT_EQ(c.String(2), "bcd");
}

// The value-or-null appends must leave a column exactly as the plain
// appends and AppendNull() would: same validity, values, null slots (0 or
// an empty reference at the arena's end) and null count.
TEST(ColumnTest, BooleansAreZeroOrOneAndCopyLikeOtherColumns) {
  Column c(ColumnType::kBool);
  c.AppendBool(true);
  c.AppendNull();
  c.AppendBool(false);
  c.AppendBool(true);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_EQ(std::vector<int32_t>(c.int32_values().begin(), c.int32_values().end()),
            (std::vector<int32_t>{1, 0, 0, 1}));
  EXPECT_EQ(ColumnTypeName(c.type()), "BOOLEAN");
  Column copy(ColumnType::kBool);
  copy.AppendRange(c, 1, 3);
  copy.AppendFrom(c, 0);
  const uint32_t rows[] = {2, 1};
  copy.AppendSelected(c, rows);
  ASSERT_EQ(copy.size(), 6u);
  EXPECT_EQ(copy.null_count(), 2u);
  const int32_t want[] = {0, 0, 1, 1, 0, 0};
  const uint8_t want_valid[] = {0, 1, 1, 1, 1, 0};
  for (size_t i = 0; i < copy.size(); ++i) {
    EXPECT_EQ(copy.validity()[i], want_valid[i]) << i;
    EXPECT_EQ(copy.Int32(i), want[i]) << i;
  }
}

TEST(ColumnTest, OrNullAppendsMatchAppendAndAppendNull) {
  auto expect_same = [](const Column& a, const Column& b) {
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(a.null_count(), b.null_count());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a.validity()[i], b.validity()[i]) << i;
      switch (a.type()) {
        case ColumnType::kString:
          EXPECT_EQ(a.string_refs()[i].offset, b.string_refs()[i].offset) << i;
          EXPECT_EQ(a.string_refs()[i].size, b.string_refs()[i].size) << i;
          EXPECT_EQ(a.String(i), b.String(i)) << i;
          break;
        case ColumnType::kBool:
        case ColumnType::kInt32: EXPECT_EQ(a.Int32(i), b.Int32(i)) << i; break;
        case ColumnType::kInt64:
        case ColumnType::kTimestampMs: EXPECT_EQ(a.Int64(i), b.Int64(i)) << i; break;
        case ColumnType::kDouble: EXPECT_EQ(a.Double(i), b.Double(i)) << i; break;
      }
    }
  };
  const bool valid[] = {true, false, true, true, false, false, true};

  Column s1(ColumnType::kString), s2(ColumnType::kString);
  const std::string_view texts[] = {"ab", "ignored", "", "cde", "x", "", "f"};
  for (size_t i = 0; i < std::size(valid); ++i) {
    if (valid[i]) s1.AppendString(texts[i]); else s1.AppendNull();
    s2.AppendStringOrNull(texts[i], valid[i]);
  }
  expect_same(s1, s2);
  EXPECT_EQ(s2.String(3), "cde");

  Column i1(ColumnType::kInt32), i2(ColumnType::kInt32);
  Column l1(ColumnType::kTimestampMs), l2(ColumnType::kTimestampMs);
  Column d1(ColumnType::kDouble), d2(ColumnType::kDouble);
  for (size_t i = 0; i < std::size(valid); ++i) {
    const auto v = static_cast<int32_t>(i) - 3;
    if (valid[i]) {
      i1.AppendInt32(v);
      l1.AppendInt64(int64_t{v} << 40);
      d1.AppendDouble(v * 0.5);
    } else {
      i1.AppendNull();
      l1.AppendNull();
      d1.AppendNull();
    }
    i2.AppendInt32OrNull(v, valid[i]);
    l2.AppendInt64OrNull(int64_t{v} << 40, valid[i]);
    d2.AppendDoubleOrNull(v * 0.5, valid[i]);
  }
  expect_same(i1, i2);
  expect_same(l1, l2);
  expect_same(d1, d2);
  EXPECT_EQ(i2.null_count(), 3u);
}

TEST(ColumnTest, AppendSelectedGathersRowsInOrder) {
  Column src(ColumnType::kInt64);
  for (int64_t i = 0; i < 10; ++i) {
    if (i % 3 == 0) src.AppendNull(); else src.AppendInt64(i * 100);
  }
  Column dst(ColumnType::kInt64);
  const uint32_t rows[] = {9, 1, 3, 2};
  dst.AppendSelected(src, rows);
  ASSERT_EQ(dst.size(), 4u);
  EXPECT_FALSE(dst.IsValid(0));
  EXPECT_EQ(dst.Int64(1), 100);
  EXPECT_FALSE(dst.IsValid(2));
  EXPECT_EQ(dst.Int64(3), 200);
  EXPECT_EQ(dst.null_count(), 2u);
}

TEST(ColumnTest, AppendAllRebasesStringOffsets) {
  Column a(ColumnType::kString), b(ColumnType::kString);
  a.AppendString("xy");
  b.AppendString("hello");
  b.AppendNull();
  b.AppendString("z");
  a.AppendAll(b);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a.String(1), "hello");
  EXPECT_EQ(a.String(3), "z");
  EXPECT_EQ(a.null_count(), 1u);
}

TEST(ColumnTest, SetNullAndSetKeepNullCount) {
  Column c(ColumnType::kInt32);
  c.AppendNull();
  c.AppendInt32(5);
  c.SetInt32(0, 7);
  c.SetNull(1);
  EXPECT_EQ(c.null_count(), 1u);
  EXPECT_EQ(c.Int32(0), 7);
  EXPECT_FALSE(c.IsValid(1));
}

TEST(FlowSchemaTest, HasTheDocumentedColumns) {
  const Schema& s = FlowSchema();
  ASSERT_EQ(s.size(), 46u);
  EXPECT_EQ(s.field(0).name, "probe");
  EXPECT_EQ(s.field(kStartTime).name, "start_time");
  EXPECT_EQ(s.field(kStartTime).type, ColumnType::kTimestampMs);
  EXPECT_EQ(s.field(kJa3sHash).name, "ja3s_hash");
  EXPECT_EQ(s.IndexOf("duration_ms"), kDurationMs);
  FlowBatch b;
  EXPECT_EQ(b.num_columns(), 46u);
}

Result<int> MakeResult(bool good) {
  if (good) return 5;
  return Status::IoError("disk gone");
}

TEST(ResultTest, CarriesValueOrStatus) {
  Result<int> ok = MakeResult(true);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);
  Result<int> bad = MakeResult(false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString(), "IoError: disk gone");
}

}  // namespace
}  // namespace flowlake

namespace flowlake {
namespace {

TEST(ColumnTest, AppendRangeCopiesAContiguousRun) {
  Column src(ColumnType::kString);
  src.AppendString("aa");
  src.AppendNull();
  src.AppendString("bbb");
  src.AppendString("c");
  src.SetNull(3);
  src.AppendString("dd");
  Column dst(ColumnType::kString);
  dst.AppendString("zz");
  dst.AppendRange(src, 1, 4);  // null, "bbb", null, "dd"
  ASSERT_EQ(dst.size(), 5u);
  EXPECT_EQ(dst.null_count(), 2u);
  EXPECT_EQ(dst.String(0), "zz");
  EXPECT_FALSE(dst.IsValid(1));
  EXPECT_EQ(dst.String(2), "bbb");
  EXPECT_FALSE(dst.IsValid(3));
  EXPECT_EQ(dst.String(4), "dd");

  Column ints(ColumnType::kInt32), out(ColumnType::kInt32);
  for (int i = 0; i < 10; ++i) ints.AppendInt32(i);
  out.AppendRange(ints, 7, 3);
  out.AppendRange(ints, 0, 0);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out.Int32(0), 7);
  EXPECT_EQ(out.Int32(2), 9);
  EXPECT_EQ(out.null_count(), 0u);
}

}  // namespace
}  // namespace flowlake
