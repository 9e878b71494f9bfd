// Per-column-chunk dictionaries: the distinct values of a chunk in
// first-seen order, and the index of each valid value into them.
//
// Built for every chunk of a string or integer column, then kept or dropped
// by the column writer (dictionary.cc explains the tables; the keep/drop
// rule lives in column_chunk_writer.cc). Build() gives up as soon as the
// dictionary passes `max_entries` or `max_bytes`, so a high-cardinality
// column costs a bounded amount of hashing before it falls back to PLAIN.
//
// Contract: a dictionary object is reused across chunks (Build() resets it)
// and allocates only when a chunk has more distinct values than any before.
// StringDictionary entries point into the Column's arena: the Column must
// stay alive and unchanged while the entries are used. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/column.h"

namespace flowlake::parquet {

// 64-bit hash of a byte string (not cryptographic; for hash tables).
uint64_t HashBytes(const char* p, size_t n);

struct DictionaryLimits {
  size_t max_entries = 0;  // give up beyond this many distinct values
  size_t max_bytes = 0;    // give up beyond this PLAIN-encoded size
  // Give up early when, after `probe_values` values, more than
  // `probe_fraction` of them were distinct (0: never).
  size_t probe_values = 0;
  double probe_fraction = 0;
};

template <typename T>
class IntDictionary {
 public:
  static_assert(sizeof(T) == 4 || sizeof(T) == 8);

  // Indexes the valid values of `values` (`valid` empty = all valid), whose
  // range is [min, max], writing one index per valid value to `indices`
  // (room for all of them required). Returns false when a limit is hit.
  bool Build(std::span<const T> values, std::span<const uint8_t> valid, T min, T max,
             const DictionaryLimits& limits, uint32_t* indices);

  std::span<const T> entries() const { return entries_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Slot {
    T key;
    uint32_t index;  // kEmpty when unused
  };
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  // Value ranges up to this size use a direct-mapped table instead of hashing.
  static constexpr uint64_t kDirectRange = 1 << 16;

  bool BuildDirect(std::span<const T> values, std::span<const uint8_t> valid, T min,
                   const DictionaryLimits& limits, uint32_t* indices);
  bool BuildHashed(std::span<const T> values, std::span<const uint8_t> valid,
                   const DictionaryLimits& limits, uint32_t* indices);
  void ResetHashTable(size_t capacity);
  void GrowHashTable();

  std::vector<T> entries_;
  std::vector<uint32_t> direct_;  // value - min -> index; kEmpty = absent
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 0;
};

class StringDictionary {
 public:
  // Like IntDictionary::Build, for a kString column.
  bool Build(const Column& column, const DictionaryLimits& limits, uint32_t* indices);

  std::span<const std::string_view> entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  // PLAIN size of the dictionary page: sum of (4 + length) over entries.
  size_t plain_bytes() const { return plain_bytes_; }

 private:
  struct Slot {
    uint32_t hash;   // high half of the 64-bit hash, to skip most memcmps
    uint32_t index;  // kEmpty when unused
  };
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;

  void ResetHashTable(size_t capacity);
  void GrowHashTable();

  std::vector<std::string_view> entries_;
  std::vector<uint64_t> entry_hashes_;  // of each entry, for rehashing
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t plain_bytes_ = 0;
};

extern template class IntDictionary<int32_t>;
extern template class IntDictionary<int64_t>;

}  // namespace flowlake::parquet
