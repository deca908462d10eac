// The stage sequence of one job and its outcome rules (executors §1.1-1.8, §2.4-2.7).
#include "runner/job_run.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "trace/log_lines.h"
#include "util/duration.h"
#include "util/short_token.h"
#include "util/strings.h"
#include "util/version.h"

namespace glr {

using namespace std::chrono_literals;

namespace {

constexpr std::chrono::seconds kDefaultJobTimeout{7200};
constexpr std::chrono::seconds kDefaultAfterScriptTimeout{300};

int64_t unix_seconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
}

// Joins the stop of `a` and `b` into one token for a stage.
class JoinedStop {
 public:
  JoinedStop(std::stop_token a, std::stop_token b)
      : cb_a_(a, [this] { source_.request_stop(); }), cb_b_(b, [this] { source_.request_stop(); }) {}
  std::stop_token token() const { return source_.get_token(); }

 private:
  std::stop_source source_;
  std::stop_callback<std::function<void()>> cb_a_;
  std::stop_callback<std::function<void()>> cb_b_;
};

}  // namespace

std::string exit_error_message(const ExecutorTraits& traits, const ExitStatus& status) {
  if (status.signal != 0) {
    // Go's os/exec wording for a signalled shell.
    switch (status.signal) {
      case 9: return "signal: killed";
      case 15: return "signal: terminated";
      case 2: return "signal: interrupt";
      default: return "signal: " + std::to_string(status.signal);
    }
  }
  return traits.exit_error_prefix + " " + std::to_string(status.code);
}

JobRun::JobRun(JobSpec job, Executor& executor, Clock& clock, JobRunConfig config)
    : job_(std::move(job)), executor_(executor), clock_(clock), config_(std::move(config)) {
  const ExecutorTraits& traits = executor_.traits();
  std::string short_tok = short_token(config_.runner.token.value);

  // A first pass over the payload variables decides the Git strategy, which
  // shapes the directories, which the final variable list contains.
  BuildSettings early =
      parse_build_settings(job_.variables, job_.allow_git_fetch,
                           config_.runner.debug_trace_disabled, job_timeout(), job_.git_info.depth);
  if (!config_.project_dir_override.empty()) {
    BuildDirs d;
    d.project_dir = config_.project_dir_override;
    d.builds_dir = config_.runner.builds_dir.empty()
                       ? std::filesystem::path(d.project_dir).parent_path().string()
                       : config_.runner.builds_dir;
    d.tmp_dir = config_.tmp_dir_override.empty() ? d.project_dir + ".tmp"
                                                 : config_.tmp_dir_override;
    d.cache_dir = config_.runner.cache_dir.empty() ? traits.default_cache_dir
                                                   : config_.runner.cache_dir;
    dirs_ = d;
  } else {
    BuildDirsInput in;
    in.builds_root = config_.runner.builds_dir.empty() ? traits.default_builds_dir
                                                       : config_.runner.builds_dir;
    in.cache_root = config_.runner.cache_dir.empty() ? traits.default_cache_dir
                                                     : config_.runner.cache_dir;
    in.shared = traits.shared_builds_dir;
    in.short_token = short_tok;
    in.concurrent_project_id = config_.concurrent_project_id;
    in.repo_url = job_.git_info.repo_url;
    in.project_id = job_.job_info.project_id;
    in.git_strategy = early.git_strategy;
    const Variable* clone_path = find_variable(job_.variables, "GIT_CLONE_PATH");
    if (clone_path != nullptr) in.git_clone_path = clone_path->value;
    in.custom_build_dir_enabled =
        config_.runner.custom_build_dir_enabled.value_or(traits.custom_build_dir_default);
    in.variables = job_.variables;
    dirs_ = compute_build_dirs(in);
  }

  JobVariablesInput vin;
  vin.job = &job_;
  vin.runner_environment = config_.runner.environment;
  vin.config_feature_flags = config_.runner.feature_flags;
  vin.short_token = short_tok;
  if (dirs_) {
    vin.builds_dir = dirs_->builds_dir;
    vin.project_dir = dirs_->project_dir;
    vin.tmp_dir = dirs_->tmp_dir;
  }
  vin.concurrent_id = config_.concurrent_id;
  vin.concurrent_project_id = config_.concurrent_project_id;
  vin.job_timeout_seconds = job_timeout().count();
  vin.shared_environment = !traits.disposable_environment;
  vin.runner_version = compat_version();
  vin.runner_revision = revision();
  vin.executable_arch = std::string(platform()) + "/" + architecture();
  vars_ = build_job_variables(vin);
  settings_ = parse_build_settings(vars_.list, job_.allow_git_fetch,
                                   config_.runner.debug_trace_disabled, job_timeout(),
                                   job_.git_info.depth);
}

