#include "parquet/statistics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace flowlake::parquet {
namespace {

double DecodeDouble(const std::string& s) {
  EXPECT_EQ(s.size(), 8u);
  double d;
  std::memcpy(&d, s.data(), 8);
  return d;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(Statistics, IntsSkipNullSlots) {
  const std::vector<int32_t> v = {5, 0, 7, -3, 0};
  const std::vector<uint8_t> valid = {1, 0, 1, 1, 0};
  const MinMax<int32_t> r = ComputeMinMax(std::span<const int32_t>(v), valid);
  EXPECT_TRUE(r.any);
  EXPECT_EQ(r.min, -3);
  EXPECT_EQ(r.max, 7);
  ChunkStatistics s;
  SetMinMax(r, &s);
  EXPECT_EQ(*s.min_value, std::string("\xFD\xFF\xFF\xFF", 4));  // -3 little-endian
  EXPECT_EQ(*s.max_value, std::string("\x07\x00\x00\x00", 4));
  EXPECT_TRUE(s.legacy_min_max);
}

TEST(Statistics, Int64Extremes) {
  const std::vector<int64_t> v = {std::numeric_limits<int64_t>::max(), 0,
                                  std::numeric_limits<int64_t>::min()};
  const MinMax<int64_t> r = ComputeMinMax(std::span<const int64_t>(v), {});
  EXPECT_EQ(r.min, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.max, std::numeric_limits<int64_t>::max());
  ChunkStatistics s;
  SetMinMax(r, &s);
  EXPECT_EQ(*s.min_value, std::string("\x00\x00\x00\x00\x00\x00\x00\x80", 8));
  EXPECT_EQ(*s.max_value, std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 8));
}

// The vectorised reductions (SSE2, and AVX2 where the CPU has it) against a
// plain loop, at every length around the vector widths, with and without
// nulls, over the whole value range.
TEST(Statistics, IntMinMaxMatchesALoop) {
  std::mt19937_64 rng(3);
  auto check = [&rng](auto zero) {
    using T = decltype(zero);
    for (size_t n = 0; n < 70; ++n) {
      std::vector<T> v(n);
      std::vector<uint8_t> valid(n);
      for (size_t i = 0; i < n; ++i) {
        v[i] = static_cast<T>(rng());
        valid[i] = static_cast<uint8_t>(rng() % 3 != 0);
      }
      for (bool with_nulls : {false, true}) {
        T lo = std::numeric_limits<T>::max(), hi = std::numeric_limits<T>::lowest();
        bool any = false;
        for (size_t i = 0; i < n; ++i) {
          if (with_nulls && !valid[i]) continue;
          lo = std::min(lo, v[i]);
          hi = std::max(hi, v[i]);
          any = true;
        }
        const MinMax<T> r = ComputeMinMax(std::span<const T>(v),
                                          with_nulls ? std::span<const uint8_t>(valid)
                                                     : std::span<const uint8_t>());
        ASSERT_EQ(r.any, any) << n;
        if (any) {
          EXPECT_EQ(r.min, lo) << n;
          EXPECT_EQ(r.max, hi) << n;
        }
      }
    }
  };
  check(int32_t{0});
  check(int64_t{0});
}

TEST(Statistics, AllNullHasNoMinMax) {
  const std::vector<int32_t> v = {0, 0};
  const std::vector<uint8_t> valid = {0, 0};
  const MinMax<int32_t> r = ComputeMinMax(std::span<const int32_t>(v), valid);
  EXPECT_FALSE(r.any);
  ChunkStatistics s;
  SetMinMax(r, &s);
  EXPECT_FALSE(s.min_value.has_value());
  EXPECT_FALSE(s.max_value.has_value());
}

TEST(Statistics, DoublesIgnoreNaN) {
  const std::vector<double> v = {kNaN, 2.5, -1.0, kNaN, 0.0};
  const std::vector<uint8_t> valid = {1, 1, 1, 1, 0};
  int64_t nans = -1;
  const MinMax<double> r = ComputeMinMax(std::span<const double>(v), valid, &nans);
  EXPECT_EQ(nans, 2);
  ChunkStatistics s;
  SetMinMax(r, &s);
  EXPECT_EQ(DecodeDouble(*s.min_value), -1.0);
  EXPECT_EQ(DecodeDouble(*s.max_value), 2.5);
}

TEST(Statistics, AllNaNHasNoMinMax) {
  const std::vector<double> v = {kNaN, kNaN};
  int64_t nans = 0;
  const MinMax<double> r = ComputeMinMax(std::span<const double>(v), {}, &nans);
  EXPECT_EQ(nans, 2);
  EXPECT_FALSE(r.any);
}

TEST(Statistics, ZeroMinIsNegativeZeroAndZeroMaxIsPositiveZero) {
  for (double zero : {0.0, -0.0}) {
    const std::vector<double> v = {zero, zero};
    int64_t nans = 0;
    ChunkStatistics s;
    SetMinMax(ComputeMinMax(std::span<const double>(v), {}, &nans), &s);
    EXPECT_TRUE(std::signbit(DecodeDouble(*s.min_value))) << zero;
    EXPECT_FALSE(std::signbit(DecodeDouble(*s.max_value))) << zero;
  }
  const std::vector<double> v = {-4.0, -0.0};
  int64_t nans = 0;
  ChunkStatistics s;
  SetMinMax(ComputeMinMax(std::span<const double>(v), {}, &nans), &s);
  EXPECT_EQ(DecodeDouble(*s.min_value), -4.0);
  EXPECT_FALSE(std::signbit(DecodeDouble(*s.max_value)));
}

TEST(Statistics, ShortStringsAreExact) {
  ChunkStatistics s;
  SetStringMinMax("", "zz", &s);
  EXPECT_EQ(*s.min_value, "");
  EXPECT_EQ(*s.max_value, "zz");
  EXPECT_TRUE(s.min_exact);
  EXPECT_TRUE(s.max_exact);
  EXPECT_FALSE(s.legacy_min_max);
}

TEST(Statistics, LongAsciiStringsAreTruncated) {
  const std::string a100(100, 'a');
  ChunkStatistics s;
  SetStringMinMax(a100, a100, &s);
  EXPECT_EQ(*s.min_value, std::string(64, 'a'));
  EXPECT_EQ(*s.max_value, std::string(63, 'a') + "b");
  EXPECT_FALSE(s.min_exact);
  EXPECT_FALSE(s.max_exact);
  // Exactly 64 bytes: untouched.
  bool exact = false;
  EXPECT_EQ(*TruncateMax(std::string(64, 'q'), 64, &exact), std::string(64, 'q'));
  EXPECT_TRUE(exact);
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Statistics, TruncationKeepsUtf8Characters) {
  // "long/" + 40 x "é" (2 bytes each): byte 64 is inside an "é", so the cut
  // is at 63 bytes; the max increments the last "é" (U+00E9) to "ê".
  const std::string v = "long/" + Repeat("é", 40) + "/000001";
  bool exact = true;
  EXPECT_EQ(TruncateMin(v, 64, &exact), "long/" + Repeat("é", 29));
  EXPECT_FALSE(exact);
  EXPECT_EQ(*TruncateMax(v, 64, &exact), "long/" + Repeat("é", 28) + "ê");
  EXPECT_FALSE(exact);
}

TEST(Statistics, TruncatedMaxCarriesPastTheLastCodePoint) {
  // U+10FFFF cannot be incremented: drop it and increment the 'a' before it.
  const std::string v = std::string(60, 'a') + "\xF4\x8F\xBF\xBF" + "tail";
  bool exact = true;
  EXPECT_EQ(*TruncateMax(v, 64, &exact), std::string(59, 'a') + "b");
  // U+D7FF + 1 would be a surrogate: U+E000 comes next.
  const std::string w = std::string(61, 'a') + "\xED\x9F\xBF" + "tail";
  EXPECT_EQ(*TruncateMax(w, 64, &exact), std::string(61, 'a') + "\xEE\x80\x80");
  // U+007F grows to the 2-byte U+0080.
  const std::string x = std::string(63, 'a') + "\x7F" + "tail";
  EXPECT_EQ(*TruncateMax(x, 64, &exact), std::string(63, 'a') + "\xC2\x80");
}

TEST(Statistics, TruncatedMaxOfNonUtf8BytesIncrementsBytes) {
  bool exact = true;
  // Invalid UTF-8 (0xFF): bytewise increment with carry: "ab\xFF..." -> "ac".
  const std::string v = "ab" + std::string(70, '\xFF');
  EXPECT_EQ(*TruncateMax(v, 64, &exact), "ac");
  EXPECT_FALSE(exact);
  // All 0xFF: no shorter upper bound exists.
  EXPECT_FALSE(TruncateMax(std::string(70, '\xFF'), 64, &exact).has_value());
  EXPECT_EQ(TruncateMin(std::string(70, '\xFF'), 64, &exact), std::string(64, '\xFF'));
  ChunkStatistics s;
  SetStringMinMax(std::string(70, '\xFF'), std::string(70, '\xFF'), &s);
  EXPECT_TRUE(s.min_value.has_value());
  EXPECT_FALSE(s.max_value.has_value());
}

TEST(Statistics, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("βeta 日本語 🚀"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace flowlake::parquet
