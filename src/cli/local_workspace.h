// Per-job project copies and artifact passing of `glrunner exec` (pipeline-yaml §9.9 "Local").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.h"

namespace glr {

// The files a fresh checkout of `project_dir` would hold, plus the user's uncommitted work:
// `git ls-files --cached --others --exclude-standard` (tracked files with their working-tree
// content, and untracked files that .gitignore does not exclude; deleted files left out). Not a
// git repository: every file under it except .git. Paths are relative, '/'-separated, sorted.
Result<std::vector<std::string>> project_files(const std::filesystem::path& project_dir);

// Copies `files` (relative to `from`) into the empty or missing directory `to`, creating parent
// directories; symlinks are copied as symlinks, modes kept. Listed files that no longer exist
// are skipped.
Result<> copy_project_files(const std::filesystem::path& from,
                            const std::vector<std::string>& files, const std::filesystem::path& to);

}  // namespace glr
