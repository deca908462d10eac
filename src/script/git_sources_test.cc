// get_sources, clear_worktree and submodules run by a real bash and git against a local bare
// repository (executors §4.4, §4.5, §1.4). Slower than unit tests: labelled integration.
#include <gtest/gtest.h>

#include "script/bash_script.h"
#include "script/script_test_support.h"

namespace glr {
namespace {

using namespace script_test;

class GitSourcesTest : public ScriptFixture {
 protected:
  void SetUp() override {
    ScriptFixture::SetUp();
    if (std::system("git --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "git missing";
    fs::path work = tmp_.path() / "work";
    fs::create_directories(work);
    sh("git init -q -b main . && echo hello > README && git add README && "
       "git -c user.name=t -c user.email=t@t commit -q -m one && "
       "git clone -q --bare . ../origin.git",
       work);
    sha_ = sh("git rev-parse HEAD", work);
    while (!sha_.empty() && sha_.back() == '\n') sha_.pop_back();
    job_.git_info.repo_url = "file://" + (tmp_.path() / "origin.git").string();
    job_.git_info.sha = sha_;
    job_.git_info.refspecs = {"+refs/heads/*:refs/remotes/origin/*"};
    runner_url_.clear();
  }
  std::string sha_;
};

TEST_F(GitSourcesTest, CloneThenFetchFromLocalBareRepository) {
  build();
  RunResult clone = run(StageKind::kGetSources);
  ASSERT_EQ(clone.exit_code, 0) << clone.output;
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "README"), "hello\n");
  EXPECT_NE(clone.output.find("\x1b[32;1mFetching changes...\x1b[0;m\n"), std::string::npos);
  EXPECT_NE(clone.output.find("\x1b[32;1mCreated fresh repository.\x1b[0;m\n"), std::string::npos);
  EXPECT_NE(clone.output.find("Checking out " + sha_.substr(0, 8) +
                              " as detached HEAD (ref is main)..."),
            std::string::npos)
      << clone.output;
  EXPECT_NE(clone.output.find("Skipping Git submodules setup"), std::string::npos);
  EXPECT_EQ(sh("git remote get-url origin", dirs_.project_dir), job_.git_info.repo_url + "\n");
  EXPECT_TRUE(fs::exists(fs::path(dirs_.tmp_dir) / ".gitlab-runner.ext.conf") ||
              fs::exists(fs::path(dirs_.tmp_dir) / "git-template" / "config"));

  write_file(fs::path(dirs_.project_dir) / "untracked.txt", "x");
  job_.variables.push_back({.key = "GIT_STRATEGY", .value = "fetch"});
  build();
  RunResult fetch = run(StageKind::kGetSources);
  ASSERT_EQ(fetch.exit_code, 0) << fetch.output;
  EXPECT_EQ(fetch.output.find("Created fresh repository."), std::string::npos) << fetch.output;
  EXPECT_FALSE(fs::exists(fs::path(dirs_.project_dir) / "untracked.txt"));  // git clean -ffdx
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "README"), "hello\n");
}

