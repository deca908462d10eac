// Tests for run_exec on small pipelines in a temporary directory, through FakeJobLauncher:
// exit codes, --list, --preview, selection and error reporting.
#include "pipeline/exec_command.h"

#include <fstream>
#include <sstream>

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

}  // namespace
}  // namespace glr
