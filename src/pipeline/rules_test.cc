// Tests for rules: the expression language's Ruby semantics (pipeline-yaml §8.2 table), exists
// and changes globs (§8.3, §8.4), the effect of the matching rule on jobs (§8.1, §8.5) and
// only/except (§8.7).
#include "pipeline/rules.h"

#include <fstream>
#include <map>

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

TEST(Rules, ExistsPathsExpandVariables) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "services" / "api");
  std::ofstream(dir.path() / "services" / "api" / "Dockerfile") << "FROM x";
  Result<PipelineConfig> p = parse_pipeline(
      "variables: {SERVICE: api}\n"
      "build-api: {script: x, rules: [{exists: ['services/$SERVICE/Dockerfile']}]}\n"
      "build-web: {script: x, rules: [{exists: ['services/${OTHER}/Dockerfile']}]}\n",
      ".gitlab-ci.yml");
  ASSERT_TRUE(p) << p.error().message;
  std::vector<std::string> removed;
  Result<PipelineConfig> kept =
      apply_rules(*p, {}, {Variable{.key = "OTHER", .value = "web"}}, dir.path(), &removed);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_NE(kept->find_job("build-api"), nullptr);
  EXPECT_EQ(removed, (std::vector<std::string>{"build-web"}));
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

TEST(RulesGlob, RubyFnmatchPathnameDotmatchExtglob) {
  EXPECT_TRUE(glob_match("**/*.md", "a.md"));
  EXPECT_TRUE(glob_match("**/*.md", ".hidden/x/a.md"));
  EXPECT_FALSE(glob_match("a**/b", "ax/y/b"));  // `**/` is special only at a segment start
  EXPECT_TRUE(glob_match("a**/b", "axx/b"));
  EXPECT_TRUE(glob_match("docs/**", "docs/a"));
  EXPECT_FALSE(glob_match("docs/**", "docs/a/b"));  // `**` not followed by `/` is `*`
  EXPECT_TRUE(glob_match("src/{a,b{c,d}}/*.cc", "src/bd/x.cc"));
  EXPECT_FALSE(glob_match("src/{a,b{c,d}}/*.cc", "src/b/x.cc"));
  EXPECT_TRUE(glob_match("file[!0-9].txt", "filex.txt"));
  EXPECT_FALSE(glob_match("file[^0-9].txt", "file1.txt"));
  EXPECT_TRUE(glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(glob_match("a\\*b", "axb"));
  EXPECT_FALSE(glob_match("a?b", "a/b"));
  EXPECT_TRUE(glob_match("{README.md,docs/**/*}", "docs/x/y.txt"));
}

TEST(RulesExpansion, ExpandExistingKeepsUndefinedReferences) {
  ExpressionVariables vars = {{"DIR", "docs"}, {"EMPTY", ""}};
  EXPECT_EQ(expand_existing("$DIR/**/*.md", vars), "docs/**/*.md");
  EXPECT_EQ(expand_existing("${DIR}x/$EMPTY$NOPE/${NOPE}", vars), "docsx/$NOPE/${NOPE}");
  EXPECT_EQ(expand_existing("a$", vars), "a$");
}

// A lister that serves fixed answers and counts git's would-be invocations.
struct FakeLister {
  std::map<std::string, std::vector<std::string>> merge_base{};  // ref -> files
  std::map<std::string, std::vector<std::string>> direct{};
  int calls = 0;
  ChangedFiles make(std::vector<std::string> bases = {"origin/main", "main"}) {
    return ChangedFiles(std::move(bases),
                        [this](const std::string& ref,
                               bool from_merge_base) -> std::optional<std::vector<std::string>> {
                          ++calls;
                          const auto& table = from_merge_base ? merge_base : direct;
                          auto it = table.find(ref);
                          if (it == table.end()) return std::nullopt;
                          return it->second;
                        });
  }
};

ConfigValue yaml_value(const std::string& text) {
  Result<PipelineConfig> p = parse_pipeline(
      "job:\n  script: x\n  rules:\n    - changes: " + text + "\n", ".gitlab-ci.yml");
  EXPECT_TRUE(p) << p.error().message;
  return p ? (*p->jobs[0].rules)[0].changes : ConfigValue{};
}

TEST(RulesChanges, ChangedFilesTriesBasesInOrderOnce) {
  FakeLister git{.merge_base = {{"main", {"a.txt"}}}};
  ChangedFiles files = git.make();
  ASSERT_NE(files.since_merge_base(), nullptr);
  EXPECT_EQ(*files.since_merge_base(), (std::vector<std::string>{"a.txt"}));
  EXPECT_EQ(git.calls, 2);  // origin/main missing, main found; the second call is cached
  EXPECT_EQ(files.since("v1"), nullptr);
  EXPECT_EQ(files.since("v1"), nullptr);
  EXPECT_EQ(git.calls, 3);
  ChangedFiles none;
  EXPECT_FALSE(none.evaluated());
}

TEST(RulesChanges, GlobsAgainstTheMergeBaseDiff) {
  FakeLister git{.merge_base = {{"origin/main", {"src/app.cc", "docs/x/y.md", ".ci/cfg"}}},
                 .direct = {{"v1.0", {"README.md"}}}};
  ChangedFiles files = git.make();
  PipelineKind push;
  ExpressionVariables vars = {{"DOCS", "docs"}, {"REF", "v1.0"}};
  auto check = [&](const std::string& changes, const PipelineKind& kind = PipelineKind{}) {
    Result<bool> r = changes_satisfied(yaml_value(changes), vars, kind, &files);
    EXPECT_TRUE(r) << changes << ": " << r.error().message;
    return r && *r;
  };
  EXPECT_TRUE(check("[src/*.cc]"));
  EXPECT_FALSE(check("['*.cc']"));
  EXPECT_TRUE(check("['$DOCS/**/*.md']"));
  EXPECT_TRUE(check("['.ci/*']"));
  EXPECT_FALSE(check("['', lib/**]"));
  EXPECT_TRUE(check("{paths: ['src/**/*.{cc,h}']}"));
  EXPECT_TRUE(check("{paths: [README.md], compare_to: $REF}"));
  EXPECT_FALSE(check("{paths: [src/app.cc], compare_to: v1.0}"));
  // No push diff: tag and schedule pipelines have changes true, unless compare_to is given.
  EXPECT_TRUE(check("[nothing]", PipelineKind{.tag = true}));
  EXPECT_TRUE(check("[nothing]", PipelineKind{.source = "schedule"}));
  EXPECT_FALSE(check("{paths: [nothing], compare_to: v1.0}", PipelineKind{.source = "web"}));
  EXPECT_FALSE(check("[nothing]", PipelineKind{.source = "merge_request_event"}));
  Result<bool> bad =
      changes_satisfied(yaml_value("{paths: [a], compare_to: nope}"), vars, push, &files);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "rules:changes:compare_to is not a valid ref: nope");
  // A base that does not resolve, or --evaluate-rule-changes=false: always true.
  FakeLister empty;
  ChangedFiles unresolved = empty.make();
  EXPECT_TRUE(*changes_satisfied(yaml_value("[nothing]"), vars, push, &unresolved));
  ChangedFiles off;
  EXPECT_TRUE(*changes_satisfied(yaml_value("[nothing]"), vars, push, &off));
  EXPECT_TRUE(*changes_satisfied(yaml_value("[nothing]"), vars, push, nullptr));
}

