#include "decode/record_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace flowlake {
namespace {

struct Framed {
  std::string text;
  uint64_t line;
  uint64_t offset;
  bool too_large;
  bool operator==(const Framed&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Framed& f) {
  return os << "{" << f.text << " @" << f.line << "/" << f.offset << (f.too_large ? " big" : "")
            << "}";
}

std::vector<Framed> Frame(std::string_view in, size_t max = 1 << 20, uint64_t first_line = 1,
                          uint64_t base = 0) {
  RecordFramer framer(in, max, first_line, base);
  std::vector<Framed> out;
  FramedRecord r;
  while (framer.Next(r)) out.push_back({std::string(r.text), r.line, r.offset, r.too_large});
  return out;
}

TEST(RecordFramerTest, OneRecordPerLineWithPositions) {
  EXPECT_EQ(Frame("{\"a\":1}\n[{\"b\":2}]\n{\"c\":3}"),
            (std::vector<Framed>{{"{\"a\":1}", 1, 0, false},
                                 {"[{\"b\":2}]", 2, 8, false},
                                 {"{\"c\":3}", 3, 18, false}}));
}

TEST(RecordFramerTest, SkipsBlankLinesAndStripsCarriageReturns) {
  EXPECT_EQ(Frame("\n  \r\n{\"a\":1}\r\n\t\n{\"b\":2}\r\n"),
            (std::vector<Framed>{{"{\"a\":1}", 3, 5, false}, {"{\"b\":2}", 5, 16, false}}));
}

TEST(RecordFramerTest, FirstLineAndBaseOffsetAreApplied) {
  EXPECT_EQ(Frame("{}\n{}", 100, 41, 1000),
            (std::vector<Framed>{{"{}", 41, 1000, false}, {"{}", 42, 1003, false}}));
}

TEST(RecordFramerTest, PrettyPrintedRecordIsOneRecord) {
  const std::string pretty =
      "{\n  \"a\": {\n    \"s\": \"} ] \\\" {\"\n  },\n  \"b\": [\n    1\n  ]\n}";
  EXPECT_EQ(Frame(pretty + "\n{\"next\":1}\n"),
            (std::vector<Framed>{{pretty, 1, 0, false},
                                 {"{\"next\":1}", 9, pretty.size() + 1, false}}));
}

TEST(RecordFramerTest, PrettyPrintedArrayWithCrLf) {
  EXPECT_EQ(Frame("[\r\n  {\"a\": 1},\r\n  {\"b\": 2}\r\n]\r\n"),
            (std::vector<Framed>{{"[\r\n  {\"a\": 1},\r\n  {\"b\": 2}\r\n]", 1, 0, false}}));
}

TEST(RecordFramerTest, TruncatedLineFollowedByRecordStartIsItsOwnRecord) {
  EXPECT_EQ(Frame("{\"a\":\n{\"b\":2}\n[1]\n"),
            (std::vector<Framed>{{"{\"a\":", 1, 0, false},
                                 {"{\"b\":2}", 2, 6, false},
                                 {"[1]", 3, 14, false}}));
}

TEST(RecordFramerTest, TruncatedLastRecordEndsAtEndOfBuffer) {
  EXPECT_EQ(Frame("{\"a\":1}\n{\"b\":\n  \"c\""),
            (std::vector<Framed>{{"{\"a\":1}", 1, 0, false}, {"{\"b\":\n  \"c\"", 2, 8, false}}));
}

TEST(RecordFramerTest, GarbageLineIsOneRecord) {
  EXPECT_EQ(Frame("hello\n42\n"),
            (std::vector<Framed>{{"hello", 1, 0, false}, {"42", 2, 6, false}}));
}

TEST(RecordFramerTest, TooLargeRecordIsFlaggedWhole) {
  EXPECT_EQ(Frame("{\"a\":\"xxxxxxxx\"}\n{\n \"b\": 1\n}\n{}\n", 8),
            (std::vector<Framed>{{"{\"a\":\"xxxxxxxx\"}", 1, 0, true},
                                 {"{\n \"b\": 1\n}", 2, 17, true},
                                 {"{}", 5, 29, false}}));
}

TEST(RecordFramerTest, CountsNewlines) {
  RecordFramer framer("{}\n\n{}\n", 100);
  FramedRecord r;
  while (framer.Next(r)) {
  }
  EXPECT_EQ(framer.newlines(), 3u);
}

TEST(RecordFramerTest, LastRecordBoundary) {
  EXPECT_EQ(LastRecordBoundary(""), 0u);
  EXPECT_EQ(LastRecordBoundary("{\"a\":1}"), 0u);
  EXPECT_EQ(LastRecordBoundary("{\"a\":1}\n"), 0u);  // nothing after the newline yet
  EXPECT_EQ(LastRecordBoundary("{\"a\":1}\n{\"b\""), 8u);
  EXPECT_EQ(LastRecordBoundary("{}\n[1]\n{}\n  \"x\": 1\n}\n"), 7u);  // indented lines never
  EXPECT_EQ(LastRecordBoundary("{\n  \"a\": 1\n}\n"), 0u);
  EXPECT_EQ(LastRecordBoundary("\n{"), 1u);
  EXPECT_EQ(LastRecordBoundary("\n\n"), 0u);
}

}  // namespace
}  // namespace flowlake
