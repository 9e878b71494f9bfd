#include "stream/host_rollups.h"

#include "core/json_string.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <deque>
#include <utility>

#include <fmt/format.h>

#include "stream/hash.h"

namespace flowlake {

namespace {

constexpr size_t kTopL7 = 5;
constexpr int64_t kMaxSpreadLimitMs = 86400000;  // keeps the share arithmetic in int64

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// The part of `total` due after `elapsed` of `span` ms: floor(total *
// elapsed / span) without overflow (elapsed <= span <= kMaxSpreadLimitMs).
int64_t ShareUpTo(int64_t total, int64_t elapsed, int64_t span) {
  return (total / span) * elapsed + (total % span) * elapsed / span;
}

int64_t CounterOrZero(const Column& col, size_t row) {
  return col.IsValid(row) ? std::max<int64_t>(0, col.Int64(row)) : 0;
}

// "2025-12-01T00:07:00Z" (seconds precision; windows are whole minutes).
std::string FormatUtcSeconds(int64_t ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(ms)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{floor<seconds>(t - day)};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
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
  return distinct.Validate();
}

namespace {

// DistinctCounter::Add() is idempotent, and a host often repeats its last
// peer or port (a client polling one server, a burst of flows to one
// service): skipping the repeat saves the counter's search and insert.
class RepeatSkippingCounter {
 public:
  explicit RepeatSkippingCounter(const DistinctCounterConfig& c) : counter_(c) {}
  void Add(uint64_t hash) {
    if (has_last_ && hash == last_) return;
    has_last_ = true;
    last_ = hash;
    counter_.Add(hash);
  }
  const DistinctCounter& counter() const { return counter_; }

 private:
  DistinctCounter counter_;
  uint64_t last_ = 0;
  bool has_last_ = false;
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
  RepeatSkippingCounter peers_contacted;
  RepeatSkippingCounter peers_contacting;
  RepeatSkippingCounter dst_ports_contacted;
  // Unordered, searched linearly: a host sees a handful of L7 names and
  // probes, and a short vector beats a tree's allocation per node. Sorted
  // when the window closes.
  std::vector<std::pair<std::string, int64_t>> l7_bytes;
  std::vector<std::string> probes;
};

struct HostRollups::Window {
  explicit Window(const DistinctCounterConfig& c) : overflowed(c) {}

  struct HostEntry {
    std::string host;
    HostState state;
  };

  // Find-or-insert a host whose HashBytes() is `hash` (computed once per
  // flow and shared with the peer counters). Null if the table is full.
  HostState* Find(std::string_view host, uint64_t hash) {
    if (slots.empty()) return nullptr;
    const size_t mask = slots.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots[i];
      if (slot.entry == nullptr) return nullptr;
      if (slot.hash == hash && slot.entry->host == host) return &slot.entry->state;
    }
  }
  HostState* Insert(std::string_view host, uint64_t hash, const DistinctCounterConfig& c) {
    HostEntry& e = entries.emplace_back(HostEntry{std::string(host), HostState(c)});
    if ((entries.size() + 1) * 2 > slots.size()) {
      Rehash(std::max<size_t>(16, slots.size() * 2));
    } else {
      Place(hash, &e);
    }
    return &e.state;
  }

  struct Slot {
    uint64_t hash = 0;
    HostEntry* entry = nullptr;  // null: empty
  };
  void Place(uint64_t hash, HostEntry* e) {
    const size_t mask = slots.size() - 1;
    size_t i = hash & mask;
    while (slots[i].entry != nullptr) i = (i + 1) & mask;
    slots[i] = {hash, e};
  }
  void Rehash(size_t capacity) {
    slots.assign(capacity, Slot{});
    for (HostEntry& e : entries) Place(HashBytes(e.host), &e);
  }

