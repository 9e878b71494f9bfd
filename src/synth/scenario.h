// Scenario: a kind of traffic the generator can produce.
//
// The TrafficGenerator owns the clock and the probes: it decides when a flow
// starts and which probe sees it, then asks a scenario what the flow is. The
// benign enterprise mix is such a scenario.
//
// Traffic that comes in bursts bound to a minute (labelled attacks in
// attack_scenario.h, benign heavy hitters in heavy_hitter_scenario.h) does
// not fit "one flow at a time": those produce ScheduledFlows per one-minute
// window, which the generator merges into the benign stream by start time.
//
// Contract: Generate() is called from one thread; scenarios may keep state
// between calls (a scan walks through ports) but must draw all randomness
// from `rng` so output stays a pure function of the seed.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

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

// A flow produced ahead of time, with the name of what produced it
// ("benign.web_server", "attack.syn_flood"): the per-flow label.
struct ScheduledFlow {
  FlowRecord flow;
  std::string_view scenario;  // static storage
};

}  // namespace flowlake::synth
