// Go duration strings must round-trip the way the official runner writes them.
#include "util/duration.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

using namespace std::chrono_literals;

TEST(GoDuration, ParsesCompoundAndFractional) {
  EXPECT_EQ(parse_go_duration("1h30m"), Nanoseconds(90min));
  EXPECT_EQ(parse_go_duration("90s"), Nanoseconds(90s));
  EXPECT_EQ(parse_go_duration("1.5h"), Nanoseconds(90min));
  EXPECT_EQ(parse_go_duration("300ms"), Nanoseconds(300ms));
  EXPECT_EQ(parse_go_duration("0"), Nanoseconds(0));
  EXPECT_EQ(parse_go_duration("-5s"), Nanoseconds(-5s));
}

TEST(GoDuration, RejectsMalformed) {
  EXPECT_EQ(parse_go_duration(""), std::nullopt);
  EXPECT_EQ(parse_go_duration("10"), std::nullopt);
  EXPECT_EQ(parse_go_duration("5 minutes"), std::nullopt);
  EXPECT_EQ(parse_go_duration("1d"), std::nullopt);
  EXPECT_EQ(parse_go_duration("h"), std::nullopt);
}

TEST(GoDuration, FormatsLikeGo) {
  EXPECT_EQ(format_go_duration(1h), "1h0m0s");
  EXPECT_EQ(format_go_duration(15min), "15m0s");
  EXPECT_EQ(format_go_duration(1500ms), "1.5s");
  EXPECT_EQ(format_go_duration(0s), "0s");
  EXPECT_EQ(format_go_duration(2h + 3s), "2h0m3s");
  EXPECT_EQ(format_go_duration(250ms), "250ms");
}

}  // namespace
}  // namespace glr
