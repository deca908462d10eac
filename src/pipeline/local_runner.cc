// Thread per running job (STYLE C6); the driving thread sleeps on a condition variable and
// wakes for each completion or for stop, then asks the Plan what may start next.
#include "pipeline/local_runner.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <regex>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace glr {

int exit_code_for(PipelineStatus status) {
  switch (status) {
    case PipelineStatus::kSuccess:
    case PipelineStatus::kSuccessWithWarnings:
      return 0;
    case PipelineStatus::kFailed:
      return 1;
    case PipelineStatus::kBlocked:
      return 2;
    case PipelineStatus::kCanceled:
      return 130;
  }
  return 1;
}

std::vector<std::string> artifact_sources(const PipelineGraph& graph,
                                          const std::vector<const JobConfig*>& configs, size_t j) {
  const JobConfig& job = *configs[j];
  if (job.dependencies && job.dependencies->empty()) return {};
  auto named_by = [&configs](size_t i, const std::string& name) {
    return configs[i]->name == name || configs[i]->parallel_base == name;
  };
  std::vector<size_t> candidates;
  if (graph.jobs[j].needs) {
    for (size_t n : *graph.jobs[j].needs) {
      bool artifacts = true;
      if (job.needs) {
        for (const NeedDef& need : *job.needs) {
          if (named_by(n, need.job) && !need.artifacts) artifacts = false;
        }
      }
      if (artifacts) candidates.push_back(n);
    }
    std::sort(candidates.begin(), candidates.end());
  } else {
    for (size_t i = 0; i < graph.jobs.size(); ++i) {
      if (graph.jobs[i].stage_index < graph.jobs[j].stage_index) candidates.push_back(i);
    }
  }
  std::vector<std::string> out;
  for (size_t i : candidates) {
    if (job.dependencies) {
      bool listed = std::any_of(job.dependencies->begin(), job.dependencies->end(),
                                [&](const std::string& d) { return named_by(i, d); });
      if (!listed) continue;
    }
    out.push_back(graph.jobs[i].name);
  }
  return out;
}

