// synth_bench [flows] [labels|ids|mixed]: generation speed of WriteNprobeJson
// into a counting sink (no disk), as flows/s and MB/s.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "synth/traffic_generator.h"

int main(int argc, char** argv) {
  using flowlake::synth::TrafficConfig;
  TrafficConfig config;
  config.flows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  if (argc > 2) {
    const std::string_view style = argv[2];
    if (style == "ids") config.key_style = TrafficConfig::KeyStyle::kElementIds;
    if (style == "mixed") config.key_style = TrafficConfig::KeyStyle::kMixed;
  }
  uint64_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  const flowlake::Status st = flowlake::synth::WriteNprobeJson(config, [&](std::string_view chunk) {
    bytes += chunk.size();
    return flowlake::Status::Ok();
  });
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("%llu flows, %.1f MB in %.3f s: %.0f flows/s, %.1f MB/s\n",
              static_cast<unsigned long long>(config.flows), bytes / 1e6, s, config.flows / s, bytes / 1e6 / s);
  return 0;
}
