// Reads a `.gitlab-ci.yml` into a PipelineConfig the way GitLab does (pipeline-yaml §1 steps
// 1, 4-8, §2-§5). ci_yaml.cc is the only yaml-cpp user (STYLE C2).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "pipeline/pipeline_config.h"
#include "util/result.h"

namespace glr {

// Parses `text`; `file_name` is used in messages ("<file>:<line>: <message>") and as
// PipelineConfig::file_name. Errors are kInvalidInput and name file, line and key, using
// GitLab's wording where known. Warnings (duplicate keys, null variables) go to
// PipelineConfig::warnings. `include:` is kept raw and not resolved yet.
Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name);

// Reads `file` and parses it; a missing or unreadable file is kNotFound / kIo. Messages use
// the file name as given.
Result<PipelineConfig> load_pipeline(const std::filesystem::path& file);

// Renders a ConfigValue as YAML (used for --preview of raw values and in tests).
std::string format_yaml(const ConfigValue& value);

}  // namespace glr
