// Remote URL and credential rewrites (executors §4.3).
#include "script/git_remote.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

GitRemoteInput base_input() {
  return GitRemoteInput{
      .repo_url = "https://gitlab-ci-token:TOK@gitlab.example.com/grp/app.git",
      .runner_url = "https://gitlab.example.com/",
      .project_path = "grp/app",
      .job_token = "TOK",
      .server_host = "gitlab.example.com",
  };
}

TEST(GitRemote, RepoUrlAsSentOriginWithoutCredentials) {
  GitRemote r = compute_git_remote(base_input());
  EXPECT_EQ(r.with_creds, "https://gitlab-ci-token:TOK@gitlab.example.com/grp/app.git");
  EXPECT_EQ(r.without_creds, "https://gitlab.example.com/grp/app.git");
  EXPECT_EQ(r.scheme_and_host, "https://gitlab.example.com");
  EXPECT_EQ(r.instead_ofs,
            (Pairs{{"https://gitlab-ci-token:TOK@gitlab.example.com/grp/app.git",
                    "https://gitlab.example.com/grp/app.git"},
                   {"https://gitlab-ci-token:TOK@gitlab.example.com", "https://gitlab.example.com"}}));
}

TEST(GitRemote, RepoHostDifferentFromRunnerUrlGetsItsOwnRewrite) {
  GitRemoteInput in = base_input();
  in.repo_url = "http://gitlab-ci-token:TOK@internal:8080/grp/app.git";
  GitRemote r = compute_git_remote(in);
  EXPECT_EQ(r.without_creds, "http://internal:8080/grp/app.git");
  ASSERT_EQ(r.instead_ofs.size(), 3u);
  EXPECT_EQ(r.instead_ofs[2],
            (std::pair<std::string, std::string>{"http://gitlab-ci-token:TOK@internal:8080",
                                                 "http://internal:8080"}));
}

TEST(GitRemote, CloneUrlBuildsTheRemoteFromProjectPath) {
  GitRemoteInput in = base_input();
  in.clone_url = "https://clone.example.com/";
  GitRemote r = compute_git_remote(in);
  EXPECT_EQ(r.with_creds, "https://gitlab-ci-token:TOK@clone.example.com/grp/app.git");
  EXPECT_EQ(r.without_creds, "https://clone.example.com/grp/app.git");
  EXPECT_EQ(r.instead_ofs[1], (std::pair<std::string, std::string>{
                                  "https://gitlab-ci-token:TOK@clone.example.com",
                                  "https://clone.example.com"}));
}

TEST(GitRemote, TokenIsUrlEscaped) {
  GitRemoteInput in = base_input();
  in.clone_url = "https://clone.example.com";
  in.job_token = "a/b@c:d";
  GitRemote r = compute_git_remote(in);
  EXPECT_EQ(r.with_creds, "https://gitlab-ci-token:a%2Fb%40c%3Ad@clone.example.com/grp/app.git");
}

TEST(GitRemote, ForceHttpsAddsSshRewrites) {
  GitRemoteInput in = base_input();
  in.force_https = true;
  GitRemote r = compute_git_remote(in);
  ASSERT_EQ(r.instead_ofs.size(), 4u);
  // [0] repository, [1] GitLab base, [2] and [3] SSH forms; the repo host equals the base.
  EXPECT_EQ(r.instead_ofs[2].second, "git@gitlab.example.com:");
  EXPECT_EQ(r.instead_ofs[2].first, "https://gitlab-ci-token:TOK@gitlab.example.com/");
  EXPECT_EQ(r.instead_ofs[3].second, "ssh://git@gitlab.example.com");

  in.ssh_host = "ssh.example.com";
  in.ssh_port = "2222";
  r = compute_git_remote(in);
  ASSERT_EQ(r.instead_ofs.size(), 3u);
  EXPECT_EQ(r.instead_ofs[2], (std::pair<std::string, std::string>{
                                  "https://gitlab-ci-token:TOK@gitlab.example.com",
                                  "ssh://git@ssh.example.com:2222"}));
}

TEST(GitRemote, TokenlessModeHasNoCredentialsAnywhere) {
  GitRemoteInput in = base_input();
  in.tokenless = true;
  GitRemote r = compute_git_remote(in);
  EXPECT_EQ(r.with_creds, "https://gitlab.example.com/grp/app.git");
  EXPECT_EQ(r.without_creds, r.with_creds);
  EXPECT_TRUE(r.instead_ofs.empty());
}

TEST(GitRemote, SshAndLocalRemotes) {
  GitRemoteInput in = base_input();
  in.repo_url = "ssh://host/grp/app.git";
  GitRemote r = compute_git_remote(in);
  EXPECT_EQ(r.without_creds, "ssh://host/grp/app.git");
  EXPECT_EQ(r.scheme, "ssh");

  in.repo_url = "/srv/git/app.git";
  r = compute_git_remote(in);
  EXPECT_EQ(r.without_creds, "/srv/git/app.git");
  EXPECT_TRUE(r.scheme_and_host.empty());
}

}  // namespace
}  // namespace glr
