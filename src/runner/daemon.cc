// The feeder/worker job loop, per api spec §2.3 and §2.5, and shutdown per §10.1.
#include "runner/daemon.h"

#include <algorithm>
#include <cmath>

#include "model/job_outcome.h"
#include "runner/job_run.h"
#include "runner/trace_uploader.h"
#include "trace/log_lines.h"
#include "trace/trace_buffer.h"
#include "util/log.h"
#include "util/short_token.h"
#include "util/strings.h"

namespace glr {

using namespace std::chrono_literals;

namespace {

std::string state_key(const RunnerSettings& r) { return r.url + "\n" + r.token.value; }

int check_interval_s(const GlobalConfig& c) { return c.check_interval > 0 ? c.check_interval : 3; }

int unhealthy_limit(const RunnerSettings& r) {
  return r.unhealthy_requests_limit > 0 ? r.unhealthy_requests_limit : 3;
}

std::chrono::nanoseconds unhealthy_interval(const RunnerSettings& r) {
  return r.unhealthy_interval.count() > 0 ? r.unhealthy_interval
                                          : std::chrono::nanoseconds(1h);
}

std::string sanitize_url(const std::string& url) {
  // Strip "user:password@" so a clone URL never reaches the runner log.
  size_t scheme = url.find("://");
  size_t at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos || (slash != std::string::npos && at > slash))
    return url;
  return url.substr(0, scheme + 3) + url.substr(at + 1);
}

// <project URL>/-/jobs/<id> from CI_JOB_URL, else from the clone URL (/debug/jobs/list).
std::string job_web_url(const JobSpec& job) {
  if (const Variable* v = find_variable(job.variables, "CI_JOB_URL")) return v->value;
  std::string url = sanitize_url(job.git_info.repo_url);
  if (url.ends_with(".git")) url.resize(url.size() - 4);
  return url + "/-/jobs/" + std::to_string(job.id);
}

}  // namespace

Daemon::Daemon(GitLabClient& gitlab, ExecutorFactory& executors, Clock& clock,
               GlobalConfig config, DaemonOptions options)
    : gitlab_(gitlab),
      executors_(executors),
      clock_(clock),
      options_(std::move(options)),
      config_(std::make_shared<const GlobalConfig>(std::move(config))) {}

Daemon::~Daemon() {
  stop_forceful("terminated");
  feeder_ = {};
  workers_.clear();
}

std::shared_ptr<const GlobalConfig> Daemon::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

void Daemon::start() {
  {
    std::lock_guard lock(mu_);
    last_job_at_ = clock_.steady_now();
  }
  ensure_workers();
  feeder_ = std::jthread([this](std::stop_token stop) { feed(stop); });
}

void Daemon::ensure_workers() {
  int wanted = std::max(1, config()->concurrent);
  if (options_.metrics != nullptr) {
    options_.metrics->set_concurrent(wanted);
    options_.metrics->set_worker_slots(wanted);
  }
  while (static_cast<int>(workers_.size()) < wanted) {
    int index = static_cast<int>(workers_.size());
    {
      std::lock_guard lock(mu_);
      ++live_workers_;
    }
    if (options_.metrics != nullptr) options_.metrics->worker_slot_operation("started");
    workers_.emplace_back([this, index](std::stop_token stop) { work(stop, index); });
  }
  cv_.notify_all();
}

void Daemon::reload(GlobalConfig config) {
  {
    std::lock_guard lock(mu_);
    config_ = std::make_shared<const GlobalConfig>(std::move(config));
    // Health state is reset on reload (§10.2).
    for (auto& [key, state] : runner_state_) state.unhealthy_count = 0;
  }
  if (feeding_) ensure_workers();
  cv_.notify_all();
}

RunnerIdentity Daemon::identity(const RunnerSettings& runner) const {
  return RunnerIdentity{short_token(runner.token.value), runner.name, options_.system_id};
}

RunnerCredentials Daemon::credentials(const RunnerSettings& runner) const {
  RunnerCredentials c;
  c.url = runner.url;
  c.token = runner.token;
  c.system_id = options_.system_id;
  c.tls_ca_file = runner.tls_ca_file;
  c.tls_cert_file = runner.tls_cert_file;
  c.tls_key_file = runner.tls_key_file;
  return c;
}

