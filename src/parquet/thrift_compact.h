// CompactWriter: a minimal Thrift Compact Protocol encoder, enough for the
// Parquet footer and page headers (structs, unions, lists, i32/i64, binary,
// bool). Parquet never uses maps, sets or doubles in its metadata.
//
// Wire format (thrift doc/specs/thrift-compact-protocol.md):
//  - i16/i32/i64 are zigzag-encoded, then written as ULEB128 varints;
//  - a field header is one byte (delta << 4 | type) when the id grows by
//    1..15 from the previous field of the same struct, else the type byte
//    followed by the zigzag varint id;
//  - bool fields carry their value in the header type (1 true, 2 false);
//  - a struct ends with a 0 byte; unions are structs with one field set;
//  - a list header is (size << 4 | elem type) for size < 15, else
//    (0xF0 | elem type) and the size as varint.
//
// Contract: the caller emits fields of each struct in the order it wants them
// on the wire and balances every Begin*Struct with EndStruct (checked by
// assert in debug builds). Appends to the std::string given at construction,
// which must outlive the writer. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace flowlake::parquet::thrift {

// Compact-protocol type ids as used in field headers.
enum class FieldType : uint8_t {
  kBoolTrue = 1,
  kBoolFalse = 2,
  kI8 = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Element-type ids used in list headers. They match FieldType except for
// bool, which is 2 in a list header (elements are then one byte: 1 or 0).
enum class ElemType : uint8_t {
  kBool = 2,
  kI8 = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kStruct = 12,
};

// Appends the ULEB128 varint of `v`.
void AppendVarint(uint64_t v, std::string* out);
uint32_t ZigZag32(int32_t v);
uint64_t ZigZag64(int64_t v);

class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) { stack_.reserve(8); }

  // Starts a struct that is not a field: the top-level struct, or an element
  // of a list of structs.
  void BeginStruct();
  // Starts a struct-typed (or union-typed) field of the current struct.
  void BeginStructField(int16_t id);
  // Writes the stop byte of the current struct and returns to its parent.
  void EndStruct();

  void I16Field(int16_t id, int16_t v);
  void I32Field(int16_t id, int32_t v);
  void I64Field(int16_t id, int64_t v);
  void BinaryField(int16_t id, std::string_view v);
  void BoolField(int16_t id, bool v);
  // An empty struct field, e.g. LogicalType.STRING = StringType{}.
  void EmptyStructField(int16_t id);

  // Starts a list field of `size` elements; then write exactly `size`
  // elements with the Elem* calls (or BeginStruct/EndStruct for structs).
  void ListField(int16_t id, ElemType elem, uint32_t size);
  void I32Elem(int32_t v);
  void I64Elem(int64_t v);
  void BinaryElem(std::string_view v);
  void BoolElem(bool v);

  // Depth of open structs; 0 when everything is balanced.
  size_t depth() const { return stack_.size(); }

 private:
  void FieldHeader(int16_t id, FieldType type);

  std::string* out_;
  int16_t last_id_ = 0;
  std::vector<int16_t> stack_;  // last_id_ of each enclosing struct
};

}  // namespace flowlake::parquet::thrift
