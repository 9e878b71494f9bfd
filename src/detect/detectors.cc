#include "detect/detectors.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "core/json_string.h"
#include "core/utc_time.h"
#include "decode/net_text.h"
#include "detect/dns_name.h"
#include "stream/event_time.h"
#include "stream/hash.h"

namespace flowlake {

namespace {

constexpr int64_t kMaxSpreadLimitMs = 86400000;  // as RollupConfig: keeps ShareUpTo in int64
constexpr size_t kSamples = 5;
constexpr int32_t kTcp = 6;
constexpr int32_t kIcmp = 1;
constexpr int32_t kIcmpV6 = 58;
constexpr int32_t kSyn = 0x02;
constexpr int32_t kFin = 0x01;
constexpr int32_t kPsh = 0x08;
constexpr int32_t kAck = 0x10;


// An address as a number: IPv4 as ::ffff:a.b.c.d, big-endian halves, so
// that comparing (hi, lo) orders addresses numerically.
struct Ip {
  uint64_t hi = 0;
  uint64_t lo = 0;
  friend bool operator==(const Ip&, const Ip&) = default;
  friend bool operator<(const Ip& a, const Ip& b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  }
};

void AppendIp(std::string& out, const Ip& ip) {
  if (ip.hi == 0 && (ip.lo >> 32) == 0xffff) {
    fmt::format_to(std::back_inserter(out), "{}.{}.{}.{}", (ip.lo >> 24) & 0xff,
                   (ip.lo >> 16) & 0xff, (ip.lo >> 8) & 0xff, ip.lo & 0xff);
    return;
  }
  IpAddress a;
  a.family = 6;
  for (int i = 0; i < 8; ++i) {
    a.bytes[i] = static_cast<uint8_t>(ip.hi >> (56 - 8 * i));
    a.bytes[8 + i] = static_cast<uint8_t>(ip.lo >> (56 - 8 * i));
  }
  FormatIpv6(&a);
  out += a.Text();
}

// A table key: up to two addresses and one more word (a port, a domain
// hash), unused words zero.
struct Key {
  std::array<uint64_t, 5> w{};
  // Word by word without branches: std::array's == calls memcmp.
  friend bool operator==(const Key& a, const Key& b) {
    return ((a.w[0] ^ b.w[0]) | (a.w[1] ^ b.w[1]) | (a.w[2] ^ b.w[2]) | (a.w[3] ^ b.w[3]) |
            (a.w[4] ^ b.w[4])) == 0;
  }
  friend bool operator<(const Key& a, const Key& b) { return a.w < b.w; }
};

Key MakeKey(const Ip& a, const Ip& b = {}, uint64_t extra = 0) {
  return Key{{a.hi, a.lo, b.hi, b.lo, extra}};
}

// Never persisted (a snapshot lists entries in slot order, but a reader
// does not rely on the order), so it may change freely; inline because it
// runs several times per flow. Each word times its own odd constant, the
// products summed (independent multiplies, no chain through the words),
// then MurmurHash3's fmix64 finalizer, which carries every input bit to
// both ends of the hash: the home slot (low bits) and the tag (top bits).
inline uint64_t HashKey(const Key& k) {
  uint64_t h = k.w[0] * 0x9e3779b97f4a7c15ULL + k.w[1] * 0xbf58476d1ce4e5b9ULL +
               k.w[2] * 0x94d049bb133111ebULL + k.w[3] * 0xd6e8feb86659fd93ULL +
               k.w[4] * 0xa0761d6478bd642fULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  return h ^ (h >> 33);
}

// The bytes of detector state (Detectors::StateBytes()) and the budget they
// are held to (max_state_bytes, 0: none). Whatever holds heap state reports
// what it allocates and frees when it does (a table when it grows, not per
// insert), so reading it is O(1) and the flow path only reads full().
class ByteMeter {
 public:
  explicit ByteMeter(uint64_t limit) : limit_(limit) {}

  uint64_t bytes() const { return bytes_; }
  uint64_t limit() const { return limit_; }
  void set_limit(uint64_t limit) {
    limit_ = limit;
    Update();
  }
  // At or above the budget: no new key may enter a table.
  bool full() const { return full_; }
  // Whether `more` bytes keep the state within the budget.
  bool Fits(uint64_t more) const {
    return limit_ == 0 || (bytes_ <= limit_ && more <= limit_ - bytes_);
  }
  void Add(uint64_t n) {
    bytes_ += n;
    Update();
  }
  void Sub(uint64_t n) {
    assert(n <= bytes_);
    bytes_ -= n;
    Update();
  }

 private:
  void Update() { full_ = limit_ != 0 && bytes_ >= limit_; }

  uint64_t bytes_ = 0;
  uint64_t limit_ = 0;
  bool full_ = false;
};

// The growth of the detectors' open-addressing tables (FlatMap, PairSet):
// 16 slots at first, then 4x when half full, not 2x: a window's tables are
// built from empty every window, and rehashing was most of their cost (an
// entry is moved ~1.4 times on average with 2x, ~0.7 times with 4x), for
// ~1.5x the slots on average (load between 1/8 and 1/2).
constexpr size_t kMinTableCapacity = 16;
constexpr size_t kTableGrowth = 4;

// The capacity a table reaches after `n` inserts (n > 0).
size_t TableCapacityFor(size_t n) {
  size_t capacity = kMinTableCapacity;
  while (2 * n > capacity) capacity *= kTableGrowth;
  return capacity;
}

// Open addressing with linear probing over fixed-size keys: no allocation
// per insert (the slot array grows 4x at half load), no erase (a window's
// tables are dropped whole). Its slot and control arrays are counted in a
// ByteMeter, and it does not grow past the meter's budget.
//
// A probe reads a byte array of control bytes (empty, or a 7-bit tag of the
// hash) and compares a slot's key only when its tag matches, so walking a
// probe sequence touches a few bytes instead of a 40-byte key (and the value
// beside it) per slot; slot memory is left uninitialized until used, so
// growing does not clear kilobytes of slots. Where an entry lands depends
// only on HashKey, the capacity and the insertion order, as with a plain
// array of (key, value, used) slots: the layout (and so SaveState()'s
// bytes) is that of the original table.
template <typename V>
class FlatMap {
 public:
  // `meter` must outlive the table.
  explicit FlatMap(ByteMeter& meter) : meter_(&meter) {}
  ~FlatMap() { meter_->Sub(BytesOf(capacity_)); }
  FlatMap(const FlatMap&) = delete;
  FlatMap& operator=(const FlatMap&) = delete;

  // The value of `key`. If absent: inserts a value-initialized one and sets
  // *inserted when size() < limit and the table has room or may grow
  // within the meter's budget, else returns nullptr (so limit 0: find only).
  V* FindOrInsert(const Key& key, size_t limit, bool* inserted) {
    return FindOrInsert(key, HashKey(key), limit, inserted);
  }
  // The same with `h` == HashKey(key), computed once for several tables or
  // ahead of time for Prefetch().
  V* FindOrInsert(const Key& key, uint64_t h, size_t limit, bool* inserted) {
    assert(h == HashKey(key));
    *inserted = false;
    if (capacity_ == 0) {
      if (limit == 0 || !meter_->Fits(BytesOf(kMinCapacity))) return nullptr;
      Allocate(kMinCapacity);
    }
    const uint8_t tag = TagOf(h);
    const size_t mask = capacity_ - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint8_t c = ctrl_[i];
      if (c == tag) {
        if (slots_[i].s.key == key) return &slots_[i].s.value;
        continue;
      }
      if (c != kEmpty) continue;
      if (size_ >= limit) return nullptr;
      const bool grow = 2 * (size_ + 1) > capacity_;
      if (grow && !meter_->Fits(BytesOf(capacity_ * kGrowth) - BytesOf(capacity_))) {
        return nullptr;
      }
      ctrl_[i] = tag;
      std::construct_at(&slots_[i].s, Slot{key, V{}});
      ++size_;
      *inserted = true;
      if (!grow) return &slots_[i].s.value;
      Rehash(capacity_ * kGrowth);
      return FindOrNull(key);
    }
  }

  size_t size() const { return size_; }

  // Starts loading the memory a lookup of a key with hash `h` reads first.
  void Prefetch(uint64_t h) const {
    if (capacity_ == 0) return;
    const size_t i = h & (capacity_ - 1);
    __builtin_prefetch(&ctrl_[i]);
    __builtin_prefetch(&slots_[i]);
  }

  // The value of `key`, or nullptr.
  V* FindOrNull(const Key& key) {
    if (capacity_ == 0) return nullptr;
    const uint64_t h = HashKey(key);
    const uint8_t tag = TagOf(h);
    const size_t mask = capacity_ - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint8_t c = ctrl_[i];
      if (c == kEmpty) return nullptr;
      if (c == tag && slots_[i].s.key == key) return &slots_[i].s.value;
    }
  }

  // Room for `n` entries without growing: the capacity FindOrInsert would
  // have reached after n inserts (none for n == 0), whatever the budget.
  void Reserve(size_t n) {
    if (n == 0) return;
    const size_t capacity = TableCapacityFor(n);
    if (capacity > capacity_) Rehash(capacity);
  }

  // Calls f(key, value) for every entry in slot order, starting after an
  // empty slot. Inserting the entries in this order into an empty table
  // Reserve()d for size() entries gives this very layout (with linear
  // probing, every slot between a key's home slot and its own is visited
  // before it), so a restored table saves to the same bytes.
  template <typename Fn>
  void ForEachInLayoutOrder(Fn&& f) const {
    if (size_ == 0) return;
    const size_t mask = capacity_ - 1;
    size_t empty = 0;
    while (ctrl_[empty] != kEmpty) ++empty;  // exists: at most half full
    for (size_t n = 1; n <= capacity_; ++n) {
      const size_t i = (empty + n) & mask;
      if (ctrl_[i] != kEmpty) f(slots_[i].s.key, slots_[i].s.value);
    }
  }

 private:
  static constexpr size_t kMinCapacity = kMinTableCapacity;
  static constexpr size_t kGrowth = kTableGrowth;
  static constexpr uint8_t kEmpty = 0;

