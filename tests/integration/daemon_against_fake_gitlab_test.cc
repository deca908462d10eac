// Real jobs through the real engine (HTTP client, daemon, JobRun, shell executor,
// bash scripts, git) against the fake GitLab on 127.0.0.1, with the project served
// over git smart HTTP that demands the job token (issue 2, item 9).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "executor/shell_executor.h"
#include "fake_gitlab/fake_gitlab.h"
#include "gitlab/http_gitlab_client.h"
#include "gitlab/job_json.h"
#include "http/curl_transport.h"
#include "http/retrying_transport.h"
#include "runner/daemon.h"
#include "support/temp_dir.h"
#include "util/clock.h"

extern char** environ;

namespace glr {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRunnerToken = "glrt-t1_integrationtoken";

int sh(const std::string& cmd) { return std::system(("set -e; " + cmd + " >/dev/null 2>&1").c_str()); }

class ShellFactory final : public ExecutorFactory {
 public:
  explicit ShellFactory(std::filesystem::path dir) : dir_(std::move(dir)) {
    for (char** e = environ; *e != nullptr; ++e) env_.emplace_back(*e);
  }
  bool supports(const RunnerSettings& r) const override { return r.executor == "shell"; }
  RunnerInfoPayload runner_info(const RunnerSettings& r) const override {
    RunnerInfoPayload info;
    info.executor = r.executor;
    info.shell = "bash";
    info.features = shell_executor_features();
    return info;
  }
  Result<std::unique_ptr<Executor>> create(const RunnerSettings&) override {
    ShellExecutorOptions o;
    o.working_dir = dir_;
    o.base_env = env_;
    o.kill_grace = 2s;
    return std::unique_ptr<Executor>(std::make_unique<ShellExecutor>(o));
  }

 private:
  std::filesystem::path dir_;
  std::vector<std::string> env_;
};

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

struct JobOptions {
  std::vector<std::string> script{"cat README.md"};
  std::vector<std::string> after_script{};
  std::vector<std::pair<std::string, std::string>> variables{};
  std::vector<std::pair<std::string, std::string>> masked{};
  int timeout = 600;
  std::string extra_json{};  // more top-level payload keys, with a leading comma
};

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A project repository with one commit, served as group/project.git.
    std::string repo = (tmp_.path() / "project.git").string();
    std::string work = (tmp_.path() / "seed").string();
    ASSERT_EQ(sh("git init -q --bare " + repo + " && git init -q -b main " + work + " && cd " +
                 work + " && echo 'hello from the repository' > README.md && git add README.md && "
                 "git -c user.name=t -c user.email=t@example.com commit -q -m init && "
                 "git push -q " + repo + " main"),
              0);
    FILE* p = ::popen(("git -C " + work + " rev-parse HEAD").c_str(), "r");
    char buf[64] = {};
    ASSERT_NE(std::fgets(buf, sizeof(buf), p), nullptr);
    ::pclose(p);
    sha_ = std::string(buf, 40);
    gitlab_.add_runner(kRunnerToken);
    gitlab_.add_git_repo("group/project.git", repo);
    gitlab_.set_trace_update_interval(1);
  }

  std::string payload(const JobOptions& o) {
    std::ostringstream vars;
    vars << "{\"key\":\"CI_JOB_TOKEN\",\"value\":\"{{JOB_TOKEN}}\",\"public\":false,\"masked\":true}";
    vars << ",{\"key\":\"CI_PROJECT_PATH\",\"value\":\"group/project\",\"public\":true}";
    for (auto& [k, v] : o.variables)
      vars << ",{\"key\":\"" << json_escape(k) << "\",\"value\":\"" << json_escape(v) << "\",\"public\":true}";
    for (auto& [k, v] : o.masked)
      vars << ",{\"key\":\"" << json_escape(k) << "\",\"value\":\"" << json_escape(v)
           << "\",\"public\":false,\"masked\":true}";
    auto list = [](const std::vector<std::string>& s) {
      std::string out = "[";
      for (size_t i = 0; i < s.size(); ++i) out += (i ? ",\"" : "\"") + json_escape(s[i]) + "\"";
      return out + "]";
    };
    std::string steps = "{\"name\":\"script\",\"script\":" + list(o.script) +
                        ",\"timeout\":3600,\"when\":\"on_success\",\"allow_failure\":false}";
    if (!o.after_script.empty())
      steps += ",{\"name\":\"after_script\",\"script\":" + list(o.after_script) +
               ",\"timeout\":3600,\"when\":\"always\",\"allow_failure\":true}";
    std::string repo_url = "http://gitlab-ci-token:{{JOB_TOKEN}}@127.0.0.1:" +
                           std::to_string(gitlab_.port()) + "/group/project.git";
    return std::string("{\"id\":0,\"token\":\"\",\"allow_git_fetch\":false,") +
           "\"job_info\":{\"id\":0,\"name\":\"test\",\"stage\":\"test\",\"project_id\":77,"
           "\"project_name\":\"project\"}," +
           "\"git_info\":{\"repo_url\":\"" + repo_url + "\",\"ref\":\"main\",\"sha\":\"" + sha_ +
           "\",\"before_sha\":\"0000000000000000000000000000000000000000\",\"ref_type\":\"branch\","
           "\"refspecs\":[\"+refs/heads/*:refs/remotes/origin/*\",\"+refs/tags/*:refs/tags/*\"],"
           "\"depth\":20}," +
           "\"runner_info\":{\"timeout\":" + std::to_string(o.timeout) + "}," +
           "\"variables\":[" + vars.str() + "]," + "\"steps\":[" + steps + "]," +
           (o.extra_json.empty() ? "" : o.extra_json.substr(1) + ",") +
           "\"features\":{\"trace_sections\":true,\"failure_reasons\":[\"script_failure\","
           "\"runner_system_failure\",\"job_execution_timeout\",\"unknown_failure\"]}}";
  }

  GlobalConfig config() {
    GlobalConfig c;
    c.concurrent = 2;
    c.check_interval = 1;
    RunnerSettings r;
    r.name = "integration";
    r.url = gitlab_.url();
    r.token = Secret{kRunnerToken};
    r.executor = "shell";
    r.builds_dir = (tmp_.path() / "builds").string();
    c.runners.push_back(r);
    return c;
  }

  // Runs the daemon until `id` reached a final state (or the bound passes).
  JobRecord run_until_done(int64_t id, std::function<void()> while_running = {}) {
    Daemon daemon(gitlab_client_, factory_, clock_, config(), DaemonOptions{.system_id = "s_0123456789ab"});
    daemon.start();
    if (while_running) while_running();
    // A hard-canceled job sends no final update (GitLab accepts none): done when canceled.
    gitlab_.wait_for(
        id, [](const JobRecord& r) { return r.final_update_received || r.state == "canceled"; },
        60s);
    daemon.stop_graceful();
    EXPECT_TRUE(daemon.wait(30s));
    return gitlab_.job(id);
  }

  TempDir tmp_;
  FakeGitLab gitlab_;
  SystemClock clock_;
  CurlTransport curl_;
  RetryingTransport transport_{curl_, clock_};
  HttpGitLabClient gitlab_client_{transport_};
  ShellFactory factory_{tmp_.path()};
  std::string sha_;
};

