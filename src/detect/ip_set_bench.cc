// ip_set_bench: IpSet::Contains lookups/s over a 100k-entry list.
//
// Builds its own input (no files): 100k random entries shaped like a threat
// feed, half IPv4 and half IPv6, 70% single hosts and the rest /16../31
// (IPv4) or /32../64 (IPv6), so few merge; then looks up random addresses of
// either family, already parsed as the decoder hands them over. Run a Release build:
//   ip_set_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "detect/ip_set.h"

namespace flowlake {
namespace {

constexpr int kEntries = 100'000;

IpAddress RandomAddress(std::mt19937_64& rng, bool v6) {
  IpAddress ip;
  ip.family = v6 ? 6 : 4;
  for (uint8_t& b : ip.bytes) b = static_cast<uint8_t>(rng());
  if (v6) ip.bytes[0] = 0x20;  // global unicast, never IPv4-mapped
  return ip;
}

std::string ListText(std::mt19937_64& rng) {
  std::string text;
  char buf[64];
  for (int i = 0; i < kEntries; ++i) {
    IpAddress ip = RandomAddress(rng, i % 2 == 1);
    if (ip.family == 4) {
      std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u/%d\n", ip.bytes[0], ip.bytes[1], ip.bytes[2],
                    ip.bytes[3], rng() % 10 < 7 ? 32 : 16 + static_cast<int>(rng() % 16));
      text += buf;
    } else {
      FormatIpv6(&ip);
      const uint64_t length = rng() % 10 < 7 ? 128 : 32 + rng() % 33;
      text += std::string(ip.Text()) + "/" + std::to_string(length) + "\n";
    }
  }
  return text;
}

const IpSet& TheSet() {
  static const IpSet set = [] {
    std::mt19937_64 rng(1);
    return std::move(IpSet::Parse(ListText(rng), "bench")).value();
  }();
  return set;
}

void BM_Parse100k(benchmark::State& state) {
  std::mt19937_64 rng(1);
  const std::string text = ListText(rng);
  for (auto _ : state) {
    Result<IpSet> set = IpSet::Parse(text, "bench");
    benchmark::DoNotOptimize(set);
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
}
BENCHMARK(BM_Parse100k)->Unit(benchmark::kMillisecond);

void BM_Contains(benchmark::State& state) {
  const IpSet& set = TheSet();
  const bool v6 = state.range(0) == 6;
  std::mt19937_64 rng(2);
  std::vector<IpAddress> probes;
  for (int i = 0; i < 4096; ++i) probes.push_back(RandomAddress(rng, v6));
  size_t i = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    hits += set.Contains(probes[i++ & 4095]);
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations());
  state.counters["ranges"] =
      static_cast<double>(v6 ? set.stats().ranges_v6 : set.stats().ranges_v4);
  state.counters["hit_rate"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Contains)->Arg(4)->Arg(6);

}  // namespace
}  // namespace flowlake

BENCHMARK_MAIN();
