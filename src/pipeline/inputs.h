// CI/CD inputs (pipeline-yaml §6.8): the `spec:inputs` header of a file, the values given for it
// (include:inputs, or --input for the main file), and `$[[ inputs.NAME | fn ]]` interpolation in
// the file's body. Works on ConfigValue trees only; reading YAML stays in ci_yaml.cc.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/pipeline_config.h"
#include "pipeline/rules.h"
#include "util/result.h"

namespace glr {

enum class InputType { kString, kNumber, kBoolean, kArray };

// One `spec:inputs:<name>` entry.
// One entry of `spec:inputs:<name>:rules`: options and default that apply when `if` (the
// expression grammar of rules:if over `$[[ inputs.x ]]` values) holds, or always without `if`.
struct InputRule {
  std::optional<std::string> if_expression{};
  std::optional<std::vector<ConfigValue>> options{};
  std::optional<ConfigValue> default_value{};
  int line = 0;
};

struct InputSpec {
  std::string name{};
  InputType type = InputType::kString;
  std::optional<ConfigValue> default_value{};  // none: the input is required
  std::optional<std::vector<ConfigValue>> options{};
  std::optional<std::string> regex{};
  std::vector<InputRule> rules{};  // the first that matches sets options and default
  int line = 0;
};

// `spec:include` (pipeline-yaml §6.8): the file an entry names, as its name and parsed root
// (a mapping with `inputs:`), or an error saying why it cannot be read.
struct SpecIncludeFile {
  std::string name{};
  ConfigValue root{};
};
using SpecIncludeLoader = std::function<Result<SpecIncludeFile>(const ConfigValue& entry)>;
// Reads the header document (`spec: {inputs: ..., include: ...}`). Errors use GitLab's entry
// wording ("header:spec:inputs:x input type unknown value: y") prefixed by "<file>:<line>: ".
// Without a loader, `spec:include` is an error.
Result<std::vector<InputSpec>> read_input_specs(const ConfigValue& header, const std::string& file,
                                                const SpecIncludeLoader& load_include = {});

// Validated input values by name (defaults filled in).
using InputValues = std::map<std::string, ConfigValue>;

// Checks the given values against the specs the way GitLab's Inputs class does (unknown
// arguments, required, type, options, regex) and returns every input's value. On failure the
// message is `where` + ": " + up to three of GitLab's messages joined by ", " (e.g.
// "`env` input: required value has not been provided").
Result<InputValues> resolve_inputs(const std::vector<InputSpec>& specs,
                                   const std::vector<std::pair<std::string, ConfigValue>>& given,
                                   const std::string& where);

// Replaces every `$[[ ... ]]` block in the keys and string values of `body` (GitLab's
// Interpolation::Template): a value that is exactly one block takes the input's type, a block
// inside a longer string becomes text. Functions: expand_vars (with `variables`), truncate(o,l),
// posix_escape; at most three. `matrix.*` blocks are left alone; `component.*` blocks read
// `component` (a component's name, version, reference; §6.6) when given. Errors are
// "<file>:<line>: unknown interpolation key: `x`" and the like.
Result<void> interpolate_inputs(ConfigValue& body, const InputValues& values,
                                const ExpressionVariables& variables, const std::string& file,
                                const InputValues* component = nullptr);

// Lines of the values and keys of `body` that hold an `$[[ inputs.` block (to warn about a file
// without a spec header, where GitLab leaves such blocks as they are).
std::vector<int> interpolation_lines(const ConfigValue& body);

// GitLab's ExpandVariables on `$VAR`, `${VAR}` and `%VAR%`: unknown variables become empty, or
// are kept as written with `keep_unknown` (expand_existing). No nested expansion.
std::string expand_include_variables(std::string_view text, const ExpressionVariables& variables,
                                     bool keep_unknown);

// Ruby Shellwords.shellescape.
std::string posix_escape(std::string_view text);

// The input type a YAML value has for GitLab (its Ruby class after Psych): a plain `true`/`false`
// is a boolean, a plain number a number, a sequence an array, any other scalar a string; null
// and mappings are none of them (nullopt).
std::optional<InputType> input_type_of(const ConfigValue& value);

}  // namespace glr
