// Unit tests for the registry, the text exposition and the official runner families (spec §9.2).
#include "metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "metrics/metrics_server.h"

namespace glr {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Returns the value of the sample line that starts with `prefix` followed by a space, or -1.
double sample_value(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix + " ", 0) == 0) return std::stod(line.substr(prefix.size() + 1));
  }
  return -1;
}

TEST(FormatMetricValue, MatchesGoShortestG) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(1), "1");
  EXPECT_EQ(format_metric_value(-1), "-1");
  EXPECT_EQ(format_metric_value(0.1), "0.1");
  EXPECT_EQ(format_metric_value(2.5), "2.5");
  EXPECT_EQ(format_metric_value(36000), "36000");
  EXPECT_EQ(format_metric_value(123456), "123456");
  EXPECT_EQ(format_metric_value(1000000), "1e+06");
  EXPECT_EQ(format_metric_value(1234567), "1.234567e+06");
  EXPECT_EQ(format_metric_value(0.0001), "0.0001");
  EXPECT_EQ(format_metric_value(0.00001), "1e-05");
  EXPECT_EQ(format_metric_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_metric_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_metric_value(0.0 / 0.0), "NaN");
}

TEST(EscapeLabelValue, EscapesBackslashQuoteNewline) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label_value("plain"), "plain");
}

TEST(MetricsRegistry, RendersExpositionFormatByteExact) {
  MetricsRegistry registry;
  MetricFamily& requests =
      registry.counter("test_requests_total", "Requests.\nSecond \\ line", {"method", "code"});
  MetricFamily& temperature = registry.gauge("test_temperature", "Temperature.");
  MetricFamily& latency =
      registry.histogram("test_latency_seconds", "Latency.", {1, 0.5, 2.5}, {"path"});
  registry.counter("test_empty_total", "Never used.", {"x"});
  requests.add({"post", "200"});
  requests.add({"get", "200"}, 3);
  requests.add({"get", "500"});
  temperature.set({}, -2.5);
  latency.observe({"/a"}, 0.3);
  latency.observe({"/a"}, 0.5);
  latency.observe({"/a"}, 2);
  latency.observe({"/a"}, 10);

  EXPECT_EQ(registry.render(),
            "# HELP test_empty_total Never used.\n"
            "# TYPE test_empty_total counter\n"
            "# HELP test_latency_seconds Latency.\n"
            "# TYPE test_latency_seconds histogram\n"
            "test_latency_seconds_bucket{path=\"/a\",le=\"0.5\"} 2\n"
            "test_latency_seconds_bucket{path=\"/a\",le=\"1\"} 2\n"
            "test_latency_seconds_bucket{path=\"/a\",le=\"2.5\"} 3\n"
            "test_latency_seconds_bucket{path=\"/a\",le=\"+Inf\"} 4\n"
            "test_latency_seconds_sum{path=\"/a\"} 12.8\n"
            "test_latency_seconds_count{path=\"/a\"} 4\n"
            "# HELP test_requests_total Requests.\\nSecond \\\\ line\n"
            "# TYPE test_requests_total counter\n"
            "test_requests_total{code=\"200\",method=\"get\"} 3\n"
            "test_requests_total{code=\"200\",method=\"post\"} 1\n"
            "test_requests_total{code=\"500\",method=\"get\"} 1\n"
            "# HELP test_temperature Temperature.\n"
            "# TYPE test_temperature gauge\n"
            "test_temperature -2.5\n");
}

TEST(MetricsRegistry, EscapesLabelValuesInSamples) {
  MetricsRegistry registry;
  registry.gauge("g", "h", {"v"}).set({"a\\b\"c\nd"}, 1);
  EXPECT_THAT(registry.render(), HasSubstr("g{v=\"a\\\\b\\\"c\\nd\"} 1\n"));
}

