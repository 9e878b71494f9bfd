// DecodeTraffic: a generator's nProbe JSON run through the real decoder, as
// FlowBatches. For the tests and benchmarks of what consumes flows
// (detectors, rollups, the analysis stage), so that they see exactly what
// `flowlake ingest` would hand them.
//
// A separate library (fl_synth_decoded) so that fl_synth itself does not
// depend on the decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/flow_schema.h"
#include "synth/traffic_generator.h"

namespace flowlake::synth {

struct DecodedTraffic {
  std::vector<FlowBatch> batches;  // each of `batch_rows` rows, the last one shorter
  uint64_t rejected = 0;           // records the decoder rejected (0 for our generator)
};

// Drains `generator`, one message at a time, into batches of `batch_rows`.
DecodedTraffic DecodeTraffic(TrafficGenerator& generator, size_t batch_rows);

}  // namespace flowlake::synth
