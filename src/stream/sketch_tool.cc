// flowlake-sketch: serialized distinct counters for given inputs, so that
// tests outside C++ (test/sketch_sql.test.mjs) can check the SQL merge recipe
// of docs/rollup-sketches.md against DistinctCounter::Merge.
//
//   flowlake-sketch [--precision P] [--exact-limit N] SPEC...
//   SPEC = PREFIX:FIRST:END   the values PREFIX + decimal i, FIRST <= i < END,
//                             hashed with HashBytes
//
// Prints one line per SPEC, "<hex of Serialize()>\t<Estimate()>", then
// "merged\t<hex>\t<Estimate()>" for the merge of all of them in order.
// Exit status 2 on bad arguments.
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "stream/distinct_counter.h"
#include "stream/hash.h"

namespace {

bool ParseUint(std::string_view s, uint64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string Hex(std::string_view bytes) {
  std::string out;
  out.reserve(2 * bytes.size());
  for (char c : bytes) out += fmt::format("{:02x}", static_cast<uint8_t>(c));
  return out;
}

int Usage(std::string_view why) {
  fmt::print(stderr,
             "flowlake-sketch: {}\nusage: flowlake-sketch [--precision P] [--exact-limit N] "
             "PREFIX:FIRST:END...\n",
             why);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  flowlake::DistinctCounterConfig config;
  std::vector<std::string_view> specs;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    uint64_t v = 0;
    if ((arg == "--precision" || arg == "--exact-limit") && i + 1 < argc) {
      if (!ParseUint(argv[++i], v) || v > 1u << 20) return Usage("bad number");
      if (arg == "--precision") config.precision = static_cast<int>(v);
      else config.exact_limit = static_cast<uint32_t>(v);
    } else if (arg.starts_with("--")) {
      return Usage(fmt::format("unknown option {}", arg));
    } else {
      specs.push_back(arg);
    }
  }
  if (flowlake::Status st = config.Validate(); !st.ok()) return Usage(st.message());
  if (specs.empty()) return Usage("no SPEC");

  flowlake::DistinctCounter merged(config);
  for (std::string_view spec : specs) {
    const size_t c2 = spec.rfind(':');
    const size_t c1 = c2 == std::string_view::npos ? c2 : spec.rfind(':', c2 - 1);
    uint64_t first = 0, end = 0;
    if (c1 == std::string_view::npos || !ParseUint(spec.substr(c1 + 1, c2 - c1 - 1), first) ||
        !ParseUint(spec.substr(c2 + 1), end) || first > end) {
      return Usage(fmt::format("bad SPEC {}", spec));
    }
    const std::string prefix(spec.substr(0, c1));
    flowlake::DistinctCounter counter(config);
    for (uint64_t v = first; v < end; ++v) {
      counter.Add(flowlake::HashBytes(prefix + std::to_string(v)));
    }
    fmt::print("{}\t{}\n", Hex(counter.Serialize()), counter.Estimate());
    if (flowlake::Status st = merged.Merge(counter); !st.ok()) return Usage(st.message());
  }
  fmt::print("merged\t{}\t{}\n", Hex(merged.Serialize()), merged.Estimate());
  return 0;
}
