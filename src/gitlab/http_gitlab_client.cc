// Runner API calls and the classification tables of api spec §2.3, §4.2, §5.2.
#include "gitlab/http_gitlab_client.h"

#include <algorithm>
#include <random>

#include "gitlab/job_json.h"
#include "util/strings.h"
#include "util/version.h"

namespace glr {

using namespace std::chrono_literals;

namespace {

constexpr std::chrono::seconds kMaxUpdateInterval{15 * 60};

std::string request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string out(32, '0');
  for (char& c : out) c = hex[rng() & 0xf];
  return out;
}

bool is_json(const HttpResponse& r) {
  std::string type = to_lower(r.header("Content-Type"));
  size_t semi = type.find(';');
  if (semi != std::string::npos) type = type.substr(0, semi);
  return trim(type) == "application/json";
}

std::chrono::seconds update_interval(const HttpResponse& r) {
  auto v = parse_int(trim(r.header("X-GitLab-Trace-Update-Interval")));
  if (!v || *v <= 0) return 0s;
  return std::min<std::chrono::seconds>(std::chrono::seconds(*v), kMaxUpdateInterval);
}

// "HTTP 409: <server message>" for the runner log (never the request, which carries tokens).
std::string describe(const HttpResponse& r) {
  std::string m = "HTTP " + std::to_string(r.status);
  std::string server = is_json(r) ? api_error_message(r.body) : std::string();
  if (!server.empty()) m += ": " + server;
  return m;
}

}  // namespace

HttpGitLabClient::HttpGitLabClient(HttpTransport& transport) : transport_(transport) {}

Result<std::string> HttpGitLabClient::api_base(const std::string& url) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.ends_with("/ci")) base.resize(base.size() - 3);
  std::string lower = to_lower(base);
  if (!lower.starts_with("http://") && !lower.starts_with("https://"))
    return fail(ErrorKind::kInvalidInput, "only http or https scheme supported");
  return base + "/api/v4/";
}

HttpRequest HttpGitLabClient::make_request(const RunnerCredentials& runner, std::string method,
                                           std::string url) const {
  HttpRequest req;
  req.method = std::move(method);
  req.url = std::move(url);
  req.headers.push_back({"User-Agent", user_agent()});
  req.headers.push_back({"X-Request-Id", request_id()});
  req.ca_file = runner.tls_ca_file;
  req.cert_file = runner.tls_cert_file;
  req.key_file = runner.tls_key_file;
  return req;
}

JobRequestResult HttpGitLabClient::request_job(const RunnerCredentials& runner,
                                               const RunnerInfoPayload& info,
                                               const std::string& last_update,
                                               std::stop_token stop) {
  JobRequestResult result;
  Result<std::string> base = api_base(runner.url);
  if (!base) {
    result.status = -1;
    result.unhealthy = true;  // a client error counts toward the unhealthy limit
    result.message = base.error().message;
    return result;
  }
  HttpRequest req = make_request(runner, "POST", *base + "jobs/request");
  req.headers.push_back({"Content-Type", "application/json"});
  req.headers.push_back({"Accept", "application/json"});
  req.headers.push_back({"RUNNER-TOKEN", runner.token.value});
  req.body = job_request_body(runner, info, last_update);
  Result<HttpResponse> resp = transport_.send(req, stop);
  if (!resp) {
    // Transport errors are status -1 and do not make the runner unhealthy (§2.3).
    result.status = -1;
    result.message = resp.error().message;
    return result;
  }
  result.status = resp->status;
  result.retriable_response_seen = resp->retriable_seen;
  result.last_update = resp->header("X-GitLab-Last-Update");
  result.correlation_id = resp->header("X-Request-Id");
  switch (resp->status) {
    case 201: {
      if (!is_json(*resp)) {
        result.status = -1;
        result.message = "job request: response is not application/json";
        return result;
      }
      Result<ParsedJob> parsed = parse_job_payload(resp->body);
      if (!parsed) {
        result.status = -1;
        result.message = parsed.error().message;
        return result;
      }
      result.job = std::move(parsed->job);
      result.payload_errors = std::move(parsed->payload_errors);
      return result;
    }
    case 204:
      return result;
    case 403:
      result.unhealthy = true;
      result.message = "forbidden";
      return result;
    case 503:
      // Still 503 after the generic retries: healthy, only a warning (§2.3).
      result.message = "GitLab instance currently unavailable";
      return result;
    default:
      // 409, 422, 429/5xx after retries, ...: a plain failure, still healthy.
      result.message = describe(*resp);
      return result;
  }
}

