// Console echo of local jobs: every complete log line is printed with the job
// name in front (gitlab-ci-local style), section markers removed.
#include "cli/local_job_launcher.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "runner/job_run.h"
#include "trace/trace_buffer.h"

namespace glr {

namespace {

constexpr const char* kJobColors[] = {"\x1b[36m", "\x1b[35m", "\x1b[33m", "\x1b[34m", "\x1b[32m",
                                      "\x1b[96m", "\x1b[95m", "\x1b[93m"};

// Removes "section_start:<ts>:<name>\r\x1b[0K" and section_end markers.
std::string strip_sections(std::string_view line) {
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    bool start = line.substr(i).starts_with("section_start:");
    bool end = line.substr(i).starts_with("section_end:");
    if (start || end) {
      size_t cr = line.find("\r\x1b[0K", i);
      if (cr != std::string_view::npos) {
        i = cr + 5;
        continue;
      }
    }
    out += line[i++];
  }
  return out;
}

std::string strip_ansi(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      size_t j = i + 2;
      while (j < s.size() && !((s[j] >= '@' && s[j] <= '~'))) ++j;
      i = j;
      continue;
    }
    out += s[i];
  }
  return out;
}

}  // namespace

LocalJobLauncher::LocalJobLauncher(ExecutorFactory& executors, Clock& clock, std::ostream& out,
                                   LocalLaunchOptions options)
    : executors_(executors), clock_(clock), out_(out), options_(std::move(options)) {}

void LocalJobLauncher::print_lines(const std::string& job_name, int color_index,
                                   std::string& pending, std::string_view bytes, bool flush) {
  pending.append(bytes);
  std::string text;
  size_t start = 0;
  while (true) {
    size_t nl = pending.find('\n', start);
    if (nl == std::string::npos) break;
    std::string line = strip_sections(std::string_view(pending).substr(start, nl - start));
    start = nl + 1;
    if (!options_.color) line = strip_ansi(line);
    if (options_.color) {
      text += std::string(kJobColors[color_index % 8]) + job_name + "\x1b[0m " + line + "\x1b[0m\n";
    } else {
      text += job_name + " " + line + "\n";
    }
  }
  pending.erase(0, start);
  if (flush && !pending.empty()) {
    std::string line = strip_sections(pending);
    if (!options_.color) line = strip_ansi(line);
    text += (options_.color ? std::string(kJobColors[color_index % 8]) + job_name + "\x1b[0m "
                            : job_name + " ") +
            line + "\n";
    pending.clear();
  }
  if (text.empty()) return;
  std::lock_guard lock(out_mu_);
  out_ << text << std::flush;
}

LocalJobResult LocalJobLauncher::run(const LocalJob& job, std::stop_token stop) {
  auto started = std::chrono::steady_clock::now();
  int color_index;
  {
    std::lock_guard lock(index_mu_);
    color_index = next_color_++;
  }
  RunnerSettings runner;
  runner.name = "glrunner-exec";
  bool docker = options_.executor == "docker" ||
                (options_.executor == "auto" && job.spec.image && !job.spec.image->name.empty());
  runner.executor = docker ? "docker" : "shell";
  if (docker) {
    runner.raw_sections["docker"] = options_.docker_section;
    runner.token.value = "glrunner-exec";
  }
  runner.output_limit = 64 * 1024;  // KiB: local runs keep far more log than GitLab's 4 MiB default
  runner.feature_flags["FF_TIMESTAMPS"] = options_.timestamps;

  LocalJobResult result;
  Result<std::unique_ptr<Executor>> executor = executors_.create(runner);
  if (!executor) {
    result.outcome = JobOutcome{JobState::kFailed, FailureReason::kRunnerSystemFailure, 0,
                                executor.error().message};
    return result;
  }
  // Each job gets its own temp dir (file variables, GITLAB_ENV), so parallel jobs
  // in one working tree cannot see each other's, and nothing lands beside the project.
  std::string tmpl = (std::filesystem::temp_directory_path() / "glrunner-exec-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    result.outcome = JobOutcome{JobState::kFailed, FailureReason::kRunnerSystemFailure, 0,
                                "cannot create a temporary directory"};
    return result;
  }
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_tmp{tmpl};

  JobRunConfig cfg;
  cfg.runner = runner;
  cfg.system_id = "local";
  cfg.helper_command = options_.helper_command;
  cfg.project_dir_override = options_.project_dir;
  cfg.tmp_dir_override = tmpl + "/job.tmp";
  JobRun run(job.spec, **executor, clock_, cfg);
  TraceBuffer trace(run.trace_options(), clock_);
  std::string pending;
  trace.set_observer([&](std::string_view bytes) {
    print_lines(job.name, color_index, pending, bytes, false);
  });
  std::stop_callback on_stop(stop, [&run] { run.interrupt("interrupt"); });
  result.outcome = run.execute(trace);
  trace.finish();
  print_lines(job.name, color_index, pending, "", true);
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace glr
