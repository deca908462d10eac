// The job pod and its credentials secret as the official Kubernetes executor builds them
// (executors §7.4 "Pod"): a pure function of the config and the job, so it is tested by
// comparing JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/kubernetes_settings.h"
#include "model/job_spec.h"
#include "model/variable.h"
#include "util/result.h"

namespace glr::kube {

// Labels every object of a job carries (the official ones); a runner's leftovers are found by
// "<kManagerIdLabel>=<short token>,<kJobPodLabel>".
inline constexpr const char* kManagerIdLabel = "manager.runner.gitlab.com/id-short";
inline constexpr const char* kJobPodLabel = "job.runner.gitlab.com/pod";

struct PodInput {
  KubernetesSettings config{};
  JobSpec job{};
  Variables variables{};  // the job's final variable list
  std::string runner_name{};
  std::string short_token{};     // of the runner token (builds dirs, labels)
  int concurrent_project_id = 0;
  std::string builds_dir{};      // where the `repo` volume is mounted
  std::string helper_image{};    // resolved (config helper_image or the default)
  std::string random_suffix{};   // 8 characters [a-z0-9]
  std::string shell_command{};   // the detect script, run as `sh -c` in build/helper
  // Attach strategy (the default; not FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY): `scripts`
  // and `logs` emptyDirs in every container and the `init-permissions` init container.
  bool attach = false;
};

struct PodPlan {
  std::string ns{};
  std::string name{};
  nlohmann::json pod{};
  std::optional<nlohmann::json> secret{};  // kubernetes.io/dockercfg for private registries
  std::vector<std::string> messages{};      // "Using Kubernetes namespace: ci", overwrites
};

// Attach strategy directories (executors §7.4): /scripts-<project id>-<job id> and
// /logs-<project id>-<job id>; the stage output is appended to <logs dir>/output.log.
std::string scripts_dir(const JobSpec& job);
std::string logs_dir(const JobSpec& job);
std::string log_file(const JobSpec& job);

// kInvalidInput for refused overwrites (KUBERNETES_* variables outside what the config
// allows) and for a job without any image.
Result<PodPlan> build_pod(const PodInput& in);

// The bash detect script (executors §7.1) used as the containers' `sh -c` command.
std::string detect_shell_script();

// Kubernetes label value rules: [A-Za-z0-9-_.], at most 63, alphanumeric at both ends.
std::string sanitize_label(std::string_view value);

// Kubernetes quantity ("500m", "1Gi", "2") as a number; nullopt when malformed.
std::optional<double> parse_quantity(std::string_view q);

// The hostnames a service is reachable by: its aliases, then names derived from the image
// ("tutum/wordpress:1" -> "tutum-wordpress", "tutum__wordpress"), DNS-1123-valid only.
std::vector<std::string> service_hostnames(const Image& service);

}  // namespace glr::kube
