// The generic retry layer every GitLab request goes through (api spec §0.3).
#pragma once

#include <functional>

#include "http/http_transport.h"
#include "util/clock.h"

namespace glr {

// Thread-safe when the wrapped transport is.
class RetryingTransport final : public HttpTransport {
 public:
  // Returns a jittered wait for a backoff step; injectable so tests are exact.
  using Jitter = std::function<std::chrono::nanoseconds(std::chrono::nanoseconds)>;
  // `inner` and `clock` must outlive this object.
  RetryingTransport(HttpTransport& inner, Clock& clock, Jitter jitter = {});

  // Retries 408, 429, 500, 502, 503, 504 and >= 512 up to 5 attempts in total;
  // transport errors are returned at once. The last response is returned even
  // when it is retriable.
  Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop) override;

  static bool is_retriable(int status);
  // The wait before the next attempt: RateLimit-ResetTime, then Retry-After
  // (integer seconds), then exponential backoff (100 ms x2, max 60 s).
  std::chrono::nanoseconds wait_for(const HttpResponse& response, int attempt) const;

 private:
  HttpTransport& inner_;
  Clock& clock_;
  Jitter jitter_;
};

}  // namespace glr
