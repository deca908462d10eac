// Internal to src/config: reads [runners.kubernetes] from the parsed TOML tree, so its errors
// carry the file's line numbers like every other config error. Include only from config/*.cc.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "config/kubernetes_settings.h"
#include "util/result.h"

namespace glr::config_internal {

// `source` names the file, `path` the table ("runners[0].kubernetes"). Unknown keys are
// ignored (they stay in RunnerSettings::raw_sections); wrong types and values are
// kInvalidInput "<source>:<line>: <path>.<key>: <what is wrong>".
Result<KubernetesSettings> read_kubernetes_section(const toml::table& table,
                                                   const std::string& source,
                                                   const std::string& path);

}  // namespace glr::config_internal
