// Tests for include:rules, variables in include values, spec:inputs with include:inputs and
// --input, and `$[[ inputs.x ]]` interpolation with its functions and errors (pipeline-yaml
// §3.7, §6.7, §6.8).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "pipeline/ci_yaml.h"
#include "pipeline/inputs.h"
#include "pipeline/local_job_spec.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

using Strings = std::vector<std::string>;

class Project {
 public:
  void write(const std::string& path, const std::string& text) {
    std::filesystem::path file = dir_.path() / path;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }
  Result<PipelineConfig> parse(const std::string& main, ExpressionVariables variables = {},
                               std::vector<std::pair<std::string, std::string>> inputs = {}) {
    return parse_pipeline(main, ".gitlab-ci.yml",
                          IncludeContext{.project_dir = dir_.path(),
                                         .variables = std::move(variables),
                                         .inputs = std::move(inputs),
                                         .commit_sha = commit_sha,
                                         .project_dirs = project_dirs});
  }
  std::string commit_sha{};
  std::map<std::string, std::filesystem::path> project_dirs{};
  PipelineConfig ok(const std::string& main, ExpressionVariables variables = {},
                    std::vector<std::pair<std::string, std::string>> inputs = {}) {
    Result<PipelineConfig> p = parse(main, std::move(variables), std::move(inputs));
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
    return p ? *p : PipelineConfig{};
  }
  std::string error(const std::string& main, ExpressionVariables variables = {},
                    std::vector<std::pair<std::string, std::string>> inputs = {}) {
    Result<PipelineConfig> p = parse(main, std::move(variables), std::move(inputs));
    EXPECT_FALSE(p.has_value());
    return p ? "" : p.error().message;
  }

 private:
  TempDir dir_;
};

Strings job_names(const PipelineConfig& p) {
  Strings out;
  for (const JobConfig& job : p.jobs) out.push_back(job.name);
  return out;
}

const char* kTemplate =
    "spec:\n"
    "  inputs:\n"
    "    name:\n"
    "      description: job name prefix\n"
    "    count:\n"
    "      type: number\n"
    "      default: 2\n"
    "    soft:\n"
    "      type: boolean\n"
    "      default: false\n"
    "    tags:\n"
    "      type: array\n"
    "      default: [small]\n"
    "    env:\n"
    "      default: staging\n"
    "      options: [staging, production]\n"
    "---\n"
    "$[[ inputs.name ]]-test:\n"
    "  parallel: $[[ inputs.count ]]\n"
    "  allow_failure: $[[ inputs.soft ]]\n"
    "  tags: $[[ inputs.tags ]]\n"
    "  script:\n"
    "    - echo env=$[[ inputs.env ]] count=$[[inputs.count]] tags=$[[ inputs.tags ]]\n";

TEST(Inputs, IncludeInputsAreTypedWhenTheyAreTheWholeValue) {
  Project project;
  project.write("ci/tpl.yml", kTemplate);
  PipelineConfig p = project.ok(
      "include:\n"
      "  - local: ci/tpl.yml\n"
      "    inputs:\n"
      "      name: unit\n"
      "      count: 3\n"
      "      soft: true\n"
      "      tags: [linux, docker]\n");
  ASSERT_EQ(job_names(p), Strings{"unit-test"});
  const JobConfig& job = p.jobs[0];
  ASSERT_TRUE(job.parallel.has_value());
  EXPECT_EQ(job.parallel->count, 3);
  EXPECT_TRUE(job.allow_failure.allowed);
  EXPECT_EQ(job.tags, (Strings{"linux", "docker"}));
  EXPECT_EQ(job.script, Strings{"echo env=staging count=3 tags=[\"linux\", \"docker\"]"});
}

TEST(Inputs, DefaultsApplyAndEachInclusionHasItsOwnValues) {
  Project project;
  project.write("ci/tpl.yml", kTemplate);
  PipelineConfig p = project.ok(
      "include:\n"
      "  - local: ci/tpl.yml\n"
      "    inputs: {name: a}\n"
      "  - local: ci/tpl.yml\n"
      "    inputs: {name: b, env: production}\n");
  ASSERT_EQ(job_names(p), (Strings{"a-test", "b-test"}));
  EXPECT_EQ(p.jobs[0].parallel->count, 2);
  EXPECT_FALSE(p.jobs[0].allow_failure.allowed);
  EXPECT_EQ(p.jobs[0].tags, Strings{"small"});
  EXPECT_EQ(p.jobs[1].script, Strings{"echo env=production count=2 tags=[\"small\"]"});
}

