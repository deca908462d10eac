// Tests for the job graph and the start/skip rules of pipeline-yaml §9.4 (no threads).
#include "pipeline/plan.h"

#include <map>

#include <gtest/gtest.h>

#include "pipeline/ci_yaml.h"
#include "pipeline/pipeline_graph.h"

namespace glr {
namespace {

PipelineGraph graph_of(const std::string& yaml, const std::vector<std::string>& selected = {}) {
  Result<PipelineConfig> config = parse_pipeline(yaml, ".gitlab-ci.yml");
  EXPECT_TRUE(config) << config.error().message;
  Result<PipelineGraph> graph = build_graph(*config, selected);
  EXPECT_TRUE(graph) << graph.error().message;
  return graph ? *graph : PipelineGraph{};
}

std::string graph_error(const std::string& yaml, const std::vector<std::string>& selected = {}) {
  Result<PipelineConfig> config = parse_pipeline(yaml, ".gitlab-ci.yml");
  EXPECT_TRUE(config) << config.error().message;
  Result<PipelineGraph> graph = build_graph(*config, selected);
  EXPECT_FALSE(graph);
  return graph ? "" : graph.error().message;
}

std::vector<std::string> names(const PipelineGraph& g, const std::vector<size_t>& idx) {
  std::vector<std::string> out;
  for (size_t i : idx) out.push_back(g.jobs[i].name);
  return out;
}

// Runs the plan to the end: every ready job "finishes" with the status `results` gives it
// (default success). Returns the order in which jobs were started.
std::vector<std::string> drive(const PipelineGraph& g, Plan& plan,
                               const std::map<std::string, JobStatus>& results) {
  std::vector<std::string> order;
  while (true) {
    std::vector<size_t> ready = plan.ready();
    if (ready.empty()) break;
    for (size_t j : ready) plan.start(j);
    for (size_t j : ready) {
      order.push_back(g.jobs[j].name);
      auto it = results.find(g.jobs[j].name);
      plan.finish(j, it == results.end() ? JobStatus::kSuccess : it->second);
    }
  }
  return order;
}

using Strings = std::vector<std::string>;

TEST(PipelineGraph, JobsAreOrderedByStageThenFileOrder) {
  PipelineGraph g = graph_of(
      "stages: [build, test]\n"
      "t1: {stage: test, script: x}\n"
      "b1: {stage: build, script: x}\n"
      "t2: {stage: test, script: x, needs: [b1]}\n"
      "p: {stage: .post, script: x}\n"
      "pre: {stage: .pre, script: x}\n");
  ASSERT_EQ(g.jobs.size(), 5u);
  EXPECT_EQ(g.jobs[0].name, "pre");
  EXPECT_EQ(g.jobs[1].name, "b1");
  EXPECT_EQ(g.jobs[2].name, "t1");
  EXPECT_EQ(g.jobs[3].name, "t2");
  EXPECT_EQ(g.jobs[4].name, "p");
  EXPECT_EQ(*g.jobs[3].needs, std::vector<size_t>{1});
  EXPECT_FALSE(g.jobs[2].needs);
  EXPECT_EQ(g.find("t2"), 3u);
}

TEST(PipelineGraph, NeedsErrors) {
  EXPECT_EQ(graph_error("a: {script: x, needs: [nope]}\n"),
            ".gitlab-ci.yml:1: a job: undefined need: nope");
  EXPECT_EQ(graph_error("a: {stage: build, script: x, needs: [b]}\nb: {script: x}\n"),
            ".gitlab-ci.yml:1: a job: need b is not defined in current or prior stages");
  EXPECT_EQ(graph_error("b: {script: x}\na: {script: x, needs: [b, b]}\n"),
            ".gitlab-ci.yml:2: a has the following needs duplicated: b");
  EXPECT_EQ(graph_error("a: {script: x, needs: [a]}\n"),
            ".gitlab-ci.yml:1: a job: circular dependencies: self-dependency: a");
  std::string cycle = graph_error("a: {script: x, needs: [b]}\nb: {script: x, needs: [a]}\n");
  EXPECT_NE(cycle.find("circular dependencies"), std::string::npos) << cycle;
  // An optional need on a missing job is dropped.
  PipelineGraph g = graph_of("a: {script: x, needs: [{job: nope, optional: true}]}\n");
  EXPECT_TRUE(g.jobs[0].needs->empty());
}

TEST(PipelineGraph, DependenciesErrors) {
  EXPECT_EQ(graph_error("a: {script: x, dependencies: [nope]}\n"),
            ".gitlab-ci.yml:1: a job: undefined dependency: nope");
  EXPECT_EQ(graph_error("a: {stage: build, script: x, dependencies: [b]}\nb: {script: x}\n"),
            ".gitlab-ci.yml:1: a job: dependency b is not defined in current or prior stages");
  EXPECT_EQ(graph_error("b: {stage: build, script: x}\nc: {stage: build, script: x}\n"
                        "a: {script: x, needs: [b], dependencies: [c]}\n"),
            ".gitlab-ci.yml:3: jobs:a dependencies the c should be part of needs");
}

TEST(PipelineGraph, SelectionKeepsOnlyNamedJobs) {
  PipelineGraph g = graph_of("a: {stage: build, script: x}\nb: {script: x, needs: [a]}\nc: {script: x}\n",
                             {"b", "c"});
  ASSERT_EQ(g.jobs.size(), 2u);
  EXPECT_TRUE(g.jobs[0].selected);
  EXPECT_TRUE(g.jobs[0].needs->empty());
  EXPECT_EQ(graph_error("a: {script: x}\n", {"x", "a", "y"}), ".gitlab-ci.yml: no such jobs: x, y");
}

TEST(Plan, StagesRunInOrderAndSameStageTogether) {
  PipelineGraph g = graph_of(
      "b1: {stage: build, script: x}\nb2: {stage: build, script: x}\nt: {script: x}\n"
      "d: {stage: deploy, script: x}\n");
  Plan plan(g);
  EXPECT_EQ(names(g, plan.ready()), (Strings{"b1", "b2"}));
  plan.start(0);
  plan.start(1);
  EXPECT_TRUE(plan.ready().empty());
  plan.finish(0, JobStatus::kSuccess);
  EXPECT_TRUE(plan.ready().empty());  // t waits for every build job
  plan.finish(1, JobStatus::kSuccess);
  EXPECT_EQ(names(g, plan.ready()), Strings{"t"});
  EXPECT_EQ(drive(g, plan, {}), (Strings{"t", "d"}));
  EXPECT_EQ(plan.result(), PipelineStatus::kSuccess);
}

TEST(Plan, NeedsStartBeforeEarlierStagesFinish) {
  PipelineGraph g = graph_of(
      "slow: {stage: build, script: x}\nfast: {stage: build, script: x}\n"
      "after_fast: {stage: test, script: x, needs: [fast]}\nfirst: {stage: deploy, script: x, needs: []}\n");
  Plan plan(g);
  EXPECT_EQ(names(g, plan.ready()), (Strings{"slow", "fast", "first"}));
  plan.start(0);
  plan.start(1);
  plan.finish(1, JobStatus::kSuccess);
  EXPECT_EQ(names(g, plan.ready()), (Strings{"after_fast", "first"}));
}

TEST(Plan, FailurePropagationFollowsGitLab) {
  // §9.4 table: build fails; test skipped; cleanup (on_failure) runs; final (always) runs;
  // report (needs: [test], always) runs because skipped is fine for always.
  PipelineGraph g = graph_of(
      "build: {stage: build, script: x}\n"
      "test: {stage: test, script: x}\n"
      "cleanup: {stage: deploy, script: x, when: on_failure}\n"
      "final: {stage: .post, script: x, when: always}\n"
      "report: {stage: deploy, script: x, needs: [test], when: always}\n"
      "notify: {stage: deploy, script: x}\n");
  Plan plan(g);
  std::vector<std::string> order = drive(g, plan, {{"build", JobStatus::kFailed}});
  EXPECT_EQ(order, (Strings{"build", "cleanup", "report", "final"}));
  EXPECT_EQ(plan.status(*g.find("test")), JobStatus::kSkipped);
  EXPECT_EQ(plan.status(*g.find("notify")), JobStatus::kSkipped);
  EXPECT_EQ(plan.result(), PipelineStatus::kFailed);
}

TEST(Plan, AllowFailureIsAWarningNotAFailure) {
  PipelineGraph g = graph_of(
      "a: {stage: build, script: x, allow_failure: true}\n"
      "b: {stage: test, script: x}\n"
      "c: {stage: test, script: x, when: on_failure}\n");
  Plan plan(g);
  EXPECT_EQ(drive(g, plan, {{"a", JobStatus::kWarning}}), (Strings{"a", "b"}));
  EXPECT_EQ(plan.status(2), JobStatus::kSkipped);
  EXPECT_EQ(plan.result(), PipelineStatus::kSuccessWithWarnings);
}

TEST(Plan, AllowFailureExitCodes) {
  AllowFailure allow{.allowed = false, .exit_codes = {42}};
  EXPECT_TRUE(is_allowed_failure(allow, JobOutcome{.state = JobState::kFailed, .exit_code = 42}));
  EXPECT_FALSE(is_allowed_failure(allow, JobOutcome{.state = JobState::kFailed, .exit_code = 1}));
  EXPECT_TRUE(is_allowed_failure(AllowFailure{.allowed = true}, JobOutcome{.exit_code = 1}));
}

TEST(Plan, OnFailureDagJob) {
  PipelineGraph g = graph_of("a: {stage: build, script: x}\nb: {script: x, when: on_failure, needs: [a]}\n");
  Plan failed(g);
  EXPECT_EQ(drive(g, failed, {{"a", JobStatus::kFailed}}), (Strings{"a", "b"}));
  Plan passed(g);
  EXPECT_EQ(drive(g, passed, {}), Strings{"a"});
  EXPECT_EQ(passed.status(1), JobStatus::kSkipped);
}

TEST(Plan, ManualJobsRunOnlyWhenSelected) {
  std::string yaml =
      "a: {stage: build, script: x, when: manual}\n"
      "b: {stage: test, script: x}\n"
      "c: {stage: test, script: x, needs: [a]}\n";
  PipelineGraph g = graph_of(yaml);
  Plan plan(g);
  EXPECT_EQ(drive(g, plan, {}), Strings{"b"});  // optional manual is ignored
  EXPECT_EQ(plan.status(0), JobStatus::kManual);
  EXPECT_EQ(plan.status(2), JobStatus::kSkipped);  // DAG job on an ignored need
  EXPECT_EQ(plan.result(), PipelineStatus::kSuccess);

  PipelineGraph selected = graph_of(yaml, {"a"});
  Plan run_it(selected);
  EXPECT_EQ(drive(selected, run_it, {}), Strings{"a"});
}

TEST(Plan, BlockingManualJobBlocksLaterStages) {
  PipelineGraph g = graph_of(
      "a: {stage: build, script: x, when: manual, allow_failure: false}\nb: {stage: test, script: x}\n");
  Plan plan(g);
  EXPECT_TRUE(drive(g, plan, {}).empty());
  EXPECT_EQ(plan.status(1), JobStatus::kCreated);
  EXPECT_EQ(plan.result(), PipelineStatus::kBlocked);
}

TEST(Plan, CanceledPredecessorSkipsAlwaysJobs) {
  PipelineGraph g = graph_of("a: {stage: build, script: x}\nb: {script: x, when: always}\n");
  Plan plan(g);
  EXPECT_EQ(drive(g, plan, {{"a", JobStatus::kCanceled}}), Strings{"a"});
  EXPECT_EQ(plan.status(1), JobStatus::kSkipped);
  EXPECT_EQ(plan.result(), PipelineStatus::kCanceled);
}

TEST(Plan, TriggerJobsAreSkipped) {
  PipelineGraph g = graph_of("t: {trigger: group/project}\nb: {stage: deploy, script: x}\n");
  Plan plan(g);
  EXPECT_EQ(drive(g, plan, {}), Strings{"b"});
  EXPECT_EQ(plan.status(0), JobStatus::kSkipped);
}

}  // namespace
}  // namespace glr
