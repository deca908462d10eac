// The job loop against a scripted GitLab: acknowledgement, final update, payload
// errors, and the shutdown rules of api spec §10.1.
#include "runner/daemon.h"

#include <gtest/gtest.h>

#include <future>

#include "support/fake_clock.h"
#include "support/fake_executor.h"
#include "support/fake_gitlab_client.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

class FakeExecutorFactory final : public ExecutorFactory {
 public:
  std::function<void(FakeExecutor&)> configure;
  std::atomic<int> created{0};
  bool supports(const RunnerSettings& r) const override { return r.executor == "shell"; }
  RunnerInfoPayload runner_info(const RunnerSettings& r) const override {
    RunnerInfoPayload info;
    info.executor = r.executor;
    return info;
  }
  Result<std::unique_ptr<Executor>> create(const RunnerSettings&) override {
    auto ex = std::make_unique<FakeExecutor>();
    if (configure) configure(*ex);
    ++created;
    return std::unique_ptr<Executor>(std::move(ex));
  }
};

JobSpec job_with_id(int64_t id) {
  JobSpec job;
  job.id = id;
  job.token = Secret{"glcbt-job" + std::to_string(id)};
  job.job_info.project_id = 1;
  job.runner_info.timeout = 600;
  job.steps.push_back(Step{.name = "script", .script = {"true"}});
  job.variables.push_back(Variable{.key = "GIT_STRATEGY", .value = "none"});
  job.features.failure_reasons = {"script_failure", "runner_system_failure"};
  return job;
}

GlobalConfig one_runner(int concurrent = 1) {
  GlobalConfig c;
  c.concurrent = concurrent;
  c.check_interval = 1;
  RunnerSettings r;
  r.name = "r1";
  r.url = "http://gitlab.example/";
  r.token = Secret{"glrt-runner1token"};
  r.executor = "shell";
  c.runners.push_back(r);
  return c;
}

TEST(Daemon, RunsAReceivedJobAndSendsAckAndFinalUpdate) {
  SystemClock clock;
  FakeGitLabClient gitlab;
  FakeExecutorFactory executors;
  gitlab.request_answers.push_back(JobRequestResult{.status = 201, .job = job_with_id(11), .last_update = "lu1"});
  DaemonOptions options;
  options.max_builds = 1;
  Daemon daemon(gitlab, executors, clock, one_runner(), options);
  daemon.start();
  ASSERT_TRUE(daemon.wait(10s));
  EXPECT_TRUE(daemon.finished_by_itself());
  auto updates = gitlab.all_updates();
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[0].state, "running");
  EXPECT_FALSE(updates[0].output.has_value());
  EXPECT_EQ(updates[1].state, "success");
  EXPECT_EQ(updates[1].job_id, 11);
  EXPECT_NE(gitlab.stored_trace().find("Job succeeded"), std::string::npos);
}

TEST(Daemon, EchoesLastUpdateInTheNextRequest) {
  SystemClock clock;
  FakeGitLabClient gitlab;
  FakeExecutorFactory executors;
  gitlab.request_answers.push_back(JobRequestResult{.status = 204, .last_update = "abc"});
  gitlab.request_answers.push_back(JobRequestResult{.status = 201, .job = job_with_id(12)});
  DaemonOptions options;
  options.max_builds = 1;
  Daemon daemon(gitlab, executors, clock, one_runner(), options);
  daemon.start();
  ASSERT_TRUE(daemon.wait(10s));
  ASSERT_GE(gitlab.last_updates_seen.size(), 2u);
  EXPECT_EQ(gitlab.last_updates_seen[0], "");
  EXPECT_EQ(gitlab.last_updates_seen[1], "abc");
}

TEST(Daemon, PayloadErrorsFailTheJobWithExitCode3) {
  SystemClock clock;
  FakeGitLabClient gitlab;
  FakeExecutorFactory executors;
  JobRequestResult r{.status = 201, .job = job_with_id(13)};
  r.payload_errors = {"unsupported executor_opts key \"docker.foo\""};
  gitlab.request_answers.push_back(r);
  DaemonOptions options;
  options.max_builds = 1;
  Daemon daemon(gitlab, executors, clock, one_runner(), options);
  daemon.start();
  ASSERT_TRUE(daemon.wait(10s));
  EXPECT_EQ(executors.created.load(), 0);
  auto updates = gitlab.all_updates();
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].state, "failed");
  EXPECT_EQ(updates[0].failure_reason, "runner_system_failure");
  EXPECT_EQ(updates[0].exit_code, 3);
  EXPECT_NE(gitlab.stored_trace().find("docker.foo"), std::string::npos);
}

