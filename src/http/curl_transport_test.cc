// CurlTransport against a one-shot HTTP server on 127.0.0.1: status, headers and
// body round-trip, and a stop cancels a request the server never answers.
#include "http/curl_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

namespace glr {
namespace {

using namespace std::chrono_literals;

// Accepts ONE connection and answers the requests on it in order with the canned
// answers; an empty answer means "never answer" (held until the server dies).
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) : OneShotServer(std::vector<std::string>{answer}) {}
  explicit OneShotServer(std::vector<std::string> answers) : answers_(std::move(answers)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 4);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    try {
      hold_.set_value();
    } catch (...) {
    }
    thread_.join();
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // The first request, once it has fully arrived.
  std::future<std::string> request() { return request_.get_future(); }
  int requests_served() const { return served_.load(); }

 private:
  void serve() {
    int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    std::string pending;
    for (size_t i = 0; i < answers_.size(); ++i) {
      std::string req = read_request(c, pending);
      if (req.empty()) break;
      if (i == 0) request_.set_value(req);
      if (answers_[i].empty()) {
        hold_.get_future().wait_for(10s);
        break;
      }
      // Counted before the answer goes out: the client may check the count as soon
      // as it has read the answer.
      ++served_;
      (void)!::write(c, answers_[i].data(), answers_[i].size());
    }
    ::close(c);
  }
  // Reads one request (headers + Content-Length body); bytes past it stay in `pending`.
  static std::string read_request(int c, std::string& pending) {
    char buf[4096];
    auto fill = [&] {
      ssize_t n = ::read(c, buf, sizeof(buf));
      if (n <= 0) return false;
      pending.append(buf, static_cast<size_t>(n));
      return true;
    };
    while (pending.find("\r\n\r\n") == std::string::npos) {
      if (!fill()) return {};
    }
    size_t head = pending.find("\r\n\r\n") + 4;
    size_t want = 0;
    size_t cl = pending.find("Content-Length: ");
    if (cl != std::string::npos && cl < head) want = std::stoul(pending.substr(cl + 16));
    while (pending.size() < head + want) {
      if (!fill()) return {};
    }
    std::string req = pending.substr(0, head + want);
    pending.erase(0, head + want);
    return req;
  }

  std::vector<std::string> answers_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> served_{0};
  std::promise<std::string> request_;
  std::promise<void> hold_;
  std::thread thread_;
};

TEST(CurlTransport, RoundTripsStatusHeadersAndBody) {
  OneShotServer server(
      "HTTP/1.1 202 Accepted\r\nRange: 0-11\r\nJob-Status: running\r\nContent-Length: 3\r\n"
      "Connection: close\r\n\r\n202");
  auto request = server.request();
  CurlTransport t;
  HttpRequest req;
  req.method = "PATCH";
  req.url = server.url("/api/v4/jobs/1/trace");
  req.headers = {{"Content-Range", "0-10"}, {"JOB-TOKEN", "tok"}};
  req.body = "hello world";
  Result<HttpResponse> r = t.send(req, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->header("range"), "0-11");
  EXPECT_EQ(r->header("Job-Status"), "running");
  EXPECT_EQ(r->body, "202");
  std::string sent = request.get();
  EXPECT_EQ(sent.rfind("PATCH /api/v4/jobs/1/trace HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(sent.find("Content-Range: 0-10\r\n"), std::string::npos);
  EXPECT_TRUE(sent.ends_with("\r\n\r\nhello world"));
}

TEST(CurlTransport, StopCancelsAHangingRequest) {
  OneShotServer server("");  // never answers
  CurlTransport t;
  std::stop_source stop;
  HttpRequest req;
  req.method = "POST";
  req.url = server.url("/api/v4/jobs/request");
  req.body = "{}";
  auto started = std::chrono::steady_clock::now();
  std::thread stopper([&] {
    server.request().wait_for(10s);
    stop.request_stop();
  });
  Result<HttpResponse> r = t.send(req, stop.get_token());
  stopper.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCanceled);
  // The stop wakes the transfer at once instead of at the next progress tick.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
}

TEST(CurlTransport, RequestTimeoutIsTimeout) {
  OneShotServer server("");  // never answers
  CurlTransport t;
  HttpRequest req;
  req.url = server.url("/slow");
  req.timeout = 30ms;
  Result<HttpResponse> r = t.send(req, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
}

TEST(CurlTransport, ReusesTheKeepAliveConnection) {
  // The server accepts a single connection: a second connect would never be answered.
  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  OneShotServer server(std::vector<std::string>{ok, ok});
  CurlTransport t;
  HttpRequest req;
  req.url = server.url("/a");
  req.timeout = 2s;
  ASSERT_TRUE(t.send(req, {}));
  Result<HttpResponse> second = t.send(req, {});
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->body, "ok");
  EXPECT_EQ(server.requests_served(), 2);
}

TEST(CurlTransport, AlreadyStoppedSendsNothing) {
  CurlTransport t;
  std::stop_source stop;
  stop.request_stop();
  HttpRequest req;
  req.url = "http://127.0.0.1:1/";
  Result<HttpResponse> r = t.send(req, stop.get_token());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCanceled);
}

TEST(CurlTransport, RefusedConnectionIsUnavailable) {
  CurlTransport t;
  HttpRequest req;
  req.url = "http://127.0.0.1:1/";
  Result<HttpResponse> r = t.send(req, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUnavailable);
}

}  // namespace
}  // namespace glr
