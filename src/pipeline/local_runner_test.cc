// Tests for LocalRunner with FakeJobLauncher: order, failure handling, concurrency cap, stop
// and the summary table. Synchronised with the fake's condition variable; no sleeps.
#include "pipeline/local_runner.h"

#include <algorithm>
#include <thread>

#include <gtest/gtest.h>

#include "pipeline/ci_yaml.h"
#include "pipeline/fake_job_launcher.h"
#include "support/fake_clock.h"

namespace glr {
namespace {

using Strings = std::vector<std::string>;

struct Fixture {
  PipelineGraph graph{};
  std::vector<LocalJob> jobs{};
};

Fixture fixture(const std::string& yaml) {
  Result<PipelineConfig> config = parse_pipeline(yaml, ".gitlab-ci.yml");
  EXPECT_TRUE(config) << config.error().message;
  Result<PipelineGraph> graph = build_graph(*config);
  EXPECT_TRUE(graph) << graph.error().message;
  Fixture f{.graph = *graph};
  for (const GraphJob& job : f.graph.jobs) f.jobs.push_back(LocalJob{.name = job.name, .stage = job.stage});
  return f;
}

TEST(LocalRunner, RunsStagesInOrderOneAtATime) {
  Fixture f = fixture(
      "c: {stage: deploy, script: x}\nb: {stage: test, script: x}\na: {stage: build, script: x}\n");
  FakeJobLauncher launcher;
  LocalRunner runner(launcher, 1);
  PipelineReport report = runner.run(f.graph, f.jobs, {});
  EXPECT_EQ(launcher.started(), (Strings{"a", "b", "c"}));
  EXPECT_EQ(report.status, PipelineStatus::kSuccess);
  ASSERT_EQ(report.jobs.size(), 3u);
  EXPECT_EQ(report.jobs[0].status, JobStatus::kSuccess);
  EXPECT_EQ(report.jobs[0].duration, std::chrono::milliseconds(1500));
  EXPECT_EQ(exit_code_for(report.status), 0);
}

TEST(LocalRunner, FailureSkipsLaterStagesAndRunsOnFailure) {
  Fixture f = fixture(
      "build: {stage: build, script: x}\ntest: {stage: test, script: x}\n"
      "cleanup: {stage: deploy, script: x, when: on_failure}\n");
  FakeJobLauncher launcher;
  launcher.set_exit_code("build", 2);
  PipelineReport report = LocalRunner(launcher, 4).run(f.graph, f.jobs, {});
  EXPECT_EQ(launcher.started(), (Strings{"build", "cleanup"}));
  EXPECT_EQ(report.jobs[0].status, JobStatus::kFailed);
  EXPECT_EQ(report.jobs[0].exit_code, 2);
  EXPECT_EQ(report.jobs[1].status, JobStatus::kSkipped);
  EXPECT_EQ(report.jobs[2].status, JobStatus::kSuccess);
  EXPECT_EQ(report.status, PipelineStatus::kFailed);
  EXPECT_EQ(exit_code_for(report.status), 1);
}

TEST(LocalRunner, AllowedFailureByExitCodeIsAWarning) {
  Fixture f = fixture(
      "lint: {stage: build, script: x, allow_failure: {exit_codes: [3]}}\n"
      "other: {stage: build, script: x, allow_failure: {exit_codes: [3]}}\n"
      "test: {script: x}\n");
  FakeJobLauncher launcher;
  launcher.set_exit_code("lint", 3);
  PipelineReport report = LocalRunner(launcher, 4).run(f.graph, f.jobs, {});
  EXPECT_EQ(report.jobs[0].status, JobStatus::kWarning);
  EXPECT_EQ(report.jobs[2].status, JobStatus::kSuccess);
  EXPECT_EQ(report.status, PipelineStatus::kSuccessWithWarnings);

  launcher.set_exit_code("other", 1);  // not a listed code: a real failure
  PipelineReport second = LocalRunner(launcher, 4).run(f.graph, f.jobs, {});
  EXPECT_EQ(second.jobs[1].status, JobStatus::kFailed);
  EXPECT_EQ(second.jobs[2].status, JobStatus::kSkipped);
  EXPECT_EQ(second.status, PipelineStatus::kFailed);
}

TEST(LocalRunner, ConcurrencyCapIsRespected) {
  Fixture f = fixture(
      "a: {script: x}\nb: {script: x}\nc: {script: x}\nd: {script: x}\ne: {stage: deploy, script: x}\n");
  FakeJobLauncher launcher;
  launcher.hold_all();
  PipelineReport report;
  std::jthread driver([&] { report = LocalRunner(launcher, 2).run(f.graph, f.jobs, {}); });
  launcher.wait_until_running(2);
  EXPECT_EQ(launcher.started().size(), 2u);  // held jobs never finish, so no third starts
  launcher.release_all();
  driver.join();
  EXPECT_EQ(launcher.max_running(), 2);
  EXPECT_EQ(launcher.started().size(), 5u);
  EXPECT_EQ(launcher.started().back(), "e");
  EXPECT_EQ(report.status, PipelineStatus::kSuccess);
}

TEST(LocalRunner, SameStageJobsRunConcurrently) {
  Fixture f = fixture("a: {script: x}\nb: {script: x}\nc: {script: x}\n");
  FakeJobLauncher launcher;
  launcher.hold_all();
  std::jthread driver([&] { (void)LocalRunner(launcher, 0).run(f.graph, f.jobs, {}); });
  // Cap = number of CPUs: all three start at once when there are that many.
  unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  launcher.wait_until_running(static_cast<int>(std::min(3u, cpus)));
  launcher.release_all();
  driver.join();
  EXPECT_EQ(launcher.finished().size(), 3u);
}

TEST(LocalRunner, StopCancelsRunningJobsAndStartsNothingNew) {
  Fixture f = fixture("a: {stage: build, script: x}\nb: {stage: test, script: x}\n");
  FakeJobLauncher launcher;
  launcher.hold("a");
  std::stop_source stop;
  PipelineReport report;
  std::jthread driver([&] { report = LocalRunner(launcher, 2).run(f.graph, f.jobs, stop.get_token()); });
  launcher.wait_until_running(1);
  stop.request_stop();
  driver.join();
  EXPECT_EQ(launcher.started(), Strings{"a"});
  EXPECT_EQ(report.jobs[0].status, JobStatus::kCanceled);
  EXPECT_EQ(report.jobs[1].status, JobStatus::kCanceled);
  EXPECT_EQ(report.status, PipelineStatus::kCanceled);
  EXPECT_EQ(exit_code_for(report.status), 130);
}

TEST(LocalRunner, PassesTheLocalJobToTheLauncher) {
  Fixture f = fixture("a: {script: x}\n");
  f.jobs[0].spec.id = 7;
  FakeJobLauncher launcher;
  (void)LocalRunner(launcher, 1).run(f.graph, f.jobs, {});
  ASSERT_EQ(launcher.jobs().size(), 1u);
  EXPECT_EQ(launcher.jobs()[0], f.jobs[0]);
}

TEST(LocalRunner, SummaryTable) {
  std::vector<JobReport> jobs = {
      {.name = "build", .stage = "build", .status = JobStatus::kSuccess,
       .duration = std::chrono::milliseconds(1234)},
      {.name = "lint", .stage = "test", .status = JobStatus::kWarning,
       .duration = std::chrono::milliseconds(61000), .exit_code = 3},
      {.name = "deploy", .stage = "deploy", .status = JobStatus::kSkipped},
      {.name = "release", .stage = "deploy", .status = JobStatus::kManual},
  };
  EXPECT_EQ(format_summary(jobs, false),
            "job      stage   status            duration\n"
            "build    build   passed            1.2s\n"
            "lint     test    failed (allowed)  1m 01s  exit code 3\n"
            "deploy   deploy  skipped           -\n"
            "release  deploy  manual            -\n");
  std::string colored = format_summary(jobs, true);
  EXPECT_NE(colored.find("\033[32mpassed"), std::string::npos);
  EXPECT_NE(colored.find("\033[33mfailed (allowed)"), std::string::npos);
}

}  // namespace
}  // namespace glr

