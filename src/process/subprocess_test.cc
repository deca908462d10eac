// Tests for Subprocess and run_and_stream against real /bin/sh children (STYLE C7):
// output routing, exit codes, signals, big pipes, cancellation of the whole group.
#include "process/subprocess.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kEnv = {"PATH=/usr/bin:/bin"};

struct Captured {
  std::string out;
  std::string err;
  Result<ProcessStatus> status = ProcessStatus{};
  pid_t pid = -1;
};

// Spawns `options`, streams it to completion; `on_out` may request stop.
Captured run(SpawnOptions options, std::stop_source stop = {},
             std::chrono::milliseconds grace = 50ms,
             std::function<void(const Captured&)> on_out = nullptr) {
  Captured c;
  Result<Subprocess> child = Subprocess::spawn(options);
  if (!child) {
    c.status = fail(child.error());
    return c;
  }
  c.pid = child->pid();
  c.status = run_and_stream(
      *child,
      [&](bool is_stderr, std::string_view bytes) {
        (is_stderr ? c.err : c.out).append(bytes);
        if (on_out) on_out(c);
      },
      stop.get_token(), grace);
  return c;
}

SpawnOptions sh(std::string script, std::string stdin_data = {}) {
  return SpawnOptions{.argv = {"/bin/sh", "-c", std::move(script)},
                      .env = kEnv,
                      .stdin_data = std::move(stdin_data)};
}

// True once `pid` has exited, waiting up to 2 s for it on a pidfd (event-driven: a
// SIGKILLed process dies asynchronously, and orphans are reaped by init, not by us).
bool process_exited(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;
  pollfd p{fd, POLLIN, 0};
  bool exited = ::poll(&p, 1, 2000) == 1;
  ::close(fd);
  return exited;
}

// True when every process of group `pgid` has exited (zombies awaiting init count as
// exited).
bool group_gone(pid_t pgid) {
  std::vector<pid_t> members;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream fields(stat.substr(paren + 1));
    std::string state;
    long ppid = 0, pgrp = 0;
    fields >> state >> ppid >> pgrp;
    if (pgrp == pgid) members.push_back(static_cast<pid_t>(std::stol(name)));
  }
  for (pid_t member : members)
    if (!process_exited(member)) return false;
  return true;
}

int count_open_fds() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

TEST(Subprocess, CapturesStdoutAndStderrSeparately) {
  Captured c = run(sh("echo out; echo err >&2; echo out2"));
  ASSERT_TRUE(c.status) << c.status.error().message;
  EXPECT_EQ(c.out, "out\nout2\n");
  EXPECT_EQ(c.err, "err\n");
  EXPECT_EQ(*c.status, (ProcessStatus{.code = 0, .signal = 0}));
}

TEST(Subprocess, ReportsExitCode) {
  Captured c = run(sh("exit 3"));
  ASSERT_TRUE(c.status);
  EXPECT_EQ(*c.status, (ProcessStatus{.code = 3, .signal = 0}));
}

TEST(Subprocess, ReportsDeathBySignal) {
  Captured c = run(sh("kill -TERM $$"));
  ASSERT_TRUE(c.status);
  EXPECT_EQ(*c.status, (ProcessStatus{.code = 0, .signal = SIGTERM}));
}

TEST(Subprocess, RunsScriptGivenOnStdin) {
  SpawnOptions options{.argv = {"/bin/sh"}, .env = kEnv, .stdin_data = "echo hi\nexit 4\n"};
  Captured c = run(options);
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out, "hi\n");
  EXPECT_EQ(c.status->code, 4);
}

TEST(Subprocess, ScriptAsStdinFileBehavesLikeThePipe) {
  // bash reads a seekable stdin in blocks and seeks back before running a command, so a
  // command reading stdin gets the rest of the script, exactly as from a pipe.
  for (bool as_file : {false, true}) {
    SpawnOptions options{.argv = {"bash"},
                         .env = kEnv,
                         .stdin_data = "echo first\nread -r rest\nnot run: read consumed it\necho \"got: $rest\"\nexit 5\n",
                         .stdin_as_file = as_file};
    Captured c = run(options);
    ASSERT_TRUE(c.status) << as_file;
    EXPECT_EQ(c.out, "first\ngot: not run: read consumed it\n") << as_file;
    EXPECT_EQ(c.status->code, 5) << as_file;
  }
}

