// SigV4 against AWS's published vectors: the sig-v4 test suite (get-vanilla,
// get-vanilla-query-order-key-case) and the S3 documentation examples (GET Object with Range,
// ListObjects, presigned GET).
#include "artifacts/sigv4.h"

#include <gtest/gtest.h>

namespace glr {
namespace {

std::chrono::system_clock::time_point at(std::time_t t) { return std::chrono::system_clock::from_time_t(t); }
constexpr std::time_t k20150830T123600Z = 1440938160;
constexpr std::time_t k20130524T000000Z = 1369353600;
const std::string kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

AwsCredentials suite_credentials() {
  return {.access_key_id = "AKIDEXAMPLE",
          .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
}
AwsCredentials s3_credentials() {
  return {.access_key_id = "AKIAIOSFODNN7EXAMPLE",
          .secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
}

}  // namespace

TEST(SigV4, AmzDate) { EXPECT_EQ(amz_date(at(k20150830T123600Z)), "20150830T123600Z"); }

TEST(SigV4, TestSuiteGetVanilla) {
  SigV4Request r{.method = "GET", .path = "/",
                 .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}};
  SigV4Scope scope{.region = "us-east-1", .service = "service", .time = at(k20150830T123600Z)};
  EXPECT_EQ(sigv4_authorization(r, suite_credentials(), scope),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, TestSuiteGetVanillaQueryOrderKeyCase) {
  SigV4Request r{.method = "GET", .path = "/",
                 .query = {{"Param2", "value2"}, {"Param1", "value1"}},
                 .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}};
  SigV4Scope scope{.region = "us-east-1", .service = "service", .time = at(k20150830T123600Z)};
  EXPECT_EQ(sigv4_signature(r, suite_credentials(), scope),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, S3GetObjectWithRange) {
  SigV4Request r{.method = "GET", .path = "/test.txt",
                 .headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"},
                             {"x-amz-content-sha256", kEmpty}, {"x-amz-date", "20130524T000000Z"}},
                 .payload_hash = kEmpty};
  SigV4Scope scope{.region = "us-east-1", .service = "s3", .time = at(k20130524T000000Z)};
  EXPECT_EQ(sigv4_authorization(r, s3_credentials(), scope),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3ListObjects) {
  SigV4Request r{.method = "GET", .path = "/", .query = {{"max-keys", "2"}, {"prefix", "J"}},
                 .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                             {"x-amz-content-sha256", kEmpty}, {"x-amz-date", "20130524T000000Z"}},
                 .payload_hash = kEmpty};
  SigV4Scope scope{.region = "us-east-1", .service = "s3", .time = at(k20130524T000000Z)};
  EXPECT_EQ(sigv4_signature(r, s3_credentials(), scope),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, S3PresignedGet) {
  SigV4Request r{.method = "GET", .path = "/test.txt",
                 .headers = {{"host", "examplebucket.s3.amazonaws.com"}}};
  SigV4Scope scope{.region = "us-east-1", .service = "s3", .time = at(k20130524T000000Z)};
  EXPECT_EQ(sigv4_presign_query(r, s3_credentials(), scope, std::chrono::seconds(86400)),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&"
            "X-Amz-SignedHeaders=host&X-Amz-Signature="
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4, SessionTokenIsASignedQueryParameter) {
  AwsCredentials c = s3_credentials();
  c.session_token = "tok/en+";
  SigV4Request r{.method = "PUT", .path = "/k", .headers = {{"host", "b.s3.amazonaws.com"}}};
  SigV4Scope scope{.region = "us-east-1", .service = "s3", .time = at(k20130524T000000Z)};
  std::string q = sigv4_presign_query(r, c, scope, std::chrono::seconds(60));
  EXPECT_NE(q.find("X-Amz-Security-Token=tok%2Fen%2B&"), std::string::npos);
}

TEST(SigV4, UriEncoding) {
  EXPECT_EQ(aws_uri_encode("a b/ü~*", false), "a%20b/%C3%BC~%2A");
  EXPECT_EQ(aws_uri_encode("a/b", true), "a%2Fb");
}

}  // namespace glr
