// KubernetesExecutor over an in-memory KubeApi (executors §7.4): pod lifecycle, stage scripts
// through attach and the log file or through exec (legacy), image pull failures, cancel and
// leftovers.
#include "executor/kubernetes/kubernetes_executor.h"

#include <gtest/gtest.h>

#include <thread>

#include "executor/kubernetes/pod_builder.h"
#include "support/fake_kube_api.h"

namespace glr::kube {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class RecordingSink final : public TraceSink {
 public:
  void write(StreamId, std::string_view bytes) override {
    std::lock_guard lock(mu_);
    text_ += bytes;
  }
  void flush(StreamId) override {}
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  std::mutex mu_;
  std::string text_;
};

class KubernetesExecutorTest : public ::testing::Test {
 protected:
  KubernetesExecutor make() {
    KubernetesExecutorOptions o;
    o.config.namespace_name = "ci";
    o.config.image = "alpine";
    o.config.helper_image = "glrunner:test";
    o.config.poll_timeout = 3;
    o.config.poll_interval = 1;
    o.config.cleanup_grace_period_seconds = 3;
    o.runner_name = "r";
    o.short_token = "abcdefghi";
    o.random_suffix = [] { return std::string("aaaabbbb"); };
    o.log_reconnect_backoff = 5ms;
    return KubernetesExecutor(api_, o);
  }
  // Most tests drive the legacy exec strategy; job(false) takes the default attach strategy.
  JobSpec job(bool legacy = true) {
    JobSpec j;
    j.id = 1;
    if (legacy) {
      j.variables.push_back(
          Variable{.key = "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", .value = "true"});
    }
    j.job_info.project_id = 5;
    j.credentials = {Credential{.type = "registry", .url = "r.io", .username = "u", .password = Secret{"p"}}};
    return j;
  }
  std::shared_ptr<FakeKubeApi> api_ = std::make_shared<FakeKubeApi>();
  RecordingSink trace_;
  const std::string pod_ = "runner-abcdefghi-project-5-concurrent-0-aaaabbbb";
};

TEST_F(KubernetesExecutorTest, PrepareRunCleanup) {
  KubernetesExecutor ex = make();
  EXPECT_EQ(ex.traits().name, "kubernetes");
  EXPECT_EQ(ex.traits().helper_command, "/usr/bin/gitlab-runner-helper");
  ASSERT_TRUE(ex.prepare(job(), PrepareOptions{.builds_dir = "/builds"}, trace_));
  EXPECT_NE(trace_.text().find("Using Kubernetes namespace: ci"), std::string::npos);
  EXPECT_NE(trace_.text().find("Using Kubernetes executor with image alpine ..."), std::string::npos);
  EXPECT_EQ(api_->calls, (std::vector<std::string>{"create secrets", "create pods",
                                                   "update secrets " + pod_}));
  EXPECT_EQ(api_->objects.at("ci/secrets/" + pod_)["metadata"]["ownerReferences"],
            json::array({{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", pod_}, {"uid", "uid-" + pod_}}}));

  api_->exec_exit_code = 3;
  Result<ExitStatus> st = ex.run(StageScript{.stage = "step_script", .script = "echo hi\n",
                                             .in_build_container = true},
                                 trace_, {});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->code, 3);
  Result<ExitStatus> helper = ex.run(StageScript{.stage = "get_sources", .script = "git\n"}, trace_, {});
  ASSERT_TRUE(helper);
  ASSERT_EQ(api_->execs.size(), 2u);
  EXPECT_EQ(api_->execs[0].container, "build");
  EXPECT_EQ(api_->execs[0].stdin_data, "echo hi\n");
  EXPECT_EQ(api_->execs[0].command[0], "sh");
  EXPECT_EQ(api_->execs[1].container, "helper");
  EXPECT_NE(trace_.text().find("hello\n"), std::string::npos);

  ex.cleanup();
  // The secret is owned by the pod and goes with it.
  EXPECT_EQ(api_->calls.at(3), "delete pods " + pod_ + " grace=3");
  EXPECT_EQ(api_->calls.size(), 4u);
  EXPECT_TRUE(api_->objects.empty());
  ex.cleanup();  // idempotent
  EXPECT_EQ(api_->calls.size(), 4u);
}

TEST_F(KubernetesExecutorTest, SecretWithoutOwnerIsDeletedExplicitly) {
  api_->fail_updates = true;
  KubernetesExecutor ex = make();
  ASSERT_TRUE(ex.prepare(job(), PrepareOptions{}, trace_));
  ex.cleanup();
  EXPECT_EQ(api_->calls.back(), "delete secrets " + pod_ + " grace=default");
  EXPECT_TRUE(api_->objects.empty());
}

TEST_F(KubernetesExecutorTest, ImagePullBackOffFailsPrepareAsAJobError) {
  api_->pod_status = [](const json&) {
    return json{{"phase", "Pending"},
                {"containerStatuses",
                 {{{"name", "build"},
                   {"state", {{"waiting", {{"reason", "ImagePullBackOff"},
                                           {"message", "Back-off pulling image \"nope\""}}}}}}}}};
  };
  KubernetesExecutor ex = make();
  Result<> r = ex.prepare(job(), PrepareOptions{}, trace_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(r.error().message, "image pull failed: Back-off pulling image \"nope\"");
  ex.cleanup();
  EXPECT_TRUE(api_->objects.empty());
}

TEST_F(KubernetesExecutorTest, PendingPodTimesOutWithItsPhase) {
  api_->pod_status = [](const json&) {
    return json{{"phase", "Pending"},
                {"conditions", {{{"type", "PodScheduled"}, {"status", "False"},
                                 {"reason", "Unschedulable"}, {"message", "0/3 nodes are available"}}}}};
  };
  KubernetesExecutor ex = make();
  Result<> r = ex.prepare(job(), PrepareOptions{}, trace_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_NE(trace_.text().find("\tUnschedulable: \"0/3 nodes are available\""), std::string::npos);
  EXPECT_EQ(r.error().message, "timed out waiting for pod to start (last phase: Pending)");
  EXPECT_NE(trace_.text().find("Waiting for pod ci/" + pod_ + " to be running on the node <unknown>, status is Pending"),
            std::string::npos);
  EXPECT_EQ(api_->wait_timeouts, 3);  // poll_timeout / poll_interval polls
}

TEST_F(KubernetesExecutorTest, CancelDropsTheExecAndCleanupDeletesThePodWithoutGrace) {
  KubernetesExecutor ex = make();
  ASSERT_TRUE(ex.prepare(job(), PrepareOptions{}, trace_));
  api_->exec_hang = true;
  std::stop_source stop;
  std::jthread canceler([&] { stop.request_stop(); });
  Result<ExitStatus> st = ex.run(StageScript{.stage = "step_script", .in_build_container = true},
                                 trace_, stop.get_token());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kCanceled);
  EXPECT_EQ(st.error().message, "build aborted");
  // after_script of a graceful cancel still runs in the pod.
  api_->exec_hang = false;
  Result<ExitStatus> after = ex.run(StageScript{.stage = "after_script", .in_build_container = true},
                                    trace_, {});
  ASSERT_TRUE(after) << after.error().message;
  ex.cleanup();
  EXPECT_EQ(api_->calls.back(), "delete pods " + pod_ + " grace=0");
}

TEST_F(KubernetesExecutorTest, CreateFailureIsReported) {
  api_->fail_creates = 2;
  KubernetesExecutor ex = make();
  Result<> r = ex.prepare(job(), PrepareOptions{}, trace_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(r.error().message.find("image pull secret"), std::string::npos);
}

TEST_F(KubernetesExecutorTest, LeftoversOfThisRunnerAreDeleted) {
  json mine = {{"metadata", {{"name", "old"}, {"labels", {{kManagerIdLabel, "abcdefghi"}, {kJobPodLabel, "x"}}}}}};
  json other = {{"metadata", {{"name", "theirs"}, {"labels", {{kManagerIdLabel, "zzz"}}}}}};
  ASSERT_TRUE(api_->create("ci", "pods", mine));
  ASSERT_TRUE(api_->create("ci", "pods", other));
  ASSERT_TRUE(api_->create("ci", "secrets", mine));
  EXPECT_EQ(delete_leftovers(*api_, "ci", "abcdefghi"), 2);
  EXPECT_EQ(api_->objects.size(), 1u);
  EXPECT_EQ(api_->objects.count("ci/pods/theirs"), 1u);
}

TEST(KubernetesHelperImage, DefaultsToTheOfficialHelperForTheNodeArch) {
  KubernetesSettings k;
  std::string image = default_helper_image(k);
  EXPECT_TRUE(image.starts_with("registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v"))
      << image;
  k.node_selector["kubernetes.io/arch"] = "arm64";
  EXPECT_NE(default_helper_image(k).find(":arm64-v"), std::string::npos);
}

TEST_F(KubernetesExecutorTest, RetriedPrepareDeletesThePreviousPod) {
  api_->pod_status = [](const json&) { return json{{"phase", "Pending"}}; };
  KubernetesExecutor ex = make();
  ASSERT_FALSE(ex.prepare(job(), PrepareOptions{}, trace_));
  api_->pod_status = FakeKubeApi().pod_status;
  ASSERT_TRUE(ex.prepare(job(), PrepareOptions{}, trace_));
  EXPECT_EQ(api_->objects.count("ci/pods/" + pod_), 1u);
  EXPECT_NE(std::find(api_->calls.begin(), api_->calls.end(), "delete pods " + pod_ + " grace=3"),
            api_->calls.end());
}

TEST(KubernetesStrategy, LegacyExecOnlyWhenItsFlagResolvesTrue) {
  EXPECT_FALSE(use_legacy_exec_strategy({}));
  EXPECT_TRUE(use_legacy_exec_strategy(
      {{.key = "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", .value = "true"}}));
  // The resolved flag comes first in the final list; a later raw definition does not count.
  EXPECT_FALSE(use_legacy_exec_strategy(
      {{.key = "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", .value = "false"},
       {.key = "FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", .value = "true"}}));
}

TEST_F(KubernetesExecutorTest, AttachStrategySavesScriptsAttachesAndReadsTheLogFile) {
  KubernetesExecutor ex = make();
  ASSERT_TRUE(ex.prepare(job(false), PrepareOptions{.builds_dir = "/builds"}, trace_));
  EXPECT_NE(trace_.text().find("Using attach strategy to execute scripts..."), std::string::npos);
  const json& pod = api_->objects.at("ci/pods/" + pod_);
  EXPECT_EQ(pod["spec"]["initContainers"][0]["name"], "init-permissions");
  // setupTrappingScripts: the detect script is saved in the build container first.
  ASSERT_EQ(api_->execs.size(), 1u);
  EXPECT_EQ(api_->execs[0].container, "build");
  EXPECT_NE(api_->execs[0].stdin_data.find("> /scripts-5-1/detect_shell_script.tmp\n"
                                           "chmod 777 /scripts-5-1/detect_shell_script.tmp\n"
                                           "mv /scripts-5-1/detect_shell_script.tmp "
                                           "/scripts-5-1/detect_shell_script\n"),
            std::string::npos)
      << api_->execs[0].stdin_data;

  api_->attach_output = "hello from build\n";
  Result<ExitStatus> st = ex.run(
      StageScript{.stage = "step_script",
                  .script = "#!/usr/bin/env bash\n\ntrap 'exit 1' TERM\n\necho hi\n",
                  .in_build_container = true},
      trace_, {});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->code, 0);
  ASSERT_EQ(api_->execs.size(), 2u);
  EXPECT_EQ(api_->execs[1].container, "build");
  EXPECT_NE(api_->execs[1].stdin_data.find("trap runner_script_trap EXIT"), std::string::npos);
  ASSERT_EQ(api_->attaches.size(), 1u);
  EXPECT_EQ(api_->attaches[0].container, "build");
  EXPECT_EQ(api_->attaches[0].stdin_data,
            "sh -c '((/scripts-5-1/detect_shell_script /scripts-5-1/step_script; ec=$?; "
            "if [ $ec -ne 0 ]; then echo; echo \"{\\\"command_exit_code\\\": $ec, "
            "\\\"script\\\": \\\"/scripts-5-1/step_script\\\"}\"; fi) 2>&1 | "
            "tee -a /logs-5-1/output.log) &'\n");

  api_->attach_output = "cloning\n";
  api_->attach_exit_code = 3;
  Result<ExitStatus> helper = ex.run(StageScript{.stage = "get_sources", .script = "git\n"}, trace_, {});
  ASSERT_TRUE(helper) << helper.error().message;
  EXPECT_EQ(helper->code, 3);
  EXPECT_EQ(api_->attaches.at(1).container, "helper");
  std::string text = trace_.text();
  EXPECT_NE(text.find("hello from build\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cloning\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("command_exit_code"), std::string::npos) << text;
  EXPECT_EQ(text.find("{\"script\""), std::string::npos) << text;
  ex.cleanup();
  EXPECT_EQ(api_->calls.back(), "delete pods " + pod_ + " grace=3");
}

TEST_F(KubernetesExecutorTest, AttachReadsADroppedLogStreamAgainFromItsOffset) {
  KubernetesExecutor ex = make();
  ASSERT_TRUE(ex.prepare(job(false), PrepareOptions{}, trace_));
  api_->read_logs_drops = 2;
  api_->attach_output = "line one\nline two\n";
  Result<ExitStatus> st = ex.run(
      StageScript{.stage = "step_script", .script = "x\n", .in_build_container = true}, trace_, {});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->code, 0);
  std::string text = trace_.text();
  EXPECT_EQ(text.find("line one\n"), text.rfind("line one\n")) << text;
  EXPECT_NE(text.find("line two\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("cut short"), std::string::npos) << text;
  EXPECT_GE(api_->read_logs_streams, 3);
}

TEST_F(KubernetesExecutorTest, BrokenAttachIsRetriedWhenTheStageDidNotStart) {
  KubernetesExecutor ex = make();
  ASSERT_TRUE(ex.prepare(job(false), PrepareOptions{}, trace_));
  api_->fail_attaches = 1;
  Result<ExitStatus> st = ex.run(
      StageScript{.stage = "step_script", .script = "x\n", .in_build_container = true}, trace_, {});
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(api_->attaches.size(), 2u);
}

TEST_F(KubernetesExecutorTest, CanceledAttachStageIsKilledInThePod) {
  KubernetesExecutor ex = make();
  ASSERT_TRUE(ex.prepare(job(false), PrepareOptions{}, trace_));
  api_->attach_runs_stage = false;
  std::stop_source stop;
  std::jthread canceler([&] {
    std::this_thread::sleep_for(50ms);
    stop.request_stop();
  });
  Result<ExitStatus> st = ex.run(
      StageScript{.stage = "step_script", .script = "x\n", .in_build_container = true}, trace_,
      stop.get_token());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, ErrorKind::kCanceled);
  EXPECT_EQ(st.error().message, "build aborted");
  ASSERT_FALSE(api_->execs.empty());
  EXPECT_NE(api_->execs.back().stdin_data.find("kill -TERM"), std::string::npos);
  EXPECT_NE(api_->execs.back().stdin_data.find("/scripts-5-1/step_script"), std::string::npos);
  ex.cleanup();
  EXPECT_EQ(api_->calls.back(), "delete pods " + pod_ + " grace=0");
}

TEST_F(KubernetesExecutorTest, AttachStageFailsWhenThePodStopsRunning) {
  KubernetesExecutor ex = make();
  ASSERT_TRUE(ex.prepare(job(false), PrepareOptions{}, trace_));
  api_->attach_runs_stage = false;
  api_->pod_status = [](const json&) {
    return json{{"phase", "Running"},
                {"containerStatuses",
                 {{{"name", "build"},
                   {"state", {{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"}}}}}}}}};
  };
  Result<ExitStatus> st = ex.run(
      StageScript{.stage = "step_script", .script = "x\n", .in_build_container = true}, trace_, {});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "Error in container build: exit code: 137, reason: 'OOMKilled'");
}

TEST(LogProcessorParsing, MarkersAndOffsets) {
  EXPECT_EQ(parse_stage_status("{\"script\": \"/s/step_script\"}\n"),
            (StageStatus{.script = "/s/step_script"}));
  EXPECT_EQ(parse_stage_status("{\"command_exit_code\": 3, \"script\": \"/s/x\"}"),
            (StageStatus{.script = "/s/x", .exit_code = 3}));
  EXPECT_FALSE(parse_stage_status("{\"other\": 1}"));
  EXPECT_FALSE(parse_stage_status("plain text\n"));
  EXPECT_EQ(parse_offset_line("12 hello\n"), (std::pair<int64_t, std::string>{12, "hello\n"}));
  EXPECT_EQ(parse_offset_line("hello world\n").first, -1);
}

}  // namespace
}  // namespace glr::kube
