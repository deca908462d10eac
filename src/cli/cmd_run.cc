// `run` and `run-single` with the official flags and environment variables
// (api spec §1.9; commands/multi.go and commands/single.go of the official runner).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/run_loop.h"
#include "config/runner_config.h"
#include "config/system_id.h"
#include "process/signal_set.h"
#include "util/duration.h"
#include "util/log.h"
#include "util/strings.h"

namespace glr {

namespace {

struct RunFlags {
  std::string config;
  std::string listen_address;
  std::string service = "gitlab-runner";
  std::string working_directory;
  std::string user;
  bool syslog = false;
};

std::filesystem::path resolve_working_dir(const std::string& flag) {
  std::error_code ec;
  if (!flag.empty()) return std::filesystem::absolute(flag, ec);
  return std::filesystem::current_path(ec);
}

Result<std::filesystem::path> resolve_config_path(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::path(flag);
  return default_config_path();
}

int run_command(const RunFlags& flags, GlobalOptions& global) {
  Result<std::filesystem::path> path = resolve_config_path(flags.config);
  if (!path) {
    std::fprintf(stderr, "glrunner: %s\n", path.error().message.c_str());
    return 1;
  }
  Result<GlobalConfig> config = load_config(*path);
  if (!config) {
    // A broken file refuses to start instead of running half-configured.
    std::fprintf(stderr, "glrunner: %s\n", config.error().message.c_str());
    return 1;
  }
  if (!setup_logging(global, config->log_level, config->log_format)) return 1;
  if (!flags.listen_address.empty()) config->listen_address = flags.listen_address;
  for (const std::string& w : config_warnings(*config)) log_warning(w);
  Result<std::string> system_id = load_or_create_system_id(*path);
  if (!system_id) {
    std::fprintf(stderr, "glrunner: %s\n", system_id.error().message.c_str());
    return 1;
  }
  log_info("Starting multi-runner from " + path->string() + "...",
           {{"builds", "0"}, {"max_builds", std::to_string(config->concurrent)}});
  RunLoopOptions options;
  options.config = std::move(*config);
  options.config_path = *path;
  options.working_dir = resolve_working_dir(flags.working_directory);
  options.user = flags.user;
  options.system_id = *system_id;
  return run_loop(std::move(options));
}

}  // namespace

void add_run_command(CLI::App& app, GlobalOptions& global) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "run multi runner service");
  cmd->add_option("-c,--config", flags->config, "Config file")->envname("CONFIG_FILE");
  cmd->add_option("--listen-address", flags->listen_address,
                  "Metrics / pprof server listening address")
      ->envname("LISTEN_ADDRESS");
  cmd->add_option("-n,--service", flags->service, "Use different names for different services");
  cmd->add_option("-d,--working-directory", flags->working_directory,
                  "Specify custom working directory");
  cmd->add_option("-u,--user", flags->user, "Use specific user to execute shell scripts");
  cmd->add_flag("--syslog", flags->syslog, "Log to system service logger")->envname("LOG_SYSLOG");
  cmd->callback([flags, &global] {
    block_runner_signals();
    global.exit_code = run_command(*flags, global);
  });
}

