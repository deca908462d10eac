// Artifact upload/download over HttpTransport. The archive is built to a staging file first and
// sent from memory: HttpTransport carries whole bodies (see the report on streaming).
#include "artifacts/artifact_transfer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fmt/format.h>
#include <fstream>
#include <random>

#include "util/short_token.h"
#include "util/strings.h"
#include "util/version.h"

namespace glr {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

std::string base_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// scheme://host[:port] of a URL, or "" when it has none.
std::string origin_of(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t path = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, path);
}

std::string resolve_location(const std::string& current, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (starts_with(location, "//")) return current.substr(0, current.find("://") + 1) + location;
  if (starts_with(location, "/")) return origin_of(current) + location;
  std::string dir = current.substr(0, current.find('?'));
  return dir.substr(0, dir.rfind('/') + 1) + location;
}

std::string random_hex(size_t bytes) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  for (size_t i = 0; i < bytes; ++i) out += fmt::format("{:02x}", static_cast<unsigned>(rng() & 0xff));
  return out;
}

std::string status_text(int status) {
  switch (status) {
    case 200: return "200 OK";
    case 201: return "201 Created";
    case 302: return "302 Found";
    case 307: return "307 Temporary Redirect";
    case 400: return "400 Bad Request";
    case 401: return "401 Unauthorized";
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 405: return "405 Method Not Allowed";
    case 413: return "413 Request Entity Too Large";
    case 500: return "500 Internal Server Error";
    case 502: return "502 Bad Gateway";
    case 503: return "503 Service Unavailable";
    default: return std::to_string(status);
  }
}

// getMessageFromJSONResponse: the JSON "message" of an error answer, else the status line.
std::string response_message(const HttpResponse& r) {
  if (r.status >= 200 && r.status <= 299) return status_text(r.status);
  if (starts_with(to_lower(r.header("Content-Type")), "application/json")) {
    size_t k = r.body.find("\"message\"");
    if (k != std::string::npos) {
      size_t colon = r.body.find(':', k);
      size_t q1 = r.body.find('"', colon);
      size_t q2 = q1 == std::string::npos ? q1 : r.body.find('"', q1 + 1);
      if (q2 != std::string::npos) return r.body.substr(q1 + 1, q2 - q1 - 1);
    }
  }
  return status_text(r.status);
}

enum class Outcome { kDone, kRetry, kRetryUnavailable, kFatal };

}  // namespace

std::string url_query_escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string artifact_upload_path(int64_t id, const ArtifactUpload& upload) {
  std::vector<std::string> q;
  if (!upload.artifact_format.empty()) q.push_back("artifact_format=" + url_query_escape(upload.artifact_format));
  if (!upload.artifact_type.empty()) q.push_back("artifact_type=" + url_query_escape(upload.artifact_type));
  if (!upload.expire_in.empty()) q.push_back("expire_in=" + url_query_escape(upload.expire_in));
  return fmt::format("jobs/{}/artifacts?{}", id, join(q, "&"));
}

