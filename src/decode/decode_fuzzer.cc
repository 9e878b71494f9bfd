// libFuzzer target for the nProbe decoder (FLOWLAKE_FUZZ build).
//
// Beyond "does not crash" (ASan + UBSan), it checks the decoder's contracts:
// rows appended == stats.flows, every reject is counted once under one
// reason, every row has src_ip, dst_ip and an in-range start_time, columns
// stay rectangular, duration == end - start. It also cross-checks ParseIpv4
// against inet_pton, FormatIpv6 against inet_ntop, the framer's chunk
// boundaries, and the flat-object fast path against simdjson alone
// (differential oracles).
#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "decode/net_text.h"
#include "decode/nprobe_decoder.h"
#include "decode/record_framer.h"

namespace flowlake {
namespace {

#define FUZZ_CHECK(cond)                                                   \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

class CountingSink : public RejectSink {
 public:
  void Reject(const SourcePosition& pos, std::string_view reason,
              std::string_view record) override {
    ++count;
    FUZZ_CHECK(!reason.empty());
    FUZZ_CHECK(pos.line >= 1 || pos.source == "kafka");
    (void)record.size();
  }
  uint64_t count = 0;
};

uint64_t RejectedSum(const DecoderStats& s) {
  return s.rejected_invalid_json + s.rejected_not_object + s.rejected_missing_fields +
         s.rejected_too_large;
}

void CheckBatch(const FlowBatch& b) {
  const size_t rows = b.num_rows();
  for (size_t c = 0; c < kFlowColumnCount; ++c) FUZZ_CHECK(b.column(c).size() == rows);
  for (size_t r = 0; r < rows; ++r) {
    FUZZ_CHECK(b.column(kSrcIp).IsValid(r) && !b.column(kSrcIp).String(r).empty());
    FUZZ_CHECK(b.column(kDstIp).IsValid(r) && !b.column(kDstIp).String(r).empty());
    FUZZ_CHECK(b.column(kStartTime).IsValid(r));
    FUZZ_CHECK(b.column(kIpVersion).IsValid(r));
    const int64_t start = b.column(kStartTime).Int64(r);
    FUZZ_CHECK(start >= 0 && start <= 253402300799999);
    FUZZ_CHECK(b.column(kL7Master).IsValid(r) == b.column(kL7App).IsValid(r));
    if (b.column(kDurationMs).IsValid(r)) {
      FUZZ_CHECK(b.column(kEndTime).IsValid(r));
      FUZZ_CHECK(b.column(kDurationMs).Int64(r) == b.column(kEndTime).Int64(r) - start);
      FUZZ_CHECK(b.column(kDurationMs).Int64(r) >= 0);
    }
  }
}

void CheckDecode(NprobeDecoder& decoder, const DecoderStats& before, const FlowBatch& batch,
                 const CountingSink& sink) {
  const DecoderStats& after = decoder.stats();
  FUZZ_CHECK(after.flows - before.flows == batch.num_rows());
  FUZZ_CHECK(after.rejected - before.rejected == sink.count);
  FUZZ_CHECK(RejectedSum(after) == after.rejected);
  uint64_t by_column = 0;
  for (uint64_t n : after.field_errors_by_column) by_column += n;
  FUZZ_CHECK(by_column == after.field_errors);
  CheckBatch(batch);
}

void CheckIpv4Differential(std::string_view s) {
  if (s.size() > 20) s = s.substr(0, 20);
  std::string z(s);
  if (z.find('\0') != std::string::npos) return;
  in_addr want;
  const bool pton = inet_pton(AF_INET, z.c_str(), &want) == 1;
  IpAddress got;
  const bool ours = ParseIpv4(s, &got);
  FUZZ_CHECK(ours == pton);
  if (ours) FUZZ_CHECK(std::memcmp(got.bytes, &want, 4) == 0 && got.Text() == s);
}

void CheckIpv6FormatDifferential(std::string_view s) {
  if (s.size() < 16) return;
  IpAddress ip;
  ip.family = 6;
  std::memcpy(ip.bytes, s.data(), 16);
  char want[INET6_ADDRSTRLEN];
  FUZZ_CHECK(inet_ntop(AF_INET6, ip.bytes, want, sizeof(want)) != nullptr);
  FormatIpv6(&ip);
  FUZZ_CHECK(ip.Text() == want);
}

// Every reject, in order, for comparing two decoders.
class RecordingSink : public RejectSink {
 public:
  void Reject(const SourcePosition& pos, std::string_view reason,
              std::string_view record) override {
    log += std::to_string(pos.line) + "/" + std::to_string(pos.offset) + "/" +
           std::to_string(pos.array_index) + ": " + std::string(reason) + " | " +
           std::string(record) + "\n";
  }
  std::string log;
};

bool SameCell(const Column& a, const Column& b, size_t r) {
  if (a.IsValid(r) != b.IsValid(r)) return false;
  if (!a.IsValid(r)) return true;
  switch (a.type()) {
    case ColumnType::kString: return a.String(r) == b.String(r);
    case ColumnType::kBool:
    case ColumnType::kInt32: return a.Int32(r) == b.Int32(r);
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs: return a.Int64(r) == b.Int64(r);
    case ColumnType::kDouble: {
      const double x = a.Double(r), y = b.Double(r);
      return std::memcmp(&x, &y, sizeof x) == 0;
    }
  }
  return false;
}

// The flat-object fast path against simdjson alone: same rows, same
// rejects, same counters.
void CheckFastPathDifferential(std::string_view input) {
  static NprobeDecoder* fast = nullptr;
  static NprobeDecoder* slow = nullptr;
  if (fast == nullptr) {
    DecoderConfig config;
    config.max_record_bytes = 1 << 16;
    fast = new NprobeDecoder(config);
    config.flat_object_fast_path = false;
    slow = new NprobeDecoder(config);
  }
  std::string padded(input);
  padded.append(kDecoderPadding, 'a');  // no stop byte: the scanner must bound itself
  FlowBatch fast_batch, slow_batch;
  RecordingSink fast_sink, slow_sink;
  const DecoderStats fast_before = fast->stats(), slow_before = slow->stats();
  fast->DecodeChunk(padded.data(), input.size(), padded.size(), "fuzz", 1, 0, fast_batch,
                    fast_sink);
  slow->DecodeChunk(padded.data(), input.size(), padded.size(), "fuzz", 1, 0, slow_batch,
                    slow_sink);
  FUZZ_CHECK(fast_sink.log == slow_sink.log);
  FUZZ_CHECK(fast_batch.num_rows() == slow_batch.num_rows());
  for (size_t c = 0; c < kFlowColumnCount; ++c) {
    for (size_t r = 0; r < fast_batch.num_rows(); ++r) {
      FUZZ_CHECK(SameCell(fast_batch.column(c), slow_batch.column(c), r));
    }
  }
  const DecoderStats& f = fast->stats();
  const DecoderStats& s = slow->stats();
  FUZZ_CHECK(f.flows - fast_before.flows == s.flows - slow_before.flows);
  FUZZ_CHECK(f.rejected - fast_before.rejected == s.rejected - slow_before.rejected);
  FUZZ_CHECK(f.unknown_fields - fast_before.unknown_fields ==
             s.unknown_fields - slow_before.unknown_fields);
  for (size_t c = 0; c < kFlowColumnCount; ++c) {
    FUZZ_CHECK(f.field_errors_by_column[c] - fast_before.field_errors_by_column[c] ==
               s.field_errors_by_column[c] - slow_before.field_errors_by_column[c]);
  }
}

}  // namespace
}  // namespace flowlake

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace flowlake;
  static NprobeDecoder* decoder = [] {
    spdlog::set_level(spdlog::level::off);
    DecoderConfig config;
    config.max_record_bytes = 1 << 16;
    return new NprobeDecoder(config);
  }();
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // 1. Zero-copy chunk (padding of garbage bytes).
  {
    std::string padded(input);
    padded.append(kDecoderPadding, '\x7f');
    FlowBatch batch;
    CountingSink sink;
    DecoderStats before = decoder->stats();
    uint64_t newlines = decoder->DecodeChunk(padded.data(), size, padded.size(), "fuzz", 1, 0,
                                             batch, sink);
    FUZZ_CHECK(newlines == static_cast<uint64_t>(std::count(input.begin(), input.end(), '\n')));
    CheckDecode(*decoder, before, batch, sink);
  }
  // 2. Un-padded chunk in an exact-size heap block: ASan catches over-reads.
  {
    auto exact = std::make_unique<char[]>(size == 0 ? 1 : size);
    if (size) std::memcpy(exact.get(), data, size);
    FlowBatch batch;
    CountingSink sink;
    DecoderStats before = decoder->stats();
    decoder->DecodeChunk(exact.get(), size, size, "fuzz", 1, 0, batch, sink);
    CheckDecode(*decoder, before, batch, sink);
  }
  // 3. The whole input as one message.
  {
    FlowBatch batch;
    CountingSink sink;
    DecoderStats before = decoder->stats();
    decoder->DecodeMessage(input, SourcePosition{"kafka", 0, 7, -1}, batch, sink);
    CheckDecode(*decoder, before, batch, sink);
  }
  // 4. Chunk boundary helper: always a line start with '{' or '['.
  {
    size_t b = LastRecordBoundary(input);
    if (b != 0) {
      FUZZ_CHECK(b < size && input[b - 1] == '\n' && (input[b] == '{' || input[b] == '['));
    }
  }
  CheckIpv4Differential(input);
  CheckIpv6FormatDifferential(input);
  CheckFastPathDifferential(input);
  return 0;
}