TEST_F(GitSourcesTest, NoneAndEmptyStrategies) {
  job_.variables.push_back({.key = "GIT_STRATEGY", .value = "none"});
  build();
  RunResult none = run(StageKind::kGetSources);
  ASSERT_EQ(none.exit_code, 0) << none.output;
  EXPECT_NE(none.output.find("Skipping Git repository setup\x1b[0;m"), std::string::npos);
  EXPECT_NE(none.output.find("Skipping Git checkout"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(dirs_.project_dir));

  job_.variables.back().value = "empty";
  build();
  write_file(fs::path(dirs_.project_dir) / "old.txt", "x");
  RunResult empty = run(StageKind::kGetSources);
  ASSERT_EQ(empty.exit_code, 0) << empty.output;
  EXPECT_NE(empty.output.find("creating an empty build directory"), std::string::npos);
  EXPECT_EQ(dirs_.project_dir.substr(dirs_.project_dir.size() - 6), "-empty");
  EXPECT_TRUE(fs::is_empty(dirs_.project_dir));
}

TEST_F(GitSourcesTest, PrintOnlyGetSourcesIsByteForByteTheScriptsOutput) {
  job_.git_info.repo_url.clear();  // exec: no remote to forget afterwards
  job_.variables.push_back({.key = "GIT_STRATEGY", .value = "none"});
  build();
  std::optional<std::string> printed = get_sources_print_only(ctx());
  ASSERT_TRUE(printed.has_value());
  RunResult real = run(StageKind::kGetSources);
  ASSERT_EQ(real.exit_code, 0) << real.output;
  EXPECT_EQ(*printed, real.output);

  // Submodules are not set up without a repository: still print-only, still the same bytes.
  job_.variables.push_back({.key = "GIT_SUBMODULE_STRATEGY", .value = "recursive"});
  build();
  printed = get_sources_print_only(ctx());
  ASSERT_TRUE(printed.has_value());
  real = run(StageKind::kGetSources);
  ASSERT_EQ(real.exit_code, 0) << real.output;
  EXPECT_EQ(*printed, real.output);
  job_.variables.pop_back();

  // Anything the script does besides printing keeps the script.
  job_.variables.back().value = "fetch";
  build();
  EXPECT_FALSE(get_sources_print_only(ctx()).has_value());
  job_.variables.back().value = "none";
  job_.git_info.repo_url = "https://gitlab-ci-token:job-token-123@gitlab.example.com/grp/app.git";
  build();  // the script ends with `git credential reject` for the remote
  EXPECT_FALSE(get_sources_print_only(ctx()).has_value());
}

TEST_F(GitSourcesTest, ClearWorktreeRemovesEverything) {
  build();
  ASSERT_EQ(run(StageKind::kGetSources).exit_code, 0);
  write_file(fs::path(dirs_.project_dir) / "junk", "x");
  RunResult r = run(StageKind::kClearWorktree);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Deleting tracked and untracked files..."), std::string::npos);
  EXPECT_FALSE(fs::exists(fs::path(dirs_.project_dir) / "README"));
  EXPECT_FALSE(fs::exists(fs::path(dirs_.project_dir) / "junk"));
}

TEST_F(GitSourcesTest, RecursiveSubmodulesAreCheckedOut) {
  // git >= 2.38.1 refuses file:// submodules unless allowed; the scripts run with HOME=tmp.
  write_file(tmp_.path() / ".gitconfig", "[protocol \"file\"]\n\tallow = always\n");
  fs::path sub = tmp_.path() / "sub";
  fs::create_directories(sub);
  sh("git init -q -b main . && echo lib > LIB && git add LIB && "
     "git -c user.name=t -c user.email=t@t commit -q -m lib && git clone -q --bare . ../sub.git",
     sub);
  fs::path work = tmp_.path() / "work";
  sh("git -c protocol.file.allow=always submodule add -q \"file://" + (tmp_.path() / "sub.git").string() + "\" libs/sub && "
     "git -c user.name=t -c user.email=t@t commit -q -m sub && git push -q ../origin.git main",
     work);
  sha_ = sh("git rev-parse HEAD", work);
  while (!sha_.empty() && sha_.back() == '\n') sha_.pop_back();
  job_.git_info.sha = sha_;
  job_.variables.push_back({.key = "GIT_SUBMODULE_STRATEGY", .value = "recursive"});
  build();
  RunResult r = run(StageKind::kGetSources);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Updating/initializing submodules recursively..."), std::string::npos);
  EXPECT_NE(r.output.find("\x1b[32;1mUpdated submodules\x1b[0;m"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "libs" / "sub" / "LIB"), "lib\n");
}

TEST_F(GitSourcesTest, DockerLikeSettingsRecreateConfigEveryTime) {
  clean_git_config_ = true;
  safe_directory_checkout_ = true;
  shared_environment_ = false;
  build();
  RunResult first = run(StageKind::kGetSources);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  job_.variables.push_back({.key = "GIT_STRATEGY", .value = "fetch"});
  build();
  RunResult second = run(StageKind::kGetSources);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  // .git/config was deleted by the cleanup, so the remote is added afresh (§4.4 6b).
  EXPECT_NE(second.output.find("Created fresh repository."), std::string::npos) << second.output;
  EXPECT_NE(read_file(tmp_.path() / ".gitconfig").find(dirs_.project_dir), std::string::npos);
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "README"), "hello\n");
}

TEST_F(GitSourcesTest, NativeCloneFallsBackToFetchOnOlderGit) {
  job_.variables.push_back({.key = "FF_USE_GIT_NATIVE_CLONE", .value = "true"});
  build();
  RunResult r = run(StageKind::kGetSources);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "README"), "hello\n");
  bool native = r.output.find("Cloning repository for main...") != std::string::npos;
  bool fetched = r.output.find("Fetching changes...") != std::string::npos;
  EXPECT_NE(native, fetched) << r.output;
}

TEST_F(GitSourcesTest, TokenlessUrlsStillFetch) {
  job_.variables.push_back({.key = "FF_GIT_URLS_WITHOUT_TOKENS", .value = "true"});
  build();
  std::string s = script(StageKind::kGetSources).value();
  EXPECT_TRUE(has_line(s, "export GIT_CONFIG_GLOBAL="));
  RunResult r = run_bash(s, tmp_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_file(fs::path(dirs_.project_dir) / "README"), "hello\n");
  EXPECT_NE(read_file(fs::path(dirs_.tmp_dir) / ".glr.gconf").find(".gitlab-runner.ext.conf"),
            std::string::npos);
}

}  // namespace
}  // namespace glr
