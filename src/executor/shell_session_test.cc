// ShellSession: stages as subshells of one bash, and the marker framing of its output.
#include "executor/shell_session.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace glr {
namespace {

using namespace std::chrono_literals;

struct Collected {
  std::string out;
  std::string err;
  Result<ExitStatus> status = ExitStatus{};
};

class ShellSessionTest : public ::testing::Test {
 protected:
  ShellSessionTest()
      : session_(ShellSessionOptions{.argv = {"bash"},
                                     .env = {std::string("PATH=") + std::getenv("PATH")},
                                     .cwd = std::filesystem::temp_directory_path(),
                                     .kill_grace = 200ms}) {}

  Collected run(const std::string& script, std::stop_token stop = {}) {
    Collected c;
    c.status = session_.run(
        script, [&c](bool is_stderr, std::string_view b) { (is_stderr ? c.err : c.out) += b; },
        stop);
    return c;
  }

  ShellSession session_;
};

TEST(MarkerScanner, PassesPlainBytesAndFindsMarkersSplitAnywhere) {
  const std::string text = "hello \x1eglrTOKS12\x1e world\x1eglrTOKE3\x1e";
  for (size_t step = 1; step <= text.size(); ++step) {
    MarkerScanner scan("\x1eglrTOK");
    std::string plain;
    std::vector<std::string> markers;
    for (size_t i = 0; i < text.size(); i += step) {
      scan.feed(std::string_view(text).substr(i, step), [&](std::string_view b) { plain += b; },
                [&](std::string_view m) { markers.emplace_back(m); });
    }
    plain += scan.take_pending();
    EXPECT_EQ(plain, "hello  world") << step;
    EXPECT_EQ(markers, (std::vector<std::string>{"S12", "E3"})) << step;
  }
}

TEST(MarkerScanner, KeepsBytesThatOnlyLookLikeAMarkerStart) {
  MarkerScanner scan("\x1eglrTOK");
  std::string plain;
  scan.feed("a\x1eglr", [&](std::string_view b) { plain += b; }, [](std::string_view) {});
  EXPECT_EQ(plain, "a");
  scan.feed("X rest", [&](std::string_view b) { plain += b; }, [](std::string_view) {});
  EXPECT_EQ(plain, "a\x1eglrX rest");
}

TEST_F(ShellSessionTest, StagesRunInFreshSubshellsOfOneShell) {
  Collected first = run("export FROM_FIRST=1\nA=2\necho \"shell $$\"\necho to-err >&2\nexit 3\n");
  ASSERT_TRUE(first.status) << first.status.error().message;
  EXPECT_EQ(first.status->code, 3);
  EXPECT_EQ(first.err, "to-err\n");
  Collected second = run("echo \"shell $$ [${FROM_FIRST-}] [${A-}]\"\n");
  ASSERT_TRUE(second.status);
  EXPECT_EQ(second.status->code, 0);
  // Same shell ($$), nothing carried over from the first stage.
  EXPECT_EQ(second.out, first.out.substr(0, first.out.size() - 1) + " [] []\n");
}

TEST_F(ShellSessionTest, StdinIsDevNullAndCdDoesNotLeak) {
  Collected c = run("cd /\ncat\necho \"done $PWD\"\n");
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out, "done /\n");
  Collected d = run("pwd\n");
  EXPECT_EQ(d.out, std::filesystem::temp_directory_path().string() + "\n");
}

TEST_F(ShellSessionTest, OutputWithoutTrailingNewlineIsKept) {
  Collected c = run("printf 'no newline'; printf 'e' >&2\n");
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out, "no newline");
  EXPECT_EQ(c.err, "e");
}

TEST_F(ShellSessionTest, BackgroundLeftoversDieWithTheStage) {
  // A duration no other test uses, so pgrep finds only this stage's leftover. SIGKILL takes
  // effect asynchronously: the next stage waits up to 5 s for it to be gone.
  auto started = std::chrono::steady_clock::now();
  Collected c = run("sleep 31.4159 &\necho left\n");
  ASSERT_TRUE(c.status);
  EXPECT_EQ(c.out, "left\n");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  Collected d = run(
      "for i in $(seq 50); do\n"
      "  pgrep -f '^sleep 31.4159$' >/dev/null || { echo none; exit 0; }\n"
      "  sleep 0.1\n"
      "done\n"
      "echo still-running\n");
  EXPECT_EQ(d.out, "none\n");
}