TEST(Inputs, MissingRequiredInputNamesTheIncludeAndFile) {
  Project project;
  project.write("ci/tpl.yml", kTemplate);
  EXPECT_EQ(project.error("job: {script: x}\ninclude:\n  - local: ci/tpl.yml\n"),
            ".gitlab-ci.yml:3: include `ci/tpl.yml`: `name` input: required value has not been "
            "provided");
}

TEST(Inputs, ValueErrorsUseGitLabsWording) {
  Project project;
  project.write("ci/tpl.yml", kTemplate);
  auto error_for = [&project](const std::string& inputs) {
    return project.error("include:\n  - local: ci/tpl.yml\n    inputs: {name: x, " + inputs +
                         "}\n");
  };
  const std::string where = ".gitlab-ci.yml:2: include `ci/tpl.yml`: ";
  EXPECT_EQ(error_for("count: many"), where + "`count` input: provided value is not a number");
  EXPECT_EQ(error_for("count: '3'"), where + "`count` input: provided value is not a number");
  EXPECT_EQ(error_for("soft: 'yes'"), where + "`soft` input: provided value is not a boolean");
  EXPECT_EQ(error_for("tags: linux"), where + "`tags` input: provided value is not an array");
  EXPECT_EQ(error_for("env: dev"),
            where +
                "`env` input: `dev` cannot be used because it is not in the list of allowed "
                "options");
  EXPECT_EQ(error_for("nmae: typo, other: 1"), where + "unknown input arguments: nmae, other");
}

TEST(Inputs, RegexOptionsAndDefaultChecks) {
  Project project;
  project.write("ci/v.yml",
                "spec:\n  inputs:\n    version:\n      regex: ^v\\d+\\.\\d+$\n"
                "    level:\n      type: number\n      options: [1, 2]\n      default: 1\n"
                "---\njob:\n  script: echo $[[ inputs.version ]] $[[ inputs.level ]]\n");
  EXPECT_EQ(project.ok("include:\n  - local: ci/v.yml\n    inputs: {version: v1.2, level: 2}\n")
                .jobs[0]
                .script,
            Strings{"echo v1.2 2"});
  EXPECT_EQ(project.error("include:\n  - local: ci/v.yml\n    inputs: {version: 1.2}\n"),
            ".gitlab-ci.yml:2: include `ci/v.yml`: `version` input: provided value is not a "
            "string");
  EXPECT_EQ(project.error("include:\n  - local: ci/v.yml\n    inputs: {version: 'x1.2'}\n"),
            ".gitlab-ci.yml:2: include `ci/v.yml`: `version` input: provided value does not match "
            "required RegEx pattern");
  EXPECT_EQ(project.error("include:\n  - local: ci/v.yml\n    inputs: {version: v1.0, level: 3}\n"),
            ".gitlab-ci.yml:2: include `ci/v.yml`: `level` input: `3` cannot be used because it is "
            "not in the list of the allowed options");

  project.write("ci/bad.yml",
                "spec:\n  inputs:\n    flag:\n      type: boolean\n      default: 'no'\n"
                "      options: [true]\n    n:\n      type: number\n      regex: x\n"
                "      default: 1\n---\njob: {script: x}\n");
  EXPECT_EQ(project.error("include: ci/bad.yml\n"),
            ".gitlab-ci.yml:1: include `ci/bad.yml`: `flag` input: default value is not a "
            "boolean, `flag` input: Options can only be used with string and number inputs, `n` "
            "input: RegEx validation can only be used with string inputs");
  project.write("ci/re.yml",
                "spec:\n  inputs:\n    s:\n      regex: '(('\n---\njob: {script: x}\n");
  EXPECT_EQ(project.error("include:\n  - local: ci/re.yml\n    inputs: {s: a}\n"),
            ".gitlab-ci.yml:2: include `ci/re.yml`: `s` input: invalid regular expression");
}

TEST(Inputs, HeaderErrorsNameTheIncludedFileAndLine) {
  Project project;
  project.write("ci/t.yml", "spec:\n  inputs:\n    a:\n      type: text\n---\njob: {script: x}\n");
  EXPECT_EQ(project.error("include: ci/t.yml\n"),
            "ci/t.yml:4: header:spec:inputs:a input type unknown value: text");
  project.write("ci/k.yml", "spec:\n  inputs:\n    a:\n      defualt: 1\n---\njob: {script: x}\n");
  EXPECT_EQ(project.error("include: ci/k.yml\n"),
            "ci/k.yml:4: header:spec:inputs:a config contains unknown keys: defualt");
}

