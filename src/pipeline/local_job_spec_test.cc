// Tests for the JobSpec a local job gets: steps, variable precedence, predefined variables,
// timeouts (pipeline-yaml §7.1, §7.5, §9.8).
#include "pipeline/local_job_spec.h"

#include <gtest/gtest.h>

#include "pipeline/ci_yaml.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

using Strings = std::vector<std::string>;

std::string value_of(const Variables& vars, const std::string& key) {
  const Variable* v = find_variable(vars, key);
  return v != nullptr ? v->value : "<unset>";
}

size_t position(const Variables& vars, const std::string& key, const std::string& value) {
  for (size_t i = 0; i < vars.size(); ++i) {
    if (vars[i].key == key && vars[i].value == value) return i;
  }
  return vars.size();
}

GitFacts sample_git() {
  return GitFacts{.is_repo = true,
                  .sha = "0123456789abcdef0123456789abcdef01234567",
                  .ref = "feature/Login_Page",
                  .message = "Add login\n\nLonger text",
                  .timestamp = "2026-01-02T03:04:05+00:00",
                  .author = "Ann <ann@example.com>",
                  .default_branch = "main",
                  .remote_url = "git@gitlab.example.org:group/sub/app.git",
                  .user_name = "Ann Smith",
                  .user_email = "ann@example.com"};
}

TEST(LocalJobSpec, StepsVariablesAndImage) {
  Result<PipelineConfig> p = parse_pipeline(
      "variables: {CI_PIPELINE_ID: override, G: global, SHARED: global}\n"
      "default: {before_script: [echo before], after_script: [echo after]}\n"
      "build:\n"
      "  image: alpine:3.20\n"
      "  variables: {SHARED: job, RAW: {value: $X, expand: false}}\n"
      "  script: [make]\n"
      "  timeout: 1h 30m\n",
      ".gitlab-ci.yml");
  ASSERT_TRUE(p) << p.error().message;
  LocalJobInputs inputs{.id = 3,
                        .project_dir = "/src/app",
                        .predefined = predefined_variables(sample_git(), "/src/app", ".gitlab-ci.yml"),
                        .cli_variables = {Variable{.key = "SHARED", .value = "cli", .is_public = true}}};
  Result<JobSpec> spec = build_local_job_spec(*p, p->jobs[0], inputs);
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->id, 3);
  EXPECT_TRUE(spec->token.empty());
  EXPECT_EQ(spec->job_info.name, "build");
  EXPECT_EQ(spec->job_info.stage, "test");
  EXPECT_EQ(spec->job_info.project_name, "app");
  ASSERT_EQ(spec->steps.size(), 2u);
  EXPECT_EQ(spec->steps[0].name, "script");
  EXPECT_EQ(spec->steps[0].script, (Strings{"echo before", "make"}));
  EXPECT_EQ(spec->steps[0].when, StepWhen::kOnSuccess);
  EXPECT_EQ(spec->steps[1].name, "after_script");
  EXPECT_EQ(spec->steps[1].script, Strings{"echo after"});
  EXPECT_EQ(spec->steps[1].when, StepWhen::kAlways);
  EXPECT_TRUE(spec->features.trace_sections);
  EXPECT_EQ(spec->runner_info.timeout, 5400);
  ASSERT_TRUE(spec->image);
  EXPECT_EQ(spec->image->name, "alpine:3.20");

  const Variables& vars = spec->variables;
  for (const Variable& v : vars) EXPECT_TRUE(v.is_public) << v.key;
  // Precedence, lowest first: predefined < global < job < command line.
  EXPECT_LT(position(vars, "CI_PIPELINE_ID", "1000"), position(vars, "CI_PIPELINE_ID", "override"));
  EXPECT_EQ(value_of(vars, "CI_PIPELINE_ID"), "override");
  EXPECT_LT(position(vars, "SHARED", "global"), position(vars, "SHARED", "job"));
  EXPECT_LT(position(vars, "SHARED", "job"), position(vars, "SHARED", "cli"));
  EXPECT_EQ(value_of(vars, "SHARED"), "cli");
  EXPECT_EQ(value_of(vars, "G"), "global");
  EXPECT_TRUE(find_variable(vars, "RAW")->raw);
  EXPECT_EQ(vars.back().key, "GIT_STRATEGY");
  EXPECT_EQ(vars.back().value, "none");
  EXPECT_EQ(value_of(vars, "CI_PROJECT_DIR"), "/src/app");
  EXPECT_EQ(value_of(vars, "CI_JOB_ID"), "3");
  EXPECT_EQ(value_of(vars, "CI_JOB_NAME"), "build");
  EXPECT_EQ(value_of(vars, "CI_JOB_STAGE"), "test");
  EXPECT_EQ(value_of(vars, "CI_JOB_TIMEOUT"), "5400");
}

TEST(LocalJobSpec, NoAfterScriptStepWhenEmptyAndDefaultTimeout) {
  Result<PipelineConfig> p = parse_pipeline("a: {script: x}\n", ".gitlab-ci.yml");
  ASSERT_TRUE(p);
  Result<JobSpec> spec = build_local_job_spec(*p, p->jobs[0], LocalJobInputs{.id = 1});
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->steps.size(), 1u);
  EXPECT_EQ(spec->runner_info.timeout, 3600);
  EXPECT_FALSE(spec->image);
}

