// Tests for `register --template-config` (api spec §1.7). The first cases mirror
// TestConfigTemplate_MergeTo in the official commands/register_test.go.
#include "config/config_template.h"

#include <gtest/gtest.h>

#include <string>

#include "config/config_writer.h"
#include "config/runner_config.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

constexpr char kName[] = "/configmaps/config.template.toml";

RunnerSettings base_runner() {
  RunnerSettings r;
  r.token.value = "test-runner-token";
  r.executor = "shell";
  return r;
}

RunnerSettings merged_ok(const RunnerSettings& flags, std::string_view tmpl) {
  Result<RunnerSettings> r = merge_template(flags, tmpl, kName);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : RunnerSettings{};
}

// One kept section of a runner, parsed back through the loader.
GlobalConfig reload(const RunnerSettings& r) {
  GlobalConfig c;
  c.runners.push_back(r);
  Result<GlobalConfig> back = parse_config(render_config(c), "rendered.toml");
  EXPECT_TRUE(back) << back.error().message << "\n" << render_config(c);
  return back ? *back : GlobalConfig{};
}

TEST(ConfigTemplate, InvalidTemplateNamesTheFile) {
  Result<RunnerSettings> r = merge_template(base_runner(), "- , ;", kName);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().message.rfind(
                std::string("couldn't load configuration template file: ") + kName + ":1:", 0),
            0u)
      << r.error().message;
}

TEST(ConfigTemplate, TemplateThatDoesNotLoadNamesFileAndKey) {
  Result<RunnerSettings> r = merge_template(base_runner(), "[[runners]]\nlimit = \"x\"\n", kName);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(std::string(kName) + ":2: runners[0].limit"), std::string::npos)
      << r.error().message;
}

TEST(ConfigTemplate, NeedsExactlyOneRunnersEntry) {
  for (std::string_view tmpl :
       {std::string_view(""), std::string_view("[[runners]]\n[[runners]]\n"),
        std::string_view("concurrent = 3\n")}) {
    Result<RunnerSettings> r = merge_template(base_runner(), tmpl, kName);
    ASSERT_FALSE(r) << tmpl;
    EXPECT_EQ(r.error().message, std::string(kName) +
                                     ": configuration template must contain exactly one "
                                     "[[runners]] entry");
  }
}

TEST(ConfigTemplate, DoesNotOverwriteExistingSettings) {
  RunnerSettings r = merged_ok(base_runner(), R"(
[[runners]]
  token = "different_token"
  executor = "docker"
  limit = 100)");
  EXPECT_EQ(r.token.value, "test-runner-token");
  EXPECT_EQ(r.executor, "shell");
  EXPECT_EQ(r.limit, 100);
}

TEST(ConfigTemplate, DiscardsTheTemplateTokenEvenWhenNoneWasGiven) {
  RunnerSettings r = merged_ok(RunnerSettings{}, R"(
[[runners]]
  token = "different_token"
  executor = "docker"
  token_obtained_at = 2026-01-01T00:00:00Z
  token_expires_at = 2027-01-01T00:00:00Z)");
  EXPECT_EQ(r.token.value, "");
  EXPECT_EQ(r.executor, "docker");
  EXPECT_EQ(r.token_obtained_at, "");
  EXPECT_EQ(r.token_expires_at, "");
}

TEST(ConfigTemplate, AddsAdditionalNestedContent) {
  RunnerSettings r = merged_ok(base_runner(), R"(
[[runners]]
  [runners.kubernetes]
    [runners.kubernetes.volumes]
      [[runners.kubernetes.volumes.empty_dir]]
        name = "empty_dir"
	    mount_path = "/path/to/empty_dir"
	    medium = "Memory"
	    size_limit = "1G")");
  EXPECT_EQ(r.sections, std::vector<std::string>{"kubernetes"});
  const std::string text = render_config(GlobalConfig{.runners = {r}});
  EXPECT_NE(text.find(R"(      [[runners.kubernetes.volumes.empty_dir]]
        medium = "Memory"
        mount_path = "/path/to/empty_dir"
        name = "empty_dir"
        size_limit = "1G"
)"),
            std::string::npos)
      << text;
  EXPECT_EQ(reload(r).runners[0].raw_sections, r.raw_sections);
}

