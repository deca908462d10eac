// Stage order and outcome rules of one job (executors §1.2, §1.6-1.8), through
// FakeExecutor: no processes, no HTTP.
#include "runner/job_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "support/fake_clock.h"
#include "support/fake_executor.h"
#include "util/version.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

JobSpec sample_job() {
  JobSpec job;
  job.id = 7;
  job.token = Secret{"glcbt-secret-token"};
  job.job_info.name = "test";
  job.job_info.stage = "test";
  job.job_info.project_id = 42;
  job.git_info.repo_url = "https://gitlab-ci-token:glcbt-secret-token@gitlab.example/grp/app.git";
  job.git_info.sha = "5f3e9a1b2c3d4e5f";
  job.git_info.ref = "main";
  job.runner_info.timeout = 3600;
  job.steps.push_back(Step{.name = "script", .script = {"echo hello"}});
  job.features.trace_sections = true;
  job.variables.push_back(Variable{.key = "GIT_STRATEGY", .value = "none", .is_public = true});
  return job;
}

JobRunConfig sample_config() {
  JobRunConfig c;
  c.runner.name = "build-box";
  c.runner.token = Secret{"glrt-xYz12AbCdEfG"};
  c.runner.executor = "shell";
  c.system_id = "s_0123456789ab";
  c.prepare_retry_delay = 0s;
  return c;
}

struct Harness {
  FakeClock clock;
  FakeExecutor executor;
  std::unique_ptr<JobRun> run;
  std::unique_ptr<TraceBuffer> trace;
  void make(JobSpec job, JobRunConfig cfg = sample_config()) {
    run = std::make_unique<JobRun>(std::move(job), executor, clock, std::move(cfg));
    TraceOptions o = run->trace_options();
    o.timestamps = false;
    trace = std::make_unique<TraceBuffer>(o, clock);
  }
  JobOutcome execute() {
    JobOutcome o = run->execute(*trace);
    trace->finish();
    return o;
  }
  std::string log() const { return trace->read(0, static_cast<size_t>(trace->size())); }
};

TEST(JobRun, SuccessfulJobRunsStagesInOrderAndSaysJobSucceeded) {
  Harness h;
  h.make(sample_job());
  JobOutcome o = h.execute();
  EXPECT_EQ(o.state, JobState::kSuccess);
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"prepare_script", "get_sources",
                                                        "step_script", "cleanup_file_variables"}));
  std::string log = h.log();
  EXPECT_EQ(log.find(std::string("\x1b[0KRunning with gitlab-runner ") + compat_version() + " (" +
                     revision() + ")\x1b[0;m\n"),
            0u);
  EXPECT_NE(log.find("\x1b[0K  on build-box xYz12AbCd, system ID: s_0123456789ab\x1b[0;m\n"),
            std::string::npos);
  EXPECT_NE(log.find("\x1b[0K\x1b[36;1mPreparing the \"shell\" executor\x1b[0;m\x1b[0;m\n"),
            std::string::npos);
  EXPECT_NE(log.find(":step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting \"step_script\" stage of the job script"),
            std::string::npos);
  EXPECT_TRUE(log.ends_with(":cleanup_file_variables\r\x1b[0K\x1b[32;1mJob succeeded\x1b[0;m\n"))
      << log;
  EXPECT_TRUE(h.executor.cleaned_up);
}

TEST(JobRun, LocalCleanupReplacesTheCleanupScriptAndKeepsItsHeader) {
  Harness h;
  JobSpec job = sample_job();
  job.steps.push_back(Step{.name = "after_script", .script = {"echo after"}, .when = StepWhen::kAlways});
  h.executor.exit_codes["step_script"] = 1;
  JobRunConfig cfg = sample_config();
  int calls = 0;
  cfg.local_cleanup = [&calls]() -> std::optional<JobRunConfig::LocalStageWork> {
    return [&calls](TraceSink& trace) {
      ++calls;
      trace.write(kScriptStdout, "removed\n");
    };
  };
  h.make(job, cfg);
  JobOutcome o = h.execute();
  EXPECT_EQ(o.state, JobState::kFailed);  // the cleanup runs after a failure too
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"prepare_script", "get_sources",
                                                        "step_script", "after_script"}));
  std::string log = h.log();
  size_t header = log.find("\x1b[36;1mCleaning up project directory and file based variables");
  ASSERT_NE(header, std::string::npos) << log;
  EXPECT_LT(header, log.find("removed\n"));
  EXPECT_NE(log.find("section_end:", header), std::string::npos);
}

