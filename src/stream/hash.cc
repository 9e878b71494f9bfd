#include "stream/hash.h"

#include <bit>

namespace flowlake {
namespace {

constexpr uint64_t kMul1 = 0x87c37b91114253d5ULL;  // MurmurHash3 x64 constants
constexpr uint64_t kMul2 = 0x4cf5ad432745937fULL;
constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio

// Little-endian load of n <= 8 bytes, independent of the host's byte order.
uint64_t LoadLe(const unsigned char* p, size_t n) {
  uint64_t w = 0;
  for (size_t i = 0; i < n; ++i) w |= uint64_t{p[i]} << (8 * i);
  return w;
}

uint64_t MixWord(uint64_t h, uint64_t w) {
  w *= kMul1;
  w = std::rotl(w, 31);
  w *= kMul2;
  h ^= w;
  h = std::rotl(h, 27);
  return h * 5 + 0x52dce729;
}

}  // namespace

uint64_t Fmix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t HashU64(uint64_t x) {
  x += kSeed;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashBytes(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t n = bytes.size();
  // The length goes into the seed so that "a" and "a\0" differ.
  uint64_t h = kSeed ^ (uint64_t{n} * kMul2);
  for (; n >= 8; p += 8, n -= 8) h = MixWord(h, LoadLe(p, 8));
  if (n > 0) h = MixWord(h, LoadLe(p, n));
  return Fmix64(h);
}

uint64_t HashAddressPort(const std::array<uint8_t, 16>& address, uint16_t port) {
  unsigned char buf[18];
  for (size_t i = 0; i < 16; ++i) buf[i] = address[i];
  buf[16] = static_cast<unsigned char>(port & 0xff);
  buf[17] = static_cast<unsigned char>(port >> 8);
  return HashBytes(std::string_view(reinterpret_cast<const char*>(buf), sizeof buf));
}

}  // namespace flowlake
