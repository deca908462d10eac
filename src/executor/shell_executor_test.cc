// Tests for ShellExecutor with real bash children and a recording TraceSink fake.
#include "executor/shell_executor.h"

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace glr {
namespace {

using namespace std::chrono_literals;

// Records every write per stream and every flush; `on_write` lets a test react to
// output (e.g. cancel once the script has started) without sleeping.
class RecordingTraceSink final : public TraceSink {
 public:
  void write(StreamId stream, std::string_view bytes) override {
    std::function<void(const RecordingTraceSink&)> hook;
    {
      std::lock_guard<std::mutex> lock(mu_);
      text_[key(stream)].append(bytes);
      hook = on_write;
    }
    if (hook) hook(*this);
  }
  void flush(StreamId stream) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++flushes_[key(stream)];
  }
  std::string text(StreamId stream) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = text_.find(key(stream));
    return it == text_.end() ? std::string() : it->second;
  }
  int flushes(StreamId stream) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = flushes_.find(key(stream));
    return it == flushes_.end() ? 0 : it->second;
  }

  std::function<void(const RecordingTraceSink&)> on_write;

 private:
  static int key(StreamId s) { return s.number * 2 + (s.is_stderr ? 1 : 0); }
  mutable std::mutex mu_;
  std::map<int, std::string> text_;  // Guarded by mu_.
  std::map<int, int> flushes_;       // Guarded by mu_.
};

class ShellExecutorTest : public ::testing::Test {
 protected:
  ShellExecutorOptions options(std::string shell = "bash") {
    return ShellExecutorOptions{
        .working_dir = dir_.path(),
        .shell = std::move(shell),
        .user = {},
        // HOME points at the temp dir so no personal profile is sourced by `bash -l`.
        .base_env = {"PATH=/usr/bin:/bin", "HOME=" + dir_.path().string(), "GREETING=base",
                     "ONLY_BASE=1"},
        .kill_grace = 50ms,
    };
  }
  Result<ExitStatus> run(ShellExecutor& executor, std::string script,
                         std::vector<std::string> env = {}, std::stop_token stop = {}) {
    return executor.run(StageScript{.stage = "step_script",
                                    .script = std::move(script),
                                    .in_build_container = true,
                                    .env = std::move(env)},
                        sink_, stop);
  }

  TempDir dir_;
  RecordingTraceSink sink_;
};

TEST_F(ShellExecutorTest, TraitsMatchTheOfficialShellExecutor) {
  ShellExecutor executor(options());
  const ExecutorTraits& t = executor.traits();
  EXPECT_EQ(t.name, "shell");
  EXPECT_EQ(t.shell, "bash");
  EXPECT_TRUE(t.shared_builds_dir);
  EXPECT_FALSE(t.disposable_environment);
  EXPECT_FALSE(t.custom_build_dir_default);
  EXPECT_EQ(t.default_builds_dir, (dir_.path() / "builds").string());
  EXPECT_EQ(t.default_cache_dir, (dir_.path() / "cache").string());
  EXPECT_EQ(t.exit_error_prefix, "exit status");
}

TEST_F(ShellExecutorTest, PrepareWritesPlainLineAndCreatesBuildsDir) {
  ShellExecutor executor(options());
  std::string builds = (dir_.path() / "builds" / "nested").string();
  Result<> prepared = executor.prepare(JobSpec{}, PrepareOptions{.builds_dir = builds}, sink_);
  ASSERT_TRUE(prepared) << prepared.error().message;
  EXPECT_EQ(sink_.text(kRunnerStream), "\x1b[0KUsing Shell (bash) executor...\x1b[0;m\n");
  EXPECT_TRUE(std::filesystem::is_directory(builds));
}

TEST_F(ShellExecutorTest, PrepareNamesTheShShell) {
  ShellExecutor executor(options("sh"));
  ASSERT_TRUE(executor.prepare(JobSpec{}, PrepareOptions{}, sink_));
  EXPECT_EQ(sink_.text(kRunnerStream), "\x1b[0KUsing Shell (sh) executor...\x1b[0;m\n");
}

TEST_F(ShellExecutorTest, UnknownShellIsRejected) {
  ShellExecutor executor(options("fish"));
  Result<> prepared = executor.prepare(JobSpec{}, PrepareOptions{}, sink_);
  ASSERT_FALSE(prepared);
  EXPECT_EQ(prepared.error().kind, ErrorKind::kInvalidInput);
  EXPECT_EQ(prepared.error().message, "shell \"fish\" not found");
  EXPECT_EQ(sink_.text(kRunnerStream), "");
  Result<ExitStatus> status = run(executor, "true\n");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::kInvalidInput);
}

