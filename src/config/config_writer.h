// Writes config.toml the way the official runner does (api spec §1.7, §1.6, §8, §10.2), for
// `register`, `unregister`, token rotation and friends. Sections we do not model are
// re-emitted from their kept text, so a load -> save round trip loses nothing.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "config/runner_config.h"
#include "util/result.h"

namespace glr {

// The file text. Shape of the Go TOML encoder (§1.7): global keys (concurrent,
// check_interval, connection_max_age as a Go duration, shutdown_timeout always; the others
// only when set), then the kept global sections ([session_server], [machine], ...), then one
// [[runners]] per runner with name, url, id, token, token_obtained_at, token_expires_at
// (TOML datetimes; an empty one is written as the zero time 0001-01-01T00:00:00Z) and
// executor always, every other key only when it differs from its zero value, then the
// runner's sub-sections in `sections` order ([runners.cache], [runners.cache.s3], ...).
//
// labels, feature_flags and custom_build_dir.enabled are written from the parsed fields
// (other keys of those tables from the kept text), so a caller edits the fields only.
// Unknown keys survive through unknown_values. url and token are written as held, i.e.
// already $VAR-expanded, as the official runner does.
//
// Round trip: parse_config(render_config(c)) == c for every c that parse_config returned,
// except that an empty token_obtained_at/token_expires_at comes back as
// "0001-01-01T00:00:00Z" (same meaning: is_zero_timestamp). A second write is byte-identical.
// Integers written in hex/octal/binary come back in decimal (toml++ drops the base when the
// loader copies a table); the value is the same.
//
// A raw_sections text that is not valid TOML is a caller bug: render_config then writes that
// section's text as TOML comments (nothing is silently dropped) and try_render_config fails.
std::string render_config(const GlobalConfig& config);
Result<std::string> try_render_config(const GlobalConfig& config);

// Saves `config` to `path` without ever leaving a half-written or missing file:
//  - missing directories are created with mode 0700 (existing ones are left alone);
//  - the text is written to a temporary file (mode 0600) in the target's directory, fsynced,
//    renamed over the target, and the directory is fsynced;
//  - a symlinked target is followed, so the link itself is kept;
//  - on any failure the temporary file is removed, the old file is left untouched, and the
//    error (kIo; kInvalidInput when the config cannot be rendered or would not load back)
//    names the path.
// The rendered text is parsed back before anything is written, so a file the runner could
// not load is never saved.
Result<> save_config_atomic(const std::filesystem::path& path, const GlobalConfig& config);

// The file-replacement half of save_config_atomic, for other small state files.
Result<> write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace glr
