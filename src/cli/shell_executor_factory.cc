// Composition of concrete executors for `run`, `run-single` and `exec`.
#include "cli/shell_executor_factory.h"

#include <unistd.h>

#include "executor/kubernetes/kubernetes_executor.h"
#include "executor/shell_executor.h"
#include "gitlab/job_json.h"
#include "kubernetes/kube_client.h"
#include "kubernetes/kube_config.h"
#include "util/log.h"
#include "util/short_token.h"

extern char** environ;

namespace glr {

LocalExecutorFactory::LocalExecutorFactory(std::filesystem::path working_dir, std::string user)
    : working_dir_(std::move(working_dir)), user_(std::move(user)) {
  // The shell executor's children inherit the runner's environment (executors §7.2).
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) base_env_.emplace_back(*e);
}

LocalExecutorFactory::~LocalExecutorFactory() = default;

bool LocalExecutorFactory::supports(const RunnerSettings& runner) const {
  return runner.executor == "shell" || runner.executor == "kubernetes";
}

RunnerInfoPayload LocalExecutorFactory::runner_info(const RunnerSettings& runner) const {
  RunnerInfoPayload info;
  info.executor = runner.executor;
  info.shell = runner.shell.empty() ? "bash" : runner.shell;
  info.features = shell_executor_features();
  if (runner.executor == "kubernetes") {
    // Jobs run in a pod built from the job's image and services (api spec §2.1).
    info.features["image"] = true;
    info.features["services"] = true;
    info.features["service_variables"] = true;
    info.features["shared"] = false;
  }
  info.labels = runner.labels;
  return info;
}

// Where the cluster is: [runners.kubernetes] host (+ ca/cert/key/bearer_token), else the
// in-cluster service account, else the kubeconfig file (executors §7.4).
static Result<kube::KubeConfig> cluster_config(const KubernetesSettings& k) {
  if (!k.host.empty()) {
    return kube::load_explicit(k.host, k.ca_file, k.cert_file, k.key_file, k.bearer_token);
  }
  Result<kube::KubeConfig> in_cluster = kube::load_in_cluster_from_env();
  if (in_cluster || in_cluster.error().kind != ErrorKind::kNotFound) return in_cluster;
  std::filesystem::path kubeconfig = kube::default_kubeconfig_path();
  if (kubeconfig.empty()) {
    return fail(ErrorKind::kInvalidInput,
                "kubernetes: no cluster configured: set [runners.kubernetes] host, run inside a "
                "cluster, or provide a kubeconfig ($KUBECONFIG or ~/.kube/config)");
  }
  return kube::load_kubeconfig(kubeconfig, k.context);
}

Result<std::shared_ptr<kube::KubeApi>> LocalExecutorFactory::kube_api(const RunnerSettings& runner) {
  std::lock_guard lock(mu_);
  auto it = kube_apis_.find(runner.token.value);
  if (it != kube_apis_.end()) return it->second;
  KubernetesSettings k = runner.kubernetes.value_or(KubernetesSettings{});
  Result<kube::KubeConfig> config = cluster_config(k);
  if (!config) return fail(config.error());
  std::shared_ptr<kube::KubeApi> api = std::make_shared<kube::KubeClient>(*config, clock_);
  // Leftovers of a process of this runner that died mid-job (crash, SIGKILL).
  std::string ns = k.namespace_name.empty() ? "default" : k.namespace_name;
  int deleted = kube::delete_leftovers(*api, ns, short_token(runner.token.value));
  if (deleted > 0) {
    log_info("Removed leftover Kubernetes objects of this runner",
             {{"runner", short_token(runner.token.value)}, {"count", std::to_string(deleted)}});
  }
  kube_apis_[runner.token.value] = api;
  return api;
}

Result<std::unique_ptr<Executor>> LocalExecutorFactory::create(const RunnerSettings& runner) {
  if (runner.executor == "kubernetes") {
    Result<std::shared_ptr<kube::KubeApi>> api = kube_api(runner);
    if (!api) return fail(api.error());
    kube::KubernetesExecutorOptions options;
    options.config = runner.kubernetes.value_or(KubernetesSettings{});
    options.runner_name = runner.name;
    options.short_token = short_token(runner.token.value);
    return std::unique_ptr<Executor>(
        std::make_unique<kube::KubernetesExecutor>(std::move(*api), std::move(options)));
  }
  if (runner.executor != "shell")
    return fail(ErrorKind::kInvalidInput, "executor \"" + runner.executor + "\" is not supported");
  ShellExecutorOptions options;
  options.working_dir = working_dir_;
  options.shell = runner.shell.empty() ? "bash" : runner.shell;
  options.user = user_;
  options.base_env = base_env_;
  return std::unique_ptr<Executor>(std::make_unique<ShellExecutor>(std::move(options)));
}

}  // namespace glr
