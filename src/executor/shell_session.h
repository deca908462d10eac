// One bash per job that runs each stage script in a subshell of its own (used by `exec`).
// The official shell executor starts a shell per stage (executors §7.2); for a trivial
// local job those starts are most of its cost, while a fork of a running shell is cheap.
// What a stage sees stays the same: a fresh subshell with the job environment, stdin from
// /dev/null (the generated scripts give user code nothing else), and its own process
// group, so a cancel reaches exactly the stage and what it leaves running dies with it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "executor/executor.h"
#include "process/subprocess.h"
#include "util/result.h"

namespace glr {

struct ShellSessionOptions {
  std::vector<std::string> argv{};  // the shell, e.g. {"bash"}; must be bash
  std::vector<std::string> env{};   // its whole environment
  std::filesystem::path cwd{};
  // SIGTERM -> SIGKILL grace for a canceled stage (as run_and_stream()).
  std::chrono::milliseconds kill_grace{std::chrono::seconds(10)};
};

// Splits the session's stdout/stderr into stage output and the session's own markers.
// Markers are "\x1e" "glr" <token> <field> "\x1e"; bytes that are not part of one pass
// through in order. Exposed for tests.
class MarkerScanner {
 public:
  explicit MarkerScanner(std::string prefix) : prefix_(std::move(prefix)) {}
  // Feeds bytes; calls `output` with plain bytes and `marker` with each marker's field.
  template <typename Output, typename Marker>
  void feed(std::string_view bytes, Output&& output, Marker&& marker);
  // Bytes held back because they may start a marker (returned at the end of a stream).
  std::string take_pending() { return std::exchange(pending_, {}); }

 private:
  std::string prefix_;
  std::string pending_;
};

class ShellSession {
 public:
  explicit ShellSession(ShellSessionOptions options);
  ~ShellSession();
  ShellSession(const ShellSession&) = delete;
  ShellSession& operator=(const ShellSession&) = delete;

  // Runs one complete stage script and returns its exit status. When `stop` is requested
  // the stage's group gets SIGTERM, then SIGKILL after the grace, the session is ended
  // (the next run starts a new shell) and the call returns kCanceled.
  Result<ExitStatus> run(const std::string& script, const OutputFn& on_output,
                         std::stop_token stop);
  // True while the shell runs and can take another stage (possibly of another job).
  bool reusable() const { return shell_.has_value() && !shell_->has_exited(); }
  // Starts the shell now rather than at the first stage.
  Result<> warm();

 private:
  Result<> start();
  void end() noexcept;

  ShellSessionOptions options_;
  std::string token_;
  std::filesystem::path script_dir_;
  std::optional<Subprocess> shell_;
};

// Idle sessions shared by the jobs of one `exec` run: a job takes one (or a new one) for its
// stages and gives it back when it ends, so a run starts about as many shells as it runs jobs
// at once. Sessions hold nothing of a job between stages: every stage is a fresh subshell.
// Thread-safe.
class ShellSessionPool {
 public:
  explicit ShellSessionPool(ShellSessionOptions options) : options_(std::move(options)) {}
  ~ShellSessionPool();
  std::unique_ptr<ShellSession> take();
  // Keeps `session` for the next job if its shell still runs; ends it otherwise.
  void give(std::unique_ptr<ShellSession> session);
  // Starts shells in the background until `count` are idle or taken (at most once per pool):
  // `exec` calls it before reading the pipeline, so the shells start while the CPU would
  // otherwise wait for git and the YAML parser, not when the first jobs want them.
  void prewarm(size_t count);
  size_t idle_count() {
    std::lock_guard lock(mu_);
    return idle_.size();
  }

 private:
  ShellSessionOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<ShellSession>> idle_;  // Guarded by mu_.
  size_t handed_out_ = 0;                             // Guarded by mu_.
  std::jthread warmer_;  // last: joined before the sessions go
};

template <typename Output, typename Marker>
void MarkerScanner::feed(std::string_view bytes, Output&& output, Marker&& marker) {
  pending_.append(bytes);
  size_t at = 0;
  while (at < pending_.size()) {
    size_t start = pending_.find(prefix_, at);
    if (start == std::string::npos) {
      // Hold back a tail that could be the beginning of a marker.
      size_t keep = 0;
      for (size_t n = std::min(prefix_.size() - 1, pending_.size() - at); n > 0; --n) {
        if (std::string_view(pending_).substr(pending_.size() - n) ==
            std::string_view(prefix_).substr(0, n)) {
          keep = n;
          break;
        }
      }
      if (pending_.size() - keep > at) {
        output(std::string_view(pending_).substr(at, pending_.size() - keep - at));
      }
      at = pending_.size() - keep;
      break;
    }
    if (start > at) output(std::string_view(pending_).substr(at, start - at));
    size_t end = pending_.find('\x1e', start + prefix_.size());
    if (end == std::string::npos) {
      at = start;  // the rest of the marker is still on its way
      break;
    }
    marker(std::string_view(pending_).substr(start + prefix_.size(), end - start - prefix_.size()));
    at = end + 1;
  }
  pending_.erase(0, at);
}

}  // namespace glr
