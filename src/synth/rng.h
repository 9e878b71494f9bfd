// Rng: the synth component's only source of randomness.
//
// Output must be byte-identical across runs, compilers and machines for a
// given seed, so nothing here uses <random> distributions (their algorithms
// are implementation-defined) or libm transcendental functions (not
// correctly rounded, so they may differ in the last bit between libcs).
// Everything is integer arithmetic or exact IEEE operations.
//
// Contract: not thread-safe; one Rng per generator.
#pragma once

#include <cstdint>

namespace flowlake::synth {

// One SplitMix64 step: advances *state and returns a well-mixed value. Used
// to seed Rng and to derive stable per-entity values (a host's MAC, its OS).
constexpr uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A stateless 64-bit hash: Mix64(a) is a fixed function of a.
constexpr uint64_t Mix64(uint64_t x) { return SplitMix64(&x); }
constexpr uint64_t Mix64(uint64_t a, uint64_t b) { return Mix64(a ^ Mix64(b)); }

// xoshiro256** (Blackman & Vigna): fast, 256-bit state, passes BigCrush.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t s = seed;
    for (uint64_t& word : s_) word = SplitMix64(&s);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n == 0 returns 0. Lemire's multiply-shift without the
  // rejection step: the bias (< n / 2^64) is irrelevant for traffic synthesis
  // and the result stays a pure function of the state.
  uint64_t Below(uint64_t n) {
    __extension__ using Uint128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<Uint128>(Next()) * n) >> 64);
  }

  // Uniform integer in [lo, hi] (inclusive); requires lo <= hi.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform in [0, 1) with 53 bits of precision.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // True with probability p.
  bool Chance(double p) { return Uniform() < p; }

 private:
  static constexpr uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace flowlake::synth
