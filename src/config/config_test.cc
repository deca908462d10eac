// Tests for config.toml loading (api spec §8, §1.7, §0.1, §2.5).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>

#include "config/runner_config.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

std::map<std::string, std::string> g_env = {
    {"GITLAB_URL", "https://gitlab.example.com"},
    {"RUNNER_TOKEN", "glrt-secret"},
};

std::optional<std::string> fake_env(std::string_view name) {
  auto it = g_env.find(std::string(name));
  if (it == g_env.end()) return std::nullopt;
  return it->second;
}

Result<GlobalConfig> parse(std::string_view text) {
  return parse_config(text, "config.toml", fake_env);
}

// The error message of a refused file; fails the test when the file was accepted.
std::string error_of(std::string_view text) {
  Result<GlobalConfig> c = parse(text);
  EXPECT_FALSE(c.has_value()) << "accepted:\n" << text;
  if (c) return {};
  EXPECT_EQ(c.error().kind, ErrorKind::kInvalidInput);
  return c.error().message;
}

// The file `gitlab-runner register` writes (§1.7), verbatim shape.
constexpr std::string_view kRegisteredFile = R"(concurrent = 1
check_interval = 0
connection_max_age = "15m0s"
shutdown_timeout = 0

[session_server]
  session_timeout = 1800

[[runners]]
  name = "build-host-01"
  url = "https://gitlab.example.com/"
  id = 4211
  token = "glrt-t1_AbCdEfGhIjKlMnOpQrSt"
  token_obtained_at = 2026-05-04T10:11:12Z
  token_expires_at = 0001-01-01T00:00:00Z
  executor = "docker"
  [runners.cache]
    MaxUploadedArchiveSize = 0
    [runners.cache.s3]
      AssumeRoleMaxConcurrency = 0
    [runners.cache.gcs]
    [runners.cache.azure]
  [runners.docker]
    image = "alpine:3.20"
    volumes = ["/cache"]
)";

TEST(ConfigLoader, ParsesTheFileRegisterWrites) {
  Result<GlobalConfig> c = parse(kRegisteredFile);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->concurrent, 1);
  EXPECT_EQ(c->check_interval, 0);
  EXPECT_EQ(c->connection_max_age, 15min);
  EXPECT_EQ(c->shutdown_timeout, 0);
  EXPECT_EQ(c->sections, std::vector<std::string>{"session_server"});
  EXPECT_NE(c->raw_sections.at("session_server").find("session_timeout = 1800"), std::string::npos);
  EXPECT_TRUE(c->unknown_keys.empty());
  ASSERT_EQ(c->runners.size(), 1u);
  const RunnerSettings& r = c->runners[0];
  EXPECT_EQ(r.name, "build-host-01");
  EXPECT_EQ(r.url, "https://gitlab.example.com/");
  EXPECT_EQ(r.id, 4211);
  EXPECT_EQ(r.token.value, "glrt-t1_AbCdEfGhIjKlMnOpQrSt");
  EXPECT_EQ(r.token_obtained_at, "2026-05-04T10:11:12Z");
  EXPECT_EQ(r.token_expires_at, "0001-01-01T00:00:00Z");
  EXPECT_TRUE(is_zero_timestamp(r.token_expires_at));
  EXPECT_FALSE(is_zero_timestamp(r.token_obtained_at));
  EXPECT_EQ(r.executor, "docker");
  EXPECT_EQ(r.sections, (std::vector<std::string>{"cache", "docker"}));
  const std::string& cache = r.raw_sections.at("cache");
  EXPECT_NE(cache.find("MaxUploadedArchiveSize = 0"), std::string::npos) << cache;
  EXPECT_NE(cache.find("AssumeRoleMaxConcurrency = 0"), std::string::npos) << cache;
  EXPECT_NE(r.raw_sections.at("docker").find("alpine:3.20"), std::string::npos);
}

TEST(ConfigLoader, RawSectionTextParsesBackToTheSameValues) {
  Result<GlobalConfig> c = parse(kRegisteredFile);
  ASSERT_TRUE(c) << c.error().message;
  // A writer re-emits the kept text under its header; reading that back must round-trip.
  std::string text = "[[runners]]\nexecutor = \"docker\"\n[runners.docker]\n" +
                     c->runners[0].raw_sections.at("docker") + "\n";
  Result<GlobalConfig> again = parse(text);
  ASSERT_TRUE(again) << again.error().message << "\n" << text;
  EXPECT_EQ(again->runners[0].raw_sections.at("docker"), c->runners[0].raw_sections.at("docker"));
}

