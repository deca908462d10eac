// copy_project / list_project_files against a real git repository in a temporary directory.
#include "cli/project_copy.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace glr {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// Output of a shell command (stderr dropped); the test fails when it fails.
std::string sh(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << command;
  return out;
}

class ProjectCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "glr-project-copy-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    src_ = root_ / "src";
    write_file(src_ / "README.md", "committed\n");
    write_file(src_ / "lib" / "a.sh", "#!/bin/sh\necho a\n");
    ::chmod((src_ / "lib" / "a.sh").c_str(), 0755);
    write_file(src_ / ".gitignore", "build/\n*.log\n");
    write_file(src_ / "gone.txt", "deleted later\n");
    fs::create_symlink("README.md", src_ / "link");
    std::string git = "git -C '" + src_.string() + "' -c user.email=t@example.com -c user.name=t ";
    sh(git + "init -q -b main");
    sh(git + "add -A");
    sh(git + "commit -qm first");
    // The working tree as a developer leaves it: an edit, a new file, ignored output, a
    // deleted tracked file.
    write_file(src_ / "README.md", "edited, not committed\n");
    write_file(src_ / "new.txt", "untracked\n");
    write_file(src_ / "build" / "out.o", "ignored\n");
    write_file(src_ / "debug.log", "ignored\n");
    fs::remove(src_ / "gone.txt");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  fs::path root_;
  fs::path src_;
};

TEST_F(ProjectCopyTest, CopiesWhatGitWouldCommitWithWorkingTreeContent) {
  std::optional<std::vector<std::string>> files = list_project_files(src_);
  ASSERT_TRUE(files.has_value());
  fs::path dest = root_ / "job" / "src";
  Result<ProjectCopyStats> stats = copy_project(src_, dest, files);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(read_file(dest / "README.md"), "edited, not committed\n");
  EXPECT_EQ(read_file(dest / "new.txt"), "untracked\n");
  EXPECT_EQ(read_file(dest / "lib" / "a.sh"), "#!/bin/sh\necho a\n");
  EXPECT_FALSE(fs::exists(dest / "build"));
  EXPECT_FALSE(fs::exists(dest / "debug.log"));
  EXPECT_FALSE(fs::exists(dest / "gone.txt"));
  EXPECT_TRUE(fs::is_symlink(dest / "link"));
  EXPECT_EQ(fs::read_symlink(dest / "link"), "README.md");
  struct stat st{};
  ASSERT_EQ(::stat((dest / "lib" / "a.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(stats->linked, 1u);
}

TEST_F(ProjectCopyTest, GitWorksInTheCopyWithoutTouchingTheOriginal) {
  fs::path dest = root_ / "job" / "src";
  ASSERT_TRUE(copy_project(src_, dest, list_project_files(src_)));
  // Objects are borrowed, not copied.
  EXPECT_EQ(read_file(dest / ".git" / "objects" / "info" / "alternates"),
            fs::absolute(src_ / ".git" / "objects").string() + "\n");
  std::string git = "git -C '" + dest.string() + "' -c user.email=t@example.com -c user.name=t ";
  EXPECT_EQ(sh(git + "log -1 --format=%s"), "first\n");
  EXPECT_EQ(sh(git + "rev-parse --abbrev-ref HEAD"), "main\n");
  EXPECT_NE(sh(git + "status --porcelain").find(" M README.md"), std::string::npos);
  // A commit in the copy stays in the copy.
  sh(git + "commit -qam in-the-job");
  EXPECT_EQ(sh(git + "log -1 --format=%s"), "in-the-job\n");
  EXPECT_EQ(sh("git -C '" + src_.string() + "' log -1 --format=%s"), "first\n");
}

TEST_F(ProjectCopyTest, NotARepositoryCopiesTheWholeTree) {
  fs::path plain = root_ / "plain";
  write_file(plain / "a" / "b.txt", "b\n");
  write_file(plain / "build" / "kept.o", "kept: no git to ignore it\n");
  EXPECT_FALSE(list_project_files(plain).has_value());
  fs::path dest = root_ / "job2" / "plain";
  Result<ProjectCopyStats> stats = copy_project(plain, dest, std::nullopt);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(read_file(dest / "a" / "b.txt"), "b\n");
  EXPECT_TRUE(fs::exists(dest / "build" / "kept.o"));
  EXPECT_EQ(stats->files, 2u);
  EXPECT_EQ(stats->linked, 0u);
}

TEST_F(ProjectCopyTest, DestinationThatCannotBeCreatedIsAnErrorNamingIt) {
  write_file(root_ / "a-file", "not a directory\n");
  fs::path dest = root_ / "a-file" / "src";
  Result<ProjectCopyStats> stats = copy_project(src_, dest, list_project_files(src_));
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find(dest.string()), std::string::npos) << stats.error().message;
}

}  // namespace
}  // namespace glr
