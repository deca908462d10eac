// Tests for the YAML layer: dialect, merge keys, !reference, extends, default/inherit, stages
// and error messages with line numbers (pipeline-yaml §2-§5).
#include "pipeline/ci_yaml.h"

#include <fstream>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace glr {
namespace {

PipelineConfig parse_ok(const std::string& text) {
  Result<PipelineConfig> p = parse_pipeline(text, ".gitlab-ci.yml");
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
  return p ? *p : PipelineConfig{};
}

std::string parse_error(const std::string& text) {
  Result<PipelineConfig> p = parse_pipeline(text, ".gitlab-ci.yml");
  EXPECT_FALSE(p.has_value());
  return p ? "" : p.error().message;
}

std::string var(const std::vector<VariableDef>& vars, const std::string& name) {
  for (const VariableDef& v : vars) {
    if (v.name == name) return v.value;
  }
  return "<unset>";
}

using Strings = std::vector<std::string>;

TEST(CiYaml, MinimalJobGetsDefaultStagesAndTestStage) {
  PipelineConfig p = parse_ok("build:\n  script: make\n");
  EXPECT_EQ(p.stages, (Strings{".pre", "build", "test", "deploy", ".post"}));
  ASSERT_EQ(p.jobs.size(), 1u);
  EXPECT_EQ(p.jobs[0].name, "build");
  EXPECT_EQ(p.jobs[0].stage, "test");
  EXPECT_EQ(p.jobs[0].script, Strings{"make"});
  EXPECT_EQ(p.jobs[0].when, When::kOnSuccess);
  EXPECT_EQ(p.jobs[0].line, 1);
}

TEST(CiYaml, ExplicitStagesGetEdgeStages) {
  PipelineConfig p = parse_ok("stages: [.post, one, [two, three]]\na: {stage: two, script: x}\n");
  EXPECT_EQ(p.stages, (Strings{".pre", "one", "two", "three", ".post"}));
}

TEST(CiYaml, Yaml11ScalarsBecomeRubyStrings) {
  PipelineConfig p = parse_ok(
      "variables:\n  A: yes\n  B: 1.10\n  C: 010\n  D: 0x1f\n  E: 'yes'\n  F: 1:30\n  G: y\n"
      "  H: {value: x, description: d, expand: false}\n  I: 1_000\n"
      "job: {script: [echo]}\n");
  EXPECT_EQ(var(p.variables, "A"), "true");
  EXPECT_EQ(var(p.variables, "B"), "1.1");
  EXPECT_EQ(var(p.variables, "C"), "8");
  EXPECT_EQ(var(p.variables, "D"), "31");
  EXPECT_EQ(var(p.variables, "E"), "yes");
  EXPECT_EQ(var(p.variables, "F"), "90");
  EXPECT_EQ(var(p.variables, "G"), "y");
  EXPECT_EQ(var(p.variables, "H"), "x");
  EXPECT_EQ(var(p.variables, "I"), "1000");
  EXPECT_FALSE(p.variables[7].expand);
  EXPECT_EQ(p.variables[7].description, "d");
}

TEST(CiYaml, NullVariableIsEmptyWithWarning) {
  PipelineConfig p = parse_ok("variables:\n  A:\njob: {script: x}\n");
  EXPECT_EQ(var(p.variables, "A"), "");
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find(".gitlab-ci.yml:2:"), std::string::npos) << p.warnings[0];
}

TEST(CiYaml, MergeKeysAreShallowAndExplicitKeysWin) {
  PipelineConfig p = parse_ok(
      ".defaults: &defaults\n"
      "  image: alpine:3.20\n"
      "  variables: {A: '1'}\n"
      "  stage: build\n"
      "job:\n"
      "  <<: *defaults\n"
      "  variables: {B: '2'}\n"
      "  script: [echo]\n");
  const JobConfig& job = p.jobs.at(0);
  ASSERT_TRUE(job.image);
  EXPECT_EQ(job.image->name, "alpine:3.20");
  EXPECT_EQ(job.stage, "build");
  ASSERT_EQ(job.variables.size(), 1u);
  EXPECT_EQ(job.variables[0].name, "B");
}

TEST(CiYaml, MergeKeyListEarlierEntryWins) {
  PipelineConfig p = parse_ok(
      ".a: &a {stage: build, timeout: 1h}\n"
      ".b: &b {stage: deploy, when: manual}\n"
      "job:\n"
      "  <<: [*a, *b]\n"
      "  script: x\n");
  const JobConfig& job = p.jobs.at(0);
  EXPECT_EQ(job.stage, "build");
  EXPECT_EQ(job.timeout, "1h");
  EXPECT_EQ(job.when, When::kManual);
  EXPECT_TRUE(job.allow_failure.allowed);  // job-level manual defaults to allow_failure
}

