// The shared body of `run` and `run-single`: build the client and the daemon,
// then translate signals (api spec §10.1) and reload the config (§10.2).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "config/runner_config.h"
#include "runner/daemon.h"

namespace glr {

struct RunLoopOptions {
  GlobalConfig config{};
  std::optional<std::filesystem::path> config_path{};  // reloaded when set
  std::filesystem::path working_dir{};
  std::string user{};
  std::string system_id{};
  int max_builds = 0;
  std::chrono::seconds wait_timeout{0};
  int shutdown_timeout_override = 0;
};

// Returns the process exit code.
int run_loop(RunLoopOptions options);

}  // namespace glr
