// Automatic runner-token rotation during `run` (api spec §1.6): a token with an expiry
// is reset at token_obtained_at + 75 % of its lifetime and config.toml is rewritten.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "config/runner_config.h"
#include "gitlab/registration_client.h"

namespace glr {

// Parses "2026-05-04T10:11:12Z" / "...+02:00" / fractional seconds; nullopt for the zero
// value (0001-01-01...), empty text or junk.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);
std::string format_rfc3339(std::chrono::system_clock::time_point t);

// When the runner's token is due for rotation, or nullopt when it never expires.
std::optional<std::chrono::system_clock::time_point> rotation_due(const RunnerSettings& runner);

// Resets every due token (earliest first, one at a time) and saves the file. Returns
// true when the config changed. FF_DISABLE_AUTOMATIC_TOKEN_ROTATION turns a due reset
// into a warning. Errors are logged; the old token stays in place.
bool rotate_due_tokens(GlobalConfig& config, const std::filesystem::path& path,
                       RegistrationClient& client, std::chrono::system_clock::time_point now);

}  // namespace glr
