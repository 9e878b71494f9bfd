// decode_bench: flows/s of NprobeDecoder on realistic nProbe records.
//
// Builds its own input (no files): 10k label-keyed NDJSON records shaped
// like labels.ndjson (45 keys, ~1 KB), the same with NetFlow ids, and the
// same flows as batch-mode arrays of 100. Run a Release build:
//   decode_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "decode/nprobe_decoder.h"

namespace flowlake {
namespace {

class NullSink : public RejectSink {
 public:
  void Reject(const SourcePosition&, std::string_view, std::string_view) override { ++count; }
  uint64_t count = 0;
};

enum class Keys { kLabels, kIds };

std::string MakeRecord(std::mt19937_64& rng, Keys keys) {
  auto k = [keys](const char* label, int id) {
    return keys == Keys::kLabels ? std::string(label) : std::to_string(id);
  };
  auto ip = [&rng] {
    return std::to_string(10 + rng() % 200) + "." + std::to_string(rng() % 256) + "." +
           std::to_string(rng() % 256) + "." + std::to_string(1 + rng() % 254);
  };
  const int64_t start = 1764579600000 + static_cast<int64_t>(rng() % 3600000);
  char buf[4096];
  std::snprintf(
      buf, sizeof(buf),
      R"({"PROBEID":"dc1-probe-a","%s":"192.0.2.10","%s":"00:25:90:D4:CC:F9","%s":"00:00:5E:00:53:01",)"
      R"("%s":3,"%s":7,"%s":0,"%s":"%s","%s":"%s","%s":%d,"%s":443,"%s":"::","%s":"::","%s":4,)"
      R"("%s":6,"%s":"91.126","%s":"TLS.Google","%s":%d,"%s":%d,"%s":%d,"%s":%d,"%s":%lld,"%s":%lld,)"
      R"("%s":27,"%s":27,"%s":26,"%s":0,"%s":63,"%s":64,"%s":0,"%s":1,"%s":0.412,"%s":11.907,)"
      R"("%s":23.5,"%s":"www.google.com","%s":772,"%s":"cd08e31494f9531f560d64c695473da9",)"
      R"("%s":"15af977ce25de452b96affa2addb1036","%s":"","%s":"","%s":"","%s":0,"%s":"GET","FLOW_ID":%d})",
      k("EXPORTER_IPV4_ADDRESS", 130).c_str(), k("IN_SRC_MAC", 56).c_str(),
      k("OUT_DST_MAC", 57).c_str(), k("INPUT_SNMP", 10).c_str(), k("OUTPUT_SNMP", 14).c_str(),
      k("SRC_VLAN", 58).c_str(), k("IPV4_SRC_ADDR", 8).c_str(), ip().c_str(),
      k("IPV4_DST_ADDR", 12).c_str(), ip().c_str(), k("L4_SRC_PORT", 7).c_str(),
      static_cast<int>(1024 + rng() % 60000), k("L4_DST_PORT", 11).c_str(),
      k("IPV6_SRC_ADDR", 27).c_str(), k("IPV6_DST_ADDR", 28).c_str(),
      k("IP_PROTOCOL_VERSION", 60).c_str(), k("PROTOCOL", 4).c_str(), k("L7_PROTO", 57590).c_str(),
      k("L7_PROTO_NAME", 57591).c_str(), k("IN_BYTES", 1).c_str(), static_cast<int>(rng() % 100000),
      k("IN_PKTS", 2).c_str(), static_cast<int>(rng() % 1000), k("OUT_BYTES", 23).c_str(),
      static_cast<int>(rng() % 1000000), k("OUT_PKTS", 24).c_str(), static_cast<int>(rng() % 1000),
      k("FLOW_START_MILLISECONDS", 152).c_str(), static_cast<long long>(start),
      k("FLOW_END_MILLISECONDS", 153).c_str(), static_cast<long long>(start + rng() % 60000),
      k("TCP_FLAGS", 6).c_str(), k("CLIENT_TCP_FLAGS", 57550).c_str(),
      k("SERVER_TCP_FLAGS", 57551).c_str(), k("SRC_TOS", 5).c_str(), k("MIN_TTL", 52).c_str(),
      k("MAX_TTL", 53).c_str(), k("RETRANSMITTED_IN_PKTS", 57581).c_str(),
      k("RETRANSMITTED_OUT_PKTS", 57582).c_str(), k("CLIENT_NW_LATENCY_MS", 57595).c_str(),
      k("SERVER_NW_LATENCY_MS", 57596).c_str(), k("APPL_LATENCY_MS", 57597).c_str(),
      k("TLS_SERVER_NAME", 57660).c_str(), k("TLS_VERSION", 57967).c_str(),
      k("JA3C_HASH", 57961).c_str(), k("JA3S_HASH", 57962).c_str(), k("DNS_QUERY", 57677).c_str(),
      k("HTTP_URL", 57652).c_str(), k("HTTP_HOST", 57659).c_str(), k("ICMP_TYPE", 32).c_str(),
      k("HTTP_METHOD", 57832).c_str(), static_cast<int>(rng() % 1000000));
  return buf;
}

std::string MakeInput(Keys keys, int batch, size_t* flows) {
  std::mt19937_64 rng(42);
  std::string out;
  constexpr int kFlows = 10000;
  for (int i = 0; i < kFlows; ++i) {
    if (batch > 1 && i % batch == 0) out += '[';
    out += MakeRecord(rng, keys);
    if (batch > 1) out += (i % batch == batch - 1) ? "]\n" : ",";
    if (batch <= 1) out += '\n';
  }
  *flows = kFlows;
  return out;
}

// Times `decode_all(decoder, out, sink)`, which must decode `flows` flows.
template <typename DecodeAll>
void Measure(benchmark::State& state, size_t flows, DecodeAll decode_all) {
  NprobeDecoder decoder;
  FlowBatch out;
  NullSink sink;
  out.Reserve(flows);
  for (auto _ : state) {
    out.Clear();
    decode_all(decoder, out, sink);
    benchmark::DoNotOptimize(out.num_rows());
  }
  if (out.num_rows() != flows || sink.count != 0) state.SkipWithError("decoder dropped flows");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * flows));
}