Result<> upload_artifact(HttpTransport& http, Clock& clock, JobCredentials credentials,
                         const ArtifactUpload& upload, const fs::path& file, HelperLog& log,
                         std::stop_token stop) {
  Result<ArtifactFormat> format = parse_artifact_format(upload.artifact_format);
  if (!format) return fail(format.error());
  std::error_code size_ec;
  static_cast<void>(fs::file_size(file, size_ec));  // a missing archive fails before any request
  if (size_ec) return fail(ErrorKind::kIo, "stat " + file.string() + ": " + size_ec.message());
  const std::string boundary = random_hex(30);
  // The archive is streamed from its file inside the multipart envelope, on every attempt: no
  // copy of it is held in memory.
  HttpRequest req;
  req.method = "POST";
  req.body += "--" + boundary + "\r\n";
  req.body += "Content-Disposition: form-data; name=\"file\"; filename=\"" +
              artifact_file_name(upload.name, *format) + "\"\r\n";
  req.body += "Content-Type: application/octet-stream\r\n\r\n";
  req.body_file = file.string();
  req.body_suffix = "\r\n--" + boundary + "--\r\n";
  req.timeout = upload.timeout;

  const std::string prefix =
      upload.artifact_type.empty()
          ? std::string("Uploading artifacts to coordinator...")
          : fmt::format("Uploading artifacts as \"{}\" to coordinator...", upload.artifact_type);
  std::chrono::nanoseconds backoff = seconds(1);
  for (int tries = 1;; ++tries) {
    req.url = base_url(credentials.url) + "/api/v4/" + artifact_upload_path(credentials.id, upload);
    const std::string request_id = random_hex(13);
    req.headers = {{"JOB-TOKEN", credentials.token},
                   {"Content-Type", "multipart/form-data; boundary=" + boundary},
                   {"User-Agent", std::string("gitlab-runner ") + compat_version()},
                   {"X-Request-Id", request_id}};
    req.ca_file = credentials.tls_ca_file;
    req.cert_file = credentials.tls_cert_file;
    req.key_file = credentials.tls_key_file;
    Result<HttpResponse> resp = http.send(req, stop);
    std::vector<HelperField> fields = {{"id", std::to_string(credentials.id)},
                                       {"token", short_token(credentials.token)}};
    Outcome outcome;
    std::string error;
    if (!resp) {
      if (resp.error().kind == ErrorKind::kCanceled) return fail(resp.error());
      fields.push_back({"correlation_id", request_id});
      fields.push_back({"error", resp.error().message});
      log.error(prefix + " error", fields);
      outcome = Outcome::kRetry;
      error = resp.error().message;
    } else {
      std::string correlation = resp->header("X-Request-Id");
      fields.push_back({"correlation_id", correlation.empty() ? request_id : correlation});
      fields.push_back({"status_code", std::to_string(resp->status)});
      std::string message = prefix + " " + response_message(*resp);
      switch (resp->status) {
        case 201:
          log.info(message, fields);
          return {};
        case 307: {
          std::string location = resp->header("Location");
          if (location.empty()) {
            log.error(message + " empty location", fields);
            outcome = Outcome::kRetry;
            error = "upload failed: empty location";
            break;
          }
          credentials.url = origin_of(resolve_location(req.url, location));
          log.info("Upload request redirected",
                   {{"location", location}, {"new-url", credentials.url}});
          outcome = Outcome::kRetry;
          error = "request redirected";
          break;
        }
        case 403:
          log.error(message, fields);
          return fail(ErrorKind::kUnauthorized, "permission denied");
        case 413:
          log.error(message, fields);
          return fail(ErrorKind::kInvalidInput, "too large");
        case 503:
          log.error(message, fields);
          outcome = Outcome::kRetryUnavailable;
          error = "service unavailable";
          break;
        default:
          log.warning(message, fields);
          outcome = Outcome::kRetry;
          error = "upload failed: " + status_text(resp->status);
          break;
      }
    }
    int max_tries = outcome == Outcome::kRetryUnavailable ? 6 : 3;
    if (tries >= max_tries) return fail(ErrorKind::kUnavailable, error);
    log.warning(fmt::format("Retrying..."), {{"error", error}});
    if (!clock.sleep_for(backoff, stop)) return fail(ErrorKind::kCanceled, "canceled");
    backoff = std::min<std::chrono::nanoseconds>(backoff * 2, seconds(5));
  }
}

namespace {

struct Fetched {
  HttpResponse response{};
  std::string final_url{};
};

// GET following up to 10 redirects; `headers` are dropped when the host changes.
Result<Fetched> get_following(HttpTransport& http, std::string url,
                              const std::vector<HttpHeader>& headers,
                              std::chrono::milliseconds timeout, std::stop_token stop,
                              const JobCredentials* tls = nullptr) {
  const std::string first_origin = origin_of(url);
  for (int hop = 0; hop <= 10; ++hop) {
    HttpRequest req;
    req.method = "GET";
    req.url = url;
    if (origin_of(url) == first_origin) req.headers = headers;
    req.timeout = timeout;
    if (tls != nullptr) {
      req.ca_file = tls->tls_ca_file;
      req.cert_file = tls->tls_cert_file;
      req.key_file = tls->tls_key_file;
    }
    Result<HttpResponse> resp = http.send(req, stop);
    if (!resp) return fail(resp.error());
    int s = resp->status;
    if ((s == 301 || s == 302 || s == 303 || s == 307 || s == 308) &&
        !resp->header("Location").empty()) {
      url = resolve_location(url, resp->header("Location"));
      continue;
    }
    return Fetched{std::move(*resp), url};
  }
  return fail(ErrorKind::kUnavailable, "stopped after 10 redirects");
}

Result<> write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return fail(ErrorKind::kIo, "write " + p.string());
  return {};
}

}  // namespace

