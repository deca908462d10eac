// Builds the JobSpec GitLab would send for one pipeline job, so local jobs run through the same
// job engine as real ones (pipeline-yaml §7.1 precedence, §7.5 predefined variables).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "model/job_spec.h"
#include "pipeline/pipeline_config.h"
#include "pipeline/variables_file.h"
#include "util/result.h"

namespace glr {

// What the local git repository says about the commit being run. Values are empty when
// unknown; `note` says why (not a git repository, git missing).
struct GitFacts {
  bool is_repo = false;
  std::string sha{};
  std::string ref{};  // branch name, or the tag when HEAD is detached at a tag
  bool is_tag = false;
  std::string message{};
  std::string timestamp{};  // ISO 8601
  std::string author{};     // "Name <email>"
  std::string default_branch{};
  std::string remote_url{};
  std::string user_name{};
  std::string user_email{};
  std::string note{};
  friend bool operator==(const GitFacts&, const GitFacts&) = default;
};

// `$NAME` and `${NAME}` in `text` replaced by the last value of NAME in `vars` (unknown: empty),
// one level deep, as GitLab expands values it computes itself (environment names, variables a
// trigger job passes down).
std::string expand_simple(std::string_view text, const Variables& vars);

// Output of `git -C dir <args>` (git started directly, with the runner's environment),
// trailing newlines removed; nullopt when git fails or is missing.
std::optional<std::string> run_git(const std::filesystem::path& dir, std::vector<std::string> args);

// Runs `git` in `dir` (popen). Never fails: a directory that is not a repository, or a missing
// git, gives is_repo=false and a note.
GitFacts read_git_facts(const std::filesystem::path& dir);

// Pipeline-level predefined variables of §7.5 from `git` (pure). Missing facts get sensible
// defaults (40 zeros, branch "main", "local/<dir>"), and the values say so where it helps.
Variables predefined_variables(const GitFacts& git, const std::filesystem::path& project_dir,
                               const std::string& config_path);

// GitLab's slug (Gitlab::Utils.slugify): lowercase, [^a-z0-9] -> '-', max 63, trim '-'.
std::string slugify(std::string_view text);

// GitLab's humanized durations (ChronicDuration): "1h 30m", "30 minutes", "3600" (seconds),
// "1 hour", "2 days and 3 hours". nullopt when malformed.
std::optional<std::chrono::seconds> parse_human_duration(std::string_view text);

struct LocalJobInputs {
  int64_t id = 0;  // sequential from 1
  std::filesystem::path project_dir{};
  Variables predefined{};     // from predefined_variables()
  Variables cli_variables{};  // --variable KEY=VALUE, highest precedence
  // The variables file (§7.1 #4, §7.7): below cli_variables, above the YAML variables.
  std::vector<ProjectVariable> project_variables{};
  friend bool operator==(const LocalJobInputs&, const LocalJobInputs&) = default;
};

// The JobSpec for `job`: steps script (before_script + script) and after_script (omitted when
// empty), variables lowest to highest (predefined, inherited top-level, job, project
// variables file values for the job's environment (its expanded name), command line, then
// GIT_STRATEGY=none because the working tree is the project), image, timeout
// (default 1 hour). Fails (kInvalidInput) on a malformed `timeout`.
Result<JobSpec> build_local_job_spec(const PipelineConfig& pipeline, const JobConfig& job,
                                     const LocalJobInputs& inputs);

}  // namespace glr
