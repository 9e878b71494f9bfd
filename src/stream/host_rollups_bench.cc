// host_rollups_bench: flows/s of HostRollups::Consume on one core.
//
// Input is what the service feeds it: flows from the synthetic generator
// (src/synth: an enterprise network's hosts and services, IPv4 and IPv6,
// many ports and L7 names), encoded as nProbe JSON and decoded by the real
// decoder into FlowBatches of 4096 rows, all before timing starts. One
// iteration consumes every batch into a fresh HostRollups, flushes and
// takes the records, so window closing and record building are timed too.
// Two densities: 200k flows over 10 minutes (~20k flows per window) and
// 200k over 1 minute (every flow in one or two windows, so the per-window
// host tables are at their largest). Run a Release build:
//   host_rollups_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/clock.h"
#include "decode/nprobe_decoder.h"
#include "stream/host_rollups.h"
#include "synth/traffic_generator.h"

namespace flowlake {
namespace {

constexpr size_t kBatchRows = 4096;

class CountingSink : public RejectSink {
 public:
  void Reject(const SourcePosition&, std::string_view, std::string_view) override { ++count; }
  uint64_t count = 0;
};

std::vector<FlowBatch> MakeBatches(uint64_t flows, int64_t span_ms) {
  synth::TrafficConfig config;
  config.flows = flows;
  config.span_ms = span_ms;
  std::string text;
  if (!synth::WriteNprobeJson(config, [&](std::string_view chunk) {
         text += chunk;
         return Status::Ok();
       }).ok()) {
    std::abort();
  }
  NprobeDecoder decoder;
  CountingSink sink;
  std::vector<FlowBatch> batches(1);
  uint64_t offset = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    decoder.DecodeMessage(std::string_view(text).substr(pos, nl - pos),
                          SourcePosition{"bench", 0, offset++, -1}, batches.back(), sink);
    if (batches.back().num_rows() >= kBatchRows) batches.emplace_back();
    pos = nl + 1;
  }
  if (sink.count != 0) std::abort();
  return batches;
}

void Run(benchmark::State& state, int64_t span_ms) {
  const std::vector<FlowBatch> batches = MakeBatches(200'000, span_ms);
  size_t flows = 0;
  for (const FlowBatch& b : batches) flows += b.num_rows();
  ManualClock clock;
  size_t records = 0;
  for (auto _ : state) {
    HostRollups rollups(RollupConfig{}, clock);
    for (const FlowBatch& b : batches) rollups.Consume(b);
    rollups.Flush();
    records = rollups.TakeClosed().size();
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * flows));
  state.counters["records"] = static_cast<double>(records);
  state.counters["flows_per_s"] =
      benchmark::Counter(static_cast<double>(flows), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_Rollups10MinSpread(benchmark::State& state) { Run(state, 10 * 60'000); }
void BM_Rollups1MinDense(benchmark::State& state) { Run(state, 60'000); }

BENCHMARK(BM_Rollups10MinSpread)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Rollups1MinDense)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flowlake

BENCHMARK_MAIN();
