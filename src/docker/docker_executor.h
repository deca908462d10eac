// The docker executor (executors spec §7.3) without a helper image: user stages run
// in the job image's build container; predefined stages (sources, caches, artifacts)
// run on the runner host like the shell executor, in a staging copy of the build
// directory that moves into and out of the container through the Engine's archive
// API, so a remote (tcp) daemon works too. See docs/docker.md.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/docker_config.h"
#include "docker/docker_client.h"
#include "executor/executor.h"
#include "executor/shell_executor.h"

namespace glr {

struct DockerExecutorOptions {
  DockerSettings docker{};
  DockerEndpoint endpoint{};
  std::string runner_token{};  // full token: short token and persistent volume names
  std::string system_id{};
  std::string runner_id{};     // GitLab's runner id when known (label), else empty
  bool network_per_build = false;  // FF_NETWORK_PER_BUILD from the config
  // Runner working directory: staging copies of build dirs and the host cache root.
  std::filesystem::path working_dir{};
  std::vector<std::string> base_env{};  // the runner environment for host stages
  // `exec`: the project dir is the user's working tree; host stages use it in place
  // and container changes are not copied back.
  bool local_project = false;
  // A [runners.docker] problem found while building the executor: prepare() reports it
  // as a configuration error in the job log (executors §1.8).
  std::optional<Error> config_error{};
};

// Labels and name prefix shared by everything a job creates (§7.3 "Names").
inline constexpr const char* kDockerLabelPrefix = "com.gitlab.gitlab-runner.";

class DockerExecutor final : public Executor {
 public:
  explicit DockerExecutor(DockerExecutorOptions options);
  ~DockerExecutor() override;

  const ExecutorTraits& traits() const override { return traits_; }
  // Errors: kUnavailable (daemon unreachable), kInvalidInput (configuration, disallowed
  // image or pull policy), kNotFound (image missing and pull_policy forbids pulling).
  Result<> prepare(const JobSpec& job, const PrepareOptions& options, TraceSink& trace) override;
  Result<ExitStatus> run(const StageScript& script, TraceSink& trace,
                         std::stop_token stop) override;
  void cleanup() noexcept override;
  std::string predefined_path(const std::string& path) const override;

 private:
  struct Service {
    std::string name, id, image, ip;
    std::vector<std::string> aliases;
    std::vector<int> ports;
  };
  Result<std::string> resolve_image(const std::string& image,
                                    const std::vector<std::string>& job_policies,
                                    TraceSink& trace);
  // The X-Registry-Auth value for pulling `image` (§7.3 registry credentials), or "".
  std::string registry_auth(const std::string& image, TraceSink& trace);
  Result<> start_services(const JobSpec& job, TraceSink& trace);
  void wait_for_services(TraceSink& trace);
  Result<> ensure_build_container(TraceSink& trace);
  Result<> upload_builds();
  Result<> download_builds();
  Result<ExitStatus> run_in_container(const StageScript& script, TraceSink& trace,
                                      std::stop_token stop);
  std::string labels_json_fragment(const std::string& type) const;

  DockerExecutorOptions options_;
  ExecutorTraits traits_;
  std::unique_ptr<DockerClient> client_;
  std::unique_ptr<ShellExecutor> host_;
  const JobSpec* job_ = nullptr;
  PrepareOptions prepare_{};
  std::string short_token_;
  std::string project_name_;   // P
  std::string job_name_;       // R
  std::string image_;          // resolved build image reference
  std::string image_id_;
  std::vector<std::string> job_policies_;
  std::string network_;        // per-build network name, empty otherwise
  std::string network_mode_;   // what containers join
  std::vector<std::string> binds_;
  std::vector<std::string> job_volumes_;  // removed in cleanup
  std::vector<std::string> extra_hosts_;
  std::vector<Service> services_;
  std::string build_id_;
  std::vector<std::string> containers_;  // every container id created, for cleanup
  std::filesystem::path staging_;        // host root mirroring "/" for builds paths
  std::filesystem::path host_cache_;
  std::map<std::string, std::string> labels_;
  bool host_dirty_ = false;       // host stages ran since the last upload
  bool container_dirty_ = false;  // container stages ran since the last download
  bool prepared_ = false;
};

// Removes containers, networks and per-job volumes labelled as created by the runner
// with this short token (a crash left them behind). Returns how many were removed.
int remove_stale_docker_resources(DockerClient& client, const std::string& short_token);

struct RegistryAuth {
  std::string header{};  // X-Registry-Auth value (base64url JSON), empty: anonymous
  std::string source{};  // "$DOCKER_AUTH_CONFIG", "job payload (GitLab Registry)"
};
// §7.3 registry credentials for pulling `image`: DOCKER_AUTH_CONFIG first, then the
// payload's registry credentials; the first entry matching the image's registry wins.
RegistryAuth docker_registry_auth(const std::string& image, const Variables& variables,
                                  const std::vector<Credential>& credentials);

// How a failed pull ends the job (executors §1.8): a missing image (kNotFound) or a
// denied one (kUnauthorized) is a configuration error, anything else a network
// problem (kExternalDependency, retried).
ErrorKind pull_error_kind(long status, const std::string& text);

// The RFC 1123-ish cleaning of §7.3: lower case, [-a-z0-9] only, no leading
// non-alphanumerics, at most 63 characters.
std::string docker_clean_name(const std::string& name);

// §7.3 service aliases: "registry.example.com:5000/grp/db:1" ->
// {"registry.example.com__grp__db", "registry.example.com-grp-db"} plus user aliases.
std::vector<std::string> docker_service_aliases(const std::string& image, const std::string& alias);

}  // namespace glr
