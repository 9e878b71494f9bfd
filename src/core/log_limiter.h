// LogLimiter: a token bucket that keeps error logs from flooding.
//
// "Errors are either fatal or counted and rate-limited": callers count every
// event, and log only when Allow() says so. The number of suppressed messages
// is reported with the next one that passes.
//
// Not thread-safe: give each thread (each decoder instance) its own.
#pragma once

#include <chrono>
#include <cstdint>

namespace flowlake {

class LogLimiter {
 public:
  // `per_second` tokens refill continuously up to `burst`.
  explicit LogLimiter(double per_second = 5, double burst = 10)
      : per_second_(per_second), burst_(burst), tokens_(burst) {}

  // True if a message may be logged now. Otherwise counts it as suppressed.
  bool Allow() {
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ += elapsed * per_second_;
    if (tokens_ > burst_) tokens_ = burst_;
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return true;
    }
    ++suppressed_;
    return false;
  }

  // Messages suppressed since the last call; resets the count.
  uint64_t TakeSuppressed() {
    uint64_t n = suppressed_;
    suppressed_ = 0;
    return n;
  }

 private:
  double per_second_;
  double burst_;
  double tokens_;
  uint64_t suppressed_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

}  // namespace flowlake
