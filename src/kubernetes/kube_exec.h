// The exec WebSocket (Kubernetes remotecommand channel protocol v5/v4) as one function, so the
// Beast and OpenSSL headers stay in kube_exec.cc.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "kubernetes/kube_config.h"
#include "util/result.h"

namespace glr::kube {

// GETs `target` (path and query of .../pods/<name>/exec?...) with an Upgrade to WebSocket,
// sends `stdin_data` on channel 0 (when `with_stdin`) and closes it (v5 channel 255), then
// passes channel 1/2 frames to `output` and returns the exit code from channel 3.
// Errors: kUnavailable when nothing was started (connect, TLS, upgrade declined whatever the
// status: Beast does not hand the declined answer back; safe to retry); kCanceled when
// `stop` fired; kIo when the stream broke after the upgrade; kInternal for a failure status.
// `detach_after_stdin` (attach): close the WebSocket after stdin and return 0 at once.
Result<int> websocket_exec(const KubeConfig& config, const std::string& token,
                           const std::string& target, bool with_stdin, std::string_view stdin_data,
                           const std::function<void(int channel, std::string_view)>& output,
                           std::stop_token stop, bool detach_after_stdin = false);

}  // namespace glr::kube
