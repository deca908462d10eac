// The exec WebSocket over Beast + OpenSSL: channel-prefixed binary frames (0 stdin, 1 stdout,
// 2 stderr, 3 status, v5: 255 close) as the API server's remotecommand protocol defines them.
#include "kubernetes/kube_exec.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cerrno>
#include <mutex>

#include "kubernetes/kube_client.h"
#include "util/strings.h"

namespace glr::kube {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t kStdinChunk = 32 * 1024;

struct Endpoint {
  bool tls = true;
  std::string host{};
  std::string port{};
  std::string base_path{};
};

Result<Endpoint> parse_server(const std::string& server) {
  Endpoint e;
  std::string rest;
  if (starts_with(server, "https://")) {
    rest = server.substr(8);
  } else if (starts_with(server, "http://")) {
    e.tls = false;
    rest = server.substr(7);
  } else {
    return fail(ErrorKind::kInvalidInput, "server URL " + server + " is not http(s)");
  }
  std::size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) e.base_path = rest.substr(slash);
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  std::size_t colon = hostport.rfind(':');
  if (!hostport.empty() && hostport[0] == '[') {  // [v6]:port
    std::size_t close = hostport.find(']');
    e.host = hostport.substr(1, close - 1);
    e.port = close + 1 < hostport.size() ? hostport.substr(close + 2) : "";
  } else if (colon != std::string::npos) {
    e.host = hostport.substr(0, colon);
    e.port = hostport.substr(colon + 1);
  } else {
    e.host = hostport;
  }
  if (e.port.empty()) e.port = e.tls ? "443" : "80";
  return e;
}

// Runs the protocol on an established stream (TCP or TLS).
template <class Stream>
Result<int> run_exec(websocket::stream<Stream>& ws, const Endpoint& ep, const std::string& token,
                     const std::string& target, bool with_stdin, std::string_view stdin_data,
                     const std::function<void(int, std::string_view)>& output, std::stop_token stop,
                     int native_fd, bool detach_after_stdin) {
  std::atomic<bool> canceled{false};
  // Blocking reads and writes end when the socket is shut down under them.
  std::stop_callback on_stop(stop, [&] {
    canceled = true;
    ::shutdown(native_fd, SHUT_RDWR);
  });
  const std::string what = "exec " + target.substr(0, target.find('?'));
  ws.set_option(websocket::stream_base::decorator([&token](websocket::request_type& req) {
    req.set(http::field::sec_websocket_protocol, "v5.channel.k8s.io, v4.channel.k8s.io");
    req.set(http::field::user_agent, "glrunner");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  }));
  websocket::response_type res;
  boost::system::error_code ec;
  ws.handshake(res, ep.host + ":" + ep.port, ep.base_path + target, ec);
  if (canceled) return fail(ErrorKind::kCanceled, what + ": canceled");
  if (ec) {
    // Beast keeps the declined answer to itself (the response stays default-constructed), so
    // the caller classifies a declined upgrade by looking at the pod.
    return fail(ErrorKind::kUnavailable, what + ": WebSocket upgrade: " + ec.message());
  }
  std::string protocol(res[http::field::sec_websocket_protocol]);
  bool v5 = protocol == "v5.channel.k8s.io";
  if (!v5 && protocol != "v4.channel.k8s.io") {
    return fail(ErrorKind::kInternal, what + ": server chose subprotocol \"" + protocol + "\"");
  }
  ws.binary(true);
  std::optional<std::string> status;
  beast::flat_buffer buffer;
  bool ended = false;  // the server closed the stream
  auto read_one = [&]() {
    ws.read(buffer, ec);
    if (ec) {
      ended = true;
      return;
    }
    std::string msg = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    if (msg.empty()) return;
    int channel = static_cast<unsigned char>(msg[0]);
    std::string_view data = std::string_view(msg).substr(1);
    if (channel == 1 || channel == 2) {
      if (!data.empty()) output(channel, data);
    } else if (channel == 3) {
      status = (status ? *status : "") + std::string(data);
    }
  };
  if (with_stdin) {
    if (!v5) {
      return fail(ErrorKind::kInternal,
                  what + ": the server speaks only v4.channel.k8s.io, which cannot close stdin");
    }
    // Output is read whenever it arrives while stdin is written: a process that writes much
    // before it reads would otherwise block on its output while we block on its input.
    std::string frame;
    auto write_frame = [&](std::string_view bytes) {
      while (!ended && !canceled) {
        pollfd p{native_fd, POLLIN | POLLOUT, 0};
        if (::poll(&p, 1, 1000) < 0 && errno != EINTR) break;
        if (p.revents & POLLIN) {
          read_one();
        } else if (p.revents & (POLLOUT | POLLERR | POLLHUP)) {
          break;
        }
      }
      if (ended || canceled) return;
      ws.write(asio::buffer(bytes.data(), bytes.size()), ec);
      if (ec) ended = true;
    };
    for (std::size_t off = 0; off < stdin_data.size() && !ended && !canceled; off += kStdinChunk) {
      frame.assign(1, '\0');
      frame.append(stdin_data.substr(off, kStdinChunk));
      write_frame(frame);
    }
    const char close_stdin[2] = {static_cast<char>(255), 0};
    write_frame(std::string_view(close_stdin, 2));
    if (canceled) return fail(ErrorKind::kCanceled, what + ": canceled");
    // A process that exits without reading all of stdin ends the stream early; its status
    // still counts.
    if (ended && !status && ec != websocket::error::closed) {
      return fail(ErrorKind::kIo, what + ": writing stdin: " + ec.message());
    }
  }
  if (detach_after_stdin) {
    ws.close(websocket::close_code::normal, ec);
    return 0;
  }
  while (!ended) read_one();
  if (canceled) return fail(ErrorKind::kCanceled, what + ": canceled");
  if (ec != websocket::error::closed && ec != asio::error::eof &&
      ec != ssl::error::stream_truncated && !status) {
    return fail(ErrorKind::kIo, what + ": stream broke: " + ec.message());
  }
  if (!status) return fail(ErrorKind::kIo, what + ": stream ended without an exit status");
  return exit_code_from_status(*status);
}

}  // namespace

