// The fake Kubernetes API server's own contract: Status bodies, generated names, watches,
// namespaces, and pods whose init containers, emptyDirs and env behave like a cluster's.
#include "support/fake_kube/fake_kube.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/temp_dir.h"

namespace glr {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

struct Answer {
  long status = 0;
  std::string body{};
  CURLcode code = CURLE_OK;
};

size_t append(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

class FakeKubeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<FakeKube>(FakeKube::Options{.state_dir = dir_.path()});
    ASSERT_NE(fake_->port(), 0);
  }
  Answer call(const std::string& method, const std::string& path, const std::string& body = "") {
    Answer a;
    CURL* curl = curl_easy_init();
    std::string url = fake_->url() + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, fake_->ca_file().c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
    if (!body.empty()) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    struct curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a.body);
    a.code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
    curl_easy_cleanup(curl);
    return a;
  }
  json pod_when(const std::string& name, const std::string& phase) {
    for (int i = 0; i < 200; ++i) {
      std::string text = fake_->object_json("default", "pods", name);
      if (!text.empty() && json::parse(text)["status"].value("phase", "") == phase)
        return json::parse(text);
      std::this_thread::sleep_for(25ms);
    }
    return nullptr;
  }

  TempDir dir_;
  std::unique_ptr<FakeKube> fake_;
};

TEST_F(FakeKubeTest, AnswersWithKubernetesStatusBodies) {
  Answer missing = call("GET", "/api/v1/namespaces/default/pods/nope");
  EXPECT_EQ(missing.status, 404);
  json s = json::parse(missing.body);
  EXPECT_EQ(s["kind"], "Status");
  EXPECT_EQ(s["reason"], "NotFound");
  EXPECT_EQ(s["message"], "pods \"nope\" not found");
  EXPECT_EQ(s["details"]["name"], "nope");

  Answer unnamed = call("POST", "/api/v1/namespaces/default/configmaps", R"({"data":{}})");
  EXPECT_EQ(unnamed.status, 422);
  s = json::parse(unnamed.body);
  EXPECT_EQ(s["reason"], "Invalid");
  EXPECT_EQ(s["details"]["causes"][0]["field"], "metadata.name");

  Answer form = call("POST", "/api/v1/namespaces/default/configmaps", "");
  EXPECT_EQ(form.status, 400) << "an empty body is not an object";

  Answer generated = call("POST", "/api/v1/namespaces/default/configmaps",
                          R"({"metadata":{"generateName":"x-"}})");
  EXPECT_EQ(generated.status, 201);
  std::string name = json::parse(generated.body)["metadata"]["name"];
  EXPECT_EQ(name.size(), 7u);
  Answer dup = call("POST", "/api/v1/namespaces/default/configmaps",
                    R"({"metadata":{"name":")" + name + "\"}}");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(json::parse(dup.body)["reason"], "AlreadyExists");

  fake_->inject({.path_contains = "/configmaps", .count = 1, .status = 0});
  EXPECT_NE(call("GET", "/api/v1/namespaces/default/configmaps").code, CURLE_OK)
      << "connection dropped";
  EXPECT_EQ(call("GET", "/api/v1/namespaces/default/configmaps").status, 200);
}

TEST_F(FakeKubeTest, WatchFromACompactedVersionGets410) {
  Answer list = call("GET", "/api/v1/namespaces/default/pods");
  std::string rv = json::parse(list.body)["metadata"]["resourceVersion"];
  fake_->compact();
  Answer w = call("GET", "/api/v1/namespaces/default/pods?watch=1&resourceVersion=" + rv);
  EXPECT_EQ(w.status, 200);
  json ev = json::parse(w.body.substr(0, w.body.find('\n')));
  EXPECT_EQ(ev["type"], "ERROR");
  EXPECT_EQ(ev["object"]["code"], 410);
  EXPECT_EQ(ev["object"]["reason"], "Expired");
}

TEST_F(FakeKubeTest, DeletingANamespaceDeletesWhatIsInIt) {
  EXPECT_EQ(call("POST", "/api/v1/namespaces", R"({"metadata":{"name":"ci-job-1"}})").status, 201);
  EXPECT_FALSE(fake_->object_json("ci-job-1", "serviceaccounts", "default").empty());
  EXPECT_EQ(
      call("POST", "/api/v1/namespaces/ci-job-1/secrets", R"({"metadata":{"name":"s"}})").status,
      201);
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/ci-job-1").status, 200);
  EXPECT_TRUE(fake_->object_json("ci-job-1", "secrets", "s").empty());
  EXPECT_TRUE(fake_->object_json("", "namespaces", "ci-job-1").empty());
}

