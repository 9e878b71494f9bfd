// Known answers from the Thrift compact protocol spec
// (thrift doc/specs/thrift-compact-protocol.md), computed by hand.
#include "parquet/thrift_compact.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "parquet/file_metadata.h"

namespace flowlake::parquet::thrift {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<uint8_t> Varint(uint64_t v) {
  std::string s;
  AppendVarint(v, &s);
  return Bytes(s);
}

TEST(ThriftCompact, Varint) {
  EXPECT_EQ(Varint(0), (std::vector<uint8_t>{0x00}));
  EXPECT_EQ(Varint(1), (std::vector<uint8_t>{0x01}));
  EXPECT_EQ(Varint(127), (std::vector<uint8_t>{0x7F}));
  EXPECT_EQ(Varint(128), (std::vector<uint8_t>{0x80, 0x01}));
  EXPECT_EQ(Varint(300), (std::vector<uint8_t>{0xAC, 0x02}));
  EXPECT_EQ(Varint(50399), (std::vector<uint8_t>{0xDF, 0x89, 0x03}));  // the spec's example
  EXPECT_EQ(Varint(std::numeric_limits<uint64_t>::max()),
            (std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST(ThriftCompact, ZigZag) {
  EXPECT_EQ(ZigZag32(0), 0u);
  EXPECT_EQ(ZigZag32(-1), 1u);
  EXPECT_EQ(ZigZag32(1), 2u);
  EXPECT_EQ(ZigZag32(-2), 3u);
  EXPECT_EQ(ZigZag32(2), 4u);
  EXPECT_EQ(ZigZag32(std::numeric_limits<int32_t>::max()), 0xFFFFFFFEu);
  EXPECT_EQ(ZigZag32(std::numeric_limits<int32_t>::min()), 0xFFFFFFFFu);
  EXPECT_EQ(ZigZag64(std::numeric_limits<int64_t>::max()), 0xFFFFFFFFFFFFFFFEull);
  EXPECT_EQ(ZigZag64(std::numeric_limits<int64_t>::min()), 0xFFFFFFFFFFFFFFFFull);
}

TEST(ThriftCompact, ShortFieldHeadersAndStop) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.I32Field(1, 3);         // delta 1, type 5; zigzag(3) = 6
  w.I64Field(2, -1);        // delta 1, type 6; zigzag(-1) = 1
  w.BinaryField(4, "abc");  // delta 2, type 8; length 3
  w.I16Field(5, 5);         // delta 1, type 4; zigzag(5) = 10
  w.EndStruct();
  EXPECT_EQ(Bytes(out), (std::vector<uint8_t>{0x15, 0x06, 0x16, 0x01, 0x28, 0x03, 'a', 'b', 'c',
                                              0x14, 0x0A, 0x00}));
  EXPECT_EQ(w.depth(), 0u);
}

TEST(ThriftCompact, LongFieldHeaderWhenDeltaAbove15OrNotIncreasing) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.I32Field(1, 0);    // short: 0x15 0x00
  w.I32Field(17, 0);   // delta 16: type byte 0x05, zigzag(17) = 34 = 0x22, value 0x00
  w.I32Field(3, 1);    // going back: long form, zigzag(3) = 6, value 0x02
  w.I32Field(300, 0);  // zigzag(300) = 600 = varint 0xD8 0x04
  w.EndStruct();
  EXPECT_EQ(Bytes(out), (std::vector<uint8_t>{0x15, 0x00, 0x05, 0x22, 0x00, 0x05, 0x06, 0x02, 0x05,
                                              0xD8, 0x04, 0x00, 0x00}));
}

TEST(ThriftCompact, BoolFieldsCarryTheValueInTheType) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.BoolField(1, true);   // 0x11
  w.BoolField(2, false);  // 0x12
  w.EndStruct();
  EXPECT_EQ(Bytes(out), (std::vector<uint8_t>{0x11, 0x12, 0x00}));
}

TEST(ThriftCompact, Lists) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.ListField(1, ElemType::kI32, 3);  // field 0x19, header size 3 type 5: 0x35
  w.I32Elem(1);
  w.I32Elem(2);
  w.I32Elem(-1);
  w.ListField(2, ElemType::kBool, 2);  // 0x19, 0x22; elements 1 and 0
  w.BoolElem(true);
  w.BoolElem(false);
  w.ListField(3, ElemType::kBinary, 15);  // long form: 0xF8, size 15
  for (int i = 0; i < 15; ++i) w.BinaryElem("x");
  w.EndStruct();
  std::vector<uint8_t> expect = {0x19, 0x35, 0x02, 0x04, 0x01, 0x19,
                                 0x22, 0x01, 0x00, 0x19, 0xF8, 0x0F};
  for (int i = 0; i < 15; ++i) {
    expect.push_back(0x01);
    expect.push_back('x');
  }
  expect.push_back(0x00);
  EXPECT_EQ(Bytes(out), expect);
}

TEST(ThriftCompact, NestedStructsRestoreTheParentFieldId) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.I32Field(1, 1);                      // 0x15 0x02
  w.BeginStructField(3);                 // delta 2, type 12: 0x2C
  w.I32Field(1, 5);                      // 0x15 0x0A (inner ids restart at 0)
  w.EmptyStructField(2);                 // 0x1C 0x00
  w.EndStruct();                         // 0x00
  w.I32Field(4, 1);                      // delta 1 from field 3: 0x15 0x02
  w.ListField(5, ElemType::kStruct, 1);  // 0x19 0x1C
  w.BeginStruct();
  w.I32Field(1, 0);  // 0x15 0x00
  w.EndStruct();     // 0x00
  w.EndStruct();     // 0x00
  EXPECT_EQ(Bytes(out), (std::vector<uint8_t>{0x15, 0x02, 0x2C, 0x15, 0x0A, 0x1C, 0x00, 0x00, 0x15,
                                              0x02, 0x19, 0x1C, 0x15, 0x00, 0x00, 0x00}));
}

TEST(ParquetPageHeader, DataPageV1) {
  std::string out;
  AppendDataPageHeader(100, 50, 10, format::Encoding::kPlain, &out);
  // type DATA_PAGE 0; sizes 100 (zigzag 200 = 0xC8 0x01) and 50 (0x64);
  // field 5 (delta 2, struct) {num_values 10 (0x14), PLAIN, RLE, RLE}.
  EXPECT_EQ(Bytes(out),
            (std::vector<uint8_t>{0x15, 0x00, 0x15, 0xC8, 0x01, 0x15, 0x64, 0x2C, 0x15, 0x14, 0x15,
                                  0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00}));
}

TEST(ParquetPageHeader, DictionaryPage) {
  std::string out;
  AppendDictionaryPageHeader(8, 8, 2, &out);
  // type DICTIONARY_PAGE 2 (zigzag 4); field 7 (delta 4, struct: 0x4C)
  // {num_values 2, encoding PLAIN}.
  EXPECT_EQ(Bytes(out), (std::vector<uint8_t>{0x15, 0x04, 0x15, 0x10, 0x15, 0x10, 0x4C, 0x15, 0x04,
                                              0x15, 0x00, 0x00, 0x00}));
}

}  // namespace
}  // namespace flowlake::parquet::thrift
