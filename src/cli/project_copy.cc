// File-by-file copy driven by `git ls-files`: cheaper than `git worktree`/`git clone` per job
// (no checkout, no index rebuild) and it keeps uncommitted edits, which a local run must test.
#include "cli/project_copy.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "pipeline/local_job_spec.h"
#include "util/strings.h"
#include "util/unique_fd.h"

namespace glr {

namespace fs = std::filesystem;

namespace {

Result<> clone_file(const fs::path& from, const fs::path& to, mode_t mode) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return fail(ErrorKind::kIo, fmt::format("cannot read {}", from.string()));
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777));
  if (!out.valid()) return fail(ErrorKind::kIo, fmt::format("cannot create {}", to.string()));
  if (::ioctl(out.get(), FICLONE, in.get()) == 0) return {};
  while (true) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
    if (n == 0) break;
    if (n < 0) {
      // Filesystems without copy_file_range: plain read/write.
      char buffer[65536];
      ssize_t r;
      while ((r = ::read(in.get(), buffer, sizeof buffer)) > 0) {
        if (::write(out.get(), buffer, static_cast<size_t>(r)) != r) {
          return fail(ErrorKind::kIo, fmt::format("cannot write {}", to.string()));
        }
      }
      if (r < 0) return fail(ErrorKind::kIo, fmt::format("cannot read {}", from.string()));
      break;
    }
  }
  ::fchmod(out.get(), mode & 07777);
  return {};
}

// Copies one entry (`rel` under src) of any kind; directories recursively.
Result<> copy_entry(const fs::path& src, const fs::path& dest, const fs::path& rel,
                    ProjectCopyStats& stats) {
  fs::path from = src / rel;
  fs::path to = dest / rel;
  struct stat st{};
  if (::lstat(from.c_str(), &st) != 0) return {};  // deleted in the working tree
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (S_ISLNK(st.st_mode)) {
    fs::copy_symlink(from, to, ec);
    if (ec) return fail(ErrorKind::kIo, fmt::format("cannot copy {}: {}", from.string(), ec.message()));
    ++stats.files;
    return {};
  }
  if (S_ISDIR(st.st_mode)) {
    fs::create_directories(to, ec);
    for (const fs::directory_entry& entry : fs::directory_iterator(from, ec)) {
      fs::path child = rel / entry.path().filename();
      if (Result<> r = copy_entry(src, dest, child, stats); !r) return r;
    }
    if (ec) return fail(ErrorKind::kIo, fmt::format("cannot list {}: {}", from.string(), ec.message()));
    return {};
  }
  if (!S_ISREG(st.st_mode)) return {};  // sockets, fifos: not part of a checkout
  if (Result<> r = clone_file(from, to, st.st_mode); !r) return r;
  ++stats.files;
  return {};
}

}  // namespace

std::optional<std::vector<std::string>> list_project_files(const fs::path& src) {
  std::optional<std::string> out = run_git(src, {"ls-files", "-z", "--cached", "--others", "--exclude-standard"});
  if (!out) return std::nullopt;
  return split_nonempty(*out, '\0');
}

Result<ProjectCopyStats> copy_project(const fs::path& src, const fs::path& dest,
                                      const std::optional<std::vector<std::string>>& files) {
  ProjectCopyStats stats;
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return fail(ErrorKind::kIo, fmt::format("cannot create {}: {}", dest.string(), ec.message()));
  if (!files) {
    for (const fs::directory_entry& entry : fs::directory_iterator(src, ec)) {
      if (Result<> r = copy_entry(src, dest, entry.path().filename(), stats); !r) {
        return fail(r.error());
      }
    }
    if (ec) return fail(ErrorKind::kIo, fmt::format("cannot list {}: {}", src.string(), ec.message()));
    return stats;
  }
  for (const std::string& file : *files) {
    if (Result<> r = copy_entry(src, dest, file, stats); !r) return fail(r.error());
  }
  if (fs::is_directory(src / ".git", ec)) {
    // What git needs to work on this commit, nothing more (hooks, logs and the like cost an
    // inode each per job): HEAD, config, index, refs; objects are borrowed through
    // objects/info/alternates (as `git clone --shared` does), so new objects stay in the copy.
    for (const char* name : {"HEAD", "config", "index", "packed-refs", "refs", "shallow"}) {
      if (!fs::exists(src / ".git" / name, ec)) continue;
      if (Result<> r = copy_entry(src, dest, fs::path(".git") / name, stats); !r) {
        return fail(r.error());
      }
    }
    fs::create_directories(dest / ".git" / "objects" / "info", ec);
    std::ofstream alternates(dest / ".git" / "objects" / "info" / "alternates");
    alternates << fs::absolute(src / ".git" / "objects").string() << "\n";
    if (!alternates) {
      return fail(ErrorKind::kIo, fmt::format("cannot write {}/.git/objects/info/alternates",
                                              dest.string()));
    }
    ++stats.linked;
  } else if (fs::exists(src / ".git", ec)) {
    // A worktree or submodule: .git is a file pointing at the real git dir.
    if (Result<> r = copy_entry(src, dest, ".git", stats); !r) return fail(r.error());
  }
  return stats;
}

}  // namespace glr
