// AWS Signature Version 4 (OpenSSL HMAC/SHA-256) for the S3 distributed cache (executors §5.6,
// api spec §8.3): the runner presigns GET/HEAD/PUT URLs for the helper, which never sees keys.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glr {

struct AwsCredentials {
  std::string access_key_id{};
  std::string secret_access_key{};
  std::string session_token{};  // temporary credentials only
  std::optional<std::chrono::system_clock::time_point> expiration{};  // nullopt: never expires
  friend bool operator==(const AwsCredentials&, const AwsCredentials&) = default;
};

using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct SigV4Request {
  std::string method = "GET";
  std::string path = "/";  // unencoded; every segment is URI-encoded once (S3 rules)
  StringPairs query{};     // unencoded names and values
  StringPairs headers{};   // must include "host"; all of them are signed
  std::string payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
};

struct SigV4Scope {
  std::string region{};
  std::string service = "s3";
  std::chrono::system_clock::time_point time{};
};

std::string sha256_hex(std::string_view data);
// RFC 3986 unreserved characters kept, everything else %XX (upper case); '/' kept unless asked.
std::string aws_uri_encode(std::string_view s, bool encode_slash);
std::string amz_date(std::chrono::system_clock::time_point t);  // 20130524T000000Z

std::string sigv4_canonical_request(const SigV4Request& request);
std::string sigv4_signature(const SigV4Request& request, const AwsCredentials& credentials,
                            const SigV4Scope& scope);
// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." for header signing.
std::string sigv4_authorization(const SigV4Request& request, const AwsCredentials& credentials,
                                const SigV4Scope& scope);
// The query string of a presigned URL (canonical order, X-Amz-Signature last): adds
// X-Amz-Algorithm/Credential/Date/Expires/SignedHeaders and X-Amz-Security-Token; the payload is
// UNSIGNED-PAYLOAD.
std::string sigv4_presign_query(SigV4Request request, const AwsCredentials& credentials,
                                const SigV4Scope& scope, std::chrono::seconds expires);

}  // namespace glr