bool Daemon::is_healthy(const RunnerSettings& runner) {
  std::lock_guard lock(mu_);
  RunnerState& s = runner_state_[state_key(runner)];
  if (!s.seen) {
    s.seen = true;
    s.last_healthy = clock_.steady_now();
  }
  if (s.unhealthy_count < unhealthy_limit(runner)) return true;
  if (clock_.steady_now() - s.last_healthy >= unhealthy_interval(runner)) {
    // Interval over: reset and force one request (§2.3).
    s.unhealthy_count = 0;
    return true;
  }
  return false;
}

void Daemon::feed(std::stop_token stop) {
  while (!stop.stop_requested() && feeding_) {
    std::shared_ptr<const GlobalConfig> cfg = config();
    std::chrono::nanoseconds interval = std::chrono::seconds(check_interval_s(*cfg));
    std::vector<const RunnerSettings*> runners;
    for (const RunnerSettings& r : cfg->runners) {
      if (trim(r.token.value).empty()) continue;
      runners.push_back(&r);
    }
    if (runners.empty()) {
      clock_.sleep_for(interval, stop);
      continue;
    }
    for (const RunnerSettings* r : runners) {
      if (stop.stop_requested() || !feeding_) return;
      if (is_healthy(*r)) {
        std::unique_lock lock(mu_);
        // Unbuffered hand-off: wait for an idle worker (§2.5).
        cv_.wait(lock, stop, [this] { return idle_workers_ > static_cast<int>(handoff_.size()) || !feeding_; });
        if (stop.stop_requested() || !feeding_) return;
        handoff_.push_back(*r);
        lock.unlock();
        cv_.notify_all();
        if (options_.metrics != nullptr) options_.metrics->worker_fed(identity(*r));
      } else {
        if (options_.metrics != nullptr) options_.metrics->worker_feed_failed(identity(*r));
        log_debug("Runner is not healthy and will be disabled!",
                  {{"runner", short_token(r->token.value)}});
      }
      clock_.sleep_for(interval / static_cast<int64_t>(runners.size()), stop);
    }
  }
}

void Daemon::work(std::stop_token stop, int index) {
  while (true) {
    RunnerSettings runner;
    {
      std::unique_lock lock(mu_);
      ++idle_workers_;
      cv_.notify_all();
      cv_.wait(lock, stop, [&] {
        return !handoff_.empty() || !feeding_ || index >= std::max(1, config_->concurrent);
      });
      --idle_workers_;
      if (handoff_.empty()) {
        // Nothing to do and either shutting down or this slot was removed by a reload.
        if (!feeding_ || stop.stop_requested() || index >= std::max(1, config_->concurrent)) {
          --live_workers_;
          cv_.notify_all();
          return;
        }
        continue;
      }
      runner = std::move(handoff_.front());
      handoff_.pop_front();
    }
    process(runner);
  }
}

