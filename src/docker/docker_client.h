// A small Docker Engine API client (executors spec §7.3): unix socket or tcp[+TLS]
// through libcurl, API version negotiation, JSON bodies, multiplexed attach streams
// and the archive endpoints. No docker CLI is involved.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "util/result.h"

namespace glr {

struct DockerEndpoint {
  std::string host{};  // unix:///var/run/docker.sock, tcp://127.0.0.1:2375
  bool tls_verify = false;
  std::string tls_cert_path{};  // directory with ca.pem, cert.pem, key.pem
  friend bool operator==(const DockerEndpoint&, const DockerEndpoint&) = default;
};

// `host` from config wins; else DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH from
// `env` ("KEY=VALUE"); else the default unix socket.
DockerEndpoint resolve_docker_endpoint(const std::string& host, bool tls_verify,
                                       const std::string& tls_cert_path,
                                       const std::vector<std::string>& env);

struct DockerResponse {
  long status = 0;
  std::string body{};
};

// The API versions this client speaks: negotiated down to the daemon's, never above ours.
inline constexpr const char* kDockerMaxApiVersion = "1.44";
inline constexpr const char* kDockerMinApiVersion = "1.24";

// Thread-compatible; each job owns its client (one curl handle per request).
class DockerClient {
 public:
  explicit DockerClient(DockerEndpoint endpoint);
  const DockerEndpoint& endpoint() const { return endpoint_; }

  // GET /_ping and /version; picks min(daemon ApiVersion, ours). kUnavailable when the
  // daemon does not answer; kInvalidInput for a bad host value.
  Result<> connect();
  const std::string& api_version() const { return api_version_; }
  const std::string& os_type() const { return os_type_; }

  // One request under /v<api>. `body` is sent as JSON unless `content_type` says
  // otherwise. Transport failures are errors; HTTP statuses are returned as values.
  Result<DockerResponse> request(const std::string& method, const std::string& path,
                                 const std::string& body = {},
                                 const std::string& content_type = "application/json",
                                 long timeout_seconds = 300,
                                 const std::vector<std::string>& headers = {});

  // POST /containers/<id>/attach?stream=1&stdout=1&stderr=1 and streams the demultiplexed
  // frames to `on_output(is_stderr, bytes)` until the container's streams close.
  // `on_attached` runs once the daemon accepted the attach (start the container then);
  // returning false abandons the attach at once (the start failed).
  // Returns kCanceled when `stop` was requested.
  Result<> attach(const std::string& id, const std::function<bool()>& on_attached,
                  const std::function<void(bool, std::string_view)>& on_output,
                  std::stop_token stop);

  // GET /containers/<id>/logs (non-follow): stdout+stderr, demultiplexed, concatenated.
  Result<std::string> logs(const std::string& id, int tail_bytes_limit = 65536);

 private:
  std::string url(const std::string& path) const;
  void configure(void* curl) const;

  DockerEndpoint endpoint_;
  std::string base_url_;     // http://localhost or https://host:port
  std::string socket_path_;  // unix socket, empty for tcp
  std::string api_version_ = kDockerMaxApiVersion;
  std::string os_type_;
};

// Splits the Docker multiplexed stream format (8-byte headers: stream, 0,0,0, BE size)
// incrementally; bytes of an incomplete frame stay buffered.
class DockerStreamDemuxer {
 public:
  void feed(std::string_view bytes, const std::function<void(bool, std::string_view)>& out);

 private:
  std::string buffer_;
};

// "1.43" < "1.44": dotted numeric comparison.
int compare_api_versions(const std::string& a, const std::string& b);

// URL query escaping for filters and names.
std::string docker_url_escape(const std::string& s);

}  // namespace glr
