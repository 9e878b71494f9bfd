// Column: one typed, nullable, append-only column of a ColumnBatch.
//
// Layout (Arrow-like, but simpler): a validity byte per row (1 = value
// present), a dense value vector for fixed-width types, and for strings a
// (offset, size) reference per row into one byte arena. Null slots hold 0 (or
// an empty reference) so encoders can read values without branching.
//
// Contract: not thread-safe; a Column is owned by one thread at a time.
// Clear() keeps capacity, so a reused Column does not allocate once warm: the
// hot path appends without heap traffic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace flowlake {

namespace column_internal {

// Column's storage: a std::vector for trivially copyable T without its
// bookkeeping on the append path. push_back() is a compare and a store, with
// growth out of line, so the decoder's one-value-per-column appends inline
// to a few instructions. Growth uses realloc, which moves a large block by
// remapping it instead of copying it and faulting in fresh pages. Copies
// are deep; a moved-from buffer is empty.
template <typename T>
class PodBuffer {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  PodBuffer() = default;
  PodBuffer(const PodBuffer& other) { append(other.data(), other.size()); }
  PodBuffer& operator=(const PodBuffer& other) {
    if (this != &other) {
      clear();
      append(other.data(), other.size());
    }
    return *this;
  }
  PodBuffer(PodBuffer&& other) noexcept
      : data_(std::move(other.data_)), size_(other.size_), capacity_(other.capacity_) {
    other.size_ = other.capacity_ = 0;
  }
  PodBuffer& operator=(PodBuffer&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.size_ = other.capacity_ = 0;
    return *this;
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  operator std::span<const T>() const { return {data(), size_}; }  // NOLINT: like vector

  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (n > capacity_) Reallocate(n);
  }
  // New elements are zero (value-initialised, as std::vector does).
  void resize(size_t n) {
    const size_t old_size = size_;
    resize_for_overwrite(n);
    if (n > old_size) {
      std::memset(static_cast<void*>(data() + old_size), 0, (n - old_size) * sizeof(T));
    }
  }
  // New elements are uninitialised: the caller writes them all.
  void resize_for_overwrite(size_t n) {
    if (n > capacity_) Grow(n);
    size_ = n;
  }
  [[gnu::always_inline]] void push_back(const T& v) {
    if (size_ == capacity_) [[unlikely]] Grow(size_ + 1);
    data_.get()[size_++] = v;
  }
  void append(const T* p, size_t n) {
    if (n == 0) return;
    std::memcpy(static_cast<void*>(extend(n)), p, n * sizeof(T));
  }
  // Appends n uninitialised elements and returns them.
  [[gnu::always_inline]] T* extend(size_t n) {
    if (n > capacity_ - size_) [[unlikely]] Grow(size_ + n);
    T* p = data() + size_;
    size_ += n;
    return p;
  }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  // At least doubles, so appends are amortised O(1).
  [[gnu::noinline]] void Grow(size_t min_capacity) {
    Reallocate(std::max(min_capacity, capacity_ < 16 ? size_t{16} : 2 * capacity_));
  }
  void Reallocate(size_t capacity) {
    void* p = std::realloc(data_.get(), capacity * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    (void)data_.release();
    data_.reset(static_cast<T*>(p));
    capacity_ = capacity;
  }

  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// memcpy for the short strings of flow records (addresses, MACs, names).
// For a string of bounded length (an address's text) GCC otherwise inlines
// a `rep movs`, whose start-up cost is most of a 12-byte copy.
[[gnu::always_inline]] inline void CopyStringBytes(char* to, const char* from, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t head, tail;
    std::memcpy(&head, from, 8);
    std::memcpy(&tail, from + n - 8, 8);
    std::memcpy(to, &head, 8);
    std::memcpy(to + n - 8, &tail, 8);
  } else if (n != 0) {
    std::memcpy(to, from, n);
  }
}

}  // namespace column_internal

// The logical types flowlake stores. Each maps to one Parquet physical type:
// kString -> BYTE_ARRAY (UTF8), kInt32 -> INT32, kInt64 -> INT64,
// kDouble -> DOUBLE, kTimestampMs -> INT64 TIMESTAMP(MILLIS, UTC),
// kBool -> BOOLEAN (held as 0 or 1 in int32_values()).
enum class ColumnType : unsigned char { kString, kInt32, kInt64, kDouble, kTimestampMs, kBool };

std::string_view ColumnTypeName(ColumnType type);

struct StringRef {
  uint32_t offset = 0;
  uint32_t size = 0;
};

class Column {
 public:
  explicit Column(ColumnType type) : type_(type) {}

