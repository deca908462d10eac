// Runs one `.gitlab-ci.yml` job of `glrunner exec` through the same engine that
// serves GitLab jobs (runner/JobRun + an executor), echoing its log to the console.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "pipeline/local_runner.h"
#include "runner/executor_factory.h"
#include "util/clock.h"

namespace glr {

struct LocalLaunchOptions {
  std::string project_dir{};
  bool color = true;
  bool timestamps = false;  // the console reads better without FF_TIMESTAMPS prefixes
  std::string helper_command{};
  // "auto": jobs with `image:` use the docker executor, the others the shell one.
  std::string executor = "auto";
  std::string docker_section{};  // [runners.docker] text for docker jobs
};

// Thread-safe: LocalRunner calls run() from several job threads at once. Each job runs in its
// own copy of the project (local_workspace.h) under a per-pipeline state directory, which also
// keeps every job's artifacts archive and dotenv variables for the jobs that receive them
// (pipeline-yaml §9.9); the directory is removed with the launcher.
class LocalJobLauncher final : public JobLauncher {
 public:
  // `executors`, `clock` and `out` must outlive the launcher.
  LocalJobLauncher(ExecutorFactory& executors, Clock& clock, std::ostream& out,
                   LocalLaunchOptions options);
  ~LocalJobLauncher() override;
  LocalJobLauncher(const LocalJobLauncher&) = delete;
  LocalJobLauncher& operator=(const LocalJobLauncher&) = delete;
  LocalJobResult run(const LocalJob& job, std::stop_token stop) override;

 private:
  struct Produced {
    std::optional<std::filesystem::path> archive{};
    Variables dotenv{};
  };
  // Creates the state dir and lists the project files once; empty string when it failed.
  std::string prepare(std::string& error);
  void collect(const LocalJob& job, bool success, const std::filesystem::path& wd,
               const std::function<void(const std::string&)>& say);

  void print_lines(const std::string& job_name, int color_index, std::string& pending,
                   std::string_view bytes, bool flush);

  ExecutorFactory& executors_;
  Clock& clock_;
  std::ostream& out_;
  LocalLaunchOptions options_;
  std::mutex out_mu_;
  std::mutex index_mu_;
  int next_color_ = 0;  // Guarded by index_mu_.
  std::mutex state_mu_;
  std::string state_dir_{};                    // Guarded by state_mu_.
  std::vector<std::string> files_{};           // Guarded by state_mu_ (written once).
  std::map<std::string, Produced> produced_{};  // Guarded by state_mu_.
  int next_archive_ = 0;                       // Guarded by state_mu_.
};

}  // namespace glr
