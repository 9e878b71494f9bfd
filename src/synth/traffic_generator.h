// Synthetic nProbe traffic: the public API of the synth component.
//
//   TrafficConfig config;            // defaults: 100k flows over 2 h
//   config.flows = 1000000;
//   Status st = WriteNprobeJson(config, stdout);
//
// Output is a pure function of the config: the same config gives the same
// bytes on every run and machine (own PRNG, no libm transcendental calls, no
// locale). The flows themselves depend only on flows, seed, start_ms,
// span_ms and probes: key_style and batch_size change how they are written,
// not what they are.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace flowlake::synth {

struct TrafficConfig {
  uint64_t flows = 100000;
  uint64_t seed = 1;
  int64_t start_ms = 1764547200000;   // 2025-12-01T00:00:00Z; fixed so output is reproducible
  int64_t span_ms = 2 * 3600 * 1000;  // start times spread over [start_ms, start_ms + span_ms)
  // kLabels: "IN_BYTES"; kElementIds: "1", "57590" / "35632.57590", some
  // records with integers as strings; kMixed: each record picks one.
  enum class KeyStyle { kLabels, kElementIds, kMixed } key_style = KeyStyle::kLabels;
  uint32_t batch_size = 0;  // 0: NDJSON, one object per line; N > 0: JSON arrays of N flows per line
  uint32_t probes = 3;      // distinct PROBEID values (one site each), 1..64
  // Adds labelled attacks (attack_scenario.h) and benign heavy hitters
  // (heavy_hitter_scenario.h) on top of the `flows` benign flows, merged by
  // start time. Off: output is exactly what it was before attacks existed.
  bool attacks = false;

  // InvalidArgument naming the field and its value when a field is out of
  // range: span_ms in [1 ms, 366 days], start_ms in [0, year 9999),
  // probes in [1, 64], batch_size <= 100000, key_style a known value;
  // with attacks, span_ms >= 2 minutes (attacks need a whole minute).
  Status Validate() const;
};

// Receives output in chunks of whole lines (about 1 MiB each).
using ChunkSink = std::function<Status(std::string_view chunk)>;

// Writes config.flows records, one JSON object (or, in batch mode, one array)
// per line, each line ending in '\n'. Returns Validate()'s error, or the
// first non-OK Status from `sink` (nothing more is written after it).
Status WriteNprobeJson(const TrafficConfig& config, const ChunkSink& sink);
// The same into a stdio stream; IoError if a write fails. Does not close or
// flush `out`.
Status WriteNprobeJson(const TrafficConfig& config, std::FILE* out);

class AttackScenario;
class BenignScenario;
class HeavyHitterScenario;
class Network;
class NprobeJsonEncoder;
class Rng;
struct FlowRecord;
struct ScheduledFlow;

// Produces the records one message at a time, for streaming producers.
//
// Each Next() appends one message (what nProbe would put in one Kafka
// message): one flow object in NDJSON mode, or a JSON array of up to
// batch_size flows in batch mode. No newline. Flows are roughly in start-time
// order, with up to 1.5 s of jitter, as a probe exports them.
//
// Contract: not thread-safe; construction does no I/O. Move-only.
class TrafficGenerator {
 public:
  // `config` must be valid (config.Validate().ok()); an invalid config is a
  // programmer error (asserted). Use Create() for configs from users.
  explicit TrafficGenerator(TrafficConfig config);
  static Result<std::unique_ptr<TrafficGenerator>> Create(TrafficConfig config);
  ~TrafficGenerator();
  TrafficGenerator(TrafficGenerator&&) noexcept;
  TrafficGenerator& operator=(TrafficGenerator&&) noexcept;

  // Appends the next message to `out`; false (and `out` untouched) when all
  // config.flows flows (and, with attacks, the scheduled flows) have been
  // generated.
  bool Next(std::string& out);
  // Flows generated so far (not messages), scheduled ones included.
  uint64_t generated() const { return generated_; }
  const TrafficConfig& config() const { return config_; }

  // The last flow Next() wrote and what produced it ("benign", or a
  // ScheduledFlow label such as "attack.syn_flood"): the per-flow ground
  // truth. Valid until the next call to Next(); nullptr before the first.
  const FlowRecord* last_flow() const { return last_flow_; }
  std::string_view last_scenario() const { return last_scenario_; }
  // The attack schedule (its instances are the ground truth); nullptr
  // without config.attacks.
  const AttackScenario* attacks() const { return attacks_.get(); }

 private:
  bool HasMore();
  void AppendFlow(std::string& out);
  void Encode(const FlowRecord& flow, std::string& out);
  // Start time slot of benign flow number `n`.
  int64_t BenignSlot(uint64_t n) const;

  TrafficConfig config_;
  uint64_t generated_ = 0;
  std::unique_ptr<Network> network_;
  std::unique_ptr<BenignScenario> benign_;
  std::unique_ptr<NprobeJsonEncoder> encoder_;
  std::unique_ptr<Rng> flow_rng_;    // what the flows are
  std::unique_ptr<Rng> format_rng_;  // how they are written: independent, so
                                     // key style never changes the flows
  std::unique_ptr<FlowRecord> record_;
  uint64_t benign_generated_ = 0;
  const FlowRecord* last_flow_ = nullptr;
  std::string_view last_scenario_;

  // With attacks: scheduled flows, loaded one whole minute at a time (only
  // once the previous minute's are all written, and the benign clock has
  // reached the minute), sorted by start time.
  std::unique_ptr<AttackScenario> attacks_;
  std::unique_ptr<HeavyHitterScenario> heavy_hitters_;
  std::vector<ScheduledFlow> pending_;
  size_t pending_next_ = 0;
  int64_t next_window_ms_ = 0;  // the next minute to load
  int64_t end_window_ms_ = 0;   // the first minute not wholly inside the span
};

}  // namespace flowlake::synth
