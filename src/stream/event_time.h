// Event-time rules shared by the stream components that window flows: the
// tumbling window of a timestamp, the watermark (advanced per flow, never
// per batch, and by wall time when idle), and the spreading of a long flow's
// counters over the windows it overlaps. docs/rollups.md states the rules;
// Detectors uses them through this header so that it agrees with the
// rollups on which flows are late.
//
// Header-only and allocation-free. EventTimeWatermark is not thread-safe
// (one per stream).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

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
  // After every flow: watermark = max start seen - lateness. True if it moved.
  bool AfterFlow(int64_t start_ms) {
    if (!max_start_ms_ || start_ms > *max_start_ms_) max_start_ms_ = start_ms;
    return AdvanceTo(*max_start_ms_ - lateness_ms_);
  }
  // After every non-empty batch, with the monotonic clock.
  void BatchArrived(int64_t monotonic_ms) { last_arrival_ms_ = monotonic_ms; }
  // Idle advance: once no batch came for idle_timeout_ms, event time moves
  // with wall time: max start + idle - lateness. True if the watermark moved.
  bool Tick(int64_t monotonic_ms) {
    if (!max_start_ms_) return false;
    const int64_t idle_ms = monotonic_ms - last_arrival_ms_;
    if (idle_ms < idle_timeout_ms_) return false;
    return AdvanceTo(*max_start_ms_ + idle_ms - lateness_ms_);
  }
  // Never goes back; true if it moved.
  bool AdvanceTo(int64_t watermark_ms) {
    if (watermark_ms_ != INT64_MIN && watermark_ms <= watermark_ms_) return false;
    watermark_ms_ = watermark_ms;
    return true;
  }

 private:
  int64_t window_ms_;
  int64_t lateness_ms_;
  int64_t idle_timeout_ms_;
  int64_t watermark_ms_ = INT64_MIN;
  std::optional<int64_t> max_start_ms_;
  int64_t last_arrival_ms_ = 0;
};

// floor(total * elapsed / span) without overflow (elapsed <= span <= 1 day,
// total >= 0).
constexpr int64_t ShareUpTo(int64_t total, int64_t elapsed, int64_t span) {
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
