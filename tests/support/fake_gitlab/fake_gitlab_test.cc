// Checks the fake GitLab speaks the wire protocol the runner relies on (api spec §2.2, §4.2, §5.2,
// Appendix C) before other tests trust it: driven with libcurl, as a real client would.
#include "support/fake_gitlab/fake_gitlab.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/temp_dir.h"
#include "util/strings.h"

namespace glr {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr const char* kRunnerToken = "glrt-fake_runner_token";

struct HttpReply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::map<std::string, std::string> headers{};  // lower-case names
  std::string body{};
  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One easy handle, so consecutive requests reuse the keep-alive connection.
class Client {
 public:
  Client() : curl_(curl_easy_init()) {}
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { curl_easy_cleanup(curl_); }

  HttpReply send(const std::string& method, const std::string& url, const std::string& body = "",
                 std::vector<std::string> headers = {}, long timeout_ms = 10000) {
    HttpReply reply;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, nullptr);
    if (method == "GET") {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    } else {
      curl_easy_setopt(curl_, CURLOPT_POST, 1L);
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      if (method != "POST") curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    curl_slist* list = nullptr;
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &Client::on_body);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &Client::on_header);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &reply.headers);
    reply.code = curl_easy_perform(curl_);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(list);
    return reply;
  }

  long connects_of_last_request() {
    long n = 0;
    curl_easy_getinfo(curl_, CURLINFO_NUM_CONNECTS, &n);
    return n;
  }

 private:
  static size_t on_body(char* data, size_t size, size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(user);
    std::string_view line(data, size * n);
    if (starts_with(line, "HTTP/")) headers->clear();  // a new response (after 100 Continue)
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      (*headers)[to_lower(trim(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
    }
    return size * n;
  }

  CURL* curl_;
};

std::string request_body(const std::string& token, const std::string& last_update = "") {
  json body = {{"token", token},
               {"system_id", "s_0123456789ab"},
               {"info", {{"name", "gitlab-runner"}, {"features", {{"trace_checksum", true}}}}}};
  if (!last_update.empty()) body["last_update"] = last_update;
  return body.dump();
}

const std::vector<std::string> kJsonHeaders = {"Content-Type: application/json",
                                               "Accept: application/json"};

class FakeGitLabTest : public ::testing::Test {
 protected:
  FakeGitLabTest() { gitlab_.add_runner(kRunnerToken); }

  std::string api(const std::string& path) const { return gitlab_.url() + "api/v4/" + path; }

  HttpReply request_job(const std::string& last_update = "") {
    return client_.send("POST", api("jobs/request"), request_body(kRunnerToken, last_update),
                        kJsonHeaders);
  }

  // Enqueues a job and has "the runner" pick it up, so it is running.
  int64_t start_job() {
    int64_t id = gitlab_.enqueue_job(R"({"job_info":{"name":"build"}})");
    HttpReply r = request_job();
    EXPECT_EQ(r.status, 201);
    return id;
  }

  HttpReply patch(int64_t id, const std::string& range, const std::string& bytes,
                  std::string token = "") {
    if (token.empty()) token = gitlab_.job_token(id);
    std::vector<std::string> headers = {"JOB-TOKEN: " + token, "Content-Type: text/plain"};
    if (!range.empty()) headers.push_back("Content-Range: " + range);
    return client_.send("PATCH", api("jobs/" + std::to_string(id) + "/trace?debug_trace=false"),
                        bytes, headers);
  }

  HttpReply put(int64_t id, json body) {
    body["token"] = gitlab_.job_token(id);
    return client_.send("PUT", api("jobs/" + std::to_string(id)), body.dump(),
                        {"Content-Type: application/json", "JOB-TOKEN: " + gitlab_.job_token(id)});
  }

  FakeGitLab gitlab_;
  Client client_;
};

TEST_F(FakeGitLabTest, NoJobIs204WithLastUpdateThenJobIs201WithoutIt) {
  HttpReply first = request_job();
  EXPECT_EQ(first.status, 204);
  std::string value = first.header("x-gitlab-last-update");
  EXPECT_EQ(value, gitlab_.last_update());
  EXPECT_FALSE(value.empty());

  // Echoing the current value is Rails' cheap path: 204 with the same value.
  HttpReply cached = request_job(value);
  EXPECT_EQ(cached.status, 204);
  EXPECT_EQ(cached.header("x-gitlab-last-update"), value);

  int64_t id = gitlab_.enqueue_job(
      R"({"job_info":{"name":"build"},"git_info":{"repo_url":"http://gitlab-ci-token:{{JOB_TOKEN}}@{{HOST}}/g/p.git"},
          "variables":[{"key":"CI_JOB_ID","value":"{{JOB_ID}}","public":true},
                       {"key":"CI_SERVER_URL","value":"{{URL}}","public":true}]})");
  EXPECT_NE(gitlab_.last_update(), value);
  EXPECT_GT(id, int64_t{1} << 31);
  HttpReply job = request_job(value);
  ASSERT_EQ(job.status, 201);
  EXPECT_EQ(job.header("content-type"), "application/json");
  EXPECT_FALSE(job.has("x-gitlab-last-update"));
  json payload = json::parse(job.body);
  std::string token = gitlab_.job_token(id);
  EXPECT_TRUE(starts_with(token, "glcbt-"));
  EXPECT_EQ(payload["id"], id);
  EXPECT_EQ(payload["token"], token);
  EXPECT_EQ(payload["job_info"]["id"], id);
  EXPECT_EQ(payload["job_info"]["name"], "build");
  EXPECT_EQ(payload["git_info"]["repo_url"], "http://gitlab-ci-token:" + token + "@127.0.0.1:" +
                                                 std::to_string(gitlab_.port()) + "/g/p.git");
  EXPECT_EQ(payload["variables"][0]["value"], std::to_string(id));
  EXPECT_EQ(payload["variables"][1]["value"], gitlab_.url());
  EXPECT_EQ(gitlab_.job(id).state, "running");
  EXPECT_EQ(gitlab_.last_system_id(), "s_0123456789ab");
  EXPECT_EQ(json::parse(gitlab_.last_features_json())["trace_checksum"], true);

  // Queue drained: the next request with the old value gets 204 and the current value.
  HttpReply after = request_job(value);
  EXPECT_EQ(after.status, 204);
  EXPECT_EQ(after.header("x-gitlab-last-update"), gitlab_.last_update());
}