namespace glr {
namespace {

std::vector<std::string> sources_of(const std::string& yaml, const std::string& job) {
  Result<PipelineConfig> config = parse_pipeline(yaml, ".gitlab-ci.yml");
  EXPECT_TRUE(config) << config.error().message;
  Result<PipelineGraph> graph = build_graph(*config);
  EXPECT_TRUE(graph) << graph.error().message;
  std::vector<const JobConfig*> configs;
  for (const GraphJob& g : graph->jobs) configs.push_back(config->find_job(g.name));
  return artifact_sources(*graph, configs, *graph->find(job));
}

constexpr const char* kArtifactsYaml =
    "stages: [build, test, deploy]\n"
    "a: {stage: build, script: x}\n"
    "b: {stage: build, script: x}\n"
    "t: {stage: test, script: x}\n"
    "plain: {stage: deploy, script: x}\n"
    "needs-a: {stage: deploy, script: x, needs: [a]}\n"
    "needs-none: {stage: deploy, script: x, needs: []}\n"
    "no-artifacts: {stage: deploy, script: x, needs: [{job: a, artifacts: false}, b]}\n"
    "deps-b: {stage: deploy, script: x, dependencies: [b]}\n"
    "deps-none: {stage: deploy, script: x, dependencies: []}\n"
    "needs-deps: {stage: deploy, script: x, needs: [a, b], dependencies: [a]}\n";

TEST(ArtifactSources, FollowGitLabSelection) {  // pipeline-yaml §9.9
  EXPECT_EQ(sources_of(kArtifactsYaml, "plain"), (Strings{"a", "b", "t"}));
  EXPECT_EQ(sources_of(kArtifactsYaml, "t"), (Strings{"a", "b"}));
  EXPECT_EQ(sources_of(kArtifactsYaml, "a"), Strings{});
  EXPECT_EQ(sources_of(kArtifactsYaml, "needs-a"), Strings{"a"});
  EXPECT_EQ(sources_of(kArtifactsYaml, "needs-none"), Strings{});
  EXPECT_EQ(sources_of(kArtifactsYaml, "no-artifacts"), Strings{"b"});
  EXPECT_EQ(sources_of(kArtifactsYaml, "deps-b"), Strings{"b"});
  EXPECT_EQ(sources_of(kArtifactsYaml, "deps-none"), Strings{});
  EXPECT_EQ(sources_of(kArtifactsYaml, "needs-deps"), Strings{"a"});
}

JobOutcome failed(FailureReason reason, int code) {
  return JobOutcome{.state = JobState::kFailed, .reason = reason, .exit_code = code};
}

TEST(ShouldRetry, MaxWhenAndExitCodes) {  // pipeline-yaml §9.8
  JobOutcome script = failed(FailureReason::kScriptFailure, 3);
  EXPECT_FALSE(should_retry(std::nullopt, script, 0));
  EXPECT_TRUE(should_retry(RetryDef{.max = 2}, script, 0));
  EXPECT_TRUE(should_retry(RetryDef{.max = 2}, script, 1));
  EXPECT_FALSE(should_retry(RetryDef{.max = 2}, script, 2));
  EXPECT_FALSE(should_retry(RetryDef{.max = 2}, JobOutcome{.state = JobState::kSuccess}, 0));
  EXPECT_FALSE(should_retry(RetryDef{.max = 2}, failed(FailureReason::kJobCanceled, 0), 0));
  RetryDef timeout{.max = 1, .when = {"job_execution_timeout"}};
  EXPECT_FALSE(should_retry(timeout, script, 0));
  EXPECT_TRUE(should_retry(timeout, failed(FailureReason::kJobExecutionTimeout, 0), 0));
  RetryDef codes{.max = 1, .exit_codes = {137}};
  EXPECT_FALSE(should_retry(codes, script, 0));
  EXPECT_TRUE(should_retry(codes, failed(FailureReason::kScriptFailure, 137), 0));
  RetryDef either{.max = 1, .when = {"runner_system_failure"}, .exit_codes = {3}};
  EXPECT_TRUE(should_retry(either, script, 0));
  EXPECT_TRUE(should_retry(either, failed(FailureReason::kRunnerSystemFailure, 0), 0));
  EXPECT_FALSE(should_retry(either, failed(FailureReason::kScriptFailure, 4), 0));
}

TEST(LocalRunner, RetriesAFailedJobUpToMax) {
  Fixture f = fixture("flaky: {script: x, retry: 2}\n");
  f.jobs[0].retry = RetryDef{.max = 2};
  FakeJobLauncher launcher;
  launcher.set_exit_code("flaky", 1);
  PipelineReport report = LocalRunner(launcher, 2).run(f.graph, f.jobs, {});
  EXPECT_EQ(launcher.started(), (Strings{"flaky", "flaky", "flaky"}));
  EXPECT_EQ(report.jobs[0].status, JobStatus::kFailed);
  EXPECT_NE(report.jobs[0].message.find("after 3 attempts"), std::string::npos);
}

TEST(LocalRunner, ResourceGroupRunsOneJobAtATime) {  // pipeline-yaml §9.7
  Fixture f = fixture("a: {script: x}\nb: {script: x}\nc: {script: x}\n");
  f.jobs[0].resource_group = "prod";
  f.jobs[1].resource_group = "prod";
  FakeJobLauncher launcher;
  launcher.hold_all();
  std::jthread run([&] { LocalRunner(launcher, 4).run(f.graph, f.jobs, {}); });
  launcher.wait_until_running(2);  // a and c; b waits for the group
  Strings first = launcher.started();
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (Strings{"a", "c"}));
  launcher.release_all();
  run.join();
  EXPECT_EQ(launcher.started().size(), 3u);
  EXPECT_EQ(launcher.started().back(), "b");
}

// A Downstream whose child pipeline is one job `child` run through the same launcher.
class FakeDownstream final : public Downstream {
 public:
  explicit FakeDownstream(JobLauncher& launcher) : launcher_(launcher) {}
  Result<PipelineReport> run(const LocalJob& job, const std::function<void()>& created,
                             std::stop_token stop) override {
    Fixture f = fixture("child: {script: x}\n");
    f.jobs[0].pipeline = job.name;
    created();
    return LocalRunner(launcher_, 1).run(f.graph, f.jobs, stop);
  }