std::chrono::seconds JobRun::job_timeout() const {
  return job_.runner_info.timeout > 0 ? std::chrono::seconds(job_.runner_info.timeout)
                                      : kDefaultJobTimeout;
}

TraceOptions JobRun::trace_options() const {
  TraceOptions o;
  o.masked_values = masked_values(vars_.list);
  o.token_prefixes_extra = job_.features.token_mask_prefixes;
  o.mask_all_default_tokens = vars_.flags.get("FF_MASK_ALL_DEFAULT_TOKENS");
  o.timestamps = vars_.flags.get("FF_TIMESTAMPS");
  int64_t limit_kib = config_.runner.output_limit > 0 ? config_.runner.output_limit : 4096;
  o.output_limit_bytes = limit_kib * 1024;
  return o;
}

void JobRun::cancel_gracefully() {
  // Before the user steps the whole job stops; during them only the script; after
  // them a graceful cancel has no effect (executors §1.6).
  int phase = phase_.load();
  if (phase == 0) {
    StopCause expected = StopCause::kNone;
    cause_.compare_exchange_strong(expected, StopCause::kCanceled);
    job_stop_.request_stop();
  } else if (phase == 1) {
    graceful_cancel_ = true;
    script_stop_.request_stop();
  }
}

void JobRun::abort() {
  StopCause expected = StopCause::kNone;
  cause_.compare_exchange_strong(expected, StopCause::kAborted);
  job_stop_.request_stop();
}

void JobRun::interrupt(const std::string& signal_name) {
  {
    std::lock_guard lock(mu_);
    interrupt_signal_ = signal_name;
  }
  StopCause expected = StopCause::kNone;
  cause_.compare_exchange_strong(expected, StopCause::kInterrupted);
  job_stop_.request_stop();
}

std::string JobRun::current_stage() const {
  std::lock_guard lock(mu_);
  return current_stage_;
}

ScriptContext JobRun::script_context(const std::string& job_status) const {
  ScriptContext ctx;
  ctx.job = &job_;
  ctx.variables = &vars_.list;
  ctx.settings = &settings_;
  if (dirs_) ctx.dirs = *dirs_;
  ctx.runner_url = config_.runner.url;
  ctx.clone_url = config_.runner.clone_url;
  ctx.pre_get_sources_script = config_.runner.pre_get_sources_script;
  ctx.post_get_sources_script = config_.runner.post_get_sources_script;
  ctx.pre_build_script = config_.runner.pre_build_script;
  ctx.post_build_script = config_.runner.post_build_script;
  ctx.helper_command = executor_.traits().helper_command.empty()
                           ? config_.helper_command
                           : executor_.traits().helper_command;
  if (config_.remote_cache) {
    ctx.remote_cache = [this](const std::string& key) {
      return config_.remote_cache(config_.runner, job_.job_info.project_id, key, job_timeout());
    };
  }
  ctx.runner_hostname = executor_.traits().runner_hostname;
  ctx.shared_environment = !executor_.traits().disposable_environment;
  ctx.shell = executor_.traits().shell;
  ctx.stage_in_subshell = executor_.traits().stage_in_subshell;
  if (executor_.traits().name == "docker") {
    // Containers print "Running on <container hostname> via <runner host>..." (§7.1).
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) == 0) ctx.runner_hostname = host;
  }
  ctx.trace_sections = job_.features.trace_sections;
  ctx.clean_git_config = config_.runner.clean_git_config.value_or(
      executor_.traits().name != "shell" && settings_.git_strategy != GitStrategy::kNone);
  ctx.safe_directory_checkout = config_.runner.safe_directory_checkout.value_or(
      executor_.traits().disposable_environment);
  ctx.job_status = job_status;
  ctx.user_agent = std::string("gitlab-runner ") + compat_version() + " " + platform() + "/" +
                   architecture();
  ctx.ff_script_sections = vars_.flags.get("FF_SCRIPT_SECTIONS");
  if (vars_.flags.get("FF_USE_GITALY_CORRELATION_ID")) ctx.correlation_id = config_.correlation_id;
  return ctx;
}

