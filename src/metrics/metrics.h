// Prometheus metrics without a client library: a small thread-safe registry of counter, gauge and
// histogram families rendered in the text exposition format 0.0.4, plus RunnerMetrics, which
// declares the families the official runner exports (api spec §9.2) behind typed event methods.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glr {

enum class MetricType { kCounter, kGauge, kHistogram };

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

// One series as it is rendered. For histograms `value` is unused and `bucket_counts[i]` is the
// number of observations <= bucket_bounds[i] (not yet cumulative); observations above the last
// bound only count in `count`.
struct SeriesSnapshot {
  std::vector<std::pair<std::string, std::string>> labels{};  // name, value (any order)
  double value = 0;
  std::vector<uint64_t> bucket_counts{};
  double sum = 0;
  uint64_t count = 0;
  friend bool operator==(const SeriesSnapshot&, const SeriesSnapshot&) = default;
};

struct FamilySnapshot {
  std::string name{};
  std::string help{};
  MetricType type = MetricType::kGauge;
  std::vector<double> bucket_bounds{};  // histograms only, ascending, without +Inf
  std::vector<SeriesSnapshot> series{};
  friend bool operator==(const FamilySnapshot&, const FamilySnapshot&) = default;
};

// Text exposition format 0.0.4, as the Go client writes it: families sorted by name, label pairs
// sorted by name (histogram `le` last), series sorted by label values, numbers in Go's shortest
// %g form ("1e+06", "0.25", "+Inf"). A family without series still gets its HELP and TYPE lines.
std::string render_text(std::vector<FamilySnapshot> families);
// Go strconv.FormatFloat(v, 'g', -1, 64) with Prometheus' spelling of infinities and NaN.
std::string format_metric_value(double v);
// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view v);

// One metric family with a fixed set of label names. Thread-safe.
class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names, std::vector<double> bucket_bounds = {});

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Counters and gauges. `values` must have one entry per label name (a mismatch is a bug and
  // aborts). add() with a negative delta on a counter is ignored, as counters only go up.
  void add(const LabelValues& values, double delta = 1);
  void set(const LabelValues& values, double value);  // gauges only
  // Histograms only.
  void observe(const LabelValues& values, double sample);
  // Creates the series at zero if it does not exist (so it renders before the first event).
  void touch(const LabelValues& values);
  void remove(const LabelValues& values);
  void clear();

  // Current value of a counter/gauge series; 0 if absent.
  double value(const LabelValues& values) const;
  // Observation count of a histogram series; 0 if absent.
  uint64_t sample_count(const LabelValues& values) const;

  FamilySnapshot snapshot() const;

 private:
  struct Series {
    double value = 0;
    std::vector<uint64_t> buckets{};
    double sum = 0;
    uint64_t count = 0;
  };
  Series& series_locked(const LabelValues& values);

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<LabelValues, Series> series_;
};

// Owns families and render-time collectors. Registration happens at setup; everything else is
// thread-safe. Returned references stay valid for the registry's lifetime.
class MetricsRegistry {
 public:
  MetricFamily& counter(std::string name, std::string help, std::vector<std::string> labels = {});
  MetricFamily& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  MetricFamily& histogram(std::string name, std::string help, std::vector<double> bounds,
                          std::vector<std::string> labels = {});
  // A collector computes families when render() runs (e.g. from /proc). It must be thread-safe.
  void add_collector(std::function<std::vector<FamilySnapshot>()> collector);

  std::vector<FamilySnapshot> snapshot() const;
  std::string render() const { return render_text(snapshot()); }

 private:
  MetricFamily& add(std::unique_ptr<MetricFamily> family);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<MetricFamily>> families_;
  std::vector<std::function<std::vector<FamilySnapshot>()>> collectors_;
};

// process_* families of the standard Prometheus process collector, read from /proc/self now.
std::vector<FamilySnapshot> collect_process_metrics();

// Which runner a series belongs to: `runner` is the short token (spec §1.1), `runner_name` the
// config `name`, `system_id` spec §1.8.
struct RunnerIdentity {
  std::string runner{};
  std::string runner_name{};
  std::string system_id{};
  friend bool operator==(const RunnerIdentity&, const RunnerIdentity&) = default;
};

// A [[runners]] entry as the metrics see it.
struct RunnerEntry {
  RunnerIdentity identity{};
  int limit = 0;
  friend bool operator==(const RunnerEntry&, const RunnerEntry&) = default;
};

enum class ProcessState { kStarting, kRunning, kGracefulShutdown, kForcefulShutdown };
// "starting", "running", "graceful-shutdown", "forceful-shutdown".
const char* to_string(ProcessState state);

// The version_info labels. Defaults come from util/version.h.
struct BuildInfo {
  std::string name = "gitlab-runner";
  std::string version{};   // empty: compat_version()
  std::string revision{};  // empty: revision()
  std::string branch = "unknown";
  std::string go_version = "none (C++ g++ 12)";
  std::string built_at = "unknown";
  std::string os{};            // empty: platform()
  std::string architecture{};  // empty: architecture()
};

