// Tests for run_exec on small pipelines in a temporary directory, through FakeJobLauncher:
// exit codes, --list, --preview, selection and error reporting.
#include "pipeline/exec_command.h"

#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "pipeline/fake_job_launcher.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

using Strings = std::vector<std::string>;

constexpr const char* kPipeline =
    "stages: [build, test]\n"
    "variables: {GREETING: hello}\n"
    "build:\n"
    "  stage: build\n"
    "  script: [make]\n"
    "test:\n"
    "  script: [make test]\n"
    "  needs: [build]\n"
    "  allow_failure: true\n"
    "deploy:\n"
    "  stage: .post\n"
    "  script: [deploy]\n"
    "  when: manual\n";

class RunExec : public ::testing::Test {
 protected:
  void write(const std::string& text, const std::string& name = ".gitlab-ci.yml") {
    std::ofstream(dir_.path() / name) << text;
  }
  int run(ExecOptions options) {
    options.project_dir = dir_.path();
    options.color = false;
    // One job at a time unless a test asks: the fake records jobs as their threads enter it,
    // so with more the order of started() would depend on thread scheduling.
    if (options.concurrency == 0) options.concurrency = 1;
    out_.str("");
    err_.str("");
    return run_exec(options, launcher_, out_, err_, {});
  }

  TempDir dir_;
  FakeJobLauncher launcher_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(RunExec, RunsPipelineAndPrintsSummary) {
  write(kPipeline);
  EXPECT_EQ(run({.variables = {"GREETING=hi"}}), 0);
  EXPECT_EQ(launcher_.started(), (Strings{"build", "test"}));
  EXPECT_NE(out_.str().find("deploy  .post  manual"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("pipeline passed\n"), std::string::npos) << out_.str();
  std::vector<LocalJob> jobs = launcher_.jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].spec.id, 1);
  EXPECT_EQ(jobs[1].spec.id, 2);
  EXPECT_EQ(find_variable(jobs[0].spec.variables, "GREETING")->value, "hi");
  EXPECT_EQ(find_variable(jobs[0].spec.variables, "CI_PROJECT_DIR")->value, dir_.path().string());
}

TEST_F(RunExec, WarningsStillPass) {
  write(kPipeline);
  launcher_.set_exit_code("test", 1);
  EXPECT_EQ(run({}), 0);
  EXPECT_NE(out_.str().find("pipeline passed with warnings"), std::string::npos) << out_.str();
}

TEST_F(RunExec, FailureExitsOne) {
  write(kPipeline);
  launcher_.set_exit_code("build", 1);
  EXPECT_EQ(run({}), 1);
  EXPECT_EQ(launcher_.started(), Strings{"build"});
  EXPECT_NE(out_.str().find("pipeline failed"), std::string::npos);
}

TEST_F(RunExec, SelectedManualJobRuns) {
  write(kPipeline);
  EXPECT_EQ(run({.jobs = {"deploy"}}), 0);
  EXPECT_EQ(launcher_.started(), Strings{"deploy"});
}

TEST_F(RunExec, UnknownSelectedJobsAreListed) {
  write(kPipeline);
  EXPECT_EQ(run({.jobs = {"nope", "build", "gone"}}), 1);
  EXPECT_EQ(err_.str(), "glrunner: .gitlab-ci.yml: no such jobs: nope, gone\n");
  EXPECT_TRUE(launcher_.started().empty());
}

TEST_F(RunExec, List) {
  write(kPipeline);
  EXPECT_EQ(run({.list = true}), 0);
  EXPECT_EQ(out_.str(),
            "name    stage  when        allow_failure  needs\n"
            "build   build  on_success  false\n"
            "test    test   on_success  true           [build]\n"
            "deploy  .post  manual      true\n");
  EXPECT_TRUE(launcher_.started().empty());
}

TEST_F(RunExec, Preview) {
  write(".tpl: {image: alpine}\njob: {extends: .tpl, script: [echo]}\n");
  EXPECT_EQ(run({.preview = true}), 0);
  EXPECT_NE(out_.str().find("job:\n  image: alpine\n  script:\n    - echo\n"), std::string::npos)
      << out_.str();
}

TEST_F(RunExec, ConfigErrorNamesFileAndLine) {
  write("job:\n  script: x\n  stage: nowhere\n");
  EXPECT_EQ(run({}), 1);
  EXPECT_EQ(err_.str().rfind("glrunner: .gitlab-ci.yml:3: jobs:job job: chosen stage nowhere", 0),
            0u)
      << err_.str();
}

