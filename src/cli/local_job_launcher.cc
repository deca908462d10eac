// Console echo of local jobs: every complete log line is printed with the job
// name in front (gitlab-ci-local style), section markers removed.
#include "cli/local_job_launcher.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include <fstream>
#include <sstream>

#include "artifacts/archive.h"
#include "artifacts/dotenv.h"
#include "artifacts/file_selection.h"
#include "artifacts/helper_log.h"
#include "cli/local_workspace.h"
#include "runner/job_run.h"
#include "script/job_variables.h"
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

LocalJobLauncher::~LocalJobLauncher() {
  if (state_dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(state_dir_, ec);
}

std::string LocalJobLauncher::prepare(std::string& error) {
  std::lock_guard lock(state_mu_);
  if (!state_dir_.empty()) return state_dir_;
  std::string tmpl =
      (std::filesystem::temp_directory_path() / "glrunner-pipeline-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    error = "cannot create a temporary directory";
    return "";
  }
  Result<std::vector<std::string>> files = project_files(options_.project_dir);
  if (!files) {
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    error = files.error().message;
    return "";
  }
  files_ = std::move(*files);
  state_dir_ = tmpl;
  return state_dir_;
}

// After the job (§4.8): the artifacts archive when `artifacts:when` matches the outcome, and
// the dotenv reports always.
void LocalJobLauncher::collect(const LocalJob& job, bool success, const std::filesystem::path& wd,
                               const std::function<void(const std::string&)>& say) {
  if (!job.artifacts) return;
  const ArtifactsDef& def = *job.artifacts;
  Variables vars = job.spec.variables;
  vars.push_back(Variable{.key = "CI_PROJECT_DIR", .value = wd.string(), .is_public = true});
  Produced produced;
  const std::string& when = def.when;
  bool upload = when == "always" || (when == "on_failure" ? !success : success);
  if (upload && (!def.paths.empty() || def.untracked)) {
    HelperLog log([&say](std::string_view line) { say(std::string(line)); });
    FileSelectionOptions select;
    select.wd = wd;
    for (const std::string& p : def.paths) select.paths.push_back(expand(p, vars, ""));
    for (const std::string& p : def.exclude) select.exclude.push_back(expand(p, vars, ""));
    FileSelection files = select_files(select, log);
    if (!files.empty()) {
      std::filesystem::path archive;
      {
        std::lock_guard lock(state_mu_);
        archive = std::filesystem::path(state_dir_) /
                  ("artifacts-" + std::to_string(next_archive_++) + ".zip");
      }
      Result<> written = write_archive(ArtifactFormat::kZip, wd, files, archive, 1, log);
      if (written) {
        say("Uploading artifacts locally: " + std::to_string(files.size()) + " files and directories");
        produced.archive = archive;
      } else {
        say("WARNING: artifacts not kept: " + written.error().message);
      }
    }
  }
  for (const std::string& name : def.dotenv) {
    std::ifstream in(wd / expand(name, vars, ""), std::ios::binary);
    if (!in) {
      say("WARNING: artifact reports dotenv '" + name + "' could not be found");
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    Result<std::vector<DotenvVariable>> parsed = parse_dotenv(text.str());
    if (!parsed) {
      say("WARNING: dotenv report " + name + ": " + parsed.error().message);
      continue;
    }
    for (const DotenvVariable& v : *parsed) {
      produced.dotenv.push_back(Variable{.key = v.key, .value = v.value, .is_public = true, .raw = true});
    }
  }
  std::lock_guard lock(state_mu_);
  produced_[job.name] = std::move(produced);
}

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
  // Each job gets its own temp dir (file variables, GITLAB_ENV) and its own copy of the
  // project, so parallel jobs cannot see each other's files (§9.9 Local).
  std::string error;
  std::string state = prepare(error);
  if (state.empty()) {
    result.outcome = JobOutcome{JobState::kFailed, FailureReason::kRunnerSystemFailure, 0, error};
    return result;
  }
  std::string tmpl = state + "/job-XXXXXX";
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
  std::filesystem::path wd =
      std::filesystem::path(tmpl) / std::filesystem::path(options_.project_dir).filename();
  if (Result<> copied = copy_project_files(options_.project_dir, files_, wd); !copied) {
    result.outcome = JobOutcome{JobState::kFailed, FailureReason::kRunnerSystemFailure, 0,
                                copied.error().message};
    return result;
  }
  auto say = [&](const std::string& line) {
    std::string pending;
    print_lines(job.name, color_index, pending, line + "\n", false);
  };
  // Artifacts and dotenv variables of the producers (§9.9), in download order.
  JobSpec spec = job.spec;
  Variables dotenv;
  for (const std::string& source : job.artifact_sources) {
    Produced produced;
    {
      std::lock_guard lock(state_mu_);
      auto it = produced_.find(source);
      if (it == produced_.end()) continue;
      produced = it->second;
    }
    dotenv.insert(dotenv.end(), produced.dotenv.begin(), produced.dotenv.end());
    if (!produced.archive) continue;
    HelperLog log([&say](std::string_view line) { say(std::string(line)); });
    if (Result<> extracted = extract_archive(*produced.archive, wd, log); !extracted) {
      result.outcome = JobOutcome{JobState::kFailed, FailureReason::kRunnerSystemFailure, 0,
                                  "artifacts of " + source + ": " + extracted.error().message};
      return result;
    }
    say("Downloaded artifacts of " + source);
  }
  if (!dotenv.empty()) {
    // §7.1 #7: above the YAML variables, below --variable; GIT_STRATEGY stays last.
    Variables& vars = spec.variables;
    vars.insert(vars.end(), dotenv.begin(), dotenv.end());
    vars.insert(vars.end(), job.cli_variables.begin(), job.cli_variables.end());
    vars.push_back(Variable{.key = "GIT_STRATEGY", .value = "none", .is_public = true});
  }

  JobRunConfig cfg;
  cfg.runner = runner;
  cfg.system_id = "local";
  cfg.helper_command = options_.helper_command;
  cfg.project_dir_override = wd.string();
  cfg.tmp_dir_override = tmpl + "/job.tmp";
  JobRun run(spec, **executor, clock_, cfg);
  TraceBuffer trace(run.trace_options(), clock_);
  std::string pending;
  trace.set_observer([&](std::string_view bytes) {
    print_lines(job.name, color_index, pending, bytes, false);
  });
  std::stop_callback on_stop(stop, [&run] { run.interrupt("interrupt"); });
  result.outcome = run.execute(trace);
  trace.finish();
  print_lines(job.name, color_index, pending, "", true);
  collect(job, result.outcome.state == JobState::kSuccess, wd, say);
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace glr
