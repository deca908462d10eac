// Go time.Duration strings ("90s", "1h30m", "1.5h") as used in config.toml and job variables.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace glr {

using Nanoseconds = std::chrono::nanoseconds;

// Parses Go's time.ParseDuration syntax; nullopt on a malformed value. "0" is valid.
std::optional<Nanoseconds> parse_go_duration(std::string_view text);
// Formats like Go's Duration.String(): "1h0m0s", "15m0s", "1.5s", "0s".
std::string format_go_duration(Nanoseconds d);

}  // namespace glr
