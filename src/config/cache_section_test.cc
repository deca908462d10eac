// [runners.cache] parsing (api spec config.toml [runners.cache]; executors §5.6).
#include <gtest/gtest.h>

#include "config/runner_config.h"

namespace glr {
namespace {

Result<GlobalConfig> parse(const std::string& section) {
  return parse_config("[[runners]]\nname = \"c\"\nexecutor = \"shell\"\n" + section, "config.toml",
                      [](std::string_view) { return std::nullopt; });
}

TEST(CacheSection, AbsentSectionIsNullopt) {
  Result<GlobalConfig> c = parse("");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->runners[0].cache.has_value());
}

TEST(CacheSection, ReadsTheS3Keys) {
  Result<GlobalConfig> c = parse(R"(
[runners.cache]
  Type = "s3"
  Path = "ci"
  Shared = true
  MaxUploadedArchiveSize = 1000
  [runners.cache.s3]
    ServerAddress = "127.0.0.1:9000"
    AccessKey = "AK"
    SecretKey = "SK"
    BucketName = "cache"
    BucketLocation = "eu-west-1"
    Insecure = true
    AuthenticationType = "access-key"
    PathStyle = true
)");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->runners[0].cache.has_value());
  const CacheSettings& cache = *c->runners[0].cache;
  EXPECT_EQ(cache.type, "s3");
  EXPECT_EQ(cache.path, "ci");
  EXPECT_TRUE(cache.shared);
  EXPECT_EQ(cache.max_uploaded_archive_size, 1000);
  ASSERT_TRUE(cache.s3.has_value());
  EXPECT_EQ(cache.s3->server_address, "127.0.0.1:9000");
  EXPECT_EQ(cache.s3->access_key, "AK");
  EXPECT_EQ(cache.s3->secret_key, "SK");
  EXPECT_EQ(cache.s3->bucket_name, "cache");
  EXPECT_EQ(cache.s3->bucket_location, "eu-west-1");
  EXPECT_TRUE(cache.s3->insecure);
  EXPECT_EQ(cache.s3->authentication_type, "access-key");
  EXPECT_EQ(cache.s3->path_style, std::optional<bool>(true));
  EXPECT_FALSE(cache.s3->dual_stack.has_value());
}

TEST(CacheSection, WrongTypeNamesFileLineAndKey) {
  Result<GlobalConfig> c = parse("[runners.cache]\nShared = \"yes\"\n");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "config.toml:5: runners[0].cache.Shared: expected a boolean");
}

}  // namespace
}  // namespace glr
