// File selection as the official fileArchiver does it (executors §6.2).
#include "artifacts/file_selection.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "support/temp_dir.h"

namespace glr {
namespace {

std::vector<std::string> keys(const FileSelection& s) {
  std::vector<std::string> out;
  for (const auto& [k, v] : s) out.push_back(k);
  return out;
}

class FileSelectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(wd() / "build/obj");
    std::ofstream(wd() / "build/app") << "bin";
    std::ofstream(wd() / "build/obj/a.o") << "o";
    std::ofstream(wd() / "build/obj/a.log") << "log";
    std::ofstream(wd() / "README") << "r";
  }
  const std::filesystem::path& wd() const { return tmp_.path(); }
  CollectingHelperLog log_;
  TempDir tmp_;
};

}  // namespace

TEST_F(FileSelectionTest, DirectoryContributesItselfAndEverythingBelow) {
  FileSelection s = select_files({.wd = wd(), .paths = {"build"}}, log_.log);
  EXPECT_EQ(keys(s), (std::vector<std::string>{"build", "build/app", "build/obj", "build/obj/a.log",
                                               "build/obj/a.o"}));
  EXPECT_EQ(s.at("build").kind, SelectedKind::kDirectory);
  EXPECT_NE(log_.text.find("build: found 5 matching artifact files and directories"),
            std::string::npos);
}

TEST_F(FileSelectionTest, ExcludeIsTestedAgainstEveryWalkedPath) {
  FileSelection s =
      select_files({.wd = wd(), .paths = {"build/"}, .exclude = {"build/**/*.log"}}, log_.log);
  EXPECT_EQ(keys(s), (std::vector<std::string>{"build", "build/app", "build/obj", "build/obj/a.o"}));
  EXPECT_NE(log_.text.find("build/**/*.log: excluded 1 files"), std::string::npos);
}

TEST_F(FileSelectionTest, ExcludedDirectoryDoesNotStopTheWalk) {
  FileSelection s = select_files({.wd = wd(), .paths = {"build"}, .exclude = {"build/obj"}}, log_.log);
  EXPECT_EQ(keys(s), (std::vector<std::string>{"build", "build/app", "build/obj/a.log",
                                               "build/obj/a.o"}));
}

TEST_F(FileSelectionTest, GlobsAndAbsolutePathsInsideTheProject) {
  FileSelection s = select_files(
      {.wd = wd(), .paths = {"**/*.o", (wd() / "README").string()}}, log_.log);
  EXPECT_EQ(keys(s), (std::vector<std::string>{"README", "build/obj/a.o"}));
}

TEST_F(FileSelectionTest, PathOutsideProjectIsWarnedAndIgnored) {
  FileSelection s = select_files({.wd = wd(), .paths = {"../etc", "/etc/passwd"}}, log_.log);
  EXPECT_TRUE(s.empty());
  EXPECT_NE(log_.text.find("WARNING: processPath: artifact path is not a subpath of project "
                           "directory: ../etc"),
            std::string::npos);
}

TEST_F(FileSelectionTest, MissingPathWarnsWithTheWorkingDirectory) {
  FileSelection s = select_files({.wd = wd(), .paths = {"nope"}}, log_.log);
  EXPECT_TRUE(s.empty());
  EXPECT_NE(log_.text.find("nope: no matching files. Ensure that the artifact path is relative to "
                           "the working directory (" + wd().string() + ")"),
            std::string::npos);
}

TEST_F(FileSelectionTest, UntrackedUsesGitLsFilesOthers) {
  std::vector<std::string> env = {"PATH=" + std::string(std::getenv("PATH")),
                                  "HOME=" + wd().string(), "GIT_CONFIG_NOSYSTEM=1"};
  std::string cmd = "cd '" + wd().string() + "' && git init -q . && git add README";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  FileSelection s = select_files(
      {.wd = wd(), .exclude = {"**/*.log"}, .untracked = true, .env = env}, log_.log);
  EXPECT_EQ(keys(s), (std::vector<std::string>{"build/app", "build/obj/a.o"}));
  EXPECT_NE(log_.text.find("untracked: found 2 files"), std::string::npos);
}

TEST_F(FileSelectionTest, GitDirectoryWarns) {
  std::filesystem::create_directories(wd() / ".git");
  std::ofstream(wd() / ".git/HEAD") << "x";
  FileSelection s = select_files({.wd = wd(), .paths = {".git/HEAD"}}, log_.log);
  EXPECT_EQ(keys(s), (std::vector<std::string>{".git/HEAD"}));
  EXPECT_NE(log_.text.find("Part of .git directory is on the list of files to archive"),
            std::string::npos);
}

}  // namespace glr