std::optional<std::regex> coverage_regex(std::string_view regex) {
  std::string pattern(regex);
  if (pattern.size() >= 2 && pattern.front() == '/' && pattern.back() == '/') {
    pattern = pattern.substr(1, pattern.size() - 2);
  }
  auto flags = std::regex::ECMAScript;
  if (pattern.starts_with("(?i)")) {
    pattern.erase(0, 4);
    flags |= std::regex::icase;
  }
  try {
    return std::regex(pattern, flags);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

std::optional<std::string> coverage_in_line(std::string_view regex, std::string_view line) {
  std::optional<std::regex> re = coverage_regex(regex);
  if (!re) return std::nullopt;
  return coverage_in_line(*re, line);
}

std::optional<std::string> coverage_in_line(const std::regex& re, std::string_view line) {
  std::string text(line);
  std::string last;
  bool found = false;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    // Ruby's scan(...).flatten.last: the last group of the last match, or the whole match.
    last = it->size() > 1 ? (*it)[it->size() - 1].str() : it->str();
    found = true;
  }
  if (!found) return std::nullopt;
  static const std::regex number(R"(\d+(?:\.\d+)?)");
  std::smatch m;
  if (!std::regex_search(last, m, number)) return std::nullopt;
  std::string value = m.str();
  while (value.size() > 1 && value[0] == '0' && value[1] != '.') value.erase(0, 1);
  return value;
}

bool should_retry(const std::optional<RetryDef>& retry, const JobOutcome& outcome, int attempt) {
  if (!retry || attempt >= retry->max || outcome.state == JobState::kSuccess) return false;
  if (outcome.reason == FailureReason::kJobCanceled) return false;
  bool code = std::find(retry->exit_codes.begin(), retry->exit_codes.end(), outcome.exit_code) !=
              retry->exit_codes.end();
  if (retry->when.empty()) return retry->exit_codes.empty() || code;
  for (const std::string& when : retry->when) {
    if (when == "always") return true;
    if (when == to_string(outcome.reason)) return true;
    if (when == "stuck_or_timeout_failure" && outcome.reason == FailureReason::kJobExecutionTimeout) {
      return true;
    }
  }
  return code;
}

std::string display_name(const LocalJob& job) {
  return job.pipeline.empty() ? job.name : "[" + job.pipeline + "] -> " + job.name;
}

bool RunSlots::acquire(std::stop_token stop) {
  std::unique_lock lock(mu_);
  if (!cv_.wait(lock, stop, [this] { return free_ > 0; })) return false;
  --free_;
  return true;
}

void RunSlots::release() {
  {
    std::lock_guard lock(mu_);
    ++free_;
  }
  cv_.notify_one();
}

LocalRunner::LocalRunner(JobLauncher& launcher, int concurrency, LocalRunnerHooks hooks)
    : launcher_(launcher),
      concurrency_(concurrency > 0 ? static_cast<size_t>(concurrency)
                                   : std::max(1u, std::thread::hardware_concurrency())),
      hooks_(hooks) {}

// §10: without `strategy: depend` the trigger job is done (passed) as soon as the child exists,
// reported through `done`; with depend (or mirror) it takes the child's status when the child
// ends. Either way this returns only when the child pipeline has ended.
LocalJobResult LocalRunner::run_trigger(const LocalJob& job,
                                        const std::function<void(LocalJobResult)>& done,
                                        std::vector<JobReport>& child_jobs, std::stop_token stop) {
  auto started = std::chrono::steady_clock::now();
  auto elapsed = [&started] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 started);
  };
  LocalJobResult result;
  if (hooks_.downstream == nullptr) {
    result.outcome = JobOutcome{.state = JobState::kFailed,
                                .reason = FailureReason::kRunnerSystemFailure,
                                .message = "child pipelines cannot be run here"};
    return result;
  }
  bool depend = job.trigger->strategy == "depend" || job.trigger->strategy == "mirror";
  Result<PipelineReport> child = hooks_.downstream->run(
      job,
      [&] {
        if (!depend) done(LocalJobResult{.duration = elapsed()});
      },
      stop);
  result.duration = elapsed();
  if (!child) {
    result.outcome = JobOutcome{.state = JobState::kFailed,
                                .reason = FailureReason::kScriptFailure,
                                .message = child.error().message};
    return result;
  }
  child_jobs = std::move(child->jobs);
  switch (child->status) {
    case PipelineStatus::kSuccess:
    case PipelineStatus::kSuccessWithWarnings:
      break;
    case PipelineStatus::kFailed:
      result.outcome = JobOutcome{.state = JobState::kFailed,
                                  .reason = FailureReason::kScriptFailure,
                                  .message = "child pipeline failed"};
      break;
    case PipelineStatus::kCanceled:
      result.outcome = JobOutcome{.state = JobState::kFailed,
                                  .reason = FailureReason::kJobCanceled,
                                  .message = "child pipeline canceled"};
      break;
    case PipelineStatus::kBlocked:
      result.blocked = true;
      result.outcome.message = "child pipeline blocked by a manual job";
      break;
  }
  return result;
}

