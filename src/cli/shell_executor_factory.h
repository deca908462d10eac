// The executors this build can run, as the daemon sees them (runner/ExecutorFactory):
// shell and docker.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runner/executor_factory.h"

namespace glr {

class LocalExecutorFactory final : public ExecutorFactory {
 public:
  // `working_dir` is the runner's working directory (`run -d`); shell jobs build
  // under <working_dir>/builds unless builds_dir says otherwise. `local_project`:
  // `exec`, where the project dir is the user's working tree.
  LocalExecutorFactory(std::filesystem::path working_dir, std::string user,
                       bool local_project = false);
  bool supports(const RunnerSettings& runner) const override;
  RunnerInfoPayload runner_info(const RunnerSettings& runner) const override;
  // Docker runners: a missing or invalid [runners.docker] section fails the job's
  // prepare stage with a configuration error naming the field.
  Result<std::unique_ptr<Executor>> create(const RunnerSettings& runner) override;
  // At `run` start: removes the containers, networks and per-job volumes a crashed
  // runner left behind for each docker runner (found by labels). Logs what it did.
  void remove_stale_resources(const std::vector<RunnerSettings>& runners) const;

 private:
  std::filesystem::path working_dir_;
  std::string user_;
  bool local_project_ = false;
  std::vector<std::string> base_env_;
};

}  // namespace glr
