// `register` (api spec §1.3, §1.4, §1.7; commands/register.go): adds a [[runners]] entry to
// config.toml, from flags, env vars, a --template-config and, without --non-interactive,
// answers on stdin. Beyond the official runner, `--pat` first creates the runner with
// POST /user/runners (§1.2), so an instance/group/project runner is set up in one step.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "cli/lifecycle.h"
#include "cli/register_flags.h"
#include "cli/token_rotation.h"
#include "config/config_template.h"
#include "config/config_writer.h"
#include "config/system_id.h"
#include "util/log.h"
#include "util/short_token.h"
#include "util/strings.h"

namespace glr {
namespace {

struct RegisterFlags {
  std::string config{};
  bool non_interactive = false;
  bool leave_runner = false;
  std::string url{};
  std::string token{};
  std::string registration_token{};
  std::string pat{};
  std::string runner_type = "instance_type";
  int64_t group_id = 0;
  int64_t project_id = 0;
  std::string template_config{};
  // run_untagged starts false so "not given" is visible (upstream's ensureServerConfigArgsEmpty);
  // the request then sends true when there are no tags (§1.3).
  RunnerAttributes attributes{.run_untagged = false, .locked = true};
  RunnerSettings runner{};
  SectionFlags sections{};
};

const std::vector<std::string>& known_executors() {
  static const std::vector<std::string> kExecutors = {
      "custom", "docker", "docker-autoscaler", "docker+machine", "docker-windows", "instance",
      "kubernetes", "parallels", "shell", "ssh", "virtualbox"};
  return kExecutors;
}

bool known_executor(const std::string& name) {
  const auto& all = known_executors();
  return std::find(all.begin(), all.end(), name) != all.end();
}

// Executors that ask for [runners.docker] image (upstream's askDocker).
bool uses_docker(const std::string& executor) {
  return executor == "docker" || executor == "docker-windows" || executor == "docker+machine" ||
         executor == "docker-autoscaler";
}

// Upstream's ask(): in interactive mode every question is asked, the current value is the
// default shown as "[value]: "; an empty answer keeps it. At end of input the current value
// is taken, or the question fails when it is required and empty.
class Prompter {
 public:
  explicit Prompter(bool interactive) : interactive_(interactive) {}

  Result<std::string> ask(const std::string& key, const std::string& question,
                          std::string current, bool allow_empty = false) {
    current = std::string(trim(current));
    if (!interactive_) {
      if (current.empty() && !allow_empty)
        return fail(ErrorKind::kInvalidInput, "The " + key + " needs to be entered");
      return current;
    }
    while (true) {
      std::cout << question << "\n";
      if (!current.empty()) std::cout << "[" << current << "]: ";
      std::cout << std::flush;
      std::string line;
      if (!std::getline(std::cin, line)) {
        if (current.empty() && !allow_empty)
          return fail(ErrorKind::kInvalidInput,
                      "Unexpected EOF. Did you mean to use --non-interactive?");
        return current;
      }
      std::string answer(trim(line));
      if (!answer.empty()) return answer;
      if (allow_empty || !current.empty()) return current;
    }
  }

  bool interactive() const { return interactive_; }