TEST_F(FakeGitLabTest, TwoQueuedJobsAreHandedOutInOrder) {
  int64_t a = gitlab_.enqueue_job("{}");
  int64_t b = gitlab_.enqueue_job("{}");
  HttpReply first = request_job();
  HttpReply second = request_job();
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(second.status, 201);
  EXPECT_EQ(json::parse(first.body)["id"], a);
  EXPECT_EQ(json::parse(second.body)["id"], b);
  EXPECT_EQ(gitlab_.enqueue_job("not json"), -1);
}

TEST_F(FakeGitLabTest, LongPollHoldsUntilAJobIsQueuedThenAnswers204WithoutLastUpdate) {
  gitlab_.set_long_poll(5s);
  std::string value = request_job().header("x-gitlab-last-update");
  ASSERT_FALSE(value.empty());
  std::thread enqueuer([&] {
    std::this_thread::sleep_for(300ms);
    gitlab_.enqueue_job("{}");
  });
  auto start = std::chrono::steady_clock::now();
  HttpReply held = request_job(value);
  auto waited = std::chrono::steady_clock::now() - start;
  enqueuer.join();
  EXPECT_EQ(held.status, 204);
  EXPECT_FALSE(held.has("x-gitlab-last-update"));
  EXPECT_EQ(held.header("gitlab-ci-builds-polling"), "yes");
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 4s);
  // Appendix C 2b: the same old value now differs from the queue's, so Rails hands out the job.
  EXPECT_EQ(request_job(value).status, 201);
}

TEST_F(FakeGitLabTest, LongPollTimesOutWith204WithoutLastUpdate) {
  gitlab_.set_long_poll(300ms);
  std::string value = request_job().header("x-gitlab-last-update");
  auto start = std::chrono::steady_clock::now();
  HttpReply held = request_job(value);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  EXPECT_EQ(held.status, 204);
  EXPECT_FALSE(held.has("x-gitlab-last-update"));
}

TEST_F(FakeGitLabTest, RequestJobRefusals) {
  EXPECT_EQ(client_.send("POST", api("jobs/request"), request_body("glrt-unknown"), kJsonHeaders)
                .status,
            403);
  std::string big = request_body(kRunnerToken);
  big.insert(big.size() - 1, ",\"pad\":\"" + std::string(40 * 1024, 'x') + "\"");
  EXPECT_EQ(client_.send("POST", api("jobs/request"), big, kJsonHeaders).status, 413);
  EXPECT_EQ(client_.send("POST", api("jobs/request"), request_body(kRunnerToken),
                         {"Content-Type: text/plain"})
                .status,
            415);
  EXPECT_EQ(client_.send("POST", api("jobs/request"), "{nope", kJsonHeaders).status, 400);
  // charset parameters are ignored.
  EXPECT_EQ(client_.send("POST", api("jobs/request"), request_body(kRunnerToken),
                         {"Content-Type: application/json; charset=utf-8"})
                .status,
            204);
}

