// Job-controlled settings and their warnings (executors §1.4, §1.5, §2.7, §4.2) and build
// directories (§4.1).
#include "script/build_settings.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

using namespace std::chrono_literals;

BuildSettings parse(Variables vars, bool allow_fetch = false, bool debug_disabled = false) {
  return parse_build_settings(vars, allow_fetch, debug_disabled, 3600s, 0);
}

TEST(BuildSettings, Defaults) {
  BuildSettings s = parse({});
  EXPECT_EQ(s.git_strategy, GitStrategy::kClone);
  EXPECT_TRUE(s.git_checkout);
  EXPECT_EQ(s.git_clean_flags, (std::vector<std::string>{"-ffdx"}));
  EXPECT_EQ(s.git_fetch_extra_flags, (std::vector<std::string>{"--prune", "--quiet"}));
  EXPECT_EQ(s.submodule_strategy, SubmoduleStrategy::kNone);
  EXPECT_EQ(s.get_sources_attempts, 1);
  EXPECT_FALSE(s.script_timeout.has_value());
  EXPECT_FALSE(s.after_script_timeout.has_value());
  EXPECT_TRUE(s.after_script_ignore_errors);
  EXPECT_FALSE(s.debug_trace);
  EXPECT_TRUE(s.warnings.empty());
  EXPECT_EQ(parse({}, true).git_strategy, GitStrategy::kFetch);
}

TEST(BuildSettings, GitStrategyValuesAndWarning) {
  EXPECT_EQ(parse({{.key = "GIT_STRATEGY", .value = "fetch"}}).git_strategy, GitStrategy::kFetch);
  EXPECT_EQ(parse({{.key = "GIT_STRATEGY", .value = "empty"}}).git_strategy, GitStrategy::kEmpty);
  BuildSettings s = parse({{.key = "GIT_STRATEGY", .value = "bogus"}}, true);
  EXPECT_EQ(s.git_strategy, GitStrategy::kFetch);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_EQ(s.warnings[0],
            "GIT_STRATEGY: expected either 'clone', 'fetch', 'none' or 'empty' got \"bogus\", "
            "using default value 'fetch'");
}

TEST(BuildSettings, NoneAndEmptyForceCheckoutOffAndNoSubmodules) {
  BuildSettings s = parse({{.key = "GIT_STRATEGY", .value = "none"},
                           {.key = "GIT_SUBMODULE_STRATEGY", .value = "recursive"}});
  EXPECT_FALSE(s.git_checkout);
  EXPECT_EQ(s.submodule_strategy, SubmoduleStrategy::kNone);
}

TEST(BuildSettings, BoolAndIntWarnings) {
  BuildSettings s = parse({{.key = "GIT_CHECKOUT", .value = "nope"},
                           {.key = "GET_SOURCES_ATTEMPTS", .value = "abc"},
                           {.key = "AFTER_SCRIPT_IGNORE_ERRORS", .value = "false"}});
  EXPECT_TRUE(s.git_checkout);
  EXPECT_EQ(s.get_sources_attempts, 1);
  EXPECT_FALSE(s.after_script_ignore_errors);
  EXPECT_EQ(s.warnings, (std::vector<std::string>{
                            "GIT_CHECKOUT: expected bool got \"nope\", using default value: true",
                            "GET_SOURCES_ATTEMPTS: expected int got \"abc\", using default value: 1"}));
}

