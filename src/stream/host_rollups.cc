#include "stream/host_rollups.h"

#include "core/json_string.h"
#include "core/utc_time.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <charconv>
#include <cstring>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "stream/hash.h"

namespace flowlake {

namespace {

constexpr size_t kTopL7 = 5;
constexpr int64_t kMaxSpreadLimitMs = 86400000;  // keeps the share arithmetic in int64
constexpr int64_t kMaxCorrectionHorizonMs = int64_t{366} * 86400000;

int64_t CounterOrZero(const Column& col, size_t row) {
  return col.IsValid(row) ? std::max<int64_t>(0, col.Int64(row)) : 0;
}

}  // namespace

Status RollupConfig::Validate() const {
  if (window_ms <= 0) {
    return Status::InvalidArgument(fmt::format("rollup window_ms must be > 0, got {}", window_ms));
  }
  if (lateness_ms < 0) {
    return Status::InvalidArgument(
        fmt::format("rollup lateness_ms must be >= 0, got {}", lateness_ms));
  }
  if (idle_timeout_ms < 0) {
    return Status::InvalidArgument(
        fmt::format("rollup idle_timeout_ms must be >= 0, got {}", idle_timeout_ms));
  }
  if (max_hosts_per_window == 0) {
    return Status::InvalidArgument("rollup max_hosts_per_window must be > 0, got 0");
  }
  if (max_spread_ms < 0 || max_spread_ms > kMaxSpreadLimitMs) {
    return Status::InvalidArgument(fmt::format(
        "rollup max_spread_ms must be in [0, {}], got {}", kMaxSpreadLimitMs, max_spread_ms));
  }
  if (correction_horizon_ms < 0 || correction_horizon_ms > kMaxCorrectionHorizonMs) {
    return Status::InvalidArgument(
        fmt::format("rollup correction_horizon_ms must be in [0, {}], got {}",
                    kMaxCorrectionHorizonMs, correction_horizon_ms));
  }
  return distinct.Validate();
}

namespace {

// The table key of a host or a name: a fast hash of its text, computed once
// per flow and side. Not HashBytes(): that one is part of the sketch format
// and reads the text byte by byte; this one reads it as (overlapping) words.
// Never stored nor compared across processes.
uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
uint64_t MixWords(uint64_t a, uint64_t b) {
  a = (a ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
  b = (b ^ 0xc2b2ae3d27d4eb4fULL) * 0x94d049bb133111ebULL;
  return a ^ std::rotl(b, 29);
}
uint64_t KeyHash(std::string_view text) {
  const char* p = text.data();
  const size_t n = text.size();
  uint64_t h = uint64_t{n} * 0x87c37b91114253d5ULL;
  if (n > 16) {
    const char* end = p + n;
    for (; end - p > 16; p += 16) h = MixWords(h ^ Load64(p), Load64(p + 8)) + h;
    h ^= MixWords(Load64(end - 16), Load64(end - 8));
  } else if (n >= 8) {
    h ^= MixWords(Load64(p), Load64(p + n - 8));
  } else if (n >= 4) {
    h ^= MixWords(Load32(p), Load32(p + n - 4));
  } else if (n > 0) {
    h ^= MixWords(static_cast<unsigned char>(p[0]) |
                      (uint64_t{static_cast<unsigned char>(p[n / 2])} << 8) |
                      (uint64_t{static_cast<unsigned char>(p[n - 1])} << 16),
                  0);
  }
  // A multiply and two shifts suffice for a table index (the low bits) and
  // a 64-bit tag: inline, unlike Fmix64().
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ULL;
  return h ^ (h >> 32);
}

// Equality of two texts of `n` bytes, inlined for the short ones (IPv4
// addresses, L7 names): two overlapping word compares instead of a call.
bool SameText(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16) {
    return Load64(a) == Load64(b) && Load64(a + n - 8) == Load64(b + n - 8);
  }
  if (n >= 4 && n < 8) return Load32(a) == Load32(b) && Load32(a + n - 4) == Load32(b + n - 4);
  return std::memcmp(a, b, n) == 0;
}
bool SameText(std::string_view a, std::string_view b) {
  return a.size() == b.size() && SameText(a.data(), b.data(), a.size());
}

// The heap block of a std::string of `capacity` (none while it fits the
// inline buffer), for StateBytes().
constexpr size_t kInlineStringCapacity = std::string().capacity();
uint64_t StringHeapBytes(size_t capacity) {
  return capacity > kInlineStringCapacity ? capacity + 1 : 0;
}
uint64_t StringHeapBytes(const std::string& s) { return StringHeapBytes(s.capacity()); }

}  // namespace

// A host's address text and its KeyHash(), as found in a flow.
struct HostRollups::HostKey {
  std::string_view text;
  uint64_t key_hash = 0;
};

// Interned names (L7 names, probes) of one window: a host's lists hold
// small ids, compared as integers, and each name is stored once per window
// rather than once per host. Ids are in order of first appearance.
class HostRollups::NameTable {
 public:
  // The id of `name`, whose KeyHash() is `hash`; added if new.
  uint32_t Intern(std::string_view name, uint64_t hash) {
    if ((names_.size() + 1) * 2 > slots_.size()) Rehash(std::max<size_t>(16, slots_.size() * 2));
    const size_t mask = slots_.size() - 1;
    const uint64_t tag = hash & ~uint64_t{0xffffffff};
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const uint64_t slot = slots_[i];
      if (slot == 0) {
        const size_t names_capacity = names_.capacity();
        const size_t hashes_capacity = hashes_.capacity();
        names_.emplace_back(name);
        hashes_.push_back(hash);
        slots_[i] = tag | names_.size();
        heap_bytes_ += (names_.capacity() - names_capacity) * sizeof(std::string) +
                       (hashes_.capacity() - hashes_capacity) * sizeof(uint64_t) +
                       StringHeapBytes(names_.back());
        return static_cast<uint32_t>(names_.size() - 1);
      }
      const auto id = static_cast<uint32_t>(slot) - 1;
      if ((slot & ~uint64_t{0xffffffff}) == tag && SameText(names_[id], name)) return id;
    }
  }
  uint32_t Intern(std::string_view name) { return Intern(name, KeyHash(name)); }
  // Intern(name), remembering the answer: for a column whose value mostly
  // repeats from row to row (the probe), a compare instead of a hash and a
  // probe.
  uint32_t InternRepeated(std::string_view name) {
    if (has_last_ && SameText(names_[last_id_], name)) return last_id_;
    last_id_ = Intern(name);
    has_last_ = true;
    return last_id_;
  }
  const std::string& name(uint32_t id) const { return names_[id]; }
  // The heap bytes of the table and its names, kept as names are added.
  uint64_t heap_bytes() const { return heap_bytes_; }
  // heap_bytes() counted afresh.
  uint64_t CountHeapBytes() const {
    uint64_t bytes = names_.capacity() * sizeof(std::string) +
                     hashes_.capacity() * sizeof(uint64_t) + slots_.capacity() * sizeof(uint64_t);
    for (const std::string& n : names_) bytes += StringHeapBytes(n);
    return bytes;
  }

 private:
  void Rehash(size_t capacity) {
    const size_t slots_capacity = slots_.capacity();
    slots_.assign(capacity, 0);
    heap_bytes_ += (slots_.capacity() - slots_capacity) * sizeof(uint64_t);
    const size_t mask = capacity - 1;
    for (size_t id = 0; id < names_.size(); ++id) {
      size_t i = hashes_[id] & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = (hashes_[id] & ~uint64_t{0xffffffff}) | (id + 1);
    }
  }

  std::vector<std::string> names_;
  std::vector<uint64_t> hashes_;  // KeyHash() of names_[id]
  uint32_t last_id_ = 0;          // InternRepeated()'s last answer, if has_last_
  bool has_last_ = false;
  uint64_t heap_bytes_ = 0;
  // The high 32 bits of the hash, then id + 1 (so that 0 is empty): a probe
  // reads the name only on a likely match. Size 0 or a power of two.
  std::vector<uint64_t> slots_;
};

