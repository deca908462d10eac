// Integration tests for the metrics/debug HTTP server (api spec §9.1) over real loopback sockets:
// raw sockets for byte-level control (garbage, slow clients), libcurl as a real client.
#include "metrics/metrics_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

namespace glr {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// A blocking loopback client with bounded waits.
class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  bool connected() const { return connected_; }
  // False if the server closed or reset the connection before taking everything.
  bool send(std::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads until the server closes the connection or `limit` passes.
  std::string read_all(std::chrono::milliseconds limit = 5000ms) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  bool closed() const { return closed_; }
  ~RawClient() { ::close(fd_); }

 private:
  int fd_;
  bool connected_ = false;
  bool closed_ = false;
};

std::string request(uint16_t port, std::string_view raw) {
  RawClient client(port);
  EXPECT_TRUE(client.connected());
  (void)client.send(raw);  // a server that rejects early may reset before we finish
  return client.read_all();
}

std::string get(uint16_t port, std::string_view path, std::string_view method = "GET") {
  return request(port, std::string(method) + " " + std::string(path) +
                           " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<MetricsServer>(
        MetricsServerHandlers{
            .metrics = [] { return std::string("# HELP a A.\n# TYPE a gauge\na 1\n"); },
            .jobs_list =
                [] {
                  return std::vector<std::string>{
                      "url=https://gitlab.example.com/g/p/-/jobs/1 state=running stage=step_script "
                      "executor_stage=docker_run duration=1.5s",
                      "url=https://gitlab.example.com/g/p/-/jobs/2 state=pending stage= "
                      "executor_stage= duration=0s"};
                },
            .process_state = [] { return std::string("running"); }},
        MetricsServerOptions{.io_timeout = 300ms, .threads = 2});
    Result<> started = server_->start("127.0.0.1:0");
    ASSERT_TRUE(started) << started.error().message;
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }

  std::unique_ptr<MetricsServer> server_;
  uint16_t port_ = 0;
};

TEST_F(MetricsServerTest, GetMetricsServesExpositionWithContentType) {
  std::string response = get(port_, "/metrics");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\n\r\n# HELP a A.\n# TYPE a gauge\na 1\n"));
}

TEST_F(MetricsServerTest, HeadMetricsHasLengthButNoBody) {
  std::string response = get(port_, "/metrics", "HEAD");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Length: 31\r\n"));
  EXPECT_THAT(response, Not(HasSubstr("# HELP")));
}

TEST_F(MetricsServerTest, PostMetricsIs405) {
  std::string response = request(
      port_,
      "POST /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(response, Not(HasSubstr("a 1")));
}

TEST_F(MetricsServerTest, JobsListHasVersionHeaderAndOneLinePerJob) {
  std::string response = get(port_, "/debug/jobs/list");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("X-List-Version: 2\r\n"));
  EXPECT_THAT(response, HasSubstr("Content-Type: text/plain\r\n"));
  EXPECT_THAT(response,
              HasSubstr("\r\n\r\nurl=https://gitlab.example.com/g/p/-/jobs/1 state=running "
                        "stage=step_script executor_stage=docker_run duration=1.5s\n"
                        "url=https://gitlab.example.com/g/p/-/jobs/2 state=pending stage= "
                        "executor_stage= duration=0s\n"));
}

TEST_F(MetricsServerTest, ProcessStateIsOneWord) {
  std::string response = get(port_, "/debug/process/state");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\n\r\nrunning\n"));
}