TEST_F(ShellSessionTest, StopCancelsTheStageAndTheNextStageGetsANewShell) {
  std::stop_source stop;
  std::jthread canceler([&stop] {
    std::this_thread::sleep_for(300ms);
    stop.request_stop();
  });
  auto started = std::chrono::steady_clock::now();
  Collected c = run("trap 'echo got-term; exit 1' TERM\necho begun\nsleep 30 & wait\n",
                    stop.get_token());
  ASSERT_FALSE(c.status);
  EXPECT_EQ(c.status.error().kind, ErrorKind::kCanceled);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_NE(c.out.find("begun\n"), std::string::npos);
  EXPECT_NE(c.out.find("got-term\n"), std::string::npos);
  Collected next = run("echo again\n");
  ASSERT_TRUE(next.status);
  EXPECT_EQ(next.out, "again\n");
}

TEST_F(ShellSessionTest, AScriptKillingTheShellEndsOnlyThatStage) {
  Collected c = run("echo before\nkill -KILL $$\nsleep 5\n");
  ASSERT_TRUE(c.status) << c.status.error().message;
  EXPECT_NE(c.status->as_shell_code(), 0);
  EXPECT_EQ(c.out, "before\n");
  Collected next = run("echo after\n");
  ASSERT_TRUE(next.status);
  EXPECT_EQ(next.out, "after\n");
}

TEST(ShellSessionPool, GivesBackLiveSessionsAndDropsEndedOnes) {
  ShellSessionPool pool(ShellSessionOptions{.argv = {"bash"},
                                            .env = {std::string("PATH=") + std::getenv("PATH")},
                                            .cwd = std::filesystem::temp_directory_path()});
  // The shell's pid ($$) tells sessions apart.
  auto shell_pid = [](ShellSession& session) {
    std::string out;
    Result<ExitStatus> r = session.run("echo $$\n", [&out](bool, std::string_view b) { out += b; }, {});
    EXPECT_TRUE(r);
    return out;
  };
  std::unique_ptr<ShellSession> a = pool.take();
  std::string first = shell_pid(*a);
  pool.give(std::move(a));
  std::unique_ptr<ShellSession> b = pool.take();
  EXPECT_EQ(shell_pid(*b), first);  // the idle one is reused
  std::unique_ptr<ShellSession> c = pool.take();
  EXPECT_NE(shell_pid(*c), first);  // none idle: a new one
  // A session whose shell died is not kept.
  ASSERT_TRUE(b->run("kill -KILL $$\n", [](bool, std::string_view) {}, {}));
  EXPECT_FALSE(b->reusable());
  pool.give(std::move(b));
  std::unique_ptr<ShellSession> d = pool.take();
  EXPECT_NE(shell_pid(*d), first);
}

TEST(ShellSessionPool, PrewarmStartsShellsUpToTheCountIncludingTakenOnes) {
  ShellSessionPool pool(ShellSessionOptions{.argv = {"bash"},
                                            .env = {std::string("PATH=") + std::getenv("PATH")},
                                            .cwd = std::filesystem::temp_directory_path()});
  std::unique_ptr<ShellSession> taken = pool.take();  // counts towards the three
  EXPECT_FALSE(taken->reusable());                   // taken cold: starts at its first stage
  pool.prewarm(3);
  pool.prewarm(10);  // once per pool
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (pool.idle_count() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(pool.idle_count(), 2u);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(pool.idle_count(), 2u);  // no more than asked for
  std::unique_ptr<ShellSession> warm = pool.take();
  EXPECT_TRUE(warm->reusable());  // already running
  std::string out;
  ASSERT_TRUE(warm->run("echo warm\n", [&out](bool, std::string_view b) { out += b; }, {}));
  EXPECT_EQ(out, "warm\n");
  pool.give(std::move(warm));
  pool.give(std::move(taken));
  EXPECT_EQ(pool.idle_count(), 2u);  // the cold one never ran a stage: not kept
}

}  // namespace
}  // namespace glr