TEST_F(ShellExecutorTest, RoutesStdoutAndStderrAndFlushesBoth) {
  ShellExecutor executor(options());
  Result<ExitStatus> status = run(executor, "echo out\necho err >&2\necho more\n");
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(*status, (ExitStatus{.code = 0, .signal = 0}));
  EXPECT_EQ(sink_.text(kScriptStdout), "out\nmore\n");
  EXPECT_EQ(sink_.text(kScriptStderr), "err\n");
  EXPECT_EQ(sink_.flushes(kScriptStdout), 1);
  EXPECT_EQ(sink_.flushes(kScriptStderr), 1);
}

TEST_F(ShellExecutorTest, NonZeroExitIsAValue) {
  ShellExecutor executor(options());
  Result<ExitStatus> status = run(executor, "exit 3\n");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 3);
  EXPECT_EQ(status->signal, 0);
}

TEST_F(ShellExecutorTest, SignalDeathIsReported) {
  ShellExecutor executor(options());
  Result<ExitStatus> status = run(executor, "kill -KILL $$\n");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, 9);
  EXPECT_EQ(status->as_shell_code(), 137);
}

TEST_F(ShellExecutorTest, LargeScriptIsFedThroughStdin) {
  // Bigger than any pipe buffer, with output on both sides of the bulk: bash reads the
  // script byte by byte, so stdin and stdout must be served by one loop.
  ShellExecutor executor(options());
  std::string script = "echo start\n: " + std::string(100 * 1024, 'x') + "\necho end\n";
  Result<ExitStatus> status = run(executor, script);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 0);
  EXPECT_EQ(sink_.text(kScriptStdout), "start\nend\n");
}

TEST_F(ShellExecutorTest, ScriptEnvOverridesRunnerEnv) {
  ShellExecutor executor(options());
  Result<ExitStatus> status =
      run(executor, "echo \"$GREETING $ONLY_BASE $ONLY_JOB\"\n", {"GREETING=job", "ONLY_JOB=2"});
  ASSERT_TRUE(status);
  EXPECT_EQ(sink_.text(kScriptStdout), "job 1 2\n");
}

TEST_F(ShellExecutorTest, ScriptStartsInWorkingDirectory) {
  ShellExecutor executor(options());
  Result<ExitStatus> status = run(executor, "pwd -P\n");
  ASSERT_TRUE(status);
  EXPECT_EQ(sink_.text(kScriptStdout), std::filesystem::canonical(dir_.path()).string() + "\n");
}

TEST_F(ShellExecutorTest, ShShellRunsScripts) {
  ShellExecutor executor(options("sh"));
  Result<ExitStatus> status = run(executor, "echo from-sh\nexit 5\n");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, 5);
  EXPECT_EQ(sink_.text(kScriptStdout), "from-sh\n");
}

TEST_F(ShellExecutorTest, CancelReturnsCanceledPromptly) {
  ShellExecutor executor(options());
  std::stop_source stop;
  sink_.on_write = [&stop](const RecordingTraceSink& sink) {
    if (sink.text(kScriptStdout).find("started") != std::string::npos) stop.request_stop();
  };
  auto start = std::chrono::steady_clock::now();
  Result<ExitStatus> status = run(executor, "echo started\nsleep 100\n", {}, stop.get_token());
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().kind, ErrorKind::kCanceled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(sink_.flushes(kScriptStdout), 1);
  EXPECT_EQ(sink_.flushes(kScriptStderr), 1);
}

TEST(ShellCommand, LoginShellOrSuForUser) {
  EXPECT_EQ(shell_command("bash", ""), (std::vector<std::string>{"bash", "-l"}));
  EXPECT_EQ(shell_command("sh", ""), (std::vector<std::string>{"sh", "-l"}));
  EXPECT_EQ(shell_command("bash", "gitlab"),
            (std::vector<std::string>{"su", "-s", "/bin/bash", "gitlab", "-c", "bash -l"}));
}

TEST(ShellCommand, NonLoginForExec) {
  EXPECT_EQ(shell_command("bash", "", false), (std::vector<std::string>{"bash"}));
  EXPECT_EQ(shell_command("bash", "gitlab", false),
            (std::vector<std::string>{"su", "-s", "/bin/bash", "gitlab", "-c", "bash"}));
}

TEST(MergeEnvironment, LaterEntriesWinInPlace) {
  EXPECT_EQ(merge_environment({"A=1", "B=2", "C=3"}, {"B=20", "D=4", "A=10", "D=40"}),
            (std::vector<std::string>{"A=10", "B=20", "C=3", "D=40"}));
  EXPECT_EQ(merge_environment({}, {"X=a=b"}), (std::vector<std::string>{"X=a=b"}));
}

}  // namespace
}  // namespace glr