  // Open addressing over pointers into `entries` (a deque: pointer-stable),
  // load factor at most 1/2. Hosts are sorted by name only when the window
  // closes, instead of on every lookup as an ordered map would.
  std::deque<HostEntry> entries;
  std::vector<Slot> slots;  // size 0 or a power of two
  std::optional<HostState> other;
  DistinctCounter overflowed;  // hosts folded into `other`
};

HostRollups::HostRollups(RollupConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock) {
  assert(config_.Validate().ok());
}

HostRollups::~HostRollups() = default;

HostRollups::Window& HostRollups::WindowAt(int64_t window_start_ms) {
  auto it = open_.find(window_start_ms);
  if (it == open_.end()) it = open_.emplace(window_start_ms, Window(config_.distinct)).first;
  return it->second;
}

HostRollups::HostState* HostRollups::HostIn(Window& window, std::string_view host,
                                             uint64_t host_hash) {
  if (HostState* h = window.Find(host, host_hash)) return h;
  // The table never shrinks while the window is open, so a host sent to
  // "other" once goes there for the rest of the window.
  if (window.entries.size() >= config_.max_hosts_per_window) {
    window.overflowed.Add(host_hash);
    if (!window.other) window.other.emplace(config_.distinct);
    return &*window.other;
  }
  return window.Insert(host, host_hash, config_.distinct);
}

void HostRollups::Consume(const FlowBatch& batch) {
  const size_t n = batch.num_rows();
  if (n == 0) return;
  for (size_t row = 0; row < n; ++row) ConsumeRow(batch, row);
  last_arrival_ms_ = clock_.MonotonicMs();
}

void HostRollups::ConsumeRow(const FlowBatch& batch, size_t row) {
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
  const std::string_view src = has_src ? src_col.String(row) : std::string_view();
  const std::string_view dst = has_dst ? dst_col.String(row) : std::string_view();
  // Each address is hashed once: the hash keys the host table and feeds the
  // peer counters.
  const uint64_t src_hash = has_src ? HashBytes(src) : 0;
  const uint64_t dst_hash = has_dst ? HashBytes(dst) : 0;
  const Column& l7_col = batch.column(kL7Name);
  const std::string_view l7 = l7_col.IsValid(row) ? l7_col.String(row) : std::string_view();

  const int64_t window_ms = config_.window_ms;
  const int64_t start_window = FloorDiv(start_ms, window_ms) * window_ms;
  const auto closed = [&](int64_t window_start) {
    return stats_.watermark_ms != INT64_MIN && stats_.watermark_ms >= window_start + window_ms;
  };

  // Counts of the start window: the flow, its peers, ports, flags, duration.
  // The start window and its two hosts are remembered for the byte shares
  // below, which nearly always go to the same window.
  Window* start_win = nullptr;
  HostState* s = nullptr;
  HostState* d = nullptr;
  if (closed(start_window)) {
    ++stats_.late_flows;
  } else {
    Window& window = WindowAt(start_window);
    start_win = &window;
    const Column& duration_col = batch.column(kDurationMs);
    std::optional<int64_t> duration_ms;
    if (duration_col.IsValid(row)) {
      duration_ms = duration_col.Int64(row);
    } else if (end_col.IsValid(row)) {
      duration_ms = end_ms - start_ms;
    }
    if (duration_ms && *duration_ms < 0) duration_ms.reset();
    const Column& probe_col = batch.column(kProbe);
    const std::optional<std::string_view> probe =
        probe_col.IsValid(row) ? std::optional(probe_col.String(row)) : std::nullopt;
    const auto add_common = [&](HostState& h) {
      if (duration_ms) {
        h.duration_sum_ms += *duration_ms;
        ++h.duration_count;
      }
      if (probe && std::find(h.probes.begin(), h.probes.end(), *probe) == h.probes.end()) {
        h.probes.emplace_back(*probe);
      }
    };

    s = has_src ? HostIn(window, src, src_hash) : nullptr;
    if (s != nullptr) {
      ++s->flows_as_src;
      if (has_dst) s->peers_contacted.Add(dst_hash);
      const Column& port_col = batch.column(kDstPort);
      if (port_col.IsValid(row)) {
        s->dst_ports_contacted.Add(HashU64(static_cast<uint32_t>(port_col.Int32(row))));
      }
      const Column& proto_col = batch.column(kProtocol);
      const Column& flags_col = batch.column(kTcpFlags);
      if (proto_col.IsValid(row) && proto_col.Int32(row) == 6 && flags_col.IsValid(row)) {
        const int32_t flags = flags_col.Int32(row);
        if ((flags & 0x02) != 0 && (flags & 0x10) == 0) ++s->tcp_syn_only_as_src;
      }
      add_common(*s);
    }
    d = has_dst ? HostIn(window, dst, dst_hash) : nullptr;
    if (d != nullptr) {
      ++d->flows_as_dst;
      if (has_src) d->peers_contacting.Add(src_hash);
      if (d != s) add_common(*d);  // a flow counts once in a host's mean
    }
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
  const auto add_share = [&](int64_t window_start, int64_t ib, int64_t ob, int64_t ip,
                             int64_t op) {
    if (ib == 0 && ob == 0 && ip == 0 && op == 0) return;
    if (closed(window_start)) {
      stats_.late_bytes += ib + ob;
      stats_.late_pkts += ip + op;
      return;
    }
    const bool at_start = window_start == start_window && start_win != nullptr;
    Window& window = at_start ? *start_win : WindowAt(window_start);
    // in_* go from src to dst, out_* back.
    const auto add_side = [&](HostState& h, int64_t sent_bytes, int64_t received_bytes,
                              int64_t sent_pkts, int64_t received_pkts, bool count_l7) {
      h.bytes_sent += sent_bytes;
      h.bytes_received += received_bytes;
      h.pkts_sent += sent_pkts;
      h.pkts_received += received_pkts;
      if (!count_l7 || l7.empty() || ib + ob == 0) return;
      auto it = std::find_if(h.l7_bytes.begin(), h.l7_bytes.end(),
                             [&](const auto& e) { return e.first == l7; });
      if (it == h.l7_bytes.end()) {
        h.l7_bytes.emplace_back(std::string(l7), ib + ob);
      } else {
        it->second += ib + ob;
      }
    };
    // HostIn() again would give the same state (the table only grows while
    // the window is open), so the start window reuses what it found.
    if (has_src) {
      add_side(at_start ? *s : *HostIn(window, src, src_hash), ib, ob, ip, op, true);
    }
    if (has_dst) {
      add_side(at_start ? *d : *HostIn(window, dst, dst_hash), ob, ib, op, ip,
               !(has_src && src == dst));
    }
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
  if (!max_start_ms_ || start_ms > *max_start_ms_) max_start_ms_ = start_ms;
  AdvanceWatermark(*max_start_ms_ - config_.lateness_ms);
}

void HostRollups::AdvanceWatermark(int64_t watermark_ms) {
  if (stats_.watermark_ms != INT64_MIN && watermark_ms <= stats_.watermark_ms) return;
  stats_.watermark_ms = watermark_ms;
  while (!open_.empty() && open_.begin()->first + config_.window_ms <= watermark_ms) {
    CloseWindow(open_.begin());
  }
}

void HostRollups::Tick() {
  if (!max_start_ms_) return;
  const int64_t idle_ms = clock_.MonotonicMs() - last_arrival_ms_;
  if (idle_ms < config_.idle_timeout_ms) return;
  const int64_t before = stats_.watermark_ms;
  AdvanceWatermark(*max_start_ms_ + idle_ms - config_.lateness_ms);
  if (stats_.watermark_ms != before) ++stats_.idle_advances;
}

void HostRollups::Flush() {
  if (open_.empty()) return;
  // Windows closed here stay closed: flows for them that still come are late.
  AdvanceWatermark(open_.rbegin()->first + config_.window_ms);
}

void HostRollups::CloseWindow(std::map<int64_t, Window>::iterator it) {
  const int64_t window_start = it->first;
  Window& window = it->second;
  // The window is erased below, so its strings are moved out, not copied.
  const auto emit = [&](std::string host, HostState& h) {
    HostRollupRecord r;
    r.window_start_ms = window_start;
    r.window_end_ms = window_start + config_.window_ms;
    r.host = std::move(host);
    r.flows_as_src = h.flows_as_src;
    r.flows_as_dst = h.flows_as_dst;
    r.bytes_sent = h.bytes_sent;
    r.bytes_received = h.bytes_received;
    r.pkts_sent = h.pkts_sent;
    r.pkts_received = h.pkts_received;
    r.peers_contacted = h.peers_contacted.counter().Count();
    r.peers_contacting = h.peers_contacting.counter().Count();
    r.dst_ports_contacted = h.dst_ports_contacted.counter().Count();
    r.peers_contacted_sketch = h.peers_contacted.counter().Serialize();
    r.peers_contacting_sketch = h.peers_contacting.counter().Serialize();
    r.dst_ports_contacted_sketch = h.dst_ports_contacted.counter().Serialize();
    r.tcp_syn_only_as_src = h.tcp_syn_only_as_src;
    r.top_l7.reserve(h.l7_bytes.size());
    for (auto& [name, bytes] : h.l7_bytes) r.top_l7.push_back({std::move(name), bytes});
    std::sort(r.top_l7.begin(), r.top_l7.end(), [](const L7Bytes& a, const L7Bytes& b) {
      return a.bytes != b.bytes ? a.bytes > b.bytes : a.name < b.name;
    });
    if (r.top_l7.size() > kTopL7) r.top_l7.resize(kTopL7);
    if (h.duration_count > 0) {
      r.avg_duration_ms =
          static_cast<double>(h.duration_sum_ms) / static_cast<double>(h.duration_count);
    }
    std::sort(h.probes.begin(), h.probes.end());
    r.probes = std::move(h.probes);
    closed_.push_back(std::move(r));
    ++stats_.records;
  };
  std::vector<Window::HostEntry*> sorted;
  sorted.reserve(window.entries.size());
  for (Window::HostEntry& e : window.entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const Window::HostEntry* a, const Window::HostEntry* b) { return a->host < b->host; });
  for (Window::HostEntry* e : sorted) emit(std::move(e->host), e->state);
  if (window.other) {
    emit(std::string(HostRollupRecord::kOtherHost), *window.other);
    stats_.overflow_hosts += window.overflowed.Count();
  }
  ++stats_.windows_closed;
  open_.erase(it);
}

std::vector<HostRollupRecord> HostRollups::TakeClosed() { return std::exchange(closed_, {}); }

std::string ToNdjson(const HostRollupRecord& r) {
  std::string out;
  out += fmt::format(R"({{"window_start":"{}","window_end":"{}","host":)",
                     FormatUtcSeconds(r.window_start_ms), FormatUtcSeconds(r.window_end_ms));
  AppendJsonString(out, r.host);
  out += fmt::format(
      R"(,"flows_as_src":{},"flows_as_dst":{},"bytes_sent":{},"bytes_received":{},)"
      R"("pkts_sent":{},"pkts_received":{},"peers_contacted":{},"peers_contacting":{},)"
      R"("dst_ports_contacted":{},"tcp_syn_only_as_src":{},"top_l7":[)",
      r.flows_as_src, r.flows_as_dst, r.bytes_sent, r.bytes_received, r.pkts_sent,
      r.pkts_received, r.peers_contacted, r.peers_contacting, r.dst_ports_contacted,
      r.tcp_syn_only_as_src);
  for (size_t i = 0; i < r.top_l7.size(); ++i) {
    out += i == 0 ? R"({"name":)" : R"(,{"name":)";
    AppendJsonString(out, r.top_l7[i].name);
    out += fmt::format(R"(,"bytes":{}}})", r.top_l7[i].bytes);
  }
  out += R"(],"avg_duration_ms":)";
  out += r.avg_duration_ms ? fmt::format("{}", *r.avg_duration_ms) : "null";
  out += R"(,"probes":[)";
  for (size_t i = 0; i < r.probes.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(out, r.probes[i]);
  }
  out += fmt::format(
      R"(],"peers_contacted_sketch":"{}","peers_contacting_sketch":"{}",)"
      R"("dst_ports_contacted_sketch":"{}"}})",
      Hex(r.peers_contacted_sketch), Hex(r.peers_contacting_sketch),
      Hex(r.dst_ports_contacted_sketch));
  return out;
}

}  // namespace flowlake
