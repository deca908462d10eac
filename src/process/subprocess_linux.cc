// Linux implementation of Subprocess: posix_spawn + pidfd (STYLE C7). The one file
// that spawns, signals and reaps children, so the recipe is enforced in one place.
#include "process/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

namespace glr {
namespace {

// After SIGKILL a child normally dies at once; past this it is stuck in the kernel
// (official runner: force kill timeout, "likely process is dormant").
constexpr std::chrono::milliseconds kForceKillTimeout{std::chrono::seconds(10)};
// Bounds the drain after exit so an escaped writer cannot keep us reading forever.
constexpr int kMaxDrainReads = 64;
constexpr size_t kReadChunk = 64 * 1024;

std::string errno_text(int err) { return std::strerror(err); }

Result<> set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
    return fail(ErrorKind::kIo, "fcntl O_NONBLOCK: " + errno_text(errno));
  return {};
}

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorKind::kIo, "pipe2: " + errno_text(errno));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// write() that cannot raise SIGPIPE even where the process has not ignored it (tests,
// library users): SIGPIPE from a pipe write is thread-directed, so blocking it in this
// thread and consuming the pending instance leaves no trace.
ssize_t write_no_sigpipe(int fd, const char* data, size_t size, int* err) {
  sigset_t pipe_set;
  sigset_t old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  sigset_t pending;
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  ssize_t n = ::write(fd, data, size);
  *err = errno;
  if (n < 0 && *err == EPIPE && !was_pending) {
    timespec zero{};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  return n;
}

ProcessStatus status_from(const siginfo_t& info) {
  ProcessStatus status;
  if (info.si_code == CLD_EXITED) {
    status.code = info.si_status;
  } else {
    status.signal = info.si_status;  // CLD_KILLED or CLD_DUMPED
  }
  return status;
}

// Owns posix_spawn's attribute objects for the duration of one spawn.
struct SpawnAttrs {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnAttrs() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<Subprocess> Subprocess::spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return fail(ErrorKind::kInvalidInput, "spawn: empty argv");
  const std::string& program = options.argv.front();

  Result<Pipe> out = make_pipe();
  if (!out) return fail(out.error());
  Result<Pipe> err = make_pipe();
  if (!err) return fail(err.error());
  std::optional<Pipe> in;
  UniqueFd in_file;
  if (options.stdin_as_file && !options.stdin_data.empty()) {
    in_file = UniqueFd(::memfd_create("glrunner-stdin", MFD_CLOEXEC));
    if (!in_file.valid()) return fail(ErrorKind::kIo, "memfd_create: " + errno_text(errno));
    size_t written = 0;
    while (written < options.stdin_data.size()) {
      ssize_t n = ::write(in_file.get(), options.stdin_data.data() + written,
                          options.stdin_data.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail(ErrorKind::kIo, "write to stdin file: " + errno_text(errno));
      written += static_cast<size_t>(n);
    }
    if (::lseek(in_file.get(), 0, SEEK_SET) != 0) {
      return fail(ErrorKind::kIo, "seek stdin file: " + errno_text(errno));
    }
  } else if (!options.stdin_data.empty() || options.keep_stdin_open) {
    Result<Pipe> p = make_pipe();
    if (!p) return fail(p.error());
    in = std::move(*p);
  }

  SpawnAttrs spawn_attrs;
  posix_spawn_file_actions_t* actions = &spawn_attrs.actions;
  // dup2 clears close-on-exec on the target; the originals close at exec.
  if (in_file.valid()) {
    posix_spawn_file_actions_adddup2(actions, in_file.get(), STDIN_FILENO);
  } else if (in) {
    posix_spawn_file_actions_adddup2(actions, in->read.get(), STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(actions, out->write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(actions, err->write.get(), STDERR_FILENO);
  // chdir in the child only: the daemon's cwd is shared by all its threads.
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(actions, options.cwd.c_str());

  // Own session (so kill(-pid) reaches the job's whole tree), an empty signal mask
  // and default dispositions: the runner blocks INT/TERM/QUIT/HUP and ignores SIGPIPE,
  // and both would otherwise survive exec.
  posix_spawnattr_t* attr = &spawn_attrs.attr;
  sigset_t empty_set;
  sigset_t all_set;
  sigemptyset(&empty_set);
  sigfillset(&all_set);
  posix_spawnattr_setsigmask(attr, &empty_set);
  posix_spawnattr_setsigdefault(attr, &all_set);
  posix_spawnattr_setflags(attr, static_cast<short>(POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                                    POSIX_SPAWN_SETSIGDEF));

  std::vector<char*> argv = c_strings(options.argv);
  std::vector<char*> envp = c_strings(options.env);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, program.c_str(), actions, attr, argv.data(), envp.data());
  if (rc != 0) {
    ErrorKind kind = rc == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo;
    std::string message = "spawn " + program + ": " + errno_text(rc);
    if (rc == ENOENT && !options.cwd.empty())
      message += " (program or working directory " + options.cwd.string() + ")";
    return fail(kind, std::move(message));
  }

  Subprocess child;
  child.pid_ = pid;
  // Nobody else reaps our children (SIGCHLD is not ignored), so the pid cannot be
  // reused between spawn and pidfd_open.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int e = errno;
    ::kill(-pid, SIGKILL);
    int ignored = 0;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    child.pid_ = -1;
    return fail(ErrorKind::kIo, "pidfd_open: " + errno_text(e));
  }
  child.pidfd_ = UniqueFd(pidfd);
  child.stdout_ = std::move(out->read);
  child.stderr_ = std::move(err->read);
  if (in) {
    child.stdin_ = std::move(in->write);
    child.stdin_data_ = options.stdin_data;
    child.keep_stdin_open_ = options.keep_stdin_open;
  }
  for (int fd : {child.stdout_.get(), child.stderr_.get(), child.stdin_.get()}) {
    if (fd < 0) continue;
    Result<> nb = set_nonblocking(fd);
    if (!nb) return fail(nb.error());  // the destructor kills and reaps
  }
  return child;
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      stdin_(std::move(other.stdin_)),
      stdout_(std::move(other.stdout_)),
      stderr_(std::move(other.stderr_)),
      stdin_data_(std::move(other.stdin_data_)),
      stdin_written_(std::exchange(other.stdin_written_, 0)),
      keep_stdin_open_(other.keep_stdin_open_),
      status_(std::exchange(other.status_, std::nullopt)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    kill_and_reap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    stdin_ = std::move(other.stdin_);
    stdout_ = std::move(other.stdout_);
    stderr_ = std::move(other.stderr_);
    stdin_data_ = std::move(other.stdin_data_);
    stdin_written_ = std::exchange(other.stdin_written_, 0);
    keep_stdin_open_ = other.keep_stdin_open_;
    status_ = std::exchange(other.status_, std::nullopt);
  }
  return *this;
}

Subprocess::~Subprocess() { kill_and_reap(); }

void Subprocess::kill_and_reap() noexcept {
  if (pid_ <= 0 || status_) return;
  signal_group(SIGKILL);
  (void)wait();
}

Result<> Subprocess::write_stdin() {
  while (stdin_.valid() && stdin_written_ < stdin_data_.size()) {
    int err = 0;
    ssize_t n = write_no_sigpipe(stdin_.get(), stdin_data_.data() + stdin_written_,
                                 stdin_data_.size() - stdin_written_, &err);
    if (n >= 0) {
      stdin_written_ += static_cast<size_t>(n);
      continue;
    }
    if (err == EINTR) continue;
    if (err == EAGAIN) return {};
    stdin_.reset();
    std::string().swap(stdin_data_);
    if (err == EPIPE) return {};
    return fail(ErrorKind::kIo, "write to child stdin: " + errno_text(err));
  }
  if (keep_stdin_open_) {  // more may be queued; the owner closes it
    stdin_data_.clear();
    stdin_written_ = 0;
    return {};
  }
  // Everything written: closing the pipe is the child's EOF.
  stdin_.reset();
  std::string().swap(stdin_data_);
  return {};
}

bool Subprocess::has_exited() const {
  if (status_) return true;
  if (!pidfd_.valid()) return true;
  pollfd p{pidfd_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

void Subprocess::signal_group(int sig) const {
  // Once the leader is reaped its pid (= group id) may be reused: never signal then.
  if (pid_ <= 0 || status_) return;
  ::kill(-pid_, sig);
}

Result<ProcessStatus> Subprocess::wait() {
  if (status_) return *status_;
  if (pid_ <= 0 || !pidfd_.valid()) return fail(ErrorKind::kInternal, "wait: no child");
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &info, WEXITED) != 0) {
    if (errno == EINTR) continue;
    return fail(ErrorKind::kIo, "waitid: " + errno_text(errno));
  }
  status_ = status_from(info);
  return *status_;
}

Result<ProcessStatus> Subprocess::terminate(std::chrono::milliseconds grace) {
  if (status_) return *status_;
  signal_group(SIGTERM);
  pollfd p{pidfd_.get(), POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (true) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) break;
    if (r < 0 && errno != EINTR) break;
  }
  // Also when the leader died of SIGTERM: children that ignore TERM are still in the
  // group, and the unreaped leader keeps the group id ours.
  signal_group(SIGKILL);
  return wait();
}

StopEventFd::StopEventFd(std::stop_token stop)
    : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!fd_.valid()) return;
  on_stop_.emplace(std::move(stop), std::function<void()>([fd = fd_.get()]() {
                     uint64_t one = 1;
                     ssize_t ignored = ::write(fd, &one, sizeof one);
                     (void)ignored;
                   }));
}

