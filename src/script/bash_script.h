// Turns one stage of a job into the bash script an executor runs (executors §1.2, §4.4, §7.1).
// Pure functions: no I/O; the text is executed by `bash` with the script on stdin.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/job_spec.h"
#include "model/variable.h"
#include "script/build_settings.h"
#include "util/result.h"

namespace glr {

enum class StageKind {
  kPrepareScript,
  kGetSources,
  kClearWorktree,
  kRestoreCache,
  kDownloadArtifacts,
  kUserStep,  // step_<name>: every payload step except after_script
  kAfterScript,
  kArchiveCache,
  kArchiveCacheOnFailure,
  kUploadArtifactsOnSuccess,
  kUploadArtifactsOnFailure,
  kCleanupFileVariables,
};

// The distributed cache's presigned URLs for one cache key (executors §5.6): cache-extractor gets
// `--url <get>`, cache-archiver `--url <put>` and one `--header "Name: value"` per put header.
struct RemoteCacheUrls {
  std::string get_url{};
  std::string put_url{};
  std::vector<std::string> put_headers{};
};
// Cache key -> URLs; nullopt (or no function) = this entry is cached locally only.
using RemoteCacheUrlFn = std::function<std::optional<RemoteCacheUrls>(const std::string& key)>;

// Everything a script needs besides the stage. Pointers must outlive the call.
struct ScriptContext {
  const JobSpec* job = nullptr;
  const Variables* variables = nullptr;  // the final expanded list (build_job_variables)
  const BuildSettings* settings = nullptr;
  BuildDirs dirs{};
  std::string runner_url{};  // [[runners]] url
  std::string clone_url{};   // [[runners]] clone_url
  std::string pre_get_sources_script{};
  std::string post_get_sources_script{};
  std::string pre_build_script{};
  std::string post_build_script{};
  std::string helper_command{};   // runner binary used for cache/artifact subcommands
  RemoteCacheUrlFn remote_cache{};  // [runners.cache] Type="s3": presigned URLs per key
  std::string runner_hostname{};  // prepare_script prints "via <host>" when set
  bool shared_environment = true;
  std::string shell = "bash";  // shebang interpreter: bash or sh
  bool trace_sections = true;  // payload features.trace_sections
  bool clean_git_config = false;
  bool safe_directory_checkout = false;
  std::string job_status = "running";  // CI_JOB_STATUS exported for after_script
  std::string user_agent{};            // "gitlab-runner 19.4.0 linux/amd64"
  bool ff_script_sections = false;
  // The executor runs every stage in a fresh subshell of its own (exec's ShellSession): the
  // envelope then evals the body directly instead of in one more `( ... )` subshell (§7.1),
  // with the same trap, options, stdin and exit status.
  bool stage_in_subshell = false;
  std::string correlation_id{};  // job request correlation id (FF_USE_GITALY_CORRELATION_ID)
  // [runners.artifact] upload_timeout / response_header_timeout as Go durations (§6.1).
  std::string artifact_upload_timeout = "1h0m0s";
  std::string artifact_response_header_timeout = "10m0s";
};

// "prepare_script", "get_sources", "step_script", "after_script", "archive_cache", ...
// `step_name` is used only for kUserStep ("script" -> "step_script", lower-cased).
std::string stage_name(StageKind kind, const std::string& step_name);
// The bold-cyan header text of §1.2 (without colour bytes).
std::string stage_header(StageKind kind, const std::string& step_name);

// nullopt: the stage is skipped (§1.2: nothing printed, executor not called).
// Error: generation failed (kInternal; e.g. "unknown GIT_SUBMODULE_STRATEGY"), a system failure.
Result<std::optional<std::string>> generate_stage_script(StageKind kind,
                                                         const std::string& step_name,
                                                         const ScriptContext& ctx);

// What prepare_script prints in a shell whose $HOSTNAME is `host`, and the files it removes
// (stale GITLAB_ENV and masking database of an earlier job in the same directory).
std::string prepare_script_output(const ScriptContext& ctx, std::string_view host);
std::vector<std::string> prepare_script_removed_files(const ScriptContext& ctx);

// When the get_sources script would only print (GIT_STRATEGY=none, no submodules, no git
// configuration or credentials to handle): its output, byte for byte. It also makes the
// project directory and fixes ownership when <builds_dir>/.gitlab-build-uid-gid exists; a
// caller that skips the script does those itself. nullopt: the script has real work.
std::optional<std::string> get_sources_print_only(const ScriptContext& ctx);

// Kubernetes attach strategy (executors §7.1 envelope, §7.4): `script` as generated above with
// the JSON status lines added after the TERM trap: `{"script": "$0"}` at start and an EXIT trap
// that prints an empty line, `{"command_exit_code": N, "script": "$0"}` and exits 0. The
// official writes these into the envelope when its shell is told the executor needs them.
std::string with_json_status_markers(std::string_view script);

// §3.6 bash quoting: bare when only [A-Za-z0-9,-./@_], '' when empty, else $'...'.
std::string bash_quote(std::string_view s);

}  // namespace glr
