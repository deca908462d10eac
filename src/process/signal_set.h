// The runner's signal handling without async handlers (STYLE C6): main blocks the
// signals it cares about before any thread exists and reads them synchronously.
#pragma once

#include <chrono>
#include <optional>

namespace glr {

// Blocks SIGINT, SIGTERM, SIGQUIT and SIGHUP in the calling thread (threads created
// afterwards inherit the mask) and ignores SIGPIPE process-wide. Call from main before
// starting any thread. Children get a clean mask and default dispositions from
// Subprocess::spawn, so none of this leaks into jobs.
void block_runner_signals();

// Waits up to `timeout` for one of the blocked runner signals and returns its number,
// or nullopt on timeout (or an interrupted wait). REQUIRES: block_runner_signals().
std::optional<int> wait_signal(std::chrono::milliseconds timeout);

}  // namespace glr
