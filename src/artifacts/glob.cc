// doublestar-compatible matching, written from the semantics in executors §6.2.
#include "artifacts/glob.h"

#include <sys/stat.h>

#include <algorithm>
#include <optional>
#include <system_error>

#include "util/strings.h"

namespace glr {
namespace {

// Expands `{a,b}` alternatives (nested ones too) into plain patterns. nullopt when a brace is
// unbalanced.
std::optional<std::vector<std::string>> expand_braces(std::string_view pattern) {
  size_t open = std::string_view::npos;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
      continue;
    }
    if (pattern[i] == '{') {
      open = i;
      break;
    }
  }
  if (open == std::string_view::npos) {
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (pattern[i] == '\\') {
        ++i;
        continue;
      }
      if (pattern[i] == '}') return std::nullopt;
    }
    return std::vector<std::string>{std::string(pattern)};
  }
  int depth = 0;
  std::vector<std::string> alternatives;
  size_t start = open + 1;
  size_t close = std::string_view::npos;
  for (size_t i = open; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) {
        alternatives.emplace_back(pattern.substr(start, i - start));
        close = i;
        break;
      }
    } else if (c == ',' && depth == 1) {
      alternatives.emplace_back(pattern.substr(start, i - start));
      start = i + 1;
    }
  }
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string> out;
  std::string_view head = pattern.substr(0, open);
  std::string_view tail = pattern.substr(close + 1);
  for (const std::string& alt : alternatives) {
    std::string joined = std::string(head) + alt + std::string(tail);
    std::optional<std::vector<std::string>> more = expand_braces(joined);
    if (!more) return std::nullopt;
    out.insert(out.end(), more->begin(), more->end());
  }
  return out;
}

// Matches a character class starting after '['; advances `p` past ']'. nullopt if malformed.
std::optional<bool> match_class(std::string_view pat, size_t& p, char c) {
  bool negate = false;
  if (p < pat.size() && (pat[p] == '^' || pat[p] == '!')) {
    negate = true;
    ++p;
  }
  bool matched = false;
  bool first = true;
  while (p < pat.size() && (pat[p] != ']' || first)) {
    first = false;
    char lo = pat[p];
    if (lo == '\\' && p + 1 < pat.size()) lo = pat[++p];
    ++p;
    char hi = lo;
    if (p + 1 < pat.size() && pat[p] == '-' && pat[p + 1] != ']') {
      hi = pat[p + 1];
      if (hi == '\\' && p + 2 < pat.size()) {
        hi = pat[p + 2];
        ++p;
      }
      p += 2;
    }
    if (lo <= c && c <= hi) matched = true;
  }
  if (p >= pat.size()) return std::nullopt;
  ++p;  // ']'
  return matched != negate;
}

