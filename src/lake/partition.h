// Lake partitions: Hive-style `date=YYYY-MM-DD/hour=H` directories derived
// from a flow's start time in UTC.
//
// Partition values are computed from integers, never copied from input, so
// no input can produce a path outside the lake.
#pragma once

#include <cstdint>
#include <string>

namespace flowlake {

inline constexpr int64_t kMsPerHour = 3600LL * 1000;

// Hours since the Unix epoch (floor), the partition key of a timestamp.
inline int64_t HourBucket(int64_t epoch_ms) {
  return epoch_ms >= 0 ? epoch_ms / kMsPerHour : -((-epoch_ms + kMsPerHour - 1) / kMsPerHour);
}

// "date=2025-12-01/hour=7" for an hour bucket. The hour is not zero-padded
// so engines infer it as an integer (DuckDB reads "07" as VARCHAR, and
// `hour = 7` would then silently match nothing).
std::string PartitionPath(int64_t hour_bucket);

// "2025-12-01" for days since the epoch (proleptic Gregorian, UTC).
std::string CivilDate(int64_t days_since_epoch);

}  // namespace flowlake
