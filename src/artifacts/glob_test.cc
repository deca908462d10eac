// doublestar semantics for artifact paths and excludes (executors §6.2).
#include "artifacts/glob.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace glr {

TEST(GlobMatch, StarStaysInsideOneSegment) {
  EXPECT_TRUE(doublestar_match("*.txt", "a.txt"));
  EXPECT_FALSE(doublestar_match("*.txt", "dir/a.txt"));
  EXPECT_TRUE(doublestar_match("dir/*.txt", "dir/a.txt"));
  EXPECT_TRUE(doublestar_match("*", ".hidden"));
}

TEST(GlobMatch, DoubleStarSpansZeroOrMoreSegments) {
  EXPECT_TRUE(doublestar_match("**/*.txt", "a.txt"));
  EXPECT_TRUE(doublestar_match("**/*.txt", "x/y/a.txt"));
  EXPECT_TRUE(doublestar_match("a/**/b", "a/b"));
  EXPECT_TRUE(doublestar_match("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(doublestar_match("a/**/b", "a/x/y/c"));
  EXPECT_TRUE(doublestar_match("dir/**", "dir"));
  EXPECT_TRUE(doublestar_match("dir/**", "dir/x/y"));
  EXPECT_FALSE(doublestar_match("dir/**", "other/x"));
}

TEST(GlobMatch, DoubleStarInsideASegmentActsLikeStar) {
  EXPECT_TRUE(doublestar_match("a**.txt", "abc.txt"));
  EXPECT_FALSE(doublestar_match("a**.txt", "a/b.txt"));
}

TEST(GlobMatch, QuestionClassesBracesAndEscapes) {
  EXPECT_TRUE(doublestar_match("a?c", "abc"));
  EXPECT_FALSE(doublestar_match("a?c", "a/c"));
  EXPECT_TRUE(doublestar_match("[a-c]x", "bx"));
  EXPECT_FALSE(doublestar_match("[^a-c]x", "bx"));
  EXPECT_TRUE(doublestar_match("[!a-c]x", "dx"));
  EXPECT_TRUE(doublestar_match("{foo,bar}/*.o", "bar/x.o"));
  EXPECT_TRUE(doublestar_match("a/{b,c/{d,e}}", "a/c/e"));
  EXPECT_FALSE(doublestar_match("a/{b,c/{d,e}}", "a/c/f"));
  EXPECT_TRUE(doublestar_match("a\\*b", "a*b"));
  EXPECT_FALSE(doublestar_match("a\\*b", "axb"));
}

TEST(GlobMatch, MalformedPatternsMatchNothing) {
  EXPECT_FALSE(doublestar_match("[abc", "a"));
  EXPECT_FALSE(doublestar_match("{a,b", "a"));
}

TEST(GlobSplit, LiteralBaseAndPattern) {
  EXPECT_EQ(split_glob_pattern("a/b/*.txt"), std::make_pair(std::string("a/b"), std::string("*.txt")));
  EXPECT_EQ(split_glob_pattern("*.txt"), std::make_pair(std::string("."), std::string("*.txt")));
  EXPECT_EQ(split_glob_pattern("a/**/c"), std::make_pair(std::string("a"), std::string("**/c")));
}

TEST(GlobPaths, WalksWithoutFollowingSymlinks) {
  TempDir tmp;
  const auto& root = tmp.path();
  std::filesystem::create_directories(root / "out/sub");
  std::filesystem::create_directories(root / "elsewhere");
  std::ofstream(root / "out/a.txt") << "a";
  std::ofstream(root / "out/sub/b.txt") << "b";
  std::ofstream(root / "elsewhere/c.txt") << "c";
  std::filesystem::create_directory_symlink(root / "elsewhere", root / "out/link");
  EXPECT_EQ(glob_paths(root, "out/**/*.txt"),
            (std::vector<std::string>{"out/a.txt", "out/sub/b.txt"}));
  EXPECT_EQ(glob_paths(root, "out/*"),
            (std::vector<std::string>{"out/a.txt", "out/link", "out/sub"}));
  EXPECT_EQ(glob_paths(root, "out/sub"), (std::vector<std::string>{"out/sub"}));
  EXPECT_TRUE(glob_paths(root, "missing/*").empty());
}

}  // namespace glr