void Daemon::process(const RunnerSettings& runner) {
  std::string short_tok = short_token(runner.token.value);
  if (!executors_.supports(runner)) {
    log_error("Executor not supported", {{"runner", short_tok}, {"executor", runner.executor}});
    std::lock_guard lock(mu_);
    RunnerState& s = runner_state_[state_key(runner)];
    ++s.unhealthy_count;
    return;
  }
  bool adaptive_on = true;
  if (auto it = runner.feature_flags.find("FF_USE_ADAPTIVE_REQUEST_CONCURRENCY");
      it != runner.feature_flags.end())
    adaptive_on = it->second;
  int hard_limit = std::max(1, runner.request_concurrency);
  std::string last_update;
  {
    std::lock_guard lock(mu_);
    RunnerState& s = runner_state_[state_key(runner)];
    if (runner.limit > 0 && s.builds >= runner.limit) return;
    int effective = hard_limit;
    if (adaptive_on)
      effective = std::clamp(static_cast<int>(std::ceil(s.adaptive)), 1, hard_limit);
    if (options_.metrics != nullptr)
      options_.metrics->set_request_concurrency_limits(identity(runner), hard_limit, s.adaptive,
                                                       effective);
    if (s.requests >= effective) {
      if (options_.metrics != nullptr) options_.metrics->request_concurrency_exceeded(identity(runner));
      return;
    }
    ++s.requests;
    ++s.builds;
    ++stats_.requests;
    last_update = s.last_update;
    if (options_.metrics != nullptr)
      options_.metrics->set_request_concurrency(identity(runner), s.requests);
  }
  RunnerInfoPayload info = executors_.runner_info(runner);
  JobRequestResult result =
      gitlab_.request_job(credentials(runner), info, last_update, requests_stop_.get_token());
  bool got_job = result.job.has_value();
  {
    std::lock_guard lock(mu_);
    RunnerState& s = runner_state_[state_key(runner)];
    --s.requests;
    if (options_.metrics != nullptr)
      options_.metrics->set_request_concurrency(identity(runner), s.requests);
    if (!result.last_update.empty()) s.last_update = result.last_update;
    if (result.unhealthy) {
      ++s.unhealthy_count;
      if (options_.metrics != nullptr) options_.metrics->worker_health_check_failed(identity(runner));
    } else {
      s.unhealthy_count = 0;
      s.last_healthy = clock_.steady_now();
    }
    if (result.retriable_response_seen) s.adaptive *= 0.5;
    else if (got_job) s.adaptive *= 1.1;
    else s.adaptive *= 0.95;
    // Starting from 0 the multiplications never grow it; the clamp gives at least 1.
    s.adaptive = std::clamp(s.adaptive, 1.0, static_cast<double>(hard_limit));
    if (!got_job) --s.builds;
  }
  if (!got_job) {
    if (result.status == 204) {
      log_debug("Checking for jobs... nothing", {{"runner", short_tok}});
    } else if (result.status == 403) {
      log_error("Checking for jobs... forbidden", {{"runner", short_tok}, {"status", "403"}});
    } else if (result.status == 503) {
      log_warning("Checking for jobs... GitLab instance currently unavailable",
                  {{"runner", short_tok}});
    } else if (result.unhealthy) {
      log_error("Checking for jobs... client error",
                {{"runner", short_tok}, {"error", result.message}});
    } else {
      log_warning("Checking for jobs... failed", {{"runner", short_tok},
                                                   {"status", std::to_string(result.status)},
                                                   {"error", result.message}});
    }
    if (options_.wait_timeout.count() > 0) {
      std::lock_guard lock(mu_);
      if (running_.empty() && clock_.steady_now() - last_job_at_ >= options_.wait_timeout) {
        self_stopped_ = true;
        feeding_ = false;
        cv_.notify_all();
      }
    }
    return;
  }
  JobSpec job = std::move(*result.job);
  log_info("Checking for jobs... received", {{"job", std::to_string(job.id)},
                                             {"project", std::to_string(job.job_info.project_id)},
                                             {"repo_url", sanitize_url(job.git_info.repo_url)},
                                             {"runner", short_tok}});
  {
    std::lock_guard lock(mu_);
    ++stats_.jobs_received;
    last_job_at_ = clock_.steady_now();
    if (options_.max_builds > 0 && stats_.jobs_received >= options_.max_builds) {
      self_stopped_ = true;
      feeding_ = false;
    }
    // Re-queue the same runner at once so an idle worker drains the queue (§2.5).
    if (!runner.strict_check_interval && feeding_ &&
        idle_workers_ > static_cast<int>(handoff_.size()))
      handoff_.push_back(runner);
  }
  cv_.notify_all();
  if (!result.payload_errors.empty()) {
    finish_payload_error(runner, info, job, result.payload_errors);
  } else {
    run_job(runner, std::move(job), info, result.correlation_id);
  }
  {
    std::lock_guard lock(mu_);
    --runner_state_[state_key(runner)].builds;
    ++stats_.jobs_finished;
    last_job_at_ = clock_.steady_now();
  }
  cv_.notify_all();
}

