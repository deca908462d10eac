// `rules:` evaluation at pipeline creation (pipeline-yaml §8.1-§8.4): GitLab's `if`
// expression language with Ruby semantics, `exists` against the working tree, and the
// effect of the matching rule on the job (kept, dropped, when, allow_failure, needs, ...).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/variable.h"
#include "pipeline/pipeline_config.h"
#include "util/result.h"

namespace glr {

// Variables visible to an expression (§7.4), by name, raw values (no expansion).
using ExpressionVariables = std::map<std::string, std::string>;

// Evaluates a `rules:if` expression (§8.2). Errors (kInvalidInput) are syntax errors:
// "Unknown lexeme found!", "Too many tokens!", "Invalid regular expression!", parse errors.
Result<bool> evaluate_expression(std::string_view expression, const ExpressionVariables& vars);

// True if any pattern (Ruby fnmatch with PATHNAME|DOTMATCH|EXTGLOB-like `**/` and `{a,b}`)
// matches a file under `project_dir` (not directories; .git is ignored).
bool any_file_exists(const std::filesystem::path& project_dir,
                     const std::vector<std::string>& patterns);

// Glob matching used by exists: `*`/`?` stay within a path segment, `**/` matches zero or more
// directories, `{a,b}` alternatives, `[...]` classes, dotfiles matched by wildcards.
bool glob_match(std::string_view pattern, std::string_view path);

// Applies every job's `rules` (§1 step 11): jobs whose rules do not match (or match with
// `when: never`) are removed, others take the rule's when, allow_failure, start_in, needs,
// variables and interruptible. `pipeline_variables` are the predefined and command-line
// variables (lowest first). `changes` counts as true (no push diff locally, like GitLab for a
// new branch). A non-optional need on a removed job is an error, as in GitLab.
// `removed` (optional) receives the names of removed jobs.
Result<PipelineConfig> apply_rules(const PipelineConfig& pipeline,
                                   const Variables& pipeline_variables,
                                   const Variables& cli_variables,
                                   const std::filesystem::path& project_dir,
                                   std::vector<std::string>* removed = nullptr);

// `workflow:` (§8.6): whether a pipeline is created, and the matching rule's variables (which
// override top-level variables) and `workflow:name`.
struct WorkflowDecision {
  bool run = true;
  std::vector<VariableDef> variables{};
  std::string name{};
  friend bool operator==(const WorkflowDecision&, const WorkflowDecision&) = default;
};

// Evaluates workflow:rules with the pipeline-level variables (predefined, top-level, command
// line). No workflow:rules: run. No matching rule or `when: never`: do not run. Errors are
// kInvalidInput ("<file>:<line>: workflow:rules:rule if invalid expression syntax ...").
Result<WorkflowDecision> evaluate_workflow(const PipelineConfig& pipeline,
                                           const Variables& pipeline_variables,
                                           const Variables& cli_variables,
                                           const std::filesystem::path& project_dir);

}  // namespace glr
