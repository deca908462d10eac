// Composition of concrete executors for `run`, `run-single` and `exec`.
#include "cli/shell_executor_factory.h"

#include <unistd.h>

#include "executor/shell_executor.h"
#include "gitlab/job_json.h"

extern char** environ;

namespace glr {

LocalExecutorFactory::LocalExecutorFactory(std::filesystem::path working_dir, std::string user)
    : working_dir_(std::move(working_dir)), user_(std::move(user)) {
  // The shell executor's children inherit the runner's environment (executors §7.2).
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) base_env_.emplace_back(*e);
}

bool LocalExecutorFactory::supports(const RunnerSettings& runner) const {
  return runner.executor == "shell";
}

RunnerInfoPayload LocalExecutorFactory::runner_info(const RunnerSettings& runner) const {
  RunnerInfoPayload info;
  info.executor = runner.executor;
  info.shell = runner.shell.empty() ? "bash" : runner.shell;
  info.features = shell_executor_features();
  info.labels = runner.labels;
  return info;
}

Result<std::unique_ptr<Executor>> LocalExecutorFactory::create(const RunnerSettings& runner) {
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
