// The Kubernetes executor (executors §7.4): one pod per job; stage scripts run in the build
// container (user steps) or the helper container (predefined stages). The attach strategy (the
// default) saves each script into the pod, starts it by attaching to the container's shell and
// reads its output back from a log file; the legacy exec strategy
// (FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY) sends each script over its own exec. All cluster
// access goes through the KubeApi seam.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/kubernetes_settings.h"
#include "executor/kubernetes/log_processor.h"
#include "executor/executor.h"
#include "kubernetes/kube_api.h"

namespace glr::kube {

// The helper image when [runners.kubernetes] helper_image is empty: the official helper
// image of the version we report, for the node selector's kubernetes.io/arch (executors §7.6).
// Our scripts call it like the official runner does; docs/kubernetes.md shows how to use
// glrunner's own image instead.
std::string default_helper_image(const KubernetesSettings& config);

struct KubernetesExecutorOptions {
  KubernetesSettings config{};
  std::string runner_name{};
  std::string short_token{};
  // 8 characters [a-z0-9] for the pod name; empty function: random.
  std::function<std::string()> random_suffix{};
  // Attach strategy: first wait before the log stream is reopened (doubles up to 30 s).
  std::chrono::milliseconds log_reconnect_backoff{1000};
};

// Used only by the job thread, except that `run` may be stopped from any thread through its
// stop_token. `api` is shared by every job of a runner (KubeApi implementations are
// thread-safe).
class KubernetesExecutor final : public Executor {
 public:
  KubernetesExecutor(std::shared_ptr<KubeApi> api, KubernetesExecutorOptions options);
  ~KubernetesExecutor() override;
  KubernetesExecutor(const KubernetesExecutor&) = delete;
  KubernetesExecutor& operator=(const KubernetesExecutor&) = delete;

  const ExecutorTraits& traits() const override { return traits_; }
  // Creates the credentials secret and the pod and waits (poll_timeout) until the build and
  // helper containers run. An image that cannot be pulled fails with "image pull failed: ...".
  Result<> prepare(const JobSpec& job, const PrepareOptions& options, TraceSink& trace) override;
  // Attach: saves the script as <scripts dir>/<stage>, attaches to `build` (in_build_container)
  // or `helper` and starts it in the background with its output appended to the log file, then
  // waits for its exit marker, polling the pod every poll_interval. On stop the stage's
  // processes get SIGTERM and kCanceled is returned.
  // Legacy exec: execs the detect-shell script in that container with the stage script on
  // stdin; on stop the exec stream is dropped and kCanceled returned.
  // Either way the pod stays for after_script (graceful cancel) and cleanup deletes it with
  // grace 0.
  Result<ExitStatus> run(const StageScript& script, TraceSink& trace,
                         std::stop_token stop) override;
  // Deletes the pod (cleanup_grace_period_seconds) and, unless the pod owns it, the secret.
  // Idempotent.
  void cleanup() noexcept override;

  const std::string& pod_name() const { return pod_name_; }
  const std::string& pod_namespace() const { return ns_; }

 private:
  Result<> prepare_pod(const JobSpec& job, const PrepareOptions& options, TraceSink& trace);
  Result<> wait_for_pod(TraceSink& trace, std::stop_token stop);
  Result<> save_script(const std::string& container, const std::string& path,
                       const std::string& content, std::stop_token stop);
  Result<ExitStatus> run_attach(const StageScript& script, TraceSink& trace, std::stop_token stop);
  Result<ExitStatus> run_exec(const StageScript& script, TraceSink& trace, std::stop_token stop);
  Result<> check_pod();
  void cancel_stage(const std::string& container, const std::string& path);

  std::shared_ptr<KubeApi> api_;
  KubernetesExecutorOptions options_;
  ExecutorTraits traits_;
  std::string ns_;
  std::string pod_name_;
  std::string secret_name_;
  bool secret_owned_ = false;  // the pod is the secret's owner (ownerReferences)
  bool stopped_ = false;       // a stage was stopped (cancel, timeout): no grace on delete
  bool attach_ = true;         // the attach strategy (else legacy exec)
  std::string scripts_dir_;
  std::string log_file_;
  std::unique_ptr<LogProcessor> logs_;
};

// Whether a job uses the legacy exec strategy: the resolved
// FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY, which the final variable list carries first.
bool use_legacy_exec_strategy(const Variables& variables);

// Deletes the pods, secrets and services a previous process of this runner left behind
// (selector "manager.runner.gitlab.com/id-short=<short token>,job.runner.gitlab.com/pod").
// Returns how many objects were deleted; errors are logged and skipped.
int delete_leftovers(KubeApi& api, const std::string& ns, const std::string& short_token);

}  // namespace glr::kube
