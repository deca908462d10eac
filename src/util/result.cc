// Names for ErrorKind, used in messages and tests.
#include "util/result.h"

namespace glr {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput: return "invalid input";
    case ErrorKind::kNotFound: return "not found";
    case ErrorKind::kUnauthorized: return "unauthorized";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kIo: return "i/o error";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kExternalDependency: return "external dependency failure";
    case ErrorKind::kCanceled: return "canceled";
    case ErrorKind::kInternal: return "internal error";
  }
  return "unknown";
}

}  // namespace glr
