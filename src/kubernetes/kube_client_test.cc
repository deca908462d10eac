// KubeClient against the fake Kubernetes API server: REST mapping, retries through injected
// faults, pod watches that survive dropped streams and 410s, and exec over the WebSocket.
#include "kubernetes/kube_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/fake_clock.h"
#include "support/fake_kube/fake_kube.h"
#include "support/temp_dir.h"

namespace glr::kube {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ =
        std::make_unique<FakeKube>(FakeKube::Options{.state_dir = dir_.path(), .token = "s3cret"});
    ASSERT_NE(fake_->port(), 0);
    Result<KubeConfig> config = load_kubeconfig(fake_->kubeconfig_file());
    ASSERT_TRUE(config) << config.error().message;
    config_ = *config;
    client_ = std::make_unique<KubeClient>(config_, clock_);
  }

  json pod(const std::string& name, const std::string& script) {
    return json{
        {"metadata", {{"name", name}, {"labels", {{"app", "t"}}}}},
        {"spec",
         {{"restartPolicy", "Never"},
          {"containers",
           {{{"name", "build"}, {"image", "alpine"}, {"command", {"sh", "-c", script}}}}}}}};
  }

  static bool phase_is(const json& p, const std::string& phase) {
    return p.contains("status") && p["status"].value("phase", "") == phase;
  }

  TempDir dir_;
  FakeClock clock_;  // retries back off instantly; the sleeps are recorded
  std::unique_ptr<FakeKube> fake_;
  KubeConfig config_;
  std::unique_ptr<KubeClient> client_;
};

TEST_F(KubeClientTest, CreateGetListRemove) {
  json secret = {{"metadata", {{"generateName", "creds-"}, {"labels", {{"job", "42"}}}}},
                 {"stringData", {{"token", "abc"}}}};
  Result<json> created = client_->create("default", "secrets", secret);
  ASSERT_TRUE(created) << created.error().message;
  std::string name = (*created)["metadata"]["name"];
  EXPECT_EQ(name.rfind("creds-", 0), 0u);
  EXPECT_FALSE((*created)["metadata"]["uid"].get<std::string>().empty());
  EXPECT_EQ((*created)["data"]["token"], "YWJj");

  Result<json> got = client_->get("default", "secrets", name);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ((*got)["metadata"]["uid"], (*created)["metadata"]["uid"]);

  Result<std::vector<json>> listed = client_->list("default", "secrets", "job=42");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  listed = client_->list("default", "secrets", "job in (1,2)");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());

  ASSERT_TRUE(client_->remove("default", "secrets", name, 0));
  Result<json> gone = client_->get("default", "secrets", name);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::kNotFound);
  EXPECT_TRUE(client_->remove("default", "secrets", name, std::nullopt)) << "404 is success";
}

TEST_F(KubeClientTest, UpdateSetsAnOwnerAndTheOwnersDeletionCollectsIt) {
  Result<json> owner = client_->create("default", "pods", pod("owner", "sleep 60"));
  ASSERT_TRUE(owner) << owner.error().message;
  Result<json> secret =
      client_->create("default", "secrets", json{{"metadata", {{"name", "owned"}}}});
  ASSERT_TRUE(secret) << secret.error().message;
  json stale = *secret;
  json changed = *secret;
  changed["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                             {"kind", "Pod"},
                                             {"name", "owner"},
                                             {"uid", (*owner)["metadata"]["uid"]}}};
  Result<json> updated = client_->update("default", "secrets", changed);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_NE((*updated)["metadata"]["resourceVersion"], (*secret)["metadata"]["resourceVersion"]);
  Result<json> conflict = client_->update("default", "secrets", stale);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().kind, ErrorKind::kConflict);

  ASSERT_TRUE(client_->remove("default", "pods", "owner", 0));
  Result<json> gone =
      client_->wait_pod("default", "owner", [](const json&) { return false; }, 10s, {});
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().kind, ErrorKind::kNotFound);
  Result<json> collected = client_->get("default", "secrets", "owned");
  ASSERT_FALSE(collected);
  EXPECT_EQ(collected.error().kind, ErrorKind::kNotFound);
}