namespace {

struct SingleFlags {
  RunnerSettings runner;
  std::string url;
  std::string token;
  std::string config;
  std::string runner_name;
  std::string prepare_timeout;
  std::string get_sources_timeout;
  std::vector<std::string> feature_flags;
  int wait_timeout = 0;
  int max_builds = 0;
  int shutdown_timeout = 0;
  std::string working_directory;
  std::string user;
};

int run_single_command(SingleFlags& flags, GlobalOptions& global) {
  GlobalConfig config;
  config.concurrent = 1;
  std::filesystem::path system_id_base;
  if (!flags.runner_name.empty()) {
    Result<std::filesystem::path> path = resolve_config_path(flags.config);
    if (!path) {
      std::fprintf(stderr, "glrunner: %s\n", path.error().message.c_str());
      return 1;
    }
    Result<GlobalConfig> loaded = load_config(*path);
    if (!loaded) {
      std::fprintf(stderr, "glrunner: %s\n", loaded.error().message.c_str());
      return 1;
    }
    const RunnerSettings* found = nullptr;
    for (const RunnerSettings& r : loaded->runners)
      if (r.name == flags.runner_name) found = &r;
    if (found == nullptr) {
      std::fprintf(stderr, "glrunner: runner \"%s\" not found in %s\n", flags.runner_name.c_str(),
                   path->string().c_str());
      return 1;
    }
    config.runners.push_back(*found);
    config.log_level = loaded->log_level;
    config.log_format = loaded->log_format;
    system_id_base = *path;
  } else {
    if (flags.url.empty() || flags.token.empty()) {
      std::fprintf(stderr,
                   "glrunner: run-single needs --url and --token (or CI_SERVER_URL and "
                   "CI_SERVER_TOKEN), or --runner with a config file\n");
      return 1;
    }
    RunnerSettings r = flags.runner;
    r.url = flags.url;
    r.token = Secret{flags.token};
    if (r.executor.empty()) {
      std::fprintf(stderr, "glrunner: run-single needs --executor (RUNNER_EXECUTOR)\n");
      return 1;
    }
    for (const auto& [name, text] :
         {std::pair{"--prepare-timeout", &flags.prepare_timeout},
          std::pair{"--get-sources-timeout", &flags.get_sources_timeout}}) {
      if (text->empty()) continue;
      std::optional<Nanoseconds> d = parse_go_duration(*text);
      if (!d) {
        std::fprintf(stderr, "glrunner: %s: invalid duration \"%s\"\n", name, text->c_str());
        return 1;
      }
      (name == std::string("--prepare-timeout") ? r.prepare_timeout : r.get_sources_timeout) = *d;
    }
    for (const std::string& ff : flags.feature_flags) {
      size_t eq = ff.find('=');
      std::optional<bool> v = eq == std::string::npos ? std::optional<bool>(true)
                                                      : parse_go_bool(ff.substr(eq + 1));
      if (!v) {
        std::fprintf(stderr, "glrunner: --feature-flags: invalid value \"%s\"\n", ff.c_str());
        return 1;
      }
      r.feature_flags[ff.substr(0, eq)] = *v;
    }
    config.runners.push_back(std::move(r));
    std::error_code ec;
    system_id_base = std::filesystem::current_path(ec) / "config.toml";
    if (!flags.config.empty()) system_id_base = flags.config;
  }
  if (!setup_logging(global, config.log_level, config.log_format)) return 1;
  Result<std::string> system_id = load_or_create_system_id(system_id_base);
  if (!system_id) {
    std::fprintf(stderr, "glrunner: %s\n", system_id.error().message.c_str());
    return 1;
  }
  log_info("Starting runner for " + config.runners[0].url + " with token " +
               std::string(config.runners[0].token.value.substr(0, 8)) + " ...",
           {});
  RunLoopOptions options;
  options.config = std::move(config);
  options.working_dir = resolve_working_dir(flags.working_directory);
  options.user = flags.user;
  options.system_id = *system_id;
  options.max_builds = flags.max_builds;
  options.wait_timeout = std::chrono::seconds(flags.wait_timeout);
  options.shutdown_timeout_override = flags.shutdown_timeout;
  return run_loop(std::move(options));
}

}  // namespace

