// Boost.Beast adapter for the metrics/debug endpoints. Asynchronous on a small thread pool with a
// per-connection timer, so garbage, slow or half-open clients can't block a scrape or stop().
#include "metrics/metrics_server.h"

#include <fmt/format.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "util/strings.h"

namespace glr {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";

std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view address) {
  auto invalid = [&](std::string_view why) {
    return fail(ErrorKind::kInvalidInput,
                fmt::format("invalid listen address \"{}\": {}", address, why));
  };
  if (address.empty()) return invalid("empty");
  std::string_view host;
  std::optional<std::string_view> port_text;  // nullopt: no port given
  if (address.front() == '[') {
    size_t close = address.find(']');
    if (close == std::string_view::npos) return invalid("missing ']'");
    host = address.substr(1, close - 1);
    std::string_view rest = address.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return invalid("unexpected text after ']'");
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = address.rfind(':');
    if (colon != std::string_view::npos) {
      host = address.substr(0, colon);
      if (host.find(':') != std::string_view::npos) return invalid("too many colons");
      port_text = address.substr(colon + 1);
    } else {
      host = address;
    }
  }
  if (host.find_first_of("[]") != std::string_view::npos) return invalid("unexpected bracket");
  ListenAddress out{.host = std::string(host)};
  if (port_text) {
    std::optional<uint16_t> port = parse_port(*port_text);
    if (!port) return invalid("port must be a number from 0 to 65535");
    out.port = *port;
  }
  return out;
}

namespace {

// What sessions share: the handlers and the routing. Lives as long as the server object.
struct Router {
  MetricsServerHandlers handlers;
  MetricsServerOptions options;
  std::atomic<bool> ready{false};

  http::response<http::string_body> handle(const http::request<http::string_body>& req);
};

}  // namespace

struct MetricsServer::Impl {
  Router router;
  std::atomic<uint16_t> port{0};

  std::mutex mu;  // start/stop
  std::unique_ptr<net::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::steady_timer> accept_retry;
  std::vector<std::thread> threads;

  void accept();
};

namespace {

// One client connection: read a request, write the response, repeat while keep-alive. Every
// step runs on the connection's strand under a deadline.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Router& server) : stream_(std::move(socket)), server_(server) {}

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::read, shared_from_this()));
  }

 private:
  void read();
  void on_read(beast::error_code ec, size_t bytes);
  void write();
  void on_write(beast::error_code ec, size_t bytes);
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Router& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
};

void Session::read() {
  parser_.emplace();
  parser_->header_limit(16 * 1024);
  parser_->body_limit(64 * 1024);
  stream_.expires_after(server_.options.io_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, size_t /*bytes*/) {
  if (ec == http::error::end_of_stream) return close();
  if (ec) {
    // A malformed request gets a 400 and the connection closes, as Go's net/http does; timeouts
    // and socket errors just drop the connection.
    if (ec.category() != http::make_error_code(http::error::bad_target).category()) return close();
    response_ = {};
    response_.result(http::status::bad_request);
    response_.version(11);
    response_.set(http::field::content_type, kTextContentType);
    response_.set(http::field::connection, "close");
    response_.body() = "400 Bad Request";
    response_.keep_alive(false);
    response_.prepare_payload();
    return write();
  }
  response_ = server_.handle(parser_->get());
  write();
}

void Session::write() {
  stream_.expires_after(server_.options.io_timeout);
  http::async_write(stream_, response_,
                    beast::bind_front_handler(&Session::on_write, shared_from_this()));
}

void Session::on_write(beast::error_code ec, size_t /*bytes*/) {
  if (ec) return close();
  if (!response_.keep_alive()) return close();
  read();
}

}  // namespace

void MetricsServer::Impl::accept() {
  acceptor->async_accept(net::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of descriptors and the like: back off briefly instead of spinning.
      accept_retry->expires_after(std::chrono::milliseconds(100));
      accept_retry->async_wait([this](beast::error_code timer_ec) {
        if (!timer_ec) accept();
      });
      return;
    }
    std::make_shared<Session>(std::move(socket), router)->start();
    accept();
  });
}

