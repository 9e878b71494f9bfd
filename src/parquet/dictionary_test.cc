#include "parquet/dictionary.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace flowlake::parquet {
namespace {

DictionaryLimits Unlimited() {
  DictionaryLimits l;
  l.max_entries = 1 << 30;
  l.max_bytes = size_t{1} << 40;
  return l;
}

TEST(IntDictionary, SmallRangeFirstSeenOrderSkippingNulls) {
  const std::vector<int32_t> v = {80, 0, 443, 80, 53, 443};
  const std::vector<uint8_t> valid = {1, 0, 1, 1, 1, 1};
  IntDictionary<int32_t> d;
  std::vector<uint32_t> idx(5);
  ASSERT_TRUE(d.Build(std::span<const int32_t>(v), valid, 53, 443, Unlimited(), idx.data()));
  EXPECT_EQ(std::vector<int32_t>(d.entries().begin(), d.entries().end()),
            (std::vector<int32_t>{80, 443, 53}));
  EXPECT_EQ(idx, (std::vector<uint32_t>{0, 1, 0, 2, 1}));
  // Reuse: the direct table was cleared.
  const std::vector<int32_t> w = {443, 443};
  ASSERT_TRUE(d.Build(std::span<const int32_t>(w), {}, 443, 443, Unlimited(), idx.data()));
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(idx[0], 0u);
}

TEST(IntDictionary, WideRangeHashesIncludingExtremes) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> v;
  for (int i = 0; i < 5000; ++i) v.push_back((i % 1500) * 1000003LL);
  v.push_back(kMin);
  v.push_back(kMax);
  v.push_back(kMin);
  IntDictionary<int64_t> d;
  std::vector<uint32_t> idx(v.size());
  ASSERT_TRUE(d.Build(std::span<const int64_t>(v), {}, kMin, kMax, Unlimited(), idx.data()));
  ASSERT_EQ(d.size(), 1502u);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(d.entries()[idx[i]], v[i]) << i;
}

TEST(IntDictionary, GivesUpPastMaxEntries) {
  std::vector<int32_t> v;
  for (int i = 0; i < 100; ++i) v.push_back(i * 100000);
  DictionaryLimits l = Unlimited();
  l.max_entries = 50;
  IntDictionary<int32_t> d;
  std::vector<uint32_t> idx(v.size());
  EXPECT_FALSE(d.Build(std::span<const int32_t>(v), {}, 0, 99 * 100000, l, idx.data()));
  l.max_entries = 100;
  EXPECT_TRUE(d.Build(std::span<const int32_t>(v), {}, 0, 99 * 100000, l, idx.data()));
  l.max_bytes = 4 * 99;  // 100 entries of 4 bytes do not fit
  EXPECT_FALSE(d.Build(std::span<const int32_t>(v), {}, 0, 99 * 100000, l, idx.data()));
}

TEST(IntDictionary, ProbeGivesUpOnUniqueValues) {
  std::vector<int32_t> v;
  for (int i = 0; i < 100; ++i) v.push_back(i);
  DictionaryLimits l = Unlimited();
  l.probe_values = 10;
  l.probe_fraction = 0.9;  // 10 of the first 10 distinct > 9
  IntDictionary<int32_t> d;
  std::vector<uint32_t> idx(v.size());
  EXPECT_FALSE(d.Build(std::span<const int32_t>(v), {}, 0, 99, l, idx.data()));
}

TEST(StringDictionary, EmptyStringIsAValueNullIsNot) {
  const std::string long_one = "a long enough string to take the long hashing path";
  Column c(ColumnType::kString);
  c.AppendString("b");
  c.AppendNull();
  c.AppendString("");
  c.AppendString("b");
  c.AppendString(long_one);
  c.AppendString("");
  StringDictionary d;
  std::vector<uint32_t> idx(5);
  ASSERT_TRUE(d.Build(c, Unlimited(), idx.data()));
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d.entries()[0], "b");
  EXPECT_EQ(d.entries()[1], "");
  EXPECT_EQ(idx, (std::vector<uint32_t>{0, 1, 0, 2, 1}));
  EXPECT_EQ(d.plain_bytes(), (4 + 1) + (4 + 0) + (4 + long_one.size()));
}

// Regression: a column of only "" has no string bytes at all, and comparing
// two empty values passed a null pointer to memcmp (UBSan).
TEST(StringDictionary, OnlyEmptyStringsWithAndWithoutNulls) {
  Column c(ColumnType::kString);
  for (int i = 0; i < 5; ++i) c.AppendString("");
  StringDictionary d;
  std::vector<uint32_t> idx(c.size());
  ASSERT_TRUE(d.Build(c, Unlimited(), idx.data()));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.entries()[0], "");
  EXPECT_EQ(idx, (std::vector<uint32_t>(5, 0)));
  EXPECT_EQ(d.plain_bytes(), 4u);

  Column m(ColumnType::kString);
  m.AppendNull();
  m.AppendString("");
  m.AppendNull();
  m.AppendString("");
  ASSERT_TRUE(d.Build(m, Unlimited(), idx.data()));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(idx[0], 0u);
  EXPECT_EQ(idx[1], 0u);
}

TEST(StringDictionary, ManyDistinctAndByteLimit) {
  Column c(ColumnType::kString);
  for (int i = 0; i < 20000; ++i) c.AppendString("value-" + std::to_string(i % 7000));
  StringDictionary d;
  std::vector<uint32_t> idx(c.size());
  ASSERT_TRUE(d.Build(c, Unlimited(), idx.data()));
  ASSERT_EQ(d.size(), 7000u);
  for (size_t i = 0; i < c.size(); ++i) ASSERT_EQ(d.entries()[idx[i]], c.String(i));
  DictionaryLimits l = Unlimited();
  l.max_bytes = 1000;
  EXPECT_FALSE(d.Build(c, l, idx.data()));
}

TEST(HashBytes, EqualBytesEqualHashes) {
  const std::string a = "10.20.1.15", b = "10.20.1.15";
  EXPECT_EQ(HashBytes(a.data(), a.size()), HashBytes(b.data(), b.size()));
  EXPECT_NE(HashBytes(a.data(), a.size()), HashBytes(a.data(), a.size() - 1));
  EXPECT_NE(HashBytes("", 0), HashBytes("\0", 1));
}

}  // namespace
}  // namespace flowlake::parquet