Result<> download_artifacts(HttpTransport& http, Clock& clock, const JobCredentials& credentials,
                            const ArtifactDownload& options, const fs::path& dest, HelperLog& log,
                            std::stop_token stop) {
  fs::path staging = options.staging_dir;
  if (staging.empty()) staging = fs::temp_directory_path();
  std::error_code ec;
  fs::create_directories(staging, ec);
  fs::path tmp = staging / ("artifacts-" + random_hex(8) + ".zip");
  struct Remove {
    fs::path p;
    ~Remove() {
      std::error_code e;
      fs::remove(p, e);
    }
  } cleanup{tmp};

  const std::string prefix = "Downloading artifacts from coordinator...";
  for (int attempt = 1;; ++attempt) {
    std::string url = fmt::format("{}/api/v4/jobs/{}/artifacts", base_url(credentials.url),
                                  credentials.id);
    if (attempt == 1 && options.direct_download) url += "?direct_download=true";
    const std::string request_id = random_hex(13);
    Result<Fetched> got = get_following(
        http, url,
        {{"JOB-TOKEN", credentials.token},
         {"User-Agent", std::string("gitlab-runner ") + compat_version()},
         {"X-Request-Id", request_id}},
        options.timeout, stop, &credentials);
    std::vector<HelperField> fields = {{"id", std::to_string(credentials.id)},
                                       {"token", short_token(credentials.token)},
                                       {"correlation_id", request_id}};
    std::string error;
    if (!got) {
      if (got.error().kind == ErrorKind::kCanceled) return fail(got.error());
      fields.push_back({"error", got.error().message});
      log.error(prefix + " error", fields);
      error = got.error().message;
    } else {
      const HttpResponse& r = got->response;
      fields.push_back({"status_code", std::to_string(r.status)});
      if (origin_of(got->final_url) != origin_of(url)) {
        log.info("Direct download from " + origin_of(got->final_url).substr(
                                               origin_of(got->final_url).find("://") + 3));
      }
      if (r.status == 200) {
        if (Result<> w = write_bytes(tmp, r.body); !w) return w;
        log.info(prefix + " ok", fields);
        return extract_archive(tmp, dest, log);
      }
      if (r.status == 404) {
        log.error(prefix + " not found", fields);
        return fail(ErrorKind::kNotFound, "file does not exist");
      }
      if (r.status == 401 || r.status == 403) {
        log.error(prefix + " forbidden", fields);
        return fail(ErrorKind::kUnauthorized, "permission denied");
      }
      log.warning(prefix + " failed", fields);
      error = "invalid argument";
      if (r.status >= 500) error = "service unavailable: " + status_text(r.status);
    }
    if (attempt >= 3) return fail(ErrorKind::kUnavailable, error);
    log.warning("Retrying...", {{"error", error}});
    if (!clock.sleep_for(seconds(1), stop)) return fail(ErrorKind::kCanceled, "canceled");
  }
}

Result<PlainResponse> http_get_to_file(HttpTransport& http, const std::string& url,
                                       const fs::path& out, std::chrono::milliseconds timeout,
                                       std::stop_token stop) {
  Result<Fetched> got = get_following(http, url, {}, timeout, stop);
  if (!got) return fail(got.error());
  PlainResponse r{.status = got->response.status,
                  .last_modified = got->response.header("Last-Modified")};
  if (r.status >= 200 && r.status <= 299) {
    if (Result<> w = write_bytes(out, got->response.body); !w) return fail(w.error());
  }
  return r;
}

}  // namespace glr
