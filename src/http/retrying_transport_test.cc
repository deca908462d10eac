// The generic retry layer (api spec §0.3).
#include "http/retrying_transport.h"

#include <gtest/gtest.h>

#include "support/fake_clock.h"
#include "support/fake_http_transport.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

RetryingTransport::Jitter no_jitter() {
  return [](std::chrono::nanoseconds d) { return d; };
}

TEST(RetryingTransport, RetriesRetriableStatusesUpToFiveAttempts) {
  FakeHttpTransport inner;
  FakeClock clock;
  for (int i = 0; i < 10; ++i) inner.answers.push_back(FakeHttpTransport::respond(502));
  RetryingTransport t(inner, clock, no_jitter());
  Result<HttpResponse> r = t.send(HttpRequest{.url = "http://x/"}, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->attempts, 5);
  EXPECT_TRUE(r->retriable_seen);
  EXPECT_EQ(inner.requests.size(), 5u);
  // Exponential backoff from 100 ms, doubling.
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::nanoseconds>{100ms, 200ms, 400ms, 800ms}));
}

TEST(RetryingTransport, WhichStatusesAreRetried) {
  for (int s : {408, 429, 500, 502, 503, 504, 512, 599}) EXPECT_TRUE(RetryingTransport::is_retriable(s)) << s;
  for (int s : {200, 201, 204, 400, 401, 403, 404, 409, 416, 501, 505, 511}) EXPECT_FALSE(RetryingTransport::is_retriable(s)) << s;
}

TEST(RetryingTransport, SuccessAfterRetryReportsTheRetry) {
  FakeHttpTransport inner;
  FakeClock clock;
  inner.answers.push_back(FakeHttpTransport::respond(503));
  inner.answers.push_back(FakeHttpTransport::respond(201));
  RetryingTransport t(inner, clock, no_jitter());
  Result<HttpResponse> r = t.send(HttpRequest{}, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->attempts, 2);
  EXPECT_TRUE(r->retriable_seen);
}

TEST(RetryingTransport, HonoursRetryAfterSeconds) {
  FakeHttpTransport inner;
  FakeClock clock;
  inner.answers.push_back(FakeHttpTransport::respond(429, {{"Retry-After", "7"}}));
  inner.answers.push_back(FakeHttpTransport::respond(200));
  RetryingTransport t(inner, clock, no_jitter());
  ASSERT_TRUE(t.send(HttpRequest{}, {}));
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::nanoseconds>{7s}));
}

TEST(RetryingTransport, RateLimitResetTimeWins) {
  FakeHttpTransport inner;
  FakeClock clock;  // starts at 2025-08-21T09:55:02Z (unix 1755770102)
  inner.answers.push_back(FakeHttpTransport::respond(
      429, {{"Retry-After", "60"}, {"RateLimit-ResetTime", "Thu, 21 Aug 2025 09:55:12 GMT"}}));
  inner.answers.push_back(FakeHttpTransport::respond(200));
  RetryingTransport t(inner, clock, no_jitter());
  ASSERT_TRUE(t.send(HttpRequest{}, {}));
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::nanoseconds>{10s}));
}

TEST(RetryingTransport, BackoffIsCappedAtSixtySeconds) {
  FakeHttpTransport inner;
  FakeClock clock;
  RetryingTransport t(inner, clock, no_jitter());
  EXPECT_EQ(t.wait_for(FakeHttpTransport::respond(500), 20), std::chrono::nanoseconds(60s));
}

TEST(RetryingTransport, DefaultJitterStaysBetweenTheMinimumAndTheStep) {
  FakeHttpTransport inner;
  FakeClock clock;
  RetryingTransport t(inner, clock);
  for (int i = 0; i < 50; ++i) {
    std::chrono::nanoseconds d = t.wait_for(FakeHttpTransport::respond(500), 3);  // step 400 ms
    EXPECT_GE(d, std::chrono::nanoseconds(100ms));
    EXPECT_LE(d, std::chrono::nanoseconds(400ms));
  }
  EXPECT_EQ(t.wait_for(FakeHttpTransport::respond(500), 1), std::chrono::nanoseconds(100ms));
}

TEST(RetryingTransport, PastResetTimeAndJunkRetryAfterFallBack) {
  FakeHttpTransport inner;
  FakeClock clock;  // 2025-08-21T09:55:02Z
  RetryingTransport t(inner, clock, no_jitter());
  EXPECT_EQ(t.wait_for(FakeHttpTransport::respond(
                           429, {{"RateLimit-ResetTime", "Thu, 21 Aug 2025 09:00:00 GMT"}}), 1),
            std::chrono::nanoseconds(0));
  // Retry-After in HTTP-date form is not supported (§0.3): exponential backoff.
  EXPECT_EQ(t.wait_for(FakeHttpTransport::respond(
                           503, {{"Retry-After", "Thu, 21 Aug 2025 09:56:00 GMT"}}), 2),
            std::chrono::nanoseconds(200ms));
  EXPECT_EQ(t.wait_for(FakeHttpTransport::respond(503, {{"RateLimit-ResetTime", "soon"},
                                                        {"Retry-After", "3"}}), 2),
            std::chrono::nanoseconds(3s));
}

TEST(RetryingTransport, NonRetriableStatusIsReturnedAtOnce) {
  FakeHttpTransport inner;
  FakeClock clock;
  inner.answers.push_back(FakeHttpTransport::respond(404));
  RetryingTransport t(inner, clock, no_jitter());
  Result<HttpResponse> r = t.send(HttpRequest{}, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->attempts, 1);
  EXPECT_FALSE(r->retriable_seen);
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(RetryingTransport, EveryAttemptResendsTheSameRequest) {
  FakeHttpTransport inner;
  FakeClock clock;
  inner.answers.push_back(FakeHttpTransport::respond(502));
  inner.answers.push_back(FakeHttpTransport::respond(200));
  RetryingTransport t(inner, clock, no_jitter());
  HttpRequest req{.method = "PUT", .url = "http://x/api/v4/jobs/1", .body = R"({"state":"running"})"};
  ASSERT_TRUE(t.send(req, {}));
  ASSERT_EQ(inner.requests.size(), 2u);
  EXPECT_EQ(inner.requests[1].body, req.body);
  EXPECT_EQ(inner.requests[1].method, "PUT");
}

TEST(RetryingTransport, TransportErrorsAreNotRetried) {
  FakeHttpTransport inner;
  FakeClock clock;
  inner.answers.push_back(fail(ErrorKind::kUnavailable, "connection refused"));
  RetryingTransport t(inner, clock, no_jitter());
  Result<HttpResponse> r = t.send(HttpRequest{}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(inner.requests.size(), 1u);
}

TEST(RetryingTransport, StopAbortsTheWait) {
  FakeHttpTransport inner;
  FakeClock clock;
  inner.answers.push_back(FakeHttpTransport::respond(500));
  std::stop_source stop;
  stop.request_stop();
  RetryingTransport t(inner, clock, no_jitter());
  Result<HttpResponse> r = t.send(HttpRequest{}, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCanceled);
}

}  // namespace
}  // namespace glr
