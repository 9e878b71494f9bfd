// Scenario: a kind of traffic the generator can produce.
//
// The TrafficGenerator owns the clock and the probes: it decides when a flow
// starts and which probe sees it, then asks a scenario what the flow is. The
// benign enterprise mix is one scenario; labelled attacks (port scans, SYN
// floods, DNS tunnels, exfiltration) and benign heavy hitters (a busy web
// server, a backup job) are meant to be further implementations, mixed in by
// the generator with a ground-truth side file naming the scenario of each
// flow.
//
// Contract: Generate() is called from one thread; scenarios may keep state
// between calls (a scan walks through ports) but must draw all randomness
// from `rng` so output stays a pure function of the seed.
#pragma once

#include <cstdint>
#include <string_view>

#include "synth/flow_record.h"
#include "synth/rng.h"

namespace flowlake::synth {

class Scenario {
 public:
  virtual ~Scenario() = default;

  // A short stable name ("benign", later "portscan"), for ground truth.
  virtual std::string_view name() const = 0;

  // Overwrites *flow with a flow seen by `probe` that starts at `start_ms`.
  virtual void Generate(uint32_t probe, int64_t start_ms, Rng& rng, FlowRecord* flow) = 0;
};

}  // namespace flowlake::synth
