// register's executor-section flags: every flag declared once, values become section text
// that survives a config.toml round trip and merges with a template (api spec §1.7).
#include "cli/register_flags.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <set>

#include "config/config_template.h"
#include "config/config_writer.h"

namespace glr {
namespace {

// Parses `args` (after the program name) into `flags` through a real CLI11 command.
void parse(SectionFlags& flags, std::vector<std::string> args) {
  CLI::App app;
  flags.add_to(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
  app.parse(args);
}

GlobalConfig round_trip(const RunnerSettings& r) {
  GlobalConfig c;
  c.runners = {r};
  Result<std::string> text = try_render_config(c);
  EXPECT_TRUE(text) << text.error().message;
  Result<GlobalConfig> back = parse_config(text ? *text : "", "config.toml");
  EXPECT_TRUE(back) << back.error().message << "\n" << (text ? *text : "");
  return back ? *back : GlobalConfig{};
}

RunnerSettings base_runner(const std::string& executor) {
  RunnerSettings r;
  r.name = "r";
  r.url = "https://gitlab.example.com/";
  r.token = Secret{"glrt-x"};
  r.executor = executor;
  return r;
}

TEST(RegisterFlags, TableDeclaresEveryFlagOnceWithItsEnvVar) {
  SectionFlags flags;
  CLI::App app;
  ASSERT_NO_THROW(flags.add_to(app));
  EXPECT_GT(SectionFlags::size(), 150u);
  std::set<std::string> envs;
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_envname().empty()) continue;
    EXPECT_TRUE(envs.insert(o->get_envname()).second) << o->get_envname();
  }
  EXPECT_EQ(envs.size(), SectionFlags::size());
  for (const char* env : {"DOCKER_IMAGE", "KUBERNETES_NAMESPACE", "KUBERNETES_PRIVILEGED",
                          "CACHE_S3_BUCKET_NAME", "CACHE_TYPE", "KUBERNETES_CPU_LIMIT"})
    EXPECT_EQ(envs.count(env), 1u) << env;
}

TEST(RegisterFlags, ValuesBecomeSectionsThatRoundTrip) {
  SectionFlags flags;
  parse(flags, {"--docker-image", "alpine:3.20", "--docker-privileged", "--docker-volumes", "/a:/a",
                "--docker-volumes", "/b", "--docker-shm-size", "64", "--cache-type", "s3",
                "--cache-shared=false", "--cache-s3-bucket-name", "bkt", "--cache-s3-insecure=true",
                "--kubernetes-namespace", "ci \"quoted\""});
  RunnerSettings r = base_runner("docker");
  ASSERT_TRUE(flags.apply(r));
  EXPECT_EQ(r.sections, (std::vector<std::string>{"docker", "kubernetes", "cache"}));
  EXPECT_EQ(r.raw_sections["docker"],
            "image = \"alpine:3.20\"\nprivileged = true\nvolumes = [\"/a:/a\", \"/b\"]\nshm_size = 64\n");
  EXPECT_EQ(r.raw_sections["cache"], "Type = \"s3\"\nShared = false\n\n[s3]\nBucketName = \"bkt\"\nInsecure = true\n");
  GlobalConfig back = round_trip(r);
  ASSERT_EQ(back.runners.size(), 1u);
  const RunnerSettings& b = back.runners[0];
  EXPECT_NE(b.raw_sections.at("docker").find("privileged = true"), std::string::npos);
  EXPECT_NE(b.raw_sections.at("cache").find("BucketName = 'bkt'"), std::string::npos)
      << b.raw_sections.at("cache");
  EXPECT_NE(b.raw_sections.at("kubernetes").find("ci \"quoted\""), std::string::npos)
      << b.raw_sections.at("kubernetes");
}

TEST(RegisterFlags, FlagsWinOverTheTemplateWhichFillsTheRest) {
  SectionFlags flags;
  parse(flags, {"--kubernetes-namespace", "from-flag", "--kubernetes-privileged=true"});
  RunnerSettings r = base_runner("kubernetes");
  ASSERT_TRUE(flags.apply(r));
  Result<RunnerSettings> merged = merge_template(r, R"(
[[runners]]
  [runners.kubernetes]
    namespace = "from-template"
    image = "alpine"
    [runners.kubernetes.node_selector]
      "kubernetes.io/os" = "linux"
)", "template.toml");
  ASSERT_TRUE(merged) << merged.error().message;
  GlobalConfig back = round_trip(*merged);
  const std::string& k8s = back.runners.at(0).raw_sections.at("kubernetes");
  EXPECT_NE(k8s.find("namespace = 'from-flag'"), std::string::npos) << k8s;
  EXPECT_EQ(k8s.find("from-template"), std::string::npos) << k8s;
  EXPECT_NE(k8s.find("image = 'alpine'"), std::string::npos) << k8s;
  EXPECT_NE(k8s.find("privileged = true"), std::string::npos) << k8s;
  EXPECT_NE(k8s.find("linux"), std::string::npos) << k8s;
}

TEST(RegisterFlags, BadBooleanOrNumberNamesTheFlag) {
  SectionFlags flags;
  ASSERT_TRUE(flags.set("docker-privileged", "maybe"));
  RunnerSettings r = base_runner("docker");
  Result<> applied = flags.apply(r);
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().message.find("--docker-privileged"), std::string::npos);
  SectionFlags numbers;
  ASSERT_TRUE(numbers.set("kubernetes-poll-timeout", "soon"));
  EXPECT_FALSE(numbers.apply(r));
  EXPECT_FALSE(numbers.set("no-such-flag", "x"));
}

TEST(RegisterFlags, DockerGetsTheCacheVolumeUnlessItHasVolumesOrCacheIsDisabled) {
  RunnerSettings plain = base_runner("docker");
  apply_executor_defaults(plain);
  EXPECT_EQ(plain.raw_sections["docker"], "volumes = [\"/cache\"]\n");

  RunnerSettings with_services = base_runner("docker");
  with_services.sections = {"docker"};
  with_services.raw_sections["docker"] = "image = 'a'\n\n[[services]]\nname = 'pg'\n";
  apply_executor_defaults(with_services);
  GlobalConfig back = round_trip(with_services);
  const std::string& docker = back.runners.at(0).raw_sections.at("docker");
  EXPECT_NE(docker.find("volumes = [ '/cache' ]"), std::string::npos) << docker;
  EXPECT_NE(docker.find("[[services]]"), std::string::npos) << docker;

  RunnerSettings only_table = base_runner("docker");
  only_table.sections = {"docker"};
  only_table.raw_sections["docker"] = "[[services]]\nname = 'pg'\n";
  apply_executor_defaults(only_table);
  EXPECT_NE(round_trip(only_table).runners.at(0).raw_sections.at("docker").find("/cache"),
            std::string::npos);

  RunnerSettings disabled = base_runner("docker");
  disabled.sections = {"docker"};
  disabled.raw_sections["docker"] = "disable_cache = true\n";
  apply_executor_defaults(disabled);
  EXPECT_EQ(disabled.raw_sections["docker"], "disable_cache = true\n");

  RunnerSettings shell = base_runner("shell");
  apply_executor_defaults(shell);
  EXPECT_TRUE(shell.raw_sections.empty());
}

}  // namespace
}  // namespace glr
