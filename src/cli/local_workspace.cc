#include "cli/local_workspace.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <system_error>

namespace glr {

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

Result<std::vector<std::string>> project_files(const std::filesystem::path& project_dir) {
  std::vector<std::string> files;
  std::string command = "git -C " + shell_quote(project_dir.string()) +
                        " ls-files -z --cached --others --exclude-standard 2>/dev/null";
  bool listed = false;
  if (std::filesystem::exists(project_dir / ".git")) {
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe != nullptr) {
      std::string out;
      char buf[65536];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
      listed = ::pclose(pipe) == 0;
      size_t start = 0;
      while (listed && start < out.size()) {
        size_t end = out.find('\0', start);
        if (end == std::string::npos) end = out.size();
        if (end > start) files.push_back(out.substr(start, end - start));
        start = end + 1;
      }
    }
  }
  if (!listed) {
    files.clear();
    std::error_code ec;
    auto it = std::filesystem::recursive_directory_iterator(
        project_dir, std::filesystem::directory_options::skip_permission_denied, ec);
    if (ec) {
      return fail(ErrorKind::kIo, fmt::format("{}: {}", project_dir.string(), ec.message()));
    }
    for (; it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (it->path().filename() == ".git") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
      files.push_back(std::filesystem::relative(it->path(), project_dir, ec).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

Result<> copy_project_files(const std::filesystem::path& from,
                            const std::vector<std::string>& files,
                            const std::filesystem::path& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return fail(ErrorKind::kIo, fmt::format("{}: {}", to.string(), ec.message()));
  std::string last_parent;
  for (const std::string& rel : files) {
    fs::path src = from / rel;
    fs::file_status st = fs::symlink_status(src, ec);
    if (ec || !fs::exists(st)) continue;  // deleted in the working tree
    fs::path dst = to / rel;
    std::string parent = dst.parent_path().string();
    if (parent != last_parent) {
      fs::create_directories(dst.parent_path(), ec);
      if (ec) return fail(ErrorKind::kIo, fmt::format("{}: {}", parent, ec.message()));
      last_parent = parent;
    }
    if (fs::is_symlink(st)) {
      fs::copy_symlink(src, dst, ec);
    } else if (fs::is_regular_file(st)) {
      fs::copy_file(src, dst, fs::copy_options::overwrite_existing, ec);
    } else {
      continue;  // submodule directories, sockets
    }
    if (ec) return fail(ErrorKind::kIo, fmt::format("copying {}: {}", rel, ec.message()));
  }
  return {};
}

}  // namespace glr
