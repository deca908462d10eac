// The runner manager's system_id (api spec §1.8): one stable ID per host, kept in
// `.runner_system_id` beside config.toml and sent with every job request.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace glr {

// Where the OS machine ID is looked for, in order (Linux; the first non-empty file wins).
struct MachineIdSources {
  std::vector<std::filesystem::path> files{"/var/lib/dbus/machine-id", "/etc/machine-id"};
};

struct SystemId {
  std::string id{};        // s_xxxxxxxxxxxx or r_xxxxxxxxxxxx
  bool generated = false;  // false when an existing valid file was reused
  std::string warning{};   // non-empty when the generated ID could not be saved
};

// The path of the ID file for a config file: <dir of config_path>/.runner_system_id.
std::filesystem::path system_id_path(const std::filesystem::path& config_path);

// True for ^[sr]_[0-9a-zA-Z]{12}$ (callers trim first).
bool is_valid_system_id(std::string_view id);

// "s_" + the first 12 hex digits of HMAC-SHA256(key = machine_id, message "gitlab-runner").
std::string system_id_from_machine_id(std::string_view machine_id);

// Reads the ID file (trimmed) if valid; otherwise generates an ID (machine ID based, else
// "r_" + 12 random alphanumerics) and writes it with mode 0600. A failed write is reported
// in SystemId::warning, not as an error. Errors only when no randomness is available.
Result<SystemId> resolve_system_id(const std::filesystem::path& config_path,
                                   const MachineIdSources& sources = {});

// resolve_system_id() that logs the write warning to the runner log and returns the ID.
Result<std::string> load_or_create_system_id(const std::filesystem::path& config_path,
                                             const MachineIdSources& sources = {});

}  // namespace glr
