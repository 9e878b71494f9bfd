#include "core/column.h"

#include <cassert>

namespace flowlake {

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kString: return "STRING";
    case ColumnType::kBool: return "BOOLEAN";
    case ColumnType::kInt32: return "INT32";
    case ColumnType::kInt64: return "INT64";
    case ColumnType::kDouble: return "DOUBLE";
    case ColumnType::kTimestampMs: return "TIMESTAMP_MS";
  }
  return "?";
}

size_t Column::ByteSize() const {
  return valid_.size() + i32_.size() * 4 + i64_.size() * 8 + f64_.size() * 8 +
         str_.size() * sizeof(StringRef) + arena_.size();
}

void Column::Reserve(size_t rows) {
  valid_.reserve(rows);
  switch (type_) {
    case ColumnType::kString: str_.reserve(rows); break;
    case ColumnType::kBool:
    case ColumnType::kInt32: i32_.reserve(rows); break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs: i64_.reserve(rows); break;
    case ColumnType::kDouble: f64_.reserve(rows); break;
  }
}

void Column::Clear() {
  null_count_ = 0;
  valid_.clear();
  i32_.clear();
  i64_.clear();
  f64_.clear();
  str_.clear();
  arena_.clear();
}

void Column::AppendNull() {
  valid_.push_back(0);
  ++null_count_;
  switch (type_) {
    case ColumnType::kString: str_.push_back({static_cast<uint32_t>(arena_.size()), 0}); break;
    case ColumnType::kBool:
    case ColumnType::kInt32: i32_.push_back(0); break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs: i64_.push_back(0); break;
    case ColumnType::kDouble: f64_.push_back(0); break;
  }
}

void Column::AppendInt32(int32_t v) {
  assert(type_ == ColumnType::kInt32);
  valid_.push_back(1);
  i32_.push_back(v);
}

void Column::AppendBool(bool v) {
  assert(type_ == ColumnType::kBool);
  valid_.push_back(1);
  i32_.push_back(v ? 1 : 0);
}

void Column::AppendInt64(int64_t v) {
  assert(type_ == ColumnType::kInt64 || type_ == ColumnType::kTimestampMs);
  valid_.push_back(1);
  i64_.push_back(v);
}

void Column::AppendDouble(double v) {
  assert(type_ == ColumnType::kDouble);
  valid_.push_back(1);
  f64_.push_back(v);
}

void Column::AppendString(std::string_view v) {
  assert(type_ == ColumnType::kString);
  valid_.push_back(1);
  str_.push_back({static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(v.size())});
  arena_.append(v.data(), v.size());
}

void Column::AppendFrom(const Column& src, size_t row) {
  assert(src.type_ == type_);
  if (!src.IsValid(row)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case ColumnType::kString: AppendString(src.String(row)); break;
    case ColumnType::kBool:
    case ColumnType::kInt32:
      valid_.push_back(1);
      i32_.push_back(src.i32_[row]);
      break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs: AppendInt64(src.i64_[row]); break;
    case ColumnType::kDouble: AppendDouble(src.f64_[row]); break;
  }
}

void Column::AppendSelected(const Column& src, std::span<const uint32_t> rows) {
  assert(src.type_ == type_);
  // Column-at-a-time gather: one type switch per call, not per row.
  const size_t base = valid_.size();
  valid_.resize_for_overwrite(base + rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    uint8_t v = src.valid_[rows[i]];
    valid_[base + i] = v;
    null_count_ += v == 0;
  }
  switch (type_) {
    case ColumnType::kString:
      str_.reserve(str_.size() + rows.size());
      for (uint32_t r : rows) {
        const StringRef& s = src.str_[r];
        str_.push_back({static_cast<uint32_t>(arena_.size()), s.size});
        arena_.append(src.arena_.data() + s.offset, s.size);
      }
      break;
    case ColumnType::kBool:
    case ColumnType::kInt32:
      i32_.reserve(i32_.size() + rows.size());
      for (uint32_t r : rows) i32_.push_back(src.i32_[r]);
      break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs:
      i64_.reserve(i64_.size() + rows.size());
      for (uint32_t r : rows) i64_.push_back(src.i64_[r]);
      break;
    case ColumnType::kDouble:
      f64_.reserve(f64_.size() + rows.size());
      for (uint32_t r : rows) f64_.push_back(src.f64_[r]);
      break;
  }
}

void Column::AppendRange(const Column& src, size_t begin, size_t count) {
  assert(src.type_ == type_);
  assert(begin + count <= src.size());
  valid_.append(src.valid_.data() + begin, count);
  if (count == src.size()) {
    null_count_ += src.null_count_;
  } else {
    for (size_t i = begin; i < begin + count; ++i) null_count_ += src.valid_[i] == 0;
  }
  switch (type_) {
    case ColumnType::kString: {
      if (count == 0) break;
      // Source strings of a range are contiguous in its arena: one copy, then
      // rebase the references.
      const uint32_t from = src.str_[begin].offset;
      const StringRef& last = src.str_[begin + count - 1];
      const uint32_t to = last.offset + last.size;
      const auto shift = static_cast<int64_t>(arena_.size()) - from;
      arena_.append(src.arena_.data() + from, to - from);
      const size_t base = str_.size();
      str_.resize_for_overwrite(base + count);
      for (size_t i = 0; i < count; ++i) {
        const StringRef& r = src.str_[begin + i];
        assert(r.offset >= from && r.offset + r.size <= to);  // offsets grow with rows
        str_[base + i] = {static_cast<uint32_t>(r.offset + shift), r.size};
      }
      break;
    }
    case ColumnType::kBool:
    case ColumnType::kInt32:
      i32_.append(src.i32_.data() + begin, count);
      break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs:
      i64_.append(src.i64_.data() + begin, count);
      break;
    case ColumnType::kDouble:
      f64_.append(src.f64_.data() + begin, count);
      break;
  }
}

void Column::SetInt32(size_t row, int32_t v) {
  assert(type_ == ColumnType::kInt32);
  if (!valid_[row]) {
    valid_[row] = 1;
    --null_count_;
  }
  i32_[row] = v;
}

void Column::SetInt64(size_t row, int64_t v) {
  assert(type_ == ColumnType::kInt64 || type_ == ColumnType::kTimestampMs);
  if (!valid_[row]) {
    valid_[row] = 1;
    --null_count_;
  }
  i64_[row] = v;
}

void Column::SetNull(size_t row) {
  if (valid_[row]) {
    valid_[row] = 0;
    ++null_count_;
  }
  switch (type_) {
    case ColumnType::kString: str_[row].size = 0; break;
    case ColumnType::kBool:
    case ColumnType::kInt32: i32_[row] = 0; break;
    case ColumnType::kInt64:
    case ColumnType::kTimestampMs: i64_[row] = 0; break;
    case ColumnType::kDouble: f64_[row] = 0; break;
  }
}

}  // namespace flowlake