TEST_F(RunExec, MalformedVariable) {
  write(kPipeline);
  EXPECT_EQ(run({.variables = {"NOEQUALS"}}), 1);
  EXPECT_EQ(err_.str(), "glrunner: --variable \"NOEQUALS\": expected KEY=VALUE\n");
}

TEST_F(RunExec, MissingFile) {
  EXPECT_EQ(run({.file = "other.yml"}), 1);
  EXPECT_EQ(err_.str(), "glrunner: other.yml: cannot be read\n");
}

TEST_F(RunExec, OnlyEdgeStageJobsMeanNoPipeline) {
  write("a: {stage: .pre, script: x}\n");
  EXPECT_EQ(run({}), 0);
  EXPECT_EQ(out_.str(), "No stages / jobs for this pipeline.\n");
}

TEST_F(RunExec, BlockingManualJobExitsTwo) {
  write("a: {stage: build, script: x, when: manual, allow_failure: false}\nb: {script: x}\n");
  EXPECT_EQ(run({}), 2);
  EXPECT_NE(out_.str().find("pipeline blocked"), std::string::npos);
}

TEST_F(RunExec, RulesDecideWhichJobsRun) {
  write(
      "build: {script: x}\n"
      "mr: {script: x, rules: [{if: '$CI_PIPELINE_SOURCE == \"merge_request_event\"'}]}\n"
      "local: {script: x, rules: [{if: '$GITLAB_CI == \"false\"'}]}\n");
  EXPECT_EQ(run({}), 0);
  EXPECT_EQ(launcher_.started(), (Strings{"build", "local"}));
  EXPECT_EQ(run({.jobs = {"mr"}}), 1);
  EXPECT_EQ(err_.str().find("glrunner: .gitlab-ci.yml: job mr is not in the pipeline"), 0u)
      << err_.str();
  EXPECT_EQ(run({.jobs = {"mr"}, .variables = {"CI_PIPELINE_SOURCE=merge_request_event"}}), 0);
}

TEST_F(RunExec, ParallelJobsSelectedByBaseName) {
  write("test: {script: x, parallel: 2}\nother: {script: x}\n");
  EXPECT_EQ(run({.jobs = {"test"}}), 0);
  EXPECT_EQ(launcher_.started(), (Strings{"test 1/2", "test 2/2"}));
  std::vector<LocalJob> jobs = launcher_.jobs();
  EXPECT_EQ(find_variable(jobs[1].spec.variables, "CI_NODE_INDEX")->value, "2");
  EXPECT_EQ(find_variable(jobs[1].spec.variables, "CI_NODE_TOTAL")->value, "2");
}

TEST_F(RunExec, WorkflowRules) {
  write(
      "workflow:\n"
      "  rules:\n"
      "    - if: $SKIP\n"
      "      when: never\n"
      "    - variables: {TARGET: wf}\n"
      "variables: {TARGET: top}\n"
      "job: {script: x}\n");
  EXPECT_EQ(run({.variables = {"SKIP=1"}}), 0);
  EXPECT_EQ(out_.str(), "Pipeline filtered out by workflow rules.\n");
  EXPECT_TRUE(launcher_.started().empty());
  EXPECT_EQ(run({}), 0);
  ASSERT_EQ(launcher_.jobs().size(), 1u);
  EXPECT_EQ(find_variable(launcher_.jobs()[0].spec.variables, "TARGET")->value, "wf");
}

const LocalJob* job_named(const std::vector<LocalJob>& jobs, const std::string& pipeline,
                          const std::string& name) {
  for (const LocalJob& job : jobs) {
    if (job.pipeline == pipeline && job.name == name) return &job;
  }
  return nullptr;
}

std::string value_of(const LocalJob* job, const std::string& key) {
  if (job == nullptr) return "<no job>";
  const Variable* var = find_variable(job->spec.variables, key);
  return var == nullptr ? "<unset>" : var->value;
}

