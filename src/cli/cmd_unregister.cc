// `unregister` (api spec §1.5, §1.9; commands/unregister.go): removes runners on GitLab,
// then from config.toml. A glrt- runner belongs to the server: only this host's runner
// manager (system_id) is deleted, so other hosts sharing the token keep working.
#include <CLI/CLI.hpp>

#include <memory>

#include "cli/commands.h"
#include "cli/lifecycle.h"
#include "util/log.h"
#include "util/short_token.h"

namespace glr {
namespace {

struct UnregisterFlags {
  std::string config{};
  std::string name{};
  std::string url{};
  std::string token{};
  bool all = false;
};

bool unregister_one(HttpTransport& transport, const TlsFiles& tls, const std::string& url,
                    const Secret& token, const std::string& name, const std::string& system_id) {
  RegistrationClient client(transport, tls);
  Result<> r = is_created_runner_token(token.value) ? client.unregister_manager(url, token, system_id)
                                                    : client.unregister_runner(url, token);
  std::vector<LogField> fields{{"runner", short_token(token.value)}};
  if (!name.empty()) fields.push_back({"runner_name", name});
  if (!r) {
    fields.push_back({"error", r.error().message});
    log_error("Unregistering runner from GitLab failed", fields);
    return false;
  }
  log_info("Unregistering runner from GitLab succeeded", fields);
  return true;
}

int unregister_all(LoadedConfig& loaded, HttpTransport& transport) {
  log_warning("Unregistering all runners");
  std::vector<RunnerSettings> kept;
  for (const RunnerSettings& r : loaded.config.runners) {
    // A runner that could not be unregistered stays in the file.
    if (!unregister_one(transport, tls_of(r), r.url, r.token, r.name, loaded.system_id))
      kept.push_back(r);
  }
  bool all_done = kept.empty();
  if (kept.size() != loaded.config.runners.size()) {
    loaded.config.runners = std::move(kept);
    if (save_or_fail(loaded) != 0) return 1;
  }
  return all_done ? 0 : error_exit("Failed to unregister runners");
}

int unregister_command(const UnregisterFlags& f, const GlobalOptions& global) {
  std::optional<LoadedConfig> loaded = open_config(f.config, global);
  if (!loaded) return 1;
  ApiClient api;
  if (f.all) return unregister_all(*loaded, api.transport);
  if (f.name.empty() && f.token.empty())
    return error_exit("unregister: at least one of --name or --token must be specified (or --all-runners)");

  // Selection as upstream: name and token, else token, else name; the first match.
  std::vector<RunnerSettings>& runners = loaded->config.runners;
  auto it = std::find_if(runners.begin(), runners.end(), [&](const RunnerSettings& r) {
    if (!f.token.empty() && r.token.value != f.token) return false;
    return f.name.empty() || r.name == f.name;
  });
  if (it == runners.end()) {
    if (!f.token.empty() && !f.url.empty() && f.name.empty()) {
      // Not in the file (glrunner extension): unregister on the server only.
      return unregister_one(api.transport, {}, f.url, Secret{f.token}, "", loaded->system_id)
                 ? 0
                 : error_exit("Failed to unregister runner");
    }
    return error_exit("unregister: no runner matches " +
                      (f.name.empty() ? std::string("the given token") : "name \"" + f.name + "\""));
  }
  RunnerSettings chosen = *it;
  if (!unregister_one(api.transport, tls_of(chosen), chosen.url, chosen.token, chosen.name,
                      loaded->system_id))
    return error_exit("Failed to unregister runner \"" + chosen.name + "\"");
  // Every entry with the same credentials is the same runner on the server.
  std::erase_if(runners, [&](const RunnerSettings& r) {
    return r.url == chosen.url && r.token == chosen.token;
  });
  return save_or_fail(*loaded);
}

}  // namespace

void add_unregister_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<UnregisterFlags>();
  CLI::App* cmd = app.add_subcommand("unregister", "unregister specific runner");
  cmd->add_option("-c,--config", f->config, "Config file")->envname("CONFIG_FILE");
  cmd->add_option("-n,--name", f->name, "Name of the runner you wish to unregister");
  cmd->add_option("-u,--url", f->url, "GitLab instance URL")->envname("CI_SERVER_URL");
  cmd->add_option("-t,--token", f->token, "Runner token")->envname("CI_SERVER_TOKEN");
  cmd->add_flag("--all-runners", f->all, "Unregister all runners");
  cmd->callback([f, &global] { global.exit_code = unregister_command(*f, global); });
}

}  // namespace glr