void Daemon::finish_payload_error(const RunnerSettings& runner, const RunnerInfoPayload& info,
                                  const JobSpec& job, const std::vector<std::string>& errors) {
  // An unsupported payload fails the job with runner_system_failure and exit
  // code 3, its reason written into the log (§2.3).
  TraceBuffer trace(TraceOptions{}, clock_);
  for (const std::string& e : errors) error(trace, e);
  trace.finish();
  RunnerCredentials creds = credentials(runner);
  TraceUploaderOptions opts;
  opts.job_id = job.id;
  opts.job_token = job.token;
  TraceUploader uploader(gitlab_, creds, info, trace, clock_, opts, {});
  UpdateJobRequest final_state;
  final_state.job_id = job.id;
  final_state.job_token = job.token;
  final_state.state = "failed";
  final_state.failure_reason =
      map_failure_reason(FailureReason::kRunnerSystemFailure, job.features.failure_reasons);
  final_state.exit_code = 3;
  (void)uploader.finish(final_state, final_stop_.get_token());
}

void Daemon::run_job(const RunnerSettings& runner, JobSpec job, const RunnerInfoPayload& info,
                     const std::string& correlation_id) {
  RunnerCredentials creds = credentials(runner);
  std::string short_tok = short_token(runner.token.value);

  // Acknowledge first (§2.3 step 3).
  UpdateJobRequest ack;
  ack.job_id = job.id;
  ack.job_token = job.token;
  ack.state = "running";
  UpdateJobResult acked = gitlab_.update_job(creds, info, ack, final_stop_.get_token());
  if (acked.kind == UpdateKind::kAbort || acked.kind == UpdateKind::kNotFound) {
    log_warning("Job was aborted before it started",
                {{"job", std::to_string(job.id)}, {"runner", short_tok}});
    return;
  }

  Result<std::unique_ptr<Executor>> executor = executors_.create(runner);
  JobSlot slot = slots_.acquire(runner.token.value, job.job_info.project_id);
  int64_t project_id = job.job_info.project_id;
  int64_t job_id = job.id;
  Secret job_token = job.token;
  std::vector<std::string> failure_reasons = job.features.failure_reasons;

  if (!executor) {
    if (options_.metrics != nullptr)
      options_.metrics->worker_processing_failure("other", identity(runner));
    TraceBuffer trace(TraceOptions{}, clock_);
    error(trace, "Job failed (system failure): " + executor.error().message);
    trace.finish();
    TraceUploaderOptions opts;
    opts.job_id = job_id;
    opts.job_token = job_token;
    TraceUploader uploader(gitlab_, creds, info, trace, clock_, opts, {});
    UpdateJobRequest final_state;
    final_state.job_id = job_id;
    final_state.job_token = job_token;
    final_state.state = "failed";
    final_state.failure_reason =
        map_failure_reason(FailureReason::kRunnerSystemFailure, failure_reasons);
    (void)uploader.finish(final_state, final_stop_.get_token());
    slots_.release(runner.token.value, project_id, slot);
    return;
  }

  RunnerIdentity id = identity(runner);
  RunnerMetrics* metrics = options_.metrics;
  auto started_at = clock_.steady_now();
  if (metrics != nullptr) {
    metrics->job_queued(id, job.job_info.time_in_queue_seconds,
                        job.job_info.project_jobs_running_on_instance_runners_count.empty()
                            ? "+Inf"
                            : job.job_info.project_jobs_running_on_instance_runners_count);
    metrics->job_started(job_id, id);
    metrics->set_job_queue(id, static_cast<double>(job.job_info.queue_size),
                           static_cast<double>(job.job_info.queue_depth));
    metrics->job_execution_mode("traditional", runner.executor);
  }
  std::string job_url = job_web_url(job);

  JobRunConfig cfg;
  cfg.runner = runner;
  cfg.system_id = options_.system_id;
  cfg.on_stage = [metrics, job_id](const std::string& stage) {
    if (metrics != nullptr) metrics->set_job_stage(job_id, "running", stage, stage);
  };
  cfg.concurrent_id = slot.concurrent_id;
  cfg.concurrent_project_id = slot.concurrent_project_id;
  cfg.helper_command = options_.helper_command;
  cfg.remote_cache = options_.remote_cache;
  cfg.user = options_.user;
  cfg.correlation_id = correlation_id;
  JobRun run(std::move(job), **executor, clock_, cfg);
  TraceBuffer trace(run.trace_options(), clock_);

  std::atomic<bool> aborted{false};
  TraceUploaderOptions opts;
  opts.job_id = job_id;
  opts.job_token = job_token;
  opts.debug_trace = run.debug_trace();
  opts.final_update_retry_limit =
      runner.job_status_final_update_retry_limit > 0 ? runner.job_status_final_update_retry_limit
                                                     : 10;
  TraceUploaderCallbacks callbacks;
  callbacks.on_cancel_requested = [&run] { run.cancel_gracefully(); };
  callbacks.on_abort = [&run, &aborted] {
    aborted = true;
    run.abort();
  };
  TraceUploader uploader(gitlab_, creds, info, trace, clock_, opts, callbacks);

  {
    std::lock_guard lock(mu_);
    running_.push_back(Running{&run, job_id, short_tok, job_url, clock_.steady_now()});
    if (forceful_) run.interrupt(interrupt_signal_);
  }
  if (acked.cancel_requested) run.cancel_gracefully();
  uploader.start();
  JobOutcome outcome = run.execute(trace);
  trace.finish();
  {
    std::lock_guard lock(mu_);
    running_.erase(std::remove_if(running_.begin(), running_.end(),
                                  [&](const Running& r) { return r.run == &run; }),
                   running_.end());
  }

  if (metrics != nullptr) {
    double seconds = std::chrono::duration<double>(clock_.steady_now() - started_at).count();
    metrics->job_finished(job_id, "traditional", seconds);
    if (outcome.state != JobState::kSuccess)
      metrics->job_failed(id, map_failure_reason(outcome.reason, failure_reasons), "traditional");
    if (outcome.reason == FailureReason::kRunnerSystemFailure)
      metrics->worker_processing_failure("job_failure", id);
  }
  log_info("Job finished", {{"job", std::to_string(job_id)},
                            {"project", std::to_string(project_id)},
                            {"runner", short_tok},
                            {"state", outcome.state == JobState::kSuccess ? "success" : "failed"},
                            {"failure_reason", std::string(to_string(outcome.reason))}});
  // When GitLab aborted the job it accepts no further updates (§4.2); the
  // uploader's destructor only stops its watcher.
  if (!aborted) {
    UpdateJobRequest final_state;
    final_state.job_id = job_id;
    final_state.job_token = job_token;
    if (outcome.state == JobState::kSuccess) {
      final_state.state = "success";
    } else {
      final_state.state = "failed";
      final_state.failure_reason = map_failure_reason(outcome.reason, failure_reasons);
      final_state.exit_code = outcome.exit_code;
    }
    FinalUpdateStatus st = uploader.finish(final_state, final_stop_.get_token());
    if (st == FinalUpdateStatus::kGaveUp)
      log_error("Final job update failed", {{"job", std::to_string(job_id)}, {"runner", short_tok}});
  }
  slots_.release(runner.token.value, project_id, slot);
}

