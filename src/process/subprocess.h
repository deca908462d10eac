// Child processes as owned values (STYLE C7): posix_spawn into their own session,
// pidfd waits, SIGTERM -> grace -> SIGKILL on the whole group, and no zombies ever.
// This component is the only user of posix_spawn and pidfd.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "util/unique_fd.h"

namespace glr {

struct SpawnOptions {
  // argv[0] is looked up in the runner's PATH when it has no slash (posix_spawnp).
  std::vector<std::string> argv{};
  // The whole environment, "KEY=VALUE"; nothing is inherited implicitly. Never logged.
  std::vector<std::string> env{};
  // Working directory of the child; empty means the runner's own.
  std::filesystem::path cwd{};
  // Fed to the child's stdin by run_and_stream(); empty means stdin is /dev/null.
  std::string stdin_data{};
  // Hands stdin_data over as an in-memory file (memfd) instead of a pipe. A shell reading
  // its script from a pipe must read it one byte at a time (a command after it may read the
  // rest); from a seekable file it reads blocks and seeks back before each command, with
  // the same result for the script. For scripts of a few KiB that is thousands of syscalls
  // fewer per stage.
  bool stdin_as_file = false;
  // Keeps the stdin pipe open after stdin_data is written (even when it is empty): more
  // input follows through queue_stdin(), and close_stdin() is the child's EOF.
  bool keep_stdin_open = false;
};

// How a child ended. Mapped to a shell code or a failure text only at the edge.
struct ProcessStatus {
  int code = 0;    // valid when signal == 0
  int signal = 0;  // non-zero if the child was killed by a signal
  friend bool operator==(const ProcessStatus&, const ProcessStatus&) = default;
};

// One spawned child and its process group (the child is a session leader, so its
// pid is also the group id). Move-only. Used by one thread at a time.
class Subprocess {
 public:
  // Spawns the child. Fails with kNotFound when argv[0] cannot be found, kInvalidInput
  // for an empty argv, kIo for other OS failures (pipes, pidfd, spawn).
  static Result<Subprocess> spawn(const SpawnOptions& options);

  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  // If the child has not been reaped: SIGKILL to the group, then reap (blocking).
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // Read ends of the child's stdout and stderr: non-blocking, close-on-exec.
  // -1 once closed.
  int stdout_fd() const { return stdout_.get(); }
  int stderr_fd() const { return stderr_.get(); }
  // Write end of the child's stdin pipe, non-blocking; -1 when stdin is /dev/null or
  // all of stdin_data has been written.
  int stdin_fd() const { return stdin_.get(); }
  // pidfd: readable once the child has exited.
  int exit_fd() const { return pidfd_.get(); }

  // Writes as much of the pending stdin data as the pipe takes without blocking.
  // Closes the pipe when everything is written or the child stopped reading (EPIPE,
  // which is not an error: the child decides how much of its input it wants).
  Result<> write_stdin();
  // Appends to the pending stdin data (keep_stdin_open children); write_stdin() sends it.
  void queue_stdin(std::string_view data) { stdin_data_.append(data); }
  bool stdin_pending() const { return stdin_.valid() && stdin_written_ < stdin_data_.size(); }
  void close_stdin() { stdin_.reset(); }
  void close_stdout() { stdout_.reset(); }
  void close_stderr() { stderr_.reset(); }

  // True once the child has exited (it may still be unreaped).
  bool has_exited() const;
  // Sends `sig` to every process of the group. Safe until the leader is reaped: an
  // unreaped zombie leader keeps the group id from being reused.
  void signal_group(int sig) const;
  // Reaps the child, blocking until it exits; returns at once if already reaped.
  Result<ProcessStatus> wait();
  // SIGTERM to the group; waits up to `grace` for the child to exit; then SIGKILL to
  // the group (also reaching children that outlived the leader); reaps.
  Result<ProcessStatus> terminate(std::chrono::milliseconds grace);
  // The status once reaped.
  const std::optional<ProcessStatus>& status() const { return status_; }

 private:
  Subprocess() = default;
  void kill_and_reap() noexcept;

  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd stdin_;
  UniqueFd stdout_;
  UniqueFd stderr_;
  std::string stdin_data_;
  size_t stdin_written_ = 0;
  bool keep_stdin_open_ = false;
  std::optional<ProcessStatus> status_;
};

// An eventfd that becomes readable once `stop` is requested (at once if it already was), so a
// poll() loop can wait on a stop_token. Not movable: the callback holds the descriptor.
class StopEventFd {
 public:
  explicit StopEventFd(std::stop_token stop);
  StopEventFd(const StopEventFd&) = delete;
  StopEventFd& operator=(const StopEventFd&) = delete;
  bool valid() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  // Declared after fd_ so it is destroyed first: it never writes to a closed descriptor.
  std::optional<std::stop_callback<std::function<void()>>> on_stop_;
};

// What one poll_child() found ready.
struct ChildEvents {
  bool out = false;     // stdout readable (or closed)
  bool err = false;     // stderr readable (or closed)
  bool in = false;      // stdin writable (or the child stopped reading)
  bool exited = false;  // the child has exited (pidfd)
  bool stop = false;    // the stop eventfd fired
};

// One poll() over `child`'s open stdout/stderr, its stdin while data is pending, its exit and
// `stop_fd` (left out when < 0), until something is ready or `deadline` passes (none: no
// limit). EINTR is retried. Fails with kIo "poll: <reason>".
Result<ChildEvents> poll_child(const Subprocess& child, int stop_fd,
                               std::optional<std::chrono::steady_clock::time_point> deadline);

// Output callback of run_and_stream(): bytes as they arrive, stderr flagged.
using OutputFn = std::function<void(bool is_stderr, std::string_view bytes)>;

// Runs `child` to completion in a ninja-style poll loop over its stdout, stderr, stdin
// (while data remains), pidfd and an eventfd written by a stop_callback on `stop`.
// - Output is passed to `on_output` on the calling thread as it arrives.
// - When the leader exits, output already in the pipes is drained, then any process
//   left in its group (background jobs of the script) is SIGKILLed before the leader
//   is reaped: a stage never leaves processes behind, and never waits for a background
//   process that keeps the pipes open.
// - When `stop` is requested: SIGTERM to the group, output keeps streaming during
//   `kill_grace`, then SIGKILL to the group; after the leader exits the group is
//   SIGKILLed, the child reaped, and the call returns kCanceled. If the child does
//   not die within 10 s of SIGKILL it returns kInternal "failed to kill process
//   PID=<pid>, likely process is dormant" (the destructor still reaps it).
// Other failures (poll, read) return kIo after killing the group.
Result<ProcessStatus> run_and_stream(Subprocess& child, const OutputFn& on_output,
                                     std::stop_token stop, std::chrono::milliseconds kill_grace);

}  // namespace glr