TEST_F(EngineTest, ClonesOverHttpWithTheJobTokenAndSucceeds) {
  int64_t id = gitlab_.enqueue_job(payload({}));
  JobRecord r = run_until_done(id);
  EXPECT_EQ(r.state, "success") << r.trace;
  EXPECT_NE(r.trace.find("hello from the repository"), std::string::npos) << r.trace;
  EXPECT_NE(r.trace.find("Checking out " + sha_.substr(0, 8) + " as detached HEAD (ref is main)..."),
            std::string::npos);
  EXPECT_NE(r.trace.find("Job succeeded"), std::string::npos);
  // The stored log is exactly what the runner checksummed.
  EXPECT_TRUE(r.checksum_matches) << r.checksum;
  EXPECT_EQ(r.bytesize, static_cast<int64_t>(r.trace.size()));
  // The job token never reaches the log.
  EXPECT_EQ(r.trace.find(gitlab_.job_token(id).substr(6)), std::string::npos);
  // Timestamps are on by default: every line starts with a header.
  EXPECT_EQ(r.trace.find("Z 00O "), 27u - 1);
}

TEST_F(EngineTest, FailingScriptReportsScriptFailureAndExitCode) {
  JobOptions o;
  o.script = {"echo about to fail", "exit 3"};
  o.after_script = {"echo \"after: $CI_JOB_STATUS\""};
  int64_t id = gitlab_.enqueue_job(payload(o));
  JobRecord r = run_until_done(id);
  EXPECT_EQ(r.state, "failed");
  EXPECT_EQ(r.failure_reason, "script_failure");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.trace.find("after: failed"), std::string::npos);
  EXPECT_NE(r.trace.find("ERROR: Job failed: exit status 3"), std::string::npos);
  EXPECT_TRUE(r.checksum_matches);
}

TEST_F(EngineTest, MaskedValuesAndHostileValuesArePassedLiterallyAndMasked) {
  JobOptions o;
  o.masked = {{"SECRET", "super-secret-value-123"}};
  o.variables = {{"HOSTILE", "a'b\"c $(touch pwned) `id` \n new line"}};
  o.script = {"echo \"secret=$SECRET\"", "printf '%s\\n' \"$HOSTILE\"", "test ! -e pwned"};
  int64_t id = gitlab_.enqueue_job(payload(o));
  JobRecord r = run_until_done(id);
  EXPECT_EQ(r.state, "success") << r.trace;
  EXPECT_EQ(r.trace.find("super-secret-value-123"), std::string::npos);
  EXPECT_NE(r.trace.find("secret=[MASKED]"), std::string::npos);
  EXPECT_NE(r.trace.find("a'b\"c $(touch pwned) `id` "), std::string::npos);
}

