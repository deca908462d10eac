// Port of the official fileArchiver's enumerate/process rules onto glob.h.
#include "artifacts/file_selection.h"

#include <sys/stat.h>

#include <chrono>
#include <fmt/format.h>
#include <system_error>

#include "artifacts/glob.h"
#include "process/subprocess.h"
#include "util/strings.h"

namespace glr {
namespace {

namespace fs = std::filesystem;

std::chrono::system_clock::time_point to_time_point(const struct stat& st) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

class Selector {
 public:
  Selector(const FileSelectionOptions& options, HelperLog& log) : o_(options), log_(log) {}

  FileSelection run() {
    for (const std::string& p : o_.paths) process_path(p);
    if (o_.untracked) process_untracked();
    for (const auto& [rule, count] : excluded_) {
      log_.info(fmt::format("{}: excluded {} files", rule, count));
    }
    for (const auto& [path, info] : files_) {
      if (path == ".git" || starts_with(path, ".git/")) {
        log_.warning("Part of .git directory is on the list of files to archive");
        log_.warning("This may introduce unexpected problems");
        break;
      }
    }
    return std::move(files_);
  }

 private:
  // The path relative to wd with the glob part kept; error when it leaves wd.
  Result<std::string> relative_in_project(const std::string& path) const {
    std::string slash = replace_all(path, "\\", "/");
    if (fs::path(slash).lexically_normal() == o_.wd.lexically_normal()) return std::string(".");
    std::string base = slash;
    std::string patt;
    if (has_glob_meta(slash)) std::tie(base, patt) = split_glob_pattern(slash);
    fs::path abs = fs::path(base).is_absolute() ? fs::path(base) : o_.wd / base;
    fs::path rel = abs.lexically_normal().lexically_relative(o_.wd.lexically_normal());
    std::string r = rel.generic_string();
    if (rel.empty() || r == ".." || starts_with(r, "../")) {
      return fail(ErrorKind::kInvalidInput,
                  "artifact path is not a subpath of project directory: " + path);
    }
    if (!patt.empty()) r = r == "." ? patt : r + "/" + patt;
    while (r.size() > 1 && r.back() == '/') r.pop_back();
    return r;
  }

  std::optional<std::string> excluded_by(const std::string& rel) {
    for (const std::string& pattern : o_.exclude) {
      Result<std::string> p = relative_in_project(pattern);
      if (!p) {
        log_.warning("isExcluded: " + p.error().message);
        return std::nullopt;
      }
      if (doublestar_match(*p, rel)) return pattern;
    }
    return std::nullopt;
  }

  // One candidate path (relative to wd). True when it was added.
  bool process(const std::string& rel_in) {
    fs::path norm = fs::path(rel_in).lexically_normal();
    std::string rel = norm.generic_string();
    while (rel.size() > 1 && rel.back() == '/') rel.pop_back();
    if (rel.empty() || rel == ".." || starts_with(rel, "../") || norm.is_absolute()) {
      log_.warning(rel_in + ": not supported: outside build directory");
      return false;
    }
    if (std::optional<std::string> rule = excluded_by(rel)) {
      ++excluded_[*rule];
      return false;
    }
    struct stat st {};
    if (::lstat((o_.wd / rel).c_str(), &st) != 0) return false;
    SelectedFile f;
    if (S_ISLNK(st.st_mode)) {
      f.kind = SelectedKind::kSymlink;
    } else if (S_ISDIR(st.st_mode)) {
      f.kind = SelectedKind::kDirectory;
    } else if (S_ISREG(st.st_mode)) {
      f.kind = SelectedKind::kFile;
    } else {
      f.kind = SelectedKind::kOther;
    }
    f.mtime = to_time_point(st);
    files_[rel] = f;
    return true;
  }

  // filepath.Walk without following symlinks; counts what was added.
  int walk(const std::string& rel) {
    int found = process(rel) ? 1 : 0;
    struct stat st {};
    if (::lstat((o_.wd / rel).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return found;
    std::error_code ec;
    std::vector<std::string> children;
    for (fs::directory_iterator it(o_.wd / rel, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      children.push_back(it->path().filename().string());
    }
    std::sort(children.begin(), children.end());
    for (const std::string& c : children) found += walk(rel == "." ? c : rel + "/" + c);
    return found;
  }

  void process_path(const std::string& path) {
    if (path.empty()) {
      log_.warning("No matching files. Path is empty.");
      return;
    }
    Result<std::string> rel = relative_in_project(path);
    if (!rel) {
      log_.warning("processPath: " + rel.error().message);
      return;
    }
    int found = 0;
    for (const std::string& match : glob_paths(o_.wd, *rel)) found += walk(match);
    if (found == 0) {
      log_.warning(fmt::format(
          "{}: no matching files. Ensure that the artifact path is relative to the working "
          "directory ({})",
          path, o_.wd.string()));
    } else {
      log_.info(fmt::format("{}: found {} matching artifact files and directories", path, found));
    }
  }

  void process_untracked() {
    SpawnOptions spawn{.argv = {o_.git_command, "ls-files", "-o", "-z"},
                       .env = o_.env,
                       .cwd = o_.wd,
                       .stdin_data = {}};
    Result<Subprocess> child = Subprocess::spawn(spawn);
    if (!child) {
      log_.warning("untracked: " + child.error().message);
      return;
    }
    std::string out;
    std::string err;
    Result<ProcessStatus> status = run_and_stream(
        *child,
        [&](bool is_stderr, std::string_view bytes) { (is_stderr ? err : out).append(bytes); },
        std::stop_token{}, std::chrono::seconds(1));
    if (!status || status->code != 0 || status->signal != 0) {
      log_.warning("untracked: " + (status ? std::string(trim(err)) : status.error().message));
      return;
    }
    int found = 0;
    size_t start = 0;
    while (start < out.size()) {
      size_t end = out.find('\0', start);
      if (end == std::string::npos) break;
      if (process(out.substr(start, end - start))) ++found;
      start = end + 1;
    }
    if (found == 0) {
      log_.warning("untracked: no files");
    } else {
      log_.info(fmt::format("untracked: found {} files", found));
    }
  }

  const FileSelectionOptions& o_;
  HelperLog& log_;
  FileSelection files_;
  std::map<std::string, int64_t> excluded_;
};

}  // namespace

FileSelection select_files(const FileSelectionOptions& options, HelperLog& log) {
  return Selector(options, log).run();
}

std::optional<std::chrono::system_clock::time_point> lstat_mtime(const std::filesystem::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return std::nullopt;
  return to_time_point(st);
}

bool any_changed_since(const FileSelection& files, std::chrono::system_clock::time_point time) {
  for (const auto& [path, f] : files) {
    if (f.mtime > time) return true;
  }
  return false;
}

}  // namespace glr
