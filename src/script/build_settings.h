// Job-controlled settings read from the variable list (GIT_*, *_ATTEMPTS, RUNNER_*_TIMEOUT,
// CI_DEBUG_TRACE...) and the build directories (executors §1.4, §1.5, §2.7, §4.1, §4.2).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/variable.h"
#include "util/result.h"

namespace glr {

enum class GitStrategy { kClone, kFetch, kNone, kEmpty };
enum class SubmoduleStrategy { kNone, kNormal, kRecursive, kInvalid };

struct BuildSettings {
  GitStrategy git_strategy = GitStrategy::kClone;
  bool git_checkout = true;                                       // forced false for none/empty
  std::vector<std::string> git_clean_flags{"-ffdx"};              // empty = no `git clean`
  std::vector<std::string> git_fetch_extra_flags{"--prune", "--quiet"};
  std::vector<std::string> git_clone_extra_flags{};
  SubmoduleStrategy submodule_strategy = SubmoduleStrategy::kNone;  // forced none for none/empty
  std::vector<std::string> git_submodule_paths{};
  int git_submodule_depth = 0;  // GIT_SUBMODULE_DEPTH, default git_info.depth
  std::vector<std::string> git_submodule_update_flags{};
  bool git_submodule_force_https = false;
  bool git_lfs_skip_smudge = false;
  int get_sources_attempts = 1;
  int restore_cache_attempts = 1;
  int artifact_download_attempts = 1;
  int executor_job_section_attempts = 1;
  int secrets_retrieval_attempts = 1;
  std::optional<std::chrono::seconds> script_timeout{};        // nullopt: job timeout
  std::optional<std::chrono::seconds> after_script_timeout{};  // nullopt: 5 min default
  bool after_script_ignore_errors = true;
  bool debug_trace = false;
  bool debug_services = false;
  int cache_request_timeout_minutes = 10;
  // Settings warnings (§2.7) without the "WARNING: " prefix, in the official order. The
  // official job log prints these, then ResolvedFlags::warnings, joined by "\n" in one warning.
  std::vector<std::string> warnings{};
  // RUNNER_SCRIPT_TIMEOUT / RUNNER_AFTER_SCRIPT_TIMEOUT problems (§1.5). The official runner
  // logs each as its own warning line when the user steps start, not in the §2.7 block.
  std::vector<std::string> timeout_warnings{};
  friend bool operator==(const BuildSettings&, const BuildSettings&) = default;
};

// Pure: reads the (expanded) list; never fails, bad values give defaults plus a warning.
// `git_depth` is payload git_info.depth, the default of GIT_SUBMODULE_DEPTH.
BuildSettings parse_build_settings(const Variables& vars, bool allow_git_fetch,
                                   bool debug_trace_disabled, std::chrono::seconds job_timeout,
                                   int git_depth = 0);

struct BuildDirsInput {
  std::string builds_root{};  // [[runners]] builds_dir or executor default
  std::string cache_root{};   // [[runners]] cache_dir or executor default
  bool shared = true;         // shared builds dir: <root>/<short token>/<concurrent project id>/...
  std::string short_token{};
  int concurrent_project_id = 0;
  std::string repo_url{};
  int64_t project_id = 0;
  GitStrategy git_strategy = GitStrategy::kClone;
  std::string git_clone_path{};  // GIT_CLONE_PATH; empty = unset
  bool custom_build_dir_enabled = false;
  // Used to expand $VARS in git_clone_path; CI_BUILDS_DIR is always available (= builds_root).
  Variables variables{};
};

struct BuildDirs {
  std::string builds_dir{};
  std::string project_dir{};
  std::string tmp_dir{};    // project_dir + ".tmp"
  std::string cache_dir{};  // <cache_root>/<namespace>/<project>[-empty]
  friend bool operator==(const BuildDirs&, const BuildDirs&) = default;
};

// §4.1. Errors (kInvalidInput, configuration errors):
//   setting GIT_CLONE_PATH is not allowed, enable `custom_build_dir` feature
//   the GIT_CLONE_PATH="<p>" has to be within "<root>"
Result<BuildDirs> compute_build_dirs(const BuildDirsInput& input);

}  // namespace glr
