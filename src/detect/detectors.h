// Detectors: the nine real-time detections over a stream of flows.
//
// Each detector counts something per key and 1-minute event-time window
// (port_scan.vertical: distinct dst ports of a (src, dst) pair, ...) and
// fires a DetectionEvent the moment the flow that crosses its threshold is
// consumed, not when the window closes: once per detector, key and window,
// and not again for the same key within cooldown_ms of event time. The
// window, watermark, lateness, idle and spreading rules are those of
// HostRollups (docs/rollups.md) with the same config values, so both agree
// on which flows are late. Every detector, its key, evidence and threshold,
// and the event format are in docs/detections.md.
//
// Cost: a batch is read a chunk of rows at a time, column by column (IPs
// parsed once into 16-byte numbers, through a small cache of recent address
// texts), then consumed one flow at a time against open-addressing hash
// tables of fixed-size keys, each flow's slots prefetched a few flows
// ahead; no heap allocation per flow in the steady state (tables grow 4x
// when half full and are freed with their window).
//
// Memory: a window's state is freed when it closes; each detector tracks at
// most max_keys_per_window keys per window (further keys are counted in
// keys_overflow and never fire in that window). The distinct-value sets of
// the scan and volumetric detectors grow by at most threshold values per
// tracked key (a key stops counting once it fires). Tables are 1/8 to 1/2
// full. Besides, a fixed ~1.1 MB cache of parsed address texts.
//
// Byte budget: StateBytes() counts the heap bytes of the state (below);
// with max_state_bytes set, no table grows past the budget and, once the
// state is at or above it, no new key enters any table. Keys already
// tracked keep counting (counts, bytes, packets always; a new distinct
// value only while its "seen" table has room without growing), so an
// attack whose key was tracked before the budget filled still fires. The
// one-flow detectors (blocklist, suspicious_port) are outside the budget:
// their keys are bounded by max_keys_per_window alone, so a listed peer is
// reported even while a flood fills the other tables.
//
// Contract: not thread-safe (one instance per stream, owned by one thread).
// The Clock must outlive the Detectors. The constructor does no I/O and
// asserts config.Validate().ok(): validate the config at start-up.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/flow_schema.h"
#include "core/status.h"
#include "detect/blocklist.h"
#include "detect/ip_set.h"
#include "stream/event_time.h"

namespace flowlake {

struct DetectorConfig {
  // Same meaning and defaults as RollupConfig.
  int64_t window_ms = 60000;
  int64_t lateness_ms = 120000;
  int64_t idle_timeout_ms = 10000;
  int64_t max_spread_ms = 3600000;
  // After a key fires in window W, the same detector and key do not fire
  // for windows starting before W.start + cooldown_ms (event time); those
  // crossings are counted in suppressed_by_cooldown.
  int64_t cooldown_ms = 300000;
  uint32_t max_keys_per_window = 200000;  // per detector and window
  // Budget for StateBytes() without the blocklist and suspicious_port
  // tables; 0: no limit. When a table would have to grow past it, the key
  // or distinct value that needed the room is refused; while the budgeted
  // state is at or above max_state_bytes no new key enters those tables.
  // Refusals are counted in keys_over_memory. Any value is valid (a table's
  // first allocation is 0.8 to 2.6 KB: a budget of a few KB tracks little).
  uint64_t max_state_bytes = 0;
  // CIDRs of "inside": exfiltration sources, suspicious_port's outside.
  std::vector<std::string> local_networks = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                             "fc00::/7"};
  std::string blocklist_path;  // empty: the blocklist detector is off
  int64_t blocklist_check_interval_ms = 5000;

  uint32_t vertical_scan_ports = 100;   // (src, dst): distinct dst ports
  uint32_t horizontal_scan_hosts = 64;  // (src, dst_port): distinct dsts
  uint32_t syn_flood_flows = 256;       // dst: TCP flows with SYN and without ACK
  // dst: bytes*8/window_s >= bps or pkts/window_s >= pps, from >= sources
  // distinct srcs.
  double volumetric_bps = 1e9;
  double volumetric_pps = 20000;
  uint32_t volumetric_sources = 10;
  double icmp_flood_pps = 250;  // dst: ICMP/ICMPv6 packets/window_s
  // (src, registered domain): queries with a label longer than
  // dns_long_label, or of >= 20 chars and >= dns_entropy_bits bits/char.
  uint32_t dns_tunnel_queries = 50;
  uint32_t dns_long_label = 52;
  double dns_entropy_bits = 4.0;
  uint64_t exfiltration_bytes = 1000000000;             // src inside: in_bytes to outside
  std::vector<int> suspicious_ports = {23, 445, 3389};  // from outside

  // InvalidArgument naming the field: window_ms > 0, lateness_ms >= 0,
  // idle_timeout_ms >= 0, max_spread_ms in [0, 1 day], cooldown_ms >= 0,
  // blocklist_check_interval_ms >= 0, every count threshold > 0, every rate
  // threshold finite and > 0, dns_entropy_bits in (0, 8], ports in
  // [0, 65535], and every local_networks entry a valid CIDR or address.
  Status Validate() const;
};