  struct Slot {
    Key key;
    V value;
  };
  // Storage for a Slot, constructed on insert: an array of these is
  // allocated without initializing any slot.
  union SlotStorage {
    SlotStorage() {}  // NOLINT(modernize-use-equals-default): must not initialize `s`
    Slot s;
  };
  static_assert(std::is_trivially_destructible_v<Slot>, "slots are never destroyed one by one");
  static_assert(std::is_trivially_copyable_v<Slot>, "slots are moved by copying");

  // The top 7 bits of the hash with the top bit set: never kEmpty, and
  // independent of the home slot (the low bits) below 2^57 slots.
  static uint8_t TagOf(uint64_t h) { return static_cast<uint8_t>((h >> 57) | 0x80); }

  static uint64_t BytesOf(size_t capacity) { return capacity * (1 + sizeof(SlotStorage)); }

  void Allocate(size_t capacity) {
    ctrl_ = std::make_unique<uint8_t[]>(capacity);  // zeroed: all kEmpty
    slots_ = std::make_unique<SlotStorage[]>(capacity);
    meter_->Add(BytesOf(capacity));
    capacity_ = capacity;
  }

  // Re-inserts every entry in old slot order, as the original table did.
  void Rehash(size_t capacity) {
    std::unique_ptr<uint8_t[]> old_ctrl = std::move(ctrl_);
    std::unique_ptr<SlotStorage[]> old_slots = std::move(slots_);
    const size_t old_capacity = capacity_;
    Allocate(capacity);
    const size_t mask = capacity_ - 1;
    for (size_t j = 0; j < old_capacity; ++j) {
      if (old_ctrl[j] == kEmpty) continue;
      size_t i = HashKey(old_slots[j].s.key) & mask;
      while (ctrl_[i] != kEmpty) i = (i + 1) & mask;
      ctrl_[i] = old_ctrl[j];
      std::construct_at(&slots_[i].s, old_slots[j].s);
    }
    meter_->Sub(BytesOf(old_capacity));
  }

  ByteMeter* meter_;
  std::unique_ptr<uint8_t[]> ctrl_;
  std::unique_ptr<SlotStorage[]> slots_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

struct Present {};

// volumetric_seen: the (dst, src) pairs of a window, as MakeKey(dst, src).
// There is one per distinct pair, so at a busy minute it is by far the
// largest table (a FlatMap<Present> slot is 49 bytes, at 1/8 to 1/2 load),
// and each flow probes it: a miss on the control byte, then on the slot.
// A pair of two IPv4 addresses, most of them, packs into one word: those
// go to an open-addressing array of words (8 bytes a slot, 0 = empty, one
// cache line per probe), the rest to a FlatMap<Present>. The interface is
// FlatMap<Present>'s, and so are the keys written by SaveState(): the
// snapshot format does not change. The word array grows as FlatMap does (4x
// at half load) and reports to the same ByteMeter.
class PairSet {
 public:
  explicit PairSet(ByteMeter& meter) : meter_(&meter), wide_(meter) {}
  ~PairSet() { meter_->Sub(capacity_ * sizeof(uint64_t)); }
  PairSet(const PairSet&) = delete;
  PairSet& operator=(const PairSet&) = delete;

  // As FlatMap::FindOrInsert; the value is a Present, nothing to update.
  Present* FindOrInsert(const Key& key, size_t limit, bool* inserted) {
    return FindOrInsert(key, HashKey(key), limit, inserted);
  }
  Present* FindOrInsert(const Key& key, uint64_t h, size_t limit, bool* inserted) {
    assert(h == HashKey(key));
    uint64_t word = 0;
    if (!Pack(key, &word)) return wide_.FindOrInsert(key, h, limit, inserted);
    *inserted = false;
    if (word == 0) {  // 0.0.0.0 -> 0.0.0.0: 0 marks an empty slot
      if (has_zero_) return &present_;
      if (size() >= limit) return nullptr;
      has_zero_ = true;
      *inserted = true;
      return &present_;
    }
    if (capacity_ == 0) {
      if (limit == 0 || !meter_->Fits(kMinCapacity * sizeof(uint64_t))) return nullptr;
      Allocate(kMinCapacity);
    }
    const size_t mask = capacity_ - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const uint64_t w = words_[i];
      if (w == word) return &present_;
      if (w != 0) continue;
      if (size() >= limit) return nullptr;
      const bool grow = 2 * (packed_ + 1) > capacity_;
      if (grow && !meter_->Fits((capacity_ * kGrowth - capacity_) * sizeof(uint64_t))) {
        return nullptr;
      }
      words_[i] = word;
      ++packed_;
      *inserted = true;
      if (grow) Rehash(capacity_ * kGrowth);
      return &present_;
    }
  }

  size_t size() const { return packed_ + (has_zero_ ? 1 : 0) + wide_.size(); }

  void Prefetch(uint64_t h) const {
    if (capacity_ != 0) __builtin_prefetch(&words_[h & (capacity_ - 1)]);
  }

  // Room for `packed` more packable keys (the zero pair aside) and `wide`
  // more other keys without growing, as FlatMap::Reserve(size() + n).
  void Reserve(size_t packed, size_t wide) {
    if (wide > 0) wide_.Reserve(wide_.size() + wide);
    if (packed == 0) return;
    const size_t capacity = TableCapacityFor(packed_ + packed);
    if (capacity > capacity_) Rehash(capacity);
  }

  // Calls f(key, Present) for every key: the zero pair, the words in layout
  // order (as FlatMap's: inserted in this order into a table Reserve()d for
  // them, they take the same slots), then the FlatMap's.
  template <typename Fn>
  void ForEachInLayoutOrder(Fn&& f) const {
    if (has_zero_) f(Unpack(0), present_);
    if (packed_ > 0) {
      const size_t mask = capacity_ - 1;
      size_t empty = 0;
      while (words_[empty] != 0) ++empty;  // exists: at most half full
      for (size_t n = 1; n <= capacity_; ++n) {
        const size_t i = (empty + n) & mask;
        if (words_[i] != 0) f(Unpack(words_[i]), present_);
      }
    }
    wide_.ForEachInLayoutOrder(f);
  }

  // Whether `key` is a pair of IPv4 addresses (::ffff:a.b.c.d), and its word.
  static bool Pack(const Key& key, uint64_t* word) {
    if ((key.w[0] | key.w[2] | key.w[4]) != 0 || (key.w[1] >> 32) != 0xffff ||
        (key.w[3] >> 32) != 0xffff) {
      return false;
    }
    *word = ((key.w[1] ^ kMapped) << 32) | (key.w[3] ^ kMapped);
    return true;
  }

 private:
  static constexpr size_t kMinCapacity = kMinTableCapacity;
  static constexpr size_t kGrowth = kTableGrowth;
  // The top half of an IPv4 address's low word (::ffff:a.b.c.d).
  static constexpr uint64_t kMapped = uint64_t{0xffff} << 32;

  static Key Unpack(uint64_t word) {
    return Key{{0, kMapped | (word >> 32), 0, kMapped | (word & 0xffffffff), 0}};
  }

  void Allocate(size_t capacity) {
    words_ = std::make_unique<uint64_t[]>(capacity);  // zeroed: all empty
    meter_->Add(capacity * sizeof(uint64_t));
    capacity_ = capacity;
  }

  // Re-inserts every word in old slot order, as FlatMap does.
  void Rehash(size_t capacity) {
    std::unique_ptr<uint64_t[]> old = std::move(words_);
    const size_t old_capacity = capacity_;
    Allocate(capacity);
    const size_t mask = capacity_ - 1;
    for (size_t j = 0; j < old_capacity; ++j) {
      if (old[j] == 0) continue;
      size_t i = HashKey(Unpack(old[j])) & mask;
      while (words_[i] != 0) i = (i + 1) & mask;
      words_[i] = old[j];
    }
    meter_->Sub(old_capacity * sizeof(uint64_t));
  }

  ByteMeter* meter_;
  std::unique_ptr<uint64_t[]> words_;
  size_t capacity_ = 0;
  size_t packed_ = 0;  // words in words_
  bool has_zero_ = false;
  FlatMap<Present> wide_;  // pairs with an IPv6 address
  Present present_;        // what FindOrInsert points to for a packed key
};

// The smallest kSamples values added, ascending: deterministic samples for a
// given input order, whatever the order.
template <typename T>
struct Smallest {
  std::array<T, kSamples> v{};
  uint8_t n = 0;
  void Add(const T& x) {
    if (n == kSamples && !(x < v[kSamples - 1])) return;
    size_t i = n < kSamples ? n++ : kSamples - 1;
    for (; i > 0 && x < v[i - 1]; --i) v[i] = v[i - 1];
    v[i] = x;
  }
};

// Per key and window. `done`: fired, or suppressed by the cooldown; the key
// then stops counting in this window.
template <typename T>
struct Distinct {
  uint64_t count = 0;
  Smallest<T> samples;
  bool done = false;
};
struct Volume {
  int64_t bytes = 0;
  int64_t pkts = 0;
  uint64_t sources = 0;
  Smallest<Ip> samples;
  bool done = false;
};
struct Count {
  uint64_t count = 0;
  bool done = false;
};

constexpr std::string_view kSeverity[kDetectionTypeCount] = {
    "medium",    // port_scan.vertical
    "medium",    // port_scan.horizontal
    "high",      // syn_flood
    "critical",  // volumetric
    "high",      // icmp_flood
    "high",      // blocklist
    "high",      // dns_tunnel
    "critical",  // exfiltration
    "low",       // suspicious_port
};

void AppendSample(std::string& out, uint16_t port) {
  fmt::format_to(std::back_inserter(out), "{}", port);
}
void AppendSample(std::string& out, const Ip& ip) {
  out += '"';
  AppendIp(out, ip);
  out += '"';
}

// {"<count_name>":N,"samples":{"<samples_name>":[...]}} (plus `more`, if any,
// before the closing brace).
template <typename T>
std::string CountEvidence(std::string_view count_name, uint64_t count,
                          std::string_view samples_name, const Smallest<T>& samples,
                          std::string_view more = {}) {
  std::string out =
      fmt::format(R"({{"{}":{}{},"samples":{{"{}":[)", count_name, count, more, samples_name);
  for (size_t i = 0; i < samples.n; ++i) {
    if (i > 0) out += ',';
    AppendSample(out, samples.v[i]);
  }
  out += "]}}";
  return out;
}