TEST(RulesChanges, RulesAndWorkflowUseTheSameChangeSet) {
  Result<PipelineConfig> p = parse_pipeline(
      "workflow:\n"
      "  rules:\n"
      "    - changes: [nothing]\n"
      "      variables: {WHY: nothing}\n"
      "    - changes: [src/*]\n"
      "      variables: {WHY: src}\n"
      "a: {script: x, rules: [{changes: [src/*]}]}\n"
      "b: {script: x, rules: [{changes: [docs/*]}]}\n"
      "c:\n"
      "  script: x\n"
      "  rules:\n"
      "    - changes: {paths: [x], compare_to: missing}\n",
      ".gitlab-ci.yml");
  ASSERT_TRUE(p) << p.error().message;
  FakeLister git{.merge_base = {{"origin/main", {"src/a"}}}};
  ChangedFiles files = git.make();
  Result<WorkflowDecision> w = evaluate_workflow(*p, {}, {}, "/nonexistent", &files);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_TRUE(w->run);
  ASSERT_EQ(w->variables.size(), 1u);
  EXPECT_EQ(w->variables[0].value, "src");
  Result<PipelineConfig> kept = apply_rules(*p, {}, {}, "/nonexistent", nullptr, &files);
  ASSERT_FALSE(kept);
  EXPECT_EQ(kept.error().message,
            ".gitlab-ci.yml:12: jobs:c:rules:changes:compare_to is not a valid ref: missing");
  p->jobs.pop_back();
  std::vector<std::string> removed;
  kept = apply_rules(*p, {}, {}, "/nonexistent", &removed, &files);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(removed, (std::vector<std::string>{"b"}));
  EXPECT_EQ(git.calls, 2);  // one listing for the whole pipeline, one for the compare_to ref
}

