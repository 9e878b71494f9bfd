#include "decode/nprobe_fields.h"

#include <array>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace flowlake {
namespace {
using F = NprobeField;

using internal::kFieldTable;

// Older labels nProbe used for the same element id (same meaning, renamed).
// HTTP_SITE is *not* here: it is a different element (57833, host without
// the name part).
struct Alias {
  std::string_view label;
  NprobeField field;
};
constexpr Alias kAliases[] = {
    {"SSL_SERVER_NAME", F::kTlsServerName},       // 57660 before nProbe 9
    {"CLIENT_NW_DELAY_MS", F::kClientNwLatencyMs},  // 57595, older name
    {"SERVER_NW_DELAY_MS", F::kServerNwLatencyMs},  // 57596, older name
};

// Labels are looked up with a direct-mapped perfect hash: a multiplicative
// hash of the length and the first, middle and last 8 bytes (EXPORTER_IPV4_ADDRESS
// and EXPORTER_IPV6_ADDRESS differ only in the middle), with a seed searched at
// start-up so that no two labels share a slot. A lookup is then one hash, one
// load and one memcmp: ~45 keys per record make this the decoder's hottest
// loop after simdjson itself.
constexpr int kLabelBits = 9;
constexpr size_t kLabelSlots = size_t{1} << kLabelBits;

inline uint64_t LoadPartial(const char* p, size_t n) {
  uint64_t v = 0;
  std::memcpy(&v, p, n < 8 ? n : 8);
  return v;
}

// A label as three (overlapping) 8-byte words: first, middle and last. For
// lengths <= 24 they cover every byte, so equal words + equal length mean
// equal strings, and the lookup needs no memcmp.
constexpr size_t kMaxLabelSize = 24;
struct LabelWords {
  uint64_t a = 0, b = 0, c = 0;
  size_t n = 0;
  bool operator==(const LabelWords&) const = default;
};

inline LabelWords Words(std::string_view s) {
  LabelWords w;
  w.n = s.size();
  w.a = LoadPartial(s.data(), w.n);
  if (w.n > 8) w.b = LoadPartial(s.data() + w.n - 8, 8);
  if (w.n >= 16) w.c = LoadPartial(s.data() + w.n / 2 - 4, 8);
  return w;
}

inline uint64_t LabelHash(const LabelWords& w, uint64_t seed) {
  uint64_t h = (w.a ^ (w.b * 0x9E3779B97F4A7C15ULL) ^ (w.c * 0xC2B2AE3D27D4EB4FULL) ^
                (uint64_t{w.n} << 56)) *
               seed;
  return h >> (64 - kLabelBits);
}

struct Tables {
  uint64_t seed = 0;
  std::array<LabelWords, kLabelSlots> labels{};  // n == 0: empty slot
  std::array<NprobeField, kLabelSlots> label_fields{};
  std::array<NprobeField, 65536> by_id{};  // NetFlow v9 id -> field

  Tables() {
    std::vector<Alias> all;
    for (size_t i = 1; i < kNprobeFieldCount; ++i) {
      all.push_back({kFieldTable[i].label, kFieldTable[i].field});
      if (kFieldTable[i].element_id != 0) by_id[kFieldTable[i].element_id] = kFieldTable[i].field;
    }
    for (const Alias& a : kAliases) all.push_back(a);
    // Deterministic search; with ~60 labels in 512 slots it ends within a
    // few hundred tries.
    uint64_t candidate = 0x100000001B3ULL;
    for (int attempt = 0;; ++attempt, candidate += 0x9E3779B97F4A7C16ULL) {
      // Two labels with equal hash inputs would loop forever: a bug in this
      // file, caught by every test run.
      if (attempt == 100000) std::abort();
      labels.fill({});
      bool ok = true;
      for (const Alias& a : all) {
        if (a.label.size() > kMaxLabelSize) std::abort();  // see LabelWords
        LabelWords w = Words(a.label);
        uint64_t slot = LabelHash(w, candidate | 1);
        if (labels[slot].n != 0) {
          ok = false;
          break;
        }
        labels[slot] = w;
        label_fields[slot] = a.field;
      }
      if (ok) {
        seed = candidate | 1;
        break;
      }
    }
  }
};

const Tables& GetTables() {
  static const Tables* tables = new Tables();
  return *tables;
}

// Parses a decimal without sign or leading zeros, at most 9 digits.
bool ParseId(std::string_view s, uint32_t* out) {
  if (s.empty() || s.size() > 9 || (s[0] == '0' && s.size() > 1)) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  *out = v;
  return true;
}

NprobeField LookupId(uint32_t id) {
  return id < 65536 ? GetTables().by_id[id] : NprobeField::kUnknown;
}

}  // namespace

NprobeField LookupKey(std::string_view key) {
  if (key.empty()) return NprobeField::kUnknown;
  if (key[0] >= '0' && key[0] <= '9') {
    size_t dot = key.find('.');
    uint32_t id = 0;
    if (dot == std::string_view::npos) {
      return ParseId(key, &id) ? LookupId(id) : NprobeField::kUnknown;
    }
    uint32_t pen = 0;
    if (!ParseId(key.substr(0, dot), &pen) || !ParseId(key.substr(dot + 1), &id) ||
        pen != kNtopPen) {
      return NprobeField::kUnknown;
    }
    // ntop's IPFIX ids are small; nProbe also writes the v9 id after the PEN.
    if (id < kNtopIdBase) id += kNtopIdBase;
    return LookupId(id);
  }
  if (key.size() > kMaxLabelSize) return NprobeField::kUnknown;
  const Tables& t = GetTables();
  const LabelWords w = Words(key);
  const uint64_t slot = LabelHash(w, t.seed);
  return t.labels[slot] == w ? t.label_fields[slot] : NprobeField::kUnknown;
}

}  // namespace flowlake