Result<ChildEvents> poll_child(const Subprocess& child, int stop_fd,
                               std::optional<std::chrono::steady_clock::time_point> deadline) {
  while (true) {
    pollfd fds[5];
    nfds_t count = 0;
    int out_i = -1, err_i = -1, in_i = -1, stop_i = -1;
    if (child.stdout_fd() >= 0) {
      out_i = static_cast<int>(count);
      fds[count++] = pollfd{child.stdout_fd(), POLLIN, 0};
    }
    if (child.stderr_fd() >= 0) {
      err_i = static_cast<int>(count);
      fds[count++] = pollfd{child.stderr_fd(), POLLIN, 0};
    }
    if (child.stdin_pending()) {
      in_i = static_cast<int>(count);
      fds[count++] = pollfd{child.stdin_fd(), POLLOUT, 0};
    }
    int exit_i = static_cast<int>(count);
    fds[count++] = pollfd{child.exit_fd(), POLLIN, 0};
    if (stop_fd >= 0) {
      stop_i = static_cast<int>(count);
      fds[count++] = pollfd{stop_fd, POLLIN, 0};
    }
    int timeout_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline -
                                                               std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    int ready = ::poll(fds, count, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorKind::kIo, "poll: " + errno_text(errno));
    }
    constexpr short kReadable = POLLIN | POLLHUP | POLLERR;
    ChildEvents events;
    events.out = out_i >= 0 && (fds[out_i].revents & kReadable) != 0;
    events.err = err_i >= 0 && (fds[err_i].revents & kReadable) != 0;
    events.in = in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLHUP | POLLERR)) != 0;
    events.exited = (fds[exit_i].revents & kReadable) != 0;
    events.stop = stop_i >= 0 && (fds[stop_i].revents & POLLIN) != 0;
    return events;
  }
}

