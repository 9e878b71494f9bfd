// HostRollups: event-time 1-minute tumbling windows of per-host traffic.
//
// Flows are windowed by their start_time. The watermark is the largest
// start_time seen minus `lateness_ms` (per source, the smallest counting,
// when batches name their sources: EventTimeWatermark), advanced flow by
// flow in stream order (never per batch), so the output does not depend on
// how the stream is cut into batches. A window [start, end) is closed, once, when the watermark
// reaches `end`; its records are then queued for TakeClosed(). Tick() lets an
// idle stream close its windows by wall time. A late flow (its start window
// closed) is dropped or, under LatePolicy::kCorrection, becomes correction
// records for the closed windows. The rules (lateness, late flows, idle
// advance, spreading of long flows, the host cap, the byte budget) are in
// docs/rollups.md.
//
// Contract: not thread-safe (one instance per stream, owned by one thread).
// The Clock must outlive the HostRollups. The constructor does no I/O and
// asserts config.Validate().ok(): validate the config at start-up.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/flow_schema.h"
#include "core/status.h"
#include "stream/distinct_counter.h"
#include "stream/event_time.h"

namespace flowlake {

struct RollupConfig {
  // What becomes of a late flow's contributions to closed windows
  // (docs/rollups.md, "Late flows"): dropped, or accumulated per closed window
  // and host and emitted as correction records (partial records that add up
  // with the window's original records).
  enum class LatePolicy : uint8_t { kDrop, kCorrection };

  int64_t window_ms = 60000;
  // How far behind the largest start_time seen a flow may start and still be
  // counted.
  int64_t lateness_ms = 120000;
  // Tick() advances the watermark by wall time only once no flow has arrived
  // for this long.
  int64_t idle_timeout_ms = 10000;
  // Hosts with their own record per window; further hosts share the "other"
  // record.
  uint32_t max_hosts_per_window = 100000;
  // A flow longer than this is not spread: all of it goes to its start
  // window (a bound on the windows one flow can open).
  int64_t max_spread_ms = 3600000;
  DistinctCounterConfig distinct;
  LatePolicy late_policy = LatePolicy::kDrop;
  // kCorrection: contributions to a closed window that ended at or before
  // watermark - correction_horizon_ms are dropped, not corrected (bounds the
  // correction table to this much event time).
  int64_t correction_horizon_ms = 86400000;
  // A budget for StateBytes(), 0 for none. Once admitting a host that is not
  // yet in a window would take StateBytes() to or past it (with what the
  // admission allocates: see StateBytes()), that host and every later new
  // host of the window go to its "other" record, as past
  // max_hosts_per_window; hosts already in the window keep their own
  // records, exact. Any value is valid.
  uint64_t max_state_bytes = 0;

  // InvalidArgument naming the field unless window_ms > 0, lateness_ms >= 0,
  // idle_timeout_ms >= 0, max_hosts_per_window > 0, max_spread_ms in [0, 1
  // day], correction_horizon_ms in [0, 366 days] and distinct validates.
  Status Validate() const;
};

struct L7Bytes {
  std::string name;
  int64_t bytes = 0;
  friend bool operator==(const L7Bytes&, const L7Bytes&) = default;
};

// One host in one closed window. "as src"/"as dst" is the host's side of the
// flow; sketches are DistinctCounter::Serialize() bytes, mergeable across
// records of the same host and window (docs/rollup-sketches.md).
struct HostRollupRecord {
  static constexpr std::string_view kOtherHost = "other";

  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  std::string host;  // the IP as in the flow, or kOtherHost
  int64_t flows_as_src = 0;
  int64_t flows_as_dst = 0;
  int64_t bytes_sent = 0;  // in_bytes as src + out_bytes as dst (spread)
  int64_t bytes_received = 0;
  int64_t pkts_sent = 0;
  int64_t pkts_received = 0;
  uint64_t peers_contacted = 0;  // distinct dst IPs, as src
  uint64_t peers_contacting = 0;  // distinct src IPs, as dst
  uint64_t dst_ports_contacted = 0;  // distinct dst ports, as src
  std::string peers_contacted_sketch;
  std::string peers_contacting_sketch;
  std::string dst_ports_contacted_sketch;
  int64_t tcp_syn_only_as_src = 0;
  std::vector<L7Bytes> top_l7;  // at most 5, bytes descending, then name
  // Mean duration of the flows starting in this window with the host on
  // either side (a flow counts once if src == dst); nullopt if none had one.
  std::optional<double> avg_duration_ms;
  std::vector<std::string> probes;  // distinct, ascending
  // A correction record: the contributions of late flows to a window already
  // emitted, to be added to (merged with) its earlier records.
  bool correction = false;