TEST(JobRun, LocalCleanupWithoutWorkRunsTheScript) {
  Harness h;
  JobRunConfig cfg = sample_config();
  cfg.local_cleanup = []() -> std::optional<JobRunConfig::LocalStageWork> { return std::nullopt; };
  h.make(sample_job(), cfg);
  EXPECT_EQ(h.execute().state, JobState::kSuccess);
  EXPECT_EQ(h.executor.ran().back(), "cleanup_file_variables");
}

TEST(JobRun, LocalSourcesPrintGetSourcesWhenItsScriptWouldOnlyPrint) {
  Harness h;
  JobSpec job = sample_job();
  job.git_info.repo_url.clear();
  JobRunConfig cfg = sample_config();
  cfg.local_sources = true;
  cfg.runner.builds_dir = ::testing::TempDir() + "glr-local-sources";
  h.make(job, cfg);
  EXPECT_EQ(h.execute().state, JobState::kSuccess);
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"prepare_script", "step_script",
                                                        "cleanup_file_variables"}));
  std::string log = h.log();
  size_t header = log.find("\x1b[36;1mGetting source from Git repository");
  ASSERT_NE(header, std::string::npos) << log;
  EXPECT_NE(log.find("\x1b[32;1mSkipping Git repository setup\x1b[0;m\n", header), std::string::npos);
  EXPECT_NE(log.find("\x1b[32;1mSkipping Git submodules setup\x1b[0;m\n", header), std::string::npos);
  std::error_code ec;
  std::filesystem::remove_all(cfg.runner.builds_dir, ec);
}

TEST(JobRun, LocalSourcesStillRunAScriptWithWork) {
  Harness h;
  JobSpec job = sample_job();
  job.variables.back().value = "fetch";
  JobRunConfig cfg = sample_config();
  cfg.local_sources = true;
  h.make(job, cfg);
  EXPECT_EQ(h.execute().state, JobState::kSuccess);
  EXPECT_EQ(h.executor.ran()[1], "get_sources");
}

TEST(JobRun, LocalPrepareHostPrintsPrepareScriptAndRemovesItsStaleFiles) {
  Harness h;
  std::filesystem::path root = std::filesystem::path(::testing::TempDir()) / "glr-local-prepare";
  std::filesystem::remove_all(root);
  JobRunConfig cfg = sample_config();
  cfg.local_prepare_host = "devbox";
  cfg.project_dir_override = (root / "app").string();
  cfg.tmp_dir_override = (root / "job.tmp").string();
  std::filesystem::create_directories(root / "job.tmp");
  std::ofstream(root / "job.tmp" / "gitlab_runner_env") << "STALE=1\n";
  h.make(sample_job(), cfg);
  EXPECT_EQ(h.execute().state, JobState::kSuccess);
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"get_sources", "step_script",
                                                        "cleanup_file_variables"}));
  EXPECT_FALSE(std::filesystem::exists(root / "job.tmp" / "gitlab_runner_env"));
  std::string log = h.log();
  size_t header = log.find("\x1b[36;1mPreparing environment");
  ASSERT_NE(header, std::string::npos) << log;
  EXPECT_NE(log.find("Running on devbox...\n", header), std::string::npos) << log;

  // A directory where rm -f would fail: the script runs and reports it.
  Harness again;
  std::filesystem::create_directories(root / "job.tmp" / "masking.db");
  again.make(sample_job(), cfg);
  EXPECT_EQ(again.execute().state, JobState::kSuccess);
  EXPECT_EQ(again.executor.ran().front(), "prepare_script");
  std::filesystem::remove_all(root);
}