void JobRun::write_header(TraceBuffer& trace) {
  println(trace, std::string("Running with gitlab-runner ") + compat_version() + " (" +
                     revision() + ")");
  std::string short_tok = short_token(config_.runner.token.value);
  if (!short_tok.empty()) {
    println(trace, "  on " + config_.runner.name + " " + short_tok +
                       ", system ID: " + config_.system_id);
  }
  std::vector<std::string> changed = changed_flags_for_header(vars_.flags);
  if (!changed.empty()) println(trace, "  feature flags: " + join(changed, ", "));
}

JobRun::StageFailure JobRun::failure_from_stop() const {
  switch (cause_.load()) {
    case StopCause::kTimeout:
      return {FailureReason::kJobExecutionTimeout,
              "execution took longer than " + format_go_duration(job_timeout()) + " seconds", 0};
    case StopCause::kInterrupted: {
      std::lock_guard lock(mu_);
      return {FailureReason::kRunnerInterrupted, "aborted: " + interrupt_signal_, 0};
    }
    case StopCause::kCanceled:
    case StopCause::kAborted:
    case StopCause::kNone:
      break;
  }
  return {FailureReason::kJobCanceled, "canceled", 0};
}

JobRun::StageResult JobRun::run_stage(StageKind kind, const std::string& step_name,
                                      TraceBuffer& trace, std::stop_token stop,
                                      const std::string& job_status) {
  if (stop.stop_requested()) return failure_from_stop();
  ScriptContext ctx = script_context(job_status);
  bool in_build_container = kind == StageKind::kUserStep || kind == StageKind::kAfterScript;
  Variables predefined_vars;
  if (!in_build_container) {
    // Stages outside the build container may see the job directories elsewhere
    // (docker without a helper image: a staging copy on the runner host).
    std::vector<std::pair<std::string, std::string>> moved;
    for (std::string* dir : {&ctx.dirs.builds_dir, &ctx.dirs.project_dir, &ctx.dirs.tmp_dir,
                             &ctx.dirs.cache_dir}) {
      std::string mapped = executor_.predefined_path(*dir);
      if (!dir->empty() && mapped != *dir) moved.emplace_back(*dir, mapped);
      *dir = mapped;
    }
    if (!moved.empty()) {
      predefined_vars = vars_.list;
      for (Variable& v : predefined_vars) {
        for (const auto& [from, to] : moved) {
          if (v.value == from || v.value.rfind(from + "/", 0) == 0) {
            v.value = to + v.value.substr(from.size());
            break;
          }
        }
      }
      ctx.variables = &predefined_vars;
    }
  }
  Result<std::optional<std::string>> script = generate_stage_script(kind, step_name, ctx);
  if (!script) return StageFailure{FailureReason::kRunnerSystemFailure, script.error().message, 0};
  if (!script->has_value()) return std::nullopt;  // skipped: invisible (§1.2)

  std::string name = stage_name(kind, step_name);
  bool sections = open_stage(name, glr::stage_header(kind, step_name), trace);

  StageScript stage;
  stage.stage = name;
  stage.script = std::move(**script);
  stage.in_build_container = in_build_container;
  Result<ExitStatus> status = executor_.run(stage, trace, stop);
  trace.flush(kScriptStdout);
  trace.flush(kScriptStderr);
  if (sections) section_end(trace, name, unix_seconds(clock_));

  if (!status) {
    if (status.error().kind == ErrorKind::kCanceled || stop.stop_requested()) {
      return failure_from_stop();
    }
    return StageFailure{FailureReason::kRunnerSystemFailure, status.error().message, 0};
  }
  if (status->code == 0 && status->signal == 0) return std::nullopt;
  int code = status->signal != 0 ? -1 : status->code;
  return StageFailure{FailureReason::kScriptFailure,
                      exit_error_message(executor_.traits(), *status), code};
}

bool JobRun::open_stage(const std::string& name, const std::string& header, TraceBuffer& trace) {
  {
    std::lock_guard lock(mu_);
    current_stage_ = name;
  }
  if (config_.on_stage) config_.on_stage(name);
  bool sections = job_.features.trace_sections;
  if (sections) section_start(trace, name, unix_seconds(clock_));
  stage_header(trace, header);
  return sections;
}