// pipeline-yaml §9.10: caches reach the job as GitLab sends them; the key stays unexpanded
// (the runner expands it) and is "default" when none is given.
TEST(LocalJobSpec, CachesAsGitLabSendsThem) {
  Result<PipelineConfig> p = parse_pipeline(
      "a:\n"
      "  script: x\n"
      "  cache:\n"
      "    - {key: $CI_JOB_NAME, paths: [vendor/], policy: pull, fallback_keys: [main]}\n"
      "    - {paths: [out/], untracked: true, when: always}\n",
      ".gitlab-ci.yml");
  ASSERT_TRUE(p) << p.error().message;
  Result<JobSpec> spec = build_local_job_spec(*p, p->jobs[0], LocalJobInputs{.id = 1});
  ASSERT_TRUE(spec) << spec.error().message;
  ASSERT_EQ(spec->caches.size(), 2u);
  EXPECT_EQ(spec->caches[0].key, "$CI_JOB_NAME");
  EXPECT_EQ(spec->caches[0].paths, (std::vector<std::string>{"vendor/"}));
  EXPECT_EQ(spec->caches[0].policy, "pull");
  EXPECT_EQ(spec->caches[0].when, "on_success");
  EXPECT_EQ(spec->caches[0].fallback_keys, (std::vector<std::string>{"main"}));
  EXPECT_EQ(spec->caches[1].key, "default");
  EXPECT_TRUE(spec->caches[1].untracked);
  EXPECT_EQ(spec->caches[1].when, "always");
}

TEST(LocalJobSpec, BadTimeoutIsAnError) {
  Result<PipelineConfig> p = parse_pipeline("a:\n  script: x\n  timeout: soon\n", ".gitlab-ci.yml");
  ASSERT_TRUE(p);
  Result<JobSpec> spec = build_local_job_spec(*p, p->jobs[0], LocalJobInputs{.id = 1});
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().message, ".gitlab-ci.yml:1: jobs:a:timeout config should be a duration");
}

TEST(LocalJobSpec, PredefinedVariablesFromGit) {
  Variables vars = predefined_variables(sample_git(), "/src/app", "ci/main.yml");
  EXPECT_EQ(value_of(vars, "CI"), "true");
  EXPECT_EQ(value_of(vars, "GITLAB_CI"), "false");
  EXPECT_EQ(value_of(vars, "CI_COMMIT_SHORT_SHA"), "01234567");
  EXPECT_EQ(value_of(vars, "CI_COMMIT_BRANCH"), "feature/Login_Page");
  EXPECT_EQ(value_of(vars, "CI_COMMIT_REF_SLUG"), "feature-login-page");
  EXPECT_EQ(value_of(vars, "CI_COMMIT_TAG"), "<unset>");
  EXPECT_EQ(value_of(vars, "CI_COMMIT_TITLE"), "Add login");
  EXPECT_EQ(value_of(vars, "CI_COMMIT_DESCRIPTION"), "\nLonger text");
  EXPECT_EQ(value_of(vars, "CI_PROJECT_PATH"), "group/sub/app");
  EXPECT_EQ(value_of(vars, "CI_PROJECT_NAMESPACE"), "group/sub");
  EXPECT_EQ(value_of(vars, "CI_PROJECT_ROOT_NAMESPACE"), "group");
  EXPECT_EQ(value_of(vars, "CI_PROJECT_NAME"), "app");
  EXPECT_EQ(value_of(vars, "CI_SERVER_HOST"), "gitlab.example.org");
  EXPECT_EQ(value_of(vars, "CI_CONFIG_PATH"), "ci/main.yml");
  EXPECT_EQ(value_of(vars, "CI_DEFAULT_BRANCH"), "main");
  EXPECT_EQ(value_of(vars, "GITLAB_USER_EMAIL"), "ann@example.com");
}

TEST(LocalJobSpec, DirectoryThatIsNotARepository) {
  TempDir dir;
  GitFacts git = read_git_facts(dir.path());
  EXPECT_FALSE(git.is_repo);
  EXPECT_FALSE(git.note.empty());
  Variables vars = predefined_variables(git, dir.path(), ".gitlab-ci.yml");
  EXPECT_EQ(value_of(vars, "CI_COMMIT_SHA"), std::string(40, '0'));
  EXPECT_EQ(value_of(vars, "CI_COMMIT_REF_NAME"), "main");
  EXPECT_EQ(value_of(vars, "CI_PROJECT_PATH"), "local/" + dir.path().filename().string());
  EXPECT_NE(value_of(vars, "CI_COMMIT_MESSAGE").find(git.note), std::string::npos);
}

TEST(LocalJobSpec, Slugify) {
  EXPECT_EQ(slugify("Feature/ABC_1"), "feature-abc-1");
  EXPECT_EQ(slugify("a//b"), "a--b");
  EXPECT_EQ(slugify("--x--"), "x");
  EXPECT_EQ(slugify(std::string(70, 'a')).size(), 63u);
}

TEST(LocalJobSpec, HumanDurations) {
  using std::chrono::seconds;
  EXPECT_EQ(parse_human_duration("1h 30m"), seconds(5400));
  EXPECT_EQ(parse_human_duration("30 minutes"), seconds(1800));
  EXPECT_EQ(parse_human_duration("3600"), seconds(3600));
  EXPECT_EQ(parse_human_duration("1 hour"), seconds(3600));
  EXPECT_EQ(parse_human_duration("2 days and 3 hours"), seconds(2 * 86400 + 3 * 3600));
  EXPECT_EQ(parse_human_duration("1h30min"), seconds(5400));
  EXPECT_EQ(parse_human_duration("1.5h"), seconds(5400));
  EXPECT_FALSE(parse_human_duration("soon"));
  EXPECT_FALSE(parse_human_duration(""));
  EXPECT_FALSE(parse_human_duration("5 parsecs"));
}

}  // namespace
}  // namespace glr
