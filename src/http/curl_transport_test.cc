// CurlTransport against a one-shot HTTP server on 127.0.0.1: status, headers and
// body round-trip, and a stop cancels a request the server never answers.
#include "http/curl_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

namespace glr {
namespace {

using namespace std::chrono_literals;

class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 1);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof(buf));
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      size_t cl = req.find("Content-Length: ");
      if (cl != std::string::npos) {
        size_t want = std::stoul(req.substr(cl + 16));
        size_t have = req.size() - req.find("\r\n\r\n") - 4;
        while (have < want) {
          ssize_t n = ::read(c, buf, sizeof(buf));
          if (n <= 0) break;
          req.append(buf, static_cast<size_t>(n));
          have += static_cast<size_t>(n);
        }
      }
      request_.set_value(req);
      if (!answer_.empty()) {
        (void)!::write(c, answer_.data(), answer_.size());
      } else {
        hold_.get_future().wait_for(10s);
      }
      ::close(c);
    });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    try { hold_.set_value(); } catch (...) {}
    thread_.join();
  }
  int port() const { return port_; }
  std::future<std::string> request() { return request_.get_future(); }

 private:
  std::string answer_;
  int fd_ = -1;
  int port_ = 0;
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
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/api/v4/jobs/1/trace";
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
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/api/v4/jobs/request";
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
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
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
