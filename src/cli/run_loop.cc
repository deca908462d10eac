// Signal handling happens here, in the main thread, with sigtimedwait: no code
// runs in an asynchronous handler (STYLE C6).
#include "cli/run_loop.h"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <cstdlib>

#include "cli/commands.h"
#include "cli/remote_cache.h"
#include "cli/shell_executor_factory.h"
#include "cli/token_rotation.h"
#include "gitlab/registration_client.h"
#include "gitlab/http_gitlab_client.h"
#include "metrics/metrics.h"
#include "metrics/metrics_server.h"
#include "runner/metered_gitlab_client.h"
#include "http/curl_transport.h"
#include "http/retrying_transport.h"
#include "process/signal_set.h"
#include "util/clock.h"
#include "util/duration.h"
#include "util/log.h"
#include "util/short_token.h"
#include "util/strings.h"

namespace glr {

using namespace std::chrono_literals;

namespace {

std::optional<std::filesystem::file_time_type> mtime(const std::filesystem::path& p) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(p, ec);
  if (ec) return std::nullopt;
  return t;
}

// Counts every logical request's attempts into gitlab_runner_api_request_retries_total,
// with numeric path segments replaced by {id} (api spec §0.3).
class RetryCountingTransport final : public HttpTransport {
 public:
  RetryCountingTransport(HttpTransport& inner, RunnerMetrics& metrics)
      : inner_(inner), metrics_(metrics) {}
  Result<HttpResponse> send(const HttpRequest& request, std::stop_token stop) override {
    Result<HttpResponse> r = inner_.send(request, stop);
    if (r) metrics_.request_retries(path_of(request.url), to_lower(request.method), r->attempts);
    return r;
  }

 private:
  static std::string path_of(const std::string& url) {
    size_t scheme = url.find("://");
    size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    std::string path = slash == std::string::npos ? "/" : url.substr(slash);
    path = path.substr(0, path.find('?'));
    std::string out;
    for (const std::string& seg : split(path, '/')) {
      if (!out.empty() || !seg.empty()) out += "/";
      bool numeric = !seg.empty() && seg.find_first_not_of("0123456789") == std::string::npos;
      out += numeric ? "{id}" : seg;
    }
    return out.empty() ? "/" : out;
  }
  HttpTransport& inner_;
  RunnerMetrics& metrics_;
};

int shutdown_timeout_s(const GlobalConfig& c) { return c.shutdown_timeout > 0 ? c.shutdown_timeout : 30; }

}  // namespace

std::vector<RunnerEntry> runner_entries(const GlobalConfig& config, const std::string& system_id) {
  std::vector<RunnerEntry> out;
  for (const RunnerSettings& r : config.runners) {
    out.push_back(RunnerEntry{RunnerIdentity{short_token(r.token.value), r.name, system_id}, r.limit});
  }
  return out;
}