TEST(Inputs, InterpolationErrorsNameFileAndLine) {
  Project project;
  project.write("ci/u.yml",
                "spec:\n  inputs:\n    a:\n      default: x\n---\njob:\n  script:\n"
                "    - echo $[[ inputs.b ]]\n");
  EXPECT_EQ(project.error("include: ci/u.yml\n"), "ci/u.yml:8: unknown interpolation key: `b`");
  project.write("ci/f.yml",
                "spec:\n  inputs:\n    a:\n      default: x\n---\njob:\n"
                "  script: echo $[[ inputs.a | truncate(0,1) | posix_escape | expand_vars | "
                "truncate(0,1) ]]\n");
  EXPECT_EQ(project.error("include: ci/f.yml\n"),
            "ci/f.yml:7: too many functions in interpolation block");
  project.write("ci/g.yml",
                "spec:\n  inputs:\n    a:\n      default: x\n---\njob:\n"
                "  script: echo $[[ inputs.a | upcase ]]\n");
  EXPECT_EQ(project.error("include: ci/g.yml\n"),
            "ci/g.yml:7: no function matching `upcase`: check that the function name, arguments, "
            "and types are correct");
  project.write("ci/h.yml",
                "spec:\n  inputs:\n    n:\n      type: number\n      default: 12345\n---\njob:\n"
                "  script: echo $[[ inputs.n | truncate(1,2) ]]\n");
  EXPECT_EQ(project.error("include: ci/h.yml\n"),
            "ci/h.yml:8: error in `truncate` function: invalid input type: truncate can only be "
            "used with string inputs");
}

TEST(Inputs, FunctionsTruncatePosixEscapeExpandVars) {
  Project project;
  project.write("ci/fn.yml",
                "spec:\n  inputs:\n    text:\n      default: 0123456789\n"
                "    msg:\n      default: \"it's a $PLACE and $UNKNOWN\"\n---\njob:\n  script:\n"
                "    - echo $[[ inputs.text | truncate(3,5) ]] $[[ inputs.text|truncate(8, 10) ]]\n"
                "    - echo $[[ inputs.msg | posix_escape ]]\n"
                "    - echo $[[ inputs.msg | expand_vars | truncate(0,15) ]]\n");
  PipelineConfig p = project.ok("include: ci/fn.yml\n", {{"PLACE", "town"}});
  ASSERT_EQ(p.jobs.size(), 1u);
  EXPECT_EQ(p.jobs[0].script,
            (Strings{"echo 34567 89", "echo it\\'s\\ a\\ \\$PLACE\\ and\\ \\$UNKNOWN",
                     "echo it's a town and"}));
  EXPECT_EQ(posix_escape(""), "''");
  EXPECT_EQ(posix_escape("a\nb"), "a'\n'b");
}

TEST(Inputs, FunctionsPosixQuoteAndSplit) {
  Project project;
  project.write("ci/sp.yml",
                "spec:\n  inputs:\n    cmds:\n      default: \" echo a ;; echo 'b c';\"\n"
                "    name:\n      default: \"it's x\"\n---\njob:\n"
                "  script: $[[ inputs.cmds | split(';') ]]\n"
                "  after_script:\n    - echo $[[ inputs.name | posix_quote ]]\n");
  PipelineConfig p = project.ok("include: ci/sp.yml\n");
  ASSERT_EQ(p.jobs.size(), 1u);
  EXPECT_EQ(p.jobs[0].script, (Strings{"echo a", "echo 'b c'"}));  // trimmed, empty parts gone
  EXPECT_EQ(p.jobs[0].after_script, Strings{"echo it\\'s\\ x"});
  project.write("ci/sp2.yml",
                "spec:\n  inputs:\n    cmds:\n      default: a\n---\njob:\n"
                "  script: $[[ inputs.cmds | split('') ]]\n");
  EXPECT_EQ(project.error("include: ci/sp2.yml\n"),
            "ci/sp2.yml:7: error in `split` function: invalid argument: separator cannot be empty");
  project.write("ci/sp3.yml",
                "spec:\n  inputs:\n    cmds:\n      default: a,b\n---\njob:\n"
                "  script: $[[ inputs.cmds | split(',') | posix_quote ]]\n");
  EXPECT_EQ(project.error("include: ci/sp3.yml\n"),
            "ci/sp3.yml:7: error in `posix_quote` function: invalid input type: posix_quote can "
            "only be used with string inputs");
}

