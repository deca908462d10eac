// Figures for issue 2: idle and loaded RSS of `glrunner run`, trivial jobs per
// second, and log pipeline throughput, measured against the in-process fake GitLab.
// Usage: engine_bench [path/to/glrunner] [--only NAME]
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_gitlab/fake_gitlab.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"
#include "trace/trace_buffer.h"
#include "util/clock.h"

extern char** environ;

namespace glr {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kToken = "glrt-t1_benchrunnertoken";

long status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  }
  return -1;
}

class Runner {
 public:
  Runner(const std::string& binary, const std::filesystem::path& dir, const std::string& config) {
    std::ofstream(dir / "config.toml") << config;
    std::string cfg = (dir / "config.toml").string();
    std::string wd = dir.string();
    std::vector<std::string> args = {binary, "--log-level", "error", "run", "-c", cfg, "-d", wd};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, (dir / "runner.log").c_str(), O_WRONLY | O_CREAT, 0644);
    if (posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Runner() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::string config_for(const FakeGitLab& gl, int concurrent, const std::filesystem::path& dir,
                       const std::string& extra = "") {
  std::ostringstream c;
  c << "concurrent = " << concurrent << "\ncheck_interval = 1\n[[runners]]\n  name = \"bench\"\n"
    << "  url = \"" << gl.url() << "\"\n  token = \"" << kToken << "\"\n  executor = \"shell\"\n"
    << "  builds_dir = \"" << (dir / "builds").string() << "\"\n  request_concurrency = "
    << std::min(concurrent, 16) << "\n" << extra;
  return c.str();
}

std::string job(const std::string& script, const std::string& extra_vars = "") {
  return R"({"id":0,"token":"","job_info":{"name":"b","stage":"test","project_id":1},)"
         R"("git_info":{"repo_url":"http://127.0.0.1:1/g/p.git","ref":"main","sha":"0000000000000000000000000000000000000000"},)"
         R"("runner_info":{"timeout":3600},"variables":[{"key":"GIT_STRATEGY","value":"none","public":true})" +
         extra_vars + R"(],"steps":[{"name":"script","script":[")" + script +
         R"("],"when":"on_success"}],"features":{"trace_sections":true}})";
}

bool all_done(FakeGitLab& gl, const std::vector<int64_t>& ids, std::chrono::seconds bound,
              bool* all_success) {
  auto deadline = Clock::now() + bound;
  *all_success = true;
  for (int64_t id : ids) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 ||
        !gl.wait_for(id, [](const JobRecord& r) { return r.final_update_received; }, left))
      return false;
    if (gl.job(id).state != "success") *all_success = false;
  }
  return true;
}

int idle_rss(const std::string& binary) {
  TempDir dir;
  FakeGitLab gl;
  gl.add_runner(kToken);
  Runner runner(binary, dir.path(), config_for(gl, 1, dir.path()));
  std::this_thread::sleep_for(3s);
  long rss = status_kib(runner.pid(), "VmRSS");
  long hwm = status_kib(runner.pid(), "VmHWM");
  if (rss <= 0) return 1;
  std::printf("idle_rss_kib %ld\nidle_hwm_kib %ld\n", rss, hwm);
  std::printf("# `glrunner run`, one shell runner polling GitLab with no jobs: %.1f MiB resident\n",
              static_cast<double>(rss) / 1024.0);
  return 0;
}

int rss_100_jobs(const std::string& binary) {
  TempDir dir;
  FakeGitLab gl;
  gl.add_runner(kToken);
  gl.set_trace_update_interval(3);
  std::vector<int64_t> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(gl.enqueue_job(job("sleep 5")));
  Runner runner(binary, dir.path(), config_for(gl, 100, dir.path()));
  long max_rss = 0;
  auto end = Clock::now() + 60s;
  while (Clock::now() < end) {
    max_rss = std::max(max_rss, status_kib(runner.pid(), "VmRSS"));
    bool done = true;
    for (int64_t id : ids) done = done && gl.job(id).final_update_received;
    if (done) break;
    std::this_thread::sleep_for(100ms);
  }
  bool ok = false;
  if (!all_done(gl, ids, 5s, &ok) || !ok) {
    std::fprintf(stderr, "rss_100_jobs: not every job succeeded\n");
    return 1;
  }
  std::printf("rss_100_jobs_kib %ld\n", max_rss);
  std::printf("# manager RSS (children excluded) with 100 concurrent `sleep 5` jobs: %.1f MiB\n",
              static_cast<double>(max_rss) / 1024.0);
  return 0;
}

