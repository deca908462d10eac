// Internal to src/config: reads [runners.cache] from the parsed TOML tree. Include only from
// config/*.cc.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "config/cache_settings.h"
#include "util/result.h"

namespace glr::config_internal {

// Unknown keys are ignored (they stay in RunnerSettings::raw_sections); a known key of the wrong
// type is kInvalidInput "<source>:<line>: <path>.<key>: expected <type>".
Result<CacheSettings> read_cache_section(const toml::table& table, const std::string& source,
                                         const std::string& path);

}  // namespace glr::config_internal
