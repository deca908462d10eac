// Cache key rules (executors §5.2, §5.3, §5.6; pipeline-yaml §9.10).
#include "artifacts/cache_key.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "support/temp_dir.h"

namespace glr {

TEST(CacheKey, DigestIsSha1OfSortedUniqueIdsJoinedByDash) {
  // Digest::SHA1.hexdigest("a-b")
  EXPECT_EQ(cache_key_digest({"b", "a", "b"}), "34fafddda8f42376094beb762e514a67b6f019e7");
  EXPECT_EQ(cache_key_digest({"abc"}), "a9993e364706816aba3e25717850c26c9cd0d89d");  // SHA1("abc")
  EXPECT_EQ(cache_key_digest({}), "");
  EXPECT_EQ(cache_key_from_digest("", ""), "default");
  EXPECT_EQ(cache_key_from_digest("rspec", ""), "rspec-default");
  EXPECT_EQ(cache_key_from_digest("rspec", "abc"), "rspec-abc");
}

TEST(CacheKey, FilesUseBlobIdsAndFilesCommitsUseLastCommits) {
  TempDir tmp;
  std::string dir = tmp.path().string();
  std::string setup = "cd '" + dir + "' && git init -q -b main . && echo 1 > Gemfile.lock && "
                      "mkdir -p web && echo 2 > web/package.json && git add . && "
                      "git -c user.name=t -c user.email=t@e commit -q -m init";
  ASSERT_EQ(std::system(setup.c_str()), 0);
  std::vector<std::string> env = {"PATH=" + std::string(std::getenv("PATH")), "HOME=" + dir};
  // Blob ids of "1\n" and "2\n" (git hash-object).
  std::string b1 = "d00491fd7e5bb6fa28c517a0bb32b8b506539d4d";
  std::string b2 = "0cfbf08886fca9a91cb753ec8734c84fcbe52c9f";
  Result<std::string> k = resolve_cache_key_files(
      tmp.path(), "HEAD", {.files = {"Gemfile.lock", "**/package.json"}, .prefix = "deps"}, env);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(*k, "deps-" + cache_key_digest({b1, b2}));
  Result<std::string> none = resolve_cache_key_files(tmp.path(), "HEAD", {.files = {"nope"}}, env);
  EXPECT_EQ(*none, "default");
  Result<std::string> commits =
      resolve_cache_key_files(tmp.path(), "HEAD", {.files_commits = {"Gemfile.lock"}}, env);
  ASSERT_TRUE(commits);
  EXPECT_EQ(commits->size(), 40u);
  EXPECT_NE(*commits, "default");
}

TEST(CacheKey, SanitizeLikeTheRunner) {
  EXPECT_EQ(sanitize_cache_key("rspec/main"), "rspec/main");
  EXPECT_EQ(sanitize_cache_key("a%2Fb%2e%2e/../c"), "a/c");
  EXPECT_EQ(sanitize_cache_key("../../etc"), "etc");
  EXPECT_EQ(sanitize_cache_key("a\\b /  "), "a/b");
  EXPECT_EQ(sanitize_cache_key(".."), std::nullopt);
  EXPECT_EQ(hash_cache_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CacheKey, RestoreOrderAndProtectedFallbackRefused) {
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& w) { warnings.push_back(w); };
  EXPECT_EQ(cache_restore_keys("k", {"fb1", "fb/../fb2"}, "global", warn),
            (std::vector<std::string>{"k", "fb1", "fb2", "global"}));
  EXPECT_EQ(warnings.back(), "cache key \"fb/../fb2\" sanitized to \"fb2\"");
  warnings.clear();
  EXPECT_EQ(cache_restore_keys("k", {}, "main-protected. ", warn), (std::vector<std::string>{"k"}));
  EXPECT_EQ(warnings.back(), "CACHE_FALLBACK_KEY \"main-protected. \" not allowed to end in \"-protected\"");
}

TEST(CacheKey, LocalAndObjectLayout) {
  EXPECT_EQ(local_cache_file("/cache/grp/app", "rspec/main"), "/cache/grp/app/rspec/main/cache.zip");
  EXPECT_EQ(cache_object_name("", "xYz12AbCd", false, 42, "rspec/main", false),
            "runner/xYz12AbCd/project/42/rspec/main");
  EXPECT_EQ(cache_object_name("prefix/", "t", true, 42, "k", false), "prefix/project/42/k");
  EXPECT_EQ(cache_object_name("", "t", true, 42, "abc", true),
            "project/42/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(cache_object_name("", "t", true, 42, "../43/k", false), std::nullopt);
}

}  // namespace glr
