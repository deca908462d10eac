// Classification of GitLab's answers (api spec §2.3, §4.2, §5.2) and wire details.
#include "gitlab/http_gitlab_client.h"

#include <gtest/gtest.h>

#include "support/fake_http_transport.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

RunnerCredentials runner() {
  return RunnerCredentials{.url = "https://gitlab.example.com/ci/", .token = Secret{"glrt-tok"},
                           .system_id = "s_0123456789ab"};
}

HttpResponse json_response(int status, std::string body, std::vector<HttpHeader> extra = {}) {
  extra.push_back({"Content-Type", "application/json; charset=utf-8"});
  return FakeHttpTransport::respond(status, extra, std::move(body));
}

std::string header_of(const HttpRequest& req, const std::string& name) {
  for (const HttpHeader& h : req.headers)
    if (h.name == name) return h.value;
  return "<absent>";
}

TEST(HttpGitLabClient, ApiBaseStripsSlashAndLegacyCi) {
  EXPECT_EQ(*HttpGitLabClient::api_base("https://h"), "https://h/api/v4/");
  EXPECT_EQ(*HttpGitLabClient::api_base("http://h:8080/ci/"), "http://h:8080/api/v4/");
  EXPECT_EQ(*HttpGitLabClient::api_base("HTTPS://h/"), "HTTPS://h/api/v4/");
  // Only one legacy suffix is removed, and only as a whole path segment.
  EXPECT_EQ(*HttpGitLabClient::api_base("https://h/ci/ci"), "https://h/ci/api/v4/");
  EXPECT_EQ(*HttpGitLabClient::api_base("https://h/gitlab-ci"), "https://h/gitlab-ci/api/v4/");
  Result<std::string> bad = HttpGitLabClient::api_base("h.example.com");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "only http or https scheme supported");
  EXPECT_EQ(*HttpGitLabClient::api_base("https://h/gitlab/"), "https://h/gitlab/api/v4/");
  EXPECT_EQ(*HttpGitLabClient::api_base("https://h/ci"), "https://h/api/v4/");
  EXPECT_FALSE(HttpGitLabClient::api_base("ftp://h/"));
}

TEST(HttpGitLabClient, RequestJobSendsTokensAndParsesTheJob) {
  FakeHttpTransport http;
  http.answers.push_back(json_response(201, R"({"id": 77, "token": "glcbt-x"})",
                                       {{"X-GitLab-Last-Update", "lu9"}, {"X-Request-Id", "01HCORR"}}));
  HttpGitLabClient client(http);
  JobRequestResult r = client.request_job(runner(), RunnerInfoPayload{}, "lu8", {});
  ASSERT_TRUE(r.job.has_value());
  EXPECT_EQ(r.job->id, 77);
  EXPECT_EQ(r.last_update, "lu9");
  EXPECT_EQ(r.correlation_id, "01HCORR");
  const HttpRequest& req = http.requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://gitlab.example.com/api/v4/jobs/request");
  auto header = [&](const std::string& n) {
    for (auto& h : req.headers) if (h.name == n) return h.value;
    return std::string();
  };
  EXPECT_EQ(header("RUNNER-TOKEN"), "glrt-tok");
  EXPECT_EQ(header("Content-Type"), "application/json");
  EXPECT_EQ(header("X-Request-Id").size(), 32u);
  EXPECT_EQ(header("User-Agent").rfind("gitlab-runner ", 0), 0u);
  EXPECT_NE(req.body.find("\"last_update\":\"lu8\""), std::string::npos);
}

TEST(HttpGitLabClient, RequestJobClassification) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  http.answers.push_back(FakeHttpTransport::respond(204, {{"X-GitLab-Last-Update", "a"}}));
  JobRequestResult r = client.request_job(runner(), {}, "", {});
  EXPECT_FALSE(r.job);
  EXPECT_FALSE(r.unhealthy);
  EXPECT_EQ(r.last_update, "a");
  http.answers.push_back(FakeHttpTransport::respond(403));
  EXPECT_TRUE(client.request_job(runner(), {}, "", {}).unhealthy);
  // Wrong content type on a 201 is a failure, not a job.
  http.answers.push_back(FakeHttpTransport::respond(201, {{"Content-Type", "text/html"}}, "{}"));
  r = client.request_job(runner(), {}, "", {});
  EXPECT_FALSE(r.job);
  EXPECT_EQ(r.status, -1);
  EXPECT_FALSE(r.unhealthy);
  // Transport errors are -1 and healthy (§2.3).
  http.answers.push_back(fail(ErrorKind::kUnavailable, "refused"));
  r = client.request_job(runner(), {}, "", {});
  EXPECT_EQ(r.status, -1);
  EXPECT_FALSE(r.unhealthy);
  // A bad scheme is a client error: unhealthy, nothing sent.
  size_t sent = http.requests.size();
  RunnerCredentials bad = runner();
  bad.url = "gopher://x/";
  EXPECT_TRUE(client.request_job(bad, {}, "", {}).unhealthy);
  EXPECT_EQ(http.requests.size(), sent);
}

