#include "stream/distinct_counter.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace flowlake {
namespace {

constexpr uint8_t kExactVersion = 1;

uint64_t LoadU64Le(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}

void StoreU64Le(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
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

DistinctCounter::DistinctCounter(const DistinctCounter& other)
    : config_(other.config_),
      small_{other.small_[0], other.small_[1]},
      slots_(other.slot_count_ > 0 ? std::make_unique<uint64_t[]>(other.slot_count_) : nullptr),
      hll_(other.hll_ ? std::make_unique<HyperLogLog>(*other.hll_) : nullptr),
      last_(other.last_),
      slot_count_(other.slot_count_),
      exact_count_(other.exact_count_),
      has_zero_(other.has_zero_),
      has_last_(other.has_last_) {
  if (slot_count_ > 0) std::copy(other.slots_.get(), other.slots_.get() + slot_count_, slots_.get());
}

DistinctCounter::DistinctCounter(DistinctCounter&& other) noexcept
    : config_(other.config_),
      small_{std::exchange(other.small_[0], 0), std::exchange(other.small_[1], 0)},
      slots_(std::move(other.slots_)),
      hll_(std::move(other.hll_)),
      last_(other.last_),
      slot_count_(std::exchange(other.slot_count_, 0)),
      exact_count_(std::exchange(other.exact_count_, 0)),
      has_zero_(std::exchange(other.has_zero_, false)),
      has_last_(std::exchange(other.has_last_, false)) {}

DistinctCounter& DistinctCounter::operator=(DistinctCounter&& other) noexcept {
  if (this != &other) {
    config_ = other.config_;
    small_[0] = std::exchange(other.small_[0], 0);
    small_[1] = std::exchange(other.small_[1], 0);
    slots_ = std::move(other.slots_);
    hll_ = std::move(other.hll_);
    last_ = other.last_;
    slot_count_ = std::exchange(other.slot_count_, 0);
    exact_count_ = std::exchange(other.exact_count_, 0);
    has_zero_ = std::exchange(other.has_zero_, false);
    has_last_ = std::exchange(other.has_last_, false);
  }
  return *this;
}

DistinctCounter& DistinctCounter::operator=(const DistinctCounter& other) {
  if (this != &other) *this = DistinctCounter(other);
  return *this;
}

DistinctCounter::~DistinctCounter() = default;

int64_t DistinctCounter::AddNew(uint64_t hash) {
  last_ = hash;
  has_last_ = true;
  if (hll_) {
    hll_->Add(hash);
    return 0;
  }
  const auto before = static_cast<int64_t>(size_t{slot_count_} * sizeof(uint64_t));
  if (!Insert(hash)) return 0;
  if (exact_count_ > config_.exact_limit) SwitchToHyperLogLog();
  return static_cast<int64_t>(HeapBytes()) - before;
}

bool DistinctCounter::Insert(uint64_t hash) {
  if (hash == 0) {
    if (has_zero_) return false;
    has_zero_ = true;
    ++exact_count_;
    return true;
  }
  if (slot_count_ == 0) {
    for (uint64_t& s : small_) {
      if (s == hash) return false;
      if (s == 0) {
        s = hash;
        ++exact_count_;
        return true;
      }
    }
    Grow();  // moves small_ into the table
  }
  // At most 3/4 full, so that a probe always meets an empty slot. The table
  // grows only for a new hash, never for a repeat, so that its size (and
  // HeapBytes()) depends only on the count: a counter rebuilt from its
  // hashes (a restored snapshot) has the same.
  size_t mask = slot_count_ - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    if (slots_[i] == hash) return false;
    if (slots_[i] == 0) {
      if ((exact_count_ + 1) * 4 > size_t{slot_count_} * 3) {
        Grow();
        mask = slot_count_ - 1;
        i = hash & mask;
        while (slots_[i] != 0) i = (i + 1) & mask;
      }
      slots_[i] = hash;
      ++exact_count_;
      return true;
    }
  }
}

void DistinctCounter::Grow() {
  const bool from_small = slot_count_ == 0;
  const size_t old_count = slot_count_;
  const size_t capacity = from_small ? 8 : old_count * 2;
  const std::unique_ptr<uint64_t[]> old =
      std::exchange(slots_, std::make_unique<uint64_t[]>(capacity));  // zeroed
  slot_count_ = static_cast<uint32_t>(capacity);
  const size_t mask = capacity - 1;
  const auto place = [&](uint64_t h) {
    if (h == 0) return;
    size_t i = h & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = h;
  };
  for (size_t i = 0; i < old_count; ++i) place(old[i]);
  if (from_small) {
    for (uint64_t& h : small_) place(std::exchange(h, 0));
  }
}

template <typename F>
void DistinctCounter::ForEachNonZero(F f) const {
  if (slot_count_ == 0) {
    for (const uint64_t h : small_) {
      if (h != 0) f(h);
    }
    return;
  }
  for (size_t i = 0; i < slot_count_; ++i) {
    if (slots_[i] != 0) f(slots_[i]);
  }
}

void DistinctCounter::AppendExact(std::vector<uint64_t>& out) const {
  if (has_zero_) out.push_back(0);
  ForEachNonZero([&](uint64_t h) { out.push_back(h); });
}

std::vector<uint64_t> DistinctCounter::exact_hashes() const {
  std::vector<uint64_t> out;
  out.reserve(exact_count_);
  AppendExact(out);
  std::sort(out.begin(), out.end());
  return out;
}

void DistinctCounter::SwitchToHyperLogLog() {
  hll_ = std::make_unique<HyperLogLog>(config_.precision);
  if (has_zero_) hll_->Add(0);
  ForEachNonZero([&](uint64_t h) { hll_->Add(h); });
  slots_.reset();
  slot_count_ = 0;
  small_[0] = small_[1] = 0;
  exact_count_ = 0;
  has_zero_ = false;
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
  if (&other == this) return Status::Ok();  // idempotent
  if (other.has_zero_) Add(0);
  // Add() switches at the bound and then adds the rest to the sketch: the
  // same registers as a switch after the whole union, in any order.
  other.ForEachNonZero([&](uint64_t h) { Add(h); });
  return Status::Ok();
}

double DistinctCounter::Estimate() const {
  return hll_ ? hll_->Estimate() : static_cast<double>(exact_count_);
}

uint64_t DistinctCounter::Count() const {
  return hll_ ? static_cast<uint64_t>(std::llround(hll_->Estimate())) : exact_count_;
}

std::string DistinctCounter::Serialize() const {
  std::string out;
  if (hll_) {
    // [tag][HyperLogLog::Serialize()], written in place: no 4 KiB temporary.
    const std::vector<uint8_t>& registers = hll_->registers();
    out.resize(3 + registers.size());
    out[0] = static_cast<char>(kTagHyperLogLog);
    out[1] = static_cast<char>(HyperLogLog::kFormatVersion);
    out[2] = static_cast<char>(hll_->precision());
    std::memcpy(out.data() + 3, registers.data(), registers.size());
    return out;
  }
  // Sorted here, once, rather than on every Add(). A small counter (most of
  // them) sorts on the stack, and one of at most three hashes (two in
  // small_, and 0) with two compares.
  const size_t n = exact_count_;
  out.resize(3 + 8 * n);
  out[0] = static_cast<char>(kTagExact);
  out[1] = static_cast<char>(kExactVersion);
  out[2] = static_cast<char>(config_.precision);
  char* p = out.data() + 3;
  if (slot_count_ == 0) {
    uint64_t v[3];
    size_t k = 0;
    if (has_zero_) v[k++] = 0;
    for (const uint64_t h : small_) {
      if (h != 0) v[k++] = h;
    }
    if (k >= 2 && v[k - 2] > v[k - 1]) std::swap(v[k - 2], v[k - 1]);
    if (k == 3 && v[0] > v[1]) std::swap(v[0], v[1]);  // v[0] is 0 when k == 3
    for (size_t i = 0; i < k; ++i) StoreU64Le(p + 8 * i, v[i]);
    return out;
  }
  constexpr size_t kStackHashes = 32;
  uint64_t stack[kStackHashes];
  std::vector<uint64_t> heap;
  uint64_t* sorted = stack;
  if (n > kStackHashes) {
    heap.reserve(n);
    AppendExact(heap);
    sorted = heap.data();
  } else {
    size_t k = 0;
    if (has_zero_) stack[k++] = 0;
    ForEachNonZero([&](uint64_t h) { stack[k++] = h; });
  }
  std::sort(sorted, sorted + n);
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, sorted, 8 * n);
  } else {
    for (size_t i = 0; i < n; ++i) StoreU64Le(p + 8 * i, sorted[i]);
  }
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
    counter.hll_ = std::make_unique<HyperLogLog>(std::move(hll));
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
  uint64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t h = LoadU64Le(bytes.data() + 3 + 8 * i);
    if (i > 0 && h <= prev) {
      return Status::Corruption(
          fmt::format("distinct counter: exact hash {} not above the one before it", i));
    }
    prev = h;
    counter.Insert(h);
  }
  return counter;
}

bool operator==(const DistinctCounter& a, const DistinctCounter& b) {
  return a.config_.precision == b.config_.precision && a.exact_count_ == b.exact_count_ &&
         (a.hll_ == nullptr) == (b.hll_ == nullptr) && (a.hll_ == nullptr || *a.hll_ == *b.hll_) &&
         a.exact_hashes() == b.exact_hashes();
}

}  // namespace flowlake
