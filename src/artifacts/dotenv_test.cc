// GitLab's dotenv report rules (executors §6.4, pipeline-yaml §7.6).
#include "artifacts/dotenv.h"

#include <gtest/gtest.h>

namespace glr {

TEST(Dotenv, KeyValueLinesTrimmedQuotesKept) {
  Result<std::vector<DotenvVariable>> v = parse_dotenv("\xEF\xBB\xBF" "A = 1 \nB=\"x=y\"\r\nC=\n");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, (std::vector<DotenvVariable>{{"A", "1"}, {"B", "\"x=y\""}, {"C", ""}}));
}

TEST(Dotenv, LaterDuplicatesWinInFirstPosition) {
  EXPECT_EQ(*parse_dotenv("A=1\nB=2\nA=3"),
            (std::vector<DotenvVariable>{{"A", "3"}, {"B", "2"}}));
}

TEST(Dotenv, BlankAndCommentLinesRejectTheFile) {
  EXPECT_EQ(parse_dotenv("A=1\n\nB=2\n").error().message, "Invalid Format");
  EXPECT_EQ(parse_dotenv("# comment\nA=1").error().message, "Invalid Format");
  EXPECT_EQ(parse_dotenv("# a=b\n").error().message,
            "Validation failed: Key can contain only letters, digits and '_'.");
  EXPECT_FALSE(parse_dotenv("export A=1"));
  EXPECT_FALSE(parse_dotenv("=1"));
}

TEST(Dotenv, LimitsAndEncoding) {
  EXPECT_EQ(parse_dotenv(std::string(5 * 1024 + 1, 'a')).error().message,
            "Dotenv Artifact Too Big. Maximum Allowable Size: 5 KiB");
  std::string many;
  for (int i = 0; i < 21; ++i) many += "V" + std::to_string(i) + "=x\n";
  EXPECT_EQ(parse_dotenv(many).error().message, "Dotenv files cannot have more than 20 variables");
  EXPECT_TRUE(parse_dotenv(many, {.max_bytes = 5 * 1024, .max_variables = 50}));
  EXPECT_EQ(parse_dotenv("A=\xff").error().message, "Invalid Format");
  EXPECT_EQ((*parse_dotenv("A=caf\xc3\xa9"))[0].value, "caf\xc3\xa9");
  EXPECT_TRUE(parse_dotenv("")->empty());
}

}  // namespace glr
