// The metrics and debug HTTP server on `listen_address` (api spec §9.1, §8.1). It serves what
// callbacks return, so it knows nothing of jobs or runners; Boost.Beast stays in the .cc file.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace glr {

inline constexpr uint16_t kDefaultMetricsPort = 9252;

struct ListenAddress {
  std::string host{};  // empty: every interface; IPv6 literals without brackets
  uint16_t port = kDefaultMetricsPort;
  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Parses the official syntax (Go net.SplitHostPort): "host:port", ":port", "[v6]:port"; an
// address without a port ("localhost", "[::1]") gets 9252. kInvalidInput for anything else
// ("::1", "host:", "host:http", "host:70000").
Result<ListenAddress> parse_listen_address(std::string_view address);

// What the endpoints serve. Each callback may run on any server thread and must be thread-safe;
// an empty callback serves an empty body.
struct MetricsServerHandlers {
  std::function<std::string()> metrics{};                 // /metrics: exposition text
  std::function<std::vector<std::string>()> jobs_list{};  // /debug/jobs/list: lines, no '\n'
  std::function<std::string()> process_state{};           // /debug/process/state: one word
};

struct MetricsServerOptions {
  // A client that has not sent a complete request (or read the response) within this time is
  // disconnected, so a slow or half-open client costs one socket and nothing else.
  std::chrono::milliseconds io_timeout{10000};
  int threads = 2;
};

// Endpoints: GET/HEAD /metrics (others 405), /debug/jobs/list (X-List-Version: 2),
// /debug/process/state, /health/ready (503 "boot-verify pending" until set_ready(true), then 200
// "ready"), /health/live (always 200 "alive"; our addition, the official runner has none);
// anything else 404. Thread-safe; the destructor stops the server.
class MetricsServer {
 public:
  explicit MetricsServer(MetricsServerHandlers handlers, MetricsServerOptions options = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and starts serving. kInvalidInput for a bad address, kUnavailable when the address
  // can't be resolved or bound, kConflict if already started.
  Result<> start(std::string_view listen_address);
  // The bound port (useful after starting on port 0); 0 before start().
  uint16_t port() const;
  // Closes the listener and every connection and joins the threads. Idempotent.
  void stop();

  void set_ready(bool ready);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glr