TEST_F(KubeClientTest, ReusesConnections) {
  int before = fake_->connection_count();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client_->get("default", "serviceaccounts", "default"));
  }
  EXPECT_LE(fake_->connection_count() - before, 1);
}

TEST_F(KubeClientTest, MapsConflictInvalidAndUnauthorized) {
  json cm = {{"metadata", {{"name", "c"}}}, {"data", {{"k", "v"}}}};
  ASSERT_TRUE(client_->create("default", "configmaps", cm));
  Result<json> again = client_->create("default", "configmaps", cm);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
  EXPECT_NE(again.error().message.find("AlreadyExists"), std::string::npos);

  Result<json> bad = client_->create("default", "pods",
                                     json{{"metadata", {{"name", "p"}}}, {"spec", json::object()}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(bad.error().message.find("spec.containers"), std::string::npos);

  Result<json> no_ns = client_->create("nope", "configmaps", cm);
  ASSERT_FALSE(no_ns);
  EXPECT_EQ(no_ns.error().kind, ErrorKind::kNotFound);

  KubeConfig wrong = config_;
  wrong.token = "wrong";
  KubeClient other(wrong, clock_);
  Result<json> denied = other.get("default", "configmaps", "c");
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().kind, ErrorKind::kUnauthorized);

  KubeConfig untrusted = config_;
  untrusted.ca_pem.clear();  // the system store does not know the fake's CA
  KubeClient strict(untrusted, clock_);
  EXPECT_FALSE(strict.get("default", "configmaps", "c"));
}

TEST_F(KubeClientTest, RetriesTransientAnswersThenGivesUp) {
  json cm = {{"metadata", {{"name", "r"}}}};
  ASSERT_TRUE(client_->create("default", "configmaps", cm));
  fake_->inject({.method = "GET", .path_contains = "/configmaps/r", .count = 3, .status = 500});
  fake_->inject({.method = "GET",
                 .path_contains = "/configmaps/r",
                 .count = 1,
                 .status = 429,
                 .retry_after_seconds = 3});
  Result<json> got = client_->get("default", "configmaps", "r");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(fake_->request_count("GET /api/v1/namespaces/default/configmaps/r"), 5);
  std::vector<std::chrono::nanoseconds> sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 4u);
  EXPECT_EQ(sleeps[0], 500ms);
  EXPECT_EQ(sleeps[1], 1000ms);
  EXPECT_EQ(sleeps[2], 2000ms);
  EXPECT_EQ(sleeps[3], 3s) << "Retry-After honoured";

  // A connection closed without an answer. On a fresh connection (a reused one curl itself
  // retries once) that is our retry.
  FakeClock fresh_clock;
  KubeClient fresh(config_, fresh_clock);
  fake_->inject({.method = "GET", .path_contains = "/configmaps/r", .count = 1, .status = 0});
  got = fresh.get("default", "configmaps", "r");
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(fresh_clock.sleeps().size(), 1u);

  fake_->inject({.method = "GET", .path_contains = "/configmaps/r", .count = 20, .status = 503});
  fake_->inject({.method = "GET", .path_contains = "/configmaps/r", .count = 20, .status = 503});
  Result<json> capped = client_->get("default", "configmaps", "r");
  ASSERT_FALSE(capped);
  std::vector<std::chrono::nanoseconds> later = clock_.sleeps();
  EXPECT_EQ(later.back(), 2000ms) << "capped at retry_backoff_max";
  fake_->clear_faults();

  fake_->inject({.method = "GET", .path_contains = "/configmaps/r", .count = 10, .status = 503});
  Result<json> down = client_->get("default", "configmaps", "r");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().kind, ErrorKind::kUnavailable);
  EXPECT_NE(down.error().message.find("after 5 attempts"), std::string::npos)
      << down.error().message;

  fake_->clear_faults();
  fake_->inject({.method = "POST",
                 .path_contains = "/configmaps",
                 .count = 1,
                 .status = 500,
                 .message = "etcdserver: request timed out"});
  EXPECT_TRUE(client_->create("default", "configmaps", json{{"metadata", {{"name", "r2"}}}}));
}

