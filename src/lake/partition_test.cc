#include "lake/partition.h"

#include <gtest/gtest.h>

namespace flowlake {
namespace {

// Expected dates from GNU `date -u -d @SECONDS +%F`.
TEST(PartitionTest, CivilDateMatchesGnuDate) {
  EXPECT_EQ(CivilDate(0), "1970-01-01");
  EXPECT_EQ(CivilDate(20423), "2025-12-01");
  EXPECT_EQ(CivilDate(19782), "2024-02-29");
  EXPECT_EQ(CivilDate(11017), "2000-03-01");
  EXPECT_EQ(CivilDate(-1), "1969-12-31");
  EXPECT_EQ(CivilDate(2932896), "9999-12-31");
}

TEST(PartitionTest, HourBucketFloors) {
  EXPECT_EQ(HourBucket(0), 0);
  EXPECT_EQ(HourBucket(kMsPerHour - 1), 0);
  EXPECT_EQ(HourBucket(kMsPerHour), 1);
  EXPECT_EQ(HourBucket(-1), -1);
}

TEST(PartitionTest, PathFromStartTime) {
  // 2025-12-01T07:59:59.999Z and 2025-12-01T23:00:00Z
  EXPECT_EQ(PartitionPath(HourBucket(1764547200000 + 8 * kMsPerHour - 1)),
            "date=2025-12-01/hour=7");
  EXPECT_EQ(PartitionPath(HourBucket(1764547200000 + 23 * kMsPerHour)),
            "date=2025-12-01/hour=23");
  EXPECT_EQ(PartitionPath(HourBucket(1764547200000 + 24 * kMsPerHour)),
            "date=2025-12-02/hour=0");
  EXPECT_EQ(PartitionPath(-1), "date=1969-12-31/hour=23");
}

}  // namespace
}  // namespace flowlake
