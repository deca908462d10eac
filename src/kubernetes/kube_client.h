// KubeClient: the real KubeApi over HTTPS (executors §7.4). REST calls and watch streams go
// through libcurl, exec through a Beast WebSocket (v5.channel.k8s.io, else v4).
#pragma once

#include <chrono>
#include <memory>

#include "kubernetes/kube_api.h"
#include "kubernetes/kube_config.h"
#include "util/clock.h"

namespace glr::kube {

// Thread-safe; `clock` must outlive the client.
//
// Retries (executors §7.4 retry_limit / retry_backoff_max): connection failures (refused, reset,
// nothing received, TLS), HTTP 429/500/502/503/504 and bodies naming etcd timeouts are retried
// up to `max_attempts` requests in all, waiting backoff_min, doubling up to backoff_max, or the
// Retry-After seconds when the server sends them (capped at retry_after_max). A create that
// failed transiently may therefore have been stored: the retry then answers kConflict.
//
// wait_pod: GET, then a watch from that resourceVersion on metadata.name; a dropped stream or a
// server-side watch timeout reconnects from the last resourceVersion seen, 410 Gone relists.
//
// exec: output is read whenever it arrives while stdin is written, then stdin is closed with
// the v5 close frame; a server that only speaks v4 cannot close stdin, so exec with stdin fails
// there (kInternal).
class KubeClient final : public KubeApi {
 public:
  struct Options {
    int max_attempts = 5;
    std::chrono::milliseconds backoff_min{500};
    std::chrono::milliseconds backoff_max{2000};
    std::chrono::seconds retry_after_max{30};
    std::chrono::seconds request_timeout{60};
    std::chrono::seconds watch_timeout{300};  // one watch request; the server may end it sooner
  };

  KubeClient(KubeConfig config, Clock& clock);
  KubeClient(KubeConfig config, Clock& clock, Options options);
  ~KubeClient() override;
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  Result<nlohmann::json> create(const std::string& ns, const std::string& resource,
                                const nlohmann::json& object) override;
  Result<nlohmann::json> get(const std::string& ns, const std::string& resource,
                             const std::string& name) override;
  Result<> remove(const std::string& ns, const std::string& resource, const std::string& name,
                  std::optional<int> grace_period_seconds) override;
  Result<std::vector<nlohmann::json>> list(const std::string& ns, const std::string& resource,
                                           const std::string& label_selector) override;
  Result<nlohmann::json> wait_pod(const std::string& ns, const std::string& name,
                                  const std::function<bool(const nlohmann::json&)>& done,
                                  std::chrono::milliseconds timeout, std::stop_token stop) override;
  Result<int> exec(const std::string& ns, const std::string& name, const std::string& container,
                   const std::vector<std::string>& command, std::string_view stdin_data,
                   const std::function<void(int channel, std::string_view)>& output,
                   std::stop_token stop) override;
  Result<nlohmann::json> update(const std::string& ns, const std::string& resource,
                                const nlohmann::json& object) override;
  Result<> attach_stdin(const std::string& ns, const std::string& name,
                        const std::string& container, std::string_view stdin_data,
                        std::stop_token stop) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Exit code from an exec status-channel (3) body: 0 for Success, N for a NonZeroExitCode
// Failure (details.causes[reason=ExitCode].message); any other Failure is an error.
Result<int> exit_code_from_status(std::string_view status_json);

// Whether an HTTP answer is worth retrying (429, 5xx gateway/unavailable, etcd timeouts).
bool is_transient_status(int status, std::string_view body);

}  // namespace glr::kube
