// `rules:` and `only`/`except` evaluation at pipeline creation (pipeline-yaml §8.1-§8.7):
// GitLab's `if` expression language with Ruby semantics, `exists` against the working tree,
// `changes` against the local change set, and the effect of the matching rule on the job
// (kept, dropped, when, allow_failure, needs, ...).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/variable.h"
#include "pipeline/changed_files.h"
#include "pipeline/pipeline_config.h"
#include "util/result.h"

namespace glr {

// Variables visible to an expression (§7.4), by name, raw values (no expansion).
using ExpressionVariables = std::map<std::string, std::string>;

// Evaluates a `rules:if` expression (§8.2). Errors (kInvalidInput) are syntax errors:
// "Unknown lexeme found!", "Too many tokens!", "Invalid regular expression!", parse errors.
Result<bool> evaluate_expression(std::string_view expression, const ExpressionVariables& vars);

// GitLab's RubySyntax regexp: "/pattern/flags" (flags from i, m, s, U) -> the RE2 pattern with
// an inline flag prefix. nullopt when `text` does not have that shape (a plain string); an
// error (kInvalidInput, "Invalid regular expression!") when it has but RE2 rejects it.
Result<std::optional<std::string>> ruby_regexp(std::string_view text);

// ExpandVariables.expand_existing: `$NAME` and `${NAME}` of defined variables are replaced by
// their raw values; references to undefined variables are kept as written.
std::string expand_existing(std::string_view text, const ExpressionVariables& vars);

// True if any pattern (Ruby fnmatch with PATHNAME|DOTMATCH|EXTGLOB-like `**/` and `{a,b}`)
// matches a file under `project_dir` (not directories; .git is ignored).
bool any_file_exists(const std::filesystem::path& project_dir,
                     const std::vector<std::string>& patterns);

// Ruby File.fnmatch?(pattern, path, FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB), used by exists
// and changes: `*`/`?`/`[...]` stay within a path segment, `**/` at the start of a segment
// matches zero or more directories, `{a,b}` alternatives (nested too), `[!...]`/`[^...]`
// negated classes, `\x` a literal x, dotfiles matched by wildcards.
bool glob_match(std::string_view pattern, std::string_view path);

// What the pipeline is, for only/except refs and for whether `changes` has a diff (§8.3, §8.7):
// read from CI_PIPELINE_SOURCE (default push), CI_COMMIT_TAG, CI_COMMIT_REF_NAME and
// CI_PROJECT_PATH of the pipeline variables (command line last).
struct PipelineKind {
  std::string source = "push";
  bool tag = false;
  std::string ref{};
  std::string project_path{};
  friend bool operator==(const PipelineKind&, const PipelineKind&) = default;
};
PipelineKind pipeline_kind(const ExpressionVariables& pipeline_vars);

// A `changes:` clause (§8.3): a list of globs or {paths, compare_to}; globs and compare_to may
// use variables. True if any changed file matches any glob; always true when `changes` is null
// (absent), `files` is nullptr or not evaluated, the pipeline has no push diff (tag, or a
// source other than push and merge requests) and there is no compare_to, or no base resolves.
// Error (kInvalidInput) when compare_to does not resolve: "compare_to is not a valid ref".
Result<bool> changes_satisfied(const ConfigValue& changes, const ExpressionVariables& vars,
                               const PipelineKind& kind, ChangedFiles* files);

// `only`/`except` of a job without `rules` (§8.7): added iff every present `only` key holds
// (refs: any pattern, variables: any expression, changes: any match, kubernetes: never locally)
// and no present `except` key holds. A job without only/except behaves as
// `only: [branches, tags]` unless the pipeline has workflow:rules; an `only` without refs has
// refs [branches, tags] (GitLab's Entry::Policy default). Errors come from changes_satisfied.
Result<bool> only_except_included(const JobConfig& job, bool workflow_has_rules,
                                  const ExpressionVariables& vars, const PipelineKind& kind,
                                  ChangedFiles* files);

// Applies every job's `rules` (§1 step 11): jobs whose rules do not match (or match with
// `when: never`) are removed, others take the rule's when, allow_failure, start_in, needs,
// variables and interruptible. `pipeline_variables` are the predefined and command-line
// variables (lowest first). Jobs without rules go through only_except_included. `changes`
// reads `changes` (nullptr: every `changes` is true). A non-optional need on a removed job is
// an error, as in GitLab. `removed` (optional) receives the names of removed jobs.
Result<PipelineConfig> apply_rules(const PipelineConfig& pipeline,
                                   const Variables& pipeline_variables,
                                   const Variables& cli_variables,
                                   const std::filesystem::path& project_dir,
                                   std::vector<std::string>* removed = nullptr,
                                   ChangedFiles* changes = nullptr);

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
// `changes` as for apply_rules.
Result<WorkflowDecision> evaluate_workflow(const PipelineConfig& pipeline,
                                           const Variables& pipeline_variables,
                                           const Variables& cli_variables,
                                           const std::filesystem::path& project_dir,
                                           ChangedFiles* changes = nullptr);

}  // namespace glr