Result<int> websocket_exec(const KubeConfig& config, const std::string& token,
                           const std::string& target, bool with_stdin, std::string_view stdin_data,
                           const std::function<void(int channel, std::string_view)>& output,
                           std::stop_token stop, bool detach_after_stdin) {
  Result<Endpoint> ep = parse_server(config.server);
  if (!ep) return fail(ep.error());
  if (stop.stop_requested()) return fail(ErrorKind::kCanceled, "exec: canceled");
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(ep->host, ep->port, ec);
    if (ec)
      return fail(ErrorKind::kUnavailable, "exec: resolving " + ep->host + ": " + ec.message());
    if (!ep->tls) {
      websocket::stream<tcp::socket> ws(io);
      asio::connect(ws.next_layer(), endpoints, ec);
      if (ec)
        return fail(ErrorKind::kUnavailable,
                    "exec: connecting to " + config.server + ": " + ec.message());
      return run_exec(ws, *ep, token, target, with_stdin, stdin_data, output, stop,
                      ws.next_layer().native_handle(), detach_after_stdin);
    }
    ssl::context ctx(ssl::context::tls_client);
    if (config.insecure_skip_tls_verify) {
      ctx.set_verify_mode(ssl::verify_none);
    } else {
      ctx.set_verify_mode(ssl::verify_peer);
      if (!config.ca_pem.empty()) {
        ctx.add_certificate_authority(asio::buffer(config.ca_pem), ec);
        if (ec)
          return fail(ErrorKind::kInvalidInput,
                      config.source + ": certificate authority: " + ec.message());
      } else {
        ctx.set_default_verify_paths();
      }
    }
    if (!config.client_cert_pem.empty()) {
      ctx.use_certificate_chain(asio::buffer(config.client_cert_pem), ec);
      if (!ec) ctx.use_private_key(asio::buffer(config.client_key_pem), ssl::context::pem, ec);
      if (ec)
        return fail(ErrorKind::kInvalidInput,
                    config.source + ": client certificate: " + ec.message());
    }
    websocket::stream<beast::ssl_stream<tcp::socket>> ws(io, ctx);
    auto& tls = ws.next_layer();
    if (!config.insecure_skip_tls_verify)
      tls.set_verify_callback(ssl::host_name_verification(ep->host));
    // SSL_set_tlsext_host_name is a macro with a C cast.
    SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(ep->host.c_str()));
    asio::connect(beast::get_lowest_layer(ws), endpoints, ec);
    if (ec)
      return fail(ErrorKind::kUnavailable,
                  "exec: connecting to " + config.server + ": " + ec.message());
    tls.handshake(ssl::stream_base::client, ec);
    if (ec)
      return fail(ErrorKind::kUnavailable,
                  "exec: TLS handshake with " + config.server + ": " + ec.message());
    return run_exec(ws, *ep, token, target, with_stdin, stdin_data, output, stop,
                    beast::get_lowest_layer(ws).native_handle(), detach_after_stdin);
  } catch (const std::exception& e) {
    return fail(ErrorKind::kIo, std::string("exec: ") + e.what());
  }
}

}  // namespace glr::kube
