// `reset-token` (api spec §1.6, §1.9; commands/reset_token.go): replaces a runner's
// authentication token and rewrites config.toml. With --pat the reset goes by runner id,
// which still works after the old token expired.
#include <CLI/CLI.hpp>

#include <memory>

#include "cli/commands.h"
#include "cli/lifecycle.h"
#include "cli/token_rotation.h"
#include "util/log.h"
#include "util/short_token.h"

namespace glr {
namespace {

struct ResetTokenFlags {
  std::string config{};
  std::string name{};
  std::string url{};
  int64_t id = 0;
  bool all = false;
  std::string pat{};
};

bool reset_one(HttpTransport& transport, RunnerSettings& r, const std::string& pat) {
  RegistrationClient client(transport, tls_of(r));
  std::vector<LogField> fields{{"runner", short_token(r.token.value)}, {"runner_name", r.name}};
  Result<RunnerTokenInfo> res = fail(ErrorKind::kInvalidInput, "");
  if (!pat.empty()) {
    if (r.id == 0) {
      fields.push_back({"error", "the runner has no id in config.toml; --pat needs it"});
      log_error("Resetting runner authentication token... failed", fields);
      return false;
    }
    res = client.reset_token_with_pat(r.url, r.id, Secret{pat});
  } else {
    res = client.reset_token(r.url, r.token);
  }
  if (!res) {
    fields.push_back({"error", res.error().message});
    log_error(res.error().kind == ErrorKind::kUnauthorized
                  ? "Resetting runner authentication token... failed (check used token)"
                  : "Resetting runner authentication token... failed",
              fields);
    return false;
  }
  r.token = res->token;
  r.token_obtained_at = format_rfc3339(std::chrono::system_clock::now());
  r.token_expires_at = res->token_expires_at.empty() ? "0001-01-01T00:00:00Z" : res->token_expires_at;
  log_info("Resetting runner authentication token... succeeded",
           {{"runner", short_token(r.token.value)}, {"runner_name", r.name}});
  return true;
}

int reset_token_command(const ResetTokenFlags& f, const GlobalOptions& global) {
  std::optional<LoadedConfig> loaded = open_config(f.config, global);
  if (!loaded) return 1;
  ApiClient api;
  std::vector<RunnerSettings>& runners = loaded->config.runners;
  if (f.all) {
    log_warning("Resetting all runner authentication tokens");
    bool changed = false;
    bool failed = false;
    for (RunnerSettings& r : runners) {
      bool ok = reset_one(api.transport, r, f.pat);
      changed = changed || ok;
      failed = failed || !ok;
    }
    // Tokens that were reset are already revoked on the server: save them whatever else failed.
    if (changed && save_or_fail(*loaded) != 0) return 1;
    return failed ? error_exit("Failed to reset some runner authentication tokens") : 0;
  }
  if (f.name.empty() && (f.url.empty() || f.id == 0))
    return error_exit("reset-token: one of --name, --url with --id, or --all-runners is required");
  auto it = std::find_if(runners.begin(), runners.end(), [&](const RunnerSettings& r) {
    return f.name.empty() ? r.url == f.url && r.id == f.id : r.name == f.name;
  });
  if (it == runners.end())
    return error_exit("Couldn't get runner credentials: no runner matches " +
                      (f.name.empty() ? "--url and --id" : "name \"" + f.name + "\""));
  if (!reset_one(api.transport, *it, f.pat)) return error_exit("Failed to reset runner authentication token");
  return save_or_fail(*loaded);
}

}  // namespace

void add_reset_token_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<ResetTokenFlags>();
  CLI::App* cmd = app.add_subcommand("reset-token", "reset a runner's token");
  cmd->add_option("-c,--config", f->config, "Config file")->envname("CONFIG_FILE");
  cmd->add_option("-n,--name", f->name, "Name of the runner whose token you wish to reset");
  cmd->add_option("-u,--url", f->url, "URL of the runner whose token you wish to reset");
  cmd->add_option("-i,--id", f->id, "ID of the runner whose token you wish to reset");
  cmd->add_flag("--all-runners", f->all, "Reset all runner authentication tokens");
  cmd->add_option("--pat", f->pat,
                  "Personal access token to use in lieu of runner's old authentication token");
  cmd->callback([f, &global] { global.exit_code = reset_token_command(*f, global); });
}

}  // namespace glr
