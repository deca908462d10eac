// RegistrationClient against canned answers: the exact request of every lifecycle
// endpoint (api spec §1.2-§1.6, headers §0.2) and how GitLab's answers become errors.
#include "gitlab/registration_client.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fake_http_transport.h"

namespace glr {
namespace {

using json = nlohmann::json;

constexpr const char* kUrl = "https://gitlab.example.com/ci/";

HttpResponse created(const std::string& body) {
  return FakeHttpTransport::respond(201, {{"Content-Type", "application/json"}}, body);
}

std::string header(const HttpRequest& r, const std::string& name) {
  for (const HttpHeader& h : r.headers)
    if (h.name == name) return h.value;
  return "<absent>";
}

TEST(RegistrationClient, LegacyRegisterSendsTokenTwiceAndCommaSeparatedTags) {
  FakeHttpTransport http;
  http.answers.push_back(created(R"({"id":4211,"token":"t1_abc","token_expires_at":null})"));
  RegistrationClient client(http);
  RunnerAttributes a{.description = "build-01", .tag_list = "a,b", .run_untagged = false,
                     .locked = true, .maximum_timeout = 600};
  RunnerInfoPayload info;
  info.executor = "shell";
  Result<RunnerTokenInfo> r = client.register_runner(kUrl, Secret{"GR1348941reg"}, a, info);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->id, 4211);
  EXPECT_EQ(r->token.value, "t1_abc");
  EXPECT_EQ(r->token_expires_at, "");
  ASSERT_EQ(http.requests.size(), 1u);
  const HttpRequest& req = http.requests[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "https://gitlab.example.com/api/v4/runners");  // "/ci" stripped (§0.1)
  EXPECT_EQ(header(req, "RUNNER-TOKEN"), "GR1348941reg");
  EXPECT_EQ(header(req, "Content-Type"), "application/json");
  EXPECT_EQ(header(req, "Accept"), "application/json");
  EXPECT_EQ(header(req, "X-Request-Id").size(), 32u);
  EXPECT_EQ(header(req, "X-Request-Id")[12], '4');
  EXPECT_TRUE(header(req, "User-Agent").starts_with("gitlab-runner "));
  json body = json::parse(req.body);
  EXPECT_EQ(body["token"], "GR1348941reg");
  EXPECT_EQ(body["description"], "build-01");
  EXPECT_EQ(body["tag_list"], "a,b");
  EXPECT_EQ(body["run_untagged"], false);
  EXPECT_EQ(body["locked"], true);
  EXPECT_EQ(body["paused"], false);  // always sent
  EXPECT_EQ(body["maximum_timeout"], 600);
  EXPECT_FALSE(body.contains("maintenance_note"));  // omitempty
  EXPECT_FALSE(body.contains("access_level"));
  EXPECT_EQ(body["info"]["name"], "gitlab-runner");
}

TEST(RegistrationClient, CreateRunnerWithPatUsesPrivateTokenOnly) {
  FakeHttpTransport http;
  http.answers.push_back(created(
      R"({"id":7,"token":"glrt-t3_new","token_expires_at":"2026-12-01T00:00:00.000Z"})"));
  RegistrationClient client(http);
  CreateRunnerRequest req{.runner_type = "project_type", .project_id = 42,
                          .attributes = {.description = "made", .tag_list = "x"}};
  Result<RunnerTokenInfo> r = client.create_runner(kUrl, Secret{"glpat-abc"}, req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->token.value, "glrt-t3_new");
  EXPECT_EQ(r->token_expires_at, "2026-12-01T00:00:00.000Z");
  const HttpRequest& sent = http.requests.at(0);
  EXPECT_EQ(sent.url, "https://gitlab.example.com/api/v4/user/runners");
  EXPECT_EQ(header(sent, "PRIVATE-TOKEN"), "glpat-abc");
  EXPECT_EQ(header(sent, "RUNNER-TOKEN"), "<absent>");
  json body = json::parse(sent.body);
  EXPECT_EQ(body["runner_type"], "project_type");
  EXPECT_EQ(body["project_id"], 42);
  EXPECT_FALSE(body.contains("group_id"));
  EXPECT_FALSE(body.contains("token"));
}

TEST(RegistrationClient, VerifySendsSystemIdAndAcceptsPlainTextFromOldServers) {
  FakeHttpTransport http;
  http.answers.push_back(FakeHttpTransport::respond(200, {}, R"({"id":9,"token":"glrt-x"})"));
  http.answers.push_back(FakeHttpTransport::respond(200, {}, "200"));
  RegistrationClient client(http);
  Result<RunnerTokenInfo> r = client.verify_runner(kUrl, Secret{"glrt-x"}, "s_0123456789ab", {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->id, 9);
  json body = json::parse(http.requests[0].body);
  EXPECT_EQ(body["system_id"], "s_0123456789ab");
  EXPECT_EQ(body["token"], "glrt-x");
  EXPECT_TRUE(body["info"].contains("features"));
  EXPECT_EQ(http.requests[0].url, "https://gitlab.example.com/api/v4/runners/verify");
  Result<RunnerTokenInfo> old = client.verify_runner(kUrl, Secret{"legacy"}, "s_0123456789ab", {});
  ASSERT_TRUE(old);
  EXPECT_EQ(old->token.value, "legacy");
}

TEST(RegistrationClient, AnswersBecomeErrorKindsWithTheServerMessage) {
  struct Case {
    int status;
    ErrorKind kind;
  };
  for (Case c : {Case{401, ErrorKind::kUnauthorized}, Case{403, ErrorKind::kUnauthorized},
                 Case{404, ErrorKind::kNotFound}, Case{410, ErrorKind::kNotFound},
                 Case{422, ErrorKind::kConflict}, Case{400, ErrorKind::kInvalidInput},
                 Case{500, ErrorKind::kUnavailable}}) {
    FakeHttpTransport http;
    http.answers.push_back(
        FakeHttpTransport::respond(c.status, {}, R"({"message":{"tags":["is invalid"]}})"));
    RegistrationClient client(http);
    Result<RunnerTokenInfo> r = client.verify_runner(kUrl, Secret{"glrt-x"}, "s_x", {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, c.kind) << c.status;
    EXPECT_NE(r.error().message.find("HTTP " + std::to_string(c.status)), std::string::npos);
    EXPECT_NE(r.error().message.find("tags: \"is invalid\""), std::string::npos)
        << r.error().message;
    EXPECT_EQ(r.error().message.find("glrt-x"), std::string::npos);  // no token in errors
  }
  FakeHttpTransport down;
  down.answers.push_back(fail(ErrorKind::kUnavailable, "connection refused"));
  RegistrationClient client(down);
  Result<> r = client.unregister_runner(kUrl, Secret{"t1_x"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
}

TEST(RegistrationClient, UnregisterPicksTheEndpointAndExpects204) {
  FakeHttpTransport http;
  http.answers.push_back(FakeHttpTransport::respond(204));
  http.answers.push_back(FakeHttpTransport::respond(204));
  http.answers.push_back(FakeHttpTransport::respond(200));  // not 204: an error
  RegistrationClient client(http);
  EXPECT_TRUE(client.unregister_runner(kUrl, Secret{"t1_x"}));
  EXPECT_TRUE(client.unregister_manager(kUrl, Secret{"glrt-y"}, "s_0123456789ab"));
  EXPECT_FALSE(client.unregister_runner(kUrl, Secret{"t1_x"}));
  EXPECT_EQ(http.requests[0].method, "DELETE");
  EXPECT_EQ(http.requests[0].url, "https://gitlab.example.com/api/v4/runners");
  EXPECT_EQ(json::parse(http.requests[0].body), (json{{"token", "t1_x"}}));
  EXPECT_EQ(http.requests[1].url, "https://gitlab.example.com/api/v4/runners/managers");
  EXPECT_EQ(json::parse(http.requests[1].body),
            (json{{"token", "glrt-y"}, {"system_id", "s_0123456789ab"}}));
  EXPECT_EQ(header(http.requests[1], "RUNNER-TOKEN"), "glrt-y");
}

TEST(RegistrationClient, ResetTokenSelfAndByIdWithPat) {
  FakeHttpTransport http;
  http.answers.push_back(created(R"({"token":"glrt-new","token_expires_at":"2027-01-01T00:00:00Z"})"));
  http.answers.push_back(created(R"({"token":"glrt-pat"})"));
  RegistrationClient client(http);
  Result<RunnerTokenInfo> self = client.reset_token(kUrl, Secret{"glrt-old"});
  ASSERT_TRUE(self);
  EXPECT_EQ(self->token.value, "glrt-new");
  EXPECT_EQ(self->token_expires_at, "2027-01-01T00:00:00Z");
  EXPECT_EQ(http.requests[0].url,
            "https://gitlab.example.com/api/v4/runners/reset_authentication_token");
  EXPECT_EQ(header(http.requests[0], "RUNNER-TOKEN"), "<absent>");  // §1.6: no header
  EXPECT_EQ(json::parse(http.requests[0].body), (json{{"token", "glrt-old"}}));
  Result<RunnerTokenInfo> by_id = client.reset_token_with_pat(kUrl, 4211, Secret{"glpat-p"});
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->token_expires_at, "");
  EXPECT_EQ(http.requests[1].url,
            "https://gitlab.example.com/api/v4/runners/4211/reset_authentication_token");
  EXPECT_EQ(http.requests[1].body, "");
  EXPECT_EQ(header(http.requests[1], "PRIVATE-TOKEN"), "glpat-p");
}

TEST(RegistrationClient, AnswerWithoutTokenIsAnError) {
  FakeHttpTransport http;
  http.answers.push_back(created(R"({"id":1})"));
  RegistrationClient client(http);
  EXPECT_FALSE(client.reset_token(kUrl, Secret{"glrt-old"}));
}

TEST(RegistrationClient, SendsTheRunnersTlsFiles) {
  FakeHttpTransport http;
  http.answers.push_back(FakeHttpTransport::respond(204));
  RegistrationClient client(http, TlsFiles{.ca_file = "/ca.pem", .cert_file = "/c.pem", .key_file = "/k.pem"});
  EXPECT_TRUE(client.unregister_runner(kUrl, Secret{"t1_x"}));
  EXPECT_EQ(http.requests[0].ca_file, "/ca.pem");
  EXPECT_EQ(http.requests[0].cert_file, "/c.pem");
  EXPECT_EQ(http.requests[0].key_file, "/k.pem");
}

}  // namespace
}  // namespace glr
