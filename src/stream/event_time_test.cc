#include "stream/event_time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace flowlake {
namespace {

constexpr int64_t kT0 = 1764547200000;  // 2025-12-01T00:00:00Z
constexpr int64_t kMin = 60000;
constexpr int64_t kLateness = 2 * kMin;
constexpr int64_t kIdle = 10000;

// A batch of one null row per entry, each of the given source; `expected`
// (may be null) is the batch's expected source set.
FlowBatch Rows(const std::vector<uint32_t>& sources, FlowBatch::SourceSet expected = nullptr) {
  FlowBatch b;
  for (const uint32_t s : sources) {
    b.BeginSource(s);
    for (size_t c = 0; c < kFlowColumnCount; ++c) b.column(c).AppendNull();
  }
  b.set_expected_sources(std::move(expected));
  return b;
}

FlowBatch::SourceSet Set(std::vector<uint32_t> ids) {
  return std::make_shared<const std::vector<uint32_t>>(std::move(ids));
}

EventTimeWatermark Watermark() { return EventTimeWatermark(kMin, kLateness, kIdle); }

// At time 0, sources 1 and 2 deliver a flow each, 1 ten minutes ahead of 2
// (with `expected` as the batch's expected set): 2 holds the watermark.
EventTimeWatermark OneAheadOfTwo(FlowBatch::SourceSet expected = nullptr) {
  EventTimeWatermark w = Watermark();
  w.BeginBatch(0, Rows({1, 2}, std::move(expected)));
  w.AfterFlow(kT0 + 10 * kMin, 1);
  w.AfterFlow(kT0, 2);
  EXPECT_EQ(w.value(), kT0 - kLateness);
  return w;
}

TEST(EventTimeWatermarkTest, OneSourceIsTheLargestStartLessTheLateness) {
  EventTimeWatermark w = Watermark();
  EXPECT_EQ(w.value(), INT64_MIN);
  FlowBatch file;  // no source runs: all of source 0
  for (size_t c = 0; c < kFlowColumnCount; ++c) file.column(c).AppendNull();
  w.BeginBatch(0, file);
  EXPECT_TRUE(w.AfterFlow(kT0 + 10 * kMin));
  EXPECT_EQ(w.value(), kT0 + 8 * kMin);
  EXPECT_FALSE(w.AfterFlow(kT0));  // an older flow never moves it back
  EXPECT_EQ(w.value(), kT0 + 8 * kMin);
  EXPECT_TRUE(w.AfterFlow(kT0 + 11 * kMin));
  EXPECT_EQ(w.value(), kT0 + 9 * kMin);
  EXPECT_TRUE(w.IsClosed(kT0 + 8 * kMin));
  EXPECT_FALSE(w.IsClosed(kT0 + 9 * kMin));
}

// The backlog case: partition 1 is read 30 minutes ahead of partition 2.
// The watermark follows the partition behind, so 2's flows are not late.
TEST(EventTimeWatermarkTest, ASourceReadAheadDoesNotMakeAnothersFlowsLate) {
  EventTimeWatermark w = Watermark();
  w.BeginBatch(0, Rows({1, 2}));
  w.AfterFlow(kT0 + 30 * kMin, 1);
  EXPECT_EQ(w.value(), INT64_MIN);  // 2 has delivered nothing yet
  w.AfterFlow(kT0, 2);
  EXPECT_EQ(w.value(), kT0 - kLateness);
  EXPECT_FALSE(w.IsClosed(kT0));
  // Partition 1 goes on; the watermark waits for 2.
  w.BeginBatch(100, Rows({1}));
  EXPECT_FALSE(w.AfterFlow(kT0 + 40 * kMin, 1));
  EXPECT_EQ(w.value(), kT0 - kLateness);
  // 2 catches up: the watermark follows it, up to what 1 has reached.
  w.BeginBatch(200, Rows({2}));
  EXPECT_TRUE(w.AfterFlow(kT0 + 20 * kMin, 2));
  EXPECT_EQ(w.value(), kT0 + 18 * kMin);
  EXPECT_TRUE(w.AfterFlow(kT0 + 50 * kMin, 2));
  EXPECT_EQ(w.value(), kT0 + 38 * kMin);  // now 1 holds it
  EXPECT_EQ(w.max_start(), kT0 + 50 * kMin);
}

TEST(EventTimeWatermarkTest, AnExpectedSourceHoldsItBackUntilItDeliversOrIdles) {
  EventTimeWatermark w = Watermark();
  const FlowBatch::SourceSet assigned = Set({1, 2});
  w.BeginBatch(0, Rows({1}, assigned));
  w.AfterFlow(kT0 + 30 * kMin, 1);
  EXPECT_EQ(w.value(), INT64_MIN);  // 2 is assigned and may hold older flows
  w.BeginBatch(kIdle - 1, Rows({1}, assigned));
  w.AfterFlow(kT0 + 31 * kMin, 1);
  EXPECT_EQ(w.value(), INT64_MIN);
  // Expected for idle_timeout_ms without a flow: 2 no longer holds it back.
  EXPECT_TRUE(w.BeginBatch(kIdle, Rows({1}, assigned)));
  EXPECT_EQ(w.value(), kT0 + 29 * kMin);
  // When 2 delivers at last, it counts again, from its own flows: the
  // watermark does not go back, and does not move until 2 passes it.
  w.BeginBatch(kIdle + 1, Rows({2}, assigned));
  EXPECT_FALSE(w.AfterFlow(kT0 + 5 * kMin, 2));
  EXPECT_EQ(w.value(), kT0 + 29 * kMin);
  w.BeginBatch(kIdle + 2, Rows({1}, assigned));
  EXPECT_FALSE(w.AfterFlow(kT0 + 40 * kMin, 1));
  EXPECT_EQ(w.value(), kT0 + 29 * kMin);
}

TEST(EventTimeWatermarkTest, AnIdleSourceStopsHoldingItBackByBatchOrTick) {
  EventTimeWatermark w = OneAheadOfTwo();
  w.BeginBatch(kIdle / 2, Rows({1}));
  w.AfterFlow(kT0 + 20 * kMin, 1);
  EXPECT_EQ(w.value(), kT0 - kLateness);
  // 1 is still active at this tick, 2 has been silent for idle_timeout_ms.
  EXPECT_TRUE(w.Tick(kIdle));
  EXPECT_EQ(w.value(), kT0 + 18 * kMin);
  EXPECT_FALSE(w.Idle(kIdle));
}

TEST(EventTimeWatermarkTest, UnassignedSourcesAreForgotten) {
  EventTimeWatermark w = OneAheadOfTwo(Set({1, 2}));
  // Partition 2 is revoked (a rebalance): a new assignment without it.
  EXPECT_TRUE(w.BeginBatch(1, Rows({1}, Set({1}))));
  EXPECT_EQ(w.value(), kT0 + 8 * kMin);
}

TEST(EventTimeWatermarkTest, WhenEverySourceIsIdleEventTimeMovesWithWallTime) {
  EventTimeWatermark w = OneAheadOfTwo();
  EXPECT_FALSE(w.Tick(kIdle - 1));
  EXPECT_FALSE(w.Idle(kIdle - 1));
  // Idle for 15 s past the timeout: max start + idle - lateness.
  EXPECT_TRUE(w.Idle(kIdle + 15000));
  EXPECT_TRUE(w.Tick(kIdle + 15000));
  EXPECT_EQ(w.value(), kT0 + 10 * kMin + kIdle + 15000 - kLateness);
}

// A pipeline stalled behind a slow lake hands the analysis its batches late.
// Idleness is judged by when the input got the rows (the batch's input
// time), so the sources held up with them do not look idle.
TEST(EventTimeWatermarkTest, InputTimesNotAnalysisTimesDecideIdleness) {
  for (const bool with_input_times : {true, false}) {
    SCOPED_TRACE(with_input_times ? "input times" : "analysis times");
    EventTimeWatermark w = OneAheadOfTwo();
    // Polled half a second later, analysed a minute later.
    FlowBatch b = Rows({1});
    if (with_input_times) b.set_input_time_ms(500);
    w.BeginBatch(60000, b);
    w.AfterFlow(kT0 + 20 * kMin, 1);
    if (with_input_times) {
      EXPECT_EQ(w.value(), kT0 - kLateness);  // 2 still holds it
    } else {
      EXPECT_EQ(w.value(), kT0 + 18 * kMin);  // 2 looked idle
    }
  }
}

TEST(FlowBatchTest, SourceRunsFollowTheRowsAndClearDropsThem) {
  FlowBatch b = Rows({3, 3, 5, 3});
  b.BeginSource(7);  // no row follows: no run
  const std::vector<FlowBatch::SourceRun> runs(b.source_runs().begin(), b.source_runs().end());
  ASSERT_EQ(runs.size(), 4u);  // 3, 5, 3, then 7 at row 4 (which has no row)
  SourceCursor cursor(b);
  EXPECT_EQ(cursor.At(0), 3u);
  EXPECT_EQ(cursor.At(1), 3u);
  EXPECT_EQ(cursor.At(2), 5u);
  EXPECT_EQ(cursor.At(3), 3u);
  b.BeginSource(8);  // replaces the empty run of 7
  EXPECT_EQ(b.source_runs().back().source, 8u);
  EXPECT_EQ(b.source_runs().size(), 4u);
  b.set_expected_sources(Set({3, 5}));
  b.set_input_time_ms(42);
  b.Clear();
  EXPECT_TRUE(b.source_runs().empty());
  EXPECT_EQ(b.expected_sources(), nullptr);
  EXPECT_EQ(b.input_time_ms(), INT64_MIN);
  EXPECT_EQ(b.num_rows(), 0u);
}

}  // namespace
}  // namespace flowlake
