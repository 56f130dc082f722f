// Status and Result<T>: the error values every library function returns.
// No exceptions cross the library boundary; each C library's error is converted
// to a Status in exactly one place. Values are immutable and safe to copy.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace manage {

enum class Code {
  kOk,
  kNotFound,            // the thing asked for does not exist
  kUnavailable,         // could not reach it now; retry later
  kFailedPrecondition,  // the system is not in a state that allows this
  kAborted,             // lost a race (lock held by someone else, CAS mismatch)
  kInvalidArgument,     // bad input or configuration
  kDeadlineExceeded,    // gave up waiting
  kInternal,            // malformed response, broken invariant
};

const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status FailedPrecondition(std::string msg) {
    return Status(Code::kFailedPrecondition, std::move(msg));
  }
  static Status Aborted(std::string msg) { return Status(Code::kAborted, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status DeadlineExceeded(std::string msg) {
    return Status(Code::kDeadlineExceeded, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NotFound: key 'x' does not exist", or "OK".
  std::string ToString() const;
  // The same status with "context: " put before the message.
  Status Annotate(const std::string& context) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: !ok() for a meaningful status; OK when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  // REQUIRES: ok()
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  // By value on a temporary, so `for (auto& x : *F())` never dangles.
  T operator*() && { return std::get<T>(std::move(v_)); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace manage

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define MANAGE_RETURN_IF_ERROR(expr) \
  do {                               \
    ::manage::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)