TEST(ConfigLoader, ParsesHelmChartStyleKubernetesRunner) {
  Result<GlobalConfig> c = parse(R"(
concurrent = 10
check_interval = 30
log_level = "info"
listen_address = ":9252"
shutdown_timeout = 0

[[runners]]
  name = "gitlab-runner-7d9f8c-abcde"
  url = "https://gitlab.example.com/"
  token = "glrt-helm"
  executor = "kubernetes"
  request_concurrency = 4
  limit = 10
  output_limit = 16384
  environment = ["FOO=bar", "HTTP_PROXY=http://proxy:3128"]
  [runners.feature_flags]
    FF_USE_ADAPTIVE_REQUEST_CONCURRENCY = false
    FF_TIMESTAMPS = true
  [runners.custom_build_dir]
    enabled = true
  [runners.kubernetes]
    namespace = "gitlab-runner"
    image = "ubuntu:22.04"
    privileged = true
    service_account = "gitlab-runner"
    helper_image = "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.0.0"
    poll_timeout = 600
    [runners.kubernetes.node_selector]
      "kubernetes.io/os" = "linux"
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->concurrent, 10);
  EXPECT_EQ(c->check_interval, 30);
  EXPECT_EQ(c->listen_address, ":9252");
  ASSERT_EQ(c->runners.size(), 1u);
  const RunnerSettings& r = c->runners[0];
  EXPECT_EQ(r.executor, "kubernetes");
  EXPECT_EQ(r.request_concurrency, 4);
  EXPECT_EQ(effective_request_concurrency(r), 4);
  EXPECT_EQ(r.limit, 10);
  EXPECT_EQ(effective_output_limit_bytes(r), 16384 * 1024);
  EXPECT_EQ(r.environment, (std::vector<std::string>{"FOO=bar", "HTTP_PROXY=http://proxy:3128"}));
  EXPECT_EQ(r.feature_flags,
            (std::map<std::string, bool>{{"FF_TIMESTAMPS", true},
                                         {"FF_USE_ADAPTIVE_REQUEST_CONCURRENCY", false}}));
  EXPECT_EQ(r.custom_build_dir_enabled, std::optional<bool>(true));
  EXPECT_EQ(r.sections,
            (std::vector<std::string>{"feature_flags", "custom_build_dir", "kubernetes"}));
  const std::string& k8s = r.raw_sections.at("kubernetes");
  for (std::string_view want :
       {"namespace = ", "gitlab-runner", "ubuntu:22.04", "privileged = true", "service_account = ",
        "helper_image = ", "gitlab-runner-helper:x86_64-v17.0.0", "kubernetes.io/os"}) {
    EXPECT_NE(k8s.find(want), std::string::npos) << want << " missing in:\n" << k8s;
  }
  EXPECT_TRUE(c->unknown_keys.empty());
}

TEST(ConfigLoader, InlineTablesAreKeptAsSectionBodies) {
  Result<GlobalConfig> c = parse(R"(
labels = { team = "ci" }
[[runners]]
  token_obtained_at = 2026-05-04T10:11:12.5+02:00
  labels = { zone = "eu" }
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->labels, (std::map<std::string, std::string>{{"team", "ci"}}));
  EXPECT_EQ(c->runners[0].labels, (std::map<std::string, std::string>{{"zone", "eu"}}));
  EXPECT_EQ(c->runners[0].raw_sections.at("labels"), "zone = 'eu'");
  EXPECT_EQ(c->runners[0].token_obtained_at, "2026-05-04T10:11:12.5+02:00");
  EXPECT_EQ(error_of("labels = { team = 5 }\n"),
            "config.toml:1: labels.team: expected string, got integer 5");
}

TEST(ConfigLoader, ExpandsEnvironmentInUrlAndTokenOnly) {
  Result<GlobalConfig> c = parse(R"(
[[runners]]
  name = "$GITLAB_URL"
  url = "${GITLAB_URL}/sub"
  token = "$RUNNER_TOKEN"
  builds_dir = "$HOME/builds"
[[runners]]
  url = "$UNSET_VAR_X"
  token = "literal$"
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->runners[0].url, "https://gitlab.example.com/sub");
  EXPECT_EQ(c->runners[0].token.value, "glrt-secret");
  EXPECT_EQ(c->runners[0].name, "$GITLAB_URL");
  EXPECT_EQ(c->runners[0].builds_dir, "$HOME/builds");
  EXPECT_EQ(c->runners[1].url, "");
  EXPECT_EQ(c->runners[1].token.value, "literal$");
}

