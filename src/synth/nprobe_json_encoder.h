// NprobeJsonEncoder: renders a FlowRecord as one nProbe JSON object.
//
// Output follows what nProbe puts on Kafka or in files (see
// shared/samples/nprobe): keys as labels ("IN_BYTES") or element ids ("1",
// ntop fields plain "57590" or qualified "35632.57590"), L7_PROTO as the
// string "master.app", latencies as decimals with up to 3 digits, and, for
// some exporters, integers as strings. Which optional keys appear depends on
// the probe's ProbeTemplate and on the flow (DNS fields only on DNS flows...).
//
// Strings are JSON-escaped ('"', '\\', control characters); UTF-8 passes
// through unchanged. No locale, no iostream: numbers go through
// std::to_chars, so output is identical on every machine.
//
// Contract: Encode() is const and allocation-free once `out` has capacity;
// one encoder may be shared by threads.
#pragma once

#include <array>
#include <string>

#include "synth/flow_record.h"
#include "synth/network.h"
#include "synth/nprobe_field.h"

namespace flowlake::synth {

// Per-record rendering choices (the exporter's configuration).
struct RecordFormat {
  bool element_ids = false;         // numeric keys instead of labels
  bool numbers_as_strings = false;  // integers rendered as "123"
  bool seconds_timestamps = false;  // FIRST/LAST_SWITCHED (s) instead of FLOW_*_MILLISECONDS
};

class NprobeJsonEncoder {
 public:
  NprobeJsonEncoder();

  // Appends one JSON object for `flow`, exported by `probe`, to *out (no
  // trailing newline).
  void Encode(const FlowRecord& flow, const Probe& probe, const RecordFormat& format,
              std::string* out) const;

 private:
  static constexpr size_t kFields = static_cast<size_t>(NprobeField::kCount);
  // Pre-rendered keys including quotes and colon: "IN_BYTES": / "1": / "35632.57590":
  std::array<std::string, kFields> label_keys_;
  std::array<std::string, kFields> id_keys_;
  std::array<std::string, kFields> qualified_keys_;
};

// Formatting helpers, exposed for tests.
void AppendIpv4(uint32_t address, std::string* out);
void AppendIpv6(const std::array<uint16_t, 8>& words, std::string* out);  // RFC 5952 text
void AppendMac(uint64_t mac, std::string* out);                          // "00:25:90:D4:CC:F9"
void AppendJsonString(std::string_view s, std::string* out);             // with quotes
void AppendMillisFromMicros(uint32_t micros, std::string* out);          // 23500 -> "23.5"

}  // namespace flowlake::synth