Result<ProcessStatus> run_and_stream(Subprocess& child, const OutputFn& on_output,
                                     std::stop_token stop, std::chrono::milliseconds kill_grace) {
  using Clock = std::chrono::steady_clock;
  auto kill_now = [&child]() {
    child.signal_group(SIGKILL);
    (void)child.wait();
  };

  StopEventFd stop_fd(stop);
  if (!stop_fd.valid()) {
    kill_now();
    return fail(ErrorKind::kIo, "eventfd: " + errno_text(errno));
  }

  std::string buffer(kReadChunk, '\0');
  // Reads once from `fd`. Returns false on EOF or a read error (the fd is then done).
  auto read_once = [&](int fd, bool is_stderr) -> bool {
    while (true) {
      ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n > 0) {
        on_output(is_stderr, std::string_view(buffer.data(), static_cast<size_t>(n)));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      return false;
    }
  };
  auto drain = [&](int fd, bool is_stderr) {
    for (int i = 0; i < kMaxDrainReads && fd >= 0; ++i) {
      ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n > 0) {
        on_output(is_stderr, std::string_view(buffer.data(), static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return;  // EOF, EAGAIN or error
    }
  };

  bool canceling = false;
  bool killed = false;
  Clock::time_point deadline{};
  while (true) {
    Result<ChildEvents> events =
        poll_child(child, canceling ? -1 : stop_fd.fd(),
                   canceling ? std::optional<Clock::time_point>(deadline) : std::nullopt);
    if (!events) {
      kill_now();
      return fail(events.error());
    }
    if (events->out && !read_once(child.stdout_fd(), false)) child.close_stdout();
    if (events->err && !read_once(child.stderr_fd(), true)) child.close_stderr();
    if (events->in) {
      Result<> written = child.write_stdin();
      if (!written) {
        kill_now();
        return fail(written.error());
      }
    }
    if (events->stop) {
      // Graceful first: the generated script traps TERM and exits 1 (executors §1.6);
      // its output keeps streaming while it does.
      canceling = true;
      child.signal_group(SIGTERM);
      deadline = Clock::now() + kill_grace;
    }
    if (events->exited) break;
    if (canceling && Clock::now() >= deadline) {
      if (killed) {
        return fail(ErrorKind::kInternal,
                    "failed to kill process PID=" + std::to_string(child.pid()) +
                        ", likely process is dormant");
      }
      killed = true;
      child.signal_group(SIGKILL);
      deadline = Clock::now() + kForceKillTimeout;
    }
  }

  // The leader has exited but is not reaped yet, so the group id is still ours: kill
  // what the script left behind, then take whatever output is already in the pipes.
  child.signal_group(SIGKILL);
  drain(child.stdout_fd(), false);
  drain(child.stderr_fd(), true);
  child.close_stdout();
  child.close_stderr();
  child.close_stdin();
  Result<ProcessStatus> status = child.wait();
  if (!status) return status;
  if (canceling || stop.stop_requested()) return fail(ErrorKind::kCanceled, "canceled");
  return status;
}

}  // namespace glr
