// Reads a `.gitlab-ci.yml` into a PipelineConfig the way GitLab does (pipeline-yaml §1 steps
// 1, 4-8, §2-§5). ci_yaml.cc is the only yaml-cpp user (STYLE C2).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/variable.h"
#include "pipeline/pipeline_config.h"
#include "pipeline/rules.h"
#include "util/result.h"

namespace glr {

// Parses `text`; `file_name` is used in messages ("<file>:<line>: <message>") and as
// PipelineConfig::file_name. Errors are kInvalidInput and name file, line and key, using
// GitLab's wording where known. Warnings (duplicate keys, null variables) go to
// PipelineConfig::warnings. `include:` is kept raw and not resolved.
Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name);

// What reading the configuration may use besides the text (pipeline-yaml §6.7, §6.8).
struct IncludeContext {
  // Where `include:local` files are read; empty: `include:` is kept raw and not resolved.
  std::filesystem::path project_dir{};
  // Variables visible to include values, include:rules and the expand_vars function (§6.7):
  // see include_variables().
  ExpressionVariables variables{};
  // Pipeline inputs for the main file's `spec:inputs` (--input NAME=VALUE, §3.7), as text: the
  // declared type says how a value is read (number, true/false, a YAML/JSON array).
  std::vector<std::pair<std::string, std::string>> inputs{};
  // The commit the working tree is at: `$[[ component.sha ]]` of the project's own components.
  std::string commit_sha{};
  // Local clones of other projects ("group/project" -> directory): include:project and their
  // components are read from them, at `ref` through git (§6.3 Local (a)).
  std::map<std::string, std::filesystem::path> project_dirs{};
};

// The same, with `include:` resolved against `context.project_dir` (pipeline-yaml §6): `local`
// files (leading `/` optional, `*` and `**` wildcards, only files git would commit) are merged in
// order, nested includes first, and the including file deep-merged on top. `include:rules`
// (`if`, `exists`, `changes` counted as true, `when: never|always`) decide whether an entry is
// included; variables in include values are expanded from `context.variables`. A file with a
// `spec:inputs` header gets its values from `include:inputs` (the main file from
// `context.inputs`) and `$[[ inputs.NAME ]]` is interpolated before the file is merged (§6.8).
// `project`, `remote`, `template` and `component` fail with an error naming the include (§6.9).
Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name,
                                      const IncludeContext& context);

// parse_pipeline with only a project directory (no variables, no inputs).
Result<PipelineConfig> parse_pipeline(std::string_view text, const std::string& file_name,
                                      const std::filesystem::path& project_dir);

// The variables §6.7 lets `include` see: the predefined CI_PROJECT_*, CI_SERVER_*,
// CI_DEFAULT_BRANCH, CI_COMMIT_REF_NAME, CI_PIPELINE_SOURCE, CI_PIPELINE_TRIGGERED and
// GITLAB_FEATURES, then every variable of `cli`: the variables file's unscoped entries and the
// command-line variables, lowest first (they count as project and pipeline variables).
ExpressionVariables include_variables(const Variables& predefined, const Variables& cli);

// Reads `file` and parses it; a missing or unreadable file is kNotFound / kIo. Messages use
// the file name as given.
Result<PipelineConfig> load_pipeline(const std::filesystem::path& file);

// Parses one YAML document (anchors and merge keys resolved) for other YAML inputs of local
// mode, such as the variables file. Errors name `file_name`, line and column.
Result<ConfigValue> parse_yaml(std::string_view text, const std::string& file_name);

// Renders a ConfigValue as YAML (used for --preview of raw values and in tests).
std::string format_yaml(const ConfigValue& value);

}  // namespace glr
