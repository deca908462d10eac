// Registry, text exposition and the official runner families. We write the format ourselves
// because it is small and stable, and so byte-for-byte like the Go client that scrapers and
// dashboards built for the official runner already parse.
#include "metrics/metrics.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "util/strings.h"
#include "util/version.h"

namespace glr {

namespace {

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes only backslash and newline (format 0.0.4).
std::string escape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

void append_labels(std::string& out, const LabelPairs& pairs, const std::string* le) {
  if (pairs.empty() && le == nullptr) return;
  out += '{';
  bool first = true;
  for (const auto& [name, value] : pairs) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    out += escape_label_value(value);
    out += '"';
  }
  if (le != nullptr) {
    if (!first) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
}

void append_sample(std::string& out, const std::string& name, std::string_view suffix,
                   const LabelPairs& pairs, const std::string* le, const std::string& value) {
  out += name;
  out += suffix;
  append_labels(out, pairs, le);
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  // Go's shortest %g: scientific when the decimal exponent is < -4 or >= 6 (Go uses precision 6
  // for that decision when the digit count is "shortest"), plain decimal otherwise.
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  size_t e = s.find('e');
  int exponent = std::atoi(s.c_str() + e + 1);
  if (exponent < -4 || exponent >= 6) return s;
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

std::string render_text(std::vector<FamilySnapshot> families) {
  std::sort(families.begin(), families.end(),
            [](const FamilySnapshot& a, const FamilySnapshot& b) { return a.name < b.name; });
  std::string out;
  for (FamilySnapshot& family : families) {
    for (SeriesSnapshot& series : family.series) {
      std::sort(series.labels.begin(), series.labels.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    std::sort(family.series.begin(), family.series.end(),
              [](const SeriesSnapshot& a, const SeriesSnapshot& b) {
                for (size_t i = 0; i < a.labels.size() && i < b.labels.size(); ++i) {
                  if (a.labels[i].second != b.labels[i].second) {
                    return a.labels[i].second < b.labels[i].second;
                  }
                }
                return a.labels.size() < b.labels.size();
              });
    out += fmt::format("# HELP {} {}\n", family.name, escape_help(family.help));
    out += fmt::format("# TYPE {} {}\n", family.name, type_name(family.type));
    for (const SeriesSnapshot& series : family.series) {
      if (family.type != MetricType::kHistogram) {
        append_sample(out, family.name, "", series.labels, nullptr,
                      format_metric_value(series.value));
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < family.bucket_bounds.size(); ++i) {
        if (i < series.bucket_counts.size()) cumulative += series.bucket_counts[i];
        std::string le = format_metric_value(family.bucket_bounds[i]);
        append_sample(out, family.name, "_bucket", series.labels, &le, std::to_string(cumulative));
      }
      std::string inf = "+Inf";
      append_sample(out, family.name, "_bucket", series.labels, &inf, std::to_string(series.count));
      append_sample(out, family.name, "_sum", series.labels, nullptr,
                    format_metric_value(series.sum));
      append_sample(out, family.name, "_count", series.labels, nullptr,
                    std::to_string(series.count));
    }
  }
  return out;
}

// ---- MetricFamily ----

MetricFamily::MetricFamily(std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names, std::vector<double> bucket_bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(std::move(bucket_bounds)) {}

MetricFamily::Series& MetricFamily::series_locked(const LabelValues& values) {
  if (values.size() != label_names_.size()) {
    // A wrong label count is a programming error at the call site; the Go client panics too.
    fmt::print(stderr, "metric {}: {} label values for {} labels\n", name_, values.size(),
               label_names_.size());
    std::abort();
  }
  auto [it, inserted] = series_.try_emplace(values);
  if (inserted && type_ == MetricType::kHistogram) it->second.buckets.assign(bounds_.size(), 0);
  return it->second;
}

void MetricFamily::add(const LabelValues& values, double delta) {
  if (type_ == MetricType::kHistogram) std::abort();
  if (type_ == MetricType::kCounter && delta < 0) return;
  std::lock_guard lock(mu_);
  series_locked(values).value += delta;
}

void MetricFamily::set(const LabelValues& values, double value) {
  if (type_ != MetricType::kGauge) std::abort();
  std::lock_guard lock(mu_);
  series_locked(values).value = value;
}

void MetricFamily::observe(const LabelValues& values, double sample) {
  if (type_ != MetricType::kHistogram) std::abort();
  std::lock_guard lock(mu_);
  Series& series = series_locked(values);
  // Buckets are stored non-cumulative: the first bound >= sample gets the observation.
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), sample);
  if (it != bounds_.end()) ++series.buckets[static_cast<size_t>(it - bounds_.begin())];
  series.sum += sample;
  ++series.count;
}

void MetricFamily::touch(const LabelValues& values) {
  std::lock_guard lock(mu_);
  series_locked(values);
}

void MetricFamily::remove(const LabelValues& values) {
  std::lock_guard lock(mu_);
  series_.erase(values);
}

void MetricFamily::clear() {
  std::lock_guard lock(mu_);
  series_.clear();
}

double MetricFamily::value(const LabelValues& values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second.value;
}

uint64_t MetricFamily::sample_count(const LabelValues& values) const {
  std::lock_guard lock(mu_);
  auto it = series_.find(values);
  return it == series_.end() ? 0 : it->second.count;
}

FamilySnapshot MetricFamily::snapshot() const {
  FamilySnapshot out{.name = name_, .help = help_, .type = type_, .bucket_bounds = bounds_};
  std::lock_guard lock(mu_);
  out.series.reserve(series_.size());
  for (const auto& [values, series] : series_) {
    SeriesSnapshot s{.value = series.value,
                     .bucket_counts = series.buckets,
                     .sum = series.sum,
                     .count = series.count};
    for (size_t i = 0; i < values.size(); ++i) s.labels.emplace_back(label_names_[i], values[i]);
    out.series.push_back(std::move(s));
  }
  return out;
}

// ---- MetricsRegistry ----

MetricFamily& MetricsRegistry::add(std::unique_ptr<MetricFamily> family) {
  std::lock_guard lock(mu_);
  families_.push_back(std::move(family));
  return *families_.back();
}

MetricFamily& MetricsRegistry::counter(std::string name, std::string help,
                                       std::vector<std::string> labels) {
  return add(std::make_unique<MetricFamily>(std::move(name), std::move(help), MetricType::kCounter,
                                            std::move(labels)));
}

MetricFamily& MetricsRegistry::gauge(std::string name, std::string help,
                                     std::vector<std::string> labels) {
  return add(std::make_unique<MetricFamily>(std::move(name), std::move(help), MetricType::kGauge,
                                            std::move(labels)));
}

MetricFamily& MetricsRegistry::histogram(std::string name, std::string help,
                                         std::vector<double> bounds,
                                         std::vector<std::string> labels) {
  std::sort(bounds.begin(), bounds.end());
  return add(std::make_unique<MetricFamily>(std::move(name), std::move(help),
                                            MetricType::kHistogram, std::move(labels),
                                            std::move(bounds)));
}

void MetricsRegistry::add_collector(std::function<std::vector<FamilySnapshot>()> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::vector<FamilySnapshot> MetricsRegistry::snapshot() const {
  std::vector<const MetricFamily*> families;
  std::vector<std::function<std::vector<FamilySnapshot>()>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& f : families_) families.push_back(f.get());
    collectors = collectors_;
  }
  std::vector<FamilySnapshot> out;
  for (const MetricFamily* f : families) out.push_back(f->snapshot());
  for (const auto& collector : collectors) {
    for (FamilySnapshot& f : collector()) out.push_back(std::move(f));
  }
  return out;
}

// ---- process collector ----

namespace {

FamilySnapshot single(std::string name, std::string help, MetricType type, double value) {
  return FamilySnapshot{.name = std::move(name),
                        .help = std::move(help),
                        .type = type,
                        .series = {SeriesSnapshot{.value = value}}};
}

// Seconds since the epoch at which the machine booted ("btime" in /proc/stat).
double boot_time() {
  std::ifstream in("/proc/stat");
  std::string line;
  while (std::getline(in, line)) {
    if (starts_with(line, "btime ")) {
      if (std::optional<long long> v = parse_int(trim(line.substr(6)))) {
        return static_cast<double>(*v);
      }
    }
  }
  return 0;
}

}  // namespace

std::vector<FamilySnapshot> collect_process_metrics() {
  std::vector<FamilySnapshot> out;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // The command name (field 2) may contain spaces and parentheses; fields resume after the last
  // ')'.
  size_t close = stat.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    std::vector<std::string> f = split_fields(std::string_view(stat).substr(close + 1));
    // f[0] is field 3 (state): field N is f[N - 3].
    auto field = [&f](size_t n) -> double {
      if (n - 3 >= f.size()) return 0;
      return std::strtod(f[n - 3].c_str(), nullptr);
    };
    out.push_back(single("process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", MetricType::kCounter,
                         (field(14) + field(15)) / ticks));
    out.push_back(single("process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.",
                         MetricType::kGauge, boot_time() + field(22) / ticks));
    out.push_back(single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         MetricType::kGauge, field(23)));
    out.push_back(single("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::kGauge, field(24) * page));
  }

  if (DIR* dir = opendir("/proc/self/fd")) {
    int count = 0;
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
    // Minus the descriptor opendir itself held while counting.
    out.push_back(single("process_open_fds", "Number of open file descriptors.", MetricType::kGauge,
                         count - 1));
  }

  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.push_back(single("process_max_fds", "Maximum number of open file descriptors.",
                         MetricType::kGauge, static_cast<double>(limit.rlim_cur)));
  }
  if (getrlimit(RLIMIT_AS, &limit) == 0) {
    // Like the Go collector, "unlimited" renders as the largest uint64.
    double max = limit.rlim_cur == RLIM_INFINITY
                     ? static_cast<double>(std::numeric_limits<uint64_t>::max())
                     : static_cast<double>(limit.rlim_cur);
    out.push_back(single("process_virtual_memory_max_bytes",
                         "Maximum amount of virtual memory available in bytes.", MetricType::kGauge,
                         max));
  }
  return out;
}

// ---- RunnerMetrics ----

const char* to_string(ProcessState state) {
  switch (state) {
    case ProcessState::kStarting:
      return "starting";
    case ProcessState::kRunning:
      return "running";
    case ProcessState::kGracefulShutdown:
      return "graceful-shutdown";
    case ProcessState::kForcefulShutdown:
      return "forceful-shutdown";
  }
  return "unknown";
}

namespace {

const std::vector<std::string> kRunnerLabels = {"runner", "runner_name", "system_id"};

LabelValues runner_values(const RunnerIdentity& r) {
  return {r.runner, r.runner_name, r.system_id};
}

std::string status_class(int status) {
  if (status >= 600) return "unknown";
  if (status >= 500) return "5xx";
  if (status >= 400) return "4xx";
  if (status >= 300) return "3xx";
  if (status >= 200) return "2xx";
  if (status >= 100) return "1xx";
  return "unknown";
}

const char* const kErrorLevels[] = {"panic", "fatal", "error", "warning"};

}  // namespace

RunnerMetrics::RunnerMetrics(BuildInfo build) {
  MetricsRegistry& r = registry_;
  MetricFamily& version = r.gauge(
      "gitlab_runner_version_info",
      "A metric with a constant '1' value labeled by different build stats fields.",
      {"name", "version", "revision", "branch", "go_version", "built_at", "os", "architecture"});
  version.set({build.name, build.version.empty() ? compat_version() : build.version,
               build.revision.empty() ? revision() : build.revision, build.branch, build.go_version,
               build.built_at, build.os.empty() ? platform() : build.os,
               build.architecture.empty() ? architecture() : build.architecture},
              1);

  concurrent_ = &r.gauge("gitlab_runner_concurrent", "The current value of concurrent setting");
  concurrent_->touch({});

  jobs_total_ =
      &r.counter("gitlab_runner_jobs_total", "Total number of handled jobs", kRunnerLabels);
  failed_jobs_ = &r.counter("gitlab_runner_failed_jobs_total", "Total number of failed jobs",
                            {"runner", "runner_name", "failure_reason", "mode"});
  job_duration_ = &r.histogram("gitlab_runner_job_duration_seconds", "Histogram of job durations",
                               {30, 60, 300, 600, 1800, 3600, 7200, 10800, 18000, 36000},
                               {"runner", "runner_name", "system_id", "mode"});
  queue_duration_ = &r.histogram("gitlab_runner_job_queue_duration_seconds",
                                 "A histogram representing job queue duration.",
                                 {1, 3, 10, 30, 60, 120, 300, 900, 1800, 3600},
                                 {"runner", "runner_name", "system_id", "project_jobs_running"});
  queue_size_ =
      &r.gauge("gitlab_runner_job_queue_size",
               "A gauge representing the size of the queue for the runner", kRunnerLabels);
  queue_depth_ =
      &r.gauge("gitlab_runner_job_queue_depth",
               "A gauge representing the search depth in the queue for the runner", kRunnerLabels);
  queuing_exceeded_ = &r.counter(
      "gitlab_runner_acceptable_job_queuing_duration_exceeded_total",
      "Counts how often jobs exceed the configured queuing time threshold", kRunnerLabels);
  execution_mode_ = &r.counter("gitlab_runner_job_execution_mode_total",
                               "Total number of jobs grouped by execution mode and executor",
                               {"mode", "executor"});

  worker_slots_ =
      &r.gauge("gitlab_runner_worker_slots_number", "Current number of runner worker slots");
  worker_slots_->touch({});
  slot_operations_ =
      &r.counter("gitlab_runner_worker_slot_operations_total",
                 "Total number of runner workers slot operations (starting and stopping slots)",
                 {"operation"});
  feeds_ =
      &r.counter("gitlab_runner_worker_feeds_total",
                 "Total number of times that runner worker is fed to the main loop", kRunnerLabels);
  feed_failures_ =
      &r.counter("gitlab_runner_worker_feed_failures_total",
                 "Total number of times that runner worker feeding have failed", kRunnerLabels);
  processing_failures_ = &r.counter("gitlab_runner_worker_processing_failures_total",
                                    "Total number of failures when processing runner worker",
                                    {"failure_type", "runner", "runner_name", "system_id"});
  health_failures_ =
      &r.counter("gitlab_runner_worker_health_check_failures_total",
                 "Total number of runner worker health check failures", kRunnerLabels);

  api_statuses_ = &r.counter(
      "gitlab_runner_api_request_statuses_total",
      "The total number of API requests made by GitLab Runner, partitioned by runner, system_id, "
      "endpoint, status and method.",
      {"runner", "system_id", "endpoint", "status", "method"});
  api_durations_ = &r.histogram(
      "gitlab_runner_api_request_duration_seconds",
      "Latency histogram of API requests made by GitLab Runner, partitioned by runner, system_id, "
      "endpoint, status_class and method.",
      {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
      {"runner", "system_id", "endpoint", "status_class", "method"});
  api_retries_ = &r.counter(
      "gitlab_runner_api_request_retries_total",
      "The total number of retries made by GitLab Runner in process of completing a request, "
      "partitioned by path and method.",
      {"path", "method"});

  // The official log hook always reports its four levels, so they render at 0 from the start.
  errors_ = &r.counter("gitlab_runner_errors_total", "The number of caught errors.", {"level"});
  for (const char* level : kErrorLevels) errors_->touch({level});

  config_loading_errors_ = &r.counter("gitlab_runner_configuration_loading_error_total",
                                      "Total number of times the configuration file was not loaded "
                                      "by Runner process due to errors");
  config_loaded_ =
      &r.counter("gitlab_runner_configuration_loaded_total",
                 "Total number of times the configuration file was loaded by Runner process");
  config_saving_errors_ = &r.counter(
      "gitlab_runner_configuration_saving_error_total",
      "Total number of times the configuration file was not saved by Runner process due to errors");
  config_saved_ =
      &r.counter("gitlab_runner_configuration_saved_total",
                 "Total number of times the configuration file was saved by Runner process");
  for (MetricFamily* f :
       {config_loading_errors_, config_loaded_, config_saving_errors_, config_saved_}) {
    f->touch({});
  }

  r.add_collector([this] { return collect_runner_state(); });
  r.add_collector(collect_process_metrics);
}

void RunnerMetrics::set_process_state(ProcessState state) {
  std::lock_guard lock(mu_);
  state_ = state;
}

ProcessState RunnerMetrics::process_state() const {
  std::lock_guard lock(mu_);
  return state_;
}

void RunnerMetrics::set_concurrent(int concurrent) { concurrent_->set({}, concurrent); }

void RunnerMetrics::set_runners(std::vector<RunnerEntry> runners) {
  std::lock_guard lock(mu_);
  for (const RunnerEntry& entry : runners) {
    Concurrency& c = concurrency_[entry.identity.runner];
    c.system_id = entry.identity.system_id;
  }
  runners_ = std::move(runners);
}

void RunnerMetrics::config_loaded(bool ok) {
  (ok ? config_loaded_ : config_loading_errors_)->add({});
}
void RunnerMetrics::config_saved(bool ok) { (ok ? config_saved_ : config_saving_errors_)->add({}); }

void RunnerMetrics::job_started(int64_t job_id, const RunnerIdentity& runner) {
  jobs_total_->add(runner_values(runner));
  std::lock_guard lock(mu_);
  jobs_[job_id] = RunningJob{.runner = runner};
}

void RunnerMetrics::set_job_stage(int64_t job_id, std::string state, std::string stage,
                                  std::string executor_stage) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return;
  it->second.state = std::move(state);
  it->second.stage = std::move(stage);
  it->second.executor_stage = std::move(executor_stage);
}

void RunnerMetrics::job_finished(int64_t job_id, std::string_view mode, double duration_seconds) {
  RunnerIdentity runner;
  {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    runner = it->second.runner;
    jobs_.erase(it);
  }
  job_duration_->observe({runner.runner, runner.runner_name, runner.system_id,
                          std::string(mode.empty() ? "unknown" : mode)},
                         duration_seconds);
}

void RunnerMetrics::job_failed(const RunnerIdentity& runner, std::string_view failure_reason,
                               std::string_view mode) {
  failed_jobs_->add({runner.runner, runner.runner_name, std::string(failure_reason),
                     std::string(mode.empty() ? "unknown" : mode)});
}

void RunnerMetrics::job_queued(const RunnerIdentity& runner, double queue_seconds,
                               std::string_view project_jobs_running) {
  queue_duration_->observe(
      {runner.runner, runner.runner_name, runner.system_id, std::string(project_jobs_running)},
      queue_seconds);
}

void RunnerMetrics::set_job_queue(const RunnerIdentity& runner, double size, double depth) {
  queue_size_->set(runner_values(runner), size);
  queue_depth_->set(runner_values(runner), depth);
}

void RunnerMetrics::job_queuing_duration_exceeded(const RunnerIdentity& runner) {
  queuing_exceeded_->add(runner_values(runner));
}

void RunnerMetrics::job_execution_mode(std::string_view mode, std::string_view executor) {
  execution_mode_->add({std::string(mode.empty() ? "unknown" : mode),
                        std::string(executor.empty() ? "unknown" : executor)});
}

int RunnerMetrics::running_jobs() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(jobs_.size());
}

void RunnerMetrics::set_request_concurrency(const RunnerIdentity& runner, int in_flight) {
  std::lock_guard lock(mu_);
  Concurrency& c = concurrency_[runner.runner];
  c.system_id = runner.system_id;
  c.in_flight = in_flight;
}

void RunnerMetrics::request_concurrency_exceeded(const RunnerIdentity& runner) {
  std::lock_guard lock(mu_);
  Concurrency& c = concurrency_[runner.runner];
  c.system_id = runner.system_id;
  ++c.exceeded;
}

void RunnerMetrics::set_request_concurrency_limits(const RunnerIdentity& runner, int hard,
                                                   double adaptive, int used) {
  std::lock_guard lock(mu_);
  Concurrency& c = concurrency_[runner.runner];
  c.system_id = runner.system_id;
  c.hard = hard;
  c.adaptive = adaptive;
  c.used = used;
}

void RunnerMetrics::set_worker_slots(int slots) { worker_slots_->set({}, slots); }

void RunnerMetrics::worker_slot_operation(std::string_view operation) {
  slot_operations_->add({std::string(operation)});
}

void RunnerMetrics::worker_fed(const RunnerIdentity& runner) { feeds_->add(runner_values(runner)); }

void RunnerMetrics::worker_feed_failed(const RunnerIdentity& runner) {
  feed_failures_->add(runner_values(runner));
}

void RunnerMetrics::worker_processing_failure(std::string_view failure_type,
                                              const RunnerIdentity& runner) {
  processing_failures_->add(
      {std::string(failure_type), runner.runner, runner.runner_name, runner.system_id});
}

void RunnerMetrics::worker_health_check_failed(const RunnerIdentity& runner) {
  health_failures_->add(runner_values(runner));
}

void RunnerMetrics::api_request(const RunnerIdentity& runner, std::string_view endpoint, int status,
                                std::string_view method, double duration_seconds) {
  std::string m = to_lower(method);
  std::string ep(endpoint);
  api_statuses_->add({runner.runner, runner.system_id, ep, std::to_string(status), m});
  api_durations_->observe({runner.runner, runner.system_id, ep, status_class(status), m},
                          duration_seconds);
}

void RunnerMetrics::request_retries(std::string_view path, std::string_view method, int retries) {
  if (retries <= 0) return;
  api_retries_->add({std::string(path), to_lower(method)}, retries);
}

void RunnerMetrics::error_logged(std::string_view level) {
  std::string l = to_lower(level);
  if (l == "warn") l = "warning";
  for (const char* known : kErrorLevels) {
    if (l == known) {
      errors_->add({l});
      return;
    }
  }
}

std::vector<FamilySnapshot> RunnerMetrics::collect_runner_state() const {
  FamilySnapshot jobs{.name = "gitlab_runner_jobs",
                      .help = "The current number of running builds.",
                      .type = MetricType::kGauge};
  FamilySnapshot limit{.name = "gitlab_runner_limit",
                       .help = "The current value of concurrent setting",
                       .type = MetricType::kGauge};
  FamilySnapshot requests{.name = "gitlab_runner_request_concurrency",
                          .help = "The current number of concurrent requests for a new job",
                          .type = MetricType::kGauge};
  FamilySnapshot exceeded{
      .name = "gitlab_runner_request_concurrency_exceeded_total",
      .help = "Count of excess requests above the configured request_concurrency limit",
      .type = MetricType::kCounter};
  FamilySnapshot hard{.name = "gitlab_runner_request_concurrency_hard_limit",
                      .help = "Configured request_concurrency limit",
                      .type = MetricType::kGauge};
  FamilySnapshot adaptive{.name = "gitlab_runner_request_concurrency_adaptive_limit",
                          .help = "Computed adaptive request concurrency limit",
                          .type = MetricType::kGauge};
  FamilySnapshot used{.name = "gitlab_runner_request_concurrency_used_limit",
                      .help = "Used request concurrency limit",
                      .type = MetricType::kGauge};

  std::lock_guard lock(mu_);
  // One series only, at 1, like the official tracker's Reset() + Set(1).
  FamilySnapshot process_state{
      .name = "gitlab_runner_process_state_info",
      .help = "This metric provides info about the current state of the GitLab Runner process",
      .type = MetricType::kGauge,
      .series = {SeriesSnapshot{.labels = {{"state", to_string(state_)}}, .value = 1}}};
  // Running jobs grouped by (runner, state, stage, executor_stage), plus the idle series at 0
  // that keeps the family present for every known runner.
  std::map<std::vector<std::string>, double> counts;
  for (const RunnerEntry& entry : runners_) {
    const RunnerIdentity& id = entry.identity;
    counts[{id.runner, id.runner_name, id.system_id, "idle", "idle", "idle"}] += 0;
    limit.series.push_back(SeriesSnapshot{.labels = {{"runner", id.runner},
                                                     {"runner_name", id.runner_name},
                                                     {"system_id", id.system_id}},
                                          .value = static_cast<double>(entry.limit)});
  }
  for (const auto& [job_id, job] : jobs_) {
    counts[{job.runner.runner, job.runner.runner_name, job.runner.system_id, job.state, job.stage,
            job.executor_stage}] += 1;
  }
  for (const auto& [v, count] : counts) {
    jobs.series.push_back(SeriesSnapshot{.labels = {{"runner", v[0]},
                                                    {"runner_name", v[1]},
                                                    {"system_id", v[2]},
                                                    {"state", v[3]},
                                                    {"stage", v[4]},
                                                    {"executor_stage", v[5]}},
                                         .value = count});
  }
  for (const auto& [runner, c] : concurrency_) {
    std::vector<std::pair<std::string, std::string>> labels = {{"runner", runner},
                                                               {"system_id", c.system_id}};
    requests.series.push_back(
        SeriesSnapshot{.labels = labels, .value = static_cast<double>(c.in_flight)});
    exceeded.series.push_back(
        SeriesSnapshot{.labels = labels, .value = static_cast<double>(c.exceeded)});
    hard.series.push_back(SeriesSnapshot{.labels = labels, .value = static_cast<double>(c.hard)});
    adaptive.series.push_back(SeriesSnapshot{.labels = labels, .value = c.adaptive});
    used.series.push_back(SeriesSnapshot{.labels = labels, .value = static_cast<double>(c.used)});
  }
  return {std::move(process_state), std::move(jobs), std::move(limit),    std::move(requests),
          std::move(exceeded),      std::move(hard), std::move(adaptive), std::move(used)};
}

}  // namespace glr
