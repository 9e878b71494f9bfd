#include "parquet/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace flowlake::parquet {
namespace {

template <typename T>
std::string EncodePlain(T v) {
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}

// Plain reductions the vectorizer recognizes; nulls are folded in with a
// branch-free select of the identity (type max for min, lowest for max).
template <typename T>
[[gnu::always_inline]] inline MinMax<T> IntMinMax(const T* v, const uint8_t* ok, size_t n) {
  constexpr T kHi = std::numeric_limits<T>::max();
  constexpr T kLo = std::numeric_limits<T>::lowest();
  T lo = kHi, hi = kLo;
  size_t n_valid = n;
  if (ok == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      lo = v[i] < lo ? v[i] : lo;
      hi = v[i] > hi ? v[i] : hi;
    }
  } else {
    n_valid = 0;
    for (size_t i = 0; i < n; ++i) {
      const T x_lo = ok[i] ? v[i] : kHi;
      const T x_hi = ok[i] ? v[i] : kLo;
      lo = x_lo < lo ? x_lo : lo;
      hi = x_hi > hi ? x_hi : hi;
      n_valid += ok[i];
    }
  }
  MinMax<T> r;
  r.min = lo;
  r.max = hi;
  r.any = n_valid > 0;
  return r;
}

template <typename T>
[[gnu::always_inline]] inline MinMax<T> IntMinMax(std::span<const T> values,
                                                  std::span<const uint8_t> valid) {
  return IntMinMax(values.data(), valid.empty() ? nullptr : valid.data(), values.size());
}

template <typename T>
void SetIntMinMax(const MinMax<T>& range, ChunkStatistics* stats) {
  if (!range.any) return;
  stats->min_value = EncodePlain(range.min);
  stats->max_value = EncodePlain(range.max);
  stats->min_exact = stats->max_exact = true;
  stats->legacy_min_max = true;
}

// Returns the length of the UTF-8 sequence starting at s[i] if it is a
// well-formed one (no overlongs, surrogates or values past U+10FFFF), else 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  const auto b1 = static_cast<unsigned char>(s[i + 1]);
  if (b1 < lo || b1 > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < 0x80 || b > 0xBF) return 0;
  }
  return len;
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The longest prefix of v of at most `limit` bytes that does not end inside
// a UTF-8 sequence (for non-UTF-8 data, at most 3 bytes shorter than limit).
size_t PrefixCut(std::string_view v, size_t limit) {
  size_t cut = limit;
  for (int back = 0; back < 3 && cut > 0 && IsContinuation(v[cut]); ++back) --cut;
  return IsContinuation(v[cut]) ? limit : cut;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t DecodeUtf8(std::string_view s) {  // s is one well-formed sequence
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (s.size() == 1) return b0;
  uint32_t cp = b0 & (0x7F >> s.size());
  for (size_t k = 1; k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[k]) & 0x3F);
  return cp;
}

// `prefix` is valid UTF-8. Increments its last character; a U+10FFFF cannot
// grow, so it is dropped and the carry moves to the character before it.
std::optional<std::string> IncrementUtf8(std::string_view prefix) {
  size_t end = prefix.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && IsContinuation(prefix[start])) --start;
    uint32_t cp = DecodeUtf8(prefix.substr(start, end - start));
    if (cp < 0x10FFFF) {
      ++cp;
      if (cp == 0xD800) cp = 0xE000;  // skip the surrogate block
      std::string out(prefix.substr(0, start));
      AppendUtf8(cp, &out);
      return out;
    }
    end = start;
  }
  return std::nullopt;
}

std::optional<std::string> IncrementBytes(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xFF) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return std::nullopt;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// Also compiled for AVX2 and chosen at load time: the build targets baseline
// x86-64, whose SSE2 has no 64-bit compare, so INT64 would stay scalar.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FLOWLAKE_MINMAX_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FLOWLAKE_MINMAX_CLONES
#endif

FLOWLAKE_MINMAX_CLONES
MinMax<int32_t> ComputeMinMax(std::span<const int32_t> values, std::span<const uint8_t> valid) {
  return IntMinMax(values, valid);
}

FLOWLAKE_MINMAX_CLONES
MinMax<int64_t> ComputeMinMax(std::span<const int64_t> values, std::span<const uint8_t> valid) {
  return IntMinMax(values, valid);
}

MinMax<double> ComputeMinMax(std::span<const double> values, std::span<const uint8_t> valid,
                             int64_t* nan_count) {
  MinMax<double> r;
  int64_t nans = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!valid.empty() && valid[i] == 0) continue;
    const double v = values[i];
    if (std::isnan(v)) {
      ++nans;
      continue;
    }
    r.min = std::min(r.min, v);
    r.max = std::max(r.max, v);
    r.any = true;
  }
  *nan_count = nans;
  return r;
}

void SetMinMax(const MinMax<int32_t>& range, ChunkStatistics* stats) { SetIntMinMax(range, stats); }
void SetMinMax(const MinMax<int64_t>& range, ChunkStatistics* stats) { SetIntMinMax(range, stats); }

void SetBoolMinMax(const MinMax<int32_t>& range, ChunkStatistics* stats) {
  if (!range.any) return;
  stats->min_value = std::string(1, static_cast<char>(range.min != 0));
  stats->max_value = std::string(1, static_cast<char>(range.max != 0));
  stats->min_exact = stats->max_exact = true;
  stats->legacy_min_max = true;
}

void SetMinMax(const MinMax<double>& range, ChunkStatistics* stats) {
  if (!range.any) return;
  // -0.0 == +0.0, so which zero min/max picked is arbitrary; the spec fixes
  // it so that readers can prune on the sign of zero safely.
  const double min = range.min == 0.0 ? -0.0 : range.min;
  const double max = range.max == 0.0 ? +0.0 : range.max;
  stats->min_value = EncodePlain(min);
  stats->max_value = EncodePlain(max);
  stats->min_exact = stats->max_exact = true;
  stats->legacy_min_max = true;
}

void SetStringMinMax(std::string_view min, std::string_view max, ChunkStatistics* stats) {
  stats->min_value = TruncateMin(min, kStatsTruncateBytes, &stats->min_exact);
  stats->max_value = TruncateMax(max, kStatsTruncateBytes, &stats->max_exact);
  stats->legacy_min_max = false;  // old readers compare bytes as signed
}

std::string TruncateMin(std::string_view v, size_t limit, bool* exact) {
  *exact = v.size() <= limit;
  if (*exact) return std::string(v);
  return std::string(v.substr(0, PrefixCut(v, limit)));
}

std::optional<std::string> TruncateMax(std::string_view v, size_t limit, bool* exact) {
  *exact = v.size() <= limit;
  if (*exact) return std::string(v);
  const std::string_view prefix = v.substr(0, PrefixCut(v, limit));
  if (IsValidUtf8(prefix)) return IncrementUtf8(prefix);
  return IncrementBytes(v.substr(0, limit));
}

}  // namespace flowlake::parquet
