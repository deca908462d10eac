// Runner lifecycle commands: register, verify, unregister, reset-token (api spec §1,
// commands/register.go, verify.go, unregister.go, reset_token.go of the official runner).
// `register --pat` also creates the runner through POST /user/runners (a glrunner extension).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "config/config_template.h"
#include "config/config_writer.h"
#include "config/runner_config.h"
#include "config/system_id.h"
#include "gitlab/job_json.h"
#include "gitlab/registration_client.h"
#include "http/curl_transport.h"
#include "http/retrying_transport.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/short_token.h"
#include "util/strings.h"

namespace glr {

namespace {

bool is_created_runner_token(const std::string& token) { return token.starts_with("glrt-"); }

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::filesystem::path> config_path(const std::string& flag) {
  if (!flag.empty()) return std::filesystem::path(flag);
  return default_config_path();
}

// An existing file must load; a missing one starts empty (concurrent = 1).
Result<GlobalConfig> load_or_empty(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    GlobalConfig c;
    c.concurrent = 1;
    return c;
  }
  return load_config(path);
}

int error_exit(const std::string& message) {
  log_error(message);
  return 1;
}

RunnerInfoPayload info_for(const std::string& executor) {
  RunnerInfoPayload info;
  info.executor = executor;
  info.shell = "bash";
  info.features = shell_executor_features();
  return info;
}

std::string prompt(const std::string& question, const std::string& current) {
  if (!current.empty() || ::isatty(0) == 0) return current;
  std::cout << question << "\n" << std::flush;
  std::string line;
  std::getline(std::cin, line);
  return std::string(trim(line));
}

// The GitLab client stack the lifecycle commands share.
struct ApiClient {
  SystemClock clock;
  CurlTransport curl;
  RetryingTransport transport{curl, clock};
  RegistrationClient client{transport};
};

struct RegisterFlags {
  std::string config;
  bool non_interactive = false;
  bool leave_runner = false;
  std::string url;
  std::string token;
  std::string registration_token;
  std::string pat;
  std::string runner_type = "instance_type";
  int64_t group_id = 0;
  int64_t project_id = 0;
  std::string template_config;
  RunnerAttributes attributes;
  RunnerSettings runner;
  std::string docker_image;
  std::optional<bool> docker_privileged;
  std::string kubernetes_namespace;
  std::string kubernetes_image;
  std::optional<bool> kubernetes_privileged;
  std::string kubernetes_service_account;
  std::string kubernetes_helper_image;
};

void add_section_key(RunnerSettings& r, const std::string& section, const std::string& line) {
  if (std::find(r.sections.begin(), r.sections.end(), section) == r.sections.end())
    r.sections.push_back(section);
  r.raw_sections[section] += line + "\n";
}

int register_command(RegisterFlags& f, GlobalOptions& global) {
  if (!setup_logging(global, "", "")) return 1;
  Result<std::filesystem::path> path = config_path(f.config);
  if (!path) return error_exit(path.error().message);
  Result<GlobalConfig> config = load_or_empty(*path);
  if (!config) return error_exit(config.error().message);
  Result<std::string> system_id = load_or_create_system_id(*path);
  if (!system_id) return error_exit(system_id.error().message);

  bool interactive = !f.non_interactive && ::isatty(0) != 0;
  if (interactive) {
    f.url = prompt("Enter the GitLab instance URL (for example, https://gitlab.com/):", f.url);
    if (f.token.empty() && f.registration_token.empty() && f.pat.empty())
      f.registration_token = prompt("Enter the registration token:", f.registration_token);
    f.runner.name = prompt("Enter a name for the runner:", f.runner.name);
    f.runner.executor = prompt("Enter an executor: shell, docker, kubernetes, custom:", f.runner.executor);
  }
  if (f.url.empty()) return error_exit("register: --url (CI_SERVER_URL) is required");
  if (f.token.empty() && f.registration_token.empty() && f.pat.empty())
    return error_exit("register: one of --token (CI_SERVER_TOKEN), --registration-token "
                      "(REGISTRATION_TOKEN) or --pat (GITLAB_PAT) is required");
  if (f.runner.executor.empty()) return error_exit("register: --executor (RUNNER_EXECUTOR) is required");
  static const std::vector<std::string> kExecutors = {
      "shell", "docker", "docker-windows", "docker+machine", "docker-autoscaler", "instance",
      "kubernetes", "custom", "ssh", "parallels", "virtualbox"};
  if (std::find(kExecutors.begin(), kExecutors.end(), f.runner.executor) == kExecutors.end())
    return error_exit("register: unknown executor \"" + f.runner.executor + "\"");
  if (!f.attributes.access_level.empty() && f.attributes.access_level != "not_protected" &&
      f.attributes.access_level != "ref_protected")
    return error_exit("register: --access-level must be not_protected or ref_protected");

  RunnerSettings runner = f.runner;
  if (!f.template_config.empty()) {
    std::FILE* file = std::fopen(f.template_config.c_str(), "r");
    if (file == nullptr) return error_exit("register: cannot read --template-config " + f.template_config);
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) text.append(buf, n);
    std::fclose(file);
    Result<RunnerSettings> merged = merge_template(runner, text, f.template_config);
    if (!merged) return error_exit(merged.error().message);
    runner = std::move(*merged);
  }
  if (!f.docker_image.empty()) add_section_key(runner, "docker", "image = " + toml_string(f.docker_image));
  if (f.docker_privileged) add_section_key(runner, "docker", std::string("privileged = ") + (*f.docker_privileged ? "true" : "false"));
  if (runner.executor == "docker" && runner.raw_sections["docker"].find("volumes") == std::string::npos)
    add_section_key(runner, "docker", "volumes = [\"/cache\"]");
  if (!f.kubernetes_namespace.empty()) add_section_key(runner, "kubernetes", "namespace = " + toml_string(f.kubernetes_namespace));
  if (!f.kubernetes_image.empty()) add_section_key(runner, "kubernetes", "image = " + toml_string(f.kubernetes_image));
  if (f.kubernetes_privileged) add_section_key(runner, "kubernetes", std::string("privileged = ") + (*f.kubernetes_privileged ? "true" : "false"));
  if (!f.kubernetes_service_account.empty()) add_section_key(runner, "kubernetes", "service_account = " + toml_string(f.kubernetes_service_account));
  if (!f.kubernetes_helper_image.empty()) add_section_key(runner, "kubernetes", "helper_image = " + toml_string(f.kubernetes_helper_image));
  if (runner.name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    runner.name = host;
  }
  if (f.attributes.description.empty()) f.attributes.description = runner.name;
  if (f.attributes.tag_list.empty()) f.attributes.run_untagged = true;

