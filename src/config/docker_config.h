// [runners.docker] as typed values (executors spec §7.3, api spec §8.4), parsed from
// the raw section text RunnerSettings keeps for the section's owner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace glr {

struct DockerServiceConfig {
  std::string name{};
  std::string alias{};
  std::vector<std::string> entrypoint{};
  std::vector<std::string> command{};
  std::vector<std::string> environment{};  // "KEY=VALUE"
  friend bool operator==(const DockerServiceConfig&, const DockerServiceConfig&) = default;
};

struct DockerSettings {
  std::string host{};
  bool tls_verify = false;
  std::string tls_cert_path{};
  std::string image{};
  std::vector<std::string> pull_policy{};          // empty: ["always"]
  std::vector<std::string> allowed_pull_policies{};
  std::vector<std::string> allowed_images{};
  std::vector<std::string> allowed_services{};
  bool privileged = false;
  std::optional<bool> services_privileged{};
  std::string user{};
  std::vector<std::string> volumes{};
  std::string cache_dir{};
  bool disable_cache = false;
  bool volume_keep = false;
  std::string network_mode{};
  std::vector<std::string> extra_hosts{};
  std::vector<std::string> dns{};
  std::vector<std::string> dns_search{};
  std::string hostname{};
  int wait_for_services_timeout = 30;
  int services_limit = -1;
  std::vector<DockerServiceConfig> services{};
  int64_t memory = 0;       // bytes
  int64_t memory_swap = 0;
  int64_t memory_reservation = 0;
  int64_t nano_cpus = 0;    // cpus * 1e9
  int64_t cpu_shares = 0;
  std::string cpuset_cpus{};
  int64_t shm_size = 0;
  std::map<std::string, std::string> tmpfs{};
  std::map<std::string, std::string> services_tmpfs{};
  std::vector<std::string> devices{};
  std::vector<std::string> cap_add{};
  std::vector<std::string> cap_drop{};
  std::vector<std::string> security_opt{};
  std::map<std::string, std::string> container_labels{};
  std::map<std::string, std::string> sysctls{};
  bool disable_entrypoint_overwrite = false;
  std::string runtime{};
  std::string userns_mode{};
  std::string pid_mode{};
  friend bool operator==(const DockerSettings&, const DockerSettings&) = default;
};

// Errors name the key: `[runners.docker] memory: invalid size "12qq"`.
Result<DockerSettings> parse_docker_settings(const std::string& section_text);

// Docker's size strings: "512m", "1g", "1024", "2.5gb" -> bytes (binary units).
Result<int64_t> parse_docker_size(const std::string& text);

}  // namespace glr
