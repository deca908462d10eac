// Tests for rules: the expression language's Ruby semantics (pipeline-yaml §8.2 table), exists
// globs and the effect of the matching rule on jobs (§8.1, §8.5).
#include "pipeline/rules.h"

#include <fstream>

#include <gtest/gtest.h>

#include "pipeline/ci_yaml.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

const ExpressionVariables kVars = {{"A", "x"}, {"E", ""}, {"S", "  "}, {"R", "/^x$/"}};

bool eval(const std::string& expr) {
  Result<bool> r = evaluate_expression(expr, kVars);
  EXPECT_TRUE(r) << expr << ": " << r.error().message;
  return r && *r;
}

bool is_syntax_error(const std::string& expr) { return !evaluate_expression(expr, kVars); }

TEST(Expression, ExamplesOfSection82) {
  EXPECT_TRUE(eval("$A"));
  EXPECT_FALSE(eval("$E"));
  EXPECT_FALSE(eval("$S"));
  EXPECT_FALSE(eval("$U"));
  EXPECT_TRUE(eval("$E == \"\""));
  EXPECT_TRUE(eval("$U == null"));
  EXPECT_TRUE(eval("null == $U"));
  EXPECT_TRUE(eval("$U == $U2"));
  EXPECT_FALSE(eval("$E == null"));
  EXPECT_TRUE(eval("$E != null"));
  EXPECT_FALSE(eval("$A == 'x' && $E"));
  EXPECT_TRUE(eval("$E && $A"));
  // GitLab's regex literal needs two characters between the slashes (lexeme/pattern.rb), so
  // the single-character examples of the spec table are written with two here.
  EXPECT_TRUE(eval("$A =~ /X$/i"));
  EXPECT_TRUE(eval("$A =~ $R"));
  EXPECT_TRUE(eval("$A =~ \"x\""));
  EXPECT_TRUE(eval("$A !~ /^y/"));
  EXPECT_TRUE(eval("$U !~ /xx/"));
  EXPECT_TRUE(eval("$U =~ /^$/"));
  EXPECT_TRUE(eval("($A == \"y\" || $A == \"x\") && $E == \"\""));
  EXPECT_TRUE(eval("\"1234\" =~ \"23\""));
  EXPECT_FALSE(eval("$E || $A == 'y'"));
  EXPECT_TRUE(eval("$A =~ /a\\/b|x/"));
}

TEST(Expression, SyntaxErrors) {
  EXPECT_TRUE(is_syntax_error("${A} == \"x\""));
  EXPECT_TRUE(is_syntax_error("$A =~ /a/ /b/"));
  EXPECT_TRUE(is_syntax_error("$A == 1"));
  EXPECT_TRUE(is_syntax_error("$A =~ /./"));
  EXPECT_TRUE(is_syntax_error("$A =="));
  EXPECT_TRUE(is_syntax_error("== \"x\""));
  EXPECT_TRUE(is_syntax_error("($A == \"x\""));
  EXPECT_TRUE(is_syntax_error(""));
  EXPECT_TRUE(is_syntax_error("$A =~ /((/"));
  EXPECT_TRUE(is_syntax_error("$A =~ /x/"));
}

TEST(Glob, FnmatchLikeRules) {
  EXPECT_TRUE(glob_match("docs/**/*.md", "docs/a.md"));
  EXPECT_TRUE(glob_match("docs/**/*.md", "docs/x/y/b.md"));
  EXPECT_TRUE(glob_match("*.json", "package.json"));
  EXPECT_FALSE(glob_match("*.json", "sub/package.json"));
  EXPECT_TRUE(glob_match("*.{yml,yaml}", "a.yaml"));
  EXPECT_TRUE(glob_match("*", ".hidden"));
  EXPECT_TRUE(glob_match("file[0-9].txt", "file3.txt"));
}