TEST_F(KubeClientTest, WaitPodFollowsThePodToCompletion) {
  fake_->set_pod_start_delay(200ms);
  ASSERT_TRUE(client_->create("default", "pods", pod("p1", "sleep 0.2; exit 7")));
  Result<json> running = client_->wait_pod(
      "default", "p1", [](const json& p) { return phase_is(p, "Running"); }, 10s, {});
  ASSERT_TRUE(running) << running.error().message;
  EXPECT_TRUE((*running)["status"]["containerStatuses"][0]["ready"].get<bool>());
  Result<json> done = client_->wait_pod(
      "default", "p1",
      [](const json& p) { return phase_is(p, "Failed") || phase_is(p, "Succeeded"); }, 10s, {});
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ((*done)["status"]["phase"], "Failed");
  EXPECT_EQ((*done)["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 7);
}

TEST_F(KubeClientTest, WaitPodSurvivesDroppedWatchesAnd410) {
  fake_->set_pod_start_delay(300ms);
  fake_->drop_watches_after(0, 2);  // the first two watches die before any event
  ASSERT_TRUE(client_->create("default", "pods", pod("p2", "exit 0")));
  std::atomic<bool> compacted{false};
  Result<json> done = client_->wait_pod("default", "p2",
                                        [&](const json& p) {
                                          // The first look (GET) compacts the history: the watch
                                          // from its resourceVersion gets 410.
                                          if (!compacted.exchange(true)) fake_->compact();
                                          return phase_is(p, "Succeeded");
                                        },
                                        10s, {});
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_GE(fake_->request_count("GET /api/v1/namespaces/default/pods/p2"), 2)
      << "relisted after 410";
  int gets = fake_->request_count("GET /api/v1/namespaces/default/pods/p2");
  int watches = fake_->request_count("GET /api/v1/namespaces/default/pods") - gets;
  EXPECT_GE(watches, 4) << "two dropped, one answered 410, one that saw the pod finish";
}

TEST_F(KubeClientTest, WaitPodEndsOnDeleteTimeoutAndStop) {
  ASSERT_TRUE(client_->create("default", "pods", pod("p3", "sleep 30")));
  Result<json> t = client_->wait_pod("default", "p3", [](const json&) { return false; }, 300ms, {});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().kind, ErrorKind::kTimeout);

  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  Result<json> c = client_->wait_pod(
      "default", "p3", [](const json&) { return false; }, 30s, stop.get_token());
  stopper.join();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::kCanceled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  std::thread deleter([&] {
    std::this_thread::sleep_for(200ms);
    (void)client_->remove("default", "pods", "p3", 0);
  });
  Result<json> d = client_->wait_pod("default", "p3", [](const json&) { return false; }, 30s, {});
  deleter.join();
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().kind, ErrorKind::kNotFound);
}