PipelineReport LocalRunner::run(const PipelineGraph& graph, const std::vector<LocalJob>& jobs,
                                std::stop_token stop) {
  Plan plan(graph);
  std::vector<LocalJobResult> results(graph.jobs.size());
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<size_t, LocalJobResult>> done;  // Guarded by mu.
  std::vector<std::vector<JobReport>> child_jobs(graph.jobs.size());  // Guarded by mu.
  bool stop_seen = false;                               // Guarded by mu.
  std::stop_source job_stop;
  std::stop_callback on_stop(stop, [&] {
    job_stop.request_stop();
    std::lock_guard<std::mutex> lock(mu);
    stop_seen = true;
    cv.notify_all();
  });

  std::vector<std::jthread> threads;
  size_t running = 0;
  bool stopping = false;
  std::set<std::string> busy_groups;  // resource groups with a running job (§9.7)
  std::unique_lock<std::mutex> lock(mu);
  while (true) {
    if (stop_seen && !stopping) {
      stopping = true;
      plan.cancel_pending();
    }
    std::vector<size_t> ready = stopping ? std::vector<size_t>{} : plan.ready();
    for (size_t j : ready) {
      if (running >= concurrency_) break;
      const std::string& group = jobs[j].resource_group;
      if (!group.empty() && busy_groups.count(group) != 0) continue;  // FIFO: graph order
      if (!group.empty()) busy_groups.insert(group);
      plan.start(j);
      ++running;
      threads.emplace_back([&, j] {
        LocalJobResult result;
        bool reported = false;  // a trigger job without depend reports before its child ends
        std::vector<JobReport> child;
        auto report_early = [&](LocalJobResult early) {
          std::lock_guard<std::mutex> guard(mu);
          done.emplace_back(j, std::move(early));
          reported = true;
          cv.notify_all();
        };
        try {
          std::stop_token token = job_stop.get_token();
          bool waited = true;
          if (jobs[j].start_in.count() > 0 && hooks_.clock != nullptr) {
            // when: delayed (§4.4, §9.4): the job is scheduled and starts after start_in.
            launcher_.announce(jobs[j], fmt::format("Job is delayed: it starts in {}s (start_in)\n",
                                                    jobs[j].start_in.count()));
            waited = hooks_.clock->sleep_for(jobs[j].start_in, token);
          }
          if (!waited || token.stop_requested()) {
            result.outcome = JobOutcome{.state = JobState::kFailed,
                                        .reason = FailureReason::kJobCanceled,
                                        .message = "canceled"};
          } else if (jobs[j].trigger) {
            result = run_trigger(jobs[j], report_early, child, token);
          } else if (hooks_.slots != nullptr && !hooks_.slots->acquire(token)) {
            result.outcome = JobOutcome{.state = JobState::kFailed,
                                        .reason = FailureReason::kJobCanceled,
                                        .message = "canceled"};
          } else {
            struct Release {
              RunSlots* slots;
              ~Release() {
                if (slots != nullptr) slots->release();
              }
            } release{hooks_.slots};
            for (int attempt = 0;; ++attempt) {
              result = launcher_.run(jobs[j], token);
              result.attempts = attempt + 1;
              if (job_stop.stop_requested() ||
                  !should_retry(jobs[j].retry, result.outcome, attempt)) {
                break;
              }
            }
          }
        } catch (const std::exception& e) {
          result.outcome = JobOutcome{.state = JobState::kFailed,
                                      .reason = FailureReason::kRunnerSystemFailure,
                                      .message = e.what()};
        } catch (...) {
          result.outcome = JobOutcome{.state = JobState::kFailed,
                                      .reason = FailureReason::kRunnerSystemFailure,
                                      .message = "unknown error"};
        }
        std::lock_guard<std::mutex> guard(mu);
        child_jobs[j] = std::move(child);
        if (!reported) done.emplace_back(j, std::move(result));
        cv.notify_all();
      });
    }
    if (running == 0) {
      if (stopping || plan.ready().empty()) break;
      continue;
    }
    cv.wait(lock, [&] { return !done.empty() || (stop_seen && !stopping); });
    while (!done.empty()) {
      auto [j, result] = std::move(done.front());
      done.pop_front();
      --running;
      busy_groups.erase(jobs[j].resource_group);
      JobStatus status = JobStatus::kSuccess;
      if (result.blocked) {
        status = JobStatus::kManual;  // the trigger waits for the child's manual job (§10)
      } else if (result.outcome.state != JobState::kSuccess) {
        if (result.outcome.reason == FailureReason::kJobCanceled || stopping || stop_seen) {
          status = JobStatus::kCanceled;
        } else if (is_allowed_failure(graph.jobs[j].allow_failure, result.outcome)) {
          status = JobStatus::kWarning;
        } else {
          status = JobStatus::kFailed;
        }
      }
      plan.finish(j, status);
      results[j] = std::move(result);
    }
  }
  lock.unlock();
  threads.clear();  // joins; every thread has already reported

  PipelineReport report{.status = plan.result()};
  for (size_t j = 0; j < graph.jobs.size(); ++j) {
    const LocalJobResult& r = results[j];
    JobReport job{.name = display_name(jobs[j]),
                  .stage = graph.jobs[j].stage,
                  .status = plan.status(j),
                  .duration = r.duration,
                  .exit_code = r.outcome.exit_code,
                  .message = r.outcome.message,
                  .coverage = r.coverage};
    if (r.attempts > 1) {
      job.message = fmt::format("after {} attempts{}{}", r.attempts, job.message.empty() ? "" : "; ",
                                job.message);
    }
    if (graph.jobs[j].trigger && job.status == JobStatus::kSkipped) {
      job.message = "multi-project pipeline: not run locally";
    }
    if (r.blocked) job.message = r.outcome.message;
    report.jobs.push_back(std::move(job));
    for (JobReport& child : child_jobs[j]) report.jobs.push_back(std::move(child));
  }
  return report;
}

