#include "parquet/rle_encoder.h"

#include <bit>
#include <cassert>
#include <cstring>

namespace flowlake::parquet {
namespace {

constexpr size_t kMinRleRun = 8;  // also the bit-packing group size

void PutVarint(uint64_t v, ByteBuffer* out) {
  uint8_t* p = out->Extend(10);
  size_t n = 0;
  while (v >= 0x80) {
    p[n++] = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  p[n++] = static_cast<uint8_t>(v);
  out->SetSize(out->size() - 10 + n);
}

// Index of the first element after i that differs from v[i] (or n).
size_t RunEnd(const uint32_t* v, size_t i, size_t n) {
  const uint32_t x = v[i];
  size_t j = i + 1;
  while (j < n && v[j] == x) ++j;
  return j;
}

// Same for bytes, eight at a time: levels have long runs (whole pages valid,
// or a column that is null for every non-DNS flow).
size_t RunEnd(const uint8_t* v, size_t i, size_t n) {
  const uint64_t pattern = v[i] * 0x0101010101010101ULL;
  size_t j = i + 1;
  while (j + 8 <= n) {
    uint64_t word;
    std::memcpy(&word, v + j, 8);
    const uint64_t diff = word ^ pattern;
    if (diff != 0) return j + static_cast<size_t>(std::countr_zero(diff)) / 8;
    j += 8;
  }
  while (j < n && v[j] == v[i]) ++j;
  return j;
}

// Packs `count` values (a multiple of 8) LSB-first; writes count*width/8 bytes.
void PackGroups(const uint32_t* v, size_t count, int width, uint8_t* out) {
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < count; ++i) {
    acc |= static_cast<uint64_t>(v[i]) << bits;
    bits += width;
    if (bits >= 32) {
      const auto word = static_cast<uint32_t>(acc);
      std::memcpy(out, &word, 4);  // little-endian: see the static_assert below
      out += 4;
      acc >>= 32;
      bits -= 32;
    }
  }
  while (bits > 0) {
    *out++ = static_cast<uint8_t>(acc);
    acc >>= 8;
    bits -= 8;
  }
}

// Eight 0/1 bytes to one byte, byte k to bit k. The multiply moves byte k
// (bit 8k) to bit 56+k; the other partial products land on distinct bits
// below 56, so nothing carries into the top byte.
uint8_t PackEightBits(const uint8_t* v) {
  uint64_t word;
  std::memcpy(&word, v, 8);
  return static_cast<uint8_t>((word * 0x0102040810204080ULL) >> 56);
}

void PackGroups(const uint8_t* v, size_t count, int /*width*/, uint8_t* out) {
  for (size_t i = 0; i < count; i += 8) *out++ = PackEightBits(v + i);
}

template <typename T>
void PutLiteral(const T* v, size_t count, int width, ByteBuffer* out) {
  const size_t groups = (count + 7) / 8;
  PutVarint((static_cast<uint64_t>(groups) << 1) | 1, out);
  const size_t full = count / 8 * 8;
  uint8_t* p = out->Extend(groups * static_cast<size_t>(width));
  PackGroups(v, full, width, p);
  if (full < count) {
    T tail[8] = {};  // zero padding for the last group
    for (size_t i = full; i < count; ++i) tail[i - full] = v[i];
    PackGroups(tail, 8, width, p + full / 8 * static_cast<size_t>(width));
  }
}

// True when v[0..8) are all equal. Branch-free, so that the common case of
// literal data (no run) costs a few instructions per group of 8.
bool GroupIsRun(const uint32_t* v) {
  uint32_t diff = 0;
  for (int k = 1; k < 8; ++k) diff |= v[k] ^ v[0];
  return diff == 0;
}

bool GroupIsRun(const uint8_t* v) {
  uint64_t word;
  std::memcpy(&word, v, 8);
  return word == v[0] * 0x0101010101010101ULL;
}

// Walks groups of 8 values aligned to the start of the pending literal run.
// A group whose 8 values are equal starts an RLE run, extended to the end of
// the repeat. This is the same as "an RLE run for every repeat of >= 8 that
// is still >= 8 after lending values to pad the literal before it", but
// needs no per-value work on literal data.
template <typename T>
void EncodeHybrid(const T* v, size_t n, int width, ByteBuffer* out) {
  size_t literal_start = 0;
  size_t i = 0;
  while (i + kMinRleRun <= n) {
    if (!GroupIsRun(v + i)) {
      i += 8;
      continue;
    }
    if (i > literal_start) PutLiteral(v + literal_start, i - literal_start, width, out);
    const size_t j = RunEnd(v, i, n);
    AppendRleRun(v[i], j - i, width, out);
    literal_start = i = j;
  }
  if (literal_start < n) PutLiteral(v + literal_start, n - literal_start, width, out);
}

}  // namespace

static_assert(std::endian::native == std::endian::little,
              "the encoders store host integers as Parquet's little-endian");

int BitWidth(uint64_t max_value) { return 64 - std::countl_zero(max_value); }

void AppendRleRun(uint32_t value, size_t count, int bit_width, ByteBuffer* out) {
  PutVarint(static_cast<uint64_t>(count) << 1, out);
  const size_t value_bytes = (static_cast<size_t>(bit_width) + 7) / 8;
  uint8_t* p = out->Extend(value_bytes);
  for (size_t b = 0; b < value_bytes; ++b) p[b] = static_cast<uint8_t>(value >> (8 * b));
}

void AppendRleHybrid(std::span<const uint32_t> values, int bit_width, ByteBuffer* out) {
  assert(bit_width >= 1 && bit_width <= 32);
  EncodeHybrid(values.data(), values.size(), bit_width, out);
}

void AppendRleHybridBits(std::span<const uint8_t> bits, ByteBuffer* out) {
  EncodeHybrid(bits.data(), bits.size(), 1, out);
}

}  // namespace flowlake::parquet