UpdateJobResult HttpGitLabClient::update_job(const RunnerCredentials& runner,
                                             const RunnerInfoPayload& info,
                                             const UpdateJobRequest& request,
                                             std::stop_token stop) {
  UpdateJobResult result;
  Result<std::string> base = api_base(runner.url);
  if (!base) {
    result.kind = UpdateKind::kAbort;  // client error: abort (§4.2)
    result.status = -1;
    result.message = base.error().message;
    return result;
  }
  HttpRequest req = make_request(runner, "PUT", *base + "jobs/" + std::to_string(request.job_id));
  req.headers.push_back({"Content-Type", "application/json"});
  req.headers.push_back({"JOB-TOKEN", request.job_token.value});
  req.body = update_job_body(info, request);
  Result<HttpResponse> resp = transport_.send(req, stop);
  if (!resp) {
    result.kind = UpdateKind::kFailed;
    result.status = -1;
    result.message = resp.error().message;
    return result;
  }
  result.status = resp->status;
  result.job_status = resp->header("Job-Status");
  result.update_interval = update_interval(*resp);
  result.cancel_requested = result.job_status == "canceling";
  // Evaluated in the order of the §4.2 table.
  if (result.job_status == "canceled" || result.job_status == "failed" || resp->status == 403) {
    result.kind = UpdateKind::kAbort;
  } else if (resp->status == 200) {
    result.kind = UpdateKind::kSucceeded;
  } else if (resp->status == 202) {
    result.kind = UpdateKind::kAccepted;
  } else if (resp->status == 412) {
    result.kind = UpdateKind::kTraceValidationFailed;
  } else if (resp->status == 404) {
    result.kind = UpdateKind::kNotFound;
  } else {
    result.kind = UpdateKind::kFailed;
  }
  if (result.kind != UpdateKind::kSucceeded) result.message = describe(*resp);
  return result;
}

PatchTraceResult HttpGitLabClient::patch_trace(const RunnerCredentials& runner, int64_t job_id,
                                               const Secret& job_token, std::string_view content,
                                               int64_t start_offset, bool debug_trace,
                                               std::stop_token stop) {
  PatchTraceResult result;
  if (content.empty()) {
    // Empty patches are never sent (§5.1); nothing to acknowledge either.
    result.kind = PatchKind::kSucceeded;
    result.new_offset = start_offset;
    return result;
  }
  Result<std::string> base = api_base(runner.url);
  if (!base) {
    result.kind = PatchKind::kAbort;
    result.status = -1;
    result.message = base.error().message;
    return result;
  }
  HttpRequest req = make_request(runner, "PATCH",
                                 *base + "jobs/" + std::to_string(job_id) + "/trace?debug_trace=" +
                                     (debug_trace ? "true" : "false"));
  req.headers.push_back({"Content-Type", "text/plain"});
  req.headers.push_back({"JOB-TOKEN", job_token.value});
  int64_t end = start_offset + static_cast<int64_t>(content.size()) - 1;
  // Inclusive end, no "bytes " prefix (§5.1).
  req.headers.push_back({"Content-Range", std::to_string(start_offset) + "-" + std::to_string(end)});
  req.body = std::string(content);
  Result<HttpResponse> resp = transport_.send(req, stop);
  if (!resp) {
    result.kind = PatchKind::kFailed;
    result.status = -1;
    result.message = resp.error().message;
    return result;
  }
  result.status = resp->status;
  result.job_status = resp->header("Job-Status");
  result.update_interval = update_interval(*resp);
  result.cancel_requested = result.job_status == "canceling";
  if (result.job_status == "canceled" || result.job_status == "failed") {
    result.kind = PatchKind::kAbort;
    result.message = "job " + result.job_status;
    return result;
  }
  switch (resp->status) {
    case 202:
      result.kind = PatchKind::kSucceeded;
      result.new_offset = start_offset + static_cast<int64_t>(content.size());
      break;
    case 416: {
      // The server's size is the number after the dash, an exclusive end.
      result.kind = PatchKind::kRangeMismatch;
      std::string range = resp->header("Range");
      size_t dash = range.find('-');
      std::optional<long long> size =
          dash == std::string::npos ? std::nullopt : parse_int(trim(range.substr(dash + 1)));
      result.new_offset = size && *size >= 0 ? *size : 0;
      break;
    }
    case 403:
      result.kind = PatchKind::kAbort;
      break;
    case 404:
      result.kind = PatchKind::kNotFound;
      break;
    default:
      result.kind = PatchKind::kFailed;
      break;
  }
  if (result.kind != PatchKind::kSucceeded) result.message = describe(*resp);
  return result;
}

}  // namespace glr
