// The files a pipeline counts as changed, for `changes` in rules, workflow:rules and only/except
// (pipeline-yaml §8.3 Local). Computed on first use and kept for the whole pipeline, so git runs
// once per pipeline (and once per `compare_to` ref), not once per job.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace glr {

class ChangedFiles {
 public:
  // Files (relative to the project directory) that differ between `ref` and the working tree,
  // plus untracked files git does not ignore. With `merge_base`, the diff starts at the merge
  // base of HEAD and `ref`. nullopt when `ref` does not resolve.
  using Lister = std::function<std::optional<std::vector<std::string>>(const std::string& ref,
                                                                       bool merge_base)>;

  // Not evaluated: every `changes` clause is true (`--evaluate-rule-changes=false`).
  ChangedFiles() = default;
  // `bases`: the refs tried in order for the default diff, e.g. {"origin/main", "main"}.
  ChangedFiles(std::vector<std::string> bases, Lister lister)
      : bases_(std::move(bases)), lister_(std::move(lister)) {}

  bool evaluated() const { return static_cast<bool>(lister_); }
  // Changed since the merge base of HEAD with the first base that resolves; nullptr when none
  // does (GitLab's "no push diff": the caller treats `changes` as true).
  const std::vector<std::string>* since_merge_base();
  // Changed since `ref` (`changes:compare_to`); nullptr when `ref` does not resolve.
  const std::vector<std::string>* since(const std::string& ref);

 private:
  std::vector<std::string> bases_{};
  Lister lister_{};
  bool base_listed_ = false;
  std::optional<std::vector<std::string>> base_files_{};
  std::map<std::string, std::optional<std::vector<std::string>>> compared_{};
};

// The git-backed list for `project_dir`: `git diff --name-only --no-renames` (old and new paths
// of a rename both count, as in GitLab's diff) plus `git ls-files --others --exclude-standard`,
// the latter run once. Bases are `origin/<default_branch>`, then `<default_branch>`.
ChangedFiles git_changed_files(const std::filesystem::path& project_dir,
                               const std::string& default_branch);

}  // namespace glr