TEST(HttpGitLabClient, RequestJobFailureMessages) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  http.answers.push_back(FakeHttpTransport::respond(503));
  JobRequestResult r = client.request_job(runner(), {}, "", {});
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.unhealthy);
  EXPECT_EQ(r.message, "GitLab instance currently unavailable");
  http.answers.push_back(json_response(422, R"({"message": "Runner is orphaned"})"));
  r = client.request_job(runner(), {}, "", {});
  EXPECT_FALSE(r.unhealthy);
  EXPECT_EQ(r.message, "HTTP 422: Runner is orphaned");
  for (int status : {409, 429, 500}) {
    http.answers.push_back(FakeHttpTransport::respond(status));
    r = client.request_job(runner(), {}, "", {});
    EXPECT_FALSE(r.job);
    EXPECT_FALSE(r.unhealthy) << status;
    EXPECT_EQ(r.status, status);
  }
  // A 201 whose body is not valid JSON is a failure, healthy (§2.3).
  http.answers.push_back(json_response(201, "{"));
  r = client.request_job(runner(), {}, "", {});
  EXPECT_FALSE(r.job);
  EXPECT_FALSE(r.unhealthy);
  EXPECT_EQ(r.status, -1);
  EXPECT_EQ(r.message, "job payload: invalid JSON");
}

TEST(HttpGitLabClient, RequestJobPassesPayloadErrorsAndRetryInfo) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  HttpResponse resp = json_response(
      201, R"({"id": 3, "image": {"name": "x", "executor_opts": {"docker": {"cpus": 2}}}})");
  resp.retriable_seen = true;
  http.answers.push_back(resp);
  JobRequestResult r = client.request_job(runner(), {}, "", {});
  ASSERT_TRUE(r.job);
  EXPECT_TRUE(r.retriable_response_seen);
  EXPECT_EQ(r.payload_errors, std::vector<std::string>{"Unsupported executor_opts key: docker.cpus"});
}

TEST(HttpGitLabClient, EveryRequestGetsAFreshRequestId) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  (void)client.request_job(runner(), {}, "", {});
  (void)client.request_job(runner(), {}, "", {});
  std::string a = header_of(http.requests[0], "X-Request-Id");
  std::string b = header_of(http.requests[1], "X-Request-Id");
  EXPECT_NE(a, b);
  for (const std::string& id : {a, b}) {
    ASSERT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  }
  EXPECT_EQ(header_of(http.requests[0], "Accept"), "application/json");
}

TEST(HttpGitLabClient, UpdateJobHeadersAndBody) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  http.answers.push_back(FakeHttpTransport::respond(200));
  UpdateJobRequest req{.job_id = 9876543210, .job_token = Secret{"glcbt-j"}, .state = "running"};
  EXPECT_EQ(client.update_job(runner(), {}, req, {}).kind, UpdateKind::kSucceeded);
  const HttpRequest& sent = http.requests[0];
  EXPECT_EQ(sent.url, "https://gitlab.example.com/api/v4/jobs/9876543210");
  EXPECT_EQ(header_of(sent, "JOB-TOKEN"), "glcbt-j");
  EXPECT_EQ(header_of(sent, "Content-Type"), "application/json");
  EXPECT_EQ(header_of(sent, "Accept"), "<absent>");  // no body expected (§4.1)
  EXPECT_EQ(header_of(sent, "RUNNER-TOKEN"), "<absent>");
  EXPECT_NE(sent.body.find(R"("output":{})"), std::string::npos);
  EXPECT_NE(sent.body.find(R"("state":"running")"), std::string::npos);
}

TEST(HttpGitLabClient, UpdateJobFailuresCarryAMessage) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  UpdateJobRequest req{.job_id = 5, .job_token = Secret{"jt"}, .state = "failed"};
  http.answers.push_back(json_response(400, R"({"message": {"state": ["is invalid"]}})"));
  UpdateJobResult r = client.update_job(runner(), {}, req, {});
  EXPECT_EQ(r.kind, UpdateKind::kFailed);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.message, "HTTP 400: state: is invalid");
  http.answers.push_back(fail(ErrorKind::kUnavailable, "PUT x: Couldn't connect to server"));
  r = client.update_job(runner(), {}, req, {});
  EXPECT_EQ(r.kind, UpdateKind::kFailed);
  EXPECT_EQ(r.status, -1);
  EXPECT_EQ(r.message, "PUT x: Couldn't connect to server");
  // A client error (bad scheme) aborts without sending anything.
  RunnerCredentials bad = runner();
  bad.url = "file:///x";
  size_t sent = http.requests.size();
  EXPECT_EQ(client.update_job(bad, {}, req, {}).kind, UpdateKind::kAbort);
  EXPECT_EQ(http.requests.size(), sent);
}

