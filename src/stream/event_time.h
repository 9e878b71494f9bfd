// Event-time rules shared by the stream components that window flows: the
// tumbling window of a timestamp, the watermark (per source, advanced per
// flow, never per batch, and by wall time when idle), and the spreading of a
// long flow's counters over the windows it overlaps. docs/rollups.md states
// the rules; HostRollups and Detectors both use them through this header, so
// they agree on which flows are late.
//
// Header-only. EventTimeWatermark allocates only when it meets a new source
// id, and is not thread-safe (one per stream).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/flow_schema.h"

namespace flowlake {

// floor(a / b) for b > 0, also for negative a.
constexpr int64_t FloorDivide(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The start of the window of length `window_ms` holding `t_ms`.
constexpr int64_t WindowStartOf(int64_t t_ms, int64_t window_ms) {
  return FloorDivide(t_ms, window_ms) * window_ms;
}

// The watermark of a stream that may come from several sources (Kafka
// partitions; a file is one source, 0): each source has the largest start
// time it delivered, and the watermark is the smallest of those, over the
// sources that are not idle, minus the lateness. So a partition read ahead
// of the others (a backlog, a restart) does not make their flows late, and a
// single source gives max start seen - lateness, advanced flow by flow.
//
// A source counts while it delivered within idle_timeout_ms (monotonic
// clock), or is in the batch being consumed. A source the stream expects
// (FlowBatch::expected_sources(): the assigned partitions) but that has
// delivered nothing yet holds the watermark back until it has been expected
// for idle_timeout_ms: its first flows may be the oldest. When every source
// is idle, event time moves with wall time (Tick()). The watermark never goes
// back. docs/rollups.md states the rules.
class EventTimeWatermark {
 public:
  EventTimeWatermark(int64_t window_ms, int64_t lateness_ms, int64_t idle_timeout_ms)
      : window_ms_(window_ms), lateness_ms_(lateness_ms), idle_timeout_ms_(idle_timeout_ms) {}

  // INT64_MIN until the first flow.
  int64_t value() const { return watermark_ms_; }
  // True once the watermark has reached the window's end: a flow starting
  // in it is late.
  bool IsClosed(int64_t window_start_ms) const {
    return watermark_ms_ != INT64_MIN && watermark_ms_ >= window_start_ms + window_ms_;
  }
  // The largest start seen, from any source (or restored).
  std::optional<int64_t> max_start() const { return max_start_ms_; }

  // Before the rows of a non-empty batch, with the monotonic clock: its
  // sources have delivered at the batch's input time (or now, if it has
  // none); the expected set, if the batch has one, replaces the sources the
  // stream may deliver (sources no longer in it are forgotten). True if the
  // watermark moved (a source gone idle or forgotten released it). Input
  // times, not the time the analysis gets to a batch, decide which sources
  // are idle: a pipeline stalled behind a slow lake delays every source
  // alike.
  bool BeginBatch(int64_t monotonic_ms, const FlowBatch& batch) {
    if (batch.input_time_ms() != INT64_MIN) monotonic_ms = batch.input_time_ms();
    now_ms_ = monotonic_ms;
    last_arrival_ms_ = monotonic_ms;
    if (const FlowBatch::SourceSet& expected = batch.expected_sources()) {
      if (expected != expected_) {
        expected_ = expected;
        for (Source& s : sources_) s.expected = false;
        for (const uint32_t id : *expected_) {
          Source& s = At(id);
          if (!s.known) s = Source{.known = true, .since_ms = monotonic_ms};
          s.expected = true;
        }
        for (Source& s : sources_) {
          if (s.known && !s.expected) s = Source{};
        }
      }
    }
    for (Source& s : sources_) s.in_batch = false;
    if (batch.source_runs().empty()) {
      Arrive(0, monotonic_ms);
    } else {
      for (const FlowBatch::SourceRun& run : batch.source_runs()) Arrive(run.source, monotonic_ms);
    }
    return Recompute(/*in_batch_counts=*/true);
  }
  // After every flow, of `source` (one of the batch's): true if the
  // watermark moved.
  bool AfterFlow(int64_t start_ms, uint32_t source = 0) {
    if (!max_start_ms_ || start_ms > *max_start_ms_) max_start_ms_ = start_ms;
    Source& s = At(source);
    if (s.has_max && start_ms <= s.max_start_ms) return false;
    const bool was_unseen = !s.has_max;
    s.has_max = true;
    s.max_start_ms = start_ms;
    s.known = true;
    // Only the source holding the watermark (or one that held it back by
    // delivering nothing yet) can move it.
    if (single_ && !was_unseen) return AdvanceTo(start_ms - lateness_ms_);
    if (!was_unseen && source != holder_) return false;
    return Recompute(/*in_batch_counts=*/true);
  }
  // With the monotonic clock, between batches: sources idle for
  // idle_timeout_ms stop holding the watermark back, and once every source
  // is, it moves with wall time: max start + idle time - lateness. True if
  // the watermark moved.
  bool Tick(int64_t monotonic_ms) {
    if (!max_start_ms_) return false;
    now_ms_ = monotonic_ms;
    bool moved = Recompute(/*in_batch_counts=*/false);
    const int64_t idle_ms = monotonic_ms - last_arrival_ms_;
    if (idle_ms >= idle_timeout_ms_) moved |= AdvanceTo(*max_start_ms_ + idle_ms - lateness_ms_);
    return moved;
  }
  // True if nothing arrived for idle_timeout_ms.
  bool Idle(int64_t monotonic_ms) const {
    return monotonic_ms - last_arrival_ms_ >= idle_timeout_ms_;
  }
  // Never goes back; true if it moved.
  bool AdvanceTo(int64_t watermark_ms) {
    if (watermark_ms_ != INT64_MIN && watermark_ms <= watermark_ms_) return false;
    watermark_ms_ = watermark_ms;
    return true;
  }
  // After restoring a snapshot: the largest start it had seen (for the idle
  // advance); the idle clock restarts. Per-source starts are not part of
  // snapshots: the sources start afresh.
  void Restore(std::optional<int64_t> max_start_ms, int64_t monotonic_ms) {
    if (max_start_ms && (!max_start_ms_ || *max_start_ms > *max_start_ms_)) {
      max_start_ms_ = max_start_ms;
    }
    last_arrival_ms_ = monotonic_ms;
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  struct Source {
    bool known = false;
    bool expected = false;  // in the last expected set
    bool in_batch = false;  // delivers in the batch being consumed
    bool has_max = false;
    int64_t max_start_ms = 0;
    int64_t since_ms = 0;  // last delivery, or when it became expected
  };

  Source& At(uint32_t id) {
    if (id >= sources_.size()) sources_.resize(size_t{id} + 1);
    return sources_[id];
  }
  void Arrive(uint32_t id, int64_t monotonic_ms) {
    Source& s = At(id);
    s.known = true;
    s.in_batch = true;
    s.since_ms = monotonic_ms;
  }
  // Finds the source holding the watermark back and advances to its start
  // minus the lateness; true if the watermark moved.
  bool Recompute(bool in_batch_counts) {
    holder_ = kNone;
    bool blocked = false;
    size_t counted = 0;
    int64_t min_start = 0;
    for (size_t id = 0; id < sources_.size(); ++id) {
      const Source& s = sources_[id];
      if (!s.known) continue;
      const bool counts = (in_batch_counts && s.in_batch) || now_ms_ - s.since_ms < idle_timeout_ms_;
      if (!counts) continue;
      ++counted;
      if (!s.has_max) {
        blocked = true;
      } else if (holder_ == kNone || s.max_start_ms < min_start) {
        holder_ = static_cast<uint32_t>(id);
        min_start = s.max_start_ms;
      }
    }
    single_ = counted == 1 && holder_ != kNone;
    if (blocked || holder_ == kNone) {
      if (blocked) holder_ = kNone;
      single_ = false;
      return false;
    }
    return AdvanceTo(min_start - lateness_ms_);
  }

  int64_t window_ms_;
  int64_t lateness_ms_;
  int64_t idle_timeout_ms_;
  int64_t watermark_ms_ = INT64_MIN;
  std::optional<int64_t> max_start_ms_;
  int64_t last_arrival_ms_ = 0;
  int64_t now_ms_ = 0;  // of the batch being consumed, or the last Tick()
  std::vector<Source> sources_;  // by id
  FlowBatch::SourceSet expected_;
  uint32_t holder_ = kNone;  // the counted source with the smallest start
  bool single_ = false;      // it is the only counted source
};

// floor(total * elapsed / span) without overflow (elapsed <= span <= 1 day,
// total >= 0).
constexpr int64_t ShareUpTo(int64_t total, int64_t elapsed, int64_t span) {
  // The whole span (the last window of a flow, the only one of most flows):
  // the formula below gives `total`, without its divisions.
  if (elapsed == span) return total;
  return (total / span) * elapsed + (total % span) * elapsed / span;
}

// Splits the counters `totals` of a flow from start_ms to end_ms over the
// windows it overlaps, in proportion to the overlap, as differences of
// cumulative floors (so the shares add up to the totals exactly), and calls
// add(window_start_ms, shares) for each window, in order, whose shares are
// not all zero. A flow of zero length, with end < start, or longer than
// max_spread_ms puts everything in its start window. Returns false for a
// flow longer than max_spread_ms (not spread), true otherwise.
template <size_t N, typename Add>
bool SpreadOverWindows(int64_t start_ms, int64_t end_ms, int64_t window_ms, int64_t max_spread_ms,
                       const std::array<int64_t, N>& totals, Add&& add) {
  const int64_t start_window = WindowStartOf(start_ms, window_ms);
  const auto any = [](const std::array<int64_t, N>& v) {
    return std::any_of(v.begin(), v.end(), [](int64_t x) { return x != 0; });
  };
  const int64_t span_ms = end_ms - start_ms;
  if (span_ms > max_spread_ms || span_ms <= 0) {
    if (any(totals)) add(start_window, totals);
    return span_ms <= max_spread_ms;
  }
  int64_t elapsed = 0;
  std::array<int64_t, N> prev{};
  for (int64_t w = start_window; w < end_ms; w += window_ms) {
    elapsed += std::min(end_ms, w + window_ms) - std::max(start_ms, w);
    std::array<int64_t, N> share;
    for (size_t i = 0; i < N; ++i) {
      const int64_t upto = ShareUpTo(totals[i], elapsed, span_ms);
      share[i] = upto - prev[i];
      prev[i] = upto;
    }
    if (any(share)) add(w, share);
  }
  return true;
}

}  // namespace flowlake
