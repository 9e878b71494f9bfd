// Portable random distributions for traffic synthesis.
//
// Real traffic is heavy-tailed: most flows are small, a few are huge. These
// are the shapes the traffic model uses (log-normal bodies, Pareto tails,
// Zipf popularity), built only from +, -, *, / and exact operations (frexp,
// ldexp, floor) so that output is bit-identical everywhere (see rng.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "synth/rng.h"

namespace flowlake::synth {

// log2(x) for x > 0, |error| < 1e-9. Returns -1074 for x <= 0.
double Log2(double x);
// 2^x, relative error < 1e-9; x is clamped to [-1000, 1000].
double Exp2(double x);

// An approximately standard normal value: Irwin-Hall sum of four uniforms,
// rescaled to unit variance. Bounded to about +-3.46, which suits us: the
// extreme tail comes from Pareto, not from the log-normal body.
double StandardNormal(Rng& rng);

// A log-normal value with the given median; sigma is in log2 units (sigma 1
// means one standard deviation is a factor of 2).
double LogNormal(Rng& rng, double median, double sigma_log2);

// A Pareto value >= scale with shape alpha (smaller alpha: heavier tail).
double Pareto(Rng& rng, double scale, double alpha);

// Samples an index with probability proportional to a fixed weight.
// Thread-safe for concurrent Sample() calls (immutable after construction).
class WeightedTable {
 public:
  WeightedTable() = default;
  // Weights must be >= 0 with a positive sum.
  explicit WeightedTable(std::span<const double> weights);
  // Zipf popularity over n items: weight of rank i (0-based) is 1/(i+1)^s.
  static WeightedTable Zipf(size_t n, double s);

  size_t size() const { return cumulative_.size(); }
  size_t Sample(Rng& rng) const;
  // The probability of index i (for tests and documentation).
  double Probability(size_t i) const;

 private:
  std::vector<double> cumulative_;
};

}  // namespace flowlake::synth