TEST_F(KubeClientTest, ExecStreamsOutputStdinAndExitCode) {
  ASSERT_TRUE(client_->create("default", "pods", pod("p4", "sleep 60")));
  ASSERT_TRUE(client_->wait_pod("default", "p4",
                                [](const json& p) { return phase_is(p, "Running"); }, 10s, {}));
  std::string out, err;
  auto collect = [&](int channel, std::string_view data) {
    (channel == 1 ? out : err).append(data);
  };
  Result<int> code = client_->exec("default", "p4", "build",
                                   {"sh", "-c", "echo out; echo err >&2; exit 3"}, "", collect, {});
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");

  out.clear();
  std::string script(200000, 'x');
  script = "printf '%s' '" + script + "' | wc -c\n";
  code = client_->exec("default", "p4", "build", {"sh"}, script, collect, {});
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(out.substr(out.find_first_not_of(' ')), "200000\n");

  // Much output before stdin is read, and a process that never reads its stdin.
  out.clear();
  std::string big(1 << 20, 'y');
  code = client_->exec("default", "p4", "build", {"sh", "-c", "head -c 1048576 /dev/zero; wc -c"},
                       big, collect, {});
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ(out.size(), 1048576u + std::string("1048576\n").size());
  code = client_->exec("default", "p4", "build", {"sh", "-c", "exit 5"}, big, collect, {});
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ(*code, 5);

  Result<int> missing = client_->exec("default", "nope", "build", {"true"}, "", collect, {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  Result<int> bad_container = client_->exec("default", "p4", "nope", {"true"}, "", collect, {});
  ASSERT_FALSE(bad_container);
  EXPECT_EQ(bad_container.error().kind, ErrorKind::kInvalidInput);
}

TEST_F(KubeClientTest, ExecIntoAFinishedPodFailsAtOnce) {
  ASSERT_TRUE(client_->create("default", "pods", pod("p7", "exit 0")));
  ASSERT_TRUE(client_->wait_pod("default", "p7",
                                [](const json& p) { return phase_is(p, "Succeeded"); }, 10s, {}));
  Result<int> r =
      client_->exec("default", "p7", "build", {"true"}, "", [](int, std::string_view) {}, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(r.error().message.find("pod is Succeeded"), std::string::npos) << r.error().message;
  EXPECT_TRUE(clock_.sleeps().empty()) << "no retries";
}

// attach_stdin shares exec's pod check: a finished pod is not retried.
TEST_F(KubeClientTest, AttachToAFinishedPodFailsAtOnce) {
  ASSERT_TRUE(client_->create("default", "pods", pod("p8", "exit 0")));
  ASSERT_TRUE(client_->wait_pod("default", "p8",
                                [](const json& p) { return phase_is(p, "Succeeded"); }, 10s, {}));
  Result<> r = client_->attach_stdin("default", "p8", "build", "true\n", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidInput);
  EXPECT_NE(r.error().message.find("pod is Succeeded"), std::string::npos) << r.error().message;
  EXPECT_TRUE(clock_.sleeps().empty()) << "no retries";
}

TEST_F(KubeClientTest, ExecRetriesRefusedUpgradeAndStopsOnCancel) {
  ASSERT_TRUE(client_->create("default", "pods", pod("p5", "sleep 60")));
  ASSERT_TRUE(client_->wait_pod("default", "p5",
                                [](const json& p) { return phase_is(p, "Running"); }, 10s, {}));
  fake_->inject({.method = "GET", .path_contains = "/exec", .count = 2, .status = 500});
  std::string out;
  Result<int> code = client_->exec("default", "p5", "build", {"echo", "again"}, "",
                                   [&](int, std::string_view d) { out.append(d); }, {});
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ(out, "again\n");

  std::stop_source stop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  Result<int> c = client_->exec(
      "default", "p5", "build", {"sleep", "30"}, "", [](int, std::string_view) {},
      stop.get_token());
  stopper.join();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().kind, ErrorKind::kCanceled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(KubeClientTest, AttachWritesToTheContainersStdin) {
  json p = {{"metadata", {{"name", "p6"}}},
            {"spec",
             {{"restartPolicy", "Never"},
              {"containers",
               {{{"name", "build"},
                 {"image", "alpine"},
                 {"stdin", true},
                 {"command",
                  {"sh", "-c",
                   "while read l; do echo \"got $l\"; [ \"$l\" = stop ] && exit 4; done"}}}}}}}};
  ASSERT_TRUE(client_->create("default", "pods", p));
  ASSERT_TRUE(client_->wait_pod("default", "p6",
                                [](const json& x) { return phase_is(x, "Running"); }, 10s, {}));
  Result<> first = client_->attach_stdin("default", "p6", "build", "one\n", {});
  ASSERT_TRUE(first) << first.error().message;
  Result<> second = client_->attach_stdin("default", "p6", "build", "stop\n", {});
  ASSERT_TRUE(second) << second.error().message;
  Result<json> done = client_->wait_pod(
      "default", "p6", [](const json& x) { return phase_is(x, "Failed"); }, 10s, {});
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ((*done)["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 4);
  EXPECT_EQ(fake_->object_json("default", "pods", "p6").empty(), false);
}

}  // namespace
}  // namespace glr::kube
