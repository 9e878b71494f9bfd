#include "stream/distinct_counter.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace flowlake {
namespace {

constexpr uint8_t kExactVersion = 1;

uint64_t LoadU64Le(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

void AppendU64Le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

Status DistinctCounterConfig::Validate() const {
  if (precision < HyperLogLog::kMinPrecision || precision > HyperLogLog::kMaxPrecision) {
    return Status::InvalidArgument(fmt::format("distinct counter: precision {} outside [{}, {}]",
                                               precision, HyperLogLog::kMinPrecision,
                                               HyperLogLog::kMaxPrecision));
  }
  if (exact_limit > (uint32_t{1} << precision)) {
    return Status::InvalidArgument(
        fmt::format("distinct counter: exact_limit {} above 2^precision = {}", exact_limit,
                    uint32_t{1} << precision));
  }
  return Status::Ok();
}

DistinctCounter::DistinctCounter(DistinctCounterConfig config) : config_(config) {
  assert(config_.Validate().ok());
}

void DistinctCounter::Add(uint64_t hash) {
  if (hll_) {
    hll_->Add(hash);
    return;
  }
  auto it = std::lower_bound(exact_.begin(), exact_.end(), hash);
  if (it != exact_.end() && *it == hash) return;
  exact_.insert(it, hash);
  if (exact_.size() > config_.exact_limit) SwitchToHyperLogLog();
}

void DistinctCounter::SwitchToHyperLogLog() {
  hll_.emplace(config_.precision);
  for (uint64_t h : exact_) hll_->Add(h);
  exact_.clear();
  exact_.shrink_to_fit();
}

Status DistinctCounter::Merge(const DistinctCounter& other) {
  if (other.config_.precision != config_.precision) {
    return Status::InvalidArgument(fmt::format("distinct counter merge: precision {} with {}",
                                               config_.precision, other.config_.precision));
  }
  if (other.hll_) {
    if (!hll_) SwitchToHyperLogLog();
    return hll_->Merge(*other.hll_);
  }
  if (hll_) {
    for (uint64_t h : other.exact_) hll_->Add(h);
    return Status::Ok();
  }
  std::vector<uint64_t> merged;
  merged.reserve(exact_.size() + other.exact_.size());
  std::set_union(exact_.begin(), exact_.end(), other.exact_.begin(), other.exact_.end(),
                 std::back_inserter(merged));
  exact_ = std::move(merged);
  if (exact_.size() > config_.exact_limit) SwitchToHyperLogLog();
  return Status::Ok();
}

double DistinctCounter::Estimate() const {
  return hll_ ? hll_->Estimate() : static_cast<double>(exact_.size());
}

uint64_t DistinctCounter::Count() const {
  return hll_ ? static_cast<uint64_t>(std::llround(hll_->Estimate())) : exact_.size();
}

std::string DistinctCounter::Serialize() const {
  std::string out;
  if (hll_) {
    out.push_back(static_cast<char>(kTagHyperLogLog));
    out += hll_->Serialize();
    return out;
  }
  out.reserve(3 + 8 * exact_.size());
  out.push_back(static_cast<char>(kTagExact));
  out.push_back(static_cast<char>(kExactVersion));
  out.push_back(static_cast<char>(config_.precision));
  for (uint64_t h : exact_) AppendU64Le(out, h);
  return out;
}

Result<DistinctCounter> DistinctCounter::Deserialize(std::string_view bytes,
                                                     DistinctCounterConfig config) {
  FLOWLAKE_RETURN_IF_ERROR(config.Validate());
  if (bytes.empty()) return Status::Corruption("distinct counter: empty");
  const auto tag = static_cast<uint8_t>(bytes[0]);
  DistinctCounter counter(config);
  if (tag == kTagHyperLogLog) {
    FLOWLAKE_ASSIGN_OR_RETURN(HyperLogLog hll, HyperLogLog::Deserialize(bytes.substr(1)));
    if (hll.precision() != config.precision) {
      return Status::InvalidArgument(fmt::format(
          "distinct counter: sketch of precision {}, expected {}", hll.precision(),
          config.precision));
    }
    counter.hll_ = std::move(hll);
    return counter;
  }
  if (tag != kTagExact) {
    return Status::Corruption(fmt::format("distinct counter: unknown tag 0x{:02x}", tag));
  }
  if (bytes.size() < 3) {
    return Status::Corruption(
        fmt::format("distinct counter: exact form of {} bytes, shorter than its header",
                    bytes.size()));
  }
  const auto version = static_cast<uint8_t>(bytes[1]);
  const int precision = static_cast<uint8_t>(bytes[2]);
  if (version != kExactVersion) {
    return Status::Corruption(
        fmt::format("distinct counter: unknown exact format version {}", version));
  }
  if (precision != config.precision) {
    return Status::InvalidArgument(fmt::format(
        "distinct counter: exact counter of precision {}, expected {}", precision,
        config.precision));
  }
  const size_t payload = bytes.size() - 3;
  if (payload % 8 != 0) {
    return Status::Corruption(fmt::format(
        "distinct counter: exact form of {} bytes is not 3 + 8n", bytes.size()));
  }
  const size_t n = payload / 8;
  if (n > config.exact_limit) {
    return Status::InvalidArgument(fmt::format(
        "distinct counter: {} exact hashes, above exact_limit {}", n, config.exact_limit));
  }
  counter.exact_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t h = LoadU64Le(bytes.data() + 3 + 8 * i);
    if (!counter.exact_.empty() && h <= counter.exact_.back()) {
      return Status::Corruption(
          fmt::format("distinct counter: exact hash {} not above the one before it", i));
    }
    counter.exact_.push_back(h);
  }
  return counter;
}

bool operator==(const DistinctCounter& a, const DistinctCounter& b) {
  return a.config_.precision == b.config_.precision && a.exact_ == b.exact_ && a.hll_ == b.hll_;
}

}  // namespace flowlake