TEST_F(RunExec, TriggerRunsTheChildPipelineNested) {  // pipeline-yaml §10
  write("default: {before_script: [echo parent-default]}\n"
        "variables: {GLOBAL: g}\n"
        "stages: [build, deploy]\n"
        "trig:\n"
        "  stage: build\n"
        "  variables: {FROM_TRIGGER: t}\n"
        "  trigger: {include: child.yml}\n"
        "after: {stage: deploy, script: x}\n");
  write("variables: {GLOBAL: child-default}\n"
        "child-job: {script: [echo child]}\n",
        "child.yml");
  EXPECT_EQ(run({.variables = {"CLI=c"}}), 0) << err_.str();
  std::vector<LocalJob> jobs = launcher_.jobs();
  const LocalJob* child = job_named(jobs, "trig", "child-job");
  ASSERT_NE(child, nullptr) << out_.str();
  EXPECT_EQ(value_of(child, "CI_PIPELINE_SOURCE"), "parent_pipeline");
  EXPECT_EQ(value_of(child, "FROM_TRIGGER"), "t");
  EXPECT_EQ(value_of(child, "GLOBAL"), "g");   // forwarded: above the child's own variables
  EXPECT_EQ(value_of(child, "CLI"), "<unset>");  // forward:pipeline_variables defaults to false
  EXPECT_EQ(child->spec.steps[0].script, (Strings{"echo child"}));  // no parent default:
  EXPECT_EQ(value_of(job_named(jobs, "", "after"), "CI_PIPELINE_SOURCE"), "push");
  EXPECT_NE(out_.str().find("[trig] -> child-job  test"), std::string::npos) << out_.str();
  EXPECT_NE(launcher_.announced()[0].find("trig: Created child pipeline from child.yml"),
            std::string::npos);
}

TEST_F(RunExec, TriggerForwardsPipelineVariablesOnlyWhenAsked) {
  write("trig:\n"
        "  variables: {FROM_TRIGGER: t}\n"
        "  trigger:\n"
        "    include: [{local: child.yml}]\n"
        "    forward: {yaml_variables: false, pipeline_variables: true}\n");
  write("child-job: {script: [echo child]}\n", "child.yml");
  EXPECT_EQ(run({.variables = {"CLI=c"}}), 0) << err_.str();
  std::vector<LocalJob> jobs = launcher_.jobs();
  const LocalJob* child = job_named(jobs, "trig", "child-job");
  EXPECT_EQ(value_of(child, "CLI"), "c");
  EXPECT_EQ(value_of(child, "FROM_TRIGGER"), "<unset>");
}

TEST_F(RunExec, ChildIncludesSeeTheIncludeVariables) {  // §6.7 in a child pipeline
  write("trig: {trigger: {include: child.yml, strategy: depend}}\n");
  write("include:\n"
        "  - local: inc-$TARGET.yml\n"
        "    rules: [{if: '$TARGET == \"linux\" && $CI_PROJECT_NAME'}]\n"
        "child-job: {script: [echo child]}\n",
        "child.yml");
  write("from-include: {script: [echo included]}\n", "inc-linux.yml");
  EXPECT_EQ(run({.variables = {"TARGET=linux"}}), 0) << err_.str();
  std::vector<LocalJob> jobs = launcher_.jobs();
  EXPECT_NE(job_named(jobs, "trig", "from-include"), nullptr) << out_.str() << err_.str();
  EXPECT_NE(job_named(jobs, "trig", "child-job"), nullptr);
}

TEST_F(RunExec, ConcurrencyCapsTheParentAndItsChildrenTogether) {
  write("trig: {stage: build, trigger: {include: child.yml, strategy: depend}}\n"
        "a: {stage: build, script: x}\n");
  write("b: {script: x}\nc: {script: x}\n", "child.yml");
  launcher_.hold_all();
  std::thread releaser([this] {
    launcher_.wait_until_running(2);
    // Each pipeline alone would allow two: a third job must not start.
    EXPECT_FALSE(launcher_.wait_until_running_for(3, std::chrono::milliseconds(300)));
    launcher_.release_all();
  });
  EXPECT_EQ(run({.concurrency = 2}), 0) << err_.str();
  releaser.join();
  EXPECT_EQ(launcher_.max_running(), 2);
  EXPECT_EQ(launcher_.started().size(), 3u);
}

TEST_F(RunExec, ForwardedVariablesAreExpandedInTheTriggerJob) {  // §10
  write("variables: {BASE: b}\n"
        "trig:\n"
        "  variables:\n"
        "    FROM: \"$CI_JOB_NAME-$BASE\"\n"
        "    NESTED: \"n-$FROM\"\n"
        "    RAW: {value: \"$CI_JOB_NAME\", expand: false}\n"
        "  trigger: {include: child.yml}\n");
  write("child-job: {script: [echo child]}\n", "child.yml");
  EXPECT_EQ(run({}), 0) << err_.str();
  const LocalJob* child = job_named(launcher_.jobs(), "trig", "child-job");
  EXPECT_EQ(value_of(child, "FROM"), "trig-b");  // the trigger's name, not child-job
  EXPECT_EQ(value_of(child, "NESTED"), "n-trig-b");
  EXPECT_EQ(value_of(child, "RAW"), "$CI_JOB_NAME");
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(find_variable(child->spec.variables, "RAW")->raw);
}

