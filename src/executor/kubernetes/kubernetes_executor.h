// The Kubernetes executor (executors §7.4, legacy exec strategy): one pod per job, every stage
// script sent over exec to the build container (user steps) or the helper container
// (predefined stages). All cluster access goes through the KubeApi seam.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/kubernetes_settings.h"
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
  // Execs the detect-shell script in `build` (in_build_container) or `helper` with the stage
  // script on stdin. On stop the exec stream is dropped and kCanceled returned; the pod stays
  // for after_script (graceful cancel) and cleanup deletes it with grace 0.
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

  std::shared_ptr<KubeApi> api_;
  KubernetesExecutorOptions options_;
  ExecutorTraits traits_;
  std::string ns_;
  std::string pod_name_;
  std::string secret_name_;
  bool secret_owned_ = false;  // the pod is the secret's owner (ownerReferences)
  bool stopped_ = false;       // a stage was stopped (cancel, timeout): no grace on delete
};

// Deletes the pods, secrets and services a previous process of this runner left behind
// (selector "manager.runner.gitlab.com/id-short=<short token>,job.runner.gitlab.com/pod").
// Returns how many objects were deleted; errors are logged and skipped.
int delete_leftovers(KubeApi& api, const std::string& ns, const std::string& short_token);

}  // namespace glr::kube