TEST(Inputs, RulesGiveConditionalOptionsAndDefaults) {
  Project project;
  project.write("ci/r.yml",
                "spec:\n  inputs:\n"
                "    tier:\n      rules:\n"
                "        - if: $[[ inputs.env ]] == \"dev\"\n"
                "          options: [small, medium]\n          default: small\n"
                "        - if: $[[inputs.env]] == \"prod\" && $[[ inputs.kind ]] == \"canary\"\n"
                "          options: [large, xlarge]\n          default: large\n"
                "        - if: $[[ inputs.env ]] == \"prod\"\n          default: xlarge\n"
                "    env:\n      options: [dev, prod, qa]\n      default: dev\n"
                "    kind:\n      default: rolling\n"
                "---\njob:\n  script: echo $[[ inputs.env ]] $[[ inputs.kind ]] $[[ inputs.tier ]]\n");
  auto script = [&project](const std::string& inputs) {
    PipelineConfig p = project.ok("include:\n  - local: ci/r.yml\n    inputs: " + inputs + "\n");
    return p.jobs.empty() || p.jobs[0].script.empty() ? std::string() : p.jobs[0].script[0];
  };
  EXPECT_EQ(script("{}"), "echo dev rolling small");
  EXPECT_EQ(script("{tier: medium}"), "echo dev rolling medium");
  EXPECT_EQ(script("{env: prod, kind: canary}"), "echo prod canary large");
  EXPECT_EQ(script("{env: prod}"), "echo prod rolling xlarge");
  EXPECT_EQ(script("{env: qa}"), "echo qa rolling ");  // no rule matches: empty
  EXPECT_EQ(project.error("include:\n  - local: ci/r.yml\n    inputs: {tier: huge}\n"),
            ".gitlab-ci.yml:2: include `ci/r.yml`: `tier` input: `huge` cannot be used because "
            "it is not in the list of allowed options");

  project.write("ci/loop.yml",
                "spec:\n  inputs:\n"
                "    a:\n      rules:\n        - if: $[[ inputs.b ]] == \"x\"\n          default: x\n"
                "    b:\n      rules:\n        - if: $[[ inputs.a ]] == \"x\"\n          default: x\n"
                "---\njob:\n  script: echo\n");
  EXPECT_NE(project.error("include: ci/loop.yml\n").find("`a` input: rules refer to inputs that "
                                                         "refer back to it"),
            std::string::npos);
  project.write("ci/bad.yml",
                "spec:\n  inputs:\n    a:\n      rules:\n        - when: never\n---\njob:\n"
                "  script: echo\n");
  EXPECT_EQ(project.error("include: ci/bad.yml\n"),
            "ci/bad.yml:5: header:spec:inputs:a:rules:rule config contains unknown keys: when");
  project.write("ci/unknown.yml",
                "spec:\n  inputs:\n    a:\n      rules:\n        - if: $[[ inputs.zz ]] == \"x\"\n"
                "          default: x\n---\njob:\n  script: echo\n");
  EXPECT_NE(project.error("include: ci/unknown.yml\n")
                .find("`a` input: rules: unknown interpolation key: `zz`"),
            std::string::npos);
  // A missing value is reported once, for the input that lacks it.
  project.write("ci/req.yml",
                "spec:\n  inputs:\n    env:\n    a:\n      rules:\n"
                "        - if: $[[ inputs.env ]] == \"x\"\n          default: x\n---\njob:\n"
                "  script: echo\n");
  EXPECT_EQ(project.error("include: ci/req.yml\n"),
            ".gitlab-ci.yml:1: include `ci/req.yml`: `env` input: required value has not been "
            "provided");
}

TEST(Inputs, SpecIncludeReadsInputsFromLocalFilesAndOwnInputsWin) {
  Project project;
  project.write("ci/inputs.yml",
                "inputs:\n  environment:\n    default: staging\n    options: [staging, production]\n"
                "  app_version:\n    default: 1.0.0\n  replicas:\n    type: number\n    default: 3\n");
  project.write("ci/more.yml", "inputs:\n  replicas:\n    type: number\n    default: 5\n");
  const std::string main =
      "spec:\n  include:\n    - local: /ci/inputs.yml\n    - ci/more.yml\n  inputs:\n"
      "    environment:\n      default: production\n---\n"
      "job:\n  script: echo $[[ inputs.environment ]] $[[ inputs.app_version ]] "
      "$[[ inputs.replicas ]]\n";
  PipelineConfig p = project.ok(main);
  ASSERT_EQ(p.jobs.size(), 1u);
  EXPECT_EQ(p.jobs[0].script, Strings{"echo production 1.0.0 5"});
  p = project.ok(main, {}, {{"app_version", "2.1"}, {"environment", "qa"}});
  EXPECT_EQ(p.jobs[0].script, Strings{"echo qa 2.1 5"});  // the file's own entry, no options

  EXPECT_EQ(project.error("spec:\n  include:\n    - remote: https://example.com/i.yml\n---\n"
                          "job:\n  script: echo\n"),
            ".gitlab-ci.yml:3: header:spec:include `remote: https://example.com/i.yml` cannot be "
            "resolved offline: vendor the file and use `local:`");
  EXPECT_EQ(project.error("spec:\n  include:\n    - local: ci/none.yml\n---\njob:\n  script: echo\n"),
            ".gitlab-ci.yml:3: header:spec:include local file `ci/none.yml` does not exist");
  project.write("ci/bad.yml", "inputs:\n  a:\n    defualt: 1\nstages: [x]\n");
  EXPECT_EQ(project.error("spec:\n  include: ci/bad.yml\n---\njob:\n  script: echo\n"),
            "ci/bad.yml:4: config contains unknown keys: stages");
  project.write("ci/bad2.yml", "inputs:\n  a:\n    defualt: 1\n");
  EXPECT_EQ(project.error("spec:\n  include: ci/bad2.yml\n---\njob:\n  script: echo\n"),
            "ci/bad2.yml:3: inputs:a config contains unknown keys: defualt");
}

