// Signal handling happens here, in the main thread, with sigtimedwait: no code
// runs in an asynchronous handler (STYLE C6).
#include "cli/run_loop.h"

#include <sys/stat.h>

#include <csignal>

#include <cstdlib>

#include "cli/commands.h"
#include "cli/shell_executor_factory.h"
#include "gitlab/http_gitlab_client.h"
#include "http/curl_transport.h"
#include "http/retrying_transport.h"
#include "process/signal_set.h"
#include "util/clock.h"
#include "util/log.h"

namespace glr {

using namespace std::chrono_literals;

namespace {

std::optional<std::filesystem::file_time_type> mtime(const std::filesystem::path& p) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(p, ec);
  if (ec) return std::nullopt;
  return t;
}

int shutdown_timeout_s(const GlobalConfig& c) { return c.shutdown_timeout > 0 ? c.shutdown_timeout : 30; }

}  // namespace

int run_loop(RunLoopOptions options) {
  SystemClock clock;
  CurlTransport curl;
  RetryingTransport transport(curl, clock);
  HttpGitLabClient gitlab(transport);
  LocalExecutorFactory executors(options.working_dir, options.user);

  DaemonOptions daemon_options;
  daemon_options.system_id = options.system_id;
  daemon_options.helper_command = self_executable();
  daemon_options.user = options.user;
  daemon_options.max_builds = options.max_builds;
  daemon_options.wait_timeout = options.wait_timeout;
  int shutdown_timeout = options.shutdown_timeout_override > 0 ? options.shutdown_timeout_override
                                                               : shutdown_timeout_s(options.config);
  int concurrent = options.config.concurrent;
  Daemon daemon(gitlab, executors, clock, options.config, daemon_options);
  log_info("Configuration loaded", {{"builds", "0"}, {"max_builds", std::to_string(concurrent)}});
  daemon.start();

  auto loaded_mtime = options.config_path ? mtime(*options.config_path) : std::nullopt;
  auto last_check = std::chrono::steady_clock::now();
  bool graceful = false;
  bool forceful = false;
  std::chrono::steady_clock::time_point forceful_deadline{};

  auto reload = [&](bool forced) {
    if (!options.config_path) return;
    auto now_mtime = mtime(*options.config_path);
    if (!forced && now_mtime == loaded_mtime) return;
    loaded_mtime = now_mtime;
    Result<GlobalConfig> cfg = load_config(*options.config_path);
    if (!cfg) {
      // A broken file keeps the old config; it is not retried until it changes (§10.2).
      log_error("Failed to load config", {{"error", cfg.error().message}});
      return;
    }
    daemon.reload(std::move(*cfg));
    log_info("Configuration loaded", {{"file", options.config_path->string()}});
  };

  while (true) {
    if (daemon.wait(0ms)) break;
    if (forceful && std::chrono::steady_clock::now() >= forceful_deadline) {
      log_warning("Forceful shutdown timed out; exiting",
                  {{"timeout", std::to_string(shutdown_timeout) + "s"}});
      return 1;
    }
    if (daemon.finished_by_itself() && !graceful) {
      graceful = true;
      daemon.stop_graceful();
    }
    std::optional<int> sig = wait_signal(500ms);
    if (!sig) {
      if (!graceful && !forceful && std::chrono::steady_clock::now() - last_check >= 3s) {
        last_check = std::chrono::steady_clock::now();
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
        forceful_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(shutdown_timeout);
        log_warning("Starting forceful shutdown", {{"signal", *sig == SIGTERM ? "terminated" : "interrupt"}});
        daemon.stop_forceful(*sig == SIGTERM ? "terminated" : "interrupt");
        break;
      default:
        break;
    }
  }
  log_info("All workers stopped. Can exit now");
  return 0;
}

}  // namespace glr
