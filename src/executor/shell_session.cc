// The session protocol: the shell defines one function, and each stage is one line naming
// the file that holds its script; markers on stdout/stderr tell where a stage ends.
#include "executor/shell_session.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>


namespace glr {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr auto kForceKillTimeout = std::chrono::seconds(10);

std::string random_token() {
  std::random_device rd;
  char text[17];
  std::snprintf(text, sizeof text, "%08x%08x", rd(), rd());
  return text;
}

// tmpfs when there is one: a stage file is written and read once per stage.
std::filesystem::path make_script_dir() {
  std::error_code ec;
  std::filesystem::path base = "/dev/shm";
  if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0) {
    base = std::filesystem::temp_directory_path(ec);
  }
  std::string tmpl = (base / "glrunner-session-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return {};
  return tmpl;
}

std::string single_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

ShellSession::ShellSession(ShellSessionOptions options)
    : options_(std::move(options)), token_(random_token()) {}

ShellSession::~ShellSession() {
  end();
  if (!script_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(script_dir_, ec);
  }
}

Result<> ShellSession::start() {
  if (script_dir_.empty()) {
    script_dir_ = make_script_dir();
    if (script_dir_.empty()) return fail(ErrorKind::kIo, "cannot create a directory for stage scripts");
  }
  // `set -m`: every background job, so every stage, gets a process group of its own.
  // \036 is the marker delimiter (ASCII record separator).
  std::string mark = "\\036glr" + token_;
  std::string preamble =
      "set -m\n"
      "__glr_stage() {\n"
      "  ( . \"$1\" ) </dev/null &\n"
      "  __glr_pid=$!\n"
      "  printf '" + mark + "S%d\\036' \"$__glr_pid\"\n"
      "  wait \"$__glr_pid\"\n"
      "  __glr_rc=$?\n"
      "  kill -KILL -- \"-$__glr_pid\" 2>/dev/null\n"
      "  printf '" + mark + "E%d\\036' \"$__glr_rc\"\n"
      "  printf '" + mark + "E\\036' >&2\n"
      "}\n";
  SpawnOptions spawn{.argv = options_.argv,
                     .env = options_.env,
                     .cwd = options_.cwd,
                     .stdin_data = preamble,
                     .keep_stdin_open = true};
  Result<Subprocess> child = Subprocess::spawn(spawn);
  if (!child) return fail(child.error().kind, "Failed to start process: " + child.error().message);
  shell_.emplace(std::move(*child));
  return {};
}

void ShellSession::end() noexcept {
  if (!shell_) return;
  shell_->close_stdin();
  (void)shell_->terminate(std::chrono::milliseconds(100));
  shell_.reset();
}

Result<> ShellSession::warm() {
  if (shell_ && !shell_->has_exited()) return {};
  end();
  return start();
}

Result<ExitStatus> ShellSession::run(const std::string& script, const OutputFn& on_output,
                                     std::stop_token stop) {
  if (stop.stop_requested()) return fail(ErrorKind::kCanceled, "canceled");
  if (!shell_ || shell_->has_exited()) {
    end();
    if (Result<> started = start(); !started) return fail(started.error());
  }
  std::filesystem::path file = script_dir_ / "stage.sh";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << script;
    if (!out.flush()) return fail(ErrorKind::kIo, "cannot write " + file.string());
  }
  shell_->queue_stdin("__glr_stage " + single_quoted(file.string()) + "\n");

  StopEventFd stop_fd(stop);
  if (!stop_fd.valid()) return fail(ErrorKind::kIo, std::string("eventfd: ") + std::strerror(errno));

  std::string prefix = "\x1eglr" + token_;
  MarkerScanner out_scan(prefix);
  MarkerScanner err_scan(prefix);
  pid_t stage_group = 0;
  std::optional<int> exit_code;
  bool err_done = false;
  auto on_out_marker = [&](std::string_view field) {
    if (field.empty()) return;
    int value = 0;
    std::from_chars(field.data() + 1, field.data() + field.size(), value);
    if (field[0] == 'S') stage_group = value;
    if (field[0] == 'E') exit_code = value;
  };
  auto out_bytes = [&](std::string_view b) { on_output(false, b); };
  auto err_bytes = [&](std::string_view b) { on_output(true, b); };

