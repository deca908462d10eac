// The one way our code reports expected failures (STYLE C4): Result<T> over
// tl::expected, so the later switch to std::expected changes only this header.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace glr {

// Chosen by what the caller does differently: retry, re-auth, give up, report.
enum class ErrorKind {
  kInvalidInput,
  kNotFound,
  kUnauthorized,
  kConflict,
  kUnavailable,
  kIo,
  kTimeout,
  kExternalDependency,  // a service outside the runner failed (registry, network)
  kCanceled,
  kInternal,
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;  // what failed, with what: "PATCH /api/v4/jobs/42/trace: HTTP 416"
  friend bool operator==(const Error&, const Error&) = default;
};

template <class T = void>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using tl::expected<T, Error>::expected;
};

inline tl::unexpected<Error> fail(ErrorKind kind, std::string message) {
  return tl::unexpected<Error>(Error{kind, std::move(message)});
}
inline tl::unexpected<Error> fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

const char* to_string(ErrorKind kind);

}  // namespace glr