int jobs_per_second(const std::string& binary) {
  TempDir dir;
  FakeGitLab gl;
  gl.add_runner(kToken);
  gl.set_trace_update_interval(1);
  constexpr int kJobs = 200;
  Runner runner(binary, dir.path(), config_for(gl, 8, dir.path()));
  std::this_thread::sleep_for(500ms);
  auto start = Clock::now();
  std::vector<int64_t> ids;
  for (int i = 0; i < kJobs; ++i) ids.push_back(gl.enqueue_job(job("true")));
  bool ok = false;
  if (!all_done(gl, ids, 300s, &ok) || !ok) {
    std::fprintf(stderr, "jobs_per_second: jobs failed or timed out\n");
    return 1;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("jobs_per_second_c8 %.1f\n", kJobs / secs);
  std::printf("# %d trivial jobs (`true`, GIT_STRATEGY=none) at concurrent=8 in %.1f s\n", kJobs, secs);
  return 0;
}

std::string masked_vars(int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += R"(,{"key":"SECRET_)" + std::to_string(i) + R"(","value":"s3cr3t-value-number-)" +
           std::to_string(i) + R"(-xyz","public":false,"masked":true})";
  return out;
}

int log_e2e(const std::string& binary) {
  TempDir dir;
  FakeGitLab gl;
  gl.add_runner(kToken);
  gl.set_trace_update_interval(1);
  Runner runner(binary, dir.path(), config_for(gl, 1, dir.path(), "  output_limit = 204800\n"));
  // 75 MB of random bytes in base64, 100 columns: ~100 MB of log text.
  auto start = Clock::now();
  int64_t id = gl.enqueue_job(job("head -c 75000000 /dev/urandom | base64 -w 100", masked_vars(20)));
  bool ok = false;
  if (!all_done(gl, {id}, 600s, &ok) || !ok) {
    std::fprintf(stderr, "log_e2e: job failed or timed out\n");
    return 1;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  JobRecord r = gl.job(id);
  double mb = static_cast<double>(r.trace.size()) / 1e6;
  if (!r.checksum_matches) {
    std::fprintf(stderr, "log_e2e: checksum mismatch\n");
    return 1;
  }
  std::printf("log_mb_per_s_e2e %.1f\n", mb / secs);
  std::printf("# job printing %.0f MB with 20 masked variables and timestamps, stored by the fake GitLab "
              "in %.1f s (checksum verified)\n", mb, secs);
  return 0;
}

int log_inproc() {
  FakeClock clock;
  TraceOptions o;
  for (int i = 0; i < 20; ++i) o.masked_values.push_back("s3cr3t-value-number-" + std::to_string(i) + "-xyz");
  o.timestamps = true;
  o.output_limit_bytes = 200LL * 1024 * 1024;
  TraceBuffer trace(o, clock);
  std::string chunk;
  while (chunk.size() < 4096) chunk += "a line of job output with words that do not match secrets 0123456789\n";
  chunk.resize(4096);
  constexpr int64_t kTotal = 100'000'000;
  auto start = Clock::now();
  for (int64_t done = 0; done < kTotal; done += static_cast<int64_t>(chunk.size()))
    trace.write(kScriptStdout, chunk);
  trace.finish();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("log_mb_per_s_inproc %.1f\n", 100.0 / secs);
  std::printf("# TraceBuffer alone: 100 MB in 4 KiB writes, 20 masked values, timestamps on\n");
  return 0;
}

}  // namespace
}  // namespace glr

int main(int argc, char** argv) {
  std::string binary = GLR_BENCH_GLRUNNER;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--only" && i + 1 < argc) only = argv[++i];
    else binary = a;
  }
  struct Scenario { const char* name; int (*run)(const std::string&); };
  Scenario scenarios[] = {
      {"idle_rss", glr::idle_rss},
      {"rss_100_jobs", glr::rss_100_jobs},
      {"jobs_per_second", glr::jobs_per_second},
      {"log_inproc", [](const std::string&) { return glr::log_inproc(); }},
      {"log_e2e", glr::log_e2e},
  };
  // Jobs run in `bash -l`; a clean HOME keeps the developer's ~/.bashrc (pyenv, nvm)
  // out of every job, so the figures measure glrunner, not shell start-up files.
  glr::TempDir home;
  ::setenv("HOME", home.path().c_str(), 1);
  int failed = 0;
  for (const Scenario& s : scenarios) {
    if (!only.empty() && only != s.name) continue;
    std::fflush(stdout);
    if (s.run(binary) != 0) {
      std::fprintf(stderr, "scenario %s failed\n", s.name);
      ++failed;
    }
  }
  return failed == 0 ? 0 : 1;
}