void Run(benchmark::State& state, Keys keys, int batch) {
  size_t flows = 0;
  std::string input = MakeInput(keys, batch, &flows);
  const size_t size = input.size();
  input.append(kDecoderPadding, ' ');
  Measure(state, flows, [&](NprobeDecoder& decoder, FlowBatch& out, NullSink& sink) {
    decoder.DecodeChunk(input.data(), size, input.size(), "bench", 1, 0, out, sink);
  });
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
  state.counters["bytes_per_flow"] = static_cast<double>(size) / static_cast<double>(flows);
}

// The same records, one DecodeMessage() per record, as Kafka delivers them.
void BM_DecodeLabelsMessages(benchmark::State& state) {
  size_t flows = 0;
  const std::string input = MakeInput(Keys::kLabels, 1, &flows);
  std::vector<std::string_view> messages;
  for (size_t pos = 0; pos < input.size();) {
    const size_t nl = input.find('\n', pos);
    messages.emplace_back(input.data() + pos, nl - pos);
    pos = nl + 1;
  }
  Measure(state, flows, [&](NprobeDecoder& decoder, FlowBatch& out, NullSink& sink) {
    uint64_t offset = 0;
    for (std::string_view m : messages) {
      decoder.DecodeMessage(m, SourcePosition{"netflows/0", 0, offset++, -1}, out, sink);
    }
  });
}

void BM_DecodeLabelsNdjson(benchmark::State& state) { Run(state, Keys::kLabels, 1); }
void BM_DecodeIdsNdjson(benchmark::State& state) { Run(state, Keys::kIds, 1); }
void BM_DecodeLabelsBatch100(benchmark::State& state) { Run(state, Keys::kLabels, 100); }
BENCHMARK(BM_DecodeLabelsNdjson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeLabelsMessages)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeIdsNdjson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeLabelsBatch100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace flowlake

BENCHMARK_MAIN();