TEST(JobRun, FailingScriptIsScriptFailureWithExitCode) {
  Harness h;
  JobSpec job = sample_job();
  job.steps.push_back(Step{.name = "after_script", .script = {"echo after"}, .when = StepWhen::kAlways});
  h.executor.exit_codes["step_script"] = 3;
  h.make(job);
  JobOutcome o = h.execute();
  EXPECT_EQ(o.state, JobState::kFailed);
  EXPECT_EQ(o.reason, FailureReason::kScriptFailure);
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.message, "exit status 3");
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"prepare_script", "get_sources", "step_script",
                                                        "after_script", "cleanup_file_variables"}));
  EXPECT_NE(h.executor.scripts["after_script"].find("failed"), std::string::npos);
  EXPECT_TRUE(h.log().ends_with("\x1b[31;1mERROR: Job failed: exit status 3\x1b[0;m\n"));
}

TEST(JobRun, GetSourcesFailureSkipsUserStepsAndAfterScript) {
  Harness h;
  JobSpec job = sample_job();
  job.steps.push_back(Step{.name = "after_script", .script = {"echo after"}, .when = StepWhen::kAlways});
  h.executor.exit_codes["get_sources"] = 1;
  h.make(job);
  JobOutcome o = h.execute();
  EXPECT_EQ(o.reason, FailureReason::kScriptFailure);
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"prepare_script", "get_sources",
                                                        "cleanup_file_variables"}));
}

TEST(JobRun, GetSourcesAttemptsRetryWithClearWorktree) {
  Harness h;
  JobSpec job = sample_job();
  job.variables.push_back(Variable{.key = "GET_SOURCES_ATTEMPTS", .value = "2"});
  job.variables.push_back(Variable{.key = "GIT_STRATEGY", .value = "fetch"});
  h.executor.exit_codes["get_sources"] = 1;
  h.make(job);
  (void)h.execute();
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"prepare_script", "get_sources",
                                                        "clear_worktree", "get_sources",
                                                        "cleanup_file_variables"}));
  EXPECT_NE(h.log().find("\x1b[0;33mWARNING: Retrying...\x1b[0;m\n"), std::string::npos);
  // FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY (default on) waits 5 s before the 2nd try.
  ASSERT_FALSE(h.clock.sleeps().empty());
  EXPECT_EQ(h.clock.sleeps()[0], std::chrono::nanoseconds(5s));
}

TEST(JobRun, PrepareScriptFailureEndsTheJob) {
  Harness h;
  h.executor.exit_codes["prepare_script"] = 1;
  h.make(sample_job());
  JobOutcome o = h.execute();
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"prepare_script"}));
  EXPECT_EQ(o.message,
            "prepare environment: exit status 1. Check "
            "https://docs.gitlab.com/runner/shells/#shell-profile-loading for more information");
}

TEST(JobRun, PrepareErrorIsSystemFailureAfterThreeTries) {
  Harness h;
  h.executor.prepare_error = Error{ErrorKind::kIo, "disk full"};
  h.make(sample_job());
  JobOutcome o = h.execute();
  EXPECT_EQ(o.reason, FailureReason::kRunnerSystemFailure);
  EXPECT_TRUE(h.executor.ran().empty());
  std::string log = h.log();
  EXPECT_NE(log.find("\x1b[31;1mERROR: Preparation failed: disk full\x1b[0;m\n"), std::string::npos);
  EXPECT_TRUE(log.ends_with("\x1b[31;1mERROR: Job failed (system failure): disk full\x1b[0;m\n"));
}

TEST(JobRun, ImagePullFailureIsNotRetried) {
  Harness h;
  h.executor.prepare_error =
      Error{ErrorKind::kInvalidInput, "image pull failed: Back-off pulling image \"nope\""};
  h.make(sample_job());
  JobOutcome o = h.execute();
  EXPECT_EQ(o.reason, FailureReason::kImagePullFailure);
  std::string log = h.log();
  EXPECT_EQ(log.find("Preparation failed"), std::string::npos);  // no second attempt
}