  ApiClient api;
  RegistrationClient& client = api.client;
  RunnerInfoPayload info = info_for(runner.executor);

  Result<RunnerTokenInfo> created = fail(ErrorKind::kInternal, "no token");
  bool server_created = false;
  if (!f.pat.empty()) {
    // glrunner extension: create the runner with a PAT, then register it in one step.
    CreateRunnerRequest req{f.runner_type, f.group_id, f.project_id, f.attributes};
    created = client.create_runner(f.url, Secret{f.pat}, req);
    if (!created) return error_exit("Creating runner... failed: " + created.error().message);
    server_created = true;
    log_info("Creating runner... succeeded", {{"runner", short_token(created->token.value)}});
    Result<RunnerTokenInfo> verified = client.verify_runner(f.url, created->token, *system_id, info);
    if (!verified) {
      (void)client.unregister_runner(f.url, created->token);
      return error_exit("Verifying runner... failed: " + verified.error().message);
    }
  } else {
    std::string token = !f.token.empty() ? f.token : f.registration_token;
    if (is_created_runner_token(token)) {
      // Authentication tokens carry their settings on the server (§1.7 step 3).
      bool server_owned = !f.attributes.tag_list.empty() || !f.attributes.maintenance_note.empty() ||
                          f.attributes.paused || !f.attributes.access_level.empty() ||
                          f.attributes.maximum_timeout > 0;
      if (server_owned && !f.token.empty())
        return error_exit("Runner configuration other than name and executor configuration is "
                          "reserved (specifically --locked, --access-level, --run-untagged, "
                          "--maximum-timeout, --paused, --tag-list, and --maintenance-note) and "
                          "cannot be specified when registering with a runner authentication token. "
                          "This configuration is specified on the GitLab server.");
      if (server_owned)
        log_warning("Server-side runner settings are ignored with a runner authentication token");
      created = client.verify_runner(f.url, Secret{token}, *system_id, info);
      if (!created) return error_exit("Verifying runner... failed: " + created.error().message);
      if (created->id == 0) return error_exit("Verifying runner... failed: the server returned no runner id");
      created->token = Secret{token};
      log_info("Verifying runner... is valid", {{"runner", short_token(token)}});
    } else if (!f.token.empty()) {
      // A non-glrt- --token is an existing runner token: verify only (§1.7).
      created = client.verify_runner(f.url, Secret{token}, *system_id, info);
      if (!created) return error_exit("Verifying runner... failed: " + created.error().message);
      created->token = Secret{token};
      log_info("Verifying runner... is alive", {{"runner", short_token(token)}});
    } else {
      created = client.register_runner(f.url, Secret{token}, f.attributes, info);
      if (!created) {
        if (created.error().kind == ErrorKind::kUnauthorized)
          return error_exit("Registering runner... forbidden (check registration token): " + created.error().message);
        if (created.error().kind == ErrorKind::kNotFound)
          return error_exit("Registering runner... failed: registration tokens are disabled on this instance (" + created.error().message + ")");
        return error_exit("Registering runner... failed: " + created.error().message);
      }
      server_created = true;
      log_info("Registering runner... succeeded", {{"runner", short_token(token)}});
    }
  }

