#include "core/column_batch.h"

#include <cassert>

namespace flowlake {

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

ColumnBatch::ColumnBatch(const Schema& schema) : schema_(&schema) {
  columns_.reserve(schema.size());
  for (const Field& f : schema.fields()) columns_.emplace_back(f.type);
}

void ColumnBatch::Reserve(size_t rows) {
  for (Column& c : columns_) c.Reserve(rows);
}

void ColumnBatch::Clear() {
  for (Column& c : columns_) c.Clear();
}

size_t ColumnBatch::ByteSize() const {
  size_t n = 0;
  for (const Column& c : columns_) n += c.ByteSize();
  return n;
}

void ColumnBatch::AppendSelected(const ColumnBatch& src, std::span<const uint32_t> rows) {
  assert(src.schema_ == schema_);
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].AppendSelected(src.columns_[i], rows);
}

void ColumnBatch::AppendRange(const ColumnBatch& src, size_t begin, size_t count) {
  assert(src.schema_ == schema_);
  for (size_t i = 0; i < columns_.size(); ++i) {
    columns_[i].AppendRange(src.columns_[i], begin, count);
  }
}

void ColumnBatch::AppendAll(const ColumnBatch& src) {
  assert(src.schema_ == schema_);
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].AppendAll(src.columns_[i]);
}

}  // namespace flowlake
