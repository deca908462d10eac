// `glrunner exec`: run a project's .gitlab-ci.yml locally through the same job
// engine as `run` (the official runner removed its `exec` command in 17.0).
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include "artifacts/cache_key.h"
#include "cli/commands.h"
#include "cli/local_job_launcher.h"
#include "cli/project_copy.h"
#include "cli/shell_executor_factory.h"
#include "pipeline/exec_command.h"
#include "process/signal_set.h"
#include "util/clock.h"

namespace glr {

namespace {

struct ExecFlags {
  ExecOptions exec;
  std::string cwd;
  bool no_color = false;
  bool timestamps = false;
  std::string executor = "auto";
  std::string docker_host;
  std::string docker_pull_policy = "if-not-present";
  std::string cache_dir;
};

// Where `exec` keeps caches between runs, outside the project (its files are copied into every
// job): $XDG_CACHE_HOME/glrunner/exec/<project dir name>-<hash of its path>, else ~/.cache/...
std::filesystem::path default_exec_cache_dir(const std::filesystem::path& project_dir) {
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::filesystem::path(home) / ".cache";
  } else {
    base = std::filesystem::temp_directory_path();
  }
  std::string digest = hash_cache_key(project_dir.string()).substr(0, 12);
  return base / "glrunner" / "exec" / (project_dir.filename().string() + "-" + digest);
}

// Where the run's job copies go. They are scratch data removed when the run ends, so a tmpfs
// (/dev/shm) serves when every concurrent copy fits in a quarter of its free space: on a disk
// filesystem, creating and deleting the copies' files was most of a trivial job's cost. A set
// TMPDIR is the user's choice and always wins.
std::filesystem::path exec_state_base(const std::filesystem::path& project_dir,
                                      const std::optional<std::vector<std::string>>& files,
                                      int concurrency) {
  std::filesystem::path fallback = std::filesystem::temp_directory_path();
  if (const char* tmpdir = std::getenv("TMPDIR"); tmpdir != nullptr && *tmpdir != '\0') return fallback;
  const char* shm = "/dev/shm";
  struct statvfs fs{};
  if (!files || ::access(shm, W_OK | X_OK) != 0 || ::statvfs(shm, &fs) != 0) return fallback;
  uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  uint64_t size = 0;
  struct stat st{};
  if (::stat((project_dir / ".git" / "index").c_str(), &st) == 0) size += static_cast<uint64_t>(st.st_size);
  for (const std::string& file : *files) {
    if (::lstat((project_dir / file).c_str(), &st) == 0) size += static_cast<uint64_t>(st.st_size);
    if (size > free_bytes) return fallback;
  }
  uint64_t copies = static_cast<uint64_t>(std::max(1, concurrency)) + 1;
  return size * copies <= free_bytes / 4 ? std::filesystem::path(shm) : fallback;
}

// "always,never" -> "'always', 'never'" (TOML array items).
std::string docker_pull_policy_list(const std::string& flag) {
  std::string out;
  size_t start = 0;
  while (start <= flag.size()) {
    size_t comma = flag.find(',', start);
    std::string item = flag.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::string clean;
    for (char c : item) {
      if (c != '\'' && c != ' ') clean.push_back(c);
    }
    if (!clean.empty()) out += (out.empty() ? "'" : ", '") + clean + "'";
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

int exec_command(ExecFlags& flags, GlobalOptions& global) {
  if (!setup_logging(global, "", "")) return 1;
  std::error_code ec;
  std::filesystem::path dir =
      flags.cwd.empty() ? std::filesystem::current_path(ec) : std::filesystem::absolute(flags.cwd, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    std::fprintf(stderr, "glrunner: --cwd: \"%s\" is not a directory\n", flags.cwd.c_str());
    return 1;
  }
  flags.exec.project_dir = std::filesystem::canonical(dir, ec);
  flags.exec.color = !flags.no_color && ::isatty(1) != 0 && std::getenv("NO_COLOR") == nullptr;
  if (flags.exec.concurrency < 0) {
    std::fprintf(stderr, "glrunner: --concurrency must be >= 0\n");
    return 1;
  }

  SystemClock clock;
  if (flags.executor != "auto" && flags.executor != "shell" && flags.executor != "docker") {
    std::fprintf(stderr, "glrunner: --executor must be auto, shell or docker\n");
    return 1;
  }
  LocalExecutorFactory executors(flags.exec.project_dir, "", /*local_project=*/true);
  LocalLaunchOptions launch;
  launch.project_dir = flags.exec.project_dir.string();
  launch.color = flags.exec.color;
  launch.timestamps = flags.timestamps;
  launch.helper_command = self_executable();
  launch.executor = flags.executor;
  launch.cache_dir = flags.cache_dir.empty() ? default_exec_cache_dir(flags.exec.project_dir).string()
                                             : std::filesystem::absolute(flags.cache_dir).string();
  launch.docker_section = "pull_policy = [" + docker_pull_policy_list(flags.docker_pull_policy) + "]\n";
  if (!flags.docker_host.empty()) launch.docker_section += "host = \"" + flags.docker_host + "\"\n";
  // One state dir per run: the jobs' project copies and artifact archives (pipeline-yaml §4.8).
  if (!flags.exec.list && !flags.exec.preview) {
    int concurrency = flags.exec.concurrency > 0
                          ? flags.exec.concurrency
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    // One shell per job running at once, started while git and the parser run.
    if (flags.executor != "docker") executors.prewarm_shell_sessions(static_cast<size_t>(concurrency));
    launch.project_files = list_project_files(flags.exec.project_dir);
    std::filesystem::path base =
        exec_state_base(flags.exec.project_dir, launch.project_files, concurrency);
    std::string state = (base / "glrunner-exec-XXXXXX").string();
    if (::mkdtemp(state.data()) == nullptr) {
      std::fprintf(stderr, "glrunner: cannot create a temporary directory in %s\n", base.c_str());
      return 1;
    }
    launch.state_dir = state;
  }
  struct RemoveState {
    std::string path;
    ~RemoveState() {
      std::error_code ignored;
      if (!path.empty()) std::filesystem::remove_all(path, ignored);
    }
  } remove_state{launch.state_dir};
  LocalJobLauncher launcher(executors, clock, std::cout, launch);

  // Ctrl-C stops the pipeline: running jobs are interrupted, nothing new starts.
  block_runner_signals();
  std::stop_source stop;
  std::jthread watcher([&stop](std::stop_token done) {
    while (!done.stop_requested()) {
      std::optional<int> sig = wait_signal(std::chrono::milliseconds(200));
      if (sig && (*sig == SIGINT || *sig == SIGTERM || *sig == SIGQUIT)) {
        stop.request_stop();
        return;
      }
    }
  });
  int code = run_exec(flags.exec, launcher, std::cout, std::cerr, stop.get_token(), &clock);
  watcher.request_stop();
  // Wake the watcher now rather than at its next timeout: a short pipeline would otherwise
  // wait up to 200 ms to exit. SIGHUP is blocked and only read by the watcher's wait.
  ::pthread_kill(watcher.native_handle(), SIGHUP);
  return code;
}

}  // namespace

void add_exec_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<ExecFlags>();
  CLI::App* cmd = app.add_subcommand(
      "exec", "run the jobs of a .gitlab-ci.yml locally (glrunner extension)");
  cmd->add_option("jobs", f->exec.jobs, "Jobs to run (default: the whole pipeline)");
  cmd->add_option("-f,--file", f->exec.file, "Pipeline file, relative to --cwd")
      ->capture_default_str();
  cmd->add_option("-C,--cwd", f->cwd, "Project directory (default: current directory)");
  cmd->add_option("-j,--concurrency", f->exec.concurrency,
                  "Jobs run at once (default: number of cores)");
  // One value per --variable, so `--variable A=1 job` leaves `job` to the job list.
  cmd->add_option("--variable", f->exec.variables, "KEY=VALUE, overrides pipeline variables")
      ->allow_extra_args(false);
  cmd->add_option("--variables-file", f->exec.variables_file,
                  "YAML file of project variables, NAME: value or NAME: {values: {<environment "
                  "scope>: value}} (default: .gitlab-ci-local-variables.yml if present)");
  cmd->add_flag("--needs", f->exec.with_needs,
                "With named jobs: also run the jobs they need (transitively; a job without needs "
                "waits for the earlier stages)");
  cmd->add_flag("--no-delay", f->exec.no_delay,
                "Start when: delayed jobs at once instead of waiting start_in");
  cmd->add_option("--input", f->exec.inputs,
                  "NAME=VALUE for the pipeline file's spec:inputs (read as the declared type)")
      ->allow_extra_args(false);
  cmd->add_option("--include-project", f->exec.include_projects,
                  "PATH=DIR: read include:project (and components) of project PATH from the "
                  "local clone DIR, at the include's ref")
      ->allow_extra_args(false);
  cmd->add_flag("--list", f->exec.list, "List the jobs with stage, when and needs");
  cmd->add_flag("--preview", f->exec.preview, "Print the fully merged configuration");
  cmd->add_flag("--evaluate-rule-changes", f->exec.evaluate_rule_changes,
                "Evaluate `changes` against the merge base with the default branch plus "
                "untracked files (=false: every `changes` is true)")
      ->capture_default_str();
  cmd->add_flag("--no-color", f->no_color, "Plain output");
  cmd->add_flag("--timestamps", f->timestamps, "Keep FF_TIMESTAMPS line prefixes in the output");
  cmd->add_option("--executor", f->executor,
                  "auto (docker for jobs with image:, shell otherwise), shell or docker")
      ->capture_default_str();
  cmd->add_option("--docker-host", f->docker_host,
                  "Docker daemon (default: DOCKER_HOST or unix:///var/run/docker.sock)");
  cmd->add_option("--docker-pull-policy", f->docker_pull_policy,
                  "Comma-separated pull policies for docker jobs")
      ->capture_default_str();
  cmd->add_option("--cache-dir", f->cache_dir,
                  "Where caches are kept between runs (default: ~/.cache/glrunner/exec/<project>-<hash>)");
  cmd->callback([f, &global] { global.exit_code = exec_command(*f, global); });
}

}  // namespace glr