TEST(ConfigLoader, ExpandEnvFollowsGoOsExpand) {
  EXPECT_EQ(expand_env("a${GITLAB_URL}b", fake_env), "ahttps://gitlab.example.comb");
  EXPECT_EQ(expand_env("$GITLAB_URL/x", fake_env), "https://gitlab.example.com/x");
  EXPECT_EQ(expand_env("$RUNNER_TOKEN.x", fake_env), "glrt-secret.x");
  EXPECT_EQ(expand_env("100%$", fake_env), "100%$");
  EXPECT_EQ(expand_env("a$%b", fake_env), "a$%b");      // '$' without a name is kept
  EXPECT_EQ(expand_env("a${}b", fake_env), "ab");       // bad syntax is dropped, as in Go
  EXPECT_EQ(expand_env("a${OPEN", fake_env), "aOPEN");  // Go eats the unterminated "${"
  EXPECT_EQ(expand_env("$1x", fake_env), "x");          // one-character special name
}

TEST(ConfigLoader, ParsesDurationsAsGoDoes) {
  Result<GlobalConfig> c = parse(R"(
connection_max_age = "1h30m"
[[runners]]
  unhealthy_interval = "90s"
  prepare_timeout = 2000000000
  get_sources_timeout = "1.5m"
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->connection_max_age, 90min);
  EXPECT_EQ(c->runners[0].unhealthy_interval, 90s);
  EXPECT_EQ(c->runners[0].prepare_timeout, 2s);  // a bare integer is nanoseconds
  EXPECT_EQ(c->runners[0].get_sources_timeout, 90s);
}

TEST(ConfigLoader, EmptyFileGivesDefaults) {
  Result<GlobalConfig> c = parse("");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->concurrent, 1);
  EXPECT_EQ(c->connection_max_age, 15min);
  EXPECT_TRUE(c->runners.empty());
  EXPECT_EQ(effective_check_interval_seconds(*c), 3);
  EXPECT_EQ(effective_shutdown_timeout_seconds(*c), 30);
}

TEST(ConfigLoader, EffectiveDefaults) {
  RunnerSettings r;
  EXPECT_EQ(effective_output_limit_bytes(r), 4096 * 1024);
  EXPECT_EQ(effective_request_concurrency(r), 1);
  EXPECT_EQ(effective_unhealthy_requests_limit(r), 3);
  EXPECT_EQ(effective_unhealthy_interval(r), 1h);
  EXPECT_EQ(effective_final_update_retry_limit(r), 10);
  r.output_limit = 1;
  r.request_concurrency = 3;
  r.unhealthy_requests_limit = 7;
  r.unhealthy_interval = 5min;
  r.job_status_final_update_retry_limit = 2;
  EXPECT_EQ(effective_output_limit_bytes(r), 1024);
  EXPECT_EQ(effective_request_concurrency(r), 3);
  EXPECT_EQ(effective_unhealthy_requests_limit(r), 7);
  EXPECT_EQ(effective_unhealthy_interval(r), 5min);
  EXPECT_EQ(effective_final_update_retry_limit(r), 2);
  GlobalConfig g;
  g.check_interval = -5;
  g.shutdown_timeout = 12;
  EXPECT_EQ(effective_check_interval_seconds(g), 3);
  EXPECT_EQ(effective_shutdown_timeout_seconds(g), 12);
}

TEST(ConfigLoader, CollectsUnknownKeysButKeepsLoading) {
  Result<GlobalConfig> c = parse(R"(
concurrent = 2
bogus = 1
[[runners]]
  url = "https://a/"
  colour = "blue"
  [runners.frobnicator]
    x = 1
[[runners]]
  url = "https://b/"
  executor = "teleport"
  sentry = true
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->unknown_keys,
            (std::vector<std::string>{"bogus", "runners[0].colour", "runners[0].frobnicator",
                                      "runners[1].sentry"}));
  EXPECT_EQ(c->runners[0].sections, std::vector<std::string>{"frobnicator"});
  EXPECT_EQ(c->runners[1].executor, "teleport");  // unknown executor: not a load error
}

