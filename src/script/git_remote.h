// How get_sources reaches the repository (executors §4.3): the origin URL without
// credentials, and the url.<authed>.insteadOf <plain> rewrites that carry the job token.
// Internal to script/ (used by bash_script.cc and its tests).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace glr {

struct GitRemoteInput {
  std::string repo_url{};      // payload git_info.repo_url (server embeds gitlab-ci-token:<t>@)
  std::string clone_url{};     // [[runners]] clone_url; used when it has a scheme
  std::string runner_url{};    // [[runners]] url
  std::string project_path{};  // CI_PROJECT_PATH
  std::string job_token{};
  std::string server_host{};   // CI_SERVER_HOST, fallback SSH host
  std::string ssh_host{};      // CI_SERVER_SHELL_SSH_HOST
  std::string ssh_port{};      // CI_SERVER_SHELL_SSH_PORT
  bool force_https = false;    // GIT_SUBMODULE_FORCE_HTTPS
  bool tokenless = false;      // FF_GIT_URLS_WITHOUT_TOKENS
};

struct GitRemote {
  std::string with_creds{};
  std::string without_creds{};    // what `origin` is set to
  std::string scheme_and_host{};  // "https://host[:port]"; empty when the URL has no scheme
  std::string scheme{};
  std::vector<std::pair<std::string, std::string>> instead_ofs{};  // {authed, plain}, deduped
  friend bool operator==(const GitRemote&, const GitRemote&) = default;
};

GitRemote compute_git_remote(const GitRemoteInput& input);

}  // namespace glr
