// NprobeDecoder: nProbe JSON flow records -> rows of a FlowBatch.
//
// Accepts, mixed in one stream: one JSON object per line (NDJSON), JSON
// arrays of flow objects (nProbe's batch Kafka mode), pretty-printed records
// (see record_framer.h), and keys as labels, element ids or
// enterprise-qualified ids (see nprobe_fields.h). docs/schema.md documents
// the column mapping and the null/enrichment rules.
//
// Error model ("nothing good around a bad record is lost"):
//  * A field whose value has the wrong type or is out of range becomes null;
//    it is counted per column and logged at a limited rate.
//  * A record that is not valid JSON, is not an object, or lacks a source
//    address, a destination address or a valid start time is rejected: one
//    RejectSink::Reject() call with its position, a reason naming the field
//    and value, and its raw text. Inside an array each non-object or
//    incomplete element is rejected alone and its siblings are kept; an
//    array with no object element at all (`[1,2,3]`) is one rejected record;
//    an array
//    that is not valid JSON as a whole is rejected whole (its raw text goes
//    to the sink, so nothing is lost).
//  * No input makes the decoder crash, throw or abort (fuzzed).
//
// Thread-safety: none. Use one decoder per thread; merge stats with
// DecoderStats::Add().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/flow_schema.h"
#include "core/reject_sink.h"
#include "core/status.h"

namespace flowlake {

// Readable bytes DecodeChunk() needs after the end of a chunk for zero-copy
// decoding (simdjson::SIMDJSON_PADDING). Their values do not matter.
inline constexpr size_t kDecoderPadding = 64;

struct DecoderConfig {
  // Larger records are rejected without being parsed.
  size_t max_record_bytes = size_t{16} << 20;
  // Rate limit of warning logs (rejects and field errors; each has its own
  // budget). Everything is counted regardless.
  double log_per_second = 5;
  double log_burst = 10;
  // Decode flat objects of plain values (the usual nProbe record) with a
  // single scan instead of simdjson. Same results either way; false sends
  // every record through simdjson (for differential tests and the fuzzer).
  bool flat_object_fast_path = true;

  // InvalidArgument if max_record_bytes is 0 or above 4 GiB - 1, or a log
  // rate is negative or not finite.
  Status Validate() const;
};

// Counters. `records` counts framed records (lines, or documents); an array
// record can yield many flows and many rejects. unknown_fields and
// field_errors count only within objects that became flows (a rejected
// record's problems are described by its reject reason).
struct DecoderStats {
  uint64_t records = 0;
  uint64_t flows = 0;
  uint64_t rejected = 0;  // = sum of the rejected_* below
  uint64_t rejected_invalid_json = 0;
  uint64_t rejected_not_object = 0;
  uint64_t rejected_missing_fields = 0;  // no src/dst address or no valid start time
  uint64_t rejected_too_large = 0;
  uint64_t unknown_fields = 0;
  uint64_t field_errors = 0;  // = sum of field_errors_by_column
  std::array<uint64_t, kFlowColumnCount> field_errors_by_column{};

  void Add(const DecoderStats& other);
};

class NprobeDecoder {
 public:
  // Throws std::invalid_argument if !config.Validate().ok() (configuration
  // errors are start-up errors). Does no I/O.
  explicit NprobeDecoder(DecoderConfig config = {});
  ~NprobeDecoder();
  NprobeDecoder(const NprobeDecoder&) = delete;
  NprobeDecoder& operator=(const NprobeDecoder&) = delete;

  // Decodes every record of the chunk [data, data + size), appending one row
  // per good flow to `out` and sending bad records to `rejects`.
  //
  // Zero-copy when `capacity` >= size + kDecoderPadding, i.e. the bytes
  // [data + size, data + capacity) are readable (their content is
  // irrelevant); otherwise the chunk is first copied into an internal padded
  // buffer. `data` need not be NUL-terminated and is not modified.
  // Positions: record lines count from `first_line` (1 for the start of a
  // file), offsets from `base_offset` (the chunk's offset in the file).
  // `source` only needs to outlive the call (it is passed to `rejects`).
  //
  // Returns the number of '\n' in the chunk, so a reader can compute the
  // next chunk's first_line without a second pass.
  uint64_t DecodeChunk(const char* data, size_t size, size_t capacity, std::string_view source,
                       uint64_t first_line, uint64_t base_offset, FlowBatch& out,
                       RejectSink& rejects);

  // Decodes one message holding one JSON document (an object or an array of
  // objects), e.g. a Kafka message. No framing: newlines are whitespace.
  // Always copies into an internal padded buffer (messages from a client
  // library are not padded). Rejects carry `pos` (array_index filled in).
  void DecodeMessage(std::string_view message, const SourcePosition& pos, FlowBatch& out,
                     RejectSink& rejects);

  const DecoderStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowlake
