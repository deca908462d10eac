// Operator-facing figures of `glrunner run` against the in-process fake GitLab: idle and
// loaded memory, trivial-job throughput, and log throughput end to end and in-process.
// Why a separate process per scenario: each figure starts from a fresh runner, so one
// scenario's heap growth or leftover jobs cannot leak into the next one's numbers.
// Usage: runner_bench [path/to/glrunner] [--only NAME]   (NAME: a scenario or a figure)
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fake_gitlab/fake_gitlab.h"
#include "support/temp_dir.h"
#include "trace/trace_buffer.h"
#include "util/clock.h"

extern char** environ;

namespace glr {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr const char* kToken = "glrt-t1_runnerbenchtoken0";
constexpr int kMaskedCount = 20;

double seconds_since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

// One `Vm*:` line of /proc/<pid>/status in KiB; -1 when the process is gone.
long status_kib(pid_t pid, std::string_view key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':') {
      return std::stol(line.substr(key.size() + 1));
    }
  }
  return -1;
}

// utime + stime of the process itself (children excluded), in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');  // comm may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  // Fields after comm start at 3 (state); utime and stime are fields 14 and 15.
  for (int i = 3; i < 14 && rest >> field; ++i) {
  }
  long utime = 0;
  long stime = 0;
  rest >> utime >> stime;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// A `glrunner run` child in its own process group, stdout and stderr in <dir>/runner.log.
