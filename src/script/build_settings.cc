// Parses the job-controlled settings with the official validation messages (executors §1.4,
// §1.5, §2.7, §4.2) and lays out the build directories (§4.1).
#include "script/build_settings.h"

#include <filesystem>

#include <fmt/format.h>

#include "script/job_variables.h"
#include "util/duration.h"
#include "util/strings.h"

namespace glr {
namespace {

constexpr int kMinAttempts = 1;
constexpr int kMaxAttempts = 10;

// Go's %q for the values quoted in warnings: printable ASCII and UTF-8 as is.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string value_of(const Variables& vars, const std::string& key) {
  const Variable* v = find_variable(vars, key);
  return v == nullptr ? std::string() : v->value;
}

class Parser {
 public:
  explicit Parser(const Variables& vars) : vars_(vars) {}

  bool boolean(const std::string& key, bool def) {
    std::string raw = value_of(vars_, key);
    if (raw.empty()) return def;
    if (std::optional<bool> b = parse_go_bool(raw)) return *b;
    warnings_.push_back(fmt::format("{}: expected bool got {}, using default value: {}", key,
                                    go_quote(raw), def ? "true" : "false"));
    return def;
  }

  int integer(const std::string& key, int def) {
    std::string raw = value_of(vars_, key);
    if (raw.empty()) return def;
    std::optional<long long> i = parse_int(raw);
    if (!i || *i < INT32_MIN || *i > INT32_MAX) {
      warnings_.push_back(
          fmt::format("{}: expected int got {}, using default value: {}", key, go_quote(raw), def));
      return def;
    }
    return static_cast<int>(*i);
  }

  void clamp_attempts(const std::string& key, int& n) {
    if (n >= kMinAttempts && n <= kMaxAttempts) return;
    n = n < kMinAttempts ? kMinAttempts : kMaxAttempts;
    warnings_.push_back(fmt::format("{}: number of attempts out of the range [{}, {}], clamping to: {}",
                                    key, kMinAttempts, kMaxAttempts, n));
  }

  std::vector<std::string> flags(const std::string& key, std::vector<std::string> def) {
    std::string raw = value_of(vars_, key);
    if (raw.empty()) return def;
    if (raw == "none") return {};
    return split_fields(raw);
  }

  // §1.5: empty, 0 or any problem keeps the default (nullopt).
  std::optional<std::chrono::seconds> timeout(const std::string& key,
                                              std::chrono::seconds job_timeout,
                                              std::vector<std::string>& warnings) {
    std::string raw = value_of(vars_, key);
    if (trim(raw).empty()) return std::nullopt;
    std::optional<Nanoseconds> d = parse_go_duration(trim(raw));
    if (!d) {
      warnings.push_back(fmt::format("Ignoring malformed {} timeout: {}", key, raw));
      return std::nullopt;
    }
    if (d->count() < 0) {
      warnings.push_back(fmt::format("Ignoring relative {} timeout: {}", key, raw));
      return std::nullopt;
    }
    if (*d > job_timeout) {
      warnings.push_back(fmt::format(
          "{} timeout: {} is longer than job timeout. Setting to job timeout", key, raw));
      return std::nullopt;
    }
    if (d->count() == 0) return std::nullopt;
    // Round up so a sub-second value never becomes "no timeout".
    std::chrono::seconds secs = std::chrono::ceil<std::chrono::seconds>(*d);
    return secs;
  }

  std::vector<std::string>& warnings() { return warnings_; }

