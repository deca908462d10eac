// The project variables file of `glrunner exec` (gitlab-ci-local's
// `.gitlab-ci-local-variables.yml`): the local stand-in for project CI/CD variables, with
// environment scopes (pipeline-yaml §7.1 #4, §7.7).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/variable.h"
#include "util/result.h"

namespace glr {

struct ProjectVariable {
  std::string name{};
  // Scope pattern -> value, file order. A plain `NAME: value` entry is the single scope "*".
  std::vector<std::pair<std::string, std::string>> values{};
  bool is_file = false;  // type: file
  bool masked = false;   // masked: true — shown as [MASKED] in the job log, as GitLab's
  int line = 0;
  friend bool operator==(const ProjectVariable&, const ProjectVariable&) = default;
};

// Parses the file: a YAML map of `NAME: value` or `NAME: {type: variable|file, masked: bool,
// values: {"<environment scope>": value}}`. Masked values need 8 characters or more, as
// GitLab requires of masked variables. Values are strings, numbers or booleans. Errors
// (kInvalidInput) read "<file>:<line>: <NAME>: <what is wrong>".
Result<std::vector<ProjectVariable>> parse_variables_file(std::string_view text,
                                                          const std::string& file_name);

// Whether environment scope `pattern` matches environment `environment` (`*` matches any run
// of characters, GitLab's wildcard scopes).
bool environment_scope_matches(std::string_view pattern, std::string_view environment);

// The value `var` has for a job in `environment` (empty: the job has no environment), §7.7:
// an exact scope beats a wildcard one, a longer pattern a shorter one, "*" comes last; a job
// without environment sees only "*". nullopt when no scope matches.
std::optional<std::string> value_for_environment(const ProjectVariable& var,
                                                 std::string_view environment);

// The variables `vars` give a job in `environment`, file order.
Variables project_variables_for(const std::vector<ProjectVariable>& vars,
                                std::string_view environment);

}  // namespace glr