TEST(BuildSettings, AttemptsAreClampedAfterAllParseWarnings) {
  BuildSettings s = parse({{.key = "RESTORE_CACHE_ATTEMPTS", .value = "0"},
                           {.key = "GET_SOURCES_ATTEMPTS", .value = "20"},
                           {.key = "ARTIFACT_DOWNLOAD_ATTEMPTS", .value = "3"},
                           {.key = "EXECUTOR_JOB_SECTION_ATTEMPTS", .value = "-1"},
                           {.key = "AFTER_SCRIPT_IGNORE_ERRORS", .value = "maybe"}});
  EXPECT_EQ(s.get_sources_attempts, 10);
  EXPECT_EQ(s.restore_cache_attempts, 1);
  EXPECT_EQ(s.artifact_download_attempts, 3);
  EXPECT_EQ(s.executor_job_section_attempts, 1);
  EXPECT_EQ(s.warnings,
            (std::vector<std::string>{
                "AFTER_SCRIPT_IGNORE_ERRORS: expected bool got \"maybe\", using default value: true",
                "EXECUTOR_JOB_SECTION_ATTEMPTS: number of attempts out of the range [1, 10], "
                "clamping to: 1",
                "GET_SOURCES_ATTEMPTS: number of attempts out of the range [1, 10], clamping to: 10",
                "RESTORE_CACHE_ATTEMPTS: number of attempts out of the range [1, 10], clamping to: 1"}));
}

TEST(BuildSettings, SubmoduleStrategyInvalid) {
  BuildSettings s = parse({{.key = "GIT_SUBMODULE_STRATEGY", .value = "deep"}});
  EXPECT_EQ(s.submodule_strategy, SubmoduleStrategy::kInvalid);
  EXPECT_EQ(s.warnings, (std::vector<std::string>{
                            "GIT_SUBMODULE_STRATEGY: expected either 'normal', 'recursive' or "
                            "'none' got \"deep\""}));
}

TEST(BuildSettings, FlagsLists) {
  BuildSettings s = parse({{.key = "GIT_CLEAN_FLAGS", .value = "none"},
                           {.key = "GIT_FETCH_EXTRA_FLAGS", .value = " --no-tags  --prune "},
                           {.key = "GIT_SUBMODULE_PATHS", .value = "a b"}});
  EXPECT_TRUE(s.git_clean_flags.empty());
  EXPECT_EQ(s.git_fetch_extra_flags, (std::vector<std::string>{"--no-tags", "--prune"}));
  EXPECT_EQ(s.git_submodule_paths, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(parse({{.key = "GIT_FETCH_EXTRA_FLAGS", .value = "none"}}).git_fetch_extra_flags.empty());
}

TEST(BuildSettings, DebugTraceDisabled) {
  BuildSettings on = parse({{.key = "CI_DEBUG_TRACE", .value = "true"}});
  EXPECT_TRUE(on.debug_trace);
  BuildSettings s = parse({{.key = "CI_DEBUG_TRACE", .value = "1"},
                           {.key = "CI_DEBUG_SERVICES", .value = "true"}},
                          false, true);
  EXPECT_FALSE(s.debug_trace);
  EXPECT_FALSE(s.debug_services);
  EXPECT_EQ(s.warnings, (std::vector<std::string>{
                            "CI_DEBUG_TRACE: usage is disabled on this Runner",
                            "CI_DEBUG_SERVICES: usage is disabled on this Runner"}));
}

TEST(BuildSettings, ScriptTimeouts) {
  BuildSettings ok = parse({{.key = "RUNNER_SCRIPT_TIMEOUT", .value = "15m"},
                            {.key = "RUNNER_AFTER_SCRIPT_TIMEOUT", .value = "  "}});
  EXPECT_EQ(ok.script_timeout, std::optional<std::chrono::seconds>(900s));
  EXPECT_FALSE(ok.after_script_timeout.has_value());
  EXPECT_TRUE(ok.warnings.empty());
  EXPECT_TRUE(ok.timeout_warnings.empty());

  BuildSettings zero = parse({{.key = "RUNNER_SCRIPT_TIMEOUT", .value = "0"}});
  EXPECT_FALSE(zero.script_timeout.has_value());
  EXPECT_TRUE(zero.warnings.empty());

  EXPECT_EQ(parse({{.key = "RUNNER_SCRIPT_TIMEOUT", .value = "soon"}}).timeout_warnings,
            (std::vector<std::string>{"Ignoring malformed RUNNER_SCRIPT_TIMEOUT timeout: soon"}));
  EXPECT_EQ(parse({{.key = "RUNNER_AFTER_SCRIPT_TIMEOUT", .value = "-5m"}}).timeout_warnings,
            (std::vector<std::string>{"Ignoring relative RUNNER_AFTER_SCRIPT_TIMEOUT timeout: -5m"}));
  BuildSettings longer = parse({{.key = "RUNNER_SCRIPT_TIMEOUT", .value = "2h"}});
  EXPECT_FALSE(longer.script_timeout.has_value());
  EXPECT_TRUE(longer.warnings.empty());
  EXPECT_EQ(longer.timeout_warnings,
            (std::vector<std::string>{
                "RUNNER_SCRIPT_TIMEOUT timeout: 2h is longer than job timeout. Setting to job timeout"}));
}

TEST(BuildSettings, SubmoduleDepthDefaultsToGitDepth) {
  EXPECT_EQ(parse_build_settings({}, false, false, 3600s, 7).git_submodule_depth, 7);
  EXPECT_EQ(parse_build_settings({{.key = "GIT_SUBMODULE_DEPTH", .value = "2"}}, false, false,
                                 3600s, 7)
                .git_submodule_depth,
            2);
}

BuildDirsInput dirs_input() {
  BuildDirsInput in;
  in.builds_root = "/home/r/builds";
  in.cache_root = "/home/r/cache";
  in.shared = true;
  in.short_token = "xYz12AbCd";
  in.concurrent_project_id = 0;
  in.repo_url = "https://gitlab-ci-token:tok@gitlab.example.com/grp/sub/app.git";
  in.project_id = 42;
  return in;
}

TEST(BuildDirs, SharedLayout) {
  Result<BuildDirs> d = compute_build_dirs(dirs_input());
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->builds_dir, "/home/r/builds");
  EXPECT_EQ(d->project_dir, "/home/r/builds/xYz12AbCd/0/grp/sub/app");
  EXPECT_EQ(d->tmp_dir, "/home/r/builds/xYz12AbCd/0/grp/sub/app.tmp");
  EXPECT_EQ(d->cache_dir, "/home/r/cache/grp/sub/app");
}