TEST(Subprocess, StdinIsDevNullWithoutData) {
  Captured c = run(sh("cat; echo done"));
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out, "done\n");
}

TEST(Subprocess, LargeStdinEchoedBackDoesNotDeadlock) {
  // cat blocks writing stdout while we would block writing stdin, unless both are
  // served by the one poll loop.
  std::string data(1 << 20, 'x');
  for (size_t i = 0; i < data.size(); i += 997) data[i] = static_cast<char>('a' + i % 26);
  SpawnOptions options{.argv = {"cat"}, .env = kEnv, .stdin_data = data};
  Captured c = run(options);
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.status->code, 0);
  EXPECT_EQ(c.out.size(), data.size());
  EXPECT_TRUE(c.out == data);
}

TEST(Subprocess, ChildThatStopsReadingStdinIsNotAnError) {
  std::string data(1 << 20, 'y');
  Captured c = run(sh("head -c 10 >/dev/null; exit 0", data));
  ASSERT_TRUE(c.status) << c.status.error().message;
  EXPECT_EQ(c.status->code, 0);
}

TEST(Subprocess, LargeOutputIsFullyDrained) {
  Captured c = run(sh("head -c 5242880 /dev/zero; head -c 100000 /dev/zero >&2"));
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out.size(), 5242880u);
  EXPECT_EQ(c.err.size(), 100000u);
}

TEST(Subprocess, StopCancelsWholeGroupIncludingGrandchild) {
  std::stop_source stop;
  auto start = std::chrono::steady_clock::now();
  Captured c = run(sh("sleep 100 & echo started; wait"), stop, 5s, [&](const Captured& now) {
    if (now.out.find("started") != std::string::npos) stop.request_stop();
  });
  ASSERT_FALSE(c.status);
  EXPECT_EQ(c.status.error().kind, ErrorKind::kCanceled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // SIGTERM sufficed, no grace
  EXPECT_TRUE(group_gone(c.pid));
}

TEST(Subprocess, TermIgnoringChildIsKilledAfterGrace) {
  std::stop_source stop;
  auto start = std::chrono::steady_clock::now();
  Captured c =
      run(sh("trap '' TERM; echo started; sleep 100"), stop, 50ms, [&](const Captured& now) {
        if (now.out.find("started") != std::string::npos) stop.request_stop();
      });
  ASSERT_FALSE(c.status);
  EXPECT_EQ(c.status.error().kind, ErrorKind::kCanceled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_TRUE(group_gone(c.pid));
}

TEST(Subprocess, StopRequestedBeforeRunCancelsAtOnce) {
  std::stop_source stop;
  stop.request_stop();
  Captured c = run(sh("sleep 100"), stop);
  ASSERT_FALSE(c.status);
  EXPECT_EQ(c.status.error().kind, ErrorKind::kCanceled);
  EXPECT_TRUE(group_gone(c.pid));
}

TEST(Subprocess, BackgroundLeftoversAreKilledAndDoNotHoldTheStage) {
  // The background sleep keeps stdout open; the stage must still end with its leader.
  auto start = std::chrono::steady_clock::now();
  Captured c = run(sh("sleep 100 & echo $!"));
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.status->code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  pid_t background = static_cast<pid_t>(std::stol(c.out));
  EXPECT_TRUE(process_exited(background));
  EXPECT_TRUE(group_gone(c.pid));
}

TEST(Subprocess, EnvironmentIsExactlyWhatWasGiven) {
  SpawnOptions options{.argv = {"/usr/bin/env"}, .env = {"A=1", "B=two words"}};
  Captured c = run(options);
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out, "A=1\nB=two words\n");
}

TEST(Subprocess, WorkingDirectoryIsHonoured) {
  TempDir dir;
  SpawnOptions options{.argv = {"/bin/pwd"}, .env = kEnv, .cwd = dir.path()};
  Captured c = run(options);
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out, std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST(Subprocess, ChildStartsWithCleanSignalMaskAndDispositions) {
  // The runner blocks TERM and ignores PIPE; neither may reach a job.
  sigset_t block;
  sigset_t saved_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &saved_mask);
  struct sigaction ignore {};
  struct sigaction saved_pipe {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &saved_pipe);

  SpawnOptions options{.argv = {"/bin/cat", "/proc/self/status"}, .env = kEnv};
  Captured c = run(options);

  sigaction(SIGPIPE, &saved_pipe, nullptr);
  pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
  ASSERT_TRUE(c.status);
  // Signals 1..31 are bits 0..30; glibc itself ignores its internal RT signals 32/33.
  auto mask_of = [&](const std::string& field) -> unsigned long long {
    size_t at = c.out.find(field + ":\t");
    if (at == std::string::npos) return ~0ULL;
    return std::stoull(c.out.substr(at + field.size() + 2, 16), nullptr, 16);
  };
  EXPECT_EQ(mask_of("SigBlk"), 0u) << c.out;
  EXPECT_EQ(mask_of("SigIgn") & 0x7fffffffULL, 0u) << c.out;
}

TEST(Subprocess, ChildIsSessionLeader) {
  Captured c = run(sh("cut -d' ' -f6 /proc/$$/stat"));  // field 6: session id
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out, std::to_string(c.pid) + "\n");
}