TEST_F(FakeGitLabTest, TraceAppendsAtTheServerOffsetAndAnswers416Otherwise) {
  int64_t id = start_job();
  gitlab_.set_trace_update_interval(60);
  HttpReply ok = patch(id, "0-4", "hello");
  EXPECT_EQ(ok.status, 202);
  EXPECT_EQ(ok.header("range"), "0-5");
  EXPECT_EQ(ok.header("job-status"), "running");
  EXPECT_EQ(ok.header("x-gitlab-trace-update-interval"), "60");

  HttpReply behind = patch(id, "3-7", "xxxxx");
  EXPECT_EQ(behind.status, 416);
  EXPECT_EQ(behind.header("range"), "0-5");

  EXPECT_EQ(patch(id, "", " world").status, 400);
  EXPECT_EQ(patch(id, "5-10", " world", "glcbt-wrong").status, 403);

  gitlab_.force_trace_range_mismatch_once();
  HttpReply forced = patch(id, "5-10", " world");
  EXPECT_EQ(forced.status, 416);
  EXPECT_EQ(forced.header("range"), "0-5");
  HttpReply again = patch(id, "5-10", " world");
  EXPECT_EQ(again.status, 202);
  EXPECT_EQ(again.header("range"), "0-11");

  JobRecord r = gitlab_.job(id);
  EXPECT_EQ(r.trace, "hello world");
  EXPECT_EQ(r.range_mismatches, 2);
  EXPECT_EQ(r.patches, 4);  // the 400 and 403 never reached the trace
  EXPECT_EQ(r.content_ranges, (std::vector<std::string>{"0-4", "3-7", "5-10", "5-10"}));
  EXPECT_EQ(patch(999, "0-0", "x", "glcbt-x").status, 404);
}

TEST_F(FakeGitLabTest, MaxSizePatchWithExpectContinueIsAccepted) {
  int64_t id = start_job();
  std::string mib(1024 * 1024, 'x');
  HttpReply r = client_.send(
      "PATCH", api("jobs/" + std::to_string(id) + "/trace?debug_trace=false"), mib,
      {"JOB-TOKEN: " + gitlab_.job_token(id), "Content-Type: text/plain",
       "Content-Range: 0-" + std::to_string(mib.size() - 1), "Expect: 100-continue"});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.header("range"), "0-1048576");
  EXPECT_EQ(gitlab_.job(id).trace.size(), mib.size());
}

TEST_F(FakeGitLabTest, FinalUpdateIsAnswered202ThenAppliedWithChecksum) {
  int64_t id = start_job();
  HttpReply ack = put(id, {{"state", "running"}, {"output", json::object()}});
  EXPECT_EQ(ack.status, 200);
  EXPECT_EQ(ack.header("job-status"), "running");
  ASSERT_EQ(patch(id, "0-11", "hello world\n").status, 202);

  gitlab_.set_final_update_202_count(2);
  json final_update = {{"state", "success"},
                       {"checksum", trace_checksum("hello world\n")},
                       {"output", {{"checksum", trace_checksum("hello world\n")}, {"bytesize", 12}}}};
  for (int i = 0; i < 2; ++i) {
    HttpReply accepted = put(id, final_update);
    EXPECT_EQ(accepted.status, 202);
    EXPECT_EQ(accepted.header("x-gitlab-trace-update-interval"), "1");
    EXPECT_FALSE(gitlab_.job(id).final_update_received);
  }
  HttpReply done = put(id, final_update);
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.header("job-status"), "success");

  JobRecord r = gitlab_.job(id);
  EXPECT_EQ(r.state, "success");
  EXPECT_TRUE(r.final_update_received);
  EXPECT_TRUE(r.checksum_matches);
  EXPECT_EQ(r.checksum, "crc32:" + std::string("af083b2d"));
  EXPECT_EQ(r.bytesize, 12);
  EXPECT_EQ(r.puts, 4);
  EXPECT_EQ(r.final_puts, 3);

  // A finished job refuses further updates with its status.
  HttpReply late = put(id, {{"state", "running"}});
  EXPECT_EQ(late.status, 403);
  EXPECT_EQ(late.header("job-status"), "success");
  EXPECT_EQ(patch(id, "12-12", "x").header("job-status"), "success");
}

TEST_F(FakeGitLabTest, FailedUpdateRecordsReasonExitCodeAndChecksumMismatch) {
  int64_t id = start_job();
  ASSERT_EQ(patch(id, "0-2", "abc").status, 202);
  HttpReply done = put(id, {{"state", "failed"},
                            {"failure_reason", "script_failure"},
                            {"exit_code", 2},
                            {"output", {{"checksum", "crc32:00000000"}, {"bytesize", 3}}}});
  EXPECT_EQ(done.status, 200);
  JobRecord r = gitlab_.job(id);
  EXPECT_EQ(r.state, "failed");
  EXPECT_EQ(r.failure_reason, "script_failure");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(r.checksum_matches);

  int64_t other = start_job();
  EXPECT_EQ(put(other, {{"state", "failed"}, {"failure_reason", "job_canceled"}}).status, 200);
  EXPECT_EQ(gitlab_.job(other).failure_reason, "unknown_failure");
  int64_t third = start_job();
  EXPECT_EQ(put(third, {{"state", "bogus"}}).status, 400);
  json wrong = {{"state", "running"}, {"token", "glcbt-wrong"}};
  EXPECT_EQ(client_.send("PUT", api("jobs/" + std::to_string(third)), wrong.dump(),
                         {"Content-Type: application/json"})
                .status,
            403);
}

