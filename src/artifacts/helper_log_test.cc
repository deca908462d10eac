// The helper formatter must match logrus' RunnerTextFormatter byte for byte (executors §2.2).
#include "artifacts/helper_log.h"

#include <gtest/gtest.h>

namespace glr {

TEST(HelperLog, InfoIsPaddedTo50WithoutColour) {
  EXPECT_EQ(format_helper_line(HelperLevel::kInfo, "hello"),
            "hello" + std::string(45, ' ') + "\x1b[0;m \n");
}

TEST(HelperLog, WarningHasPrefixColourAndShorterPad) {
  EXPECT_EQ(format_helper_line(HelperLevel::kWarning, "file does not exist"),
            "\x1b[0;33mWARNING: file does not exist" + std::string(41 - 19, ' ') + "\x1b[0;m \n");
}

TEST(HelperLog, FieldsAreSortedAndColouredByLevel) {
  std::string line = format_helper_line(
      HelperLevel::kError, "boom", {{.key = "z", .value = "1"}, {.key = "a", .value = "2"}});
  EXPECT_EQ(line, "\x1b[31;1mERROR: boom" + std::string(39, ' ') +
                      "\x1b[0;m  \x1b[31;1ma\x1b[0;m=2 \x1b[31;1mz\x1b[0;m=1\n");
}

TEST(HelperLog, LongMessageIsNotTruncated) {
  std::string m(60, 'x');
  EXPECT_EQ(format_helper_line(HelperLevel::kInfo, m), m + "\x1b[0;m \n");
}

}  // namespace glr