TEST(Inputs, InputsOnAFileWithoutSpecAreAnError) {
  Project project;
  project.write("ci/plain.yml", "job:\n  script: echo $[[ inputs.a ]]\n");
  EXPECT_EQ(project.error("include:\n  - local: ci/plain.yml\n    inputs: {a: 1}\n"),
            ".gitlab-ci.yml:2: include `ci/plain.yml`: Given inputs not defined in the `spec` "
            "section of the included configuration file");
  // Without inputs GitLab leaves the block as written; we warn.
  PipelineConfig p = project.ok("include: ci/plain.yml\n");
  EXPECT_EQ(p.jobs[0].script, Strings{"echo $[[ inputs.a ]]"});
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find("ci/plain.yml:2: `$[[ inputs."), std::string::npos) << p.warnings[0];
}

TEST(Inputs, InterpolationHappensBeforeNestedIncludes) {
  Project project;
  project.write("ci/pick.yml",
                "spec:\n  inputs:\n    which:\n---\ninclude: ci/jobs/$[[ inputs.which ]].yml\n");
  project.write("ci/jobs/lint.yml", "lint: {script: echo lint}\n");
  EXPECT_EQ(job_names(project.ok("include:\n  - local: ci/pick.yml\n    inputs: {which: lint}\n")),
            Strings{"lint"});
}

TEST(Inputs, MatrixBlocksAreLeftForNeeds) {
  Project project;
  project.write("ci/m.yml", "spec:\n  inputs: {}\n---\njob:\n  script: echo $[[ matrix.OS ]]\n");
  EXPECT_EQ(project.ok("include: ci/m.yml\n").jobs[0].script, Strings{"echo $[[ matrix.OS ]]"});
}

TEST(Inputs, MainFileTakesCommandLineInputsAsDeclaredTypes) {
  Project project;
  const std::string main =
      "spec:\n  inputs:\n    n:\n      type: number\n      default: 1\n"
      "    soft:\n      type: boolean\n      default: false\n"
      "    list:\n      type: array\n      default: []\n    word:\n      default: hi\n---\n"
      "job:\n  parallel: $[[ inputs.n ]]\n  allow_failure: $[[ inputs.soft ]]\n"
      "  tags: $[[ inputs.list ]]\n  script: echo $[[ inputs.word ]]\n";
  PipelineConfig defaults = project.ok(main);
  EXPECT_EQ(defaults.jobs[0].parallel->count, 1);
  EXPECT_EQ(defaults.jobs[0].script, Strings{"echo hi"});
  PipelineConfig given =
      project.ok(main, {}, {{"n", "4"}, {"soft", "true"}, {"list", "[a, \"b\"]"}, {"word", "42"}});
  EXPECT_EQ(given.jobs[0].parallel->count, 4);
  EXPECT_TRUE(given.jobs[0].allow_failure.allowed);
  EXPECT_EQ(given.jobs[0].tags, (Strings{"a", "b"}));
  EXPECT_EQ(given.jobs[0].script, Strings{"echo 42"});
  EXPECT_EQ(project.error(main, {}, {{"n", "four"}}),
            ".gitlab-ci.yml: `n` input: provided value is not a number");
  EXPECT_EQ(project.error(main, {}, {{"m", "1"}}), ".gitlab-ci.yml: unknown input arguments: m");
  EXPECT_EQ(project.error("job: {script: x}\n", {}, {{"m", "1"}}),
            ".gitlab-ci.yml: unknown input arguments: m (the file has no spec:inputs header)");
}

