// The HTTP seam (STYLE C0): GitLab's API is reached only through HttpTransport,
// so tests swap in canned responses. Implementations: CurlTransport, RetryingTransport.
#pragma once

#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "util/result.h"

namespace glr {

struct HttpHeader {
  std::string name{};
  std::string value{};
  friend bool operator==(const HttpHeader&, const HttpHeader&) = default;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url{};
  std::vector<HttpHeader> headers{};
  std::string body{};
  // When set, the body is streamed: `body`, then the bytes of this file, then `body_suffix`
  // (Content-Length = their sum), so a large archive is never held in memory (issue 5: no
  // temporary full copies). A multipart envelope goes in `body` / `body_suffix`.
  std::string body_file{};
  std::string body_suffix{};
  std::chrono::milliseconds timeout{std::chrono::minutes(60)};
  // TLS options (api spec §0.5); empty = system defaults.
  std::string ca_file{};
  std::string cert_file{};
  std::string key_file{};
};

struct HttpResponse {
  int status = 0;
  std::vector<HttpHeader> headers{};
  std::string body{};
  int attempts = 1;             // requests sent, retries included (RetryingTransport)
  bool retriable_seen = false;  // a retriable status was answered on the way (§0.3)
  // Case-insensitive header lookup; empty when absent.
  std::string header(std::string_view name) const;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Performs one request. A transport failure (refused, TLS, timeout) is an Error
  // (kUnavailable / kTimeout); any HTTP status, including 5xx, is a response.
  // Thread-safe. Aborts promptly when `stop` is requested (kCanceled).
  virtual Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop) = 0;
};

}  // namespace glr
