#include "lake/partition.h"

#include <cstdio>

namespace flowlake {

std::string CivilDate(int64_t days) {
  // Howard Hinnant's days_from_civil inverse: exact for the whole int range,
  // no time zone database and no locale involved.
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(year),
                static_cast<long long>(month), static_cast<long long>(day));
  return buf;
}

std::string PartitionPath(int64_t hour_bucket) {
  int64_t days = hour_bucket >= 0 ? hour_bucket / 24 : -((-hour_bucket + 23) / 24);
  int64_t hour = hour_bucket - days * 24;
  char buf[40];
  std::snprintf(buf, sizeof buf, "/hour=%lld", static_cast<long long>(hour));
  return "date=" + CivilDate(days) + buf;
}

}  // namespace flowlake
