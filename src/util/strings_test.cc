// Tests for the shared string helpers.
#include "util/strings.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

TEST(Strings, SplitFieldsDropsEmptyRuns) {
  EXPECT_EQ(split_fields("  --prune \t --quiet\n"), (std::vector<std::string>{"--prune", "--quiet"}));
  EXPECT_TRUE(split_fields("   ").empty());
}

TEST(Strings, SplitNonemptyDropsEmptyFields) {
  EXPECT_EQ(split_nonempty(std::string_view("a\0\0b\0", 5), '\0'),
            (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(split_nonempty("", '\0').empty());
  EXPECT_EQ(split_nonempty("x", ','), (std::vector<std::string>{"x"}));
}

TEST(Strings, Base64EncodeMatchesRfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string_view("\xff\xfe\x00", 3)), "//4A");
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