// Counts one more (a new distinct value, or a flow) with its sample; true
// when this makes the count reach `threshold` (the state is then done: the
// caller fires).
template <typename T>
bool CountTowards(Distinct<T>& state, const T& value, uint64_t threshold) {
  state.samples.Add(value);
  if (++state.count < threshold) return false;
  state.done = true;
  return true;
}

// Shortest round-trip text of a double, always valid JSON.
std::string JsonNumber(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

}  // namespace

std::string_view DetectionTypeName(DetectionType type) {
  switch (type) {
    case DetectionType::kPortScanVertical: return "port_scan.vertical";
    case DetectionType::kPortScanHorizontal: return "port_scan.horizontal";
    case DetectionType::kSynFlood: return "syn_flood";
    case DetectionType::kVolumetric: return "volumetric";
    case DetectionType::kIcmpFlood: return "icmp_flood";
    case DetectionType::kBlocklist: return "blocklist";
    case DetectionType::kDnsTunnel: return "dns_tunnel";
    case DetectionType::kExfiltration: return "exfiltration";
    case DetectionType::kSuspiciousPort: return "suspicious_port";
    case DetectionType::kCount: break;
  }
  return "unknown";
}

Status DetectorConfig::Validate() const {
  const auto bad = [](std::string_view field, std::string_view rule, auto value) {
    return Status::InvalidArgument(
        fmt::format("detector {} must be {}, got {}", field, rule, value));
  };
  if (window_ms <= 0) return bad("window_ms", "> 0", window_ms);
  if (lateness_ms < 0) return bad("lateness_ms", ">= 0", lateness_ms);
  if (idle_timeout_ms < 0) return bad("idle_timeout_ms", ">= 0", idle_timeout_ms);
  if (max_spread_ms < 0 || max_spread_ms > kMaxSpreadLimitMs) {
    return bad("max_spread_ms", fmt::format("in [0, {}]", kMaxSpreadLimitMs), max_spread_ms);
  }
  if (cooldown_ms < 0) return bad("cooldown_ms", ">= 0", cooldown_ms);
  if (max_keys_per_window == 0) return bad("max_keys_per_window", "> 0", 0);
  if (blocklist_check_interval_ms < 0) {
    return bad("blocklist_check_interval_ms", ">= 0", blocklist_check_interval_ms);
  }
  const std::pair<std::string_view, uint64_t> counts[] = {
      {"vertical_scan_ports", vertical_scan_ports},
      {"horizontal_scan_hosts", horizontal_scan_hosts},
      {"syn_flood_flows", syn_flood_flows},
      {"volumetric_sources", volumetric_sources},
      {"dns_tunnel_queries", dns_tunnel_queries},
      {"dns_long_label", dns_long_label},
      {"exfiltration_bytes", exfiltration_bytes}};
  for (const auto& [field, value] : counts) {
    if (value == 0) return bad(field, "> 0", 0);
  }
  const std::pair<std::string_view, double> rates[] = {{"volumetric_bps", volumetric_bps},
                                                       {"volumetric_pps", volumetric_pps},
                                                       {"icmp_flood_pps", icmp_flood_pps}};
  for (const auto& [field, value] : rates) {
    if (!std::isfinite(value) || value <= 0) return bad(field, "finite and > 0", value);
  }
  if (!(dns_entropy_bits > 0 && dns_entropy_bits <= 8)) {
    return bad("dns_entropy_bits", "in (0, 8]", dns_entropy_bits);
  }
  for (const int port : suspicious_ports) {
    if (port < 0 || port > 65535) return bad("suspicious_ports", "in [0, 65535]", port);
  }
  for (const std::string& cidr : local_networks) {
    Result<IpSet> set = IpSet::Parse(cidr, "local_networks");
    if (!set.ok() || set->stats().entries != 1 || cidr.find('#') != std::string::npos) {
      return Status::InvalidArgument(
          fmt::format("detector local_networks: '{}' is not an IP address or CIDR prefix", cidr));
    }
  }
  return Status::Ok();
}

// One row, parsed once.
struct Detectors::Row {
  const FlowBatch* batch = nullptr;
  size_t row = 0;
  bool has_start = false;  // a null start_time: the row is dropped
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool has_src = false;
  bool has_dst = false;
  Ip src;
  Ip dst;
  bool has_port = false;
  uint16_t dst_port = 0;
  int32_t protocol = -1;
  int64_t in_bytes = 0;
  int64_t in_pkts = 0;
  int32_t tcp_flags = 0;  // 0 when null
  // A connection attempt that exchanged no data: TCP without PSH or FIN
  // (unanswered, refused, or a handshake torn down by the scanner), another
  // protocol without a packet back. What the scan detectors count.
  bool attempt = false;
  bool src_local = false;
  bool dst_local = false;
  bool src_listed = false;  // on the blocklist
  bool dst_listed = false;
  int64_t start_window_ms = 0;
  std::string_view dns_query;  // empty when null
  // HashKey() of the row's keys, computed once per row (and ahead of the
  // row, to prefetch their slots); set only where the key is looked up.
  uint64_t dst_hash = 0;       // (dst): syn_flood, volumetric, icmp_flood
  uint64_t dst_src_hash = 0;   // (dst, src): volumetric_seen
  uint64_t src_dst_hash = 0;   // (src, dst): vertical, blocklist
  uint64_t src_port_hash = 0;  // (src, port): horizontal
  uint64_t scan_hash = 0;      // (src, dst, port): scan_seen
  uint64_t src_hash = 0;       // (src): exfiltration
};

// Address texts already parsed, with their local_networks and blocklist
// membership: flows repeat a few hosts (servers, resolvers, the local
// network), and one probe of this direct-mapped table costs a fraction of
// parsing the text and two range searches. Texts of 4 to 16 bytes (every
// dotted quad, short IPv6) are keyed by their bytes in two words; 17 to 40
// bytes (other IPv6) have a smaller table of their own; longer ones are
// parsed every time. Text that is not an address is never cached, so it is
// counted every time. `listed` holds for blocklist(): Reset() when the
// blocklist changes. Size: 16k short and 4k long entries, ~1.1 MB (on the
// synthetic mix, 4x fewer entries missed twice as often, and were slower).
class Detectors::AddressCache {
 public:
  struct Address {
    Ip ip;
    bool local = false;
    bool listed = false;
  };

  void Reset(std::shared_ptr<const IpSet> blocklist) {
    blocklist_ = std::move(blocklist);
    std::fill(short_.begin(), short_.end(), ShortEntry{});
    std::fill(long_.begin(), long_.end(), LongEntry{});
  }
  const std::shared_ptr<const IpSet>& blocklist() const { return blocklist_; }

  // The parsed `text`, or nullptr if it is not an address.
  const Address* Find(std::string_view text, const IpSet& local) {
    const size_t n = text.size();
    const char* p = text.data();
    if (n >= 4 && n <= 16) {
      // Two overlapping loads hold every byte of the text: with the size,
      // they identify it.
      uint64_t w0 = 0, w1 = 0;
      if (n >= 8) {
        std::memcpy(&w0, p, 8);
        std::memcpy(&w1, p + n - 8, 8);
      } else {
        uint32_t a = 0, b = 0;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        w0 = a;
        w1 = b;
      }
      ShortEntry& e = short_[Slot(w0, w1, n, kShortBits)];
      if (e.w0 == w0 && e.w1 == w1 && e.size == n) return &e.address;
      const Address* parsed = Parse(text, local, &e.address);
      e.size = parsed != nullptr ? static_cast<uint8_t>(n) : 0;
      e.w0 = w0;
      e.w1 = w1;
      return parsed;
    }
    if (n > 16 && n <= kLongText) {
      uint64_t w0 = 0, w1 = 0, w2 = 0;
      std::memcpy(&w0, p, 8);
      std::memcpy(&w1, p + 8, 8);
      std::memcpy(&w2, p + n - 8, 8);
      LongEntry& e = long_[Slot(w0 ^ (w2 * 0xd6e8feb86659fd93ULL), w1, n, kLongBits)];
      if (e.size == n && std::memcmp(e.text, p, n) == 0) return &e.address;
      const Address* parsed = Parse(text, local, &e.address);
      e.size = parsed != nullptr ? static_cast<uint8_t>(n) : 0;
      std::memcpy(e.text, p, n);
      return parsed;
    }
    return Parse(text, local, &uncached_);
  }

 private:
  static constexpr int kShortBits = 14;
  static constexpr int kLongBits = 12;
  static constexpr size_t kLongText = 40;

  // size 0: empty (no text of a cached length matches it).
  struct ShortEntry {
    uint64_t w0 = 0;
    uint64_t w1 = 0;
    Address address;
    uint8_t size = 0;
  };
  struct LongEntry {
    char text[kLongText] = {};
    Address address;
    uint8_t size = 0;
  };

  static size_t Slot(uint64_t w0, uint64_t w1, size_t n, int bits) {
    return static_cast<size_t>(((w0 ^ (w1 * 0x9e3779b97f4a7c15ULL) ^ n) * 0xbf58476d1ce4e5b9ULL) >>
                               (64 - bits));
  }

  const Address* Parse(std::string_view text, const IpSet& local, Address* out) const {
    if (!ParseIpHalves(text, &out->ip.hi, &out->ip.lo)) return nullptr;
    out->local = local.ContainsHalves(out->ip.hi, out->ip.lo);
    out->listed = blocklist_->ContainsHalves(out->ip.hi, out->ip.lo);
    return out;
  }

  std::shared_ptr<const IpSet> blocklist_ = std::make_shared<const IpSet>();
  std::array<ShortEntry, size_t{1} << kShortBits> short_{};
  std::array<LongEntry, size_t{1} << kLongBits> long_{};
  Address uncached_;
};

// The header's name for the ByteMeter: FlatMap, outside Detectors, cannot
// name a private member class.
class Detectors::StateMeter : public ByteMeter {
 public:
  using ByteMeter::ByteMeter;
};

// `exempt` (no budget) holds the tables of the one-flow detectors.
struct Detectors::Window {
  Window(ByteMeter& meter, ByteMeter& exempt)
      : vertical(meter),
        horizontal(meter),
        scan_seen(meter),
        syn_flood(meter),
        volumetric(meter),
        volumetric_seen(meter),
        icmp_flood(meter),
        blocklist(exempt),
        dns_tunnel(meter),
        exfiltration(meter),
        suspicious(exempt) {}

