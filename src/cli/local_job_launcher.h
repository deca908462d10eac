// Runs one `.gitlab-ci.yml` job of `glrunner exec` through the same engine that
// serves GitLab jobs (runner/JobRun + an executor), echoing its log to the console.
#pragma once

#include <mutex>
#include <ostream>
#include <string>

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

// Thread-safe: LocalRunner calls run() from several job threads at once.
class LocalJobLauncher final : public JobLauncher {
 public:
  // `executors`, `clock` and `out` must outlive the launcher.
  LocalJobLauncher(ExecutorFactory& executors, Clock& clock, std::ostream& out,
                   LocalLaunchOptions options);
  LocalJobResult run(const LocalJob& job, std::stop_token stop) override;

 private:
  void print_lines(const std::string& job_name, int color_index, std::string& pending,
                   std::string_view bytes, bool flush);

  ExecutorFactory& executors_;
  Clock& clock_;
  std::ostream& out_;
  LocalLaunchOptions options_;
  std::mutex out_mu_;
  std::mutex index_mu_;
  int next_color_ = 0;  // Guarded by index_mu_.
};

}  // namespace glr