TEST(Include, RulesIfUsesIncludeVariablesOnly) {
  Project project;
  project.write("ci/a.yml", "a: {script: echo a}\n");
  project.write("ci/b.yml", "b: {script: echo b}\n");
  const std::string main =
      "variables:\n  DEPLOY: 'yes'\n"
      "include:\n"
      "  - local: ci/a.yml\n"
      "    rules:\n"
      "      - if: $CI_COMMIT_REF_NAME == \"main\"\n"
      "  - local: ci/b.yml\n"
      "    rules:\n"
      "      - if: $DEPLOY\n"
      "job: {script: x}\n";
  EXPECT_EQ(job_names(project.ok(main, {{"CI_COMMIT_REF_NAME", "main"}})), (Strings{"a", "job"}));
  EXPECT_EQ(job_names(project.ok(main, {{"CI_COMMIT_REF_NAME", "dev"}, {"DEPLOY", "1"}})),
            (Strings{"b", "job"}));
}

TEST(Include, RulesExistsAndWhen) {
  Project project;
  project.write("ci/a.yml", "a: {script: echo a}\n");
  project.write("Dockerfile", "FROM scratch\n");
  auto names = [&project](const std::string& rules) {
    return job_names(
        project.ok("include:\n  - local: ci/a.yml\n    rules:\n" + rules + "job: {script: x}\n"));
  };
  EXPECT_EQ(names("      - exists: [Dockerfile]\n"), (Strings{"a", "job"}));
  EXPECT_EQ(names("      - exists: {paths: ['**/*.txt']}\n"), Strings{"job"});
  EXPECT_EQ(names("      - exists: Dockerfile\n        when: never\n      - when: always\n"),
            Strings{"job"});
  EXPECT_EQ(names("      - if: $NOPE\n      - when: always\n"), (Strings{"a", "job"}));
  EXPECT_EQ(names("      - if: $NOPE\n"), Strings{"job"});
  EXPECT_EQ(names("      - changes: [src/**]\n"), (Strings{"a", "job"}));
}

TEST(Include, LocalWildcardsFollowSection6_2) {
  Project project;  // not a git repository: every file of the directory counts
  project.write("configs/top.yml", "top: {script: x}\n");
  project.write("configs/sub/deep.yml", "deep: {script: x}\n");
  project.write("configs/c++.yml", "cpp: {script: x}\n");
  project.write("configsXtop.yml", "dot_is_literal: {script: x}\n");
  auto names = [&project](const std::string& pattern) {
    return job_names(project.ok("include: '" + pattern + "'\njob: {script: x}\n"));
  };
  EXPECT_EQ(names("configs/*.yml"), (Strings{"cpp", "top", "job"}));
  EXPECT_EQ(names("configs/**.yml"), (Strings{"cpp", "deep", "top", "job"}));
  EXPECT_EQ(names("configs/**/*.yml"), (Strings{"deep", "job"}));
  EXPECT_EQ(names("configs/c++*.yml"), (Strings{"cpp", "job"}));
  EXPECT_EQ(names("configs*top.yml"), (Strings{"dot_is_literal", "job"}));
  EXPECT_NE(project.error("include: 'configs/*.yaml'\njob: {script: x}\n").find("matches no file"),
            std::string::npos);
}

TEST(Include, RulesErrors) {
  Project project;
  project.write("ci/a.yml", "a: {script: echo a}\n");
  auto error = [&project](const std::string& rules) {
    return project.error("include:\n  - local: ci/a.yml\n    rules:\n" + rules);
  };
  EXPECT_EQ(error("      - when: on_success\n"),
            ".gitlab-ci.yml:4: include:rules:rule when unknown value: on_success");
  EXPECT_EQ(error("      - if: $A ==\n"),
            ".gitlab-ci.yml:4: include:rules:rule if invalid expression syntax: $A ==");
  EXPECT_EQ(error("      - allow_failure: true\n"),
            ".gitlab-ci.yml:4: include:rules:rule config contains unknown keys: allow_failure");
  EXPECT_NE(error("      - exists: {paths: [x], project: group/other}\n")
                .find("include: rules:exists:project `group/other` cannot be resolved offline"),
            std::string::npos);
  EXPECT_EQ(project.error("include:\n  - local: ci/a.yml\n    when: never\n"),
            ".gitlab-ci.yml:3: include config contains unknown keys: when");
}

