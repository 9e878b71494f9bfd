#include "stream/hyperloglog.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "stream/hash.h"

namespace flowlake {
namespace {

// n distinct well-mixed hashes; a different seed gives a disjoint set.
HyperLogLog Fill(uint64_t seed, uint64_t first, uint64_t end, int precision = 12) {
  HyperLogLog hll(precision);
  for (uint64_t i = first; i < end; ++i) hll.Add(HashU64((seed << 40) + i));
  return hll;
}

TEST(HyperLogLogTest, EmptyIsZero) {
  EXPECT_EQ(HyperLogLog().Estimate(), 0.0);
  EXPECT_EQ(HyperLogLog().registers().size(), 4096u);
}

TEST(HyperLogLogTest, RhoOfExtremeHashes) {
  HyperLogLog hll(12);
  hll.Add(0);                      // register 0, remaining bits all zero: rho = 53
  hll.Add(~uint64_t{0});           // register 4095, rho = 1
  hll.Add(uint64_t{1} << 51);      // register 0, first remaining bit set: rho = 1
  hll.Add((uint64_t{7} << 52) | 1);  // register 7, 51 leading zeros: rho = 52
  EXPECT_EQ(hll.registers()[0], 53);
  EXPECT_EQ(hll.registers()[4095], 1);
  EXPECT_EQ(hll.registers()[7], 52);
}

struct AccuracyCase {
  uint64_t n;
  uint64_t seed;
};

class HyperLogLogAccuracyTest : public testing::TestWithParam<AccuracyCase> {};

TEST_P(HyperLogLogAccuracyTest, WithinThreeStandardErrors) {
  const auto [n, seed] = GetParam();
  const HyperLogLog hll = Fill(seed, 0, n);
  const double error = hll.Estimate() / static_cast<double>(n) - 1;
  RecordProperty("relative_error", std::to_string(error));
  std::printf("n=%llu seed=%llu estimate=%.1f relative error %+.4f (1 se = %.4f)\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(seed),
              hll.Estimate(), error, hll.StandardError());
  EXPECT_LT(std::abs(error), 3 * hll.StandardError());
}

INSTANTIATE_TEST_SUITE_P(Sizes, HyperLogLogAccuracyTest,
                         testing::Values(AccuracyCase{1'000, 1}, AccuracyCase{1'000, 2},
                                         AccuracyCase{10'000, 1}, AccuracyCase{10'000, 2},
                                         AccuracyCase{100'000, 1}, AccuracyCase{100'000, 2},
                                         AccuracyCase{1'000'000, 1}));

TEST(HyperLogLogTest, TextAddressesThroughHashBytes) {
  HyperLogLog hll;
  const int n = 50'000;
  for (int i = 0; i < n; ++i) {
    hll.Add(HashBytes("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) +
                      "." + std::to_string(i % 256)));
  }
  EXPECT_LT(std::abs(hll.Estimate() / n - 1), 3 * hll.StandardError());
}

TEST(HyperLogLogTest, DuplicatesDoNotChangeTheSketch) {
  const HyperLogLog once = Fill(3, 0, 20'000);
  HyperLogLog thrice = Fill(3, 0, 20'000);
  for (int round = 0; round < 2; ++round) {
    for (uint64_t i = 0; i < 20'000; ++i) thrice.Add(HashU64((uint64_t{3} << 40) + i));
  }
  EXPECT_EQ(once, thrice);
  EXPECT_EQ(once.Estimate(), thrice.Estimate());
}

TEST(HyperLogLogTest, MergeOfDisjointHalvesEqualsTheWhole) {
  const HyperLogLog whole = Fill(4, 0, 100'000);
  HyperLogLog half = Fill(4, 0, 50'000);
  ASSERT_TRUE(half.Merge(Fill(4, 50'000, 100'000)).ok());
  EXPECT_EQ(half, whole);
  EXPECT_EQ(half.Estimate(), whole.Estimate());
  EXPECT_LT(std::abs(half.Estimate() / 100'000 - 1), 3 * half.StandardError());
}

TEST(HyperLogLogTest, MergeIsCommutativeAssociativeIdempotent) {
  const HyperLogLog a = Fill(5, 0, 3'000), b = Fill(6, 0, 40'000), c = Fill(5, 1'000, 9'000);
  HyperLogLog ab = a, ba = b;
  ASSERT_TRUE(ab.Merge(b).ok());
  ASSERT_TRUE(ba.Merge(a).ok());
  EXPECT_EQ(ab, ba);

  HyperLogLog ab_c = ab, bc = b, a_bc = a;
  ASSERT_TRUE(ab_c.Merge(c).ok());
  ASSERT_TRUE(bc.Merge(c).ok());
  ASSERT_TRUE(a_bc.Merge(bc).ok());
  EXPECT_EQ(ab_c, a_bc);

  HyperLogLog aa = a;
  ASSERT_TRUE(aa.Merge(a).ok());
  EXPECT_EQ(aa, a);
}

TEST(HyperLogLogTest, MergeRejectsOtherPrecision) {
  HyperLogLog a = Fill(7, 0, 100, 12);
  const HyperLogLog before = a;
  const Status st = a.Merge(Fill(7, 0, 100, 10));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "HyperLogLog merge: precision 12 with precision 10");
  EXPECT_EQ(a, before);
}

TEST(HyperLogLogTest, SerializeRoundTripIsByteExact) {
  for (int p : {4, 5, 6, 7, 12, 14}) {
    const HyperLogLog hll = Fill(8, 0, 5'000, p);
    const std::string bytes = hll.Serialize();
    ASSERT_EQ(bytes.size(), 2 + (size_t{1} << p));
    EXPECT_EQ(bytes[0], 1);
    EXPECT_EQ(bytes[1], p);
    auto back = HyperLogLog::Deserialize(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, hll);
    EXPECT_EQ(back->Serialize(), bytes);
    EXPECT_EQ(back->Estimate(), hll.Estimate());
  }
}

TEST(HyperLogLogTest, DeserializeRejectsBadInput) {
  const std::string good = Fill(9, 0, 1'000).Serialize();
  struct Case {
    std::string name;
    std::string bytes;
    std::string message;
  };
  std::string bad_version = good, bad_precision = good, bad_register = good;
  bad_version[0] = 2;
  bad_precision[1] = 19;
  bad_register[2 + 100] = 54;
  const Case cases[] = {
      {"empty", "", "HyperLogLog: 0 bytes, shorter than the 2-byte header"},
      {"header only", good.substr(0, 2), "HyperLogLog: 2 bytes, expected 4098 for precision 12"},
      {"one short", good.substr(0, good.size() - 1),
       "HyperLogLog: 4097 bytes, expected 4098 for precision 12"},
      {"one long", good + '\0', "HyperLogLog: 4099 bytes, expected 4098 for precision 12"},
      {"version", bad_version, "HyperLogLog: unknown format version 2"},
      {"precision", bad_precision, "HyperLogLog: precision 19 outside [4, 18]"},
      {"register", bad_register, "HyperLogLog: register 100 is 54, above the maximum 53"},
  };
  for (const Case& c : cases) {
    auto r = HyperLogLog::Deserialize(c.bytes);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << c.name;
    EXPECT_EQ(r.status().message(), c.message) << c.name;
  }
}

}  // namespace
}  // namespace flowlake
