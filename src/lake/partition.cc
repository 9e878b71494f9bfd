#include "lake/partition.h"

#include <cstdio>

#include "core/utc_time.h"

namespace flowlake {

std::string CivilDate(int64_t days) {
  std::string out;
  AppendCivilDate(out, days);
  return out;
}

std::string PartitionPath(int64_t hour_bucket) {
  int64_t days = hour_bucket >= 0 ? hour_bucket / 24 : -((-hour_bucket + 23) / 24);
  int64_t hour = hour_bucket - days * 24;
  char buf[40];
  std::snprintf(buf, sizeof buf, "/hour=%lld", static_cast<long long>(hour));
  return "date=" + CivilDate(days) + buf;
}

}  // namespace flowlake
