#include "decode/record_framer.h"

#include <cstring>

namespace flowlake {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Bracket depth across lines, outside of strings.
struct DepthScanner {
  int64_t depth = 0;
  bool in_string = false;
  bool escape = false;

  void Scan(std::string_view s) {
    for (char c : s) {
      if (in_string) {
        if (escape) {
          escape = false;
        } else if (c == '\\') {
          escape = true;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      switch (c) {
        case '"': in_string = true; break;
        case '{':
        case '[': ++depth; break;
        case '}':
        case ']': --depth; break;
        default: break;
      }
    }
  }
};

}  // namespace

bool RecordFramer::Next(FramedRecord& record) {
  const char* base = buf_.data();
  const size_t size = buf_.size();
  while (pos_ < size) {
    const size_t start = pos_;
    const uint64_t start_line = line_;
    const void* nl = std::memchr(base + start, '\n', size - start);
    size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - base) : size;
    pos_ = nl ? end + 1 : size;
    if (nl) {
      ++line_;
      ++newlines_;
    }
    std::string_view text = TrimRight(std::string_view(base + start, end - start));
    size_t first = 0;
    while (first < text.size() && IsBlank(text[first])) ++first;
    if (first == text.size()) continue;  // blank line

    const char open = text[first];
    const char close = text.back();
    const bool complete_line = (open == '{' && close == '}') || (open == '[' && close == ']');
    if (!complete_line) {
      DepthScanner scanner;
      scanner.Scan(text);
      // Pull in continuation lines of a record left open (pretty-printing).
      while (scanner.depth > 0 && pos_ < size && base[pos_] != '{' && base[pos_] != '[') {
        const size_t next = pos_;
        nl = std::memchr(base + next, '\n', size - next);
        end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - base) : size;
        pos_ = nl ? end + 1 : size;
        if (nl) {
          ++line_;
          ++newlines_;
        }
        std::string_view more(base + next, end - next);
        scanner.Scan(more);
        // Keep the record's end at the last non-blank byte seen so far.
        std::string_view trimmed = TrimRight(more);
        if (!trimmed.empty()) text = std::string_view(base + start, next + trimmed.size() - start);
      }
    }
    record.text = text;
    record.line = start_line;
    record.offset = base_offset_ + start;
    record.too_large = text.size() > max_record_bytes_;
    return true;
  }
  return false;
}

size_t LastRecordBoundary(std::string_view buffer) {
  const char* base = buffer.data();
  size_t end = buffer.size();
  // memrchr over '\n's from the back; the last byte cannot start a record
  // that we know to be followed by anything, but it can still be a boundary.
  while (end > 0) {
    const void* nl = memrchr(base, '\n', end);
    if (nl == nullptr) return 0;
    size_t i = static_cast<size_t>(static_cast<const char*>(nl) - base) + 1;
    if (i < buffer.size() && (base[i] == '{' || base[i] == '[')) return i;
    end = i - 1;
  }
  return 0;
}

}  // namespace flowlake