TEST(Subprocess, MissingProgramIsNotFound) {
  Result<Subprocess> child = Subprocess::spawn(SpawnOptions{.argv = {"/nonexistent/prog"}});
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().kind, ErrorKind::kNotFound);
}

TEST(Subprocess, EmptyArgvIsInvalid) {
  Result<Subprocess> child = Subprocess::spawn(SpawnOptions{});
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().kind, ErrorKind::kInvalidInput);
}

TEST(Subprocess, DestructorKillsAndReapsGroup) {
  pid_t pid = -1;
  {
    Result<Subprocess> child = Subprocess::spawn(sh("sleep 100 & sleep 100"));
    ASSERT_TRUE(child);
    pid = child->pid();
  }
  // Reaped, not a zombie: the pid no longer exists at all.
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_TRUE(group_gone(pid));
}

TEST(Subprocess, TerminateSendsTermThenReaps) {
  Result<Subprocess> child = Subprocess::spawn(sh("sleep 100"));
  ASSERT_TRUE(child);
  Result<ProcessStatus> status = child->terminate(1s);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGTERM);
  EXPECT_TRUE(child->has_exited());
  EXPECT_TRUE(child->wait());  // second wait returns the cached status
}

TEST(Subprocess, TerminateEscalatesToKill) {
  // exec: the ignored TERM then belongs to the leader itself.
  Result<Subprocess> child = Subprocess::spawn(sh("trap '' TERM; echo ready; exec sleep 100"));
  ASSERT_TRUE(child);
  // Wait until the trap is installed (the line is printed after it), without sleeping.
  pollfd ready{child->stdout_fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&ready, 1, 5000), 1);
  Result<ProcessStatus> status = child->terminate(50ms);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGKILL);
}

TEST(Subprocess, MovedFromOwnsNothing) {
  Result<Subprocess> child = Subprocess::spawn(sh("exit 7"));
  ASSERT_TRUE(child);
  Subprocess moved = std::move(*child);
  EXPECT_EQ(child->pid(), -1);
  Result<ProcessStatus> status = moved.wait();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 7);
}

TEST(Subprocess, NoFileDescriptorLeaks) {
  int before = count_open_fds();
  {
    Captured a = run(sh("echo x; echo y >&2; exit 1"));
    Captured b = run(SpawnOptions{.argv = {"cat"}, .env = kEnv, .stdin_data = "data"});
    std::stop_source stop;
    stop.request_stop();
    Captured c = run(sh("sleep 100"), stop);
    Result<Subprocess> d = Subprocess::spawn(sh("sleep 100"));
    ASSERT_TRUE(a.status && b.status && !c.status && d);
  }
  EXPECT_EQ(count_open_fds(), before);
}

}  // namespace
}  // namespace glr