TEST(CiYaml, NestedScriptListsAreFlattened) {
  PipelineConfig p = parse_ok(
      ".setup: &setup [echo one, [echo two]]\n"
      "job:\n"
      "  script: [*setup, echo three]\n");
  EXPECT_EQ(p.jobs.at(0).script, (Strings{"echo one", "echo two", "echo three"}));
}

TEST(CiYaml, ScriptNestedElevenLevelsIsAnError) {
  std::string nested = "x";
  for (int i = 0; i < 11; ++i) nested = "[" + nested + "]";
  EXPECT_EQ(parse_error("job:\n  script: " + nested + "\n"),
            ".gitlab-ci.yml:2: jobs:job:script config should be a string or a nested array of "
            "strings up to 10 levels deep");
}

TEST(CiYaml, ReferenceTagsResolveNestedAndAfterExtends) {
  PipelineConfig p = parse_ok(
      ".snippets:\n"
      "  setup: [echo one, echo two]\n"
      "  more: [!reference [.snippets, setup], echo more]\n"
      ".vars:\n"
      "  variables: {URL: http://x}\n"
      ".base:\n"
      "  after_script: [echo after]\n"
      ".child:\n"
      "  extends: .base\n"
      "build:\n"
      "  script:\n"
      "    - !reference [.snippets, more]\n"
      "    - echo three\n"
      "  after_script: !reference [.child, after_script]\n"
      "  variables: !reference [.vars, variables]\n");
  const JobConfig& job = p.jobs.at(0);
  EXPECT_EQ(job.script, (Strings{"echo one", "echo two", "echo more", "echo three"}));
  EXPECT_EQ(job.after_script, Strings{"echo after"});
  EXPECT_EQ(var(job.variables, "URL"), "http://x");
}

TEST(CiYaml, ReferenceCycleIsAnError) {
  std::string e = parse_error(
      ".a:\n  x: !reference [.b, y]\n.b:\n  y: !reference [.a, x]\n"
      "job:\n  script: !reference [.a, x]\n");
  EXPECT_NE(e.find("is part of a circular chain"), std::string::npos) << e;
}

TEST(CiYaml, ReferenceMissingIsAnError) {
  EXPECT_EQ(parse_error("job:\n  script:\n    - !reference [.nope, script]\n"),
            ".gitlab-ci.yml:3: !reference [.nope, script] could not be found");
}

TEST(CiYaml, ReferenceInvalidForm) {
  std::string e = parse_error("job:\n  script: !reference []\n");
  EXPECT_NE(e.find("is not valid"), std::string::npos) << e;
}

TEST(CiYaml, ExtendsDeepMergeExampleOfSection5) {
  PipelineConfig p = parse_ok(
      ".base:\n"
      "  image: alpine:3.20\n"
      "  variables: {URL: a, KEEP: x}\n"
      "  script: [echo base]\n"
      ".docker:\n"
      "  variables: {URL: b}\n"
      "  tags: [docker]\n"
      "job:\n"
      "  extends: [.base, .docker]\n"
      "  variables: {EXTRA: y}\n"
      "  script: [echo job]\n");
  ASSERT_EQ(p.jobs.size(), 1u);
  const JobConfig& job = p.jobs[0];
  EXPECT_EQ(job.image->name, "alpine:3.20");
  EXPECT_EQ(var(job.variables, "URL"), "b");
  EXPECT_EQ(var(job.variables, "KEEP"), "x");
  EXPECT_EQ(var(job.variables, "EXTRA"), "y");
  EXPECT_EQ(job.tags, Strings{"docker"});
  EXPECT_EQ(job.script, Strings{"echo job"});
  EXPECT_EQ(job.extends, (Strings{".base", ".docker"}));
}

TEST(CiYaml, ExtendsMultiLevelAndNullDropsKey) {
  PipelineConfig p = parse_ok(
      ".a: {variables: {A: '1'}, script: [a], stage: build}\n"
      ".b: {extends: .a, variables: {B: '2'}}\n"
      "job: {extends: .b, variables: null}\n");
  const JobConfig& job = p.jobs.at(0);
  EXPECT_EQ(job.stage, "build");
  EXPECT_EQ(job.script, Strings{"a"});
  EXPECT_TRUE(job.variables.empty());
}