 private:
  bool interactive_;
};

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::kIo, "cannot read --template-config " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Inserts `key = literal` among the own keys of [runners.<section>] (before its sub-tables).
void add_section_key(RunnerSettings& r, const std::string& section, const std::string& line) {
  if (std::find(r.sections.begin(), r.sections.end(), section) == r.sections.end())
    r.sections.push_back(section);
  std::string& text = r.raw_sections[section];
  size_t own_end = text.starts_with("[") ? 0 : text.find("\n[");
  if (own_end == std::string::npos) {
    if (!text.empty() && !text.ends_with("\n")) text += "\n";
    text += line + "\n";
  } else {
    text.insert(own_end == 0 ? 0 : own_end + 1, line + (own_end == 0 ? "\n\n" : "\n"));
  }
}

bool section_has_key(const RunnerSettings& r, const std::string& section, const std::string& key) {
  auto it = r.raw_sections.find(section);
  if (it == r.raw_sections.end()) return false;
  std::string_view text = it->second;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    if (line.starts_with("[")) return false;  // the section's own keys end here
    size_t eq = line.find('=');
    if (eq != std::string_view::npos && trim(line.substr(0, eq)) == key) return true;
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return false;
}

bool has_server_owned_options(const RunnerAttributes& a) {
  return !a.locked || !a.access_level.empty() || a.run_untagged || a.maximum_timeout > 0 ||
         a.paused || !a.tag_list.empty() || !a.maintenance_note.empty();
}

// The server side of registration: returns the runner's id and authentication token.
// `server_created` tells whether a runner now exists on GitLab because of this call.
Result<RunnerTokenInfo> obtain_token(RegisterFlags& f, Prompter& prompter, RunnerSettings& runner,
                                     RegistrationClient& client, const std::string& system_id,
                                     const GlobalConfig& config, bool& server_created) {
  RunnerInfoPayload info = runner_info_for(runner.executor);
  if (!f.pat.empty()) {
    // glrunner extension: POST /user/runners, then verify so this host is its manager.
    if (f.attributes.description.empty()) f.attributes.description = runner.name;
    if (f.attributes.tag_list.empty()) f.attributes.run_untagged = true;
    CreateRunnerRequest req{.runner_type = f.runner_type, .group_id = f.group_id,
                            .project_id = f.project_id, .attributes = f.attributes};
    Result<RunnerTokenInfo> created = client.create_runner(f.url, Secret{f.pat}, req);
    if (!created) return fail(created.error().kind, "Creating runner... failed: " + created.error().message);
    server_created = true;
    log_info("Creating runner... succeeded",
             {{"runner", short_token(created->token.value)}, {"runner_type", f.runner_type}});
    Result<RunnerTokenInfo> verified = client.verify_runner(f.url, created->token, system_id, info);
    if (!verified) return fail(verified.error().kind, "Verifying runner... failed: " + verified.error().message);
    log_info("Verifying runner... is valid", {{"runner", short_token(created->token.value)}});
    return created;
  }

  if (!f.token.empty() && !is_created_runner_token(f.token)) {
    // An existing runner token: verify only (§1.7).
    log_info("Token specified trying to verify runner...");
    log_warning("If you want to register use the '-r' instead of '-t'.");
    Result<RunnerTokenInfo> v = client.verify_runner(f.url, Secret{f.token}, system_id, info);
    if (!v) return fail(v.error().kind, "Failed to verify the runner: " + v.error().message);
    log_info("Verifying runner... is alive", {{"runner", short_token(f.token)}});
    v->token = Secret{f.token};
    return v;
  }

  std::string token = !f.token.empty() ? f.token : f.registration_token;
  if (token.empty() || !is_created_runner_token(token)) {
    Result<std::string> answer = prompter.ask("registration-token", "Enter the registration token:", token);
    if (!answer) return fail(answer.error());
    token = *answer;
  }

  if (!is_created_runner_token(token)) {
    // Legacy registration token: POST /runners (§1.3).
    Result<std::string> name = prompter.ask("name", "Enter a description for the runner:", runner.name);
    if (!name) return fail(name.error());
    runner.name = *name;
    Result<std::string> tags = prompter.ask("tag-list", "Enter tags for the runner (comma-separated):",
                                            f.attributes.tag_list, true);
    if (!tags) return fail(tags.error());
    f.attributes.tag_list = *tags;
    Result<std::string> note = prompter.ask("maintenance-note",
                                            "Enter optional maintenance note for the runner:",
                                            f.attributes.maintenance_note, true);
    if (!note) return fail(note.error());
    f.attributes.maintenance_note = *note;
    if (f.attributes.tag_list.empty()) f.attributes.run_untagged = true;
    RunnerAttributes attributes = f.attributes;
    attributes.description = runner.name;
    Result<RunnerTokenInfo> created = client.register_runner(f.url, Secret{token}, attributes, RunnerInfoPayload{});
    if (!created) {
      const Error& e = created.error();
      if (e.kind == ErrorKind::kUnauthorized)
        return fail(e.kind, "Registering runner... forbidden (check registration token): " + e.message);
      if (e.kind == ErrorKind::kNotFound)
        return fail(e.kind, "Registering runner... failed: registration tokens are disabled on this "
                            "instance (" + e.message + ")");
      return fail(e.kind, "Registering runner... failed: " + e.message);
    }
    server_created = true;
    log_info("Registering runner... succeeded", {{"runner", short_token(created->token.value)}});
    return created;
  }

  // A glrt- authentication token: the runner exists on the server with its settings (§1.7).
  for (const RunnerSettings& r : config.runners)
    if (r.token.value == token)
      log_warning("A runner with this system ID and token has already been registered.");
  if (has_server_owned_options(f.attributes)) {
    if (f.token.empty()) {
      log_warning("You have specified an authentication token in the legacy parameter "
                  "--registration-token. This has triggered the 'legacy-compatible registration "
                  "process' which has resulted in the following command line parameters being "
                  "ignored: --locked, --access-level, --run-untagged, --maximum-timeout, --paused, "
                  "--tag-list, and --maintenance-note.");
    } else {
      return fail(ErrorKind::kInvalidInput,
                  "Runner configuration other than name and executor configuration is reserved "
                  "(specifically --locked, --access-level, --run-untagged, --maximum-timeout, "
                  "--paused, --tag-list, and --maintenance-note) and cannot be specified when "
                  "registering with a runner authentication token. This configuration is specified "
                  "on the GitLab server. Please try again without specifying any of those arguments.");
    }
  }
  Result<RunnerTokenInfo> v = client.verify_runner(f.url, Secret{token}, system_id, info);
  if (!v) return fail(v.error().kind, "Verifying runner... failed: " + v.error().message);
  if (v->id == 0) return fail(ErrorKind::kUnavailable, "Verifying runner... failed: the server returned no runner id");
  v->token = Secret{token};
  log_info("Verifying runner... is valid", {{"runner", short_token(token)}});
  Result<std::string> name = prompter.ask(
      "name", "Enter a name for the runner. This is stored only in the local config.toml file:",
      runner.name);
  if (!name) return fail(name.error());
  runner.name = *name;
  return v;
}

int register_command(RegisterFlags& f, const GlobalOptions& global) {
  if (!setup_logging(global, "", "")) return 1;
  if (!f.attributes.access_level.empty() && f.attributes.access_level != "not_protected" &&
      f.attributes.access_level != "ref_protected")
    return error_exit("Given access-level is not valid. Use not_protected or ref_protected.");
  if (f.runner_type == "group_type" && f.group_id <= 0 && !f.pat.empty())
    return error_exit("register: --runner-type group_type needs --group-id");
  if (f.runner_type == "project_type" && f.project_id <= 0 && !f.pat.empty())
    return error_exit("register: --runner-type project_type needs --project-id");

  // The entry from flags and env, then the template fills what they left empty (§1.7).
  RunnerSettings runner = f.runner;
  if (runner.name.empty()) {
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    runner.name = host;
  }
  if (Result<> applied = f.sections.apply(runner); !applied)
    return error_exit("register: " + applied.error().message);
  if (!f.template_config.empty()) {
    Result<std::string> text = read_file(f.template_config);
    if (!text) return error_exit("register: " + text.error().message);
    Result<RunnerSettings> merged = merge_template(runner, *text, f.template_config);
    if (!merged) return error_exit("register: " + merged.error().message);
    runner = std::move(*merged);
  }

  Result<std::filesystem::path> path = lifecycle_config_path(f.config);
  if (!path) return error_exit(path.error().message);
  GlobalConfig config;
  std::error_code ec;
  if (std::filesystem::exists(*path, ec)) {
    Result<GlobalConfig> loaded = load_config(*path);
    if (!loaded) return error_exit("Failed to load configuration: " + loaded.error().message);
    config = std::move(*loaded);
  }
  Result<std::string> system_id = load_or_create_system_id(*path);
  if (!system_id) return error_exit(system_id.error().message);

  Prompter prompter(!f.non_interactive);
  Result<std::string> url = prompter.ask(
      "url", "Enter the GitLab instance URL (for example, https://gitlab.com/):", f.url);
  if (!url) return error_exit(url.error().message);
  f.url = *url;
  if (f.pat.empty() && f.token.empty() && f.registration_token.empty() && !prompter.interactive())
    return error_exit("register: one of --token (CI_SERVER_TOKEN), --registration-token "
                      "(REGISTRATION_TOKEN) or --pat (GITLAB_PAT) is required");

  if (!prompter.interactive()) {
    // Refuse what no answer can fix before a runner is created on GitLab.
    if (runner.executor.empty()) return error_exit("The executor needs to be entered");
    if (!known_executor(runner.executor))
      return error_exit("Invalid executor specified: \"" + runner.executor + "\"");
    if (uses_docker(runner.executor) && !section_has_key(runner, "docker", "image"))
      return error_exit("The docker-image needs to be entered");
  }

  ApiClient api;
  RegistrationClient client(api.transport, tls_of(runner));
  bool server_created = false;
  Result<RunnerTokenInfo> token =
      obtain_token(f, prompter, runner, client, *system_id, config, server_created);
  // From here on, a failure removes a runner this command created, unless --leave-runner.
  auto give_up = [&](const std::string& message) {
    if (server_created && token && !f.leave_runner) {
      Result<> removed = client.unregister_runner(f.url, token->token);
      if (removed) log_warning("The runner created on GitLab was removed again");
    }
    return error_exit(message);
  };
  if (!token) return give_up(token.error().message);

  std::string executors;
  for (const std::string& e : known_executors()) executors += (executors.empty() ? "" : ", ") + e;
  while (true) {
    Result<std::string> executor =
        prompter.ask("executor", "Enter an executor: " + executors + ":", runner.executor);
    if (!executor) return give_up(executor.error().message);
    runner.executor = *executor;
    if (known_executor(runner.executor)) break;
    if (!prompter.interactive()) return give_up("Invalid executor specified: \"" + runner.executor + "\"");
    log_error("Invalid executor specified");
    runner.executor.clear();
  }
  if (uses_docker(runner.executor) && !section_has_key(runner, "docker", "image")) {
    Result<std::string> image =
        prompter.ask("docker-image", "Enter the default Docker image (for example, ruby:3.3):", "");
    if (!image) return give_up(image.error().message);
    add_section_key(runner, "docker", "image = " + toml_quote(*image));
  }
  apply_executor_defaults(runner);

  runner.url = f.url;
  runner.token = token->token;
  runner.id = token->id;
  runner.token_obtained_at = format_rfc3339(std::chrono::system_clock::now());
  runner.token_expires_at = token->token_expires_at.empty() ? "0001-01-01T00:00:00Z" : token->token_expires_at;
  config.runners.push_back(runner);
  Result<> saved = save_config_atomic(*path, config);
  if (!saved) return give_up("Saving configuration failed: " + saved.error().message);
  if (runner.limit > config.concurrent)
    log_warning("The specified runner job concurrency limit (" + std::to_string(runner.limit) +
                ") is larger than current global concurrency limit (" +
                std::to_string(config.concurrent) +
                "). The global concurrent limit will not be increased and takes precedence.");
  log_info("Runner registered successfully. Feel free to start it, but if it's running already "
           "the config should be automatically reloaded!");
  log_info("Configuration (with the authentication token) was saved in \"" + path->string() + "\"");
  return 0;
}

}  // namespace

void add_register_command(CLI::App& app, GlobalOptions& global) {
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
  reg->add_option("--pat", f->pat, "Personal access token (scope create_runner): create the runner with POST /api/v4/user/runners first (glrunner)")->envname("GITLAB_PAT");
  reg->add_option("--runner-type", f->runner_type, "instance_type, group_type or project_type (with --pat)")
      ->envname("RUNNER_TYPE")
      ->check(CLI::IsMember({"instance_type", "group_type", "project_type"}));
  reg->add_option("--group-id", f->group_id, "Group ID of a group_type runner (with --pat)")->envname("GITLAB_GROUP_ID");
  reg->add_option("--project-id", f->project_id, "Project ID of a project_type runner (with --pat)")->envname("GITLAB_PROJECT_ID");
  reg->add_option("--template-config", f->template_config, "Path to the configuration template file")->envname("TEMPLATE_CONFIG_FILE");
  reg->add_option("--name,--description", r.name, "Runner name")->envname("RUNNER_NAME");
  reg->add_option("--tag-list", a.tag_list, "Tag list")->envname("RUNNER_TAG_LIST");
  reg->add_flag("--run-untagged", a.run_untagged, "Register to run untagged builds; defaults to 'true' when 'tag-list' is empty")->envname("REGISTER_RUN_UNTAGGED");
  reg->add_flag("--locked", a.locked, "Lock Runner for current project, defaults to 'true'")->envname("REGISTER_LOCKED");
  reg->add_option("--access-level", a.access_level, "Set access_level of the runner to not_protected or ref_protected")->envname("REGISTER_ACCESS_LEVEL");
  reg->add_option("--maximum-timeout", a.maximum_timeout, "What is the maximum timeout (in seconds) that will be set for job when using this Runner")->envname("REGISTER_MAXIMUM_TIMEOUT");
  reg->add_flag("--paused", a.paused, "Set Runner to be paused, defaults to 'false'")->envname("REGISTER_PAUSED");
  reg->add_option("--maintenance-note", a.maintenance_note, "Runner's maintenance note")->envname("REGISTER_MAINTENANCE_NOTE");
  reg->add_option("--executor", r.executor, "Select executor, eg. shell, docker, etc.")->envname("RUNNER_EXECUTOR");
  reg->add_option("--shell", r.shell, "Select bash, sh, cmd, pwsh or powershell")->envname("RUNNER_SHELL");
  reg->add_option("--builds-dir", r.builds_dir, "Directory where builds are stored")->envname("RUNNER_BUILDS_DIR");
  reg->add_option("--cache-dir", r.cache_dir, "Directory where build cache is stored")->envname("RUNNER_CACHE_DIR");
  reg->add_option("--clone-url", r.clone_url, "Overwrite the default URL used to clone or fetch the git ref")->envname("CLONE_URL");
  reg->add_option("--env", r.environment, "Custom environment variables injected to build environment")->envname("RUNNER_ENV");
  reg->add_option("--pre-get-sources-script", r.pre_get_sources_script, "Runner-specific commands to be executed on the runner before updating the Git repository")->envname("RUNNER_PRE_GET_SOURCES_SCRIPT");
  reg->add_option("--post-get-sources-script", r.post_get_sources_script, "Runner-specific commands to be executed on the runner after updating the Git repository")->envname("RUNNER_POST_GET_SOURCES_SCRIPT");
  reg->add_option("--pre-build-script", r.pre_build_script, "Runner-specific command script executed just before build executes")->envname("RUNNER_PRE_BUILD_SCRIPT");
  reg->add_option("--post-build-script", r.post_build_script, "Runner-specific command script executed just after build executes")->envname("RUNNER_POST_BUILD_SCRIPT");
  reg->add_flag("--debug-trace-disabled", r.debug_trace_disabled, "When set to true Runner will disable the possibility of using the CI_DEBUG_TRACE feature")->envname("RUNNER_DEBUG_TRACE_DISABLED");
  reg->add_option("--limit", r.limit, "Maximum number of builds processed by this runner")->envname("RUNNER_LIMIT");
  reg->add_option("--output-limit", r.output_limit, "Maximum build trace size in kilobytes")->envname("RUNNER_OUTPUT_LIMIT");
  reg->add_option("--request-concurrency", r.request_concurrency, "Maximum concurrency for job requests")->envname("RUNNER_REQUEST_CONCURRENCY");
  reg->add_option("--unhealthy-requests-limit", r.unhealthy_requests_limit, "The number of 'unhealthy' responses to new job requests after which a runner worker will be disabled")->envname("RUNNER_UNHEALTHY_REQUESTS_LIMIT");
  reg->add_option("--tls-ca-file", r.tls_ca_file, "File containing the certificates to verify the peer when using HTTPS")->envname("CI_SERVER_TLS_CA_FILE");
  reg->add_option("--tls-cert-file", r.tls_cert_file, "File containing certificate for TLS client auth when using HTTPS")->envname("CI_SERVER_TLS_CERT_FILE");
  reg->add_option("--tls-key-file", r.tls_key_file, "File containing private key for TLS client auth when using HTTPS")->envname("CI_SERVER_TLS_KEY_FILE");
  f->sections.add_to(*reg);
  reg->callback([f, &global] { global.exit_code = register_command(*f, global); });
}

}  // namespace glr