enum class DetectionType : uint8_t {
  kPortScanVertical,
  kPortScanHorizontal,
  kSynFlood,
  kVolumetric,
  kIcmpFlood,
  kBlocklist,
  kDnsTunnel,
  kExfiltration,
  kSuspiciousPort,
  kCount,
};
inline constexpr size_t kDetectionTypeCount = static_cast<size_t>(DetectionType::kCount);

// "port_scan.vertical", "syn_flood", ...
std::string_view DetectionTypeName(DetectionType type);

struct DetectionEvent {
  // 16 lowercase hex digits: a hash of type, window_start and the keys, so
  // the same detection has the same id whatever the flow order or process.
  std::string id;
  std::string type;      // DetectionTypeName()
  std::string severity;  // "low", "medium", "high" or "critical" (fixed per type)
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  int64_t detected_at_ms = 0;  // Clock::WallMs() when it fired
  // The host an operator looks at first, the Kafka message key: the victim
  // (dst) for syn_flood, volumetric, icmp_flood and suspicious_port; the src
  // for scans, dns_tunnel and exfiltration; for blocklist the peer of the
  // listed address (the src when both are listed).
  std::string key_host;
  std::string json;  // the whole event, one JSON object, no newline
};

struct DetectorStats {
  uint64_t flows = 0;                // rows consumed
  uint64_t flows_without_start = 0;  // null start_time: dropped
  uint64_t late_flows = 0;           // start window already closed: ignored
  uint64_t events = 0;
  uint64_t suppressed_by_cooldown = 0;
  uint64_t keys_overflow = 0;  // keys not tracked: max_keys_per_window reached
  // Keys and distinct values (scan ports and hosts, volumetric sources) not
  // tracked for max_state_bytes. A refusal counts once: in keys_overflow
  // when the table already holds max_keys_per_window keys, else here. Not
  // in state snapshots (format version 1 predates it).
  uint64_t keys_over_memory = 0;
  uint64_t windows_closed = 0;
  uint64_t events_by_type[kDetectionTypeCount] = {};
  uint64_t unparsed_ips = 0;         // src/dst text that is not an address: that side skipped
  uint64_t blocklist_reloads = 0;    // from the Blocklist's counters
  uint64_t blocklist_errors = 0;     // failed MaybeReload() checks
  int64_t watermark_ms = INT64_MIN;  // INT64_MIN until the first flow
  uint64_t idle_advances = 0;        // Tick() calls that moved the watermark
};

class Detectors {
 public:
  Detectors(DetectorConfig config, const Clock& clock);
  ~Detectors();
  Detectors(const Detectors&) = delete;
  Detectors& operator=(const Detectors&) = delete;

  // Loads the blocklist if blocklist_path is set. Errors (the path in the
  // message): IoError if it cannot be read, InvalidArgument if no line of it
  // is an address or CIDR. OK with nothing to do otherwise.
  Status Start();
  // Instead of Start(), for a state built to replace `from`'s: moves
  // `from`'s blocklist (the list loaded and the file's reloader, with its
  // counters) into this one. `from` is left without a blocklist.
  void TakeBlocklist(Detectors& from);
  // Every row of `batch`, in row order, advancing the watermark after each.
  // Events fired are queued for TakeEvents(). Checks the blocklist file
  // (Blocklist::MaybeReload) at most once per call; a failed reload keeps
  // the old list and is counted.
  void Consume(const FlowBatch& batch);
  // If no flow arrived for idle_timeout_ms (monotonic clock), advances the
  // watermark as HostRollups::Tick() does and closes the windows it passes.
  void Tick();
  // End of input: closes every open window and frees its state.
  void Flush();
  // Events fired so far, in firing order; the queue is emptied.
  std::vector<DetectionEvent> TakeEvents();

  // The analysis state as bytes (format: docs/detections.md, "State
  // snapshots"): every open window's tables (counts, distinct-value sets,
  // fired markers, evidence samples), the cooldowns, the watermark and max
  // start seen, and the counters of stats() except blocklist_reloads (the
  // Blocklist's own). Not the queued events: take them first. Linear in the
  // state; the only allocation is the returned string. The same state
  // gives the same bytes.
  std::string SaveState() const;
  // Merges a SaveState() of a Detectors with the same config into this one:
  // for the same window and key, counts add (distinct counts as the union of
  // the two distinct-value sets), samples are the smallest of both, fired
  // markers OR; cooldowns keep the later window; watermark and max start
  // are the max, and the windows the merged watermark closes are closed.
  // Merging into a Detectors that has consumed nothing restores the saved
  // one exactly: it then fires what the saved one would have.
  //
  // A merge never fires. A key that the merge puts at or above its
  // threshold although neither side had fired it fires on the next flow
  // that counts for it (a new distinct value for the scans and volumetric
  // sources, a matching flow for the others), in the window the merge left
  // open, if the cooldown allows. Keys beyond max_keys_per_window are dropped
  // and counted in keys_overflow. The idle clock restarts at the merge.
  //
  // Errors, with nothing merged: Corruption naming what is wrong and the
  // byte offset (bad magic, unknown version, truncation, a value out of
  // range, trailing bytes); InvalidArgument if the state was saved with
  // another window_ms. Never reads outside `bytes`.
  [[nodiscard]] Status MergeState(std::string_view bytes);

