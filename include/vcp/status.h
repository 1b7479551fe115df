// vcp/status.h: Status and Result<T>, the error type of every fallible vcp call.
//
// Ownership: values; a Status owns its message. Thread safety: none needed (immutable after construction).
// Errors: vcp never throws across its public API and never exits; each fallible call returns a Status or a
// Result<T>, both [[nodiscard]]. An OK Status carries no allocation. Messages say what was wrong and what is
// allowed, e.g. "K = 200000 is too large for int8: K must be at most 131071 (int32 exactness bound)".
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "vcp/export.h"

namespace vcp {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the caller asked for something impossible or out of range
  kIoError,          // a file could not be read or written
  kCorrupt,          // bytes did not parse: wrong magic, version, length, trailing data
  kRejected,         // a proof, signature or record was checked and found wrong
  kUnavailable,      // a backend or device is not usable here
  kResourceExhausted,
  kInternal,         // a broken invariant or an unexpected library failure (CUDA, OpenSSL)
};

// The kind in words, as ToString prints it: "OK", "invalid argument", "I/O error", "corrupt data", "rejected",
// "unavailable", "resource exhausted", "internal error".
VCP_EXPORT std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] VCP_EXPORT Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(StatusCode::kInvalidArgument, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(StatusCode::kIoError, std::move(msg)); }
  static Status Corrupt(std::string msg) { return Status(StatusCode::kCorrupt, std::move(msg)); }
  static Status Rejected(std::string msg) { return Status(StatusCode::kRejected, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(StatusCode::kUnavailable, std::move(msg)); }
  static Status ResourceExhausted(std::string msg) {
    return Status(StatusCode::kResourceExhausted, std::move(msg));
  }
  static Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  std::string_view message() const { return state_ ? std::string_view(state_->message) : std::string_view(); }
  // "OK" or "<kind>: <message>".
  std::string ToString() const;
  // Same kind, message prefixed with context ("reading proof.bin: ...").
  Status WithContext(std::string_view context) const;

 private:
  Status(StatusCode code, std::string msg) : state_(std::make_shared<State>(State{code, std::move(msg)})) {}
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;  // null when OK, so OK costs nothing
};

// A value or the failed Status saying why there is none; never both, never neither. Built from an OK Status (a
// caller's bug: there is no value to hold) it holds kInternal "a Result was built from an OK status without a
// value" instead, and asserts in debug builds. Accessing the value of a failed Result is a programming error
// that asserts in debug builds (and is undefined in release builds, where the check costs nothing).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(FailedOrInternal(std::move(status))) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return value_.has_value(); }
  // OK when a value is held.
  const Status& status() const { return status_; }
  T& value() & { return checked(); }
  const T& value() const& { return checked(); }
  T&& value() && { return std::move(checked()); }
  T* operator->() { return &checked(); }
  const T* operator->() const { return &checked(); }
  T& operator*() & { return checked(); }
  const T& operator*() const& { return checked(); }

 private:
  // Built in the initialiser, not assigned afterwards: assigning a [[nodiscard]] Status discards operator='s
  // result, which nvcc warns about in every .cu file.
  static Status FailedOrInternal(Status status) {
    assert(!status.ok() && "a Result was built from an OK status without a value");
    if (status.ok()) return Status::Internal("a Result was built from an OK status without a value");
    return status;
  }
  T& checked() {
    assert(value_.has_value() && "value() of a failed Result");
    return *value_;
  }
  const T& checked() const {
    assert(value_.has_value() && "value() of a failed Result");
    return *value_;
  }
  std::optional<T> value_;
  Status status_;
};

}  // namespace vcp

// Early return on error inside functions returning Status or Result<T>.
#define VCP_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::vcp::Status vcp_status_ = (expr);      \
    if (!vcp_status_.ok()) return vcp_status_; \
  } while (0)

#define VCP_CONCAT_INNER(a, b) a##b
#define VCP_CONCAT(a, b) VCP_CONCAT_INNER(a, b)
// VCP_ASSIGN_OR_RETURN(auto x, expr): x = expr.value(), or return expr.status().
#define VCP_ASSIGN_OR_RETURN(lhs, expr) VCP_ASSIGN_OR_RETURN_IMPL(VCP_CONCAT(vcp_result_, __LINE__), lhs, expr)
#define VCP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