http::response<http::string_body> Router::handle(const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.result(http::status::ok);
  res.set(http::field::content_type, kTextContentType);

  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  std::string body;
  try {
    if (path == "/metrics") {
      if (req.method() != http::verb::get && req.method() != http::verb::head) {
        res.result(http::status::method_not_allowed);
        res.set("X-Content-Type-Options", "nosniff");
        body = "Method Not Allowed\n";
      } else {
        res.set(http::field::content_type, kMetricsContentType);
        if (handlers.metrics) body = handlers.metrics();
      }
    } else if (path == "/debug/jobs/list") {
      res.set(http::field::content_type, "text/plain");
      res.set("X-List-Version", "2");
      if (handlers.jobs_list) {
        for (const std::string& line : handlers.jobs_list()) {
          body += line;
          body += '\n';
        }
      }
    } else if (path == "/debug/process/state") {
      body = (handlers.process_state ? handlers.process_state() : std::string()) + "\n";
    } else if (path == "/health/ready") {
      if (ready.load()) {
        body = "ready\n";
      } else {
        res.result(http::status::service_unavailable);
        body = "boot-verify pending\n";
      }
    } else if (path == "/health/live") {
      body = "alive\n";
    } else {
      res.result(http::status::not_found);
      res.set("X-Content-Type-Options", "nosniff");
      body = "404 page not found\n";
    }
  } catch (const std::exception& e) {
    // A callback failure must not take the server thread down.
    res.result(http::status::internal_server_error);
    res.set(http::field::content_type, kTextContentType);
    body = fmt::format("internal error: {}\n", e.what());
  }

  if (req.method() == http::verb::head) {
    res.content_length(body.size());  // headers only, with the length a GET would have
  } else {
    res.body() = std::move(body);
    res.prepare_payload();
  }
  return res;
}

MetricsServer::MetricsServer(MetricsServerHandlers handlers, MetricsServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->router.handlers = std::move(handlers);
  impl_->router.options = options;
  if (impl_->router.options.threads < 1) impl_->router.options.threads = 1;
}

MetricsServer::~MetricsServer() { stop(); }

uint16_t MetricsServer::port() const { return impl_->port.load(); }

void MetricsServer::set_ready(bool ready) { impl_->router.ready.store(ready); }

Result<> MetricsServer::start(std::string_view listen_address) {
  Result<ListenAddress> address = parse_listen_address(listen_address);
  if (!address) return fail(address.error());

  std::lock_guard lock(impl_->mu);
  if (impl_->ioc) return fail(ErrorKind::kConflict, "metrics server already started");

  auto ioc = std::make_unique<net::io_context>(impl_->router.options.threads);
  std::vector<tcp::endpoint> candidates;
  beast::error_code ec;
  if (address->host.empty()) {
    // Like Go's ":port": every interface, dual-stack when IPv6 is available.
    candidates = {tcp::endpoint(net::ip::address_v6::any(), address->port),
                  tcp::endpoint(net::ip::address_v4::any(), address->port)};
  } else {
    tcp::resolver resolver(*ioc);
    tcp::resolver::results_type results = resolver.resolve(
        address->host, std::to_string(address->port), tcp::resolver::numeric_service, ec);
    if (ec) {
      return fail(ErrorKind::kUnavailable,
                  fmt::format("listen address {}: {}", listen_address, ec.message()));
    }
    // Go listens on one address of a host name, preferring IPv4.
    for (const auto& entry : results) {
      if (entry.endpoint().address().is_v4()) candidates.push_back(entry.endpoint());
    }
    for (const auto& entry : results) {
      if (entry.endpoint().address().is_v6()) candidates.push_back(entry.endpoint());
    }
  }

  auto acceptor = std::make_unique<tcp::acceptor>(*ioc);
  std::string last_error = "no address";
  bool bound = false;
  for (const tcp::endpoint& endpoint : candidates) {
    beast::error_code bind_ec;
    if (acceptor->is_open()) acceptor->close(bind_ec);
    acceptor->open(endpoint.protocol(), bind_ec);
    if (!bind_ec && endpoint.address().is_v6()) {
      acceptor->set_option(net::ip::v6_only(!endpoint.address().is_unspecified()), bind_ec);
    }
    if (!bind_ec) acceptor->set_option(net::socket_base::reuse_address(true), bind_ec);
    if (!bind_ec) acceptor->bind(endpoint, bind_ec);
    if (!bind_ec) acceptor->listen(net::socket_base::max_listen_connections, bind_ec);
    if (!bind_ec) {
      bound = true;
      break;
    }
    last_error = fmt::format("{}: {}", endpoint.address().to_string(), bind_ec.message());
  }
  if (!bound) {
    return fail(ErrorKind::kUnavailable,
                fmt::format("listen on {}: {}", listen_address, last_error));
  }

  impl_->port.store(acceptor->local_endpoint(ec).port());
  impl_->accept_retry = std::make_unique<net::steady_timer>(*ioc);
  impl_->acceptor = std::move(acceptor);
  impl_->ioc = std::move(ioc);
  impl_->accept();
  for (int i = 0; i < impl_->router.options.threads; ++i) {
    impl_->threads.emplace_back([ioc = impl_->ioc.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception&) {
          // A handler threw; keep serving the other connections.
        }
      }
    });
  }
  return {};
}

void MetricsServer::stop() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->ioc) return;
  impl_->ioc->stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  // Destroying the io_context destroys pending handlers and with them every open connection.
  impl_->accept_retry.reset();
  impl_->acceptor.reset();
  impl_->ioc.reset();
  impl_->port.store(0);
}

}  // namespace glr