// The destructor stops the group with a bounded wait: SIGTERM, 10 s, then SIGKILL.
class RunnerProcess {
 public:
  RunnerProcess(const std::string& binary, const std::filesystem::path& dir, const std::string& config)
      : log_(dir / "runner.log") {
    std::ofstream(dir / "config.toml") << config;
    std::vector<std::string> args = {binary, "run", "-c", (dir / "config.toml").string(),
                                     "-d", dir.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    if (::posix_spawn(&pid_, binary.c_str(), &fa, &attr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
  }
  RunnerProcess(const RunnerProcess&) = delete;
  RunnerProcess& operator=(const RunnerProcess&) = delete;
  ~RunnerProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    auto deadline = Steady::now() + 10s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Steady::now() >= deadline) {
        ::kill(-pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    ::kill(-pid_, SIGKILL);  // job shells left behind by a forceful stop
  }

  pid_t pid() const { return pid_; }
  bool alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

  std::string log_text() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // Prints the last lines of the runner log to stderr, for a failed scenario.
  void dump_log_tail() const {
    std::string text = log_text();
    size_t from = text.size() > 3000 ? text.size() - 3000 : 0;
    std::fprintf(stderr, "--- runner.log (tail) ---\n%s\n---\n", text.c_str() + from);
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
};

std::string config_toml(const FakeGitLab& gl, const std::filesystem::path& dir, int concurrent,
                        const std::string& runner_extra = "") {
  std::ostringstream c;
  c << "concurrent = " << concurrent << "\n"
    << "check_interval = 1\n"
    << "[[runners]]\n"
    << "  name = \"bench\"\n"
    << "  url = \"" << gl.url() << "\"\n"
    << "  token = \"" << kToken << "\"\n"
    << "  executor = \"shell\"\n"
    << "  builds_dir = \"" << (dir / "builds").string() << "\"\n"
    << "  cache_dir = \"" << (dir / "cache").string() << "\"\n"
    << "  request_concurrency = " << std::min(concurrent, 8) << "\n"
    << runner_extra;
  return c.str();
}

std::string masked_value(int i) { return "bench-secret-" + std::to_string(i) + "-Zq7vR2xK"; }

// A job payload (shape of tests/integration/daemon_against_fake_gitlab_test.cc) running
// `script` with GIT_STRATEGY=none, optionally with 20 masked variables and timestamps.
std::string job_payload(const std::string& script, bool masked_and_timestamps = false) {
  nlohmann::json vars = nlohmann::json::array();
  vars.push_back({{"key", "GIT_STRATEGY"}, {"value", "none"}, {"public", true}});
  if (masked_and_timestamps) {
    vars.push_back({{"key", "FF_TIMESTAMPS"}, {"value", "true"}, {"public", true}});
    for (int i = 0; i < kMaskedCount; ++i) {
      vars.push_back({{"key", "BENCH_SECRET_" + std::to_string(i)},
                      {"value", masked_value(i)},
                      {"public", false},
                      {"masked", true}});
    }
  }
  nlohmann::json job = {
      {"id", 0},
      {"token", "{{JOB_TOKEN}}"},
      {"allow_git_fetch", true},
      {"job_info", {{"id", 0}, {"name", "bench"}, {"stage", "test"}, {"project_id", 1},
                    {"project_name", "bench"}}},
      {"git_info", {{"repo_url", "http://127.0.0.1:1/g/p.git"}, {"ref", "main"},
                    {"sha", "0000000000000000000000000000000000000000"}, {"depth", 0}}},
      {"runner_info", {{"timeout", 3600}}},
      {"variables", vars},
      {"steps", nlohmann::json::array({{{"name", "script"},
                                        {"script", nlohmann::json::array({script})},
                                        {"timeout", 3600},
                                        {"when", "on_success"},
                                        {"allow_failure", false}}})},
      {"features", {{"trace_sections", true}}},
  };
  return job.dump();
}

// Waits (bounded by `deadline`) for every job's final update; false on timeout.
bool wait_final(const FakeGitLab& gl, const std::vector<int64_t>& ids, Steady::time_point deadline) {
  for (int64_t id : ids) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) return false;
    if (!gl.wait_for(id, [](const JobRecord& r) { return r.final_update_received; }, left))
      return false;
  }
  return true;
}

// Counts jobs whose state is not success and prints the first few to stderr.
int count_failed(const FakeGitLab& gl, const std::vector<int64_t>& ids) {
  int failed = 0;
  for (int64_t id : ids) {
    JobRecord r = gl.job(id);
    if (r.state == "success") continue;
    if (++failed <= 3) {
      std::string tail = r.trace.size() > 600 ? r.trace.substr(r.trace.size() - 600) : r.trace;
      std::fprintf(stderr, "job %lld: state=%s reason=%s\n%s\n", static_cast<long long>(id),
                   r.state.c_str(), r.failure_reason.c_str(), tail.c_str());
    }
  }
  return failed;
}

// Bounded wait until the runner has asked for a job once: it is up and polling.
bool wait_first_poll(const FakeGitLab& gl, const RunnerProcess& runner) {
  auto deadline = Steady::now() + 15s;
  while (Steady::now() < deadline && runner.alive()) {
    for (const RecordedRequest& r : gl.requests())
      if (r.target.find("/api/v4/jobs/request") != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

int count_job_requests(const FakeGitLab& gl) {
  int n = 0;
  for (const RecordedRequest& r : gl.requests())
    if (r.target.find("/api/v4/jobs/request") != std::string::npos) ++n;
  return n;
}

struct Env {
  std::string binary;
};

// 1. `glrunner run`, one shell runner, a GitLab with no jobs: resident memory after ~3 s.
int idle_rss(const Env& env) {
  TempDir dir;
  FakeGitLab gl;
  gl.add_runner(kToken);
  RunnerProcess runner(env.binary, dir.path(), config_toml(gl, dir.path(), 1));
  if (!wait_first_poll(gl, runner)) {
    std::fprintf(stderr, "idle: glrunner never asked for a job\n");
    runner.dump_log_tail();
    return 1;
  }
  std::this_thread::sleep_for(3s);
  long rss = status_kib(runner.pid(), "VmRSS");
  long hwm = status_kib(runner.pid(), "VmHWM");
  if (rss <= 0 || !runner.alive()) {
    std::fprintf(stderr, "idle: glrunner exited\n");
    runner.dump_log_tail();
    return 1;
  }
  std::printf("idle_rss_kib %ld\n", rss);
  std::printf("idle_hwm_kib %ld\n", hwm);
  std::printf("# idle: `glrunner run` polling an empty GitLab holds %.1f MiB resident (peak %.1f MiB), "
              "%d job requests and %.2f s CPU in its first ~3 s\n",
              static_cast<double>(rss) / 1024.0, static_cast<double>(hwm) / 1024.0,
              count_job_requests(gl), cpu_seconds(runner.pid()));
  return 0;
}

// 2. concurrent = 100, 100 `sleep 5` jobs: highest VmRSS of the glrunner process itself.
int rss_100_jobs(const Env& env) {
  constexpr int kJobs = 100;
  TempDir dir;
  FakeGitLab gl;
  gl.add_runner(kToken);
  std::vector<int64_t> ids;
  for (int i = 0; i < kJobs; ++i) ids.push_back(gl.enqueue_job(job_payload("sleep 5")));
  RunnerProcess runner(env.binary, dir.path(), config_toml(gl, dir.path(), kJobs));
  auto start = Steady::now();
  auto deadline = start + 90s;
  long max_rss = 0;
  int max_running = 0;
  for (;;) {
    max_rss = std::max(max_rss, status_kib(runner.pid(), "VmRSS"));
    int done = 0;
    int running = 0;
    for (int64_t id : ids) {
      JobRecord r = gl.job(id);
      if (r.final_update_received) ++done;
      else if (r.state == "running") ++running;
    }
    max_running = std::max(max_running, running);
    if (done == kJobs || Steady::now() >= deadline || !runner.alive()) break;
    std::this_thread::sleep_for(100ms);
  }
  double secs = seconds_since(start);
  if (!wait_final(gl, ids, Steady::now() + 1s)) {
    std::fprintf(stderr, "rss_100_jobs: not every job reported a final update within 90 s\n");
    runner.dump_log_tail();
    return 1;
  }
  if (int failed = count_failed(gl, ids); failed != 0) {
    std::fprintf(stderr, "rss_100_jobs: %d of %d jobs did not succeed\n", failed, kJobs);
    return 1;
  }
  std::printf("rss_100_jobs_kib %ld\n", max_rss);
  std::printf("# 100 concurrent `sleep 5` jobs (up to %d running at once, all done in %.1f s): "
              "glrunner itself peaked at %.1f MiB resident, children excluded; %.2f s CPU\n",
              max_running, secs, static_cast<double>(max_rss) / 1024.0, cpu_seconds(runner.pid()));
  return 0;
}

// 3. concurrent = 8, 200 `true` jobs: jobs / s from the first enqueue to the last final update.
int jobs_per_second_c8(const Env& env) {
  constexpr int kJobs = 200;
  TempDir dir;
  FakeGitLab gl;
  gl.add_runner(kToken);
  gl.set_trace_update_interval(1);
  RunnerProcess runner(env.binary, dir.path(), config_toml(gl, dir.path(), 8));
  if (!wait_first_poll(gl, runner)) {
    std::fprintf(stderr, "jobs_per_second_c8: glrunner never asked for a job\n");
    runner.dump_log_tail();
    return 1;
  }
  // One job alone first: its latency tells whether throughput is bound by the per-job cost
  // or by scheduling.
  auto single_start = Steady::now();
  std::vector<int64_t> single = {gl.enqueue_job(job_payload("true"))};
  if (!wait_final(gl, single, single_start + 30s) || count_failed(gl, single) != 0) {
    std::fprintf(stderr, "jobs_per_second_c8: a single `true` job did not succeed within 30 s\n");
    runner.dump_log_tail();
    return 1;
  }
  double single_secs = seconds_since(single_start);
  double cpu_before = cpu_seconds(runner.pid());
  auto start = Steady::now();
  std::vector<int64_t> ids;
  for (int i = 0; i < kJobs; ++i) ids.push_back(gl.enqueue_job(job_payload("true")));
  if (!wait_final(gl, ids, start + 120s)) {
    std::fprintf(stderr, "jobs_per_second_c8: not every job finished within 120 s\n");
    runner.dump_log_tail();
    return 1;
  }
  double secs = seconds_since(start);
  double cpu = cpu_seconds(runner.pid()) - cpu_before;
  if (int failed = count_failed(gl, ids); failed != 0) {
    std::fprintf(stderr, "jobs_per_second_c8: %d of %d jobs did not succeed\n", failed, kJobs);
    return 1;
  }
  std::printf("jobs_per_second_c8 %.2f\n", kJobs / secs);
  std::printf("# %d trivial jobs (`true`) at concurrent = 8, check_interval = 1: %.1f s from the first "
              "enqueue to the last final update; glrunner used %.2f s CPU (%.1f ms per job); "
              "one such job alone takes %.2f s from enqueue to final update\n",
              kJobs, secs, cpu, cpu * 1000.0 / kJobs, single_secs);
  return 0;
}

// 4a. One job printing ~100 MB with 20 masked variables and timestamps: stored MB / s.
int log_mb_per_s_e2e(const Env& env) {
  TempDir dir;
  FakeGitLab gl;
  gl.add_runner(kToken);
  gl.set_trace_update_interval(1);
  RunnerProcess runner(env.binary, dir.path(),
                       config_toml(gl, dir.path(), 1, "  output_limit = 204800\n"));
  if (!wait_first_poll(gl, runner)) {
    std::fprintf(stderr, "log_mb_per_s_e2e: glrunner never asked for a job\n");
    runner.dump_log_tail();
    return 1;
  }
  // 75 MB of random bytes as base64 in 100-column lines: 101.25 MB of log text.
  auto enqueued = Steady::now();
  int64_t id = gl.enqueue_job(
      job_payload("head -c 75000000 /dev/urandom | base64 -w 100", /*masked_and_timestamps=*/true));
  // The clock starts when the runner picks the job up (up to one check_interval after the
  // enqueue): the figure is about the log path, not about polling. The trace is still
  // empty here, so polling the fake is cheap.
  auto deadline = enqueued + 120s;
  while (gl.job(id).state == "pending") {
    if (Steady::now() >= deadline || !runner.alive()) {
      std::fprintf(stderr, "log_mb_per_s_e2e: the job was never picked up\n");
      runner.dump_log_tail();
      return 1;
    }
    std::this_thread::sleep_for(2ms);
  }
  auto start = Steady::now();
  // Every FakeGitLab accessor copies the whole stored trace under the server's lock, so
  // polling it while 100 MB arrive would slow the very uploads being measured. Watch the
  // runner's own log for the end of the job first, then poll the fake briefly.
  while (runner.log_text().find("Job finished") == std::string::npos) {
    if (Steady::now() >= deadline || !runner.alive()) {
      std::fprintf(stderr, "log_mb_per_s_e2e: the job did not finish within 120 s\n");
      runner.dump_log_tail();
      return 1;
    }
    std::this_thread::sleep_for(50ms);
  }
  JobRecord r;
  for (;;) {
    r = gl.job(id);
    if (r.final_update_received || Steady::now() >= deadline) break;
    std::this_thread::sleep_for(100ms);
  }
  double secs = seconds_since(start);
  if (!r.final_update_received || r.state != "success") {
    std::fprintf(stderr, "log_mb_per_s_e2e: job state %s, final update %d\n", r.state.c_str(),
                 r.final_update_received ? 1 : 0);
    runner.dump_log_tail();
    return 1;
  }
  if (!r.checksum_matches) {
    std::fprintf(stderr, "log_mb_per_s_e2e: stored trace does not match the runner's checksum %s\n",
                 r.checksum.c_str());
    return 1;
  }
  if (r.trace.size() < 100'000'000) {
    std::fprintf(stderr, "log_mb_per_s_e2e: only %zu bytes stored (output limit?)\n", r.trace.size());
    return 1;
  }
  double mb = static_cast<double>(r.trace.size()) / 1e6;
  std::printf("log_mb_per_s_e2e %.1f\n", mb / secs);
  std::printf("# one job printing 101 MB of base64 with %d masked variables and FF_TIMESTAMPS: "
              "%.1f MB stored (timestamps included) in %.2f s from pick-up to accepted final update "
              "(%.2f s from enqueue) over %d PATCHes, checksum verified; glrunner used %.2f s CPU\n",
              kMaskedCount, mb, secs, seconds_since(enqueued), r.patches, cpu_seconds(runner.pid()));
  return 0;
}

// 4b. TraceBuffer alone: 100 MB in 4 KiB writes, 20 masked values, timestamps on.
int log_mb_per_s_inproc(const Env&) {
  SystemClock clock;
  TraceOptions options;
  for (int i = 0; i < kMaskedCount; ++i) options.masked_values.push_back(masked_value(i));
  options.timestamps = true;
  options.output_limit_bytes = 200LL * 1024 * 1024;
  TraceBuffer trace(options, clock);

  // 100-column lines like the e2e job's; one chunk in 16 carries a secret to be masked.
  std::string plain;
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; plain.size() < 4096; ++i) {
    plain += alphabet[(i * 7 + i / 13) % alphabet.size()];
    if (i % 100 == 99) plain += '\n';
  }
  plain.resize(4096);
  std::string secret_chunk = plain;
  secret_chunk.replace(1000, masked_value(7).size(), masked_value(7));

  constexpr int64_t kTotal = 100'000'000;
  int64_t written = 0;
  auto start = Steady::now();
  for (int64_t n = 0; written < kTotal; ++n) {
    const std::string& chunk = n % 16 == 0 ? secret_chunk : plain;
    trace.write(kScriptStdout, chunk);
    written += static_cast<int64_t>(chunk.size());
  }
  trace.finish();
  double secs = seconds_since(start);

  std::string stored = trace.read(0, static_cast<size_t>(trace.size()));
  if (stored.find(masked_value(7)) != std::string::npos || stored.find("[MASKED]") == std::string::npos ||
      trace.truncated()) {
    std::fprintf(stderr, "log_mb_per_s_inproc: masking or output limit misbehaved\n");
    return 1;
  }
  double mb = static_cast<double>(written) / 1e6;
  std::printf("log_mb_per_s_inproc %.1f\n", mb / secs);
  std::printf("# TraceBuffer alone: %.0f MB in 4 KiB writes with %d masked values and timestamps "
              "in %.2f s (%.0f MB stored)\n",
              mb, kMaskedCount, secs, static_cast<double>(stored.size()) / 1e6);
  return 0;
}

struct Scenario {
  const char* name;
  std::vector<std::string> figures;
  int (*run)(const Env&);
};

}  // namespace
}  // namespace glr

int main(int argc, char** argv) {
  glr::Env env{GLR_BENCH_GLRUNNER};
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
    } else if (a == "-h" || a == "--help") {
      std::printf("usage: %s [path/to/glrunner] [--only SCENARIO|FIGURE]\n", argv[0]);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    } else {
      env.binary = a;
    }
  }
  const std::vector<glr::Scenario> scenarios = {
      {"idle", {"idle_rss_kib", "idle_hwm_kib"}, glr::idle_rss},
      {"rss_100_jobs", {"rss_100_jobs_kib"}, glr::rss_100_jobs},
      {"jobs_per_second", {"jobs_per_second_c8"}, glr::jobs_per_second_c8},
      {"log_e2e", {"log_mb_per_s_e2e"}, glr::log_mb_per_s_e2e},
      {"log_inproc", {"log_mb_per_s_inproc"}, glr::log_mb_per_s_inproc},
  };
  auto selected = [&](const glr::Scenario& s) {
    return only.empty() || only == s.name ||
           std::find(s.figures.begin(), s.figures.end(), only) != s.figures.end();
  };
  if (std::none_of(scenarios.begin(), scenarios.end(), selected)) {
    std::fprintf(stderr, "--only %s matches no scenario; names:", only.c_str());
    for (const auto& s : scenarios) {
      std::fprintf(stderr, " %s", s.name);
      for (const auto& f : s.figures) std::fprintf(stderr, " %s", f.c_str());
    }
    std::fprintf(stderr, "\n");
    return 2;
  }
  if (::access(env.binary.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "%s is not an executable glrunner\n", env.binary.c_str());
    return 2;
  }
  // Jobs run in `bash -l`: an empty HOME keeps the developer's ~/.bashrc (pyenv, nvm, ...)
  // out of every job, so the figures measure glrunner and not shell start-up files.
  glr::TempDir home;
  ::setenv("HOME", home.path().c_str(), 1);

  int failed = 0;
  auto total = std::chrono::steady_clock::now();
  for (const glr::Scenario& s : scenarios) {
    if (!selected(s)) continue;
    std::fflush(stdout);
    if (s.run(env) != 0) {
      std::fprintf(stderr, "scenario %s FAILED\n", s.name);
      ++failed;
    }
    std::fflush(stdout);
  }
  std::printf("# %s in %.0f s\n", failed == 0 ? "all scenarios passed" : "SOME SCENARIOS FAILED",
              glr::seconds_since(total));
  return failed == 0 ? 0 : 1;
}