// One segment (no '/', no braces) against one name.
bool match_segment(std::string_view pat, std::string_view name) {
  size_t p = 0;
  size_t n = 0;
  size_t star_p = std::string_view::npos;
  size_t star_n = 0;
  while (n < name.size()) {
    if (p < pat.size()) {
      char pc = pat[p];
      if (pc == '*') {
        while (p < pat.size() && pat[p] == '*') ++p;
        star_p = p;
        star_n = n;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++n;
        continue;
      }
      if (pc == '[') {
        size_t q = p + 1;
        std::optional<bool> ok = match_class(pat, q, name[n]);
        if (!ok) return false;
        if (*ok) {
          p = q;
          ++n;
          continue;
        }
      } else {
        if (pc == '\\' && p + 1 < pat.size()) pc = pat[p + 1];
        if (pc == name[n]) {
          p += (pat[p] == '\\' && p + 1 < pat.size()) ? 2 : 1;
          ++n;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    n = ++star_n;
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

bool match_segments(const std::vector<std::string>& pat, size_t pi,
                    const std::vector<std::string>& path, size_t ni) {
  while (pi < pat.size()) {
    if (pat[pi] == "**") {
      // Collapse consecutive ** segments.
      while (pi + 1 < pat.size() && pat[pi + 1] == "**") ++pi;
      if (pi + 1 == pat.size()) return true;  // trailing **: anything, including nothing
      for (size_t k = ni; k <= path.size(); ++k) {
        if (match_segments(pat, pi + 1, path, k)) return true;
      }
      return false;
    }
    if (ni >= path.size()) return false;
    if (!match_segment(pat[pi], path[ni])) return false;
    ++pi;
    ++ni;
  }
  return ni == path.size();
}

std::vector<std::string> segments(std::string_view s) {
  std::vector<std::string> out = split(s, '/');
  // "a//b" and a trailing "/" add empty segments that a path never has.
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

bool segment_has_meta(std::string_view seg) { return has_glob_meta(seg); }

bool lexists(const std::filesystem::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

void walk(const std::filesystem::path& root, const std::string& rel,
          const std::vector<std::string>& patterns, std::vector<std::string>& out) {
  std::error_code ec;
  std::filesystem::directory_iterator it(root / rel, ec);
  if (ec) return;
  std::vector<std::pair<std::string, bool>> entries;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    std::string name = it->path().filename().string();
    std::string child = rel == "." || rel.empty() ? name : rel + "/" + name;
    bool is_dir = it->is_directory(ec) && !it->is_symlink(ec);
    entries.emplace_back(child, is_dir);
  }
  for (const auto& [child, is_dir] : entries) {
    for (const std::string& p : patterns) {
      if (doublestar_match(p, child)) {
        out.push_back(child);
        break;
      }
    }
    if (is_dir) walk(root, child, patterns, out);
  }
}

}  // namespace

bool has_glob_meta(std::string_view path) {
  return path.find_first_of("*?[{") != std::string_view::npos;
}

bool doublestar_match(std::string_view pattern, std::string_view path) {
  std::optional<std::vector<std::string>> patterns = expand_braces(pattern);
  if (!patterns) return false;
  std::vector<std::string> name = segments(path);
  for (const std::string& p : *patterns) {
    if (match_segments(segments(p), 0, name, 0)) return true;
  }
  return false;
}

std::pair<std::string, std::string> split_glob_pattern(std::string_view pattern) {
  std::vector<std::string> segs = split(pattern, '/');
  size_t i = 0;
  while (i < segs.size() && !segment_has_meta(segs[i])) ++i;
  if (i == segs.size()) return {std::string(pattern), ""};
  std::vector<std::string> base(segs.begin(), segs.begin() + static_cast<long>(i));
  std::vector<std::string> rest(segs.begin() + static_cast<long>(i), segs.end());
  std::string b = join(base, "/");
  if (b.empty()) b = starts_with(pattern, "/") ? "/" : ".";
  return {b, join(rest, "/")};
}

std::vector<std::string> glob_paths(const std::filesystem::path& root, std::string_view pattern) {
  std::vector<std::string> out;
  if (!has_glob_meta(pattern)) {
    std::string p = std::filesystem::path(pattern).lexically_normal().generic_string();
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (lexists(root / p)) out.push_back(p);
    return out;
  }
  auto [base, rest] = split_glob_pattern(pattern);
  std::string norm_base = std::filesystem::path(base).lexically_normal().generic_string();
  while (norm_base.size() > 1 && norm_base.back() == '/') norm_base.pop_back();
  std::optional<std::vector<std::string>> patterns = expand_braces(
      norm_base == "." ? rest : norm_base + "/" + rest);
  if (!patterns) return out;
  // A pattern that can match the base itself ("dir/**").
  for (const std::string& p : *patterns) {
    if (norm_base != "." && doublestar_match(p, norm_base) && lexists(root / norm_base)) {
      out.push_back(norm_base);
      break;
    }
  }
  walk(root, norm_base, *patterns, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace glr