TEST(Rules, ExistsLooksAtTheWorkingTree) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "existsDir");
  std::ofstream(dir.path() / "existsDir" / "f.txt") << "x";
  EXPECT_TRUE(any_file_exists(dir.path(), {"existsDir/*"}));
  EXPECT_FALSE(any_file_exists(dir.path(), {"nope/*", ""}));
  EXPECT_TRUE(any_file_exists(dir.path(), {"/existsDir/f.txt"}));
}

TEST(Rules, MatchingRuleDecidesTheJob) {
  Result<PipelineConfig> p = parse_pipeline(
      "variables: {DEPLOY: 'yes'}\n"
      "build: {stage: build, script: x}\n"
      "mr_only:\n"
      "  script: x\n"
      "  rules: [{if: '$CI_PIPELINE_SOURCE == \"merge_request_event\"'}]\n"
      "deploy:\n"
      "  stage: deploy\n"
      "  script: x\n"
      "  rules:\n"
      "    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $DEPLOY\n"
      "      when: manual\n"
      "      variables: {TARGET: prod}\n"
      "      needs: []\n"
      "    - when: never\n"
      "optional:\n"
      "  script: x\n"
      "  when: manual\n"
      "  rules: [{when: on_success}]\n"
      "never: {script: x, rules: [{if: $NOPE}]}\n",
      ".gitlab-ci.yml");
  ASSERT_TRUE(p) << p.error().message;
  Variables vars = {Variable{.key = "CI_PIPELINE_SOURCE", .value = "push"},
                    Variable{.key = "CI_COMMIT_BRANCH", .value = "main"},
                    Variable{.key = "CI_DEFAULT_BRANCH", .value = "main"}};
  std::vector<std::string> removed;
  Result<PipelineConfig> kept = apply_rules(*p, vars, {}, "/nonexistent", &removed);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(removed, (std::vector<std::string>{"mr_only", "never"}));
  ASSERT_EQ(kept->jobs.size(), 3u);
  const JobConfig& deploy = *kept->find_job("deploy");
  EXPECT_EQ(deploy.when, When::kManual);
  EXPECT_FALSE(deploy.allow_failure.allowed);  // rule-level manual is blocking
  EXPECT_TRUE(deploy.needs && deploy.needs->empty());
  EXPECT_EQ(deploy.variables.back().name, "TARGET");
  const JobConfig& optional = *kept->find_job("optional");
  EXPECT_EQ(optional.when, When::kOnSuccess);
  EXPECT_FALSE(optional.allow_failure.allowed);

  // The command line beats YAML variables in expressions.
  Result<PipelineConfig> no_deploy =
      apply_rules(*p, vars, {Variable{.key = "DEPLOY", .value = ""}}, "/nonexistent", &removed);
  ASSERT_TRUE(no_deploy);
  EXPECT_EQ(no_deploy->find_job("deploy"), nullptr);
}

TEST(Rules, NeedOnRemovedJobIsAnError) {
  Result<PipelineConfig> p = parse_pipeline(
      "a: {stage: build, script: x, rules: [{when: never}]}\n"
      "b: {script: x, needs: [a]}\n"
      "c: {script: x, needs: [{job: a, optional: true}]}\n",
      ".gitlab-ci.yml");
  ASSERT_TRUE(p);
  Result<PipelineConfig> kept = apply_rules(*p, {}, {}, "/nonexistent");
  ASSERT_FALSE(kept);
  EXPECT_EQ(kept.error().message,
            ".gitlab-ci.yml:2: 'b' job needs 'a' job, but 'a' is not in any previous stage");
}

TEST(Rules, InvalidIfIsAConfigError) {
  Result<PipelineConfig> p =
      parse_pipeline("a:\n  script: x\n  rules:\n    - if: ${X} == 'y'\n", ".gitlab-ci.yml");
  ASSERT_TRUE(p);
  Result<PipelineConfig> kept = apply_rules(*p, {}, {}, "/nonexistent");
  ASSERT_FALSE(kept);
  EXPECT_EQ(kept.error().message.rfind(".gitlab-ci.yml:4: jobs:a:rules:rule if invalid expression "
                                       "syntax",
                                       0),
            0u)
      << kept.error().message;
}

}  // namespace
}  // namespace glr