TEST(HttpGitLabClient, UpdateJobClassificationFollowsTheTableOrder) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  UpdateJobRequest req{.job_id = 5, .job_token = Secret{"jt"}, .state = "success"};
  struct Case { HttpResponse resp; UpdateKind kind; };
  std::vector<Case> cases = {
      {FakeHttpTransport::respond(200, {{"Job-Status", "canceled"}}), UpdateKind::kAbort},
      // Job-Status is checked before the status code.
      {FakeHttpTransport::respond(202, {{"Job-Status", "canceled"}}), UpdateKind::kAbort},
      {FakeHttpTransport::respond(404, {{"Job-Status", "failed"}}), UpdateKind::kAbort},
      {FakeHttpTransport::respond(403, {{"Job-Status", "running"}}), UpdateKind::kAbort},
      {FakeHttpTransport::respond(200, {{"Job-Status", "failed"}}), UpdateKind::kAbort},
      {FakeHttpTransport::respond(403), UpdateKind::kAbort},
      {FakeHttpTransport::respond(200), UpdateKind::kSucceeded},
      {FakeHttpTransport::respond(202, {{"X-GitLab-Trace-Update-Interval", "4"}}), UpdateKind::kAccepted},
      {FakeHttpTransport::respond(412), UpdateKind::kTraceValidationFailed},
      {FakeHttpTransport::respond(404), UpdateKind::kNotFound},
      {FakeHttpTransport::respond(409), UpdateKind::kFailed},
      {FakeHttpTransport::respond(500), UpdateKind::kFailed},
      {FakeHttpTransport::respond(400), UpdateKind::kFailed},
      {FakeHttpTransport::respond(429), UpdateKind::kFailed},
  };
  for (auto& c : cases) http.answers.push_back(c.resp);
  for (auto& c : cases) EXPECT_EQ(client.update_job(runner(), {}, req, {}).kind, c.kind);
  EXPECT_EQ(http.requests[0].url, "https://gitlab.example.com/api/v4/jobs/5");
  EXPECT_EQ(http.requests[0].method, "PUT");
  http.answers.push_back(FakeHttpTransport::respond(200, {{"Job-Status", "canceling"}}));
  UpdateJobResult r = client.update_job(runner(), {}, req, {});
  EXPECT_EQ(r.kind, UpdateKind::kSucceeded);
  EXPECT_TRUE(r.cancel_requested);
  http.answers.push_back(FakeHttpTransport::respond(202, {{"X-GitLab-Trace-Update-Interval", "99999"}}));
  EXPECT_EQ(client.update_job(runner(), {}, req, {}).update_interval, std::chrono::seconds(900));
  http.answers.push_back(FakeHttpTransport::respond(202, {{"X-GitLab-Trace-Update-Interval", "7"}}));
  EXPECT_EQ(client.update_job(runner(), {}, req, {}).update_interval, std::chrono::seconds(7));
  for (const char* junk : {"0", "-3", "soon", ""}) {
    http.answers.push_back(FakeHttpTransport::respond(202, {{"X-GitLab-Trace-Update-Interval", junk}}));
    EXPECT_EQ(client.update_job(runner(), {}, req, {}).update_interval, std::chrono::seconds(0)) << junk;
  }
}

TEST(HttpGitLabClient, PatchTraceHeadersAndExactBody) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  http.answers.push_back(FakeHttpTransport::respond(202, {{"X-GitLab-Trace-Update-Interval", "60"}}));
  PatchTraceResult r = client.patch_trace(runner(), 9876543210, Secret{"glcbt-j"},
                                          std::string_view("a\0b\r\n", 5), 0, false, {});
  EXPECT_EQ(r.kind, PatchKind::kSucceeded);
  EXPECT_EQ(r.new_offset, 5);
  EXPECT_EQ(r.update_interval, std::chrono::seconds(60));
  const HttpRequest& sent = http.requests[0];
  EXPECT_EQ(sent.method, "PATCH");
  EXPECT_EQ(sent.url, "https://gitlab.example.com/api/v4/jobs/9876543210/trace?debug_trace=false");
  EXPECT_EQ(header_of(sent, "Content-Range"), "0-4");
  EXPECT_EQ(header_of(sent, "Content-Type"), "text/plain");
  EXPECT_EQ(header_of(sent, "JOB-TOKEN"), "glcbt-j");
  EXPECT_EQ(sent.body, std::string("a\0b\r\n", 5));
}

