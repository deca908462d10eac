// What the runner lifecycle commands (register, verify, unregister, reset-token; api spec
// §1) share: the config file they edit, the GitLab client stack and the token rules.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config/runner_config.h"
#include "gitlab/registration_client.h"
#include "http/curl_transport.h"
#include "http/retrying_transport.h"
#include "util/clock.h"

namespace glr {

struct GlobalOptions;

// "Created runner token" (§1.1): exactly the glrt- prefix. Decides verify-instead-of-
// register and unregister-the-manager-only.
bool is_created_runner_token(const std::string& token);

// -c/--config, or the official default location.
Result<std::filesystem::path> lifecycle_config_path(const std::string& flag);

// Logs `message` as an error and returns the exit code 1.
int error_exit(const std::string& message);

// The runner info sent with register/verify for an entry with this executor (§1.4).
RunnerInfoPayload runner_info_for(const std::string& executor);

// The TLS files a runner entry names for its GitLab (api spec §0.5).
TlsFiles tls_of(const RunnerSettings& runner);

// The GitLab client stack: curl, the §0.3 retry layer, the lifecycle endpoints. Commands
// that talk for a configured runner use RegistrationClient(transport, tls_of(runner)).
struct ApiClient {
  SystemClock clock;
  CurlTransport curl;
  RetryingTransport transport{curl, clock};
  RegistrationClient client{transport};
};

// An existing config.toml (its logging settings applied) and this host's system_id.
struct LoadedConfig {
  std::filesystem::path path{};
  GlobalConfig config{};
  std::string system_id{};
};

// Loads the file named by -c (or the default); logs why and returns nullopt when it is
// missing or invalid: verify, unregister and reset-token never create a config.
std::optional<LoadedConfig> open_config(const std::string& flag, const GlobalOptions& global);

// Saves and logs "Updated <path>" like the official commands; 1 with a message on failure.
int save_or_fail(const LoadedConfig& loaded);

}  // namespace glr
