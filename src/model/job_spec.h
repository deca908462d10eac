// The job payload (api spec §3) as plain values: parsed once at the edge
// (gitlab/job_json.cc), immutable afterwards, owned by the job thread (STYLE C3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/secret.h"
#include "model/variable.h"

namespace glr {

struct JobInfo {
  int64_t id = 0;
  std::string name{};
  std::string stage{};
  int64_t project_id = 0;
  std::string project_name{};
  std::string project_full_path{};
  int64_t pipeline_id = 0;
  int64_t user_id = 0;
  double time_in_queue_seconds = 0;
  std::string project_jobs_running_on_instance_runners_count{};
  int64_t queue_size = 0;
  int64_t queue_depth = 0;
  friend bool operator==(const JobInfo&, const JobInfo&) = default;
};

struct GitInfo {
  std::string repo_url{};  // carries gitlab-ci-token:<job token>@; never log it unsanitised
  std::string repo_object_format{};
  std::string ref{};
  std::string sha{};
  std::string before_sha{};
  std::string ref_type{};
  std::vector<std::string> refspecs{};
  int depth = 0;
  std::optional<bool> is_protected{};
  friend bool operator==(const GitInfo&, const GitInfo&) = default;
};

struct RunnerInfo {
  int64_t timeout = 0;  // seconds; <= 0 means the default 7200
  std::string uuid{};
  friend bool operator==(const RunnerInfo&, const RunnerInfo&) = default;
};

enum class StepWhen { kOnSuccess, kOnFailure, kAlways };

struct Step {
  std::string name{};  // "script", "after_script", "release", ...
  std::vector<std::string> script{};
  int64_t timeout = 0;
  StepWhen when = StepWhen::kOnSuccess;
  bool allow_failure = false;
  friend bool operator==(const Step&, const Step&) = default;
};

struct Hook {
  std::string name{};  // pre_get_sources_script | post_get_sources_script
  std::vector<std::string> script{};
  friend bool operator==(const Hook&, const Hook&) = default;
};

struct ImagePort {
  int number = 0;
  std::string protocol{};
  std::string name{};
  friend bool operator==(const ImagePort&, const ImagePort&) = default;
};

struct Image {
  std::string name{};
  std::string alias{};
  std::vector<std::string> entrypoint{};
  std::vector<std::string> command{};
  std::vector<ImagePort> ports{};
  Variables variables{};
  std::vector<std::string> pull_policy{};
  std::string docker_platform{};
  std::string docker_user{};
  std::string kubernetes_user{};
  friend bool operator==(const Image&, const Image&) = default;
};

struct ArtifactSpec {
  std::string name{};
  bool untracked = false;
  std::vector<std::string> paths{};
  std::vector<std::string> exclude{};
  std::string when{};  // on_success (default), on_failure, always
  std::string expire_in{};
  std::string artifact_type{};
  std::string artifact_format{};
  friend bool operator==(const ArtifactSpec&, const ArtifactSpec&) = default;
};

struct CacheSpec {
  std::string key{};
  bool untracked = false;
  std::string policy{};  // pull, push, pull-push (empty = pull-push)
  std::vector<std::string> paths{};
  std::string when{};
  std::vector<std::string> fallback_keys{};
  friend bool operator==(const CacheSpec&, const CacheSpec&) = default;
};

struct Credential {
  std::string type{};
  std::string url{};
  std::string username{};
  Secret password{};
  friend bool operator==(const Credential&, const Credential&) = default;
};

struct Dependency {
  int64_t id = 0;
  std::string name{};
  Secret token{};
  std::string artifacts_filename{};  // empty: nothing to download
  int64_t artifacts_size = 0;
  friend bool operator==(const Dependency&, const Dependency&) = default;
};

struct JobFeatures {
  bool trace_sections = false;
  std::vector<std::string> failure_reasons{};
  std::vector<std::string> token_mask_prefixes{};
  friend bool operator==(const JobFeatures&, const JobFeatures&) = default;
};

struct JobSpec {
  int64_t id = 0;
  Secret token{};
  bool allow_git_fetch = false;
  JobInfo job_info{};
  GitInfo git_info{};
  RunnerInfo runner_info{};
  Variables variables{};
  std::vector<Step> steps{};
  std::vector<Hook> hooks{};
  std::optional<Image> image{};
  std::vector<Image> services{};
  std::vector<ArtifactSpec> artifacts{};
  std::vector<CacheSpec> caches{};
  std::vector<Credential> credentials{};
  std::vector<Dependency> dependencies{};
  JobFeatures features{};
  bool has_secrets = false;  // payload carried `secrets` (EE); we cannot resolve them yet
  bool has_run_steps = false;  // payload carried `run` (native steps)
  friend bool operator==(const JobSpec&, const JobSpec&) = default;
};

}  // namespace glr