TEST(Include, VariablesInIncludeValuesAreExpanded) {
  Project project;
  project.write("ci/linux.yml", "linux: {script: echo}\n");
  EXPECT_EQ(job_names(project.ok("include: ci/$OS.yml\n", {{"OS", "linux"}})), Strings{"linux"});
  EXPECT_EQ(job_names(project.ok("include:\n  - local: 'ci/${OS}.yml'\n", {{"OS", "linux"}})),
            Strings{"linux"});
  EXPECT_EQ(project.error("include: ci/$OS.yml\n"),
            ".gitlab-ci.yml:1: include: Local file `ci/.yml` does not exist (local includes are "
            "read from files git would commit)");
}

TEST(Include, OfflineFormsAreClearErrors) {
  Project project;
  EXPECT_NE(project.error("include:\n  - template: Auto-DevOps.gitlab-ci.yml\n")
                .find(".gitlab-ci.yml:2: include: template `Auto-DevOps.gitlab-ci.yml` cannot be "
                      "resolved offline"),
            std::string::npos);
  EXPECT_NE(project
                .error("include:\n  - component: $CI_SERVER_FQDN/g/c/lint@1.0\n",
                       {{"CI_SERVER_FQDN", "gitlab.example.com"}})
                .find("component `gitlab.example.com/g/c/lint@1.0` cannot be resolved offline"),
            std::string::npos);
}

TEST(Include, ComponentOfTheCurrentProjectIsReadFromTheWorkingTree) {
  Project project;
  project.write("templates/lint.yml",
                "spec:\n  inputs:\n    stage:\n      default: test\n---\n"
                "$[[ component.name ]]-job:\n  stage: $[[ inputs.stage ]]\n"
                "  script: echo $[[ component.version ]] $[[ component.reference ]] "
                "$[[ component.sha ]]\n");
  project.commit_sha = "4f0c2a9e5b1d";
  project.write("templates/build/template.yml", "build: {stage: build, script: echo build}\n");
  ExpressionVariables vars = {{"CI_SERVER_FQDN", "gitlab.example.com"},
                              {"CI_PROJECT_PATH", "group/app"}};
  PipelineConfig p = project.ok(
      "stages: [build, lint]\n"
      "include:\n"
      "  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/lint@1.2\n"
      "    inputs: {stage: lint}\n"
      "  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/build@main\n",
      vars);
  ASSERT_EQ(job_names(p), (Strings{"lint-job", "build"}));
  EXPECT_EQ(p.jobs[0].stage, "lint");
  EXPECT_EQ(p.jobs[0].script, Strings{"echo 1.2 1.2 4f0c2a9e5b1d"});
  ASSERT_EQ(p.warnings.size(), 2u);
  EXPECT_NE(p.warnings[0].find("component `gitlab.example.com/group/app/lint@1.2` is read from "
                               "the working tree (templates/lint.yml)"),
            std::string::npos)
      << p.warnings[0];
  EXPECT_NE(project.error("include:\n  - component: gitlab.example.com/other/app/lint@1.2\n", vars)
                .find("component `gitlab.example.com/other/app/lint@1.2` cannot be resolved "
                      "offline"),
            std::string::npos);
}

// A local clone of another project: a git repository with tag v1 and a later commit on main.
class Clone {
 public:
  Clone() {
    git({"init", "-q", "-b", "main"});
    write("ci/build.yml", "include: ci/common.yml\nbuild-v1: {script: echo v1}\n");
    write("ci/common.yml", "common-v1: {script: echo common}\n");
    write("templates/lint.yml",
          "spec:\n  inputs:\n    stage: {default: test}\n---\n"
          "lint-$[[ component.version ]]:\n  stage: $[[ inputs.stage ]]\n"
          "  script: echo $[[ component.sha ]]\n");
    commit("v1");
    git({"tag", "v1"});
    write("ci/build.yml", "include: ci/common.yml\nbuild-main: {script: echo main}\n");
    write("ci/common.yml", "common-main: {script: echo common}\n");
    commit("main");
  }
  void write(const std::string& path, const std::string& text) {
    std::filesystem::path file = dir_.path() / path;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }
  void commit(const std::string& message) {
    git({"add", "-A"});
    git({"-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", message});
  }
  std::string git(std::vector<std::string> args) {
    std::optional<std::string> out = run_git(dir_.path(), std::move(args));
    EXPECT_TRUE(out.has_value());
    return out.value_or("");
  }
  std::filesystem::path path() const { return dir_.path(); }

 private:
  TempDir dir_;
};

