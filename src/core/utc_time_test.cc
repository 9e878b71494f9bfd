#include "core/utc_time.h"

#include <chrono>
#include <cstdio>

#include <gtest/gtest.h>

namespace flowlake {
namespace {

std::string Utc(int64_t ms, bool millis = false) {
  std::string s;
  AppendUtcTimestamp(s, ms, millis);
  return s;
}

TEST(UtcTime, KnownInstants) {
  EXPECT_EQ(Utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(Utc(1764547200000), "2025-12-01T00:00:00Z");
  EXPECT_EQ(Utc(1764547200000 + 7 * 60000 + 999), "2025-12-01T00:07:00Z");
  EXPECT_EQ(Utc(1764547200000 + 7 * 60000 + 999, true), "2025-12-01T00:07:00.999Z");
  EXPECT_EQ(Utc(951782400000), "2000-02-29T00:00:00Z");  // leap day of a century year
  EXPECT_EQ(Utc(4107542399000), "2100-02-28T23:59:59Z");  // 2100 is not a leap year
  EXPECT_EQ(Utc(4107542400000), "2100-03-01T00:00:00Z");
  EXPECT_EQ(Utc(-1), "1969-12-31T23:59:59Z");  // rounds down, not toward zero
  EXPECT_EQ(Utc(-1, true), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(Utc(253402300799000), "9999-12-31T23:59:59Z");
  EXPECT_EQ(Utc(253402300800000), "10000-01-01T00:00:00Z");
  EXPECT_EQ(Utc(5, true), "1970-01-01T00:00:00.005Z");
}

// Against the standard library's calendar, day by day over 1900-2200 and at
// random instants around it.
TEST(UtcTime, AgreesWithChrono) {
  using namespace std::chrono;
  const auto expect = [](int64_t ms) {
    const sys_time<milliseconds> t{milliseconds(ms)};
    const sys_days day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{t - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<long long>(hms.hours().count()),
                  static_cast<long long>(hms.minutes().count()),
                  static_cast<long long>(hms.seconds().count()),
                  static_cast<long long>(hms.subseconds().count()));
    return std::string(buf);
  };
  const int64_t first = -25567;  // 1900-01-01
  const int64_t last = 84006;    // 2200-01-01
  for (int64_t d = first; d <= last; ++d) {
    const int64_t ms = d * 86400000 + (d * 7919 % 86400) * 1000 + d % 1000 * (d < 0 ? -1 : 1);
    ASSERT_EQ(Utc(ms, true), expect(ms)) << "day " << d;
  }
}

TEST(UtcTime, CivilDates) {
  std::string s;
  AppendCivilDate(s, 0);
  EXPECT_EQ(s, "1970-01-01");
  s.clear();
  AppendCivilDate(s, -719528);  // 0000-01-01
  EXPECT_EQ(s, "0000-01-01");
  s.clear();
  AppendCivilDate(s, -719529);
  EXPECT_EQ(s, "-1-12-31");
  const CivilDay c = CivilFromDays(20423);
  EXPECT_EQ(c.year, 2025);
  EXPECT_EQ(c.month, 12);
  EXPECT_EQ(c.day, 1);
}

}  // namespace
}  // namespace flowlake