void Daemon::stop_graceful() {
  feeding_ = false;
  {
    // Runners handed off but not yet requested must not start a new request.
    std::lock_guard lock(mu_);
    handoff_.clear();
  }
  feeder_.request_stop();
  cv_.notify_all();
}

void Daemon::stop_forceful(const std::string& signal_name) {
  feeding_ = false;
  forceful_ = true;
  feeder_.request_stop();
  requests_stop_.request_stop();
  {
    std::lock_guard lock(mu_);
    interrupt_signal_ = signal_name;
    for (Running& r : running_) r.run->interrupt(signal_name);
  }
  cv_.notify_all();
}

bool Daemon::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  bool done = cv_.wait_for(lock, timeout, [this] { return live_workers_ == 0; });
  lock.unlock();
  if (done) {
    feeder_.request_stop();
    if (feeder_.joinable()) feeder_.join();
    for (auto& w : workers_)
      if (w.joinable()) w.join();
  }
  return done;
}

std::vector<RunningJobInfo> Daemon::running_jobs() const {
  std::lock_guard lock(mu_);
  std::vector<RunningJobInfo> out;
  for (const Running& r : running_) {
    out.push_back(RunningJobInfo{r.job_id, r.url, r.short_token, r.run->current_stage(),
                                 clock_.steady_now() - r.started});
  }
  return out;
}

DaemonStats Daemon::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace glr