  friend bool operator==(const HostRollupRecord&, const HostRollupRecord&) = default;
};

struct RollupStats {
  uint64_t flows = 0;               // rows consumed
  uint64_t flows_without_start = 0;  // null start_time: dropped
  uint64_t late_flows = 0;          // start window already closed
  // Late flows whose start-window counts were dropped: all of them under
  // kDrop; under kCorrection, those past correction_horizon_ms.
  uint64_t late_dropped = 0;
  int64_t late_bytes = 0;           // byte shares for closed windows: dropped
  int64_t late_pkts = 0;
  uint64_t long_flows_unspread = 0;  // longer than max_spread_ms
  uint64_t windows_closed = 0;
  uint64_t records = 0;             // records queued for TakeClosed()
  uint64_t corrections_emitted = 0;  // of which correction records
  // Distinct hosts folded into "other" (exact up to the DistinctCounter
  // bound per window, then estimated), summed over closed windows.
  uint64_t overflow_hosts = 0;
  int64_t watermark_ms = INT64_MIN;  // INT64_MIN until the first flow
  uint64_t idle_advances = 0;        // Tick() calls that moved the watermark
  // Windows (open or correction windows, each counted when emitted) that sent
  // at least one host to "other" for max_state_bytes rather than for the
  // host cap; those hosts are in overflow_hosts. Not part of snapshots: it
  // counts what this process did.
  uint64_t windows_over_memory = 0;
};

class HostRollups {
 public:
  HostRollups(RollupConfig config, const Clock& clock);
  ~HostRollups();
  HostRollups(const HostRollups&) = delete;
  HostRollups& operator=(const HostRollups&) = delete;

  // Adds every row of `batch`, in row order, advancing the watermark after
  // each row: per source, if the batch names its rows' sources (Kafka
  // partitions: see EventTimeWatermark). Null src/dst IP: that side is
  // skipped; null counters count 0.
  void Consume(const FlowBatch& batch);
  // Sources idle for idle_timeout_ms (monotonic clock) stop holding the
  // watermark back; if no flow arrived at all for that long, advances the
  // watermark to last_start + (now - last_arrival) - lateness_ms. Closes the
  // windows it passes and, when idle, emits the pending corrections.
  void Tick();
  // End of input: closes every open window and emits the pending
  // corrections.
  void Flush();
  // The records queued so far; the queue is emptied. Records are queued in
  // steps: each time the watermark closes windows (or Tick() finds the stream
  // idle, or Flush()), first the pending correction records, then the records
  // of the windows just closed; within a step, by window_start then host
  // ("other" last in its window). A correction record always follows the
  // original records of its window, and the same late contribution is never
  // emitted twice.
  std::vector<HostRollupRecord> TakeClosed();

  // The state as bytes, in a versioned binary format of our own
  // (docs/rollups.md): the open windows with every host's counters, distinct
  // counters, L7 bytes, probes and duration sums and counts; the pending
  // corrections, likewise; the watermark, the largest start_time seen, and
  // the counters of stats(). Records already queued for TakeClosed() are not
  // part of it: take (and commit) them first.
  std::string SaveState() const;
  // Merges a SaveState() of another (or the same) HostRollups with the same
  // config into this one. Windows with the same start add their sums and
  // merge their distinct counters, L7 bytes, probes and duration sums and
  // counts, and so do pending corrections of the same window (emitted with
  // the next step, whatever the horizon); the watermark and the largest
  // start_time become the max of both, and windows the merged watermark has
  // passed are closed (their records queued) as by Consume(); the host cap
  // still holds (hosts past it go to "other"), max_state_bytes does not (the
  // snapshot's hosts were admitted under it; later hosts are admitted against
  // the StateBytes() after the merge). The counters of stats() add up
  // (watermark_ms: the max; windows_over_memory is not in snapshots). The
  // idle clock restarts: the last arrival is now. Version 1 snapshots
  // (before corrections) are read as having none.
  // Errors, with *this unchanged: Corruption naming what is wrong (bad
  // magic, unknown version, truncation, a bad value or sketch, a correction
  // of a window the snapshot had not closed, trailing bytes);
  // InvalidArgument if the snapshot's window_ms or distinct counter config
  // differ from this config. Bad bytes never crash nor read out of bounds.
  [[nodiscard]] Status MergeState(std::string_view bytes);

  // An approximate count of the heap bytes held by the state: per open or
  // correction window, its map node, its host entries (allocated in chunks
  // of 128 to 4096 entries of 384 bytes; a chunk counts whole from its
  // allocation), its host table (16 bytes a slot, at most half full), host
  // names longer than the inline string buffer, every DistinctCounter's
  // table or HyperLogLog (DistinctCounter::HeapBytes()), the L7 and probe
  // lists past two entries, and its interned names; plus the records queued
  // for TakeClosed() (the vector and their strings). Not counted: allocator
  // overhead per block (~8-16 bytes), the per-batch scratch of Consume() (16
  // bytes a row), sizeof(HostRollups). Kept current as the state changes,
  // O(1) per flow; 0 once every window is emitted and the records taken.
  // A state restored by MergeState() counts what the saved one did (records
  // aside), less any interned name that no host used (a flow with neither
  // address), which snapshots do not keep.
  //
  // With max_state_bytes, a host is admitted to a window only if StateBytes()
  // plus what admitting it allocates (a new chunk of entries, up to 1.5 MiB;
  // a doubling of the host table; its name) stays within the budget, so
  // host admissions never pass it. What admitted state allocates later can: the
  // counters of admitted hosts and of "other" (each up to 2^precision + 32
  // bytes, 4 KiB at the default precision, three per host), L7 and probe
  // lists, new names, new windows' map nodes (~600 bytes), and closed records
  // until TakeClosed(). With most hosts seeing few peers and ports this is a
  // few percent of the budget; the worst case is ~12 KiB per admitted host.
  uint64_t StateBytes() const { return state_bytes_; }
  // StateBytes() counted afresh by walking every window, host and record:
  // O(state). Equal to StateBytes(); for tests and diagnostics.
  uint64_t CountStateBytes() const;