TEST(HttpGitLabClient, EmptyPatchIsNeverSent) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  PatchTraceResult r = client.patch_trace(runner(), 9, Secret{"jt"}, "", 1024, false, {});
  EXPECT_EQ(r.kind, PatchKind::kSucceeded);
  EXPECT_EQ(r.new_offset, 1024);
  EXPECT_TRUE(http.requests.empty());
}

TEST(HttpGitLabClient, PatchTraceFailuresAndRangeEdgeCases) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  auto patch = [&](HttpResponse resp) {
    http.answers.push_back(std::move(resp));
    return client.patch_trace(runner(), 9, Secret{"jt"}, "xyz", 100, false, {});
  };
  EXPECT_EQ(patch(FakeHttpTransport::respond(416, {{"Range", "0-abc"}})).new_offset, 0);
  EXPECT_EQ(patch(FakeHttpTransport::respond(416, {{"Range", "bytes 0-77"}})).new_offset, 77);
  EXPECT_EQ(patch(FakeHttpTransport::respond(400)).kind, PatchKind::kFailed);
  EXPECT_EQ(patch(FakeHttpTransport::respond(429)).kind, PatchKind::kFailed);
  EXPECT_EQ(patch(FakeHttpTransport::respond(503)).kind, PatchKind::kFailed);
  EXPECT_EQ(patch(FakeHttpTransport::respond(202, {{"Job-Status", "failed"}})).kind, PatchKind::kAbort);
  http.answers.push_back(fail(ErrorKind::kTimeout, "timeout"));
  PatchTraceResult r = client.patch_trace(runner(), 9, Secret{"jt"}, "xyz", 100, false, {});
  EXPECT_EQ(r.kind, PatchKind::kFailed);
  EXPECT_EQ(r.status, -1);
}

TEST(HttpGitLabClient, PatchTraceWireFormatAndClassification) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  http.answers.push_back(FakeHttpTransport::respond(202, {{"Range", "0-1034"}, {"Job-Status", "running"}}));
  PatchTraceResult r = client.patch_trace(runner(), 9, Secret{"jt"}, "0123456789", 1024, false, {});
  EXPECT_EQ(r.kind, PatchKind::kSucceeded);
  EXPECT_EQ(r.new_offset, 1034);
  const HttpRequest& req = http.requests[0];
  EXPECT_EQ(req.url, "https://gitlab.example.com/api/v4/jobs/9/trace?debug_trace=false");
  bool saw_range = false;
  for (auto& h : req.headers) {
    if (h.name == "Content-Range") {
      EXPECT_EQ(h.value, "1024-1033");
      saw_range = true;
    }
  }
  EXPECT_TRUE(saw_range);

  http.answers.push_back(FakeHttpTransport::respond(416, {{"Range", "0-512"}}));
  r = client.patch_trace(runner(), 9, Secret{"jt"}, "x", 1024, true, {});
  EXPECT_EQ(r.kind, PatchKind::kRangeMismatch);
  EXPECT_EQ(r.new_offset, 512);
  EXPECT_NE(http.requests[1].url.find("debug_trace=true"), std::string::npos);
  http.answers.push_back(FakeHttpTransport::respond(416));
  EXPECT_EQ(client.patch_trace(runner(), 9, Secret{"jt"}, "x", 1024, false, {}).new_offset, 0);
  http.answers.push_back(FakeHttpTransport::respond(403));
  EXPECT_EQ(client.patch_trace(runner(), 9, Secret{"jt"}, "x", 0, false, {}).kind, PatchKind::kAbort);
  http.answers.push_back(FakeHttpTransport::respond(404));
  EXPECT_EQ(client.patch_trace(runner(), 9, Secret{"jt"}, "x", 0, false, {}).kind, PatchKind::kNotFound);
  http.answers.push_back(FakeHttpTransport::respond(202, {{"Job-Status", "canceled"}}));
  EXPECT_EQ(client.patch_trace(runner(), 9, Secret{"jt"}, "x", 0, false, {}).kind, PatchKind::kAbort);
  http.answers.push_back(FakeHttpTransport::respond(202, {{"Job-Status", "canceling"}}));
  r = client.patch_trace(runner(), 9, Secret{"jt"}, "x", 0, false, {});
  EXPECT_EQ(r.kind, PatchKind::kSucceeded);
  EXPECT_TRUE(r.cancel_requested);
}

}  // namespace
}  // namespace glr