std::optional<std::string> JobRun::printed_prepare() const {
  if (config_.local_prepare_host.empty() || !dirs_) return std::nullopt;
  ScriptContext ctx = script_context("running");
  for (const std::string& file : prepare_script_removed_files(ctx)) {
    // `rm -f` of a file; anything else (a directory, no permission) is the script's to report.
    std::error_code ec;
    std::filesystem::file_status st = std::filesystem::symlink_status(file, ec);
    if (ec && ec != std::errc::no_such_file_or_directory) return std::nullopt;
    if (!std::filesystem::exists(st)) continue;
    if (std::filesystem::is_directory(st) || !std::filesystem::remove(file, ec) || ec) {
      return std::nullopt;
    }
  }
  return prepare_script_output(ctx, config_.local_prepare_host);
}

std::optional<std::string> JobRun::printed_sources() const {
  if (!config_.local_sources || !dirs_) return std::nullopt;
  ScriptContext ctx = script_context("running");
  std::optional<std::string> printed = get_sources_print_only(ctx);
  if (!printed) return std::nullopt;
  // The script's other two effects: `mkdir -p` of the project directory, and an ownership fix
  // that only a builds directory marked with .gitlab-build-uid-gid asks for (then: the script).
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(ctx.dirs.builds_dir) / ".gitlab-build-uid-gid", ec) ||
      ec) {
    return std::nullopt;
  }
  std::filesystem::create_directories(ctx.dirs.project_dir, ec);
  if (ec) return std::nullopt;  // the script's mkdir reports it
  return printed;
}

void JobRun::run_printed_stage(StageKind kind, const std::string& output, TraceBuffer& trace) {
  run_local_stage(kind, [&output](TraceSink& sink) { sink.write(kScriptStdout, output); }, trace);
}

void JobRun::run_local_stage(StageKind kind, const JobRunConfig::LocalStageWork& work,
                             TraceBuffer& trace) {
  std::string name = stage_name(kind, "");
  bool sections = open_stage(name, glr::stage_header(kind, ""), trace);
  work(trace);
  trace.flush(kScriptStdout);
  if (sections) section_end(trace, name, unix_seconds(clock_));
}

JobRun::StageResult JobRun::run_with_attempts(StageKind kind, int attempts, TraceBuffer& trace) {
  StageResult result;
  std::chrono::seconds delay = 5s;
  bool exponential = vars_.flags.get("FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY");
  for (int attempt = 0; attempt < std::max(1, attempts); ++attempt) {
    if (attempt > 0) {
      warning(trace, "Retrying...");
      std::chrono::seconds wait = exponential ? std::min<std::chrono::seconds>(delay, 5min)
                                              : std::min<std::chrono::seconds>(
                                                    std::chrono::seconds(1 << std::min(attempt - 1, 3)), 5s);
      if (!clock_.sleep_for(wait, job_stop_.get_token())) return failure_from_stop();
      delay *= 2;
      if (kind == StageKind::kGetSources && attempt == 1) {
        StageResult cleared = run_stage(StageKind::kClearWorktree, "", trace, job_stop_.get_token());
        if (cleared && job_stop_.stop_requested()) return cleared;
      }
    }
    result = run_stage(kind, "", trace, job_stop_.get_token());
    if (!result || job_stop_.stop_requested()) return result;
  }
  return result;
}