  const RollupStats& stats() const { return stats_; }
  const RollupConfig& config() const { return config_; }

 private:
  struct HostKey;
  class NameTable;
  struct HostState;
  struct Window;
  // A host's state in a window (its own, or "other" past the host cap) and
  // the HashBytes() of its address.
  struct HostRef {
    HostState* state = nullptr;
    uint64_t text_hash = 0;
  };

  // Row `row` of the batch Consume() is at, of `source`: key_hashes_ holds
  // its keys.
  void ConsumeRow(const FlowBatch& batch, size_t row, uint32_t source);
  // Find-or-insert of the host `key` in `window`, or "other" if the window
  // is at the host cap or, with `apply_budget`, admitting the host would
  // pass max_state_bytes.
  HostRef HostIn(Window& window, const HostKey& key, bool apply_budget = true);
  // Adds `delta` heap bytes to `window`'s count and to state_bytes_.
  void Charge(Window& window, int64_t delta);
  // Sets every window's count and state_bytes_ by walking the state.
  void RecountStateBytes();
  Window& WindowAt(int64_t window_start_ms);
  // Where a contribution to the window starting at `window_start_ms` goes:
  // the open window, the correction window if it is closed and corrections
  // are kept, or null (dropped).
  Window* TargetWindow(int64_t window_start_ms);
  void AdvanceWatermark(int64_t watermark_ms);
  // After watermark_ moved: mirrors it in stats_ and closes what it passed.
  void WatermarkMoved();
  // Queues the records of `window` (correction records if `correction`).
  void EmitWindow(int64_t window_start_ms, Window& window, bool correction);
  void CloseWindow(std::map<int64_t, Window>::iterator it);
  // Queues every pending correction, by window, and empties the table.
  void EmitCorrections();
  // Closes every open window that ends at or before the watermark, after
  // emitting the pending corrections if any window closes.
  void CloseWindowsPassed();

  RollupConfig config_;
  const Clock& clock_;
  RollupStats stats_;
  std::map<int64_t, Window> open_;  // by window start
  // The open window WindowAt() returned last (null once it closed).
  Window* last_window_ = nullptr;
  int64_t last_window_start_ms_ = 0;
  // The window [lo, hi) the last flow started in (none at first).
  int64_t start_window_lo_ms_ = 1;
  int64_t start_window_hi_ms_ = 0;
  // Pending corrections, by (closed) window start; emptied at every step.
  std::map<int64_t, Window> corrections_;
  std::vector<HostRollupRecord> closed_;
  // KeyHash() of the src and dst address of each row of the batch being
  // consumed (0 if null): 2 * row and 2 * row + 1.
  std::vector<uint64_t> key_hashes_;
  // The watermark (stats_.watermark_ms mirrors it), per source.
  EventTimeWatermark watermark_;
  // StateBytes(): the windows' counts plus closed_bytes_.
  uint64_t state_bytes_ = 0;
  uint64_t closed_bytes_ = 0;  // of closed_ and its records
};

// One JSON object, no trailing newline: timestamps as "2025-12-01T00:07:00Z",
// top_l7 as [{"name":..,"bytes":..}], sketches as lowercase hex, a missing
// avg_duration_ms as null; ,"correction":true last, for correction records
// only (so that other records are as they always were).
std::string ToNdjson(const HostRollupRecord& record);

// Where AppendNdjson() put the JSON texts that the Parquet rollups store as
// they are: offsets into the output string, [begin, end).
struct RollupNdjsonSpans {
  struct Span {
    size_t begin = 0;
    size_t end = 0;
  };
  Span top_l7;   // the array, brackets included
  Span probes;   // the array, brackets included
  Span peers_contacted_sketch;  // the hex digits, without quotes
  Span peers_contacting_sketch;
  Span dst_ports_contacted_sketch;
};

// Appends ToNdjson(record) to *out (no newline); with `spans`, records where
// the texts above are in *out. The fast path for writers: no temporary
// strings, no reparsing.
void AppendNdjson(const HostRollupRecord& record, std::string* out,
                  RollupNdjsonSpans* spans = nullptr);

}  // namespace flowlake
