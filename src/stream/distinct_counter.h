// DistinctCounter: exact distinct counts up to a bound, then HyperLogLog.
//
// Built for per-host, per-window rollups: there can be 100k of them, and most
// hosts see few distinct peers or ports, so a counter starts as a small set
// of the 64-bit hashes it has seen (two inline, then an open-addressing
// table of 8 slots of 8 bytes, doubling at 3/4 full) and turns into a
// HyperLogLog of 2^precision bytes the moment it would hold more than
// `exact_limit` hashes, inserting the hashes it kept. The set is sorted only
// when read in order (Serialize(), exact_hashes()): Add() is one probe.
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
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "stream/hyperloglog.h"

namespace flowlake {

struct DistinctCounterConfig {
  // 4096 registers, 1.6% standard error.
  int precision = HyperLogLog::kDefaultPrecision;
  // 256 hashes take at most a 4 KiB table, no more than the 4 KiB of
  // registers they are replaced by, and at 256 values linear counting over
  // 4096 registers is already within ~1.1% (one standard error), so the
  // switch does not jump.
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
  DistinctCounter(const DistinctCounter& other);
  DistinctCounter& operator=(const DistinctCounter& other);
  // A moved-from counter is empty.
  DistinctCounter(DistinctCounter&& other) noexcept;
  DistinctCounter& operator=(DistinctCounter&& other) noexcept;
  ~DistinctCounter();

  // Adds one hashed value (stream/hash.h). Adding is idempotent, and a
  // rollup counter often sees its last value again (a host polling one
  // server, a burst of flows to one port): that repeat returns before any
  // search.
  void Add(uint64_t hash) {
    if (has_last_ && hash == last_) return;
    AddNew(hash);
  }
  // Add(hash), returning by how much it changed HeapBytes(): 0 unless the
  // table grew or the counter became a HyperLogLog. Lets an owner of many
  // counters keep a running total of their memory without reading them all.
  int64_t AddCountingHeap(uint64_t hash) {
    if (has_last_ && hash == last_) return 0;
    return AddNew(hash);
  }
  // A hint that Add(hash) follows soon: fetches the memory it will probe
  // first into the cache. Changes nothing.
  void Prefetch(uint64_t hash) const {
    if (slot_count_ > 0) __builtin_prefetch(&slots_[hash & (slot_count_ - 1)]);
  }

  // Adds every value counted by other. InvalidArgument (and *this unchanged)
  // if the precisions differ.
  Status Merge(const DistinctCounter& other);

  // The exact count while is_exact(), else the rounded HyperLogLog estimate.
  uint64_t Count() const;
  // The HyperLogLog estimate unrounded, or the exact count.
  double Estimate() const;
  bool is_exact() const { return hll_ == nullptr; }
  // The heap bytes this counter holds (its exact table, or its HyperLogLog
  // object and registers), not counting sizeof(DistinctCounter) itself nor
  // the allocator's own overhead. 0 while at most two hashes (and 0) are
  // kept.
  size_t HeapBytes() const {
    return size_t{slot_count_} * sizeof(uint64_t) +
           (hll_ ? sizeof(HyperLogLog) + hll_->registers().capacity() : 0);
  }

  const DistinctCounterConfig& config() const { return config_; }
  // The kept hashes, ascending (empty once not exact).
  std::vector<uint64_t> exact_hashes() const;
  // The sketch once not exact, else nullptr.
  const HyperLogLog* hyperloglog() const { return hll_.get(); }

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
  // Add() of a hash that is not last_; the change in HeapBytes().
  int64_t AddNew(uint64_t hash);
  void SwitchToHyperLogLog();
  // Exact mode: inserts `hash` if new; true if it was.
  bool Insert(uint64_t hash);
  void Grow();
  // The kept hashes, in table order.
  void AppendExact(std::vector<uint64_t>& out) const;
  // Calls f(hash) for every kept hash but 0.
  template <typename F>
  void ForEachNonZero(F f) const;

  DistinctCounterConfig config_;
  // Exact mode: the first two hashes other than 0 are kept in small_ (most
  // counters never see a third: no allocation); from the third on, in slots_,
  // slot_count_ (a power of two) of them, open addressing with linear
  // probing over the low bits of the hash. Slot value 0 is "empty", so the
  // hash 0 is kept in has_zero_. slots_ is null (slot_count_ 0) while small_
  // is used and once hll_ is set. An array and its size, not a vector: 16
  // bytes less per counter, three per host of a rollup window.
  uint64_t small_[2] = {0, 0};
  std::unique_ptr<uint64_t[]> slots_;
  // Set once the exact bound was passed. A pointer, not an optional: a rollup
  // window holds three counters per host, most never leave exact mode, and a
  // smaller counter means fewer cache misses per flow.
  std::unique_ptr<HyperLogLog> hll_;
  // The hash Add() saw last, if has_last_: one of the counted values.
  uint64_t last_ = 0;
  uint32_t slot_count_ = 0;
  uint32_t exact_count_ = 0;  // hashes kept, including 0
  bool has_zero_ = false;
  bool has_last_ = false;
};

}  // namespace flowlake