JobRun::StageResult JobRun::prepare_executor(TraceBuffer& trace) {
  const ExecutorTraits& traits = executor_.traits();
  bool sections =
      open_stage("prepare_executor", "Preparing the \"" + traits.name + "\" executor", trace);
  PrepareOptions options;
  if (dirs_) {
    options.builds_dir = dirs_->builds_dir;
    options.project_dir = dirs_->project_dir;
    options.cache_dir = dirs_->cache_dir;
  }
  options.user = config_.user;
  options.concurrent_project_id = config_.concurrent_project_id;
  options.variables = vars_.list;
  options.stop = job_stop_.get_token();
  for (const Variable& v : vars_.list) options.job_env.push_back(v.key + "=" + v.value);
  StageResult result;
  for (int attempt = 0; attempt < 3; ++attempt) {
    Result<> prepared = executor_.prepare(job_, options, trace);
    if (prepared) {
      result.reset();
      break;
    }
    if (job_stop_.stop_requested()) {
      result = failure_from_stop();
      break;
    }
    // kNotFound / kUnauthorized: an image that is missing or denied (executors §1.8);
    // kExternalDependency: pulling failed on the network, retried first.
    ErrorKind kind = prepared.error().kind;
    FailureReason reason = kind == ErrorKind::kInvalidInput || kind == ErrorKind::kNotFound ||
                                   kind == ErrorKind::kUnauthorized
                               ? FailureReason::kRunnerConfigurationError
                           : kind == ErrorKind::kExternalDependency
                               ? FailureReason::kRunnerExternalDependencyFailure
                               : FailureReason::kRunnerSystemFailure;
    if (prepared.error().message.starts_with(kImagePullFailedPrefix)) {
      reason = FailureReason::kImagePullFailure;
    }
    result = StageFailure{reason, prepared.error().message, 0};
    // Configuration errors and images that cannot be pulled are not retried (executors §1.4).
    if (reason == FailureReason::kRunnerConfigurationError ||
        reason == FailureReason::kImagePullFailure || attempt == 2) {
      break;
    }
    error(trace, "Preparation failed: " + prepared.error().message);
    info(trace, "Will be retried in " + format_go_duration(config_.prepare_retry_delay) + " ...");
    if (!clock_.sleep_for(config_.prepare_retry_delay, job_stop_.get_token())) {
      result = failure_from_stop();
      break;
    }
  }
  if (sections) section_end(trace, "prepare_executor", unix_seconds(clock_));
  return result;
}

JobRun::StageResult JobRun::run_user_steps(TraceBuffer& trace) {
  phase_ = 1;
  for (const std::string& w : settings_.timeout_warnings) warning(trace, w);
  StageResult error_so_far;
  std::optional<Timer> script_timer;
  if (settings_.script_timeout) {
    script_timer.emplace(*settings_.script_timeout, [this] { script_stop_.request_stop(); });
  }
  for (const Step& step : job_.steps) {
    if (step.name == "after_script") continue;
    bool run = error_so_far ? (step.when == StepWhen::kOnFailure || step.when == StepWhen::kAlways)
                            : step.when != StepWhen::kOnFailure;
    if (!run) continue;
    JoinedStop stop(job_stop_.get_token(), script_stop_.get_token());
    StageResult r = run_stage(StageKind::kUserStep, step.name, trace, stop.token());
    if (r && !job_stop_.stop_requested() && script_stop_.stop_requested()) {
      // Graceful cancel or script timeout stopped only the script context.
      if (!graceful_cancel_) {
        r = StageFailure{FailureReason::kJobExecutionTimeout,
                         "script timeout: context deadline exceeded", 0};
      } else {
        warning(trace, "script canceled externally (UI, API)");
        r = StageFailure{FailureReason::kJobCanceled, "canceled", 0};
      }
    }
    if (r && !error_so_far) error_so_far = r;
    if (job_stop_.stop_requested() || script_stop_.stop_requested()) break;
  }
  if (script_timer) script_timer->cancel();
  phase_ = 2;
  return error_so_far;
}

void JobRun::run_after_script(const StageResult& job_error, TraceBuffer& trace) {
  if (job_stop_.stop_requested()) return;
  std::string status = "success";
  if (job_error) {
    if (job_error->reason == FailureReason::kJobCanceled) status = "canceled";
    else if (job_error->reason == FailureReason::kJobExecutionTimeout) status = "timedout";
    else status = "failed";
  }
  std::stop_source after_stop;
  std::stop_callback link(job_stop_.get_token(), [&after_stop] { after_stop.request_stop(); });
  Timer timer(settings_.after_script_timeout.value_or(kDefaultAfterScriptTimeout),
              [&after_stop] { after_stop.request_stop(); });
  StageResult r = run_stage(StageKind::kAfterScript, "after_script", trace,
                            after_stop.get_token(), status);
  timer.cancel();
  if (r && !job_stop_.stop_requested()) {
    if (after_stop.stop_requested()) r->message = "after_script timeout: context deadline exceeded";
    warning(trace, "after_script failed, but job will continue unaffected: " + r->message);
  }
}

JobOutcome JobRun::finish(const StageResult& failure, TraceBuffer& trace) {
  executor_.cleanup();
  {
    std::lock_guard lock(mu_);
    current_stage_.clear();
  }
  JobOutcome outcome;
  if (!failure) {
    info(trace, "Job succeeded");
    outcome.state = JobState::kSuccess;
    return outcome;
  }
  outcome.state = JobState::kFailed;
  outcome.reason = failure->reason;
  outcome.exit_code = failure->exit_code;
  outcome.message = failure->message;
  if (failure->reason == FailureReason::kRunnerSystemFailure) {
    error(trace, "Job failed (system failure): " + failure->message);
  } else {
    error(trace, "Job failed: " + failure->message);
  }
  return outcome;
}