  FlatMap<Distinct<uint16_t>> vertical;  // (src, dst)
  FlatMap<Distinct<Ip>> horizontal;      // (src, port)
  FlatMap<Present> scan_seen;            // (src, dst, port)
  FlatMap<Distinct<Ip>> syn_flood;       // dst; count: flows; samples: srcs
  FlatMap<Volume> volumetric;            // dst
  PairSet volumetric_seen;               // (dst, src)
  FlatMap<Count> icmp_flood;             // dst; count: packets
  FlatMap<Present> blocklist;            // (src, dst)
  FlatMap<Count> dns_tunnel;             // (src, registered domain hash)
  FlatMap<Count> exfiltration;           // src; count: bytes
  FlatMap<Present> suspicious;           // (src, dst, port)
};

// The last window start each (type, key) fired in. Ordered, so that
// SaveState() writes it in a canonical order without sorting; it holds only
// the keys that fired within cooldown_ms, and is touched only when firing.
struct Detectors::Cooldowns {
  std::array<std::map<Key, int64_t>, kDetectionTypeCount> last_fired;
};

namespace {

// StateBytes() shares of what is not a table: an open window's node in open_
// (plus sizeof(Window), its table headers; the tables count themselves), a
// cooldown entry (a red-black tree node: colour and three links, then the
// value), and a queued event with its strings' heap buffers.
constexpr uint64_t kTreeNodeLinks = 4 * sizeof(void*);
constexpr uint64_t kWindowNodeBytes = kTreeNodeLinks + sizeof(std::pair<const int64_t, void*>);
constexpr uint64_t kCooldownBytes = kTreeNodeLinks + sizeof(std::pair<const Key, int64_t>);

uint64_t HeapBytes(const std::string& s) {
  static const size_t kInline = std::string().capacity();
  return s.capacity() > kInline ? s.capacity() + 1 : 0;
}
uint64_t EventBytes(const DetectionEvent& e) {
  return sizeof(DetectionEvent) + HeapBytes(e.id) + HeapBytes(e.type) + HeapBytes(e.severity) +
         HeapBytes(e.key_host) + HeapBytes(e.json);
}

}  // namespace