// The process environment for the AWS credential chain (AWS_* variables).
static EnvMap process_env_map() {
  EnvMap env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string_view::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

int run_loop(RunLoopOptions options) {
  SystemClock clock;
  CurlTransport curl;
  RetryingTransport retrying(curl, clock);
  RunnerMetrics metrics;
  RetryCountingTransport transport(retrying, metrics);
  HttpGitLabClient http_gitlab(transport);
  MeteredGitLabClient gitlab(http_gitlab, metrics);
  LocalExecutorFactory executors(options.working_dir, options.user);
  // A crashed runner leaves containers, networks and volumes behind (executors §7.3).
  executors.remove_stale_resources(options.config.runners);
  metrics.set_process_state(ProcessState::kStarting);
  set_log_observer([&metrics](LogLevel level) {
    switch (level) {
      case LogLevel::kWarning: metrics.error_logged("warning"); break;
      case LogLevel::kError: metrics.error_logged("error"); break;
      case LogLevel::kFatal: metrics.error_logged("fatal"); break;
      case LogLevel::kPanic: metrics.error_logged("panic"); break;
      default: break;
    }
  });
  metrics.config_loaded(true);
  metrics.set_runners(runner_entries(options.config, options.system_id));

  DaemonOptions daemon_options;
  daemon_options.system_id = options.system_id;
  // Generated scripts call this binary for the cache and artifact helper subcommands.
  daemon_options.helper_command = self_executable();
  // [runners.cache] Type="s3": presigned URLs, credentials cached across jobs (executors §5.6).
  RemoteCache remote_cache(curl, clock, process_env_map());
  daemon_options.remote_cache = [&remote_cache](const RunnerSettings& runner, int64_t project_id,
                                                const std::string& key,
                                                std::chrono::seconds expires) {
    return remote_cache.urls(runner, project_id, key, expires);
  };
  daemon_options.user = options.user;
  daemon_options.max_builds = options.max_builds;
  daemon_options.wait_timeout = options.wait_timeout;
  daemon_options.metrics = &metrics;
  int shutdown_timeout = options.shutdown_timeout_override > 0 ? options.shutdown_timeout_override
                                                               : shutdown_timeout_s(options.config);
  int concurrent = options.config.concurrent;
  Daemon daemon(gitlab, executors, clock, options.config, daemon_options);

  // The metrics/debug HTTP server (api spec §9.1); a bad address is fatal, as upstream.
  std::optional<MetricsServer> server;
  if (!options.config.listen_address.empty()) {
    MetricsServerHandlers handlers;
    handlers.metrics = [&metrics] { return metrics.render(); };
    handlers.process_state = [&metrics] { return std::string(to_string(metrics.process_state())); };
    handlers.jobs_list = [&daemon] {
      std::vector<std::string> lines;
      for (const RunningJobInfo& j : daemon.running_jobs()) {
        double seconds = std::chrono::duration<double>(j.duration).count();
        lines.push_back("url=" + j.url + " state=running stage=" + j.stage +
                        " executor_stage=" + j.stage + " duration=" +
                        format_go_duration(std::chrono::duration_cast<Nanoseconds>(
                            std::chrono::duration<double>(seconds))));
      }
      return lines;
    };
    server.emplace(std::move(handlers));
    Result<> started = server->start(options.config.listen_address);
    if (!started) {
      log_error("Failed to start the metrics server", {{"listen_address", options.config.listen_address},
                                                       {"error", started.error().message}});
      return 1;
    }
    log_info("Metrics server listening", {{"address", options.config.listen_address}});
  }
  log_info("Configuration loaded", {{"builds", "0"}, {"max_builds", std::to_string(concurrent)}});
  daemon.start();
  metrics.set_process_state(ProcessState::kRunning);
  if (server) server->set_ready(true);

  auto loaded_mtime = options.config_path ? mtime(*options.config_path) : std::nullopt;
  auto last_check = std::chrono::steady_clock::now();
  bool graceful = false;
  bool forceful = false;
  std::chrono::steady_clock::time_point forceful_deadline{};

  // Token rotation at 75 % of the lifetime (§1.6); the rewritten file is picked up by the
  // mtime check like any other change.
  std::optional<TokenRotator> rotator;
  if (options.config_path) {
    rotator.emplace(*options.config_path, transport, clock);
    rotator->reschedule(options.config);
  }
  auto rotate_tokens = [&] {
    if (rotator && rotator->poll()) metrics.config_saved(true);
  };

  auto reload = [&](bool forced) {
    if (!options.config_path) return;
    auto now_mtime = mtime(*options.config_path);
    if (!forced && now_mtime == loaded_mtime) return;
    loaded_mtime = now_mtime;
    Result<GlobalConfig> cfg = load_config(*options.config_path);
    metrics.config_loaded(cfg.has_value());
    if (!cfg) {
      // A broken file keeps the old config; it is not retried until it changes (§10.2).
      log_error("Failed to load config", {{"error", cfg.error().message}});
      return;
    }
    if (cfg->listen_address != options.config.listen_address)
      log_warning("listen_address changed; the new value needs a restart");
    metrics.set_runners(runner_entries(*cfg, options.system_id));
    if (rotator) rotator->reschedule(*cfg);
    daemon.reload(std::move(*cfg));
    log_info("Configuration loaded", {{"file", options.config_path->string()}});
  };

  while (true) {
    if (daemon.wait(0ms)) break;
    if (forceful && std::chrono::steady_clock::now() >= forceful_deadline) {
      log_warning("Forceful shutdown timed out; exiting",
                  {{"timeout", std::to_string(shutdown_timeout) + "s"}});
      set_log_observer({});
      std::_Exit(1);  // running job threads cannot be joined any more
    }
    if (daemon.finished_by_itself() && !graceful) {
      graceful = true;
      daemon.stop_graceful();
    }
    std::optional<int> sig = wait_signal(500ms);
    if (!sig) {
      if (!graceful && !forceful && std::chrono::steady_clock::now() - last_check >= 3s) {
        last_check = std::chrono::steady_clock::now();
        rotate_tokens();
        reload(false);
      }
      continue;
    }
    switch (*sig) {
      case SIGHUP:
        log_info("Reloading configuration (SIGHUP)");
        reload(true);
        break;
      case SIGQUIT:
        if (!graceful && !forceful) {
          graceful = true;
          metrics.set_process_state(ProcessState::kGracefulShutdown);
          log_warning("Starting graceful shutdown, waiting for builds to finish");
          daemon.stop_graceful();
        }
        break;
      case SIGTERM:
      case SIGINT:
        if (forceful) {
          log_warning("Second interrupt received, exiting immediately");
          std::_Exit(1);
        }
        forceful = true;
        metrics.set_process_state(ProcessState::kForcefulShutdown);
        forceful_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(shutdown_timeout);
        log_warning("Starting forceful shutdown", {{"signal", *sig == SIGTERM ? "terminated" : "interrupt"}});
        daemon.stop_forceful(*sig == SIGTERM ? "terminated" : "interrupt");
        break;
      default:
        break;
    }
  }
  log_info("All workers stopped. Can exit now");
  set_log_observer({});
  return 0;
}

}  // namespace glr