TEST(ConfigTemplate, FillsOnlyZeroValuesOfPlainFields) {
  RunnerSettings flags = base_runner();
  flags.name = "from-flags";
  flags.url = "https://gitlab.example.com/";
  flags.limit = 0;              // "explicitly 0" is indistinguishable from unset, as in Go
  flags.environment = {"A=1"};  // lists are never concatenated
  flags.request_concurrency = 4;
  RunnerSettings r = merged_ok(flags, R"(
[[runners]]
  name = "from-template"
  url = "https://other.example.com/"
  limit = 3
  request_concurrency = 9
  environment = ["B=2"]
  output_limit = 16384
  builds_dir = "/builds"
  prepare_timeout = "5m"
  debug_trace_disabled = true
  pre_build_script = "echo hi")");
  EXPECT_EQ(r.name, "from-flags");
  EXPECT_EQ(r.url, "https://gitlab.example.com/");
  EXPECT_EQ(r.limit, 3);
  EXPECT_EQ(r.request_concurrency, 4);
  EXPECT_EQ(r.environment, std::vector<std::string>{"A=1"});
  EXPECT_EQ(r.output_limit, 16384);
  EXPECT_EQ(r.builds_dir, "/builds");
  EXPECT_EQ(r.prepare_timeout, 5min);
  EXPECT_TRUE(r.debug_trace_disabled);
  EXPECT_EQ(r.pre_build_script, "echo hi");
}

TEST(ConfigTemplate, EmptyListTakesTheTemplateList) {
  RunnerSettings r = merged_ok(base_runner(), "[[runners]]\nenvironment = [\"B=2\"]\n");
  EXPECT_EQ(r.environment, std::vector<std::string>{"B=2"});
}

TEST(ConfigTemplate, OptionalBooleansFollowMergo) {
  RunnerSettings flags = base_runner();
  flags.clean_git_config = false;        // *bool false is still "empty" after dereference
  flags.safe_directory_checkout = true;  // true is kept
  RunnerSettings r = merged_ok(flags, R"(
[[runners]]
  clean_git_config = true
  safe_directory_checkout = false
  [runners.custom_build_dir]
    enabled = false)");
  EXPECT_EQ(r.clean_git_config, std::optional<bool>(true));
  EXPECT_EQ(r.safe_directory_checkout, std::optional<bool>(true));
  EXPECT_EQ(r.custom_build_dir_enabled, std::optional<bool>(false));  // unset takes even false
}

TEST(ConfigTemplate, MapsMergeKeyByKey) {
  RunnerSettings flags = base_runner();
  flags.labels = {{"team", "ci"}, {"empty", ""}};
  flags.feature_flags = {{"FF_A", true}, {"FF_B", false}};
  RunnerSettings r = merged_ok(flags, R"(
[[runners]]
  [runners.labels]
    team = "ops"
    empty = "filled"
    zone = "a"
  [runners.feature_flags]
    FF_A = false
    FF_B = true
    FF_C = true)");
  EXPECT_EQ(r.labels, (std::map<std::string, std::string>{
                          {"team", "ci"}, {"empty", "filled"}, {"zone", "a"}}));
  EXPECT_EQ(r.feature_flags,
            (std::map<std::string, bool>{{"FF_A", true}, {"FF_B", true}, {"FF_C", true}}));
  GlobalConfig back = reload(r);
  EXPECT_EQ(back.runners[0].labels, r.labels);
  EXPECT_EQ(back.runners[0].feature_flags, r.feature_flags);
}

