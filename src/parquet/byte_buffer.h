// ByteBuffer: a growable byte array for encoders, without the per-byte
// bounds bookkeeping and zero-filling of std::vector.
//
// Contract: Extend(n) returns a pointer to n writable bytes that stay valid
// until the next call that grows the buffer. clear() keeps capacity, so a
// buffer reused across pages and row groups stops allocating once warm.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace flowlake::parquet {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ByteBuffer(ByteBuffer&&) = default;
  ByteBuffer& operator=(ByteBuffer&&) = default;

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_.get()), size_}; }

  void clear() { size_ = 0; }

  // Ensures capacity() >= n; contents are kept.
  void Reserve(size_t n) {
    if (n > capacity_) Grow(n);
  }

  // Appends n uninitialized bytes and returns a pointer to them.
  uint8_t* Extend(size_t n) {
    if (size_ + n > capacity_) Grow(size_ + n);
    uint8_t* p = data_.get() + size_;
    size_ += n;
    return p;
  }

  // Sets size() to n (n <= capacity()); used after writing through a
  // pointer obtained from Reserve()/data().
  void SetSize(size_t n) { size_ = n; }

  void Append(const void* p, size_t n) {
    if (n == 0) return;
    std::memcpy(Extend(n), p, n);
  }
  void Append(std::string_view s) { Append(s.data(), s.size()); }
  void PushByte(uint8_t b) { *Extend(1) = b; }

 private:
  void Grow(size_t min_capacity) {
    size_t cap = capacity_ == 0 ? 256 : capacity_;
    while (cap < min_capacity) cap *= 2;
    auto bigger = std::make_unique_for_overwrite<uint8_t[]>(cap);
    if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace flowlake::parquet