TEST(BuildDirs, NonSharedEmptyStrategyAndFallback) {
  BuildDirsInput in = dirs_input();
  in.shared = false;
  in.builds_root = "/builds";
  in.cache_root = "/cache";
  in.git_strategy = GitStrategy::kEmpty;
  Result<BuildDirs> d = compute_build_dirs(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->project_dir, "/builds/grp/sub/app-empty");
  EXPECT_EQ(d->tmp_dir, "/builds/grp/sub/app-empty.tmp");
  EXPECT_EQ(d->cache_dir, "/cache/grp/sub/app-empty");

  in.git_strategy = GitStrategy::kClone;
  in.repo_url = "not a url";
  d = compute_build_dirs(in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->project_dir, "/builds/project-42");
}

TEST(BuildDirs, GitClonePathRules) {
  BuildDirsInput in = dirs_input();
  in.git_clone_path = "$CI_BUILDS_DIR/custom/./dir/";
  Result<BuildDirs> d = compute_build_dirs(in);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(d.error().message,
            "setting GIT_CLONE_PATH is not allowed, enable `custom_build_dir` feature");

  in.custom_build_dir_enabled = true;
  d = compute_build_dirs(in);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->project_dir, "/home/r/builds/custom/dir");
  EXPECT_EQ(d->tmp_dir, "/home/r/builds/custom/dir.tmp");

  in.git_clone_path = "/home/r/builds/../elsewhere";
  d = compute_build_dirs(in);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().message,
            "the GIT_CLONE_PATH=\"/home/r/builds/../elsewhere\" has to be within \"/home/r/builds\"");
}

}  // namespace
}  // namespace glr
