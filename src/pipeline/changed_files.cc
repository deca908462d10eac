// Local stand-in for GitLab's pipeline.modified_paths (pipeline-yaml §8.3): the working tree
// compared with the merge base of the default branch, read from git once per pipeline.
#include "pipeline/changed_files.h"

#include <memory>

#include "pipeline/local_job_spec.h"
#include "util/strings.h"

namespace glr {

const std::vector<std::string>* ChangedFiles::since_merge_base() {
  if (!base_listed_) {
    base_listed_ = true;
    for (const std::string& base : bases_) {
      base_files_ = lister_(base, true);
      if (base_files_) break;
    }
  }
  return base_files_ ? &*base_files_ : nullptr;
}

const std::vector<std::string>* ChangedFiles::since(const std::string& ref) {
  auto it = compared_.find(ref);
  if (it == compared_.end()) it = compared_.emplace(ref, lister_(ref, false)).first;
  return it->second ? &*it->second : nullptr;
}

ChangedFiles git_changed_files(const std::filesystem::path& project_dir,
                               const std::string& default_branch) {
  auto untracked = std::make_shared<std::optional<std::vector<std::string>>>();
  ChangedFiles::Lister lister = [project_dir, untracked](
                                    const std::string& ref,
                                    bool merge_base) -> std::optional<std::vector<std::string>> {
    if (ref.empty() || starts_with(ref, "-")) return std::nullopt;
    std::vector<std::string> args = {"diff", "--name-only", "--no-renames", "--relative", "-z"};
    if (merge_base) args.emplace_back("--merge-base");
    args.insert(args.end(), {ref, "--"});
    std::optional<std::string> diff = run_git(project_dir, std::move(args));
    if (!diff) return std::nullopt;
    if (!*untracked) {
      *untracked =
          split_nonempty(run_git(project_dir, {"ls-files", "--others", "--exclude-standard", "-z"}).value_or(""),
                         '\0');
    }
    std::vector<std::string> files = split_nonempty(*diff, '\0');
    files.insert(files.end(), (*untracked)->begin(), (*untracked)->end());
    return files;
  };
  return ChangedFiles({"origin/" + default_branch, default_branch}, std::move(lister));
}

}  // namespace glr