TEST(MetricFamily, CounterIgnoresNegativeDeltaAndGaugeGoesBothWays) {
  MetricsRegistry registry;
  MetricFamily& c = registry.counter("c_total", "c");
  MetricFamily& g = registry.gauge("g", "g");
  c.add({}, 2);
  c.add({}, -1);
  g.add({}, 2);
  g.add({}, -3);
  EXPECT_EQ(c.value({}), 2);
  EXPECT_EQ(g.value({}), -1);
  g.remove({});
  EXPECT_THAT(registry.render(), Not(HasSubstr("\ng ")));
}

TEST(MetricFamily, HistogramBucketsAreCumulativeWithInf) {
  MetricsRegistry registry;
  MetricFamily& h = registry.histogram("h", "h", {1, 5, 10});
  for (double v : {0.5, 1.0, 1.5, 5.0, 7.0, 11.0, 100.0}) h.observe({}, v);
  std::string text = registry.render();
  EXPECT_EQ(sample_value(text, "h_bucket{le=\"1\"}"), 2);
  EXPECT_EQ(sample_value(text, "h_bucket{le=\"5\"}"), 4);
  EXPECT_EQ(sample_value(text, "h_bucket{le=\"10\"}"), 5);
  EXPECT_EQ(sample_value(text, "h_bucket{le=\"+Inf\"}"), 7);
  EXPECT_EQ(sample_value(text, "h_count"), 7);
  EXPECT_EQ(sample_value(text, "h_sum"), 126);
  EXPECT_EQ(h.sample_count({}), 7u);
}