TEST(ConfigTemplate, SectionsMergeRecursivelyWithFlagsWinning) {
  // What register builds from --docker-image and friends, before the template.
  RunnerSettings flags = base_runner();
  flags.executor = "docker";
  flags.sections = {"docker", "cache"};
  flags.raw_sections["docker"] = "image = \"alpine:3.20\"\nprivileged = false\n";
  flags.raw_sections["cache"] = "Type = \"s3\"\n[s3]\nBucketName = \"mine\"\n";
  RunnerSettings r = merged_ok(flags, R"(
[[runners]]
  [runners.docker]
    image = "ubuntu:24.04"
    privileged = true
    volumes = ["/cache", "/certs"]
    [[runners.docker.services]]
      name = "postgres:16"
  [runners.cache]
    Shared = true
    [runners.cache.s3]
      BucketName = "theirs"
      ServerAddress = "s3.example.com"
  [runners.kubernetes]
    namespace = "ci")");
  EXPECT_EQ(r.sections, (std::vector<std::string>{"docker", "cache", "kubernetes"}));
  Result<GlobalConfig> parsed =
      parse_config("[[runners]]\n[runners.docker]\n" + r.raw_sections["docker"], "docker.toml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const std::string text = render_config(GlobalConfig{.runners = {r}});
  EXPECT_NE(text.find(R"(  [runners.docker]
    image = "alpine:3.20"
    privileged = true
    volumes = [ "/cache", "/certs" ]
    [[runners.docker.services]]
      name = "postgres:16"
  [runners.cache]
    Shared = true
    Type = "s3"
    [runners.cache.s3]
      BucketName = "mine"
      ServerAddress = "s3.example.com"
  [runners.kubernetes]
    namespace = "ci"
)"),
            std::string::npos)
      << text;
  EXPECT_EQ(reload(r).runners[0].raw_sections, r.raw_sections);
}

TEST(ConfigTemplate, NonEmptyListsInSectionsAreNotConcatenated) {
  RunnerSettings flags = base_runner();
  flags.sections = {"docker"};
  flags.raw_sections["docker"] = "volumes = [\"/mine\"]\n";
  RunnerSettings r =
      merged_ok(flags, "[[runners]]\n[runners.docker]\nvolumes = [\"/cache\", \"/x\"]\n");
  EXPECT_EQ(r.raw_sections["docker"], "volumes = [ '/mine' ]");
}

TEST(ConfigTemplate, UnknownKeysAreCarriedOver) {
  RunnerSettings flags = base_runner();
  flags.unknown_values = {{"mine", "1"}};
  RunnerSettings r = merged_ok(flags, "[[runners]]\nmine = 2\ntheirs = \"x\"\n");
  EXPECT_EQ(r.unknown_values,
            (std::vector<std::pair<std::string, std::string>>{{"mine", "1"}, {"theirs", "\"x\""}}));
}

TEST(ConfigTemplate, HelmChartStyleRegistrationSavesALoadableFile) {
  // The chart passes url/token/executor by env and the rest by template.
  RunnerSettings flags;
  flags.name = "gitlab-runner-7d9f";
  flags.url = "https://gitlab.example.com/";
  flags.token.value = "glrt-chart";
  flags.executor = "kubernetes";
  RunnerSettings r = merged_ok(flags, R"(
[[runners]]
  [runners.kubernetes]
    namespace = "gitlab-ci"
    image = "alpine:3.20"
    poll_timeout = 600
    [runners.kubernetes.node_selector]
      "kubernetes.io/os" = "linux"
  [runners.cache]
    Type = "s3"
    [runners.cache.s3]
      ServerAddress = "minio.example.com"
      BucketName = "runner-cache")");
  GlobalConfig back = reload(r);
  ASSERT_EQ(back.runners.size(), 1u);
  EXPECT_EQ(back.runners[0].token.value, "glrt-chart");
  EXPECT_EQ(back.runners[0].sections, (std::vector<std::string>{"kubernetes", "cache"}));
  EXPECT_EQ(back.runners[0].raw_sections, r.raw_sections);
}

}  // namespace
}  // namespace glr