namespace {

// A list of a few items, the first N inline: most hosts of a window see one
// or two L7 names and one probe, and a heap block per host and list (then
// freed when the window closes) would cost more than the rest of the flow.
template <typename T, size_t N>
class SmallList {
 public:
  SmallList() = default;
  SmallList(const SmallList&) = delete;
  SmallList& operator=(const SmallList&) = delete;
  SmallList(SmallList&& o) noexcept
      : size_(o.size_), capacity_(o.capacity_), heap_(std::move(o.heap_)) {
    std::copy(o.inline_, o.inline_ + N, inline_);
    o.size_ = 0;
    o.capacity_ = N;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return heap_ ? heap_.get() : inline_; }
  T* end() { return begin() + size_; }
  const T* begin() const { return heap_ ? heap_.get() : inline_; }
  const T* end() const { return begin() + size_; }
  T& operator[](size_t i) { return begin()[i]; }

  // The heap bytes the list grew by (0 but when it doubles).
  uint64_t push_back(const T& v) {
    uint64_t grown = 0;
    if (size_ == capacity_) {
      auto bigger = std::make_unique<T[]>(2 * capacity_);
      std::copy(begin(), end(), bigger.get());
      grown = heap_ ? capacity_ * sizeof(T) : 2 * capacity_ * sizeof(T);
      heap_ = std::move(bigger);
      capacity_ *= 2;
    }
    begin()[size_++] = v;
    return grown;
  }
  uint64_t heap_bytes() const { return heap_ ? capacity_ * sizeof(T) : 0; }

 private:
  uint32_t size_ = 0;
  uint32_t capacity_ = N;
  T inline_[N] = {};
  std::unique_ptr<T[]> heap_;  // set once more than N
};

}  // namespace

struct HostRollups::HostState {
  explicit HostState(const DistinctCounterConfig& c)
      : peers_contacted(c), peers_contacting(c), dst_ports_contacted(c) {}

  int64_t flows_as_src = 0;
  int64_t flows_as_dst = 0;
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
  int64_t pkts_sent = 0;
  int64_t pkts_received = 0;
  int64_t tcp_syn_only_as_src = 0;
  int64_t duration_sum_ms = 0;
  int64_t duration_count = 0;
  // Ids in the window's NameTable, in order of first appearance (the order
  // of the snapshot format), searched linearly: a host sees a handful of L7
  // names and probes. Sorted by name when the window closes.
  SmallList<uint32_t, 2> probes;
  SmallList<std::pair<uint32_t, int64_t>, 2> l7_bytes;
  DistinctCounter peers_contacted;
  DistinctCounter peers_contacting;
  DistinctCounter dst_ports_contacted;

  // AddL7() and AddProbe() return the heap bytes they allocated.
  uint64_t AddL7(uint32_t id, int64_t bytes) {
    for (auto& [l7, b] : l7_bytes) {
      if (l7 == id) {
        b += bytes;
        return 0;
      }
    }
    return l7_bytes.push_back({id, bytes});
  }
  uint64_t AddProbe(uint32_t id) {
    for (const uint32_t p : probes) {
      if (p == id) return 0;
    }
    return probes.push_back(id);
  }
  uint64_t HeapBytes() const {
    return probes.heap_bytes() + l7_bytes.heap_bytes() + peers_contacted.HeapBytes() +
           peers_contacting.HeapBytes() + dst_ports_contacted.HeapBytes();
  }
};

struct HostRollups::Window {
  explicit Window(const DistinctCounterConfig& c) : overflowed(c) {}

  // Six cache lines, aligned: a flow touches most of its two hosts' lines.
  struct alignas(64) HostEntry {
    HostEntry(std::string_view h, uint64_t kh, const DistinctCounterConfig& c)
        : key_hash(kh), text_hash(HashBytes(h)), host(h), state(c) {}
    uint64_t key_hash;   // KeyHash(host)
    uint64_t text_hash;  // HashBytes(host): what the peer counters count
    std::string host;
    HostState state;
  };

  // The entry of `key`, or null.
  HostEntry* Find(const HostKey& key) const {
    if (slots.empty()) return nullptr;
    const size_t mask = slots.size() - 1;
    for (size_t i = key.key_hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.entry == nullptr) return nullptr;
      if (slot.key_hash == key.key_hash && SameText(slot.entry->host, key.text)) return slot.entry;
    }
  }
  // Adds the entry of `key` (not in the table) and its bytes to heap_bytes.
  HostEntry* Insert(const HostKey& key, const DistinctCounterConfig& c) {
    // Entries live in chunks that never reallocate, so that pointers to them
    // stay valid while the window is open; chunks grow geometrically so
    // that a small (e.g. correction) window stays small.
    if (NeedsChunk()) {
      const size_t chunks_capacity = chunks.capacity();
      const size_t entries = NextChunkEntries();
      chunks.emplace_back().reserve(entries);
      heap_bytes += (chunks.capacity() - chunks_capacity) * sizeof(std::vector<HostEntry>) +
                    chunks.back().capacity() * sizeof(HostEntry);
    }
    HostEntry& e = chunks.back().emplace_back(key.text, key.key_hash, c);
    heap_bytes += StringHeapBytes(e.host);
    ++entry_count;
    if ((entry_count + 1) * 2 > slots.size()) {
      const size_t slots_capacity = slots.capacity();
      Rehash(std::max<size_t>(16, slots.size() * 2));
      heap_bytes += (slots.capacity() - slots_capacity) * sizeof(Slot);
    } else {
      Place(&e);
    }
    return &e;
  }
  // What Insert(key) would add to heap_bytes: the next chunk if the last is
  // full, the growth of the chunk list and of the host table, the name.
  uint64_t InsertBytes(const HostKey& key) const {
    uint64_t bytes = StringHeapBytes(key.text.size());
    if (NeedsChunk()) {
      bytes += NextChunkEntries() * sizeof(HostEntry);
      // The chunk list doubles when full (as std::vector does here).
      if (chunks.size() == chunks.capacity()) {
        bytes += std::max<size_t>(1, chunks.capacity()) * sizeof(std::vector<HostEntry>);
      }
    }
    if ((entry_count + 2) * 2 > slots.size()) {
      bytes += (std::max<size_t>(16, slots.size() * 2) - slots.size()) * sizeof(Slot);
    }
    return bytes;
  }
  // heap_bytes counted afresh.
  uint64_t CountHeapBytes() const {
    uint64_t bytes = NodeBytes() + chunks.capacity() * sizeof(std::vector<HostEntry>) +
                     slots.capacity() * sizeof(Slot) + overflowed.HeapBytes() +
                     names.CountHeapBytes();
    for (const std::vector<HostEntry>& chunk : chunks) {
      bytes += chunk.capacity() * sizeof(HostEntry);
    }
    ForEachEntry(
        [&](const HostEntry& e) { bytes += StringHeapBytes(e.host) + e.state.HeapBytes(); });
    if (other) bytes += other->HeapBytes();
    return bytes;
  }
  // Calls f(HostEntry&) for every entry, in insertion order.
  template <typename F>
  void ForEachEntry(F f) {
    for (std::vector<HostEntry>& chunk : chunks) {
      for (HostEntry& e : chunk) f(e);
    }
  }
  template <typename F>
  void ForEachEntry(F f) const {
    for (const std::vector<HostEntry>& chunk : chunks) {
      for (const HostEntry& e : chunk) f(e);
    }
  }

  struct Slot {
    uint64_t key_hash = 0;
    HostEntry* entry = nullptr;  // null: empty
  };
  bool NeedsChunk() const {
    return chunks.empty() || chunks.back().size() == chunks.back().capacity();
  }
  // 128, 256, .. 4096, then 4096 entries (1.5 MiB) a chunk.
  size_t NextChunkEntries() const { return size_t{128} << std::min<size_t>(chunks.size(), 5); }
  void Place(HostEntry* e) {
    const size_t mask = slots.size() - 1;
    size_t i = e->key_hash & mask;
    while (slots[i].entry != nullptr) i = (i + 1) & mask;
    slots[i] = {e->key_hash, e};
  }
  void Rehash(size_t capacity) {
    slots.assign(capacity, Slot{});
    ForEachEntry([&](HostEntry& e) { Place(&e); });
  }

  // Open addressing over pointers into `chunks`, load factor at most 1/2;
  // a slot keeps the key's hash so that a probe reads one entry, the match.
  // Hosts are sorted by name only when the window closes, instead of on
  // every lookup as an ordered map would.
  std::vector<std::vector<HostEntry>> chunks;
  size_t entry_count = 0;
  std::vector<Slot> slots;  // size 0 or a power of two
  std::optional<HostState> other;
  DistinctCounter overflowed;  // hosts folded into `other`
  NameTable names;             // of the L7 names and probes of its hosts
  // What StateBytes() counts for this window, its map node included.
  uint64_t heap_bytes = 0;
  // A host went to `other` for max_state_bytes (windows_over_memory).
  bool over_memory = false;

  // The bytes of a window's map node: the value and libstdc++'s red-black
  // tree links (a color and three pointers).
  static constexpr uint64_t NodeBytes();
};