 private:
  const Variables& vars_;
  std::vector<std::string> warnings_;
};

std::string lexically_clean(const std::string& p) {
  std::string cleaned = std::filesystem::path(p).lexically_normal().string();
  while (cleaned.size() > 1 && cleaned.back() == '/') cleaned.pop_back();
  if (cleaned.empty()) cleaned = ".";
  return cleaned;
}

// Path of repo_url without ".git", like the official ProjectSlug; nullopt when unusable.
std::optional<std::string> project_slug(const std::string& repo_url) {
  size_t scheme = repo_url.find("://");
  if (scheme == std::string::npos) return std::nullopt;
  size_t host_start = scheme + 3;
  size_t path_start = repo_url.find('/', host_start);
  size_t end = repo_url.find_first_of("?#", host_start);
  std::string host = repo_url.substr(host_start, std::min(path_start, end) - host_start);
  if (host.empty() || (host.find('@') != std::string::npos && host.back() == '@')) {
    return std::nullopt;
  }
  if (path_start == std::string::npos || (end != std::string::npos && end < path_start)) {
    return std::nullopt;
  }
  std::string path = repo_url.substr(path_start, end == std::string::npos ? std::string::npos
                                                                           : end - path_start);
  if (ends_with(path, ".git")) path.resize(path.size() - 4);
  std::string slug = lexically_clean(path);
  if (slug == "." || slug == "/") return std::nullopt;
  if (slug.find("..") != std::string::npos) return std::nullopt;
  return slug;
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return lexically_clean(b);
  return lexically_clean(a + "/" + b);
}

}  // namespace

BuildSettings parse_build_settings(const Variables& vars, bool allow_git_fetch,
                                   bool debug_trace_disabled, std::chrono::seconds job_timeout,
                                   int git_depth) {
  BuildSettings s;
  Parser p(vars);
  s.debug_services = p.boolean("CI_DEBUG_SERVICES", false);
  s.debug_trace = p.boolean("CI_DEBUG_TRACE", false);

  GitStrategy def_strategy = allow_git_fetch ? GitStrategy::kFetch : GitStrategy::kClone;
  std::string strategy = value_of(vars, "GIT_STRATEGY");
  if (strategy == "clone") {
    s.git_strategy = GitStrategy::kClone;
  } else if (strategy == "fetch") {
    s.git_strategy = GitStrategy::kFetch;
  } else if (strategy == "none") {
    s.git_strategy = GitStrategy::kNone;
  } else if (strategy == "empty") {
    s.git_strategy = GitStrategy::kEmpty;
  } else {
    s.git_strategy = def_strategy;
    if (!strategy.empty()) {
      p.warnings().push_back(fmt::format(
          "GIT_STRATEGY: expected either 'clone', 'fetch', 'none' or 'empty' got {}, using "
          "default value '{}'",
          go_quote(strategy), allow_git_fetch ? "fetch" : "clone"));
    }
  }
  bool no_repo = s.git_strategy == GitStrategy::kNone || s.git_strategy == GitStrategy::kEmpty;

  s.git_checkout = p.boolean("GIT_CHECKOUT", true);
  if (no_repo) s.git_checkout = false;

  std::string sub = value_of(vars, "GIT_SUBMODULE_STRATEGY");
  if (sub.empty() || sub == "none") {
    s.submodule_strategy = SubmoduleStrategy::kNone;
  } else if (sub == "normal") {
    s.submodule_strategy = SubmoduleStrategy::kNormal;
  } else if (sub == "recursive") {
    s.submodule_strategy = SubmoduleStrategy::kRecursive;
  } else {
    s.submodule_strategy = SubmoduleStrategy::kInvalid;
    p.warnings().push_back(fmt::format(
        "GIT_SUBMODULE_STRATEGY: expected either 'normal', 'recursive' or 'none' got {}",
        go_quote(sub)));
  }
  if (no_repo) s.submodule_strategy = SubmoduleStrategy::kNone;

  // The official validation order (build_settings.go), which is the warning order.
  s.git_submodule_paths = split_fields(value_of(vars, "GIT_SUBMODULE_PATHS"));
  s.git_submodule_depth = p.integer("GIT_SUBMODULE_DEPTH", git_depth);
  s.git_clean_flags = p.flags("GIT_CLEAN_FLAGS", {"-ffdx"});
  s.git_clone_extra_flags = p.flags("GIT_CLONE_EXTRA_FLAGS", {});
  s.git_fetch_extra_flags = p.flags("GIT_FETCH_EXTRA_FLAGS", {"--prune", "--quiet"});
  s.git_submodule_update_flags = split_fields(value_of(vars, "GIT_SUBMODULE_UPDATE_FLAGS"));
  s.git_lfs_skip_smudge = p.boolean("GIT_LFS_SKIP_SMUDGE", false);
  s.git_submodule_force_https = p.boolean("GIT_SUBMODULE_FORCE_HTTPS", false);

  s.get_sources_attempts = p.integer("GET_SOURCES_ATTEMPTS", 1);
  s.artifact_download_attempts = p.integer("ARTIFACT_DOWNLOAD_ATTEMPTS", 1);
  s.restore_cache_attempts = p.integer("RESTORE_CACHE_ATTEMPTS", 1);
  s.executor_job_section_attempts = p.integer("EXECUTOR_JOB_SECTION_ATTEMPTS", 1);
  s.secrets_retrieval_attempts = p.integer("SECRETS_RETRIEVAL_ATTEMPTS", 1);

  s.after_script_ignore_errors = p.boolean("AFTER_SCRIPT_IGNORE_ERRORS", true);
  s.cache_request_timeout_minutes = p.integer("CACHE_REQUEST_TIMEOUT", 10);

  if (debug_trace_disabled) {
    if (s.debug_trace) p.warnings().push_back("CI_DEBUG_TRACE: usage is disabled on this Runner");
    if (s.debug_services) {
      p.warnings().push_back("CI_DEBUG_SERVICES: usage is disabled on this Runner");
    }
    s.debug_trace = false;
    s.debug_services = false;
  }

  p.clamp_attempts("EXECUTOR_JOB_SECTION_ATTEMPTS", s.executor_job_section_attempts);
  p.clamp_attempts("GET_SOURCES_ATTEMPTS", s.get_sources_attempts);
  p.clamp_attempts("ARTIFACT_DOWNLOAD_ATTEMPTS", s.artifact_download_attempts);
  p.clamp_attempts("RESTORE_CACHE_ATTEMPTS", s.restore_cache_attempts);
  p.clamp_attempts("SECRETS_RETRIEVAL_ATTEMPTS", s.secrets_retrieval_attempts);

  s.script_timeout = p.timeout("RUNNER_SCRIPT_TIMEOUT", job_timeout, s.timeout_warnings);
  s.after_script_timeout =
      p.timeout("RUNNER_AFTER_SCRIPT_TIMEOUT", job_timeout, s.timeout_warnings);
  s.warnings = std::move(p.warnings());
  return s;
}

