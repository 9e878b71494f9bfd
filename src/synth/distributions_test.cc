#include "synth/distributions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "synth/rng.h"

namespace flowlake::synth {
namespace {

TEST(RngTest, MatchesReferenceXoshiro256StarStar) {
  // Reference values from an independent (Python) implementation of
  // SplitMix64 seeding + xoshiro256** for seed 1.
  Rng rng(1);
  EXPECT_EQ(rng.Next(), 0xb3f2af6d0fc710c5ULL);
  EXPECT_EQ(rng.Next(), 0x853b559647364ceaULL);
  EXPECT_EQ(rng.Next(), 0x92f89756082a4514ULL);
}

TEST(RngTest, BelowAndBetweenStayInRange) {
  Rng rng(7);
  std::vector<int> seen(10);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng.Below(10);
    ASSERT_LT(v, 10u);
    ++seen[v];
    const int64_t b = rng.Between(-3, 3);
    ASSERT_GE(b, -3);
    ASSERT_LE(b, 3);
  }
  for (int count : seen) EXPECT_NEAR(count, 1000, 150);
  EXPECT_EQ(rng.Below(0), 0u);
}

TEST(PortableMathTest, Log2AndExp2AgreeWithLibm) {
  for (double x : {1e-9, 0.001, 0.3, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0, 1234.5, 1e12}) {
    EXPECT_NEAR(Log2(x), std::log2(x), 1e-9) << x;
  }
  for (double x : {-20.0, -1.5, -0.1, 0.0, 0.25, 0.5, 0.999, 1.0, 7.3, 30.0}) {
    EXPECT_NEAR(Exp2(x) / std::exp2(x), 1.0, 1e-9) << x;
  }
  EXPECT_EQ(Exp2(3), 8);
  EXPECT_EQ(Log2(0), -1074);
}

TEST(DistributionsTest, LogNormalMedianAndParetoFloor) {
  Rng rng(3);
  std::vector<double> v;
  for (int i = 0; i < 20001; ++i) v.push_back(LogNormal(rng, 1000, 2));
  std::nth_element(v.begin(), v.begin() + 10000, v.end());
  EXPECT_NEAR(v[10000], 1000, 60);
  for (int i = 0; i < 1000; ++i) EXPECT_GE(Pareto(rng, 50, 1.2), 50);
}

TEST(WeightedTableTest, FrequenciesFollowWeights) {
  const std::vector<double> weights = {1, 0, 3, 6};
  const WeightedTable table(weights);
  Rng rng(11);
  std::vector<int> seen(4);
  for (int i = 0; i < 100000; ++i) ++seen[table.Sample(rng)];
  EXPECT_EQ(seen[1], 0);
  EXPECT_NEAR(seen[0], 10000, 600);
  EXPECT_NEAR(seen[2], 30000, 900);
  EXPECT_NEAR(seen[3], 60000, 900);
  EXPECT_DOUBLE_EQ(table.Probability(3), 0.6);
}

TEST(WeightedTableTest, ZipfRankOneIsTwiceRankTwo) {
  const WeightedTable zipf = WeightedTable::Zipf(100, 1.0);
  EXPECT_NEAR(zipf.Probability(0) / zipf.Probability(1), 2.0, 1e-6);
  EXPECT_NEAR(zipf.Probability(0) / zipf.Probability(9), 10.0, 1e-6);
}

}  // namespace
}  // namespace flowlake::synth