TEST_F(RunExec, TriggerDependFailsWithTheChild) {
  write("trig: {stage: build, trigger: {include: child.yml, strategy: depend}}\n"
        "after: {stage: test, script: x}\n");
  write("child-job: {script: [exit 1]}\n", "child.yml");
  launcher_.set_exit_code("child-job", 1);
  EXPECT_EQ(run({}), 1);
  EXPECT_EQ(launcher_.started(), (Strings{"child-job"}));
  EXPECT_NE(out_.str().find("child pipeline failed"), std::string::npos) << out_.str();
}

TEST_F(RunExec, ChildPipelinesNestTwoLevelsDeep) {
  write("one: {trigger: {include: two.yml, strategy: depend}}\n");
  write("two: {trigger: {include: three.yml, strategy: depend}}\n", "two.yml");
  write("three: {trigger: {include: four.yml, strategy: depend}}\nok: {script: x}\n", "three.yml");
  write("four: {script: x}\n", "four.yml");
  EXPECT_EQ(run({}), 1);
  EXPECT_EQ(launcher_.started(), (Strings{"ok"}));
  EXPECT_NE(out_.str().find("[one -> two] -> three"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("maximum depth of two levels of child pipelines"), std::string::npos)
      << out_.str();
}

TEST_F(RunExec, MultiProjectTriggerIsSkippedWithAWarning) {
  write("downstream: {trigger: group/deploy}\njob: {script: x}\n");
  EXPECT_EQ(run({}), 0);
  EXPECT_NE(err_.str().find("multi-project pipeline `group/deploy` is not run locally"),
            std::string::npos)
      << err_.str();
  EXPECT_NE(out_.str().find("skipped"), std::string::npos);
}

TEST_F(RunExec, VariablesFileSitsBetweenYamlAndCommandLine) {  // pipeline-yaml §7.1, §7.7
  write("variables: {A: yaml, B: yaml, C: yaml}\n"
        "review: {script: x, environment: {name: review/$CI_COMMIT_REF_SLUG}}\n"
        "prod: {script: x, environment: production}\n"
        "plain: {script: x}\n");
  write("A: file\nB: file\nURL:\n  values:\n    '*': any\n    review/*: rev\n    production: prd\n",
        kDefaultVariablesFile);
  EXPECT_EQ(run({.variables = {"B=cli"}}), 0) << err_.str();
  std::vector<LocalJob> jobs = launcher_.jobs();
  EXPECT_EQ(value_of(job_named(jobs, "", "plain"), "A"), "file");
  EXPECT_EQ(value_of(job_named(jobs, "", "plain"), "B"), "cli");
  EXPECT_EQ(value_of(job_named(jobs, "", "plain"), "C"), "yaml");
  EXPECT_EQ(value_of(job_named(jobs, "", "plain"), "URL"), "any");
  EXPECT_EQ(value_of(job_named(jobs, "", "review"), "URL"), "rev");
  EXPECT_EQ(value_of(job_named(jobs, "", "prod"), "URL"), "prd");
  EXPECT_EQ(value_of(job_named(jobs, "", "review"), "CI_ENVIRONMENT_NAME").rfind("review/", 0), 0u);

  EXPECT_EQ(run({.variables_file = "missing.yml"}), 1);
  EXPECT_NE(err_.str().find("--variables-file missing.yml: no such file"), std::string::npos);
  write("A:\n  values: [x]\n", "bad.yml");
  EXPECT_EQ(run({.variables_file = "bad.yml"}), 1);
  EXPECT_NE(err_.str().find("bad.yml:2: A:values: should be a map"), std::string::npos)
      << err_.str();
}

TEST_F(RunExec, IncludeSeesTheVariablesFileBelowTheCommandLine) {  // pipeline-yaml §6.7 Local
  std::filesystem::create_directories(dir_.path() / "ci");
  write("from_file: {script: x}\n", "ci/file.yml");
  write("from_cli: {script: x}\n", "ci/cli.yml");
  write("include: ci/$WHICH.yml\n");
  write("WHICH: file\n", kDefaultVariablesFile);
  EXPECT_EQ(run({}), 0) << err_.str();
  EXPECT_EQ(launcher_.started(), Strings{"from_file"});
  EXPECT_EQ(run({.variables = {"WHICH=cli"}}), 0) << err_.str();
  EXPECT_EQ(launcher_.started(), (Strings{"from_file", "from_cli"}));
}

TEST_F(RunExec, StartInIsAtMostAWeek) {  // pipeline-yaml §4.4
  write("late: {script: x, when: delayed, start_in: 8 days}\n");
  EXPECT_EQ(run({}), 1);
  EXPECT_NE(err_.str().find(".gitlab-ci.yml:1: jobs:late start in should not exceed the limit"),
            std::string::npos)
      << err_.str();
}

}  // namespace
}  // namespace glr