  runner.url = f.url;
  runner.token = created->token;
  runner.id = created->id;
  runner.token_obtained_at = now_utc();
  runner.token_expires_at = created->token_expires_at.empty() ? "0001-01-01T00:00:00Z" : created->token_expires_at;
  config->runners.push_back(runner);
  Result<> saved = save_config_atomic(*path, *config);
  if (!saved) {
    // Nothing half-done: a runner we created is removed again unless asked to keep it.
    if (server_created && !f.leave_runner) (void)client.unregister_runner(f.url, created->token);
    return error_exit("Saving configuration failed: " + saved.error().message);
  }
  log_info("Runner registered successfully. Feel free to start it, but if it's running already "
           "the config should be automatically reloaded!");
  log_info("Configuration (with the authentication token) was saved in \"" + path->string() + "\"");
  return 0;
}

struct SelectFlags {
  std::string config;
  std::string name;
  std::string url;
  std::string token;
  bool all = false;
  bool remove = false;
  std::string pat;
};

std::vector<size_t> select_runners(const GlobalConfig& c, const SelectFlags& f) {
  std::vector<size_t> out;
  for (size_t i = 0; i < c.runners.size(); ++i) {
    const RunnerSettings& r = c.runners[i];
    if (f.all || (f.name.empty() && f.token.empty() && f.url.empty()) ||
        (!f.name.empty() && r.name == f.name) ||
        (!f.token.empty() && r.token.value == f.token && (f.url.empty() || r.url == f.url)))
      out.push_back(i);
  }
  return out;
}

// An existing config.toml, its logging settings applied, and this host's system_id.
struct LoadedConfig {
  std::filesystem::path path;
  GlobalConfig config;
  std::string system_id;
};

std::optional<LoadedConfig> open_config(const std::string& flag, GlobalOptions& global) {
  Result<std::filesystem::path> path = config_path(flag);
  if (!path) {
    error_exit(path.error().message);
    return std::nullopt;
  }
  Result<GlobalConfig> config = load_config(*path);
  if (!setup_logging(global, config ? config->log_level : "", config ? config->log_format : ""))
    return std::nullopt;
  if (!config) {
    error_exit(config.error().message);
    return std::nullopt;
  }
  Result<std::string> system_id = load_or_create_system_id(*path);
  if (!system_id) {
    error_exit(system_id.error().message);
    return std::nullopt;
  }
  return LoadedConfig{*path, std::move(*config), *system_id};
}

