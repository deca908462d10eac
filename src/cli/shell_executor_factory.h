// The executors this build can run, as the daemon sees them (runner/ExecutorFactory):
// shell, docker, and kubernetes (executors §7.4) through a KubeClient shared by a runner's jobs.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runner/executor_factory.h"
#include "util/clock.h"

namespace glr {
class ShellSessionPool;
struct ShellExecutorOptions;
}

namespace glr {
namespace kube {
class KubeApi;
}

class LocalExecutorFactory final : public ExecutorFactory {
 public:
  // `working_dir` is the runner's working directory (`run -d`); shell jobs build
  // under <working_dir>/builds unless builds_dir says otherwise. `local_project`:
  // `exec`, where the project dir is the user's working tree.
  LocalExecutorFactory(std::filesystem::path working_dir, std::string user,
                       bool local_project = false);
  ~LocalExecutorFactory() override;
  bool supports(const RunnerSettings& runner) const override;
  RunnerInfoPayload runner_info(const RunnerSettings& runner) const override;
  // Thread-safe. The first kubernetes executor of a runner connects to the cluster and
  // deletes the pods and secrets an earlier process of this runner left behind.
  // Docker runners: a missing or invalid [runners.docker] section fails the job's
  // prepare stage with a configuration error naming the field.
  Result<std::unique_ptr<Executor>> create(const RunnerSettings& runner) override;
  // exec: starts up to `count` shells for the run's shell jobs in the background.
  void prewarm_shell_sessions(size_t count);
  // At `run` start: removes the containers, networks and per-job volumes a crashed
  // runner left behind for each docker runner (found by labels). Logs what it did.
  void remove_stale_resources(const std::vector<RunnerSettings>& runners) const;

 private:
  Result<std::shared_ptr<kube::KubeApi>> kube_api(const RunnerSettings& runner);
  std::shared_ptr<ShellSessionPool> session_pool(const ShellExecutorOptions& options);

  std::filesystem::path working_dir_;
  std::string user_;
  bool local_project_ = false;
  std::vector<std::string> base_env_;
  SystemClock clock_;
  std::mutex mu_;
  // Runner token -> its cluster client. Guarded by mu_.
  std::map<std::string, std::shared_ptr<kube::KubeApi>> kube_apis_;
  // exec: shells shared by the run's shell jobs (created on first use, guarded by mu_).
  std::shared_ptr<ShellSessionPool> session_pool_;
};

}  // namespace glr