constexpr uint64_t HostRollups::Window::NodeBytes() {
  return sizeof(std::pair<const int64_t, Window>) + 4 * sizeof(void*);
}

namespace {

// The heap bytes of a record's strings and vectors (not of sizeof(record)).
uint64_t RecordHeapBytes(const HostRollupRecord& r) {
  uint64_t bytes = StringHeapBytes(r.host) + StringHeapBytes(r.peers_contacted_sketch) +
                   StringHeapBytes(r.peers_contacting_sketch) +
                   StringHeapBytes(r.dst_ports_contacted_sketch) +
                   r.top_l7.capacity() * sizeof(L7Bytes) +
                   r.probes.capacity() * sizeof(std::string);
  for (const L7Bytes& l7 : r.top_l7) bytes += StringHeapBytes(l7.name);
  for (const std::string& p : r.probes) bytes += StringHeapBytes(p);
  return bytes;
}

}  // namespace

HostRollups::HostRollups(RollupConfig config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      watermark_(config_.window_ms, config_.lateness_ms, config_.idle_timeout_ms) {
  assert(config_.Validate().ok());
}

HostRollups::~HostRollups() = default;

HostRollups::Window& HostRollups::WindowAt(int64_t window_start_ms) {
  // Consecutive flows nearly always start in the same window.
  if (last_window_ != nullptr && last_window_start_ms_ == window_start_ms) return *last_window_;
  auto it = open_.find(window_start_ms);
  if (it == open_.end()) {
    it = open_.try_emplace(window_start_ms, config_.distinct).first;
    Charge(it->second, Window::NodeBytes());
  }
  last_window_start_ms_ = window_start_ms;
  last_window_ = &it->second;
  return it->second;
}

HostRollups::Window* HostRollups::TargetWindow(int64_t window_start_ms) {
  const int64_t window_end_ms = window_start_ms + config_.window_ms;
  const int64_t watermark_ms = stats_.watermark_ms;
  if (watermark_ms == INT64_MIN || watermark_ms < window_end_ms) return &WindowAt(window_start_ms);
  if (config_.late_policy != RollupConfig::LatePolicy::kCorrection) return nullptr;
  // Past the horizon: dropped. (watermark_ms - window_end_ms >= 0 here.)
  if (watermark_ms - window_end_ms >= config_.correction_horizon_ms) return nullptr;
  auto it = corrections_.find(window_start_ms);
  if (it == corrections_.end()) {
    it = corrections_.emplace(window_start_ms, Window(config_.distinct)).first;
    Charge(it->second, Window::NodeBytes());
  }
  return &it->second;
}

void HostRollups::Charge(Window& window, int64_t delta) {
  window.heap_bytes += static_cast<uint64_t>(delta);
  state_bytes_ += static_cast<uint64_t>(delta);
}

HostRollups::HostRef HostRollups::HostIn(Window& window, const HostKey& key,
                                          bool apply_budget) {
  if (Window::HostEntry* e = window.Find(key)) return {&e->state, e->text_hash};
  // The table never shrinks while the window is open, so a host sent to
  // "other" for the host cap goes there for the rest of the window. So does
  // every new host once one went there for the budget, even if closing
  // windows free memory later: a host with its own record has all of the
  // window's flows in it, never some in "other".
  bool fold = window.entry_count >= config_.max_hosts_per_window;
  if (!fold && apply_budget && config_.max_state_bytes != 0) {
    if (!window.over_memory) {
      const uint64_t budget = config_.max_state_bytes;
      window.over_memory =
          state_bytes_ >= budget || window.InsertBytes(key) > budget - state_bytes_;
    }
    fold = window.over_memory;
  }
  if (fold) {
    const uint64_t text_hash = HashBytes(key.text);
    if (const int64_t grown = window.overflowed.AddCountingHeap(text_hash)) Charge(window, grown);
    if (!window.other) window.other.emplace(config_.distinct);
    return {&*window.other, text_hash};
  }
  const uint64_t before = window.heap_bytes;
  Window::HostEntry* e = window.Insert(key, config_.distinct);
  state_bytes_ += window.heap_bytes - before;
  return {&e->state, e->text_hash};
}

void HostRollups::Consume(const FlowBatch& batch) {
  const size_t n = batch.num_rows();
  if (n == 0) return;
  if (watermark_.BeginBatch(clock_.MonotonicMs(), batch)) WatermarkMoved();
  SourceCursor sources(batch);
  // The addresses are hashed in one pass (sequential reads of the texts),
  // then the rows are consumed in order while the host slots and entries of
  // rows a little ahead are prefetched: a window's host table does not fit
  // in the cache, and a lookup is otherwise two misses in a row.
  const Column& src_col = batch.column(kSrcIp);
  const Column& dst_col = batch.column(kDstIp);
  key_hashes_.resize(2 * n);
  for (size_t row = 0; row < n; ++row) {
    key_hashes_[2 * row] = src_col.IsValid(row) ? KeyHash(src_col.String(row)) : 0;
    key_hashes_[2 * row + 1] = dst_col.IsValid(row) ? KeyHash(dst_col.String(row)) : 0;
  }
  // The other columns a row reads are a dozen sequential streams, more than
  // the hardware prefetcher follows: every 8 rows, the values 64 rows ahead.
  struct Stream {
    const char* base;
    size_t stride;
  };
  std::array<Stream, 26> streams;
  size_t stream_count = 0;
  for (const FlowCol c : {kStartTime, kEndTime, kDurationMs, kInBytes, kOutBytes, kInPkts,
                          kOutPkts, kDstPort, kProtocol, kTcpFlags, kL7Name, kProbe}) {
    const Column& col = batch.column(c);
    streams[stream_count++] = {reinterpret_cast<const char*>(col.validity().data()), 1};
    if (!col.int64_values().empty()) {
      streams[stream_count++] = {reinterpret_cast<const char*>(col.int64_values().data()), 8};
    } else if (!col.int32_values().empty()) {
      streams[stream_count++] = {reinterpret_cast<const char*>(col.int32_values().data()), 4};
    } else if (!col.string_refs().empty()) {
      streams[stream_count++] = {reinterpret_cast<const char*>(col.string_refs().data()),
                                 sizeof(StringRef)};
    }
  }
  const Column& port_col = batch.column(kDstPort);
  constexpr size_t kRowsAhead = 64;
  constexpr size_t kSlotsAhead = 16;
  constexpr size_t kEntriesAhead = 8;
  constexpr size_t kCountersAhead = 4;
  for (size_t row = 0; row < n; ++row) {
    if (row % 8 == 0 && row + kRowsAhead < n) {
      for (size_t i = 0; i < stream_count; ++i) {
        __builtin_prefetch(streams[i].base + (row + kRowsAhead) * streams[i].stride);
      }
    }
    if (last_window_ != nullptr && !last_window_->slots.empty()) {
      const Window& w = *last_window_;
      const size_t mask = w.slots.size() - 1;
      if (row + kSlotsAhead < n) {
        __builtin_prefetch(&w.slots[key_hashes_[2 * (row + kSlotsAhead)] & mask]);
        __builtin_prefetch(&w.slots[key_hashes_[2 * (row + kSlotsAhead) + 1] & mask]);
      }
      if (row + kEntriesAhead < n) {
        for (size_t side = 0; side < 2; ++side) {
          const uint64_t h = key_hashes_[2 * (row + kEntriesAhead) + side];
          const Window::Slot& slot = w.slots[h & mask];
          if (slot.entry != nullptr && slot.key_hash == h) {
            const char* e = reinterpret_cast<const char*>(slot.entry);
            for (size_t at = 0; at < sizeof(Window::HostEntry); at += 64) __builtin_prefetch(e + at);
          }
        }
      }
      // Then the slots the peer and port counters will probe (tables of
      // hosts with more than two peers or ports).
      if (row + kCountersAhead < n) {
        const size_t ahead = row + kCountersAhead;
        const uint64_t hs = key_hashes_[2 * ahead];
        const uint64_t hd = key_hashes_[2 * ahead + 1];
        const Window::Slot& ss = w.slots[hs & mask];
        const Window::Slot& ds = w.slots[hd & mask];
        const Window::HostEntry* se = ss.key_hash == hs ? ss.entry : nullptr;
        const Window::HostEntry* de = ds.key_hash == hd ? ds.entry : nullptr;
        if (se != nullptr && de != nullptr) {
          se->state.peers_contacted.Prefetch(de->text_hash);
          de->state.peers_contacting.Prefetch(se->text_hash);
        }
        if (se != nullptr && port_col.IsValid(ahead)) {
          se->state.dst_ports_contacted.Prefetch(
              HashU64(static_cast<uint32_t>(port_col.Int32(ahead))));
        }
      }
    }
    ConsumeRow(batch, row, sources.At(row));
  }
}

void HostRollups::ConsumeRow(const FlowBatch& batch, size_t row, uint32_t source) {
  ++stats_.flows;
  const Column& start_col = batch.column(kStartTime);
  if (!start_col.IsValid(row)) {
    ++stats_.flows_without_start;
    return;
  }
  const int64_t start_ms = start_col.Int64(row);
  const Column& end_col = batch.column(kEndTime);
  const int64_t end_ms = end_col.IsValid(row) ? end_col.Int64(row) : start_ms;

  const Column& src_col = batch.column(kSrcIp);
  const Column& dst_col = batch.column(kDstIp);
  const bool has_src = src_col.IsValid(row);
  const bool has_dst = dst_col.IsValid(row);
  // Each address is hashed once per flow (by Consume()), for every window it
  // goes to; its HashBytes(), which the peer counters count, is kept in its
  // host entry.
  HostKey src;
  HostKey dst;
  if (has_src) {
    src.text = src_col.String(row);
    src.key_hash = key_hashes_[2 * row];
  }
  if (has_dst) {
    dst.text = dst_col.String(row);
    dst.key_hash = key_hashes_[2 * row + 1];
  }
  const bool same_host =
      has_src && has_dst && src.key_hash == dst.key_hash && SameText(src.text, dst.text);
  const Column& l7_col = batch.column(kL7Name);
  const std::string_view l7 = l7_col.IsValid(row) ? l7_col.String(row) : std::string_view();

  const int64_t window_ms = config_.window_ms;
  // Consecutive flows mostly start in the same window: no division then.
  if (start_ms < start_window_lo_ms_ || start_ms >= start_window_hi_ms_) {
    start_window_lo_ms_ = FloorDivide(start_ms, window_ms) * window_ms;
    start_window_hi_ms_ = start_window_lo_ms_ + window_ms;
  }
  const int64_t start_window = start_window_lo_ms_;
  const bool late =
      stats_.watermark_ms != INT64_MIN && stats_.watermark_ms >= start_window + window_ms;

  // Counts of the start window: the flow, its peers, ports, flags, duration.
  // The start window (open, or a correction window if late) and its two hosts
  // are remembered for the byte shares below, which nearly always go to the
  // same window.
  Window* start_win = TargetWindow(start_window);
  HostState* s = nullptr;
  HostState* d = nullptr;
  if (late) ++stats_.late_flows;
  if (start_win == nullptr) {
    ++stats_.late_dropped;
  } else {
    Window& window = *start_win;
    const Column& duration_col = batch.column(kDurationMs);
    std::optional<int64_t> duration_ms;
    if (duration_col.IsValid(row)) {
      duration_ms = duration_col.Int64(row);
    } else if (end_col.IsValid(row)) {
      duration_ms = end_ms - start_ms;
    }
    if (duration_ms && *duration_ms < 0) duration_ms.reset();
    const Column& probe_col = batch.column(kProbe);
    std::optional<uint32_t> probe_id;
    // The heap bytes this flow adds to the window besides new hosts (which
    // HostIn() counts): a new name, a longer list, a counter's table.
    const uint64_t names_bytes = window.names.heap_bytes();
    if (probe_col.IsValid(row)) probe_id = window.names.InternRepeated(probe_col.String(row));
    auto grown = static_cast<int64_t>(window.names.heap_bytes() - names_bytes);
    const auto add_common = [&](HostState& h) {
      if (duration_ms) {
        h.duration_sum_ms += *duration_ms;
        ++h.duration_count;
      }
      if (probe_id) grown += static_cast<int64_t>(h.AddProbe(*probe_id));
    };

    // Both hosts first (src, then dst: the order they enter the table), so
    // that each side's peer counter gets the other's HashBytes().
    const HostRef sref = has_src ? HostIn(window, src) : HostRef{};
    const HostRef dref = has_dst ? HostIn(window, dst) : HostRef{};
    s = sref.state;
    d = dref.state;
    if (s != nullptr) {
      ++s->flows_as_src;
      if (has_dst) grown += s->peers_contacted.AddCountingHeap(dref.text_hash);
      const Column& port_col = batch.column(kDstPort);
      if (port_col.IsValid(row)) {
        grown += s->dst_ports_contacted.AddCountingHeap(
            HashU64(static_cast<uint32_t>(port_col.Int32(row))));
      }
      const Column& proto_col = batch.column(kProtocol);
      const Column& flags_col = batch.column(kTcpFlags);
      if (proto_col.IsValid(row) && proto_col.Int32(row) == 6 && flags_col.IsValid(row)) {
        const int32_t flags = flags_col.Int32(row);
        if ((flags & 0x02) != 0 && (flags & 0x10) == 0) ++s->tcp_syn_only_as_src;
      }
      add_common(*s);
    }
    if (d != nullptr) {
      ++d->flows_as_dst;
      if (has_src) grown += d->peers_contacting.AddCountingHeap(sref.text_hash);
      if (d != s) add_common(*d);  // a flow counts once in a host's mean
    }
    if (grown != 0) Charge(window, grown);
  }

  // Bytes and packets: spread over the windows the flow overlaps.
  const int64_t in_bytes = CounterOrZero(batch.column(kInBytes), row);
  const int64_t out_bytes = CounterOrZero(batch.column(kOutBytes), row);
  const int64_t in_pkts = CounterOrZero(batch.column(kInPkts), row);
  const int64_t out_pkts = CounterOrZero(batch.column(kOutPkts), row);
  int64_t span_ms = end_ms - start_ms;
  if (span_ms > config_.max_spread_ms) {
    ++stats_.long_flows_unspread;
    span_ms = 0;
  }
  const uint64_t l7_hash = l7.empty() ? 0 : KeyHash(l7);
  const auto add_share = [&](int64_t window_start, int64_t ib, int64_t ob, int64_t ip,
                             int64_t op) {
    if (ib == 0 && ob == 0 && ip == 0 && op == 0) return;
    const bool at_start = window_start == start_window && start_win != nullptr;
    Window* target = at_start ? start_win : TargetWindow(window_start);
    if (target == nullptr) {
      stats_.late_bytes += ib + ob;
      stats_.late_pkts += ip + op;
      return;
    }
    Window& window = *target;
    const bool count_l7 = !l7.empty() && ib + ob != 0;
    int64_t grown = 0;  // as above
    uint32_t l7_id = 0;
    if (count_l7) {
      const uint64_t names_bytes = window.names.heap_bytes();
      l7_id = window.names.Intern(l7, l7_hash);
      grown = static_cast<int64_t>(window.names.heap_bytes() - names_bytes);
    }
    // in_* go from src to dst, out_* back.
    const auto add_side = [&](HostState& h, int64_t sent_bytes, int64_t received_bytes,
                              int64_t sent_pkts, int64_t received_pkts, bool side_l7) {
      h.bytes_sent += sent_bytes;
      h.bytes_received += received_bytes;
      h.pkts_sent += sent_pkts;
      h.pkts_received += received_pkts;
      if (side_l7) grown += static_cast<int64_t>(h.AddL7(l7_id, ib + ob));
    };
    // HostIn() again would give the same state (the table only grows while
    // the window is open), so the start window reuses what it found.
    if (has_src) {
      add_side(at_start ? *s : *HostIn(window, src).state, ib, ob, ip, op, count_l7);
    }
    if (has_dst) {
      add_side(at_start ? *d : *HostIn(window, dst).state, ob, ib, op, ip,
               count_l7 && !same_host);
    }
    if (grown != 0) Charge(window, grown);
  };
  if (span_ms <= 0) {
    add_share(start_window, in_bytes, out_bytes, in_pkts, out_pkts);
  } else {
    // Cumulative floors, so that the shares add up to the totals exactly.
    int64_t elapsed = 0;
    int64_t prev_ib = 0, prev_ob = 0, prev_ip = 0, prev_op = 0;
    for (int64_t w = start_window; w < end_ms; w += window_ms) {
      elapsed += std::min(end_ms, w + window_ms) - std::max(start_ms, w);
      const int64_t ib = ShareUpTo(in_bytes, elapsed, span_ms);
      const int64_t ob = ShareUpTo(out_bytes, elapsed, span_ms);
      const int64_t ip = ShareUpTo(in_pkts, elapsed, span_ms);
      const int64_t op = ShareUpTo(out_pkts, elapsed, span_ms);
      add_share(w, ib - prev_ib, ob - prev_ob, ip - prev_ip, op - prev_op);
      prev_ib = ib, prev_ob = ob, prev_ip = ip, prev_op = op;
    }
  }

  // Per flow, never per batch: batch boundaries must not change the output.
  if (watermark_.AfterFlow(start_ms, source)) WatermarkMoved();
}

void HostRollups::AdvanceWatermark(int64_t watermark_ms) {
  if (watermark_.AdvanceTo(watermark_ms)) WatermarkMoved();
}

void HostRollups::WatermarkMoved() {
  stats_.watermark_ms = watermark_.value();
  CloseWindowsPassed();
}

void HostRollups::Tick() {
  if (!watermark_.max_start()) return;
  const int64_t now = clock_.MonotonicMs();
  if (watermark_.Tick(now)) {
    ++stats_.idle_advances;
    WatermarkMoved();
  }
  // An idle stream closes no window for a while: its corrections would wait.
  if (watermark_.Idle(now)) EmitCorrections();
}

void HostRollups::Flush() {
  // Windows closed here stay closed: flows for them that still come are late.
  if (!open_.empty()) AdvanceWatermark(open_.rbegin()->first + config_.window_ms);
  EmitCorrections();
}

void HostRollups::EmitCorrections() {
  for (auto& [start, window] : corrections_) {
    EmitWindow(start, window, /*correction=*/true);
    state_bytes_ -= window.heap_bytes;
  }
  corrections_.clear();
}

void HostRollups::CloseWindow(std::map<int64_t, Window>::iterator it) {
  EmitWindow(it->first, it->second, /*correction=*/false);
  state_bytes_ -= it->second.heap_bytes;
  ++stats_.windows_closed;
  if (&it->second == last_window_) last_window_ = nullptr;
  open_.erase(it);
}

void HostRollups::EmitWindow(int64_t window_start, Window& window, bool correction) {
  const NameTable& names = window.names;
  const size_t closed_capacity = closed_.capacity();
  uint64_t record_bytes = 0;
  // The window is erased by the caller, so its host names are moved out, not
  // copied.
  const auto emit = [&](std::string host, HostState& h) {
    HostRollupRecord& r = closed_.emplace_back();
    r.window_start_ms = window_start;
    r.window_end_ms = window_start + config_.window_ms;
    r.host = std::move(host);
    r.correction = correction;
    r.flows_as_src = h.flows_as_src;
    r.flows_as_dst = h.flows_as_dst;
    r.bytes_sent = h.bytes_sent;
    r.bytes_received = h.bytes_received;
    r.pkts_sent = h.pkts_sent;
    r.pkts_received = h.pkts_received;
    r.peers_contacted = h.peers_contacted.Count();
    r.peers_contacting = h.peers_contacting.Count();
    r.dst_ports_contacted = h.dst_ports_contacted.Count();
    r.peers_contacted_sketch = h.peers_contacted.Serialize();
    r.peers_contacting_sketch = h.peers_contacting.Serialize();
    r.dst_ports_contacted_sketch = h.dst_ports_contacted.Serialize();
    r.tcp_syn_only_as_src = h.tcp_syn_only_as_src;
    // Ordered by ids, named only for the kept ones.
    auto& l7 = h.l7_bytes;
    const auto by_bytes_then_name = [&](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : names.name(a.first) < names.name(b.first);
    };
    const size_t kept = std::min(l7.size(), kTopL7);
    std::sort(l7.begin(), l7.end(), by_bytes_then_name);
    r.top_l7.reserve(kept);
    for (size_t i = 0; i < kept; ++i) r.top_l7.push_back({names.name(l7[i].first), l7[i].second});
    if (h.duration_count > 0) {
      r.avg_duration_ms =
          static_cast<double>(h.duration_sum_ms) / static_cast<double>(h.duration_count);
    }
    std::sort(h.probes.begin(), h.probes.end(),
              [&](uint32_t a, uint32_t b) { return names.name(a) < names.name(b); });
    r.probes.reserve(h.probes.size());
    for (const uint32_t id : h.probes) r.probes.push_back(names.name(id));
    record_bytes += RecordHeapBytes(r);
    ++stats_.records;
    if (correction) ++stats_.corrections_emitted;
  };
  // At most one growth per window, still geometric (windows close one by
  // one into the same queue).
  const size_t needed = closed_.size() + window.entry_count + 1;
  if (needed > closed_.capacity()) closed_.reserve(std::max(needed, 2 * closed_.capacity()));
  // Sorted by name. The first 16 bytes as two big-endian words, zero-padded
  // (a whole IPv4 address), decide most comparisons without a call or a read
  // of the entry; ties fall back to the names.
  struct ByName {
    uint64_t prefix[2];
    Window::HostEntry* entry;
  };
  std::vector<ByName> sorted;
  sorted.reserve(window.entry_count);
  window.ForEachEntry([&](Window::HostEntry& e) {
    char padded[16] = {};
    std::memcpy(padded, e.host.data(), std::min<size_t>(e.host.size(), 16));
    ByName b{{0, 0}, &e};
    for (size_t w = 0; w < 2; ++w) {
      for (size_t i = 0; i < 8; ++i) {
        b.prefix[w] = (b.prefix[w] << 8) | static_cast<unsigned char>(padded[8 * w + i]);
      }
    }
    sorted.push_back(b);
  });
  std::sort(sorted.begin(), sorted.end(), [](const ByName& a, const ByName& b) {
    if (a.prefix[0] != b.prefix[0]) return a.prefix[0] < b.prefix[0];
    if (a.prefix[1] != b.prefix[1]) return a.prefix[1] < b.prefix[1];
    return a.entry->host < b.entry->host;
  });
  for (const ByName& e : sorted) emit(std::move(e.entry->host), e.entry->state);
  if (window.other) {
    emit(std::string(HostRollupRecord::kOtherHost), *window.other);
    // Hosts of a correction were most likely folded into the original
    // "other" already: counted once, there.
    if (!correction) stats_.overflow_hosts += window.overflowed.Count();
  }
  if (window.over_memory) ++stats_.windows_over_memory;
  record_bytes += (closed_.capacity() - closed_capacity) * sizeof(HostRollupRecord);
  closed_bytes_ += record_bytes;
  state_bytes_ += record_bytes;
}

std::vector<HostRollupRecord> HostRollups::TakeClosed() {
  state_bytes_ -= closed_bytes_;
  closed_bytes_ = 0;
  return std::exchange(closed_, {});
}

uint64_t HostRollups::CountStateBytes() const {
  uint64_t bytes = closed_.capacity() * sizeof(HostRollupRecord);
  for (const HostRollupRecord& r : closed_) bytes += RecordHeapBytes(r);
  for (const auto* windows : {&open_, &corrections_}) {
    for (const auto& [start, window] : *windows) bytes += window.CountHeapBytes();
  }
  return bytes;
}

void HostRollups::RecountStateBytes() {
  state_bytes_ = closed_bytes_;
  for (auto* windows : {&open_, &corrections_}) {
    for (auto& [start, window] : *windows) {
      window.heap_bytes = window.CountHeapBytes();
      state_bytes_ += window.heap_bytes;
    }
  }
}

void HostRollups::CloseWindowsPassed() {
  if (stats_.watermark_ms == INT64_MIN) return;
  // Corrections are of windows closed before: they go first, so that a step
  // is in window order.
  if (!open_.empty() && open_.begin()->first + config_.window_ms <= stats_.watermark_ms) {
    EmitCorrections();
  }
  while (!open_.empty() && open_.begin()->first + config_.window_ms <= stats_.watermark_ms) {
    CloseWindow(open_.begin());
  }
}

// State snapshots (docs/rollups.md, "State snapshots"). Integers are LEB128
// varints (zigzag where they can be negative), strings and sketches are
// length-prefixed, and an empty distinct counter is a zero length: most hosts
// of a window are seen on one side only, so one of their counters is empty.
namespace {

constexpr std::string_view kStateMagic = "FLHR";
// Version 2 added the pending corrections and their counters; version 1
// snapshots are still read (as having none).
constexpr uint64_t kStateVersion = 2;
// Times in a snapshot are bounded so that the window arithmetic on them
// (start + window_ms, the watermark plus idle time) cannot overflow.
constexpr int64_t kMaxStateTimeMs = int64_t{1} << 60;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutSigned(std::string& out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void PutBytes(std::string& out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out.append(bytes);
}

void PutCounter(std::string& out, const DistinctCounter& c) {
  if (c.is_exact() && c.Count() == 0) {
    PutVarint(out, 0);
  } else {
    PutBytes(out, c.Serialize());
  }
}

// Sums of two snapshots: wrapping, never undefined, on absurd inputs.
int64_t AddWrapping(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// Bounds-checked reads; every error is a Corruption naming the field and the
// byte offset.
class StateReader {
 public:
  explicit StateReader(std::string_view in) : in_(in), size_(in.size()) {}

  Status Magic(std::string_view magic) {
    if (!in_.starts_with(magic)) return Error("magic", "not a host rollups state");
    in_.remove_prefix(magic.size());
    return Status::Ok();
  }
  Status Varint(std::string_view what, uint64_t* v) {
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return Error(what, "truncated");
      const auto b = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      if (shift == 63 && b > 1) return Error(what, "varint over 64 bits");
      r |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) {
        *v = r;
        return Status::Ok();
      }
    }
    return Error(what, "varint over 64 bits");
  }
  Status Signed(std::string_view what, int64_t* v) {
    uint64_t u = 0;
    FLOWLAKE_RETURN_IF_ERROR(Varint(what, &u));
    *v = static_cast<int64_t>((u >> 1) ^ (0 - (u & 1)));
    return Status::Ok();
  }
  Status NonNegative(std::string_view what, int64_t* v) {
    uint64_t u = 0;
    FLOWLAKE_RETURN_IF_ERROR(Varint(what, &u));
    if (u > static_cast<uint64_t>(INT64_MAX)) return Error(what, "above INT64_MAX");
    *v = static_cast<int64_t>(u);
    return Status::Ok();
  }
  Status Time(std::string_view what, int64_t* v) {
    FLOWLAKE_RETURN_IF_ERROR(Signed(what, v));
    if (*v < -kMaxStateTimeMs || *v > kMaxStateTimeMs) {
      return Error(what, fmt::format("time {} out of range", *v));
    }
    return Status::Ok();
  }
  Status Bytes(std::string_view what, std::string_view* b) {
    uint64_t n = 0;
    FLOWLAKE_RETURN_IF_ERROR(Varint(what, &n));
    if (n > in_.size()) return Error(what, fmt::format("length {} past the end", n));
    *b = in_.substr(0, n);
    in_.remove_prefix(n);
    return Status::Ok();
  }
  // A count of items of at least one byte each: bounded by the bytes left, so
  // that a bad count cannot make us allocate.
  Status Count(std::string_view what, uint64_t* n) {
    FLOWLAKE_RETURN_IF_ERROR(Varint(what, n));
    if (*n > in_.size()) return Error(what, fmt::format("count {} past the end", *n));
    return Status::Ok();
  }
  Status Counter(std::string_view what, const DistinctCounterConfig& config,
                 DistinctCounter* c) {
    std::string_view bytes;
    FLOWLAKE_RETURN_IF_ERROR(Bytes(what, &bytes));
    if (bytes.empty()) {
      *c = DistinctCounter(config);
      return Status::Ok();
    }
    Result<DistinctCounter> r = DistinctCounter::Deserialize(bytes, config);
    if (!r.ok()) return Error(what, r.status().message());
    *c = std::move(r).value();
    return Status::Ok();
  }

  Status Error(std::string_view what, std::string_view why) const {
    return Status::Corruption(fmt::format("host rollups state: {}: {} (at byte {} of {})", what,
                                          why, size_ - in_.size(), size_));
  }
  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
  size_t size_;
};

}  // namespace

std::string HostRollups::SaveState() const {
  std::string out(kStateMagic);
  PutVarint(out, kStateVersion);
  PutVarint(out, static_cast<uint64_t>(config_.window_ms));
  PutVarint(out, static_cast<uint64_t>(config_.distinct.precision));
  PutVarint(out, config_.distinct.exact_limit);
  const bool has_watermark = stats_.watermark_ms != INT64_MIN;
  const std::optional<int64_t> max_start_ms = watermark_.max_start();
  PutVarint(out, (max_start_ms ? 1u : 0u) | (has_watermark ? 2u : 0u));
  if (max_start_ms) PutSigned(out, *max_start_ms);
  if (has_watermark) PutSigned(out, stats_.watermark_ms);
  for (const uint64_t v : {stats_.flows, stats_.flows_without_start, stats_.late_flows}) {
    PutVarint(out, v);
  }
  PutSigned(out, stats_.late_bytes);
  PutSigned(out, stats_.late_pkts);
  for (const uint64_t v : {stats_.long_flows_unspread, stats_.windows_closed, stats_.records,
                           stats_.overflow_hosts, stats_.idle_advances, stats_.late_dropped,
                           stats_.corrections_emitted}) {
    PutVarint(out, v);
  }

  const auto put_host = [&](const HostState& h, const NameTable& names) {
    for (const int64_t v : {h.flows_as_src, h.flows_as_dst, h.bytes_sent, h.bytes_received,
                            h.pkts_sent, h.pkts_received, h.tcp_syn_only_as_src,
                            h.duration_sum_ms, h.duration_count}) {
      PutVarint(out, static_cast<uint64_t>(v));
    }
    PutCounter(out, h.peers_contacted);
    PutCounter(out, h.peers_contacting);
    PutCounter(out, h.dst_ports_contacted);
    PutVarint(out, h.l7_bytes.size());
    for (const auto& [id, bytes] : h.l7_bytes) {
      PutBytes(out, names.name(id));
      PutVarint(out, static_cast<uint64_t>(bytes));
    }
    PutVarint(out, h.probes.size());
    for (const uint32_t id : h.probes) PutBytes(out, names.name(id));
  };
  const auto put_windows = [&](const std::map<int64_t, Window>& windows) {
    PutVarint(out, windows.size());
    for (const auto& [start, window] : windows) {
      PutSigned(out, start);
      PutVarint(out, window.entry_count);
      window.ForEachEntry([&](const Window::HostEntry& e) {
        PutBytes(out, e.host);
        put_host(e.state, window.names);
      });
      PutVarint(out, window.other ? 1 : 0);
      if (window.other) put_host(*window.other, window.names);
      PutCounter(out, window.overflowed);
    }
  };
  put_windows(open_);
  put_windows(corrections_);
  return out;
}

Status HostRollups::MergeState(std::string_view bytes) {
  // Everything is decoded and checked before anything is merged, so that a
  // bad snapshot leaves *this unchanged.
  StateReader in(bytes);
  FLOWLAKE_RETURN_IF_ERROR(in.Magic(kStateMagic));
  uint64_t version = 0, window_ms = 0, precision = 0, exact_limit = 0, flags = 0;
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("version", &version));
  if (version != 1 && version != kStateVersion) {
    return in.Error("version", fmt::format("unknown version {}", version));
  }
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("window_ms", &window_ms));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("precision", &precision));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("exact_limit", &exact_limit));
  if (window_ms != static_cast<uint64_t>(config_.window_ms) ||
      precision != static_cast<uint64_t>(config_.distinct.precision) ||
      exact_limit != config_.distinct.exact_limit) {
    return Status::InvalidArgument(fmt::format(
        "host rollups state: taken with window_ms {}, precision {}, exact_limit {}; this "
        "config has {}, {}, {}",
        window_ms, precision, exact_limit, config_.window_ms, config_.distinct.precision,
        config_.distinct.exact_limit));
  }
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("flags", &flags));
  if (flags > 3) return in.Error("flags", fmt::format("unknown flags {}", flags));
  std::optional<int64_t> max_start_ms;
  int64_t watermark_ms = INT64_MIN;
  if ((flags & 1) != 0) FLOWLAKE_RETURN_IF_ERROR(in.Time("max start", &max_start_ms.emplace()));
  if ((flags & 2) != 0) FLOWLAKE_RETURN_IF_ERROR(in.Time("watermark", &watermark_ms));
  RollupStats s;
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.flows", &s.flows));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.flows_without_start", &s.flows_without_start));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.late_flows", &s.late_flows));
  FLOWLAKE_RETURN_IF_ERROR(in.Signed("stats.late_bytes", &s.late_bytes));
  FLOWLAKE_RETURN_IF_ERROR(in.Signed("stats.late_pkts", &s.late_pkts));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.long_flows_unspread", &s.long_flows_unspread));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.windows_closed", &s.windows_closed));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.records", &s.records));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.overflow_hosts", &s.overflow_hosts));
  FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.idle_advances", &s.idle_advances));
  if (version >= 2) {
    FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.late_dropped", &s.late_dropped));
    FLOWLAKE_RETURN_IF_ERROR(in.Varint("stats.corrections_emitted", &s.corrections_emitted));
  } else {
    // Version 1 had only the drop policy.
    s.late_dropped = s.late_flows;
  }

  const DistinctCounterConfig& dc = config_.distinct;
  const auto read_host = [&](HostState& h, NameTable& names) -> Status {
    for (int64_t* v : {&h.flows_as_src, &h.flows_as_dst, &h.bytes_sent, &h.bytes_received,
                       &h.pkts_sent, &h.pkts_received, &h.tcp_syn_only_as_src,
                       &h.duration_sum_ms, &h.duration_count}) {
      FLOWLAKE_RETURN_IF_ERROR(in.NonNegative("host counter", v));
    }
    DistinctCounter c(dc);
    FLOWLAKE_RETURN_IF_ERROR(in.Counter("peers_contacted sketch", dc, &c));
    FLOWLAKE_RETURN_IF_ERROR(h.peers_contacted.Merge(c));
    FLOWLAKE_RETURN_IF_ERROR(in.Counter("peers_contacting sketch", dc, &c));
    FLOWLAKE_RETURN_IF_ERROR(h.peers_contacting.Merge(c));
    FLOWLAKE_RETURN_IF_ERROR(in.Counter("dst_ports_contacted sketch", dc, &c));
    FLOWLAKE_RETURN_IF_ERROR(h.dst_ports_contacted.Merge(c));
    uint64_t n = 0;
    FLOWLAKE_RETURN_IF_ERROR(in.Count("L7 name count", &n));
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view name;
      int64_t l7_bytes = 0;
      FLOWLAKE_RETURN_IF_ERROR(in.Bytes("L7 name", &name));
      FLOWLAKE_RETURN_IF_ERROR(in.NonNegative("L7 bytes", &l7_bytes));
      h.l7_bytes.push_back({names.Intern(name), l7_bytes});
    }
    FLOWLAKE_RETURN_IF_ERROR(in.Count("probe count", &n));
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view probe;
      FLOWLAKE_RETURN_IF_ERROR(in.Bytes("probe", &probe));
      h.probes.push_back(names.Intern(probe));
    }
    return Status::Ok();
  };

  struct SavedWindow {
    int64_t start_ms = 0;
    std::vector<std::pair<std::string, HostState>> hosts;
    std::optional<HostState> other;
    DistinctCounter overflowed;
    NameTable names;
  };
  // `what` is "window" or "correction window".
  const auto read_windows = [&](std::string_view what,
                                std::vector<SavedWindow>& windows) -> Status {
    const std::string start_what = fmt::format("{} start", what);
    uint64_t window_count = 0;
    FLOWLAKE_RETURN_IF_ERROR(in.Count(fmt::format("{} count", what), &window_count));
    for (uint64_t w = 0; w < window_count; ++w) {
      SavedWindow& sw =
          windows.emplace_back(SavedWindow{0, {}, std::nullopt, DistinctCounter(dc), NameTable()});
      FLOWLAKE_RETURN_IF_ERROR(in.Time(start_what, &sw.start_ms));
      if (FloorDivide(sw.start_ms, config_.window_ms) * config_.window_ms != sw.start_ms) {
        return in.Error(start_what, fmt::format("{} is not a multiple of window_ms {}",
                                                sw.start_ms, config_.window_ms));
      }
      if (w > 0 && sw.start_ms <= windows[w - 1].start_ms) {
        return in.Error(start_what, fmt::format("{} not after {}", sw.start_ms,
                                                windows[w - 1].start_ms));
      }
      uint64_t host_count = 0;
      FLOWLAKE_RETURN_IF_ERROR(in.Count("host count", &host_count));
      for (uint64_t i = 0; i < host_count; ++i) {
        std::string_view host;
        FLOWLAKE_RETURN_IF_ERROR(in.Bytes("host", &host));
        auto& [name, state] = sw.hosts.emplace_back(std::string(host), HostState(dc));
        (void)name;
        FLOWLAKE_RETURN_IF_ERROR(read_host(state, sw.names));
      }
      uint64_t has_other = 0;
      FLOWLAKE_RETURN_IF_ERROR(in.Varint("other flag", &has_other));
      if (has_other > 1) return in.Error("other flag", fmt::format("{} is not 0 or 1", has_other));
      if (has_other == 1) FLOWLAKE_RETURN_IF_ERROR(read_host(sw.other.emplace(dc), sw.names));
      FLOWLAKE_RETURN_IF_ERROR(in.Counter("overflowed hosts sketch", dc, &sw.overflowed));
    }
    return Status::Ok();
  };
  std::vector<SavedWindow> windows;
  FLOWLAKE_RETURN_IF_ERROR(read_windows("window", windows));
  std::vector<SavedWindow> corrections;
  if (version >= 2) {
    FLOWLAKE_RETURN_IF_ERROR(read_windows("correction window", corrections));
    // A correction is of a window the snapshot's watermark had closed.
    for (const SavedWindow& sw : corrections) {
      if (watermark_ms == INT64_MIN || sw.start_ms + config_.window_ms > watermark_ms) {
        return in.Error("correction window start",
                        fmt::format("{} is of a window still open", sw.start_ms));
      }
    }
  }
  if (!in.empty()) return in.Error("end", "trailing bytes");

  // Apply. Counter merges cannot fail from here on: every counter has
  // config_.distinct's precision.
  const auto merge_host = [&](HostState& into, NameTable& into_names, const HostState& from,
                              const NameTable& from_names) {
    into.flows_as_src = AddWrapping(into.flows_as_src, from.flows_as_src);
    into.flows_as_dst = AddWrapping(into.flows_as_dst, from.flows_as_dst);
    into.bytes_sent = AddWrapping(into.bytes_sent, from.bytes_sent);
    into.bytes_received = AddWrapping(into.bytes_received, from.bytes_received);
    into.pkts_sent = AddWrapping(into.pkts_sent, from.pkts_sent);
    into.pkts_received = AddWrapping(into.pkts_received, from.pkts_received);
    into.tcp_syn_only_as_src = AddWrapping(into.tcp_syn_only_as_src, from.tcp_syn_only_as_src);
    into.duration_sum_ms = AddWrapping(into.duration_sum_ms, from.duration_sum_ms);
    into.duration_count = AddWrapping(into.duration_count, from.duration_count);
    (void)into.peers_contacted.Merge(from.peers_contacted);
    (void)into.peers_contacting.Merge(from.peers_contacting);
    (void)into.dst_ports_contacted.Merge(from.dst_ports_contacted);
    for (const auto& [from_id, l7_bytes] : from.l7_bytes) {
      const uint32_t id = into_names.Intern(from_names.name(from_id));
      auto it = std::find_if(into.l7_bytes.begin(), into.l7_bytes.end(),
                             [&](const auto& e) { return e.first == id; });
      if (it == into.l7_bytes.end()) {
        into.l7_bytes.push_back({id, l7_bytes});
      } else {
        it->second = AddWrapping(it->second, l7_bytes);
      }
    }
    for (const uint32_t from_id : from.probes) {
      into.AddProbe(into_names.Intern(from_names.name(from_id)));
    }
  };
  const auto merge_window = [&](Window& window, const SavedWindow& sw) {
    for (const auto& [host, state] : sw.hosts) {
      merge_host(*HostIn(window, HostKey{host, KeyHash(host)}, /*apply_budget=*/false).state,
                 window.names, state, sw.names);
    }
    if (sw.other) {
      if (!window.other) window.other.emplace(config_.distinct);
      merge_host(*window.other, window.names, *sw.other, sw.names);
    }
    (void)window.overflowed.Merge(sw.overflowed);
    // The over-budget flag is not in snapshots, but implied: under a budget,
    // an "other" below the host cap was for the budget, so new hosts keep
    // going there.
    window.over_memory |= config_.max_state_bytes != 0 && window.other &&
                          window.entry_count < config_.max_hosts_per_window;
  };
  for (const SavedWindow& sw : windows) merge_window(WindowAt(sw.start_ms), sw);
  for (const SavedWindow& sw : corrections) {
    auto it = corrections_.find(sw.start_ms);
    if (it == corrections_.end()) {
      it = corrections_.emplace(sw.start_ms, Window(config_.distinct)).first;
    }
    merge_window(it->second, sw);
  }
  stats_.flows += s.flows;
  stats_.flows_without_start += s.flows_without_start;
  stats_.late_flows += s.late_flows;
  stats_.late_bytes = AddWrapping(stats_.late_bytes, s.late_bytes);
  stats_.late_pkts = AddWrapping(stats_.late_pkts, s.late_pkts);
  stats_.long_flows_unspread += s.long_flows_unspread;
  stats_.windows_closed += s.windows_closed;
  stats_.records += s.records;
  stats_.overflow_hosts += s.overflow_hosts;
  stats_.idle_advances += s.idle_advances;
  stats_.late_dropped += s.late_dropped;
  stats_.corrections_emitted += s.corrections_emitted;
  watermark_.AdvanceTo(watermark_ms);
  stats_.watermark_ms = watermark_.value();
  // The larger max start; the idle clock restarts.
  watermark_.Restore(max_start_ms, clock_.MonotonicMs());
  // Merged counters, lists and names grew without being counted.
  RecountStateBytes();
  CloseWindowsPassed();
  return Status::Ok();
}

