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
// PipelineConfig::warnings. `include:` is kept raw and not resolved.
Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name);

// The same, resolving `include:` against `project_dir` (pipeline-yaml §6): `local` files
// (leading `/` optional, `*` and `**` wildcards, only files git would commit) are merged in
// order, nested includes first, and the including file deep-merged on top; `project`,
// `remote`, `template` and `component` fail with an error naming the include, as do
// include:rules, include:inputs and spec:inputs (not supported yet).
Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name,
                                      const std::filesystem::path& project_dir);

// Reads `file` and parses it; a missing or unreadable file is kNotFound / kIo. Messages use
// the file name as given.
Result<PipelineConfig> load_pipeline(const std::filesystem::path& file);

// Parses one YAML document (anchors and merge keys resolved) for other YAML inputs of local
// mode, such as the variables file. Errors name `file_name`, line and column.
Result<ConfigValue> parse_yaml(std::string_view text, const std::string& file_name);

// Renders a ConfigValue as YAML (used for --preview of raw values and in tests).
std::string format_yaml(const ConfigValue& value);

}  // namespace glr
