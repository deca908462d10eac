// Shared pieces of the lifecycle commands (api spec §1).
#include "cli/lifecycle.h"

#include "cli/commands.h"
#include "config/config_writer.h"
#include "config/system_id.h"
#include "gitlab/job_json.h"
#include "util/log.h"

namespace glr {

bool is_created_runner_token(const std::string& token) { return token.starts_with("glrt-"); }

Result<std::filesystem::path> lifecycle_config_path(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::path(flag);
  return default_config_path();
}

int error_exit(const std::string& message) {
  log_error(message);
  return 1;
}

TlsFiles tls_of(const RunnerSettings& runner) {
  return TlsFiles{.ca_file = runner.tls_ca_file,
                  .cert_file = runner.tls_cert_file,
                  .key_file = runner.tls_key_file};
}

RunnerInfoPayload runner_info_for(const std::string& executor) {
  RunnerInfoPayload info;
  info.executor = executor;
  info.shell = "bash";
  info.features = shell_executor_features();
  return info;
}

std::optional<LoadedConfig> open_config(const std::string& flag, const GlobalOptions& global) {
  Result<std::filesystem::path> path = lifecycle_config_path(flag);
  if (!path) {
    error_exit(path.error().message);
    return std::nullopt;
  }
  Result<GlobalConfig> config = load_config(*path);
  if (!setup_logging(global, config ? config->log_level : "", config ? config->log_format : ""))
    return std::nullopt;
  if (!config) {
    error_exit("Failed to load configuration: " + config.error().message);
    return std::nullopt;
  }
  Result<std::string> system_id = load_or_create_system_id(*path);
  if (!system_id) {
    error_exit(system_id.error().message);
    return std::nullopt;
  }
  return LoadedConfig{*path, std::move(*config), *system_id};
}

int save_or_fail(const LoadedConfig& loaded) {
  Result<> saved = save_config_atomic(loaded.path, loaded.config);
  if (!saved) return error_exit("Failed to update configuration: " + saved.error().message);
  log_info("Updated " + loaded.path.string());
  return 0;
}

}  // namespace glr
