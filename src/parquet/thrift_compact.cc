#include "parquet/thrift_compact.h"

#include <cassert>

namespace flowlake::parquet::thrift {

void AppendVarint(uint64_t v, std::string* out) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

// The shifts are done on unsigned values: left-shifting a negative signed
// value is what UBSan would (rightly) flag.
uint32_t ZigZag32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}

uint64_t ZigZag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

void CompactWriter::BeginStruct() {
  stack_.push_back(last_id_);
  last_id_ = 0;
}

void CompactWriter::BeginStructField(int16_t id) {
  FieldHeader(id, FieldType::kStruct);
  BeginStruct();
}

void CompactWriter::EndStruct() {
  assert(!stack_.empty());
  out_->push_back('\0');
  last_id_ = stack_.back();
  stack_.pop_back();
}

void CompactWriter::FieldHeader(int16_t id, FieldType type) {
  const int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    AppendVarint(ZigZag32(id), out_);
  }
  last_id_ = id;
}

void CompactWriter::I16Field(int16_t id, int16_t v) {
  FieldHeader(id, FieldType::kI16);
  AppendVarint(ZigZag32(v), out_);
}

void CompactWriter::I32Field(int16_t id, int32_t v) {
  FieldHeader(id, FieldType::kI32);
  AppendVarint(ZigZag32(v), out_);
}

void CompactWriter::I64Field(int16_t id, int64_t v) {
  FieldHeader(id, FieldType::kI64);
  AppendVarint(ZigZag64(v), out_);
}

void CompactWriter::BinaryField(int16_t id, std::string_view v) {
  FieldHeader(id, FieldType::kBinary);
  BinaryElem(v);
}

void CompactWriter::BoolField(int16_t id, bool v) {
  FieldHeader(id, v ? FieldType::kBoolTrue : FieldType::kBoolFalse);
}

void CompactWriter::EmptyStructField(int16_t id) {
  BeginStructField(id);
  EndStruct();
}

void CompactWriter::ListField(int16_t id, ElemType elem, uint32_t size) {
  FieldHeader(id, FieldType::kList);
  const int type = static_cast<int>(elem);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | type));
  } else {
    out_->push_back(static_cast<char>(0xF0 | type));
    AppendVarint(size, out_);
  }
}

void CompactWriter::I32Elem(int32_t v) { AppendVarint(ZigZag32(v), out_); }

void CompactWriter::I64Elem(int64_t v) { AppendVarint(ZigZag64(v), out_); }

void CompactWriter::BinaryElem(std::string_view v) {
  AppendVarint(v.size(), out_);
  out_->append(v);
}

void CompactWriter::BoolElem(bool v) { out_->push_back(v ? 1 : 0); }

}  // namespace flowlake::parquet::thrift