void add_run_single_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<SingleFlags>();
  CLI::App* cmd = app.add_subcommand("run-single", "start single runner");
  RunnerSettings& r = f->runner;
  cmd->add_option("-u,--url", f->url, "GitLab instance URL")->envname("CI_SERVER_URL");
  cmd->add_option("-t,--token", f->token, "Runner token")->envname("CI_SERVER_TOKEN");
  cmd->add_option("--tls-ca-file", r.tls_ca_file, "File containing the certificates to verify the peer when using HTTPS")
      ->envname("CI_SERVER_TLS_CA_FILE");
  cmd->add_option("--tls-cert-file", r.tls_cert_file, "File containing certificate for TLS client auth when using HTTPS")
      ->envname("CI_SERVER_TLS_CERT_FILE");
  cmd->add_option("--tls-key-file", r.tls_key_file, "File containing private key for TLS client auth when using HTTPS")
      ->envname("CI_SERVER_TLS_KEY_FILE");
  cmd->add_option("--name,--description", r.name, "Runner name")->envname("RUNNER_NAME");
  cmd->add_option("--limit", r.limit, "Maximum number of builds processed by this runner")
      ->envname("RUNNER_LIMIT");
  cmd->add_option("--output-limit", r.output_limit, "Maximum build trace size in kilobytes")
      ->envname("RUNNER_OUTPUT_LIMIT");
  cmd->add_option("--request-concurrency", r.request_concurrency,
                  "Maximum concurrency for job requests")
      ->envname("RUNNER_REQUEST_CONCURRENCY");
  cmd->add_option("--executor", r.executor, "Select executor, eg. shell, docker, etc.")
      ->envname("RUNNER_EXECUTOR");
  cmd->add_option("--builds-dir", r.builds_dir, "Directory where builds are stored")
      ->envname("RUNNER_BUILDS_DIR");
  cmd->add_option("--cache-dir", r.cache_dir, "Directory where build cache is stored")
      ->envname("RUNNER_CACHE_DIR");
  cmd->add_option("--clone-url", r.clone_url, "Overwrite the default URL used to clone or fetch the git ref")
      ->envname("CLONE_URL");
  cmd->add_option("--env", r.environment, "Custom environment variables injected to build environment")
      ->envname("RUNNER_ENV");
  cmd->add_option("--pre-get-sources-script", r.pre_get_sources_script,
                  "Runner-specific commands to be executed on the runner before updating the Git repository")
      ->envname("RUNNER_PRE_GET_SOURCES_SCRIPT");
  cmd->add_option("--post-get-sources-script", r.post_get_sources_script,
                  "Runner-specific commands to be executed on the runner after updating the Git repository")
      ->envname("RUNNER_POST_GET_SOURCES_SCRIPT");
  cmd->add_option("--pre-build-script", r.pre_build_script, "Runner-specific command script executed just before build executes")
      ->envname("RUNNER_PRE_BUILD_SCRIPT");
  cmd->add_option("--post-build-script", r.post_build_script, "Runner-specific command script executed just after build executes")
      ->envname("RUNNER_POST_BUILD_SCRIPT");
  cmd->add_option("--prepare-timeout", f->prepare_timeout, "Timeout of the prepare stage")
      ->envname("RUNNER_PREPARE_TIMEOUT");
  cmd->add_option("--get-sources-timeout", f->get_sources_timeout, "Timeout of the get_sources stage")
      ->envname("RUNNER_GET_SOURCES_TIMEOUT");
  cmd->add_flag("--debug-trace-disabled", r.debug_trace_disabled,
                "When set to true Runner will disable the possibility of using the CI_DEBUG_TRACE feature")
      ->envname("RUNNER_DEBUG_TRACE_DISABLED");
  cmd->add_option("--shell", r.shell, "Select bash, sh, cmd, pwsh or powershell")->envname("RUNNER_SHELL");
  cmd->add_option("--feature-flags", f->feature_flags, "Enable/Disable feature flags (FF_NAME=true)")
      ->envname("FEATURE_FLAGS");
  cmd->add_flag("--strict-check-interval", r.strict_check_interval,
                "Disable immediate re-poll after receiving a job")
      ->envname("RUNNER_STRICT_CHECK_INTERVAL");
  cmd->add_option("--unhealthy-requests-limit", r.unhealthy_requests_limit,
                  "The number of 'unhealthy' responses to new job requests after which a runner worker will be disabled")
      ->envname("RUNNER_UNHEALTHY_REQUESTS_LIMIT");
  cmd->add_option("--job-status-final-update-retry-limit", r.job_status_final_update_retry_limit,
                  "The maximum number of times GitLab Runner can retry to push the final job status")
      ->envname("RUNNER_job_status_final_update_retry_limit");
  cmd->add_option("--wait-timeout", f->wait_timeout, "How long to wait in seconds before receiving the first job");
  cmd->add_option("--max-builds", f->max_builds, "How many builds to process before exiting");
  cmd->add_option("-c,--config", f->config, "Config file")->envname("CONFIG_FILE");
  cmd->add_option("-r,--runner", f->runner_name,
                  "Runner name from the config file to use instead of command-line arguments");
  cmd->add_option("--shutdown-timeout", f->shutdown_timeout,
                  "Number of seconds after which the forceful shutdown operation will timeout and process will exit");
  cmd->add_option("-d,--working-directory", f->working_directory, "Specify custom working directory");
  cmd->add_option("--user", f->user, "Use specific user to execute shell scripts");
  cmd->callback([f, &global] {
    block_runner_signals();
    global.exit_code = run_single_command(*f, global);
  });
}

void add_list_command(CLI::App& app, GlobalOptions& global) {
  auto config = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("list", "List all configured runners");
  cmd->add_option("-c,--config", *config, "Config file")->envname("CONFIG_FILE");
  cmd->callback([config, &global] {
    Result<std::filesystem::path> path = resolve_config_path(*config);
    if (!path) {
      std::fprintf(stderr, "glrunner: %s\n", path.error().message.c_str());
      global.exit_code = 1;
      return;
    }
    Result<GlobalConfig> loaded = load_config(*path);
    if (!setup_logging(global, loaded ? loaded->log_level : "", loaded ? loaded->log_format : "")) {
      global.exit_code = 1;
      return;
    }
    if (!loaded) {
      // The official command warns and exits 0 on a load failure.
      log_warning(loaded.error().message);
      return;
    }
    log_info("Listing configured runners", {{"ConfigFile", path->string()}});
    for (const RunnerSettings& r : loaded->runners) {
      log_info(r.name, {{"Executor", r.executor}, {"Token", r.token.value}, {"URL", r.url}});
    }
  });
}

bool setup_logging(const GlobalOptions& global, const std::string& config_level,
                   const std::string& config_format) {
  LogLevel level = LogLevel::kInfo;
  std::string level_name = !global.log_level.empty() ? global.log_level : config_level;
  if (global.debug) level_name = "debug";
  if (!level_name.empty() && !parse_log_level(level_name, &level)) {
    std::fprintf(stderr, "glrunner: invalid log level \"%s\" (options: debug, info, warn, error, fatal, panic)\n",
                 level_name.c_str());
    return false;
  }
  std::string format = !global.log_format.empty() ? global.log_format : config_format;
  if (format.empty()) format = "runner";
  if (!is_valid_log_format(format)) {
    std::fprintf(stderr, "glrunner: invalid log format \"%s\" (options: runner, text, json)\n",
                 format.c_str());
    return false;
  }
  configure_log(level, format, ::isatty(2) != 0);
  return true;
}

std::string self_executable() {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("gitlab-runner") : p.string();
}

}  // namespace glr
