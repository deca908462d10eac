// S3 presigning with the endpoint and addressing rules of cache/s3v2 and cacheconfig.
#include "artifacts/s3_cache.h"

#include <algorithm>
#include <fmt/format.h>

#include "util/strings.h"

namespace glr {
namespace {

std::string host_of_endpoint(const std::string& endpoint) {
  size_t s = endpoint.find("://");
  return s == std::string::npos ? endpoint : endpoint.substr(s + 3);
}

bool is_aws_or_google_host(std::string_view host) {
  std::string h = to_lower(host.substr(0, host.find(':')));
  return ends_with(h, ".amazonaws.com") || h == "amazonaws.com" || h == "storage.googleapis.com" ||
         ends_with(h, ".amazonaws.com.cn");
}

}  // namespace

std::string s3_endpoint(const S3CacheConfig& c) {
  if (c.server_address.empty()) return "";
  std::string scheme = c.insecure ? "http" : "https";
  const std::string& addr = c.server_address;
  std::string host = addr;
  std::string port;
  if (addr.front() == '[') {
    size_t rb = addr.find(']');
    if (rb != std::string::npos && rb + 1 < addr.size() && addr[rb + 1] == ':') {
      host = addr.substr(0, rb + 1);
      port = addr.substr(rb + 2);
    }
  } else if (std::count(addr.begin(), addr.end(), ':') == 1) {
    host = addr.substr(0, addr.find(':'));
    port = addr.substr(addr.find(':') + 1);
  }
  if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) {
    return scheme + "://" + host;
  }
  return scheme + "://" + addr;
}

bool s3_path_style(const S3CacheConfig& c) {
  if (c.path_style) return *c.path_style;
  std::string endpoint = s3_endpoint(c);
  if (endpoint.empty()) return false;
  std::string host = host_of_endpoint(endpoint);
  // minio-go's IsVirtualHostSupported: AWS and Google only, and never a dotted bucket over TLS.
  if (!is_aws_or_google_host(host)) return true;
  return !c.insecure && c.bucket_name.find('.') != std::string::npos;
}

Result<PresignedUrl> s3_presign(const S3CacheConfig& c, const AwsCredentials& credentials,
                                std::string_view method, std::string_view object_name,
                                std::chrono::system_clock::time_point now,
                                std::chrono::seconds expires, const StringPairs& metadata) {
  if (method != "GET" && method != "HEAD" && method != "PUT") {
    return fail(ErrorKind::kInvalidInput, fmt::format("unsupported method: {}", method));
  }
  if (c.bucket_name.empty()) return fail(ErrorKind::kInvalidInput, "missing S3 bucket name");
  const std::string region = c.bucket_location.empty() ? "us-east-1" : c.bucket_location;
  std::string endpoint = s3_endpoint(c);
  if (endpoint.empty()) {
    endpoint = c.dual_stack.value_or(true) ? fmt::format("https://s3.dualstack.{}.amazonaws.com", region)
                                           : fmt::format("https://s3.{}.amazonaws.com", region);
  }
  const std::string scheme = endpoint.substr(0, endpoint.find("://"));
  std::string host = host_of_endpoint(endpoint);
  std::string path = "/" + std::string(object_name);
  if (s3_path_style(c)) {
    path = "/" + c.bucket_name + path;
  } else {
    host = c.bucket_name + "." + host;
  }
  SigV4Request req{.method = std::string(method), .path = path, .query = {},
                   .headers = {{"host", host}}, .payload_hash = {}};
  std::vector<std::string> headers;
  if (method == "PUT") {
    auto add = [&](const std::string& name, const std::string& value) {
      req.headers.emplace_back(name, value);
      headers.push_back(name + ": " + value);
    };
    for (const auto& [k, v] : metadata) add("x-amz-meta-" + to_lower(k), v);
    std::string sse = to_lower(c.server_side_encryption);
    if (sse == "s3" || sse == "aes256") {
      add("x-amz-server-side-encryption", "AES256");
    } else if (sse == "kms" || sse == "aws:kms" || sse == "dsse-kms" || sse == "aws:kms:dsse") {
      add("x-amz-server-side-encryption", starts_with(sse, "dsse") || sse == "aws:kms:dsse"
                                               ? "aws:kms:dsse"
                                               : "aws:kms");
      if (!c.server_side_encryption_key_id.empty()) {
        add("x-amz-server-side-encryption-aws-kms-key-id", c.server_side_encryption_key_id);
      }
    }
  }
  SigV4Scope scope{.region = region, .service = "s3", .time = now};
  std::string query = sigv4_presign_query(req, credentials, scope, expires);
  return PresignedUrl{.url = scheme + "://" + host + aws_uri_encode(path, false) + "?" + query,
                      .headers = std::move(headers)};
}

Result<S3CacheUrls> s3_cache_urls(const S3CacheConfig& config, const AwsCredentials& credentials,
                                  std::string_view object_name, std::string_view cache_key,
                                  std::chrono::system_clock::time_point now,
                                  std::chrono::seconds expires) {
  Result<PresignedUrl> get = s3_presign(config, credentials, "GET", object_name, now, expires);
  if (!get) return fail(get.error());
  Result<PresignedUrl> head = s3_presign(config, credentials, "HEAD", object_name, now, expires);
  if (!head) return fail(head.error());
  Result<PresignedUrl> put = s3_presign(config, credentials, "PUT", object_name, now, expires,
                                        {{"cachekey", std::string(cache_key)}});
  if (!put) return fail(put.error());
  return S3CacheUrls{.get = std::move(*get), .head = std::move(*head), .put = std::move(*put)};
}

}  // namespace glr
