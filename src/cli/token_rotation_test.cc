// Token rotation schedule and reset-then-save (api spec §1.6).
#include "cli/token_rotation.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "config/config_writer.h"
#include "support/fake_clock.h"
#include "support/fake_http_transport.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

TEST(TokenRotation, ParsesRfc3339AndTheZeroValue) {
  auto t = parse_rfc3339("2026-05-04T10:11:12Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-05-04T10:11:12Z");
  EXPECT_EQ(parse_rfc3339("2026-05-04T12:11:12.5+02:00"), t);
  EXPECT_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339(""));
  EXPECT_FALSE(parse_rfc3339("tomorrow"));
}

TEST(TokenRotation, DueAtThreeQuartersOfTheLifetime) {
  RunnerSettings r;
  r.token_obtained_at = "2026-01-01T00:00:00Z";
  r.token_expires_at = "2026-01-05T00:00:00Z";
  EXPECT_EQ(format_rfc3339(*rotation_due(r)), "2026-01-04T00:00:00Z");
  r.token_expires_at = "0001-01-01T00:00:00Z";
  EXPECT_FALSE(rotation_due(r));
}

// ---- TokenRotator ------------------------------------------------------------------------

// Runs `before_send` (e.g. to break the config directory) ahead of each canned answer.
class HookedTransport final : public HttpTransport {
 public:
  FakeHttpTransport inner;
  std::function<void()> before_send;
  Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop) override {
    if (before_send) before_send();
    return inner.send(request, stop);
  }
};

HttpResponse reset_answer(const std::string& token, const std::string& expires) {
  return FakeHttpTransport::respond(201, {{"Content-Type", "application/json"}},
                                    R"({"token":")" + token + R"(","token_expires_at":")" +
                                        expires + R"("})");
}

RunnerSettings expiring(const std::string& name, const std::string& token,
                        const std::string& obtained, const std::string& expires) {
  RunnerSettings r;
  r.name = name;
  r.url = "https://gitlab.example.com/";
  r.token = Secret{token};
  r.executor = "shell";
  r.token_obtained_at = obtained;
  r.token_expires_at = expires;
  return r;
}

class TokenRotatorTest : public ::testing::Test {
 protected:
  TokenRotatorTest() {
    // FakeClock starts at 2025-08-21T09:55:02Z.
    config_.concurrent = 3;
    config_.runners = {
        // due 2025-08-22T00:00:00Z
        expiring("late", "glrt-late", "2025-08-19T00:00:00Z", "2025-08-23T00:00:00Z"),
        // due 2025-08-21T18:00:00Z: the earliest
        expiring("early", "glrt-early", "2025-08-21T00:00:00Z", "2025-08-22T00:00:00Z"),
        expiring("never", "glrt-never", "2025-08-21T00:00:00Z", "0001-01-01T00:00:00Z")};
    EXPECT_TRUE(save_config_atomic(path_, config_));
  }

  GlobalConfig on_disk() const {
    Result<GlobalConfig> c = load_config(path_);
    EXPECT_TRUE(c) << c.error().message;
    return c ? *c : GlobalConfig{};
  }