TEST_F(MetricsServerTest, ReadyIs503UntilSetReady) {
  std::string before = get(port_, "/health/ready");
  EXPECT_THAT(before, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(before, HasSubstr("\r\n\r\nboot-verify pending\n"));
  server_->set_ready(true);
  std::string after = get(port_, "/health/ready");
  EXPECT_THAT(after, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(after, HasSubstr("\r\n\r\nready\n"));
  EXPECT_THAT(get(port_, "/health/live"), HasSubstr("\r\n\r\nalive\n"));
}

TEST_F(MetricsServerTest, UnknownPathIs404) {
  EXPECT_THAT(get(port_, "/nope"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(get(port_, "/metrics/extra"), StartsWith("HTTP/1.1 404 Not Found\r\n"));
}

TEST_F(MetricsServerTest, QueryStringIsIgnoredForRouting) {
  EXPECT_THAT(get(port_, "/metrics?x=1"), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsServerTest, GarbageGets400AndServerKeepsServing) {
  std::string response = request(port_, "\x01\x02 garbage \xff\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  std::string huge_header =
      "GET /metrics HTTP/1.1\r\nX: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  (void)request(port_, huge_header);
  EXPECT_THAT(get(port_, "/metrics"), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST_F(MetricsServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  RawClient client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.send("GET /debug/process/state HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string both = client.read_all();
  EXPECT_THAT(both, HasSubstr("running\n"));
  EXPECT_THAT(both, HasSubstr("a 1\n"));
}

TEST_F(MetricsServerTest, SlowClientDoesNotBlockOthersAndTimesOut) {
  RawClient slow(port_);
  ASSERT_TRUE(slow.connected());
  ASSERT_TRUE(slow.send("GET /metrics HTTP/1.1\r\nHost:"));  // never finishes
  RawClient idle(port_);                                     // never sends anything
  ASSERT_TRUE(idle.connected());
  for (int i = 0; i < 4; ++i) EXPECT_THAT(get(port_, "/metrics"), StartsWith("HTTP/1.1 200 OK"));
  // io_timeout is 300 ms; the server drops both within the bounded wait.
  (void)slow.read_all(3000ms);
  (void)idle.read_all(3000ms);
  EXPECT_TRUE(slow.closed());
  EXPECT_TRUE(idle.closed());
}

TEST_F(MetricsServerTest, StopIsPromptWithClientsConnected) {
  RawClient idle(port_);
  ASSERT_TRUE(idle.connected());
  RawClient partial(port_);
  ASSERT_TRUE(partial.send("GET /metr"));
  // Make sure the server has accepted both before stopping.
  EXPECT_THAT(get(port_, "/metrics"), StartsWith("HTTP/1.1 200 OK"));
  auto begin = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 250ms);
  EXPECT_EQ(server_->port(), 0);
  (void)idle.read_all(1000ms);
  EXPECT_TRUE(idle.closed());
  RawClient refused(port_);
  EXPECT_FALSE(refused.connected());
  server_->stop();  // idempotent
}

TEST_F(MetricsServerTest, SecondStartIsConflict) {
  Result<> again = server_->start("127.0.0.1:0");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::kConflict);
}

TEST_F(MetricsServerTest, PortInUseIsUnavailable) {
  MetricsServer other(MetricsServerHandlers{});
  Result<> started = other.start("127.0.0.1:" + std::to_string(port_));
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().kind, ErrorKind::kUnavailable);
}

TEST(MetricsServer, BadAddressIsInvalidInput) {
  MetricsServer server(MetricsServerHandlers{});
  Result<> started = server.start("::1");
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().kind, ErrorKind::kInvalidInput);
}

TEST(MetricsServer, RestartsAfterStopAndServesLocalhostName) {
  MetricsServer server(MetricsServerHandlers{.metrics = [] { return std::string("x 1\n"); }});
  ASSERT_TRUE(server.start("localhost:0"));
  server.stop();
  ASSERT_TRUE(server.start("127.0.0.1:0"));
  EXPECT_THAT(get(server.port(), "/metrics"), HasSubstr("x 1\n"));
}

size_t append_to_string(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

TEST_F(MetricsServerTest, CurlScrapesConcurrently) {
  ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, &ok] {
      CURL* curl = curl_easy_init();
      std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/metrics";
      for (int i = 0; i < 10; ++i) {
        std::string body;
        curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_to_string);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
        long code = 0;
        char* type = nullptr;
        if (curl_easy_perform(curl) == CURLE_OK &&
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
            curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && code == 200 &&
            type != nullptr && std::string(type) == "text/plain; version=0.0.4; charset=utf-8" &&
            body == "# HELP a A.\n# TYPE a gauge\na 1\n") {
          ++ok;
        }
      }
      curl_easy_cleanup(curl);
    });
  }
  for (std::thread& t : threads) t.join();
  curl_global_cleanup();
  EXPECT_EQ(ok.load(), 40);
}

}  // namespace
}  // namespace glr