JobOutcome JobRun::execute(TraceBuffer& trace) {
  write_header(trace);
  Timer job_timer(job_timeout(), [this] {
    StopCause expected = StopCause::kNone;
    cause_.compare_exchange_strong(expected, StopCause::kTimeout);
    job_stop_.request_stop();
  });

  if (!dirs_) {
    JobOutcome o = finish(StageFailure{FailureReason::kRunnerConfigurationError,
                                       dirs_.error().message, 0},
                          trace);
    return o;
  }
  // One settings warning, job settings first, then the flag warnings (§2.7).
  std::vector<std::string> warnings = settings_.warnings;
  warnings.insert(warnings.end(), vars_.flags.warnings.begin(), vars_.flags.warnings.end());
  if (!warnings.empty()) warning(trace, join(warnings, "\n"));

  StageResult failure = prepare_executor(trace);
  if (failure) return finish(failure, trace);

  // prepare_script failing ends the job at once (§1.2).
  if (std::optional<std::string> printed = printed_prepare()) {
    run_printed_stage(StageKind::kPrepareScript, *printed, trace);
  } else {
    failure = run_stage(StageKind::kPrepareScript, "", trace, job_stop_.get_token());
  }
  if (failure) {
    if (failure->reason == FailureReason::kScriptFailure) {
      failure->message = "prepare environment: " + failure->message +
                         ". Check https://docs.gitlab.com/runner/shells/#shell-profile-loading "
                         "for more information";
    }
    return finish(failure, trace);
  }

  if (std::optional<std::string> printed = printed_sources()) {
    run_printed_stage(StageKind::kGetSources, *printed, trace);
  } else {
    failure = run_with_attempts(StageKind::kGetSources, settings_.get_sources_attempts, trace);
  }
  if (!failure)
    failure = run_with_attempts(StageKind::kRestoreCache, settings_.restore_cache_attempts, trace);
  if (!failure && !config_.local_download) {
    failure = run_with_attempts(StageKind::kDownloadArtifacts,
                                settings_.artifact_download_attempts, trace);
  } else if (!failure) {
    if (std::optional<JobRunConfig::LocalStageWork> work = config_.local_download()) {
      run_local_stage(StageKind::kDownloadArtifacts, *work, trace);
    }
  }
  if (!failure) {
    failure = run_user_steps(trace);
    run_after_script(failure, trace);
  }
  phase_ = 2;

  // A timeout, hard abort or interrupt ends everything at once (§1.5, §1.6).
  if (job_stop_.stop_requested()) return finish(failure_from_stop(), trace);

  StageResult cache_error = run_stage(
      failure ? StageKind::kArchiveCacheOnFailure : StageKind::kArchiveCache, "", trace,
      job_stop_.get_token());
  StageResult upload_error;
  if (config_.local_upload) {
    if (std::optional<JobRunConfig::LocalStageWork> work = config_.local_upload(!failure)) {
      run_local_stage(failure ? StageKind::kUploadArtifactsOnFailure
                              : StageKind::kUploadArtifactsOnSuccess,
                      *work, trace);
    }
  } else {
    upload_error = run_stage(failure ? StageKind::kUploadArtifactsOnFailure
                                     : StageKind::kUploadArtifactsOnSuccess,
                             "", trace, job_stop_.get_token());
  }
  if (job_stop_.stop_requested()) return finish(failure_from_stop(), trace);
  // cleanup_file_variables errors only reach the runner log (§1.2).
  std::optional<JobRunConfig::LocalStageWork> local_cleanup;
  if (config_.local_cleanup) local_cleanup = config_.local_cleanup();
  if (local_cleanup) {
    run_local_stage(StageKind::kCleanupFileVariables, *local_cleanup, trace);
  } else {
    (void)run_stage(StageKind::kCleanupFileVariables, "", trace, job_stop_.get_token());
  }
  if (!failure) failure = cache_error ? cache_error : upload_error;
  job_timer.cancel();
  if (job_stop_.stop_requested() && !failure) failure = failure_from_stop();
  return finish(failure, trace);
}

}  // namespace glr
