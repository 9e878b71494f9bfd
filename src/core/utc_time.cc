#include "core/utc_time.h"

#include <charconv>

namespace flowlake {

namespace {

// Two digits, zero-padded (0..99).
void AppendTwo(std::string& out, int64_t v) {
  out += static_cast<char>('0' + v / 10);
  out += static_cast<char>('0' + v % 10);
}

void AppendYear(std::string& out, int64_t year) {
  if (year >= 0 && year <= 9999) {
    AppendTwo(out, year / 100);
    AppendTwo(out, year % 100);
    return;
  }
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, year);
  out.append(buf, end);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

CivilDay CivilFromDays(int64_t days) {
  // Howard Hinnant's civil_from_days: eras of 400 years (146097 days) that
  // start on March 1st, so that the leap day ends the year.
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                   // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                 // [0, 11]
  CivilDay c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  return c;
}

void AppendCivilDate(std::string& out, int64_t days) {
  const CivilDay c = CivilFromDays(days);
  AppendYear(out, c.year);
  out += '-';
  AppendTwo(out, c.month);
  out += '-';
  AppendTwo(out, c.day);
}

void AppendUtcTimestamp(std::string& out, int64_t ms, bool millis) {
  constexpr int64_t kDayMs = 86400000;
  const int64_t days = FloorDiv(ms, kDayMs);
  const int64_t in_day_ms = ms - days * kDayMs;  // [0, kDayMs)
  AppendCivilDate(out, days);
  out += 'T';
  const int64_t secs = in_day_ms / 1000;
  AppendTwo(out, secs / 3600);
  out += ':';
  AppendTwo(out, secs / 60 % 60);
  out += ':';
  AppendTwo(out, secs % 60);
  if (millis) {
    const int64_t frac = in_day_ms % 1000;
    out += '.';
    out += static_cast<char>('0' + frac / 100);
    AppendTwo(out, frac % 100);
  }
  out += 'Z';
}

}  // namespace flowlake
