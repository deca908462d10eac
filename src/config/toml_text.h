// Internal to src/config: the TOML text conventions shared by the loader, the writer and the
// template merge, so a section kept as text re-serialises to exactly the same bytes. Include
// only from config/*.cc (it pulls in toml++, which must stay out of our public headers).
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

namespace glr::config_internal {

// A table's body as TOML with keys relative to the table (the convention of
// RunnerSettings::raw_sections). The table itself is written as a section even when it was
// inline in the file; nested inline tables stay inline.
std::string table_text(const toml::table& table);

// One value as a TOML literal: basic "..." strings (never '...' or multi-line), integers in
// the base they were written in, datetimes as RFC 3339, inline arrays and inline tables.
// REQUIRES: `value` is not a non-inline table (those are sections, see table_text).
std::string value_text(const toml::node& value);

// A TOML key, bare when it only holds A-Z a-z 0-9 _ -, else a quoted string.
std::string key_text(std::string_view key);

}  // namespace glr::config_internal
