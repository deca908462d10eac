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

TEST(HttpGitLabClient, ApiBaseStripsSlashAndLegacyCi) {
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

TEST(HttpGitLabClient, UpdateJobClassificationFollowsTheTableOrder) {
  FakeHttpTransport http;
  HttpGitLabClient client(http);
  UpdateJobRequest req{.job_id = 5, .job_token = Secret{"jt"}, .state = "success"};
  struct Case { HttpResponse resp; UpdateKind kind; };
  std::vector<Case> cases = {
      {FakeHttpTransport::respond(200, {{"Job-Status", "canceled"}}), UpdateKind::kAbort},
      {FakeHttpTransport::respond(200, {{"Job-Status", "failed"}}), UpdateKind::kAbort},
      {FakeHttpTransport::respond(403), UpdateKind::kAbort},
      {FakeHttpTransport::respond(200), UpdateKind::kSucceeded},
      {FakeHttpTransport::respond(202, {{"X-GitLab-Trace-Update-Interval", "4"}}), UpdateKind::kAccepted},
      {FakeHttpTransport::respond(412), UpdateKind::kTraceValidationFailed},
      {FakeHttpTransport::respond(404), UpdateKind::kNotFound},
      {FakeHttpTransport::respond(409), UpdateKind::kFailed},
      {FakeHttpTransport::respond(500), UpdateKind::kFailed},
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
