// The executors this build can run, as the daemon sees them (runner/ExecutorFactory).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runner/executor_factory.h"

namespace glr {

class LocalExecutorFactory final : public ExecutorFactory {
 public:
  // `working_dir` is the runner's working directory (`run -d`); shell jobs build
  // under <working_dir>/builds unless builds_dir says otherwise.
  LocalExecutorFactory(std::filesystem::path working_dir, std::string user);
  bool supports(const RunnerSettings& runner) const override;
  RunnerInfoPayload runner_info(const RunnerSettings& runner) const override;
  Result<std::unique_ptr<Executor>> create(const RunnerSettings& runner) override;

 private:
  std::filesystem::path working_dir_;
  std::string user_;
  std::vector<std::string> base_env_;
};

}  // namespace glr