Detectors::Detectors(DetectorConfig config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      watermark_(config_.window_ms, config_.lateness_ms, config_.idle_timeout_ms),
      blocklist_set_(std::make_shared<const IpSet>()),
      meter_(std::make_unique<StateMeter>(config_.max_state_bytes)),
      exempt_meter_(std::make_unique<StateMeter>(0)),
      cooldowns_(std::make_unique<Cooldowns>()),
      addresses_(std::make_unique<AddressCache>()) {
  assert(config_.Validate().ok());
  std::string text;
  for (const std::string& cidr : config_.local_networks) text += cidr + "\n";
  if (!text.empty()) {
    Result<IpSet> set = IpSet::Parse(text, "local_networks");
    assert(set.ok());
    local_ = std::move(*set);
  }
  std::sort(config_.suspicious_ports.begin(), config_.suspicious_ports.end());
}

Detectors::~Detectors() = default;

Status Detectors::Start() {
  if (config_.blocklist_path.empty()) return Status::Ok();
  blocklist_ = std::make_unique<Blocklist>(
      BlocklistConfig{config_.blocklist_path, config_.blocklist_check_interval_ms}, clock_);
  Status st = blocklist_->Reload();
  if (!st.ok()) {
    blocklist_.reset();
    return st;
  }
  blocklist_set_ = blocklist_->current();
  stats_.blocklist_reloads = blocklist_->counters().reloads;
  return Status::Ok();
}

void Detectors::TakeBlocklist(Detectors& from) {
  blocklist_ = std::move(from.blocklist_);
  blocklist_set_ = std::exchange(from.blocklist_set_, std::make_shared<const IpSet>());
  stats_.blocklist_reloads = from.stats_.blocklist_reloads;
  stats_.blocklist_errors = from.stats_.blocklist_errors;
}

void Detectors::Consume(const FlowBatch& batch) {
  const size_t n = batch.num_rows();
  if (n == 0) return;
  if (blocklist_) {
    if (!blocklist_->MaybeReload().ok()) ++stats_.blocklist_errors;
    blocklist_set_ = blocklist_->current();
    stats_.blocklist_reloads = blocklist_->counters().reloads;
  }
  if (addresses_->blocklist() != blocklist_set_) addresses_->Reset(blocklist_set_);
  if (rows_.size() < kChunkRows) rows_.resize(kChunkRows);
  if (watermark_.BeginBatch(clock_.MonotonicMs(), batch)) CloseWindows();
  SourceCursor sources(batch);
  for (size_t first = 0; first < n; first += kChunkRows) {
    const size_t count = std::min(kChunkRows, n - first);
    ReadRows(batch, first, count);
    // The tables are far larger than the caches: each row's slots are
    // requested kPrefetchRows rows before they are needed.
    for (size_t i = 0; i < std::min(kPrefetchRows, count); ++i) PrefetchRow(rows_[i]);
    for (size_t i = 0; i < count; ++i) {
      if (i + kPrefetchRows < count) PrefetchRow(rows_[i + kPrefetchRows]);
      ConsumeRow(rows_[i], sources.At(first + i));
    }
  }
}

Detectors::Window& Detectors::WindowAt(int64_t window_start_ms) {
  if (cached_window_ != nullptr && cached_window_start_ms_ == window_start_ms) {
    return *cached_window_;
  }
  return OpenWindow(window_start_ms);
}

Detectors::Window& Detectors::OpenWindow(int64_t window_start_ms) {
  auto it = open_.find(window_start_ms);
  if (it == open_.end()) {
    it = open_.emplace(window_start_ms, std::make_unique<Window>(*meter_, *exempt_meter_)).first;
    meter_->Add(sizeof(Window) + kWindowNodeBytes);
  }
  cached_window_start_ms_ = window_start_ms;
  cached_window_ = it->second.get();
  return *cached_window_;
}

// Column by column: each loop walks one or two arrays front to back, which
// the hardware prefetcher streams; row by row, the ~20 arrays a row needs
// interleave and every row waited on memory.
void Detectors::ReadRows(const FlowBatch& batch, size_t first, size_t count) {
  Row* const rows = rows_.data();
  {
    const Column& c = batch.column(kStartTime);
    const std::span<const uint8_t> valid = c.validity();
    const std::span<const int64_t> values = c.int64_values();
    int64_t window_start = WindowStartOf(0, config_.window_ms);
    for (size_t i = 0; i < count; ++i) {
      // Every field is set below (no Row{} temporary: this runs per flow).
      Row& r = rows[i];
      r.batch = &batch;
      r.row = first + i;
      r.has_start = valid[first + i] != 0;
      r.start_ms = r.has_start ? values[first + i] : 0;
      // Rows in a batch mostly share a window: one division per window.
      if (!(r.start_ms >= window_start &&
            static_cast<uint64_t>(r.start_ms) - static_cast<uint64_t>(window_start) <
                static_cast<uint64_t>(config_.window_ms))) {
        window_start = WindowStartOf(r.start_ms, config_.window_ms);
      }
      r.start_window_ms = window_start;
      r.has_src = r.has_dst = r.src_local = r.dst_local = r.src_listed = r.dst_listed = false;
      r.src = r.dst = Ip{};
      r.has_port = false;
      r.dst_port = 0;
      r.protocol = -1;
      r.tcp_flags = 0;
    }
  }
  {
    const Column& c = batch.column(kEndTime);
    const std::span<const uint8_t> valid = c.validity();
    const std::span<const int64_t> values = c.int64_values();
    for (size_t i = 0; i < count; ++i) {
      rows[i].end_ms = valid[first + i] != 0 ? values[first + i] : rows[i].start_ms;
    }
  }
  // Rows without a start are dropped before their addresses are looked at
  // (so they count no unparsed_ips).
  const auto read_ip = [&](FlowCol col, Ip Row::*ip, bool Row::*has, bool Row::*local,
                           bool Row::*listed) {
    const Column& c = batch.column(col);
    const std::span<const uint8_t> valid = c.validity();
    for (size_t i = 0; i < count; ++i) {
      Row& r = rows[i];
      if (!r.has_start || valid[first + i] == 0) continue;
      const AddressCache::Address* a = addresses_->Find(c.String(first + i), local_);
      if (a == nullptr) {
        ++stats_.unparsed_ips;
        continue;
      }
      r.*has = true;
      r.*ip = a->ip;
      r.*local = a->local;
      r.*listed = a->listed;
    }
  };
  read_ip(kSrcIp, &Row::src, &Row::has_src, &Row::src_local, &Row::src_listed);
  read_ip(kDstIp, &Row::dst, &Row::has_dst, &Row::dst_local, &Row::dst_listed);
  {
    const Column& c = batch.column(kDstPort);
    const std::span<const uint8_t> valid = c.validity();
    const std::span<const int32_t> values = c.int32_values();
    for (size_t i = 0; i < count; ++i) {
      if (valid[first + i] == 0) continue;
      const int32_t port = values[first + i];
      rows[i].has_port = port >= 0 && port <= 65535;
      rows[i].dst_port = static_cast<uint16_t>(port);
    }
  }
  {
    const Column& c = batch.column(kProtocol);
    const std::span<const uint8_t> valid = c.validity();
    const std::span<const int32_t> values = c.int32_values();
    for (size_t i = 0; i < count; ++i) {
      if (valid[first + i] != 0) rows[i].protocol = values[first + i];
    }
  }
  const auto read_counter = [&](FlowCol col, int64_t Row::*out) {
    const Column& c = batch.column(col);
    const std::span<const uint8_t> valid = c.validity();
    const std::span<const int64_t> values = c.int64_values();
    for (size_t i = 0; i < count; ++i) {
      rows[i].*out = valid[first + i] != 0 ? std::max<int64_t>(0, values[first + i]) : 0;
    }
  };
  read_counter(kInBytes, &Row::in_bytes);
  read_counter(kInPkts, &Row::in_pkts);
  {
    const Column& flags = batch.column(kTcpFlags);
    const std::span<const uint8_t> flags_valid = flags.validity();
    const std::span<const int32_t> flags_values = flags.int32_values();
    const Column& out_pkts = batch.column(kOutPkts);
    const std::span<const uint8_t> out_valid = out_pkts.validity();
    const std::span<const int64_t> out_values = out_pkts.int64_values();
    for (size_t i = 0; i < count; ++i) {
      Row& r = rows[i];
      const size_t row = first + i;
      const bool has_flags = flags_valid[row] != 0;
      if (has_flags) r.tcp_flags = flags_values[row];
      r.attempt = r.protocol == kTcp && has_flags ? (r.tcp_flags & (kPsh | kFin)) == 0
                                                  : out_valid[row] == 0 || out_values[row] <= 0;
    }
  }
  {
    const Column& c = batch.column(kDnsQuery);
    const std::span<const uint8_t> valid = c.validity();
    for (size_t i = 0; i < count; ++i) {
      rows[i].dns_query = valid[first + i] != 0 ? c.String(first + i) : std::string_view();
    }
  }
  for (size_t i = 0; i < count; ++i) {
    Row& r = rows[i];
    if (r.has_dst) r.dst_hash = HashKey(MakeKey(r.dst));
    if (!r.has_src || !r.has_dst) continue;
    r.dst_src_hash = HashKey(MakeKey(r.dst, r.src));
    const bool scan = r.attempt && r.has_port;
    if (scan || r.src_listed || r.dst_listed) r.src_dst_hash = HashKey(MakeKey(r.src, r.dst));
    if (scan) {
      r.src_port_hash = HashKey(MakeKey(r.src, {}, r.dst_port));
      r.scan_hash = HashKey(MakeKey(r.src, r.dst, r.dst_port));
    }
    if (r.src_local && !r.dst_local) r.src_hash = HashKey(MakeKey(r.src));
  }
}

void Detectors::PrefetchRow(const Row& r) const {
  // Most rows count in the window of the row before.
  if (!r.has_start || cached_window_ == nullptr || cached_window_start_ms_ != r.start_window_ms) {
    return;
  }
  const Window& w = *cached_window_;
  if (r.has_dst) w.volumetric.Prefetch(r.dst_hash);
  if (!r.has_src || !r.has_dst) return;
  w.volumetric_seen.Prefetch(r.dst_src_hash);
  if (r.attempt && r.has_port) {
    w.vertical.Prefetch(r.src_dst_hash);
    w.horizontal.Prefetch(r.src_port_hash);
    w.scan_seen.Prefetch(r.scan_hash);
  }
  if (r.src_local && !r.dst_local) w.exfiltration.Prefetch(r.src_hash);
}

void Detectors::ConsumeRow(const Row& r, uint32_t source) {
  ++stats_.flows;
  if (!r.has_start) {
    ++stats_.flows_without_start;
    return;
  }

  const int64_t start_window = r.start_window_ms;
  if (watermark_.IsClosed(start_window)) {
    ++stats_.late_flows;
  } else {
    CountRow(r, start_window, WindowAt(start_window));
  }

  // Bytes and packets, spread as the rollups spread them: shares for windows
  // still open count even when the start window is closed. A flow within
  // its start window (most) has all of it there: SpreadOverWindows would
  // give the same share after four divisions per counter.
  const auto add = [&](int64_t window_start, const std::array<int64_t, 2>& share) {
    if (watermark_.IsClosed(window_start)) return;
    AddShare(r, window_start, WindowAt(window_start), share[0], share[1]);
  };
  if (r.end_ms <= start_window + config_.window_ms) {
    if (r.in_bytes != 0 || r.in_pkts != 0) add(start_window, {r.in_bytes, r.in_pkts});
  } else {
    SpreadOverWindows<2>(r.start_ms, r.end_ms, config_.window_ms, config_.max_spread_ms,
                         {r.in_bytes, r.in_pkts}, add);
  }

  // Per flow, never per batch: batch boundaries must not change the output.
  if (watermark_.AfterFlow(r.start_ms, source)) CloseWindows();
}

inline size_t Detectors::KeyLimit() const {
  return meter_->full() ? 0 : config_.max_keys_per_window;
}

template <typename Table, typename K>
auto* Detectors::Track(Table& table, const K& key, uint64_t hash, size_t limit, bool* inserted) {
  auto* state = table.FindOrInsert(key, hash, limit, inserted);
  if (state == nullptr) {
    ++(table.size() >= config_.max_keys_per_window ? stats_.keys_overflow
                                                   : stats_.keys_over_memory);
  }
  return state;
}

void Detectors::CountRow(const Row& r, int64_t window_start, Window& w) {
  const size_t limit = KeyLimit();
  bool inserted = false;
  // blocklist and suspicious_port fire on a key's first flow: a key refused
  // would be an attack unseen. Their tables are outside the byte budget,
  // bounded by max_keys_per_window alone.
  const auto track_exempt = [&](auto& table, const Key& key, uint64_t hash) {
    auto* state = table.FindOrInsert(key, hash, config_.max_keys_per_window, &inserted);
    if (state == nullptr) ++stats_.keys_overflow;
    return state;
  };

  if (r.attempt && r.has_src && r.has_dst && r.has_port) {
    // A new (src, dst, port) is a new port of (src, dst) and a new dst of
    // (src, port): one "seen" table serves both scans.
    const Key pair = MakeKey(r.src, r.dst);
    const Key src_port = MakeKey(r.src, {}, r.dst_port);
    Distinct<uint16_t>* v = Track(w.vertical, pair, r.src_dst_hash, limit, &inserted);
    Distinct<Ip>* h = Track(w.horizontal, src_port, r.src_port_hash, limit, &inserted);
    if (v != nullptr && v->done) v = nullptr;
    if (h != nullptr && h->done) h = nullptr;
    if (v != nullptr || h != nullptr) {
      // A new value of a tracked key, if the table has room (or may grow).
      if (w.scan_seen.FindOrInsert(MakeKey(r.src, r.dst, r.dst_port), r.scan_hash, SIZE_MAX,
                                   &inserted) == nullptr) {
        ++stats_.keys_over_memory;
      }
      if (inserted && v != nullptr && CountTowards(*v, r.dst_port, config_.vertical_scan_ports)) {
        Fire(DetectionType::kPortScanVertical, r, window_start, pair.w,
             CountEvidence("distinct_dst_ports", v->count, "dst_ports", v->samples),
             fmt::format(R"({{"distinct_dst_ports":{}}})", config_.vertical_scan_ports));
      }
      if (inserted && h != nullptr && CountTowards(*h, r.dst, config_.horizontal_scan_hosts)) {
        Fire(DetectionType::kPortScanHorizontal, r, window_start, src_port.w,
             CountEvidence("distinct_dst_ips", h->count, "dst_ips", h->samples),
             fmt::format(R"({{"distinct_dst_ips":{}}})", config_.horizontal_scan_hosts));
      }
    }
  }

  if (r.has_dst && r.protocol == kTcp) {
    if ((r.tcp_flags & kSyn) != 0 && (r.tcp_flags & kAck) == 0) {
      const Key victim = MakeKey(r.dst);
      Distinct<Ip>* s = Track(w.syn_flood, victim, r.dst_hash, limit, &inserted);
      if (s != nullptr && !s->done && CountTowards(*s, r.src, config_.syn_flood_flows)) {
        Fire(DetectionType::kSynFlood, r, window_start, victim.w,
             CountEvidence("syn_flows", s->count, "src_ips", s->samples),
             fmt::format(R"({{"syn_flows":{}}})", config_.syn_flood_flows));
      }
    }
  }

  if (r.has_src && r.has_dst && (r.src_listed || r.dst_listed)) {
    const Key pair = MakeKey(r.src, r.dst);
    if (track_exempt(w.blocklist, pair, r.src_dst_hash) != nullptr && inserted) {
      const std::string_view listed = r.src_listed && r.dst_listed ? "both"
                                      : r.src_listed               ? "src"
                                                                   : "dst";
      std::string evidence = fmt::format(R"({{"flows":1,"listed":"{}")", listed);
      if (r.has_port)
        fmt::format_to(std::back_inserter(evidence), R"(,"first_dst_port":{})", r.dst_port);
      evidence += '}';
      Fire(DetectionType::kBlocklist, r, window_start, pair.w, std::move(evidence),
           R"({"flows":1})");
    }
  }

  if (r.has_src) {
    const std::string_view query = r.dns_query;
    if (!query.empty() &&
        IsSuspiciousQuery(query, config_.dns_long_label, config_.dns_entropy_bits)) {
      const std::string_view domain = RegisteredDomain(query);
      domain_.assign(domain);
      for (char& c : domain_) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      const Key key = MakeKey(r.src, {}, HashBytes(domain_));
      Count* d = Track(w.dns_tunnel, key, HashKey(key), limit, &inserted);
      if (d != nullptr && !d->done && ++d->count >= config_.dns_tunnel_queries) {
        std::string evidence = fmt::format(R"({{"suspicious_queries":{},"last_query":)", d->count);
        AppendJsonString(evidence, query);
        evidence += '}';
        Fire(DetectionType::kDnsTunnel, r, window_start, key.w, std::move(evidence),
             fmt::format(R"({{"suspicious_queries":{},"long_label":{},"entropy_bits":{}}})",
                         config_.dns_tunnel_queries, config_.dns_long_label,
                         JsonNumber(config_.dns_entropy_bits)));
        d->done = true;
      }
    }
  }

  if (r.has_src && !r.src_local && r.has_port &&
      std::binary_search(config_.suspicious_ports.begin(), config_.suspicious_ports.end(),
                         static_cast<int>(r.dst_port))) {
    const Key key = MakeKey(r.src, r.has_dst ? r.dst : Ip{}, r.dst_port);
    if (track_exempt(w.suspicious, key, HashKey(key)) != nullptr && inserted) {
      std::string threshold = R"({"flows":1,"dst_ports":[)";
      for (size_t i = 0; i < config_.suspicious_ports.size(); ++i) {
        fmt::format_to(std::back_inserter(threshold), "{}{}", i > 0 ? "," : "",
                       config_.suspicious_ports[i]);
      }
      threshold += "]}";
      Fire(DetectionType::kSuspiciousPort, r, window_start, key.w, R"({"flows":1})",
           std::move(threshold));
    }
  }
}

void Detectors::AddShare(const Row& r, int64_t window_start, Window& w, int64_t bytes,
                         int64_t pkts) {
  const size_t limit = KeyLimit();
  const double window_s = static_cast<double>(config_.window_ms) / 1000.0;
  bool inserted = false;

  if (r.has_dst) {
    const Key victim = MakeKey(r.dst);
    Volume* v = Track(w.volumetric, victim, r.dst_hash, limit, &inserted);
    if (v != nullptr && !v->done) {
      v->bytes += bytes;
      v->pkts += pkts;
      if (r.has_src) {
        if (w.volumetric_seen.FindOrInsert(MakeKey(r.dst, r.src), r.dst_src_hash, SIZE_MAX,
                                           &inserted) == nullptr) {
          ++stats_.keys_over_memory;
        }
        if (inserted) {
          ++v->sources;
          v->samples.Add(r.src);
        }
      }
      // The source count first: most victims have few, and the rates cost
      // two divisions.
      if (v->sources >= config_.volumetric_sources) {
        const double bps = static_cast<double>(v->bytes) * 8 / window_s;
        const double pps = static_cast<double>(v->pkts) / window_s;
        if (bps >= config_.volumetric_bps || pps >= config_.volumetric_pps) {
          Fire(DetectionType::kVolumetric, r, window_start, victim.w,
               CountEvidence("in_bytes", static_cast<uint64_t>(v->bytes), "src_ips", v->samples,
                             fmt::format(R"(,"in_pkts":{},"bps":{},"pps":{},"sources":{})", v->pkts,
                                         JsonNumber(bps), JsonNumber(pps), v->sources)),
               fmt::format(R"({{"bps":{},"pps":{},"sources":{}}})",
                           JsonNumber(config_.volumetric_bps), JsonNumber(config_.volumetric_pps),
                           config_.volumetric_sources));
          v->done = true;
        }
      }
    }

    if ((r.protocol == kIcmp || r.protocol == kIcmpV6) && pkts > 0) {
      Count* c = Track(w.icmp_flood, victim, r.dst_hash, limit, &inserted);
      if (c != nullptr && !c->done) {
        c->count += static_cast<uint64_t>(pkts);
        const double pps = static_cast<double>(c->count) / window_s;
        if (pps >= config_.icmp_flood_pps) {
          Fire(DetectionType::kIcmpFlood, r, window_start, victim.w,
               fmt::format(R"({{"icmp_pkts":{},"pps":{}}})", c->count, JsonNumber(pps)),
               fmt::format(R"({{"pps":{}}})", JsonNumber(config_.icmp_flood_pps)));
          c->done = true;
        }
      }
    }
  }

  if (r.has_src && r.has_dst && r.src_local && !r.dst_local && bytes > 0) {
    const Key inside = MakeKey(r.src);
    Count* c = Track(w.exfiltration, inside, r.src_hash, limit, &inserted);
    if (c != nullptr && !c->done) {
      c->count += static_cast<uint64_t>(bytes);
      if (c->count >= config_.exfiltration_bytes) {
        Fire(DetectionType::kExfiltration, r, window_start, inside.w,
             fmt::format(R"({{"in_bytes_to_outside":{}}})", c->count),
             fmt::format(R"({{"in_bytes_to_outside":{}}})", config_.exfiltration_bytes));
        c->done = true;
      }
    }
  }
}

bool Detectors::Fire(DetectionType type, const Row& r, int64_t window_start_ms,
                     const std::array<uint64_t, 5>& key_words, std::string evidence,
                     std::string threshold) {
  const size_t t = static_cast<size_t>(type);
  const Key key{key_words};
  auto& last_fired = cooldowns_->last_fired[t];
  auto [it, first] = last_fired.try_emplace(key, window_start_ms);
  if (first) {
    meter_->Add(kCooldownBytes);
  } else {
    if (window_start_ms < it->second + config_.cooldown_ms) {
      ++stats_.suppressed_by_cooldown;
      return false;
    }
    it->second = std::max(it->second, window_start_ms);
  }

  // Which keys an event names (docs/detections.md).
  bool with_src = false, with_dst = false, with_port = false, with_domain = false;
  switch (type) {
    case DetectionType::kPortScanVertical: with_src = with_dst = true; break;
    case DetectionType::kPortScanHorizontal: with_src = with_port = true; break;
    case DetectionType::kSynFlood:
    case DetectionType::kVolumetric:
    case DetectionType::kIcmpFlood: with_dst = true; break;
    case DetectionType::kBlocklist: with_src = with_dst = true; break;
    case DetectionType::kDnsTunnel: with_src = with_domain = true; break;
    case DetectionType::kExfiltration: with_src = true; break;
    case DetectionType::kSuspiciousPort: with_src = with_dst = with_port = true; break;
    case DetectionType::kCount: break;
  }
  with_src = with_src && r.has_src;
  with_dst = with_dst && r.has_dst;
  with_port = with_port && r.has_port;

  DetectionEvent e;
  e.type = std::string(DetectionTypeName(type));
  e.severity = std::string(kSeverity[t]);
  e.window_start_ms = window_start_ms;
  e.window_end_ms = window_start_ms + config_.window_ms;
  e.detected_at_ms = clock_.WallMs();

  // The id: the type, the window and the key, nothing that depends on order.
  // Words little-endian whatever the host, so ids agree across machines.
  std::string id_input = e.type;
  const auto append_word = [&](uint64_t w) {
    for (int i = 0; i < 8; ++i) id_input += static_cast<char>(w >> (8 * i));
  };
  append_word(static_cast<uint64_t>(e.window_start_ms));
  for (const uint64_t w : key_words) append_word(w);
  if (with_domain) id_input += domain_;
  e.id = fmt::format("{:016x}", HashBytes(id_input));

  std::string src_text, dst_text;
  if (r.has_src) AppendIp(src_text, r.src);
  if (r.has_dst) AppendIp(dst_text, r.dst);
  switch (type) {
    case DetectionType::kBlocklist: {
      // The inside host talking to a listed address; a listed dst's src.
      e.key_host = r.src_listed && !r.dst_listed ? dst_text : src_text;
      break;
    }
    case DetectionType::kPortScanVertical:
    case DetectionType::kPortScanHorizontal:
    case DetectionType::kDnsTunnel:
    case DetectionType::kExfiltration: e.key_host = src_text; break;
    default: e.key_host = dst_text; break;
  }

  std::string& j = e.json;
  j.reserve(512);
  fmt::format_to(std::back_inserter(j),
                 R"({{"id":"{}","type":"{}","severity":"{}","window_start":")", e.id, e.type,
                 e.severity);
  AppendUtcTimestamp(j, e.window_start_ms);
  j += R"(","window_end":")";
  AppendUtcTimestamp(j, e.window_end_ms);
  j += R"(","detected_at":")";
  AppendUtcTimestamp(j, e.detected_at_ms, /*millis=*/true);
  j += '"';
  if (with_src) fmt::format_to(std::back_inserter(j), R"(,"src_ip":"{}")", src_text);
  if (with_dst) fmt::format_to(std::back_inserter(j), R"(,"dst_ip":"{}")", dst_text);
  if (with_port) fmt::format_to(std::back_inserter(j), R"(,"dst_port":{})", r.dst_port);
  if (with_domain) {
    j += R"(,"domain":)";
    AppendJsonString(j, domain_);
  }
  j += R"(,"probe":)";
  const Column& probe_col = r.batch->column(kProbe);
  if (probe_col.IsValid(r.row)) {
    AppendJsonString(j, probe_col.String(r.row));
  } else {
    j += "null";
  }
  j += R"(,"evidence":)";
  j += evidence;
  j += R"(,"threshold":)";
  j += threshold;
  j += '}';

  ++stats_.events;
  ++stats_.events_by_type[t];
  const uint64_t bytes = EventBytes(e);
  events_bytes_ += bytes;
  meter_->Add(bytes);
  events_.push_back(std::move(e));
  return true;
}

