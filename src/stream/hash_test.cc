#include "stream/hash.h"

#include <gtest/gtest.h>

#include <bit>
#include <set>
#include <string>

namespace flowlake {
namespace {

// The hashes are part of the sketch format: these values must never change.
TEST(HashTest, GoldenValues) {
  EXPECT_EQ(HashBytes(""), 11286133854226296554ULL);
  EXPECT_EQ(HashBytes("10.0.0.1"), 923714544368978762ULL);
  EXPECT_EQ(HashBytes("2001:db8::1"), 42670039219146520ULL);
  EXPECT_EQ(HashU64(0), 16294208416658607535ULL);
  EXPECT_EQ(HashU64(443), 4147844033494684635ULL);
  std::array<uint8_t, 16> v4mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  EXPECT_EQ(HashAddressPort(v4mapped, 443), 1482708092466870460ULL);
}

TEST(HashTest, LengthAndEveryByteMatter) {
  EXPECT_NE(HashBytes("a"), HashBytes(std::string("a\0", 2)));
  EXPECT_NE(HashBytes("abcdefgh"), HashBytes("abcdefghi"));
  std::set<uint64_t> seen;
  std::string s(19, 'x');
  for (size_t i = 0; i < s.size(); ++i) {
    std::string t = s;
    t[i] = 'y';
    EXPECT_TRUE(seen.insert(HashBytes(t)).second) << i;
  }
}

// The top bits pick the HyperLogLog register: a one-character change must
// flip about half of them.
TEST(HashTest, NeighbouringInputsDifferInAboutHalfTheBits) {
  int total = 0;
  const int n = 1000;
  for (int i = 0; i < n; ++i) {
    total += std::popcount(HashBytes("10.0.0." + std::to_string(i)) ^
                           HashBytes("10.0.0." + std::to_string(i + 1)));
    total += std::popcount(HashU64(i) ^ HashU64(i + 1));
  }
  EXPECT_NEAR(static_cast<double>(total) / (2 * n), 32.0, 1.0);
}

}  // namespace
}  // namespace flowlake