// A stage that blocks until stopped, and tells the test when it started.
void block_until_stopped(FakeExecutor& ex, const std::string& stage, std::promise<void>& started) {
  ex.hooks[stage] = [&started](std::stop_token stop) -> Result<ExitStatus> {
    started.set_value();
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    cv.wait_for(lock, stop, 10s, [] { return false; });
    if (stop.stop_requested()) return fail(ErrorKind::kCanceled, "stopped");
    return ExitStatus{0, 0};
  };
}

TEST(JobRun, GracefulCancelDuringScriptStillRunsAfterScript) {
  Harness h;
  JobSpec job = sample_job();
  job.steps.push_back(Step{.name = "after_script", .script = {"echo after"}, .when = StepWhen::kAlways});
  std::promise<void> started;
  block_until_stopped(h.executor, "step_script", started);
  h.make(job);
  std::thread canceller([&] {
    started.get_future().wait();
    h.run->cancel_gracefully();
  });
  JobOutcome o = h.execute();
  canceller.join();
  EXPECT_EQ(o.reason, FailureReason::kJobCanceled);
  EXPECT_EQ(o.message, "canceled");
  EXPECT_EQ(h.executor.ran(), (std::vector<std::string>{"prepare_script", "get_sources", "step_script",
                                                        "after_script", "cleanup_file_variables"}));
  EXPECT_NE(h.executor.scripts["after_script"].find("canceled"), std::string::npos);
  EXPECT_NE(h.log().find("WARNING: script canceled externally (UI, API)"), std::string::npos);
}

TEST(JobRun, HardAbortRunsNothingFurther) {
  Harness h;
  JobSpec job = sample_job();
  job.steps.push_back(Step{.name = "after_script", .script = {"echo after"}, .when = StepWhen::kAlways});
  std::promise<void> started;
  block_until_stopped(h.executor, "step_script", started);
  h.make(job);
  std::thread aborter([&] {
    started.get_future().wait();
    h.run->abort();
  });
  JobOutcome o = h.execute();
  aborter.join();
  EXPECT_EQ(o.reason, FailureReason::kJobCanceled);
  EXPECT_EQ(h.executor.ran(),
            (std::vector<std::string>{"prepare_script", "get_sources", "step_script"}));
  EXPECT_TRUE(h.executor.cleaned_up);
}

TEST(JobRun, InterruptIsRunnerInterrupted) {
  Harness h;
  std::promise<void> started;
  block_until_stopped(h.executor, "step_script", started);
  h.make(sample_job());
  std::thread stopper([&] {
    started.get_future().wait();
    h.run->interrupt("terminated");
  });
  JobOutcome o = h.execute();
  stopper.join();
  EXPECT_EQ(o.reason, FailureReason::kRunnerInterrupted);
  EXPECT_EQ(o.message, "aborted: terminated");
}

TEST(JobRun, JobTimeoutIsJobExecutionTimeout) {
  Harness h;
  JobSpec job = sample_job();
  job.runner_info.timeout = 1;
  std::promise<void> started;
  block_until_stopped(h.executor, "step_script", started);
  h.make(job);
  JobOutcome o = h.execute();
  EXPECT_EQ(o.reason, FailureReason::kJobExecutionTimeout);
  EXPECT_EQ(o.message, "execution took longer than 1s seconds");
  EXPECT_TRUE(h.log().ends_with("\x1b[31;1mERROR: Job failed: execution took longer than 1s seconds\x1b[0;m\n"));
}

TEST(JobRun, MaskedVariablesAndJobTokenNeverReachTheLog) {
  Harness h;
  JobSpec job = sample_job();
  job.variables.push_back(Variable{.key = "PASSWORD", .value = "s3cr3t-value", .masked = true});
  h.executor.hooks["step_script"] = [&h](std::stop_token) -> Result<ExitStatus> {
    h.trace->write(kScriptStdout, "pw=s3cr3t-value token=glcbt-secret-token\n");
    return ExitStatus{0, 0};
  };
  h.make(job);
  (void)h.execute();
  std::string log = h.log();
  EXPECT_EQ(log.find("s3cr3t-value"), std::string::npos);
  EXPECT_EQ(log.find("secret-token"), std::string::npos);
  EXPECT_NE(log.find("pw=[MASKED] token=glcbt-[MASKED]"), std::string::npos);
}

}  // namespace
}  // namespace glr