TEST(Daemon, AbortedAcknowledgementDropsTheJobSilently) {
  SystemClock clock;
  FakeGitLabClient gitlab;
  FakeExecutorFactory executors;
  gitlab.request_answers.push_back(JobRequestResult{.status = 201, .job = job_with_id(14)});
  gitlab.update_answers.push_back(UpdateJobResult{.kind = UpdateKind::kAbort});
  DaemonOptions options;
  options.max_builds = 1;
  Daemon daemon(gitlab, executors, clock, one_runner(), options);
  daemon.start();
  ASSERT_TRUE(daemon.wait(10s));
  EXPECT_EQ(executors.created.load(), 0);
  EXPECT_EQ(gitlab.all_updates().size(), 1u);
}

TEST(Daemon, Issue2_GracefulStopStillRunsAJobAssignedDuringTheRequest) {
  // The official runner cancels in-flight requests on SIGQUIT and loses a job
  // GitLab assigned meanwhile; we let the request finish and run the job.
  SystemClock clock;
  FakeGitLabClient gitlab;
  FakeExecutorFactory executors;
  std::promise<void> in_request;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  gitlab.on_request_job = [&] {
    if (calls++ == 0) {
      in_request.set_value();
      released.wait();
    }
  };
  gitlab.request_answers.push_back(JobRequestResult{.status = 201, .job = job_with_id(15)});
  Daemon daemon(gitlab, executors, clock, one_runner(), DaemonOptions{});
  daemon.start();
  in_request.get_future().wait();
  daemon.stop_graceful();
  release.set_value();
  ASSERT_TRUE(daemon.wait(10s));
  // FakeClock lets the trace watcher spin, so keep-alive PUTs may sit in between.
  auto updates = gitlab.all_updates();
  ASSERT_GE(updates.size(), 2u);
  EXPECT_FALSE(updates.front().output.has_value());
  EXPECT_EQ(updates.back().state, "success");
  EXPECT_EQ(calls.load(), 1);  // no new request after the stop
}

TEST(Daemon, ForcefulStopInterruptsRunningJobsWhichStillReport) {
  SystemClock clock;
  FakeGitLabClient gitlab;
  FakeExecutorFactory executors;
  std::promise<void> started;
  executors.configure = [&started](FakeExecutor& ex) {
    ex.hooks["step_script"] = [&started](std::stop_token stop) -> Result<ExitStatus> {
      started.set_value();
      std::mutex mu;
      std::condition_variable_any cv;
      std::unique_lock lock(mu);
      cv.wait_for(lock, stop, 10s, [] { return false; });
      return fail(ErrorKind::kCanceled, "stopped");
    };
  };
  JobSpec job = job_with_id(16);
  job.features.failure_reasons.push_back("runner_interrupted");
  gitlab.request_answers.push_back(JobRequestResult{.status = 201, .job = job});
  Daemon daemon(gitlab, executors, clock, one_runner(), DaemonOptions{});
  daemon.start();
  started.get_future().wait();
  daemon.stop_forceful("terminated");
  ASSERT_TRUE(daemon.wait(10s));
  auto updates = gitlab.all_updates();
  ASSERT_GE(updates.size(), 2u);
  EXPECT_EQ(updates.back().state, "failed");
  EXPECT_EQ(updates.back().failure_reason, "runner_interrupted");
  EXPECT_NE(gitlab.stored_trace().find("ERROR: Job failed: aborted: terminated"), std::string::npos);
}

TEST(Daemon, UnknownExecutorIsNeverAskedForJobs) {
  SystemClock clock;
  FakeGitLabClient gitlab;
  FakeExecutorFactory executors;
  GlobalConfig c = one_runner();
  c.runners[0].executor = "virtualbox";
  DaemonOptions options;
  Daemon daemon(gitlab, executors, clock, c, options);
  daemon.start();
  daemon.stop_graceful();
  ASSERT_TRUE(daemon.wait(10s));
  EXPECT_TRUE(gitlab.request_tokens.empty());
}

}  // namespace
}  // namespace glr
