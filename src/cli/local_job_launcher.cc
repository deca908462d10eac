// Console echo of local jobs: every complete log line is printed with the job
// name in front (gitlab-ci-local style), section markers removed.
#include "cli/local_job_launcher.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include <unistd.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "artifacts/archive.h"
#include "artifacts/dotenv.h"
#include "artifacts/file_selection.h"
#include "cli/project_copy.h"
#include "runner/job_run.h"
#include "script/job_variables.h"
#include "trace/trace_buffer.h"

namespace glr {

namespace {

// What `${HOSTNAME:-$(hostname)}` gives in the run's shells: they inherit this process's
// environment, where bash keeps a HOSTNAME it finds, else the kernel's host name. Empty when
// unknown (prepare_script then runs).
std::string shell_hostname() {
  if (const char* env = std::getenv("HOSTNAME"); env != nullptr && *env != '\0') return env;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return {};
  return host;
}

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

std::string produced_key(const std::string& pipeline, const std::string& job) {
  return pipeline + "\n" + job;
}

// A job or trigger name as one path component.
std::string path_component(std::string name) {
  for (char& c : name) {
    if (c == '/' || c == '\\' || c == '\0') c = '_';
  }
  if (name == "." || name == "..") name = "_" + name;
  return name;
}

}  // namespace

std::filesystem::path LocalJobLauncher::kept_artifacts_dir(const std::string& cache_dir,
                                                           const std::string& pipeline,
                                                           const std::string& job) {
  std::filesystem::path dir = std::filesystem::path(cache_dir) / "artifacts";
  size_t start = 0;
  while (!pipeline.empty() && start <= pipeline.size()) {
    size_t arrow = pipeline.find(" -> ", start);
    dir /= path_component(pipeline.substr(start, arrow == std::string::npos ? std::string::npos
                                                                            : arrow - start));
    if (arrow == std::string::npos) break;
    start = arrow + 4;
  }
  return dir / path_component(job);
}

void LocalJobLauncher::announce(const LocalJob& job, std::string_view text) {
  int color_index;
  {
    std::lock_guard lock(index_mu_);
    color_index = next_color_++;
  }
  std::string pending;
  print_lines(display_name(job), color_index, pending, text, true);
}

Result<std::string> LocalJobLauncher::artifact_file(const std::string& pipeline,
                                                    const std::string& producer,
                                                    const std::string& path) {
  std::filesystem::path archive;
  {
    std::lock_guard lock(produced_mu_);
    auto it = produced_.find(produced_key(pipeline, producer));
    if (it == produced_.end() || it->second.archive.empty()) {
      return fail(ErrorKind::kNotFound,
                  fmt::format("artifact `{}`: job {} has not run or kept no artifacts", path,
                              producer));
    }
    archive = it->second.archive;
  }
  std::string tmpl = (std::filesystem::path(options_.state_dir) / "child-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return fail(ErrorKind::kIo, "cannot create a temporary directory for " + path);
  }
  std::filesystem::path dir = tmpl;
  CollectingHelperLog helper;
  Result<> extracted = extract_archive(archive, dir, helper.log);
  std::string clean = path;
  while (clean.starts_with("./")) clean.erase(0, 2);
  std::ifstream in(dir / clean, std::ios::binary);
  std::stringstream text;
  if (in) text << in.rdbuf();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (!extracted) return fail(extracted.error());
  if (!in) {
    return fail(ErrorKind::kNotFound,
                fmt::format("artifact `{}` is not among the artifacts of job {}", path, producer));
  }
  return text.str();
}

LocalJobLauncher::LocalJobLauncher(ExecutorFactory& executors, Clock& clock, std::ostream& out,
                                   LocalLaunchOptions options)
    : executors_(executors), clock_(clock), out_(out), options_(std::move(options)) {}

void LocalJobLauncher::print_lines(const std::string& job_name, int color_index,
                                   std::string& pending, std::string_view bytes, bool flush) {
  pending.append(bytes);
  std::string text;
  std::string prefix = options_.color
                           ? std::string(kJobColors[color_index % 8]) + job_name + "\x1b[0m "
                           : job_name + " ";
  std::string_view suffix = options_.color ? "\x1b[0m\n" : "\n";
  auto append_line = [&](std::string_view raw) {
    text += prefix;
    // Section markers end in "\r\x1b[0K" and colours start with ESC: a line with neither
    // (most output of a big log) is copied as it is.
    bool plain = raw.find('\r') == std::string_view::npos &&
                 (options_.color || raw.find('\x1b') == std::string_view::npos);
    if (plain) {
      text += raw;
    } else {
      std::string line = strip_sections(raw);
      text += options_.color ? line : strip_ansi(line);
    }
    text += suffix;
  };
  size_t start = 0;
  while (true) {
    size_t nl = pending.find('\n', start);
    if (nl == std::string::npos) break;
    append_line(std::string_view(pending).substr(start, nl - start));
    start = nl + 1;
  }
  pending.erase(0, start);
  if (flush && !pending.empty()) {  // a last line without newline
    append_line(pending);
    pending.clear();
  }
  if (text.empty()) return;
  std::lock_guard lock(out_mu_);
  out_ << text << std::flush;
}

std::vector<std::pair<std::string, LocalJobLauncher::Produced>> LocalJobLauncher::sources_of(
    const LocalJob& job) {
  std::vector<std::pair<std::string, Produced>> sources;
  std::lock_guard lock(produced_mu_);
  for (const std::string& source : job.artifact_sources) {
    auto it = produced_.find(produced_key(job.pipeline, source));
    if (it == produced_.end()) continue;  // did not run or kept nothing (§9.9 #4)
    sources.emplace_back(source, it->second);
  }
  return sources;
}

void LocalJobLauncher::receive_artifacts(
    const std::vector<std::pair<std::string, Produced>>& sources, const std::filesystem::path& dir,
    const std::function<void(std::string_view)>& log) {
  for (const auto& [source, produced] : sources) {
    if (produced.archive.empty()) continue;
    CollectingHelperLog helper;
    Result<> extracted = extract_archive(produced.archive, dir, helper.log);
    log(fmt::format("Downloading artifacts for {} (local)... {}\n", source,
                    extracted ? "ok" : "failed: " + extracted.error().message));
    if (!helper.text.empty()) log(helper.text);
  }
}

void LocalJobLauncher::keep_artifacts(const LocalJob& job, const std::filesystem::path& dir,
                                      bool succeeded,
                                      const std::function<void(std::string_view)>& log) {
  Produced produced;
  const ArtifactsDef& def = *job.artifacts;
  // Reports are kept whatever the job's result (§4.8).
  for (const std::string& file : def.dotenv) {
    std::string name = expand(file, job.spec.variables, "");
    std::ifstream in(dir / name, std::ios::binary);
    if (!in) {
      log(fmt::format("WARNING: artifacts:reports:dotenv \"{}\" could not be found\n", name));
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    Result<std::vector<DotenvVariable>> parsed = parse_dotenv(text.str());
    if (!parsed) {
      log(fmt::format("WARNING: artifacts:reports:dotenv \"{}\": {}\n", name,
                      parsed.error().message));
      continue;
    }
    for (const DotenvVariable& var : *parsed) {
      produced.dotenv.push_back(Variable{.key = var.key, .value = var.value, .is_public = true});
    }
  }
  bool wanted = def.when == "always" || (def.when == "on_failure" ? !succeeded : succeeded);
  if (wanted && (!def.paths.empty() || def.untracked)) {
    FileSelectionOptions select;
    select.wd = dir;
    for (const std::string& p : def.paths) select.paths.push_back(expand(p, job.spec.variables, ""));
    for (const std::string& p : def.exclude) select.exclude.push_back(expand(p, job.spec.variables, ""));
    select.untracked = def.untracked;
    CollectingHelperLog helper;
    FileSelection files = select_files(select, helper.log);
    if (!files.empty()) {
      std::filesystem::path archive = std::filesystem::path(options_.state_dir) / "artifacts" /
                                      (std::to_string(job.spec.id) + ".zip");
      std::error_code ec;
      std::filesystem::create_directories(archive.parent_path(), ec);
      Result<> written = write_archive(ArtifactFormat::kZip, dir, files, archive,
                                       deflate_level("fastest"), helper.log);
      if (written) produced.archive = archive;
      if (!helper.text.empty()) log(helper.text);
      log(written ? fmt::format("Saved {} artifact files and directories locally\n", files.size())
                  : fmt::format("ERROR: saving artifacts: {}\n", written.error().message));
      // The run's state directory goes away at the end; a copy stays where the user can
      // look at it, replaced by the job's next run (gitlab-ci-local keeps
      // .gitlab-ci-local/artifacts/<job>/ the same way).
      if (written && !options_.cache_dir.empty()) {
        std::filesystem::path kept = kept_artifacts_dir(options_.cache_dir, job.pipeline, job.name);
        std::filesystem::remove_all(kept, ec);
        std::filesystem::create_directories(kept, ec);
        CollectingHelperLog keep_log;
        Result<> copied = extract_archive(archive, kept, keep_log.log);
        log(copied ? fmt::format("Artifacts kept in {}\n", kept.string())
                   : fmt::format("WARNING: keeping artifacts in {}: {}\n", kept.string(),
                                 copied.error().message));
      }
    } else if (!helper.text.empty()) {
      log(helper.text);
    }
  }
  std::lock_guard lock(produced_mu_);
  produced_[produced_key(job.pipeline, job.name)] = std::move(produced);
}

LocalJobResult LocalJobLauncher::run(const LocalJob& job, std::stop_token stop) {
  auto started = std::chrono::steady_clock::now();
  int color_index;
  {
    std::lock_guard lock(index_mu_);
    color_index = next_color_++;
  }
  std::string pending;
  const std::string name = display_name(job);
  auto log = [&](std::string_view text) { print_lines(name, color_index, pending, text, false); };
  RunnerSettings runner;
  runner.name = "glrunner-exec";
  bool docker = options_.executor == "docker" ||
                (options_.executor == "auto" && job.spec.image && !job.spec.image->name.empty());
  runner.executor = docker ? "docker" : "shell";
  if (docker) {
    runner.raw_sections["docker"] = options_.docker_section;
    runner.token.value = "glrunner-exec";
  }
  runner.cache_dir = options_.cache_dir;
  runner.output_limit = 64 * 1024;  // KiB: local runs keep far more log than GitLab's 4 MiB default
  runner.feature_flags["FF_TIMESTAMPS"] = options_.timestamps;

  LocalJobResult result;
  Result<std::unique_ptr<Executor>> executor = executors_.create(runner);
  if (!executor) {
    result.outcome = JobOutcome{JobState::kFailed, FailureReason::kRunnerSystemFailure, 0,
                                executor.error().message};
    return result;
  }
  // Each job gets its own directory (its project copy, file variables, GITLAB_ENV), so
  // parallel jobs cannot see each other's files, and nothing lands beside the project.
  std::filesystem::path job_dir;
  if (options_.state_dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "glrunner-exec-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      result.outcome = JobOutcome{JobState::kFailed, FailureReason::kRunnerSystemFailure, 0,
                                  "cannot create a temporary directory"};
      return result;
    }
    job_dir = tmpl;
  } else {
    job_dir = std::filesystem::path(options_.state_dir) / "jobs" / std::to_string(job.spec.id);
  }
  struct RemoveDir {
    std::filesystem::path path;
    ~RemoveDir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } remove_job_dir{job_dir};