  // The heap bytes held by the analysis state, kept up to date as tables
  // grow and are freed (O(1)). Counts every open window's hash tables
  // (capacity x (slot + 1 control byte), "seen" tables included, whether
  // used or not; volumetric's (dst, src) pairs of two IPv4 addresses are
  // 8-byte slots without control bytes) and its header, the cooldown map
  // nodes and the queued events (each event's struct and string buffers). Not counted: allocator
  // overhead and free space, the vector slack of the event queue, and the
  // fixed buffers allocated once (the ~1.1 MB address cache, the ~0.2 MB
  // chunk of parsed rows). 0 for a new Detectors, and again once every
  // window has closed, the cooldowns have expired and the events are taken.
  //
  // With max_state_bytes set, tables never take it past the budget: the
  // overshoot is only the parts that are not refused, i.e. a window's
  // ~0.5 KB header as a window opens, ~80 bytes per cooldown entry and
  // ~1 KB per queued event (both bounded by the events fired). While a
  // table grows, the allocator briefly holds its old slots too (up to 1/4
  // of the new size more). MergeState() does not apply the budget (a
  // restore is exact): a merged state above it refuses new keys until
  // enough windows close.
  uint64_t StateBytes() const;

  const DetectorStats& stats() const { return stats_; }
  const DetectorConfig& config() const { return config_; }

 private:
  struct Row;
  struct Window;
  struct Cooldowns;
  class AddressCache;
  class StateMeter;

  // Rows are read a chunk at a time into rows_, then consumed one by one.
  static constexpr size_t kChunkRows = 1024;
  static constexpr size_t kPrefetchRows = 4;
  void ReadRows(const FlowBatch& batch, size_t first, size_t count);
  void PrefetchRow(const Row& r) const;
  void ConsumeRow(const Row& r, uint32_t source);
  // The window starting at window_start_ms, opened if need be; the last
  // one is cached (most flows'), the rest is OpenWindow()'s, out of line.
  Window& WindowAt(int64_t window_start_ms);
  Window& OpenWindow(int64_t window_start_ms);
  // Frees the windows the watermark has closed.
  void CloseWindows();
  // MergeState's decoder: with apply == false only checks `bytes`; with
  // apply == true (bytes already checked) merges them.
  Status ReadState(std::string_view bytes, bool apply);

  // The counts of a flow's start window; its byte/packet share of a window.
  void CountRow(const Row& r, int64_t window_start_ms, Window& w);
  void AddShare(const Row& r, int64_t window_start_ms, Window& w, int64_t bytes, int64_t pkts);
  // max_keys_per_window, or 0 (find only) while StateBytes() is at or above
  // max_state_bytes.
  size_t KeyLimit() const;
  // FindOrInsert of `key` (whose HashKey() is `hash`) in one of a window's
  // budgeted tables, with `limit` = KeyLimit() taken once per flow. A
  // refused key is counted: keys_overflow at max_keys_per_window, else
  // keys_over_memory.
  template <typename Table, typename Key>
  auto* Track(Table& table, const Key& key, uint64_t hash, size_t limit, bool* inserted);
  // The cooldown check, then the event; false if suppressed. `key` is the
  // detector's table key (ids and cooldowns hash it).
  bool Fire(DetectionType type, const Row& r, int64_t window_start_ms,
            const std::array<uint64_t, 5>& key, std::string evidence, std::string threshold);

  DetectorConfig config_;
  const Clock& clock_;
  EventTimeWatermark watermark_;  // and the largest start seen, for SaveState()
  IpSet local_;
  std::unique_ptr<Blocklist> blocklist_;
  std::shared_ptr<const IpSet> blocklist_set_;
  DetectorStats stats_;
  // StateBytes() and the budget; declared before the state it measures,
  // whose tables report to it until they are freed.
  std::unique_ptr<StateMeter> meter_;
  std::unique_ptr<StateMeter> exempt_meter_;  // blocklist and suspicious_port tables
  std::map<int64_t, std::unique_ptr<Window>> open_;  // by window start
  Window* cached_window_ = nullptr;                  // the last WindowAt(), most flows' window
  int64_t cached_window_start_ms_ = 0;
  std::unique_ptr<Cooldowns> cooldowns_;
  std::unique_ptr<AddressCache> addresses_;  // parsed src/dst text, for the current blocklist
  std::vector<DetectionEvent> events_;
  uint64_t events_bytes_ = 0;  // events_' share of StateBytes()
  std::vector<Row> rows_;  // kChunkRows, reused by every Consume()
  std::string domain_;  // the lower-cased registered domain of the current row
};

}  // namespace flowlake