TEST_F(FakeGitLabTest, GracefulCancelAnswersCancelingUntilTheFinalUpdate) {
  int64_t id = start_job();
  gitlab_.cancel_job(id, /*graceful=*/true);
  HttpReply p = patch(id, "0-1", "ab");
  EXPECT_EQ(p.status, 202);
  EXPECT_EQ(p.header("job-status"), "canceling");
  HttpReply ack = put(id, {{"state", "running"}});
  EXPECT_EQ(ack.status, 200);
  EXPECT_EQ(ack.header("job-status"), "canceling");
  HttpReply done = put(id, {{"state", "failed"}, {"failure_reason", "unknown_failure"}});
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(done.header("job-status"), "canceled");
  JobRecord r = gitlab_.job(id);
  EXPECT_EQ(r.state, "canceled");
  EXPECT_TRUE(r.final_update_received);
  EXPECT_EQ(r.trace, "ab");
}

TEST_F(FakeGitLabTest, HardCancelAnswers403WithJobStatusCanceled) {
  int64_t id = start_job();
  gitlab_.cancel_job(id, /*graceful=*/false);
  HttpReply p = patch(id, "0-1", "ab");
  EXPECT_EQ(p.status, 403);
  EXPECT_EQ(p.header("job-status"), "canceled");
  HttpReply u = put(id, {{"state", "running"}});
  EXPECT_EQ(u.status, 403);
  EXPECT_EQ(u.header("job-status"), "canceled");
  EXPECT_EQ(gitlab_.job(id).state, "canceled");

  int64_t queued = gitlab_.enqueue_job("{}");
  gitlab_.cancel_job(queued, /*graceful=*/true);  // a pending job is canceled at once
  EXPECT_EQ(gitlab_.job(queued).state, "canceled");
  EXPECT_EQ(request_job().status, 204);
}

TEST_F(FakeGitLabTest, RespondFaultHitsOnlyTheChosenOccurrence) {
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kRequestJob,
                           .skip = 1,
                           .count = 1,
                           .status = 503,
                           .retry_after_seconds = 7});
  EXPECT_EQ(request_job().status, 204);
  HttpReply faulted = request_job();
  EXPECT_EQ(faulted.status, 503);
  EXPECT_EQ(faulted.header("retry-after"), "7");
  EXPECT_EQ(request_job().status, 204);
  // An unrelated endpoint is not counted.
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kPatchTrace, .count = -1, .status = 429});
  EXPECT_EQ(request_job().status, 204);
  int64_t id = start_job();
  EXPECT_EQ(patch(id, "0-0", "a").status, 429);
  EXPECT_EQ(patch(id, "0-0", "a").status, 429);
  EXPECT_EQ(gitlab_.job(id).patches, 0);  // answered by the fault, never applied
  gitlab_.clear_faults();
  EXPECT_EQ(patch(id, "0-0", "a").status, 202);
}

TEST_F(FakeGitLabTest, CloseFaultDropsTheConnectionWithoutAnswer) {
  gitlab_.inject(FaultRule{.endpoint = FakeEndpoint::kAny,
                           .count = 1,
                           .action = FaultAction::kCloseConnection});
  HttpReply dropped = request_job();
  EXPECT_EQ(dropped.code, CURLE_GOT_NOTHING);
  EXPECT_EQ(request_job().status, 204);
}

TEST_F(FakeGitLabTest, DelayFaultAnswersNormallyAfterTheDelay) {
  int64_t id = start_job();
  gitlab_.inject(FaultRule{
      .endpoint = FakeEndpoint::kUpdateJob, .action = FaultAction::kDelay, .delay = 300ms});
  auto start = std::chrono::steady_clock::now();
  HttpReply slow = put(id, {{"state", "running"}});
  EXPECT_GE(std::chrono::steady_clock::now() - start, 280ms);
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(gitlab_.job(id).puts, 1);
}

TEST_F(FakeGitLabTest, RecordsRequestsAndKeepsConnectionsAlive) {
  int64_t id = start_job();
  EXPECT_EQ(patch(id, "0-2", "abc").status, 202);
  EXPECT_EQ(client_.connects_of_last_request(), 0);  // reused the job request's connection
  std::vector<RecordedRequest> all = gitlab_.requests();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].method, "POST");
  EXPECT_EQ(all[0].target, "/api/v4/jobs/request");
  EXPECT_EQ(json::parse(all[0].body)["token"], kRunnerToken);
  EXPECT_EQ(all[1].method, "PATCH");
  EXPECT_EQ(all[1].target, "/api/v4/jobs/" + std::to_string(id) + "/trace?debug_trace=false");
  EXPECT_EQ(all[1].header("job-token"), gitlab_.job_token(id));
  EXPECT_EQ(all[1].header("CONTENT-RANGE"), "0-2");
  EXPECT_EQ(all[1].header("Content-Type"), "text/plain");
  EXPECT_EQ(all[1].body, "abc");
  EXPECT_EQ(all[1].header("X-Missing"), "");
}

