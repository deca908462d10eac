// The AWS default credential chain, reduced to what the S3 cache needs.
#include "artifacts/aws_credentials.h"

#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "artifacts/artifact_transfer.h"
#include "artifacts/flat_json.h"
#include "util/strings.h"

namespace glr {
namespace {

std::string env_value(const EnvMap& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(ErrorKind::kIo, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(trim(ss.str()));
}

std::string xml_value(std::string_view xml, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">";
  std::string close = "</" + std::string(tag) + ">";
  size_t a = xml.find(open);
  if (a == std::string_view::npos) return "";
  a += open.size();
  size_t b = xml.find(close, a);
  return b == std::string_view::npos ? "" : std::string(xml.substr(a, b - a));
}

Result<AwsCredentials> from_json(std::string_view body, const std::string& source) {
  AwsCredentials c{.access_key_id = flat_json_value(body, "AccessKeyId"),
                   .secret_access_key = flat_json_value(body, "SecretAccessKey"),
                   .session_token = flat_json_value(body, "Token"),
                   .expiration = parse_iso8601(flat_json_value(body, "Expiration"))};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return fail(ErrorKind::kInvalidInput, source + ": no credentials in the answer");
  }
  return c;
}

std::string host_of(const std::string& url) {
  size_t s = url.find("://");
  if (s == std::string::npos) return "";
  std::string rest = url.substr(s + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

Result<HttpResponse> send_ok(HttpTransport& http, HttpRequest req, const std::string& what,
                             std::stop_token stop) {
  Result<HttpResponse> r = http.send(req, stop);
  if (!r) return fail(r.error().kind, what + ": " + r.error().message);
  if (r->status < 200 || r->status > 299) {
    return fail(r->status == 401 || r->status == 403 ? ErrorKind::kUnauthorized : ErrorKind::kUnavailable,
                fmt::format("{}: HTTP {}", what, r->status));
  }
  return r;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> parse_iso8601(std::string_view text) {
  std::string s(trim(text));
  if (s.empty()) return std::nullopt;
  std::tm tm{};
  const char* end = ::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  return std::chrono::system_clock::from_time_t(::timegm(&tm));
}

std::optional<Result<AwsCredentials>> aws_env_credentials(const EnvMap& env) {
  std::string id = env_value(env, "AWS_ACCESS_KEY_ID");
  std::string secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
  if (id.empty() && secret.empty()) return std::nullopt;
  if (id.empty() || secret.empty()) {
    return Result<AwsCredentials>(fail(ErrorKind::kInvalidInput,
                                       "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set"));
  }
  return Result<AwsCredentials>(AwsCredentials{.access_key_id = id, .secret_access_key = secret,
                                               .session_token = env_value(env, "AWS_SESSION_TOKEN"),
                                               .expiration = std::nullopt});
}

std::optional<Result<AwsCredentials>> aws_web_identity_credentials(HttpTransport& http,
                                                                   const EnvMap& env,
                                                                   Clock& clock,
                                                                   std::stop_token stop) {
  std::string token_file = env_value(env, "AWS_WEB_IDENTITY_TOKEN_FILE");
  std::string role = env_value(env, "AWS_ROLE_ARN");
  if (token_file.empty() || role.empty()) return std::nullopt;
  Result<std::string> token = read_text(token_file);
  if (!token) return Result<AwsCredentials>(fail(token.error()));
  std::string endpoint = env_value(env, "AWS_ENDPOINT_URL_STS");
  if (endpoint.empty()) {
    std::string region = env_value(env, "AWS_REGION");
    if (region.empty()) region = env_value(env, "AWS_DEFAULT_REGION");
    endpoint = region.empty() ? "https://sts.amazonaws.com" : fmt::format("https://sts.{}.amazonaws.com", region);
  }
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  std::string session = env_value(env, "AWS_ROLE_SESSION_NAME");
  if (session.empty()) {
    session = fmt::format("gitlab-runner-{}", std::chrono::duration_cast<std::chrono::seconds>(
                                                  clock.now().time_since_epoch()).count());
  }
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint + "/";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/xml"}};
  req.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + url_query_escape(role) +
             "&RoleSessionName=" + url_query_escape(session) +
             "&WebIdentityToken=" + url_query_escape(*token);
  req.timeout = std::chrono::seconds(30);
  Result<HttpResponse> r = send_ok(http, req, "web identity (STS AssumeRoleWithWebIdentity)", stop);
  if (!r) return Result<AwsCredentials>(fail(r.error()));
  AwsCredentials c{.access_key_id = xml_value(r->body, "AccessKeyId"),
                   .secret_access_key = xml_value(r->body, "SecretAccessKey"),
                   .session_token = xml_value(r->body, "SessionToken"),
                   .expiration = parse_iso8601(xml_value(r->body, "Expiration"))};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Result<AwsCredentials>(fail(ErrorKind::kInvalidInput, "web identity: no credentials in the STS answer"));
  }
  return Result<AwsCredentials>(std::move(c));
}

std::optional<Result<AwsCredentials>> aws_container_credentials(HttpTransport& http,
                                                                const EnvMap& env,
                                                                std::stop_token stop) {
  std::string url = env_value(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  std::string relative = env_value(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  if (url.empty() && relative.empty()) return std::nullopt;
  if (!relative.empty()) {
    url = "http://169.254.170.2" + relative;
  } else if (starts_with(url, "http://")) {
    std::string host = host_of(url);
    bool allowed = host == "localhost" || starts_with(host, "127.") || host == "[::1]" ||
                   host == "169.254.170.2" || host == "169.254.170.23" || host == "[fd00:ec2::23]";
    if (!allowed) {
      return Result<AwsCredentials>(fail(ErrorKind::kInvalidInput,
                                         "container credentials: http is only allowed to loopback "
                                         "or the ECS/EKS credential hosts, not " + host));
    }
  }
  HttpRequest req;
  req.method = "GET";
  req.url = url;
  req.timeout = std::chrono::seconds(5);
  std::string token_file = env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  std::string token = env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (!token_file.empty()) {
    Result<std::string> t = read_text(token_file);
    if (!t) return Result<AwsCredentials>(fail(t.error()));
    token = *t;
  }
  if (!token.empty()) req.headers.push_back({"Authorization", token});
  Result<HttpResponse> r = send_ok(http, req, "container credentials", stop);
  if (!r) return Result<AwsCredentials>(fail(r.error()));
  return from_json(r->body, "container credentials");
}

std::optional<Result<AwsCredentials>> aws_imds_credentials(HttpTransport& http, const EnvMap& env,
                                                           std::stop_token stop) {
  if (iequals(env_value(env, "AWS_EC2_METADATA_DISABLED"), "true")) return std::nullopt;
  std::string base = env_value(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (base.empty()) base = "http://169.254.169.254";
  while (!base.empty() && base.back() == '/') base.pop_back();
  HttpRequest put;
  put.method = "PUT";
  put.url = base + "/latest/api/token";
  put.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  put.timeout = std::chrono::seconds(1);
  Result<HttpResponse> token = send_ok(http, put, "EC2 IMDSv2 token", stop);
  if (!token) return Result<AwsCredentials>(fail(token.error()));
  HttpRequest get;
  get.method = "GET";
  get.url = base + "/latest/meta-data/iam/security-credentials/";
  get.headers = {{"X-aws-ec2-metadata-token", std::string(trim(token->body))}};
  get.timeout = std::chrono::seconds(1);
  Result<HttpResponse> role = send_ok(http, get, "EC2 IMDSv2 role", stop);
  if (!role) return Result<AwsCredentials>(fail(role.error()));
  std::string name(trim(split(role->body, '\n').front()));
  if (name.empty()) return Result<AwsCredentials>(fail(ErrorKind::kNotFound, "EC2 IMDSv2: no instance role"));
  get.url += name;
  Result<HttpResponse> creds = send_ok(http, get, "EC2 IMDSv2 credentials", stop);
  if (!creds) return Result<AwsCredentials>(fail(creds.error()));
  std::string code = flat_json_value(creds->body, "Code");
  if (!code.empty() && code != "Success") {
    return Result<AwsCredentials>(fail(ErrorKind::kUnavailable, "EC2 IMDSv2 credentials: " + code));
  }
  return from_json(creds->body, "EC2 IMDSv2 credentials");
}

AwsCredentialChain::AwsCredentialChain(HttpTransport& http, Clock& clock, EnvMap env,
                                       std::optional<AwsCredentials> static_credentials)
    : http_(http), clock_(clock), env_(std::move(env)), static_(std::move(static_credentials)) {}

Result<AwsCredentials> AwsCredentialChain::get(std::stop_token stop) {
  std::lock_guard lock(mu_);
  if (cached_ && (!cached_->expiration || clock_.now() < *cached_->expiration - kRefreshWindow)) {
    return *cached_;
  }
  Result<AwsCredentials> fresh = fetch(stop);
  if (!fresh) return fresh;
  cached_ = *fresh;
  return fresh;
}

Result<AwsCredentials> AwsCredentialChain::fetch(std::stop_token stop) {
  if (static_) return *static_;
  if (auto c = aws_env_credentials(env_)) return *c;
  if (auto c = aws_web_identity_credentials(http_, env_, clock_, stop)) return *c;
  if (auto c = aws_container_credentials(http_, env_, stop)) return *c;
  if (auto c = aws_imds_credentials(http_, env_, stop)) {
    if (*c) return *c;
    return fail(ErrorKind::kUnauthorized, "no AWS credentials found (static keys, environment, web "
                                          "identity, container, EC2 IMDS): " + c->error().message);
  }
  return fail(ErrorKind::kUnauthorized, "no AWS credentials found");
}

}  // namespace glr
