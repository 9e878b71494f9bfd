// Known answers from parquet-format's Encodings.md (RLE / bit-packing
// hybrid), plus a round trip through a decoder written from the same text.
#include "parquet/rle_encoder.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace flowlake::parquet {
namespace {

std::vector<uint8_t> Encode(const std::vector<uint32_t>& v, int width) {
  ByteBuffer out;
  AppendRleHybrid(v, width, &out);
  return {out.data(), out.data() + out.size()};
}

std::vector<uint8_t> EncodeBits(const std::vector<uint8_t>& v) {
  ByteBuffer out;
  AppendRleHybridBits(v, &out);
  return {out.data(), out.data() + out.size()};
}

// Independent decoder of the hybrid format, for round trips.
std::vector<uint32_t> Decode(const std::vector<uint8_t>& in, int width, size_t count) {
  std::vector<uint32_t> out;
  size_t p = 0;
  auto varint = [&] {
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t b = in.at(p++);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
  };
  while (out.size() < count) {
    const uint64_t header = varint();
    if (header & 1) {
      const size_t values = (header >> 1) * 8;
      for (size_t i = 0; i < values; ++i) {
        uint32_t v = 0;
        for (int b = 0; b < width; ++b) {
          const size_t bit = i * static_cast<size_t>(width) + static_cast<size_t>(b);
          v |= static_cast<uint32_t>((in.at(p + bit / 8) >> (bit % 8)) & 1) << b;
        }
        if (out.size() < count) out.push_back(v);
      }
      p += (header >> 1) * static_cast<size_t>(width);
    } else {
      uint32_t v = 0;
      for (int b = 0; b < (width + 7) / 8; ++b) v |= static_cast<uint32_t>(in.at(p++)) << (8 * b);
      for (uint64_t i = 0; i < (header >> 1); ++i) out.push_back(v);
    }
  }
  EXPECT_EQ(p, in.size()) << "trailing bytes";
  return out;
}

TEST(RleHybrid, BitWidth) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(2), 2);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(4), 3);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(256), 9);
  EXPECT_EQ(BitWidth(0xFFFFFFFFu), 32);
}

TEST(RleHybrid, EncodingsMdBitPackingExample) {
  // Encodings.md: 0..7 with bit width 3 pack to 10001000 11000110 11111010.
  EXPECT_EQ(Encode({0, 1, 2, 3, 4, 5, 6, 7}, 3), (std::vector<uint8_t>{0x03, 0x88, 0xC6, 0xFA}));
}

TEST(RleHybrid, RleRun) {
  // 100 repeats: header varint(100 << 1) = 0xC8 0x01, value in ceil(3/8) = 1 byte.
  EXPECT_EQ(Encode(std::vector<uint32_t>(100, 5), 3), (std::vector<uint8_t>{0xC8, 0x01, 0x05}));
  // Width 9: the value takes 2 little-endian bytes.
  EXPECT_EQ(Encode(std::vector<uint32_t>(8, 0x105), 9), (std::vector<uint8_t>{0x10, 0x05, 0x01}));
  ByteBuffer out;
  AppendRleRun(1, 1000, 1, &out);  // varint(2000) = 0xD0 0x0F
  EXPECT_EQ(std::vector<uint8_t>(out.data(), out.data() + out.size()),
            (std::vector<uint8_t>{0xD0, 0x0F, 0x01}));
}

TEST(RleHybrid, ShortRepeatAfterLiteralsStaysLiteral) {
  // 3 literals need 5 padding values; the 10-long repeat would keep only 5,
  // under the 8 minimum, so everything is bit-packed: 13 values, 2 groups.
  std::vector<uint32_t> v = {1, 2, 3};
  v.insert(v.end(), 10, 4);
  EXPECT_EQ(Encode(v, 3), (std::vector<uint8_t>{0x05, 0xD1, 0x48, 0x92, 0x24, 0x49, 0x00}));
}

TEST(RleHybrid, LongRepeatAfterLiteralsPadsThenRuns) {
  // 3 literals + 5 borrowed repeats = one group; the other 8 repeats: RLE.
  std::vector<uint32_t> v = {1, 2, 3};
  v.insert(v.end(), 13, 4);
  EXPECT_EQ(Encode(v, 3), (std::vector<uint8_t>{0x03, 0xD1, 0x48, 0x92, 0x10, 0x04}));
}

TEST(RleHybrid, TrailingPartialGroupIsZeroPadded) {
  EXPECT_EQ(Encode({5, 300, 7, 1}, 9),
            (std::vector<uint8_t>{0x03, 0x05, 0x58, 0x1E, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00}));
}

TEST(RleHybrid, LevelBits) {
  EXPECT_EQ(EncodeBits({1, 0, 1, 1, 0, 0, 0, 1}), (std::vector<uint8_t>{0x03, 0x8D}));
  EXPECT_EQ(EncodeBits(std::vector<uint8_t>(16, 1)), (std::vector<uint8_t>{0x20, 0x01}));
  EXPECT_EQ(EncodeBits({1}), (std::vector<uint8_t>{0x03, 0x01}));
}

TEST(RleHybrid, RandomRoundTrips) {
  std::mt19937_64 rng(1234);
  for (int trial = 0; trial < 400; ++trial) {
    const int width = 1 + static_cast<int>(rng() % 32);
    const size_t n = rng() % 3000;
    const uint64_t limit = width == 32 ? 0x100000000ull : (1ull << width);
    const uint32_t distinct = 1 + static_cast<uint32_t>(rng() % 6);
    std::vector<uint32_t> palette(distinct);
    for (auto& p : palette) p = static_cast<uint32_t>(rng() % limit);
    std::vector<uint32_t> v;
    while (v.size() < n) {  // runs of random length over a small palette
      const size_t run = 1 + rng() % (trial % 2 ? 40 : 4);
      const uint32_t x = palette[rng() % distinct];
      for (size_t k = 0; k < run && v.size() < n; ++k) v.push_back(x);
    }
    ASSERT_EQ(Decode(Encode(v, width), width, n), v) << "width " << width << " n " << n;
    if (width == 1) {
      std::vector<uint8_t> bits(v.begin(), v.end());
      ASSERT_EQ(EncodeBits(bits), Encode(v, 1));
    }
  }
}

TEST(RleHybrid, RandomLevelRoundTrips) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 1 + rng() % 5000;
    const uint64_t null_per_mille = rng() % 1001;
    std::vector<uint8_t> bits(n);
    for (auto& b : bits) b = (rng() % 1000) >= null_per_mille ? 1 : 0;
    const std::vector<uint32_t> expect(bits.begin(), bits.end());
    ASSERT_EQ(Decode(EncodeBits(bits), 1, n), expect);
  }
}

}  // namespace
}  // namespace flowlake::parquet