TEST_F(FakeGitLabTest, WaitForWakesOnChangeAndTimesOut) {
  int64_t id = start_job();
  EXPECT_FALSE(gitlab_.wait_for(id, [](const JobRecord& r) { return r.state == "success"; }, 50ms));
  std::thread finisher([&] {
    std::this_thread::sleep_for(100ms);
    Client other;
    json body = {{"state", "success"}, {"token", gitlab_.job_token(id)}};
    other.send("PUT", api("jobs/" + std::to_string(id)), body.dump(),
               {"Content-Type: application/json"});
  });
  EXPECT_TRUE(gitlab_.wait_for(id, [](const JobRecord& r) { return r.state == "success"; }, 5s));
  finisher.join();
}

TEST(FakeGitLab, DestructorEndsHeldLongPollsPromptly) {
  auto gitlab = std::make_unique<FakeGitLab>(FakeGitLab::Options{.long_poll = 30s});
  gitlab->add_runner(kRunnerToken);
  std::string url = gitlab->url() + "api/v4/jobs/request";
  std::string value = gitlab->last_update();
  HttpReply held;
  std::thread client([&] {
    Client c;
    held = c.send("POST", url, request_body(kRunnerToken, value), kJsonHeaders, 20000);
  });
  ASSERT_TRUE(
      [&] {
        for (int i = 0; i < 200; ++i) {
          if (!gitlab->requests().empty()) return true;
          std::this_thread::sleep_for(10ms);
        }
        return false;
      }());
  auto start = std::chrono::steady_clock::now();
  gitlab.reset();
  client.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(FakeGitLab, ControlApiDrivesTheServer) {
  FakeGitLab gitlab(FakeGitLab::Options{.control_api = true});
  Client c;
  std::string base = gitlab.url() + "__control/";
  EXPECT_EQ(c.send("POST", base + "runners", kRunnerToken).status, 200);
  HttpReply created = c.send("POST", base + "jobs", R"({"variables":[{"key":"T","value":"{{JOB_TOKEN}}"}]})");
  ASSERT_EQ(created.status, 201);
  json ids = json::parse(created.body);
  int64_t id = ids["id"];
  EXPECT_EQ(ids["token"], gitlab.job_token(id));
  EXPECT_EQ(c.send("POST", base + "final_update_202?count=1").status, 200);

  HttpReply job = c.send("POST", gitlab.url() + "api/v4/jobs/request", request_body(kRunnerToken),
                         kJsonHeaders);
  ASSERT_EQ(job.status, 201);
  EXPECT_EQ(json::parse(job.body)["variables"][0]["value"], gitlab.job_token(id));
  json final_update = {{"state", "success"}, {"token", gitlab.job_token(id)}};
  std::string put_url = gitlab.url() + "api/v4/jobs/" + std::to_string(id);
  EXPECT_EQ(c.send("PUT", put_url, final_update.dump(), kJsonHeaders).status, 202);
  EXPECT_EQ(c.send("PUT", put_url, final_update.dump(), kJsonHeaders).status, 200);

  HttpReply record = c.send("GET", base + "jobs/" + std::to_string(id));
  ASSERT_EQ(record.status, 200);
  json r = json::parse(record.body);
  EXPECT_EQ(r["state"], "success");
  EXPECT_EQ(r["puts"], 2);
  EXPECT_EQ(r["trace"], "");
  HttpReply waited = c.send("GET", base + "jobs/" + std::to_string(id) + "/wait?timeout_ms=5000");
  EXPECT_EQ(waited.status, 200);
  EXPECT_EQ(json::parse(waited.body)["final_update_received"], true);
  EXPECT_EQ(c.send("POST", base + "jobs/" + std::to_string(id) + "/cancel?graceful=0").status, 200);
  EXPECT_EQ(c.send("POST", base + "faults",
                   R"({"endpoint":"request_job","action":"respond","status":502})")
                .status,
            200);
  EXPECT_EQ(c.send("POST", gitlab.url() + "api/v4/jobs/request", request_body(kRunnerToken),
                   kJsonHeaders)
                .status,
            502);
  EXPECT_EQ(c.send("GET", base + "jobs/12345").status, 404);
  int64_t pending = json::parse(c.send("POST", base + "jobs", "{}").body)["id"];
  EXPECT_EQ(c.send("GET", base + "jobs/" + std::to_string(pending) + "/wait?timeout_ms=50").status,
            408);
  // Control calls are not part of the recorded runner traffic.
  EXPECT_EQ(gitlab.requests().size(), 4u);
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(FakeGitLab, ReleasesEverySocketAndPipe) {
  std::size_t before = open_descriptors();
  {
    Client a, b;  // outlive the server: their idle keep-alive connections are open at its end
    FakeGitLab gitlab;
    gitlab.add_runner(kRunnerToken);
    EXPECT_EQ(a.send("POST", gitlab.url() + "api/v4/jobs/request", request_body(kRunnerToken),
                     kJsonHeaders)
                  .status,
              204);
    EXPECT_EQ(b.send("GET", gitlab.url() + "nothing/here").status, 404);
  }
  EXPECT_EQ(open_descriptors(), before);
}

// The fake-gitlab executable: prints its URL, serves the control API, exits 0 on SIGTERM.
TEST(FakeGitLabExecutable, ServesUntilSigterm) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::string bin = GLR_FAKE_GITLAB_BIN;
  std::vector<char*> argv = {bin.data(), nullptr};
  char* env[] = {nullptr};
  pid_t pid = -1;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), env), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);

  std::string line;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  close(out[0]);
  ASSERT_TRUE(starts_with(line, "listening on http://127.0.0.1:")) << line;
  std::string url(trim(line.substr(std::string("listening on ").size())));

  Client c;
  EXPECT_EQ(c.send("POST", url + "__control/runners", kRunnerToken).status, 200);
  EXPECT_EQ(c.send("POST", url + "api/v4/jobs/request", request_body(kRunnerToken), kJsonHeaders)
                .status,
            204);
  EXPECT_EQ(c.send("POST", url + "__control/jobs", "{}").status, 201);
  EXPECT_EQ(c.send("POST", url + "api/v4/jobs/request", request_body(kRunnerToken), kJsonHeaders)
                .status,
            201);

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 500 && reaped == 0; ++i) {
    reaped = waitpid(pid, &status, WNOHANG);
    if (reaped == 0) std::this_thread::sleep_for(10ms);
  }
  if (reaped == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "fake-gitlab ignored SIGTERM";
  }
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// ---- git smart HTTP ------------------------------------------------------------------------------

