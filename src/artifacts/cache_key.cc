// Cache key rules: GitLab's Seed::Build::Cache digest and the runner's cache key handling.
#include "artifacts/cache_key.h"

#include <openssl/evp.h>

#include <algorithm>
#include <fmt/format.h>

#include "artifacts/glob.h"
#include "process/subprocess.h"
#include "util/strings.h"

namespace glr {
namespace {

std::string hex_digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", out[i]);
  return hex;
}

Result<std::string> git_output(const std::filesystem::path& dir, std::vector<std::string> args,
                               const std::vector<std::string>& env) {
  args.insert(args.begin(), "git");
  Result<Subprocess> child = Subprocess::spawn({.argv = args, .env = env, .cwd = dir, .stdin_data = {}});
  if (!child) return fail(child.error());
  std::string out;
  std::string err;
  Result<ProcessStatus> status = run_and_stream(
      *child, [&](bool is_err, std::string_view b) { (is_err ? err : out).append(b); },
      std::stop_token{}, std::chrono::seconds(1));
  if (!status) return fail(status.error());
  if (status->code != 0 || status->signal != 0) {
    return fail(ErrorKind::kIo, fmt::format("git {}: {}", args[1], trim(err)));
  }
  return out;
}

}  // namespace

std::string cache_key_digest(std::vector<std::string> ids) {
  ids.erase(std::remove(ids.begin(), ids.end(), std::string()), ids.end());
  if (ids.empty()) return "";
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return hex_digest(EVP_sha1(), join(ids, "-"));
}

std::string cache_key_from_digest(std::string_view prefix, std::string_view digest) {
  std::string d = digest.empty() ? std::string("default") : std::string(digest);
  return prefix.empty() ? d : std::string(prefix) + "-" + d;
}

Result<std::string> resolve_cache_key_files(const std::filesystem::path& repo_dir,
                                            std::string_view sha, const CacheKeyFiles& key,
                                            const std::vector<std::string>& git_env) {
  std::string digest;
  if (!key.files.empty()) {
    Result<std::string> tree = git_output(repo_dir, {"ls-tree", "-r", "-z", std::string(sha)}, git_env);
    if (!tree) return fail(tree.error());
    std::vector<std::string> ids;
    for (const std::string& entry : split(*tree, '\0')) {
      // "<mode> <type> <id>\t<path>"
      size_t tab = entry.find('\t');
      if (tab == std::string::npos) continue;
      std::vector<std::string> head = split_fields(entry.substr(0, tab));
      if (head.size() != 3 || head[1] != "blob") continue;
      std::string path = entry.substr(tab + 1);
      for (const std::string& pattern : key.files) {
        bool match = pattern.find('*') != std::string::npos ? doublestar_match(pattern, path)
                                                             : pattern == path;
        if (match) ids.push_back(head[2]);
      }
    }
    digest = cache_key_digest(ids);
  } else if (!key.files_commits.empty()) {
    std::vector<std::string> ids;
    for (const std::string& path : key.files_commits) {
      if (path.empty()) continue;
      Result<std::string> id =
          git_output(repo_dir, {"log", "-1", "--format=%H", std::string(sha), "--", path}, git_env);
      if (!id) return fail(id.error());
      ids.emplace_back(trim(*id));
    }
    digest = cache_key_digest(ids);
  }
  return cache_key_from_digest(key.prefix, digest);
}

std::optional<std::string> sanitize_cache_key(std::string_view raw) {
  std::string key(raw);
  key = replace_all(key, "%2f", "/");
  key = replace_all(key, "%2F", "/");
  key = replace_all(key, "%2e", ".");
  key = replace_all(key, "%2E", ".");
  key = replace_all(key, "\\", "/");
  std::vector<std::string> parts;
  for (const std::string& seg : split(key, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(seg);
  }
  while (!parts.empty()) {
    std::string& last = parts.back();
    while (!last.empty() && std::isspace(static_cast<unsigned char>(last.back())) != 0) last.pop_back();
    if (!last.empty()) break;
    parts.pop_back();
  }
  if (parts.empty()) return std::nullopt;
  return join(parts, "/");
}

std::string hash_cache_key(std::string_view raw) { return hex_digest(EVP_sha256(), raw); }

std::vector<std::string> cache_restore_keys(std::string_view key,
                                            const std::vector<std::string>& fallback_keys,
                                            std::string_view cache_fallback_key,
                                            const std::function<void(const std::string&)>& warn) {
  std::vector<std::string> keys;
  auto add = [&](std::string_view raw) {
    std::optional<std::string> k = sanitize_cache_key(raw);
    if (!k) {
      warn(fmt::format("cache key \"{}\" could not be sanitized", raw));
      return;
    }
    if (*k != raw) warn(fmt::format("cache key \"{}\" sanitized to \"{}\"", raw, *k));
    keys.push_back(*k);
  };
  add(key);
  for (const std::string& fb : fallback_keys) add(fb);
  if (!cache_fallback_key.empty()) {
    std::string trimmed(cache_fallback_key);
    while (!trimmed.empty() && (trimmed.back() == '.' || trimmed.back() == ' ')) trimmed.pop_back();
    if (ends_with(trimmed, "-protected")) {
      warn(fmt::format("CACHE_FALLBACK_KEY \"{}\" not allowed to end in \"-protected\"",
                       cache_fallback_key));
    } else {
      add(cache_fallback_key);
    }
  }
  return keys;
}

std::filesystem::path local_cache_file(const std::filesystem::path& cache_dir, std::string_view key) {
  return cache_dir / std::string(key) / "cache.zip";
}

std::optional<std::string> cache_object_name(std::string_view path, std::string_view short_token,
                                             bool shared, int64_t project_id,
                                             std::string_view key, bool hashed) {
  std::string prefix = shared ? "" : fmt::format("runner/{}/", short_token);
  prefix += fmt::format("project/{}/", project_id);
  std::string rest;
  if (hashed) {
    std::string h = hash_cache_key(key);
    rest = h.substr(0, 2) + "/" + h;
  } else {
    rest = std::string(key);
  }
  std::filesystem::path full = std::filesystem::path(prefix + rest).lexically_normal();
  std::string f = full.generic_string();
  if (!starts_with(f, prefix) || f.size() <= prefix.size()) return std::nullopt;
  std::string p(path);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p.empty() ? f : p + "/" + f;
}

}  // namespace glr