TEST(ConfigLoader, KnownButUnmodelledKeysAreNotUnknown) {
  Result<GlobalConfig> c = parse(R"(
sentry_dsn = "https://sentry/1"
[machine.shutdown_drain]
  enabled = true
[[runners]]
  shell = "bash"
  proxy_exec = true
  step_runner_image = "registry/step-runner:1"
  [runners.artifact]
    upload_timeout = "1h"
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->unknown_keys.empty());
  EXPECT_EQ(c->sentry_dsn, "https://sentry/1");
  EXPECT_EQ(c->sections, std::vector<std::string>{"machine"});
  EXPECT_TRUE(c->runners[0].proxy_exec);
  EXPECT_EQ(c->runners[0].sections, std::vector<std::string>{"artifact"});
}

TEST(ConfigLoader, RefusesWrongTypeWithLineAndKey) {
  EXPECT_EQ(error_of("concurrent = 2\n\n[[runners]]\n  name = \"x\"\n  limit = \"abc\"\n"),
            "config.toml:5: runners[0].limit: expected integer, got string \"abc\"");
  EXPECT_EQ(error_of("check_interval = 1.5\n"),
            "config.toml:1: check_interval: expected integer, got float 1.5");
  EXPECT_EQ(error_of("[[runners]]\n[[runners]]\n  strict_check_interval = \"yes\"\n"),
            "config.toml:3: runners[1].strict_check_interval: expected boolean, got string "
            "\"yes\"");
  EXPECT_EQ(error_of("[[runners]]\n  url = 5\n"),
            "config.toml:2: runners[0].url: expected string, got integer 5");
  EXPECT_EQ(error_of("[[runners]]\n  docker = \"alpine\"\n"),
            "config.toml:2: runners[0].docker: expected table, got string \"alpine\"");
}

TEST(ConfigLoader, RefusesMalformedDuration) {
  EXPECT_EQ(error_of("connection_max_age = \"15 minutes\"\n"),
            "config.toml:1: connection_max_age: invalid duration \"15 minutes\" (use Go syntax "
            "such as \"90s\" or \"1h30m\")");
  std::string msg = error_of("[[runners]]\n  unhealthy_interval = true\n");
  EXPECT_EQ(msg.rfind("config.toml:2: runners[0].unhealthy_interval: expected duration", 0), 0u)
      << msg;
}

TEST(ConfigLoader, RefusesConcurrentBelowOne) {
  EXPECT_EQ(error_of("log_level = \"info\"\nconcurrent = 0\n"),
            "config.toml:2: concurrent: must be at least 1, got 0");
  EXPECT_EQ(error_of("concurrent = -3\n"), "config.toml:1: concurrent: must be at least 1, got -3");
}

TEST(ConfigLoader, RefusesNegativeLimits) {
  EXPECT_EQ(error_of("[[runners]]\n  limit = -1\n"),
            "config.toml:2: runners[0].limit: must not be negative, got -1");
  EXPECT_EQ(error_of("[[runners]]\n  name = \"a\"\n  output_limit = -4\n"),
            "config.toml:3: runners[0].output_limit: must not be negative, got -4");
  EXPECT_EQ(error_of("[[runners]]\n\n\n  request_concurrency = -2\n"),
            "config.toml:4: runners[0].request_concurrency: must not be negative, got -2");
}

TEST(ConfigLoader, RefusesOutOfRangeInteger) {
  EXPECT_EQ(error_of("[[runners]]\n  limit = 9999999999\n"),
            "config.toml:2: runners[0].limit: integer 9999999999 is out of range");
}

TEST(ConfigLoader, RefusesNonBooleanFeatureFlag) {
  EXPECT_EQ(
      error_of("[[runners]]\n  [runners.feature_flags]\n    FF_A = true\n    FF_B = \"yes\"\n"),
      "config.toml:4: runners[0].feature_flags.FF_B: expected boolean, got string \"yes\"");
  EXPECT_EQ(error_of("[[runners]]\n  [runners.custom_build_dir]\n    enabled = 1\n"),
            "config.toml:3: runners[0].custom_build_dir.enabled: expected boolean, got integer 1");
}

