// DistinctCounter: exact distinct counts up to a bound, then HyperLogLog.
//
// Built for per-host, per-window rollups: there can be 100k of them, and most
// hosts see few distinct peers or ports, so a counter starts as a sorted
// vector of the 64-bit hashes it has seen (8 bytes a value, nothing until the
// first Add) and turns into a HyperLogLog of 2^precision bytes the moment it
// would hold more than `exact_limit` hashes, inserting the hashes it kept.
//
// "Exact" means exact over hashes: two values whose 64-bit hashes collide
// count once (at 256 values the chance is ~2^-48).
//
// Merge: exact + exact stays exact while the union has at most exact_limit
// hashes; any other combination becomes HyperLogLog. The result depends only
// on the set of hashes added to all the inputs, never on the order of Adds and
// Merges. Not thread-safe; copyable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "stream/hyperloglog.h"

namespace flowlake {

struct DistinctCounterConfig {
  // 4096 registers, 1.6% standard error.
  int precision = HyperLogLog::kDefaultPrecision;
  // 256 hashes take at most 2 KiB, half of the 4 KiB of registers they are
  // replaced by, and at 256 values linear counting over 4096 registers is
  // already within ~1.1% (one standard error), so the switch does not jump.
  uint32_t exact_limit = 256;

  // InvalidArgument unless precision is in [4, 18] and
  // exact_limit <= 2^precision.
  Status Validate() const;
};

class DistinctCounter {
 public:
  static constexpr uint8_t kTagExact = 0x01;
  static constexpr uint8_t kTagHyperLogLog = 0x02;

  // config must Validate() (asserted): validate it at start-up.
  explicit DistinctCounter(DistinctCounterConfig config = {});

  // Adds one hashed value (stream/hash.h).
  void Add(uint64_t hash);

  // Adds every value counted by other. InvalidArgument (and *this unchanged)
  // if the precisions differ.
  Status Merge(const DistinctCounter& other);

  // The exact count while is_exact(), else the rounded HyperLogLog estimate.
  uint64_t Count() const;
  // The HyperLogLog estimate unrounded, or the exact count.
  double Estimate() const;
  bool is_exact() const { return !hll_.has_value(); }

  const DistinctCounterConfig& config() const { return config_; }
  // The kept hashes, ascending (empty once not exact).
  const std::vector<uint64_t>& exact_hashes() const { return exact_; }
  // The sketch once not exact, else nullptr.
  const HyperLogLog* hyperloglog() const { return hll_ ? &*hll_ : nullptr; }

  // Exact:       [0x01][version = 1][precision][n x uint64 little-endian, ascending]
  // HyperLogLog: [0x02][HyperLogLog::Serialize()]
  // Byte by byte in docs/rollup-sketches.md.
  std::string Serialize() const;
  // Corruption on an unknown tag or version, a bad length, hashes not strictly
  // ascending, or bad registers; InvalidArgument if the precision is not
  // config.precision or an exact list is longer than config.exact_limit.
  static Result<DistinctCounter> Deserialize(std::string_view bytes,
                                             DistinctCounterConfig config = {});

  friend bool operator==(const DistinctCounter&, const DistinctCounter&);

 private:
  void SwitchToHyperLogLog();

  DistinctCounterConfig config_;
  std::vector<uint64_t> exact_;     // ascending, unique; empty once hll_ is set
  std::optional<HyperLogLog> hll_;  // set once the exact bound was passed
};

}  // namespace flowlake