int verify_command(SelectFlags& f, GlobalOptions& global) {
  std::optional<LoadedConfig> loaded = open_config(f.config, global);
  if (!loaded) return 1;
  GlobalConfig* config = &loaded->config;
  const std::filesystem::path* path = &loaded->path;
  const std::string* system_id = &loaded->system_id;
  std::vector<size_t> chosen = select_runners(*config, f);
  if (chosen.empty()) return error_exit("No runner matches the filtering parameters");
  ApiClient api;
  RegistrationClient& client = api.client;
  std::vector<size_t> removed;
  bool ok = true;
  for (size_t i : chosen) {
    const RunnerSettings& r = config->runners[i];
    Result<RunnerTokenInfo> v = client.verify_runner(r.url, r.token, *system_id, info_for(r.executor));
    std::vector<LogField> fields{{"runner", short_token(r.token.value)}, {"runner_name", r.name}};
    if (v) {
      log_info(is_created_runner_token(r.token.value) ? "Verifying runner... is valid"
                                                       : "Verifying runner... is alive",
               fields);
    } else if (v.error().kind == ErrorKind::kUnauthorized) {
      log_error(is_created_runner_token(r.token.value) ? "Verifying runner... is not valid"
                                                        : "Verifying runner... is removed",
                fields);
      removed.push_back(i);
      ok = false;
    } else {
      fields.push_back({"error", v.error().message});
      log_error("Verifying runner... failed", fields);
      ok = false;
    }
  }
  if (f.remove && !removed.empty()) {
    for (auto it = removed.rbegin(); it != removed.rend(); ++it)
      config->runners.erase(config->runners.begin() + static_cast<long>(*it));
    Result<> saved = save_config_atomic(*path, *config);
    if (!saved) return error_exit("Saving configuration failed: " + saved.error().message);
    log_info("Updated " + path->string());
    return 0;
  }
  return ok ? 0 : 1;
}

int unregister_command(SelectFlags& f, GlobalOptions& global) {
  std::optional<LoadedConfig> loaded = open_config(f.config, global);
  if (!loaded) return 1;
  GlobalConfig* config = &loaded->config;
  const std::filesystem::path* path = &loaded->path;
  const std::string* system_id = &loaded->system_id;
  if (!f.all && f.name.empty() && f.token.empty())
    return error_exit("unregister: one of --name, --token (with --url) or --all-runners is required");
  ApiClient api;
  RegistrationClient& client = api.client;
  std::vector<size_t> chosen = select_runners(*config, f);
  if (chosen.empty() && !f.token.empty() && !f.url.empty()) {
    // A runner not in the file: unregister it on the server only.
    Secret token{f.token};
    Result<> r = is_created_runner_token(f.token) ? client.unregister_manager(f.url, token, *system_id)
                                                  : client.unregister_runner(f.url, token);
    if (!r) return error_exit("Unregistering runner from GitLab failed: " + r.error().message);
    log_info("Unregistering runner from GitLab succeeded", {{"runner", short_token(f.token)}});
    return 0;
  }
  if (chosen.empty()) return error_exit("No runner matches the filtering parameters");
  std::vector<size_t> done;
  bool ok = true;
  for (size_t i : chosen) {
    const RunnerSettings& r = config->runners[i];
    // glrt- runners belong to the server: only this host's manager is removed (§1.5).
    Result<> res = is_created_runner_token(r.token.value)
                       ? client.unregister_manager(r.url, r.token, *system_id)
                       : client.unregister_runner(r.url, r.token);
    std::vector<LogField> fields{{"runner", short_token(r.token.value)}, {"runner_name", r.name}};
    if (res) {
      log_info("Unregistering runner from GitLab succeeded", fields);
      done.push_back(i);
    } else {
      fields.push_back({"error", res.error().message});
      log_error("Unregistering runner from GitLab failed", fields);
      ok = false;
    }
  }
  for (auto it = done.rbegin(); it != done.rend(); ++it)
    config->runners.erase(config->runners.begin() + static_cast<long>(*it));
  if (!done.empty()) {
    Result<> saved = save_config_atomic(*path, *config);
    if (!saved) return error_exit("Saving configuration failed: " + saved.error().message);
    log_info("Updated " + path->string());
  }
  return ok ? 0 : 1;
}

