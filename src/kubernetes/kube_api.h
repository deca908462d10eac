// The Kubernetes API calls the executor makes; KubeClient is the real one.
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>
#include <nlohmann/json.hpp>
#include "util/result.h"

namespace glr::kube {

// `resource` is the plural name in the core v1 group: "pods", "secrets", "services", "configmaps".
class KubeApi {
 public:
  virtual ~KubeApi() = default;
  // Returns the created object as the server stored it. 409 -> kConflict, 422 -> kInvalidInput,
  // 401/403 -> kUnauthorized, transient failures are retried inside, then kUnavailable.
  virtual Result<nlohmann::json> create(const std::string& ns, const std::string& resource,
                                        const nlohmann::json& object) = 0;
  virtual Result<nlohmann::json> get(const std::string& ns, const std::string& resource,
                                     const std::string& name) = 0;
  // 404 is success (already gone).
  virtual Result<> remove(const std::string& ns, const std::string& resource,
                          const std::string& name, std::optional<int> grace_period_seconds) = 0;
  virtual Result<std::vector<nlohmann::json>> list(const std::string& ns, const std::string& resource,
                                                   const std::string& label_selector) = 0;
  // Watches pod `name` (reconnecting as needed) until `done(pod)` is true -> that pod;
  // kTimeout after `timeout`, kCanceled when `stop` fires, kNotFound if it is deleted.
  virtual Result<nlohmann::json> wait_pod(const std::string& ns, const std::string& name,
                                          const std::function<bool(const nlohmann::json&)>& done,
                                          std::chrono::milliseconds timeout, std::stop_token stop) = 0;
  // Runs `command` in `container` of pod `name` over the exec WebSocket, writes `stdin_data`
  // then closes stdin, passes each stdout (1) / stderr (2) chunk to `output`; returns the exit code.
  // kCanceled when `stop` fires (the stream is closed).
  virtual Result<int> exec(const std::string& ns, const std::string& name, const std::string& container,
                           const std::vector<std::string>& command, std::string_view stdin_data,
                           const std::function<void(int channel, std::string_view)>& output,
                           std::stop_token stop) = 0;
  // Attaches to the stdin of `container` (which needs `stdin: true`), writes `stdin_data`,
  // closes this session's stdin and detaches; the container keeps running (the attach
  // strategy, executors §7.4). Attempts that started nothing are retried inside (kUnavailable
  // after the last); kIo when the stream broke after stdin may have been delivered.
  virtual Result<> attach_stdin(const std::string& ns, const std::string& name,
                                const std::string& container, std::string_view stdin_data,
                                std::stop_token stop) = 0;
  // Replaces the stored object (PUT) named by object.metadata.name, e.g. to add an
  // ownerReference; a metadata.resourceVersion that is not the stored one -> kConflict.
  virtual Result<nlohmann::json> update(const std::string& ns, const std::string& resource,
                                        const nlohmann::json& object) = 0;
};

}  // namespace glr::kube
