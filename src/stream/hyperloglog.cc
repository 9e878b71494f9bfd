#include "stream/hyperloglog.h"

#include <bit>
#include <cassert>
#include <cmath>

#include <fmt/format.h>

namespace flowlake {

HyperLogLog::HyperLogLog(int precision)
    : precision_(precision), registers_(size_t{1} << precision, 0) {
  assert(precision >= kMinPrecision && precision <= kMaxPrecision);
}

void HyperLogLog::Add(uint64_t hash) {
  const size_t index = hash >> (64 - precision_);
  // Shift the index bits out; a sentinel bit just below them caps rho at
  // 65 - precision when the remaining bits are all zero.
  const uint64_t rest = (hash << precision_) | (uint64_t{1} << (precision_ - 1));
  const auto rho = static_cast<uint8_t>(std::countl_zero(rest) + 1);
  if (rho > registers_[index]) registers_[index] = rho;
}

Status HyperLogLog::Merge(const HyperLogLog& other) {
  if (other.precision_ != precision_) {
    return Status::InvalidArgument(fmt::format(
        "HyperLogLog merge: precision {} with precision {}", precision_, other.precision_));
  }
  for (size_t i = 0; i < registers_.size(); ++i) {
    if (other.registers_[i] > registers_[i]) registers_[i] = other.registers_[i];
  }
  return Status::Ok();
}

double HyperLogLog::Estimate() const {
  // Raw estimate E = alpha_m * m^2 / sum_j 2^-M[j] (Flajolet et al., fig. 3).
  // If E <= 2.5 m and some register is zero, linear counting m ln(m / V) is
  // more accurate (V = zero registers). With a 64-bit hash collisions are
  // negligible below ~2^50 values, so there is no large-range correction
  // (Heule et al., section 5.1). docs/rollup-sketches.md repeats this in SQL;
  // keep them in step.
  const double m = static_cast<double>(registers_.size());
  double alpha;
  switch (registers_.size()) {
    case 16: alpha = 0.673; break;
    case 32: alpha = 0.697; break;
    case 64: alpha = 0.709; break;
    default: alpha = 0.7213 / (1.0 + 1.079 / m); break;
  }
  double sum = 0;
  size_t zeros = 0;
  for (uint8_t r : registers_) {
    sum += std::ldexp(1.0, -static_cast<int>(r));
    if (r == 0) ++zeros;
  }
  const double raw = alpha * m * m / sum;
  if (raw <= 2.5 * m && zeros > 0) return m * std::log(m / static_cast<double>(zeros));
  return raw;
}

double HyperLogLog::StandardError() const {
  return 1.04 / std::sqrt(static_cast<double>(registers_.size()));
}

std::string HyperLogLog::Serialize() const {
  std::string out;
  out.reserve(2 + registers_.size());
  out.push_back(static_cast<char>(kFormatVersion));
  out.push_back(static_cast<char>(precision_));
  out.append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
  return out;
}

Result<HyperLogLog> HyperLogLog::Deserialize(std::string_view bytes) {
  if (bytes.size() < 2) {
    return Status::Corruption(
        fmt::format("HyperLogLog: {} bytes, shorter than the 2-byte header", bytes.size()));
  }
  const auto version = static_cast<uint8_t>(bytes[0]);
  const int precision = static_cast<uint8_t>(bytes[1]);
  if (version != kFormatVersion) {
    return Status::Corruption(fmt::format("HyperLogLog: unknown format version {}", version));
  }
  if (precision < kMinPrecision || precision > kMaxPrecision) {
    return Status::Corruption(fmt::format("HyperLogLog: precision {} outside [{}, {}]",
                                          precision, kMinPrecision, kMaxPrecision));
  }
  const size_t m = size_t{1} << precision;
  if (bytes.size() != 2 + m) {
    return Status::Corruption(fmt::format(
        "HyperLogLog: {} bytes, expected {} for precision {}", bytes.size(), 2 + m, precision));
  }
  HyperLogLog hll(precision);
  const int max_rho = 65 - precision;
  for (size_t i = 0; i < m; ++i) {
    const auto r = static_cast<uint8_t>(bytes[2 + i]);
    if (r > max_rho) {
      return Status::Corruption(
          fmt::format("HyperLogLog: register {} is {}, above the maximum {}", i, r, max_rho));
    }
    hll.registers_[i] = r;
  }
  return hll;
}

}  // namespace flowlake
