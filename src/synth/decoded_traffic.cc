#include "synth/decoded_traffic.h"

#include <string>

#include "core/reject_sink.h"
#include "decode/nprobe_decoder.h"

namespace flowlake::synth {
namespace {

class CountingRejects final : public RejectSink {
 public:
  void Reject(const SourcePosition&, std::string_view, std::string_view) override { ++count; }
  uint64_t count = 0;
};

}  // namespace

DecodedTraffic DecodeTraffic(TrafficGenerator& generator, size_t batch_rows) {
  NprobeDecoder decoder;
  CountingRejects rejects;
  DecodedTraffic out;
  out.batches.emplace_back();
  std::string message;
  while (generator.Next(message)) {
    decoder.DecodeMessage(message, SourcePosition{"synth"}, out.batches.back(), rejects);
    message.clear();
    if (out.batches.back().num_rows() >= batch_rows) out.batches.emplace_back();
  }
  out.rejected = rejects.count;
  return out;
}

}  // namespace flowlake::synth