TEST(Include, ProjectIncludesReadALocalCloneAtTheRef) {  // §6.3 Local (a)
  Clone lib;
  Project project;
  project.project_dirs["group/lib"] = lib.path();
  PipelineConfig at_tag = project.ok(
      "include:\n  - project: group/lib\n    ref: v1\n    file: /ci/build.yml\n");
  // Its nested local include comes from the same project and ref.
  EXPECT_EQ(job_names(at_tag), (Strings{"common-v1", "build-v1"}));
  PipelineConfig at_head = project.ok("include:\n  - project: group/lib\n    file: [ci/build.yml]\n");
  EXPECT_EQ(job_names(at_head), (Strings{"common-main", "build-main"}));

  EXPECT_NE(project.error("include:\n  - project: group/lib\n    ref: v9\n    file: ci/build.yml\n")
                .find("include: project `group/lib`: ref `v9` does not exist in "),
            std::string::npos);
  EXPECT_NE(project.error("include:\n  - project: group/lib\n    ref: v1\n    file: ci/none.yml\n")
                .find("include: project `group/lib`: file `ci/none.yml` does not exist at `v1` in "),
            std::string::npos);
  EXPECT_NE(project.error("include:\n  - project: group/other\n    file: ci/build.yml\n")
                .find("include: project `group/other` file `ci/build.yml` cannot be resolved "
                      "offline: glrunner exec reads include:local files from the working tree, "
                      "and other projects from local clones named with --include-project"),
            std::string::npos);
}

TEST(Include, ComponentsOfAClonedProjectAreReadAtTheirVersion) {  // §6.6
  Clone lib;
  Project project;
  project.project_dirs["group/lib"] = lib.path();
  std::string v1 = lib.git({"rev-parse", "v1^{commit}"});
  PipelineConfig p = project.ok(
      "include:\n  - component: $CI_SERVER_FQDN/group/lib/lint@v1\n    inputs: {stage: build}\n",
      {{"CI_SERVER_FQDN", "gitlab.example.com"}, {"CI_PROJECT_PATH", "group/app"}});
  ASSERT_EQ(job_names(p), Strings{"lint-v1"});
  EXPECT_EQ(p.jobs[0].stage, "build");
  EXPECT_EQ(p.jobs[0].script, Strings{"echo " + v1});
}

TEST(Inputs, SpecIncludeReadsAClonedProjectAtTheRef) {
  Clone lib;
  lib.write("ci/inputs.yml", "inputs:\n  tier:\n    default: gold\n");
  lib.commit("inputs");
  lib.git({"tag", "v2"});
  lib.write("ci/inputs.yml", "inputs:\n  tier:\n    default: silver\n");
  lib.commit("later");
  Project project;
  project.project_dirs["group/lib"] = lib.path();
  const std::string main =
      "spec:\n  include:\n    - project: group/lib\n      ref: v2\n      file: ci/inputs.yml\n---\n"
      "job:\n  script: echo $[[ inputs.tier ]]\n";
  EXPECT_EQ(project.ok(main).jobs[0].script, Strings{"echo gold"});
  EXPECT_EQ(project.error("spec:\n  include:\n    - project: group/lib\n      ref: v1\n"
                          "      file: ci/inputs.yml\n---\njob:\n  script: echo\n")
                .rfind(".gitlab-ci.yml:3: header:spec:include file `group/lib:ci/inputs.yml` does "
                       "not exist at `v1` in ",
                       0),
            0u);
}

TEST(Include, IncludeVariablesFollowSection6_7) {
  Variables predefined = {{.key = "CI_PROJECT_PATH", .value = "g/p"},
                          {.key = "CI_COMMIT_SHA", .value = "abc"},
                          {.key = "CI_COMMIT_REF_NAME", .value = "main"},
                          {.key = "CI_SERVER_FQDN", .value = "gitlab.example.com"},
                          {.key = "CI_JOB_ID", .value = "1"}};
  Variables cli = {{.key = "CI_COMMIT_REF_NAME", .value = "feature"},
                   {.key = "MINE", .value = "x"}};
  ExpressionVariables vars = include_variables(predefined, cli);
  EXPECT_EQ(vars, (ExpressionVariables{{"CI_COMMIT_REF_NAME", "feature"},
                                       {"CI_PROJECT_PATH", "g/p"},
                                       {"CI_SERVER_FQDN", "gitlab.example.com"},
                                       {"MINE", "x"}}));
}

TEST(Inputs, ExpandIncludeVariablesForms) {
  ExpressionVariables vars = {{"A", "1"}, {"B_2", "two"}};
  EXPECT_EQ(expand_include_variables("$A-${B_2}-%A%-$C-${C}-$", vars, false), "1-two-1---$");
  EXPECT_EQ(expand_include_variables("$A $C ${C}", vars, true), "1 $C ${C}");
}

}  // namespace
}  // namespace glr