void Detectors::CloseWindows() {
  const int64_t watermark_ms = watermark_.value();
  stats_.watermark_ms = watermark_ms;
  bool closed_any = false;
  while (!open_.empty() && watermark_.IsClosed(open_.begin()->first)) {
    if (cached_window_ == open_.begin()->second.get()) cached_window_ = nullptr;
    open_.erase(open_.begin());  // its tables subtract themselves
    meter_->Sub(sizeof(Window) + kWindowNodeBytes);
    ++stats_.windows_closed;
    closed_any = true;
  }
  if (!closed_any) return;
  // A cooldown entry matters only while a window it suppresses can still
  // open: the earliest is the one holding the watermark.
  const int64_t earliest_open = WindowStartOf(watermark_ms, config_.window_ms);
  for (auto& table : cooldowns_->last_fired) {
    const size_t erased = std::erase_if(table, [&](const auto& entry) {
      return entry.second + config_.cooldown_ms <= earliest_open;
    });
    meter_->Sub(erased * kCooldownBytes);
  }
}

void Detectors::Tick() {
  if (!watermark_.Tick(clock_.MonotonicMs())) return;
  ++stats_.idle_advances;
  CloseWindows();
}

void Detectors::Flush() {
  if (open_.empty()) return;
  // Windows closed here stay closed: flows for them that still come are late.
  if (watermark_.AdvanceTo(open_.rbegin()->first + config_.window_ms)) CloseWindows();
}

std::vector<DetectionEvent> Detectors::TakeEvents() {
  meter_->Sub(std::exchange(events_bytes_, 0));
  return std::exchange(events_, {});
}

uint64_t Detectors::StateBytes() const { return meter_->bytes() + exempt_meter_->bytes(); }

// --- State snapshots (docs/detections.md, "State snapshots") -------------

namespace {

constexpr std::string_view kStateMagic = "FLDS";
constexpr uint64_t kStateVersion = 1;
// Window starts, the watermark and the max start: far enough from the int64
// limits that the window arithmetic (start + window_ms, max - lateness,
// last fired + cooldown_ms) cannot overflow on a corrupt value.
constexpr int64_t kStateTimeLimitMs = int64_t{1} << 61;

void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}
void PutSigned(std::string& out, int64_t v) {  // zigzag
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}
void PutKey(std::string& out, const Key& k) {
  for (const uint64_t w : k.w) PutVarint(out, w);
}
void PutSample(std::string& out, uint16_t port) { PutVarint(out, port); }
void PutSample(std::string& out, const Ip& ip) {
  PutVarint(out, ip.hi);
  PutVarint(out, ip.lo);
}
template <typename T>
void PutSamples(std::string& out, const Smallest<T>& s) {
  PutVarint(out, s.n);
  for (size_t i = 0; i < s.n; ++i) PutSample(out, s.v[i]);
}
void PutValue(std::string&, const Present&) {}
void PutValue(std::string& out, const Count& c) {
  PutVarint(out, c.count);
  PutVarint(out, c.done);
}
template <typename T>
void PutValue(std::string& out, const Distinct<T>& d) {
  PutVarint(out, d.count);
  PutVarint(out, d.done);
  PutSamples(out, d.samples);
}
void PutValue(std::string& out, const Volume& v) {
  PutSigned(out, v.bytes);
  PutSigned(out, v.pkts);
  PutVarint(out, v.sources);
  PutVarint(out, v.done);
  PutSamples(out, v.samples);
}
template <typename V>
void PutTable(std::string& out, const FlatMap<V>& table) {
  PutVarint(out, table.size());
  table.ForEachInLayoutOrder([&](const Key& key, const V& value) {
    PutKey(out, key);
    PutValue(out, value);
  });
}

