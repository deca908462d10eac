// SigV4 as specified in AWS's "Signature Version 4 signing process"; verified against the
// published test suite and S3 examples (sigv4_test.cc).
#include "artifacts/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <fmt/format.h>

#include "util/strings.h"

namespace glr {
namespace {

std::string to_hex(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) out += fmt::format("{:02x}", data[i]);
  return out;
}

std::string hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string collapse_spaces(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : trim(v)) {
    if (c == ' ') {
      if (!space) out.push_back(' ');
      space = true;
    } else {
      out.push_back(c);
      space = false;
    }
  }
  return out;
}

StringPairs canonical_headers(const StringPairs& headers) {
  StringPairs h;
  for (const auto& [k, v] : headers) h.emplace_back(to_lower(k), collapse_spaces(v));
  std::stable_sort(h.begin(), h.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return h;
}

std::string signed_headers(const StringPairs& headers) {
  std::vector<std::string> names;
  for (const auto& [k, v] : canonical_headers(headers)) names.push_back(k);
  return join(names, ";");
}

std::string date_only(std::chrono::system_clock::time_point t) { return amz_date(t).substr(0, 8); }

std::string credential_scope(const SigV4Scope& s) {
  return fmt::format("{}/{}/{}/aws4_request", date_only(s.time), s.region, s.service);
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return to_hex(out, len);
}

std::string aws_uri_encode(std::string_view s, bool encode_slash) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~' ||
        (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned>(c));
    }
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string sigv4_canonical_request(const SigV4Request& r) {
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : r.query) q.emplace_back(aws_uri_encode(k, true), aws_uri_encode(v, true));
  std::sort(q.begin(), q.end());
  std::vector<std::string> qs;
  for (const auto& [k, v] : q) qs.push_back(k + "=" + v);
  std::string headers;
  for (const auto& [k, v] : canonical_headers(r.headers)) headers += k + ":" + v + "\n";
  std::string path = r.path.empty() ? "/" : r.path;
  return r.method + "\n" + aws_uri_encode(path, false) + "\n" + join(qs, "&") + "\n" + headers +
         "\n" + signed_headers(r.headers) + "\n" + r.payload_hash;
}

std::string sigv4_signature(const SigV4Request& request, const AwsCredentials& credentials,
                            const SigV4Scope& scope) {
  std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date(scope.time) + "\n" +
                        credential_scope(scope) + "\n" +
                        sha256_hex(sigv4_canonical_request(request));
  std::string key = hmac("AWS4" + credentials.secret_access_key, date_only(scope.time));
  key = hmac(key, scope.region);
  key = hmac(key, scope.service);
  key = hmac(key, "aws4_request");
  std::string sig = hmac(key, to_sign);
  return to_hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

std::string sigv4_authorization(const SigV4Request& request, const AwsCredentials& credentials,
                                const SigV4Scope& scope) {
  return fmt::format("AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={}",
                     credentials.access_key_id, credential_scope(scope),
                     signed_headers(request.headers),
                     sigv4_signature(request, credentials, scope));
}

std::string sigv4_presign_query(SigV4Request request, const AwsCredentials& credentials,
                                const SigV4Scope& scope, std::chrono::seconds expires) {
  request.payload_hash = "UNSIGNED-PAYLOAD";
  request.query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  request.query.emplace_back("X-Amz-Credential",
                             credentials.access_key_id + "/" + credential_scope(scope));
  request.query.emplace_back("X-Amz-Date", amz_date(scope.time));
  request.query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (!credentials.session_token.empty()) {
    request.query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  request.query.emplace_back("X-Amz-SignedHeaders", signed_headers(request.headers));
  std::string signature = sigv4_signature(request, credentials, scope);
  std::vector<std::pair<std::string, std::string>> q;
  for (const auto& [k, v] : request.query) q.emplace_back(aws_uri_encode(k, true), aws_uri_encode(v, true));
  std::sort(q.begin(), q.end());
  std::vector<std::string> qs;
  for (const auto& [k, v] : q) qs.push_back(k + "=" + v);
  qs.push_back("X-Amz-Signature=" + signature);
  return join(qs, "&");
}

}  // namespace glr
