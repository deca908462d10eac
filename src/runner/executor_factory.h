// The seam through which the daemon gets a fresh executor per job. Only cli/
// (the composition root) implements it, so runner/ never names a concrete executor.
#pragma once

#include <memory>
#include <string>

#include "config/runner_config.h"
#include "executor/executor.h"
#include "gitlab/gitlab_client.h"
#include "util/result.h"

namespace glr {

class ExecutorFactory {
 public:
  virtual ~ExecutorFactory() = default;
  // False for executor names we do not implement; such a runner is marked unhealthy.
  virtual bool supports(const RunnerSettings& runner) const = 0;
  // The `info` object sent with every request of this runner (features, shell).
  virtual RunnerInfoPayload runner_info(const RunnerSettings& runner) const = 0;
  virtual Result<std::unique_ptr<Executor>> create(const RunnerSettings& runner) = 0;
};

}  // namespace glr