TEST(CiYaml, ExtendsErrors) {
  EXPECT_EQ(parse_error("job:\n  extends: .missing\n  script: x\n"),
            ".gitlab-ci.yml:2: job: unknown keys in `extends` (.missing)");
  EXPECT_EQ(parse_error(".a: [1]\njob:\n  extends: .a\n  script: x\n"),
            ".gitlab-ci.yml:3: job: invalid base hashes in `extends` (.a)");
  std::string cycle = parse_error(".a: {extends: .b}\n.b: {extends: .a}\njob: {extends: .a, script: x}\n");
  EXPECT_NE(cycle.find("circular dependency detected in `extends`"), std::string::npos) << cycle;
  std::string deep;
  for (int i = 0; i < 12; ++i) {
    deep += ".l" + std::to_string(i) + ": {extends: .l" + std::to_string(i + 1) + "}\n";
  }
  deep += ".l12: {script: x}\njob: {extends: .l0}\n";
  std::string e = parse_error(deep);
  EXPECT_NE(e.find("nesting too deep in `extends`"), std::string::npos) << e;
}

TEST(CiYaml, DefaultKeysAreCopiedUnlessJobHasThemOrOptsOut) {
  PipelineConfig p = parse_ok(
      "image: ruby:3\n"
      "default:\n"
      "  image: alpine:3.20\n"
      "  before_script: [echo setup]\n"
      "  tags: [t]\n"
      "variables: {G: g, H: h}\n"
      "a: {script: [echo a]}\n"
      "b: {before_script: [], script: [echo b]}\n"
      "c: {inherit: {default: false, variables: false}, script: [x]}\n"
      "d: {inherit: {default: [tags], variables: [H]}, script: [x]}\n");
  ASSERT_EQ(p.jobs.size(), 4u);
  EXPECT_EQ(p.jobs[0].image->name, "alpine:3.20");  // default: wins over the global
  EXPECT_EQ(p.jobs[0].before_script, Strings{"echo setup"});
  EXPECT_TRUE(p.jobs[1].before_script.empty());
  EXPECT_EQ(p.jobs[1].image->name, "alpine:3.20");
  EXPECT_FALSE(p.jobs[2].image);
  EXPECT_TRUE(p.jobs[2].tags.empty());
  EXPECT_TRUE(inherited_variables(p, p.jobs[2]).empty());
  EXPECT_FALSE(p.jobs[3].image);
  EXPECT_EQ(p.jobs[3].tags, Strings{"t"});
  std::vector<VariableDef> inherited = inherited_variables(p, p.jobs[3]);
  ASSERT_EQ(inherited.size(), 1u);
  EXPECT_EQ(inherited[0].name, "H");
  EXPECT_EQ(inherited_variables(p, p.jobs[0]).size(), 2u);
}

TEST(CiYaml, DeprecatedGlobalsActAsDefaults) {
  PipelineConfig p = parse_ok("before_script: [echo g]\nafter_script: echo a\njob: {script: x}\n");
  EXPECT_EQ(p.jobs.at(0).before_script, Strings{"echo g"});
  EXPECT_EQ(p.jobs.at(0).after_script, Strings{"echo a"});
}

TEST(CiYaml, DefaultEntryReplacesDeprecatedGlobalWhole) {
  PipelineConfig p = parse_ok(
      "cache: {key: g, paths: [a]}\ndefault: {cache: {paths: [b]}}\njob: {script: x}\n");
  ASSERT_EQ(p.jobs.at(0).cache.size(), 1u);
  EXPECT_TRUE(p.jobs[0].cache[0].key.is_null());
  EXPECT_EQ(p.jobs[0].cache[0].paths, Strings{"b"});
}

TEST(CiYaml, AliasBombIsRejected) {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 8; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) yaml += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    yaml += "]\n";
  }
  std::string e = parse_error(yaml);
  EXPECT_NE(e.find("too many nodes"), std::string::npos) << e;
}

TEST(CiYaml, HiddenJobsAreNotJobs) {
  PipelineConfig p = parse_ok(".hidden: [1, 2]\n.h2: {script: x}\njob: {script: x}\n");
  ASSERT_EQ(p.jobs.size(), 1u);
  EXPECT_EQ(p.jobs[0].name, "job");
}