int run(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

class FakeGitLabGitTest : public FakeGitLabTest {
 protected:
  void SetUp() override {
    home_ = tmp_.path() / "home";
    std::filesystem::create_directories(home_);
    std::filesystem::path repo = tmp_.path() / "srv" / "project";
    std::filesystem::create_directories(repo);
    ASSERT_EQ(git("init -q -b main " + repo.string()), 0);
    std::ofstream(repo / "README") << "hello from the repository\n";
    ASSERT_EQ(git("-C " + repo.string() + " add README"), 0);
    ASSERT_EQ(git("-C " + repo.string() + " -c user.name=t -c user.email=t@example.com commit -q -m init"),
              0);
    gitlab_.add_git_repo("group/project.git", repo);
  }

  // git with a clean, prompt-free environment, bounded by `timeout`.
  int git(const std::string& args) {
    return run("env -i PATH=\"$PATH\" HOME=" + home_.string() +
               " GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 timeout 60 git " + args +
               " >/dev/null 2>&1");
  }

  std::string clone_url(const std::string& token) const {
    return "http://gitlab-ci-token:" + token + "@127.0.0.1:" + std::to_string(gitlab_.port()) +
           "/group/project.git";
  }

  TempDir tmp_;
  std::filesystem::path home_;
};

TEST_F(FakeGitLabGitTest, ClonesWithTheTokenOfARunningJob) {
  int64_t id = start_job();
  std::filesystem::path dest = tmp_.path() / "clone";
  ASSERT_EQ(git("clone -q " + clone_url(gitlab_.job_token(id)) + " " + dest.string()), 0);
  std::ifstream in(dest / "README");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "hello from the repository");
  // Fetching again over protocol v2 with a body (upload-pack POST) also works.
  EXPECT_EQ(git("-C " + dest.string() + " fetch -q origin"), 0);
  bool saw_upload_pack = false;
  for (const RecordedRequest& r : gitlab_.requests()) {
    if (r.method == "POST" && r.target == "/group/project.git/git-upload-pack") saw_upload_pack = true;
  }
  EXPECT_TRUE(saw_upload_pack);
}

// git gzips upload-pack requests over 1 KiB that fit its post buffer and streams bigger ones
// chunked; 1500 distinct branch tips give a ~75 KB want list to exercise both.
TEST_F(FakeGitLabGitTest, ClonesWithGzipAndChunkedRequestBodies) {
  std::filesystem::path many = tmp_.path() / "srv" / "many";
  ASSERT_EQ(git("init -q --bare " + many.string()), 0);
  {
    std::ofstream stream(tmp_.path() / "import");
    for (int i = 0; i < 1500; ++i) {
      std::string message = "c" + std::to_string(i);
      stream << "commit refs/heads/b" << i << "\ncommitter t <t@example.com> 0 +0000\ndata "
             << message.size() << "\n" << message << "\n\n";
    }
  }
  ASSERT_EQ(git("-C " + many.string() + " fast-import --quiet < " + (tmp_.path() / "import").string()),
            0);
  gitlab_.add_git_repo("/group/many.git/", many);
  int64_t id = start_job();
  std::string url = "http://gitlab-ci-token:" + gitlab_.job_token(id) + "@127.0.0.1:" +
                    std::to_string(gitlab_.port()) + "/group/many.git";
  ASSERT_EQ(git("-c protocol.version=0 clone -q --bare " + url + " " + (tmp_.path() / "c1").string()),
            0);
  ASSERT_EQ(git("-c protocol.version=0 -c http.postBuffer=65520 clone -q --bare " + url + " " +
                (tmp_.path() / "c2").string()),
            0);
  bool gzipped = false, chunked = false;
  for (const RecordedRequest& r : gitlab_.requests()) {
    if (r.target != "/group/many.git/git-upload-pack") continue;
    gzipped = gzipped || r.header("Content-Encoding") == "gzip";
    chunked = chunked || r.header("Transfer-Encoding") == "chunked";
  }
  EXPECT_TRUE(gzipped);
  EXPECT_TRUE(chunked);
  EXPECT_EQ(git("-C " + (tmp_.path() / "c2").string() + " rev-parse --verify -q b1499"), 0);
}