namespace {

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms < 60'000) return fmt::format("{:.1f}s", static_cast<double>(ms) / 1000.0);
  long long s = ms / 1000;
  if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
  return fmt::format("{}h {:02}m {:02}s", s / 3600, (s / 60) % 60, s % 60);
}

std::string status_label(const JobReport& job) {
  switch (job.status) {
    case JobStatus::kSuccess: return "passed";
    case JobStatus::kWarning: return "failed (allowed)";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kCanceled: return "canceled";
    case JobStatus::kSkipped: return "skipped";
    case JobStatus::kManual: return "manual";
    case JobStatus::kCreated: return "blocked";
    case JobStatus::kRunning: return "running";
  }
  return "";
}

const char* status_color(JobStatus status) {
  switch (status) {
    case JobStatus::kSuccess: return "\033[32m";
    case JobStatus::kWarning: return "\033[33m";
    case JobStatus::kFailed: return "\033[31m";
    case JobStatus::kCanceled: return "\033[35m";
    default: return "\033[90m";
  }
}

bool has_run(JobStatus status) {
  return status == JobStatus::kSuccess || status == JobStatus::kWarning ||
         status == JobStatus::kFailed || status == JobStatus::kCanceled;
}

}  // namespace

std::string format_summary(const std::vector<JobReport>& jobs, bool color) {
  size_t name_w = 3, stage_w = 5, status_w = 6;
  for (const JobReport& job : jobs) {
    name_w = std::max(name_w, job.name.size());
    stage_w = std::max(stage_w, job.stage.size());
    status_w = std::max(status_w, status_label(job).size());
  }
  std::string out = fmt::format("{:<{}}  {:<{}}  {:<{}}  {}\n", "job", name_w, "stage", stage_w,
                                "status", status_w, "duration");
  for (const JobReport& job : jobs) {
    std::string label = fmt::format("{:<{}}", status_label(job), status_w);
    if (color) label = std::string(status_color(job.status)) + label + "\033[0m";
    std::string duration = has_run(job.status) ? format_duration(job.duration) : "-";
    std::string line = fmt::format("{:<{}}  {:<{}}  {}  {}", job.name, name_w, job.stage,
                                   stage_w, label, duration);
    if (job.status == JobStatus::kFailed || job.status == JobStatus::kWarning) {
      if (job.exit_code != 0) line += fmt::format("  exit code {}", job.exit_code);
    }
    if (!job.coverage.empty()) line += "  coverage " + job.coverage + "%";
    if (!job.message.empty() && job.status != JobStatus::kSuccess) line += "  " + job.message;
    out += line + "\n";
  }
  return out;
}

}  // namespace glr