TEST(CiYaml, JobKeywordsAreKept) {
  PipelineConfig p = parse_ok(
      "stages: [build, test]\n"
      "build: {stage: build, script: x}\n"
      "job:\n"
      "  stage: test\n"
      "  script: x\n"
      "  allow_failure: {exit_codes: [1, 137]}\n"
      "  image: {name: node:20, entrypoint: ['']}\n"
      "  needs: [build, {job: other, optional: true, artifacts: false}]\n"
      "  dependencies: [build]\n"
      "  artifacts: {paths: [out/], when: always, reports: {dotenv: build.env}}\n"
      "  cache: [{key: k, paths: [c/]}]\n"
      "  rules:\n"
      "    - if: $CI_COMMIT_BRANCH == \"main\"\n"
      "      when: manual\n"
      "      variables: {R: r}\n"
      "  timeout: 1h 30m\n"
      "  retry: {max: 2, when: [script_failure]}\n"
      "  parallel: 3\n"
      "  interruptible: true\n"
      "  environment: {name: review/x, url: http://x}\n"
      "  coverage: /cov (\\d+)/\n"
      "  resource_group: rg\n"
      "  tags: [docker]\n"
      "  services: [postgres:16, {name: redis, alias: cache}]\n"
      "  hooks: {pre_get_sources_script: [echo pre]}\n"
      "  id_tokens: {TOKEN: {aud: x}}\n");
  const JobConfig& job = p.jobs.at(1);
  EXPECT_EQ(job.allow_failure.exit_codes, (std::vector<int>{1, 137}));
  EXPECT_FALSE(job.allow_failure.allowed);
  EXPECT_EQ(job.image->name, "node:20");
  EXPECT_EQ(job.image->entrypoint, Strings{""});
  ASSERT_TRUE(job.needs);
  ASSERT_EQ(job.needs->size(), 2u);
  EXPECT_EQ((*job.needs)[1].job, "other");
  EXPECT_TRUE((*job.needs)[1].optional);
  EXPECT_FALSE((*job.needs)[1].artifacts);
  EXPECT_EQ(job.dependencies, Strings{"build"});
  EXPECT_EQ(job.artifacts->paths, Strings{"out/"});
  EXPECT_EQ(job.artifacts->dotenv, Strings{"build.env"});
  EXPECT_EQ(job.cache.at(0).paths, Strings{"c/"});
  ASSERT_TRUE(job.rules);
  EXPECT_EQ(*job.rules->at(0).if_expr, "$CI_COMMIT_BRANCH == \"main\"");
  EXPECT_EQ(*job.rules->at(0).when, When::kManual);
  EXPECT_EQ(job.timeout, "1h 30m");
  EXPECT_EQ(job.retry->max, 2);
  EXPECT_EQ(job.parallel->count, 3);
  EXPECT_EQ(job.environment->name, "review/x");
  EXPECT_EQ(job.services.size(), 2u);
  EXPECT_EQ(job.services[1].alias, "cache");
  EXPECT_EQ(job.pre_get_sources_script, Strings{"echo pre"});
  EXPECT_TRUE(job.id_tokens.is_mapping());
}

TEST(CiYaml, TriggerJobsUseOnlyTheirKeywords) {  // pipeline-yaml §10
  EXPECT_EQ(parse_error("deploy:\n  trigger: {include: child.yml}\n  script: [echo]\n"),
            ".gitlab-ci.yml:3: jobs:deploy config contains unknown keys: script (a trigger job "
            "may only use allow_failure, environment, except, extends, inherit, needs, only, "
            "resource_group, rules, stage, trigger, variables, when)");
  EXPECT_EQ(parse_error("deploy:\n  trigger: a/b\n  when: delayed\n  start_in: 1 min\n")
                .rfind(".gitlab-ci.yml:4: jobs:deploy config contains unknown keys: start_in", 0),
            0u);
  Result<PipelineConfig> ok = parse_pipeline(
      "deploy:\n  stage: test\n  trigger: {include: [{local: a.yml}], strategy: depend}\n"
      "  variables: {A: b}\n  needs: []\n  when: manual\n  allow_failure: false\n",
      ".gitlab-ci.yml");
  ASSERT_TRUE(ok) << ok.error().message;
}

