#include "parquet/dictionary.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace flowlake::parquet {
namespace {

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// A 64x64->128 multiply folded to 64 bits: cheap, and mixes every input bit
// into every output bit well enough for linear probing.
__extension__ typedef unsigned __int128 Uint128;  // GCC/Clang; one mulq on x86-64

inline uint64_t Mix(uint64_t a, uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t kSeed0 = 0xa0761d6478bd642fULL;
constexpr uint64_t kSeed1 = 0xe7037ed1a0b428dbULL;
constexpr uint64_t kSeed2 = 0x8ebc6af09c88c6e3ULL;

// Integer keys: one multiply-fold; the table uses the high bits.
template <typename T>
inline uint64_t HashInt(T v) {
  return Mix(static_cast<uint64_t>(v) ^ kSeed0, kSeed1);
}

// Equality of two byte strings of the same length `n`; inline loads for the
// short strings (addresses, MACs, names) that dominate flow data, where a
// memcmp call costs more than the comparison.
inline bool SameBytes(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16) {
    return ((Load64(a) ^ Load64(b)) | (Load64(a + n - 8) ^ Load64(b + n - 8))) == 0;
  }
  if (n >= 4 && n < 8) {
    return ((Load32(a) ^ Load32(b)) | (Load32(a + n - 4) ^ Load32(b + n - 4))) == 0;
  }
  // An empty string's data() may be null (a column of only ""), and memcmp
  // with a null pointer is undefined even for n == 0.
  return n == 0 || std::memcmp(a, b, n) == 0;
}

// First hash table size for `values` values. A large chunk starts big
// enough for the probe's 4096 values: growing from 1024 would rehash
// three times on every high-cardinality chunk before the probe gives up.
inline size_t InitialSlots(size_t values) { return values >= 4096 ? 8192 : 1024; }

inline bool HitProbeLimit(const DictionaryLimits& limits, size_t seen, size_t distinct) {
  return limits.probe_values != 0 && seen == limits.probe_values &&
         static_cast<double>(distinct) > limits.probe_fraction * static_cast<double>(seen);
}

}  // namespace

// Reads whole words only inside [p, p+n): short strings (IPs, MACs, names)
// are loaded as two overlapping words, so no byte past the end is touched.
uint64_t HashBytes(const char* p, size_t n) {
  uint64_t a, b;
  if (n <= 16) {
    if (n >= 8) {
      a = Load64(p);
      b = Load64(p + n - 8);
    } else if (n >= 4) {
      a = Load32(p);
      b = Load32(p + n - 4);
    } else if (n > 0) {
      a = (static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16) |
          (static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
          static_cast<unsigned char>(p[n - 1]);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    uint64_t h = kSeed0 ^ n;
    size_t i = 0;
    for (; i + 16 < n; i += 16) {
      h = Mix(Load64(p + i) ^ kSeed1, Load64(p + i + 8) ^ h);
    }
    a = Load64(p + n - 16) ^ h;
    b = Load64(p + n - 8);
  }
  return Mix(kSeed1 ^ n, Mix(a ^ kSeed1, b ^ kSeed2));
}

template <typename T>
bool IntDictionary<T>::Build(std::span<const T> values, std::span<const uint8_t> valid, T min,
                             T max, const DictionaryLimits& limits, uint32_t* indices) {
  entries_.clear();
  // Subtraction in unsigned space: max - min may overflow the signed type.
  const uint64_t range = static_cast<uint64_t>(max) - static_cast<uint64_t>(min);
  if (range < kDirectRange) return BuildDirect(values, valid, min, limits, indices);
  return BuildHashed(values, valid, limits, indices);
}

// Small ranges (ports, protocols, flags, TTLs, codes) index a plain array by
// value - min: no hashing and no probing. The array is kept between chunks
// and only the touched slots are cleared afterwards.
template <typename T>
bool IntDictionary<T>::BuildDirect(std::span<const T> values, std::span<const uint8_t> valid, T min,
                                   const DictionaryLimits& limits, uint32_t* indices) {
  if (direct_.empty()) direct_.assign(kDirectRange, kEmpty);
  const auto base = static_cast<uint64_t>(min);
  const size_t max_entries = std::min(limits.max_entries, limits.max_bytes / sizeof(T));
  bool ok = true;
  size_t k = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!valid.empty() && valid[i] == 0) continue;
    const T v = values[i];
    uint32_t& slot = direct_[static_cast<uint64_t>(v) - base];
    if (slot == kEmpty) {
      if (entries_.size() >= max_entries) {
        ok = false;
        break;
      }
      slot = static_cast<uint32_t>(entries_.size());
      entries_.push_back(v);
    }
    indices[k++] = slot;
    if (HitProbeLimit(limits, k, entries_.size())) {
      ok = false;
      break;
    }
  }
  for (T v : entries_) direct_[static_cast<uint64_t>(v) - base] = kEmpty;
  return ok;
}