  ColumnType type() const { return type_; }
  size_t size() const { return valid_.size(); }
  size_t null_count() const { return null_count_; }
  // Approximate heap bytes held by the data (not capacity).
  size_t ByteSize() const;

  void Reserve(size_t rows);
  void Clear();  // drops rows, keeps capacity

  void AppendNull();
  void AppendInt32(int32_t v);
  void AppendBool(bool v);
  void AppendInt64(int64_t v);  // also for kTimestampMs
  void AppendDouble(double v);
  void AppendString(std::string_view v);

  // Value-or-null appends for a producer that fills one column of a row per
  // call (the decoder): inline and without a branch on `valid`. With `valid`
  // they are AppendInt32(v) etc.; without, AppendNull() (`v` is ignored).
  // The column must have the matching type, as for the appends above.
  [[gnu::always_inline]] void AppendInt32OrNull(int32_t v, bool valid) {
    valid_.push_back(valid);
    i32_.push_back(valid ? v : 0);
    null_count_ += !valid;
  }
  // Also for kTimestampMs.
  [[gnu::always_inline]] void AppendInt64OrNull(int64_t v, bool valid) {
    valid_.push_back(valid);
    i64_.push_back(valid ? v : 0);
    null_count_ += !valid;
  }
  [[gnu::always_inline]] void AppendDoubleOrNull(double v, bool valid) {
    valid_.push_back(valid);
    f64_.push_back(valid ? v : 0);
    null_count_ += !valid;
  }
  [[gnu::always_inline]] void AppendStringOrNull(std::string_view v, bool valid) {
    const size_t offset = arena_.size();
    const size_t n = valid ? v.size() : 0;
    valid_.push_back(valid);
    null_count_ += !valid;
    str_.push_back({static_cast<uint32_t>(offset), static_cast<uint32_t>(n)});
    column_internal::CopyStringBytes(arena_.extend(n), v.data(), n);
  }

  // Appends row `row` of `src` (same type).
  void AppendFrom(const Column& src, size_t row);
  // Appends the rows of `src` listed in `rows` (same type), in that order.
  void AppendSelected(const Column& src, std::span<const uint32_t> rows);
  // Appends rows [begin, begin + count) of `src` (same type): bulk copies,
  // much cheaper than a gather when the rows are contiguous.
  void AppendRange(const Column& src, size_t begin, size_t count);
  // Appends all rows of `src` (same type).
  void AppendAll(const Column& src) { AppendRange(src, 0, src.size()); }

  bool IsValid(size_t row) const { return valid_[row] != 0; }
  int32_t Int32(size_t row) const { return i32_[row]; }
  int64_t Int64(size_t row) const { return i64_[row]; }
  double Double(size_t row) const { return f64_[row]; }
  std::string_view String(size_t row) const {
    const StringRef& r = str_[row];
    return {arena_.data() + r.offset, r.size};
  }

  // Raw access for encoders. Each span has size() elements; only the one
  // matching type() is non-empty.
  std::span<const uint8_t> validity() const { return valid_; }
  std::span<const int32_t> int32_values() const { return i32_; }
  std::span<const int64_t> int64_values() const { return i64_; }
  std::span<const double> double_values() const { return f64_; }
  std::span<const StringRef> string_refs() const { return str_; }
  const char* arena() const { return arena_.data(); }

  // In-place edits, for enrichment stages that derive values.
  void SetInt32(size_t row, int32_t v);
  void SetInt64(size_t row, int64_t v);
  void SetNull(size_t row);

 private:
  ColumnType type_;
  size_t null_count_ = 0;
  column_internal::PodBuffer<uint8_t> valid_;
  column_internal::PodBuffer<int32_t> i32_;
  column_internal::PodBuffer<int64_t> i64_;
  column_internal::PodBuffer<double> f64_;
  column_internal::PodBuffer<StringRef> str_;
  column_internal::PodBuffer<char> arena_;
};

}  // namespace flowlake