TEST(ConfigLoader, RefusesNonStringEnvironmentEntry) {
  EXPECT_EQ(error_of("[[runners]]\n  environment = [\"A=1\", 2]\n"),
            "config.toml:2: runners[0].environment[1]: expected string, got integer 2");
  EXPECT_EQ(error_of("[[runners]]\n  environment = \"A=1\"\n"),
            "config.toml:2: runners[0].environment: expected array of strings, got string "
            "\"A=1\"");
}

TEST(ConfigLoader, RefusesRunnersThatAreNotAnArrayOfTables) {
  EXPECT_EQ(error_of("concurrent = 1\n[runners]\n  url = \"x\"\n"),
            "config.toml:2: runners: expected array of tables ([[runners]]), got table");
  EXPECT_EQ(error_of("runners = [1, 2]\n"),
            "config.toml:1: runners: expected array of tables ([[runners]]), got array");
}

TEST(ConfigLoader, AcceptsAnEmptyRunnersArray) {
  Result<GlobalConfig> c = parse("concurrent = 2\nrunners = []\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->runners.empty());
}

TEST(ConfigLoader, ReportsSyntaxErrorsWithLineAndColumn) {
  std::string msg = error_of("concurrent = 1\n[[runners]]\n  url = \"unterminated\n");
  EXPECT_EQ(msg.rfind("config.toml:3:", 0), 0u) << msg;
  msg = error_of("concurrent = 1\nconcurrent = 2\n");
  EXPECT_EQ(msg.rfind("config.toml:2:14: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("concurrent"), std::string::npos) << msg;
}

TEST(ConfigLoader, LoadConfigReadsFileAndNamesPathInErrors) {
  TempDir dir;
  std::filesystem::path path = dir.path() / "config.toml";
  Result<GlobalConfig> missing = load_config(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(missing.error().message.find(path.string()), std::string::npos);

  Result<GlobalConfig> dir_as_file = load_config(dir.path());
  ASSERT_FALSE(dir_as_file);
  EXPECT_EQ(dir_as_file.error().kind, ErrorKind::kIo);

  std::ofstream(path) << "concurrent = 4\n[[runners]]\n  limit = \"x\"\n";
  Result<GlobalConfig> bad = load_config(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind(path.string() + ":3: runners[0].limit:", 0), 0u)
      << bad.error().message;

  std::ofstream(path) << "concurrent = 4\n";
  Result<GlobalConfig> good = load_config(path);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->concurrent, 4);
}

TEST(ConfigWarnings, ConcurrentLowerThanRunnerCount) {
  GlobalConfig c;
  c.concurrent = 1;
  c.runners.resize(2);
  for (RunnerSettings& r : c.runners) r.request_concurrency = 4;
  std::vector<std::string> w = config_warnings(c);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("concurrent (1)"), std::string::npos) << w[0];
  EXPECT_NE(w[0].find("runners (2)"), std::string::npos) << w[0];
  c.concurrent = 2;
  EXPECT_TRUE(config_warnings(c).empty());
}

TEST(ConfigWarnings, RequestConcurrencyOneAndSmallLimit) {
  GlobalConfig c;
  c.concurrent = 4;
  c.runners.resize(2);
  c.runners[0].name = "alpha";  // request_concurrency unset = 1
  c.runners[1].name = "beta";
  c.runners[1].request_concurrency = 1;
  c.runners[1].limit = 2;
  std::vector<std::string> w = config_warnings(c);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_NE(w[0].find("alpha"), std::string::npos);
  EXPECT_NE(w[0].find("request_concurrency = 1"), std::string::npos);
  EXPECT_NE(w[1].find("beta"), std::string::npos);
  EXPECT_NE(w[1].find("limit = 2"), std::string::npos) << w[1];
}

TEST(DefaultConfigPath, FollowsOfficialLookupOrder) {
  EXPECT_EQ(*default_config_path_for(true, "/home/u", "/w"),
            std::filesystem::path("/etc/gitlab-runner/config.toml"));
  EXPECT_EQ(*default_config_path_for(false, "/home/u", "/w"),
            std::filesystem::path("/home/u/.gitlab-runner/config.toml"));
  EXPECT_EQ(*default_config_path_for(false, "", "/w"), std::filesystem::path("/w/config.toml"));
  EXPECT_FALSE(default_config_path_for(false, "", ""));
  Result<std::filesystem::path> real = default_config_path();
  ASSERT_TRUE(real);
  EXPECT_EQ(real->filename(), "config.toml");
}

}  // namespace
}  // namespace glr