void PutTable(std::string& out, const PairSet& set) {
  PutVarint(out, set.size());
  set.ForEachInLayoutOrder([&](const Key& key, const Present&) { PutKey(out, key); });
}

// The stats() counters a snapshot carries, in format order.
template <typename Stats, typename Fn>
constexpr void ForEachSavedStat(Stats& s, Fn&& f) {
  f(s.flows);
  f(s.flows_without_start);
  f(s.late_flows);
  f(s.events);
  f(s.suppressed_by_cooldown);
  f(s.keys_overflow);
  f(s.windows_closed);
  for (auto& n : s.events_by_type) f(n);
  f(s.unparsed_ips);
  f(s.blocklist_errors);
  f(s.idle_advances);
}
constexpr uint64_t CountSavedStats() {
  DetectorStats stats;
  uint64_t n = 0;
  ForEachSavedStat(stats, [&](uint64_t&) { ++n; });
  return n;
}
constexpr uint64_t kSavedStats = CountSavedStats();
static_assert(kSavedStats == 10 + kDetectionTypeCount);

// Bounds-checked reading; the first failure is kept and every later read
// fails, so callers may chain reads and check once.
class StateReader {
 public:
  explicit StateReader(std::string_view bytes) : bytes_(bytes) {}

  bool ok() const { return error_.empty(); }
  size_t remaining() const { return bytes_.size() - pos_; }
  const std::string& error() const { return error_; }
  // What is being read, for error messages ("window 1764547200000 table
  // vertical").
  void set_context(std::string context) { context_ = std::move(context); }

  bool Fail(std::string_view problem) {
    if (ok()) {
      error_ = fmt::format("detector state: {} at byte {}", problem, pos_);
      if (!context_.empty()) fmt::format_to(std::back_inserter(error_), " ({})", context_);
    }
    return false;
  }

  bool Bytes(std::string_view expected, std::string_view what) {
    if (!ok()) return false;
    if (remaining() < expected.size() || bytes_.substr(pos_, expected.size()) != expected) {
      return Fail(fmt::format("bad {}", what));
    }
    pos_ += expected.size();
    return true;
  }

  bool Varint(uint64_t* v, std::string_view what) {
    if (!ok()) return false;
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == bytes_.size()) return Fail(fmt::format("truncated {}", what));
      const uint8_t byte = static_cast<uint8_t>(bytes_[pos_++]);
      if (shift == 63 && byte > 1) return Fail(fmt::format("overlong varint for {}", what));
      result |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return Fail(fmt::format("overlong varint for {}", what));
  }

  bool Signed(int64_t* v, std::string_view what) {
    uint64_t z = 0;
    if (!Varint(&z, what)) return false;
    *v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
    return true;
  }

  bool Bounded(uint64_t* v, uint64_t max, std::string_view what) {
    if (!Varint(v, what)) return false;
    if (*v > max) return Fail(fmt::format("{} {} above {}", what, *v, max));
    return true;
  }

  bool Flag(bool* b, std::string_view what) {
    uint64_t v = 0;
    if (!Bounded(&v, 1, what)) return false;
    *b = v == 1;
    return true;
  }

  bool Time(int64_t* ms, std::string_view what) {
    if (!Signed(ms, what)) return false;
    if (*ms < -kStateTimeLimitMs || *ms > kStateTimeLimitMs) {
      return Fail(fmt::format("{} {} out of range", what, *ms));
    }
    return true;
  }

  bool ReadKey(Key* k) {
    for (uint64_t& w : k->w) {
      if (!Varint(&w, "key")) return false;
    }
    return true;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  std::string context_;
  std::string error_;
};

bool ReadSample(StateReader& in, uint16_t* port) {
  uint64_t v = 0;
  if (!in.Bounded(&v, 65535, "sample port")) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}
bool ReadSample(StateReader& in, Ip* ip) {
  return in.Varint(&ip->hi, "sample address") && in.Varint(&ip->lo, "sample address");
}
template <typename T>
bool ReadSamples(StateReader& in, Smallest<T>* s) {
  uint64_t n = 0;
  if (!in.Bounded(&n, kSamples, "sample count")) return false;
  s->n = static_cast<uint8_t>(n);
  for (size_t i = 0; i < n; ++i) {
    if (!ReadSample(in, &s->v[i])) return false;
    if (i > 0 && s->v[i] < s->v[i - 1]) return in.Fail("samples not in ascending order");
  }
  return true;
}
bool ReadValue(StateReader&, Present*) { return true; }
bool ReadValue(StateReader& in, Count* c) {
  return in.Varint(&c->count, "count") && in.Flag(&c->done, "fired marker");
}
template <typename T>
bool ReadValue(StateReader& in, Distinct<T>* d) {
  return in.Varint(&d->count, "count") && in.Flag(&d->done, "fired marker") &&
         ReadSamples(in, &d->samples);
}
bool ReadValue(StateReader& in, Volume* v) {
  if (!in.Signed(&v->bytes, "bytes") || !in.Signed(&v->pkts, "packets")) return false;
  if (v->bytes < 0 || v->pkts < 0) return in.Fail("negative bytes or packets");
  return in.Varint(&v->sources, "sources") && in.Flag(&v->done, "fired marker") &&
         ReadSamples(in, &v->samples);
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
int64_t SaturatingAdd(int64_t a, int64_t b) {  // a, b >= 0
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}

// Adds `theirs`' samples to `ours`: all of them for a multiset (syn_flood
// samples a source per flow), those not already present for a set.
template <typename T>
void MergeSamples(Smallest<T>& ours, const Smallest<T>& theirs, bool is_set) {
  for (size_t i = 0; i < theirs.n; ++i) {
    if (is_set && std::find(ours.v.begin(), ours.v.begin() + ours.n, theirs.v[i]) !=
                      ours.v.begin() + ours.n) {
      continue;
    }
    ours.Add(theirs.v[i]);
  }
}

// Reads a table of `n` entries (n already read) and, when `into` is set,
// merges each: on_entry(ours, inserted, key, theirs) with ours == nullptr
// when the key did not fit under `limit` (counted in *overflow).
template <typename V, typename OnEntry>
bool ReadTable(StateReader& in, FlatMap<V>* into, size_t limit, uint64_t* overflow,
               OnEntry&& on_entry) {
  uint64_t n = 0;
  if (!in.Varint(&n, "entry count")) return false;
  // Every entry takes at least 5 bytes (its key): a count beyond that is
  // corrupt, and must not size an allocation.
  if (n > in.remaining() / 5) return in.Fail(fmt::format("entry count {} beyond the input", n));
  if (into != nullptr) into->Reserve(std::min<uint64_t>(into->size() + n, limit));
  for (uint64_t i = 0; i < n; ++i) {
    Key key;
    V value{};
    if (!in.ReadKey(&key) || !ReadValue(in, &value)) return false;
    if (into == nullptr) continue;
    bool inserted = false;
    V* ours = into->FindOrInsert(key, limit, &inserted);
    if (ours == nullptr) ++*overflow;
    on_entry(ours, inserted, key, value);
  }
  return true;
}

// ReadTable for a PairSet: the keys are read first, so that each of its two
// tables is reserved for exactly its share (the layout FlatMap's Reserve()
// gives a restored table; SaveState() then writes the same bytes).
template <typename OnEntry>
bool ReadTable(StateReader& in, PairSet* into, size_t limit, uint64_t* overflow,
               OnEntry&& on_entry) {
  uint64_t n = 0;
  if (!in.Varint(&n, "entry count")) return false;
  if (n > in.remaining() / 5) return in.Fail(fmt::format("entry count {} beyond the input", n));
  std::vector<Key> keys;
  if (into != nullptr) keys.reserve(n);
  size_t packed = 0, zero = 0;  // the zero pair takes no slot of either table
  for (uint64_t i = 0; i < n; ++i) {
    Key key;
    if (!in.ReadKey(&key)) return false;
    if (into == nullptr) continue;
    uint64_t word = 0;
    if (PairSet::Pack(key, &word)) ++(word != 0 ? packed : zero);
    keys.push_back(key);
  }
  if (into == nullptr) return true;
  into->Reserve(packed, keys.size() - packed - zero);
  for (const Key& key : keys) {
    bool inserted = false;
    Present* ours = into->FindOrInsert(key, limit, &inserted);
    if (ours == nullptr) ++*overflow;
    on_entry(ours, inserted, key, Present{});
  }
  return true;
}

}  // namespace

