// Tests for the shared string helpers.
#include "util/strings.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

TEST(Strings, SplitFieldsDropsEmptyRuns) {
  EXPECT_EQ(split_fields("  --prune \t --quiet\n"), (std::vector<std::string>{"--prune", "--quiet"}));
  EXPECT_TRUE(split_fields("   ").empty());
}

TEST(Strings, ParseGoBoolAcceptsExactlyGoSpellings) {
  EXPECT_EQ(parse_go_bool("True"), true);
  EXPECT_EQ(parse_go_bool("t"), true);
  EXPECT_EQ(parse_go_bool("0"), false);
  EXPECT_EQ(parse_go_bool("yes"), std::nullopt);
  EXPECT_EQ(parse_go_bool("tRUE"), std::nullopt);
}

TEST(Strings, ParseIntRejectsJunk) {
  EXPECT_EQ(parse_int("42"), 42);
  EXPECT_EQ(parse_int("-3"), -3);
  EXPECT_EQ(parse_int("4x"), std::nullopt);
  EXPECT_EQ(parse_int(""), std::nullopt);
}

}  // namespace
}  // namespace glr
