// Remote URL, origin URL and insteadOf rewrites for get_sources (executors §4.3), after the
// official GitAuthHelper: the job token only ever appears in the authed side of an insteadOf.
#include "script/git_remote.h"

#include <set>

#include <fmt/format.h>

#include "util/strings.h"

namespace glr {
namespace {

// A parsed URL, enough for git remotes: scheme://[user[:password]@]host[:port][/path][?q][#f].
struct Url {
  std::string scheme{};
  std::string userinfo{};  // already escaped, as it appears in the URL
  bool has_userinfo = false;
  std::string host{};      // host[:port]
  std::string rest{};      // path, query and fragment as given
  bool valid = false;

  std::string str() const {
    if (!valid) return {};
    return scheme + "://" + (has_userinfo ? userinfo + "@" : "") + host + rest;
  }
  std::string scheme_and_host() const { return valid ? scheme + "://" + host : std::string(); }
};

Url parse_url(std::string_view text) {
  Url u;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return u;
  u.scheme = to_lower(text.substr(0, sep));
  std::string_view rest = text.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  u.rest = end == std::string_view::npos ? "" : std::string(rest.substr(end));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    u.has_userinfo = true;
    u.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  u.host = std::string(authority);
  u.valid = true;
  return u;
}

// Go's url userinfo escaping for the password part (job tokens are normally plain).
std::string escape_userinfo(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_') {
      out.push_back(static_cast<char>(c));
    } else if (std::string_view("~$&+;=!'()*,").find(static_cast<char>(c)) !=
               std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string trim_right_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

GitRemote compute_git_remote(const GitRemoteInput& in) {
  const bool tokenless = in.tokenless;
  auto apply_auth = [&](Url u) {
    if (u.scheme == "ssh") {
      if (!u.has_userinfo) {
        u.has_userinfo = true;
        u.userinfo = "git";
      }
    } else if (!tokenless) {
      u.has_userinfo = true;
      u.userinfo = "gitlab-ci-token:" + escape_userinfo(in.job_token);
    } else {
      u.has_userinfo = false;
      u.userinfo.clear();
    }
    return u;
  };
  auto is_http = [](const Url& u) { return u.valid && (u.scheme == "http" || u.scheme == "https"); };

  GitRemote r;
  Url clone = parse_url(in.clone_url);
  Url remote;
  if (clone.valid) {
    std::string path = trim_right_slashes(clone.rest) + "/" + in.project_path + ".git";
    clone.rest = path;
    remote = apply_auth(clone);
  } else {
    remote = parse_url(in.repo_url);
    if (tokenless && remote.valid) remote = apply_auth(remote);
  }
  if (!remote.valid) {
    // A local path or something git understands that we cannot parse: use it verbatim.
    r.with_creds = r.without_creds = in.repo_url;
    return r;
  }
  Url plain = remote;
  plain.has_userinfo = false;
  plain.userinfo.clear();
  r.with_creds = remote.str();
  r.without_creds = plain.str();
  r.scheme = remote.scheme;
  r.scheme_and_host = plain.scheme_and_host();
  if (r.with_creds != r.without_creds) r.instead_ofs.emplace_back(r.with_creds, r.without_creds);

  Url base = clone.valid ? parse_url(in.clone_url) : parse_url(in.runner_url);
  if (is_http(base)) {
    auto ssh_instead_ofs = [&](const std::string& base_url) {
      if (!in.force_https) return;
      std::string host = in.ssh_host.empty() ? in.server_host : in.ssh_host;
      const std::string& port = in.ssh_port;
      if (port.empty() || port == "22") {
        r.instead_ofs.emplace_back(base_url + "/", "git@" + host + ":");
        r.instead_ofs.emplace_back(base_url, "ssh://git@" + host);
      } else {
        r.instead_ofs.emplace_back(base_url, "ssh://git@" + host + ":" + port);
      }
    };
    if (tokenless) {
      ssh_instead_ofs(trim_right_slashes(base.str()));
    } else {
      Url authed_base = apply_auth(base);
      r.instead_ofs.emplace_back(trim_right_slashes(authed_base.str()),
                                 trim_right_slashes(base.str()));
      ssh_instead_ofs(trim_right_slashes(authed_base.str()));
      Url repo = parse_url(in.repo_url);
      if (is_http(repo)) {
        repo.rest.clear();
        Url authed = apply_auth(repo);
        repo.has_userinfo = false;
        repo.userinfo.clear();
        r.instead_ofs.emplace_back(trim_right_slashes(authed.str()), trim_right_slashes(repo.str()));
      }
    }
  }
  // De-duplicate, keeping the first occurrence.
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<std::pair<std::string, std::string>> unique;
  for (auto& io : r.instead_ofs) {
    if (seen.insert(io).second) unique.push_back(io);
  }
  r.instead_ofs = std::move(unique);
  return r;
}

}  // namespace glr