Result<BuildDirs> compute_build_dirs(const BuildDirsInput& in) {
  std::string root = in.builds_root.empty() ? std::string() : lexically_clean(in.builds_root);
  std::string unique = project_slug(in.repo_url).value_or(fmt::format("project-{}", in.project_id));
  // The slug starts with '/'; strip it so it joins below the roots.
  while (starts_with(unique, "/")) unique.erase(0, 1);

  BuildDirs d;
  d.builds_dir = root;
  if (!in.git_clone_path.empty()) {
    if (!in.custom_build_dir_enabled) {
      return fail(ErrorKind::kInvalidInput,
                  "setting GIT_CLONE_PATH is not allowed, enable `custom_build_dir` feature");
    }
    Variables vars = in.variables;
    vars.push_back(Variable{.key = "CI_BUILDS_DIR", .value = root});
    std::string dir = expand(in.git_clone_path, vars, "");
    std::string cleaned = lexically_clean(dir);
    std::string rel =
        std::filesystem::path(cleaned).lexically_relative(std::filesystem::path(root)).string();
    if (rel.empty() || starts_with(rel, "..")) {
      return fail(ErrorKind::kInvalidInput,
                  fmt::format("the GIT_CLONE_PATH={} has to be within {}", go_quote(dir),
                              go_quote(in.builds_root)));
    }
    d.project_dir = cleaned;
  } else if (in.shared) {
    d.project_dir = join_path(root, in.short_token + "/" +
                                        std::to_string(in.concurrent_project_id) + "/" + unique);
  } else {
    d.project_dir = join_path(root, unique);
  }
  std::string cache_unique = unique;
  if (in.git_strategy == GitStrategy::kEmpty) {
    d.project_dir += "-empty";
    cache_unique += "-empty";
  }
  d.tmp_dir = d.project_dir + ".tmp";
  d.cache_dir = in.cache_root.empty() ? std::string() : join_path(in.cache_root, cache_unique);
  return d;
}

}  // namespace glr