 private:
  JobLauncher& launcher_;
};

TEST(LocalRunner, TriggerWithoutDependPassesOnceTheChildExists) {  // pipeline-yaml §10
  Fixture f = fixture("trig: {stage: build, trigger: {include: child.yml}}\nafter: {script: x}\n");
  f.jobs[0].trigger = TriggerDef{};
  FakeJobLauncher launcher;
  launcher.set_exit_code("child", 1);
  FakeDownstream downstream(launcher);
  PipelineReport report =
      LocalRunner(launcher, 2, LocalRunnerHooks{.downstream = &downstream}).run(f.graph, f.jobs, {});
  ASSERT_EQ(report.jobs.size(), 3u);
  EXPECT_EQ(report.jobs[0].name, "trig");
  EXPECT_EQ(report.jobs[0].status, JobStatus::kSuccess);
  EXPECT_EQ(report.jobs[1].name, "[trig] -> child");
  EXPECT_EQ(report.jobs[1].status, JobStatus::kFailed);
  EXPECT_EQ(report.jobs[2].status, JobStatus::kSuccess);
  EXPECT_EQ(report.status, PipelineStatus::kSuccess);
}

TEST(LocalRunner, TriggerWithDependTakesTheChildStatus) {  // pipeline-yaml §10
  Fixture f = fixture("trig: {stage: build, trigger: {include: child.yml}}\nafter: {script: x}\n");
  f.jobs[0].trigger = TriggerDef{.strategy = "depend"};
  FakeJobLauncher launcher;
  FakeDownstream downstream(launcher);
  LocalRunner runner(launcher, 2, LocalRunnerHooks{.downstream = &downstream});
  PipelineReport passed = runner.run(f.graph, f.jobs, {});
  EXPECT_EQ(passed.jobs[0].status, JobStatus::kSuccess);
  EXPECT_EQ(passed.status, PipelineStatus::kSuccess);

  launcher.set_exit_code("child", 1);
  PipelineReport failed = runner.run(f.graph, f.jobs, {});
  EXPECT_EQ(failed.jobs[0].status, JobStatus::kFailed);
  EXPECT_EQ(failed.jobs[0].message, "child pipeline failed");
  EXPECT_EQ(failed.jobs[2].status, JobStatus::kSkipped);
  EXPECT_EQ(failed.status, PipelineStatus::kFailed);
}

TEST(LocalRunner, TriggerWithoutDownstreamFails) {
  Fixture f = fixture("trig: {trigger: {include: child.yml}}\n");
  f.jobs[0].trigger = TriggerDef{};
  FakeJobLauncher launcher;
  PipelineReport report = LocalRunner(launcher, 1).run(f.graph, f.jobs, {});
  EXPECT_EQ(report.jobs[0].status, JobStatus::kFailed);
  EXPECT_TRUE(launcher.started().empty());
}

TEST(LocalRunner, DelayedJobWaitsStartInOnTheClock) {  // pipeline-yaml §4.4
  Fixture f = fixture("later: {script: x, when: delayed, start_in: 2 minutes}\nnow: {script: x}\n");
  f.jobs[0].start_in = std::chrono::seconds(120);
  FakeJobLauncher launcher;
  FakeClock clock;
  PipelineReport report =
      LocalRunner(launcher, 1, LocalRunnerHooks{.clock = &clock}).run(f.graph, f.jobs, {});
  EXPECT_EQ(clock.sleeps(), (std::vector<std::chrono::nanoseconds>{std::chrono::seconds(120)}));
  ASSERT_EQ(launcher.announced().size(), 1u);
  EXPECT_EQ(launcher.announced()[0], "later: Job is delayed: it starts in 120s (start_in)\n");
  EXPECT_EQ(report.status, PipelineStatus::kSuccess);
}

TEST(CoverageInLine, GitLabExamples) {  // pipeline-yaml §11.2, gcl's vectors
  EXPECT_EQ(coverage_in_line("/^\\s*Lines:\\s*(\\d+.\\d+)\\%/", "Lines: 78.46%"), "78.46");
  EXPECT_EQ(coverage_in_line("/(?i)total.*? (100(?:\\.0+)?\\%|[1-9]?\\d(?:\\.\\d+)?\\%)$/",
                             "TOTAL  18  0  100%"),
            "100");
  EXPECT_EQ(coverage_in_line("/Lines: \\d+%/", "no numbers here"), std::nullopt);
  EXPECT_EQ(coverage_in_line("/cov (\\d+)/", "cov 007 and cov 42"), "42");
  EXPECT_EQ(coverage_in_line("/[/", "bad regex"), std::nullopt);
}

TEST(CoverageInLine, CompiledOnceMatchesLikeTheText) {
  std::optional<std::regex> re = coverage_regex("/(?i)cov (\\d+)/");
  ASSERT_TRUE(re.has_value());
  EXPECT_EQ(coverage_in_line(*re, "COV 007 and cov 42"), "42");
  EXPECT_EQ(coverage_in_line(*re, "no numbers here"), std::nullopt);
  EXPECT_FALSE(coverage_regex("/[/").has_value());
}

}  // namespace
}  // namespace glr
