// `verify` (api spec §1.4, §1.9; commands/verify.go): checks every selected runner with
// POST /runners/verify. The Helm chart's check-live probe runs it and restarts the pod on a
// non-zero exit, so the exit code follows the official rule exactly: non-zero only when a
// runner is gone (403), never because GitLab is unreachable (a restart would not help).
#include <CLI/CLI.hpp>

#include <memory>

#include "cli/commands.h"
#include "cli/lifecycle.h"
#include "util/log.h"
#include "util/short_token.h"

namespace glr {
namespace {

struct VerifyFlags {
  std::string config{};
  std::string name{};
  std::string url{};
  std::string token{};
  bool remove = false;
};

enum class Verdict { kValid, kGone, kFailed };

Verdict verify_one(HttpTransport& transport, const RunnerSettings& r,
                   const std::string& system_id) {
  RegistrationClient client(transport, tls_of(r));
  Result<RunnerTokenInfo> v = client.verify_runner(r.url, r.token, system_id,
                                                   runner_info_for(r.executor));
  std::vector<LogField> fields{{"runner", short_token(r.token.value)}, {"runner_name", r.name}};
  bool created = is_created_runner_token(r.token.value);
  if (v) {
    log_info(created ? "Verifying runner... is valid" : "Verifying runner... is alive", fields);
    return Verdict::kValid;
  }
  fields.push_back({"error", v.error().message});
  if (v.error().kind == ErrorKind::kUnauthorized) {
    log_error(created ? "Verifying runner... is not valid" : "Verifying runner... is removed", fields);
    return Verdict::kGone;
  }
  // 422 (orphaned), 5xx, network: logged, but the runner is not considered removed (§1.4).
  log_error("Verifying runner... failed", fields);
  return Verdict::kFailed;
}

int verify_command(const VerifyFlags& f, const GlobalOptions& global) {
  std::optional<LoadedConfig> loaded = open_config(f.config, global);
  if (!loaded) return 1;
  bool has_selector = !f.name.empty() || !f.url.empty() || !f.token.empty();
  ApiClient api;
  std::vector<RunnerSettings> kept;
  int matched = 0;
  int gone = 0;
  for (const RunnerSettings& r : loaded->config.runners) {
    bool same_credentials = !f.token.empty() && r.token.value == f.token &&
                            (f.url.empty() || r.url == f.url);
    if (!has_selector || (!f.name.empty() && r.name == f.name) || same_credentials) {
      ++matched;
      if (verify_one(api.transport, r, loaded->system_id) == Verdict::kGone) {
        ++gone;
        continue;
      }
    }
    kept.push_back(r);
  }
  if (has_selector && matched == 0) return error_exit("No runner matches the filtering parameters");
  if (gone == 0) return 0;
  if (!f.remove) return error_exit("Failed to verify runners");
  loaded->config.runners = std::move(kept);
  return save_or_fail(*loaded);
}

}  // namespace

void add_verify_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<VerifyFlags>();
  CLI::App* cmd = app.add_subcommand("verify", "verify all registered runners");
  cmd->add_option("-c,--config", f->config, "Config file")->envname("CONFIG_FILE");
  cmd->add_option("-n,--name", f->name, "Name of the runner you wish to verify");
  // No env vars on purpose, as upstream: a stray CI_SERVER_URL/CI_SERVER_TOKEN must not
  // narrow what the Helm probe verifies (charts/gitlab-runner#577).
  cmd->add_option("-u,--url", f->url, "GitLab instance URL");
  cmd->add_option("-t,--token", f->token, "Runner token");
  cmd->add_flag("--delete", f->remove, "Delete no longer existing runners?");
  cmd->callback([f, &global] { global.exit_code = verify_command(*f, global); });
}

}  // namespace glr