TEST_F(FakeGitLabGitTest, RefusesCloneWithoutAValidToken) {
  int64_t id = start_job();
  std::filesystem::path dest = tmp_.path() / "clone";
  EXPECT_NE(git("clone -q " + clone_url("glcbt-invalid") + " " + dest.string()), 0);
  EXPECT_NE(git("clone -q http://127.0.0.1:" + std::to_string(gitlab_.port()) +
                "/group/project.git " + dest.string()),
            0);
  // The token stops working once the job is finished.
  ASSERT_EQ(put(id, {{"state", "success"}}).status, 200);
  EXPECT_NE(git("clone -q " + clone_url(gitlab_.job_token(id)) + " " + dest.string()), 0);

  HttpReply raw = client_.send("GET", gitlab_.url() + "group/project.git/info/refs?service=git-upload-pack");
  EXPECT_EQ(raw.status, 401);
  EXPECT_EQ(raw.header("www-authenticate"), "Basic realm=\"GitLab\"");
}

// ---- runner lifecycle endpoints (api spec §1.2-§1.6) -------------------------------------

TEST_F(FakeGitLabTest, LegacyRegistrationCreatesARunnerThatCanRequestJobs) {
  gitlab_.add_registration_token("GR1348941reg");
  json body = {{"token", "GR1348941reg"}, {"description", "d"}, {"tag_list", "a,b"},
               {"locked", true}, {"run_untagged", false}, {"paused", true},
               {"access_level", "ref_protected"}, {"maximum_timeout", 600}};
  EXPECT_EQ(client_.send("POST", api("runners"), json{{"token", "GR-wrong"}}.dump(), kJsonHeaders).status,
            403);
  HttpReply r = client_.send("POST", api("runners"), body.dump(), kJsonHeaders);
  ASSERT_EQ(r.status, 201);
  json answer = json::parse(r.body);
  std::string token = answer["token"];
  EXPECT_TRUE(token.starts_with("t1_")) << token;
  EXPECT_TRUE(answer["token_expires_at"].is_null());
  FakeGitLab::RegisteredRunner rec = gitlab_.registered_runners().at(0);
  EXPECT_EQ(rec.id, answer["id"].get<int64_t>());
  EXPECT_EQ(rec.tag_list, "a,b");
  EXPECT_TRUE(rec.locked);
  EXPECT_FALSE(rec.run_untagged);
  EXPECT_TRUE(rec.paused);
  EXPECT_EQ(rec.access_level, "ref_protected");
  EXPECT_EQ(rec.maximum_timeout, 600);
  EXPECT_EQ(client_.send("POST", api("jobs/request"), request_body(token), kJsonHeaders).status, 204);
  gitlab_.set_registration_disabled(true);
  EXPECT_EQ(client_.send("POST", api("runners"), body.dump(), kJsonHeaders).status, 410);
}

TEST_F(FakeGitLabTest, UserRunnersNeedsAPatAndTheScopeId) {
  gitlab_.add_personal_access_token("glpat-ok");
  std::vector<std::string> pat = kJsonHeaders;
  pat.push_back("PRIVATE-TOKEN: glpat-ok");
  json group = {{"runner_type", "group_type"}};
  EXPECT_EQ(client_.send("POST", api("user/runners"), group.dump(), kJsonHeaders).status, 401);
  EXPECT_EQ(client_.send("POST", api("user/runners"), group.dump(), pat).status, 400);
  group["group_id"] = 7;
  HttpReply r = client_.send("POST", api("user/runners"), group.dump(), pat);
  ASSERT_EQ(r.status, 201);
  EXPECT_TRUE(json::parse(r.body)["token"].get<std::string>().starts_with("glrt-t2_"));
  EXPECT_EQ(gitlab_.registered_runners().at(0).group_id, 7);
  EXPECT_FALSE(gitlab_.registered_runners().at(0).locked);  // server default
}

