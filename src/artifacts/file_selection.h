// Which files an artifact or cache archive holds (executors §6.2): the official helper's
// fileArchiver, shared by artifacts-uploader and cache-archiver.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "artifacts/helper_log.h"
#include "util/result.h"

namespace glr {

struct FileSelectionOptions {
  std::filesystem::path wd{};          // the project dir; every path is relative to it
  std::vector<std::string> paths{};    // --path (plain paths or doublestar globs)
  std::vector<std::string> exclude{};  // --exclude (doublestar globs)
  bool untracked = false;              // --untracked: `git ls-files -o -z`
  std::string git_command = "git";    // for --untracked
  std::vector<std::string> env{};      // environment for git ("KEY=VALUE")
};

enum class SelectedKind { kFile, kDirectory, kSymlink, kOther };

struct SelectedFile {
  SelectedKind kind = SelectedKind::kFile;
  std::chrono::system_clock::time_point mtime{};  // lstat mtime
  friend bool operator==(const SelectedFile&, const SelectedFile&) = default;
};

// Relative `/`-separated path -> what it is; std::map keeps the official sorted order.
using FileSelection = std::map<std::string, SelectedFile>;

// Collects files like the official helper, logging its lines (`<p>: found <n> matching
// artifact files and directories`, `<p>: no matching files...`, `untracked: found <n> files`,
// `<e>: excluded <n> files`, the .git warning). Paths outside `wd` are warned about and ignored.
FileSelection select_files(const FileSelectionOptions& options, HelperLog& log);

// True when any selected path has a modification time after `time` (cache "up to date").
bool any_changed_since(const FileSelection& files, std::chrono::system_clock::time_point time);

// lstat mtime of a path; nullopt when it does not exist.
std::optional<std::chrono::system_clock::time_point> lstat_mtime(const std::filesystem::path& p);

}  // namespace glr