// Jobs kept by only/except for a pipeline described by `vars` (pipeline variables).
std::vector<std::string> kept_jobs(const std::string& yaml, const Variables& vars,
                                   ChangedFiles* files = nullptr) {
  Result<PipelineConfig> p = parse_pipeline(yaml, ".gitlab-ci.yml");
  EXPECT_TRUE(p) << p.error().message;
  if (!p) return {};
  Result<PipelineConfig> kept = apply_rules(*p, vars, {}, "/nonexistent", nullptr, files);
  EXPECT_TRUE(kept) << kept.error().message;
  std::vector<std::string> names;
  for (const JobConfig& job : kept ? kept->jobs : std::vector<JobConfig>{})
    names.push_back(job.name);
  return names;
}

Variables branch_pipeline(const std::string& branch, const std::string& source = "push") {
  return {Variable{.key = "CI_COMMIT_REF_NAME", .value = branch},
          Variable{.key = "CI_COMMIT_BRANCH", .value = branch},
          Variable{.key = "CI_PIPELINE_SOURCE", .value = source},
          Variable{.key = "CI_PROJECT_PATH", .value = "group/app"}};
}

using Names = std::vector<std::string>;

TEST(RulesOnlyExcept, RefsNamesRegexpsAndProjects) {
  const std::string yaml =
      "main_only: {script: x, only: [main]}\n"
      "release: {script: x, only: ['/^release-\\d+$/']}\n"
      "release_i: {script: x, only: {refs: ['/^RELEASE/i']}}\n"
      "here: {script: x, only: ['main@group/app']}\n"
      "elsewhere: {script: x, only: ['main@group/other']}\n"
      "not_main: {script: x, except: [main]}\n"
      "nothing: {script: x, only: []}\n";
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main")), (Names{"main_only", "here"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("release-12")),
            (Names{"release", "release_i", "not_main"}));
  // A merge request pipeline matches neither names nor regexps (branch? and tag? are false).
  // `except` alone keeps the implicit `only: [branches, tags]`.
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "merge_request_event")), Names{});
}

TEST(RulesOnlyExcept, KeywordsFollowThePipelineSource) {
  const std::string yaml =
      "branches: {script: x, only: [branches]}\n"
      "tags: {script: x, only: [tags]}\n"
      "mrs: {script: x, only: [merge_requests]}\n"
      "pushes: {script: x, only: [pushes]}\n"
      "schedules: {script: x, only: [schedules]}\n"
      "api: {script: x, only: [api]}\n"
      "web: {script: x, only: [web]}\n"
      "triggers: {script: x, only: [triggers]}\n"
      "pipelines: {script: x, only: [pipelines]}\n"
      "chat: {script: x, only: [chat]}\n"
      "external: {script: x, only: [external]}\n"
      "prs: {script: x, only: [external_pull_requests]}\n"
      "plain: {script: x}\n";
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main")), (Names{"branches", "pushes", "plain"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "merge_request_event")), (Names{"mrs"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "schedule")),
            (Names{"branches", "schedules", "plain"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "web")), (Names{"branches", "web", "plain"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "api")), (Names{"branches", "api", "plain"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "trigger")),
            (Names{"branches", "triggers", "plain"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "pipeline")),
            (Names{"branches", "pipelines", "plain"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "chat")), (Names{"branches", "chat", "plain"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "external")),
            (Names{"branches", "external", "plain"}));
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("main", "external_pull_request_event")),
            (Names{"branches", "prs", "plain"}));
  Variables tag = {Variable{.key = "CI_COMMIT_REF_NAME", .value = "v1"},
                   Variable{.key = "CI_COMMIT_TAG", .value = "v1"}};
  EXPECT_EQ(kept_jobs(yaml, tag), (Names{"tags", "pushes", "plain"}));
  // With workflow:rules the implicit `only: [branches, tags]` is gone (GitLab MR 21742).
  EXPECT_EQ(kept_jobs("workflow: {rules: [{when: always}]}\n" + yaml,
                      branch_pipeline("main", "merge_request_event")),
            (Names{"mrs", "plain"}));
}