  JobSpec spec = job.spec;
  std::filesystem::path project = options_.project_dir;
  std::vector<std::pair<std::string, Produced>> sources;
  if (!options_.state_dir.empty()) sources = sources_of(job);
  if (!options_.state_dir.empty()) {
    project = job_dir / std::filesystem::path(options_.project_dir).filename();
    std::call_once(files_once_,
                   [this] {
                     project_files_ = options_.project_files
                                          ? options_.project_files
                                          : list_project_files(options_.project_dir);
                   });
    Result<ProjectCopyStats> copied = copy_project(options_.project_dir, project, project_files_);
    if (!copied) {
      result.outcome = JobOutcome{JobState::kFailed, FailureReason::kRunnerSystemFailure, 0,
                                  "copying the project: " + copied.error().message};
      return result;
    }
    for (Variable& var : spec.variables) {
      if (var.key == "CI_PROJECT_DIR") var.value = project.string();
      if (var.key == "CI_BUILDS_DIR") var.value = project.parent_path().string();
    }
    Variables dotenv;
    for (const auto& [source, produced] : sources) {
      dotenv.insert(dotenv.end(), produced.dotenv.begin(), produced.dotenv.end());
    }
    size_t at = std::min(job.dotenv_position, spec.variables.size());
    spec.variables.insert(spec.variables.begin() + static_cast<std::ptrdiff_t>(at), dotenv.begin(),
                          dotenv.end());
  }

