// Short tokens as the official runner derives them.
#include "util/short_token.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

TEST(ShortToken, StripsKnownPrefixesAndKeepsNine) {
  EXPECT_EQ(short_token("glrt-t1_AbCdEfGhIjKlMnOpQrSt"), "AbCdEfGhI");
  EXPECT_EQ(short_token("glrt-xYz12AbCdEfG"), "xYz12AbCd");
  EXPECT_EQ(short_token("t3_abcdefghijkl"), "abcdefghi");
  EXPECT_EQ(short_token("GR1348941abcdefghijk"), "abcdefghi");
  EXPECT_EQ(short_token("glcbt-64_k3Yx7Qm2nP4"), "64_k3Yx7Q");
  EXPECT_EQ(short_token("plaintoken123"), "plaintoke");
  EXPECT_EQ(short_token("abc"), "abc");
}

}  // namespace
}  // namespace glr