TEST_F(EngineTest, SurvivesServerErrorsDroppedConnectionsAndRangeResync) {
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kRequestJob, .count = 1, .status = 502});
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kPatchTrace, .count = 2, .status = 500});
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kPatchTrace, .skip = 2, .count = 1,
                           .action = FaultAction::kCloseConnection});
  gitlab_.force_trace_range_mismatch_once();
  gitlab_.set_final_update_202_count(2);
  JobOptions o;
  o.script = {"for i in $(seq 1 2000); do echo \"line $i of some output\"; done"};
  int64_t id = gitlab_.enqueue_job(payload(o));
  JobRecord r = run_until_done(id);
  EXPECT_EQ(r.state, "success") << r.trace.substr(0, 2000);
  EXPECT_NE(r.trace.find("line 2000 of some output"), std::string::npos);
  EXPECT_TRUE(r.checksum_matches);
  EXPECT_GE(r.final_puts, 3);
}

TEST_F(EngineTest, HardCancelKillsTheWholeProcessTree) {
  std::string pidfile = (tmp_.path() / "child.pid").string();
  JobOptions o;
  o.script = {"sleep 300 & echo $! > " + pidfile + "; wait"};
  int64_t id = gitlab_.enqueue_job(payload(o));
  auto started = std::chrono::steady_clock::now();
  JobRecord r = run_until_done(id, [&] {
    gitlab_.wait_for(id, [&](const JobRecord&) { return std::filesystem::exists(pidfile); }, 30s);
    gitlab_.cancel_job(id, /*graceful=*/false);
  });
  EXPECT_LT(std::chrono::steady_clock::now() - started, 40s);
  std::ifstream in(pidfile);
  pid_t child = 0;
  in >> child;
  ASSERT_GT(child, 0);
  // Reaped or at least gone from the process table within the grace period.
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    gone = ::kill(child, 0) != 0;
    if (!gone) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(gone);
  EXPECT_EQ(r.state, "canceled");
}

TEST_F(EngineTest, GracefulCancelRunsAfterScript) {
  std::string marker = (tmp_.path() / "running").string();
  JobOptions o;
  o.script = {"touch " + marker + "; sleep 300"};
  o.after_script = {"echo \"after: $CI_JOB_STATUS\""};
  int64_t id = gitlab_.enqueue_job(payload(o));
  JobRecord r = run_until_done(id, [&] {
    gitlab_.wait_for(id, [&](const JobRecord&) { return std::filesystem::exists(marker); }, 30s);
    gitlab_.cancel_job(id, /*graceful=*/true);
  });
  EXPECT_NE(r.trace.find("after: canceled"), std::string::npos) << r.trace;
  EXPECT_NE(r.trace.find("ERROR: Job failed: canceled"), std::string::npos);
  EXPECT_TRUE(r.final_update_received);
}

TEST_F(EngineTest, JobTimeoutIsJobExecutionTimeout) {
  JobOptions o;
  o.script = {"sleep 60"};
  o.timeout = 3;
  int64_t id = gitlab_.enqueue_job(payload(o));
  JobRecord r = run_until_done(id);
  EXPECT_EQ(r.state, "failed");
  EXPECT_EQ(r.failure_reason, "job_execution_timeout");
  EXPECT_NE(r.trace.find("execution took longer than 3s seconds"), std::string::npos);
}

TEST_F(EngineTest, ArtifactsAndCacheAreSkippedWithAWarningWithoutAHelperCommand) {
  // An executor configured without a helper command (DaemonOptions::helper_command empty)
  // warns and goes on instead of failing the job.
  JobOptions o;
  o.script = {"echo data > out.txt"};
  o.extra_json =
      ",\"artifacts\":[{\"name\":\"a\",\"paths\":[\"out.txt\"],\"when\":\"on_success\","
      "\"artifact_type\":\"archive\",\"artifact_format\":\"zip\"}],"
      "\"cache\":[{\"key\":\"k\",\"paths\":[\"vendor/\"],\"policy\":\"pull-push\"}]";
  int64_t id = gitlab_.enqueue_job(payload(o));
  JobRecord r = run_until_done(id);
  EXPECT_EQ(r.state, "success") << r.trace;
  EXPECT_NE(r.trace.find("is not supported by this executor."), std::string::npos) << r.trace;
}

TEST_F(EngineTest, CloneWithoutValidTokenFailsGetSources) {
  JobOptions o;
  int64_t id = gitlab_.enqueue_job(payload(o));
  // Break the credentials: the fake accepts only the token of a running job.
  std::string p = payload(o);
  (void)p;
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kGit, .count = -1, .status = 401});
  JobRecord r = run_until_done(id);
  EXPECT_EQ(r.state, "failed");
  EXPECT_EQ(r.failure_reason, "script_failure");
  EXPECT_EQ(r.trace.find("hello from the repository"), std::string::npos);
}

}  // namespace
}  // namespace glr