TEST_F(FakeKubeTest, PodsRunInitContainersFirstAndShareEmptyDirs) {
  json pod = {
      {"metadata", {{"name", "p"}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"volumes", {{{"name", "repo"}, {"emptyDir", json::object()}}}},
        {"initContainers",
         {{{"name", "init"},
           {"image", "a"},
           {"command", {"sh", "-c", "echo from-init > /builds/marker"}},
           {"volumeMounts", {{{"name", "repo"}, {"mountPath", "/builds"}}}}}}},
        {"containers",
         {{{"name", "build"},
           {"image", "a"},
           {"workingDir", "/builds"},
           {"command", {"sh", "-c", "cat marker; echo $POD/$WHO; exit 2"}},
           {"env",
            {{{"name", "WHO"}, {"value", "me"}},
             {{"name", "POD"}, {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}}}},
           {"volumeMounts", {{{"name", "repo"}, {"mountPath", "/builds"}}}}}}}}}};
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/pods", pod.dump()).status, 201);
  json failed = pod_when("p", "Failed");
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed["status"]["initContainerStatuses"][0]["state"]["terminated"]["exitCode"], 0);
  EXPECT_EQ(failed["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 2);
  Answer log = call("GET", "/api/v1/namespaces/default/pods/p/log?container=build");
  EXPECT_EQ(log.body, "from-init\np/me\n");
  Answer del = call("DELETE", "/api/v1/namespaces/default/pods/p");
  EXPECT_EQ(del.status, 200);
  EXPECT_TRUE(json::parse(del.body)["metadata"].contains("deletionTimestamp"));
  for (int i = 0; i < 100 && !fake_->object_json("default", "pods", "p").empty(); ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(fake_->object_json("default", "pods", "p").empty());
}

TEST_F(FakeKubeTest, UnpullableImagesBackOffAndThePodStaysPending) {
  fake_->fail_image_pull("registry.example/missing:1");
  json pod = {
      {"metadata", {{"name", "ip"}}},
      {"spec", {{"containers", {{{"name", "build"}, {"image", "registry.example/missing:1"}}}}}}};
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/pods", pod.dump()).status, 201);
  json p;
  for (int i = 0; i < 100; ++i) {
    p = json::parse(fake_->object_json("default", "pods", "ip"));
    if (p["status"]["containerStatuses"][0]["state"]["waiting"].value("reason", "") ==
        "ImagePullBackOff")
      break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(p["status"]["phase"], "Pending");
  EXPECT_EQ(p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"], "ImagePullBackOff");
  EXPECT_EQ(p["status"]["conditions"][2]["reason"], "ContainersNotReady");
  EXPECT_EQ(call("DELETE", "/api/v1/namespaces/default/pods/ip").status, 200);
}

TEST_F(FakeKubeTest, ActiveDeadlineFailsThePod) {
  json pod = {
      {"metadata", {{"name", "dl"}}},
      {"spec",
       {{"activeDeadlineSeconds", 1},
        {"containers", {{{"name", "build"}, {"image", "a"}, {"command", {"sleep", "30"}}}}}}}};
  ASSERT_EQ(call("POST", "/api/v1/namespaces/default/pods", pod.dump()).status, 201);
  json failed = pod_when("dl", "Failed");
  ASSERT_FALSE(failed.is_null());
  for (int i = 0; i < 50 && failed["status"].value("reason", "") != "DeadlineExceeded"; ++i) {
    std::this_thread::sleep_for(20ms);
    failed = json::parse(fake_->object_json("default", "pods", "dl"));
  }
  EXPECT_EQ(failed["status"]["reason"], "DeadlineExceeded");
  EXPECT_EQ(failed["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 137);
}

TEST(FakeKube, ExtraPathProvidesStandInPrograms) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "bin");
  std::filesystem::path tool = dir.path() / "bin" / "gitlab-runner-helper";
  {
    std::ofstream out(tool);
    out << "#!/bin/sh\necho helper \"$@\"\n";
  }
  std::filesystem::permissions(tool, std::filesystem::perms::owner_all);
  FakeKube fake(
      FakeKube::Options{.state_dir = dir.path() / "state", .extra_path = dir.path() / "bin"});
  ASSERT_NE(fake.port(), 0);
  CURL* curl = curl_easy_init();
  std::string url = fake.url() + "/api/v1/namespaces/default/pods";
  std::string body = json{{"metadata", {{"name", "h"}}},
                          {"spec",
                           {{"containers",
                             {{{"name", "helper"},
                               {"image", "helper"},
                               {"command", {"gitlab-runner-helper", "--version"}}}}}}}}
                         .dump();
  std::string answer;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, fake.ca_file().c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  struct curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  ASSERT_EQ(curl_easy_perform(curl), CURLE_OK);
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
  json p;
  for (int i = 0; i < 200; ++i) {
    p = json::parse(fake.object_json("default", "pods", "h"));
    if (p["status"].value("phase", "") == "Succeeded") break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(p["status"]["phase"], "Succeeded");
}

}  // namespace
}  // namespace glr