TEST(RulesOnlyExcept, OnlyIsAnAndOfKeysExceptAnOr) {
  const std::string yaml =
      "vars: {script: x, only: {variables: ['$DEPLOY == \"yes\"', $FORCE]}}\n"
      "vars_on_mr: {script: x, only: {refs: [merge_requests], variables: [$DEPLOY]}}\n"
      "both: {script: x, only: {refs: [main], variables: [$FORCE]}}\n"
      "skip: {script: x, except: {variables: [$SKIP]}}\n"
      "skip_main: {script: x, except: {refs: [other], variables: [$SKIP]}}\n"
      "kube: {script: x, only: {kubernetes: active}}\n"
      "not_kube: {script: x, except: {kubernetes: active}}\n"
      "job_var: {script: x, variables: {FORCE: '1'}, only: {variables: [$FORCE]}}\n";
  Variables vars = branch_pipeline("main");
  EXPECT_EQ(kept_jobs(yaml, vars), (Names{"skip", "skip_main", "not_kube", "job_var"}));
  vars.push_back(Variable{.key = "DEPLOY", .value = "yes"});
  vars.push_back(Variable{.key = "SKIP", .value = "1"});
  EXPECT_EQ(kept_jobs(yaml, vars), (Names{"vars", "not_kube", "job_var"}));
  vars.push_back(Variable{.key = "FORCE", .value = "1"});
  EXPECT_EQ(kept_jobs(yaml, vars), (Names{"vars", "both", "not_kube", "job_var"}));
}

TEST(RulesOnlyExcept, ChangesUseTheChangeSet) {
  const std::string yaml =
      "src: {script: x, only: {changes: ['src/**/*']}}\n"
      "docs: {script: x, only: {changes: ['docs/*']}}\n"
      "not_docs: {script: x, except: {changes: ['docs/*']}}\n"
      "not_src: {script: x, except: {changes: ['src/*']}}\n";
  FakeLister git{.merge_base = {{"origin/main", {"src/a/b.c"}}}};
  ChangedFiles files = git.make();
  EXPECT_EQ(kept_jobs(yaml, branch_pipeline("feature"), &files),
            (Names{"src", "not_docs", "not_src"}));
  // Changes are true without a diff (tag pipeline), so except:changes excludes.
  Variables tag = {Variable{.key = "CI_COMMIT_TAG", .value = "v1"}};
  EXPECT_EQ(kept_jobs(yaml, tag, &files), (Names{"src", "docs"}));
}

TEST(RulesOnlyExcept, InvalidValuesNameFileLineAndKey) {
  auto error = [](const std::string& yaml) {
    Result<PipelineConfig> p = parse_pipeline(yaml, ".gitlab-ci.yml");
    EXPECT_FALSE(p);
    return p ? "" : p.error().message;
  };
  EXPECT_EQ(error("job:\n  script: x\n  only: main\n"),
            ".gitlab-ci.yml:3: jobs:job:only has to be either an array of conditions or a hash");
  EXPECT_EQ(error("job:\n  script: x\n  only:\n    - main\n    - /((/\n"),
            ".gitlab-ci.yml:5: jobs:job:only config should be an array of strings or regular "
            "expressions using re2 syntax");
  EXPECT_EQ(error("job:\n  script: x\n  except:\n    refs: [{a: b}]\n"),
            ".gitlab-ci.yml:4: jobs:job:except refs should be an array of strings or regular "
            "expressions using re2 syntax");
  EXPECT_EQ(error("job:\n  script: x\n  only:\n    kubernetes: passive\n"),
            ".gitlab-ci.yml:4: jobs:job:only kubernetes unknown value: passive");
  EXPECT_EQ(error("job:\n  script: x\n  only:\n    variables: $A\n"),
            ".gitlab-ci.yml:4: jobs:job:only variables should be an array of strings");
  EXPECT_EQ(error("job:\n  script: x\n  only:\n    variables:\n      - $A == 1\n"),
            ".gitlab-ci.yml:5: jobs:job:only variables invalid expression syntax (Unknown lexeme "
            "found!): $A == 1");
  EXPECT_EQ(error("job:\n  script: x\n  except:\n    changes: {paths: [a]}\n"),
            ".gitlab-ci.yml:4: jobs:job:except changes should be an array of strings");
  EXPECT_EQ(error("job:\n  script: x\n  only:\n    branches: true\n"),
            ".gitlab-ci.yml:4: jobs:job:only config contains unknown keys: branches");
  EXPECT_EQ(error("job:\n  script: x\n  only: {}\n"),
            ".gitlab-ci.yml:3: jobs:job:only config can't be blank");
  EXPECT_EQ(error("job:\n  script: x\n  only: [main]\n  rules: [{when: always}]\n"),
            ".gitlab-ci.yml:1: jobs:job config key may not be used with `rules`: only, except");
}

}  // namespace
}  // namespace glr