int reset_token_command(SelectFlags& f, GlobalOptions& global) {
  std::optional<LoadedConfig> loaded = open_config(f.config, global);
  if (!loaded) return 1;
  GlobalConfig* config = &loaded->config;
  const std::filesystem::path* path = &loaded->path;
  if (!f.all && f.name.empty() && f.token.empty())
    return error_exit("reset-token: one of --name, --url with --id, or --all-runners is required");
  ApiClient api;
  RegistrationClient& client = api.client;
  std::vector<size_t> chosen = select_runners(*config, f);
  if (chosen.empty()) return error_exit("No runner matches the filtering parameters");
  bool ok = true;
  bool changed = false;
  for (size_t i : chosen) {
    RunnerSettings& r = config->runners[i];
    Result<RunnerTokenInfo> res = !f.pat.empty() ? client.reset_token_with_pat(r.url, r.id, Secret{f.pat})
                                                 : client.reset_token(r.url, r.token);
    std::vector<LogField> fields{{"runner", short_token(r.token.value)}, {"runner_name", r.name}};
    if (!res) {
      fields.push_back({"error", res.error().message});
      log_error("Resetting runner token failed", fields);
      ok = false;
      continue;
    }
    r.token = res->token;
    r.token_obtained_at = now_utc();
    r.token_expires_at = res->token_expires_at.empty() ? "0001-01-01T00:00:00Z" : res->token_expires_at;
    changed = true;
    log_info("Runner token reset", {{"runner", short_token(r.token.value)}, {"runner_name", r.name}});
  }
  if (changed) {
    Result<> saved = save_config_atomic(*path, *config);
    if (!saved) return error_exit("Saving configuration failed: " + saved.error().message);
  }
  return ok ? 0 : 1;
}

}  // namespace

