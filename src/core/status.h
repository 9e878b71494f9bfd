// Status and Result<T>: the one error type on flowlake's data path.
//
// Contract: functions that can fail on input or I/O return Status or
// Result<T> and never throw. Exceptions are reserved for start-up and
// configuration errors. Both types are [[nodiscard]]: ignoring an error is a
// compile warning (an error with -Werror).
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace flowlake {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,  // bad input or configuration
  kIoError,          // the OS refused a read/write/rename
  kCorruption,       // data that does not decode
  kNotFound,
  kResourceExhausted,  // a configured limit was reached
  kAborted,            // lost a concurrency race (e.g. fenced by another writer); retry from fresh state
  kInternal,           // a bug: should never be seen by users
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Corruption(std::string m) {
    return {StatusCode::kCorruption, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "IoError: open /x: No such file or directory"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace flowlake

// Propagate a non-OK Status to the caller.
#define FLOWLAKE_RETURN_IF_ERROR(expr)          \
  do {                                          \
    ::flowlake::Status _st = (expr);            \
    if (!_st.ok()) return _st;                  \
  } while (0)

#define FLOWLAKE_CONCAT_INNER(a, b) a##b
#define FLOWLAKE_CONCAT(a, b) FLOWLAKE_CONCAT_INNER(a, b)
#define FLOWLAKE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
// FLOWLAKE_ASSIGN_OR_RETURN(auto x, MakeX());
#define FLOWLAKE_ASSIGN_OR_RETURN(lhs, expr) \
  FLOWLAKE_ASSIGN_OR_RETURN_IMPL(FLOWLAKE_CONCAT(_res_, __LINE__), lhs, expr)