// The official runner's metric families (api spec §9.2) for a shell/docker/kubernetes manager.
// Every method is thread-safe and cheap enough to call from job threads.
class RunnerMetrics {
 public:
  explicit RunnerMetrics(BuildInfo build = {});
  RunnerMetrics(const RunnerMetrics&) = delete;
  RunnerMetrics& operator=(const RunnerMetrics&) = delete;

  // Process lifecycle (spec §10): gitlab_runner_process_state_info has one series, at 1.
  void set_process_state(ProcessState state);
  ProcessState process_state() const;

  // Configuration (spec §8): concurrent, and the runner list with limits. Known runners get the
  // gitlab_runner_limit series, the idle/idle/idle gitlab_runner_jobs series at 0 and the
  // request-concurrency series. Call again after every reload.
  void set_concurrent(int concurrent);
  void set_runners(std::vector<RunnerEntry> runners);
  void config_loaded(bool ok);
  void config_saved(bool ok);

  // Jobs. `job_id` keys the running-job table behind gitlab_runner_jobs. job_started counts
  // gitlab_runner_jobs_total; job_finished observes the duration (`mode`: steps/traditional/
  // unknown) and drops the job; job_failed counts a failure reason (spec §4.3).
  void job_started(int64_t job_id, const RunnerIdentity& runner);
  void set_job_stage(int64_t job_id, std::string state, std::string stage,
                     std::string executor_stage);
  void job_finished(int64_t job_id, std::string_view mode, double duration_seconds);
  void job_failed(const RunnerIdentity& runner, std::string_view failure_reason,
                  std::string_view mode);
  void job_queued(const RunnerIdentity& runner, double queue_seconds,
                  std::string_view project_jobs_running);
  void set_job_queue(const RunnerIdentity& runner, double size, double depth);
  void job_queuing_duration_exceeded(const RunnerIdentity& runner);
  void job_execution_mode(std::string_view mode, std::string_view executor);
  int running_jobs() const;

  // Request concurrency (spec §2.5), labelled runner + system_id.
  void set_request_concurrency(const RunnerIdentity& runner, int in_flight);
  void request_concurrency_exceeded(const RunnerIdentity& runner);
  void set_request_concurrency_limits(const RunnerIdentity& runner, int hard, double adaptive,
                                      int used);

  // Workers and feeding.
  void set_worker_slots(int slots);
  void worker_slot_operation(std::string_view operation);  // "started" / "stopped"
  void worker_fed(const RunnerIdentity& runner);
  void worker_feed_failed(const RunnerIdentity& runner);
  // failure_type: "other", "no_free_executor", "job_failure".
  void worker_processing_failure(std::string_view failure_type, const RunnerIdentity& runner);
  void worker_health_check_failed(const RunnerIdentity& runner);

  // GitLab API calls: `status` is the HTTP code or -1 for transport/decoding errors; `method` is
  // lower-cased. `endpoint` is request_job, update_job, patch_trace, reset_token or discovery.
  void api_request(const RunnerIdentity& runner, std::string_view endpoint, int status,
                   std::string_view method, double duration_seconds);
  void request_retries(std::string_view path, std::string_view method, int retries);

  // A runner-log line at panic/fatal/error/warning (also accepts "warn"); others are ignored.
  void error_logged(std::string_view level);

  MetricsRegistry& registry() { return registry_; }
  std::string render() const { return registry_.render(); }

 private:
  struct RunningJob {
    RunnerIdentity runner{};
    std::string state = "pending";
    std::string stage{};
    std::string executor_stage{};
  };
  std::vector<FamilySnapshot> collect_runner_state() const;

  MetricsRegistry registry_;
  MetricFamily* concurrent_ = nullptr;
  MetricFamily* jobs_total_ = nullptr;
  MetricFamily* failed_jobs_ = nullptr;
  MetricFamily* job_duration_ = nullptr;
  MetricFamily* queue_duration_ = nullptr;
  MetricFamily* queue_size_ = nullptr;
  MetricFamily* queue_depth_ = nullptr;
  MetricFamily* queuing_exceeded_ = nullptr;
  MetricFamily* execution_mode_ = nullptr;
  MetricFamily* worker_slots_ = nullptr;
  MetricFamily* slot_operations_ = nullptr;
  MetricFamily* feeds_ = nullptr;
  MetricFamily* feed_failures_ = nullptr;
  MetricFamily* processing_failures_ = nullptr;
  MetricFamily* health_failures_ = nullptr;
  MetricFamily* api_statuses_ = nullptr;
  MetricFamily* api_durations_ = nullptr;
  MetricFamily* api_retries_ = nullptr;
  MetricFamily* errors_ = nullptr;
  MetricFamily* config_loaded_ = nullptr;
  MetricFamily* config_loading_errors_ = nullptr;
  MetricFamily* config_saved_ = nullptr;
  MetricFamily* config_saving_errors_ = nullptr;

  // Guards the state below, which collect_runner_state() renders.
  mutable std::mutex mu_;
  ProcessState state_ = ProcessState::kStarting;
  std::vector<RunnerEntry> runners_;
  std::map<int64_t, RunningJob> jobs_;
  struct Concurrency {
    std::string system_id{};
    int in_flight = 0;
    uint64_t exceeded = 0;
    int hard = 0;
    double adaptive = 0;
    int used = 0;
  };
  std::map<std::string, Concurrency> concurrency_;  // by short token
};

}  // namespace glr
