// UTC calendar arithmetic for the text flowlake writes: lake partition names
// (date=YYYY-MM-DD), ISO 8601 timestamps in rollups, events and ground truth.
// No time zone database, no locale, no allocation beyond the output string:
// rollup output formats two timestamps per record, hundreds of thousands of
// times per second.
#pragma once

#include <cstdint>
#include <string>

namespace flowlake {

struct CivilDay {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// The proleptic Gregorian date of `days` since 1970-01-01 (negative: before).
// Exact for every int64_t day count whose year fits in int64_t (Howard
// Hinnant's civil_from_days).
CivilDay CivilFromDays(int64_t days);

// Appends "YYYY-MM-DD" (years before 0 or past 9999 print as many digits as
// they need, with a '-' sign if negative).
void AppendCivilDate(std::string& out, int64_t days);

// Appends "YYYY-MM-DDTHH:MM:SSZ", or with `millis` "YYYY-MM-DDTHH:MM:SS.mmmZ",
// for epoch milliseconds `ms` (rounded down to the second, or kept to the
// millisecond).
void AppendUtcTimestamp(std::string& out, int64_t ms, bool millis = false);

}  // namespace flowlake