TEST(MetricFamily, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  MetricFamily& c = registry.counter("c_total", "c", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, &registry] {
      for (int i = 0; i < 1000; ++i) {
        c.add({"x"});
        if (i % 100 == 0) (void)registry.render();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(c.value({"x"}), 4000);
}

// Every family of spec §9.2 a shell/docker/kubernetes manager exports, with its TYPE.
TEST(RunnerMetrics, FreshRenderHasEveryOfficialFamily) {
  RunnerMetrics metrics;
  std::string text = metrics.render();
  const std::pair<const char*, const char*> families[] = {
      {"gitlab_runner_version_info", "gauge"},
      {"gitlab_runner_process_state_info", "gauge"},
      {"gitlab_runner_concurrent", "gauge"},
      {"gitlab_runner_limit", "gauge"},
      {"gitlab_runner_jobs", "gauge"},
      {"gitlab_runner_jobs_total", "counter"},
      {"gitlab_runner_failed_jobs_total", "counter"},
      {"gitlab_runner_job_duration_seconds", "histogram"},
      {"gitlab_runner_job_queue_duration_seconds", "histogram"},
      {"gitlab_runner_job_queue_size", "gauge"},
      {"gitlab_runner_job_queue_depth", "gauge"},
      {"gitlab_runner_acceptable_job_queuing_duration_exceeded_total", "counter"},
      {"gitlab_runner_job_execution_mode_total", "counter"},
      {"gitlab_runner_request_concurrency", "gauge"},
      {"gitlab_runner_request_concurrency_exceeded_total", "counter"},
      {"gitlab_runner_request_concurrency_hard_limit", "gauge"},
      {"gitlab_runner_request_concurrency_adaptive_limit", "gauge"},
      {"gitlab_runner_request_concurrency_used_limit", "gauge"},
      {"gitlab_runner_worker_slots_number", "gauge"},
      {"gitlab_runner_worker_slot_operations_total", "counter"},
      {"gitlab_runner_worker_feeds_total", "counter"},
      {"gitlab_runner_worker_feed_failures_total", "counter"},
      {"gitlab_runner_worker_processing_failures_total", "counter"},
      {"gitlab_runner_worker_health_check_failures_total", "counter"},
      {"gitlab_runner_api_request_statuses_total", "counter"},
      {"gitlab_runner_api_request_duration_seconds", "histogram"},
      {"gitlab_runner_api_request_retries_total", "counter"},
      {"gitlab_runner_errors_total", "counter"},
      {"gitlab_runner_configuration_loaded_total", "counter"},
      {"gitlab_runner_configuration_loading_error_total", "counter"},
      {"gitlab_runner_configuration_saved_total", "counter"},
      {"gitlab_runner_configuration_saving_error_total", "counter"},
      {"process_cpu_seconds_total", "counter"},
      {"process_resident_memory_bytes", "gauge"},
      {"process_virtual_memory_bytes", "gauge"},
      {"process_open_fds", "gauge"},
      {"process_max_fds", "gauge"},
      {"process_start_time_seconds", "gauge"},
  };
  for (const auto& [name, type] : families) {
    EXPECT_THAT(text, HasSubstr(std::string("# TYPE ") + name + " " + type + "\n")) << name;
    EXPECT_THAT(text, HasSubstr(std::string("# HELP ") + name + " ")) << name;
  }
}

TEST(RunnerMetrics, FreshRenderHasStartingStateErrorLevelsAndVersion) {
  RunnerMetrics metrics(BuildInfo{.version = "19.4.0", .revision = "abcdef12"});
  std::string text = metrics.render();
  EXPECT_THAT(text, HasSubstr("gitlab_runner_process_state_info{state=\"starting\"} 1\n"));
  for (const char* level : {"panic", "fatal", "error", "warning"}) {
    EXPECT_THAT(text,
                HasSubstr(std::string("gitlab_runner_errors_total{level=\"") + level + "\"} 0\n"));
  }
  EXPECT_THAT(text, HasSubstr("gitlab_runner_concurrent 0\n"));
  EXPECT_THAT(text, HasSubstr("gitlab_runner_configuration_loaded_total 0\n"));
  EXPECT_THAT(text, HasSubstr("gitlab_runner_version_info{architecture=\""));
  EXPECT_THAT(text, HasSubstr("go_version=\"none (C++ g++ 12)\",name=\"gitlab-runner\""));
  EXPECT_THAT(text, HasSubstr("revision=\"abcdef12\",version=\"19.4.0\"} 1\n"));
}

TEST(RunnerMetrics, ProcessStateHasOneSeries) {
  RunnerMetrics metrics;
  metrics.set_process_state(ProcessState::kGracefulShutdown);
  std::string text = metrics.render();
  EXPECT_THAT(text, HasSubstr("gitlab_runner_process_state_info{state=\"graceful-shutdown\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("state=\"starting\"")));
  EXPECT_EQ(metrics.process_state(), ProcessState::kGracefulShutdown);
  EXPECT_STREQ(to_string(ProcessState::kForcefulShutdown), "forceful-shutdown");
}

TEST(RunnerMetrics, KnownRunnerHasIdleJobsLimitAndConcurrencySeries) {
  RunnerMetrics metrics;
  metrics.set_concurrent(4);
  metrics.set_runners({RunnerEntry{.identity = {"t1_abc", "one", "s_1"}, .limit = 2}});
  std::string text = metrics.render();
  EXPECT_THAT(text, HasSubstr("gitlab_runner_concurrent 4\n"));
  EXPECT_THAT(text, HasSubstr("gitlab_runner_jobs{executor_stage=\"idle\",runner=\"t1_abc\","
                              "runner_name=\"one\",stage=\"idle\",state=\"idle\","
                              "system_id=\"s_1\"} 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "gitlab_runner_limit{runner=\"t1_abc\",runner_name=\"one\",system_id=\"s_1\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr("gitlab_runner_request_concurrency{runner=\"t1_abc\",system_id=\"s_1\"} 0\n"));
}

TEST(RunnerMetrics, JobLifecycleMovesJobsGaugeCounterAndHistogram) {
  RunnerMetrics metrics;
  RunnerIdentity r{"t1_abc", "one", "s_1"};
  metrics.set_runners({RunnerEntry{.identity = r, .limit = 0}});
  metrics.job_started(42, r);
  metrics.set_job_stage(42, "running", "step_script", "docker_run");
  std::string text = metrics.render();
  EXPECT_THAT(text, HasSubstr("gitlab_runner_jobs{executor_stage=\"docker_run\",runner=\"t1_abc\","
                              "runner_name=\"one\",stage=\"step_script\",state=\"running\","
                              "system_id=\"s_1\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "gitlab_runner_jobs_total{runner=\"t1_abc\",runner_name=\"one\",system_id=\"s_1\"} 1\n"));
  EXPECT_EQ(metrics.running_jobs(), 1);

  metrics.job_failed(r, "script_failure", "");
  metrics.job_finished(42, "traditional", 45);
  text = metrics.render();
  EXPECT_EQ(metrics.running_jobs(), 0);
  EXPECT_THAT(text, Not(HasSubstr("state=\"running\"")));
  EXPECT_THAT(text, HasSubstr("gitlab_runner_failed_jobs_total{failure_reason=\"script_failure\","
                              "mode=\"unknown\",runner=\"t1_abc\",runner_name=\"one\"} 1\n"));
  const std::string labels =
      "mode=\"traditional\",runner=\"t1_abc\",runner_name=\"one\",system_id=\"s_1\"";
  EXPECT_EQ(
      sample_value(text, "gitlab_runner_job_duration_seconds_bucket{" + labels + ",le=\"30\"}"), 0);
  EXPECT_EQ(
      sample_value(text, "gitlab_runner_job_duration_seconds_bucket{" + labels + ",le=\"60\"}"), 1);
  EXPECT_EQ(
      sample_value(text, "gitlab_runner_job_duration_seconds_bucket{" + labels + ",le=\"36000\"}"),
      1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_job_duration_seconds_count{" + labels + "}"), 1);
}

TEST(RunnerMetrics, ApiRequestCountsStatusAndClass) {
  RunnerMetrics metrics;
  RunnerIdentity r{"t1_abc", "one", "s_1"};
  metrics.api_request(r, "request_job", 204, "POST", 0.3);
  metrics.api_request(r, "request_job", -1, "POST", 0.05);
  metrics.request_retries("/api/v4/jobs/request", "POST", 2);
  std::string text = metrics.render();
  EXPECT_THAT(text,
              HasSubstr("gitlab_runner_api_request_statuses_total{endpoint=\"request_job\","
                        "method=\"post\",runner=\"t1_abc\",status=\"204\",system_id=\"s_1\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("gitlab_runner_api_request_statuses_total{endpoint=\"request_job\","
                        "method=\"post\",runner=\"t1_abc\",status=\"-1\",system_id=\"s_1\"} 1\n"));
  EXPECT_EQ(
      sample_value(text,
                   "gitlab_runner_api_request_duration_seconds_bucket{endpoint=\"request_job\","
                   "method=\"post\",runner=\"t1_abc\",status_class=\"2xx\","
                   "system_id=\"s_1\",le=\"0.5\"}"),
      1);
  EXPECT_EQ(
      sample_value(text,
                   "gitlab_runner_api_request_duration_seconds_count{endpoint=\"request_job\","
                   "method=\"post\",runner=\"t1_abc\",status_class=\"unknown\","
                   "system_id=\"s_1\"}"),
      1);
  EXPECT_THAT(text, HasSubstr("gitlab_runner_api_request_retries_total{method=\"post\","
                              "path=\"/api/v4/jobs/request\"} 2\n"));
}

TEST(RunnerMetrics, EventMethodsMoveTheirFamilies) {
  RunnerMetrics metrics;
  RunnerIdentity r{"t1_abc", "one", "s_1"};
  metrics.error_logged("warn");
  metrics.error_logged("error");
  metrics.error_logged("info");  // not counted
  metrics.config_loaded(true);
  metrics.config_loaded(false);
  metrics.config_saved(true);
  metrics.set_worker_slots(3);
  metrics.worker_slot_operation("started");
  metrics.worker_fed(r);
  metrics.worker_feed_failed(r);
  metrics.worker_processing_failure("no_free_executor", r);
  metrics.worker_health_check_failed(r);
  metrics.request_concurrency_exceeded(r);
  metrics.set_request_concurrency_limits(r, 4, 2.5, 3);
  metrics.job_queued(r, 2, "1");
  std::string text = metrics.render();
  const std::string rl = "{runner=\"t1_abc\",runner_name=\"one\",system_id=\"s_1\"}";
  const std::string rs = "{runner=\"t1_abc\",system_id=\"s_1\"}";
  EXPECT_EQ(sample_value(text, "gitlab_runner_errors_total{level=\"warning\"}"), 1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_errors_total{level=\"error\"}"), 1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_configuration_loaded_total"), 1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_configuration_loading_error_total"), 1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_configuration_saved_total"), 1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_configuration_saving_error_total"), 0);
  EXPECT_EQ(sample_value(text, "gitlab_runner_worker_slots_number"), 3);
  EXPECT_EQ(sample_value(text, "gitlab_runner_worker_slot_operations_total{operation=\"started\"}"),
            1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_worker_feeds_total" + rl), 1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_worker_feed_failures_total" + rl), 1);
  EXPECT_EQ(sample_value(
                text,
                "gitlab_runner_worker_processing_failures_total{failure_type=\"no_free_executor\","
                "runner=\"t1_abc\",runner_name=\"one\",system_id=\"s_1\"}"),
            1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_worker_health_check_failures_total" + rl), 1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_request_concurrency_exceeded_total" + rs), 1);
  EXPECT_EQ(sample_value(text, "gitlab_runner_request_concurrency_hard_limit" + rs), 4);
  EXPECT_EQ(sample_value(text, "gitlab_runner_request_concurrency_adaptive_limit" + rs), 2.5);
  EXPECT_EQ(sample_value(text, "gitlab_runner_request_concurrency_used_limit" + rs), 3);
  EXPECT_EQ(
      sample_value(text,
                   "gitlab_runner_job_queue_duration_seconds_bucket{project_jobs_running=\"1\","
                   "runner=\"t1_abc\",runner_name=\"one\",system_id=\"s_1\",le=\"3\"}"),
      1);
}

TEST(ProcessMetrics, ArePlausible) {
  std::string text = RunnerMetrics().render();
  EXPECT_GT(sample_value(text, "process_resident_memory_bytes"), 0);
  EXPECT_GT(sample_value(text, "process_virtual_memory_bytes"), 0);
  EXPECT_GE(sample_value(text, "process_cpu_seconds_total"), 0);
  EXPECT_GT(sample_value(text, "process_open_fds"), 2);  // at least stdin, stdout, stderr
  EXPECT_GT(sample_value(text, "process_max_fds"), 0);
  EXPECT_GT(sample_value(text, "process_start_time_seconds"), 1.6e9);  // after 2020
}

// Go net.SplitHostPort semantics plus the 9252 default of commands/multi.go listenAddress().
TEST(ParseListenAddress, AcceptsOfficialForms) {
  EXPECT_EQ(*parse_listen_address(":9252"), (ListenAddress{.host = "", .port = 9252}));
  EXPECT_EQ(*parse_listen_address("0.0.0.0:9000"),
            (ListenAddress{.host = "0.0.0.0", .port = 9000}));
  EXPECT_EQ(*parse_listen_address("localhost"), (ListenAddress{.host = "localhost", .port = 9252}));
  EXPECT_EQ(*parse_listen_address("127.0.0.1"), (ListenAddress{.host = "127.0.0.1", .port = 9252}));
  EXPECT_EQ(*parse_listen_address("[::1]:9253"), (ListenAddress{.host = "::1", .port = 9253}));
  EXPECT_EQ(*parse_listen_address("[::1]"), (ListenAddress{.host = "::1", .port = 9252}));
  EXPECT_EQ(*parse_listen_address("[::]:0"), (ListenAddress{.host = "::", .port = 0}));
}

TEST(ParseListenAddress, RejectsWhatGoRejects) {
  for (const char* bad :
       {"", "::1", "host:", "host:http", "host:70000", "[::1", "[::1]x", "a:b:c", "host:-1"}) {
    Result<ListenAddress> parsed = parse_listen_address(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().kind, ErrorKind::kInvalidInput) << bad;
  }
}

}  // namespace
}  // namespace glr
