#include "synth/distributions.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace flowlake::synth {

namespace {
constexpr double kLn2 = 0.69314718055994530942;
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kSqrt3 = 1.73205080756887729353;
}  // namespace

double Log2(double x) {
  if (!(x > 0)) return -1074;
  int exponent = 0;
  double m = std::frexp(x, &exponent);  // x = m * 2^exponent, m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2;
    --exponent;
  }
  // ln(m) = 2 atanh(t), t = (m-1)/(m+1); |t| <= 0.172 so the odd series
  // converges fast (t^13/13 < 1e-11).
  const double t = (m - 1) / (m + 1);
  const double t2 = t * t;
  const double series =
      t * (1 + t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9 + t2 * (1.0 / 11))))));
  return exponent + 2 * series / kLn2;
}

double Exp2(double x) {
  x = std::clamp(x, -1000.0, 1000.0);
  const double n = std::floor(x);
  const double y = (x - n) * kLn2;  // in [0, ln 2)
  // Taylor series of e^y to y^12/12!: error < 1e-11 on [0, ln 2).
  double term = 1;
  double sum = 1;
  for (int k = 1; k <= 12; ++k) {
    term *= y / k;
    sum += term;
  }
  return std::ldexp(sum, static_cast<int>(n));
}

double StandardNormal(Rng& rng) {
  const double sum = rng.Uniform() + rng.Uniform() + rng.Uniform() + rng.Uniform();
  return (sum - 2) * kSqrt3;
}

double LogNormal(Rng& rng, double median, double sigma_log2) {
  return median * Exp2(sigma_log2 * StandardNormal(rng));
}

double Pareto(Rng& rng, double scale, double alpha) {
  const double u = 1.0 - rng.Uniform();  // (0, 1]
  return scale * Exp2(-Log2(u) / alpha);
}

WeightedTable::WeightedTable(std::span<const double> weights) {
  cumulative_.reserve(weights.size());
  double total = 0;
  for (double w : weights) {
    assert(w >= 0);
    total += w;
    cumulative_.push_back(total);
  }
  assert(total > 0);
}

WeightedTable WeightedTable::Zipf(size_t n, double s) {
  std::vector<double> weights(n);
  for (size_t i = 0; i < n; ++i) weights[i] = Exp2(-s * Log2(static_cast<double>(i + 1)));
  return WeightedTable(weights);
}

size_t WeightedTable::Sample(Rng& rng) const {
  assert(!cumulative_.empty());
  const double target = rng.Uniform() * cumulative_.back();
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), target);
  return std::min(static_cast<size_t>(it - cumulative_.begin()), cumulative_.size() - 1);
}

double WeightedTable::Probability(size_t i) const {
  const double below = i == 0 ? 0 : cumulative_[i - 1];
  return (cumulative_[i] - below) / cumulative_.back();
}

}  // namespace flowlake::synth
