// Composition of concrete executors for `run`, `run-single` and `exec`.
#include "cli/shell_executor_factory.h"

#include <unistd.h>

#include "config/docker_config.h"
#include "docker/docker_executor.h"
#include "executor/shell_executor.h"
#include "gitlab/job_json.h"
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

bool LocalExecutorFactory::supports(const RunnerSettings& runner) const {
  return runner.executor == "shell" || runner.executor == "docker";
}

RunnerInfoPayload LocalExecutorFactory::runner_info(const RunnerSettings& runner) const {
  RunnerInfoPayload info;
  info.executor = runner.executor;
  info.shell = runner.shell.empty() ? "bash" : runner.shell;
  info.features = shell_executor_features();
  if (runner.executor == "docker") {
    info.features["image"] = true;
    info.features["services"] = true;
    info.features["service_variables"] = true;
    info.features["shared"] = false;
  }
  info.labels = runner.labels;
  return info;
}

Result<std::unique_ptr<Executor>> LocalExecutorFactory::create(const RunnerSettings& runner) {
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
  return std::unique_ptr<Executor>(std::make_unique<ShellExecutor>(std::move(options)));
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
