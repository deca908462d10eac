// Retry layer per api spec §0.3.
#include "http/retrying_transport.h"

#include <algorithm>
#include <ctime>
#include <random>

#include "util/strings.h"

namespace glr {

using namespace std::chrono_literals;

namespace {

constexpr int kMaxAttempts = 5;
constexpr std::chrono::milliseconds kMinBackoff{100};
constexpr std::chrono::seconds kMaxBackoff{60};

// RFC 1123 ("Mon, 02 Jan 2006 15:04:05 GMT") to a time point.
std::optional<std::chrono::system_clock::time_point> parse_rfc1123(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

}  // namespace

RetryingTransport::RetryingTransport(HttpTransport& inner, Clock& clock, Jitter jitter)
    : inner_(inner), clock_(clock), jitter_(std::move(jitter)) {
  if (!jitter_) {
    // Like the Go backoff package upstream uses: a uniform pick between the
    // minimum step (100 ms) and the current step.
    jitter_ = [](std::chrono::nanoseconds d) {
      thread_local std::mt19937_64 rng{std::random_device{}()};
      const double lo = static_cast<double>(std::chrono::nanoseconds(kMinBackoff).count());
      const double hi = static_cast<double>(d.count());
      if (hi <= lo) return d;
      std::uniform_real_distribution<double> dist(lo, hi);
      return std::chrono::nanoseconds(static_cast<int64_t>(dist(rng)));
    };
  }
}

bool RetryingTransport::is_retriable(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504 || status >= 512;
}

std::chrono::nanoseconds RetryingTransport::wait_for(const HttpResponse& response,
                                                     int attempt) const {
  std::string reset = response.header("RateLimit-ResetTime");
  if (!reset.empty()) {
    if (auto at = parse_rfc1123(reset)) {
      auto d = *at - clock_.now();
      return std::max<std::chrono::nanoseconds>(d, 0ns);
    }
  }
  std::string retry_after = response.header("Retry-After");
  if (!retry_after.empty()) {
    if (auto s = parse_int(trim(retry_after)); s && *s >= 0) return std::chrono::seconds(*s);
  }
  std::chrono::nanoseconds step = kMinBackoff;
  for (int i = 1; i < attempt && step < kMaxBackoff; ++i) step *= 2;
  step = std::min<std::chrono::nanoseconds>(step, kMaxBackoff);
  return std::min<std::chrono::nanoseconds>(jitter_(step), kMaxBackoff);
}

Result<HttpResponse> RetryingTransport::send(const HttpRequest& request, std::stop_token stop) {
  bool retriable_seen = false;
  for (int attempt = 1;; ++attempt) {
    Result<HttpResponse> r = inner_.send(request, stop);
    if (!r) return r;  // transport errors are not retried here
    r->attempts = attempt;
    bool retriable = is_retriable(r->status);
    retriable_seen = retriable_seen || retriable;
    r->retriable_seen = retriable_seen;
    if (!retriable || attempt >= kMaxAttempts) return r;
    if (!clock_.sleep_for(wait_for(*r, attempt), stop)) {
      return fail(ErrorKind::kCanceled, request.method + " " + request.url + ": canceled");
    }
  }
}

}  // namespace glr
