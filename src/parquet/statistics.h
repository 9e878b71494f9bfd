// Column-chunk statistics: null count, min/max (and the helpers that compute
// and encode them per Parquet's ColumnOrder rules).
//
// Values are PLAIN-encoded without a length prefix: little-endian for
// numbers, one byte for a boolean, raw bytes for strings. Orders
// (TypeDefinedOrder): false before true for BOOLEAN, signed for
// INT32/INT64/TIMESTAMP, unsigned bytewise for UTF8, numeric for DOUBLE with
// NaN excluded, a zero min written as -0.0 and a zero max as +0.0.
// Strings longer than kStatsTruncateBytes are truncated: the min to a prefix,
// the max to a prefix whose last character is incremented, so both stay
// valid bounds; the *_exact flags say which bounds are real values.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace flowlake::parquet {

inline constexpr size_t kStatsTruncateBytes = 64;

// What the writer puts in the thrift Statistics struct of a column chunk.
struct ChunkStatistics {
  int64_t null_count = 0;
  std::optional<int64_t> distinct_count;  // set only when known exactly
  std::optional<int64_t> nan_count;       // DOUBLE columns only
  std::optional<std::string> min_value;
  std::optional<std::string> max_value;
  bool min_exact = true;
  bool max_exact = true;
  // Also fill the deprecated min/max fields (1/2), which old readers take
  // as signed-order bounds; true only for numeric types, where signed order
  // and the type order agree.
  bool legacy_min_max = false;
};

template <typename T>
struct MinMax {
  T min = std::numeric_limits<T>::max();
  T max = std::numeric_limits<T>::lowest();
  bool any = false;  // false: no valid value seen
};

// Min/max of the values whose validity byte is 1. `valid` may be empty,
// meaning all values are valid.
MinMax<int32_t> ComputeMinMax(std::span<const int32_t> values, std::span<const uint8_t> valid);
MinMax<int64_t> ComputeMinMax(std::span<const int64_t> values, std::span<const uint8_t> valid);

// Doubles: NaN is skipped and counted in *nan_count.
MinMax<double> ComputeMinMax(std::span<const double> values, std::span<const uint8_t> valid,
                             int64_t* nan_count);

// Fills min/max of `stats` from a computed range (nothing when !range.any).
void SetMinMax(const MinMax<int32_t>& range, ChunkStatistics* stats);
void SetMinMax(const MinMax<int64_t>& range, ChunkStatistics* stats);
void SetMinMax(const MinMax<double>& range, ChunkStatistics* stats);
// Booleans held as 0/1 int32 values: one byte each, false < true.
void SetBoolMinMax(const MinMax<int32_t>& range, ChunkStatistics* stats);
// Strings: truncates as described above.
void SetStringMinMax(std::string_view min, std::string_view max, ChunkStatistics* stats);

// Unsigned bytewise comparison (memcmp order, shorter prefix first).
inline bool BytesLess(std::string_view a, std::string_view b) { return a < b; }

// A lower bound of `v` at most `limit` bytes long, cut at a UTF-8 character
// boundary. *exact is set to whether the result equals v.
std::string TruncateMin(std::string_view v, size_t limit, bool* exact);

// An upper bound of `v` about `limit` bytes long, or nullopt when none
// shorter than v exists (v's first `limit` bytes are all 0xFF). For valid
// UTF-8 the last character of the prefix is incremented (U+10FFFF dropped and
// the carry moved left), so the bound stays valid UTF-8; other bytes get a
// bytewise increment. *exact is set to whether the result equals v.
std::optional<std::string> TruncateMax(std::string_view v, size_t limit, bool* exact);

bool IsValidUtf8(std::string_view s);

}  // namespace flowlake::parquet