namespace {

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}
void AppendUint(std::string* out, uint64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, end);
}
void AppendHex(std::string* out, std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t at = out->size();
  out->resize(at + 2 * bytes.size());
  char* p = out->data() + at;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    *p++ = kDigits[b >> 4];
    *p++ = kDigits[b & 0xf];
  }
}
// "2025-12-01T00:07:00Z". Every record of a window has the same two
// timestamps, and they alternate: remember the text of both.
void AppendUtcSeconds(std::string* out, int64_t ms) {
  struct Cached {
    int64_t ms = INT64_MIN;
    std::string text;
  };
  thread_local Cached cache[2];
  thread_local unsigned next = 0;
  for (const Cached& c : cache) {
    if (c.ms == ms) {
      *out += c.text;
      return;
    }
  }
  Cached& c = cache[next];
  next ^= 1;
  c.ms = ms;
  c.text.clear();
  AppendUtcTimestamp(c.text, ms);
  *out += c.text;
}

}  // namespace

void AppendNdjson(const HostRollupRecord& r, std::string* out, RollupNdjsonSpans* spans) {
  RollupNdjsonSpans local;
  RollupNdjsonSpans& sp = spans != nullptr ? *spans : local;
  *out += R"({"window_start":")";
  AppendUtcSeconds(out, r.window_start_ms);
  *out += R"(","window_end":")";
  AppendUtcSeconds(out, r.window_end_ms);
  *out += R"(","host":)";
  AppendJsonString(*out, r.host);
  *out += R"(,"flows_as_src":)";
  AppendInt(out, r.flows_as_src);
  *out += R"(,"flows_as_dst":)";
  AppendInt(out, r.flows_as_dst);
  *out += R"(,"bytes_sent":)";
  AppendInt(out, r.bytes_sent);
  *out += R"(,"bytes_received":)";
  AppendInt(out, r.bytes_received);
  *out += R"(,"pkts_sent":)";
  AppendInt(out, r.pkts_sent);
  *out += R"(,"pkts_received":)";
  AppendInt(out, r.pkts_received);
  *out += R"(,"peers_contacted":)";
  AppendUint(out, r.peers_contacted);
  *out += R"(,"peers_contacting":)";
  AppendUint(out, r.peers_contacting);
  *out += R"(,"dst_ports_contacted":)";
  AppendUint(out, r.dst_ports_contacted);
  *out += R"(,"tcp_syn_only_as_src":)";
  AppendInt(out, r.tcp_syn_only_as_src);
  *out += R"(,"top_l7":)";
  sp.top_l7.begin = out->size();
  *out += '[';
  for (size_t i = 0; i < r.top_l7.size(); ++i) {
    *out += i == 0 ? R"({"name":)" : R"(,{"name":)";
    AppendJsonString(*out, r.top_l7[i].name);
    *out += R"(,"bytes":)";
    AppendInt(out, r.top_l7[i].bytes);
    *out += '}';
  }
  *out += ']';
  sp.top_l7.end = out->size();
  *out += R"(,"avg_duration_ms":)";
  if (r.avg_duration_ms) {
    // Shortest text that reads back as the same double, as fmt's "{}".
    fmt::format_to(std::back_inserter(*out), "{}", *r.avg_duration_ms);
  } else {
    *out += "null";
  }
  *out += R"(,"probes":)";
  sp.probes.begin = out->size();
  *out += '[';
  for (size_t i = 0; i < r.probes.size(); ++i) {
    if (i > 0) *out += ',';
    AppendJsonString(*out, r.probes[i]);
  }
  *out += ']';
  sp.probes.end = out->size();
  const auto sketch = [&](const char* key, std::string_view bytes, RollupNdjsonSpans::Span& span) {
    *out += key;
    span.begin = out->size();
    AppendHex(out, bytes);
    span.end = out->size();
    *out += '"';
  };
  sketch(R"(,"peers_contacted_sketch":")", r.peers_contacted_sketch, sp.peers_contacted_sketch);
  sketch(R"(,"peers_contacting_sketch":")", r.peers_contacting_sketch, sp.peers_contacting_sketch);
  sketch(R"(,"dst_ports_contacted_sketch":")", r.dst_ports_contacted_sketch,
         sp.dst_ports_contacted_sketch);
  *out += r.correction ? R"(,"correction":true})" : "}";
}

std::string ToNdjson(const HostRollupRecord& r) {
  std::string out;
  AppendNdjson(r, &out);
  return out;
}

}  // namespace flowlake
