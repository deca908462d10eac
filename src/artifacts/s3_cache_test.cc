// S3 presigning and the credential chain (executors §5.6; api spec §8.3), with canned HTTP.
#include "artifacts/s3_cache.h"

#include <gtest/gtest.h>

#include <fstream>

#include "artifacts/aws_credentials.h"
#include "support/fake_clock.h"
#include "support/fake_http_transport.h"
#include "support/temp_dir.h"

namespace glr {
namespace {

std::chrono::system_clock::time_point at(std::time_t t) { return std::chrono::system_clock::from_time_t(t); }
AwsCredentials example() {
  return {.access_key_id = "AKIAIOSFODNN7EXAMPLE",
          .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
}
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(S3Cache, EndpointDropsCanonicalPorts) {
  EXPECT_EQ(s3_endpoint({.server_address = "minio:443"}), "https://minio");
  EXPECT_EQ(s3_endpoint({.server_address = "minio:80", .insecure = true}), "http://minio");
  EXPECT_EQ(s3_endpoint({.server_address = "127.0.0.1:9000", .insecure = true}), "http://127.0.0.1:9000");
  EXPECT_EQ(s3_endpoint({.server_address = "[::1]:443"}), "https://[::1]");
  EXPECT_EQ(s3_endpoint({}), "");
}

TEST(S3Cache, PathStyleAutoDetection) {
  EXPECT_FALSE(s3_path_style({.bucket_name = "b"}));
  EXPECT_TRUE(s3_path_style({.server_address = "minio.local:9000", .bucket_name = "b"}));
  EXPECT_FALSE(s3_path_style({.server_address = "s3.amazonaws.com", .bucket_name = "b"}));
  EXPECT_TRUE(s3_path_style({.server_address = "s3.amazonaws.com", .bucket_name = "a.b"}));
  EXPECT_FALSE(s3_path_style({.server_address = "minio", .bucket_name = "b", .path_style = false}));
}

TEST(S3Cache, PresignedGetMatchesAwsDocumentationExample) {
  Result<PresignedUrl> u = s3_presign({.server_address = "s3.amazonaws.com", .bucket_name = "examplebucket"},
                                      example(), "GET", "test.txt", at(1369353600),
                                      std::chrono::seconds(86400));
  ASSERT_TRUE(u);
  EXPECT_EQ(u->url,
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
            "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&"
            "X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&"
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  EXPECT_TRUE(u->headers.empty());
}

TEST(S3Cache, PathStylePutSignsMetadataAndEncryption) {
  Result<PresignedUrl> u = s3_presign(
      {.server_address = "127.0.0.1:9000", .insecure = true, .bucket_name = "cache",
       .bucket_location = "eu-west-1", .server_side_encryption = "KMS",
       .server_side_encryption_key_id = "alias/k"},
      example(), "PUT", "runner/abc/project/1/rspec main", at(1369353600), std::chrono::seconds(3600),
      {{"cachekey", "rspec main"}});
  ASSERT_TRUE(u);
  EXPECT_TRUE(has(u->url, "http://127.0.0.1:9000/cache/runner/abc/project/1/rspec%20main?")) << u->url;
  EXPECT_TRUE(has(u->url, "%2Feu-west-1%2Fs3%2F"));
  EXPECT_TRUE(has(u->url, "X-Amz-SignedHeaders=host%3Bx-amz-meta-cachekey%3Bx-amz-server-side-encryption%3Bx-amz-server-side-encryption-aws-kms-key-id&"));
  EXPECT_EQ(u->headers, (std::vector<std::string>{"x-amz-meta-cachekey: rspec main",
                                                  "x-amz-server-side-encryption: aws:kms",
                                                  "x-amz-server-side-encryption-aws-kms-key-id: alias/k"}));
}

TEST(S3Cache, AwsDefaultEndpointIsDualStackVirtualHosted) {
  Result<PresignedUrl> u = s3_presign({.bucket_name = "b", .bucket_location = "eu-central-1"}, example(),
                                      "HEAD", "k", at(1369353600), std::chrono::seconds(60));
  ASSERT_TRUE(u);
  EXPECT_TRUE(has(u->url, "https://b.s3.dualstack.eu-central-1.amazonaws.com/k?"));
  EXPECT_FALSE(s3_presign({.bucket_name = "b"}, example(), "DELETE", "k", at(0), std::chrono::seconds(1)));
}

TEST(S3Cache, CacheUrlsForOneEntry) {
  Result<S3CacheUrls> u = s3_cache_urls({.server_address = "minio:9000", .bucket_name = "c"}, example(),
                                        "runner/t/project/1/k", "k", at(1369353600), std::chrono::hours(1));
  ASSERT_TRUE(u);
  EXPECT_TRUE(has(u->get.url, "https://minio:9000/c/runner/t/project/1/k?"));
  EXPECT_NE(u->get.url, u->head.url);
  EXPECT_EQ(u->put.headers, (std::vector<std::string>{"x-amz-meta-cachekey: k"}));
  EXPECT_TRUE(has(u->put.url, "X-Amz-Expires=3600&"));
}

TEST(AwsCredentials, EnvironmentKeys) {
  EXPECT_FALSE(aws_env_credentials({}));
  auto c = aws_env_credentials({{"AWS_ACCESS_KEY_ID", "id"}, {"AWS_SECRET_ACCESS_KEY", "s"},
                                {"AWS_SESSION_TOKEN", "t"}});
  ASSERT_TRUE(c && *c);
  EXPECT_EQ((*c)->session_token, "t");
  EXPECT_FALSE(*aws_env_credentials({{"AWS_ACCESS_KEY_ID", "id"}}));
}

TEST(AwsCredentials, WebIdentityCallsStsWithTheToken) {
  TempDir tmp;
  std::ofstream(tmp.path() / "token") << "eyJhbGciOi.jwt\n";
  FakeHttpTransport http;
  FakeClock clock;
  http.answers = {FakeHttpTransport::respond(200, {}, R"(<AssumeRoleWithWebIdentityResponse>
  <AssumeRoleWithWebIdentityResult><Credentials><SessionToken>ST</SessionToken>
  <SecretAccessKey>SK</SecretAccessKey><Expiration>2030-01-02T03:04:05Z</Expiration>
  <AccessKeyId>ASIA1</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult>
  </AssumeRoleWithWebIdentityResponse>)")};
  auto c = aws_web_identity_credentials(
      http,
      {{"AWS_WEB_IDENTITY_TOKEN_FILE", (tmp.path() / "token").string()},
       {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}, {"AWS_ROLE_SESSION_NAME", "s1"},
       {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1234"}},
      clock, {});
  ASSERT_TRUE(c && *c) << (c ? (*c).error().message : "");
  EXPECT_EQ(**c, (AwsCredentials{.access_key_id = "ASIA1", .secret_access_key = "SK",
                                 .session_token = "ST", .expiration = at(1893553445)}));
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].method, "POST");
  EXPECT_EQ(http.requests[0].url, "http://127.0.0.1:1234/");
  EXPECT_EQ(http.requests[0].body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
            "&RoleSessionName=s1&WebIdentityToken=eyJhbGciOi.jwt");
}

TEST(AwsCredentials, EksPodIdentityReadsTheTokenFileEveryTime) {
  TempDir tmp;
  std::ofstream(tmp.path() / "eks-token") << "tok-1";
  FakeHttpTransport http;
  http.answers = {FakeHttpTransport::respond(
      200, {}, R"({"AccessKeyId":"ASIA2","SecretAccessKey":"SK2","Token":"T2","AccountId":"1","Expiration":"2030-01-02T03:04:05Z"})")};
  EnvMap env = {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/v1/credentials"},
                {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (tmp.path() / "eks-token").string()}};
  auto c = aws_container_credentials(http, env, {});
  ASSERT_TRUE(c && *c) << (c ? (*c).error().message : "");
  EXPECT_EQ((*c)->access_key_id, "ASIA2");
  EXPECT_EQ((*c)->session_token, "T2");
  EXPECT_EQ(http.requests[0].url, "http://127.0.0.1:8080/v1/credentials");
  EXPECT_EQ(http.requests[0].headers[0], (HttpHeader{"Authorization", "tok-1"}));
  // A non-loopback http URL is refused.
  env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://evil.example/creds";
  EXPECT_FALSE(*aws_container_credentials(http, env, {}));
}

TEST(AwsCredentials, ImdsV2TokenRoleThenCredentials) {
  FakeHttpTransport http;
  http.answers = {FakeHttpTransport::respond(200, {}, "imds-token"),
                  FakeHttpTransport::respond(200, {}, "runner-role\n"),
                  FakeHttpTransport::respond(200, {}, R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIA3","SecretAccessKey":"SK3","Token":"T3","Expiration":"2030-01-02T03:04:05Z"})")};
  auto c = aws_imds_credentials(http, {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/"}}, {});
  ASSERT_TRUE(c && *c) << (c ? (*c).error().message : "");
  EXPECT_EQ((*c)->access_key_id, "ASIA3");
  ASSERT_EQ(http.requests.size(), 3u);
  EXPECT_EQ(http.requests[0].method, "PUT");
  EXPECT_EQ(http.requests[0].url, "http://127.0.0.1:9/latest/api/token");
  EXPECT_EQ(http.requests[0].headers[0], (HttpHeader{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}));
  EXPECT_EQ(http.requests[2].url, "http://127.0.0.1:9/latest/meta-data/iam/security-credentials/runner-role");
  EXPECT_EQ(http.requests[2].headers[0], (HttpHeader{"X-aws-ec2-metadata-token", "imds-token"}));
  EXPECT_FALSE(aws_imds_credentials(http, {{"AWS_EC2_METADATA_DISABLED", "true"}}, {}));
}

TEST(AwsCredentials, ChainCachesAndRefreshesBeforeExpiry) {
  FakeHttpTransport http;
  FakeClock clock;  // 2025-08-21T09:55:02Z
  auto answer = [](const std::string& id, const std::string& expiration) {
    return FakeHttpTransport::respond(
        200, {}, R"({"AccessKeyId":")" + id + R"(","SecretAccessKey":"s","Token":"t","Expiration":")" + expiration + "\"}");
  };
  http.answers = {answer("A1", "2025-08-21T10:55:02Z"), answer("A2", "2025-08-21T12:00:00Z")};
  AwsCredentialChain chain(http, clock, {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c"}});
  EXPECT_EQ(chain.get({})->access_key_id, "A1");
  clock.advance(std::chrono::minutes(50));  // 10:45:02, 10 min before expiry
  EXPECT_EQ(chain.get({})->access_key_id, "A1");
  EXPECT_EQ(http.requests.size(), 1u);
  clock.advance(std::chrono::minutes(6));  // inside the 5 min window
  EXPECT_EQ(chain.get({})->access_key_id, "A2");
  EXPECT_EQ(http.requests.size(), 2u);
}

TEST(AwsCredentials, StaticKeysWinAndNothingConfiguredIsAnError) {
  FakeHttpTransport http;
  FakeClock clock;
  AwsCredentialChain with_static(http, clock, {}, example());
  EXPECT_EQ(with_static.get({})->access_key_id, "AKIAIOSFODNN7EXAMPLE");
  AwsCredentialChain none(http, clock, {{"AWS_EC2_METADATA_DISABLED", "true"}});
  EXPECT_FALSE(none.get({}));
  EXPECT_TRUE(http.requests.empty());
}

}  // namespace glr