  std::string sent_token(size_t i) const {
    const std::string& body = http_.inner.requests.at(i).body;
    return body.substr(body.find(':') + 2, body.rfind('"') - body.find(':') - 2);
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_.path() / "config.toml";
  GlobalConfig config_;
  FakeClock clock_;
  HookedTransport http_;
  TokenRotator rotator_{path_, http_, clock_};
};

TEST_F(TokenRotatorTest, EarliestDueTokenFirstOnePerPoll) {
  rotator_.reschedule(config_);
  EXPECT_EQ(format_rfc3339(*rotator_.next_due()), "2025-08-21T18:00:00Z");
  EXPECT_FALSE(rotator_.poll());
  EXPECT_TRUE(http_.inner.requests.empty());

  clock_.advance(std::chrono::hours(15));  // 2025-08-22T00:55:02Z: both are due
  http_.inner.answers.push_back(reset_answer("glrt-early2", "2025-08-23T00:55:02Z"));
  http_.inner.answers.push_back(reset_answer("glrt-late2", "2025-08-26T00:55:02Z"));
  EXPECT_TRUE(rotator_.poll());
  ASSERT_EQ(http_.inner.requests.size(), 1u);
  EXPECT_EQ(sent_token(0), "glrt-early");
  GlobalConfig after = on_disk();
  EXPECT_EQ(after.runners[1].token.value, "glrt-early2");
  EXPECT_EQ(after.runners[1].token_obtained_at, "2025-08-22T00:55:02Z");
  EXPECT_EQ(after.runners[1].token_expires_at, "2025-08-23T00:55:02Z");
  EXPECT_EQ(after.runners[0].token.value, "glrt-late");

  EXPECT_TRUE(rotator_.poll());
  EXPECT_EQ(sent_token(1), "glrt-late");
  EXPECT_EQ(on_disk().runners[0].token.value, "glrt-late2");
  // Next: glrt-early2 at obtained + 75 % of one day.
  EXPECT_EQ(format_rfc3339(*rotator_.next_due()), "2025-08-22T18:55:02Z");
  EXPECT_FALSE(rotator_.poll());
  EXPECT_EQ(http_.inner.requests.size(), 2u);
}

TEST_F(TokenRotatorTest, RereadsTheFileSoLaterEditsAreKept) {
  rotator_.reschedule(config_);
  GlobalConfig edited = config_;
  edited.concurrent = 9;
  edited.runners[0].limit = 4;
  edited.runners[1].tls_ca_file = "/etc/gitlab-runner/certs/ca.crt";
  ASSERT_TRUE(save_config_atomic(path_, edited));
  clock_.advance(std::chrono::hours(9));  // 18:55:02: "early" is due
  http_.inner.answers.push_back(reset_answer("glrt-early2", "2025-08-23T00:00:00Z"));
  EXPECT_TRUE(rotator_.poll());
  GlobalConfig after = on_disk();
  EXPECT_EQ(after.concurrent, 9);
  EXPECT_EQ(after.runners[0].limit, 4);
  EXPECT_EQ(after.runners[1].token.value, "glrt-early2");
  EXPECT_EQ(after.runners.size(), 3u);
  EXPECT_EQ(http_.inner.requests.at(0).ca_file, "/etc/gitlab-runner/certs/ca.crt");
}

TEST_F(TokenRotatorTest, FailedResetIsRetriedWithBackOffNotAtOnce) {
  rotator_.reschedule(config_);
  clock_.advance(std::chrono::hours(9));  // 18:55:02: "early" is due
  http_.inner.answers.push_back(FakeHttpTransport::respond(403, {}, R"({"message":"403 Forbidden"})"));
  EXPECT_FALSE(rotator_.poll());
  EXPECT_FALSE(rotator_.poll());  // backing off: no second request
  EXPECT_EQ(http_.inner.requests.size(), 1u);
  EXPECT_EQ(*rotator_.next_due(), clock_.now() + std::chrono::seconds(60));
  clock_.advance(std::chrono::seconds(60));
  http_.inner.answers.push_back(FakeHttpTransport::respond(500));
  EXPECT_FALSE(rotator_.poll());
  EXPECT_EQ(http_.inner.requests.size(), 2u);
  EXPECT_EQ(*rotator_.next_due(), clock_.now() + std::chrono::seconds(120));
  EXPECT_EQ(on_disk(), config_);  // nothing written
}

TEST_F(TokenRotatorTest, NewTokenThatCouldNotBeSavedIsSavedLater) {
  rotator_.reschedule(config_);
  clock_.advance(std::chrono::hours(9));  // 18:55:02: "early" is due
  std::filesystem::path moved = dir_.path().string() + "-moved";
  // The directory turns into a plain file while the reset is in flight: the save fails.
  http_.before_send = [&] {
    std::filesystem::rename(dir_.path(), moved);
    std::FILE* f = std::fopen(dir_.path().c_str(), "w");
    if (f != nullptr) std::fclose(f);
  };
  http_.inner.answers.push_back(reset_answer("glrt-early2", "2025-08-23T00:00:00Z"));
  EXPECT_FALSE(rotator_.poll());
  std::filesystem::remove(dir_.path());
  std::filesystem::rename(moved, dir_.path());
  EXPECT_EQ(on_disk().runners[1].token.value, "glrt-early");
  EXPECT_FALSE(rotator_.poll());  // backing off
  clock_.advance(std::chrono::seconds(60));
  EXPECT_TRUE(rotator_.poll());
  EXPECT_EQ(on_disk().runners[1].token.value, "glrt-early2");
  EXPECT_EQ(http_.inner.requests.size(), 1u);  // the server was asked once only
}

TEST_F(TokenRotatorTest, FeatureFlagWarnsInsteadAndTheRunnerLeavesTheSchedule) {
  config_.runners[1].feature_flags["FF_DISABLE_AUTOMATIC_TOKEN_ROTATION"] = true;
  ASSERT_TRUE(save_config_atomic(path_, config_));
  rotator_.reschedule(config_);
  clock_.advance(std::chrono::hours(9));  // 18:55:02: "early" is due
  EXPECT_FALSE(rotator_.poll());
  EXPECT_TRUE(http_.inner.requests.empty());
  EXPECT_EQ(format_rfc3339(*rotator_.next_due()), "2025-08-22T00:00:00Z");  // "late" only
}

TEST_F(TokenRotatorTest, RunnerGoneFromTheFileIsNotReset) {
  rotator_.reschedule(config_);
  GlobalConfig edited = config_;
  edited.runners.erase(edited.runners.begin() + 1);
  ASSERT_TRUE(save_config_atomic(path_, edited));
  clock_.advance(std::chrono::hours(9));  // 18:55:02: "early" is due
  EXPECT_FALSE(rotator_.poll());
  EXPECT_TRUE(http_.inner.requests.empty());
  EXPECT_EQ(format_rfc3339(*rotator_.next_due()), "2025-08-22T00:00:00Z");
}

TEST_F(TokenRotatorTest, NothingExpiresNothingScheduled) {
  config_.runners = {config_.runners[2]};
  rotator_.reschedule(config_);
  EXPECT_FALSE(rotator_.next_due());
  clock_.advance(std::chrono::hours(24 * 365));
  EXPECT_FALSE(rotator_.poll());
}

}  // namespace
}  // namespace glr
