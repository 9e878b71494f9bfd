// detectors_bench: Detectors::Consume flows/s on realistic decoded traffic.
//
// Input: `flowlake generate --attacks`-style synthetic traffic (benign mix,
// heavy hitters and every attack pattern), 5k flows a minute over 40 minutes,
// decoded once into 1000-row FlowBatches. Each iteration runs a fresh
// Detectors (blocklist on) over all of it and flushes, so window opening,
// growth and closing are all in the measure. Run a Release build:
//   detectors_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "detect/detectors.h"
#include "synth/attack_scenario.h"
#include "synth/decoded_traffic.h"
#include "synth/traffic_generator.h"

namespace flowlake {
namespace {

const std::vector<FlowBatch>& Batches() {
  static const std::vector<FlowBatch> batches = [] {
    synth::TrafficConfig traffic;
    traffic.attacks = true;
    traffic.span_ms = 40 * 60000;
    traffic.flows = 200000;
    synth::TrafficGenerator generator(traffic);
    return synth::DecodeTraffic(generator, 1000).batches;
  }();
  return batches;
}

void BM_Consume(benchmark::State& state) {
  const std::vector<FlowBatch>& batches = Batches();
  size_t rows = 0;
  for (const FlowBatch& b : batches) rows += b.num_rows();
  const std::string blocklist =
      (std::filesystem::temp_directory_path() / ("detectors_bench_" + std::to_string(getpid())))
          .string();
  std::ofstream(blocklist) << synth::AttackScenario::BlocklistText();
  ManualClock clock(1796415667123);
  uint64_t events = 0;
  for (auto _ : state) {
    DetectorConfig config;
    config.blocklist_path = blocklist;
    Detectors detectors(config, clock);
    if (!detectors.Start().ok()) state.SkipWithError("blocklist");
    for (const FlowBatch& b : batches) detectors.Consume(b);
    detectors.Flush();
    events += detectors.TakeEvents().size();
  }
  std::filesystem::remove(blocklist);
  state.SetItemsProcessed(static_cast<int64_t>(rows) * state.iterations());
  state.counters["events_per_run"] =
      static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Consume)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flowlake

BENCHMARK_MAIN();