template <typename T>
void IntDictionary<T>::ResetHashTable(size_t capacity) {
  slots_.assign(capacity, Slot{T{}, kEmpty});
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
}

template <typename T>
void IntDictionary<T>::GrowHashTable() {
  ResetHashTable(slots_.size() * 2);
  for (size_t e = 0; e < entries_.size(); ++e) {
    size_t pos = HashInt(entries_[e]) >> shift_;
    while (slots_[pos].index != kEmpty) pos = (pos + 1) & mask_;
    slots_[pos] = Slot{entries_[e], static_cast<uint32_t>(e)};
  }
}

template <typename T>
bool IntDictionary<T>::BuildHashed(std::span<const T> values, std::span<const uint8_t> valid,
                                   const DictionaryLimits& limits, uint32_t* indices) {
  ResetHashTable(InitialSlots(values.size()));
  const size_t max_entries = std::min(limits.max_entries, limits.max_bytes / sizeof(T));
  size_t k = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!valid.empty() && valid[i] == 0) continue;
    const T v = values[i];
    size_t pos = HashInt(v) >> shift_;
    uint32_t index;
    for (;;) {
      const Slot& s = slots_[pos];
      if (s.index == kEmpty) {
        if (entries_.size() >= max_entries) return false;
        index = static_cast<uint32_t>(entries_.size());
        slots_[pos] = Slot{v, index};
        entries_.push_back(v);
        if (entries_.size() * 2 > slots_.size()) GrowHashTable();
        break;
      }
      if (s.key == v) {
        index = s.index;
        break;
      }
      pos = (pos + 1) & mask_;
    }
    indices[k++] = index;
    if (HitProbeLimit(limits, k, entries_.size())) return false;
  }
  return true;
}

void StringDictionary::ResetHashTable(size_t capacity) {
  slots_.assign(capacity, Slot{0, kEmpty});
  mask_ = capacity - 1;
}

void StringDictionary::GrowHashTable() {
  ResetHashTable(slots_.size() * 2);
  for (size_t e = 0; e < entries_.size(); ++e) {
    size_t pos = entry_hashes_[e] & mask_;
    while (slots_[pos].index != kEmpty) pos = (pos + 1) & mask_;
    slots_[pos] = Slot{static_cast<uint32_t>(entry_hashes_[e] >> 32), static_cast<uint32_t>(e)};
  }
}

bool StringDictionary::Build(const Column& column, const DictionaryLimits& limits,
                             uint32_t* indices) {
  entries_.clear();
  entry_hashes_.clear();
  plain_bytes_ = 0;
  ResetHashTable(InitialSlots(column.size()));
  const std::span<const StringRef> refs = column.string_refs();
  const std::span<const uint8_t> valid = column.validity();
  const bool all_valid = column.null_count() == 0;
  const char* arena = column.arena();
  size_t k = 0;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!all_valid && valid[i] == 0) continue;
    const std::string_view v(arena + refs[i].offset, refs[i].size);
    const uint64_t h = HashBytes(v.data(), v.size());
    const auto tag = static_cast<uint32_t>(h >> 32);
    size_t pos = h & mask_;
    uint32_t index;
    for (;;) {
      const Slot& s = slots_[pos];
      if (s.index == kEmpty) {
        if (entries_.size() >= limits.max_entries) return false;
        plain_bytes_ += 4 + v.size();
        if (plain_bytes_ > limits.max_bytes) return false;
        index = static_cast<uint32_t>(entries_.size());
        slots_[pos] = Slot{tag, index};
        entries_.push_back(v);
        entry_hashes_.push_back(h);
        if (entries_.size() * 2 > slots_.size()) GrowHashTable();
        break;
      }
      if (s.hash == tag && entries_[s.index].size() == v.size() &&
          SameBytes(entries_[s.index].data(), v.data(), v.size())) {
        index = s.index;
        break;
      }
      pos = (pos + 1) & mask_;
    }
    indices[k++] = index;
    if (HitProbeLimit(limits, k, entries_.size())) return false;
  }
  return true;
}

template class IntDictionary<int32_t>;
template class IntDictionary<int64_t>;

}  // namespace flowlake::parquet