  JobRunConfig cfg;
  cfg.runner = runner;
  cfg.system_id = "local";
  cfg.helper_command = options_.helper_command;
  cfg.project_dir_override = project.string();
  cfg.tmp_dir_override = (job_dir / "job.tmp").string();
  // Made here, not by the first stage script's `mkdir -p`: one process less per job.
  std::error_code tmp_ec;  // on failure the script's own mkdir reports it in the log
  std::filesystem::create_directories(cfg.tmp_dir_override, tmp_ec);
  // Artifacts move in-process, in the stages where a GitLab job downloads and uploads them.
  if (!options_.state_dir.empty()) {
    auto trace_log = [](TraceSink& trace) {
      return [&trace](std::string_view text) { trace.write(kScriptStdout, text); };
    };
    cfg.local_download = [&]() -> std::optional<JobRunConfig::LocalStageWork> {
      bool any = std::any_of(sources.begin(), sources.end(),
                             [](const auto& s) { return !s.second.archive.empty(); });
      if (!any) return std::nullopt;
      return [&, trace_log](TraceSink& trace) { receive_artifacts(sources, project, trace_log(trace)); };
    };
    cfg.local_upload = [&](bool succeeded) -> std::optional<JobRunConfig::LocalStageWork> {
      if (!job.artifacts) return std::nullopt;
      // As GitLab: no stage when neither files (for this outcome) nor reports are kept.
      const ArtifactsDef& def = *job.artifacts;
      bool wanted = def.when == "always" || (def.when == "on_failure" ? !succeeded : succeeded);
      bool files = wanted && (!def.paths.empty() || def.untracked);
      if (!files && def.dotenv.empty()) return std::nullopt;
      return [&, trace_log, succeeded](TraceSink& trace) {
        keep_artifacts(job, project, succeeded, trace_log(trace));
      };
    };
  }
  // The project directory is in place before the job starts: the copy of the working tree, or
  // the working tree itself.
  cfg.local_sources = runner.executor == "shell";
  if (runner.executor == "shell") cfg.local_prepare_host = shell_hostname();
  if (!options_.state_dir.empty() && runner.executor == "shell") {
    // Everything the stage's script would remove (file variables, GITLAB_ENV, git lock
    // files) lies in the job directory, which goes when the job ends; the file variables go
    // now, in the stage, as they would on GitLab.
    cfg.local_cleanup = [tmp = cfg.tmp_dir_override]() -> std::optional<JobRunConfig::LocalStageWork> {
      return [tmp](TraceSink&) {
        std::error_code ec;
        std::filesystem::remove_all(tmp, ec);
      };
    };
  }
  JobRun run(spec, **executor, clock_, cfg);
  TraceBuffer trace(run.trace_options(), clock_);
  // coverage: (§11.2): the last log line that matches wins.
  std::string coverage_pending;
  const std::optional<std::regex> coverage =
      job.coverage.empty() ? std::nullopt : coverage_regex(job.coverage);
  auto scan_coverage = [&](std::string_view bytes, bool flush) {
    if (!coverage) return;
    coverage_pending.append(bytes);
    size_t start = 0;
    while (true) {
      size_t nl = coverage_pending.find('\n', start);
      if (nl == std::string::npos && !(flush && start < coverage_pending.size())) break;
      size_t end = nl == std::string::npos ? coverage_pending.size() : nl;
      std::string line = strip_ansi(strip_sections(
          std::string_view(coverage_pending).substr(start, end - start)));
      if (std::optional<std::string> found = coverage_in_line(*coverage, line)) {
        result.coverage = *found;
      }
      start = end + 1;
    }
    coverage_pending.erase(0, std::min(start, coverage_pending.size()));
  };
  trace.set_observer([&](std::string_view bytes) {
    log(bytes);
    scan_coverage(bytes, false);
  });
  std::stop_callback on_stop(stop, [&run] { run.interrupt("interrupt"); });
  result.outcome = run.execute(trace);
  trace.finish();
  scan_coverage("", true);
  print_lines(name, color_index, pending, "", true);
  result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace glr
