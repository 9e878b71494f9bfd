// Schema and ColumnBatch: the columnar unit that moves between stages.
//
// A ColumnBatch owns one Column per schema field, all of equal length. The
// Schema is shared (not owned) and must outlive every batch built on it; the
// flow schema (flow_schema.h) is a static object, so this holds trivially for
// FlowBatch.
//
// Thread-safety: none; a batch is handed from stage to stage, never shared.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "core/column.h"

namespace flowlake {

struct Field {
  std::string_view name;
  ColumnType type;
};

class Schema {
 public:
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}
  size_t size() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  std::span<const Field> fields() const { return fields_; }
  // Index of the field called `name`, or -1.
  int IndexOf(std::string_view name) const;

 private:
  std::vector<Field> fields_;
};

class ColumnBatch {
 public:
  explicit ColumnBatch(const Schema& schema);

  const Schema& schema() const { return *schema_; }
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  size_t num_columns() const { return columns_.size(); }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }

  void Reserve(size_t rows);
  void Clear();  // keeps capacity
  size_t ByteSize() const;

  // Appends the rows of `src` (same schema) listed in `rows`.
  void AppendSelected(const ColumnBatch& src, std::span<const uint32_t> rows);
  void AppendAll(const ColumnBatch& src);
  // Appends rows [begin, begin + count) of `src` (same schema).
  void AppendRange(const ColumnBatch& src, size_t begin, size_t count);

 private:
  const Schema* schema_;
  std::vector<Column> columns_;
};

}  // namespace flowlake
