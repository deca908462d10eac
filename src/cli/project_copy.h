// Per-job project copies of `glrunner exec` (pipeline-yaml §9.9 "Local"): every job works in its
// own copy of the project, as a fresh GitLab checkout gives each job its own clone, so parallel
// jobs cannot trample each other and only the artifacts a job downloads are visible to it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"

namespace glr {

struct ProjectCopyStats {
  size_t files = 0;   // working-tree files copied (cloned where the filesystem can)
  size_t linked = 0;  // git object stores borrowed through alternates
};

// Copies `src` into `dest` (created; must not exist):
// - in a git repository: the files git would commit (`git ls-files --cached --others
//   --exclude-standard`: tracked plus untracked non-ignored, with their working-tree content;
//   ignored files such as build outputs are left out, deleted tracked files are skipped), plus
//   a minimal `.git` (HEAD, config, index, refs, packed-refs copied; the objects borrowed
//   through objects/info/alternates), so `git` works in the copy without touching the
//   original;
// - otherwise: the whole directory tree.
// Regular files are reflinked (FICLONE) where the filesystem supports it, else copied in the
// kernel; modes are kept, symlinks are copied as symlinks.
// `files` is what list_project_files(src) returned (listed once per run: every job starts
// from the same tree, as every GitLab job checks out the same commit).
Result<ProjectCopyStats> copy_project(const std::filesystem::path& src,
                                      const std::filesystem::path& dest,
                                      const std::optional<std::vector<std::string>>& files);

// `git ls-files --cached --others --exclude-standard` of `src`; nullopt when not a repository.
std::optional<std::vector<std::string>> list_project_files(const std::filesystem::path& src);

}  // namespace glr
