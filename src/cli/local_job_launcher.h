// Runs one `.gitlab-ci.yml` job of `glrunner exec` through the same engine that
// serves GitLab jobs (runner/JobRun + an executor), echoing its log to the console.
#pragma once

#include <map>
#include <optional>
#include <vector>
#include <mutex>
#include <filesystem>
#include <functional>
#include <string_view>
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
  std::string cache_dir{};       // local caches, kept between runs (executors §5.5)
  // Per-pipeline state: job project copies and artifact archives (pipeline-yaml §4.8 Local).
  // Empty: jobs run in project_dir itself and no artifacts are passed.
  std::string state_dir{};
  // The project's files as list_project_files() gives them, when the caller has them already.
  std::optional<std::vector<std::string>> project_files{};
};

// Thread-safe: LocalRunner calls run() from several job threads at once.
class LocalJobLauncher final : public JobLauncher {
 public:
  // `executors`, `clock` and `out` must outlive the launcher.
  LocalJobLauncher(ExecutorFactory& executors, Clock& clock, std::ostream& out,
                   LocalLaunchOptions options);
  LocalJobResult run(const LocalJob& job, std::stop_token stop) override;
  void announce(const LocalJob& job, std::string_view text) override;
  Result<std::string> artifact_file(const std::string& pipeline, const std::string& producer,
                                    const std::string& path) override;

  // Where the artifacts of `job` of `pipeline` are kept after the run (pipeline-yaml §4.8
  // Local): <cache_dir>/artifacts/<trigger path.../><job>/.
  static std::filesystem::path kept_artifacts_dir(const std::string& cache_dir,
                                                  const std::string& pipeline,
                                                  const std::string& job);

 private:
  void print_lines(const std::string& job_name, int color_index, std::string& pending,
                   std::string_view bytes, bool flush);

  struct Produced {
    std::filesystem::path archive{};  // empty: the job kept no artifacts
    Variables dotenv{};
  };
  // What the job receives from earlier jobs (§9.9): their archives (extracted into the job's
  // copy during its download_artifacts stage) and dotenv variables (before it starts).
  std::vector<std::pair<std::string, Produced>> sources_of(const LocalJob& job);
  void receive_artifacts(const std::vector<std::pair<std::string, Produced>>& sources,
                         const std::filesystem::path& dir,
                         const std::function<void(std::string_view)>& log);
  // Archives the job's artifacts from `dir` and parses its dotenv reports (§4.8, §7.6).
  void keep_artifacts(const LocalJob& job, const std::filesystem::path& dir, bool succeeded,
                      const std::function<void(std::string_view)>& log);

  ExecutorFactory& executors_;
  Clock& clock_;
  std::ostream& out_;
  LocalLaunchOptions options_;
  std::mutex out_mu_;
  std::mutex index_mu_;
  int next_color_ = 0;  // Guarded by index_mu_.
  std::once_flag files_once_;
  std::optional<std::vector<std::string>> project_files_;  // set once, under files_once_
  std::mutex produced_mu_;
  // By LocalJob::pipeline + '\n' + job name; guarded by produced_mu_.
  std::map<std::string, Produced> produced_;
};

}  // namespace glr
