// The runner log keeps the official formats operators parse.
#include "util/log.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

TEST(RunnerLog, RunnerFormatPadsMessageAndSortsFields) {
  std::string line = format_log_line(LogLevel::kInfo, "Listing configured runners",
                                     {{"URL", "https://x/"}, {"Executor", "shell"}}, "runner",
                                     false, "t");
  std::string expected = "Listing configured runners";
  expected.append(50 - expected.size(), ' ');
  EXPECT_EQ(line, expected + "  Executor=shell URL=https://x/");
}

TEST(RunnerLog, WarningCarriesPrefixAndColour) {
  std::string line = format_log_line(LogLevel::kWarning, "x", {}, "runner", true, "t");
  EXPECT_EQ(line.substr(0, 17), "\x1b[0;33mWARNING: x");
  EXPECT_NE(line.find("\x1b[0;m "), std::string::npos);
}

TEST(RunnerLog, JsonAndTextFormats) {
  EXPECT_EQ(format_log_line(LogLevel::kError, "bad \"x\"", {{"job", "42"}}, "json", false,
                            "2026-01-01T00:00:00Z"),
            "{\"job\":\"42\",\"level\":\"error\",\"msg\":\"bad \\\"x\\\"\",\"time\":\"2026-01-01T00:00:00Z\"}");
  EXPECT_EQ(format_log_line(LogLevel::kInfo, "Job finished", {{"job", "42"}}, "text", false, "T"),
            "time=\"T\" level=info msg=\"Job finished\" job=42");
}

TEST(RunnerLog, LevelNames) {
  LogLevel l;
  EXPECT_TRUE(parse_log_level("warn", &l));
  EXPECT_EQ(l, LogLevel::kWarning);
  EXPECT_FALSE(parse_log_level("verbose", &l));
}

}  // namespace
}  // namespace glr