TEST_F(FakeGitLabTest, VerifyAddsAManagerThatUnregisterManagerRemoves) {
  gitlab_.add_personal_access_token("glpat-ok");
  std::vector<std::string> pat = kJsonHeaders;
  pat.push_back("PRIVATE-TOKEN: glpat-ok");
  json created = json::parse(
      client_.send("POST", api("user/runners"), json{{"runner_type", "instance_type"}}.dump(), pat).body);
  std::string token = created["token"];
  json verify = {{"token", token}, {"system_id", "s_0123456789ab"}};
  HttpReply v = client_.send("POST", api("runners/verify"), verify.dump(), kJsonHeaders);
  ASSERT_EQ(v.status, 200);
  EXPECT_EQ(json::parse(v.body)["id"], created["id"]);
  EXPECT_EQ(gitlab_.registered_runners().at(0).managers, std::vector<std::string>{"s_0123456789ab"});
  EXPECT_EQ(client_.send("DELETE", api("runners/managers"),
                         json{{"token", token}, {"system_id", "s_other"}}.dump(), kJsonHeaders)
                .status,
            404);
  EXPECT_EQ(client_.send("DELETE", api("runners/managers"), verify.dump(), kJsonHeaders).status, 204);
  EXPECT_TRUE(gitlab_.registered_runners().at(0).managers.empty());
  EXPECT_FALSE(gitlab_.registered_runners().at(0).deleted);
  gitlab_.set_runner_orphaned(created["id"], true);
  EXPECT_EQ(client_.send("POST", api("runners/verify"), verify.dump(), kJsonHeaders).status, 422);
  EXPECT_EQ(client_.send("DELETE", api("runners"), json{{"token", token}}.dump(), kJsonHeaders).status,
            204);
  EXPECT_TRUE(gitlab_.registered_runners().at(0).deleted);
  EXPECT_EQ(client_.send("POST", api("runners/verify"), verify.dump(), kJsonHeaders).status, 403);
}

TEST_F(FakeGitLabTest, ResetTokenReplacesTheTokenWithExpiryAndByIdWithAPat) {
  gitlab_.add_registration_token("GR1348941reg");
  gitlab_.add_personal_access_token("glpat-ok");
  gitlab_.set_token_lifetime(std::chrono::hours(24));
  json created = json::parse(
      client_.send("POST", api("runners"), json{{"token", "GR1348941reg"}}.dump(), kJsonHeaders).body);
  std::string old = created["token"];
  EXPECT_EQ(created["token_expires_at"].get<std::string>().size(), 20u);  // 2026-...T..:..:..Z
  HttpReply r = client_.send("POST", api("runners/reset_authentication_token"),
                             json{{"token", old}}.dump(), kJsonHeaders);
  ASSERT_EQ(r.status, 201);
  json answer = json::parse(r.body);
  std::string renewed = answer["token"];
  EXPECT_NE(renewed, old);
  EXPECT_TRUE(renewed.starts_with("t1_"));
  EXPECT_TRUE(answer["token_expires_at"].is_string());
  EXPECT_EQ(client_.send("POST", api("runners/verify"), json{{"token", old}}.dump(), kJsonHeaders).status,
            403);
  std::string by_id = api("runners/" + std::to_string(created["id"].get<int64_t>()) +
                          "/reset_authentication_token");
  EXPECT_EQ(client_.send("POST", by_id, "", {"PRIVATE-TOKEN: glpat-bad"}).status, 401);
  EXPECT_EQ(client_.send("POST", api("runners/999/reset_authentication_token"), "",
                         {"PRIVATE-TOKEN: glpat-ok"}).status,
            404);
  HttpReply p = client_.send("POST", by_id, "", {"PRIVATE-TOKEN: glpat-ok"});
  ASSERT_EQ(p.status, 201);
  EXPECT_EQ(gitlab_.registered_runners().at(0).token, json::parse(p.body)["token"]);
  EXPECT_EQ(gitlab_.registered_runners().at(0).token_resets, 2);
  gitlab_.set_token_lifetime(std::chrono::seconds(0));
  HttpReply never = client_.send("POST", by_id, "", {"PRIVATE-TOKEN: glpat-ok"});
  EXPECT_FALSE(json::parse(never.body).contains("token_expires_at"));  // only when expirable
}

TEST(FakeGitLab, ControlApiDrivesRegistration) {
  FakeGitLab gitlab(FakeGitLab::Options{.control_api = true});
  Client c;
  std::string base = gitlab.url() + "__control/";
  EXPECT_EQ(c.send("POST", base + "registration_tokens", "GR1348941x").status, 200);
  EXPECT_EQ(c.send("POST", base + "token_lifetime?seconds=60").status, 200);
  HttpReply r = c.send("POST", gitlab.url() + "api/v4/runners", json{{"token", "GR1348941x"}}.dump(),
                       kJsonHeaders);
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(c.send("POST", base + "runner_orphaned?id=4211&value=1").status, 200);
  json list = json::parse(c.send("GET", base + "registered_runners").body);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], 4211);
  EXPECT_FALSE(list[0]["token_expires_at"].get<std::string>().empty());
  EXPECT_EQ(list[0]["orphaned"], true);
  EXPECT_EQ(c.send("POST", base + "token_lifetime").status, 400);
}

}  // namespace
}  // namespace glr
