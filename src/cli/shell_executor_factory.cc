// Composition of concrete executors for `run`, `run-single` and `exec`.
#include "cli/shell_executor_factory.h"

#include <unistd.h>

#include "config/docker_config.h"
#include "docker/docker_executor.h"
#include "executor/kubernetes/kubernetes_executor.h"
#include "executor/shell_executor.h"
#include "gitlab/job_json.h"
#include "kubernetes/kube_client.h"
#include "kubernetes/kube_config.h"
#include "util/log.h"
#include "util/short_token.h"

extern char** environ;

namespace glr {
namespace {

Result<DockerSettings> docker_settings(const RunnerSettings& runner) {
  auto it = runner.raw_sections.find("docker");
  if (it == runner.raw_sections.end())
    return fail(ErrorKind::kInvalidInput, "missing docker configuration: add a [runners.docker] section");
  return parse_docker_settings(it->second);
}

}  // namespace

LocalExecutorFactory::LocalExecutorFactory(std::filesystem::path working_dir, std::string user,
                                           bool local_project)
    : working_dir_(std::move(working_dir)), user_(std::move(user)), local_project_(local_project) {
  // The shell executor's children inherit the runner's environment (executors §7.2).
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) base_env_.emplace_back(*e);
}

LocalExecutorFactory::~LocalExecutorFactory() = default;

bool LocalExecutorFactory::supports(const RunnerSettings& runner) const {
  return runner.executor == "shell" || runner.executor == "docker" || runner.executor == "kubernetes";
}

RunnerInfoPayload LocalExecutorFactory::runner_info(const RunnerSettings& runner) const {
  RunnerInfoPayload info;
  info.executor = runner.executor;
  info.shell = runner.shell.empty() ? "bash" : runner.shell;
  info.features = shell_executor_features();
  if (runner.executor == "kubernetes" || runner.executor == "docker") {
    // Jobs run in containers built from the job's image and services (api spec §2.1).
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
  if (runner.executor == "docker") {
    Result<DockerSettings> settings = docker_settings(runner);
    DockerExecutorOptions options;
    if (settings) {
      options.endpoint = resolve_docker_endpoint(settings->host, settings->tls_verify,
                                                 settings->tls_cert_path, base_env_);
      options.docker = std::move(*settings);
    } else {
      options.config_error = settings.error();  // reported by prepare() in the job log
    }
    options.runner_token = runner.token.value;
    options.runner_id = runner.id != 0 ? std::to_string(runner.id) : std::string();
    auto ff = runner.feature_flags.find("FF_NETWORK_PER_BUILD");
    options.network_per_build = ff != runner.feature_flags.end() && ff->second;
    options.working_dir = local_project_ ? std::filesystem::temp_directory_path() / "glrunner-exec-docker"
                                         : working_dir_;
    options.base_env = base_env_;
    options.local_project = local_project_;
    return std::unique_ptr<Executor>(std::make_unique<DockerExecutor>(std::move(options)));
  }
  if (runner.executor != "shell")
    return fail(ErrorKind::kInvalidInput, "executor \"" + runner.executor + "\" is not supported");
  ShellExecutorOptions options;
  options.working_dir = working_dir_;
  options.shell = runner.shell.empty() ? "bash" : runner.shell;
  options.user = user_;
  options.base_env = base_env_;
  options.login_shell = !local_project_;
  options.reuse_shell = local_project_;
  if (local_project_) options.session_pool = session_pool(options);  // used when it can (bash, no user)
  return std::unique_ptr<Executor>(std::make_unique<ShellExecutor>(std::move(options)));
}

std::shared_ptr<ShellSessionPool> LocalExecutorFactory::session_pool(const ShellExecutorOptions& options) {
  std::lock_guard lock(mu_);
  if (!session_pool_) session_pool_ = std::make_shared<ShellSessionPool>(session_options_for(options));
  return session_pool_;
}

void LocalExecutorFactory::prewarm_shell_sessions(size_t count) {
  if (!local_project_ || !user_.empty()) return;
  ShellExecutorOptions options;  // as create() makes them for an exec shell job
  options.working_dir = working_dir_;
  options.base_env = base_env_;
  options.login_shell = false;
  session_pool(options)->prewarm(count);
}

void LocalExecutorFactory::remove_stale_resources(const std::vector<RunnerSettings>& runners) const {
  for (const RunnerSettings& runner : runners) {
    if (runner.executor != "docker") continue;
    Result<DockerSettings> settings = docker_settings(runner);
    if (!settings) {
      log_warning("docker runner " + runner.name + ": " + settings.error().message);
      continue;
    }
    DockerClient client(resolve_docker_endpoint(settings->host, settings->tls_verify,
                                                settings->tls_cert_path, base_env_));
    if (Result<> c = client.connect(); !c) {
      log_warning("docker runner " + runner.name + ": " + c.error().message);
      continue;
    }
    int removed = remove_stale_docker_resources(client, short_token(runner.token.value));
    if (removed > 0) {
      log_info("Removed " + std::to_string(removed) + " docker resources left by an earlier run",
               {{"runner", short_token(runner.token.value)}});
    }
  }
  // Staging copies of build dirs of jobs that no longer run.
  if (!local_project_) {
    std::error_code ec;
    std::filesystem::remove_all(working_dir_ / "docker-staging", ec);
  }
}

}  // namespace glr
