// HyperLogLog: a mergeable estimate of the number of distinct 64-bit hashes.
//
// Flajolet, Fusy, Gandouet, Meunier, "HyperLogLog: the analysis of a
// near-optimal cardinality estimation algorithm" (AofA 2007), with the
// changes of Heule, Nunkesser, Hall, "HyperLogLog in practice" (EDBT 2013)
// that need no tables: a 64-bit hash (so no large-range correction) and
// linear counting for small ranges. Heule et al.'s empirical bias tables are
// not used: the estimate has to be reproducible in SQL from the registers
// alone (docs/rollup-sketches.md).
//
// m = 2^precision one-byte registers. The top `precision` bits of a hash pick
// the register; the register keeps the maximum over its hashes of
// rho = 1 + (leading zeros of the remaining 64 - precision bits), at most
// 65 - precision. Standard error ~1.04 / sqrt(m): 1.6% at the default 12
// (4096 bytes).
//
// Add and Merge are commutative, associative and idempotent, so partial
// sketches from any number of processes merge to the same registers as one
// sketch fed every value. Not thread-safe; copyable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace flowlake {

class HyperLogLog {
 public:
  static constexpr int kMinPrecision = 4;
  static constexpr int kMaxPrecision = 18;
  static constexpr int kDefaultPrecision = 12;
  static constexpr uint8_t kFormatVersion = 1;

  // precision must be in [kMinPrecision, kMaxPrecision] (asserted).
  explicit HyperLogLog(int precision = kDefaultPrecision);

  // Adds one hashed value (see stream/hash.h). Hashes must be well mixed:
  // raw integers or addresses give biased estimates.
  void Add(uint64_t hash);

  // Register-wise max. InvalidArgument if the precisions differ (then *this
  // is unchanged).
  Status Merge(const HyperLogLog& other);

  // Estimated number of distinct hashes added (see the .cc for the formula).
  double Estimate() const;

  int precision() const { return precision_; }
  const std::vector<uint8_t>& registers() const { return registers_; }
  // 1.04 / sqrt(m): the relative standard error of Estimate().
  double StandardError() const;

  // [version = 1][precision][2^precision registers]: 4098 bytes at p = 12.
  std::string Serialize() const;
  // Corruption on a wrong version, a precision out of range, a length that
  // does not match the precision, or a register above 65 - precision.
  static Result<HyperLogLog> Deserialize(std::string_view bytes);

  friend bool operator==(const HyperLogLog&, const HyperLogLog&) = default;

 private:
  int precision_;
  std::vector<uint8_t> registers_;
};

}  // namespace flowlake
