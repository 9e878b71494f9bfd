// RecordFramer: splits a buffer of nProbe JSON text into records.
//
// Framing rules (docs/schema.md, "Input framing"):
//  * Records are separated by newlines; "\r\n" is tolerated and blank lines
//    (only spaces, tabs, '\r') are skipped.
//  * A line that starts with '{' and ends with '}' (or '[' ... ']') is one
//    record without further inspection: the fast path, one memchr per line.
//  * Otherwise the line is scanned for bracket depth (aware of strings and
//    escapes). While a record is still open at the end of a line, following
//    lines are appended to it, unless a line starts at column 0 with '{' or
//    '[': that begins a new record, leaving the open one truncated (it will
//    fail to parse and be rejected on its own). This accepts pretty-printed
//    records (jq, json.dumps(indent=...)) whose inner lines are indented.
//  * A record longer than `max_record_bytes` is still framed whole (so its
//    tail does not turn into garbage records) but flagged `too_large`.
//
// A framer does not own the buffer: it must outlive the framer and every
// FramedRecord taken from it. Not thread-safe (one per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace flowlake {

struct FramedRecord {
  std::string_view text;  // inside the buffer; trailing '\r'/blanks trimmed
  uint64_t line = 0;      // line of the first byte (first_line-based)
  uint64_t offset = 0;    // base_offset + index of the first byte
  bool too_large = false;
};

class RecordFramer {
 public:
  RecordFramer(std::string_view buffer, size_t max_record_bytes, uint64_t first_line = 1,
               uint64_t base_offset = 0)
      : buf_(buffer), max_record_bytes_(max_record_bytes), line_(first_line),
        base_offset_(base_offset) {}

  // Fills `record` with the next record and returns true, or returns false at
  // the end of the buffer.
  bool Next(FramedRecord& record);

  // Newlines consumed so far (the whole buffer's count once Next() is false).
  uint64_t newlines() const { return newlines_; }

 private:
  std::string_view buf_;
  size_t max_record_bytes_;
  uint64_t line_;
  uint64_t base_offset_;
  size_t pos_ = 0;
  uint64_t newlines_ = 0;
};

// For a file reader that hands whole records to worker threads: the largest
// i > 0 such that buffer[i - 1] == '\n' and buffer[i] is '{' or '[' (a line
// that by the rules above always starts a new record), or 0 if there is none.
// buffer[0, i) is then a self-contained chunk; buffer[i, end) belongs to the
// next one. At end of input the remainder is a chunk as it is.
size_t LastRecordBoundary(std::string_view buffer);

}  // namespace flowlake