TEST(CiYaml, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(parse_error("job:\n  script: x\n  foo: 1\n  bar: 2\n"),
            ".gitlab-ci.yml:3: jobs:job config contains unknown keys: foo, bar");
  EXPECT_EQ(parse_error("a: {script: x}\njob:\n  image: alpine\n"),
            ".gitlab-ci.yml:2: jobs job config should implement the script:, run:, or trigger: "
            "keyword");
  EXPECT_EQ(parse_error("job:\n  script: x\n  stage: nope\n"),
            ".gitlab-ci.yml:3: jobs:job job: chosen stage nope does not exist; available stages "
            "are .pre, build, test, deploy, .post");
  EXPECT_EQ(parse_error("job:\n  script: x\n  when: sometimes\n"),
            ".gitlab-ci.yml:3: jobs:job:when config should be one of on_success, on_failure, "
            "always, manual, delayed");
  EXPECT_EQ(parse_error("job:\n  script: x\n  when: never\n"),
            ".gitlab-ci.yml:3: jobs:job when:never can only be used in a rules section or "
            "workflow:rules");
  EXPECT_EQ(parse_error("job:\n  script: x\n  allow_failure: {exit_codes: [a]}\n"),
            ".gitlab-ci.yml:3: jobs:job:allow_failure:exit_codes config should be an integer");
  EXPECT_EQ(parse_error("stages: build\njob: {script: x}\n"),
            ".gitlab-ci.yml:1: stages config should be an array of strings");
  EXPECT_EQ(parse_error("job:\n  script: []\n"), ".gitlab-ci.yml:2: jobs:job has empty script");
  EXPECT_EQ(parse_error("job:\n  script: x\n  needs: build\n"),
            ".gitlab-ci.yml:3: jobs:job:needs config should be an array");
  EXPECT_EQ(parse_error("job:\n  script: x\n  retry: 3\n"),
            ".gitlab-ci.yml:3: jobs:job:retry config should be a hash or an integer between 0 "
            "and 2");
  EXPECT_EQ(parse_error("default:\n  stage: x\njob: {script: x}\n"),
            ".gitlab-ci.yml:2: default config contains unknown keys: stage");
  EXPECT_EQ(parse_error("job:\n  script: x\n  variables: {A: [1]}\n"),
            ".gitlab-ci.yml:3: jobs:job:variables config should be a hash of key value pairs, "
            "value can be a hash");
}

TEST(CiYaml, SyntaxErrorHasLineAndColumn) {
  std::string e = parse_error("job:\n  script: [a\n  stage: b\n");
  EXPECT_EQ(e.rfind(".gitlab-ci.yml:", 0), 0u) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
  std::string e2 = parse_error("a: b\n c: d\n");
  EXPECT_NE(e2.find(".gitlab-ci.yml:2:"), std::string::npos) << e2;
}

TEST(CiYaml, EmptyFileIsAnError) {
  EXPECT_EQ(parse_error("# only a comment\n"),
            ".gitlab-ci.yml: Please provide content of .gitlab-ci.yml");
}

TEST(CiYaml, CoverageThatIsNotARegexIsAnErrorNamingTheLine) {
  Result<PipelineConfig> p =
      parse_pipeline("test:\n  script: x\n  coverage: '/total (\\d+/'\n", ".gitlab-ci.yml");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message,
            ".gitlab-ci.yml:3: jobs:test coverage config must be a regular expression");
}

TEST(CiYaml, DuplicateKeyWarnsAndKeepsLast) {
  PipelineConfig p = parse_ok("job:\n  script: a\n  script: b\n");
  EXPECT_EQ(p.jobs.at(0).script, Strings{"b"});
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_NE(p.warnings[0].find(".gitlab-ci.yml:3: duplicated mapping key 'script'"),
            std::string::npos);
}

TEST(CiYaml, PreviewShowsMergedJobs) {
  PipelineConfig p = parse_ok(
      ".base: {image: alpine}\ndefault: {before_script: [echo b]}\n"
      "job: {extends: .base, script: [echo 'yes']}\n");
  EXPECT_NE(p.merged_yaml.find("image: alpine"), std::string::npos) << p.merged_yaml;
  EXPECT_NE(p.merged_yaml.find("before_script"), std::string::npos) << p.merged_yaml;
  EXPECT_EQ(p.merged_yaml.find(".base"), std::string::npos) << p.merged_yaml;
  EXPECT_NE(p.merged_yaml.find("- .pre"), std::string::npos) << p.merged_yaml;
  // The merged YAML parses back to the same job.
  PipelineConfig again = parse_ok(p.merged_yaml);
  EXPECT_EQ(again.jobs.at(0).script, p.jobs.at(0).script);
  EXPECT_EQ(again.jobs.at(0).image, p.jobs.at(0).image);
}

TEST(CiYaml, LoadPipelineReadsFileAndReportsMissing) {
  TempDir dir;
  std::ofstream(dir.path() / ".gitlab-ci.yml") << "job: {script: x}\n";
  Result<PipelineConfig> p = load_pipeline(dir.path() / ".gitlab-ci.yml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->file_name, ".gitlab-ci.yml");
  Result<PipelineConfig> missing = load_pipeline(dir.path() / "nope.yml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
}

}  // namespace
}  // namespace glr
