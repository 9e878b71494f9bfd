// RejectSink: where a stage sends input it cannot use (the dead-letter path).
//
// Every malformed record goes to exactly one Reject() call with a reason that
// names the source, the field and the value; the stage then goes on with the
// rest of its batch. Implementations state their own thread-safety.
#pragma once

#include <cstdint>
#include <string_view>

namespace flowlake {

// Where a record came from, for error messages and dead-letter entries.
struct SourcePosition {
  std::string_view source;   // file path, "stdin", or "topic/partition"
  uint64_t line = 0;         // 1-based line of the record's first byte; 0 = unknown
  uint64_t offset = 0;       // byte offset in a file, or the Kafka offset
  int64_t array_index = -1;  // index within a JSON array of flows; -1 = not in one
};

class RejectSink {
 public:
  virtual ~RejectSink() = default;
  // `record` is the raw input text of the rejected record.
  virtual void Reject(const SourcePosition& pos, std::string_view reason,
                      std::string_view record) = 0;
};

}  // namespace flowlake