void add_register_commands(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<RegisterFlags>();
  CLI::App* reg = app.add_subcommand("register", "register a new runner");
  RunnerSettings& r = f->runner;
  RunnerAttributes& a = f->attributes;
  reg->add_option("-c,--config", f->config, "Config file")->envname("CONFIG_FILE");
  reg->add_flag("-n,--non-interactive", f->non_interactive, "Run registration unattended")->envname("REGISTER_NON_INTERACTIVE");
  reg->add_flag("--leave-runner", f->leave_runner, "Don't remove runner if registration fails")->envname("REGISTER_LEAVE_RUNNER");
  reg->add_option("-r,--registration-token", f->registration_token, "Runner's registration token")->envname("REGISTRATION_TOKEN");
  reg->add_option("-u,--url", f->url, "GitLab instance URL")->envname("CI_SERVER_URL");
  reg->add_option("-t,--token", f->token, "Runner token")->envname("CI_SERVER_TOKEN");
  reg->add_option("--pat", f->pat, "Personal access token: create the runner with POST /api/v4/user/runners (glrunner)")->envname("GITLAB_PAT");
  reg->add_option("--runner-type", f->runner_type, "instance_type, group_type or project_type (with --pat)")
      ->check(CLI::IsMember({"instance_type", "group_type", "project_type"}));
  reg->add_option("--group-id", f->group_id, "Group ID for a group_type runner (with --pat)");
  reg->add_option("--project-id", f->project_id, "Project ID for a project_type runner (with --pat)");
  reg->add_option("--template-config", f->template_config, "Path to the configuration template file")->envname("TEMPLATE_CONFIG_FILE");
  reg->add_option("--name,--description", r.name, "Runner name")->envname("RUNNER_NAME");
  reg->add_option("--tag-list", a.tag_list, "Tag list")->envname("RUNNER_TAG_LIST");
  reg->add_flag("--run-untagged", a.run_untagged, "Register to run untagged builds")->envname("REGISTER_RUN_UNTAGGED");
  reg->add_flag("--locked", a.locked, "Lock Runner for current project")->envname("REGISTER_LOCKED");
  reg->add_option("--access-level", a.access_level, "Set access_level of the runner")->envname("REGISTER_ACCESS_LEVEL");
  reg->add_option("--maximum-timeout", a.maximum_timeout, "Maximum timeout for jobs (seconds)")->envname("REGISTER_MAXIMUM_TIMEOUT");
  reg->add_flag("--paused", a.paused, "Set Runner to be paused")->envname("REGISTER_PAUSED");
  reg->add_option("--maintenance-note", a.maintenance_note, "Runner's maintenance note")->envname("REGISTER_MAINTENANCE_NOTE");
  reg->add_option("--executor", r.executor, "Select executor")->envname("RUNNER_EXECUTOR");
  reg->add_option("--shell", r.shell, "Select bash, sh, pwsh or powershell")->envname("RUNNER_SHELL");
  reg->add_option("--builds-dir", r.builds_dir, "Directory where builds are stored")->envname("RUNNER_BUILDS_DIR");
  reg->add_option("--cache-dir", r.cache_dir, "Directory where build cache is stored")->envname("RUNNER_CACHE_DIR");
  reg->add_option("--clone-url", r.clone_url, "Overwrite the default URL used to clone")->envname("CLONE_URL");
  reg->add_option("--env", r.environment, "Custom environment variables injected to build environment")->envname("RUNNER_ENV");
  reg->add_option("--limit", r.limit, "Maximum number of builds processed by this runner")->envname("RUNNER_LIMIT");
  reg->add_option("--output-limit", r.output_limit, "Maximum build trace size in kilobytes")->envname("RUNNER_OUTPUT_LIMIT");
  reg->add_option("--request-concurrency", r.request_concurrency, "Maximum concurrency for job requests")->envname("RUNNER_REQUEST_CONCURRENCY");
  reg->add_option("--docker-image", f->docker_image, "Docker image to be used")->envname("DOCKER_IMAGE");
  reg->add_option("--docker-privileged", f->docker_privileged, "Give extended privileges to container")->envname("DOCKER_PRIVILEGED");
  reg->add_option("--kubernetes-namespace", f->kubernetes_namespace, "Namespace to run Kubernetes jobs in")->envname("KUBERNETES_NAMESPACE");
  reg->add_option("--kubernetes-image", f->kubernetes_image, "Default docker image to use for builds")->envname("KUBERNETES_IMAGE");
  reg->add_option("--kubernetes-privileged", f->kubernetes_privileged, "Run all containers with the privileged flag enabled")->envname("KUBERNETES_PRIVILEGED");
  reg->add_option("--kubernetes-service-account", f->kubernetes_service_account, "Executor pods use this Service Account")->envname("KUBERNETES_SERVICE_ACCOUNT");
  reg->add_option("--kubernetes-helper-image", f->kubernetes_helper_image, "Helper image")->envname("KUBERNETES_HELPER_IMAGE");
  reg->callback([f, &global] { global.exit_code = register_command(*f, global); });

  auto v = std::make_shared<SelectFlags>();
  CLI::App* verify = app.add_subcommand("verify", "verify all registered runners");
  verify->add_option("-c,--config", v->config, "Config file")->envname("CONFIG_FILE");
  verify->add_option("-n,--name", v->name, "Name of the runner you wish to verify");
  verify->add_option("-u,--url", v->url, "GitLab instance URL");
  verify->add_option("-t,--token", v->token, "Runner token");
  verify->add_flag("--delete", v->remove, "Delete no longer existing runners?");
  verify->callback([v, &global] { global.exit_code = verify_command(*v, global); });

  auto u = std::make_shared<SelectFlags>();
  CLI::App* unreg = app.add_subcommand("unregister", "unregister specific runner");
  unreg->add_option("-c,--config", u->config, "Config file")->envname("CONFIG_FILE");
  unreg->add_option("-n,--name", u->name, "Name of the runner you wish to unregister");
  unreg->add_option("-u,--url", u->url, "GitLab instance URL")->envname("CI_SERVER_URL");
  unreg->add_option("-t,--token", u->token, "Runner token")->envname("CI_SERVER_TOKEN");
  unreg->add_flag("--all-runners", u->all, "Unregister all runners");
  unreg->callback([u, &global] { global.exit_code = unregister_command(*u, global); });

  auto t = std::make_shared<SelectFlags>();
  CLI::App* reset = app.add_subcommand("reset-token", "reset a runner's token");
  reset->add_option("-c,--config", t->config, "Config file")->envname("CONFIG_FILE");
  reset->add_option("-n,--name", t->name, "Name of the runner to reset");
  reset->add_option("-u,--url", t->url, "URL of the runner to reset");
  reset->add_option("--pat", t->pat, "Personal access token (resets by runner id)")->envname("GITLAB_PAT");
  reset->add_flag("--all-runners", t->all, "Reset all runners' tokens");
  reset->callback([t, &global] { global.exit_code = reset_token_command(*t, global); });
}

}  // namespace glr