  auto feed = [&](bool is_stderr, std::string_view bytes) {
    if (is_stderr) {
      err_scan.feed(bytes, err_bytes, [&](std::string_view) { err_done = true; });
    } else {
      out_scan.feed(bytes, out_bytes, on_out_marker);
    }
  };
  std::string buffer(kReadChunk, '\0');
  // Returns false once the stream is closed.
  auto read_once = [&](int fd, bool is_stderr) -> bool {
    while (true) {
      ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n > 0) {
        feed(is_stderr, std::string_view(buffer.data(), static_cast<size_t>(n)));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return n < 0 && errno == EAGAIN;
    }
  };
  // What is already in a pipe, at most 64 chunks (a leftover writer may never stop).
  auto drain = [&](int fd, bool is_stderr) {
    for (int i = 0; i < 64 && fd >= 0; ++i) {
      ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n <= 0) break;
      feed(is_stderr, std::string_view(buffer.data(), static_cast<size_t>(n)));
    }
  };

  using Clock = std::chrono::steady_clock;
  bool canceling = false;
  bool killed = false;
  Clock::time_point deadline{};
  bool shell_gone = false;
  while (!(exit_code && err_done)) {
    Result<ChildEvents> events =
        poll_child(*shell_, canceling ? -1 : stop_fd.fd(),
                   canceling ? std::optional<Clock::time_point>(deadline) : std::nullopt);
    if (!events) {
      end();
      return fail(events.error());
    }
    if (events->out && !read_once(shell_->stdout_fd(), false)) shell_->close_stdout();
    if (events->err && !read_once(shell_->stderr_fd(), true)) shell_->close_stderr();
    if (events->in) {
      if (Result<> written = shell_->write_stdin(); !written) {
        end();
        return fail(written.error());
      }
    }
    if (events->stop) {
      // Graceful first, as with a shell per stage: the script traps TERM and exits 1.
      canceling = true;
      if (stage_group > 0) ::kill(-stage_group, SIGTERM);
      deadline = Clock::now() + options_.kill_grace;
    }
    if (events->exited) {
      shell_gone = true;  // e.g. the script killed $$, which is the session's shell
      break;
    }
    if (canceling && Clock::now() >= deadline) {
      if (killed) break;
      killed = true;
      if (stage_group > 0) ::kill(-stage_group, SIGKILL);
      shell_->signal_group(SIGKILL);
      deadline = Clock::now() + kForceKillTimeout;
    }
  }
  bool shell_died_in_stage = shell_gone && !exit_code;
  if (shell_died_in_stage) {
    if (stage_group > 0) ::kill(-stage_group, SIGKILL);
    drain(shell_->stdout_fd(), false);
    drain(shell_->stderr_fd(), true);
  }
  // Whatever is left in the streams belongs to this stage.
  std::string rest = out_scan.take_pending();
  if (!rest.empty()) on_output(false, rest);
  rest = err_scan.take_pending();
  if (!rest.empty()) on_output(true, rest);

  if (canceling || stop.stop_requested()) {
    if (stage_group > 0) ::kill(-stage_group, SIGKILL);
    end();
    return fail(ErrorKind::kCanceled, "canceled");
  }
  if (shell_died_in_stage) {
    shell_->close_stdin();
    Result<ProcessStatus> status = shell_->wait();
    shell_.reset();
    if (!status) return fail(status.error());
    return ExitStatus{.code = status->code, .signal = status->signal};
  }
  return ExitStatus{.code = exit_code.value_or(1), .signal = 0};
}

ShellSessionPool::~ShellSessionPool() {
  if (warmer_.joinable()) {
    warmer_.request_stop();
    warmer_.join();
  }
}

void ShellSessionPool::prewarm(size_t count) {
  std::lock_guard lock(mu_);
  if (warmer_.joinable() || count == 0) return;
  warmer_ = std::jthread([this, count](std::stop_token stop) {
    while (!stop.stop_requested()) {
      {
        std::lock_guard guard(mu_);
        if (idle_.size() + handed_out_ >= count) return;
      }
      auto session = std::make_unique<ShellSession>(options_);
      if (!session->warm()) return;  // the first stage reports why, with its own start
      std::lock_guard guard(mu_);
      idle_.push_back(std::move(session));
    }
  });
}

std::unique_ptr<ShellSession> ShellSessionPool::take() {
  {
    std::lock_guard lock(mu_);
    ++handed_out_;
    if (!idle_.empty()) {
      std::unique_ptr<ShellSession> session = std::move(idle_.back());
      idle_.pop_back();
      return session;
    }
  }
  return std::make_unique<ShellSession>(options_);
}

void ShellSessionPool::give(std::unique_ptr<ShellSession> session) {
  if (!session) return;  // the job never took one
  bool keep = session->reusable();
  std::lock_guard lock(mu_);
  if (handed_out_ > 0) --handed_out_;
  if (keep) idle_.push_back(std::move(session));
  else session.reset();  // an ended shell: nothing left to stop
}

}  // namespace glr