std::string Detectors::SaveState() const {
  size_t entries = 0;
  for (const auto& [start, w] : open_) {
    entries += w->vertical.size() + w->horizontal.size() + w->scan_seen.size() +
               w->syn_flood.size() + w->volumetric.size() + w->volumetric_seen.size() +
               w->icmp_flood.size() + w->blocklist.size() + w->dns_tunnel.size() +
               w->exfiltration.size() + w->suspicious.size();
  }
  for (const auto& table : cooldowns_->last_fired) entries += table.size();
  std::string out;
  out.reserve(128 + kSavedStats * 3 + entries * 24);  // ~IPv4 keys with small values

  out += kStateMagic;
  PutVarint(out, kStateVersion);
  PutVarint(out, static_cast<uint64_t>(config_.window_ms));
  PutVarint(out, kDetectionTypeCount);
  // 0: no flow yet; 1: the max start and the watermark; 2: the max start
  // only (the watermark has not moved yet: a partition that delivered
  // nothing held it back). Old builds read 0 and 1.
  const bool has_watermark = watermark_.value() != INT64_MIN;
  const std::optional<int64_t> max_start_ms = watermark_.max_start();
  PutVarint(out, !max_start_ms ? 0 : has_watermark ? 1 : 2);
  if (max_start_ms) {
    PutSigned(out, *max_start_ms);
    if (has_watermark) PutSigned(out, watermark_.value());
  }
  PutVarint(out, kSavedStats);
  ForEachSavedStat(stats_, [&](uint64_t n) { PutVarint(out, n); });
  for (const auto& table : cooldowns_->last_fired) {
    PutVarint(out, table.size());
    for (const auto& [key, window_start] : table) {
      PutKey(out, key);
      PutSigned(out, window_start);
    }
  }
  PutVarint(out, open_.size());
  for (const auto& [start, w] : open_) {
    PutSigned(out, start);
    // Each "seen" set before the tables it counts for: MergeState relies on it.
    PutTable(out, w->scan_seen);
    PutTable(out, w->vertical);
    PutTable(out, w->horizontal);
    PutTable(out, w->syn_flood);
    PutTable(out, w->volumetric_seen);
    PutTable(out, w->volumetric);
    PutTable(out, w->icmp_flood);
    PutTable(out, w->blocklist);
    PutTable(out, w->dns_tunnel);
    PutTable(out, w->exfiltration);
    PutTable(out, w->suspicious);
  }
  return out;
}

Status Detectors::MergeState(std::string_view bytes) {
  // Check everything first, so that a corrupt snapshot merges nothing.
  if (Status st = ReadState(bytes, false); !st.ok()) return st;
  return ReadState(bytes, true);
}

Status Detectors::ReadState(std::string_view bytes, bool apply) {
  // A restore is exact: the budget does not apply to what is merged (it
  // applies again to the next flow).
  struct LiftedBudget {
    ByteMeter& meter;
    uint64_t limit;
    ~LiftedBudget() { meter.set_limit(limit); }
  } lifted{*meter_, meter_->limit()};
  if (apply) meter_->set_limit(0);
  StateReader in(bytes);
  uint64_t version = 0, window_ms = 0, types = 0, has_max_start = 0, stat_count = 0;
  if (!in.Bytes(kStateMagic, "magic (not a detector state)") || !in.Varint(&version, "version")) {
    return Status::Corruption(in.error());
  }
  if (version != kStateVersion) {
    in.Fail(fmt::format("unknown version {} (this build reads {})", version, kStateVersion));
    return Status::Corruption(in.error());
  }
  if (!in.Varint(&window_ms, "window_ms")) return Status::Corruption(in.error());
  if (window_ms != static_cast<uint64_t>(config_.window_ms)) {
    return Status::InvalidArgument(
        fmt::format("detector state: saved with window_ms {}, this detector has window_ms {}",
                    window_ms, config_.window_ms));
  }
  in.Bounded(&types, kDetectionTypeCount, "detection type count");
  if (in.ok() && types != kDetectionTypeCount) in.Fail("detection type count mismatch");
  int64_t max_start_ms = 0, watermark_ms = INT64_MIN;
  if (in.Bounded(&has_max_start, 2, "max start flag") && has_max_start != 0 &&
      in.Time(&max_start_ms, "max start") && has_max_start == 1) {
    in.Time(&watermark_ms, "watermark");
  }
  if (in.Varint(&stat_count, "counter count") && stat_count != kSavedStats) {
    in.Fail(fmt::format("{} counters, expected {}", stat_count, kSavedStats));
  }
  DetectorStats saved;
  ForEachSavedStat(saved, [&](uint64_t& n) { in.Varint(&n, "counter"); });
  if (!in.ok()) return Status::Corruption(in.error());

  for (size_t t = 0; t < kDetectionTypeCount; ++t) {
    in.set_context(
        fmt::format("cooldowns of {}", DetectionTypeName(static_cast<DetectionType>(t))));
    uint64_t n = 0;
    if (!in.Varint(&n, "entry count")) return Status::Corruption(in.error());
    for (uint64_t i = 0; i < n; ++i) {
      Key key;
      int64_t window_start = 0;
      if (!in.ReadKey(&key) || !in.Time(&window_start, "window start")) {
        return Status::Corruption(in.error());
      }
      if (!apply) continue;
      auto [it, first] = cooldowns_->last_fired[t].try_emplace(key, window_start);
      if (first) {
        meter_->Add(kCooldownBytes);
      } else {
        it->second = std::max(it->second, window_start);
      }
    }
  }

  uint64_t window_count = 0;
  in.set_context("");
  if (!in.Varint(&window_count, "window count")) return Status::Corruption(in.error());
  const size_t limit = config_.max_keys_per_window;
  uint64_t* overflow = &stats_.keys_overflow;
  std::optional<int64_t> previous_start;
  for (uint64_t i = 0; i < window_count; ++i) {
    in.set_context(fmt::format("window {} of {}", i, window_count));
    int64_t start = 0;
    if (!in.Time(&start, "window start")) return Status::Corruption(in.error());
    if (WindowStartOf(start, config_.window_ms) != start) {
      in.Fail(fmt::format("window start {} not a multiple of window_ms", start));
    } else if (previous_start && start <= *previous_start) {
      in.Fail(fmt::format("window start {} not after {}", start, *previous_start));
    }
    if (!in.ok()) return Status::Corruption(in.error());
    previous_start = start;
    Window* w = apply ? &WindowAt(start) : nullptr;
    const auto table = [&](std::string_view name, auto member) {
      in.set_context(fmt::format("window {} table {}", start, name));
      return w != nullptr ? &(w->*member) : nullptr;
    };

    // A (src, dst, port) new to this side is one more distinct port of
    // (src, dst) and dst of (src, port) if those keys are already here (and
    // not done); keys only the other side has are copied with its counts.
    ReadTable(in, table("scan_seen", &Window::scan_seen), SIZE_MAX, overflow,
              [&](Present*, bool inserted, const Key& k, const Present&) {
                if (!inserted) return;
                const Ip src{k.w[0], k.w[1]}, dst{k.w[2], k.w[3]};
                if (auto* v = w->vertical.FindOrNull(MakeKey(src, dst)); v && !v->done) {
                  ++v->count;
                  v->samples.Add(static_cast<uint16_t>(k.w[4]));
                }
                if (auto* h = w->horizontal.FindOrNull(MakeKey(src, {}, k.w[4])); h && !h->done) {
                  ++h->count;
                  h->samples.Add(dst);
                }
              });
    const auto merge_distinct = [](bool is_set) {
      return [is_set](auto* ours, bool inserted, const Key&, const auto& theirs) {
        if (ours == nullptr) return;
        if (inserted) {
          *ours = theirs;
          return;
        }
        if (!is_set) ours->count = SaturatingAdd(ours->count, theirs.count);
        ours->done = ours->done || theirs.done;
        if (ours->done) {
          ours->count = std::max(ours->count, theirs.count);
        } else {
          MergeSamples(ours->samples, theirs.samples, is_set);
        }
      };
    };
    ReadTable(in, table("vertical", &Window::vertical), limit, overflow, merge_distinct(true));
    ReadTable(in, table("horizontal", &Window::horizontal), limit, overflow, merge_distinct(true));
    ReadTable(in, table("syn_flood", &Window::syn_flood), limit, overflow, merge_distinct(false));
    ReadTable(in, table("volumetric_seen", &Window::volumetric_seen), SIZE_MAX, overflow,
              [&](Present*, bool inserted, const Key& k, const Present&) {
                if (!inserted) return;
                if (auto* v = w->volumetric.FindOrNull(MakeKey({k.w[0], k.w[1]})); v && !v->done) {
                  ++v->sources;
                  v->samples.Add(Ip{k.w[2], k.w[3]});
                }
              });
    ReadTable(in, table("volumetric", &Window::volumetric), limit, overflow,
              [](Volume* ours, bool inserted, const Key&, const Volume& theirs) {
                if (ours == nullptr) return;
                if (inserted) {
                  *ours = theirs;
                  return;
                }
                ours->bytes = SaturatingAdd(ours->bytes, theirs.bytes);
                ours->pkts = SaturatingAdd(ours->pkts, theirs.pkts);
                ours->done = ours->done || theirs.done;
                if (ours->done) {
                  ours->sources = std::max(ours->sources, theirs.sources);
                } else {
                  MergeSamples(ours->samples, theirs.samples, true);
                }
              });
    const auto merge_count = [](Count* ours, bool inserted, const Key&, const Count& theirs) {
      if (ours == nullptr) return;
      ours->count = inserted ? theirs.count : SaturatingAdd(ours->count, theirs.count);
      ours->done = ours->done || theirs.done;
    };
    const auto merge_present = [](Present*, bool, const Key&, const Present&) {};
    ReadTable(in, table("icmp_flood", &Window::icmp_flood), limit, overflow, merge_count);
    ReadTable(in, table("blocklist", &Window::blocklist), limit, overflow, merge_present);
    ReadTable(in, table("dns_tunnel", &Window::dns_tunnel), limit, overflow, merge_count);
    ReadTable(in, table("exfiltration", &Window::exfiltration), limit, overflow, merge_count);
    ReadTable(in, table("suspicious_port", &Window::suspicious), limit, overflow, merge_present);
    if (!in.ok()) return Status::Corruption(in.error());
  }
  in.set_context("");
  if (in.remaining() != 0) {
    in.Fail(fmt::format("{} trailing bytes", in.remaining()));
    return Status::Corruption(in.error());
  }
  if (!apply) return Status::Ok();

  // Counters add (keys_overflow also counts the keys this merge dropped).
  std::array<uint64_t*, kSavedStats> ours{};
  size_t i = 0;
  ForEachSavedStat(stats_, [&](uint64_t& n) { ours[i++] = &n; });
  i = 0;
  ForEachSavedStat(saved, [&](uint64_t n) {
    *ours[i] += n;
    ++i;
  });
  if (has_max_start != 0 && watermark_ms != INT64_MIN) watermark_.AdvanceTo(watermark_ms);
  // The larger max start; the idle clock restarts.
  watermark_.Restore(has_max_start != 0 ? std::optional<int64_t>(max_start_ms) : std::nullopt,
                     clock_.MonotonicMs());
  cached_window_ = nullptr;
  CloseWindows();
  return Status::Ok();
}

}  // namespace flowlake
