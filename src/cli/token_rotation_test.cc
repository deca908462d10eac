// Token rotation schedule and reset-then-save (api spec §1.6).
#include "cli/token_rotation.h"

#include <gtest/gtest.h>

#include "config/config_writer.h"
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

TEST(TokenRotation, ResetsDueTokensAndSavesTheFile) {
  TempDir dir;
  auto path = dir.path() / "config.toml";
  GlobalConfig c;
  RunnerSettings due;
  due.name = "due";
  due.url = "https://gitlab.example.com/";
  due.token = Secret{"glrt-old"};
  due.executor = "shell";
  due.token_obtained_at = "2026-01-01T00:00:00Z";
  due.token_expires_at = "2026-01-05T00:00:00Z";
  RunnerSettings later = due;
  later.name = "later";
  later.token = Secret{"glrt-keep"};
  later.token_expires_at = "2027-01-05T00:00:00Z";
  c.runners = {due, later};
  FakeHttpTransport http;
  http.answers.push_back(FakeHttpTransport::respond(
      201, {{"Content-Type", "application/json"}},
      R"({"token":"glrt-new","token_expires_at":"2026-02-05T00:00:00Z"})"));
  RegistrationClient client(http);
  auto now = *parse_rfc3339("2026-01-04T01:00:00Z");
  EXPECT_TRUE(rotate_due_tokens(c, path, client, now));
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].url, "https://gitlab.example.com/api/v4/runners/reset_authentication_token");
  EXPECT_EQ(c.runners[0].token.value, "glrt-new");
  EXPECT_EQ(c.runners[0].token_obtained_at, "2026-01-04T01:00:00Z");
  EXPECT_EQ(c.runners[1].token.value, "glrt-keep");
  Result<GlobalConfig> reloaded = load_config(path);
  ASSERT_TRUE(reloaded) << reloaded.error().message;
  EXPECT_EQ(reloaded->runners[0].token.value, "glrt-new");
}

TEST(TokenRotation, FeatureFlagTurnsTheResetIntoAWarning) {
  TempDir dir;
  GlobalConfig c;
  RunnerSettings r;
  r.url = "https://gitlab.example.com/";
  r.token = Secret{"glrt-old"};
  r.token_obtained_at = "2026-01-01T00:00:00Z";
  r.token_expires_at = "2026-01-05T00:00:00Z";
  r.feature_flags["FF_DISABLE_AUTOMATIC_TOKEN_ROTATION"] = true;
  c.runners = {r};
  FakeHttpTransport http;
  RegistrationClient client(http);
  EXPECT_FALSE(rotate_due_tokens(c, dir.path() / "config.toml", client,
                                 *parse_rfc3339("2026-01-06T00:00:00Z")));
  EXPECT_TRUE(http.requests.empty());
}

}  // namespace
}  // namespace glr
